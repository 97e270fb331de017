/* test_netaddr.c — CIDR parsing and matching, IPv4, IPv6, mapped addresses,
 * prefix edge cases (0, 32/128, non-byte-aligned). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "tz_netaddr.h"
#include "tz_util.h"

static bool in(const char *net, const char *addr)
{
	struct tz_netlist *l = tz_netlist_new();
	char err[TZ_ERRLEN];
	bool r;

	if (tz_netlist_add(l, net, err, sizeof(err)) < 0)
		fail_msg("%s: %s", net, err);
	r = tz_netlist_match(l, addr);
	tz_netlist_free(l);
	return r;
}

static void test_ipv4(void **state)
{
	assert_true(in("10.0.0.0/8", "10.255.255.255"));
	assert_false(in("10.0.0.0/8", "11.0.0.0"));
	assert_true(in("192.168.1.128/25", "192.168.1.200"));
	assert_false(in("192.168.1.128/25", "192.168.1.127"));
	assert_true(in("172.16.0.0/12", "172.31.1.1"));
	assert_false(in("172.16.0.0/12", "172.32.0.1"));
	assert_true(in("0.0.0.0/0", "203.0.113.9"));
	assert_true(in("127.0.0.2", "127.0.0.2"));
	assert_false(in("127.0.0.2", "127.0.0.1"));
	assert_true(in("127.0.0.2/32", "127.0.0.2"));
	assert_false(in("10.0.0.0/8", "2001:db8::1"));
	assert_false(in("10.0.0.0/8", "not-an-address"));
	assert_false(in("10.0.0.0/8", ""));
	assert_false(in("10.0.0.0/8", NULL));
}

static void test_ipv6(void **state)
{
	assert_true(in("2001:db8::/32", "2001:db8:ffff::1"));
	assert_false(in("2001:db8::/32", "2001:db9::1"));
	assert_true(in("fd00::/8", "fdab:1::1"));
	assert_true(in("2001:db8::/33", "2001:db8:7fff::1"));
	assert_false(in("2001:db8::/33", "2001:db8:8000::1"));
	assert_true(in("::1", "::1"));
	assert_true(in("::/0", "2001:db8::1"));
	assert_false(in("::/0", "10.0.0.1"));
	assert_true(in("[2001:db8::1]", "IPv6:2001:db8::1"));
	assert_true(in("2001:db8::1/128", "[2001:db8::1]"));
}

static void test_mapped(void **state)
{
	assert_true(in("10.0.0.0/8", "::ffff:10.1.1.1"));
	assert_true(in("::ffff:10.0.0.0/104", "10.2.3.4"));
	assert_false(in("::ffff:10.0.0.0/104", "11.2.3.4"));
}

static void test_errors(void **state)
{
	static const char *const bad[] = {
		"", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8x", "10.0.0.1/8",
		"2001:db8::1/32", "2001:db8::/129", "example.jp", "10.0.0", "::ffff:10.0.0.0/8",
		"1.2.3.4/ 8",
	};
	struct tz_cidr c;
	char err[TZ_ERRLEN];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tz_cidr_parse(bad[i], &c, err, sizeof(err)) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
	assert_int_equal(tz_cidr_parse(NULL, &c, err, sizeof(err)), -1);
}

static void test_list(void **state)
{
	struct tz_netlist *l = tz_netlist_new();
	char err[TZ_ERRLEN];
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr sa;

	assert_int_equal(tz_netlist_count(l), 0);
	assert_false(tz_netlist_match(l, "10.0.0.1"));
	assert_int_equal(tz_netlist_add(l, "10.0.0.0/8", err, sizeof(err)), 0);
	assert_int_equal(tz_netlist_add(l, "2001:db8::/32", err, sizeof(err)), 0);
	assert_int_equal(tz_netlist_add(l, "bad", err, sizeof(err)), -1);
	assert_int_equal(tz_netlist_count(l), 2);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "10.9.9.9", &sin.sin_addr);
	assert_true(tz_netlist_match_sa(l, (struct sockaddr *)&sin));
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::5", &sin6.sin6_addr);
	assert_true(tz_netlist_match_sa(l, (struct sockaddr *)&sin6));
	inet_pton(AF_INET6, "2001:db9::5", &sin6.sin6_addr);
	assert_false(tz_netlist_match_sa(l, (struct sockaddr *)&sin6));
	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNIX;
	assert_false(tz_netlist_match_sa(l, &sa));
	assert_false(tz_netlist_match_sa(l, NULL));
	tz_netlist_free(l);
	tz_netlist_free(NULL);
	assert_int_equal(tz_netlist_count(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_mapped),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
