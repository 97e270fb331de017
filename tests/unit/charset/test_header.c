/* test_header.c — RFC 2047 in loose mode, raw 8-bit and raw JIS headers,
 * attachment names (RFC 2231 continuations with Japanese charsets, RFC 2047
 * inside filename=, raw Shift_JIS), NFC and display safety. The split
 * encoded-words were generated with python3 (base64 of a byte slice that
 * cuts one character in two); expected text checked by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <gmime/gmime.h>

#include "tz_header.h"
#include "tz_util.h"

static void hdr(const char *raw, const char *expect)
{
	char *d = tz_header_decode(raw);

	assert_string_equal(d, expect);
	g_free(d);
}

static void test_rfc2047_basic(void **state)
{
	hdr(" =?ISO-2022-JP?B?GyRCMnE1RBsoQg==?=", "会議");
	/* CP932 extensions inside an ISO-2022-JP word (①会議のお知らせ). */
	hdr("=?iso-2022-jp?B?GyRCLSEycTVEJE4kKkNOJGkkOxsoQg==?=", "①会議のお知らせ");
	hdr("=?UTF-8?Q?caf=C3=A9_au_lait?=", "café au lait");
	/* White space between words goes, around them it stays. */
	hdr("Re: =?UTF-8?Q?a?= =?UTF-8?Q?b?=  x", "Re: ab  x");
	/* RFC 2231 language suffix on the charset. */
	hdr("=?ISO-2022-JP*ja?B?GyRCMnE1RBsoQg==?=", "会議");
	/* Plain text and folding. */
	hdr("Hello\r\n\tworld", "Hello\tworld");
	hdr("", "");
	hdr(NULL, "");
}

/* Plain ASCII fields take a shortcut (decoded = unfolded and stripped):
 * it must give what the general path gives. The general path is forced by
 * an empty encoded-word after a space (it adds nothing: the space is
 * stripped). Inputs mix printable ASCII, spaces, tabs, CR/LF folds, '='
 * and '?', and now and then what must not take the shortcut: ESC $ B
 * (JIS), UTF-8, controls, DEL, "=?". Fails when the shortcut takes any of
 * those, or unfolds or strips differently. */
/* RFC 5322 unfolding byte by byte, then stripped: what a plain field
 * decodes to. */
static char *ref_plain(const char *raw)
{
	GString *u = g_string_new(NULL);

	for (const char *p = raw; *p; p++) {
		if (*p == '\r' || *p == '\n') {
			while (p[1] == '\r' || p[1] == '\n')
				p++;
			if (p[1] != ' ' && p[1] != '\t')
				g_string_append_c(u, ' ');
			continue;
		}
		g_string_append_c(u, *p);
	}
	return g_strstrip(g_string_free(u, FALSE));
}

static void test_plain_shortcut(void **state)
{
	static const char *const atoms[] = { "a", "Z", "0", " ", "  ", "\t", "\r\n ", "\n\t",
		"\r\n", "\n", "=", "?", "<x@y.jp>", "\x1b$B$3\x1b(B", "\xe3\x81\x82", "\x01",
		"\x7f", "=?", "\r" };
	GRand *rnd = g_rand_new_with_seed(16);
	unsigned plain = 0;

	(void)state;
	for (int n = 0; n < 4000; n++) {
		GString *raw = g_string_new(NULL);
		int len = g_rand_int_range(rnd, 0, 24);
		gboolean rare = g_rand_int_range(rnd, 0, 4) == 0;

		for (int i = 0; i < len; i++)
			g_string_append(raw, atoms[g_rand_int_range(rnd, 0, rare ? 19 : 13)]);
		char *forced = g_strconcat(raw->str, " =?us-ascii?q?" "?=", NULL);
		char *a = tz_header_decode(raw->str), *b = tz_header_decode(forced);

		if (strcmp(a, b) != 0)
			fail_msg("\"%s\": \"%s\" != \"%s\"", g_strescape(raw->str, NULL), a, b);
		if (!rare) {
			char *want = ref_plain(raw->str);

			assert_string_equal(a, want);
			g_free(want);
		}
		plain += !rare;
		g_free(a);
		g_free(b);
		g_free(forced);
		g_string_free(raw, TRUE);
	}
	assert_true(plain > 2500);
	hdr("  To: <a@b.jp>,\r\n\t c@d.jp \r\n ", "To: <a@b.jp>,\t c@d.jp");
	hdr("a\r\nb", "a b");
	g_rand_free(rnd);
}

