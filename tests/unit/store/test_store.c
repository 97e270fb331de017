/* test_store.c — the quarantine store: round trip of entries (plain and
 * encrypted), file modes, atomicity under simulated crashes, abort, a
 * mismatching part, a leftover tmp/ name of a complete entry, many threads
 * committing at once (group commit), an audit log that cannot be written,
 * and the index writer:
 * a locked index (given up after the retry budget: the entry stands, is
 * logged and counted, and catch-up adds it), a lock released while it
 * retries, and an index file deleted under it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <cmocka.h>

#include "tz_store.h"
#include "tz_store_link.h"
#include "tz_audit.h"
#include "tz_index.h"
#include "tz_log.h"
#include "tz_store_testlib.h"

static const char original[] = "From: a@example.jp\r\nTo: b@example.lg.jp\r\n"
	"Subject: test\r\n\r\nbody\r\n";

/* Feed `n` parts through the sink the way the engine does. */
static int feed_parts(struct tz_store_entry *e, struct tz_result *res, unsigned n, size_t size)
{
	const struct tz_part_sink *sink = tz_store_entry_sink(e);
	char err[TZ_ERRLEN];

	for (unsigned i = 1; i <= n; i++) {
		unsigned char *buf = g_malloc(size);
		struct tz_part *p;
		for (size_t k = 0; k < size; k++)
			buf[k] = (unsigned char)(k * 7 + i);
		p = tl_part(i, i == 1 ? "../../etc/passwd" : "見積書.pdf", buf, size, i == 1 ? TZ_RISK_EXECUTABLE : 0);
		g_ptr_array_add(res->parts, p);
		if (sink->begin(sink->ctx, p, err, sizeof(err)) < 0 ||
		    sink->write(sink->ctx, buf, size / 2, err, sizeof(err)) < 0 ||
		    sink->write(sink->ctx, buf + size / 2, size - size / 2, err, sizeof(err)) < 0 ||
		    sink->end(sink->ctx, p, err, sizeof(err)) < 0) {
			g_free(buf);
			return -1;
		}
		g_free(buf);
	}
	return 0;
}

/* Store one complete entry; returns 0 and its id. */
static int store_one(struct tz_store *st, unsigned nparts, char id[TZ_ID_LEN])
{
	char err[TZ_ERRLEN];
	struct tz_store_entry *e = tz_store_entry_begin(st, err, sizeof(err));
	struct tz_result *res = tl_result();
	struct tz_envelope *env = tl_envelope("sender@example.jp", "staff@city.example.lg.jp");
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(original, strlen(original));
	int rc = -1;

	assert_non_null(e);
	g_strlcpy(id, tz_store_entry_id(e), TZ_ID_LEN);
	if (tz_store_entry_put_original(e, s, err, sizeof(err)) < 0 ||
	    feed_parts(e, res, nparts, 100000) < 0) {
		tz_store_entry_abort(e);
		goto out;
	}
	rc = tz_store_entry_commit(e, env, res, err, sizeof(err));
	if (rc < 0)
		print_message("commit: %s\n", err);
out:
	g_object_unref(s);
	tl_result_free(res);
	tl_envelope_free(env);
	return rc;
}

static void check_mode(const char *path, unsigned mode)
{
	struct stat sb;

	assert_int_equal(lstat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, mode);
}

