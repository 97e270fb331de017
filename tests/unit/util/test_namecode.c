/* test_namecode.c — name<->code tables: case-insensitive lookup, the mask
 * of allowed codes, aliases accepted but not offered, unknown names refused
 * (no default). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include "tz_namecode.h"

static const struct tz_name_code t[] = {
	{ "zero", 0 }, { "one", 1 }, { "uno", 1 }, { "two", 2 }, { NULL, 0 }
};

static void test_find(void **state)
{
	int code = 42;

	assert_true(tz_name_code_find(t, 0, "ONE", &code));
	assert_int_equal(code, 1);
	assert_true(tz_name_code_find(t, 0, "uno", &code));   /* an alias */
	assert_int_equal(code, 1);
	assert_true(tz_name_code_find(t, 0, "zero", &code));
	assert_int_equal(code, 0);
	code = 42;
	assert_false(tz_name_code_find(t, 0, "three", &code));
	assert_false(tz_name_code_find(t, 0, "", &code));
	assert_false(tz_name_code_find(t, 0, "on", &code));   /* no prefix match */
	assert_false(tz_name_code_find(t, 0, NULL, &code));
	assert_int_equal(code, 42);                            /* untouched on failure */
	/* the mask: only codes whose bit is set */
	assert_false(tz_name_code_find(t, 1u << 2, "one", &code));
	assert_true(tz_name_code_find(t, (1u << 1) | (1u << 2), "two", &code));
	assert_int_equal(code, 2);
}

static void test_name_and_list(void **state)
{
	char *l;

	assert_string_equal(tz_name_code_name(t, 1), "one");  /* the first name, not the alias */
	assert_null(tz_name_code_name(t, 7));
	l = tz_name_code_list(t, 0);
	assert_string_equal(l, "zero|one|two");
	g_free(l);
	l = tz_name_code_list(t, (1u << 0) | (1u << 2));
	assert_string_equal(l, "zero|two");
	g_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_name_and_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
