/* reply.h — one way to refuse. The replies the milter itself gives (the
 * policy rules bring theirs in their verdict) are rows of one table, and
 * every refusal — an internal error, no connection state, a message over
 * MaxMessageSize, a policy verdict — goes through tzm_refuse, which sets
 * the reply, checks that the MTA took it and maps it to the step's status. */
#ifndef TZM_REPLY_H
#define TZM_REPLY_H

#include "ops.h"

/* What a step tells the MTA (callbacks.c maps it to SMFIS_*). */
enum tzm_status {
	TZM_CONTINUE = 0,
	TZM_ACCEPT,      /* accept the message (or connection) without further steps */
	TZM_TEMPFAIL,    /* reply already set with tzm_refuse */
	TZM_REJECT,      /* reply already set with tzm_refuse */
	TZM_DISCARD,
	TZM_NOREPLY,     /* a no-reply step: nothing goes to the MTA (noreply.h) */
};

enum tzm_reply_kind {
	TZM_REPLY_ERROR_TEMPFAIL = 0,  /* internal error, OnError tempfail (the default) */
	TZM_REPLY_ERROR_REJECT,        /* internal error, OnError reject */
	TZM_REPLY_TOO_BIG,             /* the message passed MaxMessageSize */
	TZM_REPLY_OTHER_TENANT,        /* a recipient of another tenant than the first (452) */
	TZM_NREPLIES
};

struct tzm_reply {
	const char *code;    /* "451" */
	const char *ecode;   /* "4.3.0" */
	const char *text;
	const char *key;     /* the config key that chooses or bounds it */
};

/* Set the reply (code, ecode, text) for ctx. A 5xx code rejects, anything
 * else tempfails. When the MTA does not take the reply, that is logged (qid
 * may be NULL) and the status is the same: the MTA then answers with its
 * own default reply of that class, so the message is refused either way. */
enum tzm_status tzm_refuse(const struct tzm_ops *ops, void *ctx, const char *qid,
			   const char *code, const char *ecode, const char *text);

/* tzm_refuse with a row of the table. */
enum tzm_status tzm_refuse_with(const struct tzm_ops *ops, void *ctx, const char *qid,
				enum tzm_reply_kind kind);

#endif
