/* tz_maddr.c — address helpers and header address-list parsing.
 *
 * GMime parses address lists the way MUAs display them, but it silently
 * drops what it cannot parse (";;" between addresses loses the rest, a
 * lone "foo@" empties the list). A policy that counts addresses must not be
 * bypassed that way, so every '@' outside quoted strings and comments is
 * also found by a plain scanner, and any address GMime did not report is
 * added from there. Both read the value as a reader shows it (reader_view,
 * as_seen): an escape or an invisible character glued to an address must
 * not hide its domain from the policy while the reader sees it plainly. */
#include "tz_maddr.h"

#include <string.h>
#include <gmime/gmime.h>

#include "tz_util.h"

char *tz_maddr_norm(const char *addr)
{
	const char *s = addr ? addr : "";
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == '<')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '>'))
		n--;
	return g_ascii_strdown(s, (gssize)n);
}

char *tz_maddr_domain(const char *addr)
{
	char *norm = tz_maddr_norm(addr);
	char *at = strrchr(norm, '@');
	char *dom = NULL;
	size_t n;

	if (at == NULL || at[1] == '\0')
		goto out;
	dom = g_strdup(at + 1);
	n = strlen(dom);
	while (n > 0 && dom[n - 1] == '.')
		dom[--n] = '\0';
	if (n == 0) {
		g_free(dom);
		dom = NULL;
	}
out:
	g_free(norm);
	return dom;
}

bool tz_domain_listed(const char *domain, const GPtrArray *domains)
{
	size_t dl;

	if (domain == NULL || domains == NULL || *domain == '\0')
		return false;
	dl = strlen(domain);
	for (guint i = 0; i < domains->len; i++) {
		const char *e = g_ptr_array_index((GPtrArray *)domains, i);
		size_t el = strlen(e);
		if (e[0] == '.') {
			/* ".example.jp": example.jp itself and every subdomain */
			if ((dl == el - 1 && g_ascii_strcasecmp(domain, e + 1) == 0) ||
			    (dl > el && g_ascii_strcasecmp(domain + dl - el, e) == 0))
				return true;
		} else if (el > 0 && g_ascii_strcasecmp(domain, e) == 0) {
			return true;
		}
	}
	return false;
}

bool tz_maddr_listed(const char *addr, const GPtrArray *domains)
{
	char *d = tz_maddr_domain(addr);
	bool r = tz_domain_listed(d, domains);

	g_free(d);
	return r;
}

bool tz_maddr_matches(const char *pattern, const char *addr)
{
	char *a, *d;
	bool r;

	if (pattern == NULL || addr == NULL || *pattern == '\0')
		return false;
	if (pattern[0] == '@') {
		d = tz_maddr_domain(addr);
		r = d != NULL && g_ascii_strcasecmp(pattern + 1, d) == 0;
		g_free(d);
	} else {
		a = tz_maddr_norm(addr);
		r = g_ascii_strcasecmp(pattern, a) == 0;
		g_free(a);
	}
	return r;
}

bool tz_maddr_in_list(const char *addr, const GPtrArray *list)
{
	for (guint i = 0; list && i < list->len; i++)
		if (tz_maddr_matches(g_ptr_array_index((GPtrArray *)list, i), addr))
			return true;
	return false;
}

static void mailbox_free(gpointer p)
{
	struct tz_mailbox *m = p;

	g_free(m->name);
	g_free(m->addr);
	g_free(m);
}

/* A name or an address as a reader sees it: NFKC (full-width ＠ and
 * letters read as the ASCII they look like), without invisible characters
 * (format characters: zero-width ones, bidi controls; C0 and C1
 * controls). Bytes that are not UTF-8 are kept but controls. */
static char *as_seen(const char *s)
{
	char *n = g_utf8_validate(s, -1, NULL) ? g_utf8_normalize(s, -1, G_NORMALIZE_NFKC) : NULL;
	GString *o = g_string_new(NULL);

	if (n != NULL) {
		for (const char *p = n; *p; p = g_utf8_next_char(p)) {
			gunichar c = g_utf8_get_char(p);
			GUnicodeType t = g_unichar_type(c);
			if (t != G_UNICODE_FORMAT && t != G_UNICODE_CONTROL)
				g_string_append_unichar(o, c);
		}
		g_free(n);
	} else {
		for (const unsigned char *p = (const unsigned char *)s; *p; p++)
			if (*p >= 0x20 && *p != 0x7f)
				g_string_append_c(o, (char)*p);
	}
	return g_string_free(o, FALSE);
}

