/* test_breaker_shared.c — the circuit breaker with its state shared by two
 * gateways (tz_breaker_shared, as StoreBackend postgresql supplies it) over
 * an in-memory fake of the database: rate counts add up across gateways,
 * a trip on one stops the other within the poll interval, an operator's
 * reset reaches both and beats a trip saved after it, every failure of
 * the shared state tempfails (fail safe, never open), and a trip whose
 * save failed is written later rather than lost. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>

#include "tz_breaker.h"
#include "tz_log.h"
#include "policy_test.h"

/* The fake database: one state row and a list of events. */
struct fake_db {
	struct tz_breaker_state row;
	GArray *events;   /* struct ev */
	bool down;        /* every call fails */
	bool down_record; /* only record fails */
	bool down_save;   /* only save fails */
	GHashTable *over; /* sender -> time it last went over */
};
struct ev {
	time_t t;
	char key[32];
	unsigned rcpts;
};

static time_t fake_now = 1000000;
static time_t fake_clock(void) { return fake_now; }

static int f_load(void *ctx, struct tz_breaker_state *st, char *err, size_t errlen)
{
	struct fake_db *db = ctx;

	if (db->down)
		return snprintf(err, errlen, "down"), -1;
	st->generation = db->row.generation;
	st->tripped = db->row.tripped;
	st->since = db->row.since;
	g_strlcpy(st->reason, db->row.reason, sizeof(st->reason));
	return 0;
}

static int f_save(void *ctx, const struct tz_breaker_state *st, char *err, size_t errlen)
{
	struct fake_db *db = ctx;

	if (db->down || db->down_save)
		return snprintf(err, errlen, "down"), -1;
	if (st->generation != db->row.generation)
		return 1;
	db->row.tripped = st->tripped;
	db->row.since = st->since;
	g_strlcpy(db->row.reason, st->reason, sizeof(db->row.reason));
	return 0;
}

static int f_counts(void *ctx, const char *key, time_t now, const unsigned w[3], uint64_t c[3],
		    char *err, size_t errlen)
{
	struct fake_db *db = ctx;

	if (db->down)
		return snprintf(err, errlen, "down"), -1;
	c[0] = c[1] = c[2] = 0;
	for (guint i = 0; i < db->events->len; i++) {
		const struct ev *e = &g_array_index(db->events, struct ev, i);
		bool mine = strcmp(e->key, key) == 0;
		c[0] += mine && w[0] && e->t > now - (time_t)w[0];
		c[1] += mine && w[1] && e->t > now - (time_t)w[1] ? e->rcpts : 0;
		c[2] += w[2] && e->t > now - (time_t)w[2];
	}
	return 0;
}

static int f_record(void *ctx, const char *key, unsigned nrcpts, time_t now, char *err,
		    size_t errlen)
{
	struct fake_db *db = ctx;
	struct ev e = { now, "", nrcpts };

	if (db->down || db->down_record)
		return snprintf(err, errlen, "down"), -1;
	g_strlcpy(e.key, key, sizeof(e.key));
	g_array_append_val(db->events, e);
	return 0;
}

/* BreakerTrip across gateways: the distinct senders over, latest time each. */
static int f_over(void *ctx, const char *key, time_t now, unsigned window, unsigned *n,
		  char *err, size_t errlen)
{
	struct fake_db *db = ctx;

	if (db->down)
		return snprintf(err, errlen, "down"), -1;
	g_hash_table_insert(db->over, g_strdup(key), GSIZE_TO_POINTER((gsize)now));
	*n = 0;
	GHashTableIter it;
	gpointer t;
	g_hash_table_iter_init(&it, db->over);
	while (g_hash_table_iter_next(&it, NULL, &t))
		*n += (time_t)GPOINTER_TO_SIZE(t) > now - (time_t)window;
	return 0;
}

struct fixture {
	struct fake_db db;
	struct tz_breaker_shared shared;
	struct tz_breaker *a, *b;   /* two gateways */
};

static struct fixture *fixture(struct tz_breaker_options o)
{
	struct fixture *fx = g_new0(struct fixture, 1);

