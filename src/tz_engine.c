/* tz_engine.c — the text-ization engine: parse the message once with GMime
 * (bodies stay in the caller's stream), walk the MIME tree choosing the text
 * to keep, stream every other part through tz_sniff into the sink, then
 * build the notice, the new body and the header edits (tz_result.c).
 * Every byte is attacker-controlled: limits are checked as the walk goes,
 * and any failure is an error result — never a crash, never a pass. */
#include "tz_engine.h"

#include <string.h>

#include "tz_body.h"
#include "tz_charset.h"
#include "tz_engine_int.h"
#include "tz_header.h"
#include "tz_html.h"
#include "tz_notice.h"
#include "tz_sniff.h"
#include "tz_uu.h"
#include "tz_util.h"

#define CHUNK 16384
#define TZ_DEFAULT_HTML_NODES 200000

void tz_engine_options_init(struct tz_engine_options *o)
{
	memset(o, 0, sizeof(*o));
	o->body_charset = TZ_BODY_UTF8;
	o->body_encoding = TZ_ENC_BASE64;
	o->notice_lang = TZ_NOTICE_JA;
	o->limits.max_mime_depth = 32;
	o->limits.max_parts = 1000;
	o->limits.max_headers = 1000;
	o->limits.max_header_bytes = 1024 * 1024;
	o->limits.max_html_depth = 256;
	o->limits.max_output_bytes = 16 * 1024 * 1024;
	o->limits.time_budget_ms = 20000;
	o->limits.max_html_nodes = TZ_DEFAULT_HTML_NODES;
}

static gpointer global_init_once(gpointer unused)
{
	(void)unused;
	g_mime_init();
	tz_sniff_thread_init();
	return NULL;
}

void tz_engine_global_init(void)
{
	static GOnce once = G_ONCE_INIT;

	g_once(&once, global_init_once, NULL);
}

/* One conversion in progress. */
struct conv {
	const struct tz_engine_options *opt;
	const struct tz_part_sink *sink;
	struct tz_result *res;
	GString *text;           /* UTF-8 text of the new body, after the notice */
	unsigned nparts;         /* MIME entities seen, for max_parts */
	gint64 deadline;         /* g_get_monotonic_time() limit */
	bool charset_recorded;   /* res->body_charset_* set from the first text part */
	char *err;
	size_t errlen;
};

static int check_time(struct conv *c)
{
	if (g_get_monotonic_time() > c->deadline)
		return tz_err(c->err, c->errlen, "time budget of %u ms exceeded",
			      c->opt->limits.time_budget_ms);
	return 0;
}

/* Limits that apply to every MIME entity: count, depth, header size. */
static int check_entity(struct conv *c, GMimeObject *obj, unsigned depth)
{
	const struct tz_limits *l = &c->opt->limits;
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	int n = hl ? g_mime_header_list_get_count(hl) : 0;
	size_t bytes = 0;

	if (depth > l->max_mime_depth)
		return tz_err(c->err, c->errlen, "MIME nesting deeper than %u", l->max_mime_depth);
	if (++c->nparts > l->max_parts)
		return tz_err(c->err, c->errlen, "more than %u MIME parts", l->max_parts);
	if (n > 0 && (unsigned)n > l->max_headers)
		return tz_err(c->err, c->errlen, "more than %u header fields in part", l->max_headers);
	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *name = g_mime_header_get_name(h), *raw = g_mime_header_get_raw_value(h);
		bytes += (name ? strlen(name) : 0) + (raw ? strlen(raw) : 0) + 2;
	}
	if (bytes > l->max_header_bytes)
		return tz_err(c->err, c->errlen, "part header larger than %zu bytes", l->max_header_bytes);
	return check_time(c);
}

static char *child_path(const char *prefix, int i)
{
	return *prefix ? g_strdup_printf("%s.%d", prefix, i + 1) : g_strdup_printf("%d", i + 1);
}

/* ------------------------------------------------------------ text */

/* Append decoded UTF-8 to the new body: line ends to LF, control
 * characters (except tab) and BOMs dropped, invalid UTF-8 replaced. */
