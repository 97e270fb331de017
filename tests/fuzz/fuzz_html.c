/* fuzz_html.c — libFuzzer harness for the HTML renderer (tz_html) and the
 * link analysis it drives (tz_htmllink). Not built by make; from the top of
 * the source tree:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc $(pkg-config --cflags --libs glib-2.0 libxml-2.0) tests/fuzz/fuzz_html.c src/html/tz_html.c src/html/tz_htmllink.c src/html/tz_htmlscan.c src/html/tz_htmlguard.c src/html/tz_htmlcss.c src/html/tz_htmlwrite.c src/util/tz_util.c -lcrypto -o /tmp/fuzz_html && /tmp/fuzz_html -max_len=65536 -max_total_time=60
 *
 * Besides sanitizer findings it checks the output contract: valid UTF-8,
 * no control characters but LF and TAB, no trailing spaces, no blank line
 * at either end, never two blank lines in a row; the hidden text is valid
 * UTF-8 and ends with LF; under max_output the text fits; a refused render
 * appends nothing. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "tz_html.h"

static void check_output(const GString *out)
{
	const char *s = out->str;
	size_t n = out->len;

	if (!g_utf8_validate(s, (gssize)n, NULL))
		abort();
	if (n == 0)
		return;
	if (s[n - 1] != '\n' || s[0] == '\n' || (n >= 2 && s[n - 2] == '\n'))
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			abort();
		if (c == '\n' && i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t'))
			abort();
		if (c == '\n' && i + 2 < n && s[i + 1] == '\n' && s[i + 2] == '\n')
			abort();
	}
}

static void check_hidden(const GString *h)
{
	if (!g_utf8_validate(h->str, (gssize)h->len, NULL))
		abort();
	if (h->len && h->str[h->len - 1] != '\n')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GString *out = g_string_new(NULL), *hidden = g_string_new(NULL);
	/* a small output cap now and then, to exercise the limit inside the walk */
	struct tz_html_limits lim = { .max_output = size > 1 && data[1] < 8 ? 64u * data[1] : 0 };
	unsigned flags = 0;
	char err[256];
	char *cs;
	/* The first byte picks a small depth limit now and then, to exercise
	 * truncation at every level. */
	unsigned depth = size && data[0] < 16 ? data[0] : 0;

	if (tz_html_to_text((const char *)data, size, depth, out, &flags, err, sizeof err) == 0)
		check_output(out);
	g_string_truncate(out, 0);
	lim.max_depth = depth;
	if (tz_html_render((const char *)data, size, &lim, out, hidden, &flags, err, sizeof err) == 0) {
		check_output(out);
		check_hidden(hidden);
		if (lim.max_output && out->len > lim.max_output)
			abort();
	} else if (out->len || hidden->len) {
		abort();	/* nothing appended unless it succeeds */
	}
	g_string_free(out, TRUE);
	g_string_free(hidden, TRUE);
	cs = tz_html_meta_charset((const char *)data, size);
	g_free(cs);
	return 0;
}
