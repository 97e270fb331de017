/* test_cdr_queue.c — the sanitize worker over a real quarantine entry
 * (sanitize/tz_cdr_queue.c): a PDF part and a text part become
 * "sanitized" with a CDR copy stored encrypted next to the original, whose
 * recorded SHA-256 and size match what the store gives back; an executable
 * becomes "unsanitizable" with the reason in its note; an infected part is
 * left alone; every decision is in the audit log; a second run finds
 * nothing to do. With SanitizedDelivery auto, one mail goes to the
 * original recipients with the two copies, named and typed as what they
 * are now (報告書.pdf application/pdf), a release marker the milter accepts,
 * and a note that names the original mail and lists the executable that
 * was not sanitized; the delivered parts become released. Skipped when
 * bwrap or poppler is not installed. A part altered on disk is decided
 * unsanitizable without stopping the others. A part claimed by another
 * process is left to it; two worker processes of two conversions each
 * racing over three entries decide every part once, store one copy per
 * sanitized part and send one mail per entry. */
#define _GNU_SOURCE
#include <sys/file.h>
#include <sys/wait.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tz_audit.h"
#include "tz_cdr_queue.h"
#include "tz_index.h"
#include "tz_crypt.h"
#include "tz_meta.h"
#include "tz_release.h"
#include "tz_store.h"
#include "tz_store_link.h"
#include "tz_store_testlib.h"

/* A one-page PDF written by hand; the xref offsets are not exact, which
 * poppler repairs, as it must for the mail it will meet. */
static const char pdf[] =
	"%PDF-1.4\n"
	"1 0 obj << /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >> endobj\n"
	"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
	"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R "
	"/Resources << /Font << /F1 6 0 R >> >> >> endobj\n"
	"4 0 obj << /Length 44 >> stream\nBT /F1 24 Tf 20 100 Td (Hello 4711) Tj ET\nendstream endobj\n"
	"5 0 obj << /S /JavaScript /JS (app.alert(1)) >> endobj\n"
	"6 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj\n"
	"trailer << /Root 1 0 R >>\n%%EOF\n";

struct fixture {
	char *dir, *qdir, *log, *key;
	struct tz_store *st;
	struct tz_audit *audit;
	char id[TZ_ID_LEN];
};

static const char *contents[4];
static size_t lens[4];

static void store_entry(struct fixture *fx)
{
	char err[TZ_ERRLEN];
	struct tz_store_entry *e = tz_store_entry_begin(fx->st, err, sizeof(err));
	const struct tz_part_sink *sink = tz_store_entry_sink(e);
	struct tz_result *res = tl_result();
	struct tz_envelope *env = tl_envelope("sender@example.jp", "staff@city.example.lg.jp");
	GMimeStream *s = g_mime_stream_mem_new_with_buffer("Subject: x\n\nbody\n", 17);
	static const char *names[4] = { "tool.exe", "報告書.pdf", "memo.txt", "virus.pdf" };

	contents[0] = "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00";
	contents[1] = pdf;
	contents[2] = "見積書の件\nよろしくお願いいたします。\n";
	contents[3] = pdf;
	for (int i = 0; i < 4; i++)
		lens[i] = i == 0 ? 16 : strlen(contents[i]);
	assert_int_equal(tz_store_entry_put_original(e, s, err, sizeof(err)), 0);
	for (unsigned i = 1; i <= 4; i++) {
		struct tz_part *p = tl_part(i, names[i - 1], contents[i - 1], lens[i - 1], 0);
		g_ptr_array_add(res->parts, p);
		assert_int_equal(sink->begin(sink->ctx, p, err, sizeof(err)), 0);
		assert_int_equal(sink->write(sink->ctx, contents[i - 1], lens[i - 1], err, sizeof(err)), 0);
		assert_int_equal(sink->end(sink->ctx, p, err, sizeof(err)), 0);
	}
	g_strlcpy(fx->id, tz_store_entry_id(e), sizeof(fx->id));
	assert_int_equal(tz_store_entry_commit(e, env, res, err, sizeof(err)), 0);
	g_object_unref(s);
	tl_result_free(res);
	tl_envelope_free(env);
}

