/* tz_report.c — daily report: SQL over the index, then HTML/CSV/JSON. */
#include "tz_report.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tz_index.h"
#include "tz_meta.h"
#include "tz_part.h"
#include "tz_util.h"

#define TOP_N 15

void tz_report_row_free(gpointer p)
{
	struct tz_report_row *r = p;

	g_free(r->label);
	g_free(r);
}

static void section_free(gpointer p)
{
	struct tz_report_section *s = p;

	g_free(s->key);
	g_free(s->title);
	g_ptr_array_unref(s->rows);
	g_free(s);
}

void tz_report_free(struct tz_report *r)
{
	if (r == NULL)
		return;
	g_ptr_array_unref(r->sections);
	g_free(r);
}

static struct tz_report_section *add_section(struct tz_report *r, const char *key, const char *title)
{
	struct tz_report_section *s = g_new0(struct tz_report_section, 1);

	s->key = g_strdup(key);
	s->title = g_strdup(title);
	s->rows = g_ptr_array_new_with_free_func(tz_report_row_free);
	g_ptr_array_add(r->sections, s);
	return s;
}

static void add_row(struct tz_report_section *s, const char *label, int64_t count)
{
	struct tz_report_row *row = g_new0(struct tz_report_row, 1);

	row->label = g_strdup(label && *label ? label : "(none)");
	row->count = count;
	g_ptr_array_add(s->rows, row);
}

/* Run a "label, count" query bound to the day range into a section. */
static int fill(sqlite3 *db, struct tz_report *r, struct tz_report_section *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, r->since);
	sqlite3_bind_int64(st, 2, r->until);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		add_row(s, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int day_range(struct tz_report *r, const char *date, char *err, size_t errlen)
{
	struct tm tm = { 0 };
	time_t now = time(NULL);
	int y, mo, d;

	if (date == NULL) {
		localtime_r(&now, &tm);
		y = tm.tm_year + 1900;
		mo = tm.tm_mon + 1;
		d = tm.tm_mday;
	} else if (sscanf(date, "%4d-%2d-%2d", &y, &mo, &d) != 3 || strlen(date) != 10 ||
		   mo < 1 || mo > 12 || d < 1 || d > 31) {
		return tz_err(err, errlen, "bad date %s (want YYYY-MM-DD)", date);
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_isdst = -1;
	r->since = (int64_t)mktime(&tm);
	tm.tm_mday++;
	tm.tm_isdst = -1;
	r->until = (int64_t)mktime(&tm);
	now = (time_t)r->since;
	localtime_r(&now, &tm);
	strftime(r->date, sizeof(r->date), "%Y-%m-%d", &tm);
	return 0;
}

static int totals(sqlite3 *db, struct tz_report *r)
{
	sqlite3_stmt *st = NULL;
	int ok;

	ok = sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM entries WHERE stored_time >= ?1 AND stored_time < ?2),"
				" count(p.idx), coalesce(sum(p.size),0) FROM parts p JOIN entries e ON e.id = p.id"
				" WHERE e.stored_time >= ?1 AND e.stored_time < ?2", -1, &st, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_int64(st, 1, r->since);
		sqlite3_bind_int64(st, 2, r->until);
		ok = sqlite3_step(st) == SQLITE_ROW;
		if (ok) {
			r->entries = sqlite3_column_int64(st, 0);
			r->parts = sqlite3_column_int64(st, 1);
			r->bytes = sqlite3_column_int64(st, 2);
		}
	}
	sqlite3_finalize(st);
	return ok ? 0 : -1;
}

#define IN_DAY " e.stored_time >= ?1 AND e.stored_time < ?2 "

struct tz_report *tz_report_daily(struct tz_index *ix, const char *date, char *err, size_t errlen)
{
	struct tz_report *r = g_new0(struct tz_report, 1);
	sqlite3 *db = tz_index_db(ix);
	struct tz_report_section *s;
	int bad = 0;

