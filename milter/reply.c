/* reply.c — the milter's own replies and the one function that refuses
 * (reply.h). */
#include "reply.h"

#include <syslog.h>
#include "tz_log.h"

static const struct tzm_reply tzm_replies[TZM_NREPLIES] = {
	[TZM_REPLY_ERROR_TEMPFAIL] = { "451", "4.3.0",
		"Temporary content filter failure, try again later", "OnError" },
	[TZM_REPLY_ERROR_REJECT] = { "550", "5.7.0",
		"Message could not be processed by the content filter", "OnError" },
	[TZM_REPLY_TOO_BIG] = { "552", "5.3.4",
		"Message size exceeds fixed limit", "MaxMessageSize" },
	/* RFC 5321 4.5.3.1.10: the client sends the recipients refused with
	 * 452 in a later transaction, so each tenant gets its own message */
	[TZM_REPLY_OTHER_TENANT] = { "452", "4.5.3",
		"Too many recipients: send recipients of another municipality in a separate message",
		"Tenant" },
};

enum tzm_status tzm_refuse(const struct tzm_ops *ops, void *ctx, const char *qid,
			   const char *code, const char *ecode, const char *text)
{
	if (ops->setreply(ctx, code, ecode, text) < 0)
		tz_log(LOG_ERR, qid, "could not set the reply %s %s; the MTA answers with its default",
		       code, ecode);
	return code[0] == '5' ? TZM_REJECT : TZM_TEMPFAIL;
}

enum tzm_status tzm_refuse_with(const struct tzm_ops *ops, void *ctx, const char *qid,
				enum tzm_reply_kind kind)
{
	const struct tzm_reply *r = &tzm_replies[kind];

	return tzm_refuse(ops, ctx, qid, r->code, r->ecode, r->text);
}
