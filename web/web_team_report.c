/* web_team_report.c — the requests waiting for a decision, the daily
 * report (tz_report, the same numbers as textizectl report, drawn as SVG
 * bars: attributes, no inline styles, so the CSP holds), and the audit log
 * with its verification result (tz_audit_verify) and newest records. A
 * tenant's operator gets the tenant's report and only the audit records of
 * the tenant's entries (docs/tenants.md). */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <microhttpd.h>

#include "tz_audit.h"
#include "tz_index.h"
#include "tz_jread.h"
#include "tz_meta.h"
#include "tz_report.h"
#include "tz_store.h"
#include "tz_store_link.h"
#include "tz_util.h"
#include "web_tenant.h"
#include "web.h"
#include "web_html.h"
#include "web_session.h"
#include "web_state.h"
#include "web_team.h"

#define AUDIT_SHOWN 200
#define AUDIT_TAIL_BYTES (256 * 1024)
#define BAR_W 300
#define FORCED_SCAN_MAX 5000   /* newest entries searched for open forced releases */

/* Parts with a forced release waiting for approvals, from meta.json (the
 * truth; the index has no column for it) of the newest FORCED_SCAN_MAX
 * entries. */
static void forced_waiting(struct web_req *r)
{
	GPtrArray *ids = NULL;
	char err[TZ_ERRLEN];
	unsigned shown = 0;

	g_string_append(r->body, "<h2>強制配送の承認待ち</h2><table id=\"forced\"><tr><th>エントリ</th><th>#</th>"
				 "<th>ファイル名</th><th>申請者</th><th>理由</th><th>承認済み</th></tr>");
	pthread_mutex_lock(&r->app->lock);
	if (tz_store_list(r->app->st, &ids, err, sizeof(err)) == 0) {
		for (guint i = ids->len, seen = 0; i-- > 0 && shown < 200 && seen++ < FORCED_SCAN_MAX;) {
			struct tz_meta *m = tz_store_meta_read(r->app->st, ids->pdata[i], err, sizeof(err));
			if (m && !web_tenant_sees(r, m)) {
				tz_meta_free(m);
				continue;
			}
			for (guint k = 0; m && k < m->parts->len; k++) {
				const struct tz_meta_part *p = g_ptr_array_index(m->parts, k);
				if (p->force_requested_by == NULL)
					continue;
				shown++;
				web_html_printf(r->body, "<tr><td><a href=\"/team/entry?id=%s\">%s</a></td><td>%u</td>"
						"<td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>", m->id,
						m->ref ? m->ref : m->id, p->index, p->filename, p->force_requested_by,
						p->force_reason, p->force_approvers);
			}
			tz_meta_free(m);
		}
		g_ptr_array_unref(ids);
	}
	pthread_mutex_unlock(&r->app->lock);
	g_string_append(r->body, "</table>");
}

void web_team_requests(struct web_req *r)
{
	GPtrArray *reqs;

	web_team_begin(r, "承認待ち");
	forced_waiting(r);
	g_string_append(r->body, "<h2>職員からの配送依頼</h2>");
	pthread_mutex_lock(&r->app->lock);
	reqs = web_state_requests(r->app->state, 1, NULL, 500);
	pthread_mutex_unlock(&r->app->lock);
	web_tenant_filter_requests(r, reqs);
	web_team_request_rows(r, reqs, 1);
	g_ptr_array_unref(reqs);
	web_page_end(r->body);
}

static void chart(GString *b, const struct tz_report_section *s)
{
	int64_t max = 1;
	guint n = s->rows->len;

	for (guint i = 0; i < n; i++)
		max = MAX(max, ((struct tz_report_row *)s->rows->pdata[i])->count);
	web_html_printf(b, "<h2>%s</h2>", s->title);
	if (n == 0) {
		g_string_append(b, "<p>なし</p>");
		return;
	}
	g_string_append_printf(b, "<svg width=\"%d\" height=\"%u\" role=\"img\">", BAR_W + 320, n * 22);
	for (guint i = 0; i < n; i++) {
		const struct tz_report_row *row = s->rows->pdata[i];
		int w = (int)(row->count * BAR_W / max);
		g_string_append_printf(b, "<rect class=\"bar\" x=\"200\" y=\"%u\" width=\"%d\" height=\"16\"></rect>"
				       "<text x=\"0\" y=\"%u\">", i * 22 + 2, w, i * 22 + 14);
		web_html_text(b, row->label, 28);
		g_string_append_printf(b, "</text><text x=\"%d\" y=\"%u\">%lld</text>", 206 + w, i * 22 + 14,
				       (long long)row->count);
	}
	g_string_append(b, "</svg>");
}

