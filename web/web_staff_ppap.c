/* web_staff_ppap.c — the password of an encrypted ZIP ("PPAP": the sender
 * mails the password separately), given by the staff member on the page of
 * their signed link. The post is checked like a release request (MAC,
 * expiry, recipient, the link's form token), limited to WEB_PPAP_TRIES
 * tries per link and part (counted before the try, so racing posts cannot
 * pass the limit), and every try is audited without the password. The
 * password stays in this process's memory: tz_cdr_ppap writes it into the
 * pipe that is the sandboxed ZIP reader's stdin, and it is wiped here
 * after the try. The archive is decrypted and read only in the sandbox,
 * its members scanned with clamd and sanitized like any part; the rebuilt
 * ZIP becomes the part's sanitized copy, then SanitizedDelivery decides as
 * for any copy (auto: mailed to the recipients; approve: the team grants
 * the staff member's request). A wrong password changes nothing but the
 * count: the encrypted original stays. The slow try runs without the
 * console's lock; only the recording takes it. */
#include <string.h>
#include <time.h>
#include <microhttpd.h>
#include <openssl/crypto.h>

#include "tz_audit.h"
#include "tz_cdr_ppap.h"
#include "tz_log.h"
#include "tz_meta.h"
#include "tz_util.h"
#include "web.h"
#include "web_html.h"
#include "web_staff.h"
#include "web_state.h"

#define WEB_PPAP_TRIES 5

static void form(struct web_req *r, const struct web_staff_link *l, const struct tz_meta_part *p)
{
	GString *b = r->body;
	char *result = NULL;
	unsigned tries;

	pthread_mutex_lock(&r->app->lock);
	tries = web_state_ppap_get(r->app->state, l->mac, p->index, &result);
	pthread_mutex_unlock(&r->app->lock);
	web_html_printf(b, "<h2>パスワード付き ZIP: %s</h2>", p->filename ? p->filename : "名前のないファイル");
	if (g_strcmp0(result, "wrong") == 0 && tries < WEB_PPAP_TRIES)
		web_html_printf(b, "<p class=\"err\" id=\"ppap-wrong-%u\">パスワードが違います。"
				"あと %u 回まで試せます。</p>", p->index, WEB_PPAP_TRIES - tries);
	if (tries >= WEB_PPAP_TRIES) {
		web_html_printf(b, "<p class=\"err\" id=\"ppap-locked-%u\">パスワードを %u 回まちがえたため、"
				"このリンクからは入力できません。参照番号を添えて情報セキュリティ担当へ"
				"お問い合わせください。</p>", p->index, WEB_PPAP_TRIES);
	} else {
		g_string_append(b, "<p>送信者から別に届いたパスワードを入力してください。ZIP の中身は"
				   "隔離された環境で開き、ウイルス検査と無害化をしてからお届けします。"
				   "パスワードは保存しません。</p><form method=\"post\" action=\"/s/password\">");
		web_staff_link_fields(b, r, l);
		web_html_printf(b, "<input type=\"hidden\" name=\"f\" value=\"%u\">"
				"<input type=\"password\" name=\"password\" id=\"password-%u\" maxlength=\"%d\" "
				"autocomplete=\"off\" required> <button type=\"submit\" id=\"open-%u\">"
				"開いて無害化する</button></form>", p->index, p->index, TZ_CDR_PASSWORD_MAX,
				p->index);
	}
	g_free(result);
}

void web_staff_ppap_forms(struct web_req *r, const struct web_staff_link *l)
{
	for (guint i = 0; i < l->meta->parts->len; i++) {
		const struct tz_meta_part *p = g_ptr_array_index(l->meta->parts, i);
		if ((l->part == 0 || p->index == l->part) && tz_cdr_ppap_waiting(p))
			form(r, l, p);
	}
}

static void audit(struct web_req *r, const char *event, const char *op, const char *id,
		  unsigned part, const char *detail)
{
	struct tz_audit_event ev = { event, op, id, part, NULL, detail };
	char err[TZ_ERRLEN];

	if (tz_audit_append(r->app->audit, &ev, err, sizeof err) < 0)
		tz_log(LOG_ERR, id, "audit: %s", err);
}

