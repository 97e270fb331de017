/* tz_index.c — SQLite index over the quarantine (see tz_index.h). */
#include "tz_index.h"

#include <string.h>

#include "tz_store.h"
#include "tz_util.h"

struct tz_index {
	sqlite3 *db;
};

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"CREATE TABLE IF NOT EXISTS entries(id TEXT PRIMARY KEY, stored_time INTEGER,"
	" stored_at TEXT, sender TEXT, sender_domain TEXT, rcpts TEXT, subject TEXT,"
	" message_id TEXT, client_addr TEXT, direction TEXT, spf TEXT, kind TEXT,"
	" nparts INTEGER, original_size INTEGER);"
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

struct tz_index *tz_index_open(const char *path, int busy_ms, char *err, size_t errlen)
{
	struct tz_index *ix = g_new0(struct tz_index, 1);

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
	return ix;
fail:
	tz_index_free(ix);
	return NULL;
}

void tz_index_free(struct tz_index *ix)
{
	if (ix == NULL)
		return;
	sqlite3_close(ix->db);
	g_free(ix);
}

sqlite3 *tz_index_db(struct tz_index *ix)
{
	return ix->db;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

static int insert_entry(sqlite3 *db, const struct tz_meta *m)
{
	sqlite3_stmt *s = NULL;
	GString *rc = g_string_new(NULL);
	char *dom = tz_meta_domain(m->sender);
	int ok;

	for (guint i = 0; i < m->rcpts->len; i++)
		g_string_append_printf(rc, "%s%s", i ? ", " : "", (char *)g_ptr_array_index(m->rcpts, i));
	ok = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO entries VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
				-1, &s, NULL) == SQLITE_OK;
	if (ok) {
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
		ok = sqlite3_step(s) == SQLITE_DONE;
	}
	sqlite3_finalize(s);
	g_string_free(rc, TRUE);
	g_free(dom);
	return ok ? 0 : -1;
}

static int insert_children(sqlite3 *db, const struct tz_meta *m)
{
	sqlite3_stmt *r = NULL, *p = NULL;
	int ok;

	ok = sqlite3_prepare_v2(db, "INSERT INTO rcpts VALUES(?,?)", -1, &r, NULL) == SQLITE_OK &&
	     sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO parts VALUES(?,?,?,?,?,?,?,?,?,?,?)",
				-1, &p, NULL) == SQLITE_OK;
	for (guint i = 0; ok && i < m->rcpts->len; i++) {
		sqlite3_reset(r);
		bind_text(r, 1, m->id);
		bind_text(r, 2, g_ptr_array_index(m->rcpts, i));
		ok = sqlite3_step(r) == SQLITE_DONE;
	}
	for (guint i = 0; ok && i < m->parts->len; i++) {
		const struct tz_meta_part *mp = g_ptr_array_index(m->parts, i);
		sqlite3_reset(p);
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
		ok = sqlite3_step(p) == SQLITE_DONE;
	}
	sqlite3_finalize(r);
	sqlite3_finalize(p);
	return ok ? 0 : -1;
}

static int delete_rows(sqlite3 *db, const char *id)
{
	static const char *const sql[] = {
		"DELETE FROM entries WHERE id=?", "DELETE FROM rcpts WHERE id=?",
		"DELETE FROM parts WHERE id=?",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(sql); i++) {
		sqlite3_stmt *s = NULL;
		int ok = sqlite3_prepare_v2(db, sql[i], -1, &s, NULL) == SQLITE_OK;
		if (ok) {
			sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
			ok = sqlite3_step(s) == SQLITE_DONE;
		}
		sqlite3_finalize(s);
		if (!ok)
			return -1;
	}
	return 0;
}