static void append_text(struct conv *c, const char *s, size_t len)
{
	const char *p = s, *end = s + len;

	while (p < end) {
		unsigned char ch = (unsigned char)*p;
		gunichar u;

		if (ch == '\r') {
			g_string_append_c(c->text, '\n');
			p += (p + 1 < end && p[1] == '\n') ? 2 : 1;
			continue;
		}
		if (ch < 0x80) {
			if (ch >= 0x20 || ch == '\n' || ch == '\t')
				g_string_append_c(c->text, (char)ch);
			p++;
			continue;
		}
		u = g_utf8_get_char_validated(p, end - p);
		if (u == (gunichar)-1 || u == (gunichar)-2) {
			g_string_append(c->text, "\xef\xbf\xbd");
			c->res->body_undecodable = true;
			p++;
			continue;
		}
		if (u != 0xfeff && !(u >= 0x80 && u <= 0x9f))
			g_string_append_len(c->text, p, g_utf8_next_char(p) - p);
		p = g_utf8_next_char(p);
	}
}

/* Separate the next block of text from what came before by a blank line. */
static void begin_block(struct conv *c)
{
	if (c->text->len == 0)
		return;
	if (c->text->str[c->text->len - 1] != '\n')
		g_string_append_c(c->text, '\n');
	if (c->text->len < 2 || c->text->str[c->text->len - 2] != '\n')
		g_string_append_c(c->text, '\n');
}

static void end_line(struct conv *c)
{
	if (c->text->len > 0 && c->text->str[c->text->len - 1] != '\n')
		g_string_append_c(c->text, '\n');
}

static int check_output(struct conv *c)
{
	if (c->text->len > c->opt->limits.max_output_bytes)
		return tz_err(c->err, c->errlen, "text larger than %zu bytes", c->opt->limits.max_output_bytes);
	return 0;
}

static void record_charset(struct conv *c, const struct tz_decode_info *info)
{
	if (info->replaced > 0)
		c->res->body_undecodable = true;
	if (c->charset_recorded)
		return;
	c->charset_recorded = true;
	c->res->body_charset_declared = info->declared[0] ? g_strdup(info->declared) : NULL;
	c->res->body_charset_used = g_strdup(info->used[0] ? info->used : "us-ascii");
	c->res->body_charset_detected = info->detected;
}

/* Decode bytes in `charset` and append them as text. */
static void append_decoded(struct conv *c, const char *charset, const char *buf, size_t len)
{
	struct tz_decode_info info;
	GString *u = g_string_sized_new(len + 16);

	memset(&info, 0, sizeof(info));
	tz_charset_to_utf8(charset, buf, len, u, &info);
	record_charset(c, &info);
	append_text(c, u->str, u->len);
	g_string_free(u, TRUE);
}

/* ------------------------------------------------------------ streams */

/* The bytes of a GByteArray, never NULL (an empty array may have no data). */
static const char *bytes_of(const GByteArray *a)
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
		GMimeFilter *d = g_mime_filter_basic_new(enc, FALSE);
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
static int read_leaf(struct conv *c, GMimePart *part, GByteArray *out, size_t cap)
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
static int strip_leaf(struct conv *c, GMimeObject *obj, const char *path,
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
			rc = check_time(c);
	}
	if (rc == 0 && n < 0)
		rc = tz_err(c->err, c->errlen, "cannot read part %s", path);
	if (s != NULL)
		g_object_unref(s);
	return strip_end(c, &st, rc);
}

/* Strip in-memory bytes (a uuencoded file cut out of a text part). */
static int strip_bytes(struct conv *c, const char *path, enum tz_part_reason reason,
		       char *filename, char *raw_name, const void *buf, size_t len)
{
	struct strip st;
	int rc = strip_begin(c, &st, path, reason, filename, raw_name,
			     g_strdup("application/octet-stream"), 0);

	if (rc == 0)
		rc = strip_feed(c, &st, buf, len);
	return strip_end(c, &st, rc);
}

/* ------------------------------------------------------------ leaves */

static size_t text_cap(struct conv *c)
{
	/* HTML is often many times larger than its text (inline styles). */
	size_t cap = c->opt->limits.max_output_bytes;
	return cap > SIZE_MAX / 4 ? SIZE_MAX : cap * 4;
}

