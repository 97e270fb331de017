/* test_queue.c — operations on the queue without a scanner: clamd down
 * leaves parts pending; export is byte-identical; release refuses pending
 * parts, is forced only on request and audited, and the mail it sends
 * carries a marker that tz_release_verify accepts and that fails for another
 * body, another key or a forged value; reject, purge, index queries and the
 * daily report; a state change the index refuses; commands without a shell
 * and with a time limit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "tz_audit.h"
#include "tz_clamd.h"
#include "tz_index.h"
#include "tz_proc.h"
#include "tz_queue.h"
#include "tz_queue_int.h"
#include "tz_release.h"
#include "tz_report.h"
#include "tz_store.h"
#include "tz_store_link.h"
#include "tz_store_testlib.h"

struct fixture {
	char *dir, *qdir, *log, *db, *key, *relkey, *sent;
	char *cmd;
	unsigned char rkey[TZ_KEY_LEN];
	struct tz_store *st;
	struct tz_audit *audit;
	struct tz_index *ix;
	struct tz_queue q;
	char id[TZ_ID_LEN];
	unsigned char *part2;
	size_t part2_len;
};

static char *store_entry(struct fixture *fx)
{
	char err[TZ_ERRLEN];
	struct tz_store_entry *e = tz_store_entry_begin(fx->st, err, sizeof(err));
	const struct tz_part_sink *sink = tz_store_entry_sink(e);
	struct tz_result *res = tl_result();
	struct tz_envelope *env = tl_envelope("sender@example.jp", "staff@city.example.lg.jp");
	GMimeStream *s = g_mime_stream_mem_new_with_buffer("Subject: x\n\nbody\n", 17);
	const char *contents[2] = { "MZ fake exe", NULL };
	char *id;

	contents[1] = (const char *)fx->part2;
	/* the sender's Subject, decoded: a bidi override, a control byte and
	 * a nested encoded word must not reach staff in the release mail */
	g_free(res->subject);
	res->subject = g_strdup("見積書 \xe2\x80\xae" "fdp.exe\x01 =?UTF-8?Q?=01?=");
	assert_int_equal(tz_store_entry_put_original(e, s, err, sizeof(err)), 0);
	for (unsigned i = 1; i <= 2; i++) {
		size_t len = i == 1 ? strlen(contents[0]) : fx->part2_len;
		struct tz_part *p = tl_part(i, i == 1 ? "invoice.pdf.exe" : "報告書.pdf", contents[i - 1], len,
					    i == 1 ? TZ_RISK_EXECUTABLE | TZ_RISK_DOUBLE_EXT : 0);
		g_ptr_array_add(res->parts, p);
		assert_int_equal(sink->begin(sink->ctx, p, err, sizeof(err)), 0);
		assert_int_equal(sink->write(sink->ctx, contents[i - 1], len, err, sizeof(err)), 0);
		assert_int_equal(sink->end(sink->ctx, p, err, sizeof(err)), 0);
	}
	id = g_strdup(tz_store_entry_id(e));
	assert_int_equal(tz_store_entry_commit(e, env, res, err, sizeof(err)), 0);
	g_object_unref(s);
	tl_result_free(res);
	tl_envelope_free(env);
	return id;
}

/* The second run keeps every entry in the segment store (store/). */
static int use_segments;

static int setup(void **state)
{
	struct fixture *fx = g_new0(struct fixture, 1);
	char err[TZ_ERRLEN], *id;

	fx->dir = tl_tmpdir();
	fx->qdir = g_build_filename(fx->dir, "q", NULL);
	fx->log = g_build_filename(fx->dir, "audit.log", NULL);
	fx->db = g_build_filename(fx->dir, "ix.db", NULL);
	fx->sent = g_build_filename(fx->dir, "sent.eml", NULL);
	fx->key = tl_keyfile(fx->dir, "q.key", 5);
	fx->relkey = tl_keyfile(fx->dir, "r.key", 7);
	fx->cmd = g_strdup_printf("/usr/bin/tee '%s'", fx->sent);
	assert_int_equal(tz_key_load(fx->relkey, fx->rkey, err, sizeof(err)), 0);
	fx->st = tz_store_open(fx->qdir, fx->key, err, sizeof(err));
	assert_non_null(fx->st);
	if (use_segments)
		assert_int_equal(tz_store_use_segments(fx->st, err, sizeof(err)), 0);
	fx->audit = tz_audit_open(fx->log, NULL, err, sizeof(err));
	fx->ix = tz_index_open(fx->db, 1000, err, sizeof(err));
	assert_non_null(fx->ix);
	tz_store_set_audit(fx->st, fx->audit);
	tz_store_set_index(fx->st, fx->db);
	fx->part2_len = 100000;
	fx->part2 = g_malloc(fx->part2_len);
	for (size_t i = 0; i < fx->part2_len; i++)
		fx->part2[i] = (unsigned char)(i * 13);
	id = store_entry(fx);
	g_strlcpy(fx->id, id, sizeof(fx->id));
	g_free(id);
	/* on the second run the entry is a record, not a directory */
	if (use_segments)
		assert_int_equal(tz_store_entry_open(fx->st, fx->id, err, sizeof(err)), -1);
	fx->q = (struct tz_queue){ fx->st, fx->audit, fx->ix, "/nonexistent/clamd.sock", 5, NULL, 10,
				   fx->cmd, fx->rkey, "security@city.example.lg.jp", 2, NULL, 0, NULL, NULL, NULL,
				   NULL, NULL, 0 };
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	tz_index_free(fx->ix);
	tz_audit_free(fx->audit);
	tz_store_free(fx->st);
	tl_rmrf(fx->dir);
	g_free(fx->dir);
	g_free(fx->qdir);
	g_free(fx->log);
	g_free(fx->db);
	g_free(fx->sent);
	g_free(fx->key);
	g_free(fx->relkey);
	g_free(fx->cmd);
	g_free(fx->part2);
	g_free(fx);
	return 0;
}

