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

	tz_notice_render_opts(tmpl, &(struct tz_notice_opts){ .lang = TZ_NOTICE_EN, .ref_id = "ID1", .parts = parts }, out);
	assert_string_equal(out->str,
		"Ref ID1 (2) {unknown}\n"
		"[1] 見積書.pdf application/pdf 2.0 KB ID1#1 attachment\n"
		"[2] unnamed file application/octet-stream 10 bytes ID1#2 attachment\n"
		"  ! executable, double extension\n");
	g_string_truncate(out, 0);
	tz_notice_render_opts(tmpl, &(struct tz_notice_opts){ .lang = TZ_NOTICE_JA, .ref_id = "ID2", .encrypted = true, .parts = NULL }, out);
	assert_string_equal(out->str, "Ref ID2 (0) {unknown}\nnothing removed\nENCRYPTED\n");
	g_ptr_array_free(parts, TRUE);
	g_string_free(out, TRUE);
}

/* The pre-split built-in template renders what the template text renders,
 * in both languages, with parts, the HTML note and none. */
static void test_builtin_cached_same(void **state)
{
	GPtrArray *parts = two_parts();
	(void)state;

	for (int lang = TZ_NOTICE_JA; lang <= TZ_NOTICE_EN; lang++)
		for (int k = 0; k < 2; k++) {
			struct tz_notice_opts o = { .lang = (enum tz_notice_lang)lang, .ref_id = "REF",
						    .parts = k ? parts : NULL, .details = k == 1 };
			GString *a = g_string_new(NULL), *b = g_string_new(NULL);

			tz_notice_render_opts(tz_notice_builtin(o.lang), &o, a);
			tz_notice_render_builtin(&o, b);
			tz_notice_render_builtin(&o, b);   /* the cache is not consumed */
			assert_true(a->len > 0);
			assert_int_equal(b->len, 2 * a->len);
			assert_memory_equal(b->str, a->str, a->len);
			assert_memory_equal(b->str + a->len, a->str, a->len);
			g_string_free(a, TRUE);
			g_string_free(b, TRUE);
		}
	g_ptr_array_free(parts, TRUE);
}

static void test_builtin_render(void **state)
{
	GPtrArray *parts = two_parts();
	GString *out = g_string_new(NULL);
	(void)state;

	tz_notice_render_opts(tz_notice_builtin(TZ_NOTICE_JA), &(struct tz_notice_opts){ .lang = TZ_NOTICE_JA, .ref_id = "REF", .parts = parts }, out);
	assert_true(g_str_has_prefix(out->str, "【安全のためテキスト形式に変換しました】\n"));
	assert_non_null(strstr(out->str, "次の 2 件を取り除いて保管しています。"));
	assert_non_null(strstr(out->str, "  ・見積書.pdf(PDF 文書、2.0 KB)\n      理由: 添付ファイル\n"));
	assert_non_null(strstr(out->str, "  ・名前のないファイル(Windows 実行ファイル、10 バイト)\n"));
	assert_non_null(strstr(out->str, "参照番号: REF#1\n"));
	assert_non_null(strstr(out->str, "参照番号: REF#2\n"));
	/* SanitizedDelivery auto announces the copies; otherwise nothing does. */
	assert_null(strstr(out->str, "無害化"));
	{
		GString *follow = g_string_new(NULL), *en = g_string_new(NULL);

		tz_notice_render_opts(tz_notice_builtin(TZ_NOTICE_JA),
				      &(struct tz_notice_opts){ .lang = TZ_NOTICE_JA, .ref_id = "REF",
								.parts = parts, .sanitized_follow = true },
				      follow);
		assert_non_null(strstr(follow->str, "PDF、Office 文書、画像、テキストのファイルは、無害化した複製を、このあと\n"
					"別のメールでお届けします。\n"));
		assert_null(strstr(follow->str, "暗号化されていた"));
		tz_notice_render_opts(tz_notice_builtin(TZ_NOTICE_EN),
				      &(struct tz_notice_opts){ .lang = TZ_NOTICE_EN, .ref_id = "REF",
								.encrypted = true, .parts = parts,
								.sanitized_follow = true },
				      en);
		assert_non_null(strstr(en->str, "Sanitized copies of the PDF, Office, image and text files will follow in a\n"
					"separate message.\n"));
		assert_non_null(strstr(en->str, "was encrypted"));
		g_string_free(follow, TRUE);
		g_string_free(en, TRUE);
	}
	assert_non_null(strstr(out->str, "注意: 実行ファイル、二重拡張子"));
	assert_non_null(strstr(out->str, "参照番号を添えて情報セキュリティ担当へお問い合わせください。"));
	assert_non_null(strstr(out->str, "このメールの参照番号: REF\n"));
	/* Staff see no hashes, MIME types or words they would not use. */
	assert_null(strstr(out->str, "SHA-256"));
	assert_null(strstr(out->str, "application/"));
	assert_null(strstr(out->str, "textize"));
	assert_null(strstr(out->str, "部分"));
	assert_null(strstr(out->str, "大きさ"));
	assert_null(strstr(out->str, "参照ID"));
	assert_null(strstr(out->str, "取り除いたものはありません"));
	assert_null(strstr(out->str, "HTML"));
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
	tz_notice_render_opts("{each:part}\n{name}\n{end}\n", &(struct tz_notice_opts){ .lang = TZ_NOTICE_EN, .ref_id = "R", .parts = parts }, out);
	assert_true(out->len < 200);
	g_ptr_array_free(parts, TRUE);
	g_string_free(out, TRUE);
}

