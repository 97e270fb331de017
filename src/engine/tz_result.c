/* tz_result.c — what the engine hands back: the result record, the header
 * edits that turn the original header into a text/plain one, the whole new
 * message for `textizectl convert`, and the JSON summary. */
#include "tz_engine_int.h"

#include <string.h>

#include "tz_hdrsafe.h"
#include "tz_header.h"
#include "tz_json.h"
#include "tz_util.h"

static void edit_free(gpointer data)
{
	struct tz_header_edit *e = data;

	g_free(e->name);
	g_free(e->value);
	g_free(e);
}

struct tz_result *tz_result_new(const char *ref_id)
{
	struct tz_result *r = g_new0(struct tz_result, 1);

	r->header_edits = g_ptr_array_new_with_free_func(edit_free);
	r->body = g_byte_array_new();
	r->parts = g_ptr_array_new_with_free_func((GDestroyNotify)tz_part_free);
	g_strlcpy(r->ref_id, ref_id ? ref_id : "", sizeof(r->ref_id));
	return r;
}

void tz_result_free(struct tz_result *r)
{
	if (r == NULL)
		return;
	g_ptr_array_free(r->header_edits, TRUE);
	g_byte_array_free(r->body, TRUE);
	g_ptr_array_free(r->parts, TRUE);
	g_free(r->body_charset_declared);
	g_free(r->body_charset_used);
	g_free(r->subject);
	g_free(r->message_id);
	g_free(r->from);
	g_free(r->date);
	g_free(r);
}

/* ------------------------------------------------------------ raw header */

void tz_rawhdr_free(struct tz_rawhdr *h)
{
	if (h == NULL)
		return;
	g_free(h->name);
	g_free(h->field);
	g_free(h);
}

/* A field name as RFC 5322 allows it: printable ASCII except colon. */
static size_t field_name_len(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && line[i] > ' ' && line[i] < 127 && line[i] != ':')
		i++;
	if (i == 0)
		return 0;
	/* "Name  :" — some software puts blanks before the colon. */
	size_t j = i;
	while (j < len && (line[j] == ' ' || line[j] == '\t'))
		j++;
	return j < len && line[j] == ':' ? i : 0;
}

/* The header block read in 4 KiB blocks (as GMime's block-read buffer
 * stream did) with the lines found by memchr: a g_mime_stream_read call
 * per byte through that buffer stream was 5 % of the 5 KB profile. off is
 * where buf[pos] lies, counted from the stream's bound_start, as the
 * buffer stream's tell() counted it. */
struct hdr_reader {
	GMimeStream *in;
	size_t pos, end;
	gint64 off;
	char buf[4096];
};

/* Read one line (up to LF, which is not stored; CR before it dropped). 0 at
 * EOF with nothing read. A line longer than max sets *too_long. */
static int read_line(struct hdr_reader *r, GString *line, size_t max, bool *too_long)
{
	int got = 0;

	g_string_truncate(line, 0);
	for (;;) {
		const char *lf;
		size_t n;

		if (r->pos == r->end) {
			ssize_t k = g_mime_stream_read(r->in, r->buf, sizeof(r->buf));

			if (k <= 0)
				break;
			r->pos = 0;
			r->end = (size_t)k;
		}
		got = 1;
		lf = memchr(r->buf + r->pos, '\n', r->end - r->pos);
		n = lf ? (size_t)(lf - (r->buf + r->pos)) : r->end - r->pos;
		if (line->len + n > max) {
			*too_long = true;
			return 1;
		}
		g_string_append_len(line, r->buf + r->pos, (gssize)n);
		r->pos += n + (lf ? 1 : 0);
		r->off += (gint64)(n + (lf ? 1 : 0));
		if (lf)
			break;
	}
	if (line->len > 0 && line->str[line->len - 1] == '\r')
		g_string_truncate(line, line->len - 1);
	return got;
}

/* Give cur the field collected in acc (acc is consumed). */
static void rawhdr_close(struct tz_rawhdr *cur, GString **acc)
{
	if (*acc == NULL)
		return;
	cur->field_len = (*acc)->len;
	cur->field = g_string_free(*acc, FALSE);
	*acc = NULL;
}

