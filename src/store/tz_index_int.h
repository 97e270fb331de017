/* tz_index_int.h — the index's interface, shared by its two
 * implementations: SQLite (tz_index.c, one host) and PostgreSQL
 * (tz_pgindex.c, a gateway cluster). tz_index_open() picks one by its
 * argument: a libpq URI (tz_pg_is_url) or a file path. Callers see only
 * tz_index.h. */
#ifndef TZ_INDEX_INT_H
#define TZ_INDEX_INT_H

#include <stdbool.h>
#include "tz_index.h"

/* update's "busy, try again with the same connection" */
#define TZ_INDEX_BUSY 1

struct tz_index_ops {
	/* Replace every row of the entries m[0..n) in one transaction: 0,
	 * TZ_INDEX_BUSY or -1 (rolled back), with err. */
	int (*update)(struct tz_index *ix, const struct tz_meta *const *m, size_t n,
		      char *err, size_t errlen);
	int (*remove)(struct tz_index *ix, const char *id, char *err, size_t errlen);
	int (*clear)(struct tz_index *ix, char *err, size_t errlen);       /* every row */
	GHashTable *(*ids)(struct tz_index *ix, char *err, size_t errlen); /* NULL on error */
	int (*query)(struct tz_index *ix, const struct tz_index_filter *f, GPtrArray **rows,
		     char *err, size_t errlen);
	bool (*stale)(struct tz_index *ix);   /* the writer should reconnect */
	void (*close)(struct tz_index *ix);   /* free what the implementation holds */
};

enum tz_index_stmt {
	S_DEL_ENTRY, S_DEL_RCPTS, S_DEL_PARTS, S_INS_ENTRY, S_INS_RCPT, S_INS_PART,
	S_BEGIN, S_COMMIT, S_ROLLBACK, S_COUNT
};

struct tz_index {
	const struct tz_index_ops *ops;
	sqlite3 *db;                   /* SQLite, else NULL */
	sqlite3_stmt *stmt[S_COUNT];   /* SQLite: prepared on first use */
	void *pg;                      /* PostgreSQL: its PGconn */
};

struct tz_index *tz_pgindex_open(const char *url, char *err, size_t errlen);
void tz_index_row_free_cb(gpointer p);

#endif
