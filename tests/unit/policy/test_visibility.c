/* test_visibility.c — counting external addresses visible in To/Cc
 * (groups, duplicates, internal, encoded names, malformed lists) and the
 * reject / rewrite actions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <gmime/gmime.h>

#include "tz_visibility.h"
#include "policy_test.h"

static void test_count(void **state)
{
	static const struct { const char *headers; unsigned want; } t[] = {
		{ "To: a@x.example", 1 },
		{ "To: a@x.example, b@y.example\nCc: c@z.example", 3 },
		{ "To: a@x.example, A@X.EXAMPLE\nCc: <a@x.example>", 1 },               /* duplicates */
		{ "To: a@x.example, me@city.example.jp\nCc: you@ward.city.example.jp", 1 }, /* internal */
		{ "To: undisclosed-recipients:;", 0 },
		{ "To: team: a@x.example, b@y.example;, c@z.example", 3 },                   /* group */
		{ "To: =?UTF-8?B?5bGx55Sw?= <a@x.example>, =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <b@y.example>", 2 },
		{ "To: \"c@z.example\" <a@x.example>", 1 },    /* an address-like name is not an address */
		{ "To: a@x.example,,,;;b@y.example;c@z.example", 3 },    /* GMime drops these */
		{ "To: a@x.example\nTo: b@y.example\nCC: c@z.example\ncc: d@w.example", 4 },  /* repeated fields */
		{ "To: a@x.example,\n b@y.example,\n\tc@z.example", 3 },                    /* folded */
		{ "To: garbage", 0 },                          /* exposes no address */
		{ "To: a@[192.0.2.1], b@[IPv6:2001:db8::1]", 2 },
		{ "Bcc: a@x.example, b@y.example\nReply-To: c@z.example", 0 },   /* not visible lists */
		/* raw JIS names: 宛先 is "08@h", 先生 "@h@8", no address each */
		{ "To: \x1b$B08@h\x1b(B <a@x.example>, \x1b$B@h@8\x1b(B <b@y.example>", 2 },
		{ "To: a@x.example\x1b(B, b@y.example\x01", 2 },   /* escapes and controls are no characters */
		{ "", 0 },
	};
	GPtrArray *internal = strlist(".city.example.jp");

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct tz_msghdr *h = hdrs(t[i].headers);
		unsigned n = tz_visibility_count(internal, h);
		if (n != t[i].want)
			fail_msg("case %zu: want %u got %u", i, t[i].want, n);
		tz_msghdr_free(h);
	}
	g_ptr_array_free(internal, TRUE);
}

static void test_reject(void **state)
{
	GPtrArray *internal = strlist(".city.example.jp");
	struct tz_visibility_options o;
	struct tz_msghdr *h = hdrs("To: a@x.example, b@y.example\nCc: c@z.example");
	struct tz_verdict *v = tz_verdict_new();

	tz_visibility_options_init(&o);
	o.internal_domains = internal;
	tz_visibility_check(&o, h, v);      /* max 0: rule off */
	assert_int_equal(v->action, TZ_ACTION_ACCEPT);
	o.max_visible = 3;
	tz_visibility_check(&o, h, v);
	assert_int_equal(v->action, TZ_ACTION_ACCEPT);
	o.max_visible = 2;
	tz_visibility_check(&o, h, v);
	assert_int_equal(v->action, TZ_ACTION_REJECT);
	assert_string_equal(v->code, "550");
	assert_string_equal(v->ecode, "5.7.1");
	assert_string_equal(v->text, TZ_VISIBILITY_TEXT);
	assert_int_equal(v->edits->len, 0);   /* reject rewrites nothing */
	tz_verdict_free(v);
	tz_msghdr_free(h);
	g_ptr_array_free(internal, TRUE);
}

static void test_rewrite(void **state)
{
	GPtrArray *internal = strlist(".city.example.jp");
	struct tz_visibility_options o;
	struct tz_msghdr *h = hdrs("From: me@city.example.jp\nTo: a@x.example\nCc: b@y.example\n"
				   "Subject: s\nTo: c@z.example\nCc: d@w.example\nCc: e@v.example");
	struct tz_verdict *v = tz_verdict_new();
	static const struct { enum tz_edit_op op; const char *name; unsigned idx; } want[] = {
		{ TZ_EDIT_DELETE, "Cc", 3 }, { TZ_EDIT_DELETE, "Cc", 2 }, { TZ_EDIT_DELETE, "Cc", 1 },
		{ TZ_EDIT_DELETE, "To", 2 }, { TZ_EDIT_CHANGE, "To", 1 },
	};

	tz_visibility_options_init(&o);
	o.internal_domains = internal;
	o.max_visible = 1;
	o.act.action = TZ_ACTION_REWRITE;
	tz_visibility_check(&o, h, v);
	assert_int_equal(v->action, TZ_ACTION_REWRITE);
	assert_false(tz_verdict_stops(v));
	assert_string_equal(tz_verdict_summary(v), "visibility=rewrite");
	assert_int_equal(v->edits->len, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct tz_verdict_edit *e = g_ptr_array_index(v->edits, i);
		assert_int_equal(e->op, want[i].op);
		assert_string_equal(e->name, want[i].name);
		assert_int_equal(e->index, want[i].idx);
	}
	assert_string_equal(((struct tz_verdict_edit *)g_ptr_array_index(v->edits, 4))->value,
			    "undisclosed-recipients:;");
	tz_verdict_free(v);
	tz_msghdr_free(h);
	/* Only Cc exposes addresses: To is added. */
	h = hdrs("Cc: a@x.example, b@y.example");
	v = tz_verdict_new();
	tz_visibility_check(&o, h, v);
	assert_non_null(find_edit(v, TZ_EDIT_DELETE, "Cc"));
	assert_non_null(find_edit(v, TZ_EDIT_APPEND, "To"));
	tz_verdict_free(v);
	tz_msghdr_free(h);
	g_ptr_array_free(internal, TRUE);
}

static void test_actions(void **state)
{
	static const enum tz_action acts[] = { TZ_ACTION_HOLD, TZ_ACTION_TAG, TZ_ACTION_LOG, TZ_ACTION_TEMPFAIL };
	GPtrArray *internal = strlist(".city.example.jp");
	struct tz_msghdr *h = hdrs("To: a@x.example, b@y.example");
	struct tz_visibility_options o;

	tz_visibility_options_init(&o);
	o.internal_domains = internal;
	o.max_visible = 1;
	for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
		struct tz_verdict *v = tz_verdict_new();
		o.act.action = acts[i];
		tz_visibility_check(&o, h, v);
		assert_int_equal(v->action, acts[i]);
		assert_null(find_edit(v, TZ_EDIT_CHANGE, "To"));
		tz_verdict_free(v);
	}
	tz_msghdr_free(h);
	g_ptr_array_free(internal, TRUE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_reject),
		cmocka_unit_test(test_rewrite),
		cmocka_unit_test(test_actions),
	};
	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
