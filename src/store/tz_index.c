/* tz_index.c — SQLite index over the quarantine (see tz_index.h), and
 * the interface that puts it and the PostgreSQL one (tz_pgindex.c) behind
 * the same functions (tz_index_int.h).
 *
 * Statements are prepared once per connection and reused: parsing SQL was
 * a visible share of the milter's time when every entry opened a fresh
 * connection. The milter writes through one long-lived connection
 * (tz_index_writer) behind a mutex: SQLite admits one writer at a time
 * anyway, and a mutex queues threads without the sleep-and-poll of
 * SQLite's busy handler. */
#include "tz_index.h"
#include "tz_index_int.h"

#include <pthread.h>
#include <string.h>

#include "tz_pg.h"
#include "tz_util.h"

static const char *const stmt_sql[S_COUNT] = {
	[S_DEL_ENTRY] = "DELETE FROM entries WHERE id=?",
	[S_DEL_RCPTS] = "DELETE FROM rcpts WHERE id=?",
	[S_DEL_PARTS] = "DELETE FROM parts WHERE id=?",
	[S_INS_ENTRY] = "INSERT OR REPLACE INTO entries(id, stored_time, stored_at, sender, sender_domain,"
			" rcpts, subject, message_id, client_addr, direction, spf, kind, nparts,"
			" original_size, ref, tenant) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[S_INS_RCPT] = "INSERT INTO rcpts VALUES(?,?)",
	[S_INS_PART] = "INSERT OR REPLACE INTO parts VALUES(?,?,?,?,?,?,?,?,?,?,?)",
	/* the transaction's own statements too: sqlite3_exec would parse them
	 * again for every commit batch (~0.7 % of the milter's CPU on 5 KB mail) */
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
};

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"CREATE TABLE IF NOT EXISTS entries(id TEXT PRIMARY KEY, stored_time INTEGER,"
	" stored_at TEXT, sender TEXT, sender_domain TEXT, rcpts TEXT, subject TEXT,"
	" message_id TEXT, client_addr TEXT, direction TEXT, spf TEXT, kind TEXT,"
	" nparts INTEGER, original_size INTEGER, ref TEXT, tenant TEXT);"
	"CREATE INDEX IF NOT EXISTS entries_time ON entries(stored_time);"
	"CREATE TABLE IF NOT EXISTS rcpts(id TEXT, addr TEXT);"
	"CREATE INDEX IF NOT EXISTS rcpts_id ON rcpts(id);"
	"CREATE TABLE IF NOT EXISTS parts(id TEXT, idx INTEGER, filename TEXT, reason TEXT,"
	" declared_type TEXT, detected_type TEXT, size INTEGER, sha256 TEXT, risk INTEGER,"
	" state TEXT, verdict TEXT, PRIMARY KEY(id, idx));";

