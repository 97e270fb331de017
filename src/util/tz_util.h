/* tz_util.h — small helpers every module uses: error buffers, ids, hex. */
#ifndef TZ_UTIL_H
#define TZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include "textize.h"

/* printf into an error buffer (NULL or errlen 0 is allowed); returns -1 so
 * that `return tz_err(err, errlen, "...")` reads naturally. */
int tz_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A new reference id that sorts by creation time and is unique across
 * processes: "YYYYMMDD-HHMMSS-uuuuuu-xxxxxxxx" (UTC, microseconds, random).
 * Only [0-9a-z-]: safe as a file name. out must hold TZ_ID_LEN bytes. */
void tz_id_new(char out[TZ_ID_LEN]);

/* True when s is a well-formed id as made by tz_id_new (used to refuse
 * path tricks where an id comes from the command line). */
int tz_id_valid(const char *s);

/* write(2) all of buf, retrying on EINTR and short writes; 0 or -1 (errno). */
int tz_write_all(int fd, const void *buf, size_t len);

/* read(2) exactly len bytes, retrying on EINTR and short reads; 0, or -1
 * on an error or end of file before len bytes (errno 0 at end of file). */
int tz_read_all(int fd, void *buf, size_t len);

/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void tz_hex(const unsigned char *in, size_t len, char *out);

/* Copy of s (at most max bytes) with everything outside printable ASCII
 * (controls, CR/LF, 8-bit) replaced by '?'. g_free(). */
char *tz_printable(const char *s, size_t max);

/* The bytes GMime's loose RFC 2047 decoder may scan in a header value:
 * for each opening ("=?", also with backslashes between, which GMime
 * unquotes first) the distance to the first "?=" after it, or to the end.
 * Quadratic in the words left open: 120,000 in a 0.96 MB From took 77 s
 * in one GMime parse, where no time budget is checked. A field costing
 * more than TZ_HEADER_DECODE_COST_MAX is refused by the engine and never
 * handed to GMime by the policy or header hygiene; real fields cost a few
 * hundred bytes (100,000 closed words in 1.7 MB: ~1.5 MB). */
#define TZ_HEADER_DECODE_COST_MAX ((size_t)16 << 20)
size_t tz_header_decode_cost(const char *v, size_t len);

/* A copy of a header value that GMime 3.2.13 can parse as addresses
 * without leaking, or NULL when v is already such: every comment closed
 * (GMime leaks the addr-spec when a comment runs off the end:
 * "a@[192.0.2.1] (x", gmime issue #159, fixed in 3.2.15). Nothing else
 * changes: a reader reads the original. g_free(). */
char *tz_header_for_gmime(const char *v);
/* The same into out (outlen > 0; at most outlen - 1 characters kept), for
 * hot paths that must not allocate. Returns out. */
char *tz_printable_buf(const char *s, char *out, size_t outlen);

/* The code point when p (n bytes available) starts with a well-formed
 * 3-byte UTF-8 character in U+3000..U+FDFF (kana, kanji, Hangul, full-width
 * forms), else 0: a fast path for Japanese text that skips the general
 * validator. Inline: called once per character of a Japanese body. */
static inline uint32_t tz_utf8_cjk3(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	uint32_t u;

	/* E3..EF lead U+3000..U+FFFF; ED A0..BF would be a surrogate */
	if (n < 3 || s[0] < 0xe3 || s[0] > 0xef || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
		return 0;
	u = ((uint32_t)(s[0] & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) | (uint32_t)(s[2] & 0x3f);
	return u < 0xfe00 ? u : 0;
}

/* How far from p (up to e) the text is plainly valid UTF-8: ASCII but NUL,
 * and 3-byte characters U+1000..U+FFFF that are not surrogates (lead
 * E1..EF; ED only before A0). A validator then checks the rest from there,
 * at a character boundary, so the first invalid byte it reports is the
 * same; a Japanese body is nearly all such characters, and
 * g_utf8_validate_len over all of it cost ~8 instructions a byte (5 % of
 * the 5 KB ISO-2022-JP profile). */
static inline const char *tz_utf8_valid_prefix(const char *p, const char *e)
{
	const unsigned char *s = (const unsigned char *)p, *end = (const unsigned char *)e;

	while (s < end) {
		if (s[0] != 0 && s[0] < 0x80) {
			s++;
			continue;
		}
		if (end - s < 3 || s[0] < 0xe1 || s[0] > 0xef || (s[1] & 0xc0) != 0x80 ||
		    (s[2] & 0xc0) != 0x80 || (s[0] == 0xed && s[1] >= 0xa0))
			break;
		s += 3;
	}
	return (const char *)s;
}

#endif
