/* test_pgclaim.c — the rule that decides what a release does about a
 * claim another holder left (tz_claim_judge, tz_pgclaim.h): a stale
 * "claimed" claim (never handed to ReleaseCommand) is taken over; a stale
 * "sending" one only with --reclaim; a live holder's or a "sent" one never.
 * The database side is tests/integration/test_cluster.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tz_pgclaim.h"

#define LEASE TZ_PGCLAIM_LEASE_S

/* Another host, young: nothing is known about its holder but the age. */
static const struct tz_claim_holder other_young = { TZ_CLAIM_CLAIMED, false, false, false, 10 };

static enum tz_claim_verdict judge(enum tz_claim_state st, bool same_host, bool same_boot,
				   bool alive, int64_t idle, bool reclaim)
{
	struct tz_claim_holder h = { st, same_host, same_boot, alive, idle };

	return tz_claim_judge(&h, reclaim, LEASE);
}

static void test_claimed(void **state)
{
	(void)state;
	assert_int_equal(tz_claim_judge(&other_young, false, LEASE), TZ_CLAIM_HELD);
	assert_int_equal(tz_claim_judge(&other_young, true, LEASE), TZ_CLAIM_HELD);
	/* the lease is the boundary: at it still held, past it taken */
	assert_int_equal(judge(TZ_CLAIM_CLAIMED, false, false, false, LEASE, false), TZ_CLAIM_HELD);
	assert_int_equal(judge(TZ_CLAIM_CLAIMED, false, false, false, LEASE + 1, false), TZ_CLAIM_TAKE);
	/* this host, this boot: the pid decides */
	assert_int_equal(judge(TZ_CLAIM_CLAIMED, true, true, true, 10, false), TZ_CLAIM_HELD);
	assert_int_equal(judge(TZ_CLAIM_CLAIMED, true, true, false, 10, false), TZ_CLAIM_TAKE);
	/* this host rebooted since: gone whatever the pid */
	assert_int_equal(judge(TZ_CLAIM_CLAIMED, true, false, true, 10, false), TZ_CLAIM_TAKE);
	/* another host's pid says nothing (alive is not looked at) */
	assert_int_equal(judge(TZ_CLAIM_CLAIMED, false, false, false, 10, false), TZ_CLAIM_HELD);
	assert_int_equal(judge(TZ_CLAIM_CLAIMED, false, true, false, 10, false), TZ_CLAIM_HELD);
}

static void test_sending(void **state)
{
	(void)state;
	/* may have been delivered: never automatically */
	assert_int_equal(judge(TZ_CLAIM_SENDING, false, false, false, LEASE + 1, false), TZ_CLAIM_ASK);
	assert_int_equal(judge(TZ_CLAIM_SENDING, true, true, false, 10, false), TZ_CLAIM_ASK);
	assert_int_equal(judge(TZ_CLAIM_SENDING, false, false, false, LEASE + 1, true), TZ_CLAIM_TAKE);
	assert_int_equal(judge(TZ_CLAIM_SENDING, true, false, true, 10, true), TZ_CLAIM_TAKE);
	/* a live or young holder: not even with --reclaim */
	assert_int_equal(judge(TZ_CLAIM_SENDING, false, false, false, 10, true), TZ_CLAIM_HELD);
	assert_int_equal(judge(TZ_CLAIM_SENDING, true, true, true, 10, true), TZ_CLAIM_HELD);
}

static void test_sent(void **state)
{
	(void)state;
	assert_int_equal(judge(TZ_CLAIM_SENT, false, false, false, 10 * LEASE, true), TZ_CLAIM_DONE);
	assert_int_equal(judge(TZ_CLAIM_SENT, true, false, false, 10, true), TZ_CLAIM_DONE);
	assert_string_equal(tz_claim_state_name(TZ_CLAIM_SENDING), "sending");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claimed),
		cmocka_unit_test(test_sending),
		cmocka_unit_test(test_sent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
