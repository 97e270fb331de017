/* tz_hdrsafe.c — see tz_hdrsafe.h. How a field is rewritten depends on its
 * grammar: address fields are parsed and encoded by GMime (the addresses
 * stay addresses), free-text fields become RFC 2047 words of the decoded
 * text, every other field keeps its characters with controls turned into
 * blanks and bytes that are not UTF-8 into '?', refolded at blanks; a
 * field that still has a run longer than a line allows is dropped. */
#include "tz_hdrsafe.h"

#include <string.h>
#include <gmime/gmime.h>

#include "tz_engine_int.h"
#include "tz_header.h"
#include "tz_util.h"

#define LINE_MAX_OCTETS 998
#define FOLD_AT 76

/* Fields a client reads as "there is an attachment" (Outlook's paperclip,
 * TNEF pairing): the text-ized mail has none. */
static const char *const content_signals[] = {
	"X-MS-Has-Attach", "X-MS-TNEF-Correlator", "X-MS-Exchange-Organization-HasAttach", NULL,
};

static const char *const address_fields[] = {
	"From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Resent-From", "Resent-Sender",
	"Resent-To", "Resent-Cc", "Resent-Bcc", "Disposition-Notification-To",
	"Return-Receipt-To", "Errors-To", "Mail-Followup-To", "Mail-Reply-To", NULL,
};

static const char *const text_fields[] = {
	"Subject", "Comments", "Keywords", "Thread-Topic", "Organization", NULL,
};

static bool name_in(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (g_ascii_strcasecmp(name, *list) == 0)
			return true;
	return false;
}

/* Is the field as received safe to pass on unchanged? */
static bool field_clean(const char *f, size_t len)
{
	size_t line = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)f[i];
		if (ch == '\n') {
			line = 0;
			continue;
		}
		if (++line > LINE_MAX_OCTETS)
			return false;
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return false;
	}
	return g_utf8_validate(f, (gssize)len, NULL);
}

/* The value after "Name:", unfolded, NULs and controls as blanks but ESC:
 * raw ISO-2022-JP (old Japanese mailers write it unencoded) needs its
 * escapes to be decoded; what is left of them after decoding is blanked. */
static char *raw_value(const char *f, size_t len)
{
	const char *colon = memchr(f, ':', len);
	GString *s = g_string_new(NULL);
	size_t i = colon ? (size_t)(colon - f) + 1 : len;

	while (i < len && (f[i] == ' ' || f[i] == '\t'))
		i++;
	for (; i < len; i++) {
		unsigned char ch = (unsigned char)f[i];
		if (ch == '\n')
			continue;
		g_string_append_c(s, ((ch < 0x20 && ch != 0x1b) || ch == 0x7f) ? ' ' : (char)ch);
	}
	return g_string_free(s, FALSE);
}

/* Fold 7-bit text at blanks so no line exceeds FOLD_AT where a blank
 * allows; NULL when some run between blanks exceeds a line's limit. */
static char *fold(const char *v, size_t name_len)
{
	GString *s = g_string_new(NULL);
	size_t col = name_len + 2;
	const char *p = v;

	while (*p) {
		const char *q = p;
		while (*q == ' ')
			q++;
		const char *w = q;
		while (*w && *w != ' ')
			w++;
		size_t word = (size_t)(w - q);
		if (word + 1 > LINE_MAX_OCTETS - 1) {
			g_string_free(s, TRUE);
			return NULL;
		}
		if (s->len > 0 && col + 1 + word > FOLD_AT) {
			g_string_append(s, "\r\n ");
			col = 1;
		} else if (s->len > 0) {
			g_string_append_c(s, ' ');
			col++;
		}
		g_string_append_len(s, q, (gssize)word);
		col += word;
		p = w;
	}
	return g_string_free(s, FALSE);
}

/* A structured field's text (raw JIS and 8-bit text converted, encoded
 * words left: such a field has none a reader decodes) in 7 bits: controls
 * as blanks, every other character '?'. */
