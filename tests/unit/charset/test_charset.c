/* test_charset.c — labels, Windows-compatible Japanese decoding, labels
 * that lie, detection of undeclared text, carrier emoji and private-use
 * stand-ins. Expected text checked by hand with python3 codecs (cp932,
 * euc_jp, iso2022_jp) and iconv. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "tz_charset.h"

/* これは日本語のテキストです。 in three encodings. */
#define JA_TEXT "これは日本語のテキストです。"
#define JA_EUC "\xa4\xb3\xa4\xec\xa4\xcf\xc6\xfc\xcb\xdc\xb8\xec\xa4\xce\xa5\xc6" \
	"\xa5\xad\xa5\xb9\xa5\xc8\xa4\xc7\xa4\xb9\xa1\xa3"
#define JA_SJIS "\x82\xb1\x82\xea\x82\xcd\x93\xfa\x96{\x8c\xea\x82\xcc\x83" "e" \
	"\x83L\x83X\x83g\x82\xc5\x82\xb7\x81" "B"

static struct tz_decode_info info;

static void dec_n(const char *label, const char *in, size_t len, const char *expect,
		  const char *used, bool detected, unsigned replaced)
{
	GString *out = g_string_new("<");

	tz_charset_to_utf8(label, in, len, out, &info);
	assert_string_equal(out->str + 1, expect);
	assert_string_equal(info.used, used);
	assert_int_equal(info.detected, detected);
	assert_int_equal(info.replaced, replaced);
	assert_true(out->str[0] == '<'); /* appends, never overwrites */
	g_string_free(out, TRUE);
}

#define DEC(label, in, expect, used, det, rep) \
	dec_n(label, in, sizeof(in) - 1, expect, used, det, rep)

static void test_canonical(void **state)
{
	static const char *const t[][2] = {
		{ "Shift_JIS", "cp932" }, { "x-sjis", "cp932" }, { "MS932", "cp932" },
		{ "windows-31j", "cp932" }, { "\"shift-jis\"", "cp932" },
		{ "EUC-JP", "euc-jp" }, { "x-euc-jp", "euc-jp" },
		{ "ISO-2022-JP", "iso-2022-jp" }, { "iso-2022-jp-2", "iso-2022-jp" },
		{ "CP50220", "iso-2022-jp" }, { "UTF8", "utf-8" }, { "latin1", "iso-8859-1" },
		{ "ISO8859-15", "iso-8859-15" }, { "cp1252", "windows-1252" },
		{ "ks_c_5601-1987", "euc-kr" }, { "gb2312", "gb18030" }, { "US-ASCII", "us-ascii" },
	};
	size_t k;

	for (k = 0; k < G_N_ELEMENTS(t); k++)
		assert_string_equal(tz_charset_canonical(t[k][0]), t[k][1]);
	assert_null(tz_charset_canonical("x-unknown"));
	assert_null(tz_charset_canonical(""));
	assert_null(tz_charset_canonical(NULL));
	assert_null(tz_charset_canonical("utf-8//TRANSLIT"));
}

static void test_windows_japanese(void **state)
{
	/* CP932 bytes for ①㈱Ⅰ～－∥ and an IBM extension kanji (纊, FA5C). */
	DEC("Shift_JIS", "\x87\x40\x87\x8a\x87\x54\x81\x60\x81\x7c\x81\x61\xfa\x5c",
	    "①㈱Ⅰ～－∥纊", "cp932", false, 0);
	DEC("Shift_JIS", JA_SJIS, JA_TEXT, "cp932", false, 0);
	/* EUC-JP as Windows reads it: ～ U+FF5E, ① from NEC row 13. */
	DEC("EUC-JP", "\xa1\xc1\xad\xa1" "\xa4\xa2", "～①あ", "euc-jp", false, 0);
	DEC("EUC-JP", JA_EUC, JA_TEXT, "euc-jp", false, 0);
	DEC("ISO-2022-JP", "\x1b$B-!-j-5!A!]!B\x1b(B", "①㈱Ⅰ～－∥", "iso-2022-jp", false, 0);
	/* Half-width katakana in Shift_JIS are real text, not a mislabel. */
	DEC("shift_jis", "\xb1\xb2\xb3 \xc3\xbd\xc4", "ｱｲｳ ﾃｽﾄ", "cp932", false, 0);
}

