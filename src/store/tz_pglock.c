/* tz_pglock.c — entry locks and sanitize claims across gateways as
 * PostgreSQL advisory locks (see tz_pglock.h). */
#include "tz_pglock.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "tz_pg.h"
#include "tz_util.h"

/* The two-key advisory lock space: class 0x747a00KK ("tz", the kind); the
 * migration lock uses the one-key space, which never meets this one. */
#define CLASS_BASE 0x747a0000

struct pglock {
	char *url;
	pthread_mutex_t mu;
	GHashTable *held;   /* token -> PGconn * holding its lock */
	GPtrArray *idle;    /* PGconn * without a lock */
};

/* FNV-1a: a stable 32-bit hash of the name, the same on every host and
 * build (g_str_hash is not promised to be). Two names with one hash only
 * wait for each other. */
static int32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (int32_t)h;
}

static PGconn *conn_get(struct pglock *l, int fresh, char *err, size_t errlen)
{
	PGconn *c = NULL;

	pthread_mutex_lock(&l->mu);
	if (!fresh && l->idle->len > 0)
		c = g_ptr_array_steal_index(l->idle, l->idle->len - 1);
	pthread_mutex_unlock(&l->mu);
	if (c)
		return c;
	c = tz_pg_connect(l->url, "textize-lock", err, errlen);
	if (c && tz_pg_exec(c, "SET lock_timeout = '" G_STRINGIFY(TZ_PGLOCK_WAIT_S) "s'", err,
			    errlen) < 0) {
		PQfinish(c);
		c = NULL;
	}
	return c;
}

/* Keep c (holding no lock) for the next one: 1, or 0 when the pool is full. */
static int pool_put(struct pglock *l, PGconn *c)
{
	int kept = 0;

	pthread_mutex_lock(&l->mu);
	if (l->idle->len < TZ_PGLOCK_POOL) {
		g_ptr_array_add(l->idle, c);
		kept = 1;
	}
	pthread_mutex_unlock(&l->mu);
	return kept;
}

/* 1 taken, 0 held elsewhere (try), -1 with err; *broken when the
 * connection failed (worth one retry on a fresh one). */
static int lock_on(PGconn *c, enum tz_xlock_kind kind, const char *name, int block, int *broken,
		   char *err, size_t errlen)
{
	char k1[16], k2[16];
	const char *vals[2] = { k1, k2 };
	PGresult *r;
	int rc;

	snprintf(k1, sizeof k1, "%d", CLASS_BASE | (int)kind);
	snprintf(k2, sizeof k2, "%d", (int)name_hash(name));
	r = PQexecParams(c, block ? "SELECT pg_advisory_lock($1::int, $2::int), true"
				  : "SELECT true, pg_try_advisory_lock($1::int, $2::int)",
			 2, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		*broken = PQstatus(c) != CONNECTION_OK;
		rc = tz_pg_fail(c, "database: cross-host lock", err, errlen);
	} else {
		rc = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
	}
	PQclear(r);
	return rc;
}

static int take(void *ctx, enum tz_xlock_kind kind, const char *name, int block, int token,
		char *err, size_t errlen)
{
	struct pglock *l = ctx;
	int rc = -1, broken = 0;

	for (int attempt = 0; attempt < 2 && rc < 0; attempt++) {
		PGconn *c = conn_get(l, attempt > 0, err, errlen);
		if (c == NULL)
			return -1;
		broken = 0;
		rc = lock_on(c, kind, name, block, &broken, err, errlen);
		if (rc == 1) {
			pthread_mutex_lock(&l->mu);
			g_hash_table_insert(l->held, GINT_TO_POINTER(token), c);
			pthread_mutex_unlock(&l->mu);
			return 1;
		}
		if (rc == 0 || !broken) {   /* not ours, or an answer (a timeout): no retry */
			if (rc < 0 || !pool_put(l, c))
				PQfinish(c);
			return rc;
		}
		PQfinish(c);   /* a pooled connection the server closed: once more */
	}
	return rc;
}

static void drop(void *ctx, int token)
{
	struct pglock *l = ctx;
	PGconn *c;
	PGresult *r;
	int ok;

	pthread_mutex_lock(&l->mu);
	c = g_hash_table_lookup(l->held, GINT_TO_POINTER(token));
	g_hash_table_steal(l->held, GINT_TO_POINTER(token));
	pthread_mutex_unlock(&l->mu);
	if (c == NULL)
		return;
	r = PQexec(c, "SELECT pg_advisory_unlock_all()");
	ok = PQresultStatus(r) == PGRES_TUPLES_OK;
	PQclear(r);
	if (!ok || !pool_put(l, c))
		PQfinish(c);   /* ends the session: the server frees what it held */
}

static void conn_free(gpointer c)
{
	PQfinish(c);
}

static void pglock_free(void *ctx)
{
	struct pglock *l = ctx;

	g_hash_table_unref(l->held);
	g_ptr_array_unref(l->idle);
	pthread_mutex_destroy(&l->mu);
	g_free(l->url);
	g_free(l);
}

struct tz_store_locker tz_pglock_new(const char *url)
{
	struct pglock *l = g_new0(struct pglock, 1);
	struct tz_store_locker r = { .take = take, .drop = drop, .free = pglock_free, .ctx = l };

	l->url = g_strdup(url);
	pthread_mutex_init(&l->mu, NULL);
	l->held = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, conn_free);
	l->idle = g_ptr_array_new_with_free_func(conn_free);
	return r;
}