/* The "file removed" line: tmpl's two "%s" replaced by name and ref by
 * plain substitution, not printf — every format string stays a literal
 * (-Wformat-nonliteral clean), whatever the table holds. */
static void uu_marker(GString *out, const char *tmpl, const char *name, const char *ref)
{
	const char *args[2] = { name, ref };
	const char *p = tmpl, *hit;

	for (int i = 0; i < 2 && (hit = strstr(p, "%s")) != NULL; i++) {
		g_string_append_len(out, p, hit - p);
		g_string_append(out, args[i]);
		p = hit + 2;
	}
	g_string_append(out, p);
	g_string_append_c(out, '\n');
}

/* Cut uuencoded files out of the text and strip them; returns the offset
 * of the text after the last one (0 when none). */
static int cut_uuencode(struct conv *c, GMimeObject *obj, const char *path, const char *charset,
			const GByteArray *raw, size_t *from)
{
	const char *buf = bytes_of(raw);
	struct tz_uu_block b;

	while (tz_uu_find(buf, raw->len, *from, &b)) {
		GByteArray *data = g_byte_array_new();
		GString *name = g_string_new(NULL);
		char *safe, *ref;
		int rc;

		append_decoded(c, charset, buf + *from, b.start - *from);
		tz_uu_decode(buf, &b, data);
		tz_charset_to_utf8(charset, b.name, strlen(b.name), name, NULL);
		safe = tz_header_display_safe(name->str);
		c->nparts++;
		rc = strip_bytes(c, path, TZ_REASON_UUENCODE, g_strdup(safe), g_strdup(name->str),
				 data->data, data->len);
		if (rc == 0) {
			end_line(c);
			ref = g_strdup_printf("%s#%u", c->opt->display_ref ? c->opt->display_ref
					      : c->res->ref_id, c->res->parts->len);
			uu_marker(c->text, tz_notice_string(c->opt->notice_lang, TZ_STR_UUENCODE_REMOVED),
				  safe, ref);
			g_free(ref);
		}
		g_free(safe);
		g_string_free(name, TRUE);
		g_byte_array_free(data, TRUE);
		g_free(b.name);
		*from = b.stop;
		if (rc != 0)
			return -1;
	}
	(void)obj;
	return 0;
}

static int walk_plain(struct conv *c, GMimeObject *obj, const char *path)
{
	const char *charset = g_mime_object_get_content_type_parameter(obj, "charset");
	GByteArray *raw = g_byte_array_new();
	size_t from = 0;
	int rc = read_leaf(c, GMIME_PART(obj), raw, text_cap(c));

	if (rc == 0) {
		begin_block(c);
		rc = cut_uuencode(c, obj, path, charset, raw, &from);
	}
	if (rc == 0)
		append_decoded(c, charset, bytes_of(raw) + from, raw->len - from);
	g_byte_array_free(raw, TRUE);
	return rc == 0 ? check_output(c) : -1;
}

static int walk_html(struct conv *c, GMimeObject *obj)
{
	const char *declared = g_mime_object_get_content_type_parameter(obj, "charset");
	GByteArray *raw = g_byte_array_new();
	GString *u = NULL, *t = NULL;
	struct tz_decode_info info;
	char *meta = NULL, why[TZ_ERRLEN];
	unsigned flags = 0, nodes;
	int hrc, rc = read_leaf(c, GMIME_PART(obj), raw, text_cap(c));

	if (rc != 0)
		goto out;
	if (declared == NULL || *declared == '\0')
		declared = meta = tz_html_meta_charset(bytes_of(raw), raw->len);
	memset(&info, 0, sizeof(info));
	u = g_string_sized_new(raw->len + 16);
	tz_charset_to_utf8(declared, bytes_of(raw), raw->len, u, &info);
	record_charset(c, &info);
	t = g_string_new(NULL);
	/* A document libxml2 cannot read at all (-1) gives no text; the part
	 * itself is never passed on, so there is nothing unsafe in going on.
	 * A limit inside the renderer (-2: time, DOM size) fails the message. */
	nodes = c->opt->limits.max_html_nodes ? c->opt->limits.max_html_nodes : TZ_DEFAULT_HTML_NODES;
	hrc = tz_html_to_text_until(u->str, u->len, c->opt->limits.max_html_depth, c->deadline, nodes,
				    t, &flags, why, sizeof(why));
	if (hrc == 0) {
		begin_block(c);
		append_text(c, t->str, t->len);
	}
	rc = check_time(c);
	if (rc == 0 && hrc == -2)
		rc = tz_err(c->err, c->errlen, "%s", why);
	if (rc == 0)
		rc = check_output(c);
out:
	g_free(meta);
	if (u != NULL)
		g_string_free(u, TRUE);
	if (t != NULL)
		g_string_free(t, TRUE);
	g_byte_array_free(raw, TRUE);
	return rc;
}

