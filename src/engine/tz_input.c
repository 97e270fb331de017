/* tz_input.c — the message as the engine reads it: line ends and the end
 * of the header made to agree with what the MTA saw, so GMime's reading
 * and the MTA's are the same message. */
#include "tz_engine_int.h"

#include <string.h>

#define CHUNK 16384

/* Mail written with CR alone as the line end (classic Mac OS software,
 * some bounce generators): no LF in the first 64 KB, CRs present. Read
 * as it is, the whole message would be one header line. */
static bool cr_only(GMimeStream *in, gint64 start)
{
	char buf[65536];
	ssize_t n, got = 0;
	bool cr = false;

	if (g_mime_stream_seek(in, start, GMIME_STREAM_SEEK_SET) != start)
		return false;
	while (got < (ssize_t)sizeof(buf) && (n = g_mime_stream_read(in, buf + got, sizeof(buf) - (size_t)got)) > 0)
		got += n;
	g_mime_stream_seek(in, start, GMIME_STREAM_SEEK_SET);
	if (memchr(buf, '\n', (size_t)got) != NULL)
		return false;
	cr = memchr(buf, '\r', (size_t)got) != NULL;
	return cr;
}

GMimeStream *tz_engine_input(GMimeStream *in)
{
	gint64 start = g_mime_stream_tell(in);
	GMimeStream *mem;
	GByteArray *a;
	char buf[CHUNK];
	ssize_t n;

	if (start < 0 || !cr_only(in, start))
		return g_object_ref(in);
	mem = g_mime_stream_mem_new();
	a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	while ((n = g_mime_stream_read(in, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\r')
				buf[i] = '\n';
		g_byte_array_append(a, (const guint8 *)buf, (guint)n);
	}
	g_mime_stream_seek(in, start, GMIME_STREAM_SEEK_SET);
	g_mime_stream_reset(mem);
	return mem;
}

GMimeStream *tz_engine_with_blank_line(GMimeStream *in, gint64 start, gint64 at)
{
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	char buf[CHUNK];
	gint64 pos = start;
	ssize_t n;

	g_mime_stream_seek(in, start, GMIME_STREAM_SEEK_SET);
	while ((n = g_mime_stream_read(in, buf, sizeof(buf))) > 0) {
		if (pos <= at && at < pos + n) {
			g_byte_array_append(a, (const guint8 *)buf, (guint)(at - pos));
			g_byte_array_append(a, (const guint8 *)"\n", 1);
			g_byte_array_append(a, (const guint8 *)buf + (at - pos), (guint)(n - (at - pos)));
		} else {
			g_byte_array_append(a, (const guint8 *)buf, (guint)n);
		}
		pos += n;
	}
	g_mime_stream_seek(in, start, GMIME_STREAM_SEEK_SET);
	g_mime_stream_reset(mem);
	return mem;
}

