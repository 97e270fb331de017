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

/* tz_html_to_text with limits that hold inside libxml2's parse too:
 * deadline is a g_get_monotonic_time() value (0 = none), read before and
 * after the parse, every 1024 nodes the parser builds and every 1024 nodes
 * of the walk; max_nodes (0 = none) caps the elements, attributes and
 * comments the parser may build (each costs ~150-250 bytes of DOM).
 * Returns 0; -1 (err filled) when libxml2 cannot produce a document; -2
 * (err filled, nothing appended) when a limit stopped it — the caller must
 * fail, not go on without the text. */
int tz_html_to_text_until(const char *html, size_t len, unsigned max_depth, gint64 deadline,
			  size_t max_nodes, GString *out, unsigned *flags, char *err, size_t errlen);

/* The charset named by <meta charset> / <meta http-equiv content-type> in
 * the first bytes of raw HTML, or NULL; caller g_free()s. */
char *tz_html_meta_charset(const char *html, size_t len);

#endif
