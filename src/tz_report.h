/* tz_report.h — the daily report of the sanitization queue, computed from
 * the index: counts by risk flag, detected type, sender domain, top
 * recipients and part states (now), and, from the audit log, the day's
 * detections, signatures and operator actions. Rendered as
 * one self-contained HTML file (inline CSS and SVG charts, no scripts, no
 * external assets), CSV (UTF-8 with BOM, CRLF) or JSON. */
#ifndef TZ_REPORT_H
#define TZ_REPORT_H

#include <stdint.h>
#include <glib.h>
#include "textize.h"

struct tz_index;

struct tz_report_row {
	char *label;
	int64_t count;
};

struct tz_report_section {
	char *key;             /* "risk", "types", "sender_domains", "recipients", "states", "signatures" */
	char *title;           /* bilingual heading */
	GPtrArray *rows;       /* struct tz_report_row*, largest first (risk: flag order) */
};

struct tz_report {
	char date[11];         /* YYYY-MM-DD, local time */
	int64_t since, until;  /* [since, until) epoch seconds */
	int64_t entries, parts, bytes;
	int64_t bad_events;    /* audit lines that could not be read */
	GPtrArray *sections;   /* struct tz_report_section* */
};

/* The report for the local calendar day `date` (YYYY-MM-DD; NULL = today). */
struct tz_report *tz_report_daily(struct tz_index *ix, const char *date, char *err, size_t errlen);
void tz_report_free(struct tz_report *r);   /* NULL is a no-op */
void tz_report_row_free(gpointer row);

/* Add the sections "events" (detected, released, force_released,
 * released_again, force_approved, rejected, purged) and "signatures"
 * counted from the audit log records whose time falls in the report's
 * day, whatever state the parts are in now (tz_report_events.c). A
 * missing log counts nothing; 0 or -1 with err. */
int tz_report_add_events(struct tz_report *r, const char *audit_path, char *err, size_t errlen);

/* Renderings; caller g_free()s. */
char *tz_report_html(const struct tz_report *r);
char *tz_report_csv(const struct tz_report *r);
char *tz_report_json(const struct tz_report *r);

/* CSV field quoting (RFC 4180) appended to s; exposed for textizectl. */
void tz_report_csv_field(GString *s, const char *v);
/* 1 when v starts with a character that makes a spreadsheet evaluate it. */
int tz_report_csv_risky(const char *v);

#endif
