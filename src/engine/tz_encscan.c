/* tz_encscan.c — the encoded-file scanner (see tz_encscan.h): the driver
 * and the line-shaped blocks — uuencode as GNU sharutils' uudecode and the
 * looser decoders read it, begin-base64, BinHex 4.0, yEnc and ASCII armor.
 * Runs (base64/base32/hex, data: URLs) live in tz_encrun.c.
 *
 * Every detector walks forward from a line and the driver resumes after
 * what it consumed, so each line is read a bounded number of times. */
#include "tz_encscan_int.h"

#include <string.h>

static const char *const kind_names[TZ_ENCBLK_COUNT] = {
	"uuencode", "uu-base64", "binhex", "yenc", "armor", "base64", "base32", "hex",
	"data-url", "ascii85",
};

const char *tz_enc_kind_name(enum tz_enc_kind k)
{
	return (unsigned)k < TZ_ENCBLK_COUNT ? kind_names[k] : "unknown";
}

void tz_encscan_limits_init(struct tz_encscan_limits *l)
{
	l->min_b64_file = 1024;
	l->min_sig_strong = 16;
	l->min_sig_weak = 48;
	l->min_data_url = 1;
	l->min_uu_lines = 3;
	l->max_blocks = 10000;
}

void tz_enc_block_free(struct tz_enc_block *b)
{
	if (!b)
		return;
	g_free(b->name);
	if (b->data)
		g_byte_array_unref(b->data);
	g_free(b);
}

static bool is_prefix_char(char c)
{
	return c == ' ' || c == '\t' || c == '>' || c == '|' || c == '\r';
}

/* A shell archive (shar) writes each line of a uuencoded file behind an
 * 'X' (unpacked with sed 's/^X//'): "Xbegin 644 name", "XM" + 60, "X`",
 * "Xend", and a last data line whose length character matches its length.
 * That X is a prefix like a quote mark; prose starting with X is none of
 * these shapes. */
static bool shar_line(const char *t, size_t c, size_t e)
{
	size_t n = e - c, want;

	if (n < 2 || t[c] != 'X')
		return false;
	if ((n >= 8 && memcmp(t + c + 1, "begin ", 6) == 0) || (n == 4 && memcmp(t + c + 1, "end", 3) == 0)
	    || (n == 2 && (t[c + 1] == '`' || t[c + 1] == ' ')))
		return true;
	if (t[c + 1] < ' ' + 1 || t[c + 1] > 'M')
		return false;
	want = ((size_t)(t[c + 1] - ' ') + 2) / 3 * 4;   /* characters after the length one */
	for (size_t i = c + 2; i < e; i++)
		if (t[i] < ' ' || t[i] > '`')
			return false;
	return n - 2 >= want && n - 2 <= want + 2;
}

void enc_line_at(const char *t, size_t len, size_t off, struct enc_line *ln)
{
	const char *nl = memchr(t + off, '\n', len - off);

	ln->start = off;
	ln->end = nl ? (size_t)(nl - t) : len;
	ln->next = nl ? ln->end + 1 : len;
	ln->c = off;
	while (ln->c < ln->end && is_prefix_char(t[ln->c]))
		ln->c++;
	ln->cend = ln->end;
	while (ln->cend > ln->c && (t[ln->cend - 1] == ' ' || t[ln->cend - 1] == '\t' ||
				    t[ln->cend - 1] == '\r'))
		ln->cend--;
	if (shar_line(t, ln->c, ln->cend))
		ln->c++;
}

struct tz_enc_block *enc_add(struct enc_scan *s, size_t start, size_t stop,
			     enum tz_enc_kind kind, char *name, GByteArray *data,
			     const char *reason)
{
	struct tz_enc_block *b = g_new0(struct tz_enc_block, 1);

	b->start = start;
	b->stop = stop;
	b->kind = kind;
	b->reason = reason;
	if (name) {
		/* Names come from decoded bytes (BinHex) or the text: always
		 * hand on valid UTF-8. */
		b->name = g_utf8_make_valid(name, -1);
		g_free(name);
	}
	b->decoded = data != NULL;
	if (!data) {
		data = g_byte_array_sized_new((guint)MIN(stop - start, G_MAXUINT));
		g_byte_array_append(data, (const guint8 *)s->t + start, (guint)(stop - start));
	}
	b->data = data;
	g_ptr_array_add(s->blocks, b);
	s->nnew++;
	return b;
}

