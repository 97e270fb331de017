/* tz_blob_pg.c — BlobStore postgresql: blobs as rows of table blobs (id,
 * name, chunk, data) in the shared database (tz_pgschema.c migration 3).
 * A put replaces all chunks of the blob in one transaction, so a reader
 * (REPEATABLE READ) sees all old or all new chunks; chunks keep each row
 * and each result small however big the part. Up to PG_CONNS connections
 * per backend (the commit's parallel puts, BlobPuts), each used under its
 * mutex and opened again after any failure: a database that comes back is
 * used again without a restart. A single caller only ever opens the first. */
#include "tz_blob.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <libpq-fe.h>

#include "tz_pg.h"
#include "tz_util.h"

#define CHUNK (1u << 20)

#define PG_CONNS 4

struct pg_conn {
	pthread_mutex_t mu;
	const char *url;
	PGconn *conn;              /* NULL until first used, or after a failure */
};

struct blob_pg {
	struct tz_blob b;
	char *url;
	struct pg_conn c[PG_CONNS];
	gint next;
};

#define BP(b) ((struct blob_pg *)(void *)(b))

/* A connection nobody uses (the first such), locked; else wait in turn. */
static struct pg_conn *conn_take(struct blob_pg *bp)
{
	struct pg_conn *c;

	for (unsigned i = 0; i < PG_CONNS; i++)
		if (pthread_mutex_trylock(&bp->c[i].mu) == 0)
			return &bp->c[i];
	c = &bp->c[(unsigned)g_atomic_int_add(&bp->next, 1) % PG_CONNS];
	pthread_mutex_lock(&c->mu);
	return c;
}

static PGconn *conn_get(struct pg_conn *p, char *err, size_t errlen)
{
	if (p->conn && PQstatus(p->conn) != CONNECTION_OK) {
		PQfinish(p->conn);
		p->conn = NULL;
	}
	if (p->conn == NULL)
		p->conn = tz_pg_open(p->url, "textize-blob", err, errlen);
	return p->conn;
}

/* After a failure the connection may be mid-transaction or broken: drop
 * it; the next call connects afresh. */
static int conn_fail(struct pg_conn *p, const char *what, char *err, size_t errlen)
{
	tz_pg_fail(p->conn, what, err, errlen);
	PQfinish(p->conn);
	p->conn = NULL;
	return -1;
}

static int cmd_ok(PGresult *r, ExecStatusType want)
{
	int ok = PQresultStatus(r) == want;

	PQclear(r);
	return ok;
}

static int put_chunks(struct pg_conn *p, const char *id, const char *name, int fd, uint64_t size,
		      char *err, size_t errlen)
{
	char *buf = g_malloc(CHUNK), chunk[16];
	const char *v[4] = { id, name, chunk, buf };
	const int fmts[4] = { 0, 0, 0, 1 };   /* data binary, the rest text */
	uint64_t at = 0;
	int rc = 0;

	for (unsigned i = 0; rc == 0 && (at < size || i == 0); i++) {
		size_t want = size - at < CHUNK ? (size_t)(size - at) : CHUNK, got = 0;
		while (got < want) {
			ssize_t n = pread(fd, buf + got, want - got, (off_t)(at + got));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				rc = tz_err(err, errlen, "blob %s/%s: read: %s", id, name,
					    n < 0 ? strerror(errno) : "short file");
				break;
			}
			got += (size_t)n;
		}
		if (rc < 0)
			break;
		int len4[4] = { 0, 0, 0, (int)want };
		snprintf(chunk, sizeof(chunk), "%u", i);
		if (!cmd_ok(PQexecParams(p->conn, "INSERT INTO blobs(id, name, chunk, data)"
					 " VALUES($1, $2, $3, $4)", 4, NULL, v, len4, fmts, 0),
			    PGRES_COMMAND_OK))
			rc = conn_fail(p, "blob insert", err, errlen);
		at += want;
	}
	g_free(buf);
	return rc;
}

static int pg_put(struct tz_blob *b, const char *id, const char *name, int fd, uint64_t size,
		  char *err, size_t errlen)
{
	struct pg_conn *p = conn_take(BP(b));
	const char *v[2] = { id, name };
	int rc = -1;

	/* a connection idle across a server restart is opened again here */
	if (tz_pg_begin(&p->conn, p->url, "textize-blob", "BEGIN", err, errlen) < 0)
		goto out;
	if (!cmd_ok(PQexecParams(p->conn, "DELETE FROM blobs WHERE id = $1 AND name = $2", 2,
				 NULL, v, NULL, NULL, 0), PGRES_COMMAND_OK)) {
		conn_fail(p, "blob put", err, errlen);
		goto out;
	}
	if (put_chunks(p, id, name, fd, size, err, errlen) < 0) {
		if (p->conn)
			conn_fail(p, "blob put", NULL, 0);
		goto out;
	}
	/* COMMIT returns once the WAL is flushed (synchronous_commit on, the
	 * default): the blob is durable when this says 0. */
	if (tz_pg_exec(p->conn, "COMMIT", err, errlen) < 0) {
		conn_fail(p, "blob commit", NULL, 0);
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&p->mu);
	return rc;
}

