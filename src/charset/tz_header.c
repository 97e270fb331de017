/* tz_header.c — header text as Japanese mail software writes it.
 *
 * RFC 2047 is parsed loosely, the way mail clients in Japan have to: words
 * glued to text or to each other, inside quoted strings, unterminated,
 * over-long, badly padded, Q words with spaces, and one multi-byte
 * character split over two words (the decoded bytes of adjacent words of
 * one charset are joined before conversion). Text outside encoded-words
 * may be raw Shift_JIS / EUC-JP / UTF-8 / JIS: it is detected once per
 * header. All charset work goes through tz_charset_to_utf8 so CP50221 and
 * the lying-label logic apply to headers too; GMime's own decoder is not
 * used because glibc's ISO-2022-JP rejects the CP932 extensions.
 * Parameters (RFC 2231 and the RFC 2047-inside-quotes habit) are
 * tokenised here from the raw header bytes for the same reason. */
#include "textize.h"

#include <string.h>

#include "tz_charset.h"
#include "tz_header.h"

/* A piece of a header value: raw text, or the decoded bytes of one or
 * more adjacent encoded-words of one charset. */
struct hd_seg {
	bool ew;
	char charset[48];
	GString *bytes;
};

static void hd_seg_free(gpointer p)
{
	struct hd_seg *s = p;

	g_string_free(s->bytes, TRUE);
	g_free(s);
}

/* RFC 5322 unfolding: CRLF (or bare LF/CR) followed by white space is
 * removed; a line break not followed by white space is read as a space. */
static GString *hd_unfold(const char *raw)
{
	size_t n = strlen(raw);
	GString *u = g_string_sized_new(n);
	const char *p = raw, *end = raw + n;

	/* the text between line breaks in one copy each, not byte by byte */
	while (p < end) {
		size_t k = strcspn(p, "\r\n");

		g_string_append_len(u, p, (gssize)k);
		p += k;
		if (p == end)
			break;
		while (p[1] == '\r' || p[1] == '\n')
			p++;
		if (p[1] != ' ' && p[1] != '\t')
			g_string_append_c(u, ' ');
		p++;
	}
	return u;
}

static int hd_b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+' || c == '-') return 62;  /* '-', '_': base64url from broken encoders */
	if (c == '/' || c == '_') return 63;
	return -1;
}

/* Lenient base64: junk ignored, padding optional; '=' in the middle ends
 * one padded chunk (some encoders concatenate padded chunks). */
static void hd_unbase64(const char *s, size_t n, GString *out)
{
	unsigned acc = 0, bits = 0;
	size_t k;
	int v;

	for (k = 0; k < n; k++) {
		if (s[k] == '=') {
			acc = bits = 0;
			continue;
		}
		if ((v = hd_b64val((unsigned char)s[k])) < 0)
			continue;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			g_string_append_c(out, (char)((acc >> bits) & 0xff));
		}
	}
}

/* Q encoding; also used for RFC 2231 %XX with esc '%' and no '_' rule. */
static void hd_unhex(const char *s, size_t n, char esc, bool underscore, GString *out)
{
	size_t k;

	for (k = 0; k < n; k++) {
		if (s[k] == esc && k + 2 < n &&
		    g_ascii_isxdigit(s[k + 1]) && g_ascii_isxdigit(s[k + 2])) {
			g_string_append_c(out, (char)(g_ascii_xdigit_value(s[k + 1]) * 16 +
						      g_ascii_xdigit_value(s[k + 2])));
			k += 2;
		} else if (underscore && s[k] == '_') {
			g_string_append_c(out, ' ');
		} else {
			g_string_append_c(out, s[k]);
		}
	}
}

/* Length of the "=?charset?X?" opening of an encoded-word at p, or 0. */
static size_t hd_opening(const char *p, const char *end)
{
	const char *q;

	if (end - p < 6 || p[0] != '=' || p[1] != '?')
		return 0;
	for (q = p + 2; q < end && *q != '?' && *q != ' ' && *q != '\t' && q - p < 49; q++)
		;
	if (q == p + 2 || q + 2 >= end || *q != '?' || q[2] != '?' ||
	    strchr("BbQq", q[1]) == NULL || q[1] == '\0')
		return 0;
	return (size_t)(q + 3 - p);
}

/* The next encoded-word opening at or after p, or end. */
static const char *hd_next_opening(const char *p, const char *end)
{
	for (; p + 1 < end; p++)
		if (p[0] == '=' && p[1] == '?' && hd_opening(p, end) > 0)
			return p;
	return end;
}

/* Try to read an encoded-word at p. On success fills charset and the
 * decoded bytes and returns the length consumed, else 0. */
