/* test_breaker.c — the outbound circuit breaker with an injected clock:
 * rate parsing, per-sender message and recipient windows sliding, the
 * trip by BreakerTrip senders and by OutboundGlobalLimit, the state file
 * (persisted trip, operator reset through the file, unreadable file fails
 * closed), SIGHUP reconfiguration keeping state, and threads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "tz_breaker.h"
#include "tz_log.h"
#include "policy_test.h"

static time_t fake_now = 1000000;
static time_t fake_clock(void) { return fake_now; }

/* Check one message; returns the action. */
static enum tz_action send1(struct tz_breaker *b, const char *who, unsigned nrcpts)
{
	struct tz_verdict *v = tz_verdict_new();
	enum tz_action a;

	tz_breaker_check(b, "QID", who, nrcpts, v);
	a = v->action;
	if (a == TZ_ACTION_TEMPFAIL) {
		assert_string_equal(v->code, "451");
		assert_string_equal(v->ecode, "4.7.1");
		assert_string_equal(tz_verdict_summary(v), "breaker=tempfail");
	}
	tz_verdict_free(v);
	return a;
}

static void test_rate_parse(void **state)
{
	static const struct { const char *in; int ret; unsigned count, window; } t[] = {
		{ "100/10m", 0, 100, 600 }, { "500/1h", 0, 500, 3600 }, { "30/90s", 0, 30, 90 },
		{ "100/600", 0, 100, 600 }, { "5/1d", 0, 5, 86400 }, { "0", 0, 0, 0 }, { "3", 0, 3, 0 },
		{ "", -1, 0, 0 }, { "abc", -1, 0, 0 }, { "10/", -1, 0, 0 }, { "10/0", -1, 0, 0 },
		{ "10/5x", -1, 0, 0 }, { "10/5mm", -1, 0, 0 }, { "-1/1m", -1, 0, 0 }, { "10/8d", -1, 0, 0 },
		{ "1 0/1m", -1, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct tz_rate r = { 99, 99 };
		if (tz_rate_parse(t[i].in, &r) != t[i].ret)
			fail_msg("case %zu '%s'", i, t[i].in);
		if (t[i].ret == 0) {
			assert_int_equal(r.count, t[i].count);
			assert_int_equal(r.window_s, t[i].window);
		}
	}
	assert_int_equal(tz_rate_parse(NULL, &(struct tz_rate){ 0 }), -1);
}

static void test_sender_messages_slide(void **state)
{
	struct tz_breaker_options o = { .msgs = { 3, 600 } };
	struct tz_breaker *b = tz_breaker_new(&o, fake_clock, NULL, 0);

	fake_now = 1000000;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(send1(b, "alice", 1), TZ_ACTION_ACCEPT);
		fake_now += 100;
	}
	/* t=300: 3 in the last 600 s */
	assert_int_equal(send1(b, "alice", 1), TZ_ACTION_TEMPFAIL);
	assert_int_equal(send1(b, "bob", 1), TZ_ACTION_ACCEPT);   /* per sender */
	/* t=600: the first (t=0) has left the window */
	fake_now = 1000000 + 600;
	assert_int_equal(send1(b, "alice", 1), TZ_ACTION_ACCEPT);
	assert_int_equal(send1(b, "alice", 1), TZ_ACTION_TEMPFAIL);
	fake_now = 1000000 + 700;
	assert_int_equal(send1(b, "alice", 1), TZ_ACTION_ACCEPT);
	tz_breaker_free(b);
}

static void test_sender_recipients(void **state)
{
	struct tz_breaker_options o = { .rcpts = { 10, 3600 } };
	struct tz_breaker *b = tz_breaker_new(&o, fake_clock, NULL, 0);

	fake_now = 2000000;
	assert_int_equal(send1(b, "10.0.0.5", 6), TZ_ACTION_ACCEPT);
	assert_int_equal(send1(b, "10.0.0.5", 5), TZ_ACTION_TEMPFAIL);   /* 11 > 10 */
	assert_int_equal(send1(b, "10.0.0.5", 4), TZ_ACTION_ACCEPT);     /* exactly 10 */
	assert_int_equal(send1(b, "10.0.0.5", 1), TZ_ACTION_TEMPFAIL);
	assert_int_equal(send1(b, "10.0.0.6", 11), TZ_ACTION_TEMPFAIL);  /* one huge message */
	fake_now += 3600;
	assert_int_equal(send1(b, "10.0.0.5", 10), TZ_ACTION_ACCEPT);
	tz_breaker_free(b);
}

