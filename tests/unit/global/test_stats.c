/* test_stats.c — the milter's counters (tz_stats) and the StatsSocket
 * server (tz_statsd): how each message end is classified, counting and
 * policy hits, histogram buckets and p50/p99 checked by hand, the exact
 * lines of the Prometheus exposition and its format rules, the JSON and
 * table, threads counting at once, the breaker state file, and requests
 * (HTTP, bare lines, bad ones) on a socketpair and a real unix socket. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "tz_breaker.h"
#include "tz_stats.h"
#include "tz_statsd.h"
#include "tz_util.h"

/* Verdict hits as tz_verdict_hit records them. */
static const struct tz_hit spf_tag[] = { { TZ_RULE_SPF, TZ_ACTION_TAG } };
static const struct tz_hit spf_tag_spoof_reject[] = {
	{ TZ_RULE_SPF, TZ_ACTION_TAG }, { TZ_RULE_SPOOF, TZ_ACTION_REJECT } };
static const struct tz_hit breaker_and_unknown[] = {
	{ TZ_RULE_BREAKER, TZ_ACTION_TEMPFAIL }, { (enum tz_rule)99, TZ_ACTION_HOLD },
	{ TZ_RULE_OTHER, TZ_ACTION_REJECT }, { TZ_RULE_SPF, TZ_ACTION_ACCEPT } };
static const struct tz_hit autofwd_reject[] = { { TZ_RULE_AUTOFWD, TZ_ACTION_REJECT } };
#define SET_HITS(m, a) ((m).hits = (a), (m).nhits = G_N_ELEMENTS(a))

static struct tz_stats_msg msg(enum tz_direction d, enum tz_outcome outcome, uint64_t ms)
{
	struct tz_stats_msg m = { 0 };

	m.direction = d;
	m.outcome = outcome;
	m.rcpts = 1;
	m.ms = ms;
	return m;
}

static void test_classify(void **state)
{
	struct tz_stats_msg m = msg(TZ_DIR_INBOUND, TZ_OUTCOME_TEXTIZED, 0);

	assert_int_equal(tz_stats_classify(&m), TZ_STATS_TEXTIZED);
	m.verdict = TZ_ACTION_LOG;   /* invisible to the sender: still textized */
	assert_int_equal(tz_stats_classify(&m), TZ_STATS_TEXTIZED);
	m.verdict = TZ_ACTION_TAG;
	assert_int_equal(tz_stats_classify(&m), TZ_STATS_POLICY_TAG);
	m.verdict = TZ_ACTION_HOLD;
	assert_int_equal(tz_stats_classify(&m), TZ_STATS_POLICY_HOLD);
	m.outcome = TZ_OUTCOME_PASSED;
	assert_int_equal(tz_stats_classify(&m), TZ_STATS_POLICY_HOLD);
	m.verdict = TZ_ACTION_ACCEPT;
	assert_int_equal(tz_stats_classify(&m), TZ_STATS_PASSED);
	m.outcome = TZ_OUTCOME_RELEASED;
	assert_int_equal(tz_stats_classify(&m), TZ_STATS_RELEASED);
	m.outcome = TZ_OUTCOME_POLICY;
	m.verdict = TZ_ACTION_REJECT;
	assert_int_equal(tz_stats_classify(&m), TZ_STATS_POLICY_REJECT);
	m.verdict = TZ_ACTION_TEMPFAIL;
	assert_int_equal(tz_stats_classify(&m), TZ_STATS_POLICY_TEMPFAIL);
	m.outcome = TZ_OUTCOME_ERROR_TEMPFAIL;
	assert_int_equal(tz_stats_classify(&m), TZ_STATS_ERROR_TEMPFAIL);
	m.outcome = TZ_OUTCOME_ERROR_REJECT;
	assert_int_equal(tz_stats_classify(&m), TZ_STATS_ERROR_REJECT);
	m.outcome = TZ_OUTCOME_TOO_BIG;
	assert_int_equal(tz_stats_classify(&m), TZ_STATS_TOO_BIG);
	m.outcome = TZ_OUTCOME_ABORTED;
	assert_int_equal(tz_stats_classify(&m), TZ_STATS_ABORTED);
	m.outcome = (enum tz_outcome)0;   /* a message nobody ended */
	assert_int_equal(tz_stats_classify(&m), TZ_STATS_ABORTED);
	/* every recipient refused as a relay attempt: refused, not aborted */
	m.outcome = TZ_OUTCOME_ABORTED;
	m.relay_refused = 2;
	m.relay_action = TZ_ACTION_REJECT;
	assert_int_equal(tz_stats_classify(&m), TZ_STATS_ABORTED);   /* one rcpt left */
	m.rcpts = 0;
	assert_int_equal(tz_stats_classify(&m), TZ_STATS_POLICY_REJECT);
	m.relay_action = TZ_ACTION_TEMPFAIL;
	assert_int_equal(tz_stats_classify(&m), TZ_STATS_POLICY_TEMPFAIL);
}

