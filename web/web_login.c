/* web_login.c — the login and logout pages of the security team. A
 * failed login says only that it failed (not whether the user exists);
 * after WEB_LOGIN_FAILURES failures per address or user name within
 * WEB_LOGIN_WINDOW seconds every try is refused until the window passes. */
#include <string.h>
#include <time.h>
#include <microhttpd.h>

#include "tz_log.h"
#include "web.h"
#include "web_auth.h"
#include "web_html.h"
#include "web_session.h"

static void form(struct web_req *r, const char *message)
{
	web_page_begin(r->body, "セキュリティ担当ログイン", NULL);
	if (message) {
		g_string_append(r->body, "<p class=\"err\">");
		web_html_text(r->body, message, 0);
		g_string_append(r->body, "</p>");
	}
	g_string_append(r->body,
		"<form method=\"post\" action=\"/login\"><fieldset>"
		"<label>ユーザー名 <input type=\"text\" name=\"user\" id=\"user\" autocomplete=\"username\" required></label>"
		"<label>パスワード <input type=\"password\" name=\"password\" id=\"password\" "
		"autocomplete=\"current-password\" required></label>"
		"<button type=\"submit\" id=\"login\">ログイン</button></fieldset></form>"
		"<p>職員の方は、通知メールのリンクからお進みください。ログインは不要です。</p>");
	web_page_end(r->body);
}

void web_login_page(struct web_req *r)
{
	if (r->session) {
		web_redirect(r, "/team");
		return;
	}
	form(r, NULL);
}

void web_login_post(struct web_req *r)
{
	const char *typed = web_field(r, "user"), *password = web_field(r, "password");
	int64_t now = (int64_t)time(NULL);
	struct web_session *x;
	char err[256], user[72];
	unsigned roles;

	if (!web_auth_name_ok(typed)) {
		r->status = MHD_HTTP_UNAUTHORIZED;
		form(r, "ユーザー名またはパスワードが違います。");
		return;
	}
	web_auth_canonical(typed, user, sizeof(user));
	if (!web_login_allowed(r->app->sessions, r->client, user, now)) {
		tz_log(LOG_WARNING, NULL, "web: login of %s from %s refused: too many failures", user, r->client);
		r->status = MHD_HTTP_TOO_MANY_REQUESTS;
		form(r, "ログインの失敗が続いたため、しばらくログインできません。15 分ほど待ってから試してください。");
		return;
	}
	if (web_auth_login(r->app->cfg, user, password, &roles, err, sizeof(err)) < 0) {
		tz_log(LOG_NOTICE, NULL, "web: login of %s from %s failed: %s", user, r->client, err);
		web_login_failed(r->app->sessions, r->client, user, now);
		r->status = MHD_HTTP_UNAUTHORIZED;
		form(r, "ユーザー名またはパスワードが違います。");
		return;
	}
	web_login_succeeded(r->app->sessions, r->client, user);
	x = web_session_create(r->app->sessions, user, roles, r->app->cfg->web_session_lifetime, now);
	if (x == NULL) {
		web_error_page(r, MHD_HTTP_SERVICE_UNAVAILABLE, "ログインを受け付けられません。");
		return;
	}
	tz_log(LOG_INFO, NULL, "web: %s logged in from %s (roles %u)", user, r->client, roles);
	r->set_cookie = g_strdup_printf(WEB_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%u%s",
					x->token, r->app->cfg->web_session_lifetime,
					r->app->secure_cookies ? "; Secure" : "");
	web_session_free(x);
	web_redirect(r, "/team");
}

void web_logout(struct web_req *r)
{
	web_session_end(r->app->sessions, r->session->token);
	r->set_cookie = g_strdup_printf(WEB_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
					r->app->secure_cookies ? "; Secure" : "");
	web_redirect(r, "/login");
}