static size_t hd_word(const char *p, const char *end, char charset[48], GString *bytes)
{
	size_t open = hd_opening(p, end), n;
	const char *text, *stop, *next, *close, *ws;
	char enc, *star;

	if (open == 0)
		return 0;
	n = open - 5;
	memcpy(charset, p + 2, n);
	charset[n] = '\0';
	if ((star = strchr(charset, '*')) != NULL)  /* RFC 2231 language suffix */
		*star = '\0';
	enc = g_ascii_toupper(p[open - 2]);
	text = p + open;
	/* The word ends at "?=", unless another word starts first: then it
	 * was unterminated and ends at white space. */
	next = hd_next_opening(text, end);
	/* not past the next opening ('?=' may end on its '='): linear time */
	close = g_strstr_len(text, (next < end ? next + 1 : end) - text, "?=");
	if (close != NULL && close < next) {
		stop = close;
	} else {
		for (ws = text; ws < next && *ws != ' ' && *ws != '\t'; ws++)
			;
		stop = ws;
		close = NULL;
	}
	if (enc == 'B')
		hd_unbase64(text, (size_t)(stop - text), bytes);
	else
		hd_unhex(text, (size_t)(stop - text), '=', true, bytes);
	return (size_t)(stop - p) + (close ? 2 : 0);
}

static struct hd_seg *hd_seg_add(GPtrArray *segs, bool ew, const char *charset)
{
	struct hd_seg *s = g_new0(struct hd_seg, 1);

	s->ew = ew;
	g_strlcpy(s->charset, charset ? charset : "", sizeof s->charset);
	s->bytes = g_string_new(NULL);
	g_ptr_array_add(segs, s);
	return s;
}

static bool hd_blank(const GString *s)
{
	size_t k;

	for (k = 0; k < s->len; k++)
		if (s->str[k] != ' ' && s->str[k] != '\t')
			return false;
	return true;
}

/* Split the unfolded value into segments, dropping white space between
 * encoded-words and joining adjacent words of one charset. */
static GPtrArray *hd_segments(const GString *u)
{
	GPtrArray *segs = g_ptr_array_new_with_free_func(hd_seg_free);
	const char *p = u->str, *end = u->str + u->len;
	struct hd_seg *last = NULL, *prev;
	char charset[48];
	GString *bytes = g_string_new(NULL);
	size_t used;

	while (p < end) {
		g_string_truncate(bytes, 0);
		used = (p + 1 < end && p[0] == '=' && p[1] == '?') ?
			hd_word(p, end, charset, bytes) : 0;
		if (used == 0) {
			if (last == NULL || last->ew)
				last = hd_seg_add(segs, false, NULL);
			g_string_append_c(last->bytes, *p++);
			continue;
		}
		p += used;
		if (last && !last->ew && hd_blank(last->bytes) && segs->len >= 2) {
			prev = g_ptr_array_index(segs, segs->len - 2);
			if (prev->ew) {
				g_ptr_array_remove_index(segs, segs->len - 1);
				last = prev;
			}
		}
		if (last == NULL || !last->ew || g_ascii_strcasecmp(last->charset, charset) != 0)
			last = hd_seg_add(segs, true, charset);
		g_string_append_len(last->bytes, bytes->str, (gssize)bytes->len);
	}
	g_string_free(bytes, TRUE);
	return segs;
}

static bool hd_has8(const GString *s)
{
	for (size_t k = 0; k < s->len; k++)
		if ((unsigned char)s->str[k] >= 0x80)
			return true;
	return false;
}

/* Printable ASCII, tabs and line breaks, and no "=?": the general path
 * would make one raw segment of it, detect "us-ascii" (no ESC, no 8-bit
 * byte) and copy it unchanged, so it decodes to itself unfolded and
 * stripped. Unfolding never joins '=' and '?' (the white space after a
 * line break stays), so checking the raw bytes is enough. Most header
 * fields (To, Date, Message-ID) are such: each took ~9 K instructions. */
static bool hd_plain(const char *raw)
{
	for (const unsigned char *p = (const unsigned char *)raw; *p; p++)
		if ((*p < 0x20 && *p != '\t' && *p != '\r' && *p != '\n') || *p > 0x7e ||
		    (p[0] == '=' && p[1] == '?'))
			return false;
	return true;
}

/* One charset guess for all raw text of the header (outside encoded
 * words): short pieces alone are too little for detection. */
