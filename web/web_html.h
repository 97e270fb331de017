/* web_html.h — the only way text reaches a page of textize-web: one escape
 * function for every string (sender-controlled or not), and the frame of
 * every page (Japanese, no scripts, styles only from /static/style.css so
 * the Content-Security-Policy needs no 'unsafe-inline'). */
#ifndef TZ_WEB_HTML_H
#define TZ_WEB_HTML_H

#include <stddef.h>
#include <glib.h>

/* Longest text shown by default (characters); longer ends in "…". */
#define WEB_TEXT_MAX 200

/* Append s as HTML text (also safe inside a double- or single-quoted
 * attribute): & < > " ' become references; invalid UTF-8 bytes become
 * U+FFFD; control characters and bidirectional / invisible format
 * characters (RLO U+202E and its kin, zero-width characters) are shown as
 * a visible "[U+XXXX]" so they can neither reorder nor hide text; at most
 * max characters (0 = WEB_TEXT_MAX) are kept, then "…". NULL appends "-". */
void web_html_text(GString *out, const char *s, size_t max);

/* The same for a block of text inside <pre>: line feeds are kept. */
void web_html_block(GString *out, const char *s, size_t max);

/* Printf-like: the format is trusted markup, every %s argument is
 * escaped with web_html_text (WEB_TEXT_MAX). Only %s, %u, %d, %lld and
 * %% are understood. */
void web_html_printf(GString *out, const char *fmt, ...);

/* The page frame. title is escaped; nav: markup of the navigation bar
 * (trusted), NULL for none. */
void web_page_begin(GString *out, const char *title, const char *nav);
void web_page_end(GString *out);

/* The one style sheet, served as /static/style.css. */
extern const char web_style_css[];

/* The Content-Security-Policy every response carries. */
#define WEB_CSP "default-src 'none'; style-src 'self'; img-src 'self'; " \
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

#endif
