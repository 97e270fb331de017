/* web_http.c — libmicrohttpd glue: collect one request (query, cookie,
 * form fields through MHD's post processor, at most WEB_MAX_UPLOAD bytes),
 * route it to its handler, and send the page with the headers every
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

struct query {
	GHashTable *t;
	int duplicate;
};

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct query *q = cls;

	if (key && g_hash_table_contains(q->t, key))
		q->duplicate = 1;
	else if (key && value)
		g_hash_table_insert(q->t, g_strdup(key), g_strdup(value));
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

static enum MHD_Result send_response(struct MHD_Connection *connection, struct web_req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	gsize len = r->body->len;
	char *body = g_string_free(r->body, FALSE);

	r->body = NULL;
	resp = MHD_create_response_from_buffer_with_free_callback(len, body, g_free);
	if (resp == NULL) {
		g_free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type",
				r->content_type ? r->content_type : "text/html; charset=utf-8");
	MHD_add_response_header(resp, "Content-Security-Policy", WEB_CSP);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
	if (r->location)
		MHD_add_response_header(resp, "Location", r->location);
	if (r->set_cookie)
		MHD_add_response_header(resp, "Set-Cookie", r->set_cookie);
	if (r->download_name) {
		char *cd = g_strdup_printf("attachment; filename*=%s", r->download_name);
		MHD_add_response_header(resp, "Content-Disposition", cd);
		g_free(cd);
	}
	ret = MHD_queue_response(connection, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result handle(struct web_app *app, struct MHD_Connection *connection,
			      const char *url, const char *method, struct conn *c)
{
	struct web_req r = { 0 };
	struct query q = { NULL, 0 };
	char client[64];
	enum MHD_Result ret;
	GHashTableIter it;
	gpointer k, v;

	client_addr(connection, client);
	r.app = app;
	r.method = method;
	r.path = url;
	r.client = client;
	r.status = MHD_HTTP_OK;
	r.body = g_string_new(NULL);
	r.query = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	q.t = r.query;
	r.form = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, collect, &q);
	if (c->form) {
		g_hash_table_iter_init(&it, c->form);
		while (g_hash_table_iter_next(&it, &k, &v))
			g_hash_table_insert(r.form, g_strdup(k), g_strdup(((GString *)v)->str));
	}
	r.session = web_session_find(app->sessions,
				     MHD_lookup_connection_value(connection, MHD_COOKIE_KIND, WEB_COOKIE),
				     (int64_t)time(NULL));
	if (c->too_big)
		web_error_page(&r, MHD_HTTP_CONTENT_TOO_LARGE, "送信された内容が大きすぎます。");
	else if (c->duplicate || q.duplicate)
		web_error_page(&r, MHD_HTTP_BAD_REQUEST, "同じ名前の項目が二度送られました。");
	else if (strcmp(url, "/static/style.css") == 0 && strcmp(method, "GET") == 0) {
		g_string_append(r.body, web_style_css);
		r.content_type = "text/css; charset=utf-8";
	} else if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		web_error_page(&r, MHD_HTTP_METHOD_NOT_ALLOWED, "この操作はできません。");
	else
		route(&r);
	ret = send_response(connection, &r);
	g_hash_table_destroy(r.query);
	g_hash_table_destroy(r.form);
	web_session_free(r.session);
	g_free(r.location);
	g_free(r.set_cookie);
	g_free(r.download_name);
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
