/* tz_fallback.h — TEMPORARY stand-ins for functions of other areas
 * (tz_html.c, tz_charset.c, tz_header.c) that have not landed yet, so that
 * the engine can be built and tested end to end. Each TZ_FB_* switch renames
 * the real API to a minimal fallback in tz_fallback.c, for the engine's own
 * files only (no symbol clash with the real modules). Set a switch to 0 as
 * soon as the real module is committed; delete this file when all are 0. */
#ifndef TZ_FALLBACK_H
#define TZ_FALLBACK_H

#include <stddef.h>
#include <glib.h>
#include <gmime/gmime.h>
#include "tz_charset.h"
#include "tz_header.h"
#include "tz_html.h"

#define TZ_FB_HTML 1
#define TZ_FB_CHARSET 0
#define TZ_FB_HEADER 0

int tz_fb_html_to_text(const char *html, size_t len, unsigned max_depth,
		       GString *out, unsigned *flags, char *err, size_t errlen);
char *tz_fb_html_meta_charset(const char *html, size_t len);
void tz_fb_charset_to_utf8(const char *declared, const char *buf, size_t len,
			   GString *out, struct tz_decode_info *info);
void tz_fb_charset_utf8_to_iso2022jp(const char *utf8, size_t len, GString *out);
char *tz_fb_header_decode(const char *raw);
char *tz_fb_header_part_filename(GMimeObject *part);
char *tz_fb_header_display_safe(const char *utf8);

#if TZ_FB_HTML
#define tz_html_to_text tz_fb_html_to_text
#define tz_html_meta_charset tz_fb_html_meta_charset
#endif
#if TZ_FB_CHARSET
#define tz_charset_to_utf8 tz_fb_charset_to_utf8
#define tz_charset_utf8_to_iso2022jp tz_fb_charset_utf8_to_iso2022jp
#endif
#if TZ_FB_HEADER
#define tz_header_decode tz_fb_header_decode
#define tz_header_part_filename tz_fb_header_part_filename
#define tz_header_display_safe tz_fb_header_display_safe
#endif

#endif