static void test_rfc2047_split(void **state)
{
	/* 日本語の件名 in UTF-8 cut after 4 bytes: 本 is split. */
	hdr(" =?UTF-8?B?5pel5g==?=\r\n =?UTF-8?B?nKzoqp7jga7ku7blkI0=?=", "日本語の件名");
	/* Shift_JIS cut after 3 bytes: 本 is split; charset case differs. */
	hdr("=?Shift_JIS?B?k/qW?= =?shift_jis?B?e4zqgsyMj5a8?=", "日本語の件名");
	/* Q words split in the middle of a UTF-8 sequence. */
	hdr("=?utf-8?q?=E6=97?= =?utf-8?q?=A5?=", "日");
}

static void test_rfc2047_loose(void **state)
{
	/* Unterminated JIS inside the word (no ESC ( B), text after it. */
	hdr("=?ISO-2022-JP?B?GyRCMnE1RA==?= abc", "会議 abc");
	/* Bad padding (none). */
	hdr("=?ISO-2022-JP?B?GyRCMnE1RA?=", "会議");
	/* Unterminated word. */
	hdr("=?ISO-2022-JP?B?GyRCMnE1RA== abc", "会議 abc");
	/* Glued to text, inside a quoted string, spaces in a Q word. */
	hdr("abc=?utf-8?q?caf=C3=A9 au lait?=def", "abccafé au laitdef");
	hdr("\"=?UTF-8?B?5bGx55SwIOWkqumDjg==?=\" <taro@example.jp>",
	    "\"山田 太郎\" <taro@example.jp>");
	/* Unknown encoding letter: left as text. */
	hdr("=?utf-8?X?abc?=", "=?utf-8?X?abc?=");
	/* A decoded CR LF never survives (header injection). */
	hdr("=?utf-8?b?YQ0KQmNjOiB4QHk=?=", "a  Bcc: x@y");
}

static void test_rfc2047_long(void **state)
{
	GString *raw = g_string_new("=?UTF-8?B?"), *expect = g_string_new(NULL);
	int k;
	char *d;

	/* 3000 x あ in one 12,000-character word. */
	for (k = 0; k < 3000; k++) {
		g_string_append(raw, "44GC");
		g_string_append(expect, "あ");
	}
	g_string_append(raw, "?=");
	d = tz_header_decode(raw->str);
	assert_string_equal(d, expect->str);
	g_free(d);
	g_string_free(raw, TRUE);
	g_string_free(expect, TRUE);
}

static void test_raw_headers(void **state)
{
	/* 会議資料の件 について in Shift_JIS, EUC-JP, UTF-8. */
	hdr("\x89\xef\x8b\x63\x8e\x91\x97\xbf\x82\xcc\x8c\x8f \x82\xc9\x82\xc2\x82\xa2\x82\xc4",
	    "会議資料の件 について");
	hdr("\xb2\xf1\xb5\xc4\xbb\xf1\xce\xc1\xa4\xce\xb7\xef \xa4\xcb\xa4\xc4\xa4\xa4\xa4\xc6",
	    "会議資料の件 について");
	hdr("会議資料の件 について", "会議資料の件 について");
	/* Raw JIS, terminated or not. */
	hdr("Re: \x1b$B2q5D\x1b(B test", "Re: 会議 test");
	hdr("Re: \x1b$B2q5D", "Re: 会議");
	/* Raw Shift_JIS next to an encoded-word. */
	hdr("\x89\xef\x8b\x63 =?UTF-8?B?5pel?=", "会議 日");
	/* Issue 13.7: short raw UTF-8 is UTF-8, not CP932 (「隲区ｱよ嶌」), and
	 * short raw Shift_JIS still reads as Shift_JIS. */
	hdr("請求書", "請求書");
	hdr("Re: 請求書", "Re: 請求書");
	hdr("\x90\xbf\x8b\x81\x8f\x91", "請求書");
	/* Raw UTF-8 next to an encoded-word of another charset. */
	hdr("請求 =?ISO-2022-JP?B?GyRCPXEbKEI=?=", "請求 書");
}

/* The raw value for GMime's address parser: raw text converted, encoded
 * words left for the parser, which decodes them only inside names. */
static void test_raw_utf8(void **state)
{
	static const char *const t[][2] = {
		{ "\x1b$B;3ED\x1b(B <yamada@example.jp>", "山田 <yamada@example.jp>" },
		{ "\x1b$B08@h\x1b(B =?UTF-8?Q?=3Cboss=40x=2Eexample=3E?= <a@b.example>",
		  "宛先 =?UTF-8?Q?=3Cboss=40x=2Eexample=3E?= <a@b.example>" },
		{ "\x89\xef\x8b\x63 =?UTF-8?B?5pel?= <a@b.example>", "会議 =?UTF-8?B?5pel?= <a@b.example>" },
		{ "plain <a@b.example>,\r\n\tnext <c@d.example>", "plain <a@b.example>,\tnext <c@d.example>" },
		{ "=?UTF-8?B?5pel <a@b.example>", "=?UTF-8?B?5pel <a@b.example>" },
	};
	char *s;
	(void)state;

	for (size_t k = 0; k < G_N_ELEMENTS(t); k++) {
		s = tz_header_raw_utf8(t[k][0]);
		assert_string_equal(s, t[k][1]);
		g_free(s);
	}
}

