/* test_relay.c — open relay at RCPT: trusted vs untrusted clients,
 * local vs foreign domains, relay hacks, IP literals, case and dots. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tz_relay.h"
#include "policy_test.h"

static void test_relay_table(void **state)
{
	static const struct { bool trusted; const char *rcpt; bool fires; } t[] = {
		{ false, "user@city.example.jp", false },
		{ false, "USER@City.Example.JP", false },
		{ false, "user@city.example.jp.", false },          /* trailing root dot */
		{ false, "<user@city.example.jp>", false },
		{ false, "user@sub.city.example.jp", false },       /* ".city.example.jp" covers subdomains */
		{ false, "user@town.example.lg.jp", false },
		{ false, "user@sub.town.example.lg.jp", true },     /* no leading dot: exact */
		{ false, "postmaster", false },                     /* RFC 5321 4.5.1 */
		{ false, "PostMaster", false },
		{ false, "user@example.com", true },
		{ false, "user@evilcity.example.jp", true },        /* suffix, not a subdomain */
		{ false, "user@city.example.jp.evil.example", true },
		{ false, "user%example.com@city.example.jp", true },
		{ false, "example.com!user@city.example.jp", true },
		{ false, "@city.example.jp:user@example.com", true },
		{ false, "user", true },
		{ false, "", true },
		{ false, "user@", true },
		{ false, "user@[192.0.2.1]", true },
		{ false, "user@[IPv6:2001:db8::1]", true },
		{ false, "\"user@city.example.jp\"@example.com", true },
		{ true, "user@example.com", false },
		{ true, "user%x@city.example.jp", false },
	};
	GPtrArray *local = strlist(".city.example.jp town.example.lg.jp");
	struct tz_relay_options o;

	tz_relay_options_init(&o);
	o.local_domains = local;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct tz_verdict *v = tz_verdict_new();
		tz_relay_check(&o, t[i].trusted, t[i].rcpt, v);
		if (t[i].fires != (v->action == TZ_ACTION_REJECT))
			fail_msg("case %zu <%s>: fires=%d got %s", i, t[i].rcpt, t[i].fires,
				 tz_action_name(v->action));
		if (t[i].fires) {
			assert_string_equal(v->code, "550");
			assert_string_equal(v->ecode, "5.7.1");
			assert_string_equal(v->text, TZ_RELAY_TEXT);
			assert_string_equal(tz_verdict_summary(v), "relay=reject");
		}
		tz_verdict_free(v);
	}
	g_ptr_array_free(local, TRUE);
}

static void test_relay_action_and_text(void **state)
{
	GPtrArray *local = strlist(".city.example.jp");
	struct tz_relay_options o;
	struct tz_verdict *v = tz_verdict_new();

	tz_relay_options_init(&o);
	o.local_domains = local;
	o.act.action = TZ_ACTION_TEMPFAIL;
	o.act.text = "Relaying denied here";
	tz_relay_check(&o, false, "a@example.com", v);
	assert_int_equal(v->action, TZ_ACTION_TEMPFAIL);
	assert_string_equal(v->code, "451");
	assert_string_equal(v->ecode, "4.7.1");
	assert_string_equal(v->text, "Relaying denied here");
	tz_verdict_free(v);
	v = tz_verdict_new();
	tz_relay_check(&o, false, NULL, v);
	assert_int_equal(v->action, TZ_ACTION_TEMPFAIL);
	tz_verdict_free(v);
	/* No LocalDomains: the rule is off (the milter warns at start). */
	o.local_domains = NULL;
	v = tz_verdict_new();
	tz_relay_check(&o, false, "a@example.com", v);
	assert_int_equal(v->action, TZ_ACTION_ACCEPT);
	tz_verdict_free(v);
	g_ptr_array_free(local, TRUE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relay_table),
		cmocka_unit_test(test_relay_action_and_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
