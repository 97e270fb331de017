/* tz_fallback.c — TEMPORARY minimal stand-ins for tz_html / tz_charset /
 * tz_header while those modules are being written (see tz_fallback.h).
 * Deliberately simple; the real modules replace all of this. */
#include "tz_fallback.h"

#include <string.h>
#include <libxml/HTMLparser.h>

/* ------------------------------------------------------------ charset */

static gboolean try_convert(const char *cs, const char *buf, size_t len, GString *out)
{
	gsize w = 0;
	gchar *u = g_convert(buf, (gssize)len, "UTF-8", cs, NULL, &w, NULL);

	if (u == NULL)
		return FALSE;
	g_string_append_len(out, u, (gssize)w);
	g_free(u);
	return TRUE;
}

static const char *iconv_name(const char *declared)
{
	if (declared == NULL || *declared == '\0')
		return NULL;
	if (g_ascii_strcasecmp(declared, "shift_jis") == 0 || g_ascii_strcasecmp(declared, "x-sjis") == 0
	    || g_ascii_strcasecmp(declared, "shift-jis") == 0 || g_ascii_strcasecmp(declared, "sjis") == 0)
		return "CP932";
	if (g_ascii_strcasecmp(declared, "iso-2022-jp") == 0)
		return "ISO-2022-JP-3";
	if (g_ascii_strcasecmp(declared, "euc-jp") == 0)
		return "EUC-JP-MS";
	if (g_ascii_strcasecmp(declared, "us-ascii") == 0 || g_ascii_strcasecmp(declared, "ascii") == 0)
		return "UTF-8";   /* 8-bit in "ascii" text is nearly always UTF-8 or garbage */
	return g_mime_charset_iconv_name(declared);
}

void tz_fb_charset_to_utf8(const char *declared, const char *buf, size_t len,
			   GString *out, struct tz_decode_info *info)
{
	static const char *const chain[] = { "UTF-8", "ISO-2022-JP-3", "CP932", "EUC-JP-MS", NULL };
	const char *cs = iconv_name(declared);
	const char *used = NULL;

	if (info != NULL) {
		memset(info, 0, sizeof(*info));
		g_strlcpy(info->declared, declared ? declared : "", sizeof(info->declared));
	}
	if (cs != NULL && try_convert(cs, buf, len, out))
		used = cs;
	for (size_t i = 0; used == NULL && chain[i]; i++)
		if (try_convert(chain[i], buf, len, out))
			used = chain[i];
	if (used == NULL) {
		/* Latin-1 maps every byte: nothing is lost, nothing invalid. */
		try_convert("ISO-8859-1", buf, len, out);
		used = "ISO-8859-1";
		if (info != NULL)
			info->replaced = 1;
	}
	if (info != NULL) {
		g_strlcpy(info->used, used, sizeof(info->used));
		info->detected = cs == NULL || used != cs;
	}
}

void tz_fb_charset_utf8_to_iso2022jp(const char *utf8, size_t len, GString *out)
{
	const char *p = utf8, *end = utf8 + len;

	/* Line by line, so that every line returns to ASCII before its LF. */
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		size_t n = (nl ? nl : end) - p;
		gsize w = 0;
		gchar *j = g_convert_with_fallback(p, (gssize)n, "ISO-2022-JP", "UTF-8", "?", NULL, &w, NULL);

		if (j != NULL) {
			g_string_append_len(out, j, (gssize)w);
			g_free(j);
		}
		if (nl == NULL)
			break;
		g_string_append_c(out, '\n');
		p = nl + 1;
	}
}

/* ------------------------------------------------------------ header */

char *tz_fb_header_display_safe(const char *utf8)
{
	char *v = g_utf8_make_valid(utf8 ? utf8 : "", -1);
	GString *s = g_string_new(NULL);

	for (const char *p = v; *p; p = g_utf8_next_char(p)) {
		gunichar u = g_utf8_get_char(p);
		if (u < 0x20 || (u >= 0x7f && u <= 0x9f) || (u >= 0x202a && u <= 0x202e)
		    || (u >= 0x2066 && u <= 0x2069) || u == 0x200e || u == 0x200f)
			g_string_append(s, "?");
		else if (u == '/' || u == '\\')
			g_string_append_c(s, '_');
		else
			g_string_append_unichar(s, u);
	}
	g_free(v);
	return g_string_free(s, FALSE);
}

