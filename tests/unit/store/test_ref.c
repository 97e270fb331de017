/* test_ref.c — the 参照番号 (issue 13.6 / 14): local date, Crockford
 * characters that survive being read out and typed back, one entry per
 * reference per day (thousands reserved on one day are all distinct and
 * each finds its own entry again), lookup across the year boundary, and a
 * store entry that carries its reference into meta.json and the notice. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <time.h>

#include <sqlite3.h>

#include "tz_index.h"
#include "tz_meta.h"
#include "tz_ref.h"
#include "tz_store.h"
#include "tz_store_testlib.h"

static time_t utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi };

	return timegm(&tm);
}

static void test_local_date(void **state)
{
	char *dir = tl_tmpdir(), ref[TZ_REF_LEN], id[TZ_ID_LEN], err[TZ_ERRLEN];
	int root = open(dir, O_RDONLY | O_DIRECTORY);

	(void)state;
	/* 2026-12-01 23:30 UTC is 2026-12-02 08:30 in Japan: the staff's date. */
	assert_int_equal(tz_ref_reserve(root, "20261201-233000-000001-0000abcd",
					utc(2026, 12, 1, 23, 30), ref, err, sizeof(err)), 0);
	assert_memory_equal(ref, "1202-", 5);
	assert_int_equal(strlen(ref), 9);
	for (int i = 5; i < 9; i++)
		assert_non_null(strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", ref[i]));
	assert_int_equal(tz_ref_lookup(root, ref, utc(2026, 12, 2, 3, 0), id, err, sizeof(err)), 0);
	assert_string_equal(id, "20261201-233000-000001-0000abcd");
	/* a December reference looked up in January: last year's day */
	assert_int_equal(tz_ref_lookup(root, ref, utc(2027, 1, 5, 3, 0), id, err, sizeof(err)), 0);
	assert_string_equal(id, "20261201-233000-000001-0000abcd");
	/* another day's reference with the same code does not exist */
	ref[3] = ref[3] == '3' ? '4' : '3';
	assert_int_equal(tz_ref_lookup(root, ref, utc(2026, 12, 2, 3, 0), id, err, sizeof(err)), -1);
	close(root);
	tl_rmrf(dir);
	g_free(dir);
}

/* Many references on one day: all distinct, each finds its own entry. */
static void test_unique_per_day(void **state)
{
	char *dir = tl_tmpdir(), err[TZ_ERRLEN], id[TZ_ID_LEN], want[TZ_ID_LEN];
	int root = open(dir, O_RDONLY | O_DIRECTORY);
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	time_t now = utc(2026, 12, 2, 1, 0);

	(void)state;
	for (unsigned i = 0; i < 3000; i++) {
		char ref[TZ_REF_LEN];
		snprintf(want, sizeof(want), "20261202-010000-%06u-0000abcd", i);
		assert_int_equal(tz_ref_reserve(root, want, now, ref, err, sizeof(err)), 0);
		assert_null(g_hash_table_lookup(seen, ref));
		g_hash_table_insert(seen, g_strdup(ref), g_strdup(want));
	}
	{
		GHashTableIter it;
		gpointer k, v;
		g_hash_table_iter_init(&it, seen);
		while (g_hash_table_iter_next(&it, &k, &v)) {
			assert_int_equal(tz_ref_lookup(root, k, now, id, err, sizeof(err)), 0);
			assert_string_equal(id, v);
		}
	}
	/* purge frees days before the cutoff, not the cutoff's own */
	assert_int_equal(tz_ref_purge(root, now), 0);
	assert_int_equal(tz_ref_purge(root, now + 3 * 86400), 1);
	g_hash_table_unref(seen);
	close(root);
	tl_rmrf(dir);
	g_free(dir);
}

static void test_parse(void **state)
{
	char ref[TZ_REF_LEN], id[TZ_ID_LEN];
	unsigned part;
	int kind;

	(void)state;
	assert_int_equal(tz_ref_parse("1202-4F7K", &kind, ref, id, &part), 0);
	assert_int_equal(kind, 1);
	assert_string_equal(ref, "1202-4F7K");
	assert_int_equal(part, 0);
	/* read out and typed back: lower case, O for 0, I/L for 1 */
	assert_int_equal(tz_ref_parse("1202-o4il#2", &kind, ref, id, &part), 0);
	assert_string_equal(ref, "1202-0411");
	assert_int_equal(part, 2);
	assert_int_equal(tz_ref_parse("20261202-010000-000001-0000abcd#3", &kind, ref, id, &part), 0);
	assert_int_equal(kind, 2);
	assert_string_equal(id, "20261202-010000-000001-0000abcd");
	assert_int_equal(part, 3);
	/* refused: U is not a character, paths, bad parts, wrong shapes */
	assert_int_equal(tz_ref_parse("1202-4F7U", &kind, ref, id, &part), -1);
	assert_int_equal(tz_ref_parse("1202-../x", &kind, ref, id, &part), -1);
	assert_int_equal(tz_ref_parse("1202-4F7K#0", &kind, ref, id, &part), -1);
	assert_int_equal(tz_ref_parse("1202-4F7K#x", &kind, ref, id, &part), -1);
	assert_int_equal(tz_ref_parse("1202-4F7K#", &kind, ref, id, &part), -1);
	assert_int_equal(tz_ref_parse("12024F7K", &kind, ref, id, &part), -1);
	assert_int_equal(tz_ref_parse("", &kind, ref, id, &part), -1);
	assert_int_equal(tz_ref_parse(NULL, &kind, ref, id, &part), -1);
}

