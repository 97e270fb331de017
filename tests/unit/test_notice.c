/* test_notice.c — notice templates: the built-in copies match conf/, the
 * directives and placeholders render as documented, bad templates are
 * refused, sizes and risks read well. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tz_notice.h"

static void test_builtin_matches_conf(void **state)
{
	static const char *const files[] = { "notice-ja.txt", "notice-en.txt" };
	(void)state;

	for (int i = 0; i < 2; i++) {
		char *path = g_build_filename(TZ_TOP_SRCDIR, "conf", files[i], NULL), *text = NULL;
		char err[TZ_ERRLEN];
		assert_true(g_file_get_contents(path, &text, NULL, NULL));
		assert_string_equal(text, tz_notice_builtin(i == 0 ? TZ_NOTICE_JA : TZ_NOTICE_EN));
		assert_int_equal(tz_notice_check(text, err, sizeof(err)), 0);
		g_free(text);
		text = tz_notice_load(path, TZ_NOTICE_JA, err, sizeof(err));
		assert_non_null(text);
		g_free(text);
		g_free(path);
	}
}

static GPtrArray *two_parts(void)
{
	GPtrArray *a = g_ptr_array_new_with_free_func((GDestroyNotify)tz_part_free);
	struct tz_part *p = tz_part_new();

	p->index = 1;
	p->filename = g_strdup("見積書.pdf");
	p->declared_type = g_strdup("application/pdf");
	p->detected_type = g_strdup("application/pdf");
	p->size = 2048;
	memset(p->sha256, 'a', 64);
	g_ptr_array_add(a, p);
	p = tz_part_new();
	p->index = 2;
	p->declared_type = g_strdup("application/octet-stream");
	p->detected_type = g_strdup("application/x-dosexec");
	p->size = 10;
	p->risk = TZ_RISK_EXECUTABLE | TZ_RISK_DOUBLE_EXT;
	g_ptr_array_add(a, p);
	return a;
}

static void test_render(void **state)
{
	static const char tmpl[] =
		"## comment, not printed\n"
		"Ref {ref_id} ({count}) {unknown}\n"
		"{if:no_parts}\n"
		"nothing removed\n"
		"{end}\n"
		"{each:part}\n"
		"[{index}] {name} {type} {size} {ref} {reason}\n"
		"{if:part_risk}\n"
		"  ! {risk}\n"
		"{end}\n"
		"{end}\n"
		"{if:encrypted}\n"
		"ENCRYPTED\n"
		"{end}\n";
	GPtrArray *parts = two_parts();
	GString *out = g_string_new(NULL);
	(void)state;

	tz_notice_render(tmpl, TZ_NOTICE_EN, "ID1", false, parts, out);
	assert_string_equal(out->str,
		"Ref ID1 (2) {unknown}\n"
		"[1] 見積書.pdf application/pdf 2.0 KB (2,048 bytes) ID1#1 attachment\n"
		"[2] (no name) application/octet-stream 10 bytes ID1#2 attachment\n"
		"  ! executable, double extension\n");
	g_string_truncate(out, 0);
	tz_notice_render(tmpl, TZ_NOTICE_JA, "ID2", true, NULL, out);
	assert_string_equal(out->str, "Ref ID2 (0) {unknown}\nnothing removed\nENCRYPTED\n");
	g_ptr_array_free(parts, TRUE);
	g_string_free(out, TRUE);
}

static void test_builtin_render(void **state)
{
	GPtrArray *parts = two_parts();
	GString *out = g_string_new(NULL);
	(void)state;

	tz_notice_render(tz_notice_builtin(TZ_NOTICE_JA), TZ_NOTICE_JA, "REF", false, parts, out);
	assert_non_null(strstr(out->str, "このメールはテキスト化されています"));
	assert_non_null(strstr(out->str, "[1] 見積書.pdf"));
	assert_non_null(strstr(out->str, "参照番号: REF#2"));
	assert_non_null(strstr(out->str, "注意: 実行ファイル、二重拡張子"));
	assert_null(strstr(out->str, "##"));
	assert_null(strstr(out->str, "{"));
	g_ptr_array_free(parts, TRUE);
	g_string_free(out, TRUE);
}

static void test_bad_templates(void **state)
{
	char err[TZ_ERRLEN];
	(void)state;

	assert_int_equal(tz_notice_check("{if:parts}\nx\n", err, sizeof(err)), -1);
	assert_int_equal(tz_notice_check("x\n{end}\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 2"));
	assert_null(tz_notice_load("/nonexistent/notice.txt", TZ_NOTICE_JA, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/notice.txt"));
}

static void test_long_name_cut(void **state)
{
	GPtrArray *parts = two_parts();
	GString *out = g_string_new(NULL);
	struct tz_part *p = g_ptr_array_index(parts, 0);
	(void)state;

	g_free(p->filename);
	p->filename = g_strnfill(5000, 'A');
	tz_notice_render("{each:part}\n{name}\n{end}\n", TZ_NOTICE_EN, "R", false, parts, out);
	assert_true(out->len < 200);
	g_ptr_array_free(parts, TRUE);
	g_string_free(out, TRUE);
}

static void test_sizes(void **state)
{
	char *s;
	(void)state;

	s = tz_notice_size(TZ_NOTICE_JA, 812);
	assert_string_equal(s, "812 バイト");
	g_free(s);
	s = tz_notice_size(TZ_NOTICE_EN, 1468006);
	assert_string_equal(s, "1.4 MB (1,468,006 bytes)");
	g_free(s);
	s = tz_notice_risks(TZ_NOTICE_EN, 0);
	assert_string_equal(s, "");
	g_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_matches_conf),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_builtin_render),
		cmocka_unit_test(test_bad_templates),
		cmocka_unit_test(test_long_name_cut),
		cmocka_unit_test(test_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
