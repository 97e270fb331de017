/* tz_jis.c — ISO-2022-JP decoding as Windows CP50221 does it and encoding as
 * CP50220 does it.
 *
 * Decoding: the escape sequences are interpreted here; every double-byte
 * JIS X 0208 code (including the NEC row 13 and NEC-selected IBM rows 89-92
 * that Windows writes, and rows 95-119 that some encoders emit for the IBM
 * extensions) is turned arithmetically into its Shift_JIS bytes, and those
 * through glibc's CP932 table, so the Unicode is exactly what Windows shows
 * (～ U+FF5E, ∥ U+2225, ① U+2460...). That mapping is computed once per
 * process into a 119x94 table (g_once), so decoding is a table lookup with
 * no iconv call in the hot path. JIS X 0212 goes through EUC-JP-MS (its
 * 0x8F three-byte form), the ISO-2022-JP-2 sets through EUC-CN / EUC-KR /
 * ISO-8859-x, queued and converted one run per iconv call. Carrier emoji:
 * au's rows 0x75-0x7C (rows 0x79-0x7C only when an au-only row shows the
 * text is au's: a second pass) and SoftBank's web code (ESC $ G..Q, one
 * emoji per byte until SI) become standard emoji (tz_emoji_map.c).
 *
 * Encoding: one iconv UTF-8 -> CP932 pass, then the Shift_JIS stream is
 * rewritten as JIS with the escapes; only characters CP932 lacks go
 * through the slow substitute path. */
#include "textize.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "tz_charset.h"
#include "tz_jis.h"

#define ESC 0x1b
#define SO 0x0e
#define SI 0x0f

/* Character sets a G0 designation can select. */
enum jis_set { SET_ASCII, SET_ROMAN, SET_KANA, SET_X0208, SET_X0212,
	SET_GB2312, SET_KSC, SET_WEBCODE };

/* The charsets queued bytes can be in; one iconv handle each, opened on
 * first use and closed at the end of the call (iconv_t is not shareable
 * between the milter's threads). CS_EIGHT is the caller's guess for raw
 * 8-bit runs. */
enum jis_cs { CS_CP932, CS_EUCJP, CS_EUCCN, CS_EUCKR, CS_LATIN1, CS_GREEK,
	CS_EIGHT, CS_N, CS_DIRECT = CS_N /* no queue: text goes straight out */ };

static const char *const jis_cs_names[CS_N] = {
	"CP932", "EUC-JP-MS", "EUC-CN", "EUC-KR", "ISO-8859-1", "ISO-8859-7", NULL
};

/* JIS rows 1-119 (j1 0x21-0x97) x cells 1-94 -> BMP code point, 0 when
 * CP932 has no character there. */
#define JIS_ROWS 119
static guint16 jis_table[JIS_ROWS * 94];

/* The same cells as UTF-8 ready to copy: up to three bytes, then their
 * count in byte 3; all zero where the decoder must decide (no character
 * in CP932, or au's emoji rows 0x75-0x7C). Copying four bytes per
 * character was half of the per-character cost of encoding it anew. */
static unsigned char jis_utf8_table[JIS_ROWS * 94][4];

/* (j1 - 0x21) * 94 - 0x21 for every lead byte j1 of a row: the cell of
 * j1 j2 is jis_rowbase[j1] + j2, one load and an add instead of a
 * multiply per character. Only read for leads tz_jis_pairs passed. */
static int jis_rowbase[256];

/* Shift_JIS bytes of JIS row/cell j1 j2 (j1 may pass 0x7E: rows 95-119). */
static void jis_to_sjis(unsigned j1, unsigned j2, unsigned char sj[2])
{
	sj[0] = (unsigned char)(((j1 + 1) >> 1) + (j1 <= 0x5e ? 0x70 : 0xb0));
	sj[1] = (unsigned char)(j2 + ((j1 & 1) ? (j2 < 0x60 ? 0x1f : 0x20) : 0x7e));
}

