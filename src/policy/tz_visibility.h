/* tz_visibility.h — recipient visibility (outbound): the To and Cc fields
 * together must not expose more than MaxVisibleRecipients external
 * addresses. Counting: every To/Cc field (a message may carry several),
 * groups flattened, duplicates (case-insensitive) counted once, internal
 * addresses (InternalDomains) not counted, an address without a domain
 * exposes nothing and is not counted; addresses GMime could not parse are
 * still found (see tz_maddr_parse) so malformed lists cannot hide them. */
#ifndef TZ_VISIBILITY_H
#define TZ_VISIBILITY_H

#include <glib.h>
#include "tz_msghdr.h"
#include "tz_verdict.h"

struct tz_visibility_options {
	const GPtrArray *internal_domains;  /* char*, lower-case */
	unsigned max_visible;               /* 0 = rule off */
	struct tz_rule_action act;          /* reject | tempfail | hold | rewrite | tag | log */
};

#define TZ_VISIBILITY_TEXT "Too many recipients visible in To/Cc; put external recipients in Bcc"
#define TZ_VISIBILITY_ACTIONS (TZ_ACTIONS_COMMON | TZ_ACTMASK(TZ_ACTION_REWRITE))

void tz_visibility_options_init(struct tz_visibility_options *o);  /* reject, off */

/* Distinct external addresses visible in To/Cc. */
unsigned tz_visibility_count(const GPtrArray *internal_domains, const struct tz_msghdr *h);

/* Fires (rule "visibility", 550 5.7.1) when the count is over the limit.
 * With rewrite: To becomes "undisclosed-recipients:;", every other To and
 * every Cc is deleted; the envelope (delivery) is unchanged. */
void tz_visibility_check(const struct tz_visibility_options *o, const struct tz_msghdr *h,
			 struct tz_verdict *v);

#endif
