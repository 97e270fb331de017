/* tz_engine.c — the text-ization engine: parse the message once with GMime
 * (bodies stay in the caller's stream), walk the MIME tree choosing the text
 * to keep, strip every other part (tz_conv.c: through tz_sniff into the sink),
 * then build the notice, the new body and the header edits (tz_result.c).
 * Every byte is attacker-controlled: limits are checked as the walk goes,
 * and any failure is an error result — never a crash, never a pass. */
#include "tz_engine.h"

#include <string.h>

#include "tz_ambig.h"
#include "tz_body.h"
#include "tz_charset.h"
#include "tz_clean.h"
#include "tz_encscan.h"
#include "tz_engine_int.h"
#include "tz_hdrsafe.h"
#include "tz_header.h"
#include "tz_html.h"
#include "tz_notice.h"
#include "tz_sniff.h"
#include "tz_textjudge.h"
#include "tz_util.h"

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
	o->limits.max_output_ratio = 3;
	o->limits.max_memory_bytes = 256 * 1024 * 1024;
}

static gpointer global_init_once(gpointer unused G_GNUC_UNUSED)
{
	g_mime_init();
	tz_html_init();     /* libxml2's own locks, before threads race to make them */
	tz_sniff_thread_init();
	return NULL;
}

void tz_engine_global_init(void)
{
	static GOnce once = G_ONCE_INIT;

	g_once(&once, global_init_once, NULL);
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
	return tz_conv_check_time(c);
}

static char *child_path(const char *prefix, int i)
{
	return *prefix ? g_strdup_printf("%s.%d", prefix, i + 1) : g_strdup_printf("%d", i + 1);
}

/* ------------------------------------------------------------ text */

