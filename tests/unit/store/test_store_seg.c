/* test_store_seg.c — the store on the segment format (tz_store_seg.c,
 * tz_store_migrate.c): new entries are records in store/, not
 * directories; both layouts are read, locked, changed and removed through
 * the same API; a part is hashed once (the engine's SHA-256 recorded, none
 * refused); a required hook that fails withdraws the entry; kill -9
 * while the audit and index hooks run leaves every acknowledged entry
 * listed and audited and the audit log verifying; `queue
 * migrate` moves every directory entry with its contents and stored time,
 * the group commit's side thread is one for the store's life (and a
 * forked child that commits gets its own),
 * is idempotent, resumes an interrupted run, and keeps an entry whose copy
 * does not verify. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tz_audit.h"
#include "tz_index.h"
#include "tz_store.h"
#include "tz_store_link.h"
#include "tz_store_testlib.h"

static const char original[] = "From: a@example.jp\r\nTo: b@example.lg.jp\r\n"
	"Subject: test\r\n\r\nbody\r\n";

struct fx {
	char *dir, *q, *key;
};

static int setup(void **state)
{
	struct fx *f = g_new0(struct fx, 1);

	f->dir = tl_tmpdir();
	f->q = g_build_filename(f->dir, "q", NULL);
	f->key = tl_keyfile(f->dir, "q.key", 9);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tl_rmrf(f->dir);
	g_free(f->dir);
	g_free(f->q);
	g_free(f->key);
	g_free(f);
	return 0;
}

static unsigned char *part_bytes(unsigned i, size_t n)
{
	unsigned char *b = g_malloc(n);

	for (size_t k = 0; k < n; k++)
		b[k] = (unsigned char)(k * 11 + i);
	return b;
}

/* One entry with nparts parts of 70,000 bytes (more than a crypt chunk). */
static int store_one(struct tz_store *st, unsigned nparts, char id[TZ_ID_LEN])
{
	char err[TZ_ERRLEN] = "";
	struct tz_store_entry *e = tz_store_entry_begin(st, err, sizeof(err));
	struct tz_result *res = tl_result();
	struct tz_envelope *env = tl_envelope("sender@example.jp", "staff@city.example.lg.jp");
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(original, strlen(original));
	const struct tz_part_sink *sink;
	int rc = -1;

	assert_non_null(e);
	sink = tz_store_entry_sink(e);
	g_strlcpy(id, tz_store_entry_id(e), TZ_ID_LEN);
	if (tz_store_entry_put_original(e, s, err, sizeof(err)) < 0)
		goto fail;
	for (unsigned i = 1; i <= nparts; i++) {
		unsigned char *b = part_bytes(i, 70000);
		struct tz_part *p = tl_part(i, "見積書.pdf", b, 70000, 0);
		g_ptr_array_add(res->parts, p);
		rc = sink->begin(sink->ctx, p, err, sizeof(err)) < 0 ||
		     sink->write(sink->ctx, b, 70000, err, sizeof(err)) < 0 ||
		     sink->end(sink->ctx, p, err, sizeof(err)) < 0 ? -1 : 0;
		g_free(b);
		if (rc < 0)
			goto fail;
	}
	rc = tz_store_entry_commit(e, env, res, err, sizeof(err));
	goto out;
fail:
	tz_store_entry_abort(e);
	rc = -1;
out:
	if (rc < 0)
		print_message("store_one: %s\n", err);
	g_object_unref(s);
	tl_result_free(res);
	tl_envelope_free(env);
	return rc;
}

/* The entry reads back: meta (id, parts), original and every part. */
static void entry_reads(struct tz_store *st, const char *id, unsigned nparts)
{
	char err[TZ_ERRLEN] = "", name[32];
	struct tz_meta *m = tz_store_meta_read(st, id, err, sizeof(err));
	GByteArray *ba = g_byte_array_new();

	if (m == NULL)
		print_message("meta %s: %s\n", id, err);
	assert_non_null(m);
	assert_string_equal(m->id, id);
	assert_int_equal(m->parts->len, nparts);
	assert_int_equal(tz_store_file_read(st, id, "original.eml", tl_collect, ba, err, sizeof(err)), 0);
	assert_int_equal(ba->len, strlen(original));
	assert_memory_equal(ba->data, original, ba->len);
	for (unsigned i = 1; i <= nparts; i++) {
		unsigned char *want = part_bytes(i, 70000);
		g_byte_array_set_size(ba, 0);
		snprintf(name, sizeof(name), "part-%03u.bin", i);
		assert_int_equal(tz_store_file_read(st, id, name, tl_collect, ba, err, sizeof(err)), 0);
		assert_int_equal(ba->len, 70000);
		assert_memory_equal(ba->data, want, 70000);
		g_free(want);
	}
	g_byte_array_unref(ba);
	tz_meta_free(m);
}

