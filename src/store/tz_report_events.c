/* tz_report_events.c — the part of the daily report that counts what
 * happened that day (detections, releases, forced releases, rejections,
 * purges), read from the audit log rather than from the parts' current
 * states: a part found infected and then rejected was still found that
 * day, and the report must say so whatever the queue looks like now.
 * Records are read from the AuditLog file as it is (a rotated-away file is
 * not read), or on StoreBackend postgresql from the audit table; lines that do not parse are counted and their line numbers
 * kept for the report, never silently dropped. The day's operator actions
 * (and the sanitizer's automatic deliveries) are listed one by one. A
 * tenant's report (tz_report_daily_tenant) keeps only the records naming
 * one of the tenant's entries. */
#define _GNU_SOURCE 1   /* timegm */
#include "tz_report.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tz_jread.h"
#include "tz_meta.h"
#include "tz_pg.h"
#include "tz_util.h"

#define LINE_MAX_BYTES 16384

/* "2026-12-02T03:04:05.678Z" (the audit's UTC time) to epoch seconds. */
static int parse_utc(const char *s, int64_t *out)
{
	struct tm tm = { 0 };
	int n = 0;

	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
				&tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

/* The value of "key=" in a detail text, up to the next space. */
static char *detail_value(const char *detail, const char *key)
{
	size_t k = strlen(key);

	for (const char *p = detail; p && *p; p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL)
		if (strncmp(p, key, k) == 0 && p[k] == '=') {
			const char *v = p + k + 1;
			return g_strndup(v, strcspn(v, " "));
		}
	return NULL;
}

struct counts {
	int64_t detected, released, forced, again, rejected, purged, approved;
	GHashTable *sigs;     /* signature -> count (as pointer) */
};

static void count_record(struct counts *c, const struct tz_jv *rec)
{
	const char *ev = tz_jv_str(rec, "event"), *detail = tz_jv_str(rec, "detail");
	char *state, *sig;

	if (ev == NULL)
		return;
	if (strcmp(ev, "scanned") == 0) {
		state = detail_value(detail, "state");
		if (state && strcmp(state, "infected") == 0) {
			c->detected++;
			sig = detail_value(detail, "verdict");
			if (sig == NULL)
				sig = g_strdup("(unknown)");
			g_hash_table_insert(c->sigs, sig,
					    GINT_TO_POINTER(GPOINTER_TO_INT(g_hash_table_lookup(c->sigs, sig)) + 1));
		}
		g_free(state);
	} else if (strcmp(ev, "released") == 0) {
		c->released++;
		if (detail && strstr(detail, " FORCED"))
			c->forced++;
		if (detail && strstr(detail, " AGAIN"))
			c->again++;
	} else if (strcmp(ev, "rejected") == 0) {
		c->rejected++;
	} else if (strcmp(ev, "purged") == 0) {
		c->purged++;
	} else if (strcmp(ev, "approved") == 0) {
		c->approved++;
	}
}

/* The audit events that are an operator's decision (or the sanitizer's
 * automatic delivery), listed in the report's table of actions. */
static int is_action(const char *ev)
{
	static const char *const acts[] = { "released", "release_requested", "approved", "rejected",
					    "purged", "exported" };

	for (size_t i = 0; i < G_N_ELEMENTS(acts); i++)
		if (strcmp(ev, acts[i]) == 0)
			return 1;
	return 0;
}

static void add_action(struct tz_report *r, const struct tz_jv *rec, int64_t t)
{
	const char *ev = tz_jv_str(rec, "event");
	struct tz_report_action *a;

	if (ev == NULL || !is_action(ev))
		return;
	if (r->actions->len >= TZ_REPORT_MAX_ACTIONS) {
		r->actions_left_off++;
		return;
	}
	a = g_new0(struct tz_report_action, 1);
	a->time = t;
	a->event = g_strdup(ev);
	a->operator_name = g_strdup(tz_jv_str(rec, "operator"));
	a->id = g_strdup(tz_jv_str(rec, "id"));
	a->part = (unsigned)tz_jv_int(rec, "part", 0);
	a->detail = g_strdup(tz_jv_str(rec, "detail"));
	g_ptr_array_add(r->actions, a);
}

static void bad_line(struct tz_report *r, int64_t lineno)
{
	r->bad_events++;
	if (r->bad_lines->len < TZ_REPORT_MAX_BAD_LINES)
		g_array_append_val(r->bad_lines, lineno);
}

static gint by_count(gconstpointer a, gconstpointer b)
{
	const struct tz_report_row *x = *(struct tz_report_row *const *)a;
	const struct tz_report_row *y = *(struct tz_report_row *const *)b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->label, y->label);
}

/* Whether a record belongs in r: all do in everyone's report; a tenant's
 * report keeps only those naming one of the tenant's entries, so records
 * tied to no entry (breaker, sender list) and other tenants' are left out. */
static int of_tenant(const struct tz_report *r, const struct tz_jv *rec)
{
	const char *id;

	if (r->tenant_ids == NULL)
		return 1;
	id = tz_jv_str(rec, "id");
	return id != NULL && g_hash_table_contains(r->tenant_ids, id);
}

/* The records, one line each, from a source: the AuditLog file or the
 * shared database's audit table. next() puts the next record (without its
 * newline; NULL with len 0 for a torn or over-long line, counted bad)
 * and returns 1, or 0 at the end, -1 on error. */
typedef int (*record_fn)(void *ctx, const char **line, size_t *len, char *err, size_t errlen);

