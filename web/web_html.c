/* web_html.c — HTML escaping and the page frame of textize-web. */
#include "web_html.h"
#include "textize.h"

#include <stdarg.h>
#include <string.h>

/* Characters that change how text around them reads without being seen:
 * bidi embeddings/overrides/isolates and marks, zero-width characters,
 * the BOM, line/paragraph separators. */
static int invisible(gunichar c)
{
	return (c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) ||
	       (c >= 0x2060 && c <= 0x2069) || c == 0x061C || c == 0xFEFF ||
	       c == 0x2028 || c == 0x2029 || c == 0x00AD;
}

static void one_char(GString *out, gunichar c, int keep_lf)
{
	switch (c) {
	case '&': g_string_append(out, "&amp;"); return;
	case '<': g_string_append(out, "&lt;"); return;
	case '>': g_string_append(out, "&gt;"); return;
	case '"': g_string_append(out, "&quot;"); return;
	case '\'': g_string_append(out, "&#39;"); return;
	default: break;
	}
	if (c == '\n' && keep_lf)
		g_string_append_c(out, '\n');
	else if ((c < 0x20 && c != '\t') || (c >= 0x7F && c < 0xA0) || invisible(c))
		g_string_append_printf(out, "[U+%04X]", (unsigned)c);
	else
		g_string_append_unichar(out, c);
}

static void escape(GString *out, const char *s, size_t max, int keep_lf)
{
	const char *p, *end;
	size_t n = 0;

	if (s == NULL) {
		g_string_append_c(out, '-');
		return;
	}
	if (max == 0)
		max = WEB_TEXT_MAX;
	p = s;
	end = s + strlen(s);
	while (p < end) {
		gunichar c = g_utf8_get_char_validated(p, end - p);
		if (n++ == max) {
			g_string_append(out, "…");
			return;
		}
		if (c == (gunichar)-1 || c == (gunichar)-2) {
			g_string_append(out, "\xEF\xBF\xBD");   /* U+FFFD for one bad byte */
			p++;
			continue;
		}
		one_char(out, c, keep_lf);
		p = g_utf8_next_char(p);
	}
}

void web_html_text(GString *out, const char *s, size_t max)
{
	escape(out, s, max, 0);
}

void web_html_block(GString *out, const char *s, size_t max)
{
	escape(out, s, max, 1);
}

void web_html_printf(GString *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			g_string_append_c(out, *f);
			continue;
		}
		f++;
		if (*f == 's')
			web_html_text(out, va_arg(ap, const char *), 0);
		else if (*f == 'u')
			g_string_append_printf(out, "%u", va_arg(ap, unsigned));
		else if (*f == 'd')
			g_string_append_printf(out, "%d", va_arg(ap, int));
		else if (strncmp(f, "lld", 3) == 0) {
			g_string_append_printf(out, "%lld", va_arg(ap, long long));
			f += 2;
		} else if (*f == '%')
			g_string_append_c(out, '%');
		else
			break;   /* unknown conversion: stop rather than misread the arguments */
	}
	va_end(ap);
}

void web_page_begin(GString *out, const char *title, const char *nav)
{
	g_string_append(out, "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">"
			     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
			     "<link rel=\"stylesheet\" href=\"/static/style.css\"><title>");
	web_html_text(out, title, 0);
	g_string_append(out, " — textize</title></head><body><header><span class=\"brand\">textize</span>");
	if (nav)
		g_string_append(out, nav);
	g_string_append(out, "</header><main><h1>");
	web_html_text(out, title, 0);
	g_string_append(out, "</h1>\n");
}

void web_page_end(GString *out)
{
	g_string_append(out, "</main><footer>textize " TZ_VERSION "</footer></body></html>\n");
}

const char web_style_css[] =
	"body{font-family:\"IPAGothic\",\"Noto Sans CJK JP\",sans-serif;margin:0;color:#1b1b1b;background:#f6f7f9}"
	"header{background:#183b56;color:#fff;padding:.6em 1em;display:flex;gap:1.2em;align-items:center;flex-wrap:wrap}"
	"header a{color:#fff}.brand{font-weight:bold;margin-right:1em}"
	"main{padding:1em 1.5em;max-width:72em}footer{color:#666;font-size:.8em;padding:1em 1.5em}"
	"table{border-collapse:collapse;background:#fff;margin:.5em 0 1em}"
	"th,td{border:1px solid #ccd;padding:.3em .5em;text-align:left;vertical-align:top;"
	"max-width:28em;overflow-wrap:anywhere}"
	"th{background:#e8edf3;white-space:nowrap}.num{text-align:right}.mono{font-family:monospace;font-size:.85em}"
	"form.inline{display:inline}fieldset{background:#fff;border:1px solid #ccd;margin:.8em 0}"
	"label{display:inline-block;margin:.2em .8em .2em 0}"
	"input[type=text],input[type=password],textarea{padding:.3em;border:1px solid #99a}"
	"textarea{width:100%;max-width:40em}"
	"button{padding:.35em 1em;background:#183b56;color:#fff;border:0;border-radius:3px;cursor:pointer}"
	"button.danger{background:#9b1c1c}"
	".msg{padding:.6em 1em;background:#e6f4ea;border:1px solid #8c8}"
	".err{padding:.6em 1em;background:#fdecea;border:1px solid #d88}"
	".state-infected,.state-rejected,.state-failed{color:#9b1c1c;font-weight:bold}"
	".state-clean,.state-sanitized,.state-released{color:#1c6b2c}"
	"pre.body{background:#fff;border:1px solid #ccd;padding:1em;white-space:pre-wrap;max-width:60em}"
	"svg .bar{fill:#3a7ca5}svg text{font-size:12px;fill:#1b1b1b}\n";
