/* tz_htmllink.c — URL and host analysis for the HTML renderer: classifying
 * link targets, printing them safely and spotting links whose visible text
 * names another host than the one they lead to. */
#define _GNU_SOURCE 1	/* memmem */
#include "textize.h"

#include <string.h>
#include "tz_htmllink.h"

/* Longest href we print; longer ones are cut (the warning logic still sees
 * the whole href). Real links are far shorter; this bounds output growth. */
#define LINK_DISPLAY_MAX 4096

/* Link text longer than this cannot be "one host name" worth analysing. */
#define LINK_TEXT_MAX 2048

static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_ws(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

/* Length of "scheme:" at s (scheme per RFC 3986), 0 when there is none. */
static size_t scheme_len(const char *s)
{
	size_t i = 0;

	if (!is_alpha((unsigned char)s[0]))
		return 0;
	while (is_alpha((unsigned char)s[i]) || is_digit((unsigned char)s[i]) ||
	       s[i] == '+' || s[i] == '-' || s[i] == '.')
		i++;
	return s[i] == ':' ? i + 1 : 0;
}

static int scheme_is(const char *s, size_t n, const char *name)
{
	return n == strlen(name) + 1 && g_ascii_strncasecmp(s, name, n - 1) == 0;
}

/* Browsers ignore leading whitespace/controls and embedded TAB/CR/LF in a
 * URL, so "java\tscript:" is javascript: — look at it the same way. */
static char *strip_url_ws(const char *href, size_t max)
{
	GString *s = g_string_sized_new(64);
	const unsigned char *p = (const unsigned char *)href;

	while (*p && *p <= 0x20)
		p++;
	for (; *p && s->len < max; p++)
		if (*p != '\t' && *p != '\n' && *p != '\r')
			g_string_append_c(s, (char)*p);
	while (s->len && (unsigned char)s->str[s->len - 1] <= 0x20)
		g_string_truncate(s, s->len - 1);
	return g_string_free(s, FALSE);
}

enum tz_link_kind tz_link_classify(const char *href)
{
	char *u = strip_url_ws(href, 64);
	size_t n = scheme_len(u);
	enum tz_link_kind k;

	if (n == 0)
		k = TZ_LINK_NONE;
	else if (scheme_is(u, n, "javascript") || scheme_is(u, n, "vbscript") ||
		 scheme_is(u, n, "livescript") || scheme_is(u, n, "data"))
		k = TZ_LINK_ACTIVE;
	else if (scheme_is(u, n, "http") || scheme_is(u, n, "https") ||
		 scheme_is(u, n, "ftp") || scheme_is(u, n, "mailto") ||
		 scheme_is(u, n, "tel"))
		k = TZ_LINK_WEB;
	else
		k = TZ_LINK_OTHER;
	g_free(u);
	return k;
}

/* Characters that must not appear raw in a printed URL: they could end the
 * <...>, hide part of it (bidi overrides, zero-width) or break the line. */
static int must_escape(gunichar c)
{
	return c <= 0x20 || c == 0x7f || c == '<' || c == '>' ||
	       (c >= 0x80 && c <= 0xa0) || c == 0xad ||
	       (c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2060 && c <= 0x2069) || c == 0xfeff;
}

char *tz_link_display(const char *href)
{
	char *u = strip_url_ws(href, LINK_DISPLAY_MAX + 8);
	GString *s = g_string_sized_new(strlen(u) + 8);
	const char *p = u;

	while (*p && s->len < LINK_DISPLAY_MAX) {
		const char *next = g_utf8_find_next_char(p, NULL);
		gunichar c = g_utf8_get_char_validated(p, -1);
		size_t n = (size_t)(next - p);

		if (c == (gunichar)-1 || c == (gunichar)-2 || must_escape(c)) {
			for (size_t i = 0; i < n && p[i]; i++)
				g_string_append_printf(s, "%%%02X", (unsigned char)p[i]);
		} else {
			g_string_append_len(s, p, (gssize)n);
		}
		p = next;
	}
	if (*p)
		g_string_append(s, "...");
	g_free(u);
	return g_string_free(s, FALSE);
}

/* Decode %XX escapes (browsers decode them in host names). */
static void percent_decode(GString *s)
{
	size_t o = 0;

	for (size_t i = 0; i < s->len; i++) {
		if (s->str[i] == '%' && i + 2 < s->len + 0 &&
		    g_ascii_isxdigit(s->str[i + 1]) && g_ascii_isxdigit(s->str[i + 2])) {
			s->str[o++] = (char)(g_ascii_xdigit_value(s->str[i + 1]) * 16 +
					     g_ascii_xdigit_value(s->str[i + 2]));
			i += 2;
		} else {
			s->str[o++] = s->str[i];
		}
	}
	g_string_truncate(s, o);
}

/* A host that ends in a number is an IPv4 address to a browser (WHATWG
 * URL): one to four parts, each decimal, octal (leading 0) or hex (0x), the
 * last filling the remaining bytes, so "3232235777", "0xc0a80101" and
 * "0300.0250.1.1" are all 192.168.1.1. Writes the dotted form into out
 * (16 bytes) and returns 1; 0 when h is not such a number. */
static int ipv4_parse(const char *h, char out[16])
{
	guint64 part[4], v = 0;
	unsigned n = 0;
	const char *p = h;

	if (*h == '\0')
		return 0;
	while (*p) {
		guint64 x = 0;
		unsigned base = 10, digits = 0;

		if (n == 4)
			return 0;
		if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
			base = 16;
			p += 2;
		} else if (p[0] == '0' && p[1] && p[1] != '.') {
			base = 8;
			p++;
		}
		for (; *p && *p != '.'; p++, digits++) {
			int d = g_ascii_xdigit_value(*p);

			if (d < 0 || (unsigned)d >= base || (base == 10 && !is_digit((unsigned char)*p)))
				return 0;
			x = x * base + (unsigned)d;
			if (x > G_MAXUINT32)
				return 0;
		}
		if (digits == 0 && base == 10)
			return 0;
		part[n++] = x;
		if (*p == '.' && *++p == '\0')
			break;	/* one trailing dot */
	}
	for (unsigned i = 0; i + 1 < n; i++) {
		if (part[i] > 255)
			return 0;
		v = v << 8 | part[i];
	}
	if (part[n - 1] >= (guint64)1 << (8 * (5 - n)))
		return 0;
	v = v << (8 * (5 - n)) | part[n - 1];
	g_snprintf(out, 16, "%u.%u.%u.%u", (unsigned)(v >> 24) & 255, (unsigned)(v >> 16) & 255,
		   (unsigned)(v >> 8) & 255, (unsigned)v & 255);
	return 1;
}

