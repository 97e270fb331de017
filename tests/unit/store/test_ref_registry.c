/* test_ref_registry.c — the 参照番号 registry seam (tz_ref.h, issue 18):
 * the draw and retries run the same over any registry (a taken code is
 * drawn again, a full 4-character day goes to 5 characters, a registry
 * that fails fails the reservation: no fallback); the file registry
 * through the interface; lookup over a shared registry and the host's old
 * files (the old code still found, one day + code naming two entries
 * refused); and a store with a shared registry reserves there only — an
 * entry whose registry fails is not begun and leaves nothing in refs/;
 * a commit whose registry cannot make its codes durable fails. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <time.h>
#include <sys/stat.h>

#include "tz_ref.h"
#include "tz_store.h"
#include "tz_store_testlib.h"
#include "tz_util.h"

/* An in-memory registry: "DAY/CODE" -> id. Codes no longer than
 * taken_upto count as taken (a day whose short space is full); fail makes
 * every call an error (a database that does not answer). */
struct mem_refs {
	struct tz_refs r;
	GHashTable *t;
	unsigned taken_upto;
	int fail, fail_sync;
	unsigned claims, syncs;
};

#define MR(r) ((struct mem_refs *)(void *)(r))

static int mem_claim(struct tz_refs *r, const char *day, const char *code, const char *id,
		     char *err, size_t errlen)
{
	char *k;

	MR(r)->claims++;
	if (MR(r)->fail)
		return tz_err(err, errlen, "database: down");
	if (strlen(code) <= MR(r)->taken_upto)
		return 1;
	k = g_strdup_printf("%s/%s", day, code);
	if (g_hash_table_contains(MR(r)->t, k)) {
		g_free(k);
		return 1;
	}
	g_hash_table_insert(MR(r)->t, k, g_strdup(id));
	return 0;
}

static int mem_find(struct tz_refs *r, const char *day, const char *code, char id[TZ_ID_LEN],
		    char *err, size_t errlen)
{
	char *k = g_strdup_printf("%s/%s", day, code);
	const char *v = g_hash_table_lookup(MR(r)->t, k);

	g_free(k);
	if (MR(r)->fail)
		return tz_err(err, errlen, "database: down");
	if (v == NULL)
		return 1;
	g_strlcpy(id, v, TZ_ID_LEN);
	return 0;
}

static int mem_purge(struct tz_refs *r, const char *keep, char *err, size_t errlen)
{
	GHashTableIter it;
	gpointer k;
	int n = 0;

	if (MR(r)->fail)
		return tz_err(err, errlen, "database: down");
	g_hash_table_iter_init(&it, MR(r)->t);
	while (g_hash_table_iter_next(&it, &k, NULL))
		if (strncmp(k, keep, 8) < 0) {
			g_hash_table_iter_remove(&it);
			n++;
		}
	return n;
}

static void mem_free(struct tz_refs *r)
{
	g_hash_table_unref(MR(r)->t);
	g_free(r);
}

/* Claims made durable (counted); fail_sync: the disk refuses. */
static int mem_sync(struct tz_refs *r, char *err, size_t errlen)
{
	MR(r)->syncs++;
	return MR(r)->fail_sync ? tz_err(err, errlen, "refs: fdatasync: I/O error") : 0;
}

static const struct tz_refs_ops mem_ops = { mem_claim, mem_find, mem_purge, mem_free, mem_sync };

static struct mem_refs *mem_new(void)
{
	struct mem_refs *m = g_new0(struct mem_refs, 1);

	m->r.ops = &mem_ops;
	m->t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return m;
}

static time_t utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi };

	return timegm(&tm);
}

#define ID1 "20261202-010000-000001-0000abcd"
#define ID2 "20261202-010000-000002-0000abcd"

/* The day's 4-character space full: 24 draws there, then 5 characters,
 * and the longer code is found again. */