int tz_rawhdr_read(GMimeStream *in, size_t max_bytes, unsigned max_fields,
		   GPtrArray **fields, char *err, size_t errlen)
{
	return tz_rawhdr_read_end(in, max_bytes, max_fields, fields, NULL, err, errlen);
}

int tz_rawhdr_read_end(GMimeStream *in, size_t max_bytes, unsigned max_fields,
		       GPtrArray **fields, gint64 *no_blank_at, char *err, size_t errlen)
{
	GPtrArray *f = g_ptr_array_new_with_free_func((GDestroyNotify)tz_rawhdr_free);
	struct hdr_reader *buf = g_new(struct hdr_reader, 1);
	GString *line = g_string_new(NULL);
	GString *acc = NULL;   /* the current field as it grows: folded lines append in place */
	struct tz_rawhdr *cur = NULL;
	size_t total = 0;
	bool first = true, too_long = false;
	int rc = -1;

	gint64 line_start = 0;

	buf->in = in;
	buf->pos = buf->end = 0;
	buf->off = in->bound_start;
	if (no_blank_at != NULL)
		*no_blank_at = -1;
	while ((line_start = buf->off), read_line(buf, line, max_bytes, &too_long)) {
		total += line->len + 1;
		if (too_long || total > max_bytes) {
			tz_err(err, errlen, "header block larger than %zu bytes", max_bytes);
			goto out;
		}
		if (first && g_str_has_prefix(line->str, "From ")) {
			first = false;
			continue;   /* mbox separator, not a field */
		}
		first = false;
		if (line->len == 0)
			break;
		if ((line->str[0] == ' ' || line->str[0] == '\t')) {
			/* appended, not re-concatenated: 100,000 folded lines stay linear */
			if (acc != NULL) {
				g_string_append_c(acc, '\n');
				g_string_append_len(acc, line->str, (gssize)line->len);
			}
			continue;
		}
		size_t nl = field_name_len(line->str, line->len);
		if (nl == 0) {
			/* not a field: the MTA takes this as the start of the body */
			if (no_blank_at != NULL)
				*no_blank_at = line_start;
			break;
		}
		if (f->len >= max_fields) {
			tz_err(err, errlen, "more than %u header fields", max_fields);
			goto out;
		}
		if (cur != NULL)
			rawhdr_close(cur, &acc);
		cur = g_new0(struct tz_rawhdr, 1);
		cur->name = g_strndup(line->str, nl);
		cur->field = NULL;
		acc = g_string_new_len(line->str, (gssize)line->len);
		g_ptr_array_add(f, cur);
	}
	if (cur != NULL)
		rawhdr_close(cur, &acc);
	*fields = f;
	f = NULL;
	rc = 0;
out:
	if (acc != NULL)
		g_string_free(acc, TRUE);
	if (f != NULL)
		g_ptr_array_free(f, TRUE);
	g_string_free(line, TRUE);
	g_free(buf);
	return rc;
}

/* The unfolded value of a raw field (after "Name:"), leading blanks removed. */
char *tz_rawhdr_value(const struct tz_rawhdr *h)
{
	const char *v = strchr(h->field, ':');
	GString *s = g_string_new(NULL);

	for (v = v ? v + 1 : ""; *v == ' ' || *v == '\t'; v++)
		;
	for (; *v; v++)
		if (*v != '\n')
			g_string_append_c(s, *v);
	return g_string_free(s, FALSE);
}

/* ------------------------------------------------------------ edits */

static void add_edit(struct tz_result *r, enum tz_header_op op, const char *name,
		     unsigned index, char *value_owned)
{
	struct tz_header_edit *e = g_new0(struct tz_header_edit, 1);

	e->op = op;
	e->name = g_strdup(name);
	e->index = index;
	e->value = value_owned;
	g_ptr_array_add(r->header_edits, e);
}

/* Headers the new message must not keep: the old MIME structure, and any
 * X-Textize a sender forged to look already converted. */
bool tz_result_replaced_field(const char *name)
{
	return g_ascii_strncasecmp(name, "Content-", 8) == 0
	       || g_ascii_strcasecmp(name, "MIME-Version") == 0
	       || g_ascii_strcasecmp(name, "X-Textize") == 0;
}

