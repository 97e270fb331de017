/* tz_stats.c — the milter's counters and their three renderings (see
 * tz_stats.h). Counters are C11 atomics updated with relaxed order: they
 * are independent tallies, no reader relies on one being ordered after
 * another, and a mail thread must never wait for the stats thread. */
#include "tz_stats.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "tz_breaker.h"
#include "tz_json.h"
#include "tz_util.h"

typedef _Atomic uint64_t counter_t;

struct tz_stats {
	counter_t messages[TZ_STATS_NDIR][TZ_STATS_NACTIONS];
	counter_t hits[TZ_NRULES][TZ_STATS_NVERDICT];
	counter_t stripped;
	counter_t bytes_in, bytes_out;
	counter_t buckets[TZ_STATS_NBUCKETS];
	counter_t ms_sum;
	_Atomic int64_t started;
};

static const uint64_t bucket_bounds[TZ_STATS_NBUCKETS - 1] = TZ_STATS_BUCKET_BOUNDS;

/* Prometheus le="" labels of the bounds, in seconds. */
static const char *const bucket_le[TZ_STATS_NBUCKETS] = {
	"0.001", "0.002", "0.005", "0.01", "0.02", "0.05", "0.1", "0.2", "0.5",
	"1", "2", "5", "10", "+Inf"
};

static const char *const action_names[TZ_STATS_NACTIONS] = {
	[TZ_STATS_TEXTIZED] = "textized",
	[TZ_STATS_PASSED] = "passed",
	[TZ_STATS_RELEASED] = "released",
	[TZ_STATS_POLICY_REJECT] = "policy_reject",
	[TZ_STATS_POLICY_TEMPFAIL] = "policy_tempfail",
	[TZ_STATS_POLICY_HOLD] = "policy_hold",
	[TZ_STATS_POLICY_TAG] = "policy_tag",
	[TZ_STATS_ERROR_TEMPFAIL] = "error_tempfail",
	[TZ_STATS_ERROR_REJECT] = "error_reject",
	[TZ_STATS_TOO_BIG] = "too_big",
	[TZ_STATS_ABORTED] = "aborted",
};

static const char *const outcome_names[TZ_NOUTCOMES] = {
	[TZ_OUTCOME_ABORTED] = "aborted",
	[TZ_OUTCOME_TEXTIZED] = "textized",
	[TZ_OUTCOME_PASSED] = "passed",
	[TZ_OUTCOME_RELEASED] = "released",
	[TZ_OUTCOME_POLICY] = "policy",
	[TZ_OUTCOME_ERROR_TEMPFAIL] = "tempfail",
	[TZ_OUTCOME_ERROR_REJECT] = "reject",
	[TZ_OUTCOME_TOO_BIG] = "reject-size",
};

/* The policy actions a rule can have; accept is never a hit. */
static const enum tz_action hit_actions[] = {
	TZ_ACTION_REJECT, TZ_ACTION_TEMPFAIL, TZ_ACTION_HOLD, TZ_ACTION_REWRITE,
	TZ_ACTION_TAG, TZ_ACTION_LOG
};

static const char *const dir_names[TZ_STATS_NDIR] = { "inbound", "outbound" };

static struct tz_stats g_stats;

