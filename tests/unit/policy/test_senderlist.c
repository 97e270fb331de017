/* test_senderlist.c — SenderListFile: which senders a list blocks (address,
 * domain with its subdomains, the most specific entry winning, allow only
 * undoing a block), bad lines skipped, the verdict (550 5.7.1), patterns
 * the console may write, the file re-read after a change without a
 * restart, and entries listed and removed (the console's list page). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "tz_senderlist.h"

static const char list[] =
	"# team list\n"
	"block spam@example.com\n"
	"block example.net\n"
	"allow ceo@example.net\n"
	"block   bad.example.org  \n"
	"allow good.bad.example.org\n"
	"block both@example.jp\n"
	"allow both@example.jp\n"
	"allow friend@example.com\n"
	"drop nobody@example.com\n"           /* unknown word */
	"block\n"                             /* no pattern */
	"block a b@example.com\n"             /* three fields */
	"block not-a-domain\n"
	"block x@@example.com\n";

static void test_lookup_table(void **state)
{
	static const struct { const char *sender; enum tz_senderlist_kind want; } t[] = {
		{ "spam@example.com", TZ_SENDER_BLOCK },
		{ "SPAM@Example.COM", TZ_SENDER_BLOCK },
		{ "other@example.com", TZ_SENDER_NONE },          /* address entry only */
		{ "friend@example.com", TZ_SENDER_ALLOW },
		{ "anyone@example.net", TZ_SENDER_BLOCK },
		{ "anyone@mail.example.net", TZ_SENDER_BLOCK },   /* subdomain */
		{ "anyone@notexample.net", TZ_SENDER_NONE },      /* suffix is not a subdomain */
		{ "ceo@example.net", TZ_SENDER_ALLOW },           /* address over domain */
		{ "x@bad.example.org", TZ_SENDER_BLOCK },
		{ "x@good.bad.example.org", TZ_SENDER_ALLOW },    /* longer domain over shorter */
		{ "x@a.good.bad.example.org", TZ_SENDER_ALLOW },
		{ "both@example.jp", TZ_SENDER_ALLOW },           /* same entry: allow wins */
		{ "nobody@example.com", TZ_SENDER_NONE },
		{ "", TZ_SENDER_NONE },                           /* null sender */
		{ "postmaster", TZ_SENDER_NONE },
		{ "user@", TZ_SENDER_NONE },
	};
	unsigned bad = 0;
	struct tz_senderlist *l = tz_senderlist_parse(list, &bad);

	(void)state;
	assert_int_equal(bad, 5);
	for (size_t i = 0; i < G_N_ELEMENTS(t); i++)
		if (tz_senderlist_lookup(l, t[i].sender) != t[i].want)
			fail_msg("case %zu <%s>: want %d got %d", i, t[i].sender, t[i].want,
				 tz_senderlist_lookup(l, t[i].sender));
	tz_senderlist_free(l);
}

static void test_verdict(void **state)
{
	struct tz_senderlist *l = tz_senderlist_parse(list, NULL);
	struct tz_verdict *v = tz_verdict_new();

	(void)state;
	tz_senderlist_check(l, "x@mail.example.net", v);
	assert_int_equal(v->action, TZ_ACTION_REJECT);
	assert_string_equal(v->code, "550");
	assert_string_equal(v->ecode, "5.7.1");
	assert_int_equal(g_array_index(v->hits, struct tz_hit, 0).rule, TZ_RULE_SENDERLIST);
	assert_string_equal(tz_rule_name(TZ_RULE_SENDERLIST), "senderlist");
	tz_verdict_free(v);
	/* allowed or unlisted: no hit at all (allow adds nothing, skips nothing) */
	v = tz_verdict_new();
	tz_senderlist_check(l, "ceo@example.net", v);
	tz_senderlist_check(l, "someone@example.org", v);
	assert_int_equal(v->action, TZ_ACTION_ACCEPT);
	assert_int_equal(v->hits->len, 0);
	tz_verdict_free(v);
	tz_senderlist_free(l);
}

static void test_pattern(void **state)
{
	static const struct { const char *in, *out; } t[] = {
		{ "Sato@Example.COM", "sato@example.com" },
		{ "example.com", "example.com" },
		{ "sub.example.co.jp", "sub.example.co.jp" },
		{ "example", NULL },
		{ "@example.com", NULL },
		{ "a@b@example.com", NULL },
		{ "a b@example.com", NULL },
		{ "a\nblock@example.com", NULL },            /* no second line smuggled in */
		{ "<a@example.com>", NULL },
		{ "a@example..com", NULL },
		{ ".example.com", NULL },
		{ "a@example.com.", NULL },
		{ "\xe7\x94\xb0@example.com", NULL },         /* non-ASCII */
		{ "", NULL },
	};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
		char *p = tz_senderlist_pattern(t[i].in);
		if (g_strcmp0(p, t[i].out) != 0)
			fail_msg("case %zu: got %s", i, p ? p : "(null)");
		g_free(p);
	}
}

