/* test_sniff.c — part classification by content and name: SHA-256 while
 * streaming, libmagic type, and every risk flag (tz_sniff, tz_part). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <magic.h>

#include "tz_sniff.h"
#include "tz_part.h"
#include "textize.h"

/* Sniff buf (fed in chunks of `step` bytes) as a part named name/declared. */
static struct tz_part *sniff(const void *buf, size_t len, size_t step, const char *name,
			     const char *declared, const char *raw_name)
{
	struct tz_sniff *s = tz_sniff_new();
	struct tz_part *p = tz_part_new();
	char err[TZ_ERRLEN];

	p->filename = name ? g_strdup(name) : NULL;
	p->declared_type = g_strdup(declared);
	for (size_t off = 0; off < len; off += step)
		tz_sniff_update(s, (const char *)buf + off, MIN(step, len - off));
	assert_int_equal(tz_sniff_finish(s, p, raw_name, err, sizeof(err)), 0);
	tz_sniff_free(s);
	return p;
}

static void test_sha256_streaming(void **state)
{
	struct tz_part *a, *b;
	(void)state;

	/* FIPS 180-2 test vector "abc". */
	a = sniff("abc", 3, 3, NULL, "text/plain", NULL);
	assert_string_equal(a->sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(a->size, 3);
	b = sniff("abc", 3, 1, NULL, "text/plain", NULL);
	assert_string_equal(a->sha256, b->sha256);
	tz_part_free(a);
	tz_part_free(b);
	a = sniff("", 0, 1, NULL, "application/octet-stream", NULL);
	assert_string_equal(a->sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_string_equal(a->detected_type, "application/x-empty");
	tz_part_free(a);
}

static void test_name_risks(void **state)
{
	(void)state;
	assert_int_equal(tz_sniff_name_risk("report.pdf"), 0);
	assert_int_equal(tz_sniff_name_risk(NULL), 0);
	assert_true(tz_sniff_name_risk("setup.EXE") & TZ_RISK_EXECUTABLE);
	assert_true(tz_sniff_name_risk("invoice.pdf.exe") & TZ_RISK_DOUBLE_EXT);
	assert_true(tz_sniff_name_risk("photo.jpg      .scr") & TZ_RISK_DOUBLE_EXT);
	/* Windows ignores trailing dots and spaces. */
	assert_true(tz_sniff_name_risk("run.bat. . ") & TZ_RISK_EXECUTABLE);
	assert_false(tz_sniff_name_risk("2025.04.01 minutes.docx") & TZ_RISK_DOUBLE_EXT);
	assert_true(tz_sniff_name_risk("budget.xlsm") & TZ_RISK_MACRO);
	assert_true(tz_sniff_name_risk("data.lzh") & TZ_RISK_ARCHIVE);
	assert_true(tz_sniff_name_risk("page.html") & TZ_RISK_SCRIPT);
	/* U+202E RIGHT-TO-LEFT OVERRIDE: "invoice\u202Efdp.exe" shows as "invoiceexe.pdf". */
	assert_true(tz_sniff_name_risk("invoice\xe2\x80\xae" "fdp.exe") & TZ_RISK_NAME_CONTROL);
	assert_true(tz_sniff_name_risk("a\tb.txt") & TZ_RISK_NAME_CONTROL);
}

/* A ZIP local file header for `name` with general-purpose flags. */
static void zip_entry(GByteArray *a, const char *name, unsigned flags)
{
	guint8 h[30] = { 'P', 'K', 3, 4, 20, 0 };
	size_t n = strlen(name);

	h[6] = flags & 0xff;
	h[26] = n & 0xff;
	h[27] = n >> 8;
	g_byte_array_append(a, h, sizeof(h));
	g_byte_array_append(a, (const guint8 *)name, (guint)n);
	g_byte_array_append(a, (const guint8 *)"data", 4);
}

static void test_zip_flags(void **state)
{
	GByteArray *a = g_byte_array_new();
	struct tz_part *p;
	(void)state;

	zip_entry(a, "readme.txt", 0);
	zip_entry(a, "secret.doc", 1);
	p = sniff(a->data, a->len, 1, "files.zip", "application/zip", NULL);
	assert_true(p->risk & TZ_RISK_ENCRYPTED_ZIP);
	assert_true(p->risk & TZ_RISK_ARCHIVE);
	assert_false(p->risk & TZ_RISK_MACRO);
	tz_part_free(p);
	g_byte_array_set_size(a, 0);
	/* OOXML with a VBA project, named as a macro-free .docx. */
	zip_entry(a, "[Content_Types].xml", 0);
	zip_entry(a, "word/vbaProject.bin", 0);
	p = sniff(a->data, a->len, 7, "letter.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", NULL);
	assert_true(p->risk & TZ_RISK_MACRO);
	assert_false(p->risk & TZ_RISK_ARCHIVE);
	assert_false(p->risk & TZ_RISK_ENCRYPTED_ZIP);
	tz_part_free(p);
	g_byte_array_set_size(a, 0);
	zip_entry(a, "invoice.pdf.exe", 0);
	p = sniff(a->data, a->len, 4096, "invoice.zip", "application/zip", NULL);
	assert_true(p->risk & TZ_RISK_EXECUTABLE);
	tz_part_free(p);
	g_byte_array_free(a, TRUE);
}

static void test_content_types(void **state)
{
	static const char pdf_js[] = "%PDF-1.4\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>\n";
	static const char html[] = "<!DOCTYPE html><html><head><title>x</title></head><body><script>x()</script></body></html>\n";
	struct tz_part *p;
	(void)state;

	p = sniff(pdf_js, strlen(pdf_js), 5, "doc.pdf", "application/pdf", NULL);
	assert_string_equal(p->detected_type, "application/pdf");
	assert_true(p->risk & TZ_RISK_SCRIPT);
	assert_false(p->risk & TZ_RISK_TYPE_MISMATCH);
	tz_part_free(p);
	/* HTML declared and named as a PDF. */
	p = sniff(html, strlen(html), 4096, "scan.pdf", "application/pdf", NULL);
	assert_string_equal(p->detected_type, "text/html");
	assert_true(p->risk & TZ_RISK_SCRIPT);
	assert_true(p->risk & TZ_RISK_TYPE_MISMATCH);
	tz_part_free(p);
	/* A CSV sent as Excel is everyday mislabelling, not a mismatch. */
	p = sniff("a,b\n1,2\n", 8, 4096, "list.csv", "application/vnd.ms-excel", NULL);
	assert_false(p->risk & TZ_RISK_TYPE_MISMATCH);
	tz_part_free(p);
	/* The raw (pre display-safe) name is checked for controls. */
	p = sniff("x", 1, 1, "safe_name.txt", "text/plain", "bad\xe2\x80\xaename.txt");
	assert_true(p->risk & TZ_RISK_NAME_CONTROL);
	tz_part_free(p);
}

static void test_names(void **state)
{
	char *s;
	(void)state;

	assert_string_equal(tz_part_reason_name(TZ_REASON_UUENCODE), "uuencode");
	assert_string_equal(tz_part_reason_name(TZ_REASON_HTML_ALTERNATIVE), "html-alternative");
	assert_string_equal(tz_part_reason_name(TZ_REASON_ENCODED_BLOCK), "encoded-block");
	assert_string_equal(tz_part_reason_name(TZ_REASON_UNSHOWN), "unshown");
	assert_string_equal(tz_part_reason_name(TZ_REASON_AMBIGUOUS), "ambiguous");
	/* Appended: the older values keep their numbers. */
	assert_int_equal(TZ_REASON_OTHER, 8);
	assert_int_equal(TZ_REASON_COUNT, 12);
	assert_string_equal(tz_risk_name(TZ_RISK_MACRO), "macro");
	s = tz_risk_string(TZ_RISK_EXECUTABLE | TZ_RISK_DOUBLE_EXT | TZ_RISK_ENCRYPTED);
	assert_string_equal(s, "executable,double-extension,encrypted");
	g_free(s);
	s = tz_risk_string(0);
	assert_string_equal(s, "");
	g_free(s);
	tz_part_free(NULL);
	tz_sniff_free(NULL);
}

/* The memmem fast path of the ZIP scanner must find every local header
 * wherever the chunk borders fall, also after long entry data. */
static void test_zip_chunk_borders(void **state)
{
	static const size_t steps[] = { 1, 2, 3, 4, 5, 6, 7, 13, 29, 30, 31, 64, 4096, 100000 };
	GByteArray *a = g_byte_array_new();
	guint8 junk[70000];
	(void)state;

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (guint8)(i * 7 + (i >> 8));   /* no "PK\3\4" in it */
	zip_entry(a, "[Content_Types].xml", 0);
	g_byte_array_append(a, junk, sizeof(junk));
	zip_entry(a, "xl/vbaProject.bin", 0);
	g_byte_array_append(a, junk, 100);
	zip_entry(a, "xl/run.exe", 0);
	for (size_t k = 0; k < G_N_ELEMENTS(steps); k++) {
		struct tz_part *p = sniff(a->data, a->len, steps[k], "book.xlsx",
					  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", NULL);
		assert_true(p->risk & TZ_RISK_MACRO);
		assert_true(p->risk & TZ_RISK_EXECUTABLE);
		assert_false(p->risk & TZ_RISK_ARCHIVE);
		tz_part_free(p);
	}
	g_byte_array_free(a, TRUE);
}

/* PDF action names past the head and across chunk borders. */
static void test_pdf_chunk_borders(void **state)
{
	static const char *const names[] = { "/Launch", "/JavaScript", "/JS" };
	static const size_t steps[] = { 1, 2, 3, 5, 40, 41, 4096, 100000 };
	(void)state;

	for (size_t n = 0; n < G_N_ELEMENTS(names); n++) {
		GString *pdf = g_string_new("%PDF-1.7\n");

		for (int i = 0; pdf->len < 80000; i++)
			g_string_append_printf(pdf, "%d 0 obj << /Type /Page /Jx /Lau /Java >> endobj\n", i);
		g_string_append_printf(pdf, "<< /S %s >>\n%%%%EOF\n", names[n]);
		for (size_t k = 0; k < G_N_ELEMENTS(steps); k++) {
			struct tz_part *p = sniff(pdf->str, pdf->len, steps[k], "a.pdf", "application/pdf", NULL);
			assert_true(p->risk & TZ_RISK_SCRIPT);
			tz_part_free(p);
		}
		/* the same without the action name: no flag */
		g_string_truncate(pdf, pdf->len - strlen(names[n]) - 12);
		{
			struct tz_part *p = sniff(pdf->str, pdf->len, 4096, "a.pdf", "application/pdf", NULL);
			assert_false(p->risk & TZ_RISK_SCRIPT);
			tz_part_free(p);
		}
		g_string_free(pdf, TRUE);
	}
}

/* tz_sniff_magic_type answers some HTML heads without libmagic (libmagic
 * compiles regexes on every call); the answer must be libmagic's. */
static void test_html_shortcut_matches_libmagic(void **state)
{
	static const char *const heads[] = {
		"<html>x</html>", "<HTML lang=ja>x", "<!DOCTYPE html>\n<html>",
		"<!doctype HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\">", "\xef\xbb\xbf<html>",
		"  \r\n<html>\n", "<html\n xmlns:v=\"urn:x\">", "<html\txmlns>", "<htmlx>", "<html",
		"<!DOCTYPE htmlx>", "<!DOCTYPE  html>", "<!doctype\nhtml>", "<!doctypehtml>",
		"<html><?php echo 1; ?>", "<html>#!/bin/sh\n", "<html>\x1b$B$3$s\x1b(B</html>",
		"<html>\xe3\x81\x82</html>", "<html>\xe3\x81", "<html>\x82\xa0 sjis", "<html>\x01\x02",
		"<?xml version=\"1.0\"?><html>", "<html>%PDF-1.4", "<html>\x7f", "<html>\xc0\x80",
		"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head>",
	};
	magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR);
	(void)state;

	assert_non_null(m);
	assert_int_equal(magic_load(m, NULL), 0);
	for (size_t i = 0; i < G_N_ELEMENTS(heads); i++) {
		char *ours = tz_sniff_magic_type(heads[i], strlen(heads[i]));
		const char *theirs = magic_buffer(m, heads[i], strlen(heads[i]));

		if (theirs == NULL || strchr(theirs, '/') == NULL)
			theirs = "application/octet-stream";
		if (strcmp(ours, theirs) != 0)
			fail_msg("head %zu (%s): ours %s, libmagic %s", i, heads[i], ours, theirs);
		g_free(ours);
	}
	magic_close(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_streaming),
		cmocka_unit_test(test_name_risks),
		cmocka_unit_test(test_zip_flags),
		cmocka_unit_test(test_content_types),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_zip_chunk_borders),
		cmocka_unit_test(test_pdf_chunk_borders),
		cmocka_unit_test(test_html_shortcut_matches_libmagic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