static void test_trip_by_senders(void **state)
{
	struct tz_breaker_options o = { .msgs = { 1, 600 }, .trip = { 3, 0 } };
	struct tz_breaker *b = tz_breaker_new(&o, fake_clock, NULL, 0);
	const char *who[] = { "a", "b", "c" };

	fake_now = 3000000;
	for (int i = 0; i < 3; i++)
		assert_int_equal(send1(b, who[i], 1), TZ_ACTION_ACCEPT);
	assert_int_equal(send1(b, "a", 1), TZ_ACTION_TEMPFAIL);   /* trip 1 */
	assert_int_equal(send1(b, "a", 1), TZ_ACTION_TEMPFAIL);   /* same sender: still 1 */
	assert_int_equal(send1(b, "b", 1), TZ_ACTION_TEMPFAIL);   /* trip 2 */
	assert_int_equal(send1(b, "zz", 1), TZ_ACTION_ACCEPT);    /* not tripped yet */
	assert_int_equal(send1(b, "c", 1), TZ_ACTION_TEMPFAIL);   /* trip 3: breaker trips */
	assert_int_equal(send1(b, "fresh", 1), TZ_ACTION_TEMPFAIL);
	fake_now += 100000;                                        /* time does not heal it */
	assert_int_equal(send1(b, "fresh2", 1), TZ_ACTION_TEMPFAIL);
	tz_breaker_free(b);
}

static void test_trips_outside_window(void **state)
{
	struct tz_breaker_options o = { .msgs = { 1, 60 }, .trip = { 2, 300 } };
	struct tz_breaker *b = tz_breaker_new(&o, fake_clock, NULL, 0);

	fake_now = 4000000;
	assert_int_equal(send1(b, "a", 1), TZ_ACTION_ACCEPT);
	assert_int_equal(send1(b, "a", 1), TZ_ACTION_TEMPFAIL);   /* trip at t=0 */
	fake_now += 400;                                           /* outside the 300 s trip window */
	assert_int_equal(send1(b, "b", 1), TZ_ACTION_ACCEPT);
	assert_int_equal(send1(b, "b", 1), TZ_ACTION_TEMPFAIL);   /* trip at t=400: only 1 in window */
	assert_int_equal(send1(b, "c", 1), TZ_ACTION_ACCEPT);
	tz_breaker_free(b);
}

static void test_global_limit(void **state)
{
	struct tz_breaker_options o = { .global = { 5, 60 } };
	struct tz_breaker *b = tz_breaker_new(&o, fake_clock, NULL, 0);

	fake_now = 5000000;
	for (int i = 0; i < 5; i++) {
		char who[8];
		snprintf(who, sizeof(who), "s%d", i);
		assert_int_equal(send1(b, who, 1), TZ_ACTION_ACCEPT);
	}
	assert_int_equal(send1(b, "s9", 1), TZ_ACTION_TEMPFAIL);
	fake_now += 3600;
	assert_int_equal(send1(b, "s10", 1), TZ_ACTION_TEMPFAIL);   /* stays tripped */
	tz_breaker_free(b);
}

static char *state_file(void)
{
	char *dir = g_dir_make_tmp("tz-breaker-XXXXXX", NULL);
	char *p = g_build_filename(dir, TZ_BREAKER_STATE_FILE, NULL);

	g_free(dir);
	return p;
}

static void remove_state(char *path)
{
	char *lock = g_strdup_printf("%s.lock", path), *dir = g_path_get_dirname(path);

	unlink(path);
	unlink(lock);
	rmdir(dir);
	g_free(lock);
	g_free(dir);
	g_free(path);
}

