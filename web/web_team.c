/* web_team.c — the security team's queue pages: the queue with filters,
 * one entry (message, parts, scan results, hashes, requests), and the
 * requests waiting for a decision. Everything read comes from the index
 * and meta.json through the library; actions are in web_team_action.c. */
#include <string.h>
#include <time.h>
#include <microhttpd.h>

#include "tz_index.h"
#include "tz_localtime.h"
#include "tz_meta.h"
#include "tz_part.h"
#include "tz_store.h"
#include "tz_store_link.h"
#include "tz_util.h"
#include "web_tenant.h"
#include "web.h"
#include "web_html.h"
#include "web_session.h"
#include "web_state.h"
#include "web_team.h"

#define LIST_MAX 500


char *web_team_nav(const struct web_req *r)
{
	GString *s;

	if (r->session == NULL)
		return NULL;
	s = g_string_new("<nav><a href=\"/team\">隔離キュー</a> <a href=\"/team/requests\">承認待ち</a> "
			 "<a href=\"/team/report\">日次レポート</a> <a href=\"/team/audit\">監査ログ</a> "
			 "<a href=\"/team/senders\">差出人リスト</a></nav>"
			 "<span>");
	web_html_text(s, r->session->user, 64);
	g_string_append(s, "</span><form class=\"inline\" method=\"post\" action=\"/logout\">");
	web_csrf_field(s, r);
	g_string_append(s, "<button type=\"submit\" id=\"logout\">ログアウト</button></form>");
	return g_string_free(s, FALSE);
}

void web_csrf_field(GString *out, const struct web_req *r)
{
	if (r->session)
		g_string_append_printf(out, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">",
				       r->session->csrf);
}

void web_team_begin(struct web_req *r, const char *title)
{
	char *nav = web_team_nav(r);

	web_page_begin(r->body, title, nav);
	g_free(nav);
}


static unsigned flag_bit(const char *name)
{
	for (unsigned b = 0; name && *name && b < TZ_RISK_COUNT; b++)
		if (strcmp(name, tz_risk_name(1u << b)) == 0)
			return 1u << b;
	return 0;
}

static const char *const states[] = { TZ_STATE_PENDING, TZ_STATE_CLEAN, TZ_STATE_INFECTED,
				      TZ_STATE_SANITIZED, TZ_STATE_FAILED, TZ_STATE_RELEASED,
				      TZ_STATE_REJECTED, NULL };

static const char *state_ja(const char *s)
{
	static const char *const ja[] = { "検査待ち", "問題なし", "検出あり", "無害化済み", "処理失敗",
					  "配送済み", "配送しない", NULL };
	for (int i = 0; s && states[i]; i++)
		if (strcmp(s, states[i]) == 0)
			return ja[i];
	return s;
}

void web_state_cell(GString *out, const char *state)
{
	const char *known = NULL;

	for (int i = 0; state && states[i]; i++)
		if (strcmp(state, states[i]) == 0)
			known = states[i];
	g_string_append_printf(out, "<td class=\"state-%s\">", known ? known : "other");
	web_html_text(out, state_ja(state), 0);
	g_string_append(out, "</td>");
}

static void text_input(GString *out, const char *label, const char *name, const char *value)
{
	web_html_printf(out, "<label>%s <input type=\"text\" name=\"%s\" value=\"%s\"></label>",
			label, name, value ? value : "");
}

static void filter_form(struct web_req *r)
{
	const char *flag = web_arg(r, "flag"), *state = web_arg(r, "state");
	GString *b = r->body;

	g_string_append(b, "<form method=\"get\" action=\"/team\"><fieldset><legend>検索</legend>");
	text_input(b, "日付(から)", "since", web_arg(r, "since"));
	text_input(b, "日付(まで)", "until", web_arg(r, "until"));
	text_input(b, "差出人", "from", web_arg(r, "from"));
	text_input(b, "宛先", "rcpt", web_arg(r, "rcpt"));
	text_input(b, "種類", "type", web_arg(r, "type"));
	g_string_append(b, "<label>兆候 <select name=\"flag\"><option value=\"\">すべて</option>");
	for (unsigned i = 0; i < TZ_RISK_COUNT; i++) {
		const char *n = tz_risk_name(1u << i);
		web_html_printf(b, "<option value=\"%s\"%s>%s</option>", n,
				g_strcmp0(flag, n) == 0 ? " selected" : "", n);
	}
	g_string_append(b, "</select></label><label>状態 <select name=\"state\"><option value=\"\">すべて</option>");
	for (int i = 0; states[i]; i++)
		web_html_printf(b, "<option value=\"%s\"%s>%s</option>", states[i],
				g_strcmp0(state, states[i]) == 0 ? " selected" : "", state_ja(states[i]));
	g_string_append(b, "</select></label> <button type=\"submit\">検索</button></fieldset></form>");
}

