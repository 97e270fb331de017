/* web_staff.h — the signed staff link as the staff pages use it
 * (web_staff.c, web_staff_view.c). */
#ifndef TZ_WEB_STAFF_H
#define TZ_WEB_STAFF_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include "tz_crypt.h"

struct web_req;
struct tz_meta;

enum web_staff_check { WEB_STAFF_OK = 0, WEB_STAFF_BAD, WEB_STAFF_EXPIRED };

/* A checked link: its entry's meta.json (owned), part (0 = all), the
 * recipient lower-cased (owned), its MAC and expiry. */
struct web_staff_link {
	struct tz_meta *meta;
	unsigned part;
	char *rcpt;
	char mac[65];
	int64_t expiry;
};

/* Check the link in r (query for GET, form for POST): WEB_STAFF_OK and l
 * filled (free with web_staff_close), or why not. */
enum web_staff_check web_staff_open(struct web_req *r, struct web_staff_link *l);
void web_staff_close(struct web_staff_link *l);
/* The error page for a link that did not pass. */
void web_staff_refuse(struct web_req *r, enum web_staff_check c);
/* The form token of a link: hex HMAC-SHA256(key, "textize-staff-form|" mac). */
void web_staff_token(const unsigned char key[TZ_KEY_LEN], const char *mac, char out[65]);

/* Hidden fields that carry the link into a form (with its token). */
void web_staff_link_fields(GString *b, const struct web_req *r, const struct web_staff_link *l);
/* Whether the post carries the link's form token; if not, the error page
 * is set and false returned. */
bool web_staff_token_ok(struct web_req *r, const struct web_staff_link *l);

/* web_staff_ppap.c: the password form for each encrypted archive of the
 * link that waits for one, and its post (POST /s/password, web.h). */
void web_staff_ppap_forms(struct web_req *r, const struct web_staff_link *l);

/* web_staff_view.c: the message and the link's parts as staff read them;
 * a request's state in Japanese; back to the link's page (303). */
void web_staff_summary(struct web_req *r, const struct web_staff_link *l);
const char *web_staff_status_ja(const char *status);
void web_staff_redirect(struct web_req *r, const struct web_staff_link *l);

#endif