static unsigned listed(struct tz_store *st)
{
	GPtrArray *ids;
	char err[TZ_ERRLEN];
	unsigned n;

	assert_int_equal(tz_store_list(st, &ids, err, sizeof(err)), 0);
	n = ids->len;
	g_ptr_array_unref(ids);
	return n;
}

static int exists(const char *dir, const char *sub)
{
	char *p = g_build_filename(dir, sub, NULL);
	struct stat sb;
	int rc = stat(p, &sb) == 0;

	g_free(p);
	return rc;
}

/* A directory entry and a segment entry side by side, through one API. */
static void test_both_layouts(void **state)
{
	struct fx *f = *state;
	char err[TZ_ERRLEN] = "", a[TZ_ID_LEN], b[TZ_ID_LEN], sub[80];
	struct tz_store *st = tz_store_open(f->q, f->key, err, sizeof(err));
	struct tz_meta *m;
	int lock, fd;
	char sha[65];
	uint64_t size;

	assert_non_null(st);
	assert_int_equal(store_one(st, 1, a), 0);
	assert_false(tz_store_segmented(st));
	assert_int_equal(tz_store_use_segments(st, err, sizeof(err)), 0);
	assert_true(tz_store_segmented(st));
	assert_int_equal(store_one(st, 2, b), 0);
	/* b is a record, not a directory */
	snprintf(sub, sizeof(sub), "entries/%.8s/%s", b, b);
	assert_true(exists(f->q, "store/00000001.tzs"));
	assert_false(exists(f->q, sub));
	assert_int_equal(tz_store_entry_open(st, b, err, sizeof(err)), -1);
	assert_int_equal(listed(st), 2);
	entry_reads(st, a, 1);
	entry_reads(st, b, 2);
	/* read-modify-write under the lock, in both layouts */
	for (int k = 0; k < 2; k++) {
		const char *id = k ? b : a;
		lock = tz_store_lock(st, id, err, sizeof(err));
		assert_true(lock >= 0);
		m = tz_store_meta_read(st, id, err, sizeof(err));
		g_free(m->subject);
		m->subject = g_strdup("changed");
		assert_int_equal(tz_store_meta_write(st, m, err, sizeof(err)), 0);
		tz_meta_free(m);
		tz_store_unlock(st, lock);
		m = tz_store_meta_read(st, id, err, sizeof(err));
		assert_string_equal(m->subject, "changed");
		tz_meta_free(m);
	}
	/* a sanitized copy added to the segment entry, streamed; not twice */
	fd = open("/etc/hostname", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(tz_store_file_put(st, b, "part-001.sanitized.bin", fd, sha, &size, err, sizeof(err)), 0);
	lseek(fd, 0, SEEK_SET);
	assert_int_equal(tz_store_file_put(st, b, "part-001.sanitized.bin", fd, NULL, NULL, err, sizeof(err)), -1);
	close(fd);
	/* reopened: the same view */
	tz_store_free(st);
	st = tz_store_open(f->q, f->key, err, sizeof(err));
	assert_true(tz_store_segmented(st));
	assert_int_equal(listed(st), 2);
	entry_reads(st, b, 2);
	assert_int_equal(tz_store_remove(st, b, err, sizeof(err)), 0);
	assert_int_equal(tz_store_remove(st, a, err, sizeof(err)), 0);
	assert_int_equal(listed(st), 0);
	assert_null(tz_store_meta_read(st, b, err, sizeof(err)));
	assert_int_equal(tz_store_compact(st, NULL, err, sizeof(err)), 0);
	tz_store_free(st);
}

/* One part through the sink into a new segment entry, whose engine
 * record's SHA-256 is `sha` (NULL: the true one); 0 when committed. */
static int store_part_sha(struct tz_store *st, const unsigned char *b, size_t n, const char *sha,
			  char id[TZ_ID_LEN], char *err, size_t errlen)
{
	struct tz_store_entry *e = tz_store_entry_begin(st, err, errlen);
	struct tz_result *res = tl_result();
	struct tz_envelope *env = tl_envelope("sender@example.jp", "staff@city.example.lg.jp");
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(original, strlen(original));
	const struct tz_part_sink *sink = tz_store_entry_sink(e);
	struct tz_part *p = tl_part(1, "a.bin", b, n, 0);
	int rc;

	g_strlcpy(id, tz_store_entry_id(e), TZ_ID_LEN);
	if (sha)
		g_strlcpy(p->sha256, sha, sizeof(p->sha256));
	g_ptr_array_add(res->parts, p);
	rc = tz_store_entry_put_original(e, s, err, errlen) < 0 ||
	     sink->begin(sink->ctx, p, err, errlen) < 0 ||
	     sink->write(sink->ctx, b, n, err, errlen) < 0 ||
	     sink->end(sink->ctx, p, err, errlen) < 0 ? -1 : 0;
	if (rc == 0)
		rc = tz_store_entry_commit(e, env, res, err, errlen);
	else
		tz_store_entry_abort(e);
	g_object_unref(s);
	tl_result_free(res);
	tl_envelope_free(env);
	return rc;
}

/* A part is hashed once, by the engine while decoding: the segment store
 * records that SHA-256 rather than hashing the bytes again. Without one
 * the part is refused; a wrong one is what a plain store's read-back
 * (which checks the bytes against the recorded SHA-256) catches. */
static void test_part_hashed_once(void **state)
{
	struct fx *f = *state;
	char err[TZ_ERRLEN] = "", id[TZ_ID_LEN], want[65];
	struct tz_store *st = tz_store_open(f->q, NULL, err, sizeof(err));
	unsigned char *b = part_bytes(1, 70000);
	GByteArray *ba = g_byte_array_new();
	struct tz_meta *m;

	assert_non_null(st);
	assert_int_equal(tz_store_use_segments(st, err, sizeof(err)), 0);
	tl_sha256(b, 70000, want);
	assert_int_equal(store_part_sha(st, b, 70000, NULL, id, err, sizeof(err)), 0);
	m = tz_store_meta_read(st, id, err, sizeof(err));
	assert_non_null(m);
	assert_string_equal(((struct tz_meta_part *)g_ptr_array_index(m->parts, 0))->sha256, want);
	tz_meta_free(m);
	assert_int_equal(tz_store_file_read(st, id, "part-001.bin", tl_collect, ba, err, sizeof(err)), 0);
	assert_int_equal(ba->len, 70000);
	assert_memory_equal(ba->data, b, 70000);
	/* no SHA-256 from the engine, or not one: refused, nothing listed */
	assert_int_equal(store_part_sha(st, b, 70000, "", id, err, sizeof(err)), -1);
	assert_int_equal(store_part_sha(st, b, 70000, "xyz", id, err, sizeof(err)), -1);
	assert_int_equal(listed(st), 1);
	/* a wrong one is recorded as given, and the read-back says so */
	want[0] = want[0] == '0' ? '1' : '0';
	assert_int_equal(store_part_sha(st, b, 70000, want, id, err, sizeof(err)), 0);
	g_byte_array_set_size(ba, 0);
	assert_int_equal(tz_store_file_read(st, id, "part-001.bin", tl_collect, ba, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "checksum mismatch"));
	g_byte_array_unref(ba);
	g_free(b);
	tz_store_free(st);
}

/* The audit record is required on the segment format too: an entry whose
 * record could not be written is withdrawn, by the committing store opened
 * as the CLI opens it or as the milter does (tz_store_open_appending,
 * which cannot look the entry up: it tombstones what it wrote); a store
 * opened afresh lists only the first entry. */
static void audit_required(struct fx *f, int appending)
{
	char *log = g_build_filename(f->dir, "audit.log", NULL), *moved = g_strconcat(log, ".old", NULL);
	char err[TZ_ERRLEN] = "", id[TZ_ID_LEN], first[TZ_ID_LEN];
	struct tz_store *st = appending ? tz_store_open_appending(f->q, f->key, err, sizeof(err))
					: tz_store_open(f->q, f->key, err, sizeof(err));
	struct tz_audit *au = tz_audit_open(log, NULL, err, sizeof(err));
	GPtrArray *ids = NULL;

	assert_int_equal(tz_store_use_segments(st, err, sizeof(err)), 0);
	tz_store_set_audit(st, au);
	assert_int_equal(store_one(st, 1, first), 0);
	assert_int_equal(rename(log, moved), 0);
	assert_int_equal(mkdir(log, 0700), 0);
	assert_int_equal(store_one(st, 1, id), -1);
	if (appending)   /* it lists nothing */
		assert_int_equal(tz_store_list(st, &ids, err, sizeof(err)), -1);
	tz_store_free(st);
	st = tz_store_open(f->q, f->key, err, sizeof(err));
	assert_int_equal(listed(st), 1);
	assert_true(tz_store_has(st, first));
	assert_false(tz_store_has(st, id));
	assert_null(tz_store_meta_read(st, id, err, sizeof(err)));
	tz_store_free(st);
	tz_audit_free(au);
	g_free(log);
	g_free(moved);
}

static void test_audit_required(void **state) { audit_required(*state, 0); }
static void test_audit_required_appending(void **state) { audit_required(*state, 1); }

/* kill -9 while the commit hooks run (the audit log's write + fdatasync on
 * the leader, then the index transaction there, both beside the segment's
 * sync on the side thread): a hook
 * registered next to them _exits(9) once K commits are acknowledged —
 * "audited": a required hook after the audit (its record durable, the
 * index maybe mid-transaction); "unindexed": a best-effort hook before the
 * index (no row yet, the audit maybe mid-fdatasync); "indexed": one after
 * the index. Three writer threads in a child; the parent then opens the
 * store (recovery) and asserts: every acknowledged entry is listed, reads
 * back and has its `stored` audit record; the audit log verifies; the
 * store lists no entry whose meta does not read; the index's catch-up
 * makes it hold every listed entry. */
struct killer {
	gint *acked;
	int after;
	int fatal;   /* nap_run: _exit after the nap */
};

static int kill_run(void *ctx, const struct tz_store_committed *c, size_t n, char *err, size_t errlen)
{
	struct killer *k = ctx;

	(void)c, (void)n, (void)err, (void)errlen;
	if (g_atomic_int_get(k->acked) >= k->after)
		_exit(9);
	return 0;
}

struct writer {
	struct tz_store *st;
	gint *acked;
	int fd;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	char id[TZ_ID_LEN];

	for (int i = 0; i < 40; i++) {
		if (store_one(w->st, 1, id) < 0)
			_exit(3);
		g_atomic_int_inc(w->acked);
		if (write(w->fd, id, TZ_ID_LEN) != TZ_ID_LEN)
			_exit(4);
	}
	return NULL;
}

static void hook_crash_child(struct fx *f, const char *log, const char *db, int point, int after,
			     int fd)
{
	char err[TZ_ERRLEN] = "";
	/* the milter's way (no index), and once in three the CLI's */
	struct tz_store *st = after != 3 ? tz_store_open_appending(f->q, f->key, err, sizeof(err))
					 : tz_store_open(f->q, f->key, err, sizeof(err));
	struct tz_audit *au = tz_audit_open(log, NULL, err, sizeof(err));
	gint acked = 0;
	struct killer k = { &acked, after, 0 };
	struct tz_store_hook h = { "kill", point == 0 ? TZ_STORE_HOOK_REQUIRED : TZ_STORE_HOOK_BEST_EFFORT,
				   kill_run, NULL, &k, "killed", NULL, NULL };
	struct writer w = { st, &acked, fd };
	pthread_t th[3];

	if (st == NULL || au == NULL || tz_store_use_segments(st, err, sizeof(err)) < 0)
		_exit(2);
	tz_store_set_audit(st, au);
	if (point == 1)   /* before the index */
		tz_store_set_hook(st, &h);
	tz_store_set_index(st, db);
	if (point != 1)
		tz_store_set_hook(st, &h);
	for (int i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, writer_main, &w);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	_exit(0);   /* never reached for after < 120 */
}

/* The ids with a "stored" record in the audit log at path. */
static GHashTable *audited(const char *path)
{
	GHashTable *ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	gchar *text = NULL, **lines;

	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	lines = g_strsplit(text, "\n", -1);
	for (gchar **l = lines; *l; l++) {
		const char *p = strstr(*l, "\"event\":\"stored\"") ? strstr(*l, "\"id\":\"") : NULL;
		if (p)
			g_hash_table_add(ids, g_strndup(p + 6, strcspn(p + 6, "\"")));
	}
	g_strfreev(lines);
	g_free(text);
	return ids;
}

static void hook_crash_check(struct fx *f, const char *log, const char *db, GPtrArray *acked)
{
	char err[TZ_ERRLEN] = "";
	struct tz_store *st = tz_store_open(f->q, f->key, err, sizeof(err));
	GHashTable *aud = audited(log), *ixids;
	struct tz_index *ix = tz_index_open(db, 5000, err, sizeof(err));
	unsigned long records = 0, bad_line = 0;
	GPtrArray *ids = NULL;
	unsigned bad = 0;

	assert_non_null(st);
	assert_int_equal(tz_store_use_segments(st, err, sizeof(err)), 0);
	for (guint i = 0; i < acked->len; i++) {
		entry_reads(st, g_ptr_array_index(acked, i), 1);
		assert_true(g_hash_table_contains(aud, g_ptr_array_index(acked, i)));
	}
	assert_int_equal(tz_audit_verify(log, NULL, &records, &bad_line, err, sizeof(err)), 0);
	assert_int_equal(tz_store_list(st, &ids, err, sizeof(err)), 0);
	for (guint i = 0; i < ids->len; i++) {
		struct tz_meta *m = tz_store_meta_read(st, g_ptr_array_index(ids, i), err, sizeof(err));
		assert_non_null(m);   /* nothing torn listed */
		tz_meta_free(m);
	}
	assert_non_null(ix);
	assert_true(tz_index_sync(ix, st, 0, &bad, err, sizeof(err)) >= 0);
	assert_int_equal(bad, 0);
	ixids = tz_index_ids(ix, err, sizeof(err));
	assert_non_null(ixids);
	assert_int_equal(g_hash_table_size(ixids), ids->len);
	g_hash_table_unref(ixids);
	g_ptr_array_unref(ids);
	g_hash_table_unref(aud);
	tz_index_free(ix);
	tz_store_free(st);
}

/* Wait for the child pid: it must have exited, with code. */
static void assert_child_exit(pid_t pid, int code)
{
	int status = 0;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), code);
}

