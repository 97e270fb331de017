/* tz_conv.c — one conversion's budgets (time, memory, output) and the way
 * a part leaves the message: its decoded bytes streamed through tz_sniff
 * into the caller's sink, never held whole in memory. tz_engine.c walks the
 * tree and decides what to strip; this file does the stripping. */
#include "tz_engine_int.h"

#include <string.h>

#include "tz_b64dec.h"
#include "tz_header.h"
#include "tz_sniff.h"
#include "tz_util.h"

#define CHUNK 16384

/* ------------------------------------------------------------ budgets */

int tz_conv_check_time(struct conv *c)
{
	if (g_get_monotonic_time() > c->deadline)
		return tz_err(c->err, c->errlen, "time budget of %u ms exceeded",
			      c->opt->limits.time_budget_ms);
	return 0;
}

/* The large buffers alive now (live: those of the part at hand) plus the
 * body text, against the conversion's memory budget. */
int tz_conv_check_memory(struct conv *c, size_t live)
{
	size_t budget = c->opt->limits.max_memory_bytes;

	if (budget > 0 && live + c->text->allocated_len > budget)
		return tz_err(c->err, c->errlen, "conversion needs more than %zu bytes of memory", budget);
	return 0;
}

#define RATIO_SLACK (192 * 1024)   /* the notice and markers: not proportional to the input */

int tz_conv_check_output(struct conv *c)
{
	const struct tz_limits *l = &c->opt->limits;
	size_t ratio = l->max_output_ratio ? l->max_output_ratio : 3;

	if (c->text->len > l->max_output_bytes)
		return tz_err(c->err, c->errlen, "text larger than %zu bytes", l->max_output_bytes);
	if (c->input_bytes <= (SIZE_MAX - RATIO_SLACK) / ratio
	    && c->text->len > c->input_bytes * ratio + RATIO_SLACK)
		return tz_err(c->err, c->errlen, "text more than %zu times the message's size", ratio);
	return 0;
}

/* Bytes of text the body may still grow by under MaxOutputSize and
 * MaxOutputRatio: the renderer stops there instead of building more. */
size_t tz_conv_output_room(struct conv *c)
{
	const struct tz_limits *l = &c->opt->limits;
	size_t ratio = l->max_output_ratio ? l->max_output_ratio : 3, cap = l->max_output_bytes;

	if (c->input_bytes <= (SIZE_MAX - RATIO_SLACK) / ratio && c->input_bytes * ratio + RATIO_SLACK < cap)
		cap = c->input_bytes * ratio + RATIO_SLACK;
	return cap > c->text->len ? cap - c->text->len + 1 : 1;
}

/* ------------------------------------------------------------ streams */

/* The bytes of a GByteArray, never NULL (an empty array may have no data). */
const char *tz_bytes_of(const GByteArray *a)
{
	return a->len > 0 ? (const char *)a->data : "";
}

/* The decoded content of a leaf as a stream (new reference), or NULL when
 * it has no content. Unknown transfer encodings are read as they are. */
static GMimeStream *leaf_stream(GMimePart *part)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	GMimeStream *raw, *f;
	GMimeContentEncoding enc;

	if (w == NULL || (raw = g_mime_data_wrapper_get_stream(w)) == NULL)
		return NULL;
	enc = g_mime_data_wrapper_get_encoding(w);
	g_mime_stream_reset(raw);
	f = g_mime_stream_filter_new(raw);
	if (enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE
	    || enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		/* base64: GMime's decoder, four characters at a time (tz_b64dec.c) */
		GMimeFilter *d = enc == GMIME_CONTENT_ENCODING_BASE64 ? tz_b64_filter_new()
			: g_mime_filter_basic_new(enc, FALSE);
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(f), d);
		g_object_unref(d);
	}
	return f;
}

/* Read up to len bytes: > 0 bytes read, 0 at the end, -1 on error. A
 * filter stream returns 0 while the decoder is still collecting input (a
 * base64 quantum split across reads), so 0 means the end only at eos. */
static ssize_t read_some(GMimeStream *s, char *buf, size_t len)
{
	ssize_t n;

	while ((n = g_mime_stream_read(s, buf, len)) == 0)
		if (g_mime_stream_eos(s))
			return 0;
	return n;
}

/* Read a leaf's decoded content into memory (text parts only), at most cap. */
int tz_conv_read_leaf(struct conv *c, GMimePart *part, GByteArray *out, size_t cap)
{
	GMimeStream *s = leaf_stream(part);
	char buf[CHUNK];
	ssize_t n;
	int rc = 0;

	if (s == NULL)
		return 0;
	while ((n = read_some(s, buf, sizeof(buf))) > 0) {
		if (out->len + (size_t)n > cap) {
			rc = tz_err(c->err, c->errlen, "text part larger than %zu bytes", cap);
			break;
		}
		if ((rc = tz_conv_check_memory(c, out->len + (size_t)n)) != 0)
			break;
		g_byte_array_append(out, (const guint8 *)buf, (guint)n);
	}
	if (n < 0 && rc == 0)
		rc = tz_err(c->err, c->errlen, "cannot read message content");
	g_object_unref(s);
	return rc;
}

/* ------------------------------------------------------------ stripping */

/* A stripped part on its way to the sink. */
struct strip {
	struct tz_part *p;
	struct tz_sniff *sniff;
	char *raw_name;      /* decoded name before display-safety, for the control check */
	bool begun;
};