/* What hygiene writes of decoded text: controls, C1, bidi controls and
 * marks, line separators as blanks; a tab alone does not count as
 * breaking a display (folds of real mail keep one). */
static void test_blank_unsafe(void **state)
{
	static const char *const t[][2] = {
		{ "pay\xe2\x80\xae" "fdp.exe", "pay fdp.exe" },
		{ "a\r\nb\x01" "c\xc2\x85" "d", "a  b c d" },
		{ "x\xe2\x80\x8fy\xe2\x81\xa6z\xd8\x9c" "w\xe2\x80\xa8v", "x y z w v" },
		{ "日本語 \xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9", "日本語 \xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9" },
		{ "bad\xff", "bad\xef\xbf\xbd" },
	};
	char *s;
	(void)state;

	for (size_t k = 0; k < G_N_ELEMENTS(t); k++) {
		s = tz_header_blank_unsafe(t[k][0]);
		assert_string_equal(s, t[k][1]);
		assert_false(tz_header_breaks_display(s));
		assert_int_equal(tz_header_breaks_display(t[k][0]), strcmp(t[k][0], t[k][1]) != 0);
		g_free(s);
	}
	assert_false(tz_header_breaks_display("folded\tsubject"));
}

/* What GMime's loose decoder may scan (tz_header_decode_cost): per
 * opening (also "=\\?", which GMime unquotes; also past a NUL) the way to
 * the first "?=" after it or the end; and the copy GMime's address parser
 * gets (tz_header_for_gmime: comments closed, nothing else). */
static void test_header_decode_cost(void **state)
{
	static const char nul[] = "=?a?q?x\0=?a?q?y";
	GString *open = g_string_new(NULL), *closed = g_string_new(NULL);
	char *s;
	(void)state;

	assert_int_equal(tz_header_decode_cost("plain", 5), 0);
	assert_int_equal(tz_header_decode_cost("=?a?Q?x?=", 9), 7);
	/* the padding "=?" of a B word (at 31) finds no "?=" after its '?' (at 32) */
	assert_int_equal(tz_header_decode_cost("=?ISO-2022-JP?B?GyRCOzNFRBsoQg==?=", 34), 32 + 3);
	assert_int_equal(tz_header_decode_cost("\"=\\?a?q?x\"", 10), 9);   /* from the '=' (at 1) to the end */
	assert_int_equal(tz_header_decode_cost(nul, sizeof(nul) - 1), 15 + 7);
	for (int i = 0; i < 1000; i++) {
		g_string_append(open, "=?a?Q?x ");
		g_string_append(closed, "=?a?Q?x?= ");
	}
	/* open words: quadratic (the n-th scans to the end); closed: linear */
	assert_true(tz_header_decode_cost(open->str, open->len) > 1000u * 1000 * 8 / 2 - 8000);
	assert_int_equal(tz_header_decode_cost(closed->str, closed->len), 1000 * 7);
	assert_null(tz_header_for_gmime("=?a?Q?x <a@b.example>"));
	s = tz_header_for_gmime("a@[192.0.2.1] (x");
	assert_string_equal(s, "a@[192.0.2.1] (x )");
	g_free(s);
	g_string_free(open, TRUE);
	g_string_free(closed, TRUE);
}

/* Words whose label lies about their bytes read as what the bytes are. */
static void test_lying_labels(void **state)
{
	(void)state;
	hdr("=?ISO-8859-1?B?6KuL5rGC5pu4?=", "請求書");        /* UTF-8 bytes */
	hdr("=?UTF-8?B?kL+LgY+R?=", "請求書");                 /* Shift_JIS bytes */
}

/* Parse a one-part message and return its filename. */
static char *fname(const char *headers)
{
	char *msg = g_strconcat(headers, "\n\nbody\n", NULL);
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(msg, strlen(msg));
	GMimeParser *p = g_mime_parser_new_with_stream(st);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
	char *name;

	assert_non_null(m);
	name = tz_header_part_filename(g_mime_message_get_mime_part(m));
	g_object_unref(m);
	g_object_unref(p);
	g_object_unref(st);
	g_free(msg);
	return name;
}

static void fn(const char *headers, const char *expect)
{
	char *name = fname(headers);

	if (expect == NULL) {
		assert_null(name);
	} else {
		assert_non_null(name);
		assert_string_equal(name, expect);
	}
	g_free(name);
}

#define CT "Content-Type: application/octet-stream\n"