/* Canonical form of a host for comparison: lower case, no trailing dot,
 * IDN in ASCII (GLib also maps full-width letters and ideographic full
 * stops, as browsers do), so "例え.jp" and "xn--r8jz45g.jp" compare equal. */
static char *host_canon(const char *h, size_t n)
{
	GString *s = g_string_new_len(h, (gssize)n);
	char *out = NULL;

	percent_decode(s);
	if (!g_utf8_validate(s->str, (gssize)s->len, NULL))	/* "%96ww": no host a browser */
		g_string_assign(s, "");				/* would accept */
	while (s->len && s->str[s->len - 1] == '.')
		g_string_truncate(s, s->len - 1);
	if (s->len == 0 || memchr(s->str, '\0', s->len))
		goto out;
	/* IDN conversion only matters for non-ASCII hosts; ASCII (punycode
	 * included) only needs lower-casing, done below. */
	for (size_t i = 0; i < s->len; i++)
		if ((unsigned char)s->str[i] >= 0x80) {
			if (g_utf8_validate(s->str, (gssize)s->len, NULL))
				out = g_hostname_to_ascii(s->str);
			break;
		}
	if (out == NULL)
		out = g_strdup(s->str);
	for (char *p = out; *p; p++)
		*p = g_ascii_tolower(*p);
	{
		size_t l = strlen(out);
		char ip[16];

		while (l && out[l - 1] == '.')
			out[--l] = '\0';
		if (l == 0) {
			g_free(out);
			out = NULL;
		} else if (ipv4_parse(out, ip)) {
			g_free(out);
			out = g_strdup(ip);
		}
	}
out:
	g_string_free(s, TRUE);
	return out;
}

