/* tz_htmlscan.c — byte scans over raw HTML that run before libxml2 sees it:
 * the <meta> charset (needed to decode the bytes at all) and the guard that
 * keeps libxml2 away from its quadratic attribute handling. */
#include "textize.h"

#include <string.h>
#include <glib.h>

#include "tz_html.h"
#include "tz_htmlscan.h"

/* libxml2 checks each attribute against all earlier ones of the same tag and
 * appends to a linked list: a tag with 80,000 attributes takes seconds to
 * parse. No real tag has this many. */
#define ATTR_GUARD_MAX 256

#define META_SCAN 4096

/* A deliberately simple tokenizer, one pass: it only counts, it never
 * decides what is rendered. */
size_t tz_html_attr_guard(const char *html, size_t len)
{
	const char *p = html, *end = html + len;

	while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		const char *tag = p++;
		unsigned count = 0;

		if (p >= end || !g_ascii_isalpha(*p))
			continue;
		while (p < end && !g_ascii_isspace(*p) && *p != '>' && *p != '/')
			p++;
		while (p < end && *p != '>') {
			if (g_ascii_isspace(*p) || *p == '/') {
				p++;
				continue;
			}
			if (++count > ATTR_GUARD_MAX)
				return (size_t)(tag - html);
			while (p < end && !g_ascii_isspace(*p) && *p != '=' && *p != '>' && *p != '/')
				p++;
			while (p < end && g_ascii_isspace(*p))
				p++;
			if (p >= end || *p != '=')
				continue;
			p++;
			while (p < end && g_ascii_isspace(*p))
				p++;
			if (p < end && (*p == '"' || *p == '\'')) {
				const char *q = memchr(p + 1, *p, (size_t)(end - p - 1));

				if (q == NULL)
					return len;
				p = q + 1;
			} else {
				while (p < end && !g_ascii_isspace(*p) && *p != '>')
					p++;
			}
		}
	}
	return len;
}

static const char *find_ci(const char *p, const char *end, const char *needle)
{
	size_t n = strlen(needle);

	for (; p + n <= end; p++)
		if (g_ascii_strncasecmp(p, needle, n) == 0)
			return p;
	return NULL;
}

/* A byte scan, not a parse: it runs before the bytes are decoded, over a
 * bounded window, and only extracts a token of charset-name characters. */
char *tz_html_meta_charset(const char *html, size_t len)
{
	const char *end, *p = html;

	if (html == NULL)
		return NULL;
	end = html + MIN(len, META_SCAN);
	while ((p = find_ci(p, end, "<meta")) != NULL) {
		const char *tag_end = memchr(p, '>', (size_t)(end - p));
		const char *c;

		if (tag_end == NULL)
			tag_end = end;
		c = p + 5;
		while ((c = find_ci(c, tag_end, "charset")) != NULL) {
			const char *v = c + 7, *s;

			while (v < tag_end && g_ascii_isspace(*v))
				v++;
			if (v < tag_end && *v == '=') {
				v++;
				while (v < tag_end && (g_ascii_isspace(*v) || *v == '"' || *v == '\''))
					v++;
				for (s = v; s < tag_end && s - v < 40 &&
				     (g_ascii_isalnum(*s) || (*s && strchr("-_.:()+", *s))); s++)
					;
				if (s > v)
					return g_strndup(v, (gsize)(s - v));
			}
			c += 7;
		}
		p = tag_end;
	}
	return NULL;
}