static void add_mailbox(GPtrArray *out, const char *name, const char *addr)
{
	struct tz_mailbox *m = g_new0(struct tz_mailbox, 1);

	m->name = name && *name ? as_seen(name) : NULL;
	m->addr = as_seen(addr ? addr : "");
	g_ptr_array_add(out, m);
}

/* The length of the ISO-2022-JP designation at p (ESC ...), 0 if none. */
static size_t jis_escape(const unsigned char *p)
{
	if (p[1] == '(' && p[2] != '\0' && strchr("BJI", p[2]))
		return 3;
	if (p[1] == '$' && p[2] != '\0' && strchr("@B", p[2]))
		return 3;
	if (p[1] == '$' && p[2] == '(' && p[3] != '\0' && strchr("DOQ", p[3]))
		return 4;
	return 0;
}

/* The raw value as a reader reads its characters: ISO-2022 escape
 * sequences are no characters (removed — "mayor@city.example.jp ESC ( B"
 * shows the address alone); the bytes of a two-byte (ESC $ ...) or
 * katakana (ESC ( I) run are no ASCII a reader sees (each an 'x': 宛先 is
 * "08@h" in JIS, no address); other controls are blanks, as header
 * hygiene makes them. NULL when the value has no control. */
static bool has_control(const char *raw)
{
	for (const unsigned char *p = (const unsigned char *)raw; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return true;
	return false;
}

static char *reader_view(const char *raw)
{
	const unsigned char *p;
	GString *o;
	bool other = false;   /* in a run whose bytes are not ASCII */

	if (!has_control(raw))
		return NULL;
	o = g_string_new(NULL);
	for (p = (const unsigned char *)raw; *p;) {
		if (*p == 0x1b) {
			/* the designations ISO-2022-JP uses (ESC ( B/J/I,
			 * ESC $ @/B, ESC $ ( D/O/Q); any other ESC is dropped
			 * alone, the bytes after it kept */
			size_t n = jis_escape(p);
			if (n > 0) {
				other = p[1] == '$' || p[2] == 'I';
				p += n;
			} else {
				p++;
			}
			continue;
		}
		if (*p < 0x20 || *p == 0x7f)
			g_string_append_c(o, ' ');
		else if (other && *p > 0x20 && *p < 0x7f)
			g_string_append_c(o, 'x');
		else
			g_string_append_c(o, (char)*p);
		p++;
	}
	return g_string_free(o, FALSE);
}

static void walk_list(InternetAddressList *list, GPtrArray *out, int depth)
{
	int n = list ? internet_address_list_length(list) : 0;

	for (int i = 0; i < n; i++) {
		InternetAddress *a = internet_address_list_get_address(list, i);
		if (INTERNET_ADDRESS_IS_GROUP(a)) {
			/* RFC 5322 forbids nested groups; GMime will not build
			 * deep ones, but do not recurse without bound anyway. */
			if (depth < 4)
				walk_list(internet_address_group_get_members(
					INTERNET_ADDRESS_GROUP(a)), out, depth + 1);
		} else if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
			add_mailbox(out, internet_address_get_name(a),
				    internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a)));
		}
	}
}

static bool is_delim(char c)
{
	return c == '\0' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' ||
	       c == ';' || c == '<' || c == '>' || c == ':' || c == '(' || c == ')' || c == '"';
}

/* The first ']' at or after from, or NULL. *next remembers the last answer
 * (the ']' found, or the terminating NUL): a run of '[' without ']' costs
 * one scan of the rest, not one per '['. from only moves forward. */
static const char *next_rbracket(const char *from, const char **next)
{
	if (*next == NULL || *next < from) {
		const char *r = strchr(from, ']');
		*next = r ? r : from + strlen(from);
	}
	return **next == ']' ? *next : NULL;
}

/* Every '@' outside quoted strings and comments, expanded to the token
 * around it. Returns how many such '@' there are; adds the tokens GMime
 * did not report to out. Linear in raw: each token is expanded once (its
 * further '@' are counted, not expanded again), the walk back stops at the
 * end of the previous token, and addresses already known are a hash
 * lookup — "a@a@a@..." or 30,000 addresses in one header stay cheap. */
