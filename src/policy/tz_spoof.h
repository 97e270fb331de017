/* tz_spoof.h — internal-domain spoofing and header forgery (inbound).
 * An untrusted client (outside InternalNetworks, not authenticated) may not
 * use an InternalDomains address as envelope sender, in From, or inside a
 * From display name ("boss@city.example" <x@evil.example>, the usual trick of
 * targeted attacks, also when RFC 2047-encoded). Separately, headers only
 * this gateway may write are removed when they arrive from outside: every
 * X-Textize* field and Authentication-Results carrying our AuthservID. */
#ifndef TZ_SPOOF_H
#define TZ_SPOOF_H

#include <stdbool.h>
#include <glib.h>
#include "tz_msghdr.h"
#include "tz_verdict.h"

struct tz_spoof_options {
	const GPtrArray *internal_domains;  /* char*, lower-case */
	const char *authserv_id;            /* AuthservID */
	struct tz_rule_action act;          /* SpoofAction, default reject 550 5.7.1 */
};

#define TZ_SPOOF_TEXT "Sender address in our own domain from outside is not accepted"

void tz_spoof_options_init(struct tz_spoof_options *o);   /* reject */

/* Fires (rule "spoof") when an untrusted client uses an internal address;
 * nothing when trusted. sender: MAIL FROM ("" null sender). */
void tz_spoof_check(const struct tz_spoof_options *o, bool trusted, const char *sender,
		    const struct tz_msghdr *h, struct tz_verdict *v);

/* Queue DELETE edits for forged X-Textize* and our Authentication-Results
 * (call for mail from untrusted clients). Returns how many. */
unsigned tz_spoof_strip(const struct tz_spoof_options *o, const struct tz_msghdr *h,
			struct tz_verdict *v);

/* The authserv-id of an Authentication-Results value (CFWS skipped), or
 * NULL when there is none. g_free(). */
char *tz_authres_id(const char *value);

#endif