static const char *part_state(struct fixture *fx, unsigned part)
{
	static char buf[32];
	struct tz_meta *m = tz_store_meta_read(fx->st, fx->id, NULL, 0);

	assert_non_null(m);
	g_strlcpy(buf, tz_meta_part_get(m, part)->state, sizeof(buf));
	tz_meta_free(m);
	return buf;
}

/* Make a part clean the way the scanner would (the scanner itself is
 * exercised against the real clamd in tests/integration). */
static void mark(struct fixture *fx, unsigned part, const char *state)
{
	int lock = tz_store_lock(fx->st, fx->id, NULL, 0);
	struct tz_meta *m = tz_store_meta_read(fx->st, fx->id, NULL, 0);
	struct tz_meta_part *p = tz_meta_part_get(m, part);

	g_free(p->state);
	p->state = g_strdup(state);
	assert_int_equal(tz_store_meta_write(fx->st, m, NULL, 0), 0);
	tz_meta_free(m);
	tz_store_unlock(fx->st, lock);
}

/* tzq_set_str with v aliasing *dst (the part's own field, or a suffix
 * of it) keeps the value: it used to free before copying. */
static void test_set_str_alias(void **state)
{
	char *s = g_strdup("2026-12-03T08:00:00Z");

	(void)state;
	tzq_set_str(&s, s);
	assert_string_equal(s, "2026-12-03T08:00:00Z");
	tzq_set_str(&s, s + 11);
	assert_string_equal(s, "08:00:00Z");
	tzq_set_str(&s, NULL);
	assert_null(s);
}

static void test_scanner_down(void **state)
{
	struct fixture *fx = *state;
	char err[TZ_ERRLEN];
	struct tz_scan_count n = { 0, 0, 0 };

	assert_int_equal(tz_queue_scan_all(&fx->q, &n, err, sizeof(err)), 1);
	assert_int_equal(n.scanned, 0);
	assert_string_equal(part_state(fx, 1), "pending");
	assert_string_equal(part_state(fx, 2), "pending");
	fx->q.scanner_socket = "127.0.0.1:1";   /* nothing listens */
	assert_int_equal(tz_queue_scan_entry(&fx->q, fx->id, &n, err, sizeof(err)), 1);
	assert_string_equal(part_state(fx, 2), "pending");
	assert_int_equal(tz_clamd_parse_reply("stream: OK", NULL, 0), TZ_CLAMD_CLEAN);
	{
		char name[64];
		assert_int_equal(tz_clamd_parse_reply("stream: Eicar-Test.UNOFFICIAL FOUND", name, sizeof(name)),
				 TZ_CLAMD_FOUND);
		assert_string_equal(name, "Eicar-Test.UNOFFICIAL");
		assert_int_equal(tz_clamd_parse_reply("INSTREAM size limit exceeded. ERROR", name, sizeof(name)),
				 TZ_CLAMD_REFUSED);
		assert_int_equal(tz_clamd_parse_reply("", name, sizeof(name)), TZ_CLAMD_DOWN);
	}
}

static void test_export(void **state)
{
	struct fixture *fx = *state;
	char *out = g_build_filename(fx->dir, "out.pdf", NULL), err[TZ_ERRLEN];
	gchar *data;
	gsize len;

	assert_int_equal(tz_queue_export(&fx->q, fx->id, 2, out, 0, "alice", err, sizeof(err)), 0);
	assert_true(g_file_get_contents(out, &data, &len, NULL));
	assert_int_equal(len, fx->part2_len);
	assert_memory_equal(data, fx->part2, len);
	g_free(data);
	/* never overwrites; unknown part; original */
	assert_int_equal(tz_queue_export(&fx->q, fx->id, 2, out, 0, "alice", err, sizeof(err)), -1);
	unlink(out);
	assert_int_equal(tz_queue_export(&fx->q, fx->id, 9, out, 0, "alice", err, sizeof(err)), -1);
	assert_int_equal(tz_queue_export(&fx->q, fx->id, 0, out, 0, "alice", err, sizeof(err)), 0);
	assert_true(g_file_get_contents(out, &data, &len, NULL));
	assert_int_equal(len, 17);
	g_free(data);
	/* replace: a failed export leaves the old file; a good one replaces it */
	assert_int_equal(tz_queue_export(&fx->q, fx->id, 9, out, 1, "alice", err, sizeof(err)), -1);
	assert_true(g_file_get_contents(out, &data, &len, NULL));
	assert_int_equal(len, 17);
	g_free(data);
	assert_int_equal(tz_queue_export(&fx->q, fx->id, 2, out, 1, "alice", err, sizeof(err)), 0);
	assert_true(g_file_get_contents(out, &data, &len, NULL));
	assert_int_equal(len, fx->part2_len);
	g_free(data);
	g_free(out);
}