/* Delivery-status and similar machine-readable reports: shown as text. */
static int walk_status(struct conv *c, GMimeObject *obj)
{
	GByteArray *raw = g_byte_array_new();
	int rc = read_leaf(c, GMIME_PART(obj), raw, text_cap(c));

	if (rc == 0) {
		begin_block(c);
		g_string_append_printf(c->text, "%s\n", tz_notice_string(c->opt->notice_lang, TZ_STR_REPORT_STATUS));
		append_decoded(c, "utf-8", bytes_of(raw), raw->len);
		rc = check_output(c);
	}
	g_byte_array_free(raw, TRUE);
	return rc;
}

static int walk_leaf(struct conv *c, GMimeObject *obj, const char *path)
{
	char *t = tz_mime_type(obj);
	enum tz_part_reason reason;
	enum tz_leaf_kind k = tz_classify(obj, t, &reason);
	int rc;

	g_free(t);
	if (!GMIME_IS_PART(obj))
		return 0;
	switch (k) {
	case TZ_LEAF_PLAIN: rc = walk_plain(c, obj, path); break;
	case TZ_LEAF_HTML: rc = walk_html(c, obj); break;
	case TZ_LEAF_STATUS: rc = walk_status(c, obj); break;
	case TZ_LEAF_ENCRYPTED: rc = strip_leaf(c, obj, path, TZ_REASON_ENCRYPTED, TZ_RISK_ENCRYPTED); break;
	default: rc = strip_leaf(c, obj, path, reason, 0); break;
	}
	return rc;
}

/* ------------------------------------------------------------ tree */

static int walk(struct conv *c, GMimeObject *obj, const char *path, unsigned depth);

/* Path of the body of a message/rfc822 (or the top level) at `path`. */
static char *inner_path(GMimeObject *inner, const char *path)
{
	if (GMIME_IS_MULTIPART(inner))
		return g_strdup(path);
	return *path ? g_strdup_printf("%s.1", path) : g_strdup("1");
}

/* Strip a whole subtree (the alternatives not shown, encrypted content). */
static int strip_tree(struct conv *c, GMimeObject *obj, const char *path, unsigned depth, bool encrypted)
{
	if (check_entity(c, obj, depth) != 0)
		return -1;
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		GMimeObject *inner = m ? g_mime_message_get_mime_part(m) : NULL;
		char *ip = inner ? inner_path(inner, path) : NULL;
		int rc = inner ? strip_tree(c, inner, ip, depth + 1, encrypted) : 0;
		g_free(ip);
		return rc;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		for (int i = 0; i < g_mime_multipart_get_count(mp); i++) {
			char *cp = child_path(path, i);
			int rc = strip_tree(c, g_mime_multipart_get_part(mp, i), cp, depth + 1, encrypted);
			g_free(cp);
			if (rc != 0)
				return -1;
		}
		return 0;
	}
	char *t = tz_mime_type(obj);
	enum tz_part_reason reason;
	enum tz_leaf_kind k = tz_classify(obj, t, &reason);

	g_free(t);
	if (encrypted || k == TZ_LEAF_ENCRYPTED)
		return strip_leaf(c, obj, path, TZ_REASON_ENCRYPTED, TZ_RISK_ENCRYPTED);
	if (k == TZ_LEAF_HTML)
		reason = TZ_REASON_HTML_ALTERNATIVE;
	else if (k == TZ_LEAF_PLAIN || k == TZ_LEAF_STATUS)
		reason = TZ_REASON_OTHER;
	return strip_leaf(c, obj, path, reason, 0);
}

