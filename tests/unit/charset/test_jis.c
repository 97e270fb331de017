/* test_jis.c — ISO-2022-JP as Windows writes it: CP50221 decoding of the
 * CP932 extensions, half-width katakana, 1978 kanji, JIS X 0212 and the
 * -2 sets; broken input; CP50220-style encoding and its round trip.
 * Expected strings were checked with python3 codecs (cp932, euc_jp,
 * iso2022_jp) and iconv -f CP932. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <iconv.h>
#include <cmocka.h>
#include <glib.h>

#include "tz_charset.h"
#include "tz_jis.h"

static void dec(const char *in, size_t len, const char *expect, unsigned replaced)
{
	GString *out = g_string_new(NULL);
	unsigned r = tz_jis_decode(in, len, NULL, out);

	assert_string_equal(out->str, expect);
	assert_int_equal(r, replaced);
	g_string_free(out, TRUE);
}

#define DEC(in, expect, rep) dec(in, sizeof(in) - 1, expect, rep)

static void test_cp932_extensions(void **state)
{
	/* NEC row 13 (①, Ⅰ, ㈱) and the row 1 code points Windows maps
	 * differently from JIS: ～ U+FF5E, － U+FF0D, ∥ U+2225. */
	DEC("\x1b$B-!-j-5!A!]!B\x1b(B", "①㈱Ⅰ～－∥", 0);
	/* NEC-selected IBM extension, row 89: 纊 (U+7E8A). */
	DEC("\x1b$By!\x1b(B", "纊", 0);
	/* IBM extension rows past 94, as CP932 numbers them (FA40, FA5C). */
	DEC("\x1b$B\x93!\x93=\x1b(B", "ⅰ纊", 0);
	/* Plain JIS X 0208 text with ASCII around it. */
	DEC("Re: \x1b$B2q5D\x1b(B 10:00", "Re: 会議 10:00", 0);
}

static void test_kana_and_old_sets(void **state)
{
	DEC("\x1b(I123\x1b(B", "ｱｲｳ", 0);
	DEC("a\x0e" "123\x0f" "b", "aｱｲｳb", 0);
	DEC("\x1b$@0!\x1b(B", "亜", 0);             /* JIS X 0208-1978 */
	DEC("\x1b(Jabc\x1b(B", "abc", 0);           /* JIS X 0201 Roman */
	DEC("\x1b$(D0!\x1b(B", "丂", 0);            /* JIS X 0212 */
	DEC("\x1b$A0!\x1b(B", "啊", 0);             /* ISO-2022-JP-2 GB2312 */
	DEC("caf\x1b.A\x1bNi", "café", 0);          /* ISO-2022-JP-2 G2 Latin-1 */
	DEC("\x1b&@\x1b$B0!\x1b(B", "亜", 0);       /* 1990 announcer */
}

static void test_broken(void **state)
{
	/* Unterminated at the line end: the next line is ASCII again. */
	DEC("\x1b$B%F%9%H\nabc", "テスト\nabc", 0);
	/* Unterminated at the end of the text. */
	DEC("\x1b$B%F%9%H", "テスト", 0);
	/* A lone first byte of a kanji at the end. */
	DEC("abc\x1b$B%", "abc\xef\xbf\xbd", 1);
	/* An escape we do not know, and a truncated one. */
	DEC("\x1b[31mX", "\xef\xbf\xbd[31mX", 1);
	DEC("ab\x1b$", "ab\xef\xbf\xbd$", 1);
	/* 8-bit bytes with no fallback charset are replaced, one each. */
	DEC("a\x82\xa0" "b", "a\xef\xbf\xbd\xef\xbf\xbd" "b", 2);
	/* Half-width mode with a byte outside 0x21-0x5F. */
	DEC("\x1b(I\x60\x1b(B", "\xef\xbf\xbd", 1);
	assert_false(tz_jis_has_escape("plain", 5));
	assert_true(tz_jis_has_escape("x\x1b$B", 4));
}

static void test_eight_bit_fallback(void **state)
{
	GString *out = g_string_new(NULL);
	/* JIS, then raw Shift_JIS ①㈱ (a client that wrote both). */
	static const char in[] = "\x1b$B2q5D\x1b(B \x87\x40\x87\x8a";

	assert_int_equal(tz_jis_decode(in, sizeof in - 1, "CP932", out), 0);
	assert_string_equal(out->str, "会議 ①㈱");
	g_string_free(out, TRUE);
}