/* Host of an authority that starts at a and ends at one of / \ ? # or NUL:
 * userinfo (up to the LAST '@') and port dropped. *had_user is set when
 * there was userinfo. */
static char *authority_host(const char *a, int *had_user, const char **raw, size_t *rawlen)
{
	size_t end = strcspn(a, "/\\?#");
	const char *h = a, *at;
	size_t n;

	for (at = a; at < a + end; at++)
		if (*at == '@')
			h = at + 1;
	if (had_user)
		*had_user = h != a;
	n = (size_t)(a + end - h);
	if (n && h[0] == '[') {
		const char *rb = memchr(h, ']', n);

		n = rb ? (size_t)(rb - h + 1) : n;
	} else {
		const char *colon = memchr(h, ':', n);

		if (colon)
			n = (size_t)(colon - h);
	}
	if (raw) {
		*raw = h;
		*rawlen = n;
	}
	return n ? host_canon(h, n) : NULL;
}

static char *url_host(const char *url, int *had_user, const char **raw, size_t *rawlen)
{
	size_t n = scheme_len(url);
	const char *p = url + n;

	if (had_user)
		*had_user = 0;
	if (n && scheme_is(url, n, "mailto")) {
		size_t e = strcspn(p, "?,;");
		const char *at = NULL;

		for (const char *q = p; q < p + e; q++)
			if (*q == '@')
				at = q;
		if (!(at && at + 1 < p + e))
			return NULL;
		if (raw) {
			*raw = at + 1;
			*rawlen = (size_t)(p + e - at - 1);
		}
		return host_canon(at + 1, (size_t)(p + e - at - 1));
	}
	if (n && (scheme_is(url, n, "http") || scheme_is(url, n, "https") ||
		  scheme_is(url, n, "ftp") || scheme_is(url, n, "ws") ||
		  scheme_is(url, n, "wss"))) {
		/* Special schemes: browsers skip any mix of slashes here. */
		while (*p == '/' || *p == '\\')
			p++;
		return authority_host(p, had_user, raw, rawlen);
	}
	if (p[0] == '/' && p[1] == '/')
		return authority_host(p + 2, had_user, raw, rawlen);
	return NULL;
}

char *tz_link_url_host(const char *url)
{
	char *u = strip_url_ws(url, LINK_DISPLAY_MAX);
	char *h = url_host(u, NULL, NULL, NULL);

	g_free(u);
	return h;
}

gboolean tz_link_has_userinfo(const char *url)
{
	char *u = strip_url_ws(url, LINK_DISPLAY_MAX);
	size_t n = scheme_len(u);
	int had_user = 0;
	char *h = NULL;

	if (n && strchr(u, '@') && (scheme_is(u, n, "http") || scheme_is(u, n, "https")))
		h = url_host(u, &had_user, NULL, NULL);
	g_free(h);
	g_free(u);
	return had_user != 0;
}

/* Letters of more than one script, other than the mixes a legitimate name
 * uses (Latin with Han and kana, Latin with Han and Hangul, Latin with Han
 * and Bopomofo): "pаypal.com" with a Cyrillic "а", or an all-Cyrillic
 * "аррӏе" under ".com". h is UTF-8. */