static void jis_table_build(void)
{
	iconv_t cd = iconv_open("UCS-2LE", "CP932");
	unsigned j1, j2;
	unsigned char sj[2], u[2];
	char *in, *op;
	size_t inleft, outleft;

	for (j1 = 0x21; j1 < 0x21 + JIS_ROWS; j1++)
		jis_rowbase[j1] = (int)(j1 - 0x21) * 94 - 0x21;
	if (cd == (iconv_t)-1)
		return; /* every kanji then decodes as U+FFFD: visible, counted */
	for (j1 = 0x21; j1 < 0x21 + JIS_ROWS; j1++) {
		for (j2 = 0x21; j2 <= 0x7e; j2++) {
			jis_to_sjis(j1, j2, sj);
			in = (char *)sj;
			op = (char *)u;
			inleft = outleft = 2;
			iconv(cd, NULL, NULL, NULL, NULL);
			if (iconv(cd, &in, &inleft, &op, &outleft) != (size_t)-1 &&
			    inleft == 0 && outleft == 0)
				jis_table[(j1 - 0x21) * 94 + (j2 - 0x21)] =
					(guint16)(u[0] | (u[1] << 8));
		}
	}
	iconv_close(cd);
	for (j1 = 0; j1 < JIS_ROWS * 94; j1++) {
		unsigned char *e = jis_utf8_table[j1];
		unsigned v = jis_table[j1], row = 0x21 + j1 / 94;

		if (v == 0 || (row >= 0x75 && row <= 0x7c))
			continue;
		if (v < 0x80) {
			e[0] = (unsigned char)v, e[3] = 1;
		} else if (v < 0x800) {
			e[0] = (unsigned char)(0xc0 | (v >> 6));
			e[1] = (unsigned char)(0x80 | (v & 0x3f));
			e[3] = 2;
		} else {
			e[0] = (unsigned char)(0xe0 | (v >> 12));
			e[1] = (unsigned char)(0x80 | ((v >> 6) & 0x3f));
			e[2] = (unsigned char)(0x80 | (v & 0x3f));
			e[3] = 3;
		}
	}
}

static void jis_table_init(void)
{
	static gsize done;

	if (g_once_init_enter(&done)) {
		jis_table_build();
		g_once_init_leave(&done, 1);
	}
}

struct jis_dec {
	GString *out;
	GString *pend;          /* bytes queued for conversion in pend_cs */
	enum jis_cs pend_cs;
	iconv_t cd[CS_N];
	const char *eight_bit;  /* iconv name for raw 8-bit runs, or NULL */
	enum jis_set set;       /* current G0 */
	bool shifted;           /* SO seen: half-width katakana until SI */
	enum jis_cs g2;         /* ISO-2022-JP-2 G2 set for ESC N */
	unsigned replaced;
	unsigned webpage;       /* SoftBank web code page ('G', 'E', ...) while SET_WEBCODE */
	bool kddi;              /* read JIS rows 0x79-0x7C as au emoji, not IBM kanji */
	bool kddi_seen;         /* an au-only emoji (rows 0x75-0x78) was read */
	bool ibm_seen;          /* rows 0x79-0x7C were read as kanji */
	bool converted;         /* iconv wrote some of out */
};

static void jis_flush(struct jis_dec *d)
{
	const char *name;

	if (d->pend->len == 0 || d->pend_cs == CS_DIRECT)
		return;
	d->converted = true;
	if (d->cd[d->pend_cs] == (iconv_t)-1) {
		name = d->pend_cs == CS_EIGHT ? d->eight_bit : jis_cs_names[d->pend_cs];
		d->cd[d->pend_cs] = iconv_open("UTF-8", name ? name : "CP932");
	}
	if (d->cd[d->pend_cs] == (iconv_t)-1) {
		/* Cannot happen with glibc; never lose the fact that text was here. */
		g_string_append(d->out, "\xef\xbf\xbd");
		d->replaced++;
	} else {
		d->replaced += tz_charset_iconv_append(d->cd[d->pend_cs], d->pend->str,
						       d->pend->len, d->out);
	}
	g_string_truncate(d->pend, 0);
}

static void jis_use(struct jis_dec *d, enum jis_cs cs)
{
	if (cs != d->pend_cs) {
		jis_flush(d);
		d->pend_cs = cs;
	}
}

static void jis_bad(struct jis_dec *d)
{
	jis_flush(d);
	g_string_append(d->out, "\xef\xbf\xbd");
	d->replaced++;
}

