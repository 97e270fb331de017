/* tz_encrun.c — the encoded-file scanner's runs (see tz_encscan.h):
 * data: URLs, base64/base64url/base32 runs and hex runs (compact,
 * separated, C/percent escapes, hex dumps), the file signatures that make
 * a short run a file, and the decoders. Each scanner resumes after the run
 * it has judged, so a byte is lexed a bounded number of times. */
#include "tz_encscan_int.h"

#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ---- file signatures ---------------------------------------------------- */

struct sig {
	const char *name;
	const char *magic;
	unsigned char n, off;
	bool ci;   /* ASCII case-insensitive (markup) */
};

static const struct sig sigs[] = {
	{ "PE", "MZ", 2, 0, false },
	{ "ELF", "\x7f" "ELF", 4, 0, false },
	{ "Mach-O", "\xfe\xed\xfa\xce", 4, 0, false },
	{ "Mach-O", "\xfe\xed\xfa\xcf", 4, 0, false },
	{ "Mach-O", "\xce\xfa\xed\xfe", 4, 0, false },
	{ "Mach-O", "\xcf\xfa\xed\xfe", 4, 0, false },
	{ "Mach-O fat/Java class", "\xca\xfe\xba\xbe", 4, 0, false },
	{ "ZIP", "PK\x03\x04", 4, 0, false },
	{ "ZIP", "PK\x05\x06", 4, 0, false },
	{ "ZIP", "PK\x07\x08", 4, 0, false },
	{ "OLE2", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8, 0, false },
	{ "PDF", "%PDF-", 5, 0, false },
	{ "RAR", "Rar!\x1a\x07", 6, 0, false },
	{ "7z", "7z\xbc\xaf\x27\x1c", 6, 0, false },
	{ "gzip", "\x1f\x8b\x08", 3, 0, false },
	{ "compress", "\x1f\x9d", 2, 0, false },
	{ "bzip2", "BZh", 3, 0, false },
	{ "xz", "\xfd" "7zXZ\x00", 6, 0, false },
	{ "zstd", "\x28\xb5\x2f\xfd", 4, 0, false },
	{ "lzip", "LZIP", 4, 0, false },
	{ "CAB", "MSCF\0\0\0\0", 8, 0, false },
	{ "LNK", "\x4c\x00\x00\x00\x01\x14\x02\x00", 8, 0, false },
	{ "WASM", "\0asm", 4, 0, false },
	{ "RTF", "{\\rtf", 5, 0, false },
	{ "PNG", "\x89PNG", 4, 0, false },
	{ "JPEG", "\xff\xd8\xff", 3, 0, false },
	{ "GIF", "GIF8", 4, 0, false },
	{ "TIFF", "II*\0", 4, 0, false },
	{ "TIFF", "MM\0*", 4, 0, false },
	{ "CHM", "ITSF", 4, 0, false },
	{ "DEX", "dex\n", 4, 0, false },
	{ "LZH", "-lh", 3, 2, false },
	{ "LZH", "-lz", 3, 2, false },
	{ "OneNote", "\xe4\x52\x5c\x7b\x8c\xd8\xa7\x4d", 8, 0, false },
	{ "ar", "!<arch>\n", 8, 0, false },
	{ "RPM", "\xed\xab\xee\xdb", 4, 0, false },
	{ "XAR", "xar!", 4, 0, false },
	{ "Java serialized", "\xac\xed\x00\x05", 4, 0, false },
	{ "SQLite", "SQLite format 3", 15, 0, false },
	{ "VHD", "conectix", 8, 0, false },
	{ "VMDK", "KDMV", 4, 0, false },
	{ "WMF", "\xd7\xcd\xc6\x9a", 4, 0, false },
	{ "script", "#!/", 3, 0, false },
	{ "HTML", "<html", 5, 0, true },
	{ "HTML", "<!doctype html", 14, 0, true },
	{ "script", "<script", 7, 0, true },
	{ "SVG", "<svg", 4, 0, true },
	{ "XML", "<?xml", 5, 0, true },
	{ "HTA/HTML", "<head", 5, 0, true },
};

const char *tz_encscan_signature(const void *buf, size_t len, bool *strong)
{
	bool dummy;

	return enc_signature(buf, len, strong ? strong : &dummy);
}

const char *enc_signature(const unsigned char *b, size_t n, bool *strong)
{
	for (size_t i = 0; i < G_N_ELEMENTS(sigs); i++) {
		const struct sig *g = &sigs[i];

		if (n < (size_t)g->off + g->n ||
		    (!g->ci && b[g->off] != (unsigned char)g->magic[0]) ||
		    (g->ci && b[g->off] != '<'))
			continue;
		if (g->ci ? g_ascii_strncasecmp((const char *)b + g->off, g->magic, g->n) == 0
			  : memcmp(b + g->off, g->magic, g->n) == 0) {
			*strong = g->n >= 4;
			return g->name;
		}
	}
	return NULL;
}