static int setup(void **state)
{
	struct fixture *fx = g_new0(struct fixture, 1);
	char err[TZ_ERRLEN];
	int lock;
	struct tz_meta *m;

	fx->dir = tl_tmpdir();
	fx->qdir = g_build_filename(fx->dir, "q", NULL);
	fx->log = g_build_filename(fx->dir, "audit.log", NULL);
	fx->key = tl_keyfile(fx->dir, "q.key", 5);
	fx->st = tz_store_open(fx->qdir, fx->key, err, sizeof(err));
	fx->audit = tz_audit_open(fx->log, NULL, err, sizeof(err));
	assert_non_null(fx->st);
	assert_non_null(fx->audit);
	tz_store_set_audit(fx->st, fx->audit);
	store_entry(fx);
	/* part 4 as the scanner leaves an infected part */
	lock = tz_store_lock(fx->st, fx->id, NULL, 0);
	m = tz_store_meta_read(fx->st, fx->id, NULL, 0);
	g_free(tz_meta_part_get(m, 4)->state);
	tz_meta_part_get(m, 4)->state = g_strdup(TZ_STATE_INFECTED);
	assert_int_equal(tz_store_meta_write(fx->st, m, NULL, 0), 0);
	tz_meta_free(m);
	tz_store_unlock(fx->st, lock);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	tz_audit_free(fx->audit);
	tz_store_free(fx->st);
	tl_rmrf(fx->dir);
	g_free(fx->dir);
	g_free(fx->qdir);
	g_free(fx->log);
	g_free(fx->key);
	g_free(fx);
	return 0;
}

/* The plaintext of file fname of the entry, and the raw bytes on disk. */
static GByteArray *plain(struct fixture *fx, const char *fname)
{
	GByteArray *b = g_byte_array_new();
	char err[TZ_ERRLEN];

	assert_int_equal(tz_store_file_read(fx->st, fx->id, fname, tl_collect, b, err, sizeof(err)), 0);
	return b;
}

static void test_worker(void **state)
{
	struct fixture *fx = *state;
	struct tz_cdr_queue q = { .st = fx->st, .audit = fx->audit, .deliver = NULL, .workers = 1 };
	struct tz_meta *m;
	struct tz_meta_part *p;
	char err[TZ_ERRLEN], sha[65], *log = NULL;
	unsigned done = 0;
	GByteArray *b;

	if (access("/usr/bin/bwrap", X_OK) != 0 || access("/usr/bin/pdftoppm", X_OK) != 0 ||
	    access("/usr/bin/img2pdf", X_OK) != 0)
		skip();
	tz_cdr_opts_default(&q.opts);
	q.opts.ocr = false;
	q.opts.dpi = 50;
	assert_int_equal(tz_cdr_queue_entry(&q, fx->id, &done, err, sizeof(err)), 0);
	assert_int_equal(done, 3);
	m = tz_store_meta_read(fx->st, fx->id, err, sizeof(err));
	assert_non_null(m);

	p = tz_meta_part_get(m, 1);
	assert_string_equal(p->state, TZ_STATE_UNSANITIZABLE);
	assert_null(p->sanitized_file);
	assert_non_null(p->note);
	assert_non_null(strstr(p->note, "cannot be sanitized"));

	p = tz_meta_part_get(m, 2);
	assert_string_equal(p->state, TZ_STATE_SANITIZED);
	assert_non_null(p->sanitized_file);
	assert_true(g_str_has_suffix(p->sanitized_file, ".pdf"));
	b = plain(fx, p->sanitized_file);
	assert_true(b->len > 100 && memcmp(b->data, "%PDF", 4) == 0);
	assert_null(g_strstr_len((const char *)b->data, (gssize)b->len, "JavaScript"));
	tl_sha256(b->data, b->len, sha);
	assert_string_equal(sha, p->sanitized_sha256);
	assert_int_equal(p->sanitized_size, b->len);
	g_byte_array_unref(b);
	{	/* stored encrypted like the original: no PDF header on disk */
		int dfd = tz_store_entry_open(fx->st, fx->id, err, sizeof(err));
		int fd = openat(dfd, p->sanitized_file, O_RDONLY);
		char head[64] = { 0 };
		assert_true(fd >= 0);
		assert_true(read(fd, head, sizeof head) > 0);
		assert_null(memmem(head, sizeof head, "%PDF", 4));
		close(fd);
		close(dfd);
	}

	p = tz_meta_part_get(m, 3);
	assert_string_equal(p->state, TZ_STATE_SANITIZED);
	assert_true(g_str_has_suffix(p->sanitized_file, ".txt"));
	b = plain(fx, p->sanitized_file);
	g_byte_array_append(b, (const guint8 *)"", 1);
	assert_string_equal((const char *)b->data, "見積書の件\nよろしくお願いいたします。\n");
	g_byte_array_unref(b);

	p = tz_meta_part_get(m, 4);
	assert_string_equal(p->state, TZ_STATE_INFECTED);
	assert_null(p->sanitized_file);
	tz_meta_free(m);

	assert_true(g_file_get_contents(fx->log, &log, NULL, NULL));
	assert_non_null(strstr(log, "unsanitizable"));
	assert_non_null(strstr(log, "\"sanitized\""));
	g_free(log);

	/* nothing waits any more */
	done = 0;
	assert_int_equal(tz_cdr_queue_all(&q, &done, err, sizeof(err)), 0);
	assert_int_equal(done, 0);
}