char *tz_header_encode_value(const char *utf8, size_t name_len)
{
	GString *s = g_string_new(NULL);
	const char *p = utf8, *end = utf8 + strlen(utf8);
	bool ascii = true;

	for (const char *q = p; q < end; q++)
		if ((unsigned char)*q >= 127 || (unsigned char)*q < 32)
			ascii = false;
	/* Text that spells an encoded word ("=?UTF-8?Q?=01?=", decoded from a
	 * sender's nested one) is encoded too: as plain text a reader would
	 * decode it once more, into what was cleaned out. */
	if (ascii && strstr(utf8, "=?") == NULL && strlen(utf8) + name_len + 2 <= 998) {
		g_string_append(s, utf8);
		return g_string_free(s, FALSE);
	}
	(void)name_len;
	/* 45 bytes of UTF-8 -> 60 base64 chars: words stay under 76 columns.
	 * A word other than the last ends where its bytes are a multiple of
	 * three when some character boundary allows (the longest such): no
	 * base64 padding inside the value. GMime joins the payloads of
	 * adjacent words before decoding them and stops at the first "=":
	 * the release mail's Subject lost its second word in GMime. */
	while (p < end) {
		const char *q = p, *even = NULL;
		while (q < end) {
			const char *nx = g_utf8_find_next_char(q, end);
			if (nx == NULL)
				nx = end;
			if (nx - p > 45)
				break;
			q = nx;
			if ((q - p) % 3 == 0)
				even = q;
		}
		if (q < end && even != NULL)
			q = even;
		if (q == p)
			q = p + 1;   /* invalid byte sequences: never loop */
		gchar *b64 = g_base64_encode((const guchar *)p, q - p);
		if (s->len)
			g_string_append(s, "\r\n ");
		g_string_append_printf(s, "=?UTF-8?B?%s?=", b64);
		g_free(b64);
		p = q;
	}
	return g_string_free(s, FALSE);
}

/* Does a reader see the field start with prefix? Decoded strictly (only
 * well-formed encoded words: a lenient decode would read the prefix into
 * "=?UTF-8?Q?=5BEXT=5D hi", which readers show as it is, and skip it),
 * leading blanks and the prefix's trailing ones aside. */
static bool shows_prefix(const struct tz_rawhdr *h, const char *prefix)
{
	GMimeParserOptions *po = g_mime_parser_options_new();
	char *raw = tz_rawhdr_value(h);
	char *seen, *want = g_strchomp(g_strdup(prefix));
	bool yes;

	g_mime_parser_options_set_rfc2047_compliance_mode(po, GMIME_RFC_COMPLIANCE_STRICT);
	seen = g_mime_utils_header_decode_text(po, raw);
	yes = *want != '\0' && seen != NULL && g_str_has_prefix(g_strchug(seen), want);
	g_free(seen);
	g_free(want);
	g_free(raw);
	g_mime_parser_options_free(po);
	return yes;
}

/* SubjectPrefix, decided before hygiene: the first Subject field becomes
 * the prefix and the text hygiene would keep of it (the engine's forced
 * text when it took a file out of the value), so that field gets one edit
 * and nothing hygiene cleans comes back in the prefixed value (counted in
 * headers_fixed as hygiene would count it); a message without a Subject
 * gets one. Returns the new value (7-bit) or NULL when none is due (no
 * prefix, or a reply that carries it already); *taken is the field
 * replaced, -1 when the value is to be added or there is none. */