/* The marker in the sent mail verifies against its body only. */
static void check_sent_marker(struct fixture *fx)
{
	gchar *mail, *hdr, *eol, *value;
	gsize len;
	GMimeStream *s;
	char err[TZ_ERRLEN], other[TZ_KEY_LEN];

	assert_true(g_file_get_contents(fx->sent, &mail, &len, NULL));
	hdr = strstr(mail, "\nX-Textize-Release: ");
	assert_non_null(hdr);
	eol = strchr(hdr + 1, '\n');
	value = g_strndup(hdr + 20, (gsize)(eol - hdr - 20));
	assert_non_null(strstr(mail, "To: staff@city.example.lg.jp"));
	assert_non_null(strstr(mail, "From: security@city.example.lg.jp"));
	s = g_mime_stream_mem_new_with_buffer(mail, len);
	assert_int_equal(tz_release_verify(fx->rkey, value, s, err, sizeof(err)), 1);
	g_object_unref(s);
	/* CRLF line endings on the way do not matter */
	{
		GString *crlf = g_string_new(NULL);
		for (gsize i = 0; i < len; i++) {
			if (mail[i] == '\n')
				g_string_append_c(crlf, '\r');
			g_string_append_c(crlf, mail[i]);
		}
		s = g_mime_stream_mem_new_with_buffer(crlf->str, crlf->len);
		assert_int_equal(tz_release_verify(fx->rkey, value, s, err, sizeof(err)), 1);
		g_object_unref(s);
		g_string_free(crlf, TRUE);
	}
	/* another body */
	mail[len - 10] ^= 1;
	s = g_mime_stream_mem_new_with_buffer(mail, len);
	assert_int_equal(tz_release_verify(fx->rkey, value, s, err, sizeof(err)), 0);
	g_object_unref(s);
	mail[len - 10] ^= 1;
	/* another key */
	memcpy(other, fx->rkey, sizeof(other));
	other[0] ^= 1;
	s = g_mime_stream_mem_new_with_buffer(mail, len);
	assert_int_equal(tz_release_verify((unsigned char *)other, value, s, err, sizeof(err)), 0);
	g_object_unref(s);
	/* forged or malformed values */
	{
		char zero[65], forged[200];
		memset(zero, '0', 64);
		zero[64] = '\0';
		snprintf(forged, sizeof(forged), "%s 1 %s", fx->id, zero);
		assert_int_equal(tz_release_check(fx->rkey, forged, zero, err, sizeof(err)), 0);
		assert_int_equal(tz_release_check(fx->rkey, "20261124-082306-123456-0badcafe 1 00", zero, err, sizeof(err)), 0);
		assert_int_equal(tz_release_check(fx->rkey, "", zero, err, sizeof(err)), 0);
		assert_int_equal(tz_release_check(fx->rkey, NULL, zero, err, sizeof(err)), 0);
		/* a marker made with the key does pass */
		assert_int_equal(tz_release_marker(fx->rkey, fx->id, "1,2", zero, forged, sizeof(forged)), 0);
		assert_int_equal(tz_release_check(fx->rkey, forged, zero, err, sizeof(err)), 1);
		assert_int_equal(tz_release_marker(fx->rkey, "../x", "1", zero, forged, sizeof(forged)), -1);
	}
	g_free(value);
	g_free(mail);
}

static int rel(struct fixture *fx, const unsigned *parts, unsigned n, const char *to, const char *op,
	       int force, const char *reason, int again, char *err)
{
	struct tz_release_req r = { parts, n, to, op, force, reason, again };

	return tz_queue_release(&fx->q, fx->id, &r, err, TZ_ERRLEN);
}

/* What staff read in the release mail: a subject saying what it brings,
 * each file with the short 参照番号 they quoted (never the long entry id),
 * whom to ask (NoticeContact when set), no hashes or MIME types unless
 * NoticeDetails full; no 参照ID, 部分 or 解放. */
