/* test_cdr_zip.c — member names of a ZIP (sender-controlled) as the
 * sanitizer stores and shows them (tz_cdr_zip_clean_name): relative paths
 * that cannot leave their folder, with traversal, absolute paths, drive
 * letters and backslashes removed, controls and bidi overrides made
 * visible, characters Windows refuses replaced, invalid UTF-8 replaced and
 * a long component cut on a character boundary. The archive itself is only
 * read in the sandbox (tests/sanitize/check_cdr.py covers that end to end). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "tz_cdr.h"

static void expect(const char *in, const char *want)
{
	char *got = tz_cdr_zip_clean_name(in);

	if (strcmp(got, want) != 0)
		fail_msg("clean(\"%s\") = \"%s\", want \"%s\"", in, got, want);
	g_free(got);
}

static void test_paths(void **state)
{
	(void)state;
	expect("見積書.pdf", "見積書.pdf");
	expect("図面/配置図.pdf", "図面/配置図.pdf");
	expect("../../etc/passwd", "etc/passwd");
	expect("/etc/cron.d/x.txt", "etc/cron.d/x.txt");
	expect("C:\\Windows\\System32\\x.dll", "Windows/System32/x.dll");
	expect("a/./b/../c", "a/b/c");
	expect("a//b", "a/b");
	expect("..", "");
	expect("...", "");
	expect("", "");
	expect("dir/", "dir");
}

static void test_shown(void **state)
{
	(void)state;
	expect("invoice\xE2\x80\xAEtxt.exe", "invoice[U+202E]txt.exe");
	expect("a\nb\rc", "a\xE2\x90\x8A" "b\xE2\x90\x8D" "c");      /* ␊ ␍ */
	expect("a<b>:c|d?e*f\".txt", "a_b__c_d_e_f_.txt");
	expect("name. . ", "name");
	expect("\xff\xfe.txt", "\xEF\xBF\xBD\xEF\xBF\xBD.txt");
}

static void test_long_component(void **state)
{
	GString *in = g_string_new(NULL);
	char *got;

	(void)state;
	for (int i = 0; i < 200; i++)
		g_string_append(in, "あ");   /* 3 bytes each */
	got = tz_cdr_zip_clean_name(in->str);
	assert_true(strlen(got) <= 120 && strlen(got) >= 117);
	assert_true(g_utf8_validate(got, -1, NULL));
	g_free(got);
	g_string_free(in, TRUE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_shown),
		cmocka_unit_test(test_long_component),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
