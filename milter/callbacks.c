/* callbacks.c — the xxfi_* callbacks: get the private data, call the core
 * in session.c, map its status to sfsistat. Nothing else happens here. */
#include "callbacks.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <syslog.h>
#include <glib.h>
#include "noreply.h"
#include "ops.h"
#include "session.h"
#include "tz_log.h"

/* The actions we use; the MTA must offer all of them (SMFIF_SETSYMLIST
 * only when available: the macros are also listed in the Postfix snippet). */
#define TZM_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_QUARANTINE)

/* The no-reply flags for the steps in TZM_NOREPLY_STEPS. */
#define TZM_NR_FLAGS (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)

static int active;
/* Negotiated per MTA connection, before there is a tzm_conn to keep them
 * in, and the same on every one: Postfix always offers HDR_LEADSPC, and
 * libmilter offers every SMFIP_NR_* flag whether the MTA has it or not (it
 * answers "continue" itself for an MTA without it, e.g. Sendmail before
 * 8.14), so what a connection gets never differs from the last. */
static gboolean leadspc;
static guint noreply_steps;

int tzm_active_connections(void)
{
	return g_atomic_int_get(&active);
}

static sfsistat to_sfsistat(enum tzm_status st)
{
	switch (st) {
	case TZM_CONTINUE: return SMFIS_CONTINUE;
	case TZM_ACCEPT: return SMFIS_ACCEPT;
	case TZM_REJECT: return SMFIS_REJECT;
	case TZM_DISCARD: return SMFIS_DISCARD;
	case TZM_NOREPLY: return SMFIS_NOREPLY;
	default: return SMFIS_TEMPFAIL;
	}
}

#define CONN(ctx) ((struct tzm_conn *)smfi_getpriv(ctx))
/* A step without connection state (out of memory at connect, or no
 * runtime) fails closed: at once where the step replies, else at the next
 * step that does (MAIL), which lands here again. */
#define NEED_CONN(ctx, c, step) do { if ((c) == NULL) return no_conn(ctx, step); } while (0)

static sfsistat no_conn(SMFICTX *ctx, enum tzm_step step)
{
	if (g_atomic_int_get(&noreply_steps) & TZM_STEP_BIT(step))
		return SMFIS_NOREPLY;
	return to_sfsistat(tzm_refuse_with(&tzm_milter_ops, ctx, NULL, TZM_REPLY_ERROR_TEMPFAIL));
}

void tzm_note_reply(SMFICTX *ctx, const char *code, const char *ecode, const char *text)
{
	struct tzm_conn *c = CONN(ctx);

	if (c)
		tzm_noreply_note(&c->nr, code, ecode, text);
}

/* The core's answer for a step, through the connection's no-reply gate. */
#define STEP(ctx, c, step, call) do { \
	enum tzm_status st_; \
	if (!tzm_noreply_before(&(c)->nr, (step), &tzm_milter_ops, (ctx), &st_)) \
		st_ = tzm_noreply_after(&(c)->nr, (step), (call)); \
	return to_sfsistat(st_); \
} while (0)

static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			     unsigned long f2, unsigned long f3, unsigned long *pf0,
			     unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	if ((f0 & TZM_ACTIONS) != TZM_ACTIONS) {
		tz_log(LOG_ERR, NULL, "MTA does not offer the milter actions textize needs (offered 0x%lx)", f0);
		return SMFIS_REJECT;
	}
	*pf0 = TZM_ACTIONS | (f0 & SMFIF_SETSYMLIST);
	/* every step we use; no DATA, no unknown commands; values with their
	 * leading blank so the original is kept byte for byte; no reply where
	 * none is needed (all the NR flags or none: see noreply.h) */
	*pf1 = f1 & (SMFIP_NODATA | SMFIP_NOUNKNOWN | SMFIP_HDR_LEADSPC);
	if ((f1 & TZM_NR_FLAGS) == TZM_NR_FLAGS)
		*pf1 |= TZM_NR_FLAGS;
	*pf2 = *pf3 = 0;
	g_atomic_int_set(&leadspc, (f1 & SMFIP_HDR_LEADSPC) != 0);
	g_atomic_int_set(&noreply_steps, (*pf1 & TZM_NR_FLAGS) ? TZM_NOREPLY_STEPS : 0);
	tz_log(LOG_DEBUG, NULL, "negotiated: actions 0x%lx, protocol 0x%lx (offered 0x%lx)%s",
	       *pf0, *pf1, f1, (*pf1 & TZM_NR_FLAGS) ? ", no reply at connect, HELO, header, "
	       "end of header, body" : "");
	if (f0 & SMFIF_SETSYMLIST) {
		smfi_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_authen} {auth_type}");
		smfi_setsymlist(ctx, SMFIM_ENVRCPT, "i");
		smfi_setsymlist(ctx, SMFIM_EOH, "i");
		smfi_setsymlist(ctx, SMFIM_EOM, "i");
	}
	return SMFIS_CONTINUE;
}