/* ---- decoders ----------------------------------------------------------- */

/* Character tables, filled once: values (-1 = not in the alphabet) and
 * classes of base64 characters (for a run's statistics). */
static signed char b64t[256], b32t[256], hext[256];
static bool hstart[256];   /* may start a hex item */
static bool hsep[256];     /* separates hex items */
static bool pfx[256];      /* quote/indent prefix */
static unsigned char cls[256];
enum { CLS_ALNUM = 1, CLS_HEX = 2, CLS_B32 = 4 };

#define ONES 0x0101010101010101ULL
#define HIGH 0x8080808080808080ULL

/* Past every whole word of 8 bytes at p that are all >= 0x80 (the UTF-8
 * of Japanese text): no scanner here starts or continues on such a byte,
 * and a byte-at-a-time skip over them was most of each scan's cost on a
 * Japanese body. */
static size_t skip_high(const char *t, size_t p, size_t to)
{
	uint64_t x;

#ifdef __SSE2__
	/* 16 at a time first: two of the 8-byte steps below */
	while (p + 16 <= to &&
	       _mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)(t + p))) == 0xffff)
		p += 16;
#endif
	while (p + 8 <= to) {
		memcpy(&x, t + p, 8);
		if ((x & HIGH) != HIGH)
			break;
		p += 8;
	}
	return p;
}

/* Past every whole word of 8 bytes at p (with 8 more to read) that holds
 * no 'd' or 'D', where a "data:" URL could start. */
static size_t skip_no_d(const char *t, size_t p, size_t to)
{
	uint64_t x, y;

#ifdef __SSE2__
	const __m128i low = _mm_set1_epi8(0x20), d = _mm_set1_epi8('d');

	/* 16 at a time first: two of the 8-byte steps below */
	while (p + 16 <= to &&
	       _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_or_si128(_mm_loadu_si128((const __m128i *)(const void *)(t + p)), low), d)) == 0)
		p += 16;
#endif
	while (p + 8 <= to) {
		memcpy(&x, t + p, 8);
		y = (x | 0x20 * ONES) ^ ('d' * ONES);   /* 0 where a byte is d or D */
		if (((y - ONES) & ~y & HIGH) != 0)
			break;
		p += 8;
	}
	return p;
}

void enc_tables_init(void)
{
	static gsize once;

	if (!g_once_init_enter(&once))
		return;
	memset(b64t, -1, sizeof b64t);
	memset(b32t, -1, sizeof b32t);
	memset(hext, -1, sizeof hext);
	for (int i = 0; i < 26; i++) {
		b64t['A' + i] = (signed char)i;
		b64t['a' + i] = (signed char)(26 + i);
		b32t['A' + i] = (signed char)i;
	}
	for (int i = 0; i < 10; i++) {
		b64t['0' + i] = (signed char)(52 + i);
		hext['0' + i] = (signed char)i;
	}
	for (int i = 0; i < 6; i++) {
		b32t['2' + i] = (signed char)(26 + i);
		hext['a' + i] = hext['A' + i] = (signed char)(10 + i);
	}
	for (int c = 0; c < 256; c++)
		hstart[c] = hext[c] >= 0 || c == '\\' || c == '%';
	for (const char *c = " \t,;:-\r\"'{}[]()+="; *c; c++)
		hsep[(unsigned char)*c] = true;
	for (const char *c = " \t>|\r"; *c; c++)
		pfx[(unsigned char)*c] = true;
	b64t['+'] = b64t['-'] = 62;
	b64t['/'] = b64t['_'] = 63;
	for (int c = 0; c < 256; c++)
		cls[c] = (unsigned char)((g_ascii_isalnum(c) ? CLS_ALNUM : 0) |
					 (hext[c] >= 0 ? CLS_HEX : 0) | (b32t[c] >= 0 ? CLS_B32 : 0));
	g_once_init_leave(&once, 1);
}

int enc_b64val(unsigned char c)
{
	return b64t[c];
}

static int hexval(unsigned char c)
{
	return hext[c];
}

/* Decode the characters of s[0..n) that tab knows, `bits` bits each,
 * skipping the first `skip` of them, up to max bytes in all. */
