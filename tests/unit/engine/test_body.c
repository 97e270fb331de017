/* test_body.c — transfer encoding of the new body (base64, quoted-
 * printable, ISO-2022-JP 7bit) and the 998-octet line limit; the small
 * JSON writer; uuencode detection and decoding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tz_body.h"
#include "tz_json.h"
#include "tz_encscan.h"

static char *str(GByteArray *a)
{
	g_byte_array_append(a, (const guint8 *)"", 1);
	return (char *)g_byte_array_free(a, FALSE);
}

static void test_base64(void **state)
{
	GByteArray *a = g_byte_array_new();
	char *s, *long_in = g_strnfill(300, 'x');
	(void)state;

	tz_body_base64("hello attachment\n", 17, a);
	s = str(a);
	assert_string_equal(s, "aGVsbG8gYXR0YWNobWVudAo=\n");
	g_free(s);
	a = g_byte_array_new();
	tz_body_base64(long_in, 300, a);
	assert_true(tz_body_lines_fit(a->data, a->len, 76));
	assert_false(tz_body_lines_fit(a->data, a->len, 75));
	s = str(a);
	assert_true(g_str_has_prefix(s, "eHh4"));
	g_free(s);
	g_free(long_in);
}

/* Every length around the line and group boundaries against GLib's
 * encoder, cut into lines of 76 by hand: the same characters, a LF after
 * each line and after the last. */
static void test_base64_matches_glib(void **state)
{
	unsigned char in[400];
	(void)state;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 131 + 7);
	for (size_t len = 0; len <= sizeof(in); len++) {
		GByteArray *a = g_byte_array_new();
		char *ref = g_base64_encode(in, len);
		GString *want = g_string_new(NULL);

		for (size_t at = 0, n = strlen(ref); at < n; at += 76) {
			g_string_append_len(want, ref + at, (gssize)MIN(76, n - at));
			g_string_append_c(want, '\n');
		}
		g_byte_array_append(a, (const guint8 *)"x", 1);   /* appends after what is there */
		tz_body_base64(in, len, a);
		assert_int_equal(a->len, want->len + 1);
		assert_memory_equal(a->data + 1, want->str, want->len);
		g_byte_array_free(a, TRUE);
		g_string_free(want, TRUE);
		g_free(ref);
	}
}

static void test_qp(void **state)
{
	GByteArray *a = g_byte_array_new();
	char *s, *long_in;
	(void)state;

	tz_body_qp("a=b \nFrom here\n.dot\n\xe3\x81\x82\n", 24, a);
	s = str(a);
	/* '=' encoded, trailing space encoded, "From " and leading '.' guarded. */
	assert_string_equal(s, "a=3Db=20\n=46rom here\n=2Edot\n=E3=81=82\n");
	g_free(s);
	/* 3000 octets of Japanese on one line: soft breaks, no line over 76. */
	long_in = g_strnfill(3000, 'x');
	for (int i = 0; i < 3000; i += 3)
		memcpy(long_in + i, "\xe3\x81\x82", 3);
	a = g_byte_array_new();
	tz_body_qp(long_in, 3000, a);
	assert_true(tz_body_lines_fit(a->data, a->len, 76));
	s = str(a);
	/* Never split inside an =XX escape. */
	assert_null(strstr(s, "=\n2"));
	assert_true(g_str_has_suffix(s, "\n"));
	g_free(s);
	g_free(long_in);
}

static void test_encode_choice(void **state)
{
	GByteArray *a = g_byte_array_new();
	const char *cte = NULL;
	char *long_line = g_strnfill(1200, 'y');
	(void)state;

	tz_body_encode(TZ_BODY_ISO2022JP, TZ_ENC_BASE64, "\xe3\x81\x82\n", 4, a, &cte);
	assert_string_equal(cte, "7bit");
	/* U+3042 in JIS X 0208 is 0x2422, between ESC $ B and ESC ( B. */
	assert_int_equal(a->len, 3 + 2 + 3 + 1);
	assert_memory_equal(a->data, "\x1b$B$\"\x1b(B\n", 9);
	g_byte_array_set_size(a, 0);
	/* A line that would break the 998 limit in 7bit goes base64. */
	tz_body_encode(TZ_BODY_ISO2022JP, TZ_ENC_BASE64, long_line, 1200, a, &cte);
	assert_string_equal(cte, "base64");
	assert_true(tz_body_lines_fit(a->data, a->len, 998));
	g_byte_array_set_size(a, 0);
	tz_body_encode(TZ_BODY_UTF8, TZ_ENC_QP, long_line, 1200, a, &cte);
	assert_string_equal(cte, "quoted-printable");
	assert_true(tz_body_lines_fit(a->data, a->len, 76));
	g_byte_array_free(a, TRUE);
	g_free(long_line);
}

static void test_json(void **state)
{
	struct tz_json *j = tz_json_new();
	char *s;
	(void)state;

	tz_json_begin_object(j, NULL);
	tz_json_string(j, "a", "q\"\\\n\x01\x7f");
	tz_json_string(j, "bad", "x\xff\xfey");
	tz_json_string(j, "ja", "日本");
	tz_json_null(j, "n");
	tz_json_string(j, "nul", NULL);
	tz_json_begin_array(j, "arr");
	tz_json_int(j, NULL, -5);
	tz_json_uint(j, NULL, 18446744073709551615ull);
	tz_json_bool(j, NULL, true);
	tz_json_begin_object(j, NULL);
	tz_json_end_object(j);
	tz_json_end_array(j);
	tz_json_end_object(j);
	s = tz_json_finish(j);
	assert_string_equal(s, "{\"a\":\"q\\\"\\\\\\n\\u0001\\u007f\",\"bad\":\"x\\ufffd\\ufffdy\","
			       "\"ja\":\"日本\",\"n\":null,\"nul\":null,"
			       "\"arr\":[-5,18446744073709551615,true,{}]}");
	g_free(s);
	tz_json_free(NULL);
}

static void test_uu(void **state)
{
	static const char text[] =
		"Hello\n"
		"begin 644 is not a file, this is prose\n"
		"begin 644 a.bin\n"
		"#86)C\n"
		"`\n"
		"end\n"
		"after\n";
	GPtrArray *found = tz_encscan(text, strlen(text), NULL);
	const struct tz_enc_block *b;
	(void)state;

	/* the uuencode rules now live in the final-text scanner */
	assert_int_equal(found->len, 1);
	b = g_ptr_array_index(found, 0);
	assert_int_equal(b->kind, TZ_ENCBLK_UUENCODE);
	assert_string_equal(b->name, "a.bin");
	assert_int_equal(b->start, strlen("Hello\nbegin 644 is not a file, this is prose\n"));
	assert_string_equal(text + b->stop, "after\n");
	assert_int_equal(b->data->len, 3);
	assert_memory_equal(b->data->data, "abc", 3);
	g_ptr_array_unref(found);
	/* A begin line followed by prose is text. */
	found = tz_encscan("begin 644 x\nnot uu at all, just words\n", 37, NULL);
	assert_int_equal(found->len, 0);
	g_ptr_array_unref(found);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_base64_matches_glib),
		cmocka_unit_test(test_qp),
		cmocka_unit_test(test_encode_choice),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_uu),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