void web_team_report(struct web_req *r)
{
	const char *date = web_arg(r, "date");
	struct tz_report *rep = NULL;
	char err[TZ_ERRLEN];
	unsigned bad;

	if (date && *date == '\0')
		date = NULL;
	pthread_mutex_lock(&r->app->lock);
	if (r->app->ix == NULL)
		snprintf(err, sizeof(err), "ReportDatabase is not set");
	else if (tz_index_sync(r->app->ix, r->app->st, 0, &bad, err, sizeof(err)) >= 0 &&
		 (rep = tz_report_daily_tenant(r->app->ix, date, r->tenant ? r->tenant->name : NULL, err,
					       sizeof(err))) != NULL &&
		 (tz_config_store_shared(r->app->cfg)
		  ? tz_report_add_events_db(rep, r->app->cfg->database_url, err, sizeof(err))
		  : tz_report_add_events(rep, r->app->cfg->audit_log, err, sizeof(err))) < 0) {
		tz_report_free(rep);
		rep = NULL;
	}
	pthread_mutex_unlock(&r->app->lock);
	web_team_begin(r, "日次レポート");
	web_html_printf(r->body, "<form method=\"get\" action=\"/team/report\"><label>日付 "
			"<input type=\"text\" name=\"date\" value=\"%s\" placeholder=\"2026-12-01\"></label> "
			"<button type=\"submit\">表示</button></form>", date ? date : "");
	if (rep == NULL) {
		web_html_printf(r->body, "<p class=\"err\">レポートを作れません: %s</p>", err);
	} else {
		web_html_printf(r->body, "<p id=\"summary\">%s: メール %lld 通、取り除いたファイル %lld 件、%lld バイト</p>",
				rep->date, (long long)rep->entries, (long long)rep->parts, (long long)rep->bytes);
		if (rep->tenant)
			web_html_printf(r->body, "<p class=\"msg\" id=\"tenant\">団体 %s のメールと、その操作だけの"
					"集計です。特定のメールに結びつかない記録(遮断の解除、差出人リストの変更など)"
					"と、削除済みのメールの記録は含まれません。</p>", rep->tenant);
		for (guint i = 0; i < rep->sections->len; i++)
			chart(r->body, rep->sections->pdata[i]);
	}
	web_page_end(r->body);
	tz_report_free(rep);
}

/* Whether r may see the audit record v: everyone's for the prefecture's
 * team; for a tenant's operator only records naming one of the tenant's
 * entries still in the store (seen caches the answer per id). */
static int audit_sees(struct web_req *r, const struct tz_jv *v, GHashTable *seen)
{
	const char *id = tz_jv_str(v, "id");
	char err[TZ_ERRLEN];
	struct tz_meta *m;
	gpointer ok;

	if (r->tenant == NULL)
		return 1;
	if (id == NULL)
		return 0;
	if (g_hash_table_lookup_extended(seen, id, NULL, &ok))
		return GPOINTER_TO_INT(ok);
	pthread_mutex_lock(&r->app->lock);
	m = tz_id_valid(id) ? tz_store_meta_read(r->app->st, id, err, sizeof(err)) : NULL;
	pthread_mutex_unlock(&r->app->lock);
	ok = GINT_TO_POINTER(m != NULL && web_tenant_sees(r, m));
	tz_meta_free(m);
	g_hash_table_insert(seen, g_strdup(id), ok);
	return GPOINTER_TO_INT(ok);
}

/* The newest records of the log, newest first (a tenant's operator: of
 * the tenant's entries only): AuditLog, or on StoreBackend postgresql the
 * database's chain, the one the verify line above checked. */
static void audit_rows(struct web_req *r, const char *location)
{
	char err[TZ_ERRLEN], *text = tz_audit_newest(location, AUDIT_SHOWN * 4, AUDIT_TAIL_BYTES, err,
						     sizeof(err)), **lines;
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GString *b = r->body;
	unsigned shown = 0;

	if (text == NULL) {
		g_hash_table_unref(seen);
		return;
	}
	lines = g_strsplit(text, "\n", -1);
	g_string_append(b, "<table id=\"audit\"><tr><th>#</th><th>時刻(UTC)</th><th>操作</th><th>担当</th>"
			   "<th>エントリ</th><th>番号</th><th>内容</th></tr>");
	for (guint n = g_strv_length(lines); n-- > 0 && shown < AUDIT_SHOWN;) {
		struct tz_jv *v = tz_jv_parse(lines[n], strlen(lines[n]), err, sizeof(err));
		if (v == NULL || !audit_sees(r, v, seen)) {
			tz_jv_free(v);
			continue;
		}
		shown++;
		web_html_printf(b, "<tr><td>%lld</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%lld</td>"
				"<td>%s</td></tr>\n", (long long)tz_jv_int(v, "seq", 0), tz_jv_str(v, "time"),
				tz_jv_str(v, "event"), tz_jv_str(v, "operator"), tz_jv_str(v, "id"),
				(long long)tz_jv_int(v, "part", 0), tz_jv_str(v, "detail"));
		tz_jv_free(v);
	}
	g_string_append(b, "</table>");
	g_strfreev(lines);
	g_free(text);
	g_hash_table_unref(seen);
}

void web_team_audit(struct web_req *r)
{
	const struct tz_config *c = r->app->cfg;
	unsigned long records = 0, bad_line = 0;
	char err[TZ_ERRLEN] = "";
	int rc;

	rc = tz_audit_verify(tz_config_audit_location(c), c->audit_key_file, &records, &bad_line, err, sizeof(err));

	web_team_begin(r, "監査ログ");
	/* The chain is one for all tenants: a tenant's operator is told whether
	 * it is intact (and where it breaks), not how many records it holds. */
	if (rc == 0 && r->tenant)
		web_html_printf(r->body, "<p class=\"msg\" id=\"verify\">検証結果: 改ざんなし(全団体共通の記録、%s)"
				"</p><p class=\"msg\" id=\"tenant\">団体 %s のメールの記録だけを表示しています。</p>",
				c->audit_key_file ? "HMAC" : "SHA-256 の連鎖", r->tenant->name);
	else if (rc == 0)
		web_html_printf(r->body, "<p class=\"msg\" id=\"verify\">検証結果: 改ざんなし(%lld 件、%s)</p>",
				(long long)records, c->audit_key_file ? "HMAC" : "SHA-256 の連鎖");
	else if (rc == 1)
		web_html_printf(r->body, "<p class=\"err\" id=\"verify\">検証結果: %lld 行目から壊れています: %s</p>",
				(long long)bad_line, err);
	else
		web_html_printf(r->body, "<p class=\"err\" id=\"verify\">監査ログを読めません: %s</p>", err);
	audit_rows(r, tz_config_audit_location(c));
	web_page_end(r->body);
}