static const char *hd_raw_charset(const GPtrArray *segs)
{
	GString *rawtext = g_string_new(NULL);
	const char *cs;

	for (size_t k = 0; k < segs->len; k++) {
		const struct hd_seg *s = g_ptr_array_index(segs, k);
		if (!s->ew)
			g_string_append_len(rawtext, s->bytes->str, (gssize)s->bytes->len);
	}
	/* Raw 8-bit text that is valid UTF-8 is UTF-8 (RFC 6532): a few
	 * characters are too little for detection, which reads 「請求書」 as
	 * CP932 「隲区ｱよ嶌」, and Shift_JIS or EUC-JP text is almost never
	 * valid UTF-8 (their lead bytes are UTF-8 continuation bytes). */
	cs = hd_has8(rawtext) && g_utf8_validate(rawtext->str, (gssize)rawtext->len, NULL) ?
		"utf-8" : tz_charset_detect(rawtext->str, rawtext->len);
	g_string_free(rawtext, TRUE);
	return cs;
}

char *tz_header_decode(const char *raw)
{
	GString *u, *out;
	GPtrArray *segs;
	struct hd_seg *s;
	const char *rawcs = NULL;
	size_t k;
	char *r;

	if (raw == NULL)
		return g_strdup("");
	u = hd_unfold(raw);
	if (hd_plain(raw))
		return g_strstrip(g_string_free(u, FALSE));
	segs = hd_segments(u);
	rawcs = hd_raw_charset(segs);
	out = g_string_sized_new(u->len + 16);
	for (k = 0; k < segs->len; k++) {
		s = g_ptr_array_index(segs, k);
		tz_charset_to_utf8(s->ew ? s->charset : rawcs, s->bytes->str, s->bytes->len,
				   out, NULL);
	}
	/* A decoded word may carry CR/LF: never let it reach a header. */
	for (k = 0; k < out->len; k++)
		if (out->str[k] == '\r' || out->str[k] == '\n')
			out->str[k] = ' ';
	r = g_strstrip(g_string_free(out, FALSE));
	g_string_free(u, TRUE);
	g_ptr_array_free(segs, TRUE);
	return r;
}

char *tz_header_raw_utf8(const char *raw)
{
	GString *u, *out;
	GPtrArray *segs;
	const char *rawcs, *p, *end;
	size_t k;

	if (raw == NULL)
		return g_strdup("");
	u = hd_unfold(raw);
	if (hd_plain(raw))
		return g_strstrip(g_string_free(u, FALSE));
	segs = hd_segments(u);
	rawcs = hd_raw_charset(segs);
	g_ptr_array_free(segs, TRUE);
	/* Each stretch between encoded words converted on its own (a JIS
	 * stretch starts in ASCII, as its escapes assume); the words are
	 * ASCII and are copied as they stand. */
	out = g_string_sized_new(u->len + 16);
	for (p = u->str, end = u->str + u->len; p < end;) {
		const char *w = hd_next_opening(p, end);
		char charset[48];
		GString *scratch;
		size_t used;

		tz_charset_to_utf8(rawcs, p, (size_t)(w - p), out, NULL);
		if (w == end)
			break;
		scratch = g_string_new(NULL);
		used = hd_word(w, end, charset, scratch);
		g_string_free(scratch, TRUE);
		for (k = 0; k < used && (unsigned char)w[k] < 0x80; k++)
			;
		if (k < used)   /* 8-bit bytes inside a word: text like the rest */
			tz_charset_to_utf8(rawcs, w, used, out, NULL);
		else
			g_string_append_len(out, w, (gssize)used);
		p = w + used;
	}
	for (k = 0; k < out->len; k++)
		if (out->str[k] == '\r' || out->str[k] == '\n')
			out->str[k] = ' ';
	g_string_free(u, TRUE);
	return g_strstrip(g_string_free(out, FALSE));
}

/* ---- parameters -------------------------------------------------------- */

struct hd_param {
	char name[64];   /* lower case */
	GString *value;  /* raw bytes, quotes removed */
};

static void hd_param_free(gpointer p)
{
	struct hd_param *pa = p;

	g_string_free(pa->value, TRUE);
	g_free(pa);
}

/* A quoted-string value starting after the opening quote; returns the
 * position after the closing quote (or end when it is missing). A
 * backslash after a byte >= 0x81 is the second byte of a Shift_JIS
 * character (表 = 95 5C), not an escape. */
static const char *hd_quoted(const char *p, const char *end, GString *v)
{
	for (; p < end && *p != '"'; p++) {
		if (*p == '\\' && p + 1 < end &&
		    (v->len == 0 || (unsigned char)v->str[v->len - 1] < 0x81))
			p++;
		g_string_append_c(v, *p);
	}
	return p < end ? p + 1 : p;
}

/* Parameters of a Content-Type / Content-Disposition value (the leading
 * type token is skipped). Loose: unquoted values run to ';'. */