/* The base64 body of the first text/plain part of mail, decoded. */
static char *note_of(const char *mail)
{
	const char *p = strstr(mail, "Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: base64\n\n");
	const char *end;
	char *b64, *out;
	gsize n = 0;

	assert_non_null(p);
	p = strstr(p, "\n\n") + 2;
	end = strstr(p, "\n--");
	assert_non_null(end);
	b64 = g_strndup(p, (gsize)(end - p));
	out = (char *)g_base64_decode(b64, &n);
	out = g_realloc(out, n + 1);
	out[n] = '\0';
	g_free(b64);
	return out;
}

static void test_delivery(void **state)
{
	struct fixture *fx = *state;
	unsigned char rkey[TZ_KEY_LEN];
	char err[TZ_ERRLEN], *relkey = tl_keyfile(fx->dir, "r.key", 7);
	char *sent = g_build_filename(fx->dir, "sent.eml", NULL);
	char *cmd = g_strdup_printf("/usr/bin/tee '%s'", sent);
	struct tz_queue rq = { 0 };
	struct tz_cdr_queue q = { .st = fx->st, .audit = fx->audit, .deliver = &rq, .workers = 1 };
	struct tz_meta *m;
	gchar *mail, *hdr, *value, *note, *line;
	char ref[32];
	gsize len;
	GMimeStream *s;
	unsigned done = 0;

	if (access("/usr/bin/bwrap", X_OK) != 0 || access("/usr/bin/pdftoppm", X_OK) != 0 ||
	    access("/usr/bin/img2pdf", X_OK) != 0)
		skip();
	assert_int_equal(tz_key_load(relkey, rkey, err, sizeof(err)), 0);
	rq.st = fx->st;
	rq.audit = fx->audit;
	rq.release_command = cmd;
	rq.release_key = rkey;
	tz_cdr_opts_default(&q.opts);
	q.opts.ocr = false;
	q.opts.dpi = 50;
	assert_int_equal(tz_cdr_queue_entry(&q, fx->id, &done, err, sizeof(err)), 0);
	assert_int_equal(done, 3);

	m = tz_store_meta_read(fx->st, fx->id, err, sizeof(err));
	assert_string_equal(tz_meta_part_get(m, 1)->state, TZ_STATE_UNSANITIZABLE);
	assert_string_equal(tz_meta_part_get(m, 2)->state, TZ_STATE_RELEASED);
	assert_string_equal(tz_meta_part_get(m, 2)->released_by, "sanitizer");
	assert_string_equal(tz_meta_part_get(m, 3)->state, TZ_STATE_RELEASED);
	assert_string_equal(tz_meta_part_get(m, 4)->state, TZ_STATE_INFECTED);
	tz_meta_free(m);

	assert_true(g_file_get_contents(sent, &mail, &len, NULL));
	assert_non_null(strstr(mail, "To: staff@city.example.lg.jp"));
	/* 報告書.pdf as a PDF, memo.txt as UTF-8 text; nothing of tool.exe */
	assert_non_null(strstr(mail, "Content-Type: application/pdf\nContent-Transfer-Encoding: base64\n"
				     "Content-Disposition: attachment; filename*=UTF-8''%E5%A0%B1%E5%91%8A%E6%9B%B8.pdf"));
	assert_non_null(strstr(mail, "Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: base64\n"
				     "Content-Disposition: attachment; filename*=UTF-8''memo.txt"));
	assert_null(strstr(mail, "tool.exe"));   /* only in the (base64) note */
	note = note_of(mail);
	assert_non_null(strstr(note, "無害化"));
	/* staff quote the short 参照番号, never the long entry id */
	m = tz_store_meta_read(fx->st, fx->id, err, sizeof(err));
	assert_non_null(m->ref);
	g_strlcpy(ref, m->ref, sizeof(ref));
	tz_meta_free(m);
	assert_null(strstr(note, fx->id));
	assert_non_null(strstr(note, "sender@example.jp"));
	assert_non_null(strstr(note, "見積書の送付"));
	/* each delivered file as the copy it is, with the 参照番号 staff quote;
	 * the files left behind, why in staff's words (the sanitizer's state
	 * and reason in the English part), and whom to ask */
	line = g_strdup_printf("  お届けするファイル:\n    ・報告書.pdf(参照番号: %s#2、無害化済み)\n"
			       "    ・memo.txt(参照番号: %s#3、無害化済み)\n", ref, ref);
	assert_non_null(strstr(note, line));
	g_free(line);
	line = g_strdup_printf("  お届けしていないファイル:\n"
			       "    ・tool.exe(参照番号: %s#1、無害化できない形式)\n"
			       "    ・virus.pdf(参照番号: %s#4、ウイルスを検出)\n", ref, ref);
	assert_non_null(strstr(note, line));
	g_free(line);
	line = g_strdup_printf("    - tool.exe (reference: %s#1, unsanitizable: ", ref);
	assert_non_null(strstr(note, line));
	g_free(line);
	line = g_strdup_printf("    - virus.pdf (reference: %s#4, infected", ref);
	assert_non_null(strstr(note, line));
	g_free(line);
	assert_non_null(strstr(note, "参照番号を添えて情報セキュリティ担当へ\nお問い合わせください。"));
	assert_null(strstr(note, "部分"));
	g_free(note);
	/* the subject says these are sanitized copies */
	hdr = strstr(mail, "\nSubject: ");
	assert_non_null(hdr);
	{   /* the whole field, its folds joined */
		const char *e = hdr + 1;
		while ((e = strchr(e, '\n')) != NULL && (e[1] == ' ' || e[1] == '\t'))
			e++;
		value = g_strndup(hdr + 10, (gsize)(e - hdr - 10));
	}
	{
		char *unfolded = g_mime_utils_header_unfold(value);
		line = g_mime_utils_header_decode_text(NULL, unfolded);
		g_free(unfolded);
	}
	assert_true(g_str_has_prefix(line, "【添付ファイルの送付(無害化済み)】"));
	assert_non_null(strstr(line, "見積書の送付"));
	g_free(line);
	g_free(value);
	/* the marker the milter checks, over this exact mail */
	hdr = strstr(mail, "\nX-Textize-Release: ");
	assert_non_null(hdr);
	value = g_strndup(hdr + 20, (gsize)(strchr(hdr + 1, '\n') - hdr - 20));
	s = g_mime_stream_mem_new_with_buffer(mail, len);
	assert_int_equal(tz_release_verify(rkey, value, s, err, sizeof(err)), 1);
	g_object_unref(s);
	g_free(value);
	g_free(mail);

	/* nothing goes out twice */
	unlink(sent);
	done = 0;
	assert_int_equal(tz_cdr_queue_all(&q, &done, err, sizeof(err)), 0);
	assert_int_equal(done, 0);
	assert_false(g_file_test(sent, G_FILE_TEST_EXISTS));
	g_free(relkey);
	g_free(sent);
	g_free(cmd);
}

