/* tz_charset.h — decode text in any charset mail uses into UTF-8, validating
 * the declared charset and detecting (uchardet + trial decoding) when the
 * label lies; encode UTF-8 for output (UTF-8 or ISO-2022-JP). */
#ifndef TZ_CHARSET_H
#define TZ_CHARSET_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>
#include <iconv.h>

struct tz_decode_info {
	char declared[40];   /* normalised declared name, "" when none */
	char used[40];       /* charset actually used, e.g. "ISO-2022-JP (CP50221)" style names normalised: "iso-2022-jp", "cp932", "euc-jp", "utf-8" */
	bool detected;       /* the declared charset failed or was absent and detection chose `used` */
	unsigned replaced;   /* number of undecodable byte sequences replaced with U+FFFD */
};

/* Decode len bytes labelled `declared` (NULL/"" when none) to UTF-8,
 * appended to out. Never fails: undecodable sequences become U+FFFD and are
 * counted in info->replaced (info may be NULL). Japanese labels are
 * decoded as Windows does (ISO-2022-JP as CP50221, Shift_JIS as CP932). */
void tz_charset_to_utf8(const char *declared, const char *buf, size_t len,
			GString *out, struct tz_decode_info *info);

/* Canonical lower-case name for a charset label ("x-sjis" -> "cp932",
 * "iso-2022-jp" -> "iso-2022-jp"); returns a static string, or NULL when the
 * label is not known at all. */
const char *tz_charset_canonical(const char *label);

/* Encode UTF-8 text as 7-bit ISO-2022-JP (CP50220 style: half-width kana
 * folded to full width, NEC/IBM extensions kept), returning to ASCII before
 * every line end; characters with no JIS form get a readable substitute
 * such as "[U+1F600]". Appended to out. */
void tz_charset_utf8_to_iso2022jp(const char *utf8, size_t len, GString *out);

/* Best guess (uchardet + trial decoding of the Japanese candidates) for
 * undeclared text: a canonical name as tz_charset_canonical returns it,
 * "us-ascii" for 7-bit text without JIS escapes. Static string. */
const char *tz_charset_detect(const char *buf, size_t len);

/* Convert len bytes with cd (opened to "UTF-8") appending to out; each
 * undecodable byte and a truncated tail become U+FFFD. Returns the number
 * of replacements. Resets cd's shift state first. */
unsigned tz_charset_iconv_append(iconv_t cd, const char *buf, size_t len,
				 GString *out);

/* ---- Japanese carrier emoji (tz_emoji_map.c) ----
 * Every function returns static UTF-8: the standard emoji, or "〓" (geta
 * mark, the customary Japanese sign for a character that cannot be shown)
 * for a carrier code with no standard equivalent. */
enum tz_carrier { TZ_CARRIER_NONE = 0, TZ_CARRIER_DOCOMO, TZ_CARRIER_KDDI, TZ_CARRIER_SOFTBANK };

/* Visible stand-in for a private-use code point (U+E000-U+F8FF) in decoded
 * Unicode text (from CP932 or EUC-JP such a code point is a user-defined
 * character and tz_charset_to_utf8 shows the geta mark): the carrier emoji of docomo, au (KDDI) or SoftBank/iPhone, else the
 * geta mark. c decides the codes au and SoftBank share (U+E501-U+E537);
 * TZ_CARRIER_NONE reads those as SoftBank. NULL when ch is not private-use. */
const char *tz_charset_pua_substitute_for(enum tz_carrier c, gunichar ch);
const char *tz_charset_pua_substitute(gunichar ch);
/* The carrier whose private-use codes utf8 holds: au when it has more
 * au-only than SoftBank-only codes, else SoftBank. */
enum tz_carrier tz_emoji_pua_carrier(const char *utf8, size_t len);
/* The carrier whose Shift_JIS emoji codes buf uses, TZ_CARRIER_NONE when
 * none or when buf is not valid Shift_JIS throughout: au's mail rows EB/EC (empty in CP932) or phone rows F3/F4/F6 say
 * au, F8 docomo, F7 (or F9 with FB) SoftBank, F9 alone docomo. */
enum tz_carrier tz_emoji_sjis_carrier(const char *buf, size_t len);
/* The emoji for Shift_JIS code (lead << 8 | trail) of carrier c, NULL when
 * that code is not one of c's emoji codes. */
const char *tz_emoji_sjis(enum tz_carrier c, unsigned code);
/* au's ISO-2022-JP emoji (JIS rows 0x75-0x7C), NULL outside them. */
const char *tz_emoji_kddi_jis(unsigned j1, unsigned j2);
/* SoftBank web code: character c (0x21-0x7A) of page G E F O P Q, as in
 * ESC $ G c SI; NULL when page is not one of them. */
const char *tz_emoji_webcode(unsigned page, unsigned c);

/* UTF-7 read as the most lenient decoder would: shifted runs joined across
 * line breaks, ',' as '/'. Not for display (a line break legitimately ends a
 * run): for the encoded-file scan of what some reader could get. Appended
 * to out as UTF-8. */
void tz_charset_utf7_joined(const char *buf, size_t len, GString *out);

#endif