static GPtrArray *hd_params(const char *raw)
{
	GPtrArray *ps = g_ptr_array_new_with_free_func(hd_param_free);
	GString *u = hd_unfold(raw);
	const char *p = u->str, *end = u->str + u->len, *n0, *n1;
	struct hd_param *pa;

	p = memchr(p, ';', (size_t)(end - p));
	while (p != NULL && p < end) {
		while (p < end && (*p == ';' || *p == ' ' || *p == '\t'))
			p++;
		for (n0 = p; p < end && *p != '=' && *p != ';'; p++)
			;
		if (p >= end || *p == ';')
			continue;
		for (n1 = p; n1 > n0 && (n1[-1] == ' ' || n1[-1] == '\t'); n1--)
			;
		pa = g_new0(struct hd_param, 1);
		pa->value = g_string_new(NULL);
		g_strlcpy(pa->name, n0, MIN(sizeof pa->name, (size_t)(n1 - n0) + 1));
		for (char *c = pa->name; *c; c++)
			*c = g_ascii_tolower(*c);
		g_ptr_array_add(ps, pa);
		for (p++; p < end && (*p == ' ' || *p == '\t'); p++)
			;
		if (p < end && *p == '"') {
			p = hd_quoted(p + 1, end, pa->value);
			while (p < end && *p != ';')
				p++;
		} else {
			for (n0 = p; p < end && *p != ';'; p++)
				;
			for (n1 = p; n1 > n0 && (n1[-1] == ' ' || n1[-1] == '\t'); n1--)
				;
			g_string_append_len(pa->value, n0, n1 - n0);
		}
	}
	g_string_free(u, TRUE);
	return ps;
}

/* RFC 2231 extended value "charset'lang'%XX..." (the prefix only when
 * first): percent-decoded bytes appended, charset copied out. */
static void hd_ext_value(const GString *v, bool first, char charset[48], GString *bytes)
{
	const char *q1, *q2, *s = v->str;
	size_t n = v->len;

	if (first && (q1 = memchr(s, '\'', n)) != NULL &&
	    (q2 = memchr(q1 + 1, '\'', n - (size_t)(q1 + 1 - s))) != NULL) {
		g_strlcpy(charset, s, MIN((size_t)48, (size_t)(q1 - s) + 1));
		n -= (size_t)(q2 + 1 - s);
		s = q2 + 1;
	}
	hd_unhex(s, n, '%', false, bytes);
}

/* Value of parameter key: RFC 2231 (key*, key*0*, key*1 ...) first, then
 * the plain key=, whose text may hold RFC 2047 words or raw 8-bit bytes.
 * NULL when absent. */
static char *hd_param_get(GPtrArray *ps, const char *key)
{
	size_t klen = strlen(key), k;
	GString *bytes = g_string_new(NULL), *out;
	char charset[48] = "", *plain = NULL, *endp;
	bool ext = false;
	unsigned long idx, want;
	struct hd_param *pa;

	/* Continuations in index order; at most 1000 (bounded work). */
	for (want = 0; want < 1000; want++) {
		for (k = 0; k < ps->len; k++) {
			pa = g_ptr_array_index(ps, k);
			if (strncmp(pa->name, key, klen) != 0 || pa->name[klen] != '*')
				continue;
			if (pa->name[klen + 1] == '\0' && want == 0)
				break;  /* key*= : a single extended value */
			idx = strtoul(pa->name + klen + 1, &endp, 10);
			if (endp != pa->name + klen + 1 && idx == want &&
			    (*endp == '\0' || (endp[0] == '*' && endp[1] == '\0')))
				break;
		}
		if (k == ps->len)
			break;
		pa = g_ptr_array_index(ps, k);
		if (pa->name[strlen(pa->name) - 1] == '*') {
			hd_ext_value(pa->value, want == 0, charset, bytes);
			ext = true;
		} else {
			g_string_append_len(bytes, pa->value->str, (gssize)pa->value->len);
		}
		if (pa->name[klen + 1] == '\0')
			break;
	}
	if (want > 0 || bytes->len > 0) {
		if (ext) {
			out = g_string_new(NULL);
			tz_charset_to_utf8(charset[0] ? charset : NULL, bytes->str, bytes->len,
					   out, NULL);
			plain = g_string_free(out, FALSE);
		} else {
			plain = tz_header_decode(bytes->str);
		}
	}
	for (k = 0; plain == NULL && k < ps->len; k++) {
		pa = g_ptr_array_index(ps, k);
		if (strcmp(pa->name, key) == 0)
			plain = tz_header_decode(pa->value->str);
	}
	g_string_free(bytes, TRUE);
	return plain;
}