static void test_state_file(void **state)
{
	char *path = state_file();
	struct tz_breaker_options o = { .global = { 2, 60 }, .msgs = { 1, 60 }, .state_path = path };
	struct tz_breaker *b = tz_breaker_new(&o, fake_clock, NULL, 0), *b2;
	struct tz_breaker_state st;
	char err[256];

	fake_now = 6000000;
	assert_int_equal(send1(b, "u1", 1), TZ_ACTION_ACCEPT);
	assert_int_equal(send1(b, "u1", 1), TZ_ACTION_TEMPFAIL);   /* sender over: listed */
	tz_breaker_state_init(&st);
	assert_int_equal(tz_breaker_state_load(path, &st, err, sizeof(err)), 0);
	assert_false(st.tripped);
	assert_int_equal(st.senders->len, 1);
	assert_string_equal(g_ptr_array_index(st.senders, 0), "6000000 u1");
	assert_int_equal(send1(b, "u2", 1), TZ_ACTION_ACCEPT);
	assert_int_equal(send1(b, "u3", 1), TZ_ACTION_TEMPFAIL);   /* global 2/60 s passed */
	assert_int_equal(tz_breaker_state_load(path, &st, err, sizeof(err)), 0);
	assert_true(st.tripped);
	assert_int_equal(st.since, 6000000);
	assert_non_null(strstr(st.reason, "outbound total"));

	/* A restarted milter reads the trip back. */
	b2 = tz_breaker_new(&o, fake_clock, err, sizeof(err));
	assert_non_null(b2);
	assert_int_equal(send1(b2, "new", 1), TZ_ACTION_TEMPFAIL);

	/* The operator resets: both notice through the file. */
	assert_int_equal(tz_breaker_reset_file(path, err, sizeof(err)), 0);
	assert_int_equal(tz_breaker_state_load(path, &st, err, sizeof(err)), 0);
	assert_false(st.tripped);
	assert_int_equal(st.generation, 1);
	assert_int_equal(st.senders->len, 0);
	assert_int_equal(send1(b, "u1", 1), TZ_ACTION_ACCEPT);    /* counters cleared too */
	assert_int_equal(send1(b2, "x", 1), TZ_ACTION_ACCEPT);

	/* SIGHUP: new limits, state kept. */
	o.msgs.count = 5;
	tz_breaker_configure(b, &o);
	assert_int_equal(send1(b, "u1", 1), TZ_ACTION_ACCEPT);
	tz_breaker_state_clear(&st);
	tz_breaker_free(b);
	tz_breaker_free(b2);
	tz_breaker_free(NULL);
	remove_state(path);
}

static void test_bad_state_file(void **state)
{
	char *path = state_file();
	struct tz_breaker_options o = { .msgs = { 10, 60 }, .state_path = path };
	struct tz_breaker *b;
	char err[256];
	FILE *f;

	f = fopen(path, "w");
	fputs("tripped 0\ngarbage here\n", f);
	fclose(f);
	assert_null(tz_breaker_new(&o, fake_clock, err, sizeof(err)));
	assert_non_null(strstr(err, ":2:"));
	unlink(path);
	b = tz_breaker_new(&o, fake_clock, err, sizeof(err));
	assert_non_null(b);
	assert_int_equal(send1(b, "a", 1), TZ_ACTION_ACCEPT);
	/* Corrupted while running: outbound mail stops (fail closed)... */
	fake_now += 1;
	f = fopen(path, "w");
	fputs("nonsense\n", f);
	fclose(f);
	assert_int_equal(send1(b, "a", 1), TZ_ACTION_TEMPFAIL);
	/* ...until the operator resets, which rewrites the file. */
	assert_int_equal(tz_breaker_reset_file(path, err, sizeof(err)), 0);
	assert_int_equal(send1(b, "a", 1), TZ_ACTION_ACCEPT);
	tz_breaker_free(b);
	remove_state(path);
}

struct worker {
	struct tz_breaker *b;
	int accepted;
};

static void *worker_run(void *p)
{
	struct worker *w = p;

	for (int i = 0; i < 200; i++)
		if (send1(w->b, "shared", 1) == TZ_ACTION_ACCEPT)
			w->accepted++;
	return NULL;
}

static void test_threads(void **state)
{
	struct tz_breaker_options o = { .msgs = { 100, 600 } };
	struct tz_breaker *b = tz_breaker_new(&o, fake_clock, NULL, 0);
	pthread_t th[4];
	struct worker w[4] = { { b, 0 }, { b, 0 }, { b, 0 }, { b, 0 } };
	int total = 0;

	fake_now = 7000000;
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, worker_run, &w[i]);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		total += w[i].accepted;
	}
	assert_int_equal(total, 100);   /* exactly the limit, no lost updates */
	tz_breaker_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_parse),
		cmocka_unit_test(test_sender_messages_slide),
		cmocka_unit_test(test_sender_recipients),
		cmocka_unit_test(test_trip_by_senders),
		cmocka_unit_test(test_trips_outside_window),
		cmocka_unit_test(test_global_limit),
		cmocka_unit_test(test_state_file),
		cmocka_unit_test(test_bad_state_file),
		cmocka_unit_test(test_threads),
	};
	tz_log_set_level(LOG_EMERG);   /* the alerts are expected here */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
