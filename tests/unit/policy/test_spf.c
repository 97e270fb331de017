/* test_spf.c — SPF through libspf2 with its own zone DNS layer (real
 * libspf2 evaluation, no network): every result, the HELO identity for the
 * null sender, IPv6, the deadline layer, the pool under threads, and the
 * headers and actions of the SPF policy. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "tz_spf.h"
#include <spf2/spf_dns_zone.h>   /* after spf.h, which it needs */
#include "policy_test.h"

static const struct { const char *domain; int herrno; const char *txt; } zone[] = {
	{ "pass.example", NETDB_SUCCESS, "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all" },
	{ "soft.example", NETDB_SUCCESS, "v=spf1 ip4:192.0.2.0/24 ~all" },
	{ "neutral.example", NETDB_SUCCESS, "v=spf1 ?all" },
	{ "perm.example", NETDB_SUCCESS, "v=spf1 ip4:192.0.2.0/24 bogus:mech -all" },
	{ "temp.example", TRY_AGAIN, "" },
	{ "refused.example", NO_RECOVERY, "" },   /* REFUSED/SERVFAIL-like answer */
	{ "helo.example", NETDB_SUCCESS, "v=spf1 ip4:203.0.113.5 -all" },
	{ "chain.example", NETDB_SUCCESS, "v=spf1 include:c1.example include:c2.example include:pass.example -all" },
	{ "c1.example", NETDB_SUCCESS, "v=spf1 ip4:10.1.1.1 -all" },
	{ "c2.example", NETDB_SUCCESS, "v=spf1 ip4:10.1.1.2 -all" },
};

static SPF_dns_server_t *make_zone(void *ctx)
{
	SPF_dns_server_t *z = SPF_dns_zone_new(NULL, "test", 0);

	for (size_t i = 0; i < sizeof(zone) / sizeof(zone[0]); i++)
		SPF_dns_zone_add_str(z, zone[i].domain, ns_t_txt, zone[i].herrno, zone[i].txt);
	return z;
}

/* A layer that makes every lookup take 30 ms, to test the deadline. */
static SPF_dns_rr_t *slow_lookup(SPF_dns_server_t *d, const char *domain, ns_type t, int cache)
{
	usleep(30000);
	return SPF_dns_lookup(d->layer_below, domain, t, cache);
}

static void slow_destroy(SPF_dns_server_t *d)
{
	free(d);
}

static SPF_dns_server_t *make_slow_zone(void *ctx)
{
	SPF_dns_server_t *d = calloc(1, sizeof(*d));

	d->destroy = slow_destroy;
	d->lookup = slow_lookup;
	d->layer_below = make_zone(ctx);
	d->name = "slow";
	return d;
}