static int count_records(struct tz_report *r, record_fn next, void *ctx, char *err, size_t errlen)
{
	struct counts c = { 0 };
	struct tz_report_section *s;
	GHashTableIter it;
	gpointer k, v;
	int64_t lineno = 0;
	const char *line;
	size_t n;
	int rc;

	c.sigs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	r->bad_events = 0;
	g_array_set_size(r->bad_lines, 0);
	while ((rc = next(ctx, &line, &n, err, errlen)) == 1) {
		struct tz_jv *rec;
		int64_t t;
		lineno++;
		if (line == NULL) {
			bad_line(r, lineno);
			continue;
		}
		rec = tz_jv_parse(line, n, NULL, 0);
		if (rec == NULL || parse_utc(tz_jv_str(rec, "time"), &t) < 0) {
			bad_line(r, lineno);
		} else if (t >= r->since && t < r->until && of_tenant(r, rec)) {
			count_record(&c, rec);
			add_action(r, rec, t);
		}
		tz_jv_free(rec);
	}
	if (rc < 0) {
		g_hash_table_unref(c.sigs);
		return -1;
	}
	s = tz_report_add_section(r, "events", "当日の検知と操作(件数)");
	tz_report_add_row(s, "detected", c.detected);
	tz_report_add_row(s, "released", c.released);
	tz_report_add_row(s, "force_released", c.forced);
	tz_report_add_row(s, "released_again", c.again);
	tz_report_add_row(s, "force_approved", c.approved);
	tz_report_add_row(s, "rejected", c.rejected);
	tz_report_add_row(s, "purged", c.purged);
	s = tz_report_add_section(r, "signatures", "検知名(上位 " G_STRINGIFY(TZ_REPORT_TOP_N) ")");
	g_hash_table_iter_init(&it, c.sigs);
	while (g_hash_table_iter_next(&it, &k, &v))
		tz_report_add_row(s, k, GPOINTER_TO_INT(v));
	g_ptr_array_sort(s->rows, by_count);
	/* the most frequent ones, like the other top lists */
	if (s->rows->len > TZ_REPORT_TOP_N)
		g_ptr_array_set_size(s->rows, TZ_REPORT_TOP_N);
	g_hash_table_unref(c.sigs);
	return 0;
}

/* The AuditLog file's lines. */
struct file_src {
	FILE *f;
	char *buf;
};

static int file_next(void *ctx, const char **line, size_t *len, char *err, size_t errlen)
{
	struct file_src *fs = ctx;
	size_t n;

	(void)err;
	(void)errlen;
	if (fs->f == NULL || !fgets(fs->buf, LINE_MAX_BYTES, fs->f))
		return 0;
	n = strlen(fs->buf);
	if (n == 0 || fs->buf[n - 1] != '\n') {
		/* over-long or torn line: skip the rest of it */
		int ch;
		while (n == LINE_MAX_BYTES - 1 && (ch = fgetc(fs->f)) != EOF && ch != '\n')
			;
		*line = NULL;
		*len = 0;
		return 1;
	}
	*line = fs->buf;
	*len = n - 1;
	return 1;
}

int tz_report_add_events(struct tz_report *r, const char *audit_path, char *err, size_t errlen)
{
	struct file_src fs = { NULL, NULL };
	int rc;

	if (audit_path == NULL || *audit_path == '\0')
		return tz_err(err, errlen, "AuditLog is not set: the report counts events from it");
	fs.f = fopen(audit_path, "re");
	if (fs.f == NULL && errno != ENOENT)
		return tz_err(err, errlen, "audit log %s: %s", audit_path, strerror(errno));
	fs.buf = g_malloc(LINE_MAX_BYTES);
	rc = count_records(r, file_next, &fs, err, errlen);
	if (fs.f)
		fclose(fs.f);
	g_free(fs.buf);
	return rc;
}

/* The shared database's audit records of the day (and a little either
 * side: the time in a record is when it was formatted, the filter is on
 * its text), in seq order. */
struct pg_src {
	PGresult *res;
	int row;
};

static int pg_next(void *ctx, const char **line, size_t *len, char *err, size_t errlen)
{
	struct pg_src *ps = ctx;

	(void)err;
	(void)errlen;
	if (ps->row >= PQntuples(ps->res))
		return 0;
	*line = PQgetvalue(ps->res, ps->row, 0);
	*len = (size_t)PQgetlength(ps->res, ps->row, 0);
	ps->row++;
	return 1;
}

int tz_report_add_events_db(struct tz_report *r, const char *url, char *err, size_t errlen)
{
	PGconn *c = tz_pg_open(url, "textize-report", err, errlen);
	char since[40], until[40];
	const char *const v[] = { since, until };
	struct pg_src ps = { NULL, 0 };
	int rc = -1;

	if (c == NULL)
		return -1;
	/* whole UTC days around the local day: the exact cut is count_records' */
	tz_meta_iso_time(r->since - 86400, since, sizeof(since));
	tz_meta_iso_time(r->until + 86400, until, sizeof(until));
	ps.res = PQexecParams(c, "SELECT record FROM audit WHERE substring(record FROM"
			      " '\"time\":\"([^\"]*)\"') BETWEEN $1 AND $2 ORDER BY seq", 2, NULL, v,
			      NULL, NULL, 0);
	if (PQresultStatus(ps.res) != PGRES_TUPLES_OK)
		tz_pg_fail(c, "report: audit records", err, errlen);
	else
		rc = count_records(r, pg_next, &ps, err, errlen);
	PQclear(ps.res);
	PQfinish(c);
	return rc;
}
