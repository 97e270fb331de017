/* fuzz_html_render.c — libFuzzer harness: the HTML renderer and the meta
 * charset scanner. Output must be valid UTF-8 for valid UTF-8 input. */
#include <stdint.h>
#include <stdlib.h>
#include <glib.h>
#include "tz_html.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GString *out = g_string_new(NULL);
	unsigned flags = 0;
	char err[256];
	char *cs;

	cs = tz_html_meta_charset((const char *)data, size);
	g_free(cs);
	if (g_utf8_validate((const char *)data, size, NULL)) {
		tz_html_to_text((const char *)data, size, 256, out, &flags, err, sizeof(err));
		if (!g_utf8_validate(out->str, out->len, NULL))
			abort();
	}
	g_string_free(out, TRUE);
	return 0;
}
