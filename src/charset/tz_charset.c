/* tz_charset.c — any charset mail uses to UTF-8, the way the sender's mail
 * client meant it.
 *
 * Labels are mapped to what Windows actually uses (Shift_JIS -> CP932,
 * EUC-JP -> EUC-JP-MS, ISO-2022-JP -> our CP50221 decoder in tz_jis.c,
 * ISO-8859-1 -> windows-1252) and the declared decode is validated: when it
 * fails, or when it "succeeds" into implausible text (EUC-JP bytes read as
 * CP932 give a run of half-width katakana), candidates are decoded in full
 * and scored by how Japanese (or how clean) the result reads; uchardet's
 * guess and the declared label get a bonus so that western text is not
 * turned into kanji. iconv handles are opened per call: they are not
 * thread-safe and the milter is multi-threaded. */
#include "textize.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <uchardet/uchardet.h>

#include "tz_charset.h"
#include "tz_util.h"
#include "tz_jis.h"

/* How a charset behaves, which decides the validation strategy. */
enum cs_kind {
	K_ASCII,  /* 8-bit bytes mean the label lies */
	K_UTF8,
	K_JIS,    /* ISO-2022-JP family, tz_jis.c */
	K_JA,     /* CP932, EUC-JP: check plausibility */
	K_SINGLE, /* western single-byte: any byte decodes */
	K_MULTI,  /* other ASCII-compatible multi-byte (GB18030, Big5, UHC) */
	K_WIDE,   /* UTF-16/32/7, ISO-2022-KR/CN: not ASCII-compatible */
};

struct cs_info {
	const char *canon;
	const char *conv;   /* iconv name; NULL = canon upper-cased */
	const char *conv2;  /* retried when conv leaves replacements */
	enum cs_kind kind;
};

static const struct cs_info cs_infos[] = {
	{ "us-ascii", "ASCII", NULL, K_ASCII },
	{ "utf-8", NULL, NULL, K_UTF8 },
	{ "iso-2022-jp", NULL, NULL, K_JIS },
	{ "cp932", "CP932", NULL, K_JA },
	{ "euc-jp", "EUC-JP-MS", "EUC-JP", K_JA },
	/* Mail clients read Latin-1 as windows-1252 (curly quotes in 0x80-0x9F). */
	{ "iso-8859-1", "CP1252", "ISO-8859-1", K_SINGLE },
	{ "iso-8859-2", NULL, NULL, K_SINGLE }, { "iso-8859-3", NULL, NULL, K_SINGLE },
	{ "iso-8859-4", NULL, NULL, K_SINGLE }, { "iso-8859-5", NULL, NULL, K_SINGLE },
	{ "iso-8859-6", NULL, NULL, K_SINGLE }, { "iso-8859-7", NULL, NULL, K_SINGLE },
	{ "iso-8859-8", NULL, NULL, K_SINGLE }, { "iso-8859-9", NULL, NULL, K_SINGLE },
	{ "iso-8859-10", NULL, NULL, K_SINGLE }, { "iso-8859-11", NULL, NULL, K_SINGLE },
	{ "iso-8859-13", NULL, NULL, K_SINGLE }, { "iso-8859-14", NULL, NULL, K_SINGLE },
	{ "iso-8859-15", NULL, NULL, K_SINGLE }, { "iso-8859-16", NULL, NULL, K_SINGLE },
	{ "windows-1250", "CP1250", NULL, K_SINGLE }, { "windows-1251", "CP1251", NULL, K_SINGLE },
	{ "windows-1252", "CP1252", "ISO-8859-1", K_SINGLE },
	{ "windows-1253", "CP1253", NULL, K_SINGLE }, { "windows-1254", "CP1254", NULL, K_SINGLE },
	{ "windows-1255", "CP1255", NULL, K_SINGLE }, { "windows-1256", "CP1256", NULL, K_SINGLE },
	{ "windows-1257", "CP1257", NULL, K_SINGLE }, { "windows-1258", "CP1258", NULL, K_SINGLE },
	{ "windows-874", "CP874", NULL, K_SINGLE },
	{ "koi8-r", NULL, NULL, K_SINGLE }, { "koi8-u", NULL, NULL, K_SINGLE },
	{ "macintosh", "MACINTOSH", NULL, K_SINGLE },
	{ "x-mac-cyrillic", "MAC-CYRILLIC", NULL, K_SINGLE },
	{ "ibm437", "IBM437", NULL, K_SINGLE }, { "ibm850", "IBM850", NULL, K_SINGLE },
	{ "gb18030", "GB18030", NULL, K_MULTI },
	{ "big5", "BIG5-HKSCS", "BIG5", K_MULTI },
	{ "euc-kr", "CP949", NULL, K_MULTI },
	{ "utf-16", NULL, NULL, K_WIDE }, { "utf-16le", NULL, NULL, K_WIDE },
	{ "utf-16be", NULL, NULL, K_WIDE }, { "utf-32", NULL, NULL, K_WIDE },
	{ "utf-32le", NULL, NULL, K_WIDE }, { "utf-32be", NULL, NULL, K_WIDE },
	{ "utf-7", NULL, NULL, K_WIDE },
	{ "iso-2022-kr", NULL, NULL, K_WIDE },
	{ "iso-2022-cn", "ISO-2022-CN-EXT", NULL, K_WIDE },
};