static void round_trip(const char *key_name)
{
	char *dir = tl_tmpdir(), *q = g_build_filename(dir, "q", NULL);
	char *key = key_name ? tl_keyfile(dir, key_name, 1) : NULL;
	char err[TZ_ERRLEN], id[TZ_ID_LEN], sha[65];
	struct tz_store *st = tz_store_open(q, key, err, sizeof(err));
	GPtrArray *ids;
	struct tz_meta *m;
	GByteArray *ba = g_byte_array_new();
	char *edir, *f;

	assert_non_null(st);
	assert_int_equal(store_one(st, 2, id), 0);
	assert_int_equal(tz_store_list(st, &ids, err, sizeof(err)), 0);
	assert_int_equal(ids->len, 1);
	assert_string_equal(g_ptr_array_index(ids, 0), id);
	g_ptr_array_unref(ids);

	m = tz_store_meta_read(st, id, err, sizeof(err));
	assert_non_null(m);
	assert_string_equal(m->sender, "sender@example.jp");
	assert_string_equal(m->subject, "見積書の送付 \"quoted\"");
	assert_int_equal(m->rcpts->len, 1);
	assert_int_equal(m->parts->len, 2);
	assert_string_equal(((struct tz_meta_part *)g_ptr_array_index(m->parts, 0))->file, "part-001.bin");
	assert_string_equal(((struct tz_meta_part *)g_ptr_array_index(m->parts, 0))->filename, "../../etc/passwd");
	assert_string_equal(((struct tz_meta_part *)g_ptr_array_index(m->parts, 0))->state, "pending");
	assert_int_equal(m->original_size, strlen(original));
	tl_sha256(original, strlen(original), sha);
	assert_string_equal(m->original_sha256, sha);

	assert_int_equal(tz_store_file_read(st, id, "original.eml", tl_collect, ba, err, sizeof(err)), 0);
	assert_int_equal(ba->len, strlen(original));
	assert_memory_equal(ba->data, original, ba->len);
	g_byte_array_set_size(ba, 0);
	assert_int_equal(tz_store_file_read(st, id, "part-002.bin", tl_collect, ba, err, sizeof(err)), 0);
	tl_sha256(ba->data, ba->len, sha);
	assert_string_equal(sha, ((struct tz_meta_part *)g_ptr_array_index(m->parts, 1))->sha256);
	tz_meta_free(m);

	/* Modes, and nothing named after the sender's file name. */
	edir = g_strdup_printf("%s/entries/%.8s/%s", q, id, id);
	check_mode(q, 0700);
	check_mode(edir, 0700);
	f = g_build_filename(edir, "part-001.bin", NULL);
	check_mode(f, 0600);
	g_free(f);
	f = g_build_filename(edir, "meta.json", NULL);
	check_mode(f, 0600);
	g_free(f);
	f = g_strdup_printf("%s/tmp", q);
	assert_int_equal(rmdir(f), 0);   /* empty: nothing left behind */
	g_free(f);
	g_free(edir);
	g_byte_array_unref(ba);
	tz_store_free(st);
	tl_rmrf(dir);
	g_free(key);
	g_free(q);
	g_free(dir);
}

static void test_round_trip_plain(void **state)
{
	(void)state;
	round_trip(NULL);
}

static void test_round_trip_encrypted(void **state)
{
	(void)state;
	round_trip("q.key");
}

/* Encrypted entries are unreadable without the key and with another key. */
static void test_encrypted_needs_key(void **state)
{
	char *dir = tl_tmpdir(), *q = g_build_filename(dir, "q", NULL);
	char *k1 = tl_keyfile(dir, "k1", 1), *k2 = tl_keyfile(dir, "k2", 2);
	char err[TZ_ERRLEN], id[TZ_ID_LEN];
	struct tz_store *st = tz_store_open(q, k1, err, sizeof(err)), *other;

	(void)state;
	assert_int_equal(store_one(st, 1, id), 0);
	other = tz_store_open(q, k2, err, sizeof(err));
	assert_null(tz_store_meta_read(other, id, err, sizeof(err)));
	tz_store_free(other);
	other = tz_store_open(q, NULL, err, sizeof(err));
	assert_null(tz_store_meta_read(other, id, err, sizeof(err)));
	tz_store_free(other);
	tz_store_free(st);
	tl_rmrf(dir);
	g_free(k1);
	g_free(k2);
	g_free(q);
	g_free(dir);
}

/* A crash before each commit step: before the rename nothing is listed,
 * and the leftover in tmp/ is removed by clean_tmp; after it, complete. */