static int mixed_scripts(const char *h)
{
	gboolean latin = FALSE, cjk = FALSE, hangul = FALSE, bopo = FALSE, kana = FALSE;
	GUnicodeScript other = G_UNICODE_SCRIPT_INVALID_CODE;

	for (const char *p = h; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		GUnicodeScript sc = g_unichar_get_script(c);

		switch (sc) {
		case G_UNICODE_SCRIPT_COMMON: case G_UNICODE_SCRIPT_INHERITED:
		case G_UNICODE_SCRIPT_UNKNOWN:
			break;
		case G_UNICODE_SCRIPT_LATIN: latin = TRUE; break;
		case G_UNICODE_SCRIPT_HAN: cjk = TRUE; break;
		case G_UNICODE_SCRIPT_HIRAGANA: case G_UNICODE_SCRIPT_KATAKANA: kana = TRUE; break;
		case G_UNICODE_SCRIPT_HANGUL: hangul = TRUE; break;
		case G_UNICODE_SCRIPT_BOPOMOFO: bopo = TRUE; break;
		default:
			if (other != G_UNICODE_SCRIPT_INVALID_CODE && other != sc)
				return 1;	/* two non-Latin scripts, e.g. Cyrillic and Greek */
			other = sc;
			break;
		}
	}
	if (other != G_UNICODE_SCRIPT_INVALID_CODE)
		return latin || cjk || kana || hangul || bopo;
	return (kana && (hangul || bopo)) || (hangul && bopo);
}

/* A host written so that it reads as something else: percent-escapes,
 * full-width letters or ideographic dots, an IPv4 address as one number or
 * in hex/octal parts, scripts mixed. */
static int host_disguised(const char *raw, size_t n, const char *canon)
{
	char ip[16];
	int disguised = memchr(raw, '%', n) != NULL;

	for (const char *p = raw; !disguised && p < raw + n; p++) {
		gunichar c;

		if ((unsigned char)*p < 0x80)
			continue;
		c = g_utf8_get_char_validated(p, (gssize)(raw + n - p));
		if (c == (gunichar)-1 || c == (gunichar)-2 || (c >= 0xff01 && c <= 0xff5e) ||
		    c == 0x3002 || c == 0xff0e || c == 0xff61)
			disguised = 1;
		else
			p = g_utf8_next_char(p) - 1;
	}
	if (!disguised && ipv4_parse(canon, ip)) {
		char *w = g_ascii_strdown(raw, (gssize)n);
		size_t l = strlen(w);

		while (l && w[l - 1] == '.')
			w[--l] = '\0';
		disguised = strcmp(w, ip) != 0;
		g_free(w);
	}
	if (!disguised && strstr(canon, "xn--")) {
		char *u = g_hostname_to_unicode(canon);

		disguised = u && mixed_scripts(u);
		g_free(u);
	}
	return disguised;
}

char *tz_link_host_disguised(const char *url)
{
	char *u = strip_url_ws(url, LINK_DISPLAY_MAX);
	const char *raw = NULL;
	size_t rawlen = 0;
	char *h = url_host(u, NULL, &raw, &rawlen);

	if (h == NULL && raw && rawlen && memchr(raw, '%', rawlen))
		h = g_strndup(raw, rawlen);	/* escapes that decode to no host at all */
	else if (h && raw && !host_disguised(raw, rawlen, h)) {
		g_free(h);
		h = NULL;
	}
	g_free(u);
	if (h) {	/* printed: only what a host name may hold, the rest as %XX */
		GString *o = g_string_new(NULL);

		for (const unsigned char *p = (const unsigned char *)h; *p; p++)
			if (g_ascii_isalnum(*p) || strchr(".-_:[]%", *p))
				g_string_append_c(o, (char)*p);
			else
				g_string_append_printf(o, "%%%02X", *p);
		g_free(h);
		h = g_string_free(o, FALSE);
	}
	return h;
}

char *tz_link_scheme(const char *href)
{
	char *u = strip_url_ws(href, 64);
	size_t n = scheme_len(u);
	char *s = n > 1 && n <= 33 ? g_ascii_strdown(u, (gssize)n - 1) : NULL;

	g_free(u);
	return s;
}

/* Remove brackets, quotes and trailing punctuation around a URL in text:
 * "(bank.co.jp)", 「https://bank.co.jp/」, "bank.co.jp." */
