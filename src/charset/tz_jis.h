/* tz_jis.h — ISO-2022-JP as Windows reads and writes it (CP50221 decoding,
 * CP50220-style encoding). glibc's ISO-2022-JP converter rejects the CP932
 * extension characters (①, ㈱, Ⅰ, NEC/IBM kanji) that Windows clients put
 * inside "ISO-2022-JP" mail, so the escape handling is ours and every JIS
 * row/cell is mapped arithmetically to Shift_JIS and converted in bulk with
 * iconv's CP932 table — the same Unicode Windows produces. */
#ifndef TZ_JIS_H
#define TZ_JIS_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

/* True when buf holds at least one ISO-2022-JP designation (ESC $ B,
 * ESC $ @, ESC ( J, ESC ( I, ESC $ ( D ...), i.e. looks like JIS text. */
bool tz_jis_has_escape(const char *buf, size_t len);

/* Decode ISO-2022-JP (CP50221 superset: JIS X 0208-1978/1983, NEC row 13,
 * NEC-selected IBM and IBM extensions, half-width katakana by ESC ( I and
 * SO/SI, JIS X 0212, the ISO-2022-JP-2 GB2312/KSC/ISO-8859 sets) appended
 * to out as UTF-8. The state returns to ASCII at every line feed (RFC 1468
 * lines end in ASCII; a sender that forgot ESC ( B must not turn the next
 * line into kanji). eight_bit: iconv name for runs of 8-bit bytes (a lying
 * label: raw Shift_JIS/EUC-JP/UTF-8 next to the escapes), or NULL to
 * replace them. Returns the number of U+FFFD replacements written. */
unsigned tz_jis_decode(const char *buf, size_t len, const char *eight_bit,
		       GString *out);

/* tz_jis_decode that also says (*own) whether every byte it appended was
 * written by the decoder itself — ASCII, its tables, emoji, U+FFFD — and
 * none by iconv: valid UTF-8 (but for NUL) by construction, so the
 * caller need not validate it again. */
unsigned tz_jis_decode_own(const char *buf, size_t len, const char *eight_bit,
			   GString *out, bool *own);

/* Encode UTF-8 as 7-bit ISO-2022-JP, CP50220 style: half-width katakana
 * folded to full width (with voiced marks combined), NEC row 13 and
 * NEC-selected IBM extensions written as their JIS rows (IBM extension
 * code points are moved to their NEC-selected equivalents), ESC ( B before
 * every CR/LF and at the end. Characters with no JIS form become ASCII
 * (accents stripped) or "[U+XXXX]"; invalid UTF-8 becomes "[?]". */
void tz_jis_encode(const char *utf8, size_t len, GString *out);

/* How many bytes at p (of n) are JIS X 0208 pairs the decoder's table
 * covers (lead 0x21..0x97, trail 0x21..0x7E): an even count. The
 * decoder's run length; exposed for test_jis. */
size_t tz_jis_pairs(const unsigned char *p, size_t n);

#endif