/* The text/plain alternative unless it is empty or a stub. */
static bool plain_usable(struct conv *c, GMimeObject *obj)
{
	GByteArray *raw = g_byte_array_new();
	GString *u = g_string_new(NULL);
	bool ok = false;

	if (read_leaf(c, GMIME_PART(obj), raw, text_cap(c)) == 0) {
		tz_charset_to_utf8(g_mime_object_get_content_type_parameter(obj, "charset"),
				   bytes_of(raw), raw->len, u, NULL);
		ok = !tz_text_is_stub(u->str, u->len);
	}
	g_string_free(u, TRUE);
	g_byte_array_free(raw, TRUE);
	return ok;
}

static int walk_alternative(struct conv *c, GMimeMultipart *mp, const char *path, unsigned depth)
{
	int n = g_mime_multipart_get_count(mp), plain = -1, html = -1, use = -1, rc = 0;

	for (int i = 0; i < n; i++) {
		GMimeObject *ch = g_mime_multipart_get_part(mp, i);
		enum tz_part_reason reason;
		char *t = tz_mime_type(ch);
		if (GMIME_IS_PART(ch) && plain < 0 && tz_classify(ch, t, &reason) == TZ_LEAF_PLAIN)
			plain = i;
		else if (tz_html_kind(ch, 0))
			html = i;
		g_free(t);
	}
	if (plain >= 0 && plain_usable(c, g_mime_multipart_get_part(mp, plain)))
		use = plain;
	else if (html >= 0)
		use = html;
	else if (plain >= 0)
		use = plain;
	else
		use = n - 1;   /* RFC 2046: the last alternative is the richest */
	for (int i = 0; i < n && rc == 0; i++) {
		GMimeObject *ch = g_mime_multipart_get_part(mp, i);
		char *cp = child_path(path, i);
		if (i == use)
			rc = walk(c, ch, cp, depth + 1);
		else if (i == plain)
			rc = check_entity(c, ch, depth + 1);   /* the stub: dropped, nothing to keep */
		else
			rc = strip_tree(c, ch, cp, depth + 1, false);
		g_free(cp);
	}
	return rc;
}

/* The decoded value of the first `name` field of a header list. */
static char *header_text(GMimeObject *obj, const char *name, bool decode)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	GMimeHeader *h = hl ? g_mime_header_list_get_header(hl, name) : NULL;
	const char *raw = h ? g_mime_header_get_raw_value(h) : NULL;
	char *unfolded, *r;

	if (raw == NULL)
		return NULL;
	unfolded = g_mime_utils_header_unfold(raw);
	r = decode ? tz_header_decode(g_strstrip(unfolded)) : tz_header_display_safe(g_strstrip(unfolded));
	g_free(unfolded);
	return r;
}

/* message/rfc822: its From/Date/Subject and its text, inline. */
static int walk_message(struct conv *c, GMimeMessagePart *mpart, const char *path, unsigned depth)
{
	static const char *const fields[] = { "From", "Date", "Subject", NULL };
	GMimeMessage *m = g_mime_message_part_get_message(mpart);
	GMimeObject *inner = m ? g_mime_message_get_mime_part(m) : NULL;
	enum tz_notice_lang lang = c->opt->notice_lang;
	int rc = 0;

	if (m == NULL)
		return 0;
	begin_block(c);
	g_string_append_printf(c->text, "%s\n", tz_notice_string(lang, TZ_STR_FORWARDED_BEGIN));
	for (int i = 0; fields[i]; i++) {
		char *v = header_text(GMIME_OBJECT(m), fields[i], true);
		if (v == NULL)
			continue;
		g_string_append_printf(c->text, "%s: ", fields[i]);
		append_text(c, v, strlen(v));
		g_string_append_c(c->text, '\n');
		g_free(v);
	}
	if (inner != NULL) {
		char *ip = inner_path(inner, path);
		rc = walk(c, inner, ip, depth + 1);
		g_free(ip);
	}
	if (rc == 0) {
		end_line(c);
		g_string_append_printf(c->text, "%s\n", tz_notice_string(lang, TZ_STR_FORWARDED_END));
	}
	return rc;
}

