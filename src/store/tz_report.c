/* tz_report.c — daily report: SQL over the index (counts, the day's
 * stripped files, the 参照番号 of audited entries), and the CSV and JSON
 * renderings. The HTML is tz_report_html.c, the audit side
 * tz_report_events.c, the words tz_report_words.c. */
#include "tz_report.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tz_index.h"
#include "tz_index_int.h"
#include "tz_pg.h"
#include "tz_localtime.h"
#include "tz_meta.h"
#include "tz_notice.h"
#include "tz_part.h"
#include "tz_util.h"


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

static void item_free(gpointer p)
{
	tz_index_row_free(p);
}

static void action_free(gpointer p)
{
	struct tz_report_action *a = p;

	g_free(a->event);
	g_free(a->operator_name);
	g_free(a->id);
	g_free(a->ref);
	g_free(a->detail);
	g_free(a);
}

void tz_report_free(struct tz_report *r)
{
	if (r == NULL)
		return;
	g_ptr_array_unref(r->sections);
	g_ptr_array_unref(r->items);
	g_ptr_array_unref(r->actions);
	g_array_unref(r->bad_lines);
	if (r->tenant_ids)
		g_hash_table_unref(r->tenant_ids);
	g_free(r->tenant);
	g_free(r);
}

struct tz_report_section *tz_report_add_section(struct tz_report *r, const char *key, const char *title)
{
	struct tz_report_section *s = g_new0(struct tz_report_section, 1);

	s->key = g_strdup(key);
	s->title = g_strdup(title);
	s->rows = g_ptr_array_new_with_free_func(tz_report_row_free);
	g_ptr_array_add(r->sections, s);
	return s;
}

void tz_report_add_row(struct tz_report_section *s, const char *label, int64_t count)
{
	struct tz_report_row *row = g_new0(struct tz_report_row, 1);

	row->label = g_strdup(label && *label ? label : "(none)");
	row->count = count;
	g_ptr_array_add(s->rows, row);
}

/* The report's queries are written for SQLite (?1, ?2: the day range, ?3
 * the tenant or '' for all); on the shared database the same text runs
 * with $1, $2, $3. */
static PGresult *pg_day(struct tz_index *ix, const char *sql, const struct tz_report *r)
{
	char *pgsql = g_strdup(sql), since[32], until[32], *p;
	const char *const v[] = { since, until, r->tenant ? r->tenant : "" };
	PGresult *res;

	for (p = pgsql; (p = strchr(p, '?')) != NULL; p++)
		*p = '$';
	snprintf(since, sizeof(since), "%lld", (long long)r->since);
	snprintf(until, sizeof(until), "%lld", (long long)r->until);
	res = PQexecParams(ix->pg, pgsql, 3, NULL, v, NULL, NULL, 0);
	g_free(pgsql);
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		return res;
	PQclear(res);
	return NULL;
}

