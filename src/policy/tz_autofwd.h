/* tz_autofwd.h — automatic forwarding out of the organisation (outbound).
 * Markers recognised, each named in the log:
 *   auto-submitted   Auto-Submitted: auto-forwarded (RFC 3834 / 5436)
 *   autoforwarded    Autoforwarded: TRUE (RFC 2156)
 *   resent           any Resent-* field (redirect rules, RFC 5322 3.6.6)
 *   exchange-loop    X-MS-Exchange-Inbox-Rules-Loop (inbox rule forward)
 *   exchange-rules   X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent
 *   delivered-to     Delivered-To naming an internal address (mail that was
 *                    delivered inside and is leaving again; this also covers
 *                    auto-generated mail carrying an internal Delivered-To)
 *   srs              envelope sender rewritten by SRS (SRS0=/SRS1=, +/- too)
 * Only mail with at least one recipient outside InternalDomains is checked.
 * AutoForwardAllow lists approved pairs "internal>external" (either side
 * may be "@domain"); a forward passes only when every external recipient is
 * covered by a pair whose internal side is the forwarding mailbox (envelope
 * sender, a Delivered-To, Resent-From/Resent-Sender, or the address in
 * X-MS-Exchange-Inbox-Rules-Loop). */
#ifndef TZ_AUTOFWD_H
#define TZ_AUTOFWD_H

#include <glib.h>
#include "tz_msghdr.h"
#include "tz_verdict.h"

struct tz_autofwd_options {
	const GPtrArray *internal_domains; /* char*, lower-case (InternalDomains) */
	const GPtrArray *allow;            /* char* "internal>external" (AutoForwardAllow) */
	struct tz_rule_action act;         /* AutoForwardAction, default reject 550 5.7.1 */
};

#define TZ_AUTOFWD_TEXT "Automatic forwarding to external addresses is not permitted"

void tz_autofwd_options_init(struct tz_autofwd_options *o);

/* The first marker found (one of the names above), or NULL. */
const char *tz_autofwd_marker(const GPtrArray *internal_domains, const char *sender,
			      const struct tz_msghdr *h);

/* Fires (rule "autofwd") for a marked message with an external recipient
 * not covered by the allow-list. sender: MAIL FROM ("" null sender);
 * rcpts: char* envelope recipients. */
void tz_autofwd_check(const struct tz_autofwd_options *o, const char *sender,
		      const GPtrArray *rcpts, const struct tz_msghdr *h, struct tz_verdict *v);

/* True when an allow entry is well-formed ("a>b", both sides non-empty,
 * each an address or @domain). For the config parser. */
bool tz_autofwd_allow_valid(const char *entry);

#endif
