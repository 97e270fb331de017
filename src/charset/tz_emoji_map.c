/* tz_emoji_map.c — Japanese carrier emoji (docomo, au/KDDI, SoftBank and
 * iPhones using SoftBank's codes) to standard Unicode emoji.
 *
 * Phones sent emoji as codes their carrier chose: Shift_JIS codes in the
 * user-defined area (and, for au mail, the undefined rows EB-EE), au's
 * JIS rows 0x75-0x7C in ISO-2022-JP, SoftBank's "web code" escapes
 * (ESC $ G ... SI), and in UTF-8 each carrier's own private-use code
 * points. Every form is brought to the carrier's private-use code point
 * here, and that is looked up in tz_emoji_table.h (generated from Unicode's
 * EmojiSources.txt by scripts/gen-emoji-table). A carrier code with no
 * standard equivalent, and any other private-use character (外字), becomes
 * "〓" (U+3013 GETA MARK, the customary Japanese stand-in for a character
 * that cannot be shown): visible, never silently dropped or U+FFFD.
 *
 * The carriers' codes overlap (Shift_JIS F7xx is au or SoftBank, F9xx
 * docomo or SoftBank; au's and SoftBank's private-use ranges share
 * U+E501-U+E537), so the carrier is chosen per text from the codes that
 * only one carrier uses; one message comes from one phone. */
#include "textize.h"

#include <stdlib.h>

#include "tz_charset.h"

struct tz_emoji {
	unsigned pua;
	const char *utf8;
};

#include "tz_emoji_table.h"

#define GETA "\xe3\x80\x93"

/* KDDI's private-use assignment: linear in the Shift_JIS position within
 * each run (the same runs as scripts/gen-emoji-table). */
static const struct { unsigned first, last, pua; } kddi_runs[] = {
	{ 0xf340, 0xf352, 0xe5cd }, { 0xf353, 0xf3ce, 0xea80 }, { 0xf3cf, 0xf48d, 0xeb0e },
	{ 0xf640, 0xf7d1, 0xe468 }, { 0xf7d2, 0xf7e4, 0xeafb }, { 0xf7e5, 0xf7fc, 0xe5b5 },
};

/* Position of a Shift_JIS code counting 188 trail bytes per lead byte. */
static unsigned sjis_lin(unsigned code)
{
	unsigned t = code & 0xff;

	return (code >> 8) * 188 + (t < 0x7f ? t - 0x40 : t - 0x41);
}

static bool sjis_trail_ok(unsigned t)
{
	return t >= 0x40 && t <= 0xfc && t != 0x7f;
}

static int emoji_cmp(const void *key, const void *elem)
{
	unsigned k = *(const unsigned *)key;
	const struct tz_emoji *e = elem;

	return k < e->pua ? -1 : k > e->pua ? 1 : 0;
}

static const char *table_find(const struct tz_emoji *t, size_t n, unsigned pua)
{
	const struct tz_emoji *e = bsearch(&pua, t, n, sizeof t[0], emoji_cmp);

	return e ? e->utf8 : NULL;
}

/* Standard emoji of carrier c's private-use code point, or the geta mark. */
static const char *carrier_utf8(enum tz_carrier c, unsigned pua)
{
	const char *s = NULL;

	switch (c) {
	case TZ_CARRIER_DOCOMO:
		s = table_find(tz_emoji_docomo, G_N_ELEMENTS(tz_emoji_docomo), pua);
		break;
	case TZ_CARRIER_KDDI:
		s = table_find(tz_emoji_kddi, G_N_ELEMENTS(tz_emoji_kddi), pua);
		break;
	case TZ_CARRIER_SOFTBANK:
		s = table_find(tz_emoji_softbank, G_N_ELEMENTS(tz_emoji_softbank), pua);
		break;
	case TZ_CARRIER_NONE:
		break;
	}
	return s ? s : GETA;
}

/* ---- Shift_JIS --------------------------------------------------------- */

/* au mail writes its phone codes F6 F7 F3 F4 as EB EC ED EE (same trail). */
static unsigned kddi_mail_to_phone(unsigned code)
{
	switch (code >> 8) {
	case 0xeb: return code + 0x0b00;
	case 0xec: return code + 0x0b00;
	case 0xed: return code + 0x0600;
	case 0xee: return code + 0x0600;
	}
	return code;
}

static unsigned kddi_pua(unsigned code)
{
	size_t k;

	code = kddi_mail_to_phone(code);
	for (k = 0; k < G_N_ELEMENTS(kddi_runs); k++)
		if (code >= kddi_runs[k].first && code <= kddi_runs[k].last)
			return kddi_runs[k].pua + sjis_lin(code) - sjis_lin(kddi_runs[k].first);
	return 0;
}

/* SoftBank pages G E F O P Q: lead F9/F7/FB, trail 41-9B or A1-FA. */
static unsigned softbank_pua(unsigned code)
{
	unsigned lead = code >> 8, t = code & 0xff, base;
	bool upper = t >= 0xa1;

	if (upper ? t > 0xfa : (t < 0x41 || t > 0x9b || t == 0x7f))
		return 0;
	switch (lead) {
	case 0xf9: base = upper ? 0xe300 : 0xe000; break;
	case 0xf7: base = upper ? 0xe200 : 0xe100; break;
	case 0xfb: base = upper ? 0xe500 : 0xe400; break;
	default: return 0;
	}
	return base + (upper ? t - 0xa0 : t < 0x7f ? t - 0x40 : t - 0x41);
}

