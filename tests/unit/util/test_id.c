/* test_id.c — entry ids (tz_id_new): the documented shape, and a random
 * tail that differs from id to id (what keeps two processes or threads
 * that share a microsecond apart). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "tz_util.h"

#define N_IDS 64

static void test_shape(void **state)
{
	char id[TZ_ID_LEN];

	(void)state;
	for (int i = 0; i < N_IDS; i++) {
		tz_id_new(id);
		assert_true(tz_id_valid(id));
	}
}

/* 64 draws of 32 random bits collide with probability ~5e-7; a constant
 * or a time-only tail repeats at once. */
static void test_tails_differ(void **state)
{
	char ids[N_IDS][TZ_ID_LEN];

	(void)state;
	for (int i = 0; i < N_IDS; i++)
		tz_id_new(ids[i]);
	for (int i = 0; i < N_IDS; i++) {
		const char *t = strrchr(ids[i], '-');

		assert_non_null(t);
		for (int j = 0; j < i; j++)
			if (strcmp(t, strrchr(ids[j], '-')) == 0)
				fail_msg("ids %d and %d share the random tail: %s, %s", j, i, ids[j], ids[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_tails_differ),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