static char *prefixed_subject(struct tz_result *r, const GPtrArray *fields, char *const *forced,
			      const char *prefix, int *taken)
{
	const struct tz_rawhdr *h = NULL;
	char *text, *full, *value;
	size_t n = prefix ? strlen(prefix) : 0;

	*taken = -1;
	if (n == 0)
		return NULL;
	for (guint i = 0; i < fields->len && h == NULL; i++)
		if (g_ascii_strcasecmp(((const struct tz_rawhdr *)g_ptr_array_index(fields, i))->name,
				       "Subject") == 0)
			h = g_ptr_array_index(fields, (*taken = (int)i));
	if (h == NULL)
		return tz_header_encode_value(prefix, 7);
	/* Replies carry the prefix already: do not stack "[外部] [外部] Re:". */
	if (shows_prefix(h, prefix)) {
		*taken = -1;
		return NULL;
	}
	if (forced != NULL && forced[*taken] != NULL) {
		text = tz_header_blank_unsafe(forced[*taken]);   /* as hygiene's rewrite */
		r->headers_fixed++;
	} else {
		text = tz_hdrsafe_text(h->field, h->field_len);
		if (!tz_hdrsafe_clean(h->field, h->field_len))
			r->headers_fixed++;
	}
	full = g_strconcat(prefix, *text && prefix[n - 1] != ' ' ? " " : "", text, NULL);
	value = tz_header_encode_value(full, 7);
	g_free(full);
	g_free(text);
	return value;
}

/* Names of which the policy deletes a sender's fields (tz_spoof.c: every
 * X-Textize*, an Authentication-Results carrying our AuthservID) before
 * these edits run. A change by the field's original index would then find
 * no field there, and Postfix and Sendmail both *add* the changed value
 * when they find none: a forged Authentication-Results, cleaned up, would
 * come back. So one of these that hygiene would rewrite is deleted
 * instead: a deletion that finds nothing does nothing (found in the
 * review of issue 16's seventh pass; older than it). */
static bool policy_strips(const char *name)
{
	return g_ascii_strncasecmp(name, "X-Textize", 9) == 0 ||
	       g_ascii_strcasecmp(name, "Authentication-Results") == 0;
}

/* Header hygiene (tz_hdrsafe) for every kept field but `taken` (the
 * Subject prefixed_subject replaces): rewrites first, as CHANGE edits by
 * original index; fields to drop are flagged in drop[] and deleted with
 * the replaced ones, from the highest index down. */
static void hygiene_edits(struct tz_result *r, const GPtrArray *fields, char *const *forced, bool *drop,
			  int taken)
{
	bool subject_seen = false, from_seen = false;

	for (guint i = 0; i < fields->len; i++) {
		const struct tz_rawhdr *h = g_ptr_array_index(fields, i);
		char *v = NULL;
		unsigned idx = 0;

		/* r->subject and r->from: decoded from the first of each */
		const char *shown = NULL;
		if (!subject_seen && g_ascii_strcasecmp(h->name, "Subject") == 0)
			subject_seen = true, shown = r->subject;
		else if (!from_seen && g_ascii_strcasecmp(h->name, "From") == 0)
			from_seen = true, shown = r->from;
		if (tz_result_replaced_field(h->name) || (int)i == taken)
			continue;
		enum tz_hdrsafe_action a;
		if (forced != NULL && forced[i] != NULL) {
			v = *forced[i] ? tz_hdrsafe_encode(h->name, forced[i]) : NULL;
			a = v != NULL ? TZ_HDRSAFE_REWRITE : TZ_HDRSAFE_DROP;
		} else {
			a = tz_hdrsafe_judge(h->name, h->field, h->field_len, shown, &v);
		}
		if (a == TZ_HDRSAFE_REWRITE && policy_strips(h->name)) {
			g_free(v);   /* deleted, never changed: see policy_strips */
			v = NULL;
			a = TZ_HDRSAFE_DROP;
		}
		switch (a) {
		case TZ_HDRSAFE_KEEP:
			break;
		case TZ_HDRSAFE_DROP:
			drop[i] = true;
			r->headers_fixed++;
			break;
		case TZ_HDRSAFE_REWRITE:
			for (guint k = 0; k <= i; k++)
				if (g_ascii_strcasecmp(((const struct tz_rawhdr *)g_ptr_array_index(fields, k))->name,
						       h->name) == 0)
					idx++;
			add_edit(r, TZ_HDR_CHANGE, h->name, idx, v);
			r->headers_fixed++;
			break;
		}
	}
}