static void check_sent_wording(struct fixture *fx, unsigned part, const char *name)
{
	struct tz_meta *m = tz_store_meta_read(fx->st, fx->id, NULL, 0);
	const char *contact = fx->q.notice_contact ? fx->q.notice_contact : "情報セキュリティ担当";
	GMimeStream *s = g_mime_stream_file_open(fx->sent, "r", NULL);
	GMimeParser *parser;
	GMimeMessage *msg;
	GMimeObject *first;
	GMimeDataWrapper *w;
	GMimeStream *mem;
	GByteArray *bytes;
	char *text, *line;

	assert_non_null(s);
	parser = g_mime_parser_new_with_stream(s);
	msg = g_mime_parser_construct_message(parser, NULL);
	assert_non_null(msg);
	assert_true(g_str_has_prefix(g_mime_message_get_subject(msg), "【添付ファイルの送付】"));
	assert_non_null(strstr(g_mime_message_get_subject(msg), "見積書"));
	assert_null(strstr(g_mime_message_get_subject(msg), "\xe2\x80\xae"));
	for (const char *p = g_mime_message_get_subject(msg); *p; p++)
		assert_true((unsigned char)*p >= 0x20);
	first = g_mime_multipart_get_part(GMIME_MULTIPART(g_mime_message_get_mime_part(msg)), 0);
	w = g_mime_part_get_content(GMIME_PART(first));
	mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(w, mem);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	text = g_strndup((const char *)bytes->data, bytes->len);
	assert_non_null(m);
	assert_non_null(m->ref);
	line = g_strdup_printf("  お届けするファイル:\n    ・%s(参照番号: %s#%u)\n", name, m->ref, part);
	assert_non_null(strstr(text, line));
	g_free(line);
	line = g_strdup_printf("\nご不明な点は、参照番号を添えて%sへお問い合わせください。\n", contact);
	assert_non_null(strstr(text, line));
	assert_null(strstr(text, fx->id));
	assert_true((strstr(text, "SHA-256: ") != NULL) == (fx->q.notice_details != 0));
	assert_true((strstr(text, "MIME: application/pdf") != NULL) == (fx->q.notice_details != 0));
	assert_non_null(strstr(text, "情報セキュリティ担当が\n確認したうえでお届けする"));
	assert_null(strstr(text, "参照ID"));
	assert_null(strstr(text, "部分"));
	assert_null(strstr(text, "解放"));
	g_free(line);
	g_free(text);
	g_object_unref(mem);
	g_object_unref(msg);
	g_object_unref(parser);
	g_object_unref(s);
	tz_meta_free(m);
}

static void test_release(void **state)
{
	struct fixture *fx = *state;
	char err[TZ_ERRLEN];
	unsigned two = 2;
	unsigned long records, bad;

	/* pending: refused */
	assert_int_equal(rel(fx, &two, 1, NULL, "alice", 0, NULL, 0, err), -1);
	assert_non_null(strstr(err, "pending"));
	assert_int_equal(access(fx->sent, F_OK), -1);
	mark(fx, 2, "clean");
	assert_int_equal(rel(fx, NULL, 0, NULL, "alice", 0, NULL, 0, err), 0);
	assert_string_equal(part_state(fx, 2), "released");
	assert_string_equal(part_state(fx, 1), "pending");
	check_sent_marker(fx);
	check_sent_wording(fx, 2, "報告書.pdf");
	assert_int_equal(tz_audit_verify(fx->log, NULL, &records, &bad, err, sizeof(err)), 0);
	/* NoticeContact names whom to ask; NoticeDetails full adds type and hash */
	fx->q.notice_contact = "情報政策課(内線 1234)";
	fx->q.notice_details = 1;
	assert_int_equal(rel(fx, &two, 1, NULL, "alice", 0, NULL, 1, err), 0);
	check_sent_wording(fx, 2, "報告書.pdf");
	fx->q.notice_contact = NULL;
	fx->q.notice_details = 0;
	/* a failing release command changes nothing */
	fx->q.release_command = "/bin/false";
	mark(fx, 2, "clean");
	assert_int_equal(rel(fx, &two, 1, NULL, "alice", 0, NULL, 0, err), -1);
	assert_string_equal(part_state(fx, 2), "clean");
	fx->q.release_command = fx->cmd;
	fx->q.release_key = NULL;
	assert_int_equal(rel(fx, &two, 1, NULL, "alice", 0, NULL, 0, err), -1);
	fx->q.release_key = fx->rkey;
}

static int count_in(const char *path, const char *needle)
{
	gchar *text = NULL;
	int n = 0;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return 0;
	for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	g_free(text);
	return n;
}

/* The text part of the sent mail, decoded. */
static char *sent_text(struct fixture *fx)
{
	gchar *mail, *b, *end, *b64;
	guchar *dec;
	gsize len;

	assert_true(g_file_get_contents(fx->sent, &mail, NULL, NULL));
	b = strstr(mail, "Content-Transfer-Encoding: base64\n\n");
	assert_non_null(b);
	b += strlen("Content-Transfer-Encoding: base64\n\n");
	end = strstr(b, "\n--");
	b64 = g_strndup(b, (gsize)(end - b));
	dec = g_base64_decode(b64, &len);
	g_free(b64);
	g_free(mail);
	dec = g_realloc(dec, len + 1);
	dec[len] = '\0';
	return (char *)dec;
}

/* Issue 13.2: an infected or rejected part goes only with --force, a
 * reason and a second operator's approval; every step is audited; the mail
 * says at the top that it was forced; a released part is not sent again
 * unless asked (--again). */
/* A forced request records its forced parts only: one that also names a
 * clean part is refused (the clean part would be neither sent nor kept). */