static size_t decode_into(const char *s, size_t n, size_t skip, const signed char *tab,
			  unsigned bits, guint8 *o, size_t room)
{
	size_t k = 0;
	unsigned acc = 0, have = 0;

	/* fast path: whole groups of four valid base64 characters */
	if (bits == 6 && !skip) {
		size_t i = 0;

		while (i + 4 <= n && k + 3 <= room) {
			int a = tab[(unsigned char)s[i]], b = tab[(unsigned char)s[i + 1]];
			int c = tab[(unsigned char)s[i + 2]], d = tab[(unsigned char)s[i + 3]];

			if ((a | b | c | d) < 0)
				break;
			o[k++] = (guint8)(a << 2 | b >> 4);
			o[k++] = (guint8)(b << 4 | c >> 2);
			o[k++] = (guint8)(c << 6 | d);
			i += 4;
		}
		s += i;
		n -= i;
	}
	for (size_t i = 0; i < n && k < room; i++) {
		int v = tab[(unsigned char)s[i]];

		if (v < 0)
			continue;
		if (skip) {
			skip--;
			continue;
		}
		acc = (acc << bits | (unsigned)v) & 0xffffu;
		have += bits;
		if (have >= 8) {
			have -= 8;
			o[k++] = (guint8)(acc >> have);
		}
	}
	return k;
}

/* The same, appended to out (decode_into writes at most room bytes). */
static void decode_bits(const char *s, size_t n, size_t skip, const signed char *tab,
			unsigned bits, size_t max, GByteArray *out)
{
	size_t base = out->len, room = MIN(max, n * bits / 8 + 1);

	g_byte_array_set_size(out, (guint)(base + room));
	g_byte_array_set_size(out, (guint)(base + decode_into(s, n, skip, tab, bits, out->data + base, room)));
}

void enc_b64_decode(const char *t, size_t from, size_t to, size_t skip, GByteArray *out)
{
	decode_bits(t + from, to - from, skip, b64t, 6, G_MAXSIZE, out);
}

/* ---- data: URLs --------------------------------------------------------- */

static bool mime_char(unsigned char c)
{
	return g_ascii_isalnum(c) || strchr("!#$&^_.+-/=\"%*~'", c);
}

/* End of the base64 token at p, taking in groups: a token whose length is
 * a multiple of four continues after one space or tab when another token
 * follows ("TVqQ AAMA AAAE": Python's and CyberChef's decoders skip the
 * spaces). */
static size_t grouped_end(const char *t, size_t p, size_t to)
{
	for (;;) {
		size_t a = p;

		while (p < to && b64t[(unsigned char)t[p]] >= 0)
			p++;
		if (p - a < 4 || (p - a) % 4 || p + 1 >= to || (t[p] != ' ' && t[p] != '\t') ||
		    b64t[(unsigned char)t[p + 1]] < 0)
			return p;
		p++;
	}
}

/* Joinable continuation of a base64 payload or run: the next line holds
 * one token of base64 characters (4 or more) and nothing else. Returns
 * the token end (after '=' padding) or 0. */
static size_t b64_continuation(const struct enc_scan *s, size_t nl, size_t to, bool *pad)
{
	struct enc_line ln;
	size_t i;

	if (nl + 1 >= to)
		return 0;
	enc_line_at(s->t, to, nl + 1, &ln);
	i = grouped_end(s->t, ln.c, ln.cend);
	if (i - ln.c < 4)
		return 0;
	*pad = false;
	while (i < ln.cend && s->t[i] == '=') {
		i++;
		*pad = true;
	}
	return i == ln.cend ? i : 0;
}

/* Where the token ending at p continues: p itself when the line goes on
 * after it, else the end of the joined continuation lines. */
static size_t b64_join(const struct enc_scan *s, size_t p, size_t to)
{
	for (;;) {
		size_t q = p, e;
		bool pad;

		while (q < to && (s->t[q] == ' ' || s->t[q] == '\t' || s->t[q] == '\r'))
			q++;
		if (q >= to || s->t[q] != '\n' || !(e = b64_continuation(s, q, to, &pad)))
			return p;
		p = e;
		if (pad)
			return p;
	}
}

static void percent_decode(const char *t, size_t from, size_t to, GByteArray *out)
{
	for (size_t i = from; i < to; i++) {
		guint8 b = (guint8)t[i];

		if (b == '%' && i + 2 < to && hexval((unsigned char)t[i + 1]) >= 0 &&
		    hexval((unsigned char)t[i + 2]) >= 0) {
			b = (guint8)(hexval((unsigned char)t[i + 1]) << 4 | hexval((unsigned char)t[i + 2]));
			i += 2;
		}
		g_byte_array_append(out, &b, 1);
	}
}

