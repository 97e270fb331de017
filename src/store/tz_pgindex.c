/* tz_pgindex.c — the queue index on PostgreSQL (StoreBackend postgresql):
 * the same tables and the same rows as the SQLite index (tz_index.c), so
 * `textizectl queue list/show` and the console read either unchanged
 * through tz_index.h. Every gateway writes its entries here. Entry ids
 * are unique across gateways: tz_id_new() is UTC time to the microsecond
 * and 32 random bits, and a duplicate could not be published in the shared
 * QuarantineDir anyway (renaming onto a non-empty directory fails); 参照番号
 * are reserved in table refs, unique per day across the gateways
 * (tz_ref_pg.c). */
#include "tz_index_int.h"

#include <stdio.h>
#include <string.h>

#include "tz_pg.h"
#include "tz_util.h"

#define PG(ix) ((PGconn *)(ix)->pg)

/* Run sql with n text parameters (NULL = SQL NULL); 0 or -1 with err. */
static int run(struct tz_index *ix, const char *sql, int n, const char *const *v,
	       char *err, size_t errlen)
{
	PGresult *r = PQexecParams(PG(ix), sql, n, NULL, v, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	int ret = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		ret = tz_pg_fail(PG(ix), "index", err, errlen);
	PQclear(r);
	return ret;
}

static int insert_entry(struct tz_index *ix, const struct tz_meta *m, char *err, size_t errlen)
{
	GString *rc = g_string_new(NULL);
	char *dom = tz_meta_domain(m->sender), t[32], np[16], sz[32], *host = g_get_host_name() ?
		(char *)g_get_host_name() : NULL;
	int ret;

	for (guint i = 0; i < m->rcpts->len; i++)
		g_string_append_printf(rc, "%s%s", i ? ", " : "", (char *)g_ptr_array_index(m->rcpts, i));
	snprintf(t, sizeof(t), "%lld", (long long)m->stored_time);
	snprintf(np, sizeof(np), "%u", m->parts->len);
	snprintf(sz, sizeof(sz), "%" G_GUINT64_FORMAT, (guint64)m->original_size);
	{
		const char *const v[] = { m->id, t, m->stored_at, m->sender, dom, rc->str,
					  m->subject, m->message_id, m->client_addr, m->direction,
					  m->spf, m->kind, np, sz, m->ref, host, m->tenant };
		ret = run(ix, "INSERT INTO entries(id, stored_time, stored_at, sender, sender_domain,"
			  " rcpts, subject, message_id, client_addr, direction, spf, kind, nparts,"
			  " original_size, ref, gateway, tenant) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,"
			  "$11,$12,$13,$14,$15,$16,$17)", 17, v, err, errlen);
	}
	for (guint i = 0; ret == 0 && i < m->rcpts->len; i++) {
		const char *const v[] = { m->id, g_ptr_array_index(m->rcpts, i) };
		ret = run(ix, "INSERT INTO rcpts VALUES($1,$2)", 2, v, err, errlen);
	}
	g_string_free(rc, TRUE);
	g_free(dom);
	return ret;
}

static int insert_parts(struct tz_index *ix, const struct tz_meta *m, char *err, size_t errlen)
{
	for (guint i = 0; i < m->parts->len; i++) {
		const struct tz_meta_part *mp = g_ptr_array_index(m->parts, i);
		char idx[16], sz[32], risk[16];
		snprintf(idx, sizeof(idx), "%u", mp->index);
		snprintf(sz, sizeof(sz), "%" G_GUINT64_FORMAT, (guint64)mp->size);
		snprintf(risk, sizeof(risk), "%u", (unsigned)mp->risk);
		const char *const v[] = { m->id, idx, mp->filename, mp->reason, mp->declared_type,
					  mp->detected_type, sz, mp->sha256, risk, mp->state,
					  mp->verdict };
		if (run(ix, "INSERT INTO parts VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)", 11, v,
			err, errlen) < 0)
			return -1;
	}
	return 0;
}

static int pg_update(struct tz_index *ix, const struct tz_meta *const *m, size_t n,
		     char *err, size_t errlen)
{
	if (tz_pg_exec(PG(ix), "BEGIN", err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *const v[] = { m[i]->id };
		/* rcpts and parts go with the entry (ON DELETE CASCADE) */
		if (run(ix, "DELETE FROM entries WHERE id=$1", 1, v, err, errlen) < 0 ||
		    insert_entry(ix, m[i], err, errlen) < 0 || insert_parts(ix, m[i], err, errlen) < 0)
			goto fail;
	}
	if (tz_pg_exec(PG(ix), "COMMIT", err, errlen) == 0)
		return 0;
fail:
	PQclear(PQexec(PG(ix), "ROLLBACK"));
	return -1;
}

static int pg_remove(struct tz_index *ix, const char *id, char *err, size_t errlen)
{
	const char *const v[] = { id };

	return run(ix, "DELETE FROM entries WHERE id=$1", 1, v, err, errlen);
}

static int pg_clear(struct tz_index *ix, char *err, size_t errlen)
{
	return tz_pg_exec(PG(ix), "DELETE FROM entries", err, errlen);
}

static GHashTable *pg_ids(struct tz_index *ix, char *err, size_t errlen)
{
	PGresult *r = PQexec(PG(ix), "SELECT id FROM entries");
	GHashTable *h = NULL;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		tz_pg_fail(PG(ix), "index", err, errlen);
		goto out;
	}
	h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (int i = 0; i < PQntuples(r); i++)
		g_hash_table_add(h, g_strdup(PQgetvalue(r, i, 0)));
out:
	PQclear(r);
	return h;
}

static char *col(PGresult *r, int row, int c)
{
	return PQgetisnull(r, row, c) ? NULL : g_strdup(PQgetvalue(r, row, c));
}

static struct tz_index_row *row_of(PGresult *r, int i)
{
	struct tz_index_row *w = g_new0(struct tz_index_row, 1);

	w->id = col(r, i, 0);
	w->stored_at = col(r, i, 1);
	w->sender = col(r, i, 2);
	w->rcpts = col(r, i, 3);
	w->subject = col(r, i, 4);
	w->part = (unsigned)g_ascii_strtoull(PQgetvalue(r, i, 5), NULL, 10);
	w->filename = col(r, i, 6);
	w->detected_type = col(r, i, 7);
	w->state = col(r, i, 8);
	w->verdict = col(r, i, 9);
	w->sha256 = col(r, i, 10);
	w->size = g_ascii_strtoull(PQgetvalue(r, i, 11), NULL, 10);
	w->risk = (unsigned)g_ascii_strtoull(PQgetvalue(r, i, 12), NULL, 10);
	w->ref = col(r, i, 13);
	w->stored_time = g_ascii_strtoll(PQgetvalue(r, i, 14), NULL, 10);
	w->reason = col(r, i, 15);
	w->declared_type = col(r, i, 16);
	w->tenant = col(r, i, 17);
	return w;
}

/* The SQLite query's twin: strpos for instr, C collation for the order
 * (ids are ASCII; SQLite compares bytes). */
static int pg_query(struct tz_index *ix, const struct tz_index_filter *f, GPtrArray **rows,
		    char *err, size_t errlen)
{
	static const char sql[] =
		"SELECT e.id, e.stored_at, e.sender, e.rcpts, e.subject, coalesce(p.idx,0),"
		" p.filename, p.detected_type, p.state, p.verdict, p.sha256, coalesce(p.size,0),"
		" coalesce(p.risk,0), e.ref, e.stored_time, p.reason, p.declared_type, e.tenant"
		" FROM entries e LEFT JOIN parts p ON p.id = e.id"
		" WHERE ($1::bigint = 0 OR e.stored_time >= $1) AND ($2::bigint = 0 OR e.stored_time < $2)"
		" AND ($3::text IS NULL OR strpos(lower(e.sender), lower($3)) > 0)"
		" AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM rcpts r WHERE r.id = e.id"
		"      AND strpos(lower(r.addr), lower($4)) > 0))"
		" AND ($5::integer = 0 OR (coalesce(p.risk,0) & $5) != 0)"
		" AND ($6::text IS NULL OR p.state = $6)"
		" AND ($7::text IS NULL OR e.tenant = $7)"
		" ORDER BY e.id COLLATE \"C\", p.idx";
	char since[32], until[32], flag[16];
	const char *const v[] = { since, until, f->from, f->rcpt, flag, f->state, f->tenant };
	PGresult *r;
	int ret = 0;

	snprintf(since, sizeof(since), "%lld", (long long)f->since);
	snprintf(until, sizeof(until), "%lld", (long long)f->until);
	snprintf(flag, sizeof(flag), "%u", f->flag);
	*rows = g_ptr_array_new_with_free_func(tz_index_row_free_cb);
	r = PQexecParams(PG(ix), sql, 7, NULL, v, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		ret = tz_pg_fail(PG(ix), "index: query", err, errlen);
	for (int i = 0; ret == 0 && i < PQntuples(r); i++)
		g_ptr_array_add(*rows, row_of(r, i));
	PQclear(r);
	return ret;
}

static bool pg_stale(struct tz_index *ix)
{
	return PQstatus(PG(ix)) != CONNECTION_OK;
}

static void pg_close(struct tz_index *ix)
{
	PQfinish(PG(ix));
}

static const struct tz_index_ops pg_ops = {
	.update = pg_update, .remove = pg_remove, .clear = pg_clear, .ids = pg_ids,
	.query = pg_query, .stale = pg_stale, .close = pg_close,
};

struct tz_index *tz_pgindex_open(const char *url, char *err, size_t errlen)
{
	PGconn *conn = tz_pg_open(url, "textize-index", err, errlen);
	struct tz_index *ix;

	if (conn == NULL)
		return NULL;
	ix = g_new0(struct tz_index, 1);
	ix->ops = &pg_ops;
	ix->pg = conn;
	return ix;
}