static int walk(struct conv *c, GMimeObject *obj, const char *path, unsigned depth)
{
	GMimeMultipart *mp;
	GMimeContentType *ct;
	const char *sub;
	int rc = 0;

	if (check_entity(c, obj, depth) != 0)
		return -1;
	if (GMIME_IS_MESSAGE_PART(obj))
		return walk_message(c, GMIME_MESSAGE_PART(obj), path, depth);
	if (!GMIME_IS_MULTIPART(obj))
		return walk_leaf(c, obj, path);
	mp = GMIME_MULTIPART(obj);
	ct = g_mime_object_get_content_type(obj);
	sub = ct ? g_mime_content_type_get_media_subtype(ct) : NULL;
	if (sub != NULL && g_ascii_strcasecmp(sub, "alternative") == 0)
		return walk_alternative(c, mp, path, depth);
	if (sub != NULL && g_ascii_strcasecmp(sub, "encrypted") == 0) {
		c->nparts--;   /* strip_tree counts this entity again */
		return strip_tree(c, obj, path, depth, true);
	}
	if (sub != NULL && g_ascii_strcasecmp(sub, "report") == 0 && c->res->kind == TZ_KIND_TEXT)
		c->res->kind = TZ_KIND_REPORT;
	for (int i = 0; i < g_mime_multipart_get_count(mp) && rc == 0; i++) {
		char *cp = child_path(path, i);
		rc = walk(c, g_mime_multipart_get_part(mp, i), cp, depth + 1);
		g_free(cp);
	}
	return rc;
}

/* ------------------------------------------------------------ message */

/* Encrypted (or unparsable) mail: the whole original, as received, is the
 * one stripped part. */