static void test_results(void **state)
{
	static const struct {
		const char *ip, *helo, *sender; enum tz_spf_res want; bool helo_id; const char *domain;
	} t[] = {
		{ "192.0.2.10", "mx.pass.example", "a@pass.example", TZ_SPF_PASS, false, "pass.example" },
		{ "198.51.100.1", "mx.pass.example", "a@pass.example", TZ_SPF_FAIL, false, "pass.example" },
		{ "198.51.100.1", "x", "a@soft.example", TZ_SPF_SOFTFAIL, false, "soft.example" },
		{ "198.51.100.1", "x", "a@neutral.example", TZ_SPF_NEUTRAL, false, "neutral.example" },
		{ "198.51.100.1", "x", "a@nothing.example", TZ_SPF_NONE, false, "nothing.example" },
		{ "198.51.100.1", "x", "a@temp.example", TZ_SPF_TEMPERROR, false, "temp.example" },
		{ "198.51.100.1", "x", "a@refused.example", TZ_SPF_TEMPERROR, false, "refused.example" },
		{ "198.51.100.1", "x", "a@perm.example", TZ_SPF_PERMERROR, false, "perm.example" },
		{ "192.0.2.10", "x", "a@chain.example", TZ_SPF_PASS, false, "chain.example" },
		/* null sender: the HELO identity (RFC 7208 2.4) */
		{ "203.0.113.5", "helo.example", "", TZ_SPF_PASS, true, "helo.example" },
		{ "198.51.100.1", "helo.example", "", TZ_SPF_FAIL, true, "helo.example" },
		{ "198.51.100.1", "", "", TZ_SPF_NONE, true, "" },
		{ "198.51.100.1", NULL, NULL, TZ_SPF_NONE, true, "" },
		/* IPv6 and IPv4-mapped IPv6 */
		{ "2001:db8::25", "x", "a@pass.example", TZ_SPF_PASS, false, "pass.example" },
		{ "2001:db9::1", "x", "a@pass.example", TZ_SPF_FAIL, false, "pass.example" },
		{ "IPv6:2001:db8::25", "x", "a@pass.example", TZ_SPF_PASS, false, "pass.example" },
		{ "::ffff:192.0.2.10", "x", "a@pass.example", TZ_SPF_PASS, false, "pass.example" },
		/* case and odd senders */
		{ "192.0.2.10", "x", "A@PASS.EXAMPLE", TZ_SPF_PASS, false, "PASS.EXAMPLE" },
		{ "192.0.2.10", "x", "\"a b\"@pass.example", TZ_SPF_PASS, false, "pass.example" },
	};
	char err[256];
	struct tz_spf *s = tz_spf_new(2, make_zone, NULL, err, sizeof(err));

	assert_non_null(s);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct tz_spf_result r;
		assert_int_equal(tz_spf_check(s, 5000, t[i].ip, t[i].helo, t[i].sender, &r,
					      err, sizeof(err)), 0);
		if (r.result != t[i].want)
			fail_msg("case %zu (%s from %s): want %s got %s", i, t[i].sender ? t[i].sender : "(null)",
				 t[i].ip, tz_spf_res_name(t[i].want), tz_spf_res_name(r.result));
		assert_int_equal(r.helo_identity, t[i].helo_id);
		assert_string_equal(r.domain, t[i].domain);
	}
	tz_spf_free(s);
}

static void test_bad_client(void **state)
{
	char err[256] = "";
	struct tz_spf *s = tz_spf_new(1, make_zone, NULL, err, sizeof(err));
	struct tz_spf_result r;

	assert_int_equal(tz_spf_check(s, 0, "not-an-ip", "x", "a@pass.example", &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "client"));
	assert_int_equal(tz_spf_check(s, 0, NULL, "x", "a@pass.example", &r, err, sizeof(err)), -1);
	assert_int_equal(tz_spf_check(s, 0, "", "x", "a@pass.example", &r, err, sizeof(err)), -1);
	tz_spf_free(s);
}

static void test_deadline(void **state)
{
	char err[256];
	struct tz_spf *s = tz_spf_new(1, make_slow_zone, NULL, err, sizeof(err));
	struct tz_spf_result r;

	/* Without a deadline the slow chain still passes... */
	assert_int_equal(tz_spf_check(s, 0, "192.0.2.10", "x", "a@chain.example", &r, err, sizeof(err)), 0);
	assert_int_equal(r.result, TZ_SPF_PASS);
	/* ...with 40 ms it needs four 30 ms lookups: out of time is a
	 * temperror, never a pass. */
	assert_int_equal(tz_spf_check(s, 40, "192.0.2.10", "x", "a@chain.example", &r, err, sizeof(err)), 0);
	assert_int_equal(r.result, TZ_SPF_TEMPERROR);
	tz_spf_free(s);
}

struct worker {
	struct tz_spf *s;
	int bad;
};

static void *worker_run(void *p)
{
	struct worker *w = p;
	char err[256];

	for (int i = 0; i < 50; i++) {
		struct tz_spf_result r;
		bool pass = i % 2 == 0;
		if (tz_spf_check(w->s, 5000, pass ? "192.0.2.7" : "198.51.100.7", "x",
				 "a@pass.example", &r, err, sizeof(err)) != 0 ||
		    r.result != (pass ? TZ_SPF_PASS : TZ_SPF_FAIL))
			w->bad++;
	}
	return NULL;
}