static void test_full_day_goes_longer(void **state)
{
	struct mem_refs *m = mem_new();
	char ref[TZ_REF_LEN], id[TZ_ID_LEN], err[TZ_ERRLEN];
	time_t now = utc(2026, 12, 2, 1, 0);

	(void)state;
	m->taken_upto = 4;
	assert_int_equal(tz_refs_reserve(&m->r, ID1, now, ref, err, sizeof(err)), 0);
	assert_int_equal(strlen(ref), 10);
	assert_memory_equal(ref, "1202-", 5);
	assert_int_equal(m->claims, 25);
	assert_int_equal(tz_refs_lookup(&m->r, NULL, ref, now, id, err, sizeof(err)), 0);
	assert_string_equal(id, ID1);
	/* everything up to 6 characters taken: refused, not shared */
	m->taken_upto = 6;
	assert_int_equal(tz_refs_reserve(&m->r, ID2, now, ref, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no free reference"));
	tz_refs_free(&m->r);
}

/* A registry that fails fails the reservation at the first draw. */
static void test_failing_registry(void **state)
{
	struct mem_refs *m = mem_new();
	char ref[TZ_REF_LEN], id[TZ_ID_LEN], err[TZ_ERRLEN];
	time_t now = utc(2026, 12, 2, 1, 0);

	(void)state;
	m->fail = 1;
	assert_int_equal(tz_refs_reserve(&m->r, ID1, now, ref, err, sizeof(err)), -1);
	assert_string_equal(err, "database: down");
	assert_int_equal(m->claims, 1);
	/* and a lookup that cannot ask says so (-1), not "no entry" (1) */
	assert_int_equal(tz_refs_lookup(&m->r, NULL, "1202-4F7K", now, id, err, sizeof(err)), -1);
	tz_refs_free(&m->r);
}

/* The file registry through the interface: a claimed code is taken, a
 * missing one is none, purge keeps the cutoff's day. */
static void test_dir_registry(void **state)
{
	char *dir = tl_tmpdir(), id[TZ_ID_LEN], err[TZ_ERRLEN];
	int root = open(dir, O_RDONLY | O_DIRECTORY);
	struct tz_refs *r = tz_refs_dir_new(root);
	struct stat sb;

	(void)state;
	assert_int_equal(r->ops->claim(r, "20261202", "4F7K", ID1, err, sizeof(err)), 0);
	assert_int_equal(r->ops->claim(r, "20261202", "4F7K", ID2, err, sizeof(err)), 1);
	assert_int_equal(r->ops->claim(r, "20261203", "4F7K", ID2, err, sizeof(err)), 0);
	assert_int_equal(fstatat(root, "refs/20261202.log", &sb, 0), 0);
	assert_int_equal(sb.st_size, 48);   /* one line; 12-03 has its own log */
	assert_int_equal(fstatat(root, "refs/20261202", &sb, 0), -1);
	assert_int_equal(r->ops->find(r, "20261202", "4F7K", id, err, sizeof(err)), 0);
	assert_string_equal(id, ID1);
	assert_int_equal(r->ops->find(r, "20261202", "4F7M", id, err, sizeof(err)), 1);
	assert_int_equal(tz_refs_lookup(r, NULL, "1203-4F7K", utc(2026, 12, 5, 0, 0), id, err,
					sizeof(err)), 0);
	assert_string_equal(id, ID2);
	assert_int_equal(tz_refs_lookup(r, NULL, "1204-4F7K", utc(2026, 12, 5, 0, 0), id, err,
					sizeof(err)), 1);
	assert_non_null(strstr(err, "no quarantine entry with reference 1204-4F7K"));
	/* cutoff 12-04 09:00 JST: days before 12-03 go */
	assert_int_equal(tz_refs_purge(r, utc(2026, 12, 4, 0, 0), err, sizeof(err)), 1);
	assert_int_equal(r->ops->find(r, "20261202", "4F7K", id, err, sizeof(err)), 1);
	assert_int_equal(r->ops->find(r, "20261203", "4F7K", id, err, sizeof(err)), 0);
	tz_refs_free(r);
	close(root);
	tl_rmrf(dir);
	g_free(dir);
}

/* Shared registry first, the host's old files as well: an old code is
 * still found; the same day + code naming two entries is refused. */
static void test_lookup_with_legacy(void **state)
{
	char *dir = tl_tmpdir(), id[TZ_ID_LEN], err[TZ_ERRLEN];
	int root = open(dir, O_RDONLY | O_DIRECTORY);
	struct tz_refs *old = tz_refs_dir_new(root);
	struct mem_refs *m = mem_new();
	time_t now = utc(2026, 12, 2, 5, 0);

	(void)state;
	assert_int_equal(old->ops->claim(old, "20261201", "AAAA", ID1, err, sizeof(err)), 0);
	assert_int_equal(tz_refs_lookup(&m->r, old, "1201-AAAA", now, id, err, sizeof(err)), 0);
	assert_string_equal(id, ID1);
	/* the same entry in both (imported): found */
	assert_int_equal(m->r.ops->claim(&m->r, "20261201", "AAAA", ID1, err, sizeof(err)), 0);
	assert_int_equal(tz_refs_lookup(&m->r, old, "1201-AAAA", now, id, err, sizeof(err)), 0);
	assert_string_equal(id, ID1);
	/* shared only */
	assert_int_equal(m->r.ops->claim(&m->r, "20261201", "BBBB", ID2, err, sizeof(err)), 0);
	assert_int_equal(tz_refs_lookup(&m->r, old, "1201-BBBB", now, id, err, sizeof(err)), 0);
	assert_string_equal(id, ID2);
	/* two entries under one code: neither is guessed */
	assert_int_equal(old->ops->claim(old, "20261201", "BBBB", ID1, err, sizeof(err)), 0);
	assert_int_equal(tz_refs_lookup(&m->r, old, "1201-BBBB", now, id, err, sizeof(err)), 2);
	assert_non_null(strstr(err, "names two entries"));
	/* the shared registry down: an error, not the old file's answer */
	m->fail = 1;
	assert_int_equal(tz_refs_lookup(&m->r, old, "1201-AAAA", now, id, err, sizeof(err)), -1);
	tz_refs_free(&m->r);
	tz_refs_free(old);
	close(root);
	tl_rmrf(dir);
	g_free(dir);
}

static int dir_entries(const char *path)
{
	GDir *d = g_dir_open(path, 0, NULL);
	int n = 0;

	if (d == NULL)
		return 0;
	while (g_dir_read_name(d))
		n++;
	g_dir_close(d);
	return n;
}

/* A store with a shared registry reserves there (QUEUE/refs untouched)
 * and resolves from there; when the registry fails the entry is not
 * begun and no local code is made instead. */
static void test_store_uses_registry(void **state)
{
	char *dir = tl_tmpdir(), *qdir = g_build_filename(dir, "q", NULL), err[TZ_ERRLEN];
	char *refs = g_build_filename(qdir, "refs", NULL), id[TZ_ID_LEN], ref[TZ_REF_LEN];
	struct tz_store *st = tz_store_open(qdir, NULL, err, sizeof(err));
	struct mem_refs *m = mem_new();
	struct tz_store_entry *e;
	unsigned part;

	(void)state;
	assert_non_null(st);
	tz_store_set_refs(st, &m->r);
	e = tz_store_entry_begin(st, err, sizeof(err));
	assert_non_null(e);
	g_strlcpy(ref, tz_store_entry_ref(e), sizeof(ref));
	assert_int_equal(m->claims, 1);
	assert_int_equal(g_hash_table_size(m->t), 1);
	assert_int_equal(dir_entries(refs), 0);
	assert_int_equal(tz_store_resolve(st, ref, id, &part, err, sizeof(err)), 0);
	assert_string_equal(id, tz_store_entry_id(e));
	tz_store_entry_abort(e);
	m->fail = 1;
	assert_null(tz_store_entry_begin(st, err, sizeof(err)));
	assert_string_equal(err, "database: down");
	assert_int_equal(dir_entries(refs), 0);
	/* a lookup that cannot ask: -2 (textizectl exits 69), not "no entry" */
	assert_int_equal(tz_store_resolve(st, ref, id, &part, err, sizeof(err)), -2);
	m->fail = 0;
	assert_int_equal(tz_store_resolve(st, "1201-ZZZZ", id, &part, err, sizeof(err)), -1);
	m->fail = 1;
	/* purge reaches the shared registry (and reports its failure) */
	assert_int_equal(tz_store_purge_refs(st, time(NULL) + 5 * 86400, err, sizeof(err)), -1);
	m->fail = 0;
	assert_int_equal(tz_store_purge_refs(st, time(NULL) + 5 * 86400, err, sizeof(err)), 1);
	assert_int_equal(g_hash_table_size(m->t), 0);
	tz_store_free(st);   /* frees m */
	tl_rmrf(dir);
	g_free(refs);
	g_free(qdir);
	g_free(dir);
}

/* One entry through the store on registry m: its commit's result. */
static int commit_one(struct tz_store *st, char *err, size_t errlen)
{
	struct tz_result *res = tl_result();
	struct tz_envelope *env = tl_envelope("a@example.jp", "staff@city.example.lg.jp");
	struct tz_store_entry *e = tz_store_entry_begin(st, err, errlen);
	GMimeStream *s = g_mime_stream_mem_new_with_buffer("Subject: x\r\n\r\nbody\r\n", 20);
	int rc;

	assert_non_null(e);
	assert_int_equal(tz_store_entry_put_original(e, s, err, errlen), 0);
	g_object_unref(s);
	rc = tz_store_entry_commit(e, env, res, err, errlen);
	tl_result_free(res);
	tl_envelope_free(env);
	return rc;
}

/* The commit makes the registry's claims durable before it returns, and
 * fails (nothing listed) when they cannot be: on both store formats. */
static void test_commit_syncs_registry(void **state)
{
	for (int seg = 0; seg < 2; seg++) {
		char *dir = tl_tmpdir(), *qdir = g_build_filename(dir, "q", NULL), err[TZ_ERRLEN];
		struct tz_store *st = tz_store_open(qdir, NULL, err, sizeof(err));
		struct mem_refs *m = mem_new();
		GPtrArray *ids;

		(void)state;
		assert_non_null(st);
		if (seg)
			assert_int_equal(tz_store_use_segments(st, err, sizeof(err)), 0);
		tz_store_set_refs(st, &m->r);
		assert_int_equal(commit_one(st, err, sizeof(err)), 0);
		assert_true(m->syncs >= 1);
		m->fail_sync = 1;
		assert_int_equal(commit_one(st, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "fdatasync: I/O error"));
		assert_int_equal(tz_store_list(st, &ids, err, sizeof(err)), 0);
		assert_int_equal(ids->len, 1);
		g_ptr_array_unref(ids);
		tz_store_free(st);
		tl_rmrf(dir);
		g_free(qdir);
		g_free(dir);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_day_goes_longer),
		cmocka_unit_test(test_failing_registry),
		cmocka_unit_test(test_dir_registry),
		cmocka_unit_test(test_lookup_with_legacy),
		cmocka_unit_test(test_store_uses_registry),
		cmocka_unit_test(test_commit_syncs_registry),
	};

	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
