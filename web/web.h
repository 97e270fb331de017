/* web.h — what the parts of textize-web share: the application (config,
 * the queue opened through the same library as textizectl, the state
 * database, sessions) and one request as the handlers see it. Handlers
 * build the page into req->body and set the status; web_http.c sends it
 * with the security headers. */
#ifndef TZ_WEB_H
#define TZ_WEB_H

#include <pthread.h>
#include <stdint.h>
#include <glib.h>
#include "tz_config.h"
#include "tz_crypt.h"
#include "tz_queue.h"
#include "tz_cdr_ppap.h"

struct web_state;
struct web_pool;
struct web_sessions;
struct web_session;

struct web_app {
	struct tz_config *cfg;
	struct tz_store *st;
	struct tz_audit *audit;
	struct tz_index *ix;               /* NULL when ReportDatabase is empty */
	unsigned char release_key[TZ_KEY_LEN];
	unsigned char link_key[TZ_KEY_LEN];
	int have_link_key;
	struct tz_queue q;                 /* wired to the above, as textizectl's */
	/* The sanitizer for encrypted archives staff give a password for:
	 * Sanitize* keys, members scanned through ScannerSocket, copies
	 * delivered through q under SanitizedDelivery auto. */
	struct tz_cdr_queue cdr;
	struct tz_cdr_clamd clamd;
	struct web_state *state;           /* WebDatabase */
	struct web_sessions *sessions;
	int secure_cookies;                /* WebBaseURL is https */
	/* The library's queue operations lock entries themselves. Each
	 * request runs on a copy of this struct with connections of its own
	 * (ix, state, q.ix, cdr.ix from the pool, web_pool.h) and a lock of
	 * its own, so a slow release or PPAP try holds up no other page; the
	 * handlers' lock now guards only their request's connections. */
	pthread_mutex_t lock;
	struct web_pool *pool;             /* NULL in a request's copy */
};

/* Open everything the config names; 0, or -1 with err. */
int web_app_open(struct web_app *a, struct tz_config *cfg, char *err, size_t errlen);
void web_app_close(struct web_app *a);

/* One HTTP request. Strings borrowed from libmicrohttpd or owned by the
 * request (form). */
struct web_req {
	struct web_app *app;
	const char *method;                /* "GET" or "POST" */
	const char *path;
	const char *client;                /* peer address as text */
	GHashTable *query;                 /* char* -> char*, owned */
	GHashTable *form;                  /* POST fields, char* -> char*, owned */
	struct web_session *session;       /* NULL = not logged in */
	const struct tz_tenant *tenant;    /* the session's tenant: its entries only; NULL = all
					    * (web_tenant.h) */
	/* the response */
	unsigned status;
	GString *body;
	const char *content_type;          /* NULL = text/html; charset=utf-8 */
	char *location;                    /* redirect target (303), owned */
	char *set_cookie;                  /* Set-Cookie value, owned */
	char *download_name;               /* Content-Disposition filename* value (RFC 6266, tz_release_filename_param), owned */
};

/* A reason typed into a form: valid UTF-8, at most WEB_REASON_MAX
 * characters (what the form's maxlength counts, not bytes: 500 Japanese
 * characters are 1,500 bytes), no control characters but, when multiline,
 * line breaks. empty_ok: "" passes. */
#define WEB_REASON_MAX 500
int web_reason_ok(const char *s, int multiline, int empty_ok);

/* A query or form value, NULL when absent. A field or argument named twice
 * refuses the whole request (400) before any handler runs. */
const char *web_arg(const struct web_req *r, const char *name);
const char *web_field(const struct web_req *r, const char *name);

/* Responses. */
void web_redirect(struct web_req *r, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void web_error_page(struct web_req *r, unsigned status, const char *message);

/* Handlers (web_team.c, web_staff.c, web_login.c). Each returns after
 * filling the response. */
void web_login_page(struct web_req *r);
void web_login_post(struct web_req *r);
void web_logout(struct web_req *r);
void web_team_queue(struct web_req *r);
void web_team_entry(struct web_req *r);
void web_team_action(struct web_req *r);
void web_team_requests(struct web_req *r);
void web_team_report(struct web_req *r);
void web_team_audit(struct web_req *r);
void web_team_senders_page(struct web_req *r);
void web_staff_page(struct web_req *r);
void web_staff_request(struct web_req *r);
void web_staff_download(struct web_req *r);
void web_staff_ppap_post(struct web_req *r);

/* The navigation bar of team pages for r's session (markup with the
 * logout form and its CSRF token); caller g_free()s. NULL without a
 * session. */
char *web_team_nav(const struct web_req *r);

/* A hidden CSRF field for r's session (team forms). */
void web_csrf_field(GString *out, const struct web_req *r);

#endif
