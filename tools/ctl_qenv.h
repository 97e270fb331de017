/* ctl_qenv.h — what the queue, audit and report commands share: the
 * config (-c FILE, default /etc/textize/textize.conf when present), the
 * open store / audit log / index / release key, and output as a table for
 * people or CSV (UTF-8 with BOM) / JSON for scripts. */
#ifndef TZ_CTL_QENV_H
#define TZ_CTL_QENV_H

#include <stdio.h>
#include <glib.h>
#include "tz_config.h"
#include "tz_queue.h"

enum {
	CTL_NEED_STORE = 1 << 0,
	CTL_NEED_AUDIT = 1 << 1,
	CTL_NEED_INDEX = 1 << 2,
	CTL_NEED_RELEASE_KEY = 1 << 3,
	CTL_NEED_INDEX_SET = 1 << 4,    /* ReportDatabase must be set */
};

struct ctl_qenv {
	struct tz_config *cfg;
	struct tz_store *st;
	struct tz_audit *audit;
	struct tz_index *ix;
	unsigned char release_key[TZ_KEY_LEN];
	struct tz_queue q;         /* wired to the above */
	const struct tz_tenant *tenant;   /* --tenant: the view is limited to it; NULL = all */
};

struct ctl_args;
/* --tenant NAME, else $TEXTIZE_TENANT, else none: look it up in the config
 * and set e->tenant and the queue's tenant settings (the release mail's
 * NoticeContact ...). 0, or EX_CONFIG after saying the tenant is unknown. */
int ctl_qenv_tenant(struct ctl_qenv *e, const struct ctl_args *a);
/* Whether an entry stored under tenant (NULL = none) is in e's view. */
int ctl_qenv_sees(const struct ctl_qenv *e, const char *tenant);

/* Load the config (conf NULL = the default file if it exists, else the
 * built-in defaults) and open what `need` asks for. 0, or prints the error
 * and returns the exit code: EX_CONFIG (the file does not load, a key that
 * is needed is not set), EX_IOERR (the store, audit log or index does not
 * open). */
int ctl_qenv_open(struct ctl_qenv *e, const char *conf, unsigned need);
void ctl_qenv_close(struct ctl_qenv *e);

/* "table" (default), "csv" or "json"; -1 for anything else. */
enum ctl_format { CTL_FMT_TABLE = 0, CTL_FMT_CSV, CTL_FMT_JSON };
int ctl_format_parse(const char *s);

/* t as local time with its offset, "2026-12-02T09:30:00+09:00": what people
 * read everywhere (stored times stay UTC on disk and in the audit log). */
void ctl_local_time(int64_t t, char out[40]);

/* A result table: column names, then rows of strings (NULL = empty). */
struct ctl_table;
struct ctl_table *ctl_table_new(const char *const *cols);
void ctl_table_add(struct ctl_table *t, const char *const *values);
/* Mark column col as numeric: JSON prints its values as numbers. */
void ctl_table_numeric(struct ctl_table *t, const char *col);
void ctl_table_print(const struct ctl_table *t, enum ctl_format fmt, FILE *f);
void ctl_table_free(struct ctl_table *t);

struct ctl_args;
/* The operator name: --operator (validated: 1..64 printable characters, no
 * comma) or dflt (NULL: required). NULL after printing a usage error. */
const char *ctl_operator(const struct ctl_args *a, const char *dflt);

/* --out FILE of export and report: an existing file is refused
 * (EX_CANTCREAT) unless --force and it is a regular file (replaced only
 * when the new one is complete). 0 when path may be written. */
int ctl_out_check(const struct ctl_args *a, const char *path);
/* Write text to path (NULL: stdout) the way ctl_out_check allowed: under a
 * temporary name, synced, then linked (no --force: a file that appeared
 * meanwhile is not overwritten) or renamed over the old one. */
int ctl_out_write(const struct ctl_args *a, const char *path, const char *text);

#endif
