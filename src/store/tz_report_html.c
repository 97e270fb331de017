/* tz_report_html.c — the daily report as one self-contained HTML page in
 * Japanese: totals, one bar chart and table per count, the day's stripped
 * files and the operator actions (with the audit lines that could not be
 * read). Inline CSS and SVG only: no scripts, no external assets, so it can
 * be mailed or archived as it is. It names Japanese fonts first (Debian
 * packages fonts-noto-cjk / fonts-ipafont-gothic), and chart labels are
 * measured (full width for CJK) so they fit their column. Every string
 * from a sender or an operator is HTML-escaped with its controls and bidi
 * overrides shown as U+FFFD. */
#include "tz_report.h"

#include <string.h>
#include <time.h>

#include "tz_index.h"
#include "tz_notice.h"

#define FONT_PX 12
#define LABEL_MAX_PX 300     /* widest chart label; longer ones end in "…" */
#define BAR_MAX_PX 320
#define HTML_MAX_ITEMS 500   /* file rows shown; the CSV has them all */

static const char css[] =
	"body{font-family:\"Noto Sans CJK JP\",\"Noto Sans JP\",\"IPAexGothic\",\"IPAPGothic\","
	"\"IPAGothic\",\"Hiragino Sans\",\"Yu Gothic\",\"Meiryo\",sans-serif;margin:24px 32px;"
	"color:#1f2933;background:#fff;line-height:1.5}"
	"h1{font-size:22px;margin:0 0 2px}.sub{color:#52606d;margin:0 0 16px}"
	"h2{font-size:17px;margin:28px 0 8px;border-bottom:2px solid #3b6ea5;padding-bottom:2px}"
	".cards{display:flex;flex-wrap:wrap;gap:12px}"
	".card{border:1px solid #d9e2ec;border-radius:6px;padding:8px 16px;min-width:140px}"
	".card .k{font-size:13px;color:#52606d}.card .v{font-size:22px;font-weight:bold}"
	".card.warn{border-color:#d64545;background:#fff5f5}"
	".sec{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}"
	"table{border-collapse:collapse;font-size:13px}"
	"th,td{border:1px solid #d9e2ec;padding:3px 8px;text-align:left;vertical-align:top}"
	"th{background:#f0f4f8;white-space:nowrap}td.n{text-align:right;white-space:nowrap}"
	"td.t{white-space:nowrap}td.st{min-width:7em}.r{color:#52606d;font-size:12px}"
	"tr.bad td{background:#fff5f5}"
	"svg text{font-family:inherit;font-size:12px;fill:#1f2933}svg rect{fill:#3b6ea5}"
	".none,.left,footer{color:#7b8794;font-size:13px}footer{margin-top:32px}";

/* Sender- or operator-controlled text as shown (tz_report_visible:
 * controls and bidi overrides visible as U+FFFD), escaped. */
static void esc(GString *s, const char *v)
{
	char *shown = tz_report_visible(v), *e = g_markup_escape_text(shown, -1);

	g_string_append(s, e);
	g_free(e);
	g_free(shown);
}

static void esc_free(GString *s, char *v)
{
	esc(s, v);
	g_free(v);
}

/* v cut to fit max_px, ending in "…" when cut. g_free(). */
static char *fit(const char *v, int max_px)
{
	glong n = g_utf8_strlen(v, -1);
	char *t = g_strdup(v);

	while (n > 0 && tz_report_text_px(t, FONT_PX) > max_px) {
		char *cut = g_utf8_substring(v, 0, --n);
		g_free(t);
		t = g_strconcat(cut, "…", NULL);
		g_free(cut);
	}
	return t;
}

/* A horizontal bar chart, one bar per row scaled to the largest count,
 * the label column as wide as its widest (measured) label. */