/* A part whose stored file was altered on disk fails authentication: it
 * is decided (unsanitizable, the note says why) and the others go on. */
static void test_tampered_part(void **state)
{
	struct fixture *fx = *state;
	struct tz_cdr_queue q = { .st = fx->st, .audit = fx->audit, .deliver = NULL, .workers = 1 };
	struct tz_meta *m = tz_store_meta_read(fx->st, fx->id, NULL, 0);
	char err[TZ_ERRLEN], c;
	unsigned done = 0;
	int dfd, fd;

	if (access("/usr/bin/bwrap", X_OK) != 0 || access("/usr/bin/pdftoppm", X_OK) != 0 ||
	    access("/usr/bin/img2pdf", X_OK) != 0)
		skip();
	dfd = tz_store_entry_open(fx->st, fx->id, err, sizeof(err));
	fd = openat(dfd, tz_meta_part_get(m, 3)->file, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, 40), 1);
	c ^= 0x55;
	assert_int_equal(pwrite(fd, &c, 1, 40), 1);
	close(fd);
	close(dfd);
	tz_meta_free(m);
	tz_cdr_opts_default(&q.opts);
	q.opts.ocr = false;
	q.opts.dpi = 50;
	assert_int_equal(tz_cdr_queue_entry(&q, fx->id, &done, err, sizeof(err)), 0);
	assert_int_equal(done, 3);
	m = tz_store_meta_read(fx->st, fx->id, NULL, 0);
	assert_string_equal(tz_meta_part_get(m, 3)->state, TZ_STATE_UNSANITIZABLE);
	assert_non_null(strstr(tz_meta_part_get(m, 3)->note, "stored file could not be read"));
	assert_string_equal(tz_meta_part_get(m, 2)->state, TZ_STATE_SANITIZED);
	tz_meta_free(m);
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static int have_converters(void)
{
	return access("/usr/bin/bwrap", X_OK) == 0 && access("/usr/bin/pdftoppm", X_OK) == 0 &&
	       access("/usr/bin/img2pdf", X_OK) == 0;
}