static char *hd_part_param(GMimeObject *part, const char *header, const char *key)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(part);
	GMimeHeader *h = hl ? g_mime_header_list_get_header(hl, header) : NULL;
	const char *raw;
	GPtrArray *ps;
	char *v;

	if (h == NULL)
		return NULL;
	raw = g_mime_header_get_raw_value(h);
	if (raw == NULL)
		raw = g_mime_header_get_value(h);
	if (raw == NULL)
		return NULL;
	ps = hd_params(raw);
	v = hd_param_get(ps, key);
	g_ptr_array_free(ps, TRUE);
	return v;
}

char *tz_header_part_filename_decoded(GMimeObject *part)
{
	char *name, *nfc;

	if (part == NULL)
		return NULL;
	name = hd_part_param(part, "Content-Disposition", "filename");
	if (name == NULL || *name == '\0') {
		g_free(name);
		name = hd_part_param(part, "Content-Type", "name");
	}
	if (name == NULL || *name == '\0') {
		g_free(name);
		return NULL;
	}
	nfc = g_utf8_normalize(name, -1, G_NORMALIZE_NFC);
	if (nfc == NULL)
		return name;
	g_free(name);
	return nfc;
}

char *tz_header_part_filename(GMimeObject *part)
{
	char *name = tz_header_part_filename_decoded(part);
	char *safe;

	if (name == NULL)
		return NULL;
	safe = tz_header_display_safe(name);
	g_free(name);
	return safe;
}

/* ---- display safety ---------------------------------------------------- */

/* Invisible or reordering code points that can disguise a name
 * ("invoice\u202Efdp.exe" shows as "invoiceexe.pdf"). */
static bool hd_invisible(gunichar c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0x061c || (c >= 0x200b && c <= 0x200f) ||
	       (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x2069) ||
	       c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb);
}

/* Code points that must not reach a header a reader shows: they reorder
 * or break the line it is drawn on (bidi embeddings, overrides,
 * isolates and marks; line and paragraph separators) or are controls. */
static bool hd_breaks_display(gunichar c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x061c || c == 0x200e || c == 0x200f ||
	       (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

bool tz_header_breaks_display(const char *utf8)
{
	for (const char *p = utf8; p != NULL && *p;) {
		/* most of it, and a tab (folds of real mail): no decoding */
		if (((unsigned char)*p < 0x80 && (unsigned char)*p >= 0x20 && *p != 0x7f) || *p == '\t') {
			p++;
			continue;
		}
		gunichar c = g_utf8_get_char_validated(p, -1);
		if (c == (gunichar)-1 || c == (gunichar)-2 || hd_breaks_display(c))
			return true;
		p = g_utf8_next_char(p);
	}
	return false;
}

/* utf8 copied character by character through put (each valid character),
 * invalid bytes as U+FFFD; NULL reads as "". */
static char *hd_map(const char *utf8, void (*put)(GString *o, gunichar c))
{
	GString *o;
	const char *p, *e;

	if (utf8 == NULL)
		return g_strdup("");
	o = g_string_sized_new(strlen(utf8) + 16);
	for (p = utf8, e = utf8 + strlen(utf8); p < e;) {
		gunichar c = g_utf8_get_char_validated(p, e - p);
		if (c == (gunichar)-1 || c == (gunichar)-2) {
			g_string_append(o, "\xef\xbf\xbd");
			p++;
			continue;
		}
		p = g_utf8_next_char(p);
		put(o, c);
	}
	return g_string_free(o, FALSE);
}

static void hd_put_blanked(GString *o, gunichar c)
{
	if (hd_breaks_display(c))
		g_string_append_c(o, ' ');
	else
		g_string_append_unichar(o, c);
}

char *tz_header_blank_unsafe(const char *utf8)
{
	return hd_map(utf8, hd_put_blanked);
}

static void hd_put_visible(GString *o, gunichar c)
{
	if (c < 0x20)
		g_string_append_unichar(o, 0x2400 + c);  /* ␀..␟, ␊ for LF */
	else if (c == 0x7f)
		g_string_append_unichar(o, 0x2421);      /* ␡ */
	else if (c == '/')
		g_string_append_unichar(o, 0xff0f);      /* ／ */
	else if (c == '\\')
		g_string_append_unichar(o, 0xff3c);      /* ＼ */
	else if (hd_invisible(c))
		g_string_append_printf(o, "[U+%04X]", c);
	else
		g_string_append_unichar(o, c);
}

char *tz_header_display_safe(const char *utf8)
{
	return hd_map(utf8, hd_put_visible);
}