static void test_lying_labels(void **state)
{
	/* "ISO-2022-JP" that is EUC-JP or Shift_JIS (8-bit bytes). */
	DEC("ISO-2022-JP", JA_EUC, JA_TEXT, "euc-jp", true, 0);
	DEC("ISO-2022-JP", JA_SJIS, JA_TEXT, "cp932", true, 0);
	/* JIS escapes plus raw Shift_JIS in one text. */
	DEC("ISO-2022-JP", "\x1b$B2q5D\x1b(B \x87\x40", "会議 ①", "iso-2022-jp+cp932", true, 0);
	/* Shift_JIS label on EUC-JP and on UTF-8 bytes. */
	DEC("Shift_JIS", JA_EUC, JA_TEXT, "euc-jp", true, 0);
	DEC("Shift_JIS", JA_TEXT, JA_TEXT, "utf-8", true, 0);
	/* EUC-JP label on Shift_JIS. */
	DEC("EUC-JP", JA_SJIS, JA_TEXT, "cp932", true, 0);
	/* Western labels on Japanese. */
	DEC("iso-8859-1", JA_TEXT, JA_TEXT, "utf-8", true, 0);
	DEC("us-ascii", JA_SJIS, JA_TEXT, "cp932", true, 0);
	DEC("us-ascii", "\x1b$B2q5D\x1b(B", "会議", "iso-2022-jp", true, 0);
	/* UTF-8 label on Shift_JIS. */
	DEC("utf-8", JA_SJIS, JA_TEXT, "cp932", true, 0);
}

static void test_undeclared(void **state)
{
	DEC(NULL, JA_SJIS, JA_TEXT, "cp932", true, 0);
	DEC("", JA_EUC, JA_TEXT, "euc-jp", true, 0);
	DEC(NULL, JA_TEXT, JA_TEXT, "utf-8", true, 0);
	DEC("x-unknown", "\x1b$B2q5D\x1b(B", "会議", "iso-2022-jp", true, 0);
	/* Two kanji only: too little for uchardet, the text still decides. */
	DEC(NULL, "\xb2\xf1\xb5\xc4", "会議", "euc-jp", true, 0);
	DEC(NULL, "\x89\xef\x8b\x63", "会議", "cp932", true, 0);
	/* Western text stays western. */
	DEC(NULL, "Ceci est un texte fran\xe7" "ais, tr\xe8s d\xe9taill\xe9 \xe0 c\xf4t\xe9.",
	    "Ceci est un texte français, très détaillé à côté.", "iso-8859-1", true, 0);
	DEC(NULL, "plain ascii", "plain ascii", "us-ascii", false, 0);
	assert_string_equal(info.declared, "");
}

static void test_western(void **state)
{
	/* Latin-1 labels are read as windows-1252: curly quotes. */
	DEC("iso-8859-1", "\x93quoted\x94 caf\xe9", "“quoted” café", "iso-8859-1", false, 0);
	DEC("windows-1251", "\xcf\xf0\xe8\xe2\xe5\xf2", "Привет", "windows-1251", false, 0);
	DEC("utf-16le", "a\0\x42\x30", "aあ", "utf-16le", false, 0);
	/* Outlook Express UTF-7 with ',' for '/' in the base64 run. */
	DEC("unicode-1-1-utf-7", "+MMYwuTDIMOEw,DDrMG5O9lQN-", "テストメールの件名", "utf-7", false, 0);
	/* a shifted run wrapped across lines in the middle of a character
	 * (strict decoding fails there) reads as one (issue 12: what a lenient
	 * decoder shows is what must be judged): "begin" */
	DEC("utf-7", "+AGIAZQB\nnAGkAbg-", "begin", "utf-7", false, 0);
	/* a line break after a complete run ends it, as RFC 2152 says */
	DEC("utf-7", "+AGIAZQBn\nAGk-", "beg\nAGk-", "utf-7", false, 0);
	/* A label only iconv knows. */
	DEC("IBM852", "\x82", "é", "ibm852", false, 0);
	assert_string_equal(info.declared, "ibm852");
}