/* A part another process is converting (its claim held) is left to that
 * process; once the claim is gone the next run decides it. */
static void test_claimed_part_skipped(void **state)
{
	struct fixture *fx = *state;
	struct tz_cdr_queue q = { .st = fx->st, .audit = fx->audit, .deliver = NULL, .workers = 2 };
	char err[TZ_ERRLEN], *work = g_build_filename(fx->qdir, "work", NULL);
	char *path = g_strdup_printf("%s/claim-%s-2", work, fx->id);
	struct tz_meta *m;
	unsigned done = 0;
	int fd;

	if (!have_converters())
		skip();
	tz_cdr_opts_default(&q.opts);
	q.opts.ocr = false;
	q.opts.dpi = 50;
	assert_true(mkdir(work, 0700) == 0 || errno == EEXIST);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(tz_cdr_queue_all(&q, &done, err, sizeof(err)), 0);
	assert_int_equal(done, 2);
	m = tz_store_meta_read(fx->st, fx->id, NULL, 0);
	assert_string_equal(tz_meta_part_get(m, 2)->state, TZ_STATE_PENDING);
	assert_string_equal(tz_meta_part_get(m, 3)->state, TZ_STATE_SANITIZED);
	tz_meta_free(m);
	unlink(path);
	close(fd);
	done = 0;
	assert_int_equal(tz_cdr_queue_all(&q, &done, err, sizeof(err)), 0);
	assert_int_equal(done, 1);
	m = tz_store_meta_read(fx->st, fx->id, NULL, 0);
	assert_string_equal(tz_meta_part_get(m, 2)->state, TZ_STATE_SANITIZED);
	tz_meta_free(m);
	g_free(path);
	g_free(work);
}