static void list_rows(GString *b, GPtrArray *rows, const char *type)
{
	unsigned shown = 0;

	g_string_append(b, "<table id=\"queue\"><tr><th>参照番号</th><th>受信</th><th>差出人</th><th>宛先</th>"
			   "<th>件名</th><th>#</th><th>ファイル名</th><th>種類</th><th>サイズ</th>"
			   "<th>兆候</th><th>状態</th></tr>");
	for (guint i = 0; i < rows->len && shown < LIST_MAX; i++) {
		const struct tz_index_row *x = g_ptr_array_index(rows, i);
		char when[40], *risk;
		if (type && *type && (x->detected_type == NULL || strstr(x->detected_type, type) == NULL))
			continue;
		shown++;
		tz_local_time(x->stored_time, when);
		risk = tz_risk_string(x->risk);
		web_html_printf(b, "<tr><td><a href=\"/team/entry?id=%s\">%s</a></td><td>%s</td><td>%s</td>"
				"<td>%s</td><td>%s</td><td class=\"num\">%u</td><td>%s</td><td>%s</td>"
				"<td class=\"num\">%lld</td><td>%s</td>",
				x->id, x->ref ? x->ref : x->id, when, x->sender, x->rcpts, x->subject, x->part,
				x->filename, x->detected_type, (long long)x->size, risk);
		web_state_cell(b, x->state);
		g_string_append(b, "</tr>\n");
		g_free(risk);
	}
	g_string_append(b, "</table>");
	g_string_append_printf(b, "<p>%u 件%s</p>", shown, shown == LIST_MAX ? "(上限まで表示)" : "");
}

void web_team_queue(struct web_req *r)
{
	struct tz_index_filter f = { 0 };
	GPtrArray *rows = NULL;
	char err[TZ_ERRLEN];
	unsigned bad = 0;
	int rc = -1;

	web_team_begin(r, "隔離キュー");
	filter_form(r);
	if (tz_local_date_parse(web_arg(r, "since"), 0, &f.since) < 0 ||
	    tz_local_date_parse(web_arg(r, "until"), 1, &f.until) < 0) {
		g_string_append(r->body, "<p class=\"err\">日付は 2026-12-01 の形で入力してください。</p>");
		web_page_end(r->body);
		return;
	}
	f.from = web_arg(r, "from");
	f.rcpt = web_arg(r, "rcpt");
	f.flag = flag_bit(web_arg(r, "flag"));
	f.state = web_arg(r, "state") && *web_arg(r, "state") ? web_arg(r, "state") : NULL;
	f.tenant = r->tenant ? r->tenant->name : NULL;   /* a tenant's operator: its entries */
	if (f.from && *f.from == '\0')
		f.from = NULL;
	if (f.rcpt && *f.rcpt == '\0')
		f.rcpt = NULL;
	pthread_mutex_lock(&r->app->lock);
	if (r->app->ix == NULL)
		snprintf(err, sizeof(err), "ReportDatabase is not set");
	else if (tz_index_sync(r->app->ix, r->app->st, 0, &bad, err, sizeof(err)) >= 0)
		rc = tz_index_query(r->app->ix, &f, &rows, err, sizeof(err));
	pthread_mutex_unlock(&r->app->lock);
	if (rc < 0) {
		web_html_printf(r->body, "<p class=\"err\">索引を読めません: %s</p>", err);
	} else {
		if (bad)
			web_html_printf(r->body, "<p class=\"err\">読めないエントリが %u 件あります"
					"(textizectl queue reindex)。</p>", bad);
		list_rows(r->body, rows, web_arg(r, "type"));
		g_ptr_array_unref(rows);
	}
	web_page_end(r->body);
}
