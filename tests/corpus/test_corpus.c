/* test_corpus.c — run the engine over every message of the real-world
 * corpus ($TZ_CORPUS, default $TZ_TOP_SRCDIR/../shared/corpus; exit 77 =
 * automake SKIP when absent) and check, for every message and for each
 * output variant (UTF-8/base64, UTF-8/QP, ISO-2022-JP):
 *  - it converts (a failure is reported with its reason and fails the test);
 *  - the new message parses as one text/plain part;
 *  - no line of the new body (nor an added header) is over 998 octets;
 *  - the decoded text is valid UTF-8, with no U+FFFD unless the engine
 *    reported undecodable input;
 *  - no stripped part's bytes pass: for binary parts a window of the decoded
 *    content, for base64-encoded parts an encoded line of the original,
 *    never appear in the output;
 *  - the new header block has no control byte (raw JIS escapes included),
 *    and every <address> of a From/To/Cc/Reply-To/Sender field as received
 *    is an address of that field in the new message (hygiene's rewrite
 *    of raw-JIS fields lost them). */
#define _GNU_SOURCE 1   /* memmem, open_memstream */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <openssl/evp.h>
#include <gmime/gmime.h>

#include "tz_engine.h"
#include "tz_charset.h"
#include "tz_util.h"

#define WINDOW 48

/* Sink keeping a window from the middle of every part's decoded bytes. */
struct collect {
	GPtrArray *heads;     /* GByteArray* per part: first 64 KiB */
};

static int c_begin(void *ctx, const struct tz_part *p, char *err, size_t errlen)
{
	struct collect *c = ctx;
	(void)p; (void)err; (void)errlen;
	g_ptr_array_add(c->heads, g_byte_array_new());
	return 0;
}

static int c_write(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	struct collect *c = ctx;
	GByteArray *a = g_ptr_array_index(c->heads, c->heads->len - 1);
	(void)err; (void)errlen;
	if (a->len < 65536)
		g_byte_array_append(a, buf, (guint)MIN(len, 65536 - (size_t)a->len));
	return 0;
}

static void sha256_hex(const void *buf, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned n = 0;
	EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL);
	tz_hex(md, 32, out);
}

/* Every leaf of the original with its raw (encoded) bytes, for the
 * encoded-line check: matched to stripped parts by SHA-256. */
static void collect_leaves(GMimeObject *obj, GHashTable *raw_by_sha, int depth)
{
	if (depth > 64)
		return;
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		if (m && g_mime_message_get_mime_part(m))
			collect_leaves(g_mime_message_get_mime_part(m), raw_by_sha, depth + 1);
		return;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		for (int i = 0; i < g_mime_multipart_get_count(GMIME_MULTIPART(obj)); i++)
			collect_leaves(g_mime_multipart_get_part(GMIME_MULTIPART(obj), i), raw_by_sha, depth + 1);
		return;
	}
	if (!GMIME_IS_PART(obj))
		return;
	GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(obj));
	if (w == NULL || g_mime_data_wrapper_get_encoding(w) != GMIME_CONTENT_ENCODING_BASE64)
		return;
	GMimeStream *raw = g_mime_data_wrapper_get_stream(w);
	GByteArray *rb = g_byte_array_new(), *dec = g_byte_array_new();
	GMimeStream *mr = g_mime_stream_mem_new_with_byte_array(rb);
	GMimeStream *md = g_mime_stream_mem_new_with_byte_array(dec);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mr), FALSE);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(md), FALSE);
	g_mime_data_wrapper_write_to_stream(w, md);
	g_mime_stream_reset(raw);
	g_mime_stream_write_to_stream(raw, mr);
	char hex[65];
	sha256_hex(dec->len ? dec->data : (guint8 *)"", dec->len, hex);
	g_hash_table_replace(raw_by_sha, g_strdup(hex), rb);
	g_byte_array_free(dec, TRUE);
	g_object_unref(mr);
	g_object_unref(md);
}

/* A middle line (>= 40 chars) of a base64 body, or NULL. */
static char *middle_line(const GByteArray *raw)
{
	char *str = g_strndup(raw->len ? (const char *)raw->data : "", raw->len);   /* not NUL-terminated */
	gchar **lines = g_strsplit_set(str, "\r\n", -1);
	guint n = g_strv_length(lines);
	char *r = NULL;

	for (guint i = n / 2; i < n && r == NULL; i++)
		if (strlen(lines[i]) >= 40)
			r = g_strdup(lines[i]);
	g_strfreev(lines);
	g_free(str);
	return r;
}