static void test_counting(void **state)
{
	struct tz_stats *s = tz_stats_new();
	struct tz_stats_snapshot sn;
	struct tz_stats_msg m;

	m = msg(TZ_DIR_INBOUND, TZ_OUTCOME_TEXTIZED, 3);
	m.stripped = 2;
	m.bytes_in = 1000;
	m.bytes_out = 300;
	SET_HITS(m, spf_tag);
	m.verdict = TZ_ACTION_TAG;
	tz_stats_record(s, &m);
	m = msg(TZ_DIR_INBOUND, TZ_OUTCOME_TEXTIZED, 4);
	m.stripped = 1;
	tz_stats_record(s, &m);
	m = msg(TZ_DIR_INBOUND, TZ_OUTCOME_POLICY, 1);
	m.verdict = TZ_ACTION_REJECT;
	SET_HITS(m, spf_tag_spoof_reject);
	tz_stats_record(s, &m);
	m = msg(TZ_DIR_OUTBOUND, TZ_OUTCOME_POLICY, 1);
	m.verdict = TZ_ACTION_TEMPFAIL;
	SET_HITS(m, breaker_and_unknown);
	tz_stats_record(s, &m);
	m = msg(TZ_DIR_INBOUND, TZ_OUTCOME_ABORTED, 0);
	m.relay_refused = 3;
	m.relay_action = TZ_ACTION_REJECT;
	m.rcpts = 0;
	tz_stats_record(s, &m);
	m = msg(TZ_DIR_OUTBOUND, TZ_OUTCOME_ERROR_TEMPFAIL, 2);
	tz_stats_record(s, &m);

	tz_stats_snapshot(s, NULL, &sn);
	assert_int_equal(tz_stats_total(&sn), 6);
	assert_int_equal(sn.messages[TZ_DIR_INBOUND][TZ_STATS_POLICY_TAG], 1);
	assert_int_equal(sn.messages[TZ_DIR_INBOUND][TZ_STATS_TEXTIZED], 1);
	assert_int_equal(sn.messages[TZ_DIR_INBOUND][TZ_STATS_POLICY_REJECT], 2);
	assert_int_equal(sn.messages[TZ_DIR_OUTBOUND][TZ_STATS_POLICY_TEMPFAIL], 1);
	assert_int_equal(sn.messages[TZ_DIR_OUTBOUND][TZ_STATS_ERROR_TEMPFAIL], 1);
	assert_int_equal(tz_stats_rejects(&sn), 2);
	assert_int_equal(tz_stats_tempfails(&sn), 2);
	assert_int_equal(sn.stripped, 3);
	assert_int_equal(sn.bytes_in, 1000);
	assert_int_equal(sn.bytes_out, 300);
	assert_int_equal(sn.hits[TZ_RULE_SPF][TZ_ACTION_TAG], 2);
	assert_int_equal(sn.hits[TZ_RULE_SPOOF][TZ_ACTION_REJECT], 1);
	assert_int_equal(sn.hits[TZ_RULE_BREAKER][TZ_ACTION_TEMPFAIL], 1);
	assert_int_equal(sn.hits[TZ_RULE_RELAY][TZ_ACTION_REJECT], 1);   /* per message */
	/* a rule out of range (and "other" itself) count as "other"; accept is no hit */
	assert_int_equal(sn.hits[TZ_RULE_OTHER][TZ_ACTION_HOLD], 1);
	assert_int_equal(sn.hits[TZ_RULE_OTHER][TZ_ACTION_REJECT], 1);   /* TZ_RULE_OTHER */
	assert_int_equal(sn.ms_sum, 11);
	assert_int_equal(sn.breaker.state, TZ_STATS_BREAKER_UNKNOWN);
	tz_stats_free(s);
	tz_stats_free(NULL);
}

