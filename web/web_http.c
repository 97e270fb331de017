/* web_http.c — libmicrohttpd glue: collect one request (query, cookie,
 * form fields through MHD's post processor, at most WEB_MAX_UPLOAD bytes),
 * hand it to the broker (web_privsep.h), which routes it to its handler
 * (web_dispatch, in the broker), and send the page with the headers every
 * response carries (CSP, no sniffing, no framing, no referrer — a staff
 * link's MAC must not leak to another site —, no caching). POSTs to team
 * pages need a session and its CSRF token; GETs never change anything. */
#include "web_http.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <openssl/crypto.h>

#include "tz_log.h"
#include "web.h"
#include "web_html.h"
#include "web_privsep.h"
#include "web_session.h"
#include "web_tenant.h"

#define WEB_MAX_UPLOAD (64 * 1024)
#define WEB_MAX_FIELDS 64

struct conn {
	struct MHD_PostProcessor *pp;
	GHashTable *form;
	size_t received;
	int too_big;
	int duplicate;    /* a field named twice: refused, never joined or picked */
};

int web_reason_ok(const char *s, int multiline, int empty_ok)
{
	if (s == NULL || (*s == '\0' && !empty_ok) || !g_utf8_validate(s, -1, NULL) ||
	    g_utf8_strlen(s, -1) > WEB_REASON_MAX)
		return 0;
	for (const char *p = s; *p; p++)
		if (((unsigned char)*p < 0x20 && !(multiline && (*p == '\n' || *p == '\r'))) ||
		    *p == 0x7f)
			return 0;
	return 1;
}

const char *web_arg(const struct web_req *r, const char *name)
{
	return r->query ? g_hash_table_lookup(r->query, name) : NULL;
}

const char *web_field(const struct web_req *r, const char *name)
{
	return r->form ? g_hash_table_lookup(r->form, name) : NULL;
}

void web_redirect(struct web_req *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_free(r->location);
	r->location = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	r->status = MHD_HTTP_SEE_OTHER;
}

void web_error_page(struct web_req *r, unsigned status, const char *message)
{
	char *nav = web_team_nav(r);

	g_string_truncate(r->body, 0);
	r->status = status;
	web_page_begin(r->body, "エラー", nav);
	g_free(nav);
	g_string_append(r->body, "<p class=\"err\">");
	web_html_text(r->body, message, 0);
	g_string_append(r->body, "</p>");
	web_page_end(r->body);
}

static enum MHD_Result post_field(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *filename, const char *content_type,
				  const char *transfer_encoding, const char *data, uint64_t off,
				  size_t size)
{
	struct conn *c = cls;
	GString *v;

	if (filename != NULL)
		return MHD_NO;   /* no file uploads anywhere */
	v = g_hash_table_lookup(c->form, key);
	if (v != NULL && off == 0) {
		c->duplicate = 1;   /* a second field of that name, not a next chunk */
		return MHD_YES;
	}
	if (v == NULL) {
		if (g_hash_table_size(c->form) >= WEB_MAX_FIELDS)
			return MHD_NO;
		v = g_string_new(NULL);
		g_hash_table_insert(c->form, g_strdup(key), v);
	}
	g_string_append_len(v, data, (gssize)size);
	return MHD_YES;
}

/* Form values can be secrets (an archive's password): wiped before freed. */
static void string_free(gpointer p)
{
	GString *s = p;

	OPENSSL_cleanse(s->str, s->len);
	g_string_free(s, TRUE);
}

static void conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->pp)
		MHD_destroy_post_processor(c->pp);
	if (c->form)
		g_hash_table_destroy(c->form);
	g_free(c);
}

void web_http_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
			enum MHD_RequestTerminationCode toe)
{
	conn_free(*con_cls);
	*con_cls = NULL;
}

static void client_addr(struct MHD_Connection *connection, char out[64])
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	g_strlcpy(out, "-", 64);
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, 64);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, 64);
}