	r->sections = g_ptr_array_new_with_free_func(section_free);
	if (day_range(r, date, err, errlen) < 0)
		goto fail;
	bad |= totals(db, r);
	s = add_section(r, "risk", "リスク種別 / Risk flags");
	for (unsigned b = 0; b < TZ_RISK_COUNT && !bad; b++) {
		char *sql = g_strdup_printf("SELECT '%s', count(*) FROM parts p JOIN entries e ON e.id = p.id"
					    " WHERE" IN_DAY "AND (p.risk & %u) != 0", tz_risk_name(1u << b), 1u << b);
		bad |= fill(db, r, s, sql);
		g_free(sql);
	}
	bad |= fill(db, r, add_section(r, "types", "検出された形式 / Detected types"),
		    "SELECT coalesce(p.detected_type, 'unknown'), count(*) FROM parts p JOIN entries e ON e.id = p.id"
		    " WHERE" IN_DAY "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT " G_STRINGIFY(TOP_N));
	bad |= fill(db, r, add_section(r, "sender_domains", "送信元ドメイン / Sender domains"),
		    "SELECT e.sender_domain, count(*) FROM entries e WHERE" IN_DAY
		    "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT " G_STRINGIFY(TOP_N));
	bad |= fill(db, r, add_section(r, "recipients", "受信者上位 / Top recipients"),
		    "SELECT lower(r.addr), count(*) FROM rcpts r JOIN entries e ON e.id = r.id WHERE" IN_DAY
		    "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10");
	bad |= fill(db, r, add_section(r, "states", "検査結果 / Scanner verdicts (part states)"),
		    "SELECT p.state, count(*) FROM parts p JOIN entries e ON e.id = p.id WHERE" IN_DAY
		    "GROUP BY 1 ORDER BY 2 DESC, 1");
	if (bad) {
		tz_err(err, errlen, "report query failed: %s", sqlite3_errmsg(db));
		goto fail;
	}
	return r;
fail:
	tz_report_free(r);
	return NULL;
}

/* ---- renderings ---- */

/* A cell a spreadsheet would evaluate as a formula: one starting with
 * = + - @ TAB or CR (OWASP "CSV Injection"). */
int tz_report_csv_risky(const char *v)
{
	return v != NULL && v[0] != '\0' && strchr("=+-@\t\r", v[0]) != NULL;
}

void tz_report_csv_field(GString *s, const char *v)
{
	g_string_append_c(s, '"');
	/* OWASP: quote every cell, double the quotes, and put a single quote
	 * before a cell that would be evaluated, so that it is shown as text. */
	if (tz_report_csv_risky(v))
		g_string_append_c(s, '\'');
	for (const char *p = v ? v : ""; *p; p++) {
		if (*p == '"')
			g_string_append_c(s, '"');
		g_string_append_c(s, *p);
	}
	g_string_append_c(s, '"');
}

char *tz_report_csv(const struct tz_report *r)
{
	GString *s = g_string_new("\xEF\xBB\xBF" "date,section,label,count\r\n");

	g_string_append_printf(s, "%s,totals,entries,%" G_GINT64_FORMAT "\r\n", r->date, r->entries);
	g_string_append_printf(s, "%s,totals,parts,%" G_GINT64_FORMAT "\r\n", r->date, r->parts);
	g_string_append_printf(s, "%s,totals,bytes,%" G_GINT64_FORMAT "\r\n", r->date, r->bytes);
	g_string_append_printf(s, "%s,totals,unreadable_audit_records,%" G_GINT64_FORMAT "\r\n", r->date,
			       r->bad_events);
	for (guint i = 0; i < r->sections->len; i++) {
		const struct tz_report_section *sec = g_ptr_array_index(r->sections, i);
		for (guint k = 0; k < sec->rows->len; k++) {
			const struct tz_report_row *row = g_ptr_array_index(sec->rows, k);
			g_string_append_printf(s, "%s,%s,", r->date, sec->key);
			tz_report_csv_field(s, row->label);
			g_string_append_printf(s, ",%" G_GINT64_FORMAT "\r\n", row->count);
		}
	}
	return g_string_free(s, FALSE);
}

char *tz_report_json(const struct tz_report *r)
{
	GString *s = g_string_new(NULL);

	g_string_append_printf(s, "{\"date\":\"%s\",\"since\":%" G_GINT64_FORMAT ",\"until\":%" G_GINT64_FORMAT
			       ",\"entries\":%" G_GINT64_FORMAT ",\"parts\":%" G_GINT64_FORMAT
			       ",\"bytes\":%" G_GINT64_FORMAT ",\"unreadable_audit_records\":%" G_GINT64_FORMAT,
			       r->date, r->since, r->until, r->entries, r->parts, r->bytes, r->bad_events);
	for (guint i = 0; i < r->sections->len; i++) {
		const struct tz_report_section *sec = g_ptr_array_index(r->sections, i);
		g_string_append_printf(s, ",\"%s\":[", sec->key);
		for (guint k = 0; k < sec->rows->len; k++) {
			const struct tz_report_row *row = g_ptr_array_index(sec->rows, k);
			g_string_append(s, k ? ",{\"label\":" : "{\"label\":");
			tz_meta_json_str(s, row->label);
			g_string_append_printf(s, ",\"count\":%" G_GINT64_FORMAT "}", row->count);
		}
		g_string_append_c(s, ']');
	}
	g_string_append(s, "}\n");
	return g_string_free(s, FALSE);
}