bool tz_jis_has_escape(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	while ((p = memchr(p, ESC, (size_t)(end - p))) != NULL) {
		if (end - p >= 3 && (p[1] == '$' || p[1] == '(') &&
		    strchr("@BJIHAD(", p[2]) != NULL && p[2] != '\0')
			return true;
		/* SoftBank web code emoji (ESC $ G ... SI) */
		if (end - p >= 3 && p[1] == '$' && p[2] != '\0' && strchr("GEFOPQ", p[2]) != NULL)
			return true;
		p++;
	}
	return false;
}

/* Interpret the escape at p (p[0] == ESC); returns the bytes consumed. */
static size_t jis_escape(struct jis_dec *d, const unsigned char *p, size_t n)
{
	if (n >= 3 && p[1] == '(') {
		switch (p[2]) {
		case 'B': d->set = SET_ASCII; return 3;
		case 'J': case 'H': d->set = SET_ROMAN; return 3;
		case 'I': d->set = SET_KANA; return 3;
		}
	} else if (n >= 3 && p[1] == '$') {
		switch (p[2]) {
		case '@': case 'B': d->set = SET_X0208; return 3;
		case 'A': d->set = SET_GB2312; return 3;
		/* SoftBank web code: one emoji per byte until SI. */
		case 'G': case 'E': case 'F': case 'O': case 'P': case 'Q':
			d->set = SET_WEBCODE;
			d->webpage = p[2];
			return 3;
		case '(':
			if (n < 4)
				break;
			switch (p[3]) {
			/* JIS X 0213 plane 1 is a superset of 0208: best effort. */
			case '@': case 'B': case 'O': case 'Q':
				d->set = SET_X0208; return 4;
			case 'D': d->set = SET_X0212; return 4;
			case 'C': d->set = SET_KSC; return 4;
			}
			break;
		}
	} else if (n >= 3 && p[1] == '.') {
		if (p[2] == 'A' || p[2] == 'F') {
			d->g2 = p[2] == 'A' ? CS_LATIN1 : CS_GREEK;
			return 3;
		}
	} else if (n >= 3 && p[1] == 'N') {
		/* Single shift 2: one character of the G2 set. */
		if (d->g2 != CS_N && p[2] >= 0x20 && p[2] < 0x80) {
			jis_use(d, d->g2);
			g_string_append_c(d->pend, (char)(p[2] | 0x80));
		} else {
			jis_bad(d);
		}
		return 3;
	} else if (n >= 3 && p[1] == '&' && p[2] == '@') {
		return 3; /* JIS X 0208-1990 announcer, followed by ESC $ B */
	}
	jis_bad(d);
	return 1;
}

/* A run of 8-bit bytes: raw text next to (or instead of) the escapes. It
 * runs to the next escape or shift, since every candidate charset keeps
 * ASCII as is. */
static size_t jis_eight(struct jis_dec *d, const unsigned char *p, size_t n)
{
	size_t i = 0;

	if (d->eight_bit == NULL) {
		jis_bad(d);
		return 1;
	}
	while (i < n && p[i] != ESC && p[i] != SO && p[i] != SI)
		i++;
	jis_use(d, CS_EIGHT);
	g_string_append_len(d->pend, (const char *)p, (gssize)i);
	d->set = SET_ASCII;
	return i;
}

/* Append BMP code point v as UTF-8 straight to the output. */
/* Room for m more bytes past out's length; returns where they go (the
 * length is set by jis_commit). */
static char *jis_reserve(GString *out, size_t m)
{
	gsize at = out->len;

	if (out->allocated_len <= at + m) {
		g_string_set_size(out, at + m);
		out->len = at;
	}
	return out->str + at;
}

static void jis_commit(GString *out, const char *w)
{
	out->len = (gsize)(w - out->str);
	out->str[out->len] = '\0';
}

/* v (below U+10000, from the table) as UTF-8 at w; returns the end. */
static inline char *jis_utf8(char *w, unsigned v)
{
	if (v < 0x80) {
		*w++ = (char)v;
	} else if (v < 0x800) {
		*w++ = (char)(0xc0 | (v >> 6));
		*w++ = (char)(0x80 | (v & 0x3f));
	} else {
		*w++ = (char)(0xe0 | (v >> 12));
		*w++ = (char)(0x80 | ((v >> 6) & 0x3f));
		*w++ = (char)(0x80 | (v & 0x3f));
	}
	return w;
}