static char *ascii_clean(const char *raw)
{
	char *u = tz_header_raw_utf8(raw);
	GString *s = g_string_new(NULL);

	for (const char *p = u; *p; p = g_utf8_next_char(p)) {
		unsigned char ch = (unsigned char)*p;
		g_string_append_c(s, ch >= 0x80 ? '?' : (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch);
	}
	g_free(u);
	return g_string_free(s, FALSE);
}

/* Display names as a reader will show them: what would break the display
 * blanked, and "=?" broken with a full-width '＝' so that a name spelling
 * an encoded word is itself encoded and not decoded a second time. */
static void clean_names(InternetAddressList *l)
{
	for (int i = 0; i < internet_address_list_length(l); i++) {
		InternetAddress *a = internet_address_list_get_address(l, i);
		const char *name = internet_address_get_name(a);

		if (name != NULL && *name) {
			char *b = tz_header_blank_unsafe(name), **pieces = g_strsplit(b, "=?", -1);
			char *n = g_strjoinv("\xef\xbc\x9d?", pieces);

			internet_address_set_name(a, g_strstrip(n));
			internet_address_set_charset(a, "UTF-8");
			g_free(n);
			g_strfreev(pieces);
			g_free(b);
		}
		if (INTERNET_ADDRESS_IS_GROUP(a))
			clean_names(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a)));
	}
}

/* GMime writes an address's own characters as they are: whatever is not
 * 7-bit printable in the result becomes '?' (a field we rewrite is 7-bit). */
static void seven_bit(char *v)
{
	for (unsigned char *p = (unsigned char *)v; *p; p++)
		if (*p >= 0x7f || (*p < 0x20 && *p != '\r' && *p != '\n'))
			*p = '?';
}

/* The raw value as a parser that knows no charset reads it (a DMARC
 * verifier, a mail client without JIS): controls blanks, 8-bit bytes 'x';
 * ISO-2022-JP's two-byte text is ASCII to it. */
static char *literal_view(const char *raw)
{
	char *l = g_strdup(raw);

	for (unsigned char *p = (unsigned char *)l; *p; p++)
		*p = *p >= 0x80 ? 'x' : (*p < 0x20 || *p == 0x7f) ? ' ' : *p;
	return l;
}

/* GMime's reading of v (its address parser leaks on a comment left open:
 * tz_header_for_gmime); none of a value costlier than the engine lets
 * through (tz_header_decode_cost: quadratic in GMime). */
static InternetAddressList *parse_addresses(const char *v)
{
	if (tz_header_decode_cost(v, strlen(v)) > TZ_HEADER_DECODE_COST_MAX)
		return NULL;
	char *safe = tz_header_for_gmime(v);
	InternetAddressList *l = internet_address_list_parse(NULL, safe ? safe : v);

	g_free(safe);
	return l;
}

static bool addr_delim(char c)
{
	return c == '\0' || strchr(" \t,;:<>()\"[]", c) != NULL;
}

/* local@domain.tld in atext and letters-digits-hyphens: what anybody
 * would read as an address (JIS text read as ASCII rarely is one). */
static bool plausible(const char *t, size_t n)
{
	const char *at = memchr(t, '@', n), *p;
	bool dot = false;

	if (at == NULL || at == t || memchr(at + 1, '@', n - (size_t)(at - t) - 1) || at + 1 == t + n)
		return false;
	for (p = t; p < at; p++)
		if (!g_ascii_isalnum(*p) && !strchr("!#$%&'*+-/=?^_`{|}~.", *p))
			return false;
	for (p = at + 1; p < t + n; p++) {
		if (*p == '.' && (p == at + 1 || p[-1] == '.' || p + 1 == t + n))
			return false;
		dot = dot || *p == '.';
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.')
			return false;
	}
	return dot;
}

/* Every mailbox address of l (groups' members too), in order. */
static void list_addrs(InternetAddressList *l, GPtrArray *out, int depth)
{
	for (int i = 0; l != NULL && i < internet_address_list_length(l); i++) {
		InternetAddress *a = internet_address_list_get_address(l, i);
		if (INTERNET_ADDRESS_IS_MAILBOX(a))
			g_ptr_array_add(out, (gpointer)internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a)));
		else if (INTERNET_ADDRESS_IS_GROUP(a) && depth < 4)
			list_addrs(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a)), out, depth + 1);
	}
}

/* The tokens of text between address delimiters, as a set. */
static GHashTable *tokens_of(const char *text)
{
	GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (const char *p = text; *p;) {
		const char *e = p;
		while (!addr_delim(*e))
			e++;
		if (e > p)
			g_hash_table_add(t, g_strndup(p, (gsize)(e - p)));
		p = *e ? e + 1 : e;
	}
	return t;
}

/* Does addr stand in the raw text as it is, a token of its own (not a
 * piece of "boss@city.example@evil.example", not an IDNA or full-width
 * mapping)? A quoted local part spans delimiters: looked for as text. */
static bool stands_in(GHashTable *tokens, const char *text, const char *addr)
{
	size_t n = strlen(addr);

	if (strchr(addr, '"') == NULL)
		return g_hash_table_contains(tokens, addr);
	for (const char *p = n ? strstr(text, addr) : NULL; p != NULL; p = strstr(p + 1, addr))
		if ((p == text || addr_delim(p[-1])) && addr_delim(p[n]))
			return true;
	return false;
}