/* Append decoded UTF-8 to the new body (see tz_clean_append). */
static void append_text(struct conv *c, const char *s, size_t len)
{
	tz_clean_append(c->text, s, len, &c->res->body_undecodable);
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

/* ------------------------------------------------------------ leaves */

/* The most decoded bytes a shown part may have. Plain text does not
 * shrink when it is shown (a charset may grow it), so more than the output
 * limit is refused before it is decoded; HTML is often many times larger
 * than its text (inline styles). */
static size_t text_cap(struct conv *c, bool html)
{
	size_t cap = c->opt->limits.max_output_bytes;

	if (!html)
		return cap;
	return cap > SIZE_MAX / 4 ? SIZE_MAX : cap * 4;
}

/* The reference a marker names for the part just stripped: the 参照番号
 * staff are shown (display_ref) when there is one, else the entry id. */
static char *part_ref(const struct conv *c)
{
	return g_strdup_printf("%s#%u", c->opt->display_ref ? c->opt->display_ref : c->res->ref_id,
			       c->res->parts->len);
}

/* The "file removed" line: tmpl's two "%s" replaced by name and ref by
 * plain substitution, not printf — every format string stays a literal
 * (-Wformat-nonliteral clean), whatever the table holds. */
static void block_marker(GString *out, const char *tmpl, const char *name, const char *ref)
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

/* Decode a text leaf's bytes in `charset` into u and judge them: 0 when
 * they are text, 1 when the part was stripped instead, -1 on error. */
static int decode_judged(struct conv *c, GMimeObject *obj, const char *path, const char *charset,
			 const GByteArray *raw, GString *u)
{
	struct tz_decode_info info;
	enum tz_text_verdict v;

	memset(&info, 0, sizeof(info));
	tz_charset_to_utf8(charset, tz_bytes_of(raw), raw->len, u, &info);
	if (tz_conv_check_memory(c, raw->len + u->allocated_len) != 0)
		return -1;
	v = tz_text_judge(tz_bytes_of(raw), raw->len, u->str, u->len, &info);
	if (v != TZ_TEXT_OK)
		return tz_conv_strip_unshown(c, obj, path, raw, TZ_RISK_TYPE_MISMATCH) == 0 ? 1 : -1;
	record_charset(c, &info);
	/* UTF-7 wrapped inside a shifted run reads one way here and another in
	 * a lenient reader: scan that reading too. */
	if (strcmp(info.used, "utf-7") == 0 && c->hidden->len < tz_conv_output_room(c)) {
		g_string_append_c(c->hidden, '\n');
		tz_charset_utf7_joined(tz_bytes_of(raw), raw->len, c->hidden);
	}
	return 0;
}

static int walk_plain(struct conv *c, GMimeObject *obj, const char *path)
{
	const char *charset = g_mime_object_get_content_type_parameter(obj, "charset");
	GByteArray *raw = g_byte_array_new();
	GString *u = NULL;
	int rc = tz_conv_read_leaf(c, GMIME_PART(obj), raw, text_cap(c, false));

	if (rc == 0) {
		u = g_string_sized_new(raw->len + 16);
		rc = decode_judged(c, obj, path, charset, raw, u);
	}
	if (rc == 0) {
		begin_block(c);
		append_text(c, u->str, u->len);
	}
	if (u != NULL)
		g_string_free(u, TRUE);
	g_byte_array_free(raw, TRUE);
	return rc < 0 ? -1 : tz_conv_check_output(c);
}

static int walk_html(struct conv *c, GMimeObject *obj, const char *path)
{
	const char *declared = g_mime_object_get_content_type_parameter(obj, "charset");
	GByteArray *raw = g_byte_array_new();
	GString *u = NULL, *t = NULL;
	char *meta = NULL, why[TZ_ERRLEN];
	struct tz_html_limits lim;
	unsigned flags = 0;
	int hrc, rc = tz_conv_read_leaf(c, GMIME_PART(obj), raw, text_cap(c, true));

	if (rc != 0)
		goto out;
	if (declared == NULL || *declared == '\0')
		declared = meta = tz_html_meta_charset(tz_bytes_of(raw), raw->len);
	u = g_string_sized_new(raw->len + 16);
	rc = decode_judged(c, obj, path, declared, raw, u);
	if (rc != 0)
		goto out;
	t = g_string_new(NULL);
	/* A limit inside the renderer (-2: time, DOM size, output) fails the
	 * message; a document libxml2 cannot read at all (-1) gives no text,
	 * and its source is listed as a part the body cannot show. What the
	 * reader never sees is kept aside for the encoded-file scan. */
	lim.max_depth = c->opt->limits.max_html_depth;
	lim.deadline = c->deadline;
	lim.max_nodes = c->opt->limits.max_html_nodes ? c->opt->limits.max_html_nodes : TZ_DEFAULT_HTML_NODES;
	lim.max_output = tz_conv_output_room(c);
	hrc = tz_html_render(u->str, u->len, &lim, t, c->hidden, &flags, why, sizeof(why));
	if (hrc == 0) {
		begin_block(c);
		append_text(c, t->str, t->len);
	}
	rc = tz_conv_check_time(c);
	if (rc == 0)
		rc = tz_conv_check_memory(c, raw->len + u->allocated_len + t->allocated_len + c->hidden->allocated_len);
	if (rc == 0 && hrc == -2)
		rc = tz_err(c->err, c->errlen, "%s", why);
	if (rc == 0 && (hrc == -1 || (flags & TZ_HTML_TRUNCATED)))
		rc = tz_conv_strip_unshown(c, obj, path, raw, 0);   /* its source is kept, listed */
	if (rc == 0)
		rc = tz_conv_check_output(c);
out:
	g_free(meta);
	if (u != NULL)
		g_string_free(u, TRUE);
	if (t != NULL)
		g_string_free(t, TRUE);
	g_byte_array_free(raw, TRUE);
	return rc < 0 ? -1 : 0;
}

/* Delivery-status and similar machine-readable reports: shown as text. */
static int walk_status(struct conv *c, GMimeObject *obj, const char *path)
{
	GByteArray *raw = g_byte_array_new();
	GString *u = g_string_new(NULL);
	int rc = tz_conv_read_leaf(c, GMIME_PART(obj), raw, text_cap(c, false));

	if (rc == 0)
		rc = decode_judged(c, obj, path, "utf-8", raw, u);
	if (rc == 0) {
		begin_block(c);
		g_string_append_printf(c->text, "%s\n", tz_notice_string(c->opt->notice_lang, TZ_STR_REPORT_STATUS));
		append_text(c, u->str, u->len);
		rc = tz_conv_check_output(c);
	}
	g_string_free(u, TRUE);
	g_byte_array_free(raw, TRUE);
	return rc < 0 ? -1 : 0;
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
	case TZ_LEAF_HTML: rc = walk_html(c, obj, path); break;
	case TZ_LEAF_STATUS: rc = walk_status(c, obj, path); break;
	case TZ_LEAF_ENCRYPTED: rc = tz_conv_strip_leaf(c, obj, path, TZ_REASON_ENCRYPTED, TZ_RISK_ENCRYPTED); break;
	default: rc = tz_conv_strip_leaf(c, obj, path, reason, 0); break;
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

/* Why a whole subtree is stripped. */
enum strip_mode {
	STRIP_UNSHOWN = 0,   /* an alternative not shown: each leaf by its kind */
	STRIP_ENCRYPTED,     /* encrypted content */
	STRIP_AMBIGUOUS,     /* an ambiguous structure: every leaf of GMime's reading */
};

static int strip_outside(struct conv *c, const char *text, const char *path, const char *where,
			 enum tz_part_reason reason);

/* Strip a whole subtree, each leaf a part of its own (decoded as GMime
 * reads it, so the security team sees each file by its type), with the
 * preambles and epilogues that hold anything. */
static int strip_tree(struct conv *c, GMimeObject *obj, const char *path, unsigned depth,
		      enum strip_mode mode)
{
	if (check_entity(c, obj, depth) != 0)
		return -1;
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		GMimeObject *inner = m ? g_mime_message_get_mime_part(m) : NULL;
		char *ip = inner ? inner_path(inner, path) : NULL;
		int rc = inner ? strip_tree(c, inner, ip, depth + 1, mode) : 0;
		g_free(ip);
		return rc;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		enum tz_part_reason why = mode == STRIP_AMBIGUOUS ? TZ_REASON_AMBIGUOUS : TZ_REASON_UNSHOWN;
		int rc = strip_outside(c, g_mime_multipart_get_prologue(mp), path, "preamble", why);
		for (int i = 0; rc == 0 && i < g_mime_multipart_get_count(mp); i++) {
			char *cp = child_path(path, i);
			rc = strip_tree(c, g_mime_multipart_get_part(mp, i), cp, depth + 1, mode);
			g_free(cp);
		}
		if (rc == 0)
			rc = strip_outside(c, g_mime_multipart_get_epilogue(mp), path, "epilogue", why);
		return rc;
	}
	char *t = tz_mime_type(obj);
	enum tz_part_reason reason;
	enum tz_leaf_kind k = tz_classify(obj, t, &reason);

	g_free(t);
	if (mode == STRIP_ENCRYPTED || k == TZ_LEAF_ENCRYPTED)
		return tz_conv_strip_leaf(c, obj, path, TZ_REASON_ENCRYPTED, TZ_RISK_ENCRYPTED);
	if (mode == STRIP_AMBIGUOUS)
		return tz_conv_strip_leaf(c, obj, path, TZ_REASON_AMBIGUOUS, TZ_RISK_TYPE_MISMATCH);
	if (k == TZ_LEAF_HTML)
		reason = TZ_REASON_HTML_ALTERNATIVE;
	else if (k == TZ_LEAF_PLAIN || k == TZ_LEAF_STATUS)
		reason = TZ_REASON_OTHER;
	return tz_conv_strip_leaf(c, obj, path, reason, 0);
}

/* The text/plain alternative unless it is empty or a stub. */
static bool plain_usable(struct conv *c, GMimeObject *obj)
{
	GByteArray *raw = g_byte_array_new();
	GString *u = g_string_new(NULL);
	bool ok = false;

	if (tz_conv_read_leaf(c, GMIME_PART(obj), raw, text_cap(c, false)) == 0) {
		tz_charset_to_utf8(g_mime_object_get_content_type_parameter(obj, "charset"),
				   tz_bytes_of(raw), raw->len, u, NULL);
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
			rc = strip_tree(c, ch, cp, depth + 1, STRIP_UNSHOWN);
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

/* Boilerplate a MIME preamble carries for readers without MIME. */
static bool preamble_stub(const char *s)
{
	static const char *const stubs[] = { "multi-part message", "multipart message",
		"mime format", "mime-formatted", "mime encapsulated", "mime message",
		"this message is in mime", "s/mime signed message", "マルチパート", NULL };
	size_t len = strlen(s);
	char *low;
	bool hit = false;

	if (len > 256)
		return false;
	low = g_ascii_strdown(s, -1);
	for (int i = 0; stubs[i] && !hit; i++)
		hit = strstr(low, stubs[i]) != NULL;
	g_free(low);
	return hit;
}

/* Text before the first or after the last boundary: nobody's body text.
 * Blank or a known boilerplate sentence is dropped; anything else (a
 * file pasted there, or a multipart whose boundary never occurs, which
 * leaves everything in the preamble) is stripped and listed. */
static int strip_outside(struct conv *c, const char *text, const char *path, const char *where,
			 enum tz_part_reason reason)
{
	const char *p = text;
	char *ppath;
	int rc;

	if (p == NULL)
		return 0;
	while (*p && g_ascii_isspace(*p))
		p++;
	if (*p == '\0' || preamble_stub(p))
		return 0;
	ppath = g_strdup_printf("%s%s%s", path, *path ? "." : "", where);
	c->nparts++;
	rc = tz_conv_strip_bytes(c, ppath, reason, NULL, NULL, text, strlen(text));
	g_free(ppath);
	return rc;
}

static int walk_multipart(struct conv *c, GMimeMultipart *mp, const char *path, unsigned depth)
{
	GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(mp));
	const char *sub = ct ? g_mime_content_type_get_media_subtype(ct) : NULL;
	int rc = strip_outside(c, g_mime_multipart_get_prologue(mp), path, "preamble", TZ_REASON_UNSHOWN);

	if (rc == 0 && sub != NULL && g_ascii_strcasecmp(sub, "alternative") == 0)
		rc = walk_alternative(c, mp, path, depth);
	else if (rc == 0) {
		if (sub != NULL && g_ascii_strcasecmp(sub, "report") == 0 && c->res->kind == TZ_KIND_TEXT)
			c->res->kind = TZ_KIND_REPORT;
		for (int i = 0; i < g_mime_multipart_get_count(mp) && rc == 0; i++) {
			char *cp = child_path(path, i);
			rc = walk(c, g_mime_multipart_get_part(mp, i), cp, depth + 1);
			g_free(cp);
		}
	}
	if (rc == 0)
		rc = strip_outside(c, g_mime_multipart_get_epilogue(mp), path, "epilogue", TZ_REASON_UNSHOWN);
	return rc;
}

static int walk(struct conv *c, GMimeObject *obj, const char *path, unsigned depth)
{
	GMimeContentType *ct;
	const char *sub;

	if (check_entity(c, obj, depth) != 0)
		return -1;
	if (tz_ambiguity_of(obj) != TZ_AMBIG_NONE) {
		c->nparts--;   /* strip_tree counts this entity again */
		return strip_tree(c, obj, path, depth, STRIP_AMBIGUOUS);
	}
	if (GMIME_IS_MESSAGE_PART(obj))
		return walk_message(c, GMIME_MESSAGE_PART(obj), path, depth);
	if (!GMIME_IS_MULTIPART(obj))
		return walk_leaf(c, obj, path);
	ct = g_mime_object_get_content_type(obj);
	sub = ct ? g_mime_content_type_get_media_subtype(ct) : NULL;
	if (sub != NULL && g_ascii_strcasecmp(sub, "encrypted") == 0) {
		c->nparts--;   /* strip_tree counts this entity again */
		return strip_tree(c, obj, path, depth, STRIP_ENCRYPTED);
	}
	return walk_multipart(c, GMIME_MULTIPART(obj), path, depth);
}

/* ------------------------------------------------------------ message */

/* Parse the message from `start` (after an mbox "From " line, if any),
 * as its top MIME entity: a GMimeMessage would also have GMime parse the
 * top header's From, To, Cc... as addresses, which the engine reads raw
 * (tz_rawhdr), and GMime 3.2.13 leaks an addr-spec for each address field
 * that ends in an open comment ("To: a@[192.0.2.1] (x": 25,600 bytes for
 * 200 such fields, every message; gmime issue #159). */
static GMimeObject *parse(GMimeStream *in, gint64 start, char *err, size_t errlen)
{
	GMimeParserOptions *po = g_mime_parser_options_new();
	GMimeStream *sub;
	GMimeParser *parser;
	GMimeObject *msg;
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
	/* Strict RFC 2047: the engine reads raw header values only
	 * (tz_header, tz_hdrsafe), and GMime's loose decoder is quadratic in
	 * encoded words left open — a 1 MB From of them took 77 s inside this
	 * one call, where no time budget is checked (docs/security.md).
	 * Addresses stay loose: GMime's strict address mode leaks a GString
	 * on "a@b.example <c@d.example>" (found by fuzz_convert). */
	g_mime_parser_options_set_rfc2047_compliance_mode(po, GMIME_RFC_COMPLIANCE_STRICT);
	g_mime_parser_options_set_parameter_compliance_mode(po, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_address_compliance_mode(po, GMIME_RFC_COMPLIANCE_LOOSE);
	parser = g_mime_parser_new_with_stream(sub);
	g_mime_parser_set_persist_stream(parser, TRUE);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	msg = g_mime_parser_construct_part(parser, po);
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
		guint *at = NULL;

		if (g_ascii_strcasecmp(h->name, "Subject") == 0)
			slot = &c->res->subject, at = &c->subject_field;
		else if (g_ascii_strcasecmp(h->name, "From") == 0)
			slot = &c->res->from, at = &c->from_field;
		else if (g_ascii_strcasecmp(h->name, "Date") == 0)
			slot = &c->res->date, decode = false;
		else if (g_ascii_strcasecmp(h->name, "Message-ID") == 0)
			slot = &c->res->message_id, decode = false;
		if (slot == NULL || *slot != NULL)
			continue;
		char *v = tz_rawhdr_value(h);
		*slot = decode ? tz_header_decode(v) : tz_header_display_safe(g_strstrip(v));
		if (at != NULL)
			*at = i + 1;   /* scan_headers reuses the decoded value */
		g_free(v);
	}
}

/* ------------------------------------------------------------ final text */

/* Strip one encoded file as a part; *safe receives its display name. */
static int strip_found(struct conv *c, const struct tz_enc_block *f, char **safe)
{
	GString *name = g_string_new(NULL);
	int rc;
	bool replaced = false;

	if (f->name != NULL)
		tz_clean_append(name, f->name, strlen(f->name), &replaced);
	*safe = name->len ? tz_header_display_safe(name->str) : NULL;
	c->nparts++;
	rc = tz_conv_strip_bytes(c, "text", TZ_REASON_ENCODED_BLOCK, g_strdup(*safe),
				 name->len ? g_strdup(name->str) : NULL, f->data->data, f->data->len);
	g_string_free(name, TRUE);
	return rc;
}

/* Strip one encoded file and write its marker line (ending in LF) to out. */
static int cut_block(struct conv *c, const struct tz_enc_block *f, GString *out)
{
	enum tz_notice_lang lang = c->opt->notice_lang;
	char *safe = NULL, *ref;
	int rc = strip_found(c, f, &safe);

	if (rc == 0) {
		ref = part_ref(c);
		block_marker(out, tz_notice_string(lang, TZ_STR_ENCODED_REMOVED),
			     safe ? safe : tz_notice_string(lang, TZ_STR_NO_NAME), ref);
		g_free(ref);
	}
	g_free(safe);
	return rc;
}

/* Judge the output, not the declaration: read the text about to be
 * delivered and cut out every encoded file, whichever path produced it
 * (text part, rendered HTML, forwarded message, report). Each becomes a
 * stripped part and a one-line marker naming its reference. */
static int scan_final_text(struct conv *c)
{
	GPtrArray *found = tz_encscan(c->text->str, c->text->len, NULL);
	GString *out;
	size_t from = 0;
	int rc = 0;

	if (found->len == 0) {
		g_ptr_array_free(found, TRUE);
		return 0;
	}
	out = g_string_sized_new(c->text->len);
	for (guint i = 0; i < found->len && rc == 0; i++) {
		const struct tz_enc_block *f = g_ptr_array_index(found, i);

		g_string_append_len(out, c->text->str + from, (gssize)(f->start - from));
		from = f->stop;
		if (out->len > 0 && out->str[out->len - 1] != '\n')
			g_string_append_c(out, '\n');
		rc = cut_block(c, f, out);
	}
	if (rc == 0) {
		g_string_append_len(out, c->text->str + from, (gssize)(c->text->len - from));
		g_string_free(c->text, TRUE);
		c->text = out;
	} else {
		g_string_free(out, TRUE);
	}
	g_ptr_array_free(found, TRUE);
	return rc;
}

/* Lines after the notice for what the body does not show and the parts
 * list cannot say: nothing disappears without a word. */
static void add_notes(struct conv *c, GString *all)
{
	enum tz_notice_lang lang = c->opt->notice_lang;
	bool empty = true;

	for (size_t i = 0; i < c->text->len && empty; i++)
		empty = g_ascii_isspace(c->text->str[i]);
	if (empty && c->res->kind != TZ_KIND_ENCRYPTED)
		c->notes |= TZ_NOTE_NO_TEXT;
	if (c->notes & TZ_NOTE_NO_TEXT)
		g_string_append_printf(all, "%s\n", tz_notice_string(lang, TZ_STR_NOTE_NO_TEXT));
	if (c->notes & TZ_NOTE_HIDDEN)
		g_string_append_printf(all, "%s\n", tz_notice_string(lang, TZ_STR_NOTE_HIDDEN));
}

/* Encoded files in what HTML hid from the reader: stripped and listed
 * like any other; there is no place in the text to mark them. */
static int scan_hidden_text(struct conv *c)
{
	GPtrArray *found = tz_encscan(c->hidden->str, c->hidden->len, NULL);
	int rc = 0;

	for (guint i = 0; i < found->len && rc == 0; i++) {
		char *safe = NULL;
		rc = strip_found(c, g_ptr_array_index(found, i), &safe);
		g_free(safe);
	}
	if (found->len > 0)
		c->notes |= TZ_NOTE_HIDDEN;
	g_ptr_array_free(found, TRUE);
	return rc;
}

/* Encoded files in the sender's header fields we pass on (a PE in base64
 * as a Subject, in a display name): each is stripped, and the field's
 * value is forced to its decoded text with the file replaced by a marker
 * — an address field to its addresses alone: its decoded text (or a
 * marker naming the file) would be parsed again as addresses, and a
 * display name could spell some.
 * Returns the forced values (one per field, NULL = untouched) or NULL. */
static int scan_headers(struct conv *c, const GPtrArray *fields, char ***forced)
{
	int rc = 0;

	*forced = NULL;
	for (guint i = 0; i < fields->len && rc == 0; i++) {
		const struct tz_rawhdr *h = g_ptr_array_index(fields, i);
		if (tz_result_replaced_field(h->name))
			continue;
		char *raw = tz_rawhdr_value(h), *value;
		if (i + 1 == c->subject_field || i + 1 == c->from_field)
			value = g_strdup(i + 1 == c->subject_field ? c->res->subject : c->res->from);
		else
			value = tz_header_decode(raw);
		GPtrArray *found = tz_encscan(value, strlen(value), NULL);
		GString *out = g_string_new(NULL);
		size_t from = 0;
		bool in_raw = false, addresses = tz_hdrsafe_address_field(h->name);

		/* The raw value too: an encoded word is base64 of whatever the
		 * sender chose, a file included. Then nothing of the value is
		 * kept but its addresses (for an address field) or the markers.
		 * A raw value that decodes to itself was scanned already. */
		if (found->len == 0 && strcmp(raw, value) != 0) {
			g_ptr_array_free(found, TRUE);
			found = tz_encscan(raw, strlen(raw), NULL);
			in_raw = found->len > 0;
			if (in_raw) {
				g_free(value);
				value = tz_hdrsafe_addresses_only(h->name, raw);
			}
		}
		if (found->len > 0 && !in_raw && addresses) {
			g_free(value);
			value = tz_hdrsafe_addresses_only(h->name, raw);
			in_raw = true;   /* the value is no longer the text scanned */
		}
		for (guint k = 0; k < found->len && rc == 0; k++) {
			const struct tz_enc_block *f = g_ptr_array_index(found, k);
			if (!in_raw) {
				g_string_append_len(out, value + from, (gssize)(f->start - from));
				from = f->stop;
			}
			rc = cut_block(c, f, out);
			if (rc == 0)
				out->str[out->len - 1] = ' ';   /* the marker's line end */
		}
		if (found->len > 0 && rc == 0) {
			if (addresses)   /* no markers: they would be parsed as addresses */
				g_string_assign(out, value);
			else
				g_string_append(out, value + (in_raw ? 0 : from));
			if (*forced == NULL)
				*forced = g_new0(char *, fields->len + 1);
			(*forced)[i] = g_strdup(g_strstrip(out->str));
		}
		g_string_free(out, TRUE);
		g_ptr_array_free(found, TRUE);
		g_free(value);
		g_free(raw);
	}
	return rc;
}

static void free_forced(char **forced, guint n)
{
	for (guint i = 0; forced != NULL && i < n; i++)
		g_free(forced[i]);
	g_free(forced);
}

/* Notice + text -> the encoded body, then the header edits. */
static int finish(struct conv *c, const GPtrArray *fields)
{
	const struct tz_engine_options *o = c->opt;
	bool builtin = o->notice_template == NULL || *o->notice_template == '\0';
	char *tmpl = builtin ? NULL : tz_notice_load(o->notice_template, o->notice_lang, c->err, c->errlen);
	GString *all;
	const char *cte = "base64";
	char **forced = NULL;

	if (tmpl == NULL && !builtin)
		return -1;
	if (scan_final_text(c) != 0 || scan_hidden_text(c) != 0 || scan_headers(c, fields, &forced) != 0) {
		g_free(tmpl);
		free_forced(forced, fields->len);
		return -1;
	}
	all = g_string_sized_new(c->text->len + 2048);
	{
		struct tz_notice_opts no = {
			.lang = o->notice_lang,
			.ref_id = o->display_ref ? o->display_ref : c->res->ref_id,
			.encrypted = c->res->kind == TZ_KIND_ENCRYPTED,
			.parts = c->res->parts,
			.details = o->notice_details,
			.contact = o->notice_contact,
			.sanitized_follow = o->sanitized_follow,
			.link = o->staff_link,
		};

		if (builtin)
			tz_notice_render_builtin(&no, all);
		else
			tz_notice_render_opts(tmpl, &no, all);
	}
	g_free(tmpl);
	add_notes(c, all);
	if (c->text->len > 0) {
		g_string_append_c(all, '\n');
		g_string_append_len(all, c->text->str, c->text->len);
		if (all->str[all->len - 1] != '\n')
			g_string_append_c(all, '\n');
	}
	if (all->len > o->limits.max_output_bytes) {
		g_string_free(all, TRUE);
		free_forced(forced, fields->len);
		return tz_err(c->err, c->errlen, "text larger than %zu bytes", o->limits.max_output_bytes);
	}
	c->res->text_bytes = all->len;
	tz_body_encode(o->body_charset, o->body_encoding, all->str, all->len, c->res->body, &cte);
	g_string_free(all, TRUE);
	tz_result_build_edits(c->res, fields, forced, o, cte);
	free_forced(forced, fields->len);
	return 0;
}

int tz_engine_convert(const struct tz_engine_options *opt, GMimeStream *orig,
		      const char *ref_id, const struct tz_part_sink *sink,
		      struct tz_result **out, char *err, size_t errlen)
{
	GMimeStream *in = tz_engine_input(orig);
	struct conv c;
	GPtrArray *fields = NULL;
	GMimeObject *msg = NULL;
	GMimeObject *top;
	gint64 start, no_blank = -1;
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
	c.hidden = g_string_new(NULL);
	c.deadline = g_get_monotonic_time() + (gint64)opt->limits.time_budget_ms * 1000;
	start = g_mime_stream_tell(in);
	if (start < 0) {
		tz_err(err, errlen, "input stream is not seekable");
		goto out;
	}
	c.input_bytes = g_mime_stream_length(in) > 0 ? (size_t)g_mime_stream_length(in) : 0;
	if (tz_rawhdr_read_end(in, opt->limits.max_header_bytes, opt->limits.max_headers,
			       &fields, &no_blank, err, errlen) != 0)
		goto out;
	for (guint i = 0; i < fields->len; i++) {
		const struct tz_rawhdr *h = g_ptr_array_index(fields, i);
		if (tz_header_decode_cost(h->field, h->field_len) > TZ_HEADER_DECODE_COST_MAX) {
			tz_err(err, errlen, "a header field with too many encoded words left open");
			goto out;
		}
	}
	if (g_mime_stream_seek(in, start, GMIME_STREAM_SEEK_SET) != start) {
		tz_err(err, errlen, "cannot rewind the input stream");
		goto out;
	}
	/* The MTA ends the header at the first line that is not a field; GMime
	 * would read on and drop such lines until a blank one, and the body
	 * text with them. Give GMime the blank line the MTA implied. */
	if (no_blank > start && fields->len > 0) {
		GMimeStream *fixed = tz_engine_with_blank_line(in, start, no_blank);
		g_object_unref(in);
		in = fixed;
		start = 0;
	}
	metadata(&c, fields);
	if (tz_prescan_parts(in, opt->limits.max_parts, err, errlen) != 0)
		goto out;
	if (g_mime_stream_seek(in, start, GMIME_STREAM_SEEK_SET) != start) {
		tz_err(err, errlen, "cannot rewind the input stream");
		goto out;
	}
	msg = parse(in, start, err, errlen);
	top = msg;
	if (msg == NULL) {
		/* GMime found no message at all (garbage, or text with no header):
		 * fail closed — nothing of it becomes text, all of it is kept. */
		if (tz_conv_strip_whole(&c, in, start, TZ_REASON_OTHER, 0) != 0)
			goto out;
	} else if (top != NULL && tz_top_encrypted(top, 0)) {
		if (tz_conv_strip_whole(&c, in, start, TZ_REASON_ENCRYPTED, TZ_RISK_ENCRYPTED) != 0)
			goto out;
	} else if (top != NULL && walk(&c, top, GMIME_IS_MULTIPART(top) ? "" : "1", 1) != 0) {
		goto out;
	}
	if (tz_conv_check_time(&c) != 0 || finish(&c, fields) != 0)
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
	g_string_free(c.hidden, TRUE);
	tz_result_free(c.res);
	g_object_unref(in);
	return rc;
}