static void test_hook_crash(void **state)
{
	struct fx *f = *state;
	char *log = g_build_filename(f->dir, "audit.log", NULL);
	char *db = g_build_filename(f->dir, "report.db", NULL);

	for (int point = 0; point < 3; point++) {
		for (int after = 0; after <= 6; after += 3) {
			GPtrArray *acked = g_ptr_array_new_with_free_func(g_free);
			char id[TZ_ID_LEN];
			int p[2];
			pid_t pid;
			assert_int_equal(pipe(p), 0);
			pid = fork();
			assert_true(pid >= 0);
			if (pid == 0) {
				close(p[0]);
				hook_crash_child(f, log, db, point, after, p[1]);
			}
			close(p[1]);
			while (read(p[0], id, TZ_ID_LEN) == TZ_ID_LEN)
				g_ptr_array_add(acked, g_strndup(id, TZ_ID_LEN));
			close(p[0]);
			assert_child_exit(pid, 9);
			assert_true(acked->len >= (guint)after);
			hook_crash_check(f, log, db, acked);
			g_ptr_array_unref(acked);
		}
	}
	g_free(log);
	g_free(db);
}

/* ---- one sync: the segment's fdatasync beside the audit log's ----
 *
 * With the file audit log the store's group commit syncs the segment on a
 * thread while the leader writes and syncs the audit records, so a crash
 * can fall between the two either way. kill -9 (or a simulated power loss:
 * TZ_SEG_CRASH_STEP 7/8 cut the newest segment back to what the last sync
 * covered) in each interleaving, at 0/3/6 acknowledged commits, three
 * writer threads in a child:
 *   0 both durable: a required hook after the audit waits, then _exits;
 *   1 segment durable, audit not: a required hook before the audit waits
 *     while the sync completes and step 9 _exits right after it;
 *   2 audit durable, segment not: step 7 (waits for the audit, power loss);
 *   3 neither: step 8 (power loss at once).
 * Then, opening as the milter does (store, audit log, tz_store_set_audit)
 * twice: every acknowledged entry is listed, reads back and has its
 * `stored` record and no `withdrawn`; nothing torn is listed; the log
 * verifies; every `stored` record whose entry is not in the store has
 * exactly one `withdrawn` record after it, also after the second open.
 * The index runs beside the segment's sync, not after it: in case 2 it
 * holds rows of entries the power loss took (fails when the index waits
 * for the sync), and its catch-up leaves exactly the listed entries. */
