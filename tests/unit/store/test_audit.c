/* test_audit.c — the hash-chained audit log: verify passes on an intact
 * log and names the first bad line when a record is edited, deleted,
 * reordered or torn; the HMAC variant; many threads and processes
 * appending at once keep one unbroken chain; records longer than the
 * tail's first read chain too. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "tz_audit.h"
#include "tz_store_testlib.h"

static void append_n(struct tz_audit *a, int n, const char *op)
{
	char err[TZ_ERRLEN], detail[64];

	for (int i = 0; i < n; i++) {
		struct tz_audit_event ev = { "scanned", op, "20261124-082306-123456-0badcafe",
					     (unsigned)i, "ab", detail };
		snprintf(detail, sizeof(detail), "record %d \"quoted\" 日本語", i);
		assert_int_equal(tz_audit_append(a, &ev, err, sizeof(err)), 0);
	}
}

static char *make_log(const char *dir, int n, const char *key)
{
	char *path = g_build_filename(dir, "audit.log", NULL), err[TZ_ERRLEN];
	struct tz_audit *a;

	unlink(path);
	a = tz_audit_open(path, key, err, sizeof(err));
	assert_non_null(a);
	append_n(a, n, "alice");
	tz_audit_free(a);
	return path;
}

static gchar **read_lines(const char *path)
{
	gchar *text;
	gchar **lines;

	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	lines = g_strsplit(text, "\n", -1);
	g_free(text);
	return lines;
}

static void write_lines(const char *path, gchar **lines)
{
	gchar *text = g_strjoinv("\n", lines);

	assert_true(g_file_set_contents(path, text, -1, NULL));
	g_free(text);
}

static void expect(const char *path, const char *key, int rc, unsigned long line)
{
	unsigned long records, bad;
	char err[TZ_ERRLEN];

	assert_int_equal(tz_audit_verify(path, key, &records, &bad, err, sizeof(err)), rc);
	assert_int_equal(bad, line);
}

static void test_intact(void **state)
{
	char *dir = tl_tmpdir(), *path = make_log(dir, 10, NULL);
	unsigned long records, bad;
	char err[TZ_ERRLEN];
	struct stat sb;

	(void)state;
	assert_int_equal(tz_audit_verify(path, NULL, &records, &bad, err, sizeof(err)), 0);
	assert_int_equal(records, 10);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	tl_rmrf(dir);
	g_free(path);
	g_free(dir);
}

/* The newest records of a file: the whole of a small log, the tail of a
 * big one (the newest record last and whole), NULL for a missing file. */
static void test_newest_file(void **state)
{
	char *dir = tl_tmpdir(), *path = make_log(dir, 10, NULL), *missing, *text, *last, err[TZ_ERRLEN];
	gchar **all = read_lines(path);

	(void)state;
	text = tz_audit_newest(path, 5, 1 << 20, err, sizeof(err));
	assert_non_null(text);
	assert_non_null(strstr(text, all[0]));
	assert_non_null(strstr(text, all[9]));
	g_free(text);
	text = tz_audit_newest(path, 5, strlen(all[9]) + 1, err, sizeof(err));
	last = g_strconcat(all[9], "\n", NULL);
	assert_string_equal(text, last);   /* exactly the last record and its line end */
	g_free(last);
	g_free(text);
	missing = g_build_filename(dir, "none.log", NULL);
	assert_null(tz_audit_newest(missing, 5, 1024, err, sizeof(err)));
	assert_non_null(strstr(err, "none.log"));
	g_strfreev(all);
	tl_rmrf(dir);
	g_free(missing);
	g_free(path);
	g_free(dir);
}

static void test_edit(void **state)
{
	char *dir = tl_tmpdir(), *path = make_log(dir, 10, NULL);
	gchar **l = read_lines(path);
	char *p = strstr(l[4], "alice");

	(void)state;
	p[0] = 'm';   /* alice -> mlice on line 5 */
	write_lines(path, l);
	expect(path, NULL, 1, 5);
	g_strfreev(l);
	tl_rmrf(dir);
	g_free(path);
	g_free(dir);
}

static void test_delete(void **state)
{
	char *dir = tl_tmpdir(), *path = make_log(dir, 10, NULL);
	gchar **l = read_lines(path);

	(void)state;
	g_free(l[4]);
	memmove(&l[4], &l[5], sizeof(char *) * (g_strv_length(l) - 4));
	write_lines(path, l);
	expect(path, NULL, 1, 5);
	g_strfreev(l);
	/* the first record removed */
	g_free(path);
	path = make_log(dir, 10, NULL);
	l = read_lines(path);
	write_lines(path, l + 1);
	expect(path, NULL, 1, 1);
	g_strfreev(l);
	tl_rmrf(dir);
	g_free(path);
	g_free(dir);
}