/* Run a "label, count" query bound to the day range into a section. */
static int fill(struct tz_index *ix, struct tz_report *r, struct tz_report_section *s, const char *sql)
{
	sqlite3 *db = tz_index_db(ix);
	sqlite3_stmt *st = NULL;
	int rc;

	if (db == NULL) {
		PGresult *res = pg_day(ix, sql, r);
		for (int i = 0; res && i < PQntuples(res); i++)
			tz_report_add_row(s, PQgetisnull(res, i, 0) ? NULL : PQgetvalue(res, i, 0),
					  g_ascii_strtoll(PQgetvalue(res, i, 1), NULL, 10));
		rc = res ? 0 : -1;
		PQclear(res);
		return rc;
	}
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, r->since);
	sqlite3_bind_int64(st, 2, r->until);
	sqlite3_bind_text(st, 3, r->tenant ? r->tenant : "", -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		tz_report_add_row(s, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int day_range(struct tz_report *r, const char *date, char *err, size_t errlen)
{
	struct tm tm;
	time_t now = time(NULL);
	char today[16];

	if (date == NULL) {
		localtime_r(&now, &tm);
		strftime(today, sizeof(today), "%Y-%m-%d", &tm);
		date = today;
	}
	/* one local day: its midnight to the next (tz_local_date_parse) */
	if (strlen(date) != 10 || tz_local_date_parse(date, 0, &r->since) < 0 ||
	    tz_local_date_parse(date, 1, &r->until) < 0)
		return tz_err(err, errlen, "bad date %s (want YYYY-MM-DD)", date);
	now = (time_t)r->since;
	localtime_r(&now, &tm);
	strftime(r->date, sizeof(r->date), "%Y-%m-%d", &tm);
	return 0;
}

/* The day, and the tenant when there is one (the typed use of ?3 first,
 * so that PostgreSQL infers text for it). */
#define IN_DAY " e.stored_time >= ?1 AND e.stored_time < ?2 AND (e.tenant = ?3 OR ?3 = '') "

#define TOTALS "SELECT (SELECT count(*) FROM entries e WHERE" IN_DAY ")," \
	" count(p.idx), coalesce(sum(p.size),0) FROM parts p JOIN entries e ON e.id = p.id" \
	" WHERE" IN_DAY

static int totals(struct tz_index *ix, struct tz_report *r)
{
	sqlite3 *db = tz_index_db(ix);
	sqlite3_stmt *st = NULL;
	int ok;

	if (db == NULL) {
		PGresult *res = pg_day(ix, TOTALS, r);
		ok = res && PQntuples(res) == 1;
		if (ok) {
			r->entries = g_ascii_strtoll(PQgetvalue(res, 0, 0), NULL, 10);
			r->parts = g_ascii_strtoll(PQgetvalue(res, 0, 1), NULL, 10);
			r->bytes = g_ascii_strtoll(PQgetvalue(res, 0, 2), NULL, 10);
		}
		PQclear(res);
		return ok ? 0 : -1;
	}
	ok = sqlite3_prepare_v2(db, TOTALS, -1, &st, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_int64(st, 1, r->since);
		sqlite3_bind_int64(st, 2, r->until);
		sqlite3_bind_text(st, 3, r->tenant ? r->tenant : "", -1, SQLITE_TRANSIENT);
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

static char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *v = sqlite3_column_text(st, i);

	return v ? g_strdup((const char *)v) : NULL;
}

/* The day's stripped files (tz_index_query, as `queue list` shows them);
 * at most TZ_REPORT_MAX_ITEMS kept, the rest counted. */
static int items(struct tz_index *ix, struct tz_report *r)
{
	struct tz_index_filter f = { .since = r->since, .until = r->until, .tenant = r->tenant };
	GPtrArray *rows = NULL;
	char err[TZ_ERRLEN];

	if (tz_index_query(ix, &f, &rows, err, sizeof(err)) < 0) {
		g_ptr_array_unref(rows);
		return -1;
	}
	if (rows->len > TZ_REPORT_MAX_ITEMS) {
		r->items_left_off = rows->len - TZ_REPORT_MAX_ITEMS;
		g_ptr_array_set_size(rows, TZ_REPORT_MAX_ITEMS);
	}
	g_ptr_array_unref(r->items);
	r->items = rows;
	return 0;
}

/* The shared database: one lookup per action (a day's actions are few). */
static int pg_refs(struct tz_report *r, struct tz_index *ix)
{
	for (guint i = 0; i < r->actions->len; i++) {
		struct tz_report_action *a = g_ptr_array_index(r->actions, i);
		const char *const v[] = { a->id };
		PGresult *res;
		if (a->id == NULL)
			continue;
		res = PQexecParams(ix->pg, "SELECT ref FROM entries WHERE id = $1", 1, NULL, v, NULL,
				   NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			PQclear(res);
			return -1;
		}
		if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
			g_free(a->ref);
			a->ref = g_strdup(PQgetvalue(res, 0, 0));
		}
		PQclear(res);
	}
	return 0;
}

int tz_report_add_refs(struct tz_report *r, struct tz_index *ix)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (tz_index_db(ix) == NULL && ix->pg != NULL)
		return pg_refs(r, ix);
	if (tz_index_db(ix) == NULL ||
	    sqlite3_prepare_v2(tz_index_db(ix), "SELECT ref FROM entries WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	for (guint i = 0; i < r->actions->len && rc == 0; i++) {
		struct tz_report_action *a = g_ptr_array_index(r->actions, i);
		if (a->id == NULL)
			continue;
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, a->id, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			g_free(a->ref);
			a->ref = col(st, 0);
		}
		rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
	}
	sqlite3_finalize(st);
	return rc;
}

struct tz_report *tz_report_new(const char *date, char *err, size_t errlen)
{
	struct tz_report *r = g_new0(struct tz_report, 1);

	r->sections = g_ptr_array_new_with_free_func(section_free);
	r->items = g_ptr_array_new_with_free_func(item_free);
	r->actions = g_ptr_array_new_with_free_func(action_free);
	r->bad_lines = g_array_new(FALSE, FALSE, sizeof(int64_t));
	if (day_range(r, date, err, errlen) < 0) {
		tz_report_free(r);
		return NULL;
	}
	return r;
}

/* The ids of all the tenant's entries in the index (any day: the day's
 * audit records also concern older entries), for tz_report_add_events. */
static int tenant_ids(struct tz_index *ix, struct tz_report *r)
{
	sqlite3 *db = tz_index_db(ix);
	sqlite3_stmt *st = NULL;
	int rc;

	r->tenant_ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	if (db == NULL) {
		const char *const v[] = { r->tenant };
		PGresult *res = PQexecParams(ix->pg, "SELECT id FROM entries WHERE tenant = $1", 1, NULL, v,
					     NULL, NULL, 0);
		rc = PQresultStatus(res) == PGRES_TUPLES_OK ? 0 : -1;
		for (int i = 0; rc == 0 && i < PQntuples(res); i++)
			g_hash_table_add(r->tenant_ids, g_strdup(PQgetvalue(res, i, 0)));
		PQclear(res);
		return rc;
	}
	if (sqlite3_prepare_v2(db, "SELECT id FROM entries WHERE tenant = ?1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, r->tenant, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		g_hash_table_add(r->tenant_ids, col(st, 0));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

struct tz_report *tz_report_daily(struct tz_index *ix, const char *date, char *err, size_t errlen)
{
	return tz_report_daily_tenant(ix, date, NULL, err, errlen);
}

struct tz_report *tz_report_daily_tenant(struct tz_index *ix, const char *date, const char *tenant,
					 char *err, size_t errlen)
{
	struct tz_report *r;
	sqlite3 *db = tz_index_db(ix);
	struct tz_report_section *s;
	int bad = 0;

	if (db == NULL && ix->pg == NULL) {
		tz_err(err, errlen, "report: no index");
		return NULL;
	}
	r = tz_report_new(date, err, errlen);
	if (r == NULL)
		return NULL;
	r->tenant = g_strdup(tenant);
	if (tenant)
		bad |= tenant_ids(ix, r);
	bad |= totals(ix, r);
	s = tz_report_add_section(r, "risk", "危険の兆候(ファイル数)");
	for (unsigned b = 0; b < TZ_RISK_COUNT && !bad; b++) {
		char *sql = g_strdup_printf("SELECT '%s', count(*) FROM parts p JOIN entries e ON e.id = p.id"
					    " WHERE" IN_DAY "AND (p.risk & %u) != 0", tz_risk_name(1u << b), 1u << b);
		bad |= fill(ix, r, s, sql);
		g_free(sql);
	}
	bad |= fill(ix, r, tz_report_add_section(r, "types", "ファイルの種類(内容から判定)"),
		    "SELECT coalesce(p.detected_type, 'unknown'), count(*) FROM parts p JOIN entries e ON e.id = p.id"
		    " WHERE" IN_DAY "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT " G_STRINGIFY(TZ_REPORT_TOP_N));
	bad |= fill(ix, r, tz_report_add_section(r, "sender_domains", "差出人のドメイン(メール数)"),
		    "SELECT e.sender_domain, count(*) FROM entries e WHERE" IN_DAY
		    "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT " G_STRINGIFY(TZ_REPORT_TOP_N));
	bad |= fill(ix, r, tz_report_add_section(r, "recipients", "宛先の上位(メール数)"),
		    "SELECT lower(r.addr), count(*) FROM rcpts r JOIN entries e ON e.id = r.id WHERE" IN_DAY
		    "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10");
	bad |= fill(ix, r, tz_report_add_section(r, "states", "ファイルの現在の状態"),
		    "SELECT p.state, count(*) FROM parts p JOIN entries e ON e.id = p.id WHERE" IN_DAY
		    "GROUP BY 1 ORDER BY 2 DESC, 1");
	bad |= items(ix, r);
	if (bad) {
		tz_err(err, errlen, "report query failed: %s",
		       db ? sqlite3_errmsg(db) : PQerrorMessage(ix->pg));
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

void tz_report_csv_cell(GString *s, const char *v)
{
	char *shown = tz_report_visible(v);

	tz_report_csv_field(s, shown);
	g_free(shown);
}

/* One row per stripped file of the day, for Excel users in Japan: UTF-8
 * with BOM, CRLF, Japanese headers and names, local times Excel reads as
 * dates, sizes as plain numbers; every text cell quoted and neutralised
 * like the queue exports (tz_report_csv_field). */
char *tz_report_csv(const struct tz_report *r)
{
	GString *s = g_string_new("\xEF\xBB\xBF" "受信日時,参照番号,差出人,宛先,件名,番号,ファイル名,種類,理由,"
				  "サイズ(バイト),危険の兆候,状態,検知名,MIME タイプ,エントリ ID\r\n");

	for (guint i = 0; i < r->items->len; i++) {
		const struct tz_index_row *it = g_ptr_array_index(r->items, i);
		char when[20], *risks = tz_report_risks(it->risk), *ref = NULL;
		const char *cells[] = {
			it->filename,
			it->part ? tz_notice_kind(TZ_NOTICE_JA, it->detected_type, it->declared_type) : "",
		};

		tz_report_local_time(it->stored_time, when);
		ref = it->ref && it->part ? g_strdup_printf("%s#%u", it->ref, it->part) : g_strdup(it->ref);
		g_string_append_printf(s, "%s,", when);
		tz_report_csv_cell(s, ref);
		g_string_append_c(s, ',');
		tz_report_csv_cell(s, it->sender);
		g_string_append_c(s, ',');
		tz_report_csv_cell(s, it->rcpts);
		g_string_append_c(s, ',');
		tz_report_csv_cell(s, it->subject);
		g_string_append_printf(s, ",%u,", it->part);
		tz_report_csv_cell(s, cells[0]);
		g_string_append_c(s, ',');
		tz_report_csv_cell(s, cells[1]);
		g_string_append_c(s, ',');
		tz_report_csv_cell(s, it->part ? tz_report_reason_name(it->reason) : "");
		g_string_append_printf(s, ",%" G_GUINT64_FORMAT ",", it->size);
		tz_report_csv_cell(s, risks);
		g_string_append_c(s, ',');
		tz_report_csv_cell(s, it->part ? tz_report_state_name(it->state) : "");
		g_string_append_c(s, ',');
		tz_report_csv_cell(s, it->verdict && strcmp(it->verdict, "OK") != 0 ? it->verdict : "");
		g_string_append_c(s, ',');
		tz_report_csv_cell(s, it->detected_type);
		g_string_append_c(s, ',');
		tz_report_csv_cell(s, it->id);
		g_string_append(s, "\r\n");
		g_free(risks);
		g_free(ref);
	}
	/* Past the cap a reader must not take the sheet for the whole day. */
	if (r->items_left_off > 0)
		g_string_append_printf(s, "\"（ほかに %" G_GINT64_FORMAT " 件のファイルがありますが、"
				       "この CSV には含まれていません。上限 %d 件）\"\r\n",
				       r->items_left_off, TZ_REPORT_MAX_ITEMS);
	return g_string_free(s, FALSE);
}

/* ,"name":"v" (or null). */
static void jfield(GString *s, const char *name, const char *v)
{
	g_string_append_printf(s, ",\"%s\":", name);
	if (v == NULL)
		g_string_append(s, "null");
	else
		tz_meta_json_str(s, v);
}

static void json_items(GString *s, const struct tz_report *r)
{
	g_string_append(s, ",\"items\":[");
	for (guint i = 0; i < r->items->len; i++) {
		const struct tz_index_row *it = g_ptr_array_index(r->items, i);
		char *risk = tz_risk_string(it->risk);
		g_string_append_printf(s, "%s{\"time\":%" G_GINT64_FORMAT, i ? "," : "", it->stored_time);
		jfield(s, "id", it->id);
		jfield(s, "ref", it->ref);
		jfield(s, "sender", it->sender);
		jfield(s, "rcpts", it->rcpts);
		jfield(s, "subject", it->subject);
		g_string_append_printf(s, ",\"part\":%u", it->part);
		jfield(s, "filename", it->filename);
		jfield(s, "reason", it->reason);
		jfield(s, "declared_type", it->declared_type);
		jfield(s, "detected_type", it->detected_type);
		g_string_append_printf(s, ",\"size\":%" G_GUINT64_FORMAT, it->size);
		jfield(s, "risk", risk);
		jfield(s, "state", it->state);
		jfield(s, "verdict", it->verdict);
		g_string_append_c(s, '}');
		g_free(risk);
	}
	g_string_append_printf(s, "],\"items_left_off\":%" G_GINT64_FORMAT ",\"actions\":[", r->items_left_off);
	for (guint i = 0; i < r->actions->len; i++) {
		const struct tz_report_action *a = g_ptr_array_index(r->actions, i);
		g_string_append_printf(s, "%s{\"time\":%" G_GINT64_FORMAT, i ? "," : "", a->time);
		jfield(s, "event", a->event);
		jfield(s, "operator", a->operator_name);
		jfield(s, "id", a->id);
		jfield(s, "ref", a->ref);
		g_string_append_printf(s, ",\"part\":%u", a->part);
		jfield(s, "detail", a->detail);
		g_string_append_c(s, '}');
	}
	g_string_append_printf(s, "],\"actions_left_off\":%" G_GINT64_FORMAT, r->actions_left_off);
}

char *tz_report_json(const struct tz_report *r)
{
	GString *s = g_string_new(NULL);

	g_string_append_printf(s, "{\"date\":\"%s\",\"since\":%" G_GINT64_FORMAT ",\"until\":%" G_GINT64_FORMAT
			       ",\"entries\":%" G_GINT64_FORMAT ",\"parts\":%" G_GINT64_FORMAT
			       ",\"bytes\":%" G_GINT64_FORMAT ",\"unreadable_audit_records\":%" G_GINT64_FORMAT,
			       r->date, r->since, r->until, r->entries, r->parts, r->bytes, r->bad_events);
	if (r->tenant) {   /* only in a tenant's report: everyone's stays as it was */
		g_string_append(s, ",\"tenant\":");
		tz_meta_json_str(s, r->tenant);
	}
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
	json_items(s, r);
	g_string_append(s, "}\n");
	return g_string_free(s, FALSE);
}

