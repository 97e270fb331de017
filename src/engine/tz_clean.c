/* tz_clean.c — the cleaning every shown text goes through on its way into
 * the new body: CR LF and CR to LF, C0/C1 controls (but tab) and characters
 * that show nothing dropped, invalid UTF-8 replaced. It reads every byte of
 * every shown text, so the characters a Japanese body is made of (3-byte
 * kana, kanji, full-width forms) are recognised by their lead byte from a
 * table and passed over in runs; anything else takes the general path. */
#include "tz_clean.h"

#include <stdint.h>
#include <string.h>

/* Characters that show nothing: C1 controls and format characters (zero
 * width spaces and joiners, bidi embeddings and overrides, soft hyphen,
 * BOM, tags) and blank fillers. Dropped from the text, so they can hide
 * neither an encoded file from the scan (one between every two base64
 * characters) nor text from the reader. A zero width joiner after a
 * character that is not ASCII is kept: emoji sequences use it. */
bool tz_clean_invisible(gunichar u, const GString *out)
{
	if (u >= 0x80 && u <= 0x9f)
		return true;
	if (u == 0x200d)
		return out->len == 0 || (unsigned char)out->str[out->len - 1] < 0x80;
	if (u == 0x115f || u == 0x1160 || u == 0x3164 || u == 0xffa0 || u == 0x034f || u == 0x180e)
		return true;
	/* Kana, CJK, Hangul, full-width forms: no format characters there
	 * (test_engine checks it against GLib's tables), and they are most of
	 * a Japanese body: the table look-up was 7 % of the 5 KB profile. */
	if (u >= 0x3000 && u < 0xfe00)
		return false;
	return g_unichar_type(u) == G_UNICODE_FORMAT;
}

/* What a byte where a character starts says about keeping it as is. */
enum lead {
	L_SLOW,  /* the general path decides */
	L_ASCII, /* printable ASCII, LF, tab: kept */
	L_3,     /* E4..EC, EE: U+4000..U+CFFF, U+E000..U+EFFF, kept when well formed */
	L_E3,    /* U+3000..U+3FFF: kept but the Hangul filler U+3164 (E3 85 A4) */
	L_ED,    /* U+D000..U+D7FF kept; ED A0..BF would be a surrogate */
	L_EF,    /* U+F000..U+FDFF (EF 80..B7) and the full-width forms U+FF00..U+FF7F
		    (EF BC, EF BD: ！０Ａ… in every Japanese body) kept; the rest of
		    U+FE00 on (BOM, Hangul filler U+FFA0), the general path */
};

static unsigned char lead_class[256];

static gpointer lead_init(gpointer unused)
{
	(void)unused;
	for (unsigned ch = 0; ch < 256; ch++) {
		enum lead k = L_SLOW;

		if ((ch >= 0x20 && ch < 0x80) || ch == '\n' || ch == '\t')
			k = L_ASCII;
		else if ((ch >= 0xe4 && ch <= 0xec) || ch == 0xee)
			k = L_3;
		else if (ch == 0xe3)
			k = L_E3;
		else if (ch == 0xed)
			k = L_ED;
		else if (ch == 0xef)
			k = L_EF;
		lead_class[ch] = (unsigned char)k;
	}
	return NULL;
}

/* How far from p the text is kept exactly as it is: the same decision the
 * general path takes for these characters, without decoding them. */
static const char *kept_run(const char *p, const char *end)
{
	while (p < end) {
		const unsigned char *s = (const unsigned char *)p;
		unsigned k = lead_class[s[0]];
		uint16_t t;

		if (k == L_ASCII) {
			p++;
			continue;
		}
		if (k == L_SLOW || end - p < 3)
			break;
		memcpy(&t, s + 1, 2);   /* both continuation bytes at once */
		if ((t & 0xc0c0) != 0x8080)
			break;
		if (k != L_3 && ((k == L_E3 && s[1] == 0x85 && s[2] == 0xa4) ||
				 (k == L_ED && s[1] >= 0xa0) ||
				 (k == L_EF && s[1] >= 0xb8 && (s[1] & 0xfe) != 0xbc)))
			break;
		p += 3;
	}
	return p;
}

void tz_clean_append(GString *out, const char *s, size_t len, bool *replaced)
{
	static GOnce once = G_ONCE_INIT;
	const char *p = s, *end = s + len, *run = s;
	gunichar u = 0;

	g_once(&once, lead_init, NULL);
	while ((p = kept_run(p, end)) < end) {
		unsigned char ch = (unsigned char)*p;

		if (ch >= 0x80) {
			u = g_utf8_get_char_validated(p, end - p);
			if (u != (gunichar)-1 && u != (gunichar)-2 && u != 0x200d && !tz_clean_invisible(u, out)) {
				p = g_utf8_next_char(p);
				continue;
			}
		}
		/* Something to change: what came before goes out first (a zero
		 * width joiner looks at the last byte written). */
		g_string_append_len(out, run, p - run);
		if (ch == '\r') {
			g_string_append_c(out, '\n');
			p += (p + 1 < end && p[1] == '\n') ? 2 : 1;
		} else if (ch < 0x80) {
			p++;   /* a control character */
		} else if (u == (gunichar)-1 || u == (gunichar)-2) {
			g_string_append(out, "\xef\xbf\xbd");
			*replaced = true;
			p++;
		} else {
			if (!tz_clean_invisible(u, out))
				g_string_append_len(out, p, g_utf8_next_char(p) - p);
			p = g_utf8_next_char(p);
		}
		run = p;
	}
	g_string_append_len(out, run, p - run);
}
