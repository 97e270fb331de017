/* ops_milter.c — the tzm_ops table bound to libmilter's smfi_* calls. */
#include <limits.h>
#include <libmilter/mfapi.h>
#include "callbacks.h"
#include "ops.h"

static const char *op_getsymval(void *ctx, const char *name)
{
	return smfi_getsymval(ctx, (char *)name);
}

static int op_setreply(void *ctx, const char *rcode, const char *xcode, const char *text)
{
	tzm_note_reply(ctx, rcode, xcode, text);
	return smfi_setreply(ctx, (char *)rcode, (char *)xcode, (char *)text) == MI_SUCCESS ? 0 : -1;
}

static int op_chgheader(void *ctx, const char *name, int idx, const char *value)
{
	return smfi_chgheader(ctx, (char *)name, idx, (char *)value) == MI_SUCCESS ? 0 : -1;
}

/* "Append at the end", the same on every MTA. smfi_addheader is not: when
 * a field of that name was deleted earlier in the same message (our own
 * X-Textize forged by the sender), Sendmail puts the new one into the
 * deleted field's place, Postfix appends it. smfi_insheader with an index
 * past the last field appends on both (docs/sendmail.md). */
static int op_addheader(void *ctx, const char *name, const char *value)
{
	return smfi_insheader(ctx, INT_MAX, (char *)name, (char *)value) == MI_SUCCESS ? 0 : -1;
}

static int op_insheader(void *ctx, int idx, const char *name, const char *value)
{
	return smfi_insheader(ctx, idx, (char *)name, (char *)value) == MI_SUCCESS ? 0 : -1;
}

static int op_replacebody(void *ctx, const unsigned char *buf, int len)
{
	return smfi_replacebody(ctx, (unsigned char *)buf, len) == MI_SUCCESS ? 0 : -1;
}

static int op_quarantine(void *ctx, const char *reason)
{
	return smfi_quarantine(ctx, (char *)reason) == MI_SUCCESS ? 0 : -1;
}

static int op_progress(void *ctx)
{
	return smfi_progress(ctx) == MI_SUCCESS ? 0 : -1;
}

const struct tzm_ops tzm_milter_ops = {
	.getsymval = op_getsymval,
	.setreply = op_setreply,
	.chgheader = op_chgheader,
	.addheader = op_addheader,
	.insheader = op_insheader,
	.replacebody = op_replacebody,
	.quarantine = op_quarantine,
	.progress = op_progress,
};
