/* tz_htmllink.h — what an HTML link really points at, what its visible text
 * claims, and whether the two differ (phishing). Pure string functions, used
 * by tz_html.c when a rendered link ends; every input is attacker-controlled. */
#ifndef TZ_HTMLLINK_H
#define TZ_HTMLLINK_H

#include <stddef.h>
#include <glib.h>

/* How a link target may be shown in the text-ized body. */
enum tz_link_kind {
	TZ_LINK_NONE,    /* fragment or relative: meaningless in mail, not printed */
	TZ_LINK_WEB,     /* http, https, ftp, mailto, tel: printed */
	TZ_LINK_ACTIVE,  /* javascript:, vbscript:, data: — never printed */
	TZ_LINK_OTHER,   /* any other scheme (file:, ms-word:, ...): not printed */
};

enum tz_link_kind tz_link_classify(const char *href);

/* The href as it may be printed inside <...>: surrounding whitespace and
 * embedded TAB/CR/LF removed (as browsers do), spaces, '<', '>', controls,
 * bidi overrides and zero-width characters percent-encoded, at most ~4 KB.
 * Caller g_free()s. */
char *tz_link_display(const char *href);

/* Lower-case ASCII (punycode) host that `url` leads to: userinfo, port and
 * trailing dot removed, backslash taken as a path separator like browsers,
 * percent-escapes in the host decoded, IDN converted, an IPv4 address in
 * any form browsers accept ("3232235777", "0xc0.0xa8.1.1") dotted decimal. mailto: gives the
 * domain of the first address. NULL when there is no host. Caller g_free()s. */
char *tz_link_url_host(const char *url);

/* The host named by a link's visible text (len bytes of UTF-8) when the whole
 * text looks like one URL, "www." name, e-mail address or host name; NULL
 * otherwise. Full-width forms and zero-width characters are normalised first.
 * Caller g_free()s. */
char *tz_link_text_host(const char *text, size_t len);

/* True when a and b are the same host or one is a subdomain of the other. */
gboolean tz_link_hosts_match(const char *a, const char *b);

/* True when the visible text is the URL itself (ignoring case, the scheme,
 * "mailto:" and one trailing slash), so printing the URL again adds nothing. */
gboolean tz_link_text_is_url(const char *text, size_t len, const char *url);

/* True when an http(s) URL carries userinfo ("http://bank.example@evil/"),
 * a form used almost only to make a link look like another host. */
gboolean tz_link_has_userinfo(const char *url);

/* When the host of `url` is written so that it reads as another one
 * (percent-escapes, full-width letters or ideographic dots, an IPv4
 * address as one number or in hex/octal, letters of mixed scripts such as
 * a Cyrillic "а" among Latin ones), the host it really is: lower-case
 * ASCII, punycode for IDN, dotted decimal for IPv4. NULL otherwise.
 * Caller g_free()s. */
char *tz_link_host_disguised(const char *url);

/* The scheme of href in lower case without ':' ("javascript" for
 * " Java\tScript:..."), NULL when it has none. Only [a-z0-9+.-]. Caller
 * g_free()s. */
char *tz_link_scheme(const char *href);

#endif
