/* test_spoof.c — internal-domain spoofing from outside (envelope, From,
 * encoded display names) and removal of forged X-Textize* and our own
 * Authentication-Results. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <gmime/gmime.h>

#include "tz_spoof.h"
#include "policy_test.h"

static void test_spoof_table(void **state)
{
	static const struct { bool trusted; const char *sender, *headers; bool fires; } t[] = {
		{ false, "x@evil.example", "From: x@evil.example", false },
		{ false, "x@city.example.jp", "From: x@evil.example", true },
		{ false, "X@CITY.EXAMPLE.JP.", "From: x@evil.example", true },
		{ false, "x@evil.example", "From: Mayor <mayor@city.example.jp>", true },
		{ false, "x@evil.example", "From: mayor@sub.city.example.jp", true },
		{ false, "x@evil.example", "From: a@evil.example, mayor@city.example.jp", true },
		{ false, "x@evil.example", "From: \"mayor@city.example.jp\" <x@evil.example>", true },
		{ false, "x@evil.example", "From: =?UTF-8?Q?mayor=40city=2Eexample=2Ejp?= <x@evil.example>", true },
		{ false, "x@evil.example", "From: =?UTF-8?B?5biC6ZW3IG1heW9yQGNpdHkuZXhhbXBsZS5qcA==?= <x@evil.example>", true },
		{ false, "x@evil.example", "From: \"mayor@notcity.example.jp\" <x@evil.example>", false },
		{ false, "x@evil.example", "From: x@evil.example\nFrom: mayor@city.example.jp", true },
		{ false, "x@evil.example", "From: city.example.jp <x@evil.example>", false },
		{ false, "x@evil.example", "From: group: mayor@city.example.jp;", true },
		{ false, "x@evil.example", "From: x@evil.example,,;;mayor@city.example.jp", true },
		{ false, "", "From: MAILER-DAEMON@evil.example", false },
		{ false, "x@evil.example", "Sender: mayor@city.example.jp\nFrom: x@evil.example", false },
		/* without a From address a reader may show the Sender */
		{ false, "x@evil.example", "Sender: mayor@city.example.jp\nFrom: \x01", true },
		{ false, "x@evil.example", "Sender: mayor@city.example.jp", true },
		{ false, "x@evil.example", "Sender: x@evil.example\nFrom: Friends:;", false },
		{ false, "x@evil.example", "", false },
		{ true, "x@city.example.jp", "From: mayor@city.example.jp", false },
		/* ISO-2022-JP escapes are not characters: a reader (and header
		 * hygiene's rewrite) shows the address without them */
		{ false, "x@evil.example", "From: mayor@city.example.jp\x1b(B", true },
		{ false, "x@evil.example", "From: \x1b(Bmayor@city.example.jp\x1b(J", true },
		{ false, "x@evil.example", "From: \x1b$B;3ED\x1b(B <mayor@city.example.jp\x1b(B>", true },
		{ false, "x@evil.example", "From: \x1b$B;3ED\x1b(Bmayor@city.example.jp <x@evil.example>", true },
		{ false, "x@evil.example", "From: \x1b$B;3ED\x1b(B <x@evil.example>", false },
		/* JIS text that reads as addresses to a parser knowing no JIS, and
		 * a Shift_JIS trail byte 0x5C that is a backslash to it: either
		 * reading's internal address counts (hygiene shows both) */
		{ false, "x@evil.example", "From: \x1b$B<x@evil.example>(\x1b(B<mayor@city.example.jp>)", true },
		{ false, "x@evil.example", "From: \x1b$B<mayor@city.example.jp>(\x1b(B<x@evil.example>)", true },
		{ false, "x@evil.example", "From: \"\x95\x5c\" <x@evil.example> (\" <mayor@city.example.jp> )", true },
		{ false, "x@evil.example", "From: \"\x95\x5c\" <mayor@city.example.jp> (\" <x@evil.example> )", true },
		/* GMime's loose reading decodes the name; 17 words left open
		 * elsewhere must not switch it off (found in review) */
		{ false, "x@evil.example", "From: \"Mayor x=?UTF-8?B?bWF5b3JAY2l0eS5leGFtcGxlLmpw?=\" <x@evil.example> "
		  "(=?a?q?x =?a?q?x =?a?q?x =?a?q?x =?a?q?x =?a?q?x =?a?q?x =?a?q?x =?a?q?x =?a?q?x =?a?q?x "
		  "=?a?q?x =?a?q?x =?a?q?x =?a?q?x =?a?q?x =?a?q?x)", true },
		/* read as a reader reads them: a word closed after another
		 * opening, a backslash pair in a quoted name (found in review) */
		{ false, "x@evil.example", "From: =?utf-8?b?bWF5b3JAY2l0eS5leGFtcGxlLmpw?x?b?\?= <x@evil.example>", true },
		{ false, "x@evil.example", "From: \"=?utf-8?q?x?\\\\= mayor=40city=2Eexample=2Ejp?=\" <x@evil.example>", true },
		/* nor are controls, zero-width characters, or full-width letters
		 * a reader reads as the ASCII they look like */
		{ false, "x@evil.example", "From: mayor@city.example.jp\x01", true },
		{ false, "x@evil.example", "From: mayor@city.exa\xe2\x80\x8bmple.jp", true },
		{ false, "x@evil.example", "From: =?UTF-8?Q?mayor=40city=2Eexa=E2=80=8Bmple=2Ejp?= <x@evil.example>", true },
		{ false, "x@evil.example", "From: =?UTF-8?B?5biC6ZW3IO+9je+9ge+9me+9j++9ku+8oO+9g++9ie+9lO+9me+8ju+9he+9mO+9ge+9je+9kO+9jO+9he+8ju+9iu+9kA==?= <x@evil.example>", true },
	};
	GPtrArray *internal = strlist(".city.example.jp");
	struct tz_spoof_options o;

	tz_spoof_options_init(&o);
	o.internal_domains = internal;
	o.authserv_id = "mx.city.example.jp";
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct tz_msghdr *h = hdrs(t[i].headers);
		struct tz_verdict *v = tz_verdict_new();
		tz_spoof_check(&o, t[i].trusted, t[i].sender, h, v);
		if ((v->action == TZ_ACTION_REJECT) != t[i].fires)
			fail_msg("case %zu: fires=%d got %s", i, t[i].fires, tz_action_name(v->action));
		if (t[i].fires) {
			assert_string_equal(v->code, "550");
			assert_string_equal(tz_verdict_summary(v), "spoof=reject");
		}
		tz_verdict_free(v);
		tz_msghdr_free(h);
	}
	g_ptr_array_free(internal, TRUE);
}

