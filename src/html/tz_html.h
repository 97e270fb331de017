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
	TZ_HTML_LINK_BLOCKED  = 1u << 3,  /* a data:/javascript:/file:/... target replaced by a marker */
};

/* Limits of one rendering; 0 in a field = none (max_depth 0 = 256). */
struct tz_html_limits {
	unsigned max_depth;	/* element nesting followed; deeper content dropped, flagged */
	gint64 deadline;	/* g_get_monotonic_time() value, checked in the parse, every
				 * 1024 nodes of the walk and every 64 KB inside a text node */
	size_t max_nodes;	/* elements, attributes and comments the parser may build */
	size_t max_output;	/* bytes of rendered text, and separately of hidden text */
};

/* Initialise libxml2 once in this process. libxml2 2.9 creates its global
 * locks lazily: threads that reach the parser for the first time at the
 * same moment can leave the dictionary's lock counted as held, and every
 * later parse in the process then waits forever (a milter restarted into a
 * burst of HTML mail stopped answering: every HTML message tempfailed).
 * Idempotent and thread-safe; every renderer entry calls it, and programs
 * call it before they start threads. */
void tz_html_init(void);

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

/* The renderer behind both: render `html` (UTF-8, len bytes, need not be
 * NUL-terminated) to text appended to `out`. lim may be NULL (no limits).
 * When `hidden` is not NULL it receives, appended, what the reader never
 * sees but an attacker may have put there: the text of every hidden element
 * (CSS, hidden attribute, <template>, <script>, <style>, comments including
 * MSO conditional ones) and attribute values that carry payloads (data:
 * URLs, any value of 1 KB or more), pieces separated by LF, so the caller
 * can scan it for encoded files. Neither `out` nor `hidden` are touched
 * unless the call returns 0. Returns 0; -1 (err filled) when libxml2 cannot
 * produce a document; -2 (err filled) when a limit stopped it: deadline,
 * max_nodes, or max_output reached by the text or the hidden text. */
int tz_html_render(const char *html, size_t len, const struct tz_html_limits *lim, GString *out,
		   GString *hidden, unsigned *flags, char *err, size_t errlen);

/* The charset named by <meta charset> / <meta http-equiv content-type> in
 * the first bytes of raw HTML, or NULL; caller g_free()s. */
char *tz_html_meta_charset(const char *html, size_t len);

#endif