/* The structure is GMime's reading of the raw text (encoded words
 * decoded only where the grammar has them, inside names): a name decoded
 * first could spell addresses of its own. Raw text in another charset can
 * still read differently to a parser that knows none: JIS two-byte text is
 * ASCII to it ("ESC $ B <attacker@evil.example>( ESC ( B <boss@city...>)"
 * is attacker's address with a comment), a Shift_JIS trail byte 0x5C is a
 * backslash. When that reading (GMime's, of literal_view: comments and
 * quoted strings are no addresses to it either) has a plausible address
 * ours has not, the field keeps every address of both and no names; the
 * policy checks both readings too (tz_maddr_parse_any). Every address
 * written must stand in the raw text as it is (GMime maps full-width and
 * IDN domains, and cuts "a@b@c"), else there is no rewrite (NULL). */
static char *rewrite_addresses(const char *name, const char *raw)
{
	char *text = tz_header_raw_utf8(raw), *lit = literal_view(raw);
	InternetAddressList *l = parse_addresses(text), *ll = parse_addresses(lit), *check;
	GMimeFormatOptions *fo = g_mime_format_options_new();
	GPtrArray *ours = g_ptr_array_new(), *theirs = g_ptr_array_new(), *extra = g_ptr_array_new();
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL), *tokens = NULL;
	char *enc = NULL, *out = NULL;
	bool ok = true;

	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	list_addrs(l, ours, 0);
	list_addrs(ll, theirs, 0);
	for (guint i = 0; i < ours->len; i++)
		g_hash_table_add(seen, g_ascii_strdown(g_ptr_array_index(ours, i), -1));
	for (guint i = 0; i < theirs->len; i++) {
		const char *a = g_ptr_array_index(theirs, i);
		char *low = g_ascii_strdown(a, -1);
		if (plausible(a, strlen(a)) && !g_hash_table_contains(seen, low)) {
			g_ptr_array_add(extra, (gpointer)a);
			g_hash_table_add(seen, low);
		} else {
			g_free(low);
		}
	}
	if (l != NULL && extra->len > 0) {
		InternetAddressList *both = internet_address_list_new();
		for (guint i = 0; i < ours->len + extra->len; i++) {
			const char *a = i < ours->len ? g_ptr_array_index(ours, i) : g_ptr_array_index(extra, i - ours->len);
			InternetAddress *mb = internet_address_mailbox_new(NULL, a);
			internet_address_list_add(both, mb);   /* takes its own reference */
			g_object_unref(mb);
		}
		g_object_unref(l);
		l = both;
	}
	if (l != NULL && internet_address_list_length(l) > 0) {
		clean_names(l);
		enc = internet_address_list_to_string(l, fo, TRUE);
	}
	if (enc != NULL) {
		seven_bit(enc);
		g_ptr_array_set_size(ours, 0);
		check = parse_addresses(enc);
		list_addrs(check, ours, 0);
		tokens = tokens_of(lit);
		for (guint i = 0; i < ours->len && ok; i++)
			ok = stands_in(tokens, lit, g_ptr_array_index(ours, i));
		out = ok ? fold(enc, strlen(name)) : NULL;
		if (check != NULL)
			g_object_unref(check);
		g_hash_table_destroy(tokens);
	}
	g_hash_table_destroy(seen);
	g_ptr_array_free(ours, TRUE);
	g_ptr_array_free(theirs, TRUE);
	g_ptr_array_free(extra, TRUE);
	g_free(enc);
	g_free(lit);
	g_free(text);
	if (l != NULL)
		g_object_unref(l);
	if (ll != NULL)
		g_object_unref(ll);
	g_mime_format_options_free(fo);
	return out;
}

/* The decoded text of a free-text value, what would break its display
 * (controls, encoded ones too; bidi controls) as blanks. g_free(). */
static char *decoded_text(const char *raw)
{
	char *d = tz_header_decode(raw), *safe = tz_header_blank_unsafe(d);

	g_free(d);
	return safe;
}

