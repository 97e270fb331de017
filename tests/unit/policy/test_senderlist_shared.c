/* test_senderlist_shared.c — the sender list from the shared database
 * through its cache (tz_senderlist_shared.h), over a fake loader and a
 * fake clock: an entry added in the database applies once the TTL has
 * passed and not before (bounded staleness, one load per TTL, not per
 * MAIL); a failed reload keeps the last list (a blocked sender stays
 * blocked, others flow) and is retried after the TTL; a gateway that never
 * read the list tempfails every sender until it can. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "tz_senderlist_shared.h"

struct fake {
	const char *text;
	bool down;
	unsigned loads;
};

static int64_t now_ms;
static int64_t fake_clock(void) { return now_ms; }

static int fake_load(void *ctx, char **text, char *err, size_t errlen)
{
	struct fake *f = ctx;

	f->loads++;
	if (f->down)
		return snprintf(err, errlen, "database down"), -1;
	*text = g_strdup(f->text);
	return 0;
}

/* The action and code v gets for sender. */
static enum tz_action check(struct tz_senderlist_shared *s, const char *sender, int *rc,
			    char code[4])
{
	struct tz_verdict *v = tz_verdict_new();
	char err[256];
	enum tz_action a;

	*rc = tz_senderlist_shared_check(s, sender, v, err, sizeof(err));
	a = v->action;
	g_strlcpy(code, v->code, 4);
	tz_verdict_free(v);
	return a;
}

static void test_cache_and_staleness(void **state)
{
	struct fake f = { "block spam@example.com\n", false, 0 };
	struct tz_senderlist_shared *s = tz_senderlist_shared_new(fake_load, &f, 5000, fake_clock);
	char code[4];
	int rc;

	(void)state;
	now_ms = 1000000;
	assert_int_equal(check(s, "spam@example.com", &rc, code), TZ_ACTION_REJECT);
	assert_int_equal(rc, 0);
	assert_string_equal(code, "550");
	assert_int_equal(check(s, "ok@example.com", &rc, code), TZ_ACTION_ACCEPT);
	assert_int_equal(f.loads, 1);                      /* one load, not one per MAIL */
	f.text = "block spam@example.com\nblock example.net\n";   /* added on another host */
	now_ms += 4999;
	assert_int_equal(check(s, "x@example.net", &rc, code), TZ_ACTION_ACCEPT);   /* not yet */
	now_ms += 1;
	assert_int_equal(check(s, "x@example.net", &rc, code), TZ_ACTION_REJECT);   /* TTL passed */
	assert_int_equal(f.loads, 2);
	tz_senderlist_shared_free(s);
}

static void test_down_keeps_last_list(void **state)
{
	struct fake f = { "block spam@example.com\n", false, 0 };
	struct tz_senderlist_shared *s = tz_senderlist_shared_new(fake_load, &f, 5000, fake_clock);
	char code[4];
	int rc;

	(void)state;
	now_ms = 2000000;
	assert_int_equal(check(s, "spam@example.com", &rc, code), TZ_ACTION_REJECT);
	f.down = true;
	now_ms += 6000;
	assert_int_equal(check(s, "spam@example.com", &rc, code), TZ_ACTION_REJECT);  /* still blocked */
	assert_int_equal(rc, 1);                                                        /* and said so */
	assert_int_equal(check(s, "ok@example.com", &rc, code), TZ_ACTION_ACCEPT);    /* others flow */
	assert_int_equal(rc, 0);                                /* not retried before the TTL */
	assert_int_equal(f.loads, 2);
	f.down = false;
	f.text = "";
	now_ms += 5000;
	assert_int_equal(check(s, "spam@example.com", &rc, code), TZ_ACTION_ACCEPT);  /* back: removed */
	assert_int_equal(f.loads, 3);
	tz_senderlist_shared_free(s);
}

static void test_never_read_tempfails(void **state)
{
	struct fake f = { "block spam@example.com\n", true, 0 };
	struct tz_senderlist_shared *s = tz_senderlist_shared_new(fake_load, &f, 5000, fake_clock);
	char code[4];
	int rc;

	(void)state;
	now_ms = 3000000;
	assert_int_equal(check(s, "ok@example.com", &rc, code), TZ_ACTION_TEMPFAIL);
	assert_int_equal(rc, -1);
	assert_string_equal(code, "451");
	assert_int_equal(check(s, "spam@example.com", &rc, code), TZ_ACTION_TEMPFAIL);
	assert_int_equal(f.loads, 1);
	f.down = false;
	now_ms += 5000;
	assert_int_equal(check(s, "ok@example.com", &rc, code), TZ_ACTION_ACCEPT);
	assert_int_equal(check(s, "spam@example.com", &rc, code), TZ_ACTION_REJECT);
	tz_senderlist_shared_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_and_staleness),
		cmocka_unit_test(test_down_keeps_last_list),
		cmocka_unit_test(test_never_read_tempfails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
