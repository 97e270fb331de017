/* test_policy.c — the policy keys of textize.conf: their setters (rates,
 * reply texts, the allow-list) and the rule options built from a config. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tz_policy.h"
#include "policy_test.h"

static void test_defaults(void **state)
{
	struct tz_config *cfg = tz_config_new_defaults();
	struct tz_policy p;

	tz_policy_from_config(&p, cfg);
	assert_int_equal(p.relay.act.action, TZ_ACTION_REJECT);
	assert_string_equal(p.relay.act.text, TZ_RELAY_TEXT);
	assert_int_equal(p.size.max_inbound, 64u << 20);
	assert_int_equal(p.autofwd.act.action, TZ_ACTION_REJECT);
	assert_int_equal(p.visibility.max_visible, 10);
	assert_int_equal(p.visibility.act.action, TZ_ACTION_REJECT);
	assert_int_equal(p.spf.fail.action, TZ_ACTION_REJECT);
	assert_int_equal(p.spf.softfail.action, TZ_ACTION_TAG);
	assert_int_equal(p.spf.none.action, TZ_ACTION_TAG);
	assert_int_equal(p.spf.temperror.action, TZ_ACTION_TEMPFAIL);
	assert_int_equal(p.spf.permerror.action, TZ_ACTION_TAG);
	assert_true(p.spf_check);
	assert_int_equal(p.spf_timeout_ms, 10000);
	assert_true(p.authserv_id[0] != '\0');             /* the host name */
	assert_ptr_equal(p.spf.authserv_id, p.authserv_id);
	assert_ptr_equal(p.spoof.authserv_id, p.authserv_id);
	assert_int_equal(p.breaker.msgs.count, 100);
	assert_int_equal(p.breaker.msgs.window_s, 600);
	assert_int_equal(p.breaker.rcpts.count, 1000);
	assert_int_equal(p.breaker.trip.count, 3);
	assert_int_equal(p.breaker.global.count, 0);
	assert_string_equal(p.breaker.state_path, "/var/lib/textize/breaker.state");
	tz_config_unref(cfg);
}

static void test_set_values(void **state)
{
	static const struct { const char *key, *value; int ret; } t[] = {
		{ "OutboundRateLimit", "50/5m", 0 },
		{ "OutboundRateLimit", "50 per minute", -1 },
		{ "BreakerTrip", "2", 0 },
		{ "RecipientRateLimit", "0", 0 },
		{ "SPFFailAction", "tag", 0 },
		{ "SPFFailAction", "rewrite", -1 },
		{ "RecipientVisibilityAction", "rewrite", 0 },
		{ "RelayAction", "log", -1 },                      /* relay can never be relaxed */
		{ "RelayAction", "tempfail", 0 },
		{ "SpoofRejectText", "No spoofing please", 0 },
		{ "SpoofRejectText", "100% forged", -1 },
		{ "SpoofRejectText", "\xe3\x81\x82", -1 },
		{ "AutoForwardAllow", "a@city.example.jp>B@Partner.Example, c@city.example.jp>@x.example", 0 },
		{ "AutoForwardAllow", "a@city.example.jp", -1 },
		{ "InternalDomains", ".city.example.jp, town.example.jp", 0 },
		{ "AuthservID", "mx.city.example.jp", 0 },
		{ "SPFTimeout", "1500ms", 0 },
		{ "StateDir", "/tmp/tz-state", 0 },
		{ "MaxMessageSizeOutbound", "10m", 0 },
	};
	struct tz_config *cfg = tz_config_new_defaults();
	struct tz_policy p;
	char err[256];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (tz_config_set(cfg, t[i].key, t[i].value, err, sizeof(err)) != t[i].ret)
			fail_msg("case %zu %s %s", i, t[i].key, t[i].value);
	tz_policy_from_config(&p, cfg);
	assert_int_equal(p.breaker.msgs.count, 50);
	assert_int_equal(p.breaker.msgs.window_s, 300);
	assert_int_equal(p.breaker.trip.count, 2);
	assert_int_equal(p.breaker.rcpts.count, 0);
	assert_int_equal(p.spf.fail.action, TZ_ACTION_TAG);
	assert_int_equal(p.visibility.act.action, TZ_ACTION_REWRITE);
	assert_int_equal(p.relay.act.action, TZ_ACTION_TEMPFAIL);
	assert_string_equal(p.spoof.act.text, "No spoofing please");
	assert_int_equal(p.autofwd.allow->len, 2);
	assert_string_equal(g_ptr_array_index(p.autofwd.allow, 0), "a@city.example.jp>b@partner.example");
	assert_int_equal(p.spoof.internal_domains->len, 2);
	assert_string_equal(p.authserv_id, "mx.city.example.jp");
	assert_int_equal(p.spf_timeout_ms, 1500);
	assert_string_equal(p.breaker.state_path, "/tmp/tz-state/breaker.state");
	assert_int_equal(p.size.max_outbound, 10u << 20);
	tz_config_unref(cfg);
}

static void test_internal_defaults_to_local(void **state)
{
	struct tz_config *cfg = tz_config_new_defaults();
	struct tz_policy p;
	char err[256];

	assert_int_equal(tz_config_set(cfg, "LocalDomains", "city.example.jp", err, sizeof(err)), 0);
	tz_policy_from_config(&p, cfg);
	assert_ptr_equal(p.spoof.internal_domains, cfg->local_domains);
	assert_ptr_equal(p.visibility.internal_domains, cfg->local_domains);
	assert_ptr_equal(p.relay.local_domains, cfg->local_domains);
	tz_config_unref(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_set_values),
		cmocka_unit_test(test_internal_defaults_to_local),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