static void test_reorder(void **state)
{
	char *dir = tl_tmpdir(), *path = make_log(dir, 10, NULL);
	gchar **l = read_lines(path), *t;

	(void)state;
	t = l[3];
	l[3] = l[4];
	l[4] = t;
	write_lines(path, l);
	expect(path, NULL, 1, 4);
	g_strfreev(l);
	tl_rmrf(dir);
	g_free(path);
	g_free(dir);
}

static void test_torn(void **state)
{
	char *dir = tl_tmpdir(), *path = make_log(dir, 3, NULL);
	FILE *f = fopen(path, "a");

	(void)state;
	fputs("{\"seq\":4,\"time\":", f);
	fclose(f);
	expect(path, NULL, 1, 4);
	tl_rmrf(dir);
	g_free(path);
	g_free(dir);
}

/* With AuditKeyFile an editor who recomputes plain SHA-256 is caught, and
 * verification without the key fails. */
static void test_hmac(void **state)
{
	char *dir = tl_tmpdir(), *key = tl_keyfile(dir, "a.key", 9), *other = tl_keyfile(dir, "b.key", 10);
	char *path = make_log(dir, 5, key);

	(void)state;
	expect(path, key, 0, 0);
	expect(path, NULL, 1, 1);
	expect(path, other, 1, 1);
	tl_rmrf(dir);
	g_free(path);
	g_free(key);
	g_free(other);
	g_free(dir);
}

static void *appender(void *p)
{
	append_n(p, 25, "thread");
	return NULL;
}

static void test_concurrent(void **state)
{
	char *dir = tl_tmpdir(), *path = g_build_filename(dir, "audit.log", NULL), err[TZ_ERRLEN];
	struct tz_audit *a = tz_audit_open(path, NULL, err, sizeof(err));
	unsigned long records, bad;
	pthread_t th[4];
	pid_t kids[2];

	(void)state;
	for (int i = 0; i < 2; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			struct tz_audit *b = tz_audit_open(path, NULL, err, sizeof(err));
			append_n(b, 25, "process");
			tz_audit_free(b);
			_exit(0);
		}
	}
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, appender, a);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 2; i++) {
		int st;
		waitpid(kids[i], &st, 0);
		assert_int_equal(st, 0);
	}
	tz_audit_free(a);
	assert_int_equal(tz_audit_verify(path, NULL, &records, &bad, err, sizeof(err)), 0);
	assert_int_equal(records, 150);
	tl_rmrf(dir);
	g_free(path);
	g_free(dir);
}

/* Records longer than the first window read_tail looks at (a detail of
 * 2 KB and more, cut at DETAIL_MAX) between short ones: each record
 * still chains to the whole line before it and carries the next seq. */
static void test_long_records(void **state)
{
	char *dir = tl_tmpdir(), *path = g_build_filename(dir, "audit.log", NULL), err[TZ_ERRLEN];
	char *big = g_strnfill(5000, 'x');
	struct tz_audit *a = tz_audit_open(path, NULL, err, sizeof(err));
	unsigned long records, bad;
	gchar **lines;

	(void)state;
	assert_non_null(a);
	for (int i = 0; i < 6; i++) {
		struct tz_audit_event ev = { "scanned", "alice", "20261124-082306-123456-0badcafe",
					     (unsigned)i, "ab", i % 3 == 2 ? "short" : big };
		assert_int_equal(tz_audit_append(a, &ev, err, sizeof(err)), 0);
	}
	tz_audit_free(a);
	lines = read_lines(path);
	assert_true(strlen(lines[0]) > 2048);
	assert_non_null(strstr(lines[5], "{\"seq\":6,"));
	g_strfreev(lines);
	assert_int_equal(tz_audit_verify(path, NULL, &records, &bad, err, sizeof(err)), 0);
	assert_int_equal(records, 6);
	tl_rmrf(dir);
	g_free(big);
	g_free(path);
	g_free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intact),
		cmocka_unit_test(test_newest_file),
		cmocka_unit_test(test_edit),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_reorder),
		cmocka_unit_test(test_torn),
		cmocka_unit_test(test_hmac),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_long_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