static int get_chunks(struct pg_conn *p, const char *id, const char *name, unsigned n, int outfd,
		      char *err, size_t errlen)
{
	char chunk[16];
	const char *v[3] = { id, name, chunk };

	for (unsigned i = 0; i < n; i++) {
		PGresult *r;
		snprintf(chunk, sizeof(chunk), "%u", i);
		r = PQexecParams(p->conn, "SELECT data FROM blobs WHERE id = $1 AND name = $2"
				 " AND chunk = $3", 3, NULL, v, NULL, NULL, 1);
		if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
			int bad = PQresultStatus(r) != PGRES_TUPLES_OK;
			PQclear(r);
			return bad ? conn_fail(p, "blob get", err, errlen)
				   : tz_err(err, errlen, "blob %s/%s: chunk %u missing", id, name, i);
		}
		if (tz_write_all(outfd, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0)) < 0) {
			PQclear(r);
			return tz_err(err, errlen, "blob %s/%s: write: %s", id, name, strerror(errno));
		}
		PQclear(r);
	}
	return 0;
}

static int pg_get(struct tz_blob *b, const char *id, const char *name, int outfd, uint64_t max,
		  char *err, size_t errlen)
{
	struct pg_conn *p = conn_take(BP(b));
	const char *v[2] = { id, name };
	PGresult *r;
	unsigned n = 0;
	uint64_t size = 0;
	int rc = -1;

	if (conn_get(p, err, errlen) == NULL)
		goto out;
	if (tz_pg_exec(p->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, errlen) < 0) {
		conn_fail(p, "blob get", NULL, 0);
		goto out;
	}
	r = PQexecParams(p->conn, "SELECT count(*), coalesce(sum(length(data)), 0) FROM blobs"
			 " WHERE id = $1 AND name = $2", 2, NULL, v, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		PQclear(r);
		conn_fail(p, "blob get", err, errlen);
		goto out;
	}
	n = (unsigned)strtoul(PQgetvalue(r, 0, 0), NULL, 10);
	size = g_ascii_strtoull(PQgetvalue(r, 0, 1), NULL, 10);
	PQclear(r);
	if (n == 0)
		rc = TZ_BLOB_ABSENT;
	else if (size > max)
		rc = tz_err(err, errlen, "blob %s/%s: %" G_GUINT64_FORMAT " bytes, more than %"
			    G_GUINT64_FORMAT, id, name, size, max);
	else
		rc = get_chunks(p, id, name, n, outfd, err, errlen);
	if (p->conn)
		PQclear(PQexec(p->conn, "COMMIT"));
out:
	pthread_mutex_unlock(&p->mu);
	return rc;
}

static int pg_del(struct tz_blob *b, const char *id, const char *name, char *err, size_t errlen)
{
	struct pg_conn *p = conn_take(BP(b));
	const char *v[2] = { id, name };
	int rc = -1;

	if (conn_get(p, err, errlen) != NULL) {
		if (cmd_ok(PQexecParams(p->conn, "DELETE FROM blobs WHERE id = $1 AND name = $2", 2,
					NULL, v, NULL, NULL, 0), PGRES_COMMAND_OK))
			rc = 0;
		else
			conn_fail(p, "blob delete", err, errlen);
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

static int pg_list(struct tz_blob *b, const char *id, GPtrArray *keys, char *err, size_t errlen)
{
	struct pg_conn *p = conn_take(BP(b));
	const char *v[1] = { id };
	PGresult *r;
	int rc = -1;

	if (conn_get(p, err, errlen) == NULL)
		goto out;
	r = id ? PQexecParams(p->conn, "SELECT DISTINCT id, name FROM blobs WHERE id = $1", 1, NULL,
			      v, NULL, NULL, 0)
	       : PQexec(p->conn, "SELECT DISTINCT id, name FROM blobs");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		conn_fail(p, "blob list", err, errlen);
		goto out;
	}
	for (int i = 0; i < PQntuples(r); i++)
		g_ptr_array_add(keys, g_strdup_printf("%s/%s", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1)));
	PQclear(r);
	rc = 0;
out:
	pthread_mutex_unlock(&p->mu);
	return rc;
}

static void pg_free(struct tz_blob *b)
{
	struct blob_pg *p = BP(b);

	for (unsigned i = 0; i < PG_CONNS; i++) {
		if (p->c[i].conn)
			PQfinish(p->c[i].conn);
		pthread_mutex_destroy(&p->c[i].mu);
	}
	g_free(p->url);
	g_free(p);
}

static const struct tz_blob_ops pg_ops = {
	"postgresql", pg_put, pg_get, pg_del, pg_list, pg_free,
};

struct tz_blob *tz_blob_pg_new(const char *url, char *err, size_t errlen)
{
	struct blob_pg *p;

	if (url == NULL || *url == '\0') {
		tz_err(err, errlen, "BlobStore postgresql needs DatabaseURL");
		return NULL;
	}
	p = g_new0(struct blob_pg, 1);
	p->b.ops = &pg_ops;
	p->url = g_strdup(url);
	for (unsigned i = 0; i < PG_CONNS; i++) {
		pthread_mutex_init(&p->c[i].mu, NULL);
		p->c[i].url = p->url;
	}
	return &p->b;
}
