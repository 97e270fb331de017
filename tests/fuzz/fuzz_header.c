/* fuzz_header.c — libFuzzer harness: header text and filename decoding
 * (RFC 2047 loose mode, raw 8-bit, RFC 2231 parameters, display-safe). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <gmime/gmime.h>
#include "tz_engine.h"
#include "tz_header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialised;
	char *s, *d, *safe;
	GMimeStream *st;
	GMimeParser *parser;
	GMimeObject *obj;

	if (!initialised) {
		tz_engine_global_init();
		initialised = 1;
	}
	s = g_strndup((const char *)data, size);
	d = tz_header_decode(s);
	safe = tz_header_display_safe(d);
	/* The contract: a display-safe string never carries a line break. */
	if (strchr(safe, '\n') || strchr(safe, '\r'))
		abort();
	g_free(safe);
	g_free(d);
	g_free(s);

	/* The same bytes as the header block of a part: filename decoding. */
	st = g_mime_stream_mem_new_with_buffer((const char *)data, size);
	parser = g_mime_parser_new_with_stream(st);
	obj = g_mime_parser_construct_part(parser, NULL);
	if (obj) {
		char *name = tz_header_part_filename(obj);
		if (name && (strchr(name, '\n') || strchr(name, '/')))
			abort();
		g_free(name);
		g_object_unref(obj);
	}
	g_object_unref(parser);
	g_object_unref(st);
	return 0;
}
