/* web_staff.c — the pages staff reach from the signed link in a notice
 * (no account): what was removed from THEIR mail, a release request with
 * a reason (once per link: the link's MAC is the request's key), and the
 * sanitized copy when the sanitizer made one. Every request is checked
 * from scratch: MAC (tz_weblink_verify, constant time), expiry, the
 * recipient being one of the entry's, the part existing. A link for one
 * entry or part shows nothing of another. Forms carry a token derived
 * from the link's MAC (HMAC under WebKeyFile), so another site cannot
 * post one without knowing the link. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "tz_audit.h"
#include "tz_localtime.h"
#include "tz_meta.h"
#include "tz_notice.h"
#include "tz_release.h"
#include "tz_store.h"
#include "tz_util.h"
#include "tz_weblink.h"
#include "web.h"
#include "web_html.h"
#include "web_staff.h"
#include "web_state.h"

void web_staff_token(const unsigned char key[TZ_KEY_LEN], const char *mac, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	char *msg = g_strconcat("textize-staff-form|", mac, NULL);

	HMAC(EVP_sha256(), key, TZ_KEY_LEN, (const unsigned char *)msg, strlen(msg), md, &n);
	tz_hex(md, 32, out);
	g_free(msg);
}

static int rcpt_listed(const struct tz_meta *m, const char *rcpt)
{
	for (guint i = 0; i < m->rcpts->len; i++)
		if (g_ascii_strcasecmp(g_ptr_array_index(m->rcpts, i), rcpt) == 0)
			return 1;
	return 0;
}

/* The link's fields from the query (GET) or the form (POST). */
static const char *val(const struct web_req *r, const char *k)
{
	return strcmp(r->method, "POST") == 0 ? web_field(r, k) : web_arg(r, k);
}

enum web_staff_check web_staff_open(struct web_req *r, struct web_staff_link *l)
{
	const char *e = val(r, "e"), *p = val(r, "p"), *x = val(r, "x");
	struct tz_weblink wl;
	enum tz_weblink_check c;
	char err[TZ_ERRLEN], *end;

	memset(l, 0, sizeof(*l));
	if (!r->app->have_link_key || e == NULL || p == NULL || x == NULL || val(r, "r") == NULL ||
	    val(r, "m") == NULL || !tz_id_valid(e))
		return WEB_STAFF_BAD;
	wl.id = e;
	wl.part = (unsigned)strtoul(p, &end, 10);
	if (*p < '0' || *p > '9' || *end || strlen(p) > 6)
		return WEB_STAFF_BAD;
	wl.rcpt = val(r, "r");
	wl.expiry = g_ascii_strtoll(x, &end, 10);
	if (*end)
		return WEB_STAFF_BAD;
	c = tz_weblink_verify(r->app->link_key, &wl, val(r, "m"), (int64_t)time(NULL));
	if (c != TZ_WEBLINK_OK)
		return c == TZ_WEBLINK_EXPIRED ? WEB_STAFF_EXPIRED : WEB_STAFF_BAD;
	pthread_mutex_lock(&r->app->lock);
	l->meta = tz_store_meta_read(r->app->st, e, err, sizeof(err));
	pthread_mutex_unlock(&r->app->lock);
	if (l->meta == NULL || !rcpt_listed(l->meta, wl.rcpt) ||
	    (wl.part && tz_meta_part_get(l->meta, wl.part) == NULL)) {
		tz_meta_free(l->meta);
		l->meta = NULL;
		return WEB_STAFF_BAD;
	}
	l->part = wl.part;
	l->rcpt = g_ascii_strdown(wl.rcpt, -1);
	g_strlcpy(l->mac, val(r, "m"), sizeof(l->mac));
	l->expiry = wl.expiry;
	return WEB_STAFF_OK;
}

void web_staff_close(struct web_staff_link *l)
{
	tz_meta_free(l->meta);
	g_free(l->rcpt);
	memset(l, 0, sizeof(*l));
}

void web_staff_link_fields(GString *b, const struct web_req *r, const struct web_staff_link *l)
{
	char tok[65];

	web_staff_token(r->app->link_key, l->mac, tok);
	web_html_printf(b, "<input type=\"hidden\" name=\"e\" value=\"%s\"><input type=\"hidden\" name=\"p\" value=\"%u\">"
			"<input type=\"hidden\" name=\"r\" value=\"%s\"><input type=\"hidden\" name=\"x\" value=\"%lld\">"
			"<input type=\"hidden\" name=\"m\" value=\"%s\"><input type=\"hidden\" name=\"t\" value=\"%s\">",
			l->meta->id, l->part, l->rcpt, (long long)l->expiry, l->mac, tok);
}