static void test_forced_request_not_mixed(void **state)
{
	struct fixture *fx = *state;
	char err[TZ_ERRLEN];
	unsigned both[2] = { 1, 2 };

	fx->q.force_approvals = 2;
	mark(fx, 1, "infected");
	mark(fx, 2, "clean");
	assert_int_equal(rel(fx, both, 2, NULL, "alice", 1, "vendor confirmed", 0, err), -1);
	assert_non_null(strstr(err, "release the clean parts first"));
	assert_int_equal(access(fx->sent, F_OK), -1);
	assert_string_equal(part_state(fx, 2), "clean");
}

static void test_forced_release_needs_approval(void **state)
{
	struct fixture *fx = *state;
	char err[TZ_ERRLEN], *text;
	unsigned one = 1;
	unsigned long records, bad;
	gchar *log;

	fx->q.force_approvals = 2;
	mark(fx, 1, "infected");
	/* not without --force, not without a reason */
	assert_int_equal(rel(fx, &one, 1, NULL, "alice", 0, NULL, 0, err), -1);
	assert_int_equal(rel(fx, &one, 1, NULL, "alice", 1, NULL, 0, err), -1);
	assert_non_null(strstr(err, "--reason"));
	assert_int_equal(rel(fx, &one, 1, NULL, "alice", 1, "", 0, err), -1);
	/* with both: a request, nothing sent */
	assert_int_equal(rel(fx, &one, 1, NULL, "alice", 1, "vendor confirmed false positive", 0, err), 1);
	assert_int_equal(access(fx->sent, F_OK), -1);
	assert_string_equal(part_state(fx, 1), "infected");
	/* the requester cannot approve it, nor can a part without request be */
	assert_int_equal(tz_queue_approve(&fx->q, fx->id, 1, "alice", err, sizeof(err)), -1);
	assert_int_equal(tz_queue_approve(&fx->q, fx->id, 2, "bob", err, sizeof(err)), -1);
	assert_int_equal(access(fx->sent, F_OK), -1);
	/* a second operator approves: sent, with the warning on top */
	assert_int_equal(tz_queue_approve(&fx->q, fx->id, 1, "bob", err, sizeof(err)), 0);
	assert_string_equal(part_state(fx, 1), "released");
	text = sent_text(fx);
	assert_true(g_str_has_prefix(text, "【注意】"));
	/* whom to ask before opening it; no English line in the Japanese part */
	assert_non_null(strstr(text, "開く前に、本当に必要かどうかを\n情報セキュリティ担当にご確認ください。"));
	assert_true(strstr(text, "Forced release") > strstr(text, "\n--\n"));
	g_free(text);
	assert_int_equal(tz_audit_verify(fx->log, NULL, &records, &bad, err, sizeof(err)), 0);
	assert_true(g_file_get_contents(fx->log, &log, NULL, NULL));
	assert_non_null(strstr(log, "\"event\":\"release_requested\",\"operator\":\"alice\""));
	assert_non_null(strstr(log, "vendor confirmed false positive"));
	assert_non_null(strstr(log, "\"event\":\"approved\",\"operator\":\"bob\""));
	assert_non_null(strstr(log, "\"event\":\"released\",\"operator\":\"bob\""));
	assert_non_null(strstr(log, "FORCED"));
	g_free(log);
	/* released once: not again unless asked, and then on record */
	unlink(fx->sent);
	assert_int_equal(rel(fx, &one, 1, NULL, "alice", 0, NULL, 0, err), -1);
	assert_non_null(strstr(err, "--again"));
	assert_int_equal(access(fx->sent, F_OK), -1);
	assert_int_equal(rel(fx, &one, 1, NULL, "alice", 0, NULL, 1, err), 0);
	assert_int_equal(access(fx->sent, F_OK), 0);
	assert_int_equal(count_in(fx->log, " AGAIN"), 1);
	/* a rejected part needs the same; ForceReleaseApprovals 1 = the
	 * requester alone, still with a reason and still FORCED */
	fx->q.force_approvals = 1;
	mark(fx, 2, "rejected");
	unlink(fx->sent);
	{
		unsigned two = 2;
		assert_int_equal(rel(fx, &two, 1, NULL, "carol", 1, NULL, 0, err), -1);
		assert_int_equal(rel(fx, &two, 1, NULL, "carol", 1, "court order", 0, err), 0);
	}
	assert_int_equal(count_in(fx->log, "FORCED"), 2);
	text = sent_text(fx);
	assert_true(g_str_has_prefix(text, "【注意】"));
	g_free(text);
}

struct racer {
	struct fixture *fx;
	int rc;
};

static void *race_release(void *arg)
{
	struct racer *r = arg;
	char err[TZ_ERRLEN];
	unsigned two = 2;

	r->rc = rel(r->fx, &two, 1, NULL, "alice", 0, NULL, 0, err);
	return NULL;
}

