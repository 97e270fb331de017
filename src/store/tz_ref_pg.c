/* tz_ref_pg.c — the 参照番号 registry of a gateway cluster (StoreBackend
 * postgresql): table refs (day, code, id) of the shared database,
 * PRIMARY KEY (day, code), id UNIQUE (migration 7). A claim is an INSERT
 * ... ON CONFLICT (day, code) DO NOTHING: the key makes it atomic across
 * every gateway, and a conflict sends tz_refs_reserve back to draw again
 * exactly as an existing file does. One connection per registry, used
 * under a mutex (the milter's threads reserve concurrently) and opened
 * again after any failure, so a database that comes back is used without
 * a restart. A database that does not answer is an error (the message
 * tempfails): a code reserved in local files meanwhile could be given out
 * by another gateway too. */
#include "tz_ref.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <libpq-fe.h>

#include "tz_pg.h"
#include "tz_util.h"

struct refs_pg {
	struct tz_refs r;
	pthread_mutex_t mu;
	char *url;
	PGconn *conn;
};

#define RP(r) ((struct refs_pg *)(void *)(r))

/* A claim does not wait for its own WAL flush (about 6 ms a reservation
 * on a loaded disk, docs/cluster.md): the entry's audit record is
 * committed synchronously after it in the same database, and a flush
 * covers every earlier WAL record, so a committed entry's code is
 * durable; a code lost in a server crash before that belonged to an
 * entry that was not committed (tempfailed) either. */
#define ASYNC "SET synchronous_commit TO off"

/* Run sql with n text parameters under the registry's mutex, reconnecting
 * first when needed; the result (caller clears) or NULL with err, after
 * which the connection is dropped (it may be mid-failure). A connection
 * that was open across a server restart or failover only fails when used:
 * then the statement is sent once more on a new one. That is safe for a
 * claim too: had the lost INSERT been applied, the retry finds its own
 * (day, code) taken and draws again, and the next code's INSERT fails on
 * the UNIQUE id, so the entry tempfails rather than holding two codes. */
static PGresult *run(struct refs_pg *p, const char *sql, int n, const char *const *v,
		     ExecStatusType want, char *err, size_t errlen)
{
	PGresult *r = NULL;

	pthread_mutex_lock(&p->mu);
	for (int tries = 0; r == NULL && tries < 2; tries++) {
		bool fresh = p->conn == NULL || PQstatus(p->conn) != CONNECTION_OK;
		if (fresh) {
			g_clear_pointer(&p->conn, PQfinish);
			if ((p->conn = tz_pg_open(p->url, "textize-refs", err, errlen)) == NULL ||
			    tz_pg_exec(p->conn, ASYNC, err, errlen) < 0) {
				g_clear_pointer(&p->conn, PQfinish);
				break;
			}
		}
		r = PQexecParams(p->conn, sql, n, NULL, v, NULL, NULL, 0);
		if (PQresultStatus(r) != want) {
			bool broken = PQstatus(p->conn) != CONNECTION_OK;
			tz_pg_fail(p->conn, "database: 参照番号", err, errlen);
			g_clear_pointer(&r, PQclear);
			g_clear_pointer(&p->conn, PQfinish);
			if (fresh || !broken)
				break;
		}
	}
	pthread_mutex_unlock(&p->mu);
	return r;
}

static int pg_claim(struct tz_refs *r, const char *day, const char *code, const char *id,
		    char *err, size_t errlen)
{
	const char *const v[] = { day, code, id, g_get_host_name() };
	PGresult *res = run(RP(r), "INSERT INTO refs(day, code, id, gateway) VALUES($1, $2, $3, $4)"
			    " ON CONFLICT (day, code) DO NOTHING", 4, v, PGRES_COMMAND_OK,
			    err, errlen);
	int rc;

	if (res == NULL)
		return -1;
	rc = strcmp(PQcmdTuples(res), "1") == 0 ? 0 : 1;
	PQclear(res);
	return rc;
}

static int pg_find(struct tz_refs *r, const char *day, const char *code, char id[TZ_ID_LEN],
		   char *err, size_t errlen)
{
	const char *const v[] = { day, code };
	PGresult *res = run(RP(r), "SELECT id FROM refs WHERE day = $1 AND code = $2", 2, v,
			    PGRES_TUPLES_OK, err, errlen);
	int rc = 1;

	if (res == NULL)
		return -1;
	if (PQntuples(res) == 1) {
		const char *s = PQgetvalue(res, 0, 0);
		if (tz_id_valid(s)) {
			g_strlcpy(id, s, TZ_ID_LEN);
			rc = 0;
		} else {
			rc = tz_err(err, errlen, "reference %.4s-%s: damaged record", day + 4, code);
		}
	}
	PQclear(res);
	return rc;
}

static int pg_purge(struct tz_refs *r, const char *keep, char *err, size_t errlen)
{
	const char *const v[] = { keep };
	PGresult *res = run(RP(r), "WITH gone AS (DELETE FROM refs WHERE day < $1 RETURNING day)"
			    " SELECT count(DISTINCT day) FROM gone", 1, v, PGRES_TUPLES_OK,
			    err, errlen);
	int n;

	if (res == NULL)
		return -1;
	n = PQntuples(res) == 1 ? atoi(PQgetvalue(res, 0, 0)) : 0;
	PQclear(res);
	return n;
}

static void pg_free(struct tz_refs *r)
{
	struct refs_pg *p = RP(r);

	PQfinish(p->conn);
	pthread_mutex_destroy(&p->mu);
	g_free(p->url);
	g_free(p);
}

/* a claim is durable with the entry's audit record (ASYNC above): no sync */
static const struct tz_refs_ops pg_ops = { pg_claim, pg_find, pg_purge, pg_free, NULL };

struct tz_refs *tz_refs_pg_new(const char *url)
{
	struct refs_pg *p = g_new0(struct refs_pg, 1);

	p->r.ops = &pg_ops;
	pthread_mutex_init(&p->mu, NULL);
	p->url = g_strdup(url);
	return &p->r;
}