static int strip_whole(struct conv *c, GMimeStream *in, gint64 start,
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

/* Parse the message from `start` (after an mbox "From " line, if any). */
static GMimeMessage *parse(GMimeStream *in, gint64 start, char *err, size_t errlen)
{
	GMimeParserOptions *po = g_mime_parser_options_new();
	GMimeStream *sub;
	GMimeParser *parser;
	GMimeMessage *msg;
	gint64 body = start;
	char head[5], ch;

	size_t got = 0;
	ssize_t n;

	/* Streams may return fewer bytes than asked for. */
	while (got < 5 && (n = g_mime_stream_read(in, head + got, 5 - got)) > 0)
		got += (size_t)n;
	if (got == 5 && memcmp(head, "From ", 5) == 0) {
		while (g_mime_stream_read(in, &ch, 1) == 1 && ch != '\n')
			;
		body = g_mime_stream_tell(in);
	}
	sub = g_mime_stream_substream(in, body, -1);
	g_mime_parser_options_set_rfc2047_compliance_mode(po, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(po, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_address_compliance_mode(po, GMIME_RFC_COMPLIANCE_LOOSE);
	parser = g_mime_parser_new_with_stream(sub);
	g_mime_parser_set_persist_stream(parser, TRUE);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	msg = g_mime_parser_construct_message(parser, po);
	if (msg == NULL)
		tz_err(err, errlen, "not a parsable message");
	g_object_unref(parser);
	g_object_unref(sub);
	g_mime_parser_options_free(po);
	return msg;
}

static void metadata(struct conv *c, const GPtrArray *fields)
{
	for (guint i = 0; i < fields->len; i++) {
		const struct tz_rawhdr *h = g_ptr_array_index(fields, i);
		char **slot = NULL;
		bool decode = true;

		if (g_ascii_strcasecmp(h->name, "Subject") == 0)
			slot = &c->res->subject;
		else if (g_ascii_strcasecmp(h->name, "From") == 0)
			slot = &c->res->from;
		else if (g_ascii_strcasecmp(h->name, "Date") == 0)
			slot = &c->res->date, decode = false;
		else if (g_ascii_strcasecmp(h->name, "Message-ID") == 0)
			slot = &c->res->message_id, decode = false;
		if (slot == NULL || *slot != NULL)
			continue;
		char *v = tz_rawhdr_value(h);
		*slot = decode ? tz_header_decode(v) : tz_header_display_safe(g_strstrip(v));
		g_free(v);
	}
}

/* Notice + text -> the encoded body, then the header edits. */
static int finish(struct conv *c, const GPtrArray *fields)
{
	const struct tz_engine_options *o = c->opt;
	char *tmpl = tz_notice_load(o->notice_template, o->notice_lang, c->err, c->errlen);
	GString *all;
	const char *cte = "base64";

	if (tmpl == NULL)
		return -1;
	all = g_string_sized_new(c->text->len + 2048);
	tz_notice_render(tmpl, o->notice_lang, o->display_ref ? o->display_ref : c->res->ref_id,
			 c->res->kind == TZ_KIND_ENCRYPTED,
			 c->res->parts, all);
	g_free(tmpl);
	if (c->text->len > 0) {
		g_string_append_c(all, '\n');
		g_string_append_len(all, c->text->str, c->text->len);
		if (all->str[all->len - 1] != '\n')
			g_string_append_c(all, '\n');
	}
	if (all->len > o->limits.max_output_bytes) {
		g_string_free(all, TRUE);
		return tz_err(c->err, c->errlen, "text larger than %zu bytes", o->limits.max_output_bytes);
	}
	c->res->text_bytes = all->len;
	tz_body_encode(o->body_charset, o->body_encoding, all->str, all->len, c->res->body, &cte);
	g_string_free(all, TRUE);
	tz_result_build_edits(c->res, fields, o, cte);
	return 0;
}

int tz_engine_convert(const struct tz_engine_options *opt, GMimeStream *in,
		      const char *ref_id, const struct tz_part_sink *sink,
		      struct tz_result **out, char *err, size_t errlen)
{
	struct conv c;
	GPtrArray *fields = NULL;
	GMimeMessage *msg = NULL;
	GMimeObject *top;
	gint64 start;
	int rc = -1;

	*out = NULL;
	tz_engine_global_init();
	memset(&c, 0, sizeof(c));
	c.opt = opt;
	c.sink = sink;
	c.err = err;
	c.errlen = errlen;
	c.res = tz_result_new(ref_id);
	c.text = g_string_new(NULL);
	c.deadline = g_get_monotonic_time() + (gint64)opt->limits.time_budget_ms * 1000;
	start = g_mime_stream_tell(in);
	if (start < 0) {
		tz_err(err, errlen, "input stream is not seekable");
		goto out;
	}
	if (tz_rawhdr_read(in, opt->limits.max_header_bytes, opt->limits.max_headers,
			   &fields, err, errlen) != 0)
		goto out;
	if (g_mime_stream_seek(in, start, GMIME_STREAM_SEEK_SET) != start) {
		tz_err(err, errlen, "cannot rewind the input stream");
		goto out;
	}
	metadata(&c, fields);
	if (tz_prescan_parts(in, opt->limits.max_parts, err, errlen) != 0)
		goto out;
	if (g_mime_stream_seek(in, start, GMIME_STREAM_SEEK_SET) != start) {
		tz_err(err, errlen, "cannot rewind the input stream");
		goto out;
	}
	msg = parse(in, start, err, errlen);
	top = msg != NULL ? g_mime_message_get_mime_part(msg) : NULL;
	if (msg == NULL) {
		/* GMime found no message at all (garbage, or text with no header):
		 * fail closed — nothing of it becomes text, all of it is kept. */
		if (strip_whole(&c, in, start, TZ_REASON_OTHER, 0) != 0)
			goto out;
	} else if (top != NULL && tz_top_encrypted(top, 0)) {
		if (strip_whole(&c, in, start, TZ_REASON_ENCRYPTED, TZ_RISK_ENCRYPTED) != 0)
			goto out;
	} else if (top != NULL && walk(&c, top, GMIME_IS_MULTIPART(top) ? "" : "1", 1) != 0) {
		goto out;
	}
	if (check_time(&c) != 0 || finish(&c, fields) != 0)
		goto out;
	*out = c.res;
	c.res = NULL;
	rc = 0;
out:
	if (msg != NULL)
		g_object_unref(msg);
	if (fields != NULL)
		g_ptr_array_free(fields, TRUE);
	g_string_free(c.text, TRUE);
	tz_result_free(c.res);
	return rc;
}
