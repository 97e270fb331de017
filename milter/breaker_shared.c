/* breaker_shared.c — tz_breaker_shared callbacks (policy) over the shared
 * database's breaker rows (store): the glue between two layers that may
 * not include each other. Calls arrive under the breaker's lock, so the
 * one connection needs no lock of its own. */
#include "breaker_shared.h"

#include <pthread.h>
#include <glib.h>

#include "tz_pgbreaker.h"

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tz_breaker_shared g_shared;

static int load(void *ctx, struct tz_breaker_state *st, char *err, size_t errlen)
{
	struct tz_pgbreaker_row row;

	if (tz_pgbreaker_load(ctx, &row, err, errlen) < 0)
		return -1;
	st->generation = row.generation;
	st->tripped = row.tripped;
	st->since = (time_t)row.since;
	g_strlcpy(st->reason, row.reason, sizeof(st->reason));
	return 0;
}

static int save(void *ctx, const struct tz_breaker_state *st, char *err, size_t errlen)
{
	struct tz_pgbreaker_row row = { st->generation, st->tripped, st->since, "" };

	g_strlcpy(row.reason, st->reason, sizeof(row.reason));
	return tz_pgbreaker_save(ctx, &row, err, errlen);
}

static int counts(void *ctx, const char *key, time_t now, const unsigned w[3], uint64_t c[3],
		  char *err, size_t errlen)
{
	return tz_pgbreaker_counts(ctx, key, now, w, c, err, errlen);
}

static int over(void *ctx, const char *key, time_t now, unsigned window, unsigned *n,
		char *err, size_t errlen)
{
	return tz_pgbreaker_over(ctx, key, now, window, n, err, errlen);
}

static int record(void *ctx, const char *key, unsigned nrcpts, time_t now, char *err,
		  size_t errlen)
{
	return tz_pgbreaker_record(ctx, key, nrcpts, now, err, errlen);
}

const struct tz_breaker_shared *tzm_breaker_shared(const struct tz_config *cfg)
{
	if (!tz_config_store_shared(cfg))
		return NULL;
	pthread_mutex_lock(&g_lock);
	if (g_shared.ctx == NULL)
		g_shared = (struct tz_breaker_shared){ tz_pgbreaker_new(cfg->database_url), load, save,
						       counts, record, over };
	pthread_mutex_unlock(&g_lock);
	return &g_shared;
}