/* The file: added entries, no duplicates, re-read after a change. */
static void test_file_reload(void **state)
{
	char *dir = g_dir_make_tmp("tz-senders-XXXXXX", NULL);
	char *path = g_build_filename(dir, "senders.list", NULL);
	struct tz_senderlist_file *f = tz_senderlist_file_new(path);
	struct tz_verdict *v;
	char err[256], *text = NULL;

	(void)state;
	v = tz_verdict_new();
	assert_int_equal(tz_senderlist_file_check(f, "x@example.net", v, err, sizeof err), 0);
	assert_int_equal(v->action, TZ_ACTION_ACCEPT);   /* no file: nobody blocked */
	tz_verdict_free(v);
	assert_int_equal(tz_senderlist_add(path, TZ_SENDER_BLOCK, "Example.NET", err, sizeof err), 0);
	assert_int_equal(tz_senderlist_add(path, TZ_SENDER_BLOCK, "example.net", err, sizeof err), 1);
	assert_int_equal(tz_senderlist_add(path, TZ_SENDER_BLOCK, "no domain", err, sizeof err), -1);
	v = tz_verdict_new();
	assert_int_equal(tz_senderlist_file_check(f, "x@example.net", v, err, sizeof err), 0);
	assert_int_equal(v->action, TZ_ACTION_REJECT);   /* the same object sees the new file */
	tz_verdict_free(v);
	assert_int_equal(tz_senderlist_add(path, TZ_SENDER_ALLOW, "x@example.net", err, sizeof err), 0);
	v = tz_verdict_new();
	assert_int_equal(tz_senderlist_file_check(f, "x@example.net", v, err, sizeof err), 0);
	assert_int_equal(v->action, TZ_ACTION_ACCEPT);
	tz_verdict_free(v);
	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	assert_non_null(strstr(text, "\nblock example.net\nallow x@example.net\n"));
	g_free(text);
	/* removed again: nobody blocked */
	assert_int_equal(unlink(path), 0);
	v = tz_verdict_new();
	assert_int_equal(tz_senderlist_file_check(f, "y@example.net", v, err, sizeof err), 0);
	assert_int_equal(v->action, TZ_ACTION_ACCEPT);
	tz_verdict_free(v);
	tz_senderlist_file_free(f);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

/* Removing an entry: every spelling of it goes, comments and the other
 * entries stay in order, the reloaded list no longer blocks, and removing
 * what is not there (or from no file) changes nothing. */
static void test_remove(void **state)
{
	char *dir = g_dir_make_tmp("tz-senders-XXXXXX", NULL);
	char *path = g_build_filename(dir, "senders.list", NULL);
	struct tz_senderlist_file *f = tz_senderlist_file_new(path);
	struct tz_verdict *v;
	GPtrArray *a;
	char err[256], *text = NULL;

	(void)state;
	assert_int_equal(tz_senderlist_remove(path, TZ_SENDER_BLOCK, "example.net", err, sizeof err), 1);
	assert_true(g_file_set_contents(path, "# kept comment\nblock example.net\n\nallow ceo@example.net\n"
					"BLOCK   Example.NET\nblock example.org\nnot an entry\n", -1, NULL));
	a = tz_senderlist_entries("# c\nblock Example.NET\nallow ceo@example.net\nbogus line\n");
	assert_int_equal(a->len, 2);
	assert_int_equal(((struct tz_senderlist_entry *)a->pdata[0])->kind, TZ_SENDER_BLOCK);
	assert_string_equal(((struct tz_senderlist_entry *)a->pdata[0])->pattern, "example.net");
	assert_int_equal(((struct tz_senderlist_entry *)a->pdata[1])->kind, TZ_SENDER_ALLOW);
	assert_string_equal(((struct tz_senderlist_entry *)a->pdata[1])->pattern, "ceo@example.net");
	g_ptr_array_unref(a);
	v = tz_verdict_new();
	assert_int_equal(tz_senderlist_file_check(f, "x@example.net", v, err, sizeof err), 0);
	assert_int_equal(v->action, TZ_ACTION_REJECT);
	tz_verdict_free(v);
	/* allow is a different entry: removing "allow example.net" removes nothing */
	assert_int_equal(tz_senderlist_remove(path, TZ_SENDER_ALLOW, "example.net", err, sizeof err), 1);
	assert_int_equal(tz_senderlist_remove(path, TZ_SENDER_BLOCK, "no domain", err, sizeof err), -1);
	assert_int_equal(tz_senderlist_remove(path, TZ_SENDER_BLOCK, "EXAMPLE.net", err, sizeof err), 0);
	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	assert_string_equal(text, "# kept comment\n\nallow ceo@example.net\nblock example.org\nnot an entry\n");
	g_free(text);
	v = tz_verdict_new();
	assert_int_equal(tz_senderlist_file_check(f, "x@example.net", v, err, sizeof err), 0);
	assert_int_equal(v->action, TZ_ACTION_ACCEPT);   /* the milter's reader sees the removal */
	tz_verdict_free(v);
	v = tz_verdict_new();
	assert_int_equal(tz_senderlist_file_check(f, "x@example.org", v, err, sizeof err), 0);
	assert_int_equal(v->action, TZ_ACTION_REJECT);   /* the other block stays */
	tz_verdict_free(v);
	assert_int_equal(tz_senderlist_remove(path, TZ_SENDER_BLOCK, "example.net", err, sizeof err), 1);
	tz_senderlist_file_free(f);
	unlink(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_table),
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_pattern),
		cmocka_unit_test(test_file_reload),
		cmocka_unit_test(test_remove),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
