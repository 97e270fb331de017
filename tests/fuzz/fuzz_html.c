/* fuzz_html.c — libFuzzer harness for the HTML renderer (tz_html) and the
 * link analysis it drives (tz_htmllink). Not built by make; from the top of
 * the source tree:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc $(pkg-config --cflags --libs glib-2.0 libxml-2.0) tests/fuzz/fuzz_html.c src/tz_html.c src/tz_htmllink.c src/tz_htmlscan.c src/tz_htmlguard.c src/tz_util.c -lcrypto -o /tmp/fuzz_html && /tmp/fuzz_html -max_len=65536 -max_total_time=60
 *
 * Besides sanitizer findings it checks the output contract: valid UTF-8,
 * no control characters but LF and TAB, no trailing spaces, no blank line
 * at either end, never two blank lines in a row. */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GString *out = g_string_new(NULL);
	unsigned flags = 0;
	char err[256];
	char *cs;
	/* The first byte picks a small depth limit now and then, to exercise
	 * truncation at every level. */
	unsigned depth = size && data[0] < 16 ? data[0] : 0;

	if (tz_html_to_text((const char *)data, size, depth, out, &flags, err, sizeof err) == 0)
		check_output(out);
	g_string_free(out, TRUE);
	cs = tz_html_meta_charset((const char *)data, size);
	g_free(cs);
	return 0;
}