/* One BMP code point as UTF-8, written in place (g_string_append_len
 * per character was a call into g_string_insert_len each). */
static void jis_put(struct jis_dec *d, unsigned v)
{
	jis_commit(d->out, jis_utf8(jis_reserve(d->out, 3), v));
}

/* The bytes at p that are table pairs (lead 0x21..0x20+JIS_ROWS, trail
 * 0x21..0x7E), an even count. Eight pairs at a time where SSE2 is there
 * (x86-64's baseline): one pair at a time this count was a third of the
 * run's cost. Each lane's byte minus 0x21 must not exceed its limit
 * (unsigned: a byte below 0x21 wraps above every limit). */
size_t tz_jis_pairs(const unsigned char *p, size_t n)
{
	size_t m = 0;

#ifdef __SSE2__
	const __m128i base = _mm_set1_epi8(0x21);
	const __m128i lim = _mm_set1_epi16((short)((0x7e - 0x21) << 8 | (JIS_ROWS - 1)));

	while (m + 16 <= n) {
		__m128i v = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + m)), base);

		if (_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(v, lim), v)) != 0xffff)
			break;
		m += 16;
	}
#endif
	while (m + 1 < n && p[m] >= 0x21 && p[m] < 0x21 + JIS_ROWS && p[m + 1] >= 0x21 && p[m + 1] <= 0x7e)
		m += 2;
	return m;
}

/* JIS X 0208 (and the CP932 rows beyond 94) at p: as many pairs as follow;
 * returns the bytes consumed (always even, at least 2). The pairs are
 * counted first and room for 3 bytes each reserved once: a Japanese body
 * is mostly such runs, and a size check per character was 10 % of the
 * 5 KB ISO-2022-JP profile. */
static size_t jis_run_0208(struct jis_dec *d, const unsigned char *p, size_t n)
{
	size_t m = 0;
	unsigned v;
	char *w;

	jis_use(d, CS_DIRECT);
	m = tz_jis_pairs(p, n);
	w = jis_reserve(d->out, m / 2 * 3);
	for (const unsigned char *q = p, *lim = p + m; q < lim; q += 2) {
		size_t at = (size_t)(jis_rowbase[q[0]] + q[1]);
		const unsigned char *e = jis_utf8_table[at];

		if (e[3] != 0) {
			/* the fourth byte lands where the next character (or the
			 * terminating NUL) goes: inside the room reserved */
			memcpy(w, e, 4);
			w += e[3];
			continue;
		}
		v = jis_table[at];
		/* au mail's emoji rows: 0x75-0x78 are empty in CP932, 0x79-0x7C
		 * hold IBM kanji unless the text is known to be au's. */
		if (q[0] >= 0x75 && q[0] <= 0x7c && (v == 0 || d->kddi)) {
			jis_commit(d->out, w);
			g_string_append(d->out, tz_emoji_kddi_jis(q[0], q[1]));
			d->kddi_seen |= v == 0;
			w = jis_reserve(d->out, (size_t)(lim - q - 2) / 2 * 3);
			continue;
		}
		d->ibm_seen |= q[0] >= 0x79 && q[0] <= 0x7c;
		if (v == 0) {
			memcpy(w, "\xef\xbf\xbd", 3);
			w += 3;
			d->replaced++;
		} else {
			w = jis_utf8(w, v);
		}
	}
	jis_commit(d->out, w);
	return m;
}

/* One character (or byte) of a double-byte set; returns bytes consumed. */
static size_t jis_double(struct jis_dec *d, const unsigned char *p, size_t n)
{
	unsigned c1 = p[0], c2 = n >= 2 ? p[1] : 0;

	if (c2 < 0x21 || c2 > 0x7e) {
		/* Truncated: a lone byte before a control, escape or the end. */
		jis_bad(d);
		return 1;
	}
	switch (d->set) {
	case SET_X0208:
		return jis_run_0208(d, p, n);
	case SET_X0212:
		jis_use(d, CS_EUCJP);
		g_string_append_c(d->pend, (char)0x8f);
		g_string_append_c(d->pend, (char)(c1 | 0x80));
		g_string_append_c(d->pend, (char)(c2 | 0x80));
		break;
	default:
		jis_use(d, d->set == SET_GB2312 ? CS_EUCCN : CS_EUCKR);
		g_string_append_c(d->pend, (char)(c1 | 0x80));
		g_string_append_c(d->pend, (char)(c2 | 0x80));
		break;
	}
	return 2;
}