static void test_carrier_emoji(void **state)
{
	/* docomo Shift_JIS emoji: sun, cloud, umbrella, phone, heart. */
	DEC("Shift_JIS", "\xf8\x9f\xf8\xa0\xf8\xa1\xf8\xe8\xf9\x91" "OK",
	    "☀☁☔☎❤OK", "cp932", false, 0);
	/* User-defined characters (外字) whose CP932 / EUC-JP-MS code points
	 * are SoftBank's in UTF-8 (U+E001): still the geta mark, never 👦. */
	DEC("Shift_JIS", "\x89\xef\xf0\x41", "会〓", "cp932", false, 0);
	DEC("EUC-JP", "\xb2\xf1\xf5\xa2", "会〓", "euc-jp", false, 0);
	/* Unknown private-use (a user-defined character): visible geta mark. */
	DEC("Shift_JIS", "\xf0\x40" "x", "〓x", "cp932", false, 0);
	/* The same code points arriving as UTF-8. */
	DEC("utf-8", "\xee\x98\xbe \xef\xa3\xbf", "☀ 〓", "utf-8", false, 0);
	assert_string_equal(tz_charset_pua_substitute(0xe6f0), "😃");
	assert_null(tz_charset_pua_substitute(0x3042));
}

/* Messages as each carrier's phones wrote them. Expected emoji are those
 * Unicode's EmojiSources.txt gives for the codes in the carriers' published
 * tables (e.g. sun: docomo F89F, au F660 = mail EB60 = JIS 7541 = U+E488,
 * SoftBank F98B = web code G 'j' = U+E04A). */
static void test_carrier_emoji_kddi(void **state)
{
	(void)state;
	/* au mail Shift_JIS: sun (EB60), "!!" (EDF1): rows CP932 leaves empty or
	 * fills with IBM kanji; "会議" around them stays kanji. */
	DEC("Shift_JIS", "\x89\xef\xeb\x60\xed\xf1\x8b\x63", "会☀‼議", "cp932", false, 0);
	/* Phone-form codes (F660 sun, F649 smiley). */
	DEC("Shift_JIS", "\xf6\x60\xf6\x49" "ok", "☀😃ok", "cp932", false, 0);
	/* Without an au-only code, EDF1 is the IBM kanji CP932 has there. */
	DEC("Shift_JIS", "\x89\xef\xed\xf1", "会瀨", "cp932", false, 0);
	/* au ISO-2022-JP: the same sun and "!!" as JIS 7541 and 7A73, then kanji. */
	DEC("ISO-2022-JP", "\x1b$B\x75\x41\x7a\x73\x32\x71\x1b(B!", "☀‼会!", "iso-2022-jp",
	    false, 0);
	/* Without an au-only code, row 0x7A is the IBM kanji CP50221 has there. */
	DEC("ISO-2022-JP", "\x1b$B\x7a\x73\x1b(B", "瀨", "iso-2022-jp", false, 0);
	/* au UTF-8: its own private-use code points (sun U+E488, "!!" U+EB30). */
	DEC("utf-8", "\xee\x92\x88\xee\xac\xb0", "☀‼", "utf-8", false, 0);
	/* U+E532, shared with SoftBank, reads as au's next to an au-only code. */
	DEC("utf-8", "\xee\x92\x88\xee\x94\xb2", "☀▪", "utf-8", false, 0);
}

static void test_carrier_emoji_softbank(void **state)
{
	(void)state;
	/* Shift_JIS: sun F98B and TM FBD7 (FB alone would be IBM kanji). */
	DEC("Shift_JIS", "\xf9\x8b\xfb\xd7" "x", "☀™x", "cp932", false, 0);
	/* (c) F7EE, heart F962. */
	DEC("Shift_JIS", "\xf7\xee\xf9\x62", "©❤", "cp932", false, 0);
	/* Web code escapes inside ISO-2022-JP: sun (G 'j'), then kanji. */
	DEC("ISO-2022-JP", "a\x1b$Gj\x0f" "b\x1b$B2q\x1b(B", "a☀b会", "iso-2022-jp", false, 0);
	/* iPhone / SoftBank UTF-8: U+E04A sun, U+E537 TM; U+E532 alone is
	 * SoftBank's "A" button. */
	DEC("utf-8", "\xee\x81\x8a\xee\x94\xb7 \xee\x94\xb2", "☀™ 🅰", "utf-8", false, 0);
	/* A SoftBank code with no standard emoji is a visible geta mark. */
	assert_string_equal(tz_emoji_webcode('Q', 0x7a), "〓");
	assert_null(tz_emoji_webcode('Z', 0x41));
}

