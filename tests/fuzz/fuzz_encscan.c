/* fuzz_encscan.c — libFuzzer harness for the encoded-file scanner
 * (tz_encscan). Built and run by tests/fuzz/run like the others:
 *
 *   tests/fuzz/run 60 fuzz_encscan
 *
 * Besides sanitizer findings it checks the contract: blocks in order of
 * start, non-overlapping, inside the text, non-empty, data never NULL and
 * no larger than a bound of the text (decoded bytes come from the block's
 * characters; BinHex run-length coding is capped at 64 times), a known
 * kind, a name that is valid UTF-8. The first byte picks small limits now
 * and then so the block cap and the thresholds are exercised. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "tz_encscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tz_encscan_limits l;
	GPtrArray *b;
	size_t prev = 0;
	const char *text;

	tz_encscan_limits_init(&l);
	if (size && data[0] < 8) {
		l.max_blocks = (size_t)data[0] + 1;
		l.min_b64_file = 16;
		l.min_uu_lines = 1;
	}
	/* a copy without a terminating NUL, so reads past the end are caught */
	text = size ? g_memdup2(data, size) : NULL;
	b = tz_encscan(text, size, &l);
	if (b->len > l.max_blocks)
		abort();
	for (guint i = 0; i < b->len; i++) {
		const struct tz_enc_block *x = b->pdata[i];

		if (x->start >= x->stop || x->stop > size || x->start < prev)
			abort();
		if (!x->data || (unsigned)x->kind >= TZ_ENCBLK_COUNT || !x->reason)
			abort();
		if (x->data->len > (x->stop - x->start) * 64 + 64)
			abort();
		if (x->name && !g_utf8_validate(x->name, -1, NULL))
			abort();
		if (!x->decoded && (x->data->len != x->stop - x->start ||
				    memcmp(x->data->data, text + x->start, x->data->len) != 0))
			abort();
		if (strcmp(tz_enc_kind_name(x->kind), "unknown") == 0)
			abort();
		prev = x->stop;
	}
	g_ptr_array_unref(b);
	g_free((void *)text);
	return 0;
}