static void svg_bars(GString *s, const struct tz_report_section *sec)
{
	guint n = sec->rows->len;
	int64_t max = 1;
	int labelw = 0, h = 24 * (int)n + 8, x0, width;
	char **labels = g_new0(char *, n + 1);

	for (guint k = 0; k < n; k++) {
		const struct tz_report_row *row = g_ptr_array_index(sec->rows, k);
		char *full = tz_report_label(sec->key, row->label);
		labels[k] = fit(full, LABEL_MAX_PX);
		g_free(full);
		labelw = MAX(labelw, tz_report_text_px(labels[k], FONT_PX));
		max = MAX(max, row->count);
	}
	x0 = labelw + 12;
	width = x0 + BAR_MAX_PX + 64;
	g_string_append_printf(s, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
			       " viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", width, h, width, h);
	esc(s, sec->title);
	g_string_append(s, "\">");
	for (guint k = 0; k < n; k++) {
		const struct tz_report_row *row = g_ptr_array_index(sec->rows, k);
		int w = (int)(row->count * BAR_MAX_PX / max), y = 4 + 24 * (int)k;
		g_string_append_printf(s, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", labelw, y + 15);
		esc(s, labels[k]);
		g_string_append_printf(s, "</text><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"18\" rx=\"2\"/>"
				       "<text x=\"%d\" y=\"%d\">%" G_GINT64_FORMAT "</text>",
				       x0, y, MAX(w, 1), x0 + MAX(w, 1) + 6, y + 15, row->count);
	}
	g_string_append(s, "</svg>\n");
	g_strfreev(labels);
}

static void section_html(GString *s, const struct tz_report_section *sec)
{
	g_string_append_printf(s, "<section id=\"%s\"><h2>", sec->key);
	esc(s, sec->title);
	g_string_append(s, "</h2>\n");
	if (sec->rows->len == 0) {
		g_string_append(s, "<p class=\"none\">該当なし</p></section>\n");
		return;
	}
	g_string_append(s, "<div class=\"sec\">");
	svg_bars(s, sec);
	g_string_append(s, "<table><tr><th>項目</th><th>件数</th></tr>\n");
	for (guint k = 0; k < sec->rows->len; k++) {
		const struct tz_report_row *row = g_ptr_array_index(sec->rows, k);
		g_string_append(s, "<tr><td>");
		esc_free(s, tz_report_label(sec->key, row->label));
		g_string_append_printf(s, "</td><td class=\"n\">%" G_GINT64_FORMAT "</td></tr>\n", row->count);
	}
	g_string_append(s, "</table></div></section>\n");
}

static const struct tz_report_section *find(const struct tz_report *r, const char *key)
{
	for (guint i = 0; i < r->sections->len; i++) {
		const struct tz_report_section *sec = g_ptr_array_index(r->sections, i);
		if (strcmp(sec->key, key) == 0)
			return sec;
	}
	return NULL;
}

static void card(GString *s, const char *key, const char *value, int warn)
{
	g_string_append_printf(s, "<div class=\"card%s\"><div class=\"k\">%s</div><div class=\"v\">%s</div></div>",
			       warn ? " warn" : "", key, value);
}

static void head_and_totals(GString *s, const struct tz_report *r)
{
	const struct tz_report_section *ev = find(r, "events");
	int64_t detected = 0;
	char now[20], *v, *size = tz_report_size(r->bytes);
	int y = 0, mo = 0, d = 0;

	for (guint k = 0; ev && k < ev->rows->len; k++) {
		const struct tz_report_row *row = g_ptr_array_index(ev->rows, k);
		if (strcmp(row->label, "detected") == 0)
			detected = row->count;
	}
	tz_report_local_time((int64_t)time(NULL), now);
	sscanf(r->date, "%d-%d-%d", &y, &mo, &d);
	g_string_append_printf(s, "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">"
			       "<title>無害化キュー 日次レポート %s</title>\n<style>%s</style></head><body>\n"
			       "<h1>無害化キュー 日次レポート %d年%d月%d日</h1>\n"
			       "<p class=\"sub\">この日に隔離したメールと、この日に行った操作の集計です"
			       "(作成 %s)。</p>\n", r->date, css, y, mo, d, now);
	if (r->tenant) {
		/* a tenant's report: say what it leaves out, so no one takes it for the whole queue */
		g_string_append(s, "<p class=\"sub\" id=\"tenant\">団体 ");
		esc(s, r->tenant);
		g_string_append(s, " のメールと、その操作だけを集計しています。特定のメールに結びつかない"
				   "記録(遮断の解除、差出人リストの変更など)と、削除済みのメールの記録は"
				   "含まれません。</p>\n");
	}
	g_string_append(s, "<div class=\"cards\">");
	card(s, "隔離したメール", v = g_strdup_printf("%" G_GINT64_FORMAT " 通", r->entries), 0);
	g_free(v);
	card(s, "取り除いたファイル", v = g_strdup_printf("%" G_GINT64_FORMAT " 件", r->parts), 0);
	g_free(v);
	card(s, "合計サイズ", size, 0);
	g_free(size);
	if (ev) {
		card(s, "ウイルス検知", v = g_strdup_printf("%" G_GINT64_FORMAT " 件", detected), detected > 0);
		g_free(v);
	}
	if (r->bad_events > 0) {
		card(s, "読み取れない監査記録", v = g_strdup_printf("%" G_GINT64_FORMAT " 件", r->bad_events), 1);
		g_free(v);
	}
	g_string_append(s, "</div>\n");
}

/* "1124-7QK2#2", or the entry id when the entry has no 参照番号. */
static void ref_cell(GString *s, const char *ref, const char *id, unsigned part)
{
	char *v = part ? g_strdup_printf("%s#%u", ref ? ref : id ? id : "", part) : g_strdup(ref ? ref : id ? id : "");

	g_string_append(s, "<td class=\"t\">");
	esc_free(s, v);
	g_string_append(s, "</td>");
}

static void item_row(GString *s, const struct tz_index_row *it)
{
	char when[20];

	tz_report_local_time(it->stored_time, when);
	g_string_append_printf(s, "<tr><td class=\"t\">%s</td>", when + 11);
	ref_cell(s, it->ref, it->id, it->part);
	g_string_append(s, "<td>");
	esc(s, it->sender && *it->sender ? it->sender : "<>");
	g_string_append(s, "</td><td>");
	esc(s, it->subject);
	g_string_append(s, "</td><td>");
	if (it->part == 0) {
		g_string_append(s, "(ファイルなし)</td><td></td><td></td><td></td><td></td></tr>\n");
		return;
	}
	esc(s, it->filename && *it->filename ? it->filename : "名前のないファイル");
	g_string_append(s, "</td><td class=\"t\">");
	esc(s, tz_notice_kind(TZ_NOTICE_JA, it->detected_type, it->declared_type));
	g_string_append(s, "<br><span class=\"r\">");
	esc(s, tz_report_reason_name(it->reason));
	g_string_append(s, "</span></td><td class=\"n\">");
	esc_free(s, tz_report_size((int64_t)it->size));
	g_string_append(s, "</td><td>");
	esc_free(s, tz_report_risks(it->risk));
	g_string_append(s, "</td><td class=\"st\">");
	esc(s, tz_report_state_name(it->state));
	if (it->verdict && strcmp(it->verdict, "OK") != 0) {
		g_string_append(s, "<br><span class=\"r\">");
		esc(s, it->verdict);
		g_string_append(s, "</span>");
	}
	g_string_append(s, "</td></tr>\n");
}

static void items_html(GString *s, const struct tz_report *r)
{
	guint shown = MIN(r->items->len, HTML_MAX_ITEMS);
	int64_t left = r->items_left_off + (int64_t)(r->items->len - shown);

	g_string_append(s, "<section id=\"items\"><h2>当日に隔離したメールとファイル</h2>\n");
	if (r->items->len == 0) {
		g_string_append(s, "<p class=\"none\">該当なし</p></section>\n");
		return;
	}
	g_string_append(s, "<table><tr><th>受信時刻</th><th>参照番号</th><th>差出人</th><th>件名</th>"
			"<th>ファイル名</th><th>種類・理由</th><th>サイズ</th><th>危険の兆候</th><th>状態</th></tr>\n");
	for (guint i = 0; i < shown; i++)
		item_row(s, g_ptr_array_index(r->items, i));
	g_string_append(s, "</table>\n");
	if (left > 0 && r->items_left_off == 0)
		g_string_append_printf(s, "<p class=\"left\">ほかに %" G_GINT64_FORMAT " 件あります"
				       "(CSV 形式で出力すると全件が入ります)。</p>\n", left);
	else if (left > 0)
		g_string_append_printf(s, "<p class=\"left\">ほかに %" G_GINT64_FORMAT " 件あります"
				       "(CSV 形式には最初の %d 件が入ります)。</p>\n", left, TZ_REPORT_MAX_ITEMS);
	g_string_append(s, "</section>\n");
}

static void actions_html(GString *s, const struct tz_report *r)
{
	g_string_append(s, "<section id=\"actions\"><h2>当日の操作の記録(監査ログ)</h2>\n");
	if (r->actions->len == 0 && r->bad_events == 0) {
		g_string_append(s, "<p class=\"none\">該当なし</p></section>\n");
		return;
	}
	g_string_append(s, "<table><tr><th>時刻</th><th>操作</th><th>担当者</th><th>参照番号</th><th>内容</th></tr>\n");
	for (guint i = 0; i < r->actions->len; i++) {
		const struct tz_report_action *a = g_ptr_array_index(r->actions, i);
		char when[20];
		tz_report_local_time(a->time, when);
		g_string_append_printf(s, "<tr><td class=\"t\">%s</td><td>%s</td><td>", when + 11,
				       tz_report_action_name(a));
		esc(s, g_strcmp0(a->operator_name, "sanitizer") == 0 ? "(自動)" : a->operator_name);
		g_string_append(s, "</td>");
		ref_cell(s, a->ref, a->id, a->part);
		g_string_append(s, "<td>");
		esc_free(s, tz_report_action_note(a));
		g_string_append(s, "</td></tr>\n");
	}
	for (guint i = 0; i < r->bad_lines->len; i++)
		g_string_append_printf(s, "<tr class=\"bad\"><td></td><td>読み取れない記録</td><td></td><td></td>"
				       "<td>監査ログの %" G_GINT64_FORMAT " 行目(textizectl audit verify で"
				       "確認してください)</td></tr>\n", g_array_index(r->bad_lines, int64_t, i));
	g_string_append(s, "</table>\n");
	if (r->actions_left_off > 0 || r->bad_events > (int64_t)r->bad_lines->len)
		g_string_append_printf(s, "<p class=\"left\">ほかに操作 %" G_GINT64_FORMAT " 件、読み取れない記録 %"
				       G_GINT64_FORMAT " 件があります。</p>\n", r->actions_left_off,
				       r->bad_events - (int64_t)r->bad_lines->len);
	g_string_append(s, "</section>\n");
}

char *tz_report_html(const struct tz_report *r)
{
	static const char *const order[] = { "events", "signatures", "risk", "types", "states",
					     "sender_domains", "recipients" };
	GString *s = g_string_new(NULL);

	head_and_totals(s, r);
	for (size_t i = 0; i < G_N_ELEMENTS(order); i++)
		if (find(r, order[i]))
			section_html(s, find(r, order[i]));
	items_html(s, r);
	actions_html(s, r);
	g_string_append(s, "<footer>textize " TZ_VERSION "</footer>\n</body></html>\n");
	return g_string_free(s, FALSE);
}
