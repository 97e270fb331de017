/* tz_htmlscan.h — byte scans over raw HTML run before parsing (internal to
 * the HTML renderer; tz_html_meta_charset itself is declared in tz_html.h). */
#ifndef TZ_HTMLSCAN_H
#define TZ_HTMLSCAN_H

#include <stddef.h>

/* Length of the prefix of html that is safe to give libxml2: up to (not
 * including) the first start tag with more than 256 attributes, else len. */
size_t tz_html_attr_guard(const char *html, size_t len);

#endif
