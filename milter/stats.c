/* stats.c — counting each message and serving StatsSocket (see stats.h). */
#include "stats.h"

#include <string.h>
#include <syslog.h>

#include "policy_glue.h"
#include "runtime.h"
#include "tz_breaker.h"
#include "tz_config.h"
#include "tz_log.h"
#include "tz_pgbreaker.h"
#include "tz_stats.h"
#include "tz_statsd.h"
#include "tz_util.h"

static struct tz_statsd *g_statsd;
static char *g_spec;          /* StatsSocket as configured, for the log */

void tzm_stats_message(const struct tzm_conn *c)
{
	const struct tzm_msg *m = c ? c->msg : NULL;
	struct tz_stats_msg s = { 0 };
	gint64 us;

	if (m == NULL)
		return;
	us = g_get_monotonic_time() - m->t_start;
	s.direction = m->env.direction;
	s.outcome = m->outcome;
	/* released mail skipped the policy verdicts (as in the summary line) */
	if (m->outcome != TZ_OUTCOME_RELEASED)
		tzm_policy_stats(m, &s);
	s.rcpts = m->env.rcpts ? m->env.rcpts->len : 0;
	s.stripped = m->stripped;
	s.bytes_in = m->bytes_in;
	s.bytes_out = m->bytes_out;
	s.ms = us > 0 ? (uint64_t)(us / 1000) : 0;
	tz_stats_record(tz_stats_global(), &s);
}

static struct tz_pgbreaker *g_pgb;   /* render's own connection (the server thread) */

/* StoreBackend postgresql: whether outbound mail is stopped is the shared
 * row every gateway obeys (what textizectl breaker status shows), not this
 * host's file; unreadable reads as such (the breaker then tempfails). The
 * senders over their limit stay this gateway's count. */
static void breaker_shared(const struct tz_config *cfg, struct tz_stats_breaker *b)
{
	struct tz_pgbreaker_row row;
	char err[TZ_ERRLEN];

	if (g_pgb == NULL)
		g_pgb = tz_pgbreaker_new(cfg->database_url);
	if (g_pgb == NULL || tz_pgbreaker_load(g_pgb, &row, err, sizeof(err)) < 0) {
		b->state = TZ_STATS_BREAKER_UNREADABLE;
		b->since = 0;
		return;
	}
	b->state = row.tripped ? TZ_STATS_BREAKER_TRIPPED : TZ_STATS_BREAKER_NORMAL;
	b->since = row.tripped ? (time_t)row.since : 0;
}

/* The server thread's view: the counters now, and the breaker as its state
 * file says (the file is what textizectl breaker shows and resets), or the
 * shared database on StoreBackend postgresql. */
static char *render(enum tz_statsd_format fmt, void *arg)
{
	struct tzm_runtime *rt = tzm_runtime_current();
	struct tz_stats_breaker b;
	struct tz_stats_snapshot sn;
	char *path = NULL, *out;

	if (rt && rt->cfg->state_dir)
		path = g_build_filename(rt->cfg->state_dir, TZ_BREAKER_STATE_FILE, NULL);
	tz_stats_breaker_load(path, &b);
	if (rt && tz_config_store_shared(rt->cfg))
		breaker_shared(rt->cfg, &b);
	tz_stats_snapshot(tz_stats_global(), &b, &sn);
	switch (fmt) {
	case TZ_STATSD_PROMETHEUS: out = tz_stats_prometheus(&sn); break;
	case TZ_STATSD_JSON: out = tz_stats_json(&sn); break;
	default: out = tz_stats_table(&sn); break;
	}
	g_free(path);
	tzm_runtime_unref(rt);
	return out;
}

void tzm_stats_open(const struct tz_config *cfg, const struct tzm_user *u)
{
	char err[TZ_ERRLEN];

	tz_stats_global();   /* counters start now */
	if (cfg->stats_socket == NULL)
		return;
	g_statsd = tz_statsd_open(cfg->stats_socket, cfg->socket_mode,
				  u->set ? u->uid : (uid_t)-1, u->set ? u->gid : (gid_t)-1,
				  err, sizeof(err));
	if (g_statsd == NULL)
		tz_log(LOG_ERR, NULL, "stats: %s; running without StatsSocket", err);
	else
		g_spec = g_strdup(cfg->stats_socket);
}

void tzm_stats_start(void)
{
	char err[TZ_ERRLEN];

	if (g_statsd == NULL)
		return;
	if (tz_statsd_start(g_statsd, render, NULL, err, sizeof(err)) < 0) {
		tz_log(LOG_ERR, NULL, "stats: %s; running without StatsSocket", err);
		tz_statsd_free(g_statsd);
		g_statsd = NULL;
		return;
	}
	tz_log(LOG_INFO, NULL, "stats: serving on %s", g_spec);
}

void tzm_stats_stop(void)
{
	tz_statsd_free(g_statsd);   /* the server thread is gone: its connection goes too */
	g_statsd = NULL;
	tz_pgbreaker_free(g_pgb);
	g_pgb = NULL;
	g_free(g_spec);
	g_spec = NULL;
}