static void jis_decode_loop(struct jis_dec *d, const unsigned char *p, size_t n)
{
	size_t i = 0, j;
	enum jis_set set;

	while (i < n) {
		unsigned c = p[i];

		if (c == ESC) {
			i += jis_escape(d, p + i, n - i);
			continue;
		}
		if (c == SO || c == SI) {
			d->shifted = c == SO;
			if (c == SI && d->set == SET_WEBCODE)
				d->set = SET_ASCII;
			i++;
			continue;
		}
		if (d->set == SET_WEBCODE && !d->shifted && c > 0x20 && c < 0x7f) {
			jis_use(d, CS_DIRECT);
			g_string_append(d->out, tz_emoji_webcode(d->webpage, c));
			i++;
			continue;
		}
		set = d->shifted ? SET_KANA : d->set;
		if (set == SET_X0208 && c >= 0x7f && c < 0x21 + JIS_ROWS && i + 1 < n &&
		    p[i + 1] >= 0x21 && p[i + 1] <= 0x7e) {
			i += jis_run_0208(d, p + i, n - i);
			continue;
		}
		if (c >= 0x80) {
			i += jis_eight(d, p + i, n - i);
			continue;
		}
		if (set == SET_ASCII || set == SET_ROMAN) {
			/* Queue a whole ASCII run in whatever charset is pending (all
			 * are ASCII supersets) to keep iconv calls few. */
			j = i + 1;
			while (j < n && p[j] < 0x80 && p[j] != ESC && p[j] != SO && p[j] != SI)
				j++;
			g_string_append_len(d->pend_cs == CS_DIRECT ? d->out : d->pend,
					    (const char *)p + i, (gssize)(j - i));
			i = j;
			continue;
		}
		if (c <= 0x20 || c == 0x7f) {
			if (c == '\n') {
				d->set = SET_ASCII;
				d->shifted = false;
			}
			g_string_append_c(d->pend_cs == CS_DIRECT ? d->out : d->pend, (char)c);
			i++;
			continue;
		}
		if (set == SET_KANA) {
			if (c <= 0x5f) {
				jis_use(d, CS_DIRECT);
				jis_put(d, 0xff61 + (c - 0x21)); /* ｡ .. ﾟ */
			} else {
				jis_bad(d);
			}
			i++;
			continue;
		}
		i += jis_double(d, p + i, n - i);
	}
}

static unsigned jis_decode_pass(const char *buf, size_t len, const char *eight_bit,
				GString *out, bool kddi, bool *again, bool *converted)
{
	struct jis_dec d;
	int k;

	jis_table_init();
	memset(&d, 0, sizeof d);
	d.out = out;
	d.pend = g_string_sized_new(len + 16);
	d.pend_cs = CS_DIRECT;
	for (k = 0; k < CS_N; k++)
		d.cd[k] = (iconv_t)-1;
	d.eight_bit = eight_bit;
	d.set = SET_ASCII;
	d.g2 = CS_N;
	d.kddi = kddi;
	jis_decode_loop(&d, (const unsigned char *)buf, len);
	jis_flush(&d);
	for (k = 0; k < CS_N; k++)
		if (d.cd[k] != (iconv_t)-1)
			iconv_close(d.cd[k]);
	g_string_free(d.pend, TRUE);
	*again = !kddi && d.kddi_seen && d.ibm_seen;
	*converted = d.converted;
	return d.replaced;
}

unsigned tz_jis_decode_own(const char *buf, size_t len, const char *eight_bit,
			   GString *out, bool *own)
{
	size_t old = out->len;
	bool again, converted;
	unsigned r;

	r = jis_decode_pass(buf, len, eight_bit, out, false, &again, &converted);
	if (again) {
		/* au mail after all: its rows 0x79-0x7C were emoji, not kanji. */
		g_string_truncate(out, old);
		r = jis_decode_pass(buf, len, eight_bit, out, true, &again, &converted);
	}
	*own = !converted;
	return r;
}