static void test_crash_steps(void **state)
{
	char *dir = tl_tmpdir(), *q = g_build_filename(dir, "q", NULL);
	char err[TZ_ERRLEN], id[TZ_ID_LEN];
	struct tz_store *st = tz_store_open(q, NULL, err, sizeof(err));
	GPtrArray *ids;

	(void)state;
	for (int step = 1; step <= 4; step++) {
		tz_store_test_crash_step = step;
		assert_int_equal(store_one(st, 2, id), -1);
		tz_store_test_crash_step = 0;
		/* A fresh store, as after a restart. */
		tz_store_free(st);
		st = tz_store_open(q, NULL, err, sizeof(err));
		assert_int_equal(tz_store_list(st, &ids, err, sizeof(err)), 0);
		if (step < 4) {
			assert_int_equal(ids->len, 0);
			assert_int_equal(tz_store_clean_tmp(st, 0), 1);
		} else {
			/* renamed but the directory not yet fsynced: complete */
			assert_int_equal(ids->len, 1);
			struct tz_meta *m = tz_store_meta_read(st, id, err, sizeof(err));
			assert_non_null(m);
			tz_meta_free(m);
			assert_int_equal(tz_store_remove(st, id, err, sizeof(err)), 0);
		}
		g_ptr_array_unref(ids);
	}
	tz_store_free(st);
	tl_rmrf(dir);
	g_free(q);
	g_free(dir);
}

/* A tmp/ name whose id is also a complete entry (a rename that a crash
 * half kept on a file system without a journal) is never cleaned: its
 * files would be the entry's. */
static void test_clean_tmp_keeps_complete(void **state)
{
	char *dir = tl_tmpdir(), *q = g_build_filename(dir, "q", NULL);
	char err[TZ_ERRLEN], id[TZ_ID_LEN], *t, *f;
	struct tz_store *st = tz_store_open(q, NULL, err, sizeof(err));
	GPtrArray *ids;

	(void)state;
	assert_int_equal(store_one(st, 1, id), 0);
	t = g_strdup_printf("%s/tmp/%s", q, id);
	f = g_strdup_printf("%s/meta.json", t);
	assert_int_equal(mkdir(t, 0700), 0);
	g_file_set_contents(f, "{}", 2, NULL);
	assert_int_equal(tz_store_clean_tmp(st, 0), 0);
	assert_int_equal(access(f, F_OK), 0);
	assert_int_equal(tz_store_list(st, &ids, err, sizeof(err)), 0);
	assert_int_equal(ids->len, 1);
	g_ptr_array_unref(ids);
	tz_store_free(st);
	tl_rmrf(dir);
	g_free(f);
	g_free(t);
	g_free(q);
	g_free(dir);
}

static void test_abort_and_errors(void **state)
{
	char *dir = tl_tmpdir(), *q = g_build_filename(dir, "q", NULL);
	char err[TZ_ERRLEN];
	struct tz_store *st = tz_store_open(q, NULL, err, sizeof(err));
	struct tz_store_entry *e;
	const struct tz_part_sink *sink;
	struct tz_result *res = tl_result();
	struct tz_envelope *env = tl_envelope("", "x@example.lg.jp");
	struct tz_part *p;
	GPtrArray *ids;
	char *t;

	(void)state;
	/* abort removes everything */
	e = tz_store_entry_begin(st, err, sizeof(err));
	tz_store_entry_abort(e);
	/* no original: commit fails and cleans up */
	e = tz_store_entry_begin(st, err, sizeof(err));
	assert_int_equal(tz_store_entry_commit(e, env, res, err, sizeof(err)), -1);
	/* content that differs from the engine's record is refused */
	e = tz_store_entry_begin(st, err, sizeof(err));
	sink = tz_store_entry_sink(e);
	p = tl_part(1, "a.txt", "abc", 3, 0);
	assert_int_equal(sink->begin(sink->ctx, p, err, sizeof(err)), 0);
	assert_int_equal(sink->write(sink->ctx, "abd", 3, err, sizeof(err)), 0);
	assert_int_equal(sink->end(sink->ctx, p, err, sizeof(err)), -1);
	tz_store_entry_abort(e);
	tl_part_free(p);
	/* a part listed in the result but never stored */
	e = tz_store_entry_begin(st, err, sizeof(err));
	{
		GMimeStream *s = g_mime_stream_mem_new_with_buffer("x", 1);
		assert_int_equal(tz_store_entry_put_original(e, s, err, sizeof(err)), 0);
		g_object_unref(s);
	}
	g_ptr_array_add(res->parts, tl_part(1, "a.txt", "abc", 3, 0));
	assert_int_equal(tz_store_entry_commit(e, env, res, err, sizeof(err)), -1);
	/* nothing listed, nothing left in tmp/ */
	assert_int_equal(tz_store_list(st, &ids, err, sizeof(err)), 0);
	assert_int_equal(ids->len, 0);
	g_ptr_array_unref(ids);
	t = g_build_filename(q, "tmp", NULL);
	assert_int_equal(rmdir(t), 0);
	g_free(t);
	/* hostile ids */
	assert_int_equal(tz_store_entry_open(st, "../../etc", err, sizeof(err)), -1);
	assert_null(tz_store_meta_read(st, "20261124-000000-000000-../..", err, sizeof(err)));
	tz_store_free(st);
	tl_result_free(res);
	tl_envelope_free(env);
	tl_rmrf(dir);
	g_free(q);
	g_free(dir);
}