/* The route table: method, path, handler, whether a login is needed. */
static const struct route {
	const char *method, *path;
	void (*fn)(struct web_req *);
	int team;
} routes[] = {
	{ "GET", "/login", web_login_page, 0 },
	{ "POST", "/login", web_login_post, 0 },
	{ "POST", "/logout", web_logout, 1 },
	{ "GET", "/team", web_team_queue, 1 },
	{ "GET", "/team/entry", web_team_entry, 1 },
	{ "POST", "/team/action", web_team_action, 1 },
	{ "GET", "/team/requests", web_team_requests, 1 },
	{ "GET", "/team/report", web_team_report, 1 },
	{ "GET", "/team/audit", web_team_audit, 1 },
	{ "GET", "/team/senders", web_team_senders_page, 1 },
	{ "GET", "/s", web_staff_page, 0 },
	{ "POST", "/s/request", web_staff_request, 0 },
	{ "GET", "/s/download", web_staff_download, 0 },
	{ "POST", "/s/password", web_staff_ppap_post, 0 },
	{ NULL, NULL, NULL, 0 },
};

static void route(struct web_req *r)
{
	const struct route *rt;

	if (strcmp(r->path, "/") == 0) {
		web_redirect(r, r->session ? "/team" : "/login");
		return;
	}
	for (rt = routes; rt->path; rt++)
		if (strcmp(rt->path, r->path) == 0 && strcmp(rt->method, r->method) == 0)
			break;
	if (rt->path == NULL) {
		web_error_page(r, MHD_HTTP_NOT_FOUND, "ページが見つかりません。");
		return;
	}
	if (rt->team && r->session == NULL) {
		if (strcmp(r->method, "GET") == 0)
			web_redirect(r, "/login");
		else
			web_error_page(r, MHD_HTTP_FORBIDDEN, "ログインしてください。");
		return;
	}
	/* Every state-changing request of a logged-in user carries the CSRF
	 * token of its session (the login form has none: no session yet). */
	if (rt->team && strcmp(r->method, "POST") == 0 &&
	    !web_csrf_ok(r->session, web_field(r, "csrf"))) {
		tz_log(LOG_WARNING, NULL, "web: %s POST %s without a valid CSRF token (user %s)",
		       r->client, r->path, r->session->user);
		web_error_page(r, MHD_HTTP_FORBIDDEN, "フォームの有効期限が切れたか、不正な送信です。"
				  "ページを開き直してください。");
		return;
	}
	if (rt->team && web_tenant_resolve(r) < 0)
		return;
	rt->fn(r);
}

/* The broker's side of a request: what handle() did in one process
 * before the split. */
void web_dispatch(struct web_req *r, int too_big, int duplicate)
{
	if (too_big)
		web_error_page(r, MHD_HTTP_CONTENT_TOO_LARGE, "送信された内容が大きすぎます。");
	else if (duplicate)
		web_error_page(r, MHD_HTTP_BAD_REQUEST, "同じ名前の項目が二度送られました。");
	else if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "POST") != 0)
		web_error_page(r, MHD_HTTP_METHOD_NOT_ALLOWED, "この操作はできません。");
	else
		route(r);
}

static void add_bs(GVariantBuilder *b, const char *s)
{
	g_variant_builder_add_value(b, g_variant_new_bytestring(s ? s : ""));
}

static enum MHD_Result add_query(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	GVariantBuilder *b = cls;

	if (key && value)
		g_variant_builder_add(b, "(@ay@ay)", g_variant_new_bytestring(key),
				      g_variant_new_bytestring(value));
	return MHD_YES;
}

/* The request as the broker reads it (WEB_WIRE_REQ). */
static GVariant *wire_request(struct MHD_Connection *connection, const char *url, const char *method,
			      struct conn *c)
{
	GVariantBuilder b, q, f;
	GHashTableIter it;
	gpointer k, v;
	char client[64];

