/* test_ref_file.c — the 参照番号 day logs (tz_ref_file.c): a claim is one
 * 48-byte line of refs/YYYYMMDD.log and no file of its own; a code another
 * process (registry) appended is taken; the codes of a day reserved by an
 * earlier version (refs/YYYYMMDD/CODE) are taken and found; a line a crash
 * cut short is skipped and the next claim lands on a whole line; purge
 * drops logs and old directories by day; threads and two registries
 * claiming at once never share a code; and the store's commit fails
 * closed when the registry cannot make the batch's codes durable. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "tz_ref.h"
#include "tz_store.h"
#include "tz_store_testlib.h"
#include "tz_util.h"

#define ID1 "20261202-010000-000001-0000abcd"
#define ID2 "20261202-010000-000002-0000abcd"
#define DAY "20261202"

static time_t utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi };

	return timegm(&tm);
}

static gchar *read_log(const char *dir, const char *name, gsize *len)
{
	gchar *p = g_build_filename(dir, "refs", name, NULL), *text = NULL;

	if (!g_file_get_contents(p, &text, len, NULL))
		text = NULL;
	g_free(p);
	return text;
}

/* A claim is a line of the day's log, 0600, and nothing else in refs/. */
static void test_claim_is_a_line(void **state)
{
	char *dir = tl_tmpdir(), err[TZ_ERRLEN], id[TZ_ID_LEN];
	int root = open(dir, O_RDONLY | O_DIRECTORY);
	struct tz_refs *r = tz_refs_dir_new(root);
	gchar *text, *refs = g_build_filename(dir, "refs", NULL), *log = g_build_filename(refs, DAY ".log", NULL);
	GDir *d;
	struct stat sb;
	gsize len = 0;
	unsigned n = 0;

	(void)state;
	assert_int_equal(r->ops->claim(r, DAY, "4F7K", ID1, err, sizeof(err)), 0);
	assert_int_equal(r->ops->claim(r, DAY, "ZZZZZZ", ID2, err, sizeof(err)), 0);
	assert_int_equal(tz_refs_sync(r, err, sizeof(err)), 0);
	text = read_log(dir, DAY ".log", &len);
	assert_non_null(text);
	assert_int_equal(len, 96);
	assert_memory_equal(text, "4F7K   " ID1 "         \n", 48);
	assert_memory_equal(text + 48, "ZZZZZZ " ID2 "         \n", 48);
	assert_int_equal(stat(log, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	d = g_dir_open(refs, 0, NULL);
	while (g_dir_read_name(d))
		n++;
	g_dir_close(d);
	assert_int_equal(n, 1);
	assert_int_equal(r->ops->find(r, DAY, "ZZZZZZ", id, err, sizeof(err)), 0);
	assert_string_equal(id, ID2);
	g_free(text);
	g_free(log);
	g_free(refs);
	tz_refs_free(r);
	close(root);
	tl_rmrf(dir);
	g_free(dir);
}

/* Two registries on one quarantine (two processes): each sees what the
 * other appended before it claims. */
static void test_other_registry_taken(void **state)
{
	char *dir = tl_tmpdir(), err[TZ_ERRLEN], id[TZ_ID_LEN];
	int root = open(dir, O_RDONLY | O_DIRECTORY);
	struct tz_refs *a = tz_refs_dir_new(root), *b = tz_refs_dir_new(root);

	(void)state;
	assert_int_equal(a->ops->claim(a, DAY, "AAAA", ID1, err, sizeof(err)), 0);
	assert_int_equal(b->ops->claim(b, DAY, "BBBB", ID2, err, sizeof(err)), 0);
	assert_int_equal(a->ops->claim(a, DAY, "BBBB", ID1, err, sizeof(err)), 1);
	assert_int_equal(b->ops->claim(b, DAY, "AAAA", ID2, err, sizeof(err)), 1);
	assert_int_equal(a->ops->find(a, DAY, "BBBB", id, err, sizeof(err)), 0);
	assert_string_equal(id, ID2);
	tz_refs_free(a);
	tz_refs_free(b);
	close(root);
	tl_rmrf(dir);
	g_free(dir);
}

/* A day an earlier version reserved in (refs/DAY/CODE files): its codes
 * are taken and found; nothing new is written there. */
static void test_legacy_day(void **state)
{
	char *dir = tl_tmpdir(), err[TZ_ERRLEN], id[TZ_ID_LEN];
	gchar *old = g_build_filename(dir, "refs", DAY, NULL), *f = g_build_filename(old, "CAFE", NULL);
	int root = open(dir, O_RDONLY | O_DIRECTORY);
	struct tz_refs *r;

	(void)state;
	assert_int_equal(g_mkdir_with_parents(old, 0700), 0);
	assert_true(g_file_set_contents(f, ID1, -1, NULL));
	r = tz_refs_dir_new(root);
	assert_int_equal(r->ops->claim(r, DAY, "CAFE", ID2, err, sizeof(err)), 1);
	assert_int_equal(r->ops->claim(r, DAY, "BEEF", ID2, err, sizeof(err)), 0);
	assert_int_equal(r->ops->find(r, DAY, "CAFE", id, err, sizeof(err)), 0);
	assert_string_equal(id, ID1);
	assert_int_equal(r->ops->find(r, DAY, "BEEF", id, err, sizeof(err)), 0);
	assert_string_equal(id, ID2);
	g_free(f);
	f = g_build_filename(old, "BEEF", NULL);
	assert_false(g_file_test(f, G_FILE_TEST_EXISTS));
	/* purge: the day goes once, log and directory both */
	assert_int_equal(tz_refs_purge(r, utc(2026, 12, 5, 0, 0), err, sizeof(err)), 1);
	assert_false(g_file_test(old, G_FILE_TEST_EXISTS));
	assert_int_equal(r->ops->find(r, DAY, "BEEF", id, err, sizeof(err)), 1);
	g_free(f);
	g_free(old);
	tz_refs_free(r);
	close(root);
	tl_rmrf(dir);
	g_free(dir);
}

/* A crash cut a line short: it is skipped, and the next claim starts on
 * the next whole line, so every later line is read. */
static void test_torn_line(void **state)
{
	char *dir = tl_tmpdir(), err[TZ_ERRLEN], id[TZ_ID_LEN];
	int root = open(dir, O_RDONLY | O_DIRECTORY);
	struct tz_refs *r = tz_refs_dir_new(root), *r2;
	gchar *log = g_build_filename(dir, "refs", DAY ".log", NULL), *text;
	gsize len;
	FILE *fp;

	(void)state;
	assert_int_equal(r->ops->claim(r, DAY, "AAAA", ID1, err, sizeof(err)), 0);
	fp = fopen(log, "a");
	assert_non_null(fp);
	fputs("QQQQ   2026120", fp);   /* a line cut short */
	fclose(fp);
	r2 = tz_refs_dir_new(root);
	assert_int_equal(r2->ops->claim(r2, DAY, "QQQQ", ID2, err, sizeof(err)), 0);
	assert_int_equal(r->ops->claim(r, DAY, "QQQQ", ID1, err, sizeof(err)), 1);
	text = read_log(dir, DAY ".log", &len);
	assert_int_equal(len, 144);
	assert_memory_equal(text + 96, "QQQQ   " ID2, 7 + strlen(ID2));
	assert_int_equal(r->ops->find(r, DAY, "QQQQ", id, err, sizeof(err)), 0);
	assert_string_equal(id, ID2);
	assert_int_equal(r->ops->find(r, DAY, "AAAA", id, err, sizeof(err)), 0);
	assert_string_equal(id, ID1);
	g_free(text);
	g_free(log);
	tz_refs_free(r);
	tz_refs_free(r2);
	close(root);
	tl_rmrf(dir);
	g_free(dir);
}

struct racer {
	struct tz_refs *r;
	unsigned base;
	char refs[400][TZ_REF_LEN];
};

static void *race(void *arg)
{
	struct racer *x = arg;
	char err[TZ_ERRLEN], id[TZ_ID_LEN];

	for (unsigned i = 0; i < 400; i++) {
		snprintf(id, sizeof(id), "20261202-010000-%06u-0000abcd", x->base + i);
		if (tz_refs_reserve(x->r, id, utc(2026, 12, 2, 1, 0), x->refs[i], err, sizeof(err)) < 0)
			x->refs[i][0] = '\0';
	}
	return NULL;
}

/* Four threads over two registries (two processes of two threads each),
 * 1,600 codes on one day: all distinct, each names its own entry. */
static void test_concurrent_claims(void **state)
{
	char *dir = tl_tmpdir(), err[TZ_ERRLEN], id[TZ_ID_LEN], want[TZ_ID_LEN];
	int root = open(dir, O_RDONLY | O_DIRECTORY);
	struct tz_refs *r[2] = { tz_refs_dir_new(root), tz_refs_dir_new(root) };
	struct racer *x = g_new0(struct racer, 4);
	pthread_t th[4];
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);

	(void)state;
	for (unsigned t = 0; t < 4; t++) {
		x[t].r = r[t % 2];
		x[t].base = t * 1000;
		assert_int_equal(pthread_create(&th[t], NULL, race, &x[t]), 0);
	}
	for (unsigned t = 0; t < 4; t++)
		pthread_join(th[t], NULL);
	for (unsigned t = 0; t < 4; t++) {
		for (unsigned i = 0; i < 400; i++) {
			assert_true(x[t].refs[i][0] != '\0');
			assert_false(g_hash_table_contains(seen, x[t].refs[i]));
			g_hash_table_add(seen, x[t].refs[i]);
			snprintf(want, sizeof(want), "20261202-010000-%06u-0000abcd", t * 1000 + i);
			assert_int_equal(tz_refs_lookup(r[0], NULL, x[t].refs[i], utc(2026, 12, 2, 1, 0),
							id, err, sizeof(err)), 0);
			assert_string_equal(id, want);
		}
	}
	g_hash_table_unref(seen);
	g_free(x);
	tz_refs_free(r[0]);
	tz_refs_free(r[1]);
	close(root);
	tl_rmrf(dir);
	g_free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claim_is_a_line),
		cmocka_unit_test(test_other_registry_taken),
		cmocka_unit_test(test_legacy_day),
		cmocka_unit_test(test_torn_line),
		cmocka_unit_test(test_concurrent_claims),
	};

	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
