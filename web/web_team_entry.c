/* web_team_entry.c — one quarantine entry for the security team: the
 * message as the milter saw it, every part with hashes and scan results,
 * forced-release requests and their approvals, staff requests, and the
 * action forms (web_team_action.c carries them out). */
#include <string.h>
#include <microhttpd.h>

#include "tz_localtime.h"
#include "tz_meta.h"
#include "tz_part.h"
#include "tz_store.h"
#include "tz_util.h"
#include "web_tenant.h"
#include "web.h"
#include "web_html.h"
#include "web_session.h"
#include "web_state.h"
#include "web_team.h"

static void row(GString *b, const char *label, const char *value)
{
	web_html_printf(b, "<tr><th>%s</th><td>%s</td></tr>", label, value);
}

static void message_table(GString *b, const struct tz_meta *m)
{
	char when[40], size[32];
	GString *rcpts = g_string_new(NULL);

	for (guint i = 0; i < m->rcpts->len; i++)
		g_string_append_printf(rcpts, "%s%s", i ? ", " : "", (char *)g_ptr_array_index(m->rcpts, i));
	tz_local_time(m->stored_time, when);
	snprintf(size, sizeof(size), "%" G_GUINT64_FORMAT " バイト", m->original_size);
	g_string_append(b, "<table id=\"message\">");
	row(b, "参照番号", m->ref ? m->ref : "-");
	row(b, "ID", m->id);
	row(b, "受信", when);
	row(b, "差出人(エンベロープ)", *m->sender ? m->sender : "<>");
	row(b, "From", m->from);
	row(b, "宛先", rcpts->str);
	row(b, "件名", m->subject);
	row(b, "送信元", m->client_addr);
	row(b, "HELO", m->helo);
	row(b, "SPF", m->spf);
	row(b, "Message-ID", m->message_id);
	row(b, "元のメール", size);
	g_string_append(b, "<tr><th>元のメール SHA-256</th><td class=\"mono\">");
	web_html_text(b, m->original_sha256, 0);
	g_string_append(b, "</td></tr></table>");
	g_string_free(rcpts, TRUE);
}

static void parts_table(GString *b, const struct tz_meta *m)
{
	g_string_append(b, "<h2>取り除いたファイル</h2><table id=\"parts\"><tr><th>#</th><th>ファイル名</th>"
			   "<th>宣言/判定</th><th>サイズ</th><th>兆候</th><th>状態</th><th>検査結果</th>"
			   "<th>SHA-256</th><th>無害化した複製</th><th>メモ</th></tr>");
	for (guint i = 0; i < m->parts->len; i++) {
		const struct tz_meta_part *p = g_ptr_array_index(m->parts, i);
		char *risk = tz_risk_string(p->risk);
		web_html_printf(b, "<tr id=\"part-%u\"><td class=\"num\">%u</td><td>%s</td><td>%s<br>%s</td>"
				"<td class=\"num\">%lld</td><td>%s</td>",
				p->index, p->index, p->filename, p->declared_type, p->detected_type,
				(long long)p->size, *risk ? risk : "なし");
		web_state_cell(b, p->state);
		web_html_printf(b, "<td>%s<br>%s</td><td class=\"mono\">%s</td>", p->verdict, p->scanned_at,
				p->sha256);
		if (p->sanitized_file)
			web_html_printf(b, "<td>%lld バイト<br><span class=\"mono\">%s</span></td>",
					(long long)p->sanitized_size, p->sanitized_sha256);
		else
			g_string_append(b, "<td>なし</td>");
		web_html_printf(b, "<td>%s</td></tr>\n", p->note);
		g_free(risk);
	}
	g_string_append(b, "</table>");
}

static void action_form(struct web_req *r, const struct tz_meta *m, unsigned part, const char *action,
			const char *label, int reason_required, int danger)
{
	GString *b = r->body;

	web_html_printf(b, "<form class=\"inline\" method=\"post\" action=\"/team/action\">"
			"<input type=\"hidden\" name=\"id\" value=\"%s\"><input type=\"hidden\" name=\"part\" value=\"%u\">"
			"<input type=\"hidden\" name=\"action\" value=\"%s\">", m->id, part, action);
	web_csrf_field(b, r);
	web_html_printf(b, "<input type=\"text\" name=\"reason\" placeholder=\"理由%s\" id=\"reason-%s-%u\"%s> "
			"<button type=\"submit\" id=\"%s-%u\"%s>%s</button></form> ",
			reason_required ? "(必須)" : "", action, part, reason_required ? " required" : "",
			action, part, danger ? " class=\"danger\"" : "", label);
}