/* Rows in the index's entries table (a fresh connection). */
static int indexed(const char *db)
{
	sqlite3 *c = NULL;
	sqlite3_stmt *s = NULL;
	int n = -1;

	if (sqlite3_open(db, &c) == SQLITE_OK &&
	    sqlite3_prepare_v2(c, "SELECT count(*) FROM entries", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(c);
	return n;
}

struct thread_arg {
	struct tz_store *st;
	int n, failed;
};

static void *writer(void *p)
{
	struct thread_arg *a = p;
	char id[TZ_ID_LEN];

	for (int i = 0; i < a->n; i++)
		if (store_one(a->st, 1, id) < 0)
			a->failed++;
	return NULL;
}

/* The audit log cannot be written (its path replaced by a directory):
 * every entry of the batch fails, none stays listed or in tmp/, also with
 * several threads committing together. */
static void test_audit_fails(void **state)
{
	char *dir = tl_tmpdir(), *q = g_build_filename(dir, "q", NULL);
	char *log = g_build_filename(dir, "audit.log", NULL), *moved = g_strconcat(log, ".old", NULL);
	char err[TZ_ERRLEN], id[TZ_ID_LEN], *t;
	struct tz_store *st = tz_store_open(q, NULL, err, sizeof(err));
	struct tz_audit *au = tz_audit_open(log, NULL, err, sizeof(err));
	struct thread_arg args[4];
	pthread_t th[4];
	GPtrArray *ids;

	(void)state;
	tz_store_set_audit(st, au);
	assert_int_equal(store_one(st, 1, id), 0);
	assert_int_equal(rename(log, moved), 0);
	assert_int_equal(mkdir(log, 0700), 0);
	assert_int_equal(store_one(st, 1, id), -1);
	for (int i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ st, 3, 0 };
		pthread_create(&th[i], NULL, writer, &args[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(args[i].failed, 3);
	}
	assert_int_equal(tz_store_list(st, &ids, err, sizeof(err)), 0);
	assert_int_equal(ids->len, 1);
	g_ptr_array_unref(ids);
	t = g_build_filename(q, "tmp", NULL);
	assert_int_equal(rmdir(t), 0);   /* empty: every failed entry removed */
	g_free(t);
	tz_store_free(st);
	tz_audit_free(au);
	tl_rmrf(dir);
	g_free(moved);
	g_free(log);
	g_free(q);
	g_free(dir);
}

/* Many threads commit at once, with the audit log and the index wired in:
 * every entry is listed, indexed and audited exactly once. */
static void test_threads(void **state)
{
	char *dir = tl_tmpdir(), *q = g_build_filename(dir, "q", NULL);
	char *log = g_build_filename(dir, "audit.log", NULL), *db = g_build_filename(dir, "ix.db", NULL);
	char *key = tl_keyfile(dir, "q.key", 3);
	char err[TZ_ERRLEN];
	struct tz_store *st = tz_store_open(q, key, err, sizeof(err));
	struct tz_audit *au = tz_audit_open(log, NULL, err, sizeof(err));
	struct thread_arg args[6];
	pthread_t th[6];
	GPtrArray *ids, *rows;
	unsigned long records, bad;
	struct tz_index *ix;
	struct tz_index_filter f = { 0 };
	unsigned nbad;

	(void)state;
	tz_store_set_audit(st, au);
	tz_store_set_index(st, db);
	for (int i = 0; i < 6; i++) {
		args[i] = (struct thread_arg){ st, 8, 0 };
		pthread_create(&th[i], NULL, writer, &args[i]);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(args[i].failed, 0);
	}
	assert_int_equal(tz_store_list(st, &ids, err, sizeof(err)), 0);
	assert_int_equal(ids->len, 48);
	g_ptr_array_unref(ids);
	assert_int_equal(tz_audit_verify(log, NULL, &records, &bad, err, sizeof(err)), 0);
	assert_int_equal(records, 48);
	/* one writer connection, threads taking turns: no row lost to contention */
	assert_int_equal(tz_store_index_failures(st), 0);
	assert_int_equal(indexed(db), 48);
	ix = tz_index_open(db, 1000, err, sizeof(err));
	assert_non_null(ix);
	assert_int_equal(tz_index_sync(ix, st, 0, &nbad, err, sizeof(err)), 0);
	assert_int_equal(nbad, 0);
	assert_int_equal(tz_index_query(ix, &f, &rows, err, sizeof(err)), 0);
	assert_int_equal(rows->len, 48);
	g_ptr_array_unref(rows);
	tz_index_free(ix);
	tz_store_free(st);
	tz_audit_free(au);
	tl_rmrf(dir);
	g_free(key);
	g_free(log);
	g_free(db);
	g_free(q);
	g_free(dir);
}


/* ---- the index writer ---- */

static GString *logged;

static void capture_log(int priority, const char *line)
{
	(void)priority;
	g_string_append_printf(logged, "%s\n", line);
}

struct index_fixture {
	char *dir, *q, *db;
	struct tz_store *st;
};

static void index_fixture_init(struct index_fixture *fx)
{
	char err[TZ_ERRLEN];
	struct tz_index *ix;

	fx->dir = tl_tmpdir();
	fx->q = g_build_filename(fx->dir, "q", NULL);
	fx->db = g_build_filename(fx->dir, "ix.db", NULL);
	fx->st = tz_store_open(fx->q, NULL, err, sizeof(err));
	assert_non_null(fx->st);
	tz_store_set_index(fx->st, fx->db);
	ix = tz_index_open(fx->db, 1000, err, sizeof(err));   /* the schema, in WAL mode */
	assert_non_null(ix);
	tz_index_free(ix);
}

static void index_fixture_done(struct index_fixture *fx)
{
	tz_store_free(fx->st);
	tl_rmrf(fx->dir);
	g_free(fx->db);
	g_free(fx->q);
	g_free(fx->dir);
}

/* Another connection holds the write lock for longer than the writer's
 * whole retry budget: the commit still succeeds (the message must not
 * wait on a cache), within the budget plus slack; the entry is complete,
 * absent from the index, counted and logged with its queue id; the next
 * catch-up adds it. */
static void test_index_locked(void **state)
{
	struct index_fixture fx;
	char err[TZ_ERRLEN], id[TZ_ID_LEN];
	struct tz_index *locker, *ix;
	GPtrArray *ids;
	gint64 t0, ms;
	unsigned bad;

	(void)state;
	index_fixture_init(&fx);
	locker = tz_index_open(fx.db, 0, err, sizeof(err));
	assert_non_null(locker);
	assert_int_equal(sqlite3_exec(tz_index_db(locker), "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	logged = g_string_new(NULL);
	tz_log_set_sink(capture_log);

	t0 = g_get_monotonic_time();
	assert_int_equal(store_one(fx.st, 1, id), 0);
	ms = (g_get_monotonic_time() - t0) / 1000;
	print_message("locked index: commit took %lld ms; log: %s", (long long)ms, logged->str);
	assert_true(ms >= TZ_INDEX_WRITER_BUDGET_MS / 2);
	assert_true(ms < TZ_INDEX_WRITER_BUDGET_MS + 1500);
	assert_int_equal(tz_store_index_failures(fx.st), 1);
	assert_non_null(strstr(logged->str, "4ABCD123: quarantine "));
	assert_non_null(strstr(logged->str, id));
	assert_non_null(strstr(logged->str, "not added to the index"));
	assert_non_null(strstr(logged->str, "locked"));
	tz_log_set_sink(NULL);
	g_string_free(logged, TRUE);

	assert_int_equal(tz_store_list(fx.st, &ids, err, sizeof(err)), 0);
	assert_int_equal(ids->len, 1);
	g_ptr_array_unref(ids);
	assert_int_equal(sqlite3_exec(tz_index_db(locker), "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	tz_index_free(locker);
	assert_int_equal(indexed(fx.db), 0);
	ix = tz_index_open(fx.db, 1000, err, sizeof(err));
	assert_int_equal(tz_index_sync(ix, fx.st, 0, &bad, err, sizeof(err)), 1);
	assert_int_equal(bad, 0);
	tz_index_free(ix);
	assert_int_equal(indexed(fx.db), 1);
	/* the writer works again once the lock is gone */
	assert_int_equal(store_one(fx.st, 1, id), 0);
	assert_int_equal(indexed(fx.db), 2);
	assert_int_equal(tz_store_index_failures(fx.st), 1);
	index_fixture_done(&fx);
}

struct lock_arg {
	const char *db;
	gint locked;
	unsigned hold_ms;
};

static void *hold_lock(void *p)
{
	struct lock_arg *a = p;
	char err[TZ_ERRLEN];
	struct tz_index *ix = tz_index_open(a->db, 0, err, sizeof(err));

	if (ix && sqlite3_exec(tz_index_db(ix), "BEGIN EXCLUSIVE", NULL, NULL, NULL) == SQLITE_OK) {
		g_atomic_int_set(&a->locked, 1);
		g_usleep(a->hold_ms * 1000);
		sqlite3_exec(tz_index_db(ix), "COMMIT", NULL, NULL, NULL);
	} else {
		g_atomic_int_set(&a->locked, -1);
	}
	tz_index_free(ix);
	return NULL;
}

/* A lock released while the writer backs off: the row gets in. */
static void test_index_retry(void **state)
{
	struct index_fixture fx;
	struct lock_arg a = { NULL, 0, 40 };
	char id[TZ_ID_LEN];
	pthread_t th;

	(void)state;
	index_fixture_init(&fx);
	a.db = fx.db;
	pthread_create(&th, NULL, hold_lock, &a);
	while (g_atomic_int_get(&a.locked) == 0)
		g_usleep(1000);
	assert_int_equal(g_atomic_int_get(&a.locked), 1);
	assert_int_equal(store_one(fx.st, 2, id), 0);
	pthread_join(th, NULL);
	assert_int_equal(tz_store_index_failures(fx.st), 0);
	assert_int_equal(indexed(fx.db), 1);
	index_fixture_done(&fx);
}

/* The index deleted under the running writer (an operator starting over):
 * the writer notices and writes into the new file, not the unlinked one. */
static void test_index_deleted(void **state)
{
	struct index_fixture fx;
	char id[TZ_ID_LEN], *wal, *shm;

	(void)state;
	index_fixture_init(&fx);
	assert_int_equal(store_one(fx.st, 1, id), 0);
	assert_int_equal(indexed(fx.db), 1);
	wal = g_strconcat(fx.db, "-wal", NULL);
	shm = g_strconcat(fx.db, "-shm", NULL);
	unlink(fx.db);
	unlink(wal);
	unlink(shm);
	assert_int_equal(store_one(fx.st, 1, id), 0);
	assert_int_equal(store_one(fx.st, 1, id), 0);
	assert_int_equal(tz_store_index_failures(fx.st), 0);
	assert_int_equal(indexed(fx.db), 2);
	g_free(wal);
	g_free(shm);
	index_fixture_done(&fx);
}

/* The hook seam: each hook runs once per batch with the committed
 * entries; the best-effort ones beside the required ones, at the same time
 * (the index's transaction overlaps the audit's fdatasync: each hook here
 * waits up to 5 s for the other to be running, and says whether it saw
 * it), both done before the commit returns; a best-effort failure is
 * counted and the entry stands; a required failure fails the commit and the
 * entry is not listed, and is not counted against the best-effort hook; a
 * hook of the same name replaces the old one (freed). */
struct hook_log {
	int fail, best;
	unsigned seen, freed, runs;
	int met;                                /* saw the other hook running */
};

static pthread_mutex_t hook_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hook_cv = PTHREAD_COND_INITIALIZER;
static unsigned hook_in[2];                 /* runs started: [0] required, [1] best */

static int hook_run(void *ctx, const struct tz_store_committed *c, size_t n, char *err, size_t errlen)
{
	struct hook_log *l = ctx;
	struct timespec until;
	unsigned want;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&hook_mu);
	l->runs++;
	l->seen += (unsigned)n;
	want = l->runs;
	hook_in[l->best]++;
	pthread_cond_broadcast(&hook_cv);
	while (hook_in[!l->best] < want &&
	       pthread_cond_timedwait(&hook_cv, &hook_mu, &until) == 0)
		;
	l->met += hook_in[!l->best] >= want;
	pthread_mutex_unlock(&hook_mu);
	assert_non_null(c[0].meta);
	return l->fail ? tz_err(err, errlen, "hook says no") : 0;
}

static void hook_free(void *ctx)
{
	((struct hook_log *)ctx)->freed++;
}

static void test_hooks(void **state)
{
	char *dir = tl_tmpdir(), *q = g_build_filename(dir, "q", NULL);
	char err[TZ_ERRLEN], id[TZ_ID_LEN];
	struct tz_store *st = tz_store_open(q, NULL, err, sizeof(err));
	struct hook_log best = { 1, 1, 0, 0, 0, 0 }, req = { 0, 0, 0, 0, 0, 0 },
			req2 = { 1, 0, 0, 0, 0, 0 };
	struct tz_store_hook hb = { "b", TZ_STORE_HOOK_BEST_EFFORT, hook_run, hook_free, &best, "not b", "fix b", NULL };
	struct tz_store_hook hr = { "r", TZ_STORE_HOOK_REQUIRED, hook_run, hook_free, &req, NULL, NULL, NULL };
	struct tz_store_hook hr2 = { "r", TZ_STORE_HOOK_REQUIRED, hook_run, hook_free, &req2, NULL, NULL, NULL };
	GPtrArray *ids;

	(void)state;
	assert_int_equal(tz_store_set_hook(st, &hb), 0);
	assert_int_equal(tz_store_set_hook(st, &hr), 0);
	assert_int_equal(store_one(st, 1, id), 0);
	assert_int_equal(req.seen, 1);
	assert_int_equal(best.seen, 1);
	assert_int_equal(req.met + best.met, 2);      /* at the same time */
	assert_int_equal(tz_store_hook_failures(st, "b"), 1);
	assert_int_equal(tz_store_hook_failures(st, "r"), 0);
	assert_int_equal(tz_store_set_hook(st, &hr2), 0);   /* replaces r */
	assert_int_equal(req.freed, 1);
	hook_in[0] = best.runs;                        /* r2 starts where r was */
	assert_int_equal(store_one(st, 1, id), -1);
	assert_int_equal(req2.runs, 1);
	assert_int_equal(best.runs, 2);                /* b ran beside it ... */
	assert_int_equal(tz_store_hook_failures(st, "b"), 1);   /* ... not counted */
	assert_int_equal(tz_store_list(st, &ids, err, sizeof(err)), 0);
	assert_int_equal(ids->len, 1);
	g_ptr_array_unref(ids);
	tz_store_free(st);
	assert_int_equal(best.freed + req2.freed, 2);
	tl_rmrf(dir);
	g_free(q);
	g_free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_plain),
		cmocka_unit_test(test_round_trip_encrypted),
		cmocka_unit_test(test_encrypted_needs_key),
		cmocka_unit_test(test_crash_steps),
		cmocka_unit_test(test_clean_tmp_keeps_complete),
		cmocka_unit_test(test_abort_and_errors),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_audit_fails),
		cmocka_unit_test(test_index_locked),
		cmocka_unit_test(test_index_retry),
		cmocka_unit_test(test_index_deleted),
		cmocka_unit_test(test_hooks),
	};

	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
