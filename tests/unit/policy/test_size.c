/* test_size.c — SIZE= parsing and the size limits at MAIL and streaming. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tz_size.h"
#include "policy_test.h"

static void test_size_param(void **state)
{
	static const struct { const char *args[4]; int64_t want; } t[] = {
		{ { "SIZE=1000", NULL }, 1000 },
		{ { "BODY=8BITMIME", "size=42", NULL }, 42 },
		{ { "BODY=8BITMIME", NULL }, -1 },
		{ { "SIZE=", NULL }, -1 },
		{ { "SIZE=12a", NULL }, -1 },
		{ { "SIZE=-5", NULL }, -1 },
		{ { "SIZE=99999999999999999999999", NULL }, -1 },
		{ { "SIZEX=5", NULL }, -1 },
		{ { NULL }, -1 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(tz_size_param((char *const *)t[i].args), t[i].want);
	assert_int_equal(tz_size_param(NULL), -1);
}

static void test_size_limits(void **state)
{
	static const struct {
		enum tz_direction dir; int64_t declared; uint64_t streamed; bool fires_mail, fires_stream;
	} t[] = {
		{ TZ_DIR_INBOUND, 1000, 1000, false, false },
		{ TZ_DIR_INBOUND, 1001, 1001, true, true },
		{ TZ_DIR_INBOUND, -1, 5000, false, true },      /* no SIZE=: caught while streaming */
		{ TZ_DIR_OUTBOUND, 1001, 1001, false, false },  /* outbound limit is larger */
		{ TZ_DIR_OUTBOUND, 2001, 2001, true, true },
	};
	struct tz_size_options o;

	tz_size_options_init(&o);
	o.max_inbound = 1000;
	o.max_outbound = 2000;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct tz_verdict *v = tz_verdict_new();
		tz_size_check_declared(&o, t[i].dir, t[i].declared, v);
		assert_int_equal(v->action == TZ_ACTION_REJECT, t[i].fires_mail);
		if (t[i].fires_mail) {
			assert_string_equal(v->code, "552");
			assert_string_equal(v->ecode, "5.3.4");
		}
		tz_verdict_free(v);
		v = tz_verdict_new();
		assert_int_equal(tz_size_check_stream(&o, t[i].dir, t[i].streamed, v), t[i].fires_stream);
		assert_int_equal(v->action == TZ_ACTION_REJECT, t[i].fires_stream);
		tz_verdict_free(v);
	}
}

static void test_size_unlimited_and_actions(void **state)
{
	struct tz_size_options o;
	struct tz_verdict *v = tz_verdict_new();

	tz_size_options_init(&o);
	tz_size_check_declared(&o, TZ_DIR_INBOUND, INT64_MAX, v);
	assert_false(tz_size_check_stream(&o, TZ_DIR_OUTBOUND, UINT64_MAX, v));
	assert_int_equal(v->action, TZ_ACTION_ACCEPT);
	o.max_inbound = 10;
	o.act.action = TZ_ACTION_TEMPFAIL;
	tz_size_check_declared(&o, TZ_DIR_INBOUND, 11, v);
	assert_string_equal(v->code, "451");
	assert_string_equal(v->ecode, "4.3.4");
	tz_verdict_free(v);
	v = tz_verdict_new();
	o.act.action = TZ_ACTION_LOG;
	assert_true(tz_size_check_stream(&o, TZ_DIR_INBOUND, 11, v));
	assert_int_equal(v->action, TZ_ACTION_LOG);
	assert_string_equal(tz_verdict_summary(v), "size=log");
	tz_verdict_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_param),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_size_unlimited_and_actions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