static int fail(const char *file, const char *variant, const char *what)
{
	printf("FAIL %s [%s]: %s\n", file, variant, what);
	return 1;
}

static const struct { const char *name; GMimeAddressType type; } address_fields[] = {
	{ "From", GMIME_ADDRESS_TYPE_FROM }, { "To", GMIME_ADDRESS_TYPE_TO },
	{ "Cc", GMIME_ADDRESS_TYPE_CC }, { "Reply-To", GMIME_ADDRESS_TYPE_REPLY_TO },
	{ "Sender", GMIME_ADDRESS_TYPE_SENDER },
};

/* The header block as received, unfolded: one field per element. */
static GPtrArray *raw_fields(GMimeStream *in)
{
	GPtrArray *fields = g_ptr_array_new_with_free_func(g_free);
	GByteArray *b = g_byte_array_new();
	char buf[8192];
	ssize_t n;

	g_mime_stream_reset(in);
	while (b->len < (1u << 20) && (n = g_mime_stream_read(in, buf, sizeof(buf))) > 0)
		g_byte_array_append(b, (const guint8 *)buf, (guint)n);
	g_byte_array_append(b, (const guint8 *)"", 1);
	GString *f = NULL;
	for (char *l = (char *)b->data, *nl; l != NULL && *l; l = nl ? nl + 1 : NULL) {
		nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		if (len > 0 && l[len - 1] == '\r')
			len--;
		if (len == 0)
			break;
		if ((*l == ' ' || *l == '\t') && f != NULL) {
			g_string_append_len(f, l, (gssize)len);
			continue;
		}
		if (f != NULL)
			g_ptr_array_add(fields, g_string_free(f, FALSE));
		f = g_string_new_len(l, (gssize)len);
	}
	if (f != NULL)
		g_ptr_array_add(fields, g_string_free(f, FALSE));
	g_byte_array_free(b, TRUE);
	return fields;
}

/* The value of the first field `name` of fields, or NULL. */
static const char *first_field(const GPtrArray *fields, const char *name)
{
	size_t n = strlen(name);

	for (guint i = 0; i < fields->len; i++) {
		const char *f = g_ptr_array_index(fields, i);
		if (g_ascii_strncasecmp(f, name, n) == 0 && f[n] == ':')
			return f + n + 1;
	}
	return NULL;
}

/* The header block of the new message is clean and keeps the addresses
 * of the sender's address fields (first field of each name). */
static int check_headers(const char *file, const char *variant, GMimeStream *in, GMimeMessage *om,
			 const char *out, size_t outlen)
{
	const char *end = memmem(out, outlen, "\n\n", 2), *crlf = memmem(out, outlen, "\r\n\r\n", 4);
	GMimeStream *os = g_mime_stream_mem_new_with_buffer(out, outlen);
	GPtrArray *fields = raw_fields(in), *kept = raw_fields(os);
	int bad = 0;

	if (crlf != NULL && (end == NULL || crlf < end))
		end = crlf;
	for (const char *p = out; end != NULL && p < end; p++)
		if (((unsigned char)*p < 0x20 && *p != '\r' && *p != '\n' && *p != '\t') || *p == 0x7f) {
			bad += fail(file, variant, "a control byte in the new header block");
			break;
		}
	for (size_t k = 0; om != NULL && k < G_N_ELEMENTS(address_fields); k++) {
		const char *name = address_fields[k].name, *v = first_field(fields, name);
		const char *now = first_field(kept, name);

		if (v != NULL && now != NULL && strcmp(v, now) == 0)
			continue;   /* passed on as received: read as the sender wrote it */
		InternetAddressList *got = g_mime_message_get_addresses(om, address_fields[k].type);
		for (const char *lt = v ? strchr(v, '<') : NULL; lt != NULL; lt = strchr(lt + 1, '<')) {
			const char *gt = strchr(lt, '>');
			if (gt == NULL)
				break;
			char *want = g_strndup(lt + 1, (gsize)(gt - lt - 1));
			bool plain = strchr(want, '@') != NULL, found = false;
			for (const char *q = want; *q; q++)
				plain = plain && (unsigned char)*q > 0x20 && (unsigned char)*q < 0x7f && !strchr("<\"(,;:", *q);
			for (int i = 0; plain && got != NULL && i < internet_address_list_length(got); i++) {
				InternetAddress *a = internet_address_list_get_address(got, i);
				found = found || (INTERNET_ADDRESS_IS_MAILBOX(a) &&
					g_ascii_strcasecmp(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a)), want) == 0);
			}
			if (plain && !found) {
				char m[300];
				snprintf(m, sizeof(m), "%s lost the address <%.200s>", name, want);
				bad += fail(file, variant, m);
			}
			g_free(want);
		}
	}
	g_ptr_array_free(fields, TRUE);
	g_ptr_array_free(kept, TRUE);
	g_object_unref(os);
	return bad;
}