/* Issue 13.2: two releases of one part at the same time deliver it once. */
static void test_concurrent_release_once(void **state)
{
	struct fixture *fx = *state;
	struct racer a = { fx, 9 }, b = { fx, 9 };
	pthread_t ta, tb;

	g_free(fx->cmd);
	fx->cmd = g_strdup_printf("/usr/bin/tee -a '%s'", fx->sent);
	fx->q.release_command = fx->cmd;
	mark(fx, 2, "clean");
	assert_int_equal(pthread_create(&ta, NULL, race_release, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, race_release, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.rc + b.rc, -1);        /* one 0, one -1 */
	assert_int_equal(count_in(fx->sent, "\nX-Textize-Release: "), 1);
	assert_int_equal(count_in(fx->log, "\"event\":\"released\""), 1);
}

static int count_lines(const char *s)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, "\r\n")) != NULL; p += 2)
		n++;
	return n;
}

static void test_reject_index_report(void **state)
{
	struct fixture *fx = *state;
	char err[TZ_ERRLEN], *html, *csv, *json;
	struct tz_index_filter f = { 0 };
	GPtrArray *rows;
	struct tz_report *r;
	unsigned bad;

	assert_int_equal(tz_queue_reject(&fx->q, fx->id, 1, "alice", "executable", err, sizeof(err)), 0);
	assert_string_equal(part_state(fx, 1), "rejected");
	assert_int_equal(tz_queue_reject(&fx->q, fx->id, 7, "alice", NULL, err, sizeof(err)), -1);
	assert_true(tz_index_sync(fx->ix, fx->st, 0, &bad, err, sizeof(err)) >= 0);
	f.flag = TZ_RISK_EXECUTABLE;
	assert_int_equal(tz_index_query(fx->ix, &f, &rows, err, sizeof(err)), 0);
	assert_int_equal(rows->len, 1);
	assert_string_equal(((struct tz_index_row *)g_ptr_array_index(rows, 0))->state, "rejected");
	g_ptr_array_unref(rows);
	f.flag = 0;
	f.rcpt = "STAFF@city";
	f.state = "pending";
	assert_int_equal(tz_index_query(fx->ix, &f, &rows, err, sizeof(err)), 0);
	assert_int_equal(rows->len, 1);
	g_ptr_array_unref(rows);
	f.from = "nobody";
	assert_int_equal(tz_index_query(fx->ix, &f, &rows, err, sizeof(err)), 0);
	assert_int_equal(rows->len, 0);
	g_ptr_array_unref(rows);
	/* full rebuild gives the same */
	assert_int_equal(tz_index_sync(fx->ix, fx->st, 1, &bad, err, sizeof(err)), 1);

	r = tz_report_daily(fx->ix, NULL, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(r->entries, 1);
	assert_int_equal(r->parts, 2);
	html = tz_report_html(r);
	csv = tz_report_csv(r);
	json = tz_report_json(r);
	assert_non_null(strstr(html, "<svg"));
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "http:/" "/example"));
	assert_non_null(strstr(html, "example.jp"));
	/* CSV for Excel: BOM, Japanese header, one row per file, local time
	 * YYYY/MM/DD HH:MM:SS, Japanese names; JSON keeps the tokens */
	assert_memory_equal(csv, "\xEF\xBB\xBF" "受信日時,参照番号,", 3 + strlen("受信日時,参照番号,"));
	assert_int_equal(count_lines(csv), 3);
	assert_non_null(strstr(csv, ",\"invoice.pdf.exe\",\"PDF 文書\",\"添付ファイル\",11,\"実行ファイル、二重拡張子\",\"送付しない(拒否)\","));
	assert_true(g_regex_match_simple("\r\n20[0-9]{2}/[01][0-9]/[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9],\"[0-9]{4}-[0-9A-Z]{4,6}#1\",",
					 csv, 0, 0));
	assert_null(strstr(csv, "Z,"));
	assert_non_null(strstr(json, "\"entries\":1"));
	assert_non_null(strstr(json, "{\"label\":\"executable\",\"count\":1}"));
	assert_non_null(strstr(json, "\"state\":\"rejected\""));
	/* HTML: Japanese words, no machine tokens */
	assert_non_null(strstr(html, "実行ファイル"));
	assert_non_null(strstr(html, "送付しない(拒否)"));
	assert_non_null(strstr(html, "検査待ち"));
	assert_null(strstr(html, ">executable<"));
	assert_null(strstr(html, ">rejected<"));
	assert_null(strstr(html, ">pending<"));
	assert_non_null(strstr(html, "Noto Sans CJK JP"));
	g_free(html);
	g_free(csv);
	g_free(json);
	tz_report_free(r);
	assert_null(tz_report_daily(fx->ix, "2026-13-01", err, sizeof(err)));
}

/* A state change the index refuses (here a trigger fails every part insert)
 * must not leave the old state listed: the entry's rows are dropped with a
 * warning, and the next catch-up shows the new state from meta.json. */
/* ---- a clamd that finds EICAR in everything ----
 * Speaks the INSTREAM protocol for `n` connections: reads chunks up to the
 * zero-length one, answers FOUND. Enough to drive tz_queue_scan_* as the
 * real clamd would (tests/integration runs the real one). */
struct fake_clamd {
	int lfd;
	unsigned n;
	pthread_t th;
};