	client_addr(connection, client);
	g_variant_builder_init(&b, G_VARIANT_TYPE(WEB_WIRE_REQ));
	add_bs(&b, method);
	add_bs(&b, url);
	add_bs(&b, client);
	add_bs(&b, MHD_lookup_connection_value(connection, MHD_COOKIE_KIND, WEB_COOKIE));
	g_variant_builder_init(&q, G_VARIANT_TYPE("a(ayay)"));
	MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, add_query, &q);
	g_variant_builder_add_value(&b, g_variant_builder_end(&q));
	g_variant_builder_init(&f, G_VARIANT_TYPE("a(ayay)"));
	if (c->form) {
		g_hash_table_iter_init(&it, c->form);
		while (g_hash_table_iter_next(&it, &k, &v))
			g_variant_builder_add(&f, "(@ay@ay)", g_variant_new_bytestring(k),
					      g_variant_new_bytestring(((GString *)v)->str));
	}
	g_variant_builder_add_value(&b, g_variant_builder_end(&f));
	g_variant_builder_add(&b, "b", (gboolean)c->too_big);
	g_variant_builder_add(&b, "b", (gboolean)c->duplicate);
	return g_variant_ref_sink(g_variant_builder_end(&b));
}

static void add_header(struct MHD_Response *resp, const char *name, const char *value)
{
	if (value && *value)
		MHD_add_response_header(resp, name, value);
}

/* Send the broker's answer (WEB_WIRE_RESP) with the headers every page
 * carries; NULL (no broker) is a 503. */
static enum MHD_Result send_response(struct MHD_Connection *connection, GVariant *a, const char *css)
{
	static const char down[] = "<!DOCTYPE html><meta charset=\"utf-8\"><title>textize</title>"
		"<p>ただいま応答できません。しばらくしてからやり直してください。</p>";
	const char *ctype = NULL, *location = NULL, *cookie = NULL, *dl = NULL;
	const void *body = css ? css : down;
	gsize len = strlen(body);
	unsigned status = css ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
	struct MHD_Response *resp;
	GVariant *bv = NULL;
	enum MHD_Result ret;

	if (css)
		ctype = "text/css; charset=utf-8";
	if (a) {
		g_variant_get(a, "(u^&ay^&ay^&ay^&ay@ay)", &status, &ctype, &location, &cookie, &dl, &bv);
		body = g_variant_get_fixed_array(bv, &len, 1);
	}
	resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (bv)
		g_variant_unref(bv);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type",
				ctype && *ctype ? ctype : "text/html; charset=utf-8");
	MHD_add_response_header(resp, "Content-Security-Policy", WEB_CSP);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
	add_header(resp, "Location", location);
	add_header(resp, "Set-Cookie", cookie);
	if (dl && *dl) {
		char *cd = g_strdup_printf("attachment; filename*=%s", dl);
		MHD_add_response_header(resp, "Content-Disposition", cd);
		g_free(cd);
	}
	ret = MHD_queue_response(connection, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result handle(struct web_front *front, struct MHD_Connection *connection,
			      const char *url, const char *method, struct conn *c)
{
	GVariant *req, *answer;
	enum MHD_Result ret;

	if (strcmp(url, "/static/style.css") == 0 && strcmp(method, "GET") == 0)
		return send_response(connection, NULL, web_style_css);
	req = wire_request(connection, url, method, c);
	answer = web_broker_ask(front->ctl, req, WEB_BROKER_TIMEOUT);
	g_variant_unref(req);
	if (answer == NULL)
		tz_log(LOG_ERR, NULL, "web: no answer from the broker for %s %s", method, url);
	ret = send_response(connection, answer, NULL);
	if (answer)
		g_variant_unref(answer);
	return ret;
}

enum MHD_Result web_http_access(void *cls, struct MHD_Connection *connection, const char *url,
				const char *method, const char *version, const char *upload_data,
				size_t *upload_data_size, void **con_cls)
{
	struct conn *c = *con_cls;

	if (c == NULL) {
		c = g_new0(struct conn, 1);
		*con_cls = c;
		if (strcmp(method, "POST") == 0) {
			c->form = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, string_free);
			c->pp = MHD_create_post_processor(connection, 8192, post_field, c);
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		c->received += *upload_data_size;
		if (c->received > WEB_MAX_UPLOAD || c->pp == NULL ||
		    MHD_post_process(c->pp, upload_data, *upload_data_size) != MHD_YES)
			c->too_big = 1;
		*upload_data_size = 0;
		return MHD_YES;
	}
	return handle(cls, connection, url, method, c);
}