/* One worker process of the race: its own store and audit handles, as a
 * second textizectl queue sanitize would have. */
static G_GNUC_NORETURN void racer(struct fixture *fx, const char *cmd, const unsigned char *rkey)
{
	char err[TZ_ERRLEN];
	struct tz_store *st = tz_store_open(fx->qdir, fx->key, err, sizeof(err));
	struct tz_audit *audit = tz_audit_open(fx->log, NULL, err, sizeof(err));
	struct tz_queue rq = { 0 };
	struct tz_cdr_queue q = { .st = st, .audit = audit, .deliver = &rq, .workers = 2 };
	unsigned done = 0;

	if (st == NULL || audit == NULL)
		_exit(2);
	tz_store_set_audit(st, audit);
	rq.st = st;
	rq.audit = audit;
	rq.release_command = cmd;
	rq.release_key = rkey;
	tz_cdr_opts_default(&q.opts);
	q.opts.ocr = false;
	q.opts.dpi = 50;
	_exit(tz_cdr_queue_all(&q, &done, err, sizeof(err)) == 0 ? 0 : 1);
}

static void test_two_processes_race(void **state)
{
	struct fixture *fx = *state;
	unsigned char rkey[TZ_KEY_LEN];
	char err[TZ_ERRLEN], *relkey = tl_keyfile(fx->dir, "r.key", 7);
	char *sent = g_build_filename(fx->dir, "sent.eml", NULL);
	char *cmd = g_strdup_printf("/usr/bin/tee -a '%s'", sent);
	unsigned sanitized = 0, copies = 0;
	GPtrArray *ids;
	gchar *log = NULL, *mail = NULL;
	pid_t pid[2];
	int status;

	if (!have_converters())
		skip();
	assert_int_equal(tz_key_load(relkey, rkey, err, sizeof(err)), 0);
	store_entry(fx);
	store_entry(fx);
	for (int i = 0; i < 2; i++) {
		fflush(NULL);
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0)
			racer(fx, cmd, rkey);
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(tz_store_list(fx->st, &ids, err, sizeof(err)), 0);
	assert_int_equal(ids->len, 3);
	for (guint i = 0; i < ids->len; i++) {
		const char *id = g_ptr_array_index(ids, i);
		struct tz_meta *m = tz_store_meta_read(fx->st, id, NULL, 0);
		int dfd = tz_store_entry_open(fx->st, id, err, sizeof(err));
		DIR *d = fdopendir(dfd);
		struct dirent *e;

		assert_non_null(m);
		assert_non_null(d);
		for (guint k = 0; k < m->parts->len; k++) {
			struct tz_meta_part *p = g_ptr_array_index(m->parts, k);
			assert_true(strcmp(p->state, TZ_STATE_PENDING) != 0);
			sanitized += p->sanitized_file != NULL;
		}
		while ((e = readdir(d)) != NULL)
			copies += strstr(e->d_name, ".sanitized-") != NULL;
		closedir(d);
		tz_meta_free(m);
	}
	/* 2 + 3 + 3 sanitized parts (part 4 of the first entry is infected) */
	assert_int_equal(sanitized, 8);
	assert_int_equal(copies, 8);
	assert_true(g_file_get_contents(fx->log, &log, NULL, NULL));
	assert_int_equal(count(log, "\"event\":\"sanitized\""), 8);
	assert_int_equal(count(log, "\"event\":\"unsanitizable\""), 3);
	assert_true(g_file_get_contents(sent, &mail, NULL, NULL));
	assert_int_equal(count(mail, "\nX-Textize-Release: "), 3);
	g_ptr_array_unref(ids);
	g_free(log);
	g_free(mail);
	g_free(relkey);
	g_free(sent);
	g_free(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_worker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delivery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_part, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claimed_part_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_processes_race, setup, teardown),
	};
	g_mime_init();   /* the release mail's Subject is decoded with GMime */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