static void enc(const char *utf8, const char *expect)
{
	GString *out = g_string_new(NULL);

	tz_jis_encode(utf8, strlen(utf8), out);
	assert_string_equal(out->str, expect);
	g_string_free(out, TRUE);
}

static void test_encode(void **state)
{
	enc("abc", "abc");
	enc("会議\n", "\x1b$B2q5D\x1b(B\n");
	enc("①㈱Ⅰ～－∥", "\x1b$B-!-j-5!A!]!B\x1b(B");
	/* Half-width katakana folded to full width, voiced marks combined. */
	enc("ｶﾞｷﾞ ﾊﾟﾋﾟ ｳﾞ ｱｲｳ", "\x1b$B%,%.\x1b(B \x1b$B%Q%T\x1b(B \x1b$B%t\x1b(B \x1b$B%\"%$%&\x1b(B");
	/* IBM extensions go out as their NEC-selected rows (89-92). */
	enc("纊ⅰ", "\x1b$By!|q\x1b(B");
	/* No JIS form: accents stripped, else the code point. Never '?'. */
	enc("é😀", "e[U+1F600]");
	enc("a\xff" "b", "a[?]b");
	/* Back to ASCII before CR LF, even in the middle of kanji. */
	enc("日本\r\n語", "\x1b$BF|K\\\x1b(B\r\n\x1b$B8l\x1b(B");
}

static void test_round_trip(void **state)
{
	static const char text[] = "①㈱Ⅰ～－∥ 纊 テスト\r\n"
		"2行目: 全角ＡＢＣ、記号〒※→\n\nend 日本語";
	GString *jis = g_string_new(NULL), *back = g_string_new(NULL);
	gchar **lines;
	size_t k;

	tz_charset_utf8_to_iso2022jp(text, sizeof text - 1, jis);
	for (k = 0; k < jis->len; k++)
		assert_true((unsigned char)jis->str[k] < 0x80);
	/* Every line ends in ASCII mode. */
	lines = g_strsplit(jis->str, "\n", -1);
	for (k = 0; lines[k] != NULL; k++) {
		const char *b = strstr(lines[k], "\x1b$B"), *a = g_strrstr(lines[k], "\x1b(B");

		if (b != NULL)
			assert_true(a != NULL && a > g_strrstr(lines[k], "\x1b$B"));
	}
	g_strfreev(lines);
	assert_int_equal(tz_jis_decode(jis->str, jis->len, NULL, back), 0);
	assert_string_equal(back->str, text);
	g_string_free(jis, TRUE);
	g_string_free(back, TRUE);
}

/* Every cell of rows 0x21-0x97 but au's 0x75-0x7C, as a two-cell run, is
 * what iconv's CP932 gives for its Shift_JIS bytes (U+FFFD where it gives
 * nothing): the decoder's ready-made UTF-8 table against iconv here and
 * now. The output is the decoder's own (no iconv at decode time). */
static void test_every_cell_matches_cp932(void **state)
{
	iconv_t cd = iconv_open("UTF-8", "CP932");

	(void)state;
	assert_true(cd != (iconv_t)-1);
	for (unsigned j1 = 0x21; j1 < 0x21 + 119; j1++) {
		if (j1 >= 0x75 && j1 <= 0x7c)
			continue;
		for (unsigned j2 = 0x21; j2 <= 0x7e; j2++) {
			unsigned char in[10] = { 0x1b, '$', 'B', (unsigned char)j1, (unsigned char)j2,
						 (unsigned char)j1, (unsigned char)j2, 0x1b, '(', 'B' };
			unsigned char sj[2];
			char want[16], *ip = (char *)sj, *op = want;
			size_t il = 2, ol = sizeof want;
			GString *out = g_string_new(NULL), *exp = g_string_new(NULL);
			bool own = false;

			sj[0] = (unsigned char)(((j1 + 1) >> 1) + (j1 <= 0x5e ? 0x70 : 0xb0));
			sj[1] = (unsigned char)(j2 + ((j1 & 1) ? (j2 < 0x60 ? 0x1f : 0x20) : 0x7e));
			iconv(cd, NULL, NULL, NULL, NULL);
			if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || il != 0 || op == want)
				g_string_append(exp, "\xef\xbf\xbd");
			else
				g_string_append_len(exp, want, op - want);
			g_string_append_len(exp, exp->str, (gssize)exp->len);
			tz_jis_decode_own((const char *)in, sizeof in, NULL, out, &own);
			if (strcmp(out->str, exp->str) != 0)
				fail_msg("JIS %02x%02x: %s, CP932 %s", j1, j2, out->str, exp->str);
			assert_true(own);
			g_string_free(out, TRUE);
			g_string_free(exp, TRUE);
		}
	}
	iconv_close(cd);
}