static int read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t k = read(fd, (char *)buf + got, len - got);
		if (k <= 0)
			return -1;
		got += (size_t)k;
	}
	return 0;
}

static void *fake_clamd_run(void *arg)
{
	struct fake_clamd *fc = arg;
	static const char reply[] = "stream: Eicar-Test-Signature FOUND";

	for (unsigned i = 0; i < fc->n; i++) {
		int fd = accept(fc->lfd, NULL, NULL);
		char cmd[10], buf[4096];
		uint32_t be;
		if (fd < 0)
			break;
		if (read_full(fd, cmd, sizeof(cmd)) == 0) {
			while (read_full(fd, &be, 4) == 0 && ntohl(be) != 0) {
				uint32_t left = ntohl(be);
				while (left > 0) {
					size_t k = MIN(left, sizeof(buf));
					if (read_full(fd, buf, k) < 0)
						break;
					left -= (uint32_t)k;
				}
			}
			if (write(fd, reply, sizeof(reply)) < 0)
				fprintf(stderr, "fake clamd: write failed\n");
		}
		close(fd);
	}
	return NULL;
}

static char *fake_clamd_start(struct fixture *fx, struct fake_clamd *fc, unsigned n)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *path = g_build_filename(fx->dir, "clamd.sock", NULL);

	g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	fc->n = n;
	fc->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fc->lfd >= 0);
	assert_int_equal(bind(fc->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fc->lfd, 4), 0);
	assert_int_equal(pthread_create(&fc->th, NULL, fake_clamd_run, fc), 0);
	return path;
}

static const struct tz_report_row *report_row(const struct tz_report *r, const char *sec,
					      const char *label)
{
	for (guint i = 0; i < r->sections->len; i++) {
		const struct tz_report_section *s = g_ptr_array_index(r->sections, i);
		if (strcmp(s->key, sec) != 0)
			continue;
		for (guint k = 0; k < s->rows->len; k++) {
			const struct tz_report_row *row = g_ptr_array_index(s->rows, k);
			if (strcmp(row->label, label) == 0)
				return row;
		}
	}
	return NULL;
}

/* Issue 13.1: the report counts what happened, not the states now. Both
 * parts are found infected by the scanner, then both rejected (the team's
 * normal next step): the day's report still shows two detections and the
 * signature, and the two rejections. */
static void test_report_counts_events(void **state)
{
	struct fixture *fx = *state;
	struct fake_clamd fc;
	char err[TZ_ERRLEN], *sock, *csv, *html;
	struct tz_report *r;
	const struct tz_report_row *row;
	struct tz_scan_count n;
	unsigned bad;

	sock = fake_clamd_start(fx, &fc, 2);
	fx->q.scanner_socket = sock;
	assert_int_equal(tz_queue_scan_all(&fx->q, &n, err, sizeof(err)), 0);
	pthread_join(fc.th, NULL);
	close(fc.lfd);
	assert_int_equal(n.scanned, 2);
	assert_int_equal(n.infected, 2);   /* the fake clamd finds Eicar in both */
	assert_int_equal(n.failed, 0);
	assert_string_equal(part_state(fx, 1), "infected");
	assert_int_equal(tz_queue_reject(&fx->q, fx->id, 0, "alice", "eicar", err, sizeof(err)), 0);
	assert_string_equal(part_state(fx, 1), "rejected");
	assert_string_equal(part_state(fx, 2), "rejected");
	assert_true(tz_index_sync(fx->ix, fx->st, 0, &bad, err, sizeof(err)) >= 0);

	r = tz_report_daily(fx->ix, NULL, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(tz_report_add_events(r, fx->log, err, sizeof(err)), 0);
	assert_int_equal(r->bad_events, 0);
	row = report_row(r, "events", "detected");
	assert_non_null(row);
	assert_int_equal(row->count, 2);
	row = report_row(r, "signatures", "Eicar-Test-Signature");
	assert_non_null(row);
	assert_int_equal(row->count, 2);
	assert_int_equal(report_row(r, "events", "rejected")->count, 2);
	assert_int_equal(report_row(r, "events", "released")->count, 0);
	csv = tz_report_csv(r);
	html = tz_report_html(r);
	/* the files with their detections (CSV), the rejections as actions
	 * with the operator and reason (HTML), in Japanese */
	assert_non_null(strstr(csv, ",\"送付しない(拒否)\",\"Eicar-Test-Signature\","));
	assert_non_null(strstr(html, "Eicar-Test-Signature"));
	assert_non_null(strstr(html, "<td>ウイルス検知</td><td class=\"n\">2</td>"));
	assert_int_equal(r->actions->len, 2);
	assert_non_null(strstr(html, "<td>拒否</td><td>alice</td>"));
	assert_non_null(strstr(html, "理由: eicar"));
	g_free(csv);
	g_free(html);
	tz_report_free(r);
	/* another day counts nothing of today */
	r = tz_report_daily(fx->ix, "2001-01-01", err, sizeof(err));
	assert_int_equal(tz_report_add_events(r, fx->log, err, sizeof(err)), 0);
	assert_int_equal(report_row(r, "events", "detected")->count, 0);
	tz_report_free(r);
	/* no AuditLog: refused rather than a report that misses everything */
	r = tz_report_daily(fx->ix, NULL, err, sizeof(err));
	assert_int_equal(tz_report_add_events(r, NULL, err, sizeof(err)), -1);
	tz_report_free(r);
	unlink(sock);
	g_free(sock);
}

/* Issue 13.3: cells a spreadsheet would evaluate get a leading quote;
 * others are left alone (the integration test reads a whole CSV back with
 * Python's csv module). */
static void test_csv_neutralised(void **state)
{
	static const char *const risky[] = { "=HYPERLINK(\"http://evil.example/\",\"x\")", "+1", "-2+3",
					     "@SUM(A1)", "\tx", "\rx" };
	GString *s = g_string_new(NULL);

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(risky); i++) {
		g_string_truncate(s, 0);
		tz_report_csv_field(s, risky[i]);
		assert_memory_equal(s->str, "\"'", 2);
	}
	g_string_truncate(s, 0);
	tz_report_csv_field(s, "請求書 = \"x\"");
	assert_string_equal(s->str, "\"請求書 = \"\"x\"\"\"");
	g_string_truncate(s, 0);
	tz_report_csv_field(s, "");
	assert_string_equal(s->str, "\"\"");
	g_string_free(s, TRUE);
}