static int nap_run(void *ctx, const struct tz_store_committed *c, size_t n, char *err, size_t errlen)
{
	struct killer *k = ctx;

	(void)c, (void)n, (void)err, (void)errlen;
	if (g_atomic_int_get(k->acked) >= k->after) {
		g_usleep(200 * 1000);
		if (k->fatal)
			_exit(9);
	}
	return 0;
}

static int nap_undo(void *ctx, const struct tz_store_committed *c, size_t n, char *err, size_t errlen)
{
	(void)ctx, (void)c, (void)n, (void)err, (void)errlen;
	return 0;
}

static void sync_crash_child(struct fx *f, const char *log, const char *db, int mode, int after,
			     int fd)
{
	char err[TZ_ERRLEN] = "", env[32];
	struct tz_store *st;
	struct tz_audit *au;
	gint acked = 0;
	struct killer k = { &acked, after, 1 }, nap = { &acked, after, 0 };
	struct tz_store_hook kill = { "kill", TZ_STORE_HOOK_REQUIRED, nap_run, NULL, &k, NULL, NULL,
				      nap_undo };
	struct tz_store_hook slow = { "slow", TZ_STORE_HOOK_REQUIRED, nap_run, NULL, &nap, NULL, NULL,
				      nap_undo };
	struct writer w = { NULL, &acked, fd };
	pthread_t th[3];

	if (mode > 0) {
		snprintf(env, sizeof(env), "%d/%d", mode == 1 ? 9 : mode == 2 ? 7 : 8, after);
		setenv("TZ_SEG_CRASH_STEP", env, 1);
	}
	st = tz_store_open_appending(f->q, f->key, err, sizeof(err));   /* as the milter */
	au = tz_audit_open(log, NULL, err, sizeof(err));
	if (st == NULL || au == NULL || tz_store_use_segments(st, err, sizeof(err)) < 0)
		_exit(2);
	if (mode == 1)
		tz_store_set_hook(st, &slow);
	tz_store_set_audit(st, au);
	if (mode == 0)
		tz_store_set_hook(st, &kill);
	tz_store_set_index(st, db);
	w.st = st;
	for (int i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, writer_main, &w);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	_exit(0);
}