/* Check one conversion; returns the number of failures. */
static int check_one(const char *file, const char *variant, const struct tz_engine_options *opt,
		     GMimeStream *in, GHashTable *raw_by_sha)
{
	struct collect col = { g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref) };
	struct tz_part_sink sink = { &col, c_begin, c_write, NULL };
	struct tz_result *res = NULL;
	char err[TZ_ERRLEN], *outbuf = NULL;
	size_t outlen = 0;
	int bad = 0;
	FILE *mf;

	g_mime_stream_reset(in);
	if (tz_engine_convert(opt, in, "20260101-000000-000000-00000000", &sink, &res, err, sizeof(err)) != 0) {
		bad += fail(file, variant, err);
		goto out;
	}
	mf = open_memstream(&outbuf, &outlen);
	g_mime_stream_reset(in);
	if (tz_result_write_message(res, in, mf, err, sizeof(err)) != 0)
		bad += fail(file, variant, err);
	fclose(mf);

	/* Lines of the body and of our own headers (an edit's value may be
	 * folded with CRLF: RFC 5322's limit is per line, "Name: " included
	 * on the first). */
	for (guint i = 0; i < res->header_edits->len; i++) {
		const struct tz_header_edit *e = g_ptr_array_index(res->header_edits, i);
		const char *line = e->value;
		size_t first = strlen(e->name) + 2;
		while (line != NULL) {
			const char *nl = strstr(line, "\r\n");
			size_t n = nl ? (size_t)(nl - line) : strlen(line);
			if (first + n > 998)
				bad += fail(file, variant, "added header line over 998 octets");
			first = 0;
			line = nl ? nl + 2 : NULL;
		}
	}
	{
		const char *p = (const char *)res->body->data, *end = p + res->body->len;
		while (p < end) {
			const char *nl = memchr(p, '\n', end - p);
			if ((nl ? nl : end) - p > 998) {
				bad += fail(file, variant, "body line over 998 octets");
				break;
			}
			if (nl == NULL)
				break;
			p = nl + 1;
		}
	}

	/* Parse the new message: one text/plain leaf. */
	GMimeStream *os = g_mime_stream_mem_new_with_buffer(outbuf, outlen);
	GMimeParser *ps = g_mime_parser_new_with_stream(os);
	GMimeMessage *om = g_mime_parser_construct_message(ps, NULL);
	GMimeObject *top = om ? g_mime_message_get_mime_part(om) : NULL;
	GString *text = g_string_new(NULL);
	bad += check_headers(file, variant, in, om, outbuf, outlen);
	if (top == NULL || !GMIME_IS_TEXT_PART(top)
	    || !g_mime_content_type_is_type(g_mime_object_get_content_type(top), "text", "plain")) {
		bad += fail(file, variant, "output is not one text/plain part");
	} else {
		GByteArray *dec = g_byte_array_new();
		GMimeStream *md = g_mime_stream_mem_new_with_byte_array(dec);
		g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(md), FALSE);
		g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(GMIME_PART(top)), md);
		g_object_unref(md);
		if (opt->body_charset == TZ_BODY_ISO2022JP) {
			struct tz_decode_info info;
			for (guint k = 0; k < dec->len; k++)
				if (dec->data[k] >= 0x80 || dec->data[k] == 0) {
					bad += fail(file, variant, "ISO-2022-JP body is not 7-bit");
					break;
				}
			tz_charset_to_utf8("iso-2022-jp", (const char *)dec->data, dec->len, text, &info);
			if (info.replaced > 0)
				bad += fail(file, variant, "ISO-2022-JP body does not decode");
		} else {
			g_string_append_len(text, (const char *)dec->data, dec->len);
		}
		g_byte_array_free(dec, TRUE);
		if (!g_utf8_validate(text->str, (gssize)text->len, NULL))
			bad += fail(file, variant, "text is not valid UTF-8");
		if (opt->body_charset == TZ_BODY_UTF8 && strstr(text->str, "\xef\xbf\xbd") && !res->body_undecodable)
			bad += fail(file, variant, "U+FFFD in the text but nothing reported undecodable");
	}

	/* No stripped bytes in the output. */
	for (guint i = 0; i < res->parts->len && i < col.heads->len; i++) {
		const struct tz_part *p = g_ptr_array_index(res->parts, i);
		GByteArray *head = g_ptr_array_index(col.heads, i);
		GByteArray *raw = g_hash_table_lookup(raw_by_sha, p->sha256);
		bool binary = p->detected_type && !g_str_has_prefix(p->detected_type, "text/")
			      && !g_str_has_prefix(p->detected_type, "message/");
		if (binary && head->len >= 3 * WINDOW) {
			const void *win = head->data + head->len / 2;
			if (memmem(outbuf, outlen, win, WINDOW) || memmem(text->str, text->len, win, WINDOW)) {
				char m[200];
				snprintf(m, sizeof(m), "bytes of stripped part %u (%s) in the output", p->index, p->detected_type);
				bad += fail(file, variant, m);
			}
		}
		char *line = raw ? middle_line(raw) : NULL;
		if (line != NULL && (memmem(outbuf, outlen, line, strlen(line)) || strstr(text->str, line))) {
			char m[200];
			snprintf(m, sizeof(m), "encoded line of stripped part %u in the output (%s): %.60s", p->index,
				 memmem(outbuf, outlen, line, strlen(line)) ? "message" : "text", line);
			bad += fail(file, variant, m);
		}
		g_free(line);
	}
	g_string_free(text, TRUE);
	if (om)
		g_object_unref(om);
	g_object_unref(ps);
	g_object_unref(os);