static int db_fail(sqlite3 *db, const char *what, char *err, size_t errlen)
{
	return tz_err(err, errlen, "index: %s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

static const struct tz_index_ops sqlite_ops;

struct tz_index *tz_index_open(const char *path, int busy_ms, char *err, size_t errlen)
{
	struct tz_index *ix;

	if (tz_pg_is_url(path))
		return tz_pgindex_open(path, err, errlen);
	ix = g_new0(struct tz_index, 1);
	ix->ops = &sqlite_ops;
	if (sqlite3_open_v2(path, &ix->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		db_fail(ix->db, path, err, errlen);
		goto fail;
	}
	sqlite3_busy_timeout(ix->db, busy_ms);
	if (sqlite3_exec(ix->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(ix->db, "schema", err, errlen);
		goto fail;
	}
	/* The 参照番号 column, added to an index made before it existed (the
	 * "duplicate column" error for any other index is the expected case;
	 * should a busy database refuse it, inserts fail and are logged, and
	 * the next textizectl run adds it and catches up). */
	sqlite3_exec(ix->db, "ALTER TABLE entries ADD COLUMN ref TEXT", NULL, NULL, NULL);
	/* the same for the tenant column (docs/tenants.md) */
	sqlite3_exec(ix->db, "ALTER TABLE entries ADD COLUMN tenant TEXT", NULL, NULL, NULL);
	return ix;
fail:
	tz_index_free(ix);
	return NULL;
}

void tz_index_free(struct tz_index *ix)
{
	if (ix == NULL)
		return;
	ix->ops->close(ix);
	g_free(ix);
}

static void sqlite_close(struct tz_index *ix)
{
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(ix->stmt[i]);
	sqlite3_close(ix->db);
}

sqlite3 *tz_index_db(struct tz_index *ix)
{
	return ix->db;   /* NULL on PostgreSQL */
}

/* The cached statement k, reset and without bindings; NULL on error. */
static sqlite3_stmt *stmt(struct tz_index *ix, enum tz_index_stmt k)
{
	if (ix->stmt[k] == NULL &&
	    sqlite3_prepare_v3(ix->db, stmt_sql[k], -1, SQLITE_PREPARE_PERSISTENT,
			       &ix->stmt[k], NULL) != SQLITE_OK)
		return NULL;
	return ix->stmt[k];
}

/* Run a bound statement to completion and make it reusable; the SQLite
 * result code (SQLITE_DONE on success). */
static int step_done(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

/* Each of these returns SQLITE_DONE or the SQLite error code, so that a
 * caller can tell a busy database from a broken one. */
static int insert_entry(struct tz_index *ix, const struct tz_meta *m)
{
	sqlite3_stmt *s = stmt(ix, S_INS_ENTRY);
	GString *rc = g_string_new(NULL);
	char *dom = tz_meta_domain(m->sender);
	int res;

	if (s == NULL) {
		res = sqlite3_errcode(ix->db);
		goto out;
	}
	for (guint i = 0; i < m->rcpts->len; i++)
		g_string_append_printf(rc, "%s%s", i ? ", " : "", (char *)g_ptr_array_index(m->rcpts, i));
	bind_text(s, 1, m->id);
	sqlite3_bind_int64(s, 2, m->stored_time);
	bind_text(s, 3, m->stored_at);
	bind_text(s, 4, m->sender);
	bind_text(s, 5, dom);
	bind_text(s, 6, rc->str);
	bind_text(s, 7, m->subject);
	bind_text(s, 8, m->message_id);
	bind_text(s, 9, m->client_addr);
	bind_text(s, 10, m->direction);
	bind_text(s, 11, m->spf);
	bind_text(s, 12, m->kind);
	sqlite3_bind_int64(s, 13, m->parts->len);
	sqlite3_bind_int64(s, 14, (sqlite3_int64)m->original_size);
	bind_text(s, 15, m->ref);
	bind_text(s, 16, m->tenant);
	res = step_done(s);
out:
	g_string_free(rc, TRUE);
	g_free(dom);
	return res;
}

static int insert_rcpts(struct tz_index *ix, const struct tz_meta *m)
{
	sqlite3_stmt *r = stmt(ix, S_INS_RCPT);
	int res = r ? SQLITE_DONE : sqlite3_errcode(ix->db);

	for (guint i = 0; res == SQLITE_DONE && i < m->rcpts->len; i++) {
		bind_text(r, 1, m->id);
		bind_text(r, 2, g_ptr_array_index(m->rcpts, i));
		res = step_done(r);
	}
	return res;
}

static int insert_parts(struct tz_index *ix, const struct tz_meta *m)
{
	sqlite3_stmt *p = stmt(ix, S_INS_PART);
	int res = p ? SQLITE_DONE : sqlite3_errcode(ix->db);

	for (guint i = 0; res == SQLITE_DONE && i < m->parts->len; i++) {
		const struct tz_meta_part *mp = g_ptr_array_index(m->parts, i);
		bind_text(p, 1, m->id);
		sqlite3_bind_int(p, 2, (int)mp->index);
		bind_text(p, 3, mp->filename);
		bind_text(p, 4, mp->reason);
		bind_text(p, 5, mp->declared_type);
		bind_text(p, 6, mp->detected_type);
		sqlite3_bind_int64(p, 7, (sqlite3_int64)mp->size);
		bind_text(p, 8, mp->sha256);
		sqlite3_bind_int64(p, 9, mp->risk);
		bind_text(p, 10, mp->state);
		bind_text(p, 11, mp->verdict);
		res = step_done(p);
	}
	return res;
}

static int delete_rows(struct tz_index *ix, const char *id)
{
	static const enum tz_index_stmt del[] = { S_DEL_ENTRY, S_DEL_RCPTS, S_DEL_PARTS };

	for (size_t i = 0; i < G_N_ELEMENTS(del); i++) {
		sqlite3_stmt *s = stmt(ix, del[i]);
		int res;
		if (s == NULL)
			return sqlite3_errcode(ix->db);
		sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
		res = step_done(s);
		if (res != SQLITE_DONE)
			return res;
	}
	return SQLITE_DONE;
}

/* Run the cached transaction statement k: SQLITE_OK or the error code. */
static int tx(struct tz_index *ix, enum tz_index_stmt k)
{
	sqlite3_stmt *s = stmt(ix, k);
	int res;

	if (s == NULL)
		return sqlite3_errcode(ix->db);
	res = step_done(s);
	return res == SQLITE_DONE ? SQLITE_OK : res;
}

/* Replace every row of the entries m[0..n) in one transaction. SQLITE_OK
 * or the code of the step that failed (all is rolled back), with err. */
static int update_rows(struct tz_index *ix, const struct tz_meta *const *m, size_t n,
		       char *err, size_t errlen)
{
	int res = tx(ix, S_BEGIN);

	if (res != SQLITE_OK) {
		db_fail(ix->db, "begin", err, errlen);
		return res;
	}
	for (size_t i = 0; i < n; i++) {
		if ((res = delete_rows(ix, m[i]->id)) != SQLITE_DONE ||
		    (res = insert_entry(ix, m[i])) != SQLITE_DONE ||
		    (res = insert_rcpts(ix, m[i])) != SQLITE_DONE ||
		    (res = insert_parts(ix, m[i])) != SQLITE_DONE) {
			db_fail(ix->db, m[i]->id, err, errlen);
			tx(ix, S_ROLLBACK);
			return res;
		}
	}
	if ((res = tx(ix, S_COMMIT)) != SQLITE_OK) {
		db_fail(ix->db, "commit", err, errlen);
		tx(ix, S_ROLLBACK);
		return res;
	}
	return SQLITE_OK;
}

/* The interface's update: 0, TZ_INDEX_BUSY (try again, keep the
 * connection) or -1. */
static int sqlite_update(struct tz_index *ix, const struct tz_meta *const *m, size_t n,
			 char *err, size_t errlen)
{
	int res = update_rows(ix, m, n, err, errlen), primary = res & 0xff;

	if (res == SQLITE_OK)
		return 0;
	return primary == SQLITE_BUSY || primary == SQLITE_LOCKED ? TZ_INDEX_BUSY : -1;
}

static int sqlite_remove(struct tz_index *ix, const char *id, char *err, size_t errlen)
{
	if (delete_rows(ix, id) != SQLITE_DONE)
		return db_fail(ix->db, id, err, errlen);
	return 0;
}

static int sqlite_clear(struct tz_index *ix, char *err, size_t errlen)
{
	if (sqlite3_exec(ix->db, "DELETE FROM entries; DELETE FROM rcpts; DELETE FROM parts;",
			 NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(ix->db, "clear", err, errlen);
	return 0;
}

/* Ids currently in the index. */
static GHashTable *sqlite_ids(struct tz_index *ix, char *err, size_t errlen)
{
	GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	sqlite3_stmt *s = NULL;

	(void)err, (void)errlen;   /* an unreadable index lists nothing: all is re-added */
	if (sqlite3_prepare_v2(ix->db, "SELECT id FROM entries", -1, &s, NULL) == SQLITE_OK)
		while (sqlite3_step(s) == SQLITE_ROW)
			g_hash_table_add(h, g_strdup((const char *)sqlite3_column_text(s, 0)));
	sqlite3_finalize(s);
	return h;
}

/* Rows written into an unlinked file would be lost without a word: the
 * writer reopens when the path no longer names the file it has open. */
static bool sqlite_stale(struct tz_index *ix)
{
	int moved = 0;

	return sqlite3_file_control(ix->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK ||
	       moved;
}

int tz_index_update(struct tz_index *ix, const struct tz_meta *m, char *err, size_t errlen)
{
	return ix->ops->update(ix, &m, 1, err, errlen) == 0 ? 0 : -1;
}

int tz_index_remove(struct tz_index *ix, const char *id, char *err, size_t errlen)
{
	return ix->ops->remove(ix, id, err, errlen);
}

int tz_index_query(struct tz_index *ix, const struct tz_index_filter *f, GPtrArray **rows,
		   char *err, size_t errlen)
{
	return ix->ops->query(ix, f, rows, err, errlen);
}

int tz_index_clear(struct tz_index *ix, char *err, size_t errlen)
{
	return ix->ops->clear(ix, err, errlen);
}

GHashTable *tz_index_ids(struct tz_index *ix, char *err, size_t errlen)
{
	return ix->ops->ids(ix, err, errlen);
}

void tz_index_row_free(struct tz_index_row *r)
{
	if (r == NULL)
		return;
	g_free(r->id);
	g_free(r->stored_at);
	g_free(r->ref);
	g_free(r->sender);
	g_free(r->rcpts);
	g_free(r->subject);
	g_free(r->filename);
	g_free(r->detected_type);
	g_free(r->state);
	g_free(r->verdict);
	g_free(r->sha256);
	g_free(r->reason);
	g_free(r->declared_type);
	g_free(r->tenant);
	g_free(r);
}

void tz_index_row_free_cb(gpointer p)
{
	tz_index_row_free(p);
}

static char *col(sqlite3_stmt *s, int i)
{
	const unsigned char *v = sqlite3_column_text(s, i);

	return v ? g_strdup((const char *)v) : NULL;
}

static int sqlite_query(struct tz_index *ix, const struct tz_index_filter *f, GPtrArray **rows,
			char *err, size_t errlen)
{
	static const char sql[] =
		"SELECT e.id, e.stored_at, e.sender, e.rcpts, e.subject, coalesce(p.idx,0),"
		" p.filename, p.detected_type, p.state, p.verdict, p.sha256, coalesce(p.size,0),"
		" coalesce(p.risk,0), e.ref, e.stored_time, p.reason, p.declared_type, e.tenant"
		" FROM entries e LEFT JOIN parts p ON p.id = e.id"
		" WHERE (?1 = 0 OR e.stored_time >= ?1) AND (?2 = 0 OR e.stored_time < ?2)"
		" AND (?3 IS NULL OR instr(lower(e.sender), lower(?3)) > 0)"
		" AND (?4 IS NULL OR EXISTS (SELECT 1 FROM rcpts r WHERE r.id = e.id"
		"      AND instr(lower(r.addr), lower(?4)) > 0))"
		" AND (?5 = 0 OR (coalesce(p.risk,0) & ?5) != 0)"
		" AND (?6 IS NULL OR p.state = ?6)"
		" AND (?7 IS NULL OR e.tenant = ?7)"
		" ORDER BY e.id, p.idx";
	sqlite3_stmt *s = NULL;
	int rc;

	*rows = g_ptr_array_new_with_free_func(tz_index_row_free_cb);
	if (sqlite3_prepare_v2(ix->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_fail(ix->db, "query", err, errlen);
	sqlite3_bind_int64(s, 1, f->since);
	sqlite3_bind_int64(s, 2, f->until);
	bind_text(s, 3, f->from);
	bind_text(s, 4, f->rcpt);
	sqlite3_bind_int64(s, 5, f->flag);
	bind_text(s, 6, f->state);
	bind_text(s, 7, f->tenant);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct tz_index_row *r = g_new0(struct tz_index_row, 1);
		r->id = col(s, 0);
		r->stored_at = col(s, 1);
		r->sender = col(s, 2);
		r->rcpts = col(s, 3);
		r->subject = col(s, 4);
		r->part = (unsigned)sqlite3_column_int(s, 5);
		r->filename = col(s, 6);
		r->detected_type = col(s, 7);
		r->state = col(s, 8);
		r->verdict = col(s, 9);
		r->sha256 = col(s, 10);
		r->size = (uint64_t)sqlite3_column_int64(s, 11);
		r->risk = (unsigned)sqlite3_column_int64(s, 12);
		r->ref = col(s, 13);
		r->stored_time = sqlite3_column_int64(s, 14);
		r->reason = col(s, 15);
		r->declared_type = col(s, 16);
		r->tenant = col(s, 17);
		g_ptr_array_add(*rows, r);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return db_fail(ix->db, "query", err, errlen);
	return 0;
}

static const struct tz_index_ops sqlite_ops = {
	.update = sqlite_update, .remove = sqlite_remove, .clear = sqlite_clear,
	.ids = sqlite_ids, .query = sqlite_query, .stale = sqlite_stale, .close = sqlite_close,
};

/* ---- the milter's writer ---- */

struct tz_index_writer {
	char *path;
	unsigned budget_ms;
	pthread_mutex_t mu;
	struct tz_index *ix;   /* under mu; NULL until first use and after an error */
};

struct tz_index_writer *tz_index_writer_new(const char *path, unsigned budget_ms)
{
	struct tz_index_writer *w = g_new0(struct tz_index_writer, 1);

	w->path = g_strdup(path);
	w->budget_ms = budget_ms;
	pthread_mutex_init(&w->mu, NULL);
	return w;
}

void tz_index_writer_free(struct tz_index_writer *w)
{
	if (w == NULL)
		return;
	tz_index_free(w->ix);
	pthread_mutex_destroy(&w->mu);
	g_free(w->path);
	g_free(w);
}

/* The connection, (re)opened when missing or when the file it has open is
 * no longer the one at the path (deleted or replaced by an operator): rows
 * written into an unlinked file would be lost without a word. Under mu. */
static struct tz_index *writer_db(struct tz_index_writer *w, char *err, size_t errlen)
{
	if (w->ix && w->ix->ops->stale(w->ix)) {
		tz_index_free(w->ix);
		w->ix = NULL;
	}
	if (w->ix)
		return w->ix;
	/* No busy timeout: SQLite's handler would sleep with mu held; the
	 * caller backs off with mu released instead. synchronous=NORMAL: in WAL
	 * mode a commit then costs no fsync, and what a power cut can take back
	 * is only the newest rows, whose entries are durable on disk and are
	 * indexed again by the next catch-up (tz_index_sync). */
	w->ix = tz_index_open(w->path, 0, err, errlen);
	if (w->ix && w->ix->db &&
	    sqlite3_exec(w->ix->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(w->ix->db, "synchronous", err, errlen);
		tz_index_free(w->ix);
		w->ix = NULL;
	}
	return w->ix;
}

/* One attempt under mu. A failure other than a busy database drops the
 * connection, so that the next attempt starts afresh. */
static int writer_try(struct tz_index_writer *w, const struct tz_meta *const *m, size_t n,
		      char *err, size_t errlen)
{
	struct tz_index *ix = writer_db(w, err, errlen);
	int res;

	if (ix == NULL)
		return -1;
	res = ix->ops->update(ix, m, n, err, errlen);
	if (res == 0)
		return 0;
	if (res != TZ_INDEX_BUSY) {
		tz_index_free(w->ix);
		w->ix = NULL;
	}
	return -1;
}

int tz_index_writer_add(struct tz_index_writer *w, const struct tz_meta *const *m, size_t n,
			char *err, size_t errlen)
{
	gint64 start = g_get_monotonic_time(), deadline = start + (gint64)w->budget_ms * 1000;
	gint64 delay = TZ_INDEX_FIRST_BACKOFF_MS * 1000;
	unsigned tries = 0;
	char why[TZ_ERRLEN] = "";

	for (;;) {
		gint64 now;
		int rc;
		tries++;
		pthread_mutex_lock(&w->mu);
		rc = writer_try(w, m, n, why, sizeof(why));
		pthread_mutex_unlock(&w->mu);
		if (rc == 0)
			return 0;
		now = g_get_monotonic_time();
		if (now >= deadline)
			break;
		g_usleep((gulong)MIN(delay, deadline - now));
		delay *= 2;
	}
	return tz_err(err, errlen, "%s (gave up after %u tries in %lld ms)", why, tries,
		      (long long)((g_get_monotonic_time() - start) / 1000));
}