	tz_breaker_state_init(&fx->db.row);
	fx->db.events = g_array_new(FALSE, FALSE, sizeof(struct ev));
	fx->db.over = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	fx->shared = (struct tz_breaker_shared){ &fx->db, f_load, f_save, f_counts, f_record, f_over };
	o.shared = &fx->shared;
	o.state_path = "/nonexistent/must-not-be-used";
	fx->a = tz_breaker_new(&o, fake_clock, NULL, 0);
	fx->b = tz_breaker_new(&o, fake_clock, NULL, 0);
	assert_non_null(fx->a);
	assert_non_null(fx->b);
	return fx;
}

static void fixture_free(struct fixture *fx)
{
	tz_breaker_free(fx->a);
	tz_breaker_free(fx->b);
	tz_breaker_state_clear(&fx->db.row);
	g_array_free(fx->db.events, TRUE);
	g_hash_table_destroy(fx->db.over);
	g_free(fx);
}

static enum tz_action send1(struct tz_breaker *b, const char *who)
{
	struct tz_verdict *v = tz_verdict_new();
	enum tz_action a;

	tz_breaker_check(b, "QID", who, 1, v);
	a = v->action;
	if (a == TZ_ACTION_TEMPFAIL) {
		assert_string_equal(v->code, "451");
		assert_string_equal(v->ecode, "4.7.1");
	}
	tz_verdict_free(v);
	return a;
}

static void wait_poll(void)
{
	g_usleep((TZ_BREAKER_POLL_MS + 100) * 1000);
}

static void test_counts_add_up(void **state)
{
	struct fixture *fx = fixture((struct tz_breaker_options){ .msgs = { 3, 600 } });

	fake_now = 1000000;
	assert_int_equal(send1(fx->a, "s"), TZ_ACTION_ACCEPT);
	assert_int_equal(send1(fx->b, "s"), TZ_ACTION_ACCEPT);
	assert_int_equal(send1(fx->a, "s"), TZ_ACTION_ACCEPT);
	assert_int_equal(send1(fx->b, "s"), TZ_ACTION_TEMPFAIL);   /* 4th of 3/600 s, across both */
	assert_int_equal(fx->db.events->len, 3);                     /* refused ones are not counted */
	assert_int_equal(send1(fx->b, "other"), TZ_ACTION_ACCEPT);
	fake_now += 601;                                              /* the window slides */
	assert_int_equal(send1(fx->a, "s"), TZ_ACTION_ACCEPT);
	fixture_free(fx);
}

static void test_trip_reaches_other_within_poll(void **state)
{
	struct fixture *fx = fixture((struct tz_breaker_options){ .msgs = { 1, 600 }, .trip = { 1, 0 } });

	fake_now = 2000000;
	assert_int_equal(send1(fx->b, "x"), TZ_ACTION_ACCEPT);        /* B has polled: normal */
	assert_int_equal(send1(fx->a, "s"), TZ_ACTION_ACCEPT);
	assert_int_equal(send1(fx->a, "s"), TZ_ACTION_TEMPFAIL);      /* over: trips (BreakerTrip 1) */
	assert_true(fx->db.row.tripped);                              /* saved to the shared row */
	wait_poll();
	assert_int_equal(send1(fx->b, "fresh"), TZ_ACTION_TEMPFAIL);  /* B stopped too */
	/* an operator's reset on any host: both flow again, counters cleared */
	fx->db.row.generation++;
	fx->db.row.tripped = false;
	wait_poll();
	assert_int_equal(send1(fx->a, "fresh2"), TZ_ACTION_ACCEPT);
	assert_int_equal(send1(fx->b, "fresh3"), TZ_ACTION_ACCEPT);
	fixture_free(fx);
}

static void test_reset_beats_a_late_trip(void **state)
{
	struct fixture *fx = fixture((struct tz_breaker_options){ .global = { 1, 600 } });

	fake_now = 3000000;
	assert_int_equal(send1(fx->a, "s"), TZ_ACTION_ACCEPT);
	fx->db.row.generation++;                                      /* reset A has not seen yet */
	assert_int_equal(send1(fx->a, "t"), TZ_ACTION_TEMPFAIL);      /* over the global limit */
	assert_false(fx->db.row.tripped);                             /* save refused: reset won */
	fixture_free(fx);
}