static void actions(struct web_req *r, const struct tz_meta *m)
{
	unsigned roles = r->session->roles;

	if (!(roles & WEB_ROLE_TEAM) || m->parts->len == 0)
		return;
	g_string_append(r->body, "<h2>操作</h2>");
	for (guint i = 0; i < m->parts->len; i++) {
		const struct tz_meta_part *p = g_ptr_array_index(m->parts, i);
		int ok = strcmp(p->state, TZ_STATE_CLEAN) == 0 || strcmp(p->state, TZ_STATE_SANITIZED) == 0;
		web_html_printf(r->body, "<fieldset><legend>#%u %s</legend>", p->index, p->filename);
		if (ok)
			action_form(r, m, p->index, "release", "元の宛先へ配送", 0, 0);
		else if (strcmp(p->state, TZ_STATE_RELEASED) != 0 && p->force_requested_by == NULL)
			action_form(r, m, p->index, "force", "強制配送を申請(承認が必要)", 1, 1);
		if (p->force_requested_by) {
			web_html_printf(r->body, "<p>強制配送の申請: %s(理由: %s)、承認: %s</p>",
					p->force_requested_by, p->force_reason, p->force_approvers);
			if (roles & WEB_ROLE_APPROVER)
				action_form(r, m, p->index, "approve", "強制配送を承認", 0, 1);
		}
		if (strcmp(p->state, TZ_STATE_REJECTED) != 0 && strcmp(p->state, TZ_STATE_RELEASED) != 0)
			action_form(r, m, p->index, "reject", "配送しない", 0, 0);
		g_string_append(r->body, "</fieldset>");
	}
}

/* The staff requests of this entry, with the team's decision forms. */
void web_team_request_rows(struct web_req *r, GPtrArray *reqs, int show_entry)
{
	GString *b = r->body;

	g_string_append(b, "<table id=\"requests\"><tr>");
	if (show_entry)
		g_string_append(b, "<th>エントリ</th>");
	g_string_append(b, "<th>#</th><th>職員</th><th>理由</th><th>日時</th><th>状態</th><th>操作</th></tr>");
	for (guint i = 0; i < reqs->len; i++) {
		const struct web_request *q = g_ptr_array_index(reqs, i);
		char when[40], part[16];
		tz_local_time(q->created, when);
		snprintf(part, sizeof(part), "%u", q->part);
		g_string_append(b, "<tr>");
		if (show_entry)
			web_html_printf(b, "<td><a href=\"/team/entry?id=%s\">%s</a></td>", q->id, q->id);
		web_html_printf(b, "<td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s%s%s</td><td>",
				q->part ? part : "すべて", q->rcpt, q->reason, when,
				q->status, q->decided_by ? " / " : "", q->decided_by ? q->decided_by : "");
		if (strcmp(q->status, "open") == 0 && (r->session->roles & WEB_ROLE_TEAM)) {
			for (int k = 0; k < 2; k++) {
				web_html_printf(b, "<form class=\"inline\" method=\"post\" action=\"/team/action\">"
						"<input type=\"hidden\" name=\"action\" value=\"%s\">"
						"<input type=\"hidden\" name=\"req\" value=\"%lld\">",
						k ? "decline" : "grant", (long long)q->rowid);
				web_csrf_field(b, r);
				web_html_printf(b, "<input type=\"text\" name=\"reason\" placeholder=\"理由\"> "
						"<button type=\"submit\" id=\"%s-%lld\"%s>%s</button></form> ",
						k ? "decline" : "grant", (long long)q->rowid,
						k ? " class=\"danger\"" : "", k ? "却下" : "この職員へ配送");
			}
		}
		g_string_append(b, "</td></tr>\n");
	}
	g_string_append(b, "</table>");
	if (reqs->len == 0)
		g_string_append(b, "<p>なし</p>");
}

void web_team_entry(struct web_req *r)
{
	const char *arg = web_arg(r, "id"), *msg = web_team_message(web_arg(r, "msg"));
	char id[TZ_ID_LEN], err[TZ_ERRLEN];
	struct tz_meta *m = NULL;
	GPtrArray *reqs = NULL;
	unsigned part;

	pthread_mutex_lock(&r->app->lock);
	if (arg && tz_store_resolve(r->app->st, arg, id, &part, err, sizeof(err)) == 0 &&
	    (m = tz_store_meta_read(r->app->st, id, err, sizeof(err))) != NULL)
		reqs = web_state_requests(r->app->state, 0, id, 100);
	pthread_mutex_unlock(&r->app->lock);
	if (m && !web_tenant_sees(r, m)) {   /* another tenant's: as if it did not exist */
		tz_meta_free(m);
		m = NULL;
	}
	if (m == NULL) {
		web_error_page(r, MHD_HTTP_NOT_FOUND, "そのエントリはありません。");
		return;
	}
	web_team_begin(r, m->ref ? m->ref : m->id);
	if (msg)
		web_html_printf(r->body, "<p class=\"msg\" id=\"result\">%s</p>", msg);
	message_table(r->body, m);
	parts_table(r->body, m);
	actions(r, m);
	web_team_sender_forms(r, m);
	g_string_append(r->body, "<h2>職員からの依頼</h2>");
	web_team_request_rows(r, reqs, 0);
	web_team_body(r, m);
	web_page_end(r->body);
	g_ptr_array_unref(reqs);
	tz_meta_free(m);
}