/* Per id of the log at path: stored records (stored), withdrawn ones
 * (withdrawn); the log's last event per id is withdrawn when it has one. */
static void audit_counts(const char *path, GHashTable *stored, GHashTable *withdrawn)
{
	gchar *text = NULL, **lines;

	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	lines = g_strsplit(text, "\n", -1);
	for (gchar **l = lines; *l; l++) {
		const char *p = strstr(*l, "\"id\":\"");
		GHashTable *t = strstr(*l, "\"event\":\"stored\"") ? stored :
				strstr(*l, "\"event\":\"withdrawn\"") ? withdrawn : NULL;
		char *id;
		if (p == NULL || t == NULL)
			continue;
		id = g_strndup(p + 6, strcspn(p + 6, "\""));
		g_hash_table_replace(t, id, GINT_TO_POINTER(GPOINTER_TO_INT(g_hash_table_lookup(t, id)) + 1));
	}
	g_strfreev(lines);
	g_free(text);
}

/* The index's rows of entries not in st (ahead), then its catch-up: it
 * holds exactly the n listed entries. */
static unsigned index_catch_up(struct tz_store *st, const char *db, guint n)
{
	char err[TZ_ERRLEN] = "";
	struct tz_index *ix = tz_index_open(db, 5000, err, sizeof(err));
	GHashTable *ids;
	GHashTableIter it;
	gpointer id;
	unsigned ahead = 0, bad = 0;

	assert_non_null(ix);
	ids = tz_index_ids(ix, err, sizeof(err));
	assert_non_null(ids);
	g_hash_table_iter_init(&it, ids);
	while (g_hash_table_iter_next(&it, &id, NULL))
		ahead += tz_store_has(st, id) ? 0 : 1;
	g_hash_table_unref(ids);
	assert_true(tz_index_sync(ix, st, 0, &bad, err, sizeof(err)) >= 0);
	assert_int_equal(bad, 0);
	ids = tz_index_ids(ix, err, sizeof(err));
	assert_non_null(ids);
	assert_int_equal(g_hash_table_size(ids), n);
	g_hash_table_unref(ids);
	tz_index_free(ix);
	return ahead;
}

