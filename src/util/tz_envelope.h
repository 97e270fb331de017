/* tz_envelope.h — what the SMTP session told us about one message. Filled by
 * the milter glue (or textizectl), read by the store and the policy rules. */
#ifndef TZ_ENVELOPE_H
#define TZ_ENVELOPE_H

#include <glib.h>

enum tz_direction { TZ_DIR_INBOUND = 0, TZ_DIR_OUTBOUND = 1 };

struct tz_envelope {
	char *queue_id;          /* Postfix queue id (macro i), may be NULL */
	char *client_addr;       /* "192.0.2.1" / "2001:db8::1", may be NULL */
	char *client_name;       /* reverse name as the MTA saw it, may be NULL */
	char *helo;              /* HELO/EHLO argument, may be NULL */
	char *auth_user;         /* {auth_authen}, NULL when not authenticated */
	char *sender;            /* MAIL FROM address without <>, "" for null sender */
	GPtrArray *rcpts;        /* char*, RCPT TO addresses without <> (owned) */
	enum tz_direction direction;
	char *spf_result;        /* "pass", "fail", ... or NULL when not checked */
	char *tenant;            /* Tenant section whose rules apply, NULL = none */
};

#endif