static void strip_wrapping(GString *s)
{
	static const char *const lead[] = {
		" ", "<", "(", "[", "\"", "'", "「", "『", "【", "〈", "《", "“", "‘",
	};
	static const char *const trail[] = {
		" ", ">", ")", "]", "\"", "'", ".", ",", ";", ":", "!", "?", "」", "』",
		"】", "〉", "》", "”", "’", "。", "、",
	};
	int again = 1;

	while (again) {
		again = 0;
		for (size_t i = 0; i < G_N_ELEMENTS(lead); i++)
			if (g_str_has_prefix(s->str, lead[i])) {
				g_string_erase(s, 0, (gssize)strlen(lead[i]));
				again = 1;
			}
		for (size_t i = 0; i < G_N_ELEMENTS(trail); i++)
			if (s->len && g_str_has_suffix(s->str, trail[i])) {
				g_string_truncate(s, s->len - strlen(trail[i]));
				again = 1;
			}
	}
}

/* Visible text in the form used for analysis: NFKC (full-width letters and
 * dots become ASCII), zero-width/soft-hyphen characters removed, trimmed of
 * whitespace, brackets and trailing punctuation. */
static char *text_norm(const char *text, size_t len)
{
	char *nf = g_utf8_normalize(text, (gssize)len, G_NORMALIZE_NFKC);
	GString *s;
	const char *p;

	if (nf == NULL)
		return NULL;
	s = g_string_sized_new(strlen(nf));
	for (p = nf; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (c == 0xad || (c >= 0x200b && c <= 0x200f) ||
		    (c >= 0x202a && c <= 0x202e) || (c >= 0x2060 && c <= 0x2069) ||
		    c == 0xfeff)
			continue;
		if (c == 0x3002)	/* ideographic full stop acts as a dot in hosts */
			c = '.';
		g_string_append_unichar(s, g_unichar_isspace(c) ? ' ' : c);
	}
	g_free(nf);
	strip_wrapping(s);
	return g_string_free(s, FALSE);
}

/* Top-level domains that make a bare "name.tld" text count as a host name.
 * Every two-letter ASCII label counts (country codes); longer ones must be
 * listed, so that file names such as "申請書.pdf" are not taken for hosts. */
static int known_tld(const char *t, size_t n)
{
	static const char *const tlds[] = {
		"com", "net", "org", "info", "biz", "gov", "edu", "mil", "int",
		"name", "pro", "mobi", "asia", "xyz", "top", "app", "dev", "page",
		"site", "online", "shop", "store", "tech", "club", "live", "life",
		"link", "click", "email", "cloud", "website", "space", "fun",
		"tokyo", "osaka", "nagoya", "yokohama", "kyoto", "okinawa",
		"amazon", "google", "apple", "microsoft", "bank", "money",
	};

	if (n >= 4 && g_ascii_strncasecmp(t, "xn--", 4) == 0)
		return 1;
	if (n == 2)
		return is_alpha((unsigned char)t[0]) && is_alpha((unsigned char)t[1]) &&
		       g_ascii_strncasecmp(t, "js", 2) != 0 &&
		       g_ascii_strncasecmp(t, "gz", 2) != 0;
	for (size_t i = 0; i < G_N_ELEMENTS(tlds); i++)
		if (strlen(tlds[i]) == n && g_ascii_strncasecmp(t, tlds[i], n) == 0)
			return 1;
	/* A non-ASCII TLD (".みんな", ".コム") is an IDN TLD, not a file type. */
	return n > 0 && ((unsigned char)t[0] & 0x80);
}

/* True when h[0..n) is a plausible host: dot-separated labels of letters,
 * digits and '-', with a known TLD — or a dotted IPv4 address. */