/* Open as the milter does (its store keeps no index: the reconciliation
 * looks the log's ids up in the segments) and check through a store opened
 * as the CLI does; returns the withdrawn records in the log, and in *ahead
 * the index's rows of entries not in the store. */
static unsigned sync_crash_check(struct fx *f, const char *log, const char *db, GPtrArray *acked,
				 unsigned *ahead)
{
	char err[TZ_ERRLEN] = "";
	struct tz_store *ms = tz_store_open_appending(f->q, f->key, err, sizeof(err)), *st;
	struct tz_audit *au = tz_audit_open(log, NULL, err, sizeof(err));
	GHashTable *sto = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GHashTable *wd = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	unsigned long records = 0, bad_line = 0;
	GHashTableIter it;
	gpointer id, n;
	GPtrArray *ids = NULL;
	unsigned total = 0;

	assert_non_null(ms);
	assert_non_null(au);
	assert_int_equal(tz_store_use_segments(ms, err, sizeof(err)), 0);
	tz_store_set_audit(ms, au);   /* reconciles */
	st = tz_store_open(f->q, f->key, err, sizeof(err));
	assert_non_null(st);
	audit_counts(log, sto, wd);
	for (guint i = 0; i < acked->len; i++) {
		entry_reads(st, g_ptr_array_index(acked, i), 1);
		assert_int_equal(GPOINTER_TO_INT(g_hash_table_lookup(sto, g_ptr_array_index(acked, i))), 1);
		assert_false(g_hash_table_contains(wd, g_ptr_array_index(acked, i)));
	}
	assert_int_equal(tz_audit_verify(log, NULL, &records, &bad_line, err, sizeof(err)), 0);
	assert_int_equal(tz_store_list(st, &ids, err, sizeof(err)), 0);
	for (guint i = 0; i < ids->len; i++) {
		struct tz_meta *m = tz_store_meta_read(st, g_ptr_array_index(ids, i), err, sizeof(err));
		assert_non_null(m);   /* nothing torn listed */
		tz_meta_free(m);
	}
	g_hash_table_iter_init(&it, sto);
	while (g_hash_table_iter_next(&it, &id, &n)) {
		int w = GPOINTER_TO_INT(g_hash_table_lookup(wd, id));
		assert_int_equal(w, tz_store_has(st, id) ? 0 : 1);
		total += (unsigned)w;
	}
	assert_int_equal(g_hash_table_size(wd), total);   /* none of anything else */
	*ahead = index_catch_up(st, db, ids->len);
	g_ptr_array_unref(ids);
	g_hash_table_unref(sto);
	g_hash_table_unref(wd);
	tz_store_free(st);
	tz_store_free(ms);
	tz_audit_free(au);
	return total;
}