static void test_filename(void **state)
{
	/* RFC 2231 continuations, ISO-2022-JP charset, 申請書（様式第１号）.xlsx */
	fn(CT "Content-Disposition: attachment;\n"
	   " filename*0*=iso-2022-jp'ja'%1B%24B%3F%3D%40A%3Dq%21JMM%3C0Bh;\n"
	   " filename*1*=%2319f%21K%1B%28B.xlsx", "申請書（様式第１号）.xlsx");
	/* Same name in Shift_JIS, one extended value, 0x5C trail byte in 申. */
	fn(CT "Content-Disposition: attachment; filename*=Shift_JIS''"
	   "%90%5C%90%BF%8F%91%81i%97l%8E%AE%91%E6%82P%8D%86%81j.xlsx",
	   "申請書（様式第１号）.xlsx");
	/* Mixed plain and encoded continuations, out of order. */
	fn(CT "Content-Disposition: attachment; filename*1=\".txt\";"
	   " filename*0*=UTF-8''%E5%A0%B1%E5%91%8A", "報告.txt");
	/* RFC 2047 inside a quoted filename= (the common Japanese way). */
	fn(CT "Content-Disposition: attachment;\n filename=\"=?ISO-2022-JP?B?GyRCPz1AQT1xGyhCLnBkZg==?=\"",
	   "申請書.pdf");
	/* Only Content-Type name=, split across two words. */
	fn("Content-Type: application/pdf; name=\"=?UTF-8?B?5pel5g==?= =?UTF-8?B?nKw=?=.pdf\"",
	   "日本.pdf");
	/* Raw Shift_JIS 表示.txt: 表 ends in 0x5C, not an escape. */
	fn(CT "Content-Disposition: attachment; filename=\"\x95\x5c\x8e\xa6.txt\"", "表示.txt");
	/* RFC 2231 wins over the plain parameter. */
	fn(CT "Content-Disposition: attachment; filename=\"old.txt\"; filename*=UTF-8''new.txt",
	   "new.txt");
	fn(CT "Content-Disposition: inline", NULL);
	fn(CT "Content-Disposition: attachment; filename=\"\"", NULL);
}

static void test_filename_safety(void **state)
{
	/* NFC: か + combining voiced mark (as macOS writes names) -> が. */
	fn(CT "Content-Disposition: attachment; filename*=UTF-8''%E3%81%8B%E3%82%99.txt",
	   "が.txt");
	/* RLO: "invoice<RLO>fdp.exe" would show as invoiceexe.pdf. */
	fn(CT "Content-Disposition: attachment; filename*=UTF-8''invoice%E2%80%AEfdp.exe",
	   "invoice[U+202E]fdp.exe");
	/* Path separators and a CR LF injection attempt. */
	fn(CT "Content-Disposition: attachment; filename=\"..\\\\..\\\\a/b.txt\"",
	   "..＼..＼a／b.txt");
	fn(CT "Content-Disposition: attachment; filename*=UTF-8''a%0D%0ABcc%3A%20x.txt",
	   "a␍␊Bcc: x.txt");
}

static void test_display_safe(void **state)
{
	static const char *const t[][2] = {
		{ "plain 日本語.txt", "plain 日本語.txt" },
		{ "a/b\\c", "a／b＼c" },
		{ "a\r\nb\tc\x7f", "a␍␊b␉c␡" },
		{ "x\xe2\x80\x8fy\xe2\x81\xa6z\xd8\x9c", "x[U+200F]y[U+2066]z[U+061C]" },
		{ "c1\xc2\x85", "c1[U+0085]" },
		{ "bad\xff utf8", "bad\xef\xbf\xbd utf8" },
	};
	size_t k;
	char *s;

	for (k = 0; k < G_N_ELEMENTS(t); k++) {
		s = tz_header_display_safe(t[k][0]);
		assert_string_equal(s, t[k][1]);
		assert_null(strpbrk(s, "\r\n"));
		g_free(s);
	}
	s = tz_header_display_safe(NULL);
	assert_string_equal(s, "");
	g_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc2047_basic),
		cmocka_unit_test(test_rfc2047_split),
		cmocka_unit_test(test_rfc2047_loose),
		cmocka_unit_test(test_rfc2047_long),
		cmocka_unit_test(test_raw_headers),
		cmocka_unit_test(test_raw_utf8),
		cmocka_unit_test(test_blank_unsafe),
		cmocka_unit_test(test_header_decode_cost),
		cmocka_unit_test(test_lying_labels),
		cmocka_unit_test(test_filename),
		cmocka_unit_test(test_filename_safety),
		cmocka_unit_test(test_display_safe),
		cmocka_unit_test(test_plain_shortcut),
	};
	int rc;

	g_mime_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	g_mime_shutdown();
	return rc;
}
