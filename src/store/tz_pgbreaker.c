/* tz_pgbreaker.c — the breaker's rows in the shared database (see
 * tz_pgbreaker.h; tables breaker and breaker_events, tz_pgschema.c
 * migration 2). */
#include "tz_pgbreaker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "tz_pg.h"
#include "tz_util.h"

#define PRUNE_EVERY_S 60
#define KEEP_S (7 * 86400)   /* tz_rate_parse's longest window */

struct tz_pgbreaker {
	char *url;
	PGconn *conn;
	time_t last_prune;
};

struct tz_pgbreaker *tz_pgbreaker_new(const char *url)
{
	struct tz_pgbreaker *pb = g_new0(struct tz_pgbreaker, 1);

	pb->url = g_strdup(url);
	return pb;
}

void tz_pgbreaker_free(struct tz_pgbreaker *pb)
{
	if (pb == NULL)
		return;
	PQfinish(pb->conn);
	g_free(pb->url);
	g_free(pb);
}

/* Run sql with n text parameters; the result (caller PQclear()s), or NULL
 * with err after dropping the connection (the next call reconnects). */
static PGresult *q(struct tz_pgbreaker *pb, const char *sql, int n, const char *const *v,
		   char *err, size_t errlen)
{
	PGresult *r;
	ExecStatusType st;

	if (pb->conn && PQstatus(pb->conn) != CONNECTION_OK) {
		PQfinish(pb->conn);
		pb->conn = NULL;
	}
	if (pb->conn == NULL &&
	    (pb->conn = tz_pg_open(pb->url, "textize-breaker", err, errlen)) == NULL)
		return NULL;
	r = PQexecParams(pb->conn, sql, n, NULL, v, NULL, NULL, 0);
	st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	tz_pg_fail(pb->conn, "breaker", err, errlen);
	PQclear(r);
	PQfinish(pb->conn);
	pb->conn = NULL;
	return NULL;
}

int tz_pgbreaker_load(struct tz_pgbreaker *pb, struct tz_pgbreaker_row *row, char *err,
		      size_t errlen)
{
	PGresult *r = q(pb, "SELECT generation, tripped, since, reason FROM breaker", 0, NULL,
			err, errlen);

	if (r == NULL)
		return -1;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return tz_err(err, errlen, "breaker: the state row is missing (run textizectl db migrate)");
	}
	row->generation = g_ascii_strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	row->tripped = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
	row->since = g_ascii_strtoll(PQgetvalue(r, 0, 2), NULL, 10);
	g_strlcpy(row->reason, PQgetvalue(r, 0, 3), sizeof(row->reason));
	PQclear(r);
	return 0;
}

int tz_pgbreaker_save(struct tz_pgbreaker *pb, const struct tz_pgbreaker_row *row, char *err,
		      size_t errlen)
{
	char since[32], gen[32];
	const char *const v[] = { row->tripped ? "true" : "false", since, row->reason, gen };
	PGresult *r;
	int ret;

	snprintf(since, sizeof(since), "%lld", (long long)row->since);
	snprintf(gen, sizeof(gen), "%llu", (unsigned long long)row->generation);
	r = q(pb, "UPDATE breaker SET tripped = $1, since = $2, reason = $3 WHERE generation = $4",
	      4, v, err, errlen);
	if (r == NULL)
		return -1;
	ret = strcmp(PQcmdTuples(r), "1") == 0 ? 0 : 1;
	PQclear(r);
	return ret;
}

