/* test_clean.c — tz_clean_append, the cleaning of every shown text: what it
 * drops and replaces, and that its lead-byte fast path decides exactly as
 * the character-by-character reference (the implementation before the fast
 * path, kept here) on every 1-, 2- and 3-byte input and on random text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tz_clean.h"

/* The reference: one character at a time through GLib's validator. */
static void ref_clean(GString *out, const char *s, size_t len, bool *replaced)
{
	const char *p = s, *end = s + len;

	while (p < end) {
		unsigned char ch = (unsigned char)*p;
		gunichar u;

		if (ch == '\r') {
			g_string_append_c(out, '\n');
			p += (p + 1 < end && p[1] == '\n') ? 2 : 1;
		} else if (ch < 0x80) {
			if (ch >= 0x20 || ch == '\n' || ch == '\t')
				g_string_append_c(out, (char)ch);
			p++;
		} else if ((u = g_utf8_get_char_validated(p, end - p)) == (gunichar)-1 ||
			   u == (gunichar)-2) {
			g_string_append(out, "\xef\xbf\xbd");
			*replaced = true;
			p++;
		} else {
			if (!tz_clean_invisible(u, out))
				g_string_append_len(out, p, g_utf8_next_char(p) - p);
			p = g_utf8_next_char(p);
		}
	}
}

static void same(const char *prefix, size_t plen, const unsigned char *s, size_t len)
{
	GString *a = g_string_new_len(prefix, (gssize)plen), *b = g_string_new_len(prefix, (gssize)plen);
	bool ra = false, rb = false;

	tz_clean_append(a, (const char *)s, len, &ra);
	ref_clean(b, (const char *)s, len, &rb);
	if (a->len != b->len || memcmp(a->str, b->str, a->len) != 0 || ra != rb) {
		GString *hex = g_string_new(NULL);
		for (size_t i = 0; i < len; i++)
			g_string_append_printf(hex, "%02x ", s[i]);
		fail_msg("input %s(after %zu bytes): fast and reference differ", hex->str, plen);
	}
	g_string_free(a, TRUE);
	g_string_free(b, TRUE);
}

static void test_examples(void **state)
{
	GString *o = g_string_new(NULL);
	bool r = false;
	static const char mix[] = "a\r\nb\rc\x01\td\xe2\x80\x8b" "e\xe3\x85\xa4" "f\xff";

	(void)state;
	tz_clean_append(o, mix, sizeof mix - 1, &r);
	assert_string_equal(o->str, "a\nb\nc\td" "e" "f\xef\xbf\xbd");
	assert_true(r);
	g_string_truncate(o, 0);
	r = false;
	tz_clean_append(o, "\xe6\x97\xa5\xe6\x9c\xac\xef\xbc\x81\xc2\x85", 11, &r);
	assert_string_equal(o->str, "\xe6\x97\xa5\xe6\x9c\xac\xef\xbc\x81");   /* 日本！, C1 NEL dropped */
	assert_false(r);
	g_string_free(o, TRUE);
}

/* Every input of up to three bytes, after an ASCII and after a non-ASCII
 * character (a zero width joiner's fate depends on it), then with a kanji
 * after it (a truncated sequence before a valid one). */
static void test_all_short_inputs(void **state)
{
	unsigned char b[6];

	(void)state;
	for (unsigned x = 0; x < 256; x++) {
		b[0] = (unsigned char)x;
		same("", 0, b, 1);
		for (unsigned y = 0; y < 256; y++) {
			b[1] = (unsigned char)y;
			same("", 0, b, 2);
			if (x < 0xc0)
				continue;   /* 3 bytes: every lead that can start a sequence */
			for (unsigned z = 0; z < 256; z++) {
				b[2] = (unsigned char)z;
				same("a", 1, b, 3);
				same("\xc3\xa9", 2, b, 3);
				memcpy(b + 3, "\xe6\x97\xa5", 3);
				same("", 0, b, 6);
			}
		}
	}
}

/* Random text mixing ASCII, CR/LF, controls, kana/kanji, the fillers and
 * format characters, and stray bytes. */
static void test_random_mix(void **state)
{
	static const char *const pieces[] = {
		"a", "Z ", "\r\n", "\r", "\n", "\t", "\x01", "\x7f", "\xe3\x81\x82", "\xe6\xbc\xa2",
		"\xef\xbc\x81", "\xef\xbd\xa1", "\xe3\x85\xa4", "\xe2\x80\x8b", "\xe2\x80\x8d",
		"\xef\xbb\xbf", "\xef\xb8\x8f", "\xc2\xad", "\xc2\x85", "\xed\x9f\xbf", "\xed\xa0\x80",
		"\xee\x80\x80", "\xf0\x9f\x98\x80", "\xf3\xa0\x80\x81", "\xe3", "\xe3\x81", "\x80", "\xff",
		"\xce\xb1", "\xe2\x94\x80",
	};
	GRand *rnd = g_rand_new_with_seed(16);

	(void)state;
	for (int n = 0; n < 20000; n++) {
		GString *s = g_string_new(NULL);
		int k = g_rand_int_range(rnd, 1, 40);
		for (int i = 0; i < k; i++)
			g_string_append(s, pieces[g_rand_int_range(rnd, 0, G_N_ELEMENTS(pieces))]);
		same("", 0, (const unsigned char *)s->str, s->len);
		g_string_free(s, TRUE);
	}
	g_rand_free(rnd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_all_short_inputs),
		cmocka_unit_test(test_random_mix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