/* Labels (lower case, '_' and ' ' read as '-') to canonical names. */
static const char *const cs_aliases[][2] = {
	{ "ascii", "us-ascii" }, { "ansi-x3.4-1968", "us-ascii" }, { "us", "us-ascii" },
	{ "iso646-us", "us-ascii" }, { "cp367", "us-ascii" }, { "646", "us-ascii" },
	{ "iso-ir-6", "us-ascii" }, { "7bit", "us-ascii" }, { "fakescii", NULL },
	{ "utf8", "utf-8" }, { "unicode-1-1-utf-8", "utf-8" }, { "x-unicode20utf8", "utf-8" },
	{ "iso-2022-jp-1", "iso-2022-jp" }, { "iso-2022-jp-2", "iso-2022-jp" },
	{ "iso-2022-jp-3", "iso-2022-jp" }, { "iso-2022-jp-ms", "iso-2022-jp" },
	{ "csiso2022jp", "iso-2022-jp" }, { "csiso2022jp2", "iso-2022-jp" },
	{ "cp50220", "iso-2022-jp" }, { "cp50221", "iso-2022-jp" },
	{ "cp50222", "iso-2022-jp" }, { "jis", "iso-2022-jp" }, { "x-jis", "iso-2022-jp" },
	{ "shift-jis", "cp932" }, { "sjis", "cp932" }, { "x-sjis", "cp932" },
	{ "shiftjis", "cp932" }, { "x-shift-jis", "cp932" }, { "ms-kanji", "cp932" },
	{ "csshiftjis", "cp932" }, { "windows-31j", "cp932" }, { "cswindows31j", "cp932" },
	{ "ms932", "cp932" }, { "x-ms-cp932", "cp932" }, { "ibm-943", "cp932" },
	{ "cp943", "cp932" }, { "shift-jisx0213", "cp932" }, { "shift-jis-2004", "cp932" },
	{ "x-euc-jp", "euc-jp" }, { "eucjp", "euc-jp" }, { "euc-jp-ms", "euc-jp" },
	{ "eucjp-ms", "euc-jp" }, { "eucjp-win", "euc-jp" }, { "cp51932", "euc-jp" },
	{ "cseucpkdfmtjapanese", "euc-jp" }, { "x-euc", "euc-jp" },
	{ "euc-jisx0213", "euc-jp" }, { "euc-jis-2004", "euc-jp" },
	{ "latin1", "iso-8859-1" }, { "l1", "iso-8859-1" }, { "cp819", "iso-8859-1" },
	{ "ibm819", "iso-8859-1" }, { "iso-ir-100", "iso-8859-1" },
	{ "latin2", "iso-8859-2" }, { "latin-9", "iso-8859-15" }, { "latin9", "iso-8859-15" },
	{ "iso-8859-8-i", "iso-8859-8" }, { "tis-620", "windows-874" },
	{ "cp874", "windows-874" }, { "koi8", "koi8-r" }, { "cskoi8r", "koi8-r" },
	{ "mac", "macintosh" }, { "x-mac-roman", "macintosh" },
	{ "cp437", "ibm437" }, { "437", "ibm437" }, { "cp850", "ibm850" },
	{ "gb2312", "gb18030" }, { "gbk", "gb18030" }, { "x-gbk", "gb18030" },
	{ "cp936", "gb18030" }, { "euc-cn", "gb18030" }, { "csgb2312", "gb18030" },
	{ "chinese", "gb18030" }, { "x-euc-cn", "gb18030" },
	{ "big5-hkscs", "big5" }, { "x-big5", "big5" }, { "cn-big5", "big5" },
	{ "ks-c-5601-1987", "euc-kr" }, { "ks-c-5601", "euc-kr" }, { "cp949", "euc-kr" },
	{ "x-windows-949", "euc-kr" }, { "ksc5601", "euc-kr" }, { "korean", "euc-kr" },
	{ "unicode", "utf-16" }, { "ucs-2", "utf-16" }, { "unicodebig", "utf-16be" },
	{ "unicodelittle", "utf-16le" }, { "unicode-1-1-utf-7", "utf-7" },
	{ "csiso2022kr", "iso-2022-kr" },
};