int tz_index_update(struct tz_index *ix, const struct tz_meta *m, char *err, size_t errlen)
{
	if (sqlite3_exec(ix->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(ix->db, "begin", err, errlen);
	if (delete_rows(ix->db, m->id) < 0 || insert_entry(ix->db, m) < 0 ||
	    insert_children(ix->db, m) < 0) {
		db_fail(ix->db, m->id, err, errlen);
		sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (sqlite3_exec(ix->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(ix->db, "commit", err, errlen);
		sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

int tz_index_update_path(const char *path, const struct tz_meta *m, char *err, size_t errlen)
{
	struct tz_index *ix = tz_index_open(path, 100, err, errlen);
	int rc;

	if (ix == NULL)
		return -1;
	rc = tz_index_update(ix, m, err, errlen);
	tz_index_free(ix);
	return rc;
}

int tz_index_remove(struct tz_index *ix, const char *id, char *err, size_t errlen)
{
	if (delete_rows(ix->db, id) < 0)
		return db_fail(ix->db, id, err, errlen);
	return 0;
}

/* Ids currently in the index. */
static GHashTable *indexed_ids(sqlite3 *db)
{
	GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(db, "SELECT id FROM entries", -1, &s, NULL) == SQLITE_OK)
		while (sqlite3_step(s) == SQLITE_ROW)
			g_hash_table_add(h, g_strdup((const char *)sqlite3_column_text(s, 0)));
	sqlite3_finalize(s);
	return h;
}

int tz_index_sync(struct tz_index *ix, struct tz_store *st, int full, unsigned *bad,
		  char *err, size_t errlen)
{
	GPtrArray *ids = NULL;
	GHashTable *have = full ? NULL : indexed_ids(ix->db);
	GHashTable *ondisk = g_hash_table_new(g_str_hash, g_str_equal);
	int n = 0;

	*bad = 0;
	if (full)
		sqlite3_exec(ix->db, "DELETE FROM entries; DELETE FROM rcpts; DELETE FROM parts;",
			     NULL, NULL, NULL);
	if (tz_store_list(st, &ids, err, errlen) < 0) {
		n = -1;
		goto out;
	}
	for (guint i = 0; i < ids->len; i++) {
		const char *id = g_ptr_array_index(ids, i);
		struct tz_meta *m;
		g_hash_table_add(ondisk, (gpointer)id);
		if (have && g_hash_table_contains(have, id))
			continue;
		m = tz_store_meta_read(st, id, NULL, 0);
		if (m == NULL || tz_index_update(ix, m, err, errlen) < 0)
			(*bad)++;
		else
			n++;
		tz_meta_free(m);
	}
	/* Entries purged behind the index's back. */
	if (have) {
		GHashTableIter it;
		gpointer k;
		g_hash_table_iter_init(&it, have);
		while (g_hash_table_iter_next(&it, &k, NULL))
			if (!g_hash_table_contains(ondisk, k))
				delete_rows(ix->db, k);
	}
out:
	if (have)
		g_hash_table_unref(have);
	g_hash_table_unref(ondisk);
	if (ids)
		g_ptr_array_unref(ids);
	return n;
}

void tz_index_row_free(struct tz_index_row *r)
{
	if (r == NULL)
		return;
	g_free(r->id);
	g_free(r->stored_at);
	g_free(r->sender);
	g_free(r->rcpts);
	g_free(r->subject);
	g_free(r->filename);
	g_free(r->detected_type);
	g_free(r->state);
	g_free(r->verdict);
	g_free(r->sha256);
	g_free(r);
}

static void row_free_cb(gpointer p)
{
	tz_index_row_free(p);
}

static char *col(sqlite3_stmt *s, int i)
{
	const unsigned char *v = sqlite3_column_text(s, i);

	return v ? g_strdup((const char *)v) : NULL;
}

int tz_index_query(struct tz_index *ix, const struct tz_index_filter *f, GPtrArray **rows,
		   char *err, size_t errlen)
{
	static const char sql[] =
		"SELECT e.id, e.stored_at, e.sender, e.rcpts, e.subject, coalesce(p.idx,0),"
		" p.filename, p.detected_type, p.state, p.verdict, p.sha256, coalesce(p.size,0),"
		" coalesce(p.risk,0) FROM entries e LEFT JOIN parts p ON p.id = e.id"
		" WHERE (?1 = 0 OR e.stored_time >= ?1) AND (?2 = 0 OR e.stored_time < ?2)"
		" AND (?3 IS NULL OR instr(lower(e.sender), lower(?3)) > 0)"
		" AND (?4 IS NULL OR EXISTS (SELECT 1 FROM rcpts r WHERE r.id = e.id"
		"      AND instr(lower(r.addr), lower(?4)) > 0))"
		" AND (?5 = 0 OR (coalesce(p.risk,0) & ?5) != 0)"
		" AND (?6 IS NULL OR p.state = ?6)"
		" ORDER BY e.id, p.idx";
	sqlite3_stmt *s = NULL;
	int rc;

	*rows = g_ptr_array_new_with_free_func(row_free_cb);
	if (sqlite3_prepare_v2(ix->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_fail(ix->db, "query", err, errlen);
	sqlite3_bind_int64(s, 1, f->since);
	sqlite3_bind_int64(s, 2, f->until);
	bind_text(s, 3, f->from);
	bind_text(s, 4, f->rcpt);
	sqlite3_bind_int64(s, 5, f->flag);
	bind_text(s, 6, f->state);
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
		g_ptr_array_add(*rows, r);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return db_fail(ix->db, "query", err, errlen);
	return 0;
}