static void test_buckets(void **state)
{
	struct tz_stats *s = tz_stats_new();
	struct tz_stats_snapshot sn;
	/* ms and the bucket it lands in: bounds are inclusive (le) */
	static const struct { uint64_t ms; unsigned b; } cases[] = {
		{ 0, 0 }, { 1, 0 }, { 2, 1 }, { 3, 2 }, { 5, 2 }, { 6, 3 }, { 100, 6 },
		{ 101, 7 }, { 10000, 12 }, { 10001, 13 }, { UINT64_MAX / 2, 13 },
	};
	uint64_t want[TZ_STATS_NBUCKETS] = { 0 };

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct tz_stats_msg m = msg(TZ_DIR_INBOUND, TZ_OUTCOME_PASSED, cases[i].ms);
		tz_stats_record(s, &m);
		want[cases[i].b]++;
	}
	tz_stats_snapshot(s, NULL, &sn);
	for (unsigned b = 0; b < TZ_STATS_NBUCKETS; b++)
		assert_int_equal(sn.buckets[b], want[b]);
	tz_stats_free(s);
}

static void record_n(struct tz_stats *s, unsigned n, uint64_t ms)
{
	for (unsigned i = 0; i < n; i++) {
		struct tz_stats_msg m = msg(TZ_DIR_INBOUND, TZ_OUTCOME_TEXTIZED, ms);
		tz_stats_record(s, &m);
	}
}

/* 50 messages in (0,1] ms, 40 in (5,10], 10 in (50,100]: by hand,
 *   p25 = 0 + 1 * 25/50           = 0.5
 *   p50 = 0 + 1 * 50/50           = 1
 *   p90 = 5 + 5 * (90-50)/40      = 10
 *   p99 = 50 + 50 * (99-90)/10    = 95 */
static void test_quantiles(void **state)
{
	struct tz_stats *s = tz_stats_new();
	struct tz_stats_snapshot sn;

	tz_stats_snapshot(s, NULL, &sn);
	assert_true(tz_stats_quantile_ms(&sn, 0.99) == 0.0);   /* no data */
	record_n(s, 50, 1);
	record_n(s, 40, 7);
	record_n(s, 10, 60);
	tz_stats_snapshot(s, NULL, &sn);
	assert_float_equal(tz_stats_quantile_ms(&sn, 0.25), 0.5, 1e-9);
	assert_float_equal(tz_stats_quantile_ms(&sn, 0.5), 1.0, 1e-9);
	assert_float_equal(tz_stats_quantile_ms(&sn, 0.9), 10.0, 1e-9);
	assert_float_equal(tz_stats_quantile_ms(&sn, 0.99), 95.0, 1e-9);
	assert_float_equal(tz_stats_quantile_ms(&sn, 1.0), 100.0, 1e-9);
	tz_stats_free(s);

	/* all beyond the last bound: the last bound is the best answer */
	s = tz_stats_new();
	record_n(s, 3, 60000);
	tz_stats_snapshot(s, NULL, &sn);
	assert_float_equal(tz_stats_quantile_ms(&sn, 0.5), 10000.0, 1e-9);
	tz_stats_free(s);
}

/* Every sample line is NAME{labels} VALUE of a family announced by HELP
 * then TYPE; histogram buckets are cumulative, end in +Inf == _count. */