/* Lower-case label with '_'/' ' as '-', quotes and spaces trimmed, into
 * norm (size 40); false when the label is empty, too long or has bytes
 * no charset name has. */
static bool cs_normalise(const char *label, char norm[40])
{
	size_t n = 0;
	const char *p = label, *e;

	if (label == NULL)
		return false;
	while (*p == ' ' || *p == '\t' || *p == '"' || *p == '\'')
		p++;
	e = p + strlen(p);
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '"' || e[-1] == '\''))
		e--;
	if (e == p || e - p >= 40)
		return false;
	for (; p < e; p++) {
		char c = *p;

		if (c == '_' || c == ' ')
			c = '-';
		if (!g_ascii_isalnum(c) && c != '-' && c != '.' && c != ':')
			return false;
		norm[n++] = g_ascii_tolower(c);
	}
	norm[n] = '\0';
	return true;
}

static const struct cs_info *cs_find(const char *canon)
{
	size_t k;

	for (k = 0; canon && k < G_N_ELEMENTS(cs_infos); k++)
		if (strcmp(cs_infos[k].canon, canon) == 0)
			return &cs_infos[k];
	return NULL;
}

const char *tz_charset_canonical(const char *label)
{
	char norm[40], alt[40];
	const struct cs_info *ci;
	unsigned num;
	size_t k;

	if (!cs_normalise(label, norm))
		return NULL;
	if ((ci = cs_find(norm)) != NULL)
		return ci->canon;
	for (k = 0; k < G_N_ELEMENTS(cs_aliases); k++)
		if (strcmp(cs_aliases[k][0], norm) == 0)
			return cs_aliases[k][1];
	/* Spelling variants: iso8859-2, iso-8859-2:1987, cp1251, x-cp1251. */
	if (sscanf(norm, "iso-8859-%u", &num) == 1 || sscanf(norm, "iso8859-%u", &num) == 1 ||
	    sscanf(norm, "iso8859%u", &num) == 1) {
		g_snprintf(alt, sizeof alt, "iso-8859-%u", num);
		if ((ci = cs_find(alt)) != NULL)
			return ci->canon;
	}
	if (sscanf(norm, "cp%u", &num) == 1 || sscanf(norm, "x-cp%u", &num) == 1 ||
	    sscanf(norm, "windows-%u", &num) == 1) {
		g_snprintf(alt, sizeof alt, "windows-%u", num);
		if ((ci = cs_find(alt)) != NULL)
			return ci->canon;
	}
	return NULL;
}

unsigned tz_charset_iconv_append(iconv_t cd, const char *buf, size_t len,
				 GString *out)
{
	char *in = (char *)buf, *op;
	size_t inleft = len, outleft, old, room;
	unsigned replaced = 0;

	iconv(cd, NULL, NULL, NULL, NULL);
	while (inleft > 0) {
		room = inleft * 4 + 16;
		old = out->len;
		g_string_set_size(out, old + room);
		op = out->str + old;
		outleft = room;
		if (iconv(cd, &in, &inleft, &op, &outleft) != (size_t)-1) {
			g_string_set_size(out, (size_t)(op - out->str));
			break;
		}
		g_string_set_size(out, (size_t)(op - out->str));
		if (errno == E2BIG)
			continue;
		g_string_append(out, "\xef\xbf\xbd");
		replaced++;
		if (errno != EILSEQ)  /* EINVAL: truncated sequence at the end */
			break;
		in++;
		inleft--;
		iconv(cd, NULL, NULL, NULL, NULL);
	}
	/* Flush a stateful encoder's pending output (none for these targets). */
	return replaced;
}

/* UTF-8 "decoded" by validation, not by iconv: glibc's UTF-8 -> UTF-8
 * accepts sequences beyond U+10FFFF and passes them on. Each invalid byte
 * becomes one U+FFFD, as tz_charset_iconv_append does. What it writes is
 * valid UTF-8 but for NUL. GLib's validator starts where the plainly valid
 * prefix ends (tz_utf8_valid_prefix: the first invalid byte it finds is
 * the same), as cs_postprocess does. */