static void test_sync_crash(void **state)
{
	struct fx *f = *state;
	char *log = g_build_filename(f->dir, "audit.log", NULL);
	char *db = g_build_filename(f->dir, "report.db", NULL);
	GPtrArray *all = g_ptr_array_new_with_free_func(g_free);
	unsigned total = 0;   /* withdrawn records in the log */

	for (int mode = 0; mode < 4; mode++) {
		unsigned withdrawn = 0, ahead = 0;
		for (int after = 0; after <= 6; after += 3) {
			GPtrArray *acked = g_ptr_array_new_with_free_func(g_free);
			char id[TZ_ID_LEN];
			int p[2];
			unsigned before, again, a = 0, a2 = 0;
			pid_t pid;
			assert_int_equal(pipe(p), 0);
			pid = fork();
			assert_true(pid >= 0);
			if (pid == 0) {
				close(p[0]);
				sync_crash_child(f, log, db, mode, after, p[1]);
			}
			close(p[1]);
			while (read(p[0], id, TZ_ID_LEN) == TZ_ID_LEN)
				g_ptr_array_add(acked, g_strndup(id, TZ_ID_LEN));
			close(p[0]);
			assert_child_exit(pid, 9);
			/* K counts the store's commits; steps 7-9 can strike before the
			 * last batch's (up to three) writers have passed theirs on */
			assert_true(acked->len + (mode > 0 ? 3 : 0) >= (guint)after);
			for (guint i = 0; i < acked->len; i++)   /* this run's and every earlier one's */
				g_ptr_array_add(all, g_strdup(g_ptr_array_index(acked, i)));
			before = sync_crash_check(f, log, db, all, &a);
			again = sync_crash_check(f, log, db, all, &a2);   /* withdrawn once */
			assert_int_equal(again, before);
			assert_int_equal(a2, 0);   /* the first catch-up dropped them */
			ahead += a;
			withdrawn += before - total;
			total = before;
			g_ptr_array_unref(acked);
		}
		/* the power loss after the audit leaves store-less records to withdraw */
		if (mode == 2)
			assert_true(withdrawn > 0);
		/* where the audit got done beside the sync, so did the index */
		if (mode == 2)
			assert_true(ahead > 0);
		/* and none without a power loss */
		if (mode < 2)
			assert_int_equal(withdrawn, 0);
	}
	g_ptr_array_unref(all);
	g_free(log);
	g_free(db);
}

static void migrated(void *ctx, const char *id, int resumed)
{
	(void)id;
	(*(unsigned *)ctx) += resumed ? 100 : 1;
}

/* Directory entries move into the segment store with what they hold and
 * their stored time; a second run has nothing to do. */
static void test_migrate(void **state)
{
	struct fx *f = *state;
	char err[TZ_ERRLEN] = "", ids[3][TZ_ID_LEN];
	struct tz_store *st = tz_store_open(f->q, f->key, err, sizeof(err));
	unsigned calls = 0;
	struct tz_store_migration mg = { migrated, &calls, 0, 0, 0 };
	int64_t stored[3];

	for (int i = 0; i < 3; i++) {
		struct tz_meta *m;
		assert_int_equal(store_one(st, (unsigned)i, ids[i]), 0);
		m = tz_store_meta_read(st, ids[i], err, sizeof(err));
		stored[i] = m->stored_time;
		tz_meta_free(m);
	}
	assert_false(exists(f->q, "store"));
	assert_int_equal(tz_store_migrate(st, 1, &mg, err, sizeof(err)), 0);   /* dry run */
	assert_int_equal(mg.pending, 3);
	assert_false(exists(f->q, "store"));
	assert_int_equal(tz_store_migrate(st, 0, &mg, err, sizeof(err)), 0);
	assert_int_equal(mg.copied, 3);
	assert_int_equal(mg.pending, 0);
	assert_int_equal(calls, 3);
	for (int i = 0; i < 3; i++) {
		char day[32];
		struct tz_meta *m;
		snprintf(day, sizeof(day), "entries/%.8s", ids[i]);
		assert_false(exists(f->q, day));   /* emptied and removed */
		assert_int_equal(tz_store_entry_open(st, ids[i], err, sizeof(err)), -1);
		entry_reads(st, ids[i], (unsigned)i);
		m = tz_store_meta_read(st, ids[i], err, sizeof(err));
		assert_int_equal(m->stored_time, stored[i]);
		tz_meta_free(m);
	}
	assert_int_equal(listed(st), 3);
	calls = 0;
	assert_int_equal(tz_store_migrate(st, 0, &mg, err, sizeof(err)), 0);
	assert_int_equal(mg.copied + mg.resumed + mg.pending + calls, 0);
	tz_store_free(st);
	/* Another process (textizectl, the console) sees them too. */
	st = tz_store_open(f->q, f->key, err, sizeof(err));
	assert_int_equal(listed(st), 3);
	entry_reads(st, ids[2], 2);
	tz_store_free(st);
}

/* A run cut off after copying (the directory still there) is finished by
 * the next; a directory whose copy differs is kept, and the run fails. */