static bool url_end(unsigned char c)
{
	return c <= ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`' || c == 0x7f;
}

/* data: URL at p ("data", spaces, ':', spaces, a media type and parameters
 * of at most 256 characters, ','), payload to the first space or quote;
 * glued: a letter or digit precedes "data".
 * Returns the end of the URL, 0 when there is none at p. */
static size_t try_dataurl(struct enc_scan *s, size_t p, size_t to, bool glued)
{
	const char *t = s->t;
	size_t q = p + 4, m, pay, e, colon;
	bool b64 = false, spaced;
	GByteArray *out;

	while (q < to && (t[q] == ' ' || t[q] == '\t'))
		q++;
	if (q >= to || t[q] != ':')
		return 0;
	spaced = q > p + 4;
	colon = q++;
	/* glued to a word ("metadata:"): only the tight form, which no prose
	 * writes and which a copy-and-paste turns into a working URL */
	if (glued && (spaced || (q < to && (t[q] == ' ' || t[q] == '\t'))))
		return 0;
	while (q < to && (t[q] == ' ' || t[q] == '\t'))
		q++;
	spaced = spaced || q > colon + 1;
	m = q;
	/* type/subtype, or nothing */
	if (q < to && t[q] != ';' && t[q] != ',') {
		size_t a = q;

		while (q < to && q - m <= 64 && mime_char((unsigned char)t[q]) && t[q] != '/')
			q++;
		if (q == a || q >= to || t[q] != '/')
			return 0;
		a = ++q;
		while (q < to && q - m <= 128 && mime_char((unsigned char)t[q]) && t[q] != '/')
			q++;
		if (q == a)
			return 0;
	}
	/* ;parameters, spaces around them */
	while (q < to && q - m <= 256) {
		while (q < to && (t[q] == ' ' || t[q] == '\t'))
			q++;
		if (q >= to || t[q] != ';')
			break;
		q++;
		while (q < to && (t[q] == ' ' || t[q] == '\t'))
			q++;
		if (to - q >= 6 && g_ascii_strncasecmp(t + q, "base64", 6) == 0)
			b64 = true;
		while (q < to && q - m <= 256 && mime_char((unsigned char)t[q]))
			q++;
	}
	if (q >= to || t[q] != ',')
		return 0;
	pay = ++q;
	while (q < to && !url_end((unsigned char)t[q]))
		q++;
	e = q;
	if (b64)
		e = b64_join(s, e, to);
	/* With spaces around the colon ("Data: a/b, c" is prose as often as
	 * not) only a base64 or percent-encoded or long payload counts. */
	if (e - pay < s->l->min_data_url ||
	    (spaced && !b64 && e - pay < 32 && !memchr(t + pay, '%', e - pay)))
		return 0;
	out = g_byte_array_new();
	if (b64)
		enc_b64_decode(t, pay, e, 0, out);
	else
		percent_decode(t, pay, e, out);
	enc_add(s, p, e, TZ_ENCBLK_DATA_URL, NULL, out, b64 ? "data: URL (base64)" : "data: URL");
	return e;
}

void enc_scan_dataurls(struct enc_scan *s, size_t from, size_t to)
{
	for (size_t p = from; p + 5 <= to && enc_room(s); p++) {
		size_t e;

		while ((p = skip_no_d(s->t, p, to)) + 5 <= to &&
		       ((s->t[p] | 0x20) != 'd' || (s->t[p + 1] | 0x20) != 'a'))
			p++;
		if (p + 5 > to || g_ascii_strncasecmp(s->t + p, "data", 4) != 0)
			continue;
		if ((e = try_dataurl(s, p, to, p > from && g_ascii_isalnum(s->t[p - 1]))) > p)
			p = e - 1;
	}
}

/* Whole lines where the run is whole lines: from the line start when only
 * a prefix precedes it, through the LF when only spaces follow it. */
void enc_widen(const struct enc_scan *s, size_t *rs, size_t *re)
{
	size_t a = *rs, b = *re;

	while (a > 0 && (s->t[a - 1] == ' ' || s->t[a - 1] == '\t' || s->t[a - 1] == '>' ||
			 s->t[a - 1] == '|'))
		a--;
	if (a == 0 || s->t[a - 1] == '\n')
		*rs = a;
	while (b < s->len && (s->t[b] == ' ' || s->t[b] == '\t' || s->t[b] == '\r'))
		b++;
	if (b < s->len && s->t[b] == '\n')
		*re = b + 1;
	else if (b == s->len)
		*re = b;
}

/* ---- base64 / base32 runs ----------------------------------------------- */

/* The characters of a run in one string, and where its lines start (the
 * first 4096: past that the run is long enough to be judged by length). */
struct run {
	GString *chars;
	size_t segs[4096], segpos[4096], nsegs;   /* char offset, text offset */
	size_t alnum;
	bool all_hex, all_b32;
};

/* Check the head of the run at every line start from seg0 and every
 * alignment; returns the signature name or NULL, and where it is. */
static const char *run_signature(const struct enc_scan *s, const struct run *r, bool b32,
				 size_t seg0, size_t *seg, unsigned *align)
{
	unsigned bits = b32 ? 5 : 6, aligns = b32 ? 8 : 4;
	const signed char *val = b32 ? b32t : b64t;
	guint8 head[64];   /* the first 64 decoded bytes: every signature is shorter */
	const char *name = NULL;
	bool strong;

	/* Only within the first 8192 characters: a longer run is judged by
	 * its length. */
	for (size_t k = seg0; k < r->nsegs && !name && r->segs[k] < 8192; k++) {
		for (unsigned a = 0; a < aligns && !name; a++) {
			size_t o = r->segs[k], n = MIN(r->chars->len - o, 96);
			size_t declen = (r->chars->len - o - a) * bits / 8;

			if (declen < s->l->min_sig_strong || r->chars->len < o + a)
				break;
			/* skipping the whole line: that is the next line's start */
			if (k + 1 < r->nsegs && o + a >= r->segs[k + 1])
				break;
			name = enc_signature(head, decode_into(r->chars->str + o, n, a, val, bits, head,
							       MIN(sizeof head, n * bits / 8 + 1)),
					     &strong);
			if (name && declen < (strong ? s->l->min_sig_strong : s->l->min_sig_weak))
				name = NULL;
			*seg = k;
			*align = a;
		}
	}
	return name;
}

/* Is the in-line token at p part of a URL ("scheme://" before it in the
 * same word)? Looks back at most 4096 bytes. A long token in a URL is a
 * tracking id far more often than a file; the signature rule still holds
 * for it. */
static bool in_url(const struct enc_scan *s, size_t p)
{
	size_t lim = p > 4096 ? p - 4096 : 0;

	while (p > lim + 2) {
		unsigned char c = (unsigned char)s->t[p - 1];

		if (c <= ' ' || c == '<' || c == '"' || c == '\'' || c == '(' || c == '[')
			return false;
		if (c == '/' && s->t[p - 2] == '/' && s->t[p - 3] == ':')
			return true;
		p--;
	}
	return false;
}

static void judge_b64run(struct enc_scan *s, size_t rs, size_t re, struct run *r)
{
	size_t n = r->chars->len, seg0 = 0, seg = 0, o;
	unsigned align = 0;
	const char *sig = NULL;
	GByteArray *d;
	bool b32 = false;

	if (r->all_hex || n < 16 || r->alnum * 4 < n * 3)
		return;   /* hex is the hex scanner's; mostly '-', '_', '/' is no file */
	/* A first line shorter than the second is a word that ends a line of
	 * prose ("see below" + the encoded lines): not part of the file —
	 * unless a signature starts there (the search covers every line). */
	if (r->nsegs >= 2 && r->segs[1] - r->segs[0] < (r->nsegs > 2 ? r->segs[2] : n) - r->segs[1])
		seg0 = 1;
	if (r->all_b32 && (sig = run_signature(s, r, true, 0, &seg, &align)))
		b32 = true;
	else if (!(sig = run_signature(s, r, false, 0, &seg, &align))) {
		seg = seg0;
		align = 0;
		n -= r->segs[seg0];
		if (r->all_b32 && n * 5 / 8 >= s->l->min_b64_file)
			b32 = true;
		else if (n * 3 / 4 < s->l->min_b64_file)
			return;
		if (r->nsegs == 1 && in_url(s, rs))
			return;
	}
	/* Start at the signature's line unless the lines before it are long
	 * enough to be a file of their own. */
	if (seg > 0 && (seg == seg0 || (r->segs[seg] - r->segs[seg0]) * 3 / 4 < s->l->min_b64_file))
		rs = r->segpos[seg];
	o = r->segs[seg];
	n = r->chars->len - o;
	d = g_byte_array_sized_new((guint)(n * 3 / 4 + 3));
	decode_bits(r->chars->str + o, n, align, b32 ? b32t : b64t, b32 ? 5 : 6, G_MAXSIZE, d);
	enc_widen(s, &rs, &re);
	enc_add(s, rs, re, b32 ? TZ_ENCBLK_BASE32 : TZ_ENCBLK_BASE64, NULL, d, sig ? sig : "length");
}

/* Append the token at q (its groups, the spaces between them dropped) to
 * the run's characters and classes; returns where the token ends. */
static size_t run_append_token(struct run *r, const char *t, size_t q, size_t to)
{
	unsigned all = CLS_HEX | CLS_B32;
	size_t a, g = grouped_end(t, q, to);

	while (q < g) {
		for (a = q; q < g && b64t[(unsigned char)t[q]] >= 0; q++) {
			unsigned char k = cls[(unsigned char)t[q]];

			r->alnum += k & CLS_ALNUM;
			all &= k;
		}
		g_string_append_len(r->chars, t + a, (gssize)(q - a));
		if (q < g)
			q++;   /* the space between groups */
	}
	r->all_hex &= (all & CLS_HEX) != 0;
	r->all_b32 &= (all & CLS_B32) != 0;
	return q;
}

/* A run starts at a base64 character that does not follow one; it is the
 * token, its '=' padding, and the lines that continue it (one token each,
 * see b64_continuation). */
void enc_scan_b64runs(struct enc_scan *s, size_t from, size_t to)
{
	const char *t = s->t;
	struct run *r = s->run;   /* made on the first candidate; reset per run */
	size_t p = from;

	while (p < to && enc_room(s)) {
		size_t rs = p, q;

		if (b64t[(unsigned char)t[p]] < 0) {
			do
				p = skip_high(t, p + 1, to);
			while (p < to && b64t[(unsigned char)t[p]] < 0);
			continue;
		}
		/* Fast path: a short token that does not end its line is no run
		 * (a word of prose). */
		q = grouped_end(t, p, to);
		if (q - p < 4 && (q >= to || t[q] != '=')) {
			p = q;   /* the next line's token starts a run of its own */
			continue;
		}
		if (q - p < 16 && q < to && t[q] != '=') {
			size_t e = q;

			while (e < to && (t[e] == ' ' || t[e] == '\t' || t[e] == '\r'))
				e++;
			if (e < to && t[e] != '\n') {
				p = q;
				continue;
			}
		}
		if (r == NULL) {
			r = s->run = g_new(struct run, 1);
			r->chars = g_string_new(NULL);
		}
		g_string_truncate(r->chars, 0);
		r->nsegs = 0;
		r->alnum = 0;
		r->all_hex = r->all_b32 = true;
		q = p;
		for (;;) {
			size_t e;
			bool pad = false;

			if (r->nsegs < G_N_ELEMENTS(r->segs)) {
				r->segpos[r->nsegs] = q;
				r->segs[r->nsegs++] = r->chars->len;
			}
			q = run_append_token(r, t, q, to);
			for (int k = 0; k < 6 && q < to && t[q] == '='; k++) {
				q++;
				pad = true;
			}
			if (pad)
				break;
			e = q;
			while (e < to && (t[e] == ' ' || t[e] == '\t' || t[e] == '\r'))
				e++;
			if (e >= to || t[e] != '\n')
				break;
			if (!b64_continuation(s, e, to, &pad)) {
				/* one blank line inside a run of full lines: base64 -d
				 * reads through it */
				struct enc_line bl;
				size_t ce;

				if (q - r->segpos[r->nsegs - 1] < 16 || e + 1 >= to)
					break;
				enc_line_at(t, to, e + 1, &bl);
				if (bl.c != bl.cend || bl.end >= to ||
				    !(ce = b64_continuation(s, bl.end, to, &pad)) ||
				    ce - bl.end < 17)
					break;
				e = bl.end;
			}
			{
				struct enc_line ln;

				enc_line_at(t, to, e + 1, &ln);
				q = ln.c;
			}
		}
		judge_b64run(s, rs, q, r);
		p = q > rs ? q : rs + 1;
	}
}

/* ---- hex runs ------------------------------------------------------------ */

/* One hex item at p: an optional "0x", "\x" or '%' prefix, then hex
 * digits up to a character that is not alphanumeric. An odd count is only
 * taken for the first item of a run (the first digit is junk then).
 * Returns the item end or 0; appends its bytes to out. */
static size_t hex_item(const char *t, size_t p, size_t to, bool first, GByteArray *out,
		       size_t *letters)
{
	size_t q = p, d;

	if (q + 2 < to && t[q] == '0' && (t[q + 1] | 0x20) == 'x' && hexval((unsigned char)t[q + 2]) >= 0)
		q += 2;
	else if (q + 2 < to && t[q] == '\\' && (t[q + 1] | 0x20) == 'x')
		q += 2;
	else if (q + 1 < to && t[q] == '%')
		q++;
	d = q;
	while (q < to && hexval((unsigned char)t[q]) >= 0)
		q++;
	if (q - d < 2 || (q < to && (g_ascii_isalnum(t[q]) || t[q] == '_')))
		return 0;
	if ((q - d) % 2) {
		if (!first)
			return 0;
		d++;
	}
	{
		size_t base = out->len;
		guint8 *o;

		g_byte_array_set_size(out, (guint)(base + (q - d) / 2));
		o = out->data + base;
		for (size_t i = d; i < q; i += 2) {
			*o++ = (guint8)(hexval((unsigned char)t[i]) << 4 | hexval((unsigned char)t[i + 1]));
			*letters += (t[i] > '9') + (t[i + 1] > '9');
		}
	}
	return q;
}

/* At the start of a line: a hex dump offset ("00000010:" or "00000010 "
 * followed by two hex digits) to skip. Returns the first item, or p. */
static size_t dump_offset(const char *t, size_t p, size_t to)
{
	size_t q = p;

	while (q < to && hexval((unsigned char)t[q]) >= 0 && q - p < 16)
		q++;
	if (q - p < 4 || q >= to || (t[q] != ':' && t[q] != ' ' && t[q] != '\t'))
		return p;
	q++;
	while (q < to && (t[q] == ' ' || t[q] == '\t'))
		q++;
	return q + 1 < to && hexval((unsigned char)t[q]) >= 0 && hexval((unsigned char)t[q + 1]) >= 0
		       ? q : p;
}

/* Between hex items: spaces and the punctuation of dumps, C/JS arrays and
 * string literals ("\x4d" "\x5a", {0x4d, 0x5a}), and '=' (quoted-
 * printable with every byte escaped, "=4D=5A=90=", soft line breaks). */
static bool hex_sep(char c)
{
	return hsep[(unsigned char)c];
}

struct hexrun {
	GByteArray *d;
	size_t segs[4096], nsegs, letters, digits;
	bool dump;
};

/* Extend a hex run from its first item at p; returns its end. */
static size_t hex_run(const struct enc_scan *s, size_t p, size_t to, struct hexrun *h)
{
	const char *t = s->t;
	size_t end = p, q = p;
	bool first = true, newline = true;

	for (;;) {
		size_t e, before = h->d->len, gap;

		if (h->nsegs < G_N_ELEMENTS(h->segs) && (newline || h->nsegs == 1))
			h->segs[h->nsegs++] = h->d->len;
		newline = false;
		e = hex_item(t, q, to, first, h->d, &h->letters);
		if (!e)
			break;
		h->digits += (h->d->len - before) * 2;
		first = false;
		end = q = e;
		/* separators; a line break, then the next line's prefix and dump
		 * offset; in a dump, two spaces or '|' end the line's bytes. */
		gap = 0;
		while (q < to && hex_sep(t[q]))
			q++, gap++;
		if (q < to && t[q] != '\n' && (h->dump && (gap >= 2 || t[q] == '|'))) {
			const char *nl = memchr(t + q, '\n', to - q);

			if (!nl)
				break;
			q = (size_t)(nl - t);
		}
		if (q < to && t[q] == '\n') {
			size_t c = q + 1;

			while (c < to && pfx[(unsigned char)t[c]])
				c++;
			if (c >= to || t[c] == '\n')
				break;   /* a blank line ends the run */
			q = h->dump ? dump_offset(t, c, to) : c;
			while (q < to && hex_sep(t[q]))
				q++;
			newline = true;
		}
	}
	return end;
}

static void judge_hexrun(struct enc_scan *s, size_t rs, size_t re, struct hexrun *h)
{
	const char *sig = NULL;
	bool strong;
	size_t n = h->d->len;

	for (size_t k = 0; k < h->nsegs && !sig && n >= s->l->min_sig_strong; k++) {
		sig = enc_signature(h->d->data + h->segs[k], n - h->segs[k], &strong);
		if (sig && n < (strong ? s->l->min_sig_strong : s->l->min_sig_weak))
			sig = NULL;
	}
	/* By length only when it looks like bytes, not a table of numbers:
	 * a tenth of the digits are a-f (random bytes: three eighths). */
	if (!sig && (n < s->l->min_b64_file || h->letters * 10 < h->digits))
		return;
	enc_widen(s, &rs, &re);
	enc_add(s, rs, re, TZ_ENCBLK_HEX, NULL, h->d, sig ? sig : "length");
	h->d = g_byte_array_new();   /* the block owns the bytes now */
}

void enc_scan_hexruns(struct enc_scan *s, size_t from, size_t to)
{
	const char *t = s->t;
	struct hexrun *h = s->hex;   /* made on the first candidate; reset per run */
	size_t p = from;
	struct enc_line ln;

	while (p < to && enc_room(s)) {
		size_t q, rs;
		bool line_start;
		char c;

		while ((p = skip_high(t, p, to)) < to && !hstart[(unsigned char)t[p]])
			p++;
		if (p >= to)
			break;
		rs = p;
		c = t[p];
		if (p > from && (g_ascii_isalnum(t[p - 1]) || t[p - 1] == '_')) {
			p++;
			continue;
		}
		if (hexval((unsigned char)c) < 0 && c != '\\' && c != '%') {
			p++;
			continue;
		}
		if (h == NULL) {
			h = s->hex = g_new(struct hexrun, 1);
			h->d = g_byte_array_new();
		}
		g_byte_array_set_size(h->d, 0);
		h->nsegs = h->letters = h->digits = 0;
		h->dump = false;
		q = p;
		/* only a prefix before it on its line: a dump may start here */
		for (line_start = true, q = p; q > from && t[q - 1] != '\n'; q--)
			if (!pfx[(unsigned char)t[q - 1]]) {
				line_start = false;
				break;
			}
		line_start &= q > 0 ? t[q - 1] == '\n' : true;
		q = p;
		if (line_start) {
			enc_line_at(t, to, p, &ln);
			if ((q = dump_offset(t, p, ln.cend)) != p)
				h->dump = true;
		}
		q = hex_run(s, q, to, h);
		if (h->d->len >= MIN(s->l->min_sig_strong, s->l->min_b64_file))
			judge_hexrun(s, rs, q, h);
		/* resume after the run, or after the word that was not one */
		if (q <= p) {
			q = p + 1;
			while (q < to && (g_ascii_isalnum(t[q]) || t[q] == '_'))
				q++;
		}
		p = q;
	}
}

void enc_scratch_free(struct enc_scan *s)
{
	if (s->run != NULL) {
		g_string_free(s->run->chars, TRUE);
		g_free(s->run);
		s->run = NULL;
	}
	if (s->hex != NULL) {
		g_byte_array_unref(s->hex->d);
		g_free(s->hex);
		s->hex = NULL;
	}
}

/* ---- ASCII85 (Adobe framing) ------------------------------------------- */

/* "<~" ASCII85 characters (!..u, z, line breaks and their
 * prefix) "~>": Python's a85decode, PostScript and CyberChef read it.
 * Without the closing "~>" the block ends where the characters do. Five
 * characters or more. */
static size_t try_a85(struct enc_scan *s, size_t p, size_t to)
{
	const char *t = s->t;
	size_t q = p + 2, n = 0, stop;
	GByteArray *out;
	guint32 acc = 0;
	unsigned k = 0;

	bool bol = false;

	/* no blanks inside a line (prose after "<~" is no ASCII85), only a
	 * line's prefix */
	while (q < to) {
		unsigned char c = (unsigned char)t[q];

		if (c == '~')
			break;
		if (c == '\n')
			bol = true;
		else if (bol && pfx[c])
			;
		else if ((c >= '!' && c <= 'u') || c == 'z')
			n++, bol = false;
		else
			break;
		q++;
	}
	if (n < 5)
		return 0;
	stop = q + 1 < to && t[q] == '~' && t[q + 1] == '>' ? q + 2 : q;
	out = g_byte_array_new();
	for (size_t i = p + 2; i < q; i++) {
		unsigned char c = (unsigned char)t[i];

		if (c == 'z' && k == 0) {
			g_byte_array_append(out, (const guint8 *)"\0\0\0\0", 4);
			continue;
		}
		if (c < '!' || c > 'u')
			continue;
		acc = acc * 85 + (guint32)(c - '!');
		if (++k == 5) {
			guint8 b[4] = { (guint8)(acc >> 24), (guint8)(acc >> 16), (guint8)(acc >> 8),
					(guint8)acc };

			g_byte_array_append(out, b, 4);
			acc = 0;
			k = 0;
		}
	}
	if (k > 1) {   /* a last partial group, padded with 'u' */
		unsigned got = k - 1;

		while (k < 5) {
			acc = acc * 85 + 84;
			k++;
		}
		for (unsigned j = 0; j < got; j++) {
			guint8 b = (guint8)(acc >> (24 - 8 * j));

			g_byte_array_append(out, &b, 1);
		}
	}
	enc_add(s, p, stop, TZ_ENCBLK_ASCII85, NULL, out, "ASCII85");
	return stop;
}

void enc_scan_a85(struct enc_scan *s, size_t from, size_t to)
{
	for (size_t p = from; p + 2 < to && enc_room(s); p++) {
		const char *lt = memchr(s->t + p, '<', to - p - 2);
		size_t e;

		if (!lt)
			break;
		p = (size_t)(lt - s->t);
		if (s->t[p + 1] == '~' && (e = try_a85(s, p, to)) > p)
			p = e - 1;
	}
}