static unsigned cs_utf8_copy(const char *buf, size_t len, GString *out)
{
	const char *p = buf, *e = buf + len, *end, *q;
	unsigned replaced = 0;

	while (p < e) {
		q = tz_utf8_valid_prefix(p, e);
		if (q == e || g_utf8_validate_len(q, (gsize)(e - q), &end)) {
			g_string_append_len(out, p, e - p);
			break;
		}
		g_string_append_len(out, p, end - p);
		if (*end == '\0') {   /* NUL is valid UTF-8; cs_postprocess drops it */
			g_string_append_c(out, '\0');
			p = end + 1;
			continue;
		}
		g_string_append(out, "\xef\xbf\xbd");
		replaced++;
		p = end + 1;
	}
	return replaced;
}

/* Plain iconv decode of a known charset, with the fallback converter when
 * the first leaves replacements. Returns the replacements. */
/* Shift_JIS through cd (CP932), with the carrier emoji taken out first:
 * CP932 has nothing in au's rows EB/EC (U+FFFD) and reads SoftBank's FB
 * codes as IBM kanji, so each emoji pair is looked up here and the text
 * between goes to iconv in runs. */
static unsigned cs_sjis_append(iconv_t cd, const char *buf, size_t len, GString *out)
{
	const unsigned char *p = (const unsigned char *)buf;
	enum tz_carrier carrier = tz_emoji_sjis_carrier(buf, len);
	const char *emoji;
	size_t i = 0, run = 0;
	unsigned r = 0, c;

	if (carrier == TZ_CARRIER_NONE)
		return tz_charset_iconv_append(cd, buf, len, out);
	while (i < len) {
		c = p[i];
		if (!((c >= 0x81 && c <= 0x9f) || c >= 0xe0) || i + 1 >= len) {
			i++;
			continue;
		}
		emoji = tz_emoji_sjis(carrier, c << 8 | p[i + 1]);
		if (emoji != NULL) {
			if (i > run)
				r += tz_charset_iconv_append(cd, buf + run, i - run, out);
			g_string_append(out, emoji);
			run = i + 2;
		}
		i += 2;
	}
	if (len > run)
		r += tz_charset_iconv_append(cd, buf + run, len - run, out);
	return r;
}

static unsigned cs_iconv_decode(const struct cs_info *ci, const char *name,
				const char *buf, size_t len, GString *out)
{
	char up[40];
	const char *conv = ci ? ci->conv : name;
	iconv_t cd;
	size_t old = out->len;
	unsigned r, r2;

	if (g_ascii_strcasecmp(ci ? ci->canon : name, "utf-8") == 0)
		return cs_utf8_copy(buf, len, out);
	if (conv == NULL) {
		g_strlcpy(up, ci ? ci->canon : name, sizeof up);
		for (r = 0; up[r] != '\0'; r++)
			up[r] = g_ascii_toupper(up[r]);
		conv = up;
	}
	cd = iconv_open("UTF-8", conv);
	if (cd == (iconv_t)-1) {
		g_string_append(out, "\xef\xbf\xbd");
		return 1;
	}
	if (strcmp(conv, "CP932") == 0)
		r = cs_sjis_append(cd, buf, len, out);
	else
		r = tz_charset_iconv_append(cd, buf, len, out);
	iconv_close(cd);
	if (r == 0 || ci == NULL || ci->conv2 == NULL)
		return r;
	cd = iconv_open("UTF-8", ci->conv2);
	if (cd == (iconv_t)-1)
		return r;
	{
		GString *alt = g_string_sized_new(len * 2);

		r2 = tz_charset_iconv_append(cd, buf, len, alt);
		iconv_close(cd);
		if (r2 < r) {
			g_string_truncate(out, old);
			g_string_append_len(out, alt->str, (gssize)alt->len);
			r = r2;
		}
		g_string_free(alt, TRUE);
	}
	return r;
}

/* ---- plausibility ------------------------------------------------------ */

/* How much decoded text reads like real (Japanese) text. Kana are the
 * strongest sign: every mis-decoding of Japanese bytes loses the hiragana
 * (EUC-JP read as CP932 gives half-width katakana, UTF-8 read as anything
 * gives rare kanji and C1 controls). Western letters are neutral, so the
 * declared/uchardet bonus decides between western candidates. */
struct cs_rating {
	long score;
	unsigned nonascii, kana, cjk, hwkana, pua, c1;
};

static bool cs_ascii_letter(const char *p, const char *s, const char *e)
{
	return p >= s && p < e && g_ascii_isalpha(*p);
}