bool web_staff_token_ok(struct web_req *r, const struct web_staff_link *l)
{
	const char *tok = web_field(r, "t");
	char want[65];

	web_staff_token(r->app->link_key, l->mac, want);
	if (tok != NULL && strlen(tok) == 64 && CRYPTO_memcmp(tok, want, 64) == 0)
		return true;
	web_error_page(r, MHD_HTTP_FORBIDDEN, "不正な送信です。通知メールのリンクから開き直してください。");
	return false;
}

void web_staff_refuse(struct web_req *r, enum web_staff_check c)
{
	web_error_page(r, c == WEB_STAFF_EXPIRED ? MHD_HTTP_GONE : MHD_HTTP_FORBIDDEN,
		       c == WEB_STAFF_EXPIRED
		       ? "このリンクは有効期限が切れています。参照番号を添えて情報セキュリティ担当へお問い合わせください。"
		       : "このリンクは正しくありません。通知メールのリンクをそのまま開いてください。");
}

void web_staff_page(struct web_req *r)
{
	struct web_staff_link l;
	enum web_staff_check c = web_staff_open(r, &l);
	struct web_request *q;

	if (c != WEB_STAFF_OK) {
		web_staff_refuse(r, c);
		return;
	}
	pthread_mutex_lock(&r->app->lock);
	q = web_state_request_by_mac(r->app->state, l.mac);
	pthread_mutex_unlock(&r->app->lock);
	web_page_begin(r->body, "取り除いたファイル", NULL);
	web_staff_summary(r, &l);
	web_staff_ppap_forms(r, &l);
	if (q) {
		char when[40];
		tz_local_time(q->created, when);
		web_html_printf(r->body, "<p class=\"msg\" id=\"status\">%s に配送を依頼しました。状態: %s</p>",
				when, web_staff_status_ja(q->status));
	} else {
		g_string_append(r->body, "<h2>配送を依頼する</h2><p>業務で必要な場合は、理由を書いて依頼してください。"
					 "情報セキュリティ担当が確認してから、あなた宛てにお届けします。</p>"
					 "<form method=\"post\" action=\"/s/request\">");
		web_staff_link_fields(r->body, r, &l);
		g_string_append(r->body, "<textarea name=\"reason\" id=\"reason\" rows=\"3\" maxlength=\"500\" required></textarea>"
					 "<p><button type=\"submit\" id=\"request\">配送を依頼する</button></p></form>");
	}
	web_page_end(r->body);
	web_request_free(q);
	web_staff_close(&l);
}

void web_staff_request(struct web_req *r)
{
	const char *reason = web_field(r, "reason");
	struct web_staff_link l;
	enum web_staff_check c = web_staff_open(r, &l);
	char err[TZ_ERRLEN], *op;
	int rc;

	if (c != WEB_STAFF_OK) {
		web_staff_refuse(r, c);
		return;
	}
	if (!web_staff_token_ok(r, &l)) {
		web_staff_close(&l);
		return;
	}
	if (!web_reason_ok(reason, 1, 0)) {
		web_error_page(r, MHD_HTTP_BAD_REQUEST, "理由を 500 文字以内で書いてください。");
		web_staff_close(&l);
		return;
	}
	op = g_strconcat("staff:", l.rcpt, NULL);
	pthread_mutex_lock(&r->app->lock);
	rc = web_state_add_request(r->app->state, l.mac, l.meta->id, l.part, l.rcpt, reason,
				   (int64_t)time(NULL), err, sizeof(err));
	if (rc == 0) {
		struct tz_audit_event ev = { "release_requested_by_staff", op, l.meta->id, l.part, NULL, reason };
		rc = tz_audit_append(r->app->audit, &ev, err, sizeof(err));
		if (rc < 0)
			web_state_forget_request(r->app->state, l.mac);
	}
	pthread_mutex_unlock(&r->app->lock);
	g_free(op);
	if (rc < 0)
		web_error_page(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "依頼を記録できませんでした。時間をおいて試してください。");
	else if (rc == 1)
		web_error_page(r, MHD_HTTP_CONFLICT, "このリンクからは、すでに依頼を受け付けています。");
	else
		web_staff_redirect(r, &l);
	web_staff_close(&l);
}