static int looks_like_host(const char *h, size_t n)
{
	size_t labels = 0, digits_only = 1, lstart = 0;

	if (n == 0 || h[0] == '.' || h[n - 1] == '.')
		return 0;
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = i < n ? (unsigned char)h[i] : '.';

		if (c == '.') {
			if (i == lstart)
				return 0;
			labels++;
			if (i == n)
				break;
			lstart = i + 1;
		} else if (!(is_alpha(c) || is_digit(c) || c == '-' || c >= 0x80)) {
			return 0;
		} else if (!is_digit(c)) {
			digits_only = 0;
		}
	}
	if (labels < 2)
		return 0;
	if (digits_only)
		return labels == 4;
	return known_tld(h + lstart, n - lstart);
}

char *tz_link_text_host(const char *text, size_t len)
{
	char *t, *host = NULL;
	size_t n;

	if (len == 0 || len > LINK_TEXT_MAX)
		return NULL;
	/* Every host, URL or address has a dot or '@' (or a full-width or
	 * ideographic one): most link texts ("こちら", "詳細") are rejected
	 * without normalising them. */
	if (!memchr(text, '.', len) && !memchr(text, '@', len) &&
	    !memmem(text, len, "\xef\xbc\x8e", 3) &&	/* U+FF0E full-width full stop */
	    !memmem(text, len, "\xe3\x80\x82", 3) &&	/* U+3002 ideographic full stop */
	    !memmem(text, len, "\xef\xbd\xa1", 3) &&	/* U+FF61 half-width ideographic */
	    !memmem(text, len, "\xef\xbc\xa0", 3))	/* U+FF20 full-width @ */
		return NULL;
	if (!g_utf8_validate(text, (gssize)len, NULL))
		return NULL;
	t = text_norm(text, len);
	if (t == NULL || t[0] == '\0' || strchr(t, ' '))
		goto out;
	n = scheme_len(t);
	if (n && (strncmp(t + n, "//", 2) == 0 || scheme_is(t, n, "mailto"))) {
		host = url_host(t, NULL, NULL, NULL);
		goto out;
	}
	if (g_ascii_strncasecmp(t, "www.", 4) == 0) {
		n = strcspn(t, "/\\?#:");
		host = host_canon(t, n);
		goto out;
	}
	{
		/* Bare host ("bank.example.jp/login") or address ("info@bank.jp"). */
		const char *h = t, *at = strrchr(t, '@');

		if (at && at < t + strcspn(t, "/\\?#"))
			h = at + 1;
		n = strcspn(h, "/\\?#:");
		if (looks_like_host(h, n))
			host = host_canon(h, n);
	}
out:
	g_free(t);
	return host;
}

gboolean tz_link_hosts_match(const char *a, const char *b)
{
	size_t la, lb;

	if (g_str_has_prefix(a, "www."))
		a += 4;
	if (g_str_has_prefix(b, "www."))
		b += 4;
	la = strlen(a);
	lb = strlen(b);
	if (la == lb)
		return strcmp(a, b) == 0;
	if (la > lb)
		return a[la - lb - 1] == '.' && strcmp(a + la - lb, b) == 0;
	return b[lb - la - 1] == '.' && strcmp(b + lb - la, a) == 0;
}

/* Comparison form: trimmed, scheme ("http://", "mailto:") and one trailing
 * slash removed. */
static void url_cmp_form(const char *s, size_t n, const char **out, size_t *outlen)
{
	size_t sl;

	while (n && is_ws((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && is_ws((unsigned char)s[n - 1]))
		n--;
	sl = n > 0 ? scheme_len(s) : 0;
	if (sl && sl <= n) {
		s += sl;
		n -= sl;
		while (n && *s == '/') {
			s++;
			n--;
		}
	}
	if (n && s[n - 1] == '/')
		n--;
	*out = s;
	*outlen = n;
}

gboolean tz_link_text_is_url(const char *text, size_t len, const char *url)
{
	const char *a, *b;
	size_t la, lb;
	char *u = strip_url_ws(url, LINK_DISPLAY_MAX + 8);
	gboolean same;

	url_cmp_form(text, len, &a, &la);
	url_cmp_form(u, strlen(u), &b, &lb);
	same = la == lb && la > 0 && g_ascii_strncasecmp(a, b, la) == 0;
	g_free(u);
	return same;
}
