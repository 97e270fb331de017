/* tz_weblink.h — signed links for staff without accounts: the notice of a
 * text-ized message carries one, and textize-web checks it before it shows
 * anything.
 *
 * A link is WebBaseURL "/s?e=ID&p=PART&r=RCPT&x=EXPIRY&m=MAC" where
 *   ID      the quarantine entry id, PART its part (0 = every part),
 *   RCPT    the recipient, lower-cased, percent-encoded in the URL,
 *   EXPIRY  seconds since the epoch,
 *   MAC     lower-case hex HMAC-SHA256(WebKeyFile key,
 *           "textize-link-v1|" ID "|" PART "|" RCPT "|" EXPIRY).
 * So a link opens only its own entry and part, for its own recipient, until
 * it expires; nobody without the key can make or change one. Whether the
 * recipient is really among the entry's recipients is checked against
 * meta.json by textize-web. One-time use of the link's actions is recorded
 * by textize-web under its MAC. */
#ifndef TZ_WEBLINK_H
#define TZ_WEBLINK_H

#include <stddef.h>
#include <stdint.h>
#include "tz_crypt.h"

#define TZ_WEBLINK_MAC_HEX 65     /* 64 hex digits + NUL */

struct tz_weblink {
	const char *id;
	unsigned part;
	const char *rcpt;             /* compared lower-cased */
	int64_t expiry;
};

/* The MAC of l into mac (lower-case hex). 0, or -1 when a field is
 * malformed (bad id, empty or over-long recipient). */
int tz_weblink_mac(const unsigned char key[TZ_KEY_LEN], const struct tz_weblink *l,
		   char mac[TZ_WEBLINK_MAC_HEX]);

/* The whole URL under base (no trailing slash); caller g_free()s. NULL
 * when a field is malformed. */
char *tz_weblink_url(const unsigned char key[TZ_KEY_LEN], const char *base,
		     const struct tz_weblink *l);

enum tz_weblink_check {
	TZ_WEBLINK_OK = 0,
	TZ_WEBLINK_BAD,               /* malformed or wrong MAC */
	TZ_WEBLINK_EXPIRED,           /* MAC right, expiry passed */
};

/* Check mac (as received) for l at time now, in constant time. */
enum tz_weblink_check tz_weblink_verify(const unsigned char key[TZ_KEY_LEN],
					const struct tz_weblink *l, const char *mac, int64_t now);

#endif
