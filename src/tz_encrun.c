/* tz_encrun.c — the encoded-file scanner's runs (see tz_encscan.h):
 * data: URLs, base64/base64url/base32 runs and hex runs (compact,
 * separated, C/percent escapes, hex dumps), the file signatures that make
 * a short run a file, and the decoders. Each scanner resumes after the run
 * it has judged, so a byte is lexed a bounded number of times. */
#include "tz_encscan_int.h"

#include <stdint.h>
#include <string.h>

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

const char *enc_signature(const unsigned char *b, size_t n, bool *strong)
{
	for (size_t i = 0; i < G_N_ELEMENTS(sigs); i++) {
		const struct sig *g = &sigs[i];

		if (n < (size_t)g->off + g->n)
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

int enc_b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

static int b32val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode the characters of s[0..n) that val() knows, `bits` bits each,
 * skipping the first `skip` of them, up to max bytes. */
static void decode_bits(const char *s, size_t n, size_t skip, int (*val)(unsigned char),
			unsigned bits, size_t max, GByteArray *out)
{
	unsigned acc = 0, have = 0;

	for (size_t i = 0; i < n && out->len < max; i++) {
		int v = val((unsigned char)s[i]);

		if (v < 0)
			continue;
		if (skip) {
			skip--;
			continue;
		}
		acc = (acc << bits | (unsigned)v) & 0xffffu;
		have += bits;
		if (have >= 8) {
			guint8 b = (guint8)(acc >> (have - 8));

			have -= 8;
			g_byte_array_append(out, &b, 1);
		}
	}
}

void enc_b64_decode(const char *t, size_t from, size_t to, size_t skip, GByteArray *out)
{
	decode_bits(t + from, to - from, skip, enc_b64val, 6, G_MAXSIZE, out);
}

/* ---- data: URLs --------------------------------------------------------- */

static bool mime_char(unsigned char c)
{
	return g_ascii_isalnum(c) || strchr("!#$&^_.+-/=\"%*~'", c);
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
	for (i = ln.c; i < ln.cend && enc_b64val((unsigned char)s->t[i]) >= 0; i++)
		;
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
 * of at most 256 characters, ','), payload to the first space or quote.
 * Returns the end of the URL, 0 when there is none at p. */
static size_t try_dataurl(struct enc_scan *s, size_t p, size_t to)
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
	for (size_t p = from; p + 5 <= to && s->blocks->len < s->l->max_blocks; p++) {
		size_t e;

		if ((s->t[p] | 0x20) != 'd' || g_ascii_strncasecmp(s->t + p, "data", 4) != 0 ||
		    (p > from && g_ascii_isalnum(s->t[p - 1])))
			continue;
		if ((e = try_dataurl(s, p, to)) > p)
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
	int (*val)(unsigned char) = b32 ? b32val : enc_b64val;
	GByteArray *head = g_byte_array_sized_new(64);
	const char *name = NULL;
	bool strong;

	for (size_t k = seg0; k < r->nsegs && !name; k++) {
		for (unsigned a = 0; a < aligns && !name; a++) {
			size_t o = r->segs[k], n = MIN(r->chars->len - o, 96);
			size_t declen = (r->chars->len - o - a) * bits / 8;

			g_byte_array_set_size(head, 0);
			decode_bits(r->chars->str + o, n, a, val, bits, 64, head);
			name = enc_signature(head->data, head->len, &strong);
			if (name && declen < (strong ? s->l->min_sig_strong : s->l->min_sig_weak))
				name = NULL;
			*seg = k;
			*align = a;
		}
	}
	g_byte_array_unref(head);
	return name;
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
	 * prose ("see below" + the encoded lines): not part of the file. */
	if (r->nsegs >= 2 && r->segs[1] - r->segs[0] < (r->nsegs > 2 ? r->segs[2] : n) - r->segs[1])
		seg0 = 1;
	if (r->all_b32 && (sig = run_signature(s, r, true, seg0, &seg, &align)))
		b32 = true;
	else if (!(sig = run_signature(s, r, false, seg0, &seg, &align))) {
		seg = seg0;
		align = 0;
		n -= r->segs[seg0];
		if (r->all_b32 && n * 5 / 8 >= s->l->min_b64_file)
			b32 = true;
		else if (n * 3 / 4 < s->l->min_b64_file)
			return;
	}
	/* Start at the signature's line unless the lines before it are long
	 * enough to be a file of their own. */
	if (seg > 0 && (seg == seg0 || (r->segs[seg] - r->segs[seg0]) * 3 / 4 < s->l->min_b64_file))
		rs = r->segpos[seg];
	o = r->segs[seg];
	n = r->chars->len - o;
	d = g_byte_array_sized_new((guint)(n * 3 / 4 + 3));
	decode_bits(r->chars->str + o, n, align, b32 ? b32val : enc_b64val, b32 ? 5 : 6, G_MAXSIZE, d);
	enc_widen(s, &rs, &re);
	enc_add(s, rs, re, b32 ? TZ_ENCBLK_BASE32 : TZ_ENCBLK_BASE64, NULL, d, sig ? sig : "length");
}

/* A run starts at a base64 character that does not follow one; it is the
 * token, its '=' padding, and the lines that continue it (one token each,
 * see b64_continuation). */
void enc_scan_b64runs(struct enc_scan *s, size_t from, size_t to)
{
	const char *t = s->t;
	struct run *r = g_new0(struct run, 1);
	size_t p = from;

	r->chars = g_string_new(NULL);
	while (p < to && s->blocks->len < s->l->max_blocks) {
		size_t rs = p, q;

		if (enc_b64val((unsigned char)t[p]) < 0) {
			p++;
			continue;
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
			while (q < to && enc_b64val((unsigned char)t[q]) >= 0) {
				unsigned char c = (unsigned char)t[q++];

				g_string_append_c(r->chars, (char)c);
				r->alnum += g_ascii_isalnum(c) != 0;
				r->all_hex &= hexval(c) >= 0;
				r->all_b32 &= b32val(c) >= 0;
			}
			for (int k = 0; k < 6 && q < to && t[q] == '='; k++) {
				q++;
				pad = true;
			}
			if (pad)
				break;
			e = q;
			while (e < to && (t[e] == ' ' || t[e] == '\t' || t[e] == '\r'))
				e++;
			if (e >= to || t[e] != '\n' || !b64_continuation(s, e, to, &pad))
				break;
			{
				struct enc_line ln;

				enc_line_at(t, to, e + 1, &ln);
				q = ln.c;
			}
		}
		judge_b64run(s, rs, q, r);
		p = q > rs ? q : rs + 1;
	}
	g_string_free(r->chars, TRUE);
	g_free(r);
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
	for (size_t i = d; i < q; i += 2) {
		guint8 b = (guint8)(hexval((unsigned char)t[i]) << 4 | hexval((unsigned char)t[i + 1]));

		*letters += !g_ascii_isdigit(t[i]) + !g_ascii_isdigit(t[i + 1]);
		g_byte_array_append(out, &b, 1);
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

static bool hex_sep(char c)
{
	return c == ' ' || c == '\t' || c == ',' || c == ';' || c == ':' || c == '-' || c == '\r';
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
			struct enc_line ln;
			size_t o;

			if (q + 1 >= to)
				break;
			enc_line_at(t, to, q + 1, &ln);
			if (ln.c == ln.cend)
				break;
			o = h->dump ? dump_offset(t, ln.c, ln.cend) : ln.c;
			q = o;
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

	for (size_t k = 0; k < h->nsegs && !sig; k++) {
		sig = enc_signature(h->d->data + h->segs[k], n - h->segs[k], &strong);
		if (sig && n < (strong ? s->l->min_sig_strong : s->l->min_sig_weak))
			sig = NULL;
	}
	/* By length only when it looks like bytes, not a table of numbers:
	 * a tenth of the digits are a-f (random bytes: three eighths). */
	if (!sig && (n < s->l->min_b64_file || h->letters * 10 < h->digits))
		return;
	enc_widen(s, &rs, &re);
	enc_add(s, rs, re, TZ_ENCBLK_HEX, NULL, g_byte_array_ref(h->d), sig ? sig : "length");
}

void enc_scan_hexruns(struct enc_scan *s, size_t from, size_t to)
{
	const char *t = s->t;
	struct hexrun *h = g_new0(struct hexrun, 1);
	size_t p = from, lc = SIZE_MAX;   /* content start of the current line */
	struct enc_line ln;

	if (from == 0 || t[from - 1] == '\n') {
		enc_line_at(t, to, from, &ln);
		lc = ln.c;
	}
	while (p < to && s->blocks->len < s->l->max_blocks) {
		size_t q, rs = p;
		bool line_start = p == lc;
		char c = t[p];

		if (c == '\n') {
			if (p + 1 < to) {
				enc_line_at(t, to, p + 1, &ln);
				lc = ln.c;
			}
			p++;
			continue;
		}

		if (p > from && (g_ascii_isalnum(t[p - 1]) || t[p - 1] == '_')) {
			p++;
			continue;
		}
		if (hexval((unsigned char)c) < 0 && c != '\\' && c != '%') {
			p++;
			continue;
		}
		h->d = g_byte_array_new();
		h->nsegs = h->letters = h->digits = 0;
		h->dump = false;
		q = p;
		if (line_start) {
			enc_line_at(t, to, p, &ln);
			if ((q = dump_offset(t, p, ln.cend)) != p)
				h->dump = true;
		}
		q = hex_run(s, q, to, h);
		if (h->d->len)
			judge_hexrun(s, rs, q, h);
		g_byte_array_unref(h->d);
		/* resume after the run, or after the word that was not one */
		if (q <= p) {
			q = p + 1;
			while (q < to && (g_ascii_isalnum(t[q]) || t[q] == '_'))
				q++;
		}
		for (size_t i = q; i > p + 1; i--)
			if (t[i - 1] == '\n') {
				enc_line_at(t, to, i, &ln);
				lc = ln.c;
				break;
			}
		p = q;
	}
	g_free(h);
}
