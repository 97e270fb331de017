/* fuzz_convert.c — libFuzzer harness: the whole conversion of one message,
 * with a sink that consumes every stripped part, as the milter runs it. */
#include <stdint.h>
#include <stdlib.h>
#include <gmime/gmime.h>
#include "tz_engine.h"

static int sink_write(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	(void)ctx; (void)buf; (void)len; (void)err; (void)errlen;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialised;
	struct tz_engine_options opt;
	struct tz_part_sink sink = { NULL, NULL, sink_write, NULL };
	struct tz_result *res = NULL;
	char err[TZ_ERRLEN];
	GMimeStream *in;

	if (!initialised) {
		tz_engine_global_init();
		initialised = 1;
	}
	tz_engine_options_init(&opt);
	/* Small limits keep each run short while still exercising the limit paths. */
	opt.limits.max_parts = 200;
	opt.limits.max_output_bytes = 1 << 20;
	opt.limits.time_budget_ms = 5000;
	if (size > 0 && (data[0] & 1))
		opt.body_charset = TZ_BODY_ISO2022JP;
	if (size > 0 && (data[0] & 2))
		opt.body_encoding = TZ_ENC_QP;
	in = g_mime_stream_mem_new_with_buffer((const char *)data, size);
	if (tz_engine_convert(&opt, in, "20260101-000000-000000-00000000", &sink, &res, err, sizeof(err)) == 0) {
		char *json = tz_result_to_json(res);
		g_free(json);
	}
	tz_result_free(res);
	g_object_unref(in);
	return 0;
}