static void test_threads(void **state)
{
	char err[256];
	struct tz_spf *s = tz_spf_new(2, make_zone, NULL, err, sizeof(err));
	pthread_t th[6];
	struct worker w[6];

	for (int i = 0; i < 6; i++) {
		w[i].s = s;
		w[i].bad = 0;
		pthread_create(&th[i], NULL, worker_run, &w[i]);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].bad, 0);
	}
	tz_spf_free(s);
	tz_spf_free(NULL);
}

static void test_policy(void **state)
{
	static const struct {
		enum tz_spf_res res; enum tz_action act; const char *code, *ecode;
	} t[] = {
		{ TZ_SPF_PASS, TZ_ACTION_ACCEPT, "", "" },
		{ TZ_SPF_FAIL, TZ_ACTION_REJECT, "550", "5.7.23" },
		{ TZ_SPF_SOFTFAIL, TZ_ACTION_TAG, "", "" },
		{ TZ_SPF_NEUTRAL, TZ_ACTION_TAG, "", "" },
		{ TZ_SPF_NONE, TZ_ACTION_TAG, "", "" },
		{ TZ_SPF_TEMPERROR, TZ_ACTION_TEMPFAIL, "451", "4.7.24" },
		{ TZ_SPF_PERMERROR, TZ_ACTION_TAG, "", "" },
	};
	struct tz_spf_policy p;

	tz_spf_policy_init(&p, "mx.city.example.jp");
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct tz_spf_result r = { .result = t[i].res, .domain = "pass.example" };
		struct tz_verdict *v = tz_verdict_new();
		const struct tz_verdict_edit *ar, *rs;
		char *want;

		tz_spf_verdict(&p, &r, "198.51.100.1", "mx.pass.example", "a@pass.example", v);
		assert_int_equal(v->action, t[i].act);
		assert_string_equal(v->code, t[i].code);
		assert_string_equal(v->ecode, t[i].ecode);
		ar = find_edit(v, TZ_EDIT_INSERT, "Authentication-Results");
		rs = find_edit(v, TZ_EDIT_INSERT, "Received-SPF");
		assert_non_null(ar);
		assert_non_null(rs);
		want = g_strdup_printf("mx.city.example.jp; spf=%s smtp.mailfrom=a@pass.example",
				       tz_spf_res_name(t[i].res));
		assert_string_equal(ar->value, want);
		g_free(want);
		assert_true(g_str_has_prefix(rs->value, tz_spf_res_name(t[i].res)));
		assert_non_null(strstr(rs->value, "client-ip=198.51.100.1; envelope-from=\"a@pass.example\"; "
				       "helo=\"mx.pass.example\"; receiver=mx.city.example.jp; identity=mailfrom;"));
		tz_verdict_free(v);
	}
}

static void test_policy_hostile_values(void **state)
{
	struct tz_spf_policy p;
	struct tz_spf_result r = { .result = TZ_SPF_NONE, .helo_identity = true, .domain = "x?y" };
	struct tz_verdict *v = tz_verdict_new();
	const struct tz_verdict_edit *ar, *rs;

	tz_spf_policy_init(&p, "mx.city.example.jp");
	p.none.action = TZ_ACTION_LOG;
	tz_spf_verdict(&p, &r, "2001:db8::1", "evil\r\nX-Injected: 1 \"q\"", "", v);
	ar = find_edit(v, TZ_EDIT_INSERT, "Authentication-Results");
	rs = find_edit(v, TZ_EDIT_INSERT, "Received-SPF");
	assert_null(strpbrk(ar->value, "\r\n"));
	assert_null(strpbrk(rs->value, "\r\n"));
	assert_string_equal(ar->value,
			    "mx.city.example.jp; spf=none smtp.helo=\"evil??X-Injected: 1 \\\"q\\\"\"");
	assert_non_null(strstr(rs->value, "client-ip=2001:db8::1;"));
	assert_non_null(strstr(rs->value, "identity=helo;"));
	assert_int_equal(v->action, TZ_ACTION_LOG);
	assert_string_equal(tz_verdict_summary(v), "spf=log");
	tz_verdict_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_results),
		cmocka_unit_test(test_bad_client),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_policy_hostile_values),
	};
	tz_spf_global_init(2);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