static void test_migrate_resume(void **state)
{
	struct fx *f = *state;
	char err[TZ_ERRLEN] = "", a[TZ_ID_LEN], b[TZ_ID_LEN], *cmd, *qa, *qb;
	struct tz_store *st = tz_store_open(f->q, f->key, err, sizeof(err));
	unsigned calls = 0;
	struct tz_store_migration mg = { migrated, &calls, 0, 0, 0 };

	assert_int_equal(store_one(st, 1, a), 0);
	assert_int_equal(store_one(st, 1, b), 0);
	cmd = g_strdup_printf("cp -a '%s/entries' '%s/saved'", f->q, f->dir);
	assert_int_equal(system(cmd), 0);
	g_free(cmd);
	assert_int_equal(tz_store_migrate(st, 0, &mg, err, sizeof(err)), 0);
	assert_int_equal(mg.copied, 2);
	/* as if the run had died before removing the directories */
	cmd = g_strdup_printf("cp -a '%s/saved/.' '%s/entries/'", f->dir, f->q);
	assert_int_equal(system(cmd), 0);
	g_free(cmd);
	/* and b's directory holds something else than its record now */
	qa = g_strdup_printf("%s/entries/%.8s/%s/part-001.bin", f->q, a, a);
	qb = g_strdup_printf("%s/entries/%.8s/%s/part-001.bin", f->q, b, b);
	cmd = g_strdup_printf("cp '%s' '%s'", qa, qb);
	assert_int_equal(system(cmd), 0);
	g_free(cmd);
	calls = 0;
	assert_int_equal(tz_store_migrate(st, 0, &mg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, b));
	assert_int_equal(mg.resumed, 1);   /* a: verified, removed */
	assert_int_equal(calls, 100);
	assert_int_equal(mg.pending, 1);   /* b: kept, for a person to look at */
	assert_true(access(qb, F_OK) == 0);
	assert_false(access(qa, F_OK) == 0);
	assert_int_equal(listed(st), 2);
	entry_reads(st, b, 1);             /* the record, not the altered file */
	tz_store_free(st);
	g_free(qa);
	g_free(qb);
}

/* The side thread of the group commit (the segment's sync, or the
 * best-effort hooks) is started once and reused by every batch, not
 * created per batch; a child forked after it started, whose copy of the
 * store has no such thread, starts its own and commits. A best-effort
 * hook notes the thread it runs on (a required hook without undo keeps
 * the sync in series, so the best-effort hooks run on the side thread).
 * Fails when a thread is made per batch (a new tid each commit) or when
 * the child waits for the parent's. */
static int noop_run(void *ctx, const struct tz_store_committed *c, size_t n, char *err, size_t errlen)
{
	(void)ctx, (void)c, (void)n, (void)err, (void)errlen;
	return 0;
}

static int tid_run(void *ctx, const struct tz_store_committed *c, size_t n, char *err, size_t errlen)
{
	GArray *tids = ctx;
	long t = syscall(SYS_gettid);

	(void)c, (void)n, (void)err, (void)errlen;
	g_array_append_val(tids, t);
	return 0;
}

static void test_side_thread(void **state)
{
	struct fx *f = *state;
	char err[TZ_ERRLEN] = "", id[TZ_ID_LEN];
	struct tz_store *st = tz_store_open(f->q, f->key, err, sizeof(err));
	struct tz_store_hook req = { "req", TZ_STORE_HOOK_REQUIRED, noop_run, NULL, NULL, NULL, NULL,
				     NULL };
	GArray *tids = g_array_new(FALSE, FALSE, sizeof(long));
	struct tz_store_hook h = { "tid", TZ_STORE_HOOK_BEST_EFFORT, tid_run, NULL, tids, "noted",
				   NULL, NULL };
	long me = syscall(SYS_gettid);
	pid_t pid;

	assert_int_equal(tz_store_use_segments(st, err, sizeof(err)), 0);
	tz_store_set_hook(st, &req);
	tz_store_set_hook(st, &h);
	for (int i = 0; i < 4; i++)
		assert_int_equal(store_one(st, 1, id), 0);
	assert_int_equal(tids->len, 4);
	for (guint i = 0; i < tids->len; i++) {
		assert_true(g_array_index(tids, long, i) != me);
		assert_true(g_array_index(tids, long, i) == g_array_index(tids, long, 0));
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(60);   /* a child stuck waiting for the parent's thread dies */
		g_array_set_size(tids, 0);
		if (store_one(st, 1, id) < 0 || tids->len != 1 ||
		    g_array_index(tids, long, 0) == syscall(SYS_gettid))
			_exit(1);
		tz_store_free(st);
		_exit(0);
	}
	assert_child_exit(pid, 0);
	/* A child that frees the store without committing: the copy of the
	 * parent's idle thread's condition variable must not be destroyed
	 * (glibc would wait there for a waiter the child does not have). */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(20);
		tz_store_free(st);
		_exit(0);
	}
	assert_child_exit(pid, 0);
	assert_int_equal(store_one(st, 1, id), 0);   /* the parent's goes on */
	assert_int_equal(listed(st), 6);
	tz_store_free(st);
	g_array_unref(tids);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_both_layouts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_part_hashed_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_required, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_required_appending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hook_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_side_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_resume, setup, teardown),
	};

	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
