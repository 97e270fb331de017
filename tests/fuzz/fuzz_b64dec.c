/* fuzz_b64dec.c — libFuzzer harness for tz_b64dec: the input is decoded in
 * pieces by tz_b64_decode_step and by GMime's
 * g_mime_encoding_base64_decode_step from the same states, and any
 * difference in bytes, state or save aborts (besides sanitizer findings).
 * The first byte picks the piece length (1..256), so state carried across
 * calls is exercised as the filter stream does it.
 *
 *   tests/fuzz/run 60 fuzz_b64dec */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <gmime/gmime.h>

#include "tz_b64dec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static gboolean inited;
	int s1 = 0, s2 = 0;
	guint32 v1 = 0, v2 = 0;
	size_t piece;

	if (!inited) {
		g_mime_init();
		inited = TRUE;
	}
	if (size == 0)
		return 0;
	piece = (size_t)data[0] + 1;
	data++;
	size--;
	for (size_t at = 0; at < size; at += piece) {
		size_t k = MIN(piece, size - at);
		/* a copy of exactly k bytes, so reads past the piece are caught */
		unsigned char *in = g_memdup2(data + at, k);
		/* exactly the room the contract promises: len + 3 */
		unsigned char *o1 = g_malloc(k + 3), *o2 = g_malloc(k + 3);
		size_t n1 = tz_b64_decode_step(in, k, o1, &s1, &v1);
		size_t n2 = g_mime_encoding_base64_decode_step(in, k, o2, &s2, &v2);

		if (n1 != n2 || memcmp(o1, o2, n1) != 0 || s1 != s2 || v1 != v2)
			abort();
		g_free(in);
		g_free(o1);
		g_free(o2);
	}
	return 0;
}
