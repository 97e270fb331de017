/* test_staff_docs.c — the "after" texts docs/operations.ja.md shows staff
 * (section 12: the notice and the release mail) are what the code writes.
 * conf/samples/sample-ja.eml goes through the real engine into a real
 * quarantine entry (as the milter stores it, with NoticeContact set), its
 * PDF is released through tz_queue_release to a file, and the notice and
 * the Japanese part of the release mail are compared with the blocks
 * marked `<!-- test: output id=notice-after -->` and `id=release-after`.
 * The only thing normalised is the 参照番号 (MMDD-CODE differs per run).
 * On a difference the test prints the text the code writes, to paste. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <gmime/gmime.h>

#include "tz_audit.h"
#include "tz_engine.h"
#include "tz_meta.h"
#include "tz_queue.h"
#include "tz_release.h"
#include "tz_store.h"
#include "tz_store_link.h"
#include "tz_store_testlib.h"
#include "tz_doc_testlib.h"

#define CONTACT "情報政策課(内線 1234)"

/* The 参照番号 differs per run: "1124-7QK2" becomes "MMDD-CODE". */
static char *normal(const char *s)
{
	GRegex *re = g_regex_new("\\b[0-9]{4}-[0-9A-Z]{4,6}\\b", 0, 0, NULL);
	char *out = g_regex_replace_literal(re, s, -1, 0, "MMDD-CODE", 0, NULL);

	g_regex_unref(re);
	return out;
}

static void same_as_doc(const char *id, const char *actual)
{
	char *want = tl_doc_block(id), *a = normal(actual), *w = want ? normal(want) : NULL;

	if (w == NULL || strcmp(a, w) != 0) {
		fprintf(stderr, "docs/operations.ja.md block %s differs from what the code writes:\n%s", id,
			actual);
		fail_msg("block %s %s", id, w ? "differs" : "missing");
	}
	g_free(want);
	g_free(a);
	g_free(w);
}

static char *decode(const GByteArray *b, GMimeContentEncoding enc)
{
	GMimeStream *src = g_mime_stream_mem_new_with_buffer((const char *)b->data, b->len);
	GMimeStream *f = g_mime_stream_filter_new(src);
	GMimeFilter *d = g_mime_filter_basic_new(enc, FALSE);
	GByteArray *a = g_byte_array_new();
	GMimeStream *dst = g_mime_stream_mem_new_with_byte_array(a);

	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(dst), FALSE);
	g_mime_stream_filter_add(GMIME_STREAM_FILTER(f), d);
	g_mime_stream_write_to_stream(f, dst);
	g_object_unref(d);
	g_object_unref(f);
	g_object_unref(src);
	g_object_unref(dst);
	g_byte_array_append(a, (const guint8 *)"", 1);
	return (char *)g_byte_array_free(a, FALSE);
}