static bool starts_ci(const char *t, size_t p, size_t e, const char *lit)
{
	size_t n = strlen(lit);

	return e - p >= n && g_ascii_strncasecmp(t + p, lit, n) == 0;
}

/* ---- uuencode ---------------------------------------------------------- */

/* A begin line as sharutils reads it: sscanf "begin %o %[^\n]" (and
 * "begin-base64 %o ..."): "begin", optional whitespace, a sign, octal
 * digits, optional whitespace, a non-empty name. Case-insensitive (other
 * decoders are). */
static bool uu_begin(const char *t, const struct enc_line *ln, bool *b64, size_t *name_off)
{
	size_t p = ln->c, e = ln->cend, d;

	if (!starts_ci(t, p, e, "begin"))
		return false;
	p += 5;
	*b64 = starts_ci(t, p, e, "-base64");
	if (*b64)
		p += 7;
	while (p < e && (t[p] == ' ' || t[p] == '\t'))
		p++;
	if (p < e && (t[p] == '+' || t[p] == '-'))
		p++;
	d = p;
	while (p < e && t[p] >= '0' && t[p] <= '7')
		p++;
	if (p == d)
		return false;
	while (p < e && (t[p] == ' ' || t[p] == '\t'))
		p++;
	*name_off = p;   /* == e: no name (sharutils refuses it, others do not) */
	return true;
}

/* Characters a uuencode data line needs for n bytes (sharutils checks
 * only the characters of the last partial group). */