/* What the decoder writes itself is valid UTF-8: the carrier emoji it
 * substitutes included. With an 8-bit run converted by iconv it is not
 * its own. */
static void test_own_output_valid(void **state)
{
	static const char pages[] = "GEFOPQ";
	GString *out = g_string_new(NULL);
	bool own = true;

	(void)state;
	for (unsigned j1 = 0x75; j1 <= 0x7c; j1++)
		for (unsigned j2 = 0x21; j2 <= 0x7e; j2++)
			assert_true(g_utf8_validate(tz_emoji_kddi_jis(j1, j2), -1, NULL));
	for (const char *p = pages; *p; p++)
		for (unsigned c = 0x21; c < 0x7f; c++)
			assert_true(g_utf8_validate(tz_emoji_webcode((unsigned char)*p, c), -1, NULL));
	tz_jis_decode_own("\x1b$B$\"\x1b(B \x82\xa0", 11, "CP932", out, &own);
	assert_false(own);
	assert_string_equal(out->str, "\xe3\x81\x82 \xe3\x81\x82");
	g_string_free(out, TRUE);
}

/* The run length counted 16 bytes at a time equals the pair-by-pair
 * count: runs of valid pairs (every lead and trail edge value among them)
 * of every length 0..48 with one byte of every edge value (a byte just
 * outside a lead or trail range, controls, ESC, 8-bit) at every offset,
 * and cut at every length. Fails when a lane limit is off by one or the
 * wide step overruns its input. */
static size_t ref_pairs(const unsigned char *p, size_t n)
{
	size_t m = 0;

	while (m + 1 < n && p[m] >= 0x21 && p[m] <= 0x97 && p[m + 1] >= 0x21 && p[m + 1] <= 0x7e)
		m += 2;
	return m;
}

static void test_pairs_match_bytewise(void **state)
{
	static const unsigned char leads[] = { 0x21, 0x30, 0x7e, 0x7f, 0x96, 0x97 };
	static const unsigned char trails[] = { 0x21, 0x50, 0x7d, 0x7e };
	static const unsigned char bad[] = { 0x00, 0x0a, 0x1b, 0x20, 0x21, 0x7e, 0x7f, 0x80,
		0x97, 0x98, 0xa1, 0xff };
	unsigned char buf[64];
	unsigned checked = 0, short_runs = 0;

	(void)state;
	for (size_t len = 0; len <= 48; len++)
		for (size_t at = 0; at <= len; at++)
			for (size_t b = 0; b < sizeof bad; b++) {
				for (size_t i = 0; i < len; i++)
					buf[i] = i % 2 ? trails[(i / 2 + at) % sizeof trails]
						       : leads[(i / 2 + b) % sizeof leads];
				if (at < len)
					buf[at] = bad[b];
				for (size_t cut = len > 20 ? len - 20 : 0; cut <= len; cut++) {
					size_t want = ref_pairs(buf, cut);

					if (tz_jis_pairs(buf, cut) != want)
						fail_msg("len %zu bad 0x%02x at %zu cut %zu: %zu != %zu", len,
							 bad[b], at, cut, tz_jis_pairs(buf, cut), want);
					checked++;
					short_runs += want < cut && want >= 16;
				}
			}
	assert_true(checked > 10000);
	assert_true(short_runs > 1000);   /* runs the wide step ends inside */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cp932_extensions),
		cmocka_unit_test(test_kana_and_old_sets),
		cmocka_unit_test(test_broken),
		cmocka_unit_test(test_eight_bit_fallback),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_every_cell_matches_cp932),
		cmocka_unit_test(test_own_output_valid),
		cmocka_unit_test(test_pairs_match_bytewise),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