const char *tz_emoji_sjis(enum tz_carrier c, unsigned code)
{
	unsigned lead = code >> 8, pua;

	if (!sjis_trail_ok(code & 0xff))
		return NULL;
	switch (c) {
	case TZ_CARRIER_DOCOMO:
		if (lead != 0xf8 && lead != 0xf9)
			return NULL;
		return carrier_utf8(c, 0xe000 + sjis_lin(code) - sjis_lin(0xf040));
	case TZ_CARRIER_KDDI:
		if (lead != 0xf3 && lead != 0xf4 && lead != 0xf6 && lead != 0xf7 &&
		    (lead < 0xeb || lead > 0xee))
			return NULL;
		pua = kddi_pua(code);
		return pua ? carrier_utf8(c, pua) : GETA;
	case TZ_CARRIER_SOFTBANK:
		pua = softbank_pua(code);
		if (pua != 0)
			return carrier_utf8(c, pua);
		return lead == 0xf7 || lead == 0xf9 ? GETA : NULL;
	case TZ_CARRIER_NONE:
		break;
	}
	return NULL;
}

enum tz_carrier tz_emoji_sjis_carrier(const char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf;
	unsigned n[256] = { 0 };
	size_t i = 0;

	/* Only text that is otherwise valid Shift_JIS: binary or mislabelled
	 * bytes would hit "emoji" rows by chance. */
	while (i < len) {
		unsigned c = p[i];

		if (c < 0x80 || (c >= 0xa1 && c <= 0xdf)) {
			i++;
		} else if (((c >= 0x81 && c <= 0x9f) || (c >= 0xe0 && c <= 0xfc)) && i + 1 < len &&
			   sjis_trail_ok(p[i + 1])) {
			n[c]++;
			i += 2;
		} else {
			return TZ_CARRIER_NONE;
		}
	}
	/* EB and EC are empty in CP932: only au mail writes there. */
	if (n[0xeb] + n[0xec] > 0 || n[0xf3] + n[0xf4] + n[0xf6] > 0)
		return TZ_CARRIER_KDDI;
	if (n[0xf8] > 0)
		return TZ_CARRIER_DOCOMO;
	if (n[0xf7] > 0 || (n[0xf9] > 0 && n[0xfb] > 0))
		return TZ_CARRIER_SOFTBANK;
	if (n[0xf9] > 0)
		return TZ_CARRIER_DOCOMO;
	return TZ_CARRIER_NONE;
}

/* ---- ISO-2022-JP and web code ------------------------------------------ */

const char *tz_emoji_kddi_jis(unsigned j1, unsigned j2)
{
	unsigned lead, trail, pua;

	if (j1 < 0x75 || j1 > 0x7c || j2 < 0x21 || j2 > 0x7e)
		return NULL;
	/* The usual JIS -> Shift_JIS arithmetic gives au's mail codes EB-EE. */
	lead = ((j1 + 1) >> 1) + 0xb0;
	trail = j2 + ((j1 & 1) ? (j2 < 0x60 ? 0x1f : 0x20) : 0x7e);
	pua = kddi_pua(lead << 8 | trail);
	return pua ? carrier_utf8(TZ_CARRIER_KDDI, pua) : GETA;
}

const char *tz_emoji_webcode(unsigned page, unsigned c)
{
	unsigned base;

	switch (page) {
	case 'G': base = 0xe000; break;
	case 'E': base = 0xe100; break;
	case 'F': base = 0xe200; break;
	case 'O': base = 0xe300; break;
	case 'P': base = 0xe400; break;
	case 'Q': base = 0xe500; break;
	default: return NULL;
	}
	if (c < 0x21 || c > 0x7a)
		return GETA;
	return carrier_utf8(TZ_CARRIER_SOFTBANK, base + (c - 0x20));
}

/* ---- private-use code points in decoded text --------------------------- */

static bool kddi_only(gunichar ch)
{
	return (ch >= 0xe468 && ch <= 0xe500) || (ch >= 0xe538 && ch <= 0xe5df) ||
	       (ch >= 0xea80 && ch <= 0xeb88);
}

enum tz_carrier tz_emoji_pua_carrier(const char *utf8, size_t len)
{
	const char *p = utf8, *e = utf8 + len;
	gunichar ch;
	unsigned kddi = 0, softbank = 0;

	for (; p < e; p = g_utf8_next_char(p)) {
		if ((unsigned char)*p != 0xee)
			continue; /* U+E000-U+EFFF: every carrier code */
		ch = g_utf8_get_char_validated(p, e - p);
		if (ch == (gunichar)-1 || ch == (gunichar)-2)
			break;
		if (kddi_only(ch))
			kddi++;
		else if (ch >= 0xe001 && ch <= 0xe44c)
			softbank++;
	}
	/* Only codes both use (U+E501-U+E537): iPhones are the usual source. */
	return kddi > softbank ? TZ_CARRIER_KDDI : TZ_CARRIER_SOFTBANK;
}

const char *tz_charset_pua_substitute_for(enum tz_carrier c, gunichar ch)
{
	if (ch < 0xe000 || ch > 0xf8ff)
		return NULL;
	/* docomo's range is shared with no one. */
	if (ch >= 0xe63e && ch <= 0xe757)
		return carrier_utf8(TZ_CARRIER_DOCOMO, ch);
	if (kddi_only(ch))
		c = TZ_CARRIER_KDDI;
	else if (ch < 0xe501 || ch > 0xe537 || c != TZ_CARRIER_KDDI)
		c = TZ_CARRIER_SOFTBANK; /* SoftBank's alone, or shared and not known au */
	return carrier_utf8(c, ch);
}

const char *tz_charset_pua_substitute(gunichar ch)
{
	return tz_charset_pua_substitute_for(TZ_CARRIER_NONE, ch);
}