static void test_authres_id(void **state)
{
	static const struct { const char *in, *want; } t[] = {
		{ "mx.city.example.jp; spf=pass smtp.mailfrom=a@b", "mx.city.example.jp" },
		{ "  (comment) mx.city.example.jp 1; none", "mx.city.example.jp" },
		{ "mx.city.example.jp;spf=pass", "mx.city.example.jp" },
		{ "", NULL },
		{ " ; spf=pass", NULL },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *id = tz_authres_id(t[i].in);
		if (t[i].want)
			assert_string_equal(id, t[i].want);
		else
			assert_null(id);
		g_free(id);
	}
}

static void test_strip(void **state)
{
	struct tz_msghdr *h = hdrs(
		"X-Textize: converted\n"
		"Authentication-Results: mx.city.example.jp; spf=pass smtp.mailfrom=x@evil.example\n"
		"Authentication-Results: other.example; spf=fail\n"
		"x-textize-policy: ok\n"
		"Authentication-Results: MX.CITY.EXAMPLE.JP; dkim=pass\n"
		"X-Textize: again\n"
		"X-Text: keep\n"
		"Subject: hi");
	static const struct { const char *name; unsigned idx; } want[] = {
		{ "Authentication-Results", 3 }, { "Authentication-Results", 1 },
		{ "X-Textize", 2 }, { "X-Textize", 1 }, { "x-textize-policy", 1 },
	};
	struct tz_spoof_options o;
	struct tz_verdict *v = tz_verdict_new();

	tz_spoof_options_init(&o);
	o.authserv_id = "mx.city.example.jp";
	assert_int_equal(tz_spoof_strip(&o, h, v), 5);
	assert_int_equal(v->edits->len, 5);
	for (size_t i = 0; i < 5; i++) {
		const struct tz_verdict_edit *e = g_ptr_array_index(v->edits, i);
		assert_int_equal(e->op, TZ_EDIT_DELETE);
		assert_string_equal(e->name, want[i].name);
		assert_int_equal(e->index, want[i].idx);
	}
	assert_int_equal(v->action, TZ_ACTION_ACCEPT);   /* stripping is not a hit */
	tz_verdict_free(v);
	tz_msghdr_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spoof_table),
		cmocka_unit_test(test_authres_id),
		cmocka_unit_test(test_strip),
	};
	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
