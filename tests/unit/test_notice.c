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
	/* SanitizedDelivery auto announces the copies; otherwise nothing does */
	assert_null(strstr(out->str, "無害化した"));
	{
		GString *follow = g_string_new(NULL), *en = g_string_new(NULL);
		tz_notice_render(tz_notice_builtin(TZ_NOTICE_JA), TZ_NOTICE_JA, "REF",
				 TZ_NOTICE_F_SANITIZED_FOLLOW, parts, follow);
		assert_non_null(strstr(follow->str, "無害化した\n複製をこのあと別のメールでお届けします。"));
		assert_null(strstr(follow->str, "暗号化されていた"));
		tz_notice_render(tz_notice_builtin(TZ_NOTICE_EN), TZ_NOTICE_EN, "REF",
				 TZ_NOTICE_F_SANITIZED_FOLLOW | TZ_NOTICE_F_ENCRYPTED, parts, en);
		assert_non_null(strstr(en->str, "follow in a separate mail as sanitized copies"));
		assert_non_null(strstr(en->str, "was encrypted"));
		g_string_free(follow, TRUE);
		g_string_free(en, TRUE);
	}
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

/* {kind} names the type the way staff know it; the content's type wins
 * unless it only says "bytes"; unknown types fall back to the MIME type. */
static void test_kind(void **state)
{
	static const struct { const char *declared, *detected, *ja, *en; } cases[] = {
		{ "application/octet-stream",
		  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		  "Excel ブック", "Excel workbook" },
		{ "application/pdf", "application/octet-stream", "PDF 文書", "PDF document" },
		{ "image/png", "image/png", "画像", "image" },
		{ "application/pdf", "application/x-dosexec", "実行ファイル (Windows)", "Windows executable" },
		{ "application/x-unheard-of", NULL, "application/x-unheard-of", "application/x-unheard-of" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		GPtrArray *parts = g_ptr_array_new_with_free_func((GDestroyNotify)tz_part_free);
		struct tz_part *p = tz_part_new();
		GString *ja = g_string_new(NULL), *en = g_string_new(NULL);

		p->index = 1;
		p->declared_type = g_strdup(cases[i].declared);
		p->detected_type = g_strdup(cases[i].detected);
		g_ptr_array_add(parts, p);
		tz_notice_render("{each:part}\n{kind}\n{end}\n", TZ_NOTICE_JA, "R", false, parts, ja);
		tz_notice_render("{each:part}\n{kind}\n{end}\n", TZ_NOTICE_EN, "R", false, parts, en);
		g_strchomp(ja->str);
		g_strchomp(en->str);
		assert_string_equal(ja->str, cases[i].ja);
		assert_string_equal(en->str, cases[i].en);
		g_string_free(ja, TRUE);
		g_string_free(en, TRUE);
		g_ptr_array_free(parts, TRUE);
	}
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
		cmocka_unit_test(test_kind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
