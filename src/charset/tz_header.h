/* tz_header.h — decode header text as Japanese mail software writes it:
 * RFC 2047 in loose mode (split / unterminated words, words inside quoted
 * strings), raw 8-bit bytes in any charset, RFC 2231 parameters. */
#ifndef TZ_HEADER_H
#define TZ_HEADER_H

#include <stdbool.h>
#include <gmime/gmime.h>

/* Decode a raw (possibly folded) header value to UTF-8; adjacent
 * encoded-words of the same charset are joined before decoding so that a
 * character split across words survives. Newly allocated, g_free(). Never NULL. */
char *tz_header_decode(const char *raw);

/* The raw value as text, for a parser that decodes encoded words itself
 * where the grammar allows them (GMime's address parser): unfolded, the
 * raw text outside encoded words converted to UTF-8 the way
 * tz_header_decode converts it (raw JIS, Shift_JIS, EUC-JP), the encoded
 * words left as they are. Decoding them first would let a display name
 * spell addresses (=?UTF-8?Q?=3Cboss=40city.example=3E?=). g_free(). */
char *tz_header_raw_utf8(const char *raw);

/* Copy of decoded UTF-8 text fit to pass on in a header a reader shows:
 * C0 and C1 controls, DEL, CR/LF, bidi embeddings, overrides, isolates
 * and marks, and line and paragraph separators each become a blank;
 * invalid UTF-8 becomes U+FFFD. g_free(). */
char *tz_header_blank_unsafe(const char *utf8);
/* utf8 has something tz_header_blank_unsafe would blank but a tab (or
 * is not UTF-8). */
bool tz_header_breaks_display(const char *utf8);

/* The decoded filename of a MIME part: Content-Disposition filename
 * (RFC 2231 continuations and charsets, RFC 2047 inside the value), else
 * Content-Type name; NFC; made display-safe with tz_header_display_safe.
 * NULL when the part has no name. g_free(). */
char *tz_header_part_filename(GMimeObject *part);

/* The same name decoded and NFC-normalised but NOT made display-safe: what
 * the sender's mail client would show, controls included. For risk checks
 * (RLO, control characters), never for display. NULL when none. g_free(). */
char *tz_header_part_filename_decoded(GMimeObject *part);

/* Copy of a UTF-8 string safe to show and to write into our own headers and
 * notices: bidi controls (U+202A-202E, U+2066-2069, U+200E/F), C0/C1
 * controls, CR/LF and path separators replaced by visible substitutes;
 * invalid UTF-8 replaced. g_free(). */
char *tz_header_display_safe(const char *utf8);

#endif
