/* test_pglock.c — the store's cross-host lock seam (tz_store_set_locker):
 * the entry lock takes the locker's lock after the host-local one and
 * drops it at unlock; a locker that cannot lock makes the entry lock fail
 * with the local lock given back (never a host-local lock alone); the
 * PostgreSQL locker with no database reachable fails, entry lock and
 * sanitize claim alike. Two hosts on one database: test_cluster_idem.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/file.h>

#include "tz_pglock.h"
#include "tz_store.h"
#include "tz_store_testlib.h"

struct fake {
	int takes, drops, last_kind, last_block, last_token, fail;
	char last_name[64];
};

static int fake_take(void *ctx, enum tz_xlock_kind kind, const char *name, int block, int token,
		     char *err, size_t errlen)
{
	struct fake *f = ctx;

	if (f->fail)
		return tz_err(err, errlen, "database: cannot connect (fake)");
	f->takes++;
	f->last_kind = (int)kind;
	f->last_block = block;
	f->last_token = token;
	g_strlcpy(f->last_name, name, sizeof f->last_name);
	return 1;
}

static void fake_drop(void *ctx, int token)
{
	struct fake *f = ctx;

	f->drops++;
	assert_int_equal(token, f->last_token);
}

/* A store with one committed entry (the original only) in a new dir. */
static struct tz_store *store_with_entry(char **dir, char id[TZ_ID_LEN])
{
	static const char orig[] = "From: a@example.jp\r\nTo: b@example.lg.jp\r\n\r\nhi\r\n";
	char err[TZ_ERRLEN], *q;
	struct tz_store *st;
	struct tz_store_entry *e;
	struct tz_result *res = tl_result();
	struct tz_envelope *env = tl_envelope("a@example.jp", "b@example.lg.jp");
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(orig, strlen(orig));

	*dir = tl_tmpdir();
	q = g_build_filename(*dir, "q", NULL);
	st = tz_store_open(q, NULL, err, sizeof err);
	assert_non_null(st);
	e = tz_store_entry_begin(st, err, sizeof err);
	assert_non_null(e);
	g_strlcpy(id, tz_store_entry_id(e), TZ_ID_LEN);
	assert_int_equal(tz_store_entry_put_original(e, s, err, sizeof err), 0);
	assert_int_equal(tz_store_entry_commit(e, env, res, err, sizeof err), 0);
	g_object_unref(s);
	tl_result_free(res);
	tl_envelope_free(env);
	g_free(q);
	return st;
}

/* Whether the host-local lock of id is free (a non-blocking flock on
 * the entry's directory succeeds). */
static int local_free(struct tz_store *st, const char *id)
{
	int fd = tz_store_entry_open(st, id, NULL, 0), ok;

	assert_true(fd >= 0);
	ok = flock(fd, LOCK_EX | LOCK_NB) == 0;
	close(fd);
	return ok;
}

static void test_seam(void **state)
{
	struct fake f = { 0 };
	struct tz_store_locker l = { .take = fake_take, .drop = fake_drop, .ctx = &f };
	char *dir, id[TZ_ID_LEN], err[TZ_ERRLEN];
	struct tz_store *st = store_with_entry(&dir, id);
	int lock;

	(void)state;
	tz_store_set_locker(st, &l);
	lock = tz_store_lock(st, id, err, sizeof err);
	assert_true(lock >= 0);
	assert_int_equal(f.takes, 1);
	assert_int_equal(f.last_kind, TZ_XLOCK_ENTRY);
	assert_int_equal(f.last_block, 1);
	assert_int_equal(f.last_token, lock);
	assert_string_equal(f.last_name, id);
	assert_false(local_free(st, id));   /* the local lock is held as well */
	tz_store_unlock(st, lock);
	assert_int_equal(f.drops, 1);
	assert_true(local_free(st, id));

	/* a sanitize claim: not waiting, the caller's token */
	assert_int_equal(tz_store_xclaim(st, "ID-1", 0, 42, err, sizeof err), 1);
	assert_int_equal(f.last_kind, TZ_XLOCK_CLAIM);
	assert_int_equal(f.last_block, 0);
	assert_string_equal(f.last_name, "ID-1");
	tz_store_xunclaim(st, 42);
	assert_int_equal(f.drops, 2);

	/* the locker cannot lock: the entry lock fails, the local one is given back */
	f.fail = 1;
	assert_int_equal(tz_store_lock(st, id, err, sizeof err), -1);
	assert_non_null(strstr(err, "cannot connect"));
	assert_true(local_free(st, id));
	assert_int_equal(tz_store_xclaim(st, "ID-1", 0, 42, err, sizeof err), -1);

	/* no locker: the local lock is all, and a claim is always the caller's */
	tz_store_set_locker(st, NULL);
	lock = tz_store_lock(st, id, err, sizeof err);
	assert_true(lock >= 0);
	tz_store_unlock(st, lock);
	assert_int_equal(tz_store_xclaim(st, "ID-1", 0, 42, err, sizeof err), 1);
	tz_store_free(st);
	tl_rmrf(dir);
	g_free(dir);
}

static void test_pg_unreachable(void **state)
{
	char *dir, id[TZ_ID_LEN], err[TZ_ERRLEN];
	struct tz_store *st = store_with_entry(&dir, id);
	char *url = g_strdup_printf("postgresql:///textize?host=%s/nowhere&port=1", dir);
	struct tz_store_locker l = tz_pglock_new(url);

	(void)state;
	tz_store_set_locker(st, &l);
	assert_int_equal(tz_store_lock(st, id, err, sizeof err), -1);
	assert_non_null(strstr(err, "database: cannot connect"));
	assert_true(local_free(st, id));
	assert_int_equal(tz_store_xclaim(st, "ID-1", 1, 7, err, sizeof err), -1);
	tz_store_xunclaim(st, 7);   /* nothing held: a no-op */
	tz_store_free(st);          /* frees the locker */
	tl_rmrf(dir);
	g_free(dir);
	g_free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seam),
		cmocka_unit_test(test_pg_unreachable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