/* A new value for name from raw (8-bit and encoded words allowed). */
static char *rewrite(const char *name, const char *raw)
{
	char *d, *v = NULL;
	bool ascii = true;

	if (name_in(name, address_fields))
		return rewrite_addresses(name, raw);
	if (!name_in(name, text_fields) && g_ascii_strncasecmp(name, "X-", 2) != 0) {
		char *a = ascii_clean(raw);
		v = fold(a, strlen(name));
		g_free(a);
		return v;
	}
	d = decoded_text(raw);
	for (const char *q = d; *q; q++)
		ascii = ascii && (unsigned char)*q < 0x80;
	/* a sender's nested encoded word, decoded once, must not stay plain
	 * text that a reader decodes again (see tz_header_encode_value) */
	ascii = ascii && strstr(d, "=?") == NULL;
	/* plain ASCII folds at its blanks; anything else, or a run too long
	 * to fold, becomes encoded words (which fold anywhere) */
	v = ascii ? fold(d, strlen(name)) : NULL;
	if (v == NULL)
		v = tz_header_encode_value(d, strlen(name));
	g_free(d);
	return v;
}

char *tz_hdrsafe_addresses_only(const char *name, const char *raw)
{
	GString *s = g_string_new(NULL);
	InternetAddressList *l = NULL;
	char *text;

	if (name_in(name, address_fields)) {
		text = tz_header_raw_utf8(raw);   /* raw JIS would misparse */
		l = parse_addresses(text);
		g_free(text);
	}
	if (l == NULL)
		return g_string_free(s, FALSE);
	for (int i = 0; i < internet_address_list_length(l); i++) {
		InternetAddress *a = internet_address_list_get_address(l, i);
		if (!INTERNET_ADDRESS_IS_MAILBOX(a))
			continue;
		if (s->len)
			g_string_append(s, ", ");
		g_string_append(s, internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a)));
	}
	g_object_unref(l);
	return g_string_free(s, FALSE);
}

bool tz_hdrsafe_address_field(const char *name)
{
	return name_in(name, address_fields);
}

bool tz_hdrsafe_clean(const char *field, size_t field_len)
{
	return field_clean(field, field_len);
}

char *tz_hdrsafe_text(const char *field, size_t field_len)
{
	char *raw = raw_value(field, field_len);
	char *d = decoded_text(raw);

	g_free(raw);
	return d;
}

char *tz_hdrsafe_encode(const char *name, const char *utf8)
{
	return rewrite(name, utf8);
}

static bool has_8bit(const char *f, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)f[i] >= 0x80)
			return true;
	return false;
}

/* Is the field's text, as a reader decodes it, unsafe to show though its
 * bytes are clean? Only fields a reader decodes (addresses, free text,
 * X-*) and only when there is something to decode (8-bit text, "=?"):
 * the text as sent (raw UTF-8 bidi controls), as GMime decodes it
 * following the labels (before any CR/LF is blanked; a label our lenient
 * decoder overrules, a charset name too long for it), and `shown`, the
 * engine's own lenient decode. */
static bool shows_unsafe(const char *name, const char *field, size_t len, const char *shown)
{
	bool unsafe = shown != NULL && tz_header_breaks_display(shown);
	char *raw, *labelled;

	if (unsafe || !(name_in(name, address_fields) || name_in(name, text_fields) ||
			g_ascii_strncasecmp(name, "X-", 2) == 0))
		return unsafe;
	if (!has_8bit(field, len) && g_strstr_len(field, (gssize)len, "=?") == NULL)
		return false;   /* most fields: ASCII with nothing to decode, no copy */
	raw = raw_value(field, len);
	unsafe = tz_header_breaks_display(raw);
	if (!unsafe && strstr(raw, "=?") != NULL &&
	    tz_header_decode_cost(raw, strlen(raw)) <= TZ_HEADER_DECODE_COST_MAX) {
		labelled = g_mime_utils_header_decode_text(NULL, raw);
		unsafe = labelled != NULL && tz_header_breaks_display(labelled);
		g_free(labelled);
	}
	g_free(raw);
	return unsafe;
}

enum tz_hdrsafe_action tz_hdrsafe_judge(const char *name, const char *field, size_t field_len,
					const char *shown, char **value)
{
	char *raw;
	bool clean;

	*value = NULL;
	if (name_in(name, content_signals))
		return TZ_HDRSAFE_DROP;
	clean = field_clean(field, field_len);
	if (clean && !shows_unsafe(name, field, field_len, shown))
		return TZ_HDRSAFE_KEEP;
	raw = raw_value(field, field_len);
	*value = rewrite(name, raw);
	g_free(raw);
	/* clean bytes whose addresses cannot be written back as they stand
	 * (rewrite_addresses): passed on as they came rather than lost */
	if (*value == NULL && clean)
		return TZ_HDRSAFE_KEEP;
	return *value != NULL ? TZ_HDRSAFE_REWRITE : TZ_HDRSAFE_DROP;
}
