/* fuzz_header.c — libFuzzer harness: header text and filename decoding
 * (RFC 2047 loose mode, raw 8-bit, RFC 2231 parameters, display-safe),
 * and header hygiene's rewrite of a Subject, a From and a Received made
 * of the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <gmime/gmime.h>
#include "tz_engine.h"
#include "tz_header.h"
#include "tz_hdrsafe.h"

/* A value hygiene writes: 7-bit printable, folded with CRLF + blank only,
 * no line over 998 octets. */
static void check_written(const char *name, const char *v)
{
	size_t line = strlen(name) + 2;

	for (const char *p = v; *p; p++) {
		if (p[0] == '\r' && p[1] == '\n' && (p[2] == ' ' || p[2] == '\t')) {
			p++;
			line = 0;
			continue;
		}
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f || ++line > 998)
			abort();
	}
}

static void judge(const char *name, const uint8_t *data, size_t size, const char *shown)
{
	GString *f = g_string_new(name);
	char *v = NULL;

	g_string_append(f, ": ");
	g_string_append_len(f, (const char *)data, (gssize)size);
	if (tz_hdrsafe_judge(name, f->str, f->len, shown, &v) == TZ_HDRSAFE_REWRITE)
		check_written(name, v);
	g_free(v);
	g_string_free(f, TRUE);
}

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
	/* What hygiene writes from decoded text never breaks a display. */
	safe = tz_header_blank_unsafe(d);
	if (tz_header_breaks_display(safe))
		abort();
	g_free(safe);
	/* The raw value for a structure parser: UTF-8, one line. */
	safe = tz_header_raw_utf8(s);
	if (!g_utf8_validate(safe, -1, NULL) || strchr(safe, '\n') || strchr(safe, '\r'))
		abort();
	g_free(safe);
	judge("Subject", data, size, d);
	judge("From", data, size, d);
	judge("Received", data, size, NULL);
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
