/* test_spool.c — the body spool: stays in memory under the limit, moves to
 * an unlinked file above it, reads back byte-exact through independent
 * streams, and fails cleanly when the spool directory is unusable. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tz_spool.h"
#include "tz_util.h"

static char tmpdir[64];

static int setup(void **state)
{
	strcpy(tmpdir, "/tmp/tz-test-spool-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	return rmdir(tmpdir);
}

/* Read a whole stream into a new GByteArray. */
static GByteArray *read_all(GMimeStream *s)
{
	GByteArray *a = g_byte_array_new();
	char buf[777];   /* odd size: reads cross chunk boundaries */
	gssize n;

	while ((n = g_mime_stream_read(s, buf, sizeof(buf))) > 0)
		g_byte_array_append(a, (guint8 *)buf, (guint)n);
	assert_true(n == 0);
	return a;
}

static unsigned entries_in_dir(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	unsigned n = 0;

	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Fill a spool with `total` bytes of a known pattern in chunks. */
static void fill(struct tz_spool *sp, size_t total, size_t chunk)
{
	char err[TZ_ERRLEN];
	char *buf = g_malloc(chunk);

	for (size_t off = 0; off < total; off += chunk) {
		size_t n = total - off < chunk ? total - off : chunk;

		for (size_t i = 0; i < n; i++)
			buf[i] = (char)('a' + (off + i) % 26);
		assert_int_equal(tz_spool_write(sp, buf, n, err, sizeof(err)), 0);
	}
	g_free(buf);
}

static void check_pattern(GByteArray *a, size_t total)
{
	assert_int_equal(a->len, total);
	for (size_t i = 0; i < total; i++)
		if (a->data[i] != (guint8)('a' + i % 26))
			fail_msg("byte %zu differs", i);
}

static void test_memory(void **state)
{
	struct tz_spool *sp = tz_spool_new(tmpdir, 4096);
	char err[TZ_ERRLEN];
	GMimeStream *s;
	GByteArray *a;

	fill(sp, 4096, 100);
	assert_false(tz_spool_on_disk(sp));
	assert_int_equal(tz_spool_size(sp), 4096);
	s = tz_spool_stream(sp, err, sizeof(err));
	assert_non_null(s);
	a = read_all(s);
	check_pattern(a, 4096);
	g_byte_array_unref(a);
	g_object_unref(s);
	tz_spool_free(sp);
}

static void test_disk(void **state)
{
	struct tz_spool *sp = tz_spool_new(tmpdir, 1000);
	char err[TZ_ERRLEN];
	GMimeStream *s1, *s2;
	GByteArray *a;
	char buf[10];

	fill(sp, 300000, 4099);
	assert_true(tz_spool_on_disk(sp));
	assert_int_equal(tz_spool_size(sp), 300000);
	/* unlinked: nothing visible in the directory */
	assert_int_equal(entries_in_dir(), 0);
	s1 = tz_spool_stream(sp, err, sizeof(err));
	s2 = tz_spool_stream(sp, err, sizeof(err));
	assert_non_null(s1);
	assert_non_null(s2);
	/* s2 reads a little first; s1 must still start at 0 */
	assert_int_equal(g_mime_stream_read(s2, buf, sizeof(buf)), 10);
	a = read_all(s1);
	check_pattern(a, 300000);
	g_byte_array_unref(a);
	a = read_all(s2);
	assert_int_equal(a->len, 300000 - 10);
	g_byte_array_unref(a);
	/* rewinding gives the same bytes again */
	assert_int_equal(g_mime_stream_reset(s1), 0);
	a = read_all(s1);
	check_pattern(a, 300000);
	g_byte_array_unref(a);
	/* writing after reading is refused */
	assert_int_equal(tz_spool_write(sp, "x", 1, err, sizeof(err)), -1);
	g_object_unref(s1);
	g_object_unref(s2);
	tz_spool_free(sp);
}

static void test_exact_limit(void **state)
{
	struct tz_spool *sp = tz_spool_new(tmpdir, 10);
	char err[TZ_ERRLEN];

	assert_int_equal(tz_spool_write(sp, "0123456789", 10, err, sizeof(err)), 0);
	assert_false(tz_spool_on_disk(sp));
	assert_int_equal(tz_spool_write(sp, "", 0, err, sizeof(err)), 0);
	assert_false(tz_spool_on_disk(sp));
	assert_int_equal(tz_spool_write(sp, "a", 1, err, sizeof(err)), 0);
	assert_true(tz_spool_on_disk(sp));
	assert_int_equal(tz_spool_size(sp), 11);
	tz_spool_free(sp);
}

static void test_bad_dir(void **state)
{
	struct tz_spool *sp = tz_spool_new("/nonexistent/spool", 4);
	char err[TZ_ERRLEN] = "";

	assert_int_equal(tz_spool_write(sp, "abc", 3, err, sizeof(err)), 0);
	assert_int_equal(tz_spool_write(sp, "defg", 4, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/spool"));
	/* after a failure the spool stays failed and yields no stream */
	assert_int_equal(tz_spool_write(sp, "x", 1, err, sizeof(err)), -1);
	assert_null(tz_spool_stream(sp, err, sizeof(err)));
	tz_spool_free(sp);
	tz_spool_free(NULL);
}

static void test_empty(void **state)
{
	struct tz_spool *sp = tz_spool_new(tmpdir, 10);
	char err[TZ_ERRLEN];
	GMimeStream *s = tz_spool_stream(sp, err, sizeof(err));
	char buf[4];

	assert_non_null(s);
	assert_int_equal(g_mime_stream_read(s, buf, sizeof(buf)), 0);
	g_object_unref(s);
	tz_spool_free(sp);
}

/* The process-wide total: a second spool that would pass it goes to disk
 * although it is under its own limit, the charge follows GLib's power-of-
 * two growth, and freeing or spilling gives the charge back. */
static void test_memory_total(void **state)
{
	struct tz_spool *a, *b, *c;

	tz_spool_set_memory_total(64 * 1024);
	a = tz_spool_new(tmpdir, 1 << 20);
	b = tz_spool_new(tmpdir, 1 << 20);
	fill(a, 40000, 1000);               /* charged 64 KiB: the whole total */
	assert_false(tz_spool_on_disk(a));
	assert_int_equal(tz_spool_memory_held(), 65536);
	fill(b, 3000, 1000);                /* nothing left: to disk at once */
	assert_true(tz_spool_on_disk(b));
	assert_int_equal(tz_spool_memory_held(), 65536);
	fill(a, 30000, 1000);               /* 70000 would need 128 KiB: a spills */
	assert_true(tz_spool_on_disk(a));
	assert_int_equal(tz_spool_memory_held(), 0);
	c = tz_spool_new(tmpdir, 1 << 20);
	fill(c, 5000, 1000);
	assert_false(tz_spool_on_disk(c));
	assert_int_equal(tz_spool_memory_held(), 8192);
	tz_spool_free(c);
	assert_int_equal(tz_spool_memory_held(), 0);
	tz_spool_free(a);
	tz_spool_free(b);
	tz_spool_set_memory_total(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_disk),
		cmocka_unit_test(test_exact_limit),
		cmocka_unit_test(test_bad_dir),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_memory_total),
	};
	int rc;

	g_mime_init();
	rc = cmocka_run_group_tests(tests, setup, teardown);
	g_mime_shutdown();
	return rc;
}