static void html_esc(GString *s, const char *v)
{
	char *e = g_markup_escape_text(v ? v : "", -1);

	g_string_append(s, e);
	g_free(e);
}

/* A horizontal bar chart: one bar per row, scaled to the largest count. */
static void svg_bars(GString *s, const struct tz_report_section *sec)
{
	int64_t max = 1;
	guint n = sec->rows->len;
	int h = 24 * (int)(n ? n : 1) + 8;

	for (guint k = 0; k < n; k++)
		max = MAX(max, ((struct tz_report_row *)g_ptr_array_index(sec->rows, k))->count);
	g_string_append_printf(s, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"%d\""
			       " viewBox=\"0 0 640 %d\" role=\"img\" aria-label=\"", h, h);
	html_esc(s, sec->title);
	g_string_append(s, "\">");
	if (n == 0)
		g_string_append(s, "<text x=\"8\" y=\"20\" class=\"none\">0</text>");
	for (guint k = 0; k < n; k++) {
		const struct tz_report_row *row = g_ptr_array_index(sec->rows, k);
		int w = (int)(row->count * 380 / max), y = 4 + 24 * (int)k;
		char *label = g_utf8_substring(row->label, 0, MIN(g_utf8_strlen(row->label, -1), 32));
		g_string_append_printf(s, "<text x=\"0\" y=\"%d\">", y + 15);
		html_esc(s, label);
		g_string_append_printf(s, "</text><rect x=\"200\" y=\"%d\" width=\"%d\" height=\"18\" rx=\"2\"/>"
				       "<text x=\"%d\" y=\"%d\">%" G_GINT64_FORMAT "</text>",
				       y, MAX(w, 1), 206 + MAX(w, 1), y + 15, row->count);
		g_free(label);
	}
	g_string_append(s, "</svg>\n");
}

char *tz_report_html(const struct tz_report *r)
{
	GString *s = g_string_new(NULL);

	g_string_append_printf(s, "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">"
			       "<title>textize 日次レポート %s</title>\n<style>"
			       "body{font-family:sans-serif;margin:2em;color:#222}"
			       "h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}"
			       "table{border-collapse:collapse;margin:.5em 0}"
			       "td,th{border:1px solid #ccc;padding:2px 8px}td.n{text-align:right}"
			       "svg rect{fill:#3b6ea5}svg text{font-size:12px;fill:#222}"
			       ".tot span{display:inline-block;margin-right:2em;font-size:1.2em}"
			       "</style></head><body>\n<h1>textize 無害化キュー 日次レポート / daily report %s</h1>\n"
			       "<p class=\"tot\"><span>件数 / entries: <b>%" G_GINT64_FORMAT "</b></span>"
			       "<span>添付 / parts: <b>%" G_GINT64_FORMAT "</b></span>"
			       "<span>容量 / bytes: <b>%" G_GINT64_FORMAT "</b></span></p>\n",
			       r->date, r->date, r->entries, r->parts, r->bytes);
	for (guint i = 0; i < r->sections->len; i++) {
		const struct tz_report_section *sec = g_ptr_array_index(r->sections, i);
		g_string_append_printf(s, "<section id=\"%s\"><h2>", sec->key);
		html_esc(s, sec->title);
		g_string_append(s, "</h2>\n");
		svg_bars(s, sec);
		g_string_append(s, "<table><tr><th>項目 / item</th><th>件数 / count</th></tr>\n");
		for (guint k = 0; k < sec->rows->len; k++) {
			const struct tz_report_row *row = g_ptr_array_index(sec->rows, k);
			g_string_append(s, "<tr><td>");
			html_esc(s, row->label);
			g_string_append_printf(s, "</td><td class=\"n\">%" G_GINT64_FORMAT "</td></tr>\n", row->count);
		}
		g_string_append(s, "</table></section>\n");
	}
	g_string_append(s, "</body></html>\n");
	return g_string_free(s, FALSE);
}