char *tz_fb_header_decode(const char *raw)
{
	char *d = g_mime_utils_header_decode_text(NULL, raw ? raw : "");
	char *v = g_utf8_make_valid(d ? d : "", -1);

	g_free(d);
	return v;
}

char *tz_fb_header_part_filename(GMimeObject *part)
{
	const char *name = NULL;

	if (GMIME_IS_PART(part))
		name = g_mime_part_get_filename(GMIME_PART(part));
	else
		name = g_mime_object_get_content_type_parameter(part, "name");
	if (name == NULL || *name == '\0')
		return NULL;
	return tz_fb_header_display_safe(name);
}

/* ------------------------------------------------------------ html */

char *tz_fb_html_meta_charset(const char *html, size_t len)
{
	size_t n = MIN(len, (size_t)4096);
	char *head, *p, *e, *cs = NULL;

	if (html == NULL || n == 0)
		return NULL;
	head = g_ascii_strdown(html, (gssize)n);

	p = strstr(head, "charset=");
	if (p != NULL) {
		p += 8;
		while (*p == '"' || *p == '\'' || *p == ' ')
			p++;
		e = p;
		while (*e && (g_ascii_isalnum(*e) || *e == '-' || *e == '_'))
			e++;
		if (e > p)
			cs = g_strndup(p, e - p);
	}
	g_free(head);
	return cs;
}

static bool is_block(const char *n)
{
	static const char *const b[] = { "p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4",
		"h5", "h6", "table", "ul", "ol", "blockquote", "pre", "hr", "dd", "dt", NULL };
	for (size_t i = 0; b[i]; i++)
		if (g_ascii_strcasecmp(n, b[i]) == 0)
			return true;
	return false;
}

static void fb_walk(xmlNode *n, unsigned depth, unsigned max, GString *out)
{
	for (; n != NULL; n = n->next) {
		const char *name = (const char *)n->name;
		if (depth > max)
			return;
		if (n->type == XML_TEXT_NODE && n->content) {
			for (const char *c = (const char *)n->content; *c; c++) {
				bool ws = *c == ' ' || *c == '\n' || *c == '\t' || *c == '\r';
				if (ws && (out->len == 0 || out->str[out->len - 1] == ' ' || out->str[out->len - 1] == '\n'))
					continue;
				g_string_append_c(out, ws ? ' ' : *c);
			}
			continue;
		}
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (!g_ascii_strcasecmp(name, "script") || !g_ascii_strcasecmp(name, "style")
		    || !g_ascii_strcasecmp(name, "head"))
			continue;
		if (is_block(name) && out->len && out->str[out->len - 1] != '\n')
			g_string_append_c(out, '\n');
		fb_walk(n->children, depth + 1, max, out);
		if (!g_ascii_strcasecmp(name, "a")) {
			xmlChar *href = xmlGetProp(n, (const xmlChar *)"href");
			if (href != NULL && g_str_has_prefix((const char *)href, "http"))
				g_string_append_printf(out, " <%s>", (const char *)href);
			xmlFree(href);
		}
		if (is_block(name) && out->len && out->str[out->len - 1] != '\n')
			g_string_append_c(out, '\n');
	}
}

int tz_fb_html_to_text(const char *html, size_t len, unsigned max_depth,
		       GString *out, unsigned *flags, char *err, size_t errlen)
{
	htmlDocPtr doc;

	if (flags != NULL)
		*flags = 0;
	if (len > INT_MAX)
		len = INT_MAX;
	doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
			     HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
	if (doc == NULL)
		return 0;   /* nothing readable: empty text */
	fb_walk(xmlDocGetRootElement(doc), 0, max_depth, out);
	xmlFreeDoc(doc);
	return 0;
}