/* The MIME fields the new message sets (replaced fields). One the message
 * already has is changed in place — its first occurrence, the others
 * deleted — rather than deleted and added again at the end: one packet to
 * the MTA instead of two (issue 16, seventh pass), and our Content-Type
 * takes the first position, the one a reader honours. Not X-Textize: the
 * policy deletes a sender's X-Textize* fields before these edits run
 * (tz_spoof.c), so a change by its original index would find none there,
 * and the MTA would add ours in its place or, with two of them, change a
 * different one (policy_strips); ours is deleted-then-added as before. */
static bool set_field(const char *name)
{
	return g_ascii_strcasecmp(name, "MIME-Version") == 0 || g_ascii_strcasecmp(name, "Content-Type") == 0 ||
	       g_ascii_strcasecmp(name, "Content-Transfer-Encoding") == 0;
}

static void set_edit(struct tz_result *r, const GPtrArray *fields, const char *name, char *value_owned)
{
	for (guint i = 0; i < fields->len; i++)
		if (g_ascii_strcasecmp(((const struct tz_rawhdr *)g_ptr_array_index(fields, i))->name, name) == 0) {
			add_edit(r, TZ_HDR_CHANGE, name, 1, value_owned);
			return;
		}
	add_edit(r, TZ_HDR_ADD, name, 0, value_owned);
}

void tz_result_build_edits(struct tz_result *r, const GPtrArray *fields, char *const *forced,
			   const struct tz_engine_options *opt, const char *cte)
{
	GPtrArray *done = g_ptr_array_new_with_free_func(g_free);
	bool *drop = g_new0(bool, fields->len + 1);

	int taken;
	char *subject = prefixed_subject(r, fields, forced, opt->subject_prefix, &taken);

	hygiene_edits(r, fields, forced, drop, taken);

	/* For each replaced name (any spelling), delete from the last
	 * occurrence down so that earlier indexes stay valid. */
	for (guint i = 0; i < fields->len; i++) {
		const struct tz_rawhdr *h = g_ptr_array_index(fields, i);
		unsigned count = 0;
		bool seen = false;

		if (!tz_result_replaced_field(h->name) && !drop[i])
			continue;
		for (guint k = 0; k < done->len; k++)
			if (g_ascii_strcasecmp(g_ptr_array_index(done, k), h->name) == 0)
				seen = true;
		if (seen)
			continue;
		g_ptr_array_add(done, g_strdup(h->name));
		for (guint k = 0; k < fields->len; k++)
			if (g_ascii_strcasecmp(((const struct tz_rawhdr *)g_ptr_array_index(fields, k))->name, h->name) == 0)
				count++;
		/* all of a replaced name; of another name only the flagged ones */
		/* the first of a name the message sets is changed below */
		unsigned last = set_field(h->name) ? 2 : 1;
		for (unsigned idx = count, k = fields->len; idx >= last; idx--) {
			while (k-- > 0 && g_ascii_strcasecmp(((const struct tz_rawhdr *)
							     g_ptr_array_index(fields, k))->name, h->name) != 0)
				;
			if (tz_result_replaced_field(h->name) || drop[k])
				add_edit(r, TZ_HDR_DELETE, h->name, idx, NULL);
		}
	}
	g_ptr_array_free(done, TRUE);
	g_free(drop);
	set_edit(r, fields, "MIME-Version", g_strdup("1.0"));
	set_edit(r, fields, "Content-Type",
		 g_strdup(opt->body_charset == TZ_BODY_ISO2022JP ? "text/plain; charset=ISO-2022-JP"
								 : "text/plain; charset=UTF-8"));
	set_edit(r, fields, "Content-Transfer-Encoding", g_strdup(cte));
	add_edit(r, TZ_HDR_ADD, "X-Textize", 0,
		 g_strdup_printf("textize %s; id=%s; stripped=%u", TZ_VERSION, r->ref_id, r->parts->len));
	if (subject != NULL)
		add_edit(r, taken < 0 ? TZ_HDR_ADD : TZ_HDR_CHANGE, "Subject", taken < 0 ? 0 : 1, subject);
}

/* ------------------------------------------------------------ output */

