/* tz_report_events.c — the part of the daily report that counts what
 * happened that day (detections, releases, forced releases, rejections,
 * purges), read from the audit log rather than from the parts' current
 * states: a part found infected and then rejected was still found that
 * day, and the report must say so whatever the queue looks like now.
 * Records are read from the AuditLog file as it is (a rotated-away file is
 * not read); lines that do not parse are counted and reported, never
 * silently dropped. */
#define _GNU_SOURCE 1   /* timegm */
#include "tz_report.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tz_jread.h"
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

static void add(struct tz_report_section *s, const char *label, int64_t n)
{
	struct tz_report_row *row = g_new0(struct tz_report_row, 1);

	row->label = g_strdup(label);
	row->count = n;
	g_ptr_array_add(s->rows, row);
}

static struct tz_report_section *section(struct tz_report *r, const char *key, const char *title)
{
	struct tz_report_section *s = g_new0(struct tz_report_section, 1);

	s->key = g_strdup(key);
	s->title = g_strdup(title);
	s->rows = g_ptr_array_new_with_free_func(tz_report_row_free);
	g_ptr_array_add(r->sections, s);
	return s;
}

static gint by_count(gconstpointer a, gconstpointer b)
{
	const struct tz_report_row *x = *(struct tz_report_row *const *)a;
	const struct tz_report_row *y = *(struct tz_report_row *const *)b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->label, y->label);
}

int tz_report_add_events(struct tz_report *r, const char *audit_path, char *err, size_t errlen)
{
	struct counts c = { 0 };
	struct tz_report_section *s;
	GHashTableIter it;
	gpointer k, v;
	char *line = g_malloc(LINE_MAX_BYTES);
	FILE *f;

	if (audit_path == NULL || *audit_path == '\0') {
		g_free(line);
		return tz_err(err, errlen, "AuditLog is not set: the report counts events from it");
	}
	f = fopen(audit_path, "re");
	if (f == NULL && errno != ENOENT) {
		g_free(line);
		return tz_err(err, errlen, "audit log %s: %s", audit_path, strerror(errno));
	}
	c.sigs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	r->bad_events = 0;
	while (f && fgets(line, LINE_MAX_BYTES, f)) {
		size_t n = strlen(line);
		struct tz_jv *rec;
		int64_t t;
		if (n == 0 || line[n - 1] != '\n') {
			/* over-long or torn line: skip the rest of it */
			int ch;
			while (n == LINE_MAX_BYTES - 1 && (ch = fgetc(f)) != EOF && ch != '\n')
				;
			r->bad_events++;
			continue;
		}
		rec = tz_jv_parse(line, n - 1, NULL, 0);
		if (rec == NULL || parse_utc(tz_jv_str(rec, "time"), &t) < 0)
			r->bad_events++;
		else if (t >= r->since && t < r->until)
			count_record(&c, rec);
		tz_jv_free(rec);
	}
	if (f)
		fclose(f);
	g_free(line);
	s = section(r, "events", "当日の操作と検知 / Events of the day");
	add(s, "detected", c.detected);
	add(s, "released", c.released);
	add(s, "force_released", c.forced);
	add(s, "released_again", c.again);
	add(s, "force_approved", c.approved);
	add(s, "rejected", c.rejected);
	add(s, "purged", c.purged);
	s = section(r, "signatures", "検知名 / Signatures found");
	g_hash_table_iter_init(&it, c.sigs);
	while (g_hash_table_iter_next(&it, &k, &v))
		add(s, k, GPOINTER_TO_INT(v));
	g_ptr_array_sort(s->rows, by_count);
	g_hash_table_unref(c.sigs);
	return 0;
}