static void test_unreachable_fails_safe(void **state)
{
	struct fixture *fx = fixture((struct tz_breaker_options){ .msgs = { 100, 600 } });

	fake_now = 4000000;
	fx->db.down = true;
	assert_int_equal(send1(fx->a, "s"), TZ_ACTION_TEMPFAIL);      /* state unreadable */
	assert_int_equal(send1(fx->b, "s"), TZ_ACTION_TEMPFAIL);
	fx->db.down = false;
	wait_poll();
	assert_int_equal(send1(fx->a, "s"), TZ_ACTION_ACCEPT);        /* back: flows again */
	fx->db.down_record = true;
	assert_int_equal(send1(fx->a, "s"), TZ_ACTION_TEMPFAIL);      /* cannot be counted */
	fx->db.down_record = false;
	assert_int_equal(send1(fx->a, "s"), TZ_ACTION_ACCEPT);
	fixture_free(fx);
}

/* A trip whose save failed is written once the database takes it, not
 * forgotten when the next poll reads the old row. */
static void test_trip_survives_failed_save(void **state)
{
	struct fixture *fx = fixture((struct tz_breaker_options){ .global = { 1, 600 } });

	fake_now = 5000000;
	assert_int_equal(send1(fx->a, "s"), TZ_ACTION_ACCEPT);
	fx->db.down_save = true;
	assert_int_equal(send1(fx->a, "t"), TZ_ACTION_TEMPFAIL);      /* trips; the save fails */
	assert_false(fx->db.row.tripped);
	fx->db.down_save = false;
	fake_now += 601;                                              /* the global window is empty */
	wait_poll();
	assert_int_equal(send1(fx->a, "u"), TZ_ACTION_TEMPFAIL);      /* still tripped */
	assert_true(fx->db.row.tripped);                              /* and now written */
	wait_poll();
	assert_int_equal(send1(fx->b, "v"), TZ_ACTION_TEMPFAIL);      /* so B stops too */
	fixture_free(fx);
}

/* BreakerTrip 2: one sender over on A and another on B trip the breaker
 * (each gateway alone saw one); the same sender over on both counts once;
 * one outside the trip window does not count. */
static void test_trip_counts_all_gateways(void **state)
{
	struct fixture *fx = fixture((struct tz_breaker_options){ .msgs = { 1, 600 },
								   .trip = { 2, 3600 } });

	fake_now = 6000000;
	assert_int_equal(send1(fx->a, "old"), TZ_ACTION_ACCEPT);
	assert_int_equal(send1(fx->a, "old"), TZ_ACTION_TEMPFAIL);    /* over: 1 of 2 */
	fake_now += 3601;                                             /* out of the trip window */
	assert_int_equal(send1(fx->a, "x"), TZ_ACTION_ACCEPT);
	assert_int_equal(send1(fx->a, "x"), TZ_ACTION_TEMPFAIL);      /* over on A: 1 of 2 */
	assert_int_equal(send1(fx->b, "x"), TZ_ACTION_TEMPFAIL);      /* same sender on B: still 1 */
	assert_false(fx->db.row.tripped);
	assert_int_equal(send1(fx->b, "y"), TZ_ACTION_ACCEPT);
	assert_int_equal(send1(fx->b, "y"), TZ_ACTION_TEMPFAIL);      /* over on B: 2 of 2 */
	assert_true(fx->db.row.tripped);
	wait_poll();
	assert_int_equal(send1(fx->a, "fresh"), TZ_ACTION_TEMPFAIL);  /* and A stops */
	fixture_free(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_add_up),
		cmocka_unit_test(test_trip_reaches_other_within_poll),
		cmocka_unit_test(test_reset_beats_a_late_trip),
		cmocka_unit_test(test_unreachable_fails_safe),
		cmocka_unit_test(test_trip_survives_failed_save),
		cmocka_unit_test(test_trip_counts_all_gateways),
	};
	tz_log_set_level(LOG_EMERG);   /* the alerts are expected here */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