unsigned tz_jis_decode(const char *buf, size_t len, const char *eight_bit,
		       GString *out)
{
	bool own;

	return tz_jis_decode_own(buf, len, eight_bit, out, &own);
}

/* ---- encoding ---------------------------------------------------------- */

/* JIS X 0208 codes of the full-width forms of CP932 0xA1-0xDF (half-width
 * katakana U+FF61-U+FF9F), as CP50220 folds them. */
static const unsigned short jis_hw_kana[63] = {
	0x2123, 0x2156, 0x2157, 0x2122, 0x2126, 0x2572, 0x2521, 0x2523,
	0x2525, 0x2527, 0x2529, 0x2563, 0x2565, 0x2567, 0x2543, 0x213c,
	0x2522, 0x2524, 0x2526, 0x2528, 0x252a, 0x252b, 0x252d, 0x252f,
	0x2531, 0x2533, 0x2535, 0x2537, 0x2539, 0x253b, 0x253d, 0x253f,
	0x2541, 0x2544, 0x2546, 0x2548, 0x254a, 0x254b, 0x254c, 0x254d,
	0x254e, 0x254f, 0x2552, 0x2555, 0x2558, 0x255b, 0x255e, 0x255f,
	0x2560, 0x2561, 0x2562, 0x2564, 0x2566, 0x2568, 0x2569, 0x256a,
	0x256b, 0x256c, 0x256d, 0x256f, 0x2573, 0x212b, 0x212c,
};

/* IBM extension non-kanji FA40-FA5B and their NEC / NEC-selected forms
 * (the kanji FA5C-FC4B map linearly onto ED40-EEEC). */
static const unsigned short jis_ibm_sym[28] = {
	0xeeef, 0xeef0, 0xeef1, 0xeef2, 0xeef3, 0xeef4, 0xeef5, 0xeef6,
	0xeef7, 0xeef8, 0x8754, 0x8755, 0x8756, 0x8757, 0x8758, 0x8759,
	0x875a, 0x875b, 0x875c, 0x875d, 0x81ca, 0xeefa, 0xeefb, 0xeefc,
	0x878d, 0x8782, 0x8784, 0x81e6,
};

static unsigned sj_linear(unsigned code)
{
	unsigned t = code & 0xff;

	return (code >> 8) * 188 + (t < 0x80 ? t - 0x40 : t - 0x41);
}

static unsigned sj_from_linear(unsigned lin)
{
	unsigned t = lin % 188;

	return ((lin / 188) << 8) | (t < 0x3f ? t + 0x40 : t + 0x41);
}

struct jis_enc {
	GString *out;
	bool kanji;  /* currently in ESC $ B */
};

static void enc_ascii(struct jis_enc *e)
{
	if (e->kanji) {
		g_string_append(e->out, "\x1b(B");
		e->kanji = false;
	}
}

static void enc_jis(struct jis_enc *e, unsigned jis)
{
	if (!e->kanji) {
		g_string_append(e->out, "\x1b$B");
		e->kanji = true;
	}
	g_string_append_c(e->out, (char)(jis >> 8));
	g_string_append_c(e->out, (char)(jis & 0xff));
}

/* Shift_JIS code (lead << 8 | trail) to JIS row/cell. */
static unsigned enc_sjis_to_jis(unsigned code)
{
	unsigned s1 = code >> 8, s2 = code & 0xff, j1, j2;

	if (s1 >= 0xe0)
		s1 -= 0x40;
	j1 = (s1 - 0x81) * 2 + 0x21;
	if (s2 >= 0x9f) {
		j1++;
		j2 = s2 - 0x7e;
	} else {
		j2 = s2 - 0x1f - (s2 >= 0x80 ? 1 : 0);
	}
	return (j1 << 8) | j2;
}

/* A character CP932 (and so JIS) cannot carry: ASCII when its
 * compatibility decomposition is ASCII plus accents (é -> e, NBSP -> ' '),
 * else its code point in brackets. Written in ASCII mode. */
