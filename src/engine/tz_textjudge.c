/* tz_textjudge.c — content check for parts declared as text. Thresholds
 * are chosen so that real mail (the shared corpus: Japanese, legacy
 * charsets, broken labels) always passes, while a binary file, which has
 * NULs or a signature or a high share of controls, never does. */
#include "tz_textjudge.h"

#include <stdint.h>
#include <string.h>
#include <glib.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "tz_encscan.h"

/* Markup and scripts are text a reader may read; every other signature
 * is a file. Only signatures of 4 bytes or more count here: the short ones
 * ("MZ", "BZh") start ordinary words, and the binaries behind them carry
 * NULs and controls, which the judge counts anyway. */
const char *tz_file_signature(const void *buf, size_t len)
{
	static const char *const text_like[] = { "HTML", "script", "SVG", "XML", "HTA/HTML", NULL };
	bool strong = false;
	const char *name = tz_encscan_signature(buf, len, &strong);

	if (name == NULL || !strong)
		return NULL;
	for (int i = 0; text_like[i]; i++)
		if (strcmp(name, text_like[i]) == 0)
			return NULL;
	return name;
}

/* Per byte: 1 = starts a character (not a UTF-8 continuation byte),
 * 2 = a control character that text written by people does not have
 * (C0 but tab, LF, CR, FF, VT and ESC; DEL). Built on first use. */
static unsigned char byte_class[256];

static gpointer byte_class_init(gpointer unused)
{
	(void)unused;
	for (unsigned ch = 0; ch < 256; ch++) {
		bool control = (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r' && ch != '\f' &&
				ch != '\v' && ch != 0x1b) || ch == 0x7f;

		byte_class[ch] = (unsigned char)(((ch & 0xc0) != 0x80) | (control ? 2 : 0));
	}
	return NULL;
}

static size_t count_bytes(const unsigned char *s, size_t n, size_t *controls)
{
	size_t chars = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned k = byte_class[s[i]];

		chars += k & 1;
		*controls += k >> 1;
	}
	return chars;
}

/* Characters (bytes that are not UTF-8 continuation bytes) and controls
 * (byte_class) in s. Eight bytes at a time where none of them is below
 * 0x20 or DEL: there only the continuation bytes (10xxxxxx) are counted.
 * A word with such a byte, or a false alarm, goes through the table.
 * Per byte it was 6 % of the 5 KB ISO-2022-JP profile. */
static size_t count_chars(const char *text, size_t n, size_t *controls)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	const unsigned char *s = (const unsigned char *)text;
	size_t chars = 0, i = 0;

#ifdef __SSE2__
	/* 16 bytes at a time: a block with a control (a byte below 0x20 but
	 * TAB..CR and ESC, or DEL) is counted byte by byte; else its
	 * continuation bytes (signed, below 0xC0) are summed lane by lane,
	 * at most 255 blocks per sum so that no lane overflows. */
	const __m128i c0 = _mm_set1_epi8((char)0xc0), b1f = _mm_set1_epi8(0x1f),
		      b09 = _mm_set1_epi8(0x09), b0d = _mm_set1_epi8(0x0d),
		      esc = _mm_set1_epi8(0x1b), del = _mm_set1_epi8(0x7f), zero = _mm_setzero_si128();

	while (i + 16 <= n) {
		__m128i acc = zero, sad;

		for (size_t k = 0; k < 255 && i + 16 <= n; k++, i += 16) {
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
			__m128i low = _mm_cmpeq_epi8(_mm_min_epu8(x, b1f), x);
			__m128i ok = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(_mm_max_epu8(x, b09), b0d), x),
						  _mm_cmpeq_epi8(x, esc));

			if (_mm_movemask_epi8(_mm_or_si128(_mm_andnot_si128(ok, low), _mm_cmpeq_epi8(x, del)))) {
				chars += count_bytes(s + i, 16, controls);
				continue;
			}
			acc = _mm_sub_epi8(acc, _mm_cmplt_epi8(x, c0));
			chars += 16;
		}
		sad = _mm_sad_epu8(acc, zero);
		chars -= (size_t)_mm_cvtsi128_si32(sad) + (size_t)_mm_extract_epi16(sad, 4);
	}
#endif
	for (; i + 8 <= n; i += 8) {
		uint64_t x, del;

		memcpy(&x, s + i, 8);
		del = x ^ (0x7f * ones);
		if ((((x - 0x20 * ones) & ~x) | ((del - ones) & ~del)) & high) {
			chars += count_bytes(s + i, 8, controls);
			continue;
		}
		/* a 1 in the lane of each continuation byte, summed by a multiply (the
		 * build has no -mpopcnt: __builtin_popcountll was a libgcc call) */
		chars += 8 - (size_t)(((((x & ~(x << 1) & high) >> 7) * ones) >> 56));
	}
	return chars + count_bytes(s + i, n - i, controls);
}

enum tz_text_verdict tz_text_judge(const char *raw, size_t rawlen, const char *utf8,
				   size_t ulen, const struct tz_decode_info *info)
{
	static GOnce once = G_ONCE_INIT;
	size_t controls = 0, chars = 0;

	g_once(&once, byte_class_init, NULL);
	if (tz_file_signature(raw, rawlen) != NULL)
		return TZ_TEXT_SIGNATURE;
	/* A NUL byte: only UTF-16 and UTF-32 text has them (and decoding
	 * removes them); some decoders drop NULs, so look at the bytes. */
	if (memchr(raw, '\0', rawlen) != NULL
	    && !(info != NULL && (g_str_has_prefix(info->used, "utf-16") || g_str_has_prefix(info->used, "utf-32"))))
		return TZ_TEXT_NUL;
	if (memchr(utf8, '\0', ulen) != NULL)
		return TZ_TEXT_NUL;
	chars = count_chars(utf8, ulen, &controls);
	/* 1 in 64 characters, and more than a stray few: text written by
	 * people has almost none; a binary has one in eight or so. */
	if (controls > 16 && controls * 64 > chars)
		return TZ_TEXT_CONTROLS;
	if (info != NULL && info->replaced > 16 && (size_t)info->replaced * 20 > chars)
		return TZ_TEXT_UNDECODABLE;
	return TZ_TEXT_OK;
}

const char *tz_text_verdict_name(enum tz_text_verdict v)
{
	switch (v) {
	case TZ_TEXT_OK: return "text";
	case TZ_TEXT_NUL: return "NUL in text";
	case TZ_TEXT_SIGNATURE: return "file signature in text";
	case TZ_TEXT_CONTROLS: return "control characters in text";
	case TZ_TEXT_UNDECODABLE: return "undecodable text";
	}
	return "unknown";
}