static unsigned scan_raw(const char *raw, GPtrArray *out)
{
	GHashTable *known = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	unsigned ats = 0;
	int comment = 0;
	bool quoted = false;
	const char *qstart = NULL, *qend = NULL;  /* last quoted string */
	const char *floor = raw, *rb = NULL;

	for (guint i = 0; i < out->len; i++)
		g_hash_table_add(known, g_ascii_strdown(((struct tz_mailbox *)g_ptr_array_index(out, i))->addr, -1));
	for (const char *p = raw; *p; p++) {
		if (*p == '\\' && (quoted || comment) && p[1]) {
			p++;
		} else if (quoted) {
			quoted = *p != '"';
			if (!quoted)
				qend = p + 1;
		} else if (*p == '"' && !comment) {
			quoted = true;
			qstart = p;
		} else if (*p == '(') {
			comment++;
		} else if (*p == ')' && comment) {
			comment--;
		} else if (*p == '@' && !comment) {
			const char *b = p, *e = p + 1;
			char *tok;
			ats++;
			if (p == qend && qstart)   /* "quoted local"@domain */
				b = qstart;
			while (b > floor && !is_delim(b[-1]))
				b--;
			while (!is_delim(*e)) {
				const char *r = *e == '[' ? next_rbracket(e, &rb) : NULL;
				e = r ? r + 1 : e + 1;   /* domain literal, may hold ':' */
			}
			tok = g_ascii_strdown(b, (gssize)(e - b));
			if (!g_hash_table_contains(known, tok)) {
				char *as_is = g_strndup(b, (gsize)(e - b));
				add_mailbox(out, NULL, as_is);
				g_free(as_is);
				g_hash_table_add(known, tok);
			} else {
				g_free(tok);
			}
			for (const char *q = p + 1; q < e; q++)
				ats += *q == '@';
			floor = e;
			p = e - 1;   /* go on after the token */
		}
	}
	g_hash_table_destroy(known);
	return ats;
}


/* GMime's reading of v (its address parser leaks on a comment left open:
 * tz_header_for_gmime); none of a value costlier than the engine lets
 * through (tz_header_decode_cost: quadratic in GMime; the engine refuses
 * such a message, and scan_raw still finds every '@'). */
static InternetAddressList *parse_addresses(const char *v)
{
	if (tz_header_decode_cost(v, strlen(v)) > TZ_HEADER_DECODE_COST_MAX)
		return NULL;
	char *safe = tz_header_for_gmime(v);
	InternetAddressList *l = internet_address_list_parse(NULL, safe ? safe : v);

	g_free(safe);
	return l;
}

/* The mailboxes of one reading of a value, added to out; see
 * tz_maddr_parse for *unparsed. */
static void parse_into(const char *text, GPtrArray *out, bool *unparsed)
{
	InternetAddressList *list = parse_addresses(text);
	guint parsed_with_at = 0, before = out->len;
	unsigned ats;

	walk_list(list, out, 0);
	if (list)
		g_object_unref(list);
	for (guint i = before; i < out->len; i++)
		if (strchr(((struct tz_mailbox *)g_ptr_array_index(out, i))->addr, '@'))
			parsed_with_at++;
	before = out->len;
	ats = scan_raw(text, out);
	if (unparsed)
		*unparsed = out->len > before || ats > parsed_with_at;
}

static size_t count_at(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '@';
	return n;
}

GPtrArray *tz_maddr_parse(const char *raw, bool *unparsed)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(mailbox_free);
	char *view;

	if (unparsed)
		*unparsed = false;
	if (raw == NULL)
		return out;
	view = reader_view(raw);
	parse_into(view ? view : raw, out, unparsed);
	/* an '@' the view took as part of an escape sequence: not an address
	 * to a reader, but the caller hears of it */
	if (view != NULL && unparsed != NULL && count_at(view) < count_at(raw))
		*unparsed = true;
	g_free(view);
	return out;
}

GPtrArray *tz_maddr_parse_any(const char *raw, guint *readers)
{
	GPtrArray *out = tz_maddr_parse(raw, NULL);
	char *l;

	if (readers != NULL)
		*readers = out->len;
	if (raw == NULL || !has_control(raw))
		return out;   /* one reading */
	/* the value read as ASCII, JIS text included, controls as blanks */
	l = g_strdup(raw);
	for (unsigned char *p = (unsigned char *)l; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
	parse_into(l, out, NULL);
	g_free(l);
	return out;
}
