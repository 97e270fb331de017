/* test_gate.c — admission to conversion (milter/gate.c): the weight of a
 * message, a message that does not fit waits and is refused after its
 * wait, a waiter is admitted when the budget frees, and the line is first
 * come, first served (a small message does not pass a large one that
 * waits, so large mail is never starved). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <unistd.h>
#include "gate.h"

static void test_weight(void **state)
{
	(void)state;
	assert_int_equal(tzm_gate_weight(0, 12345), 0);
	assert_int_equal(tzm_gate_weight(32u << 20, 5000), 5000 + TZM_GATE_OVERHEAD);
	assert_int_equal(tzm_gate_weight(32u << 20, 10u << 20), (10u << 20) + TZM_GATE_OVERHEAD);
	/* larger than the budget: the whole budget, so it converts alone */
	assert_int_equal(tzm_gate_weight(32u << 20, 64u << 20), 32u << 20);
	assert_int_equal(tzm_gate_weight(100, 1), 100);
}

static void test_wait_runs_out(void **state)
{
	struct tzm_gate_state gs;
	unsigned waited;

	(void)state;
	assert_int_equal(tzm_gate_enter(1000, 600, 10, NULL, NULL, &waited), 0);
	assert_int_equal(waited, 0);
	assert_int_equal(tzm_gate_enter(1000, 600, 100, NULL, NULL, &waited), -1);
	assert_true(waited >= 100);
	tzm_gate_state(&gs);
	assert_int_equal(gs.in_use, 600);
	assert_int_equal(gs.running, 1);
	assert_int_equal(gs.waiting, 0);   /* the one that gave up left the line */
	tzm_gate_leave(600);
	tzm_gate_state(&gs);
	assert_int_equal(gs.in_use, 0);
	assert_int_equal(gs.running, 0);
}

struct job {
	size_t weight;
	int rc;
	int order;
};

static int admitted;   /* order of admission, under order_lock */
static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;

static void *enter_thread(void *arg)
{
	struct job *j = arg;
	unsigned waited;

	j->rc = tzm_gate_enter(1000, j->weight, 60000, NULL, NULL, &waited);
	pthread_mutex_lock(&order_lock);
	j->order = ++admitted;
	pthread_mutex_unlock(&order_lock);
	return NULL;
}

static void wait_for_waiting(unsigned n)
{
	struct tzm_gate_state gs;

	for (;;) {
		tzm_gate_state(&gs);
		if (gs.waiting >= n)
			return;
		usleep(1000);
	}
}

static void test_first_come_first_served(void **state)
{
	struct job big = { 600, -2, 0 }, small = { 100, -2, 0 };
	struct tzm_gate_state gs;
	pthread_t tb, ts;
	unsigned waited;

	(void)state;
	assert_int_equal(tzm_gate_enter(1000, 600, 10, NULL, NULL, &waited), 0);
	pthread_create(&tb, NULL, enter_thread, &big);
	wait_for_waiting(1);
	/* 100 would fit beside the 600 in, but the 600 waiting came first */
	pthread_create(&ts, NULL, enter_thread, &small);
	wait_for_waiting(2);
	tzm_gate_state(&gs);
	assert_int_equal(gs.running, 1);
	tzm_gate_leave(600);
	pthread_join(tb, NULL);
	pthread_join(ts, NULL);
	assert_int_equal(big.rc, 0);
	assert_int_equal(small.rc, 0);
	assert_int_equal(big.order, 1);
	assert_int_equal(small.order, 2);
	tzm_gate_state(&gs);
	assert_int_equal(gs.in_use, 700);
	assert_int_equal(gs.running, 2);
	assert_true(gs.running_max >= 2);
	tzm_gate_leave(600);
	tzm_gate_leave(100);
	tzm_gate_state(&gs);
	assert_int_equal(gs.in_use, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weight),
		cmocka_unit_test(test_wait_runs_out),
		cmocka_unit_test(test_first_come_first_served),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
