/* ctl_senders.c — `textizectl sender block|allow PATTERN --operator NAME
 * [--reason TEXT]` and `textizectl sender list`: the sender block/allow
 * list from the command line, written where the configuration keeps it
 * (tz_senders.h: the shared database's sender_list on StoreBackend
 * postgresql, else SenderListFile) and audited like the console's button
 * ("sender_blocked" / "sender_allowed"). */
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "ctl.h"
#include "ctl_args.h"
#include "ctl_qenv.h"
#include "tz_audit.h"
#include "tz_senders.h"

static int add(const struct ctl_args *a, bool block)
{
	const char *op = ctl_operator(a, NULL), *pattern = ctl_arg(a, 0);
	const char *reason = a->opt[CTL_O_REASON];
	struct ctl_qenv e;
	char err[TZ_ERRLEN], *detail;
	int rc;

	if (op == NULL)
		return EX_USAGE;
	if ((rc = ctl_qenv_open(&e, a->opt[CTL_O_CONF], CTL_NEED_AUDIT)) != 0)
		return rc;
	if (!tz_senders_enabled(e.cfg)) {
		ctl_qenv_close(&e);
		return ctl_fail(a, EX_CONFIG, "SenderListFile is not set (or StoreBackend postgresql)");
	}
	rc = tz_senders_add(e.cfg, block ? TZ_SENDER_BLOCK : TZ_SENDER_ALLOW, pattern, op, err,
			    sizeof(err));
	if (rc < 0) {
		ctl_qenv_close(&e);
		return ctl_fail(a, 1, "%s", err);
	}
	detail = g_strdup_printf("%s %s%s%s%s", block ? "block" : "allow", pattern,
				 rc == 1 ? " (already listed)" : "", reason ? " reason=" : "",
				 reason ? reason : "");
	{
		struct tz_audit_event ev = { block ? "sender_blocked" : "sender_allowed", op, NULL, 0,
					     NULL, detail };
		if (tz_audit_append(e.audit, &ev, err, sizeof(err)) < 0)
			rc = -1;
		else
			printf("%s %s%s\n", block ? "blocked" : "allowed", pattern,
			       rc == 1 ? " (already listed)" : "");
	}
	g_free(detail);
	ctl_qenv_close(&e);
	/* listed but not audited: say so and fail, the entry stays */
	return rc < 0 ? ctl_fail(a, 1, "listed, but the audit record failed: %s", err) : 0;
}

static int list(const struct ctl_args *a)
{
	struct ctl_qenv e;
	char err[TZ_ERRLEN], *text = NULL;
	int rc;

	if ((rc = ctl_qenv_open(&e, a->opt[CTL_O_CONF], 0)) != 0)
		return rc;
	if (!tz_senders_enabled(e.cfg))
		rc = ctl_fail(a, EX_CONFIG, "SenderListFile is not set (or StoreBackend postgresql)");
	else if (tz_senders_text(e.cfg, &text, err, sizeof(err)) < 0)
		rc = ctl_fail(a, EX_UNAVAILABLE, "%s", err);
	if (rc == 0)
		fputs(text, stdout);
	g_free(text);
	ctl_qenv_close(&e);
	return rc;
}

int ctl_sender(const struct ctl_args *a)
{
	if (strcmp(a->cmd->sub, "list") == 0)
		return list(a);
	return add(a, strcmp(a->cmd->sub, "block") == 0);
}