/* The sample as the milter stores it; the notice text (up to its rule). */
static char *store_sample(struct tz_store *st, char id[TZ_ID_LEN])
{
	char err[TZ_ERRLEN], *path = g_build_filename(TZ_TOP_SRCDIR, "conf", "samples", "sample-ja.eml", NULL);
	struct tz_engine_options opt;
	struct tz_store_entry *e = tz_store_entry_begin(st, err, sizeof(err));
	struct tz_envelope *env = tl_envelope("yamada@example.co.jp", "soumu@city.example.lg.jp");
	GMimeStream *orig = g_mime_stream_file_open(path, "r", NULL), *in = g_mime_stream_file_open(path, "r", NULL);
	struct tz_result *res = NULL;
	char *text, *rule;

	assert_non_null(e);
	tz_engine_options_init(&opt);
	opt.body_encoding = TZ_ENC_QP;
	opt.notice_contact = CONTACT;
	opt.display_ref = tz_store_entry_ref(e);
	g_strlcpy(id, tz_store_entry_id(e), TZ_ID_LEN);
	assert_int_equal(tz_store_entry_put_original(e, orig, err, sizeof(err)), 0);
	assert_int_equal(tz_engine_convert(&opt, in, id, tz_store_entry_sink(e), &res, err, sizeof(err)), 0);
	assert_int_equal(tz_store_entry_commit(e, env, res, err, sizeof(err)), 0);
	text = decode(res->body, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	rule = strstr(text, "======");
	assert_non_null(rule);
	*rule = '\0';
	tz_result_free(res);
	tl_envelope_free(env);
	g_object_unref(orig);
	g_object_unref(in);
	g_free(path);
	return text;
}

/* The text part of the release mail, up to the English one. */
static char *release_note(const char *mail_path)
{
	GMimeStream *s = g_mime_stream_file_open(mail_path, "r", NULL);
	GMimeParser *parser = g_mime_parser_new_with_stream(s);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
	GMimeObject *first;
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *b;
	char *text, *en;

	assert_non_null(msg);
	assert_string_equal(g_mime_message_get_subject(msg), "【添付ファイルの送付】庁舎清掃業務のお見積りについて");
	first = g_mime_multipart_get_part(GMIME_MULTIPART(g_mime_message_get_mime_part(msg)), 0);
	g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(GMIME_PART(first)), mem);
	b = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	text = g_strndup((const char *)b->data, b->len);
	en = strstr(text, "\n--\n");
	assert_non_null(en);
	*en = '\0';   /* cut before the blank line and the "--" of the English part */
	g_object_unref(mem);
	g_object_unref(msg);
	g_object_unref(parser);
	g_object_unref(s);
	return text;
}

static void test_notice_and_release_as_documented(void **state)
{
	char *dir = tl_tmpdir(), err[TZ_ERRLEN], id[TZ_ID_LEN], *notice, *note;
	char *qdir = g_build_filename(dir, "q", NULL), *log = g_build_filename(dir, "audit.log", NULL);
	char *sent = g_build_filename(dir, "sent.eml", NULL), *cmd = g_strdup_printf("/usr/bin/tee '%s'", sent);
	char *key = tl_keyfile(dir, "q.key", 5), *relkey = tl_keyfile(dir, "r.key", 7);
	unsigned char rkey[TZ_KEY_LEN];
	struct tz_store *st = tz_store_open(qdir, key, err, sizeof(err));
	struct tz_audit *audit = tz_audit_open(log, NULL, err, sizeof(err));
	unsigned pdf = 2;
	struct tz_release_req req = { &pdf, 1, NULL, "suzuki", 0, NULL, 0 };
	struct tz_queue q = { 0 };
	struct tz_meta *m;
	int lock;

	(void)state;
	assert_non_null(st);
	assert_int_equal(tz_key_load(relkey, rkey, err, sizeof(err)), 0);
	tz_store_set_audit(st, audit);
	notice = store_sample(st, id);
	same_as_doc("notice-after", notice);
	/* the PDF found clean (the scanner's step; tested against clamd elsewhere) */
	lock = tz_store_lock(st, id, NULL, 0);
	m = tz_store_meta_read(st, id, NULL, 0);
	assert_string_equal(tz_meta_part_get(m, pdf)->filename, "見積書_2025年度.pdf");
	g_free(tz_meta_part_get(m, pdf)->state);
	tz_meta_part_get(m, pdf)->state = g_strdup(TZ_STATE_CLEAN);
	assert_int_equal(tz_store_meta_write(st, m, NULL, 0), 0);
	tz_meta_free(m);
	tz_store_unlock(st, lock);
	q.st = st;
	q.audit = audit;
	q.release_command = cmd;
	q.release_key = rkey;
	q.notice_contact = CONTACT;
	assert_int_equal(tz_queue_release(&q, id, &req, err, sizeof(err)), 0);
	note = release_note(sent);
	same_as_doc("release-after", note);
	g_free(note);
	g_free(notice);
	tz_audit_free(audit);
	tz_store_free(st);
	tl_rmrf(dir);
	g_free(dir);
	g_free(qdir);
	g_free(log);
	g_free(sent);
	g_free(cmd);
	g_free(key);
	g_free(relkey);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notice_and_release_as_documented),
	};

	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