static void cs_rate(const char *s, size_t len, struct cs_rating *rt)
{
	const char *p = s, *e = s + len, *start;
	gunichar ch, prev = 0;

	memset(rt, 0, sizeof *rt);
	while (p < e) {
		if ((unsigned char)*p < 0x80) {
			prev = (gunichar)*p++;
			continue;
		}
		ch = g_utf8_get_char_validated(p, e - p);
		if (ch == (gunichar)-1 || ch == (gunichar)-2) {
			rt->score -= 8;
			p++;
			continue;
		}
		start = p;
		p = g_utf8_next_char(p);
		rt->nonascii++;
		if (ch >= 0x3041 && ch <= 0x309f) {
			rt->kana++;
			rt->score += 3;
		} else if (ch >= 0x30a0 && ch <= 0x30ff) {
			rt->kana++;
			rt->score += 2;
		} else if (ch >= 0x3000 && ch <= 0x303f) {
			rt->score += 2;
		} else if (ch >= 0x4e00 && ch <= 0x9fff) {
			/* Latin-1 "é" + letter decodes as one CP932 kanji:
			 * a kanji glued to ASCII letters proves nothing. */
			rt->cjk++;
			if (!cs_ascii_letter(start - 1, s, e) && !cs_ascii_letter(p, s, e))
				rt->score += 1;
		} else if (ch >= 0xff01 && ch <= 0xff5e) {
			rt->score += 1;
		} else if (ch >= 0xff61 && ch <= 0xff9f) {
			rt->hwkana++;
			rt->score -= 1;
		} else if (ch >= 0xe000 && ch <= 0xf8ff) {
			rt->pua++;
			rt->score -= 2;
		} else if (ch >= 0x80 && ch <= 0x9f) {
			rt->c1++;
			rt->score -= 4;
		} else if (ch == 0xfffd) {
			rt->score -= 8;
		} else if (ch >= 0xa0 && ch <= 0xff && prev >= 0x80 && prev <= 0xff) {
			/* Western languages rarely put two Latin-1 letters or
			 * symbols side by side; CJK bytes read as Latin-1 do. */
			rt->score -= 1;
		}
		prev = ch;
	}
}

/* A byte >= 0x80; eight at a time (an ISO-2022-JP body has none, so this
 * reads all of it: one byte at a time it was 3 % of the 5 KB profile). */
static bool cs_has8(const char *buf, size_t len)
{
	size_t k = 0;

	for (; k + 8 <= len; k += 8) {
		uint64_t x;

		memcpy(&x, buf + k, 8);
		if (x & 0x8080808080808080ULL)
			return true;
	}
	for (; k < len; k++)
		if ((unsigned char)buf[k] >= 0x80)
			return true;
	return false;
}

/* Valid UTF-8 with at least one multi-byte sequence. */
static bool cs_is_utf8(const char *buf, size_t len)
{
	return cs_has8(buf, len) && g_utf8_validate(buf, (gssize)len, NULL);
}

static const char *cs_uchardet(const char *buf, size_t len)
{
	uchardet_t u = uchardet_new();
	const char *canon = NULL;

	if (u == NULL)
		return NULL;
	if (uchardet_handle_data(u, buf, MIN(len, (size_t)65536)) == 0) {
		uchardet_data_end(u);
		canon = tz_charset_canonical(uchardet_get_charset(u));
	}
	uchardet_delete(u);
	if (canon && (strcmp(canon, "us-ascii") == 0 || strcmp(canon, "iso-2022-jp") == 0))
		return NULL;
	return canon;
}

static bool cs_is_japanese(const char *canon)
{
	return canon && (strcmp(canon, "cp932") == 0 || strcmp(canon, "euc-jp") == 0);
}

/* ---- candidates -------------------------------------------------------- */

struct cs_cand {
	const char *canon;
	bool preferred;  /* declared or uchardet's guess: wins ties */
};

/* Decode buf with every candidate, append the best-reading one to out and
 * return its canonical name; *replaced gets its replacement count. */
static const char *cs_pick(const struct cs_cand *c, size_t n, const char *buf,
			   size_t len, GString *out, unsigned *replaced)
{
	GString *best = NULL, *t;
	const char *best_cs = NULL;
	long best_key = 0, key;
	unsigned r, best_r = 0;
	struct cs_rating rt;
	size_t k, m;

	for (k = 0; k < n; k++) {
		for (m = 0; m < k && c[k].canon; m++)
			if (c[m].canon && strcmp(c[m].canon, c[k].canon) == 0)
				break;
		if (c[k].canon == NULL || m < k)
			continue;
		t = g_string_sized_new(len * 2 + 16);
		r = cs_iconv_decode(cs_find(c[k].canon), c[k].canon, buf, len, t);
		cs_rate(t->str, t->len, &rt);
		key = 2 * rt.score + (c[k].preferred ? (long)rt.nonascii : 0);
		if (best == NULL || key > best_key) {
			if (best)
				g_string_free(best, TRUE);
			best = t;
			best_key = key;
			best_cs = c[k].canon;
			best_r = r;
		} else {
			g_string_free(t, TRUE);
		}
	}
	if (best == NULL) {
		g_string_append_len(out, buf, (gssize)len); /* unreachable: utf-8 always listed */
		*replaced = 0;
		return "us-ascii";
	}
	if (out)
		g_string_append_len(out, best->str, (gssize)best->len);
	g_string_free(best, TRUE);
	*replaced = best_r;
	return best_cs;
}