static void test_carrier_emoji_keycap(void **state)
{
	(void)state;
	/* Keycap "1": docomo F987, au F6FB, SoftBank F7BC; drawn as a keycap. */
	DEC("Shift_JIS", "\xf8\x9f\xf9\x87", "☀1\xef\xb8\x8f\xe2\x83\xa3", "cp932", false, 0);
	assert_string_equal(tz_emoji_sjis(TZ_CARRIER_KDDI, 0xf6fb), "1\xef\xb8\x8f\xe2\x83\xa3");
	assert_string_equal(tz_emoji_sjis(TZ_CARRIER_SOFTBANK, 0xf7bc), "1\xef\xb8\x8f\xe2\x83\xa3");
	/* Not an emoji code of that carrier. */
	assert_null(tz_emoji_sjis(TZ_CARRIER_DOCOMO, 0x889f));
	assert_null(tz_emoji_sjis(TZ_CARRIER_KDDI, 0xf89f));
}

static void test_undecodable(void **state)
{
	/* A truncated JIS kanji cannot be read by anyone: replaced, counted. */
	DEC("ISO-2022-JP", "ok\x1b$B%", "ok\xef\xbf\xbd", "iso-2022-jp", false, 1);
	/* NUL bytes are dropped, never passed on to C strings. */
	DEC("us-ascii", "a\0b", "ab", "us-ascii", false, 0);
	DEC("utf-8", "", "", "utf-8", false, 0);
}

/* Whatever the label, the output is valid UTF-8: glibc's iconv passes
 * sequences beyond U+10FFFF through from UTF-8 (and UCS-4), which the
 * fuzzer found (tests/fuzz/regressions/fuzz_charset/). */
static void test_always_valid_utf8(void **state)
{
	static const char *const labels[] = { "utf-8", "shift_jis", "ucs-4", "euc-jp", NULL };
	static const char *const inputs[] = {
		"a\xf6\xad\x9a\x9c" "b",          /* 4-byte form of 0x1AD69C */
		"a\xf4\x90\x80\x80" "b",          /* U+110000 */
		"a\xed\xa0\x80" "b",              /* a UTF-16 surrogate */
		"\x1b$B$\"\x1b(B \xf6\xad\x9a\x9c",   /* JIS with a raw 8-bit run */
		"\0\0\0\x7f\xff\xff\xff",          /* UCS-4BE 0x7FFFFFFF */
	};
	static const size_t lens[] = { 6, 6, 5, 13, 8 };

	for (size_t l = 0; l < G_N_ELEMENTS(labels); l++)
		for (size_t i = 0; i < G_N_ELEMENTS(inputs); i++) {
			GString *out = g_string_new(NULL);

			tz_charset_to_utf8(labels[l], inputs[i], lens[i], out, &info);
			assert_true(g_utf8_validate(out->str, (gssize)out->len, NULL));
			g_string_free(out, TRUE);
		}
}

static void test_detect(void **state)
{
	assert_string_equal(tz_charset_detect("abc", 3), "us-ascii");
	assert_string_equal(tz_charset_detect("\x1b$B2q5D\x1b(B", 10), "iso-2022-jp");
	assert_string_equal(tz_charset_detect(JA_SJIS, sizeof JA_SJIS - 1), "cp932");
	assert_string_equal(tz_charset_detect(JA_EUC, sizeof JA_EUC - 1), "euc-jp");
	assert_string_equal(tz_charset_detect(JA_TEXT, sizeof JA_TEXT - 1), "utf-8");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_windows_japanese),
		cmocka_unit_test(test_lying_labels),
		cmocka_unit_test(test_undeclared),
		cmocka_unit_test(test_western),
		cmocka_unit_test(test_carrier_emoji),
		cmocka_unit_test(test_carrier_emoji_kddi),
		cmocka_unit_test(test_carrier_emoji_softbank),
		cmocka_unit_test(test_carrier_emoji_keycap),
		cmocka_unit_test(test_undecodable),
		cmocka_unit_test(test_always_valid_utf8),
		cmocka_unit_test(test_detect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