out:
	free(outbuf);
	tz_result_free(res);
	g_ptr_array_free(col.heads, TRUE);
	return bad;
}

static int run_file(const char *dir, const char *name)
{
	static const struct { const char *label; enum tz_body_charset cs; enum tz_body_encoding enc; } variants[] = {
		{ "utf-8/base64", TZ_BODY_UTF8, TZ_ENC_BASE64 },
		{ "utf-8/qp", TZ_BODY_UTF8, TZ_ENC_QP },
		{ "iso-2022-jp", TZ_BODY_ISO2022JP, TZ_ENC_BASE64 },
	};
	char *path = g_build_filename(dir, name, NULL);
	GMimeStream *in = NULL;
	GHashTable *raw_by_sha = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
						       (GDestroyNotify)g_byte_array_unref);
	int bad = 0;
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		bad += fail(name, "-", "cannot open");
		goto out;
	}
	in = g_mime_stream_file_new(f);
	{
		GMimeParser *ps = g_mime_parser_new_with_stream(in);
		GMimeMessage *m = g_mime_parser_construct_message(ps, NULL);
		if (m && g_mime_message_get_mime_part(m))
			collect_leaves(g_mime_message_get_mime_part(m), raw_by_sha, 0);
		if (m)
			g_object_unref(m);
		g_object_unref(ps);
	}
	for (size_t v = 0; v < G_N_ELEMENTS(variants); v++) {
		struct tz_engine_options opt;
		tz_engine_options_init(&opt);
		opt.body_charset = variants[v].cs;
		opt.body_encoding = variants[v].enc;
		opt.subject_prefix = "[外部]";
		bad += check_one(name, variants[v].label, &opt, in, raw_by_sha);
	}
out:
	if (in)
		g_object_unref(in);
	g_hash_table_destroy(raw_by_sha);
	g_free(path);
	return bad;
}

static gint by_name(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	const char *dir = getenv("TZ_CORPUS");
	char *def = NULL;
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	DIR *d;
	struct dirent *e;
	int bad = 0, files_bad = 0;

	if (dir == NULL || *dir == '\0')
		dir = def = g_build_filename(TZ_TOP_SRCDIR, "..", "shared", "corpus", NULL);
	d = opendir(dir);
	if (d == NULL) {
		printf("SKIP: no corpus at %s\n", dir);
		g_free(def);
		g_ptr_array_free(names, TRUE);
		return 77;
	}
	while ((e = readdir(d)) != NULL)
		if (g_str_has_suffix(e->d_name, ".eml"))
			g_ptr_array_add(names, g_strdup(e->d_name));
	closedir(d);
	g_ptr_array_sort(names, by_name);
	tz_engine_global_init();
	for (guint i = 0; i < names->len; i++) {
		int b = run_file(dir, g_ptr_array_index(names, i));
		bad += b;
		files_bad += b > 0;
	}
	printf("corpus: %u messages, %d failing, %d failures\n", names->len, files_bad, bad);
	g_ptr_array_free(names, TRUE);
	g_free(def);
	return bad == 0 ? 0 : 1;
}