/* Undeclared (or lying) 8-bit text: uchardet's guess and the Japanese
 * candidates, plus `also` (a declared charset worth keeping) if any. With
 * ja_only (the label or JIS escapes say the text is Japanese) western
 * guesses are not considered. */
static const char *cs_detect_into(const char *also, bool ja_only, const char *buf,
				  size_t len, GString *out, unsigned *replaced)
{
	const char *guess = cs_uchardet(buf, len);
	struct cs_cand c[5] = {
		{ also, true }, { guess, true }, { "utf-8", false },
		{ "cp932", false }, { "euc-jp", false },
	};
	GString *sink = out ? out : g_string_new(NULL);
	const char *cs;
	size_t k, n8 = 0;

	for (k = 0; k < len && n8 < 32; k++)
		n8 += (unsigned char)buf[k] >= 0x80;
	if (!cs_is_japanese(guess) && !(guess && strcmp(guess, "utf-8") == 0)) {
		if (ja_only)
			c[1].canon = NULL;
		/* On a few bytes uchardet's western guesses are noise; this
		 * is a Japanese gateway, so let the text speak. */
		c[1].preferred = n8 >= 32;
	}
	cs = cs_pick(c, 5, buf, len, sink, replaced);
	if (out == NULL)
		g_string_free(sink, TRUE);
	return cs;
}

const char *tz_charset_detect(const char *buf, size_t len)
{
	unsigned r;

	if (!cs_has8(buf, len))
		return tz_jis_has_escape(buf, len) ? "iso-2022-jp" : "us-ascii";
	return cs_detect_into(NULL, false, buf, len, NULL, &r);
}

/* Clean declared decode: does the text read as what the label promises? */
static bool cs_plausible(const struct cs_info *ci, const char *buf, size_t len,
			 const char *text, size_t tlen)
{
	struct cs_rating rt;

	switch (ci ? ci->kind : K_MULTI) {
	case K_JA:
		cs_rate(text, tlen, &rt);
		return rt.c1 == 0 && rt.hwkana * 4 <= rt.kana + rt.cjk &&
		       rt.pua * 2 <= rt.nonascii;
	case K_SINGLE:
		return !cs_is_japanese(cs_uchardet(buf, len));
	default:
		return true;
	}
}

/* ---- the entry point --------------------------------------------------- */

/* Drop NUL bytes (they end C strings downstream; clients do not show them),
 * replace private-use code points with their visible stand-ins, and make
 * the result valid UTF-8 whatever iconv gave: glibc's UTF-8 -> UTF-8 (and
 * UCS-4) pass through sequences beyond U+10FFFF ("\xf6\xad\x9a\x9c"),
 * which every later step assumes cannot happen. Returns the number of
 * such sequences replaced by U+FFFD. */
/* The first byte from `from` on that cs_postprocess must rewrite: a NUL,
 * or the lead byte of a private-use character (U+E000..U+F8FF: EE, or EF
 * followed by 80..A3); len when none. memchr, not a loop per byte: this
 * runs over every decoded text (a byte loop was 6 % of the 5 KB
 * ISO-2022-JP profile). */
static size_t first_special(const char *s, size_t from, size_t len)
{
	const char *p = s + from, *lim = s + len, *q;

	if ((q = memchr(p, '\0', (size_t)(lim - p))) != NULL)
		lim = q;
	if ((q = memchr(p, 0xee, (size_t)(lim - p))) != NULL)
		lim = q;
	for (q = p; q < lim && (q = memchr(q, 0xef, (size_t)(lim - q))) != NULL; q++)
		if (q + 1 < s + len && (unsigned char)q[1] < 0xa4)
			return (size_t)(q - s);
	return (size_t)(lim - s);
}