static void add(counter_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t get(counter_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

struct tz_stats *tz_stats_global(void)
{
	int64_t zero = 0;

	/* the first caller (main, at start-up) sets the start time */
	atomic_compare_exchange_strong(&g_stats.started, &zero, (int64_t)time(NULL));
	return &g_stats;
}

struct tz_stats *tz_stats_new(void)
{
	struct tz_stats *s = g_new0(struct tz_stats, 1);

	atomic_store(&s->started, (int64_t)time(NULL));
	return s;
}

void tz_stats_free(struct tz_stats *s)
{
	if (s != NULL && s != &g_stats)
		g_free(s);
}

const char *tz_outcome_name(enum tz_outcome o)
{
	return (unsigned)o < TZ_NOUTCOMES ? outcome_names[o] : "?";
}

const char *tz_stats_action_name(enum tz_stats_action a)
{
	return (unsigned)a < TZ_STATS_NACTIONS ? action_names[a] : "?";
}

/* A message that let through with a hold or tag counts under that, since
 * it is what an operator looks for (hold: waiting in Postfix). */
static enum tz_stats_action let_through(const struct tz_stats_msg *m, enum tz_stats_action a)
{
	if (m->verdict == TZ_ACTION_HOLD)
		return TZ_STATS_POLICY_HOLD;
	if (m->verdict == TZ_ACTION_TAG)
		return TZ_STATS_POLICY_TAG;
	return a;
}

enum tz_stats_action tz_stats_classify(const struct tz_stats_msg *m)
{
	switch (m->outcome) {
	case TZ_OUTCOME_TEXTIZED: return let_through(m, TZ_STATS_TEXTIZED);
	case TZ_OUTCOME_PASSED: return let_through(m, TZ_STATS_PASSED);
	case TZ_OUTCOME_RELEASED: return TZ_STATS_RELEASED;
	case TZ_OUTCOME_POLICY:
		return m->verdict == TZ_ACTION_REJECT ? TZ_STATS_POLICY_REJECT : TZ_STATS_POLICY_TEMPFAIL;
	case TZ_OUTCOME_ERROR_REJECT: return TZ_STATS_ERROR_REJECT;
	case TZ_OUTCOME_ERROR_TEMPFAIL: return TZ_STATS_ERROR_TEMPFAIL;
	case TZ_OUTCOME_TOO_BIG: return TZ_STATS_TOO_BIG;
	default: break;
	}
	/* Every recipient refused at RCPT: the MTA never reaches DATA and
	 * aborts, but the message was refused by the relay rule. */
	if (m->relay_refused > 0 && m->rcpts == 0)
		return m->relay_action == TZ_ACTION_TEMPFAIL ? TZ_STATS_POLICY_TEMPFAIL
							      : TZ_STATS_POLICY_REJECT;
	return TZ_STATS_ABORTED;
}

/* Count every hit of the message's verdict. */
static void record_hits(struct tz_stats *s, const struct tz_hit *hits, unsigned n)
{
	for (unsigned i = 0; hits && i < n; i++) {
		const struct tz_hit *h = &hits[i];

		if (h->action != TZ_ACTION_ACCEPT && (unsigned)h->action < TZ_STATS_NVERDICT)
			add(&s->hits[(unsigned)h->rule < TZ_NRULES ? h->rule : TZ_RULE_OTHER][h->action], 1);
	}
}

void tz_stats_record(struct tz_stats *s, const struct tz_stats_msg *m)
{
	unsigned dir = m->direction == TZ_DIR_OUTBOUND ? 1 : 0;
	unsigned b = 0;

	add(&s->messages[dir][tz_stats_classify(m)], 1);
	record_hits(s, m->hits, m->nhits);
	if (m->relay_refused > 0 && (unsigned)m->relay_action < TZ_STATS_NVERDICT)
		add(&s->hits[TZ_RULE_RELAY][m->relay_action], 1);
	add(&s->stripped, m->stripped);
	add(&s->bytes_in, m->bytes_in);
	add(&s->bytes_out, m->bytes_out);
	while (b < TZ_STATS_NBUCKETS - 1 && m->ms > bucket_bounds[b])
		b++;
	add(&s->buckets[b], 1);
	add(&s->ms_sum, m->ms);
}

/* ------------------------------------------------------------ breaker */

void tz_stats_breaker_load(const char *path, struct tz_stats_breaker *b)
{
	struct tz_breaker_state st;
	char err[TZ_ERRLEN];

	memset(b, 0, sizeof(*b));
	if (path == NULL)
		return;
	tz_breaker_state_init(&st);
	if (tz_breaker_state_load(path, &st, err, sizeof(err)) < 0) {
		b->state = TZ_STATS_BREAKER_UNREADABLE;
	} else {
		b->state = st.tripped ? TZ_STATS_BREAKER_TRIPPED : TZ_STATS_BREAKER_NORMAL;
		b->since = st.tripped ? st.since : 0;
		b->senders_over = st.senders->len;
	}
	tz_breaker_state_clear(&st);
}

const char *tz_stats_breaker_name(enum tz_stats_breaker_state s)
{
	switch (s) {
	case TZ_STATS_BREAKER_NORMAL: return "normal";
	case TZ_STATS_BREAKER_TRIPPED: return "tripped";
	case TZ_STATS_BREAKER_UNREADABLE: return "unreadable";
	default: return "unknown";
	}
}

/* ------------------------------------------------------------ snapshot */

void tz_stats_snapshot(struct tz_stats *s, const struct tz_stats_breaker *breaker,
		       struct tz_stats_snapshot *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned d = 0; d < TZ_STATS_NDIR; d++)
		for (unsigned a = 0; a < TZ_STATS_NACTIONS; a++)
			out->messages[d][a] = get(&s->messages[d][a]);
	for (unsigned r = 0; r < TZ_NRULES; r++)
		for (unsigned a = 0; a < TZ_STATS_NVERDICT; a++)
			out->hits[r][a] = get(&s->hits[r][a]);
	out->stripped = get(&s->stripped);
	out->bytes_in = get(&s->bytes_in);
	out->bytes_out = get(&s->bytes_out);
	for (unsigned b = 0; b < TZ_STATS_NBUCKETS; b++)
		out->buckets[b] = get(&s->buckets[b]);
	out->ms_sum = get(&s->ms_sum);
	out->started = (time_t)atomic_load(&s->started);
	out->now = time(NULL);
	if (breaker)
		out->breaker = *breaker;
}

static uint64_t sum_actions(const struct tz_stats_snapshot *sn, const enum tz_stats_action *a)
{
	uint64_t n = 0;

	for (; *a != TZ_STATS_NACTIONS; a++)
		for (unsigned d = 0; d < TZ_STATS_NDIR; d++)
			n += sn->messages[d][*a];
	return n;
}

uint64_t tz_stats_total(const struct tz_stats_snapshot *sn)
{
	uint64_t n = 0;

	for (unsigned d = 0; d < TZ_STATS_NDIR; d++)
		for (unsigned a = 0; a < TZ_STATS_NACTIONS; a++)
			n += sn->messages[d][a];
	return n;
}

uint64_t tz_stats_tempfails(const struct tz_stats_snapshot *sn)
{
	static const enum tz_stats_action a[] = {
		TZ_STATS_POLICY_TEMPFAIL, TZ_STATS_ERROR_TEMPFAIL, TZ_STATS_NACTIONS
	};
	return sum_actions(sn, a);
}

uint64_t tz_stats_rejects(const struct tz_stats_snapshot *sn)
{
	static const enum tz_stats_action a[] = {
		TZ_STATS_POLICY_REJECT, TZ_STATS_ERROR_REJECT, TZ_STATS_TOO_BIG, TZ_STATS_NACTIONS
	};
	return sum_actions(sn, a);
}

double tz_stats_quantile_ms(const struct tz_stats_snapshot *sn, double q)
{
	uint64_t total = 0, cum = 0;
	double rank;

	for (unsigned b = 0; b < TZ_STATS_NBUCKETS; b++)
		total += sn->buckets[b];
	if (total == 0 || q <= 0)
		return 0;
	rank = (q > 1 ? 1 : q) * (double)total;
	for (unsigned b = 0; b < TZ_STATS_NBUCKETS; b++) {
		double lo = b == 0 ? 0 : (double)bucket_bounds[b - 1];

		if (sn->buckets[b] == 0 || (double)(cum + sn->buckets[b]) < rank) {
			cum += sn->buckets[b];
			continue;
		}
		if (b == TZ_STATS_NBUCKETS - 1)
			return lo;   /* +Inf: nothing better than the last bound */
		return lo + ((double)bucket_bounds[b] - lo) * (rank - (double)cum) /
			(double)sn->buckets[b];
	}
	return (double)bucket_bounds[TZ_STATS_NBUCKETS - 2];
}

/* ------------------------------------------------------------ renderings */

static void prom_head(GString *o, const char *name, const char *type, const char *help)
{
	g_string_append_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_messages(GString *o, const struct tz_stats_snapshot *sn)
{
	prom_head(o, "textize_messages_total", "counter",
		  "Messages seen by the milter, by direction and how each ended.");
	for (unsigned d = 0; d < TZ_STATS_NDIR; d++)
		for (unsigned a = 0; a < TZ_STATS_NACTIONS; a++)
			g_string_append_printf(o, "textize_messages_total{direction=\"%s\",action=\"%s\"} %llu\n",
					       dir_names[d], action_names[a],
					       (unsigned long long)sn->messages[d][a]);
	prom_head(o, "textize_policy_hits_total", "counter",
		  "Messages on which a policy rule fired, by rule and configured action.");
	for (unsigned r = 0; r < TZ_NRULES; r++)
		for (unsigned i = 0; i < G_N_ELEMENTS(hit_actions); i++)
			g_string_append_printf(o, "textize_policy_hits_total{rule=\"%s\",action=\"%s\"} %llu\n",
					       tz_rule_name(r), tz_action_name(hit_actions[i]),
					       (unsigned long long)sn->hits[r][hit_actions[i]]);
}

static void prom_counter(GString *o, const char *name, const char *help, uint64_t v)
{
	prom_head(o, name, "counter", help);
	g_string_append_printf(o, "%s %llu\n", name, (unsigned long long)v);
}

static void prom_histogram(GString *o, const struct tz_stats_snapshot *sn)
{
	uint64_t cum = 0;

	prom_head(o, "textize_processing_seconds", "histogram",
		  "Time from MAIL FROM to the end of each message.");
	for (unsigned b = 0; b < TZ_STATS_NBUCKETS; b++) {
		cum += sn->buckets[b];
		g_string_append_printf(o, "textize_processing_seconds_bucket{le=\"%s\"} %llu\n",
				       bucket_le[b], (unsigned long long)cum);
	}
	g_string_append_printf(o, "textize_processing_seconds_sum %llu.%03llu\n",
			       (unsigned long long)(sn->ms_sum / 1000),
			       (unsigned long long)(sn->ms_sum % 1000));
	g_string_append_printf(o, "textize_processing_seconds_count %llu\n", (unsigned long long)cum);
}

char *tz_stats_prometheus(const struct tz_stats_snapshot *sn)
{
	GString *o = g_string_sized_new(8192);

	prom_messages(o, sn);
	prom_counter(o, "textize_stripped_parts_total",
		     "Parts removed from text-ized mail (kept in the sanitization queue).", sn->stripped);
	prom_counter(o, "textize_tempfails_total",
		     "Messages answered 4xx (policy or internal error).", tz_stats_tempfails(sn));
	prom_counter(o, "textize_received_bytes_total",
		     "Header and body bytes received from the MTA.", sn->bytes_in);
	prom_counter(o, "textize_written_bytes_total",
		     "Bytes of new text bodies sent back to the MTA.", sn->bytes_out);
	prom_histogram(o, sn);
	prom_head(o, "textize_breaker_tripped", "gauge",
		  "1 when the outbound circuit breaker stops outbound mail (or its state is unreadable).");
	g_string_append_printf(o, "textize_breaker_tripped %d\n",
			       sn->breaker.state == TZ_STATS_BREAKER_TRIPPED ||
			       sn->breaker.state == TZ_STATS_BREAKER_UNREADABLE);
	prom_head(o, "textize_breaker_senders_over", "gauge",
		  "Senders currently over their outbound rate limit.");
	g_string_append_printf(o, "textize_breaker_senders_over %u\n", sn->breaker.senders_over);
	prom_head(o, "textize_start_time_seconds", "gauge",
		  "When the counters started (Unix time); they restart with the milter.");
	g_string_append_printf(o, "textize_start_time_seconds %lld\n", (long long)sn->started);
	return g_string_free(o, FALSE);
}

static uint64_t round_ms(double ms)
{
	return (uint64_t)(ms + 0.5);
}

static void json_messages(struct tz_json *j, const struct tz_stats_snapshot *sn)
{
	tz_json_begin_object(j, "messages");
	tz_json_uint(j, "total", tz_stats_total(sn));
	for (unsigned d = 0; d < TZ_STATS_NDIR; d++) {
		tz_json_begin_object(j, dir_names[d]);
		for (unsigned a = 0; a < TZ_STATS_NACTIONS; a++)
			tz_json_uint(j, action_names[a], sn->messages[d][a]);
		tz_json_end_object(j);
	}
	tz_json_end_object(j);
	tz_json_begin_object(j, "policy");
	for (unsigned r = 0; r < TZ_NRULES; r++) {
		tz_json_begin_object(j, tz_rule_name(r));
		for (unsigned i = 0; i < G_N_ELEMENTS(hit_actions); i++)
			tz_json_uint(j, tz_action_name(hit_actions[i]), sn->hits[r][hit_actions[i]]);
		tz_json_end_object(j);
	}
	tz_json_end_object(j);
}

char *tz_stats_json(const struct tz_stats_snapshot *sn)
{
	struct tz_json *j = tz_json_new();
	uint64_t count = 0;

	tz_json_begin_object(j, NULL);
	json_messages(j, sn);
	tz_json_uint(j, "stripped_parts", sn->stripped);
	tz_json_uint(j, "rejects", tz_stats_rejects(sn));
	tz_json_uint(j, "tempfails", tz_stats_tempfails(sn));
	tz_json_uint(j, "bytes_in", sn->bytes_in);
	tz_json_uint(j, "bytes_out", sn->bytes_out);
	tz_json_begin_object(j, "latency_ms");
	tz_json_uint(j, "p50", round_ms(tz_stats_quantile_ms(sn, 0.5)));
	tz_json_uint(j, "p99", round_ms(tz_stats_quantile_ms(sn, 0.99)));
	tz_json_uint(j, "sum", sn->ms_sum);
	tz_json_begin_object(j, "buckets");
	for (unsigned b = 0; b < TZ_STATS_NBUCKETS; b++) {
		char le[24];

		count += sn->buckets[b];
		if (b < TZ_STATS_NBUCKETS - 1)
			snprintf(le, sizeof(le), "%llu", (unsigned long long)bucket_bounds[b]);
		else
			g_strlcpy(le, "+Inf", sizeof(le));
		tz_json_uint(j, le, count);   /* cumulative, like le= */
	}
	tz_json_end_object(j);
	tz_json_uint(j, "count", count);
	tz_json_end_object(j);
	tz_json_begin_object(j, "breaker");
	tz_json_string(j, "state", tz_stats_breaker_name(sn->breaker.state));
	tz_json_int(j, "since", (int64_t)sn->breaker.since);
	tz_json_uint(j, "senders_over", sn->breaker.senders_over);
	tz_json_end_object(j);
	tz_json_int(j, "started", (int64_t)sn->started);
	tz_json_int(j, "uptime_s", (int64_t)(sn->now - sn->started));
	tz_json_end_object(j);
	return tz_json_finish(j);
}

/* One "  name  N" line per nonzero counter of a row. */
static void table_rules(GString *o, const struct tz_stats_snapshot *sn)
{
	bool any = false;

	g_string_append(o, "policy rules fired (messages):\n");
	for (unsigned r = 0; r < TZ_NRULES; r++) {
		GString *line = g_string_new("");

		for (unsigned i = 0; i < G_N_ELEMENTS(hit_actions); i++)
			if (sn->hits[r][hit_actions[i]])
				g_string_append_printf(line, " %s=%llu", tz_action_name(hit_actions[i]),
						       (unsigned long long)sn->hits[r][hit_actions[i]]);
		if (line->len) {
			g_string_append_printf(o, "  %-12s%s\n", tz_rule_name(r), line->str);
			any = true;
		}
		g_string_free(line, TRUE);
	}
	if (!any)
		g_string_append(o, "  (none)\n");
}

char *tz_stats_table(const struct tz_stats_snapshot *sn)
{
	GString *o = g_string_sized_new(2048);

	g_string_append_printf(o, "messages: %llu (since %lld s ago)\n",
			       (unsigned long long)tz_stats_total(sn), (long long)(sn->now - sn->started));
	g_string_append_printf(o, "  %-16s %10s %10s\n", "action", "inbound", "outbound");
	for (unsigned a = 0; a < TZ_STATS_NACTIONS; a++)
		g_string_append_printf(o, "  %-16s %10llu %10llu\n", action_names[a],
				       (unsigned long long)sn->messages[0][a],
				       (unsigned long long)sn->messages[1][a]);
	g_string_append_printf(o, "stripped parts: %llu\n", (unsigned long long)sn->stripped);
	g_string_append_printf(o, "rejects: %llu\n", (unsigned long long)tz_stats_rejects(sn));
	g_string_append_printf(o, "tempfails: %llu\n", (unsigned long long)tz_stats_tempfails(sn));
	table_rules(o, sn);
	g_string_append_printf(o, "time per message: p50 %.0f ms, p99 %.0f ms (estimated)\n",
			       tz_stats_quantile_ms(sn, 0.5), tz_stats_quantile_ms(sn, 0.99));
	g_string_append_printf(o, "breaker: %s", tz_stats_breaker_name(sn->breaker.state));
	if (sn->breaker.state == TZ_STATS_BREAKER_TRIPPED ||
	    sn->breaker.state == TZ_STATS_BREAKER_UNREADABLE)
		g_string_append(o, " (outbound mail is tempfailed; textizectl breaker status)");
	g_string_append_printf(o, ", senders over their limit: %u\n", sn->breaker.senders_over);
	return g_string_free(o, FALSE);
}