static void check_exposition(const char *text)
{
	GRegex *sample = g_regex_new("^([a-z_]+?)(_bucket|_sum|_count)?(\\{[a-z_]+=\"[^\"\\\\\\n]*\""
				     "(,[a-z_]+=\"[^\"\\\\\\n]*\")*\\})? ([0-9]+(\\.[0-9]+)?)$", 0, 0, NULL);
	char **lines = g_strsplit(text, "\n", -1);
	char *family = NULL, *type = NULL;
	uint64_t last_bucket = 0, inf = 0;
	guint n = g_strv_length(lines);

	assert_true(n > 1);
	assert_string_equal(lines[n - 1], "");   /* ends with a newline */
	for (guint i = 0; i + 1 < n; i++) {
		const char *l = lines[i];
		GMatchInfo *mi = NULL;

		if (g_str_has_prefix(l, "# HELP ")) {
			g_free(family);
			family = g_strndup(l + 7, strcspn(l + 7, " "));
			assert_true(g_str_has_prefix(lines[i + 1], "# TYPE "));
			continue;
		}
		if (g_str_has_prefix(l, "# TYPE ")) {
			char **w = g_strsplit(l, " ", 4);
			assert_string_equal(w[2], family);
			g_free(type);
			type = g_strdup(w[3]);
			g_strfreev(w);
			continue;
		}
		if (!g_regex_match(sample, l, 0, &mi))
			fail_msg("not an exposition line: \"%s\"", l);
		char *name = g_match_info_fetch(mi, 1), *suffix = g_match_info_fetch(mi, 2);
		char *value = g_match_info_fetch(mi, 5);
		if (strcmp(type, "histogram") == 0) {
			assert_string_equal(name, family);
			if (strcmp(suffix, "_bucket") == 0) {
				uint64_t v = g_ascii_strtoull(value, NULL, 10);
				assert_true(v >= last_bucket);
				last_bucket = v;
				if (strstr(l, "le=\"+Inf\""))
					inf = v;
			} else if (strcmp(suffix, "_count") == 0) {
				assert_int_equal(g_ascii_strtoull(value, NULL, 10), inf);
			}
		} else {
			/* the regex is lazy: rejoin a name it split at _count/_sum */
			char *full = g_strconcat(name, suffix, NULL);
			assert_string_equal(full, family);
			g_free(full);
		}
		g_free(name);
		g_free(suffix);
		g_free(value);
		g_match_info_free(mi);
	}
	g_free(family);
	g_free(type);
	g_strfreev(lines);
	g_regex_unref(sample);
}