static unsigned cs_postprocess(GString *out, size_t from, bool vendor_pua, bool valid)
{
	size_t k;
	GString *t;
	const char *p, *e, *sub, *bad = NULL;
	gunichar ch;
	unsigned replaced = 0;
	enum tz_carrier carrier;

	/* valid: only a NUL could be "invalid", and first_special finds it
	 * first anyway */
	p = valid ? out->str + out->len : tz_utf8_valid_prefix(out->str + from, out->str + out->len);
	if (p < out->str + out->len && !g_utf8_validate_len(p, (gsize)(out->str + out->len - p), &bad))
		bad = bad ? bad : p;
	else
		bad = NULL;
	k = first_special(out->str, from, out->len);
	if (bad != NULL && (size_t)(bad - out->str) < k)
		k = (size_t)(bad - out->str);
	if (k == out->len)
		return 0;
	carrier = vendor_pua ? tz_emoji_pua_carrier(out->str + k, out->len - k) : TZ_CARRIER_NONE;
	t = g_string_sized_new(out->len - from + 16);
	for (p = out->str + k, e = out->str + out->len; p < e;) {
		ch = g_utf8_get_char_validated(p, e - p);
		if (*p == '\0') {
			p++;
		} else if (ch == (gunichar)-1 || ch == (gunichar)-2) {
			g_string_append(t, "\xef\xbf\xbd");
			replaced++;
			p++;
		} else if ((sub = tz_charset_pua_substitute_for(carrier, ch)) != NULL) {
			/* Private-use code points mean carrier emoji only in Unicode
			 * text; from CP932 or EUC-JP they are user-defined characters
			 * (外字: the carriers' Shift_JIS codes were read above). */
			if (!vendor_pua)
				sub = "\xe3\x80\x93";
			g_string_append(t, sub);
			p = g_utf8_next_char(p);
		} else {
			g_string_append_len(t, p, g_utf8_next_char(p) - p);
			p = g_utf8_next_char(p);
		}
	}
	g_string_truncate(out, k);
	g_string_append_len(out, t->str, (gssize)t->len);
	g_string_free(t, TRUE);
	return replaced;
}

static void cs_set(char dst[40], const char *src)
{
	g_strlcpy(dst, src ? src : "", 40);
}

/* Text with ESC designations: our JIS decoder, raw 8-bit runs decoded as
 * the declared Japanese charset or as detected. True when the decoder
 * wrote all of it itself (valid UTF-8 but for NUL: tz_jis_decode_own). */
static bool cs_jis(const struct cs_info *ci, const char *buf, size_t len,
		   GString *out, struct tz_decode_info *info)
{
	const char *eight = NULL, *conv = NULL;
	const struct cs_info *ei;
	unsigned r, k;
	char used[40], up[40];
	bool own;

	if (cs_has8(buf, len)) {
		if (ci && (ci->kind == K_JA || ci->kind == K_UTF8))
			eight = ci->canon;
		else
			eight = cs_detect_into(NULL, true, buf, len, NULL, &r);
		ei = cs_find(eight);
		g_strlcpy(up, ei && ei->conv ? ei->conv : eight, sizeof up);
		for (k = 0; up[k] != '\0'; k++)
			up[k] = g_ascii_toupper(up[k]);
		conv = up;
	}
	info->replaced = tz_jis_decode_own(buf, len, conv, out, &own);
	g_snprintf(used, sizeof used, "iso-2022-jp%s%s", eight ? "+" : "", eight ? eight : "");
	cs_set(info->used, used);
	info->detected = ci == NULL || ci->kind != K_JIS || eight != NULL;
	return own;
}

/* Outlook Express wrote "unicode-1-1-utf-7" with ',' for '/' in the
 * base64 runs (as IMAP's modified UTF-7 does), and a shifted run may be
 * wrapped across lines (a decoder that joins it shows what a strict one
 * does not). When plain UTF-7 failed, read it that way — ',' as '/', line
 * breaks inside a shifted run removed — and keep whichever leaves fewer
 * replacements. Only then: a line break legitimately ends a shifted run, and
 * text that decodes cleanly must read as written. */
/* buf with ',' as '/' in shifted runs and, when join, the line breaks
 * inside a shifted run removed. g_string_free(). */
static GString *cs_utf7_lenient(const char *buf, size_t len, bool join)
{
	GString *copy = g_string_sized_new(len);
	bool shifted = false;

	for (size_t k = 0; k < len; k++) {
		char ch = buf[k];
		if (!shifted && ch == '+') {
			shifted = true;
		} else if (shifted && ch == ',') {
			ch = '/';
		} else if (shifted && join && (ch == '\r' || ch == '\n')) {
			size_t n = k;
			while (n < len && (buf[n] == '\r' || buf[n] == '\n'))
				n++;
			if (n < len && (g_ascii_isalnum(buf[n]) || buf[n] == '/' || buf[n] == '+'
					|| buf[n] == ',')) {
				k = n - 1;   /* the run goes on after the break */
				continue;
			}
			shifted = false;
		} else if (shifted && !g_ascii_isalnum(ch) && ch != '/') {
			shifted = false;
		}
		g_string_append_c(copy, ch);
	}
	return copy;
}