/* Count the try and audit it (under the lock). 0 go on, 1 locked, -1. */
static int take_try(struct web_req *r, const struct web_staff_link *l, unsigned part, const char *op)
{
	char err[TZ_ERRLEN], detail[64];
	unsigned tries = 0;
	int rc;

	pthread_mutex_lock(&r->app->lock);
	rc = web_state_ppap_take(r->app->state, l->mac, part, WEB_PPAP_TRIES, &tries, err, sizeof err);
	if (rc == 0) {
		struct tz_audit_event ev = { "ppap_password_tried", op, l->meta->id, part, NULL, detail };
		snprintf(detail, sizeof detail, "try %u of %u", tries, WEB_PPAP_TRIES);
		/* no try without its audit record */
		if (tz_audit_append(r->app->audit, &ev, err, sizeof err) < 0)
			rc = -1;
	} else if (rc == 1) {
		audit(r, "ppap_password_locked", op, l->meta->id, part, "tries used up");
	}
	pthread_mutex_unlock(&r->app->lock);
	if (rc < 0)
		tz_log(LOG_ERR, l->meta->id, "password try not counted: %s", err);
	return rc;
}

/* Record what the try gave; the status page to answer with. */
static unsigned finish(struct web_req *r, const struct web_staff_link *l, unsigned part,
		       const char *op, struct tz_cdr_ppap *pp)
{
	char err[TZ_ERRLEN];
	int rc = 0;

	pthread_mutex_lock(&r->app->lock);
	if (pp->r.wrong_password) {
		web_state_ppap_result(r->app->state, l->mac, part, "wrong");
		audit(r, "ppap_password_wrong", op, l->meta->id, part, pp->r.reason);
	} else {
		rc = tz_cdr_ppap_record(&r->app->cdr, l->meta->id, part, pp, op, err, sizeof err);
		web_state_ppap_result(r->app->state, l->mac, part, rc < 0 ? "error" : "opened");
		if (rc >= 0)
			audit(r, "ppap_password_opened", op, l->meta->id, part,
			      pp->r.sanitized ? pp->r.members : pp->r.reason);
	}
	pthread_mutex_unlock(&r->app->lock);
	if (rc < 0)
		tz_log(LOG_ERR, l->meta->id, "part %u opened but not recorded: %s", part, err);
	return rc < 0 ? MHD_HTTP_INTERNAL_SERVER_ERROR : 0;
}

void web_staff_ppap_post(struct web_req *r)
{
	char *password = (char *)web_field(r, "password");   /* owned by the request: wiped here */
	const char *f = web_field(r, "f");
	const struct tz_meta_part *p;
	struct web_staff_link l;
	enum web_staff_check c = web_staff_open(r, &l);
	struct tz_cdr_ppap pp = { 0 };
	char err[TZ_ERRLEN], *op = NULL;
	unsigned part = f ? (unsigned)g_ascii_strtoull(f, NULL, 10) : 0, status = 0;
	int rc;

	if (c != WEB_STAFF_OK) {
		web_staff_refuse(r, c);
		goto wipe;
	}
	if (!web_staff_token_ok(r, &l))
		goto out;
	p = part ? tz_meta_part_get(l.meta, part) : NULL;
	if (p == NULL || (l.part && l.part != part) || !tz_cdr_ppap_waiting(p)) {
		web_error_page(r, MHD_HTTP_NOT_FOUND, "このファイルはパスワードの入力を待っていません。");
		goto out;
	}
	if (password == NULL || *password == '\0' || strlen(password) > TZ_CDR_PASSWORD_MAX) {
		web_error_page(r, MHD_HTTP_BAD_REQUEST, "パスワードを入力してください。");
		goto out;
	}
	op = g_strconcat("staff:", l.rcpt, NULL);
	rc = take_try(r, &l, part, op);
	if (rc != 0) {
		web_error_page(r, rc > 0 ? MHD_HTTP_TOO_MANY_REQUESTS : MHD_HTTP_INTERNAL_SERVER_ERROR,
			       rc > 0 ? "パスワードを何度もまちがえたため、このリンクからは入力できません。"
				      : "受け付けられませんでした。時間をおいて試してください。");
		goto out;
	}
	rc = tz_cdr_ppap_try(&r->app->cdr, l.meta->id, part, password, &pp, err, sizeof err);
	OPENSSL_cleanse(password, strlen(password));
	if (rc < 0) {
		tz_log(LOG_ERR, l.meta->id, "part %u: password try failed: %s", part, err);
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	} else if (rc == 0) {
		status = finish(r, &l, part, op, &pp);
	}
	if (status)
		web_error_page(r, status, "いまは処理できませんでした。時間をおいてもう一度試してください。");
	else
		web_staff_redirect(r, &l);
out:
	web_staff_close(&l);
wipe:
	if (password)
		OPENSSL_cleanse(password, strlen(password));
	tz_cdr_ppap_clear(&pp);
	g_free(op);
}
