/* tz_htmlcss.h — which elements CSS makes invisible: inline style attributes
 * and the rules of <style> elements, cascaded for the few properties that
 * can hide content (internal to the HTML renderer, tz_html.c). */
#ifndef TZ_HTMLCSS_H
#define TZ_HTMLCSS_H

#include <stddef.h>
#include <glib.h>
#include <libxml/tree.h>

struct tz_css;

struct tz_css *tz_css_new(void);
void tz_css_free(struct tz_css *css);	/* NULL is a no-op */

/* Take the rules of one style sheet (a <style> element's text, len bytes;
 * media = its media attribute or NULL). Only rules that can hide or un-hide
 * are kept, and only when their selector can be evaluated and their @media
 * applies to a desktop screen; the others are ignored, so what they would
 * hide stays shown (and is judged with the shown text). Bounded: 256 KB of
 * sheet text and 512 selectors over all sheets, the rest ignored. */
void tz_css_add_sheet(struct tz_css *css, const char *text, size_t len, const char *media);

/* True when no rule was kept (the renderer then skips matching). */
gboolean tz_css_empty(const struct tz_css *css);

/* What CSS does to one element. */
struct tz_css_effect {
	int hidden;	/* the element and everything in it is invisible */
	int font_zero;	/* 1: its font size is 0, 0: a size > 0 was set, -1: inherited */
};

/* The cascade of css's rules matching n (css may be NULL) and of the
 * inline `style` (may be NULL): display:none, visibility:hidden|collapse,
 * mso-hide:all, opacity:0, zero/1px height or width with overflow:hidden,
 * position:absolute|fixed far off-screen or clipped to nothing, text-indent
 * far off-screen hide; font-size:0 is inherited and a child may set it back.
 * Matching has a work budget per document (20 million compound tests); past
 * it the sheets are no longer applied, only inline styles. */
void tz_css_element(struct tz_css *css, const xmlNode *n, const char *style,
		    struct tz_css_effect *e);

#endif