/* A store entry gets a reference at begin; meta.json keeps it and the
 * store resolves it (and "REF#N") to the long id. */
static void test_store_entry_ref(void **state)
{
	char *dir = tl_tmpdir(), *qdir = g_build_filename(dir, "q", NULL), err[TZ_ERRLEN];
	char id[TZ_ID_LEN], ref[TZ_REF_LEN + 4], longid[TZ_ID_LEN];
	struct tz_store *st = tz_store_open(qdir, NULL, err, sizeof(err));
	struct tz_store_entry *e;
	struct tz_result *res = tl_result();
	GMimeStream *s = g_mime_stream_mem_new_with_buffer("Subject: x\n\nbody\n", 17);
	struct tz_meta *m;
	unsigned part;

	(void)state;
	assert_non_null(st);
	e = tz_store_entry_begin(st, err, sizeof(err));
	assert_non_null(e);
	g_strlcpy(longid, tz_store_entry_id(e), sizeof(longid));
	g_strlcpy(ref, tz_store_entry_ref(e), sizeof(ref));
	assert_int_equal(strlen(ref), 9);
	assert_int_equal(tz_store_entry_put_original(e, s, err, sizeof(err)), 0);
	assert_int_equal(tz_store_entry_commit(e, NULL, res, err, sizeof(err)), 0);
	m = tz_store_meta_read(st, longid, err, sizeof(err));
	assert_non_null(m);
	assert_string_equal(m->ref, ref);
	tz_meta_free(m);
	assert_int_equal(tz_store_resolve(st, ref, id, &part, err, sizeof(err)), 0);
	assert_string_equal(id, longid);
	assert_int_equal(part, 0);
	g_strlcat(ref, "#1", sizeof(ref));
	assert_int_equal(tz_store_resolve(st, ref, id, &part, err, sizeof(err)), 0);
	assert_string_equal(id, longid);
	assert_int_equal(part, 1);
	assert_int_equal(tz_store_resolve(st, "../../etc/passwd", id, &part, err, sizeof(err)), -1);
	g_object_unref(s);
	tl_result_free(res);
	tz_store_free(st);
	tl_rmrf(dir);
	g_free(qdir);
	g_free(dir);
}

/* An index made before the 参照番号 existed gets the column on open and
 * lists the reference of entries indexed afterwards. */
static void test_old_index_gets_ref(void **state)
{
	char *dir = tl_tmpdir(), *db = g_build_filename(dir, "old.db", NULL), err[TZ_ERRLEN];
	struct tz_index *ix;
	struct tz_meta *m = tz_meta_new();
	struct tz_index_filter f = { 0 };
	GPtrArray *rows;
	sqlite3 *raw;

	(void)state;
	assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw, "CREATE TABLE entries(id TEXT PRIMARY KEY, stored_time INTEGER,"
				      " stored_at TEXT, sender TEXT, sender_domain TEXT, rcpts TEXT, subject TEXT,"
				      " message_id TEXT, client_addr TEXT, direction TEXT, spf TEXT, kind TEXT,"
				      " nparts INTEGER, original_size INTEGER)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	ix = tz_index_open(db, 1000, err, sizeof(err));
	assert_non_null(ix);
	g_strlcpy(m->id, "20261202-010000-000001-0000abcd", sizeof(m->id));
	m->ref = g_strdup("1202-4F7K");
	m->stored_time = 1764637200;
	assert_int_equal(tz_index_update(ix, m, err, sizeof(err)), 0);
	assert_int_equal(tz_index_query(ix, &f, &rows, err, sizeof(err)), 0);
	assert_int_equal(rows->len, 1);
	assert_string_equal(((struct tz_index_row *)g_ptr_array_index(rows, 0))->ref, "1202-4F7K");
	g_ptr_array_unref(rows);
	tz_index_free(ix);
	tz_meta_free(m);
	tl_rmrf(dir);
	g_free(db);
	g_free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local_date),
		cmocka_unit_test(test_unique_per_day),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_store_entry_ref),
		cmocka_unit_test(test_old_index_gets_ref),
	};

	/* The staff's date is the gateway's local date: a Japanese gateway. */
	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
