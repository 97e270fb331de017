/* web_team_senderlist.c — the sender block/allow list as a page
 * (GET /team/senders): every entry of the list (SenderListFile, or the
 * shared database's sender_list on StoreBackend postgresql), and for the team a
 * form per entry that removes it (POST /team/action action=unlist). The
 * removal names an entry already in the file (kind and pattern, checked
 * as a pattern the list can hold) and only ever takes entries out, so no
 * post can add one; it is audited ("sender_unlisted") under the
 * operator's name; the milter re-reads the list on its next MAIL. Adding
 * is on an entry's page (web_team_senders.c). */
#include <string.h>
#include <microhttpd.h>

#include "tz_audit.h"
#include "tz_senderlist.h"
#include "tz_senders.h"
#include "tz_util.h"
#include "web.h"
#include "web_html.h"
#include "web_session.h"
#include "web_team.h"

pthread_mutex_t web_senderlist_lock = PTHREAD_MUTEX_INITIALIZER;

const char *web_senders_where(const struct tz_config *cfg)
{
	return tz_config_store_shared(cfg) ? "sender_list (DatabaseURL)" : cfg->sender_list_file;
}

static const char *kind_word(enum tz_senderlist_kind k)
{
	return k == TZ_SENDER_BLOCK ? "block" : "allow";
}

static void entry_row(struct web_req *r, const struct tz_senderlist_entry *e, unsigned n)
{
	GString *b = r->body;

	web_html_printf(b, "<tr><td>%s</td><td class=\"mono\">%s</td><td>",
			e->kind == TZ_SENDER_BLOCK ? "拒否" : "許可(拒否の例外)", e->pattern);
	if (r->session->roles & WEB_ROLE_TEAM) {
		web_html_printf(b, "<form class=\"inline\" method=\"post\" action=\"/team/action\">"
				"<input type=\"hidden\" name=\"action\" value=\"unlist\">"
				"<input type=\"hidden\" name=\"kind\" value=\"%s\">"
				"<input type=\"hidden\" name=\"pattern\" value=\"%s\">", kind_word(e->kind), e->pattern);
		web_csrf_field(b, r);
		web_html_printf(b, "<input name=\"reason\" maxlength=\"500\" placeholder=\"理由(任意)\" "
				"aria-label=\"理由\"> <button type=\"submit\" id=\"unlist-%u\">リストから外す</button>"
				"</form>", n);
	}
	g_string_append(b, "</td></tr>");
}

void web_team_senders_page(struct web_req *r)
{
	const char *msg = web_arg(r, "msg");
	char *text = NULL, err[TZ_ERRLEN];
	GPtrArray *a;

	web_team_begin(r, "差出人の拒否・許可リスト");
	if (g_strcmp0(msg, "unlisted") == 0)
		g_string_append(r->body, "<p class=\"msg\" id=\"result\">リストから外しました。"
					  "次のメールから受信時の判定に反映されます。</p>");
	else if (g_strcmp0(msg, "not_listed") == 0)
		g_string_append(r->body, "<p class=\"msg\" id=\"result\">その項目はリストにありませんでした"
					  "(すでに外されています)。</p>");
	if (!tz_senders_enabled(r->app->cfg)) {
		g_string_append(r->body, "<p>SenderListFile が設定されていません(textize.conf(5))。</p>");
		web_page_end(r->body);
		return;
	}
	pthread_mutex_lock(&web_senderlist_lock);
	if (tz_senders_text(r->app->cfg, &text, err, sizeof(err)) < 0) {
		pthread_mutex_unlock(&web_senderlist_lock);
		web_html_printf(r->body, "<p class=\"error\">リストを読めません: %s</p>", err);
		web_page_end(r->body);
		return;
	}
	pthread_mutex_unlock(&web_senderlist_lock);
	a = tz_senderlist_entries(text);
	web_html_printf(r->body, "<p>受信時(MAIL FROM)に読むリスト: <span class=\"mono\">%s</span>。"
			"拒否の追加・許可の追加はエントリの画面から行います。許可は拒否の例外で、"
			"テキスト化や検査は省きません。</p>", web_senders_where(r->app->cfg));
	if (a->len == 0)
		g_string_append(r->body, "<p id=\"senders-empty\">リストは空です。</p>");
	else {
		g_string_append(r->body, "<table id=\"senders\"><tr><th>種別</th><th>アドレス/ドメイン</th>"
					 "<th></th></tr>");
		for (guint i = 0; i < a->len; i++)
			entry_row(r, a->pdata[i], i + 1);
		g_string_append(r->body, "</table>");
	}
	g_ptr_array_unref(a);
	g_free(text);
	web_page_end(r->body);
}

void web_team_sender_remove(struct web_req *r, const char *reason)
{
	const char *kind = web_field(r, "kind");
	enum tz_senderlist_kind k = g_strcmp0(kind, "block") == 0 ? TZ_SENDER_BLOCK
				  : g_strcmp0(kind, "allow") == 0 ? TZ_SENDER_ALLOW : TZ_SENDER_NONE;
	char *pat = tz_senderlist_pattern(web_field(r, "pattern") ? web_field(r, "pattern") : "");
	char err[TZ_ERRLEN], *detail = NULL;
	int rc;

	if (!tz_senders_enabled(r->app->cfg) || k == TZ_SENDER_NONE || pat == NULL) {
		web_error_page(r, MHD_HTTP_BAD_REQUEST, "SenderListFile が設定されていないか、指定が正しくありません。");
		g_free(pat);
		return;
	}
	pthread_mutex_lock(&web_senderlist_lock);
	rc = tz_senders_remove(r->app->cfg, k, pat, err, sizeof(err));
	if (rc == 0) {
		struct tz_audit_event ev = { "sender_unlisted", r->session->user, NULL, 0, NULL, NULL };
		detail = g_strdup_printf("remove %s %s%s%s", kind_word(k), pat, *reason ? " reason=" : "", reason);
		ev.detail = detail;
		/* the file has changed already: an audit failure is reported, not hidden */
		if (tz_audit_append(r->app->audit, &ev, err, sizeof(err)) < 0)
			rc = -1;
	}
	pthread_mutex_unlock(&web_senderlist_lock);
	if (rc < 0)
		web_error_page(r, MHD_HTTP_CONFLICT, err);
	else
		web_redirect(r, "/team/senders?msg=%s", rc == 0 ? "unlisted" : "not_listed");
	g_free(pat);
	g_free(detail);
}
