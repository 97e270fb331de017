/* tz_relay.h — open relay (at RCPT): an untrusted client (outside
 * InternalNetworks and not authenticated) may only send to LocalDomains.
 * Decided from the envelope alone: no header can relax it. */
#ifndef TZ_RELAY_H
#define TZ_RELAY_H

#include <stdbool.h>
#include <glib.h>
#include "tz_verdict.h"

struct tz_relay_options {
	const GPtrArray *local_domains;  /* char*, lower-case (LocalDomains) */
	struct tz_rule_action act;       /* RelayAction: reject | tempfail */
};

#define TZ_RELAY_TEXT "Relay access denied"

void tz_relay_options_init(struct tz_relay_options *o);   /* reject, no domains */

/* trusted: client inside InternalNetworks or authenticated. rcpt: the RCPT
 * TO address without <>. Fires (rule "relay", 550 5.7.1) when an untrusted
 * client names a recipient outside LocalDomains, an unqualified recipient
 * other than postmaster, a source route, or a '%'/'!' relay hack. An empty
 * LocalDomains turns the rule off (nothing would be deliverable). */
void tz_relay_check(const struct tz_relay_options *o, bool trusted, const char *rcpt,
		    struct tz_verdict *v);

#endif