static void enc_subst(struct jis_enc *e, gunichar ch)
{
	gunichar dec[G_UNICHAR_MAX_DECOMPOSITION_LENGTH];
	gsize n = g_unichar_fully_decompose(ch, TRUE, dec, G_N_ELEMENTS(dec)), k;
	GString *ascii = g_string_new(NULL);

	enc_ascii(e);
	for (k = 0; k < n && ch >= 0x80; k++) {
		if (dec[k] >= 0x20 && dec[k] < 0x7f)
			g_string_append_c(ascii, (char)dec[k]);
		else if (dec[k] < 0x300 || dec[k] > 0x36f)
			break;
	}
	if (ch >= 0x80 && k == n && ascii->len > 0)
		g_string_append_len(e->out, ascii->str, (gssize)ascii->len);
	else
		g_string_append_printf(e->out, "[U+%04X]", ch);
	g_string_free(ascii, TRUE);
}

/* Rewrite a Shift_JIS (CP932) stream as JIS. */
static void enc_from_sjis(struct jis_enc *e, const unsigned char *s, size_t n)
{
	size_t i = 0;
	unsigned code, lin;

	while (i < n) {
		unsigned c = s[i];

		if (c < 0x80) {
			enc_ascii(e);
			g_string_append_c(e->out, (char)c);
			i++;
		} else if (c >= 0xa1 && c <= 0xdf) {
			code = jis_hw_kana[c - 0xa1];
			i++;
			/* Voiced / semi-voiced marks combine with the kana before. */
			if (i < n && s[i] == 0xde && ((c >= 0xb6 && c <= 0xc4) ||
			    (c >= 0xca && c <= 0xce))) {
				code += 1;
				i++;
			} else if (i < n && s[i] == 0xde && c == 0xb3) {
				code = 0x2574; /* ヴ */
				i++;
			} else if (i < n && s[i] == 0xdf && c >= 0xca && c <= 0xce) {
				code += 2;
				i++;
			}
			enc_jis(e, code);
		} else if (i + 1 < n) {
			code = (c << 8) | s[i + 1];
			i += 2;
			if (code >= 0xfa40 && code <= 0xfa5b)
				code = jis_ibm_sym[code - 0xfa40];
			else if (code >= 0xfa5c && code <= 0xfc4b)
				code = sj_from_linear(sj_linear(0xed40) +
						      sj_linear(code) - sj_linear(0xfa5c));
			if (code >= 0xf040 && code <= 0xf9fc) {
				/* User-defined area = PUA: no JIS form. */
				lin = sj_linear(code) - sj_linear(0xf040);
				enc_subst(e, 0xe000 + lin);
			} else {
				enc_jis(e, enc_sjis_to_jis(code));
			}
		} else {
			i++;
		}
	}
}

/* Convert with iconv into a Shift_JIS buffer; characters CP932 lacks are
 * substituted between the converted runs. */
void tz_jis_encode(const char *utf8, size_t len, GString *out)
{
	struct jis_enc e = { out, false };
	iconv_t cd = iconv_open("CP932", "UTF-8");
	char *in = (char *)utf8, *op;
	size_t inleft = len, outleft, r, cap = len * 2 + 64;
	char *sj = g_malloc(cap);
	gunichar ch;

	while (inleft > 0) {
		op = sj;
		outleft = cap;
		r = cd == (iconv_t)-1 ? (size_t)-1 : iconv(cd, &in, &inleft, &op, &outleft);
		enc_from_sjis(&e, (const unsigned char *)sj, (size_t)(op - sj));
		if (r != (size_t)-1 || inleft == 0)
			break;
		if (cd != (iconv_t)-1 && errno == E2BIG)
			continue;
		ch = g_utf8_get_char_validated(in, (gssize)MIN(inleft, 6));
		if (ch == (gunichar)-1 || ch == (gunichar)-2) {
			enc_ascii(&e);
			g_string_append(out, "[?]");
			in++;
			inleft--;
		} else {
			enc_subst(&e, ch);
			r = (size_t)(g_utf8_next_char(in) - in);
			in += r;
			inleft -= r;
		}
	}
	enc_ascii(&e);
	g_free(sj);
	if (cd != (iconv_t)-1)
		iconv_close(cd);
}
