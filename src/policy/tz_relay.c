/* tz_relay.c — the open-relay rule. */
#include "tz_relay.h"

#include <string.h>
#include "tz_maddr.h"

void tz_relay_options_init(struct tz_relay_options *o)
{
	memset(o, 0, sizeof(*o));
	o->act.action = TZ_ACTION_REJECT;
}

/* Why rcpt is not for us, or NULL when it is. */
static const char *relay_reason(const struct tz_relay_options *o, const char *rcpt)
{
	char *norm = tz_maddr_norm(rcpt);
	char *at = strrchr(norm, '@');
	const char *why = NULL;

	if (norm[0] == '@') {
		why = "source route";
	} else if (at == NULL) {
		/* RFC 5321 4.5.1: <postmaster> must be accepted unqualified. */
		if (strcmp(norm, "postmaster") != 0)
			why = "unqualified recipient";
	} else if (memchr(norm, '%', (size_t)(at - norm)) || memchr(norm, '!', (size_t)(at - norm))) {
		/* user%other@local would be relayed on by a downstream host. */
		why = "percent/bang relay hack";
	} else if (!tz_maddr_listed(norm, o->local_domains)) {
		why = "recipient domain is not local";
	}
	g_free(norm);
	return why;
}

void tz_relay_check(const struct tz_relay_options *o, bool trusted, const char *rcpt,
		    struct tz_verdict *v)
{
	const char *why;

	/* Without LocalDomains nothing can be told apart: the rule is off
	 * (Postfix's smtpd_relay_restrictions still apply); the milter warns
	 * about it at start. */
	if (trusted || o->local_domains == NULL || o->local_domains->len == 0)
		return;
	why = relay_reason(o, rcpt ? rcpt : "");
	if (why == NULL)
		return;
	tz_verdict_hit(v, TZ_RULE_RELAY, o->act.action, "550", "5.7.1",
		       o->act.text ? o->act.text : TZ_RELAY_TEXT, "%s: <%s>", why, rcpt ? rcpt : "");
}