/* Takes ownership of filename, raw_name and declared. */
static int strip_begin(struct conv *c, struct strip *st, const char *path, enum tz_part_reason reason,
		       char *filename, char *raw_name, char *declared, unsigned risk)
{
	memset(st, 0, sizeof(*st));
	st->p = tz_part_new();
	st->p->index = c->res->parts->len + 1;
	st->p->mime_path = g_strdup(path);
	st->p->reason = reason;
	st->p->filename = filename;
	st->p->declared_type = declared ? declared : g_strdup("application/octet-stream");
	st->p->risk = risk;
	st->raw_name = raw_name;
	st->sniff = tz_sniff_new();
	if (st->sniff == NULL)
		return tz_err(c->err, c->errlen, "cannot set up SHA-256");
	if (c->nparts > c->opt->limits.max_parts)
		return tz_err(c->err, c->errlen, "more than %u MIME parts", c->opt->limits.max_parts);
	st->begun = true;
	if (c->sink && c->sink->begin && c->sink->begin(c->sink->ctx, st->p, c->err, c->errlen) != 0)
		return -1;
	return 0;
}

static int strip_feed(struct conv *c, struct strip *st, const void *buf, size_t len)
{
	if (len == 0)
		return 0;
	tz_sniff_update(st->sniff, buf, len);
	if (c->sink && c->sink->write && c->sink->write(c->sink->ctx, buf, len, c->err, c->errlen) != 0)
		return -1;
	return 0;
}

/* Finish the part and hand it to the result (always frees st's state). */
static int strip_end(struct conv *c, struct strip *st, int rc)
{
	if (rc == 0)
		rc = tz_sniff_finish(st->sniff, st->p, st->raw_name, c->err, c->errlen);
	/* The HTML form of the body is expected in every HTML mail: warning
	 * staff about it each time would teach them to ignore warnings. */
	if (rc == 0 && st->p->reason == TZ_REASON_HTML_ALTERNATIVE && st->p->detected_type != NULL
	    && strcmp(st->p->detected_type, "text/html") == 0)
		st->p->risk &= ~(unsigned)TZ_RISK_SCRIPT;
	if (rc == 0 && c->sink && c->sink->end && c->sink->end(c->sink->ctx, st->p, c->err, c->errlen) != 0)
		rc = -1;
	if (rc == 0) {
		g_ptr_array_add(c->res->parts, st->p);
		st->p = NULL;
	}
	tz_part_free(st->p);
	tz_sniff_free(st->sniff);
	g_free(st->raw_name);
	memset(st, 0, sizeof(*st));
	return rc;
}

/* Strip one leaf: stream its decoded content through sniff and sink. */
int tz_conv_strip_leaf(struct conv *c, GMimeObject *obj, const char *path,
		       enum tz_part_reason reason, unsigned risk)
{
	struct strip st;
	GMimeStream *s = NULL;
	char buf[CHUNK];
	ssize_t n = 0;
	unsigned chunks = 0;
	int rc;

	rc = strip_begin(c, &st, path, reason, tz_header_part_filename(obj), tz_raw_filename(obj),
			 tz_mime_type(obj), risk);
	if (rc == 0 && GMIME_IS_PART(obj))
		s = leaf_stream(GMIME_PART(obj));
	while (rc == 0 && s != NULL && (n = read_some(s, buf, sizeof(buf))) > 0) {
		rc = strip_feed(c, &st, buf, (size_t)n);
		if (rc == 0 && ++chunks % 64 == 0)
			rc = tz_conv_check_time(c);
	}
	if (rc == 0 && n < 0)
		rc = tz_err(c->err, c->errlen, "cannot read part %s", path);
	if (s != NULL)
		g_object_unref(s);
	return strip_end(c, &st, rc);
}

/* Strip in-memory bytes (a uuencoded file cut out of a text part). */
int tz_conv_strip_bytes(struct conv *c, const char *path, enum tz_part_reason reason,
			char *filename, char *raw_name, const void *buf, size_t len)
{
	struct strip st;
	int rc = strip_begin(c, &st, path, reason, filename, raw_name,
			     g_strdup("application/octet-stream"), 0);

	if (rc == 0)
		rc = strip_feed(c, &st, buf, len);
	return strip_end(c, &st, rc);
}

/* Strip a leaf the body does not show from its decoded bytes (raw): text
 * whose bytes are not text (risk type-mismatch), HTML the renderer could
 * not show in full. */
int tz_conv_strip_unshown(struct conv *c, GMimeObject *obj, const char *path, const GByteArray *raw,
			  unsigned risk)
{
	struct strip st;
	int rc = strip_begin(c, &st, path, TZ_REASON_UNSHOWN, tz_header_part_filename(obj),
			     tz_raw_filename(obj), tz_mime_type(obj), risk);

	if (rc == 0)
		rc = strip_feed(c, &st, tz_bytes_of(raw), raw->len);
	return strip_end(c, &st, rc);
}

/* Encrypted (or unparsable) mail: the whole original, as received, is the
 * one stripped part. */
int tz_conv_strip_whole(struct conv *c, GMimeStream *in, gint64 start,
			enum tz_part_reason reason, unsigned risk)
{
	GMimeStream *sub = g_mime_stream_substream(in, start, -1);
	struct strip st;
	char buf[CHUNK];
	ssize_t n = 0;
	int rc;

	if (reason == TZ_REASON_ENCRYPTED)
		c->res->kind = TZ_KIND_ENCRYPTED;
	rc = strip_begin(c, &st, "0", reason, NULL, NULL, g_strdup("message/rfc822"), risk);
	while (rc == 0 && (n = read_some(sub, buf, sizeof(buf))) > 0)
		rc = strip_feed(c, &st, buf, (size_t)n);
	if (rc == 0 && n < 0)
		rc = tz_err(c->err, c->errlen, "cannot read the message");
	g_object_unref(sub);
	return strip_end(c, &st, rc);
}
