/* fuzz_charset.c — libFuzzer harness: the Japanese decoders and detection.
 * The first byte picks the declared label; the rest is the text. The
 * ISO-2022-JP encoder must always produce 7-bit output. */
#include <stdint.h>
#include <stdlib.h>
#include <glib.h>
#include "tz_charset.h"

static const char *labels[] = {
	NULL, "iso-2022-jp", "shift_jis", "euc-jp", "utf-8", "cp932",
	"iso-8859-1", "windows-1252", "x-unknown", "ISO-2022-JP-2", "us-ascii",
	"utf-16", "gb2312", "big5", "koi8-r", "",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GString *out, *jis;
	struct tz_decode_info info;

	if (size == 0)
		return 0;
	out = g_string_new(NULL);
	tz_charset_to_utf8(labels[data[0] % G_N_ELEMENTS(labels)], (const char *)data + 1,
			   size - 1, out, &info);
	if (!g_utf8_validate(out->str, out->len, NULL))
		abort();
	jis = g_string_new(NULL);
	tz_charset_utf8_to_iso2022jp(out->str, out->len, jis);
	for (size_t i = 0; i < jis->len; i++)
		if ((unsigned char)jis->str[i] >= 0x80)
			abort();
	g_string_free(jis, TRUE);
	g_string_free(out, TRUE);
	return 0;
}