static sfsistat cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *sa)
{
	char addr[INET6_ADDRSTRLEN] = "";
	struct tzm_conn *c;

	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)sa)->sin_addr, addr, sizeof(addr));
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)sa)->sin6_addr, addr, sizeof(addr));
	c = tzm_conn_new(hostname, addr[0] ? addr : NULL);
	NEED_CONN(ctx, c, TZM_STEP_CONNECT);
	c->leadspc = g_atomic_int_get(&leadspc);
	c->nr.steps = g_atomic_int_get(&noreply_steps);
	g_atomic_int_inc(&active);
	smfi_setpriv(ctx, c);
	STEP(ctx, c, TZM_STEP_CONNECT, tzm_on_connect(c, &tzm_milter_ops, ctx));
}

static sfsistat cb_helo(SMFICTX *ctx, char *helo)
{
	struct tzm_conn *c = CONN(ctx);

	NEED_CONN(ctx, c, TZM_STEP_HELO);
	STEP(ctx, c, TZM_STEP_HELO, tzm_on_helo(c, &tzm_milter_ops, ctx, helo));
}

static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct tzm_conn *c = CONN(ctx);

	NEED_CONN(ctx, c, TZM_STEP_MAIL);
	STEP(ctx, c, TZM_STEP_MAIL, tzm_on_mail(c, &tzm_milter_ops, ctx, argv));
}

static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct tzm_conn *c = CONN(ctx);

	NEED_CONN(ctx, c, TZM_STEP_RCPT);
	STEP(ctx, c, TZM_STEP_RCPT, tzm_on_rcpt(c, &tzm_milter_ops, ctx, argv));
}

static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct tzm_conn *c = CONN(ctx);

	NEED_CONN(ctx, c, TZM_STEP_HEADER);
	STEP(ctx, c, TZM_STEP_HEADER, tzm_on_header(c, &tzm_milter_ops, ctx, name, value));
}

static sfsistat cb_eoh(SMFICTX *ctx)
{
	struct tzm_conn *c = CONN(ctx);

	NEED_CONN(ctx, c, TZM_STEP_EOH);
	STEP(ctx, c, TZM_STEP_EOH, tzm_on_eoh(c, &tzm_milter_ops, ctx));
}

static sfsistat cb_body(SMFICTX *ctx, unsigned char *buf, size_t len)
{
	struct tzm_conn *c = CONN(ctx);

	NEED_CONN(ctx, c, TZM_STEP_BODY);
	STEP(ctx, c, TZM_STEP_BODY, tzm_on_body(c, &tzm_milter_ops, ctx, buf, len));
}

/* A refusal held from a no-reply step answers here; the message it
 * refused ends here too (its outcome was set when it was refused). */
static sfsistat cb_eom(SMFICTX *ctx)
{
	struct tzm_conn *c = CONN(ctx);
	enum tzm_status st;

	NEED_CONN(ctx, c, TZM_STEP_EOM);
	if (tzm_noreply_before(&c->nr, TZM_STEP_EOM, &tzm_milter_ops, ctx, &st))
		tzm_msg_end(c);
	else
		st = tzm_on_eom(c, &tzm_milter_ops, ctx);
	tzm_noreply_clear(&c->nr);
	return to_sfsistat(st);
}

static sfsistat cb_abort(SMFICTX *ctx)
{
	struct tzm_conn *c = CONN(ctx);

	if (c) {
		tzm_noreply_clear(&c->nr);
		tzm_on_abort(c);
	}
	return SMFIS_CONTINUE;
}

static sfsistat cb_close(SMFICTX *ctx)
{
	struct tzm_conn *c = CONN(ctx);

	if (c) {
		smfi_setpriv(ctx, NULL);
		tzm_conn_free(c);
		g_atomic_int_dec_and_test(&active);
	}
	return SMFIS_CONTINUE;
}

struct smfiDesc tzm_filter = {
	.xxfi_name = "textize",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = TZM_ACTIONS,
	.xxfi_connect = cb_connect,
	.xxfi_helo = cb_helo,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = cb_envrcpt,
	.xxfi_header = cb_header,
	.xxfi_eoh = cb_eoh,
	.xxfi_body = cb_body,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_unknown = NULL,
	.xxfi_data = NULL,
	.xxfi_negotiate = cb_negotiate,
};
