/* tz_index.h — the SQLite index of the quarantine (ReportDatabase, WAL):
 * a query cache over the entries on disk, never the truth. The milter adds
 * entries through one tz_index_writer (a long-lived connection, bounded
 * retries); an entry it could not add is logged, and textizectl catches up
 * (entries on disk missing from the index) before it answers, and
 * `queue reindex` rebuilds the index from nothing. With StoreBackend
 * postgresql the same functions work on the shared database: every
 * function that takes a path also takes a libpq URI (tz_pg_is_url), and
 * tz_index_db() is then NULL. */
#ifndef TZ_INDEX_H
#define TZ_INDEX_H

#include <stdint.h>
#include <glib.h>
#include <sqlite3.h>
#include "textize.h"
#include "tz_meta.h"

struct tz_index;

/* Open (creating the schema; on PostgreSQL, checking its version) the
 * database at path or URI. busy_ms: how long to wait for a
 * lock (the milter uses a few hundred ms at most). NULL + err on failure. */
struct tz_index *tz_index_open(const char *path, int busy_ms, char *err, size_t errlen);
void tz_index_free(struct tz_index *ix);     /* NULL is a no-op */

/* Insert or replace everything known about one entry. */
int tz_index_update(struct tz_index *ix, const struct tz_meta *m, char *err, size_t errlen);
int tz_index_remove(struct tz_index *ix, const char *id, char *err, size_t errlen);

/* Remove every row (queue reindex starts from nothing). 0 or -1. */
int tz_index_clear(struct tz_index *ix, char *err, size_t errlen);
/* The ids the index holds (a set of char*, owned by the table), or NULL
 * on error. tz_index_sync (tz_store_link.h) compares it with the store. */
GHashTable *tz_index_ids(struct tz_index *ix, char *err, size_t errlen);

/* `queue list` filters; NULL / 0 = no condition. */
struct tz_index_filter {
	int64_t since, until;     /* stored_time range [since, until) */
	const char *from;         /* substring of the envelope sender, case-insensitive */
	const char *rcpt;         /* substring of a recipient */
	unsigned flag;            /* TZ_RISK_* bits: any of them set */
	const char *state;        /* part state */
	const char *tenant;       /* only this tenant's entries (exact name) */
};

/* One row per part (an entry without parts gives one row with part 0). */
struct tz_index_row {
	char *id, *stored_at, *sender, *rcpts, *subject;
	unsigned part;
	char *filename, *detected_type, *state, *verdict, *sha256;
	uint64_t size;
	unsigned risk;
	char *ref;                /* 参照番号, NULL for entries stored before it existed */
	int64_t stored_time;      /* epoch seconds */
	char *reason, *declared_type;   /* tz_part_reason_name(); the sender's MIME type */
	char *tenant;             /* NULL = stored under no tenant */
};

void tz_index_row_free(struct tz_index_row *r);
/* Rows in id, part order; caller unrefs the array (frees the rows). */
int tz_index_query(struct tz_index *ix, const struct tz_index_filter *f, GPtrArray **rows,
		   char *err, size_t errlen);

/* The connection, for reports (read-only use). */
sqlite3 *tz_index_db(struct tz_index *ix);

/* ---- the milter's writer: one connection shared by every thread ----
 *
 * Opened on first use (so after the daemon has forked and dropped
 * privileges), reopened when the database file is deleted or replaced.
 * Threads take turns on a mutex; WAL with synchronous=NORMAL (derived
 * data: see tz_index.c). A busy database (textizectl or the scanner
 * writing) is retried with the mutex released, after 2, 4, 8 ... ms, for
 * at most budget_ms in all; then the add fails. */
#define TZ_INDEX_FIRST_BACKOFF_MS 2
#define TZ_INDEX_WRITER_BUDGET_MS 250

struct tz_index_writer;

struct tz_index_writer *tz_index_writer_new(const char *path, unsigned budget_ms);
void tz_index_writer_free(struct tz_index_writer *w);   /* NULL is a no-op */

/* Insert or replace the rows of the entries m[0..n) in one transaction;
 * thread-safe. 0, or -1 with err (what failed last, how many tries, how
 * long) once the budget is spent: then none of them was added. */
int tz_index_writer_add(struct tz_index_writer *w, const struct tz_meta *const *m, size_t n,
			char *err, size_t errlen);

#endif