static size_t uu_need(size_t n)
{
	return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

/* Is [p, e) a data line? The first character gives the byte count, the
 * following characters must lie in ' '..'`'; anything after them is
 * ignored, as sharutils does. strict: all of them present; else half will
 * do (lines whose trailing spaces — zero bits — a mailer trimmed). Returns
 * the byte count, 0 for a zero-length (terminating) line, -1 when not a
 * data line. */
static int uu_data(const char *t, size_t p, size_t e, bool strict, const signed char *tab)
{
	size_t n, need, have;

	if (p >= e || tab[(unsigned char)t[p]] < 0)
		return -1;
	n = (size_t)tab[(unsigned char)t[p]];
	if (n == 0)
		return e - p <= 3 ? 0 : -1;
	need = uu_need(n);
	have = e - p - 1;
	for (size_t i = 1; i <= MIN(need, have); i++)
		if (tab[(unsigned char)t[p + i]] < 0)
			return -1;
	if (have >= need || (!strict && have * 2 >= need))
		return (int)n;
	return -1;
}

/* Where the data line in ln starts: the count character may be '>' or
 * sit after quote characters, so the candidates are the content start and
 * up to four '>' in the prefix before it. A candidate whose length matches
 * its count exactly wins ("> M..." is a quoted 45-byte line, not a
 * 30-byte one); else the first valid one. Returns the byte count as
 * uu_data, *at the start. */
static int uu_line(const char *t, const struct enc_line *ln, bool strict, size_t *at,
		   const signed char *tab)
{
	size_t e = ln->end, cand[5], nc = 0;
	int best = -1;

	while (e > ln->c && t[e - 1] == '\r')
		e--;
	cand[nc++] = ln->c;
	for (size_t p = ln->c; p > ln->start && nc < 5; p--)
		if (t[p - 1] == '>')
			cand[nc++] = p - 1;
	for (size_t i = 0; i < nc; i++) {
		int r = uu_data(t, cand[i], e, strict, tab);
		size_t have = e - cand[i] - 1;

		if (r < 0 || (r == 0 && i > 0))
			continue;
		if (r == 0 || have == uu_need((size_t)r) || have == ((size_t)r + 2) / 3 * 4) {
			*at = cand[i];
			return r;
		}
		if (best < 0) {
			best = r;
			*at = cand[i];
		}
	}
	return best;
}

static void uu_decode_line(const char *t, size_t p, size_t e, int n, const signed char *tab,
			   GByteArray *out)
{
	size_t i = p + 1;

	while (n > 0) {
		unsigned char q[4], o[3];

		for (int k = 0; k < 4; k++, i++)
			q[k] = i < e && tab[(unsigned char)t[i]] > 0 ? (unsigned char)tab[(unsigned char)t[i]] : 0;
		o[0] = (unsigned char)(q[0] << 2 | q[1] >> 4);
		o[1] = (unsigned char)(q[1] << 4 | q[2] >> 2);
		o[2] = (unsigned char)(q[2] << 6 | q[3]);
		g_byte_array_append(out, o, (guint)MIN(n, 3));
		n -= 3;
	}
}

static bool b64_line(const char *t, const struct enc_line *ln, size_t min)
{
	if (ln->cend - ln->c < min)
		return false;
	for (size_t i = ln->c; i < ln->cend; i++)
		if (enc_b64val((unsigned char)t[i]) < 0 && t[i] != '=')
			return false;
	return true;
}

static bool blank(const struct enc_line *ln)
{
	return ln->c == ln->cend;
}

/* The data lines of a uuencode (b64: begin-base64) block from the line at
 * off, decoding into out; returns where the block stops. One blank line
 * between data lines is taken in (looser decoders skip it). */
static size_t uu_body(struct enc_scan *s, size_t off, bool b64, const signed char *tab,
		      GByteArray *out)
{
	const char *t = s->t;
	size_t stop = off, at;
	struct enc_line ln;

	while (off < s->len) {
		int n;

		enc_line_at(t, s->len, off, &ln);
		if (!b64 && starts_ci(t, ln.c, ln.cend, "end") &&
		    (ln.cend == ln.c + 3 || !g_ascii_isalnum(t[ln.c + 3])))
			return ln.next;
		if (b64 && ln.cend - ln.c >= 4 && memcmp(t + ln.c, "====", 4) == 0)
			return ln.next;
		if (b64 && b64_line(t, &ln, 1)) {
			enc_b64_decode(t, ln.c, ln.cend, 0, out);
			stop = off = ln.next;
			continue;
		}
		if (!b64 && (n = uu_line(t, &ln, false, &at, tab)) >= 0) {
			stop = off = ln.next;
			if (n == 0)
				continue;   /* the zero line; "end" may follow */
			uu_decode_line(t, at, ln.end, n, tab, out);
			continue;
		}
		if (blank(&ln) && ln.next < s->len) {
			struct enc_line nx;

			enc_line_at(t, s->len, ln.next, &nx);
			if (b64 ? b64_line(t, &nx, 4) : uu_line(t, &nx, true, &at, tab) > 0) {
				off = ln.next;
				continue;
			}
		}
		break;
	}
	return stop;
}

/* A begin line followed by a well-formed data line. Returns the offset to
 * resume at (ln->next when no block). */
static size_t try_uu(struct enc_scan *s, const struct enc_line *ln)
{
	bool b64;
	size_t name_off, at, stop;
	struct enc_line nx;
	GByteArray *out;
	const signed char *tab = s->uut;

	if (!uu_begin(s->t, ln, &b64, &name_off) || ln->next >= s->len)
		return ln->next;
	enc_line_at(s->t, s->len, ln->next, &nx);
	if (blank(&nx) && nx.next < s->len)   /* one blank line after begin */
		enc_line_at(s->t, s->len, nx.next, &nx);
	/* uuencode, else xxencode (same frame, alphabet "+-0-9A-Za-z") */
	if (!b64 && uu_line(s->t, &nx, true, &at, s->uut) <= 0) {
		if (uu_line(s->t, &nx, true, &at, s->xxt) <= 0)
			return ln->next;
		tab = s->xxt;
	}
	if (b64 && !b64_line(s->t, &nx, 4))
		return ln->next;
	out = g_byte_array_new();
	stop = uu_body(s, nx.start, b64, tab, out);
	enc_add(s, ln->start, stop, b64 ? TZ_ENCBLK_UU_BASE64 : TZ_ENCBLK_UUENCODE,
		name_off < ln->cend ? g_strndup(s->t + name_off, ln->cend - name_off) : NULL, out,
		tab == s->xxt ? "begin line (xxencode)" : "begin line");
	return stop;
}

/* Full uuencode lines without a begin line ("M" and 60 characters, as
 * every encoder writes them), min_uu_lines of them in a row: decoders such
 * as uudeview take them without the header. */
static bool uu_full_line(const char *t, const struct enc_line *ln, const signed char *uut)
{
	size_t at;

	return ln->cend - ln->c >= 61 && ln->cend - ln->c <= 62 && t[ln->c] == 'M' &&
	       uu_line(t, ln, true, &at, uut) == 45;
}

static size_t try_uu_headerless(struct enc_scan *s, const struct enc_line *ln)
{
	size_t off = ln->start, count = 0, stop;
	struct enc_line cur;
	GByteArray *out;

	if (!uu_full_line(s->t, ln, s->uut))
		return ln->next;
	while (off < s->len) {
		enc_line_at(s->t, s->len, off, &cur);
		if (!uu_full_line(s->t, &cur, s->uut))
			break;
		count++;
		off = cur.next;
	}
	if (count < s->l->min_uu_lines)
		return off;   /* these lines are not a block: none starts one */
	out = g_byte_array_new();
	stop = uu_body(s, ln->start, false, s->uut, out);
	enc_add(s, ln->start, stop, TZ_ENCBLK_UUENCODE, NULL, out, "uuencode lines");
	return stop;
}

static void uu_tables(signed char uut[256], signed char xxt[256])
{
	static const char xx[] = "+-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

	memset(uut, -1, 256);
	memset(xxt, -1, 256);
	for (int c = 32; c <= 96; c++)
		uut[c] = (signed char)((c - 32) & 63);
	for (int i = 0; xx[i]; i++)
		xxt[(unsigned char)xx[i]] = (signed char)i;
}

/* ---- BinHex 4.0 ------------------------------------------------------- */

static const char hqx_alphabet[] =
	"!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr";

static void hqx_table(signed char tab[256])
{
	memset(tab, -1, 256);
	for (int i = 0; hqx_alphabet[i]; i++)
		tab[(unsigned char)hqx_alphabet[i]] = (signed char)i;
}

static bool hqx_line(const struct enc_scan *s, const struct enc_line *ln, size_t from,
		     size_t min)
{
	size_t n = 0;

	for (size_t i = from; i < ln->cend; i++, n++)
		if (s->hqx[(unsigned char)s->t[i]] < 0)
			return s->t[i] == ':' && n >= 1;
	return n >= min;
}

/* Undo BinHex run-length coding (0x90 n: repeat the previous byte n-1
 * more times, 0x90 0: a literal 0x90), then take the header: name, data
 * fork. Returns the data fork (or everything when the header does not
 * fit) and sets *name. Output is capped at 64 times the input so a
 * hostile run length cannot inflate it beyond a bound. */
static GByteArray *hqx_finish(const GByteArray *raw, char **name)
{
	GByteArray *x = g_byte_array_new(), *fork;
	size_t cap = (size_t)raw->len * 64 + 64;
	guint8 prev = 0;

	for (guint i = 0; i < raw->len && x->len < cap; i++) {
		guint8 c = raw->data[i];

		if (c == 0x90 && i + 1 < raw->len) {
			guint8 n = raw->data[++i];

			if (n == 0) {
				g_byte_array_append(x, &c, 1);
				prev = c;
			}
			for (int k = 1; k < n; k++)
				g_byte_array_append(x, &prev, 1);
			continue;
		}
		g_byte_array_append(x, &c, 1);
		prev = c;
	}
	*name = NULL;
	if (x->len >= 1 && x->data[0] >= 1 && (size_t)x->data[0] + 22 <= x->len) {
		size_t nl = x->data[0], h = 1 + nl + 1 + 4 + 4 + 2;
		size_t dlen = (size_t)x->data[h] << 24 | (size_t)x->data[h + 1] << 16 |
			      (size_t)x->data[h + 2] << 8 | x->data[h + 3];

		*name = g_strndup((const char *)x->data + 1, nl);
		h += 4 + 4 + 2;
		if (dlen <= x->len - h) {
			fork = g_byte_array_sized_new((guint)dlen);
			g_byte_array_append(fork, x->data + h, (guint)dlen);
			g_byte_array_unref(x);
			return fork;
		}
	}
	return x;
}

/* "(This file must be converted with BinHex 4.0)" then a ':' line, or a
 * ':' line of 48+ BinHex characters without it (decoders such as StuffIt
 * do not need the header line). The block ends after the closing ':' or
 * before the first line that is not BinHex. */
static size_t try_binhex(struct enc_scan *s, const struct enc_line *ln)
{
	const char *t = s->t;
	struct enc_line cur;
	size_t start = ln->start, off = ln->start, stop, bits = 0;
	unsigned acc = 0;
	bool header = g_strstr_len(t + ln->c, (gssize)(ln->cend - ln->c),
				   "This file must be converted") != NULL, first = true;
	GByteArray *raw, *data;
	char *name = NULL;

	if (header) {
		/* The ':' line within the next three lines. */
		off = ln->next;
		for (int i = 0; i < 3 && off < s->len; i++) {
			enc_line_at(t, s->len, off, &cur);
			if (cur.c < cur.cend && t[cur.c] == ':')
				break;
			off = cur.next;
		}
		if (off >= s->len)
			return ln->next;
	}
	enc_line_at(t, s->len, off, &cur);
	if (cur.c >= cur.cend || t[cur.c] != ':' || !hqx_line(s, &cur, cur.c + 1, header ? 1 : 48))
		return ln->next;
	raw = g_byte_array_new();
	stop = cur.next;
	for (;;) {
		bool closed = false;

		for (size_t i = first ? cur.c + 1 : cur.c; i < cur.cend; i++) {
			signed char v = s->hqx[(unsigned char)t[i]];

			if (v < 0) {
				closed = true;   /* the closing ':' */
				break;
			}
			acc = acc << 6 | (unsigned)v;
			bits += 6;
			if (bits >= 8) {
				guint8 b = (guint8)(acc >> (bits - 8));

				bits -= 8;
				g_byte_array_append(raw, &b, 1);
			}
		}
		first = false;
		stop = cur.next;
		if (closed || cur.next >= s->len)
			break;
		enc_line_at(t, s->len, cur.next, &cur);
		if (blank(&cur) && cur.next < s->len)
			enc_line_at(t, s->len, cur.next, &cur);
		if (!hqx_line(s, &cur, cur.c, 1))
			break;
	}
	data = hqx_finish(raw, &name);
	g_byte_array_unref(raw);
	enc_add(s, start, stop, TZ_ENCBLK_BINHEX, name, data, header ? "BinHex header" : "BinHex lines");
	return stop;
}

/* ---- yEnc ------------------------------------------------------------- */

/* "=ybegin ..." to "=yend" (or the end of the text: yEnc data lines can
 * hold any character, so without the trailer nothing after the header is
 * text we can trust). Decoded from the text's bytes (c - 42, "=x" =
 * x - 106), which matches the sender's bytes when the part was 8-bit. */
static size_t try_yenc(struct enc_scan *s, const struct enc_line *ln)
{
	const char *t = s->t, *nm;
	struct enc_line cur;
	size_t off = ln->next, stop = s->len;
	GByteArray *out;
	char *name = NULL;

	if (!starts_ci(t, ln->c, ln->cend, "=ybegin") || ln->cend - ln->c < 8 ||
	    (t[ln->c + 7] != ' ' && t[ln->c + 7] != '\t'))
		return ln->next;
	nm = g_strstr_len(t + ln->c, (gssize)(ln->cend - ln->c), "name=");
	if (nm)
		name = g_strndup(nm + 5, (size_t)(t + ln->cend - nm - 5));
	out = g_byte_array_new();
	while (off < s->len) {
		enc_line_at(t, s->len, off, &cur);
		off = cur.next;
		if (starts_ci(t, cur.c, cur.cend, "=yend")) {
			stop = cur.next;
			break;
		}
		if (starts_ci(t, cur.c, cur.cend, "=ypart"))
			continue;
		for (size_t i = cur.start; i < cur.end; i++) {
			guint8 b = (guint8)t[i];

			if (b == '\r')
				continue;
			if (b == '=' && i + 1 < cur.end)
				b = (guint8)(t[++i] - 64);
			b = (guint8)(b - 42);
			g_byte_array_append(out, &b, 1);
		}
	}
	enc_add(s, ln->start, stop, TZ_ENCBLK_YENC, name, out, "yEnc header");
	return stop;
}

/* ---- ASCII armor ------------------------------------------------------ */

/* "-----BEGIN LABEL-----" (three or more dashes either side, any label),
 * armor headers ("Key: value"), a blank line, then base64 payload lines up
 * to "-----END ...". A BEGIN without payload lines is not a block: a PGP
 * signed message's clear text starts that way and is the reader's text
 * (its signature is an armor block of its own). */
static bool armor_begin(const char *t, const struct enc_line *ln, bool *signed_msg)
{
	size_t p = ln->c, d = 0;

	while (p < ln->cend && t[p] == '-') {
		p++;
		d++;
	}
	while (p < ln->cend && (t[p] == ' ' || t[p] == '\t'))
		p++;
	if (d < 3 || !starts_ci(t, p, ln->cend, "BEGIN"))
		return false;
	*signed_msg = g_strstr_len(t + p, (gssize)(ln->cend - p), "SIGNED MESSAGE") != NULL;
	return true;
}

static bool armor_end(const char *t, const struct enc_line *ln)
{
	size_t p = ln->c, d = 0;

	while (p < ln->cend && t[p] == '-') {
		p++;
		d++;
	}
	while (p < ln->cend && (t[p] == ' ' || t[p] == '\t'))
		p++;
	return d >= 3 && starts_ci(t, p, ln->cend, "END");
}

static bool armor_header(const char *t, const struct enc_line *ln)
{
	const char *colon = memchr(t + ln->c, ':', ln->cend - ln->c);

	return colon && colon > t + ln->c && !b64_line(t, ln, 1);
}

static size_t try_armor(struct enc_scan *s, const struct enc_line *ln)
{
	const char *t = s->t;
	struct enc_line cur;
	size_t off = ln->next, stop;
	bool signed_msg;
	GByteArray *out;

	if (!armor_begin(t, ln, &signed_msg) || signed_msg)
		return ln->next;
	/* Headers (at most 32 lines), then blank lines (at most 2). */
	for (int i = 0; i < 34 && off < s->len; i++) {
		enc_line_at(t, s->len, off, &cur);
		if (!(i < 32 && armor_header(t, &cur)) && !blank(&cur))
			break;
		off = cur.next;
	}
	if (off >= s->len)
		return ln->next;
	enc_line_at(t, s->len, off, &cur);
	if (!b64_line(t, &cur, 4))
		return ln->next;
	out = g_byte_array_new();
	stop = off;
	while (off < s->len) {
		enc_line_at(t, s->len, off, &cur);
		if (armor_end(t, &cur)) {
			stop = cur.next;
			break;
		}
		if (!b64_line(t, &cur, 1))
			break;
		if (t[cur.c] != '=')   /* "=XXXX" is the PGP checksum */
			enc_b64_decode(t, cur.c, cur.cend, 0, out);
		stop = off = cur.next;
	}
	enc_add(s, ln->start, stop, TZ_ENCBLK_ARMOR, NULL, out, "armor");
	return stop;
}

/* ---- driver ----------------------------------------------------------- */

/* The line-shaped blocks, in one pass over the lines. */
static void scan_lines(struct enc_scan *s)
{
	size_t off = 0;
	struct enc_line ln;

	while (off < s->len && enc_room(s)) {
		size_t next;

		enc_line_at(s->t, s->len, off, &ln);
		next = ln.next;
		if (ln.c < ln.cend) {
			char c = s->t[ln.c];

			if ((c == 'b' || c == 'B') && (next = try_uu(s, &ln)) != ln.next)
				;
			else if (c == '=' && (next = try_yenc(s, &ln)) != ln.next)
				;
			else if (c == '-' && (next = try_armor(s, &ln)) != ln.next)
				;
			else if ((c == ':' || c == '(' || memchr(s->t + ln.c, '(', ln.cend - ln.c)) &&
				 (next = try_binhex(s, &ln)) != ln.next)
				;
			else
				next = try_uu_headerless(s, &ln);
		}
		off = MAX(next, ln.next);
	}
}

/* Merge the blocks a pass appended (all[n0..], in order of start) into
 * the base blocks all[0..n0) (sorted; the new ones lie in their gaps, so
 * no ranges overlap); on equal starts the base block comes first. */
static void merge_tail(GPtrArray *all, guint n0)
{
	guint n = all->len, i = 0, j = n0, k = 0;
	gpointer *m = g_new(gpointer, n);

	while (i < n0 || j < n) {
		struct tz_enc_block *x = i < n0 ? all->pdata[i] : NULL;
		struct tz_enc_block *y = j < n ? all->pdata[j] : NULL;

		if (x && (!y || x->start <= y->start))
			m[k++] = all->pdata[i++];
		else
			m[k++] = all->pdata[j++];
	}
	memcpy(all->pdata, m, n * sizeof *m);
	g_free(m);
}

typedef void (*gap_fn)(struct enc_scan *s, size_t from, size_t to);

/* Run fn over every gap between the blocks found so far; the new blocks
 * are merged in. One array for the whole scan: a pass that finds nothing
 * (nearly every pass over a header field) allocates nothing. */
static void scan_gaps(struct enc_scan *s, gap_fn fn)
{
	GPtrArray *all = s->blocks;
	guint n0 = all->len;
	size_t from = 0;

	s->nnew = 0;
	for (guint i = 0; i <= n0 && enc_room(s); i++) {
		size_t to = i < n0 ? ((struct tz_enc_block *)all->pdata[i])->start : s->len;

		if (to > from)
			fn(s, from, to);
		if (i < n0)
			from = ((struct tz_enc_block *)all->pdata[i])->stop;
	}
	if (all->len > n0)
		merge_tail(all, n0);
}

/* Past max_blocks: keep the first max_blocks and let the last one run to
 * the end of the text (as raw text), so nothing after the cap is delivered
 * without having been judged. */
static void cap_blocks(struct enc_scan *s, GPtrArray *all)
{
	struct tz_enc_block *last;

	if (all->len < s->l->max_blocks || all->len == 0)
		return;
	g_ptr_array_set_size(all, (guint)s->l->max_blocks);
	last = all->pdata[all->len - 1];
	last->stop = s->len;
	g_byte_array_set_size(last->data, 0);
	g_byte_array_append(last->data, (const guint8 *)s->t + last->start,
			    (guint)(s->len - last->start));
	last->decoded = FALSE;
	last->reason = "block limit";
}

/* The BinHex, uuencode and xxencode tables, built once per process (per
 * call they were a fixed cost on every header field scanned). */
static signed char hqx_tab[256], uu_tab[256], xx_tab[256];
static GOnce tables_once = G_ONCE_INIT;

static gpointer scan_tables_init(gpointer unused)
{
	(void)unused;
	hqx_table(hqx_tab);
	uu_tables(uu_tab, xx_tab);
	return NULL;
}

GPtrArray *tz_encscan(const char *text, size_t len, const struct tz_encscan_limits *l)
{
	struct tz_encscan_limits def;
	struct enc_scan s = { .t = text, .len = len, .l = l };
	GPtrArray *all;

	if (!l) {
		tz_encscan_limits_init(&def);
		s.l = &def;
	}
	if (s.l->max_blocks == 0) {
		def = *s.l;
		def.max_blocks = 1;
		s.l = &def;
	}
	enc_tables_init();
	g_once(&tables_once, scan_tables_init, NULL);
	s.hqx = hqx_tab;
	s.uut = uu_tab;
	s.xxt = xx_tab;
	all = s.blocks = g_ptr_array_new_with_free_func((GDestroyNotify)tz_enc_block_free);
	scan_lines(&s);
	scan_gaps(&s, enc_scan_dataurls);
	scan_gaps(&s, enc_scan_a85);
	scan_gaps(&s, enc_scan_b64runs);
	scan_gaps(&s, enc_scan_hexruns);
	enc_scratch_free(&s);
	cap_blocks(&s, all);
	return all;
}