static void test_index_refresh_fails(void **state)
{
	struct fixture *fx = *state;
	sqlite3 *db = tz_index_db(fx->ix);
	char err[TZ_ERRLEN];
	struct tz_index_filter f = { 0 };
	GPtrArray *rows;
	unsigned bad;

	assert_int_equal(tz_index_sync(fx->ix, fx->st, 0, &bad, err, sizeof(err)), 0);
	assert_int_equal(sqlite3_exec(db, "CREATE TRIGGER no_parts BEFORE INSERT ON parts"
				      " BEGIN SELECT RAISE(ABORT, 'refused'); END", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(tz_queue_reject(&fx->q, fx->id, 0, "alice", NULL, err, sizeof(err)), 0);
	assert_string_equal(part_state(fx, 1), "rejected");
	assert_int_equal(tz_index_query(fx->ix, &f, &rows, err, sizeof(err)), 0);
	assert_int_equal(rows->len, 0);   /* dropped, not stale */
	g_ptr_array_unref(rows);
	assert_int_equal(sqlite3_exec(db, "DROP TRIGGER no_parts", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(tz_index_sync(fx->ix, fx->st, 0, &bad, err, sizeof(err)), 1);
	f.state = "pending";
	assert_int_equal(tz_index_query(fx->ix, &f, &rows, err, sizeof(err)), 0);
	assert_int_equal(rows->len, 0);
	g_ptr_array_unref(rows);
	f.state = "rejected";
	assert_int_equal(tz_index_query(fx->ix, &f, &rows, err, sizeof(err)), 0);
	assert_int_equal(rows->len, 2);
	g_ptr_array_unref(rows);
}

static void test_purge(void **state)
{
	struct fixture *fx = *state;
	char err[TZ_ERRLEN];
	unsigned removed;
	GPtrArray *ids;

	assert_int_equal(tz_queue_purge(&fx->q, 1, "retention", &removed, err, sizeof(err)), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(tz_queue_purge(&fx->q, 0, "retention", &removed, err, sizeof(err)), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(tz_store_list(fx->st, &ids, err, sizeof(err)), 0);
	assert_int_equal(ids->len, 0);
	g_ptr_array_unref(ids);
}

static void test_proc(void **state)
{
	char err[TZ_ERRLEN];
	char **argv;

	(void)state;
	argv = tz_proc_argv("/bin/sleep 5", NULL, NULL, err, sizeof(err));
	assert_int_equal(tz_proc_run(argv, -1, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "killed"));
	g_strfreev(argv);
	argv = tz_proc_argv("/bin/cp '%i' %o.x; rm -rf /", "/in put", "/out", err, sizeof(err));
	assert_string_equal(argv[1], "/in put");
	assert_string_equal(argv[2], "/out.x;");   /* no shell: just words */
	g_strfreev(argv);
	argv = tz_proc_argv("sh -c true", NULL, NULL, err, sizeof(err));
	assert_int_equal(tz_proc_run(argv, -1, 1, err, sizeof(err)), -1);   /* not absolute */
	g_strfreev(argv);
	assert_null(tz_proc_argv("/bin/echo 'unterminated", NULL, NULL, err, sizeof(err)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_str_alias),
		cmocka_unit_test_setup_teardown(test_scanner_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forced_release_needs_approval, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forced_request_not_mixed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_release_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reject_index_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_counts_events, setup, teardown),
		cmocka_unit_test(test_csv_neutralised),
		cmocka_unit_test_setup_teardown(test_index_refresh_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge, setup, teardown),
		cmocka_unit_test(test_proc),
	};

	int rc;

	g_mime_init();
	rc = cmocka_run_group_tests_name("directory layout", tests, NULL, NULL);
	use_segments = 1;
	return rc | cmocka_run_group_tests_name("segment store", tests, NULL, NULL);
}