/* Apply one edit to the field list the way the MTA does. */
static void apply_edit(GPtrArray *f, const struct tz_header_edit *e)
{
	unsigned seen = 0;

	if (e->op == TZ_HDR_ADD) {
		struct tz_rawhdr *h = g_new0(struct tz_rawhdr, 1);
		h->name = g_strdup(e->name);
		h->field = g_strdup_printf("%s: %s", e->name, e->value);
		g_ptr_array_add(f, h);
		return;
	}
	for (guint i = 0; i < f->len; i++) {
		struct tz_rawhdr *h = g_ptr_array_index(f, i);
		if (g_ascii_strcasecmp(h->name, e->name) != 0 || ++seen != e->index)
			continue;
		if (e->op == TZ_HDR_DELETE) {
			g_ptr_array_remove_index(f, i);
		} else {
			g_free(h->field);
			h->field = g_strdup_printf("%s: %s", h->name, e->value);
		}
		return;
	}
}

int tz_result_write_message(const struct tz_result *r, GMimeStream *in,
			    FILE *out, char *err, size_t errlen)
{
	GPtrArray *f = NULL;

	/* The engine already enforced the real limits on this message. */
	if (tz_rawhdr_read(in, (size_t)1 << 30, 1u << 30, &f, err, errlen) != 0)
		return -1;
	for (guint i = 0; i < r->header_edits->len; i++)
		apply_edit(f, g_ptr_array_index(r->header_edits, i));
	for (guint i = 0; i < f->len; i++) {
		const struct tz_rawhdr *h = g_ptr_array_index(f, i);
		/* CRLF folding in our own values becomes LF like everything else. */
		for (const char *p = h->field; *p; p++)
			if (*p != '\r')
				fputc(*p, out);
		fputc('\n', out);
	}
	fputc('\n', out);
	fwrite(r->body->data, 1, r->body->len, out);
	g_ptr_array_free(f, TRUE);
	if (fflush(out) != 0 || ferror(out))
		return tz_err(err, errlen, "write error");
	return 0;
}

static const char *kind_name(enum tz_result_kind k)
{
	return k == TZ_KIND_ENCRYPTED ? "encrypted" : k == TZ_KIND_REPORT ? "report" : "text";
}

char *tz_result_to_json(const struct tz_result *r)
{
	struct tz_json *j = tz_json_new();

	tz_json_begin_object(j, NULL);
	tz_json_string(j, "ref_id", r->ref_id);
	tz_json_string(j, "kind", kind_name(r->kind));
	tz_json_string(j, "from", r->from);
	tz_json_string(j, "subject", r->subject);
	tz_json_string(j, "date", r->date);
	tz_json_string(j, "message_id", r->message_id);
	tz_json_begin_object(j, "body");
	tz_json_string(j, "charset_declared", r->body_charset_declared);
	tz_json_string(j, "charset_used", r->body_charset_used);
	tz_json_bool(j, "charset_detected", r->body_charset_detected);
	tz_json_bool(j, "undecodable", r->body_undecodable);
	tz_json_uint(j, "text_bytes", r->text_bytes);
	tz_json_end_object(j);
	tz_json_uint(j, "stripped", r->parts->len);
	tz_json_begin_array(j, "parts");
	for (guint i = 0; i < r->parts->len; i++) {
		const struct tz_part *p = g_ptr_array_index(r->parts, i);
		tz_json_begin_object(j, NULL);
		tz_json_uint(j, "index", p->index);
		tz_json_string(j, "mime_path", p->mime_path);
		tz_json_string(j, "reason", tz_part_reason_name(p->reason));
		tz_json_string(j, "filename", p->filename);
		tz_json_string(j, "declared_type", p->declared_type);
		tz_json_string(j, "detected_type", p->detected_type);
		tz_json_uint(j, "size", p->size);
		tz_json_string(j, "sha256", p->sha256);
		tz_json_begin_array(j, "risk");
		for (unsigned b = 0; b < TZ_RISK_COUNT; b++)
			if (p->risk & (1u << b))
				tz_json_string(j, NULL, tz_risk_name(1u << b));
		tz_json_end_array(j);
		tz_json_end_object(j);
	}
	tz_json_end_array(j);
	tz_json_end_object(j);
	return tz_json_finish(j);
}