static void test_prometheus(void **state)
{
	struct tz_stats *s = tz_stats_new();
	struct tz_stats_breaker b = { TZ_STATS_BREAKER_TRIPPED, 1700000000, 2 };
	struct tz_stats_snapshot sn;
	struct tz_stats_msg m = msg(TZ_DIR_INBOUND, TZ_OUTCOME_TEXTIZED, 930);
	char *text;

	m.stripped = 4;
	tz_stats_record(s, &m);
	m = msg(TZ_DIR_INBOUND, TZ_OUTCOME_TEXTIZED, 1500);
	tz_stats_record(s, &m);
	m = msg(TZ_DIR_INBOUND, TZ_OUTCOME_ABORTED, 0);
	m.relay_refused = 1;
	m.relay_action = TZ_ACTION_REJECT;
	m.rcpts = 0;
	tz_stats_record(s, &m);
	tz_stats_snapshot(s, &b, &sn);
	text = tz_stats_prometheus(&sn);
	check_exposition(text);
	static const char *const want[] = {
		"# HELP textize_messages_total Messages seen by the milter, by direction and how each ended.\n"
		"# TYPE textize_messages_total counter\n"
		"textize_messages_total{direction=\"inbound\",action=\"textized\"} 2\n",
		"textize_messages_total{direction=\"inbound\",action=\"policy_reject\"} 1\n",
		"textize_messages_total{direction=\"outbound\",action=\"aborted\"} 0\n",
		"textize_policy_hits_total{rule=\"relay\",action=\"reject\"} 1\n",
		"textize_policy_hits_total{rule=\"spoof\",action=\"tag\"} 0\n",
		"# TYPE textize_stripped_parts_total counter\ntextize_stripped_parts_total 4\n",
		"# TYPE textize_tempfails_total counter\ntextize_tempfails_total 0\n",
		"# TYPE textize_processing_seconds histogram\n"
		"textize_processing_seconds_bucket{le=\"0.001\"} 1\n"
		"textize_processing_seconds_bucket{le=\"0.002\"} 1\n",
		"textize_processing_seconds_bucket{le=\"0.5\"} 1\n"
		"textize_processing_seconds_bucket{le=\"1\"} 2\n"
		"textize_processing_seconds_bucket{le=\"2\"} 3\n",
		"textize_processing_seconds_bucket{le=\"10\"} 3\n"
		"textize_processing_seconds_bucket{le=\"+Inf\"} 3\n"
		"textize_processing_seconds_sum 2.430\n"
		"textize_processing_seconds_count 3\n",
		"# TYPE textize_breaker_tripped gauge\ntextize_breaker_tripped 1\n",
		"textize_breaker_senders_over 2\n",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
		if (strstr(text, want[i]) == NULL)
			fail_msg("missing from the exposition:\n%s\n--- got:\n%s", want[i], text);
	/* each family once */
	assert_ptr_equal(strstr(text, "# TYPE textize_messages_total"),
			 g_strrstr(text, "# TYPE textize_messages_total"));
	g_free(text);
	tz_stats_free(s);
}

static void test_json_and_table(void **state)
{
	struct tz_stats *s = tz_stats_new();
	struct tz_stats_breaker b = { TZ_STATS_BREAKER_NORMAL, 0, 0 };
	struct tz_stats_snapshot sn;
	char *json, *table;

	record_n(s, 50, 1);
	record_n(s, 40, 7);
	record_n(s, 10, 60);
	struct tz_stats_msg m = msg(TZ_DIR_OUTBOUND, TZ_OUTCOME_POLICY, 0);
	m.verdict = TZ_ACTION_REJECT;
	SET_HITS(m, autofwd_reject);
	tz_stats_record(s, &m);
	tz_stats_snapshot(s, &b, &sn);
	json = tz_stats_json(&sn);
	assert_non_null(strstr(json, "{\"messages\":{\"total\":101,\"inbound\":{\"textized\":100,"));
	assert_non_null(strstr(json, "\"outbound\":{\"textized\":0,\"passed\":0,\"released\":0,"
			       "\"policy_reject\":1,"));
	assert_non_null(strstr(json, "\"autofwd\":{\"reject\":1,\"tempfail\":0"));
	assert_non_null(strstr(json, "\"rejects\":1,\"tempfails\":0"));
	/* 101 observations: p99 rank 99.99 lies in (50,100]: 50 + 50*(99.99-91)/10 = 94.95 */
	assert_non_null(strstr(json, "\"latency_ms\":{\"p50\":1,\"p99\":95,\"sum\":930,"));
	assert_non_null(strstr(json, "\"+Inf\":101},\"count\":101}"));
	assert_non_null(strstr(json, "\"breaker\":{\"state\":\"normal\",\"since\":0,\"senders_over\":0}"));
	table = tz_stats_table(&sn);
	assert_non_null(strstr(table, "messages: 101 "));
	assert_non_null(strstr(table, "  textized                100          0\n"));
	assert_non_null(strstr(table, "  autofwd      reject=1\n"));
	assert_non_null(strstr(table, "p50 1 ms, p99 95 ms"));
	assert_non_null(strstr(table, "breaker: normal, senders over their limit: 0\n"));
	g_free(json);
	g_free(table);
	tz_stats_free(s);
}

#define THREADS 8
#define PER_THREAD 50000

static void *hammer(void *arg)
{
	struct tz_stats *s = arg;

	for (unsigned i = 0; i < PER_THREAD; i++) {
		struct tz_stats_msg m = msg(i % 2 ? TZ_DIR_OUTBOUND : TZ_DIR_INBOUND,
					    i % 2 ? TZ_OUTCOME_PASSED : TZ_OUTCOME_TEXTIZED, i % 20);
		m.stripped = 1;
		m.bytes_in = 10;
		SET_HITS(m, spf_tag);
		tz_stats_record(s, &m);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct tz_stats *s = tz_stats_new();
	struct tz_stats_snapshot sn;
	pthread_t t[THREADS];
	uint64_t buckets = 0;

	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, s), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	tz_stats_snapshot(s, NULL, &sn);
	assert_int_equal(tz_stats_total(&sn), THREADS * PER_THREAD);
	assert_int_equal(sn.messages[0][TZ_STATS_TEXTIZED], THREADS * PER_THREAD / 2);
	assert_int_equal(sn.messages[1][TZ_STATS_PASSED], THREADS * PER_THREAD / 2);
	assert_int_equal(sn.stripped, THREADS * PER_THREAD);
	assert_int_equal(sn.bytes_in, 10ull * THREADS * PER_THREAD);
	assert_int_equal(sn.hits[TZ_RULE_SPF][TZ_ACTION_TAG], THREADS * PER_THREAD);
	for (unsigned b = 0; b < TZ_STATS_NBUCKETS; b++)
		buckets += sn.buckets[b];
	assert_int_equal(buckets, THREADS * PER_THREAD);
	/* sum of i % 20 over PER_THREAD (a multiple of 20) is 190 per 20 */
	assert_int_equal(sn.ms_sum, (uint64_t)THREADS * (PER_THREAD / 20) * 190);
	tz_stats_free(s);
}

static void test_breaker_load(void **state)
{
	char *dir = g_dir_make_tmp("tz_stats_XXXXXX", NULL);
	char *path = g_build_filename(dir, TZ_BREAKER_STATE_FILE, NULL);
	struct tz_breaker_state st;
	struct tz_stats_breaker b;
	char err[TZ_ERRLEN];

	tz_stats_breaker_load(NULL, &b);
	assert_int_equal(b.state, TZ_STATS_BREAKER_UNKNOWN);
	tz_stats_breaker_load(path, &b);   /* no file yet: normal */
	assert_int_equal(b.state, TZ_STATS_BREAKER_NORMAL);
	tz_breaker_state_init(&st);
	st.tripped = true;
	st.since = 1700000000;
	g_strlcpy(st.reason, "3 senders over", sizeof(st.reason));
	g_ptr_array_add(st.senders, g_strdup("1700000000 a@example.jp"));
	assert_int_equal(tz_breaker_state_save(path, &st, err, sizeof(err)), 0);
	tz_breaker_state_clear(&st);
	tz_stats_breaker_load(path, &b);
	assert_int_equal(b.state, TZ_STATS_BREAKER_TRIPPED);
	assert_int_equal(b.since, 1700000000);
	assert_int_equal(b.senders_over, 1);
	assert_true(g_file_set_contents(path, "bogus line\n", -1, NULL));
	tz_stats_breaker_load(path, &b);
	assert_int_equal(b.state, TZ_STATS_BREAKER_UNREADABLE);
	assert_string_equal(tz_stats_breaker_name(b.state), "unreadable");
	g_unlink(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

/* ------------------------------------------------------------ server */

static char *fake_render(enum tz_statsd_format fmt, void *arg)
{
	static const char *const names[] = { "TABLE\n", "{\"json\":1}", "prom 1\n" };

	if (arg)   /* a render that fails */
		return NULL;
	return g_strdup(names[fmt]);
}

/* Send req on one end of a socketpair, serve the other, return the answer
 * (g_free) and the serve result in *rc. */
static char *exchange_eof(const char *req, size_t len, int timeout_ms, void *arg, int *rc,
			  bool eof)
{
	int sv[2];
	GString *out = g_string_new("");
	char buf[4096];
	ssize_t n;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if (len)
		assert_int_equal(write(sv[0], req, len), (ssize_t)len);
	if (eof)
		shutdown(sv[0], SHUT_WR);
	*rc = tz_statsd_serve_fd(sv[1], timeout_ms, fake_render, arg);
	close(sv[1]);
	while ((n = read(sv[0], buf, sizeof(buf))) > 0)
		g_string_append_len(out, buf, n);
	close(sv[0]);
	return g_string_free(out, FALSE);
}

static char *exchange(const char *req, size_t len, int timeout_ms, void *arg, int *rc)
{
	return exchange_eof(req, len, timeout_ms, arg, rc, false);
}

static char *ask(const char *req, int *rc)
{
	return exchange(req, strlen(req), 1000, NULL, rc);
}

static void test_requests(void **state)
{
	char *a, *big;
	int rc;

	a = ask("GET /metrics HTTP/1.1\r\nHost: gw:9100\r\nAccept: text/plain\r\n\r\n", &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(a, "HTTP/1.0 200 OK\r\n"
			    "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
			    "Content-Length: 7\r\nCache-Control: no-cache\r\nConnection: close\r\n"
			    "\r\nprom 1\n");
	g_free(a);
	a = ask("GET /stats.json?x=1 HTTP/1.0\n\n", &rc);
	assert_non_null(strstr(a, "Content-Type: application/json\r\n"));
	assert_true(g_str_has_suffix(a, "\r\n\r\n{\"json\":1}"));
	g_free(a);
	a = ask("GET /nothing HTTP/1.0\r\n\r\n", &rc);
	assert_true(g_str_has_prefix(a, "HTTP/1.0 404 Not Found\r\n"));
	g_free(a);
	a = ask("GET /metrics\n", &rc);   /* no version: the body alone */
	assert_string_equal(a, "prom 1\n");
	g_free(a);
	a = ask("stats\n", &rc);
	assert_string_equal(a, "TABLE\n");
	g_free(a);
	a = ask("stats json\r\n", &rc);
	assert_string_equal(a, "{\"json\":1}");
	g_free(a);
	/* no newline: the end of the client's sending ends the request */
	a = exchange_eof("stats prometheus", 16, 1000, NULL, &rc, true);
	assert_int_equal(rc, 0);
	assert_string_equal(a, "prom 1\n");
	g_free(a);
	a = exchange("stats prometheus", 16, 100, NULL, &rc);   /* ... else it times out */
	assert_int_equal(rc, -1);
	g_free(a);
	a = ask("stats xml\n", &rc);
	assert_true(g_str_has_prefix(a, "error: unknown request"));
	g_free(a);
	a = ask("\n", &rc);
	assert_true(g_str_has_prefix(a, "error: unknown request"));
	g_free(a);
	a = exchange("stats json\n", 11, 1000, "fail", &rc);
	assert_string_equal(a, "error: stats unavailable\n");
	g_free(a);
	a = exchange("GET /metrics HTTP/1.0\r\n\r\n", 25, 1000, "fail", &rc);
	assert_true(g_str_has_prefix(a, "HTTP/1.0 500 "));
	g_free(a);
	/* nothing sent: times out without an answer */
	a = exchange("", 0, 100, NULL, &rc);
	assert_int_equal(rc, -1);
	assert_string_equal(a, "");
	g_free(a);
	/* too long: refused without an answer */
	big = g_strnfill(TZ_STATSD_MAX_REQUEST + 100, 'A');
	a = exchange(big, strlen(big), 1000, NULL, &rc);
	assert_int_equal(rc, -1);
	assert_string_equal(a, "");
	g_free(a);
	g_free(big);
	/* an HTTP header that never ends: times out */
	a = exchange("GET /metrics HTTP/1.0\r\nHost: x\r\n", 33, 100, NULL, &rc);
	assert_int_equal(rc, -1);
	g_free(a);
}

static void test_server(void **state)
{
	char *dir = g_dir_make_tmp("tz_statsd_XXXXXX", NULL);
	char *path = g_build_filename(dir, "stats.sock", NULL);
	char *spec = g_strconcat("local:", path, NULL);
	char err[TZ_ERRLEN];
	struct tz_statsd *d;
	char *a;

	/* a regular file in the way is not replaced */
	assert_true(g_file_set_contents(path, "x", 1, NULL));
	assert_null(tz_statsd_open(spec, 0, (uid_t)-1, (gid_t)-1, err, sizeof(err)));
	assert_non_null(strstr(err, "not a socket"));
	g_unlink(path);
	assert_null(tz_statsd_open("tcp:80", 0, (uid_t)-1, (gid_t)-1, err, sizeof(err)));
	assert_null(tz_statsd_query(spec, "stats\n", 500, err, sizeof(err)));   /* nobody there */

	d = tz_statsd_open(spec, 0600, (uid_t)-1, (gid_t)-1, err, sizeof(err));
	assert_non_null(d);
	assert_int_equal(tz_statsd_start(d, fake_render, NULL, err, sizeof(err)), 0);
	for (int i = 0; i < 3; i++) {   /* one after another on one thread */
		a = tz_statsd_query(spec, "stats json\n", 2000, err, sizeof(err));
		assert_non_null(a);
		assert_string_equal(a, "{\"json\":1}");
		g_free(a);
	}
	a = tz_statsd_query(spec, "GET /metrics HTTP/1.0\r\n\r\n", 2000, err, sizeof(err));
	assert_true(g_str_has_prefix(a, "HTTP/1.0 200 OK\r\n"));
	g_free(a);
	tz_statsd_free(d);
	assert_false(g_file_test(path, G_FILE_TEST_EXISTS));   /* removed at stop */

	/* a socket left behind by a crash is replaced */
	{
		struct sockaddr_un un = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		g_strlcpy(un.sun_path, path, sizeof(un.sun_path));
		assert_int_equal(bind(fd, (struct sockaddr *)&un, sizeof(un)), 0);
		close(fd);
	}
	assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
	d = tz_statsd_open(spec, 0, (uid_t)-1, (gid_t)-1, err, sizeof(err));
	assert_non_null(d);
	tz_statsd_free(d);
	g_rmdir(dir);
	g_free(spec);
	g_free(path);
	g_free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_counting),
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_quantiles),
		cmocka_unit_test(test_prometheus),
		cmocka_unit_test(test_json_and_table),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_breaker_load),
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