static void cs_utf7_retry(const char *buf, size_t len, GString *out, size_t old,
			  struct tz_decode_info *info)
{
	for (int join = 0; join < 2 && info->replaced > 0; join++) {
		GString *copy = cs_utf7_lenient(buf, len, join), *alt = g_string_new(NULL);
		unsigned r = cs_iconv_decode(cs_find("utf-7"), "utf-7", copy->str, copy->len, alt);
		if (r < info->replaced) {
			g_string_truncate(out, old);
			g_string_append_len(out, alt->str, (gssize)alt->len);
			info->replaced = r;
		}
		g_string_free(alt, TRUE);
		g_string_free(copy, TRUE);
	}
}

void tz_charset_utf7_joined(const char *buf, size_t len, GString *out)
{
	GString *copy = cs_utf7_lenient(buf, len, true);

	cs_iconv_decode(cs_find("utf-7"), "utf-7", copy->str, copy->len, out);
	g_string_free(copy, TRUE);
}

void tz_charset_to_utf8(const char *declared, const char *buf, size_t len,
			GString *out, struct tz_decode_info *info)
{
	struct tz_decode_info scratch;
	const char *canon = tz_charset_canonical(declared), *cs;
	const struct cs_info *ci = cs_find(canon);
	char norm[40] = "";
	size_t old = out->len;
	bool esc, has8, own = false;
	iconv_t cd;

	if (info == NULL)
		info = &scratch;
	memset(info, 0, sizeof *info);
	if (buf == NULL)
		len = 0;
	/* A label we have no entry for but iconv knows (e.g. ibm852). */
	if (canon == NULL && cs_normalise(declared, norm)) {
		cs_set(info->declared, norm);
		cd = iconv_open("UTF-8", norm);
		if (cd != (iconv_t)-1) {
			iconv_close(cd);
			canon = info->declared;
		}
	} else {
		cs_set(info->declared, canon);
	}
	has8 = cs_has8(buf, len);
	esc = tz_jis_has_escape(buf, len);

	if (ci && ci->kind == K_WIDE) {
		info->replaced = cs_iconv_decode(ci, canon, buf, len, out);
		if (info->replaced > 0 && strcmp(canon, "utf-7") == 0)
			cs_utf7_retry(buf, len, out, old, info);
		cs_set(info->used, canon);
	} else if (!has8 && !esc) {
		g_string_append_len(out, buf, (gssize)len);
		own = true;   /* ASCII: valid UTF-8 but for NUL */
		cs_set(info->used, ci && ci->kind != K_JIS ? canon :
		       (ci ? "iso-2022-jp" : "us-ascii"));
	} else if (esc) {
		own = cs_jis(ci, buf, len, out, info);
	} else if (canon == NULL || (ci && (ci->kind == K_ASCII || ci->kind == K_JIS))) {
		cs = cs_detect_into(NULL, ci && ci->kind == K_JIS, buf, len, out,
				    &info->replaced);
		cs_set(info->used, cs);
		info->detected = true;
	} else if (ci && ci->kind == K_SINGLE && cs_is_utf8(buf, len)) {
		/* Latin text is almost never valid multi-byte UTF-8 by chance. */
		info->replaced = cs_iconv_decode(cs_find("utf-8"), "utf-8", buf, len, out);
		cs_set(info->used, "utf-8");
		info->detected = true;
		own = true;   /* cs_utf8_copy */
	} else {
		info->replaced = cs_iconv_decode(ci, canon, buf, len, out);
		if (info->replaced == 0 && cs_plausible(ci, buf, len, out->str + old,
							out->len - old)) {
			cs_set(info->used, canon);
			own = ci != NULL && ci->kind == K_UTF8;   /* cs_utf8_copy */
		} else {
			g_string_truncate(out, old);
			cs = cs_detect_into(canon, ci && ci->kind == K_JA, buf, len, out,
				    &info->replaced);
			cs_set(info->used, cs);
			info->detected = strcmp(cs, canon) != 0;
		}
	}
	info->replaced += cs_postprocess(out, old, g_str_has_prefix(info->used, "utf"), own);
}

void tz_charset_utf8_to_iso2022jp(const char *utf8, size_t len, GString *out)
{
	tz_jis_encode(utf8, len, out);
}
