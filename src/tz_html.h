/* tz_html.h — render HTML to readable plain text with libxml2's HTML parser. */
#ifndef TZ_HTML_H
#define TZ_HTML_H

#include <stddef.h>
#include <glib.h>

/* Flags reported by the renderer. */
enum tz_html_flag {
	TZ_HTML_PHISHING_LINK = 1u << 0,  /* a link whose text names another host than its target */
	TZ_HTML_HAD_SCRIPT    = 1u << 1,  /* script/active content was dropped */
	TZ_HTML_TRUNCATED     = 1u << 2,  /* nesting limit reached: deeper content dropped */
};

/* Render `html` (UTF-8, len bytes, need not be NUL-terminated) to text,
 * appended to `out` as UTF-8 with LF line ends. max_depth bounds the element
 * nesting followed. *flags (may be NULL) receives TZ_HTML_* bits. Returns 0,
 * or -1 with err filled when libxml2 cannot produce a document at all. */
int tz_html_to_text(const char *html, size_t len, unsigned max_depth,
		    GString *out, unsigned *flags, char *err, size_t errlen);

/* tz_html_to_text with a time limit: deadline is a g_get_monotonic_time()
 * value (0 = none). Once it has passed — looked at before and after the
 * libxml2 parse and every 1024 nodes of the walk — returns -1 with
 * "time budget exceeded" in err and appends nothing. */
int tz_html_to_text_until(const char *html, size_t len, unsigned max_depth, gint64 deadline,
			  GString *out, unsigned *flags, char *err, size_t errlen);

/* The charset named by <meta charset> / <meta http-equiv content-type> in
 * the first bytes of raw HTML, or NULL; caller g_free()s. */
char *tz_html_meta_charset(const char *html, size_t len);

#endif
