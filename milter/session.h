/* session.h — the milter core: per-connection and per-message state and
 * what happens at each SMTP step, without libmilter (the MTA is reached
 * through struct tzm_ops). callbacks.c calls these; unit tests call them
 * with a fake ops table.
 *
 * Ownership: a tzm_conn is made at connect and freed only at close (it may
 * carry any number of messages, or none). A tzm_msg is made at MAIL and
 * freed by tzm_msg_end, called from eom and from abort — whichever comes
 * first; calling it twice is harmless. */
#ifndef TZM_SESSION_H
#define TZM_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include "noreply.h"
#include "ops.h"
#include "reply.h"
#include "runtime.h"
#include "tz_envelope.h"
#include "tz_spool.h"
#include "tz_stats.h"
#include "textize.h"

/* Where a message's milliseconds go (issue 16): the moments logged on the
 * "timing:" debug line after the summary (session.c). */
enum tzm_msg_t {
	TZM_T_HDR,      /* first header field arrived (MAIL .. here: envelope, DATA, the MTA's queue file) */
	TZM_T_EOM,      /* end of message arrived (header .. here: the message streamed to the milter) */
	TZM_T_ORIG,     /* entry begun, original stored */
	TZM_T_ENGINE,   /* converted */
	TZM_T_COMMIT,   /* committed: durable, audited, indexed */
	TZM_T_EDITS,    /* header edits and the new body sent */
	TZM_T_COUNT
};

struct tzm_msg {
	struct tz_envelope env;      /* queue id, sender, rcpts, direction (strings owned) */
	struct tz_spool *spool;      /* the message as received, CRLF line ends */
	uint64_t bytes_in;           /* header + body bytes spooled */
	uint64_t bytes_out;          /* new body bytes sent at eom */
	unsigned stripped;           /* parts stripped by the engine */
	unsigned headers_fixed;      /* sender header fields rewritten or dropped (tz_hdrsafe) */
	enum tz_outcome outcome;     /* how it ended: the summary line's action=, the stats */
	char ref_id[TZ_ID_LEN];      /* quarantine entry id, "" when none */
	char error[TZ_ERRLEN];       /* first internal error, "" when none */
	bool too_big;                /* passed MaxMessageSize */
	gint64 t_start;              /* g_get_monotonic_time at MAIL */
	gint64 t[TZM_T_COUNT];       /* when each step of tzm_msg_t was reached, 0: not */
	gint64 cpu_eom;              /* thread CPU time (us) spent in end of message */
	unsigned gate_wait_ms;       /* end of message waited this long for ConversionBudget */
	void *policy;                /* policy_glue's per-message state, freed by it */
	char *release_marker;        /* value of X-Textize-Release, NULL when absent */
	unsigned release_markers;    /* how many such fields (more than one is never valid) */
	/* Whose rules: inbound, the tenant of the first accepted recipient
	 * (a recipient of another gets 452 4.5.3); outbound, the client's.
	 * NULL = the global rules. decided says the first recipient was seen. */
	const struct tzm_tenant *tenant;
	bool tenant_decided;
};

struct tzm_conn {
	struct tzm_runtime *rt;      /* snapshot taken at connect; one reference */
	char *client_addr;           /* textual address, NULL for a non-IP client */
	char *client_name;           /* reverse name as the MTA saw it */
	char *helo;
	char *auth_user;             /* {auth_authen} of the last MAIL, NULL when none */
	bool internal;               /* client address inside InternalNetworks */
	const struct tzm_tenant *tenant; /* the tenant whose InternalNetworks hold the client */
	bool leadspc;                /* MTA keeps the blank after "Name:" in values */
	struct tzm_noreply nr;       /* no-reply steps negotiated, a refusal held at one */
	GString *line;               /* scratch for one header field, NULL until the first */
	unsigned messages;           /* messages started on this connection */
	struct tzm_msg *msg;         /* current message, NULL between messages */
	void *policy;                /* policy_glue's per-connection state, freed by it */
};

/* Connection start. addr may be NULL (no IP, e.g. a local submission).
 * Takes a new reference to the current runtime; NULL if there is none. */
struct tzm_conn *tzm_conn_new(const char *client_name, const char *client_addr);
void tzm_conn_free(struct tzm_conn *c);      /* frees a message left open; NULL ok */

enum tzm_status tzm_on_connect(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx);
enum tzm_status tzm_on_helo(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
			    const char *helo);
/* argv[0] is the address (with or without <>), then ESMTP args. */
enum tzm_status tzm_on_mail(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
			    char **argv);
enum tzm_status tzm_on_rcpt(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
			    char **argv);
enum tzm_status tzm_on_header(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
			      const char *name, const char *value);
enum tzm_status tzm_on_eoh(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx);
enum tzm_status tzm_on_body(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
			    const unsigned char *buf, size_t len);
enum tzm_status tzm_on_eom(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx);
void tzm_on_abort(struct tzm_conn *c);

/* Direction of the current message: outbound when the client is internal or
 * the session is authenticated. */
enum tz_direction tzm_direction(const struct tzm_conn *c);

/* The policy and engine options of the current message: its tenant's, else
 * the runtime's. */
const struct tz_policy *tzm_msg_policy(const struct tzm_conn *c);
const struct tz_engine_options *tzm_msg_engine_options(const struct tzm_conn *c);

/* Log the summary line and free the current message (no-op when none). */
void tzm_msg_end(struct tzm_conn *c);

/* Fail closed: log `reason` with the queue id, set the OnError reply
 * (451 4.3.0 or 550 5.7.0) and return the matching status. */
enum tzm_status tzm_fail(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
			 const char *reason);

/* The queue id of the current message, refreshed from macro "i" (Postfix
 * assigns it only after the first accepted RCPT). "NOQUEUE" when unknown. */
const char *tzm_qid(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx);

/* True when the message carries exactly one X-Textize-Release marker
 * that verifies under ReleaseKeyFile against this body: mail released from
 * the quarantine, which passes unchanged. A marker that does not verify is
 * logged and the message is text-ized like any other (eom.c). */
bool tzm_is_release(struct tzm_conn *c);

/* Every header edit of the message in one plan (tz_hdrplan.h): the
 * policy's and engine_edits (the conversion's; NULL when the message is
 * not converted). 0, or -1 with err at the first edit the MTA refused
 * (eom.c). */
int tzm_edit_header(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
		    const GPtrArray *engine_edits, char *err, size_t errlen);

/* End of message for inbound mail: convert, store, edit (eom.c). */
enum tzm_status tzm_textize(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx);

#endif
