/* tz_report.h — the daily report of the sanitization queue, computed from
 * the index: counts by risk flag, detected type, sender domain, top
 * recipients and part states (now), the day's stripped files one by one,
 * and, from the audit log, the day's detections, signatures and operator
 * actions. Rendered as one self-contained HTML file in Japanese (inline CSS
 * and SVG charts, no scripts, no external assets; tz_report_html.c), CSV
 * for Excel (UTF-8 with BOM, CRLF, one row per stripped file, local times)
 * or JSON (machine tokens, UTC epoch seconds). Words staff read come from
 * tz_report_words.c; the JSON keeps the stable tokens. */
#ifndef TZ_REPORT_H
#define TZ_REPORT_H

#include <stdint.h>
#include <glib.h>
#include "textize.h"

struct tz_index;

#define TZ_REPORT_TOP_N 15          /* rows of the types, domains and signatures tables */
#define TZ_REPORT_MAX_ITEMS 20000   /* stripped files listed (CSV, JSON); more are counted */
#define TZ_REPORT_MAX_ACTIONS 5000  /* operator actions listed; more are counted */
#define TZ_REPORT_MAX_BAD_LINES 100 /* line numbers of unreadable audit records kept */

struct tz_report_row {
	char *label;           /* machine token or data (JSON); shown via tz_report_label() */
	int64_t count;
};

struct tz_report_section {
	char *key;             /* "risk", "types", "sender_domains", "recipients", "states",
				  "events", "signatures" */
	char *title;           /* Japanese heading */
	GPtrArray *rows;       /* struct tz_report_row*, largest first (risk, events: fixed order) */
};

/* One audit record of an operator's (or the sanitizer's automatic) action
 * that day: released, release_requested, approved, rejected, purged,
 * exported. ref is filled by tz_report_add_refs(). */
struct tz_report_action {
	int64_t time;
	char *event, *operator_name, *id, *ref, *detail;
	unsigned part;
};

struct tz_report {
	char date[11];         /* YYYY-MM-DD, local time */
	int64_t since, until;  /* [since, until) epoch seconds */
	int64_t entries, parts, bytes;
	int64_t bad_events;    /* audit lines that could not be read */
	GArray *bad_lines;     /* int64_t line numbers of those, the first TZ_REPORT_MAX_BAD_LINES */
	GPtrArray *sections;   /* struct tz_report_section* */
	GPtrArray *items;      /* struct tz_index_row* (tz_index.h): the day's stripped files,
				  one row per file (part 0: an entry without files), by id */
	int64_t items_left_off;
	GPtrArray *actions;    /* struct tz_report_action*, in log order */
	int64_t actions_left_off;
	char *tenant;          /* NULL: everyone's; else only this tenant's entries and the
				  audit events of those entries (tz_report_daily_tenant) */
	GHashTable *tenant_ids; /* the tenant's entry ids in the index, any day; NULL = all */
};

/* The report for the local calendar day `date` (YYYY-MM-DD; NULL = today). */
struct tz_report *tz_report_daily(struct tz_index *ix, const char *date, char *err, size_t errlen);
/* The same limited to tenant (NULL = tz_report_daily): counts and files of
 * the tenant's entries only, and tz_report_add_events then keeps only the
 * records of entries of that tenant still in the index (records tied to no
 * entry, e.g. a breaker reset or a sender-list change, are left out). */
struct tz_report *tz_report_daily_tenant(struct tz_index *ix, const char *date, const char *tenant,
					 char *err, size_t errlen);
/* An empty report for that day (sections, files and actions to be added);
 * NULL with err for a bad date. */
struct tz_report *tz_report_new(const char *date, char *err, size_t errlen);
void tz_report_free(struct tz_report *r);   /* NULL is a no-op */
void tz_report_row_free(gpointer row);
/* A new section appended to r (rows empty). */
struct tz_report_section *tz_report_add_section(struct tz_report *r, const char *key, const char *title);
void tz_report_add_row(struct tz_report_section *s, const char *label, int64_t count);

/* Add the sections "events" (detected, released, force_released,
 * released_again, force_approved, rejected, purged) and "signatures" (the
 * TZ_REPORT_TOP_N most frequent) counted from the audit log records whose
 * time falls in the report's day, whatever state the parts are in now, and
 * the day's operator actions (tz_report_events.c). A missing log counts
 * nothing; 0 or -1 with err. */
int tz_report_add_events(struct tz_report *r, const char *audit_path, char *err, size_t errlen);
/* The same from the shared database's audit table (StoreBackend
 * postgresql, DatabaseURL url). 0 or -1 with err. */
int tz_report_add_events_db(struct tz_report *r, const char *url, char *err, size_t errlen);
/* Fill the 参照番号 of the actions from the index (entries of other days
 * too). 0 or -1. */
int tz_report_add_refs(struct tz_report *r, struct tz_index *ix);

/* Renderings; caller g_free()s. */
char *tz_report_html(const struct tz_report *r);
char *tz_report_csv(const struct tz_report *r);
char *tz_report_json(const struct tz_report *r);

/* CSV field quoting (RFC 4180) appended to s; exposed for textizectl. */
void tz_report_csv_field(GString *s, const char *v);
/* A text cell as people will see it: tz_report_visible (no controls, no
 * bidi overrides, valid UTF-8), then tz_report_csv_field. Every CSV
 * textizectl writes (the report, queue list) uses this for its cells. */
void tz_report_csv_cell(GString *s, const char *v);
/* 1 when v starts with a character that makes a spreadsheet evaluate it. */
int tz_report_csv_risky(const char *v);

/* ---- words (tz_report_words.c) ---- */

/* What a row of section `key` is called in the HTML and CSV views: the
 * Japanese name of a state, risk flag, event or type; sender data as it
 * is. g_free(). */
char *tz_report_label(const char *key, const char *label);
/* Japanese names of a part state ("検査待ち"), an action ("送付"), and a
 * risk bit set ("実行ファイル、二重拡張子"; "" when none; g_free()). */
const char *tz_report_state_name(const char *state);
const char *tz_report_reason_name(const char *reason);   /* tz_part_reason_name() token */
const char *tz_report_action_name(const struct tz_report_action *a);
char *tz_report_action_note(const struct tz_report_action *a);   /* g_free() */
char *tz_report_risks(unsigned risk);
/* "812 バイト", "2.2 KB", "1.4 MB". g_free(). */
char *tz_report_size(int64_t bytes);
/* Local time "YYYY/MM/DD HH:MM:SS" (what Excel reads as a date) into out. */
void tz_report_local_time(int64_t t, char out[20]);
/* v as shown (HTML, CSV): invalid UTF-8, controls and format characters
 * (bidi overrides that would disguise "gpj.exe" as "exe.jpg") become
 * U+FFFD, visibly. g_free(). */
char *tz_report_visible(const char *v);
/* Width in pixels of s in a font of px pixels: full width for East Asian
 * wide characters, a generous 0.62 em for the rest. */
int tz_report_text_px(const char *s, int px);

#endif