/* {kind} names the type the way staff know it; the content's type wins
 * unless it only says "bytes" or "text"; unknown types get a generic word. */
static void test_kind(void **state)
{
	static const struct { const char *declared, *detected, *ja, *en; } cases[] = {
		{ "application/octet-stream",
		  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		  "Excel ブック", "Excel workbook" },
		{ "application/pdf", "application/octet-stream", "PDF 文書", "PDF document" },
		{ "image/png", "image/png", "画像", "image" },
		{ "application/pdf", "application/x-dosexec", "Windows 実行ファイル", "Windows executable" },
		/* Unknown types get a generic word, never a MIME type. */
		{ "application/x-unheard-of", NULL, "ファイル", "file" },
		/* EICAR: text by content, octet-stream as declared. */
		{ "application/octet-stream", "text/plain", "ファイル", "file" },
		{ "application/x-msdownload", "text/plain", "Windows 実行ファイル", "Windows executable" },
		{ "text/x-unheard-of", "text/plain", "テキストファイル", "text file" },
		{ "x-weird/thing", NULL, "ファイル", "file" },
	};
	(void)state;

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		GPtrArray *parts = g_ptr_array_new_with_free_func((GDestroyNotify)tz_part_free);
		struct tz_part *p = tz_part_new();
		GString *ja = g_string_new(NULL), *en = g_string_new(NULL);

		p->index = 1;
		p->declared_type = g_strdup(cases[i].declared);
		p->detected_type = g_strdup(cases[i].detected);
		g_ptr_array_add(parts, p);
		tz_notice_render_opts("{each:part}\n{kind}\n{end}\n", &(struct tz_notice_opts){ .lang = TZ_NOTICE_JA, .ref_id = "R", .parts = parts }, ja);
		tz_notice_render_opts("{each:part}\n{kind}\n{end}\n", &(struct tz_notice_opts){ .lang = TZ_NOTICE_EN, .ref_id = "R", .parts = parts }, en);
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

/* The reasons the engine adds for what it finds in the final text: each has its own
 * label in both languages (not the generic "other" one). */
static void test_new_reasons(void **state)
{
	(void)state;
	assert_string_equal(tz_notice_reason(TZ_NOTICE_JA, TZ_REASON_ENCODED_BLOCK), "本文中の符号化ファイル");
	assert_string_equal(tz_notice_reason(TZ_NOTICE_JA, TZ_REASON_UNSHOWN), "表示できない内容");
	assert_string_equal(tz_notice_reason(TZ_NOTICE_EN, TZ_REASON_ENCODED_BLOCK),
			    "encoded file in the body text");
	assert_string_equal(tz_notice_reason(TZ_NOTICE_EN, TZ_REASON_UNSHOWN), "content that could not be shown");
	assert_string_not_equal(tz_notice_reason(TZ_NOTICE_JA, TZ_REASON_AMBIGUOUS),
				tz_notice_reason(TZ_NOTICE_JA, TZ_REASON_OTHER));
	assert_string_equal(tz_notice_reason(TZ_NOTICE_EN, TZ_REASON_AMBIGUOUS), "ambiguous message structure");
}

static struct tz_part *html_alternative(void)
{
	struct tz_part *p = tz_part_new();

	p->index = 1;
	p->reason = TZ_REASON_HTML_ALTERNATIVE;
	p->declared_type = g_strdup("text/html");
	p->detected_type = g_strdup("text/html");
	p->size = 4000;
	return p;
}

static char *render_ja(const GPtrArray *parts, bool encrypted, bool details, const char *contact)
{
	struct tz_notice_opts o = { .lang = TZ_NOTICE_JA, .ref_id = "REF", .encrypted = encrypted,
				    .parts = parts, .details = details, .contact = contact };
	GString *out = g_string_new(NULL);

	tz_notice_render_opts(tz_notice_builtin(TZ_NOTICE_JA), &o, out);
	return g_string_free(out, FALSE);
}

/* The wording follows what happened: nothing removed, only the HTML version
 * turned into text (said once, no 参照番号 of its own), files removed,
 * encrypted. */
static void test_what_happened(void **state)
{
	GPtrArray *parts = g_ptr_array_new_with_free_func((GDestroyNotify)tz_part_free);
	struct tz_part *att;
	char *t;
	(void)state;

	t = render_ja(parts, false, false, NULL);
	assert_non_null(strstr(t, "取り除いたものはありません。"));
	assert_null(strstr(t, "HTML"));
	assert_null(strstr(t, "取り除いて保管"));
	g_free(t);

	g_ptr_array_add(parts, html_alternative());
	t = render_ja(parts, false, false, NULL);
	assert_non_null(strstr(t, "HTML 形式の本文はテキストに変換したため、画像や文字の装飾は表示されません。"));
	assert_null(strstr(t, "取り除いたものはありません"));
	assert_null(strstr(t, "取り除いて保管"));
	assert_null(strstr(t, "REF#1"));
	g_free(t);

	att = tz_part_new();
	att->index = 2;
	att->filename = g_strdup("議事録.docx");
	att->declared_type = g_strdup("application/msword");
	att->size = 3 * 1024 * 1024 / 2;
	g_ptr_array_add(parts, att);
	t = render_ja(parts, false, false, NULL);
	assert_non_null(strstr(t, "HTML 形式の本文は"));
	assert_non_null(strstr(t, "次の 1 件を取り除いて保管しています。"));
	assert_non_null(strstr(t, "・議事録.docx(Word 文書、1.5 MB)"));
	assert_non_null(strstr(t, "参照番号: REF#2"));
	assert_null(strstr(t, "REF#1"));
	g_free(t);

	g_ptr_array_set_size(parts, 0);
	t = render_ja(parts, true, false, NULL);
	assert_non_null(strstr(t, "暗号化されていたため、内容を表示できません。"));
	assert_null(strstr(t, "取り除いたものはありません"));
	g_free(t);
	g_ptr_array_free(parts, TRUE);
}

/* NoticeDetails full adds the MIME types and SHA-256; NoticeContact names
 * whom to ask. */
static void test_details_and_contact(void **state)
{
	GPtrArray *parts = two_parts();
	GString *en = g_string_new(NULL);
	struct tz_notice_opts o = { .lang = TZ_NOTICE_EN, .ref_id = "R", .parts = parts, .details = true,
				    .contact = "IT desk (ext. 1234)" };
	char *t;
	(void)state;

	t = render_ja(parts, true, true, "情報政策課(内線 1234)");
	assert_non_null(strstr(t, "MIME タイプ: application/pdf(内容から判定: application/pdf)\n"));
	assert_non_null(strstr(t, "SHA-256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"));
	assert_non_null(strstr(t, "参照番号を添えて情報政策課(内線 1234)へお問い合わせください。"));
	assert_null(strstr(t, "情報セキュリティ担当"));
	g_free(t);
	tz_notice_render_opts(tz_notice_builtin(TZ_NOTICE_EN), &o, en);
	assert_true(g_str_has_prefix(en->str, "[Converted to plain text for safety]\n"));
	assert_non_null(strstr(en->str, "  - 見積書.pdf (PDF document, 2.0 KB)\n"));
	assert_non_null(strstr(en->str, "MIME type: application/octet-stream (from the content: application/x-dosexec)"));
	assert_non_null(strstr(en->str, "ask IT desk (ext. 1234), quoting its reference."));
	g_string_free(en, TRUE);
	g_ptr_array_free(parts, TRUE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_matches_conf),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_builtin_render),
		cmocka_unit_test(test_builtin_cached_same),
		cmocka_unit_test(test_bad_templates),
		cmocka_unit_test(test_long_name_cut),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_kind),
		cmocka_unit_test(test_new_reasons),
		cmocka_unit_test(test_what_happened),
		cmocka_unit_test(test_details_and_contact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