int tz_pgbreaker_counts(struct tz_pgbreaker *pb, const char *key, time_t now,
			const unsigned w[3], uint64_t c[3], char *err, size_t errlen)
{
	char t[32], w0[16], w1[16], w2[16];
	const char *const v[] = { key, t, w0, w1, w2 };
	PGresult *r;

	snprintf(t, sizeof(t), "%lld", (long long)now);
	snprintf(w0, sizeof(w0), "%u", w[0]);
	snprintf(w1, sizeof(w1), "%u", w[1]);
	snprintf(w2, sizeof(w2), "%u", w[2]);
	r = q(pb, "SELECT"
	      " (SELECT count(*) FROM breaker_events WHERE $3::int > 0 AND sender = $1"
	      "  AND t > $2::bigint - $3::int),"
	      " (SELECT coalesce(sum(rcpts), 0) FROM breaker_events WHERE $4::int > 0"
	      "  AND sender = $1 AND t > $2::bigint - $4::int),"
	      " (SELECT count(*) FROM breaker_events WHERE $5::int > 0 AND t > $2::bigint - $5::int)",
	      5, v, err, errlen);
	if (r == NULL)
		return -1;
	for (int i = 0; i < 3; i++)
		c[i] = g_ascii_strtoull(PQgetvalue(r, 0, i), NULL, 10);
	PQclear(r);
	return 0;
}

int tz_pgbreaker_record(struct tz_pgbreaker *pb, const char *key, unsigned nrcpts, time_t now,
			char *err, size_t errlen)
{
	char t[32], n[16], old[32];
	const char *host = g_get_host_name();
	const char *const v[] = { t, key, n, host };
	PGresult *r;

	snprintf(t, sizeof(t), "%lld", (long long)now);
	snprintf(n, sizeof(n), "%u", nrcpts);
	r = q(pb, "INSERT INTO breaker_events(t, sender, rcpts, host) VALUES($1, $2, $3, $4)", 4, v,
	      err, errlen);
	if (r == NULL)
		return -1;
	PQclear(r);
	if (now - pb->last_prune >= PRUNE_EVERY_S) {
		const char *const pv[] = { old };
		pb->last_prune = now;
		snprintf(old, sizeof(old), "%lld", (long long)(now - KEEP_S));
		/* a failed prune only leaves old rows for the next one */
		if ((r = q(pb, "DELETE FROM breaker_events WHERE t <= $1", 1, pv, err, errlen)) != NULL)
			PQclear(r);
		if ((r = q(pb, "DELETE FROM breaker_senders WHERE since <= $1", 1, pv, err, errlen)) != NULL)
			PQclear(r);
	}
	return 0;
}

int tz_pgbreaker_over(struct tz_pgbreaker *pb, const char *key, time_t now, unsigned window,
		      unsigned *n, char *err, size_t errlen)
{
	char t[32], w[16];
	const char *const v[] = { key, t, w };
	PGresult *r;

	snprintf(t, sizeof(t), "%lld", (long long)now);
	snprintf(w, sizeof(w), "%u", window);
	/* one statement: the upsert is visible to the count (a CTE's
	 * RETURNING), so this sender is counted even on the first trip */
	r = q(pb, "WITH up AS (INSERT INTO breaker_senders(sender, since) VALUES($1, $2::bigint)"
	      " ON CONFLICT (sender) DO UPDATE SET since = EXCLUDED.since RETURNING sender)"
	      " SELECT (SELECT count(*) FROM breaker_senders WHERE sender <> $1"
	      "  AND since > $2::bigint - $3::int) + (SELECT count(*) FROM up)", 3, v, err, errlen);
	if (r == NULL)
		return -1;
	*n = (unsigned)g_ascii_strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return 0;
}

int tz_pgbreaker_reset(struct tz_pgbreaker *pb, uint64_t *generation, char *err, size_t errlen)
{
	/* the senders that went over start afresh, as on one host; a data-
	 * modifying CTE keeps it one statement */
	PGresult *r = q(pb, "WITH s AS (DELETE FROM breaker_senders)"
			" UPDATE breaker SET generation = generation + 1, tripped = false,"
			" since = 0, reason = '' RETURNING generation", 0, NULL, err, errlen);

	if (r == NULL)
		return -1;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return tz_err(err, errlen, "breaker: the state row is missing (run textizectl db migrate)");
	}
	*generation = g_ascii_strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return 0;
}
