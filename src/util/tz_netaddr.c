/* tz_netaddr.c — CIDR parsing and matching for IPv4 and IPv6 (inet_pton,
 * then a byte/bit prefix compare). */
#include "tz_netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "tz_util.h"

struct tz_netlist {
	GArray *nets;   /* struct tz_cidr */
};

static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int tz_addr_parse(const char *s, struct tz_cidr *out, char *err, size_t errlen)
{
	char buf[INET6_ADDRSTRLEN + 8];
	size_t n;

	if (s == NULL || *s == '\0')
		return tz_err(err, errlen, "empty address");
	n = strlen(s);
	if (n >= sizeof(buf))
		return tz_err(err, errlen, "address too long: %.60s", s);
	memcpy(buf, s, n + 1);
	/* Postfix writes IPv6 clients as "IPv6:..." in some macros, and brackets
	 * are common in configs; accept both. */
	if (g_ascii_strncasecmp(buf, "IPv6:", 5) == 0) {
		memmove(buf, buf + 5, n - 4);
		n -= 5;
	}
	if (buf[0] == '[' && n > 2 && buf[n - 1] == ']') {
		memmove(buf, buf + 1, n - 2);
		buf[n - 2] = '\0';
	}
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		out->prefix = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		if (memcmp(out->addr, v4mapped, sizeof(v4mapped)) == 0) {
			memmove(out->addr, out->addr + 12, 4);
			memset(out->addr + 4, 0, 12);
			out->family = AF_INET;
			out->prefix = 32;
			return 0;
		}
		out->family = AF_INET6;
		out->prefix = 128;
		return 0;
	}
	return tz_err(err, errlen, "not an IP address: %s", s);
}

/* True when every bit of addr after the first `prefix` bits is zero. */
static bool host_bits_zero(const unsigned char *addr, unsigned bytes, unsigned prefix)
{
	for (unsigned i = 0; i < bytes; i++) {
		unsigned lo = i * 8;
		unsigned char mask;

		if (lo + 8 <= prefix)
			continue;
		mask = lo >= prefix ? 0xff : (unsigned char)(0xff >> (prefix - lo));
		if (addr[i] & mask)
			return false;
	}
	return true;
}

int tz_cidr_parse(const char *s, struct tz_cidr *out, char *err, size_t errlen)
{
	char buf[INET6_ADDRSTRLEN + 16];
	char *slash, *end;
	unsigned long prefix;
	unsigned max;

	if (s == NULL || strlen(s) >= sizeof(buf))
		return tz_err(err, errlen, "bad network: %.60s", s ? s : "(null)");
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (tz_addr_parse(buf, out, err, errlen) < 0)
		return -1;
	if (slash == NULL)
		return 0;
	/* the prefix is counted in the form it was written in */
	max = strchr(buf, ':') ? 128 : 32;
	if (*slash < '0' || *slash > '9')
		return tz_err(err, errlen, "bad prefix length in %s", s);
	prefix = strtoul(slash, &end, 10);
	if (*end != '\0' || prefix > max)
		return tz_err(err, errlen, "bad prefix length in %s", s);
	/* An IPv4-mapped network written in IPv6 form: ::ffff:10.0.0.0/104. */
	if (out->family == AF_INET && strchr(buf, ':') != NULL) {
		if (prefix < 96)
			return tz_err(err, errlen, "bad prefix length in %s", s);
		prefix -= 96;
	}
	out->prefix = (unsigned)prefix;
	if (!host_bits_zero(out->addr, out->family == AF_INET ? 4 : 16, out->prefix))
		return tz_err(err, errlen, "host bits set in network %s", s);
	return 0;
}

bool tz_cidr_contains(const struct tz_cidr *net, const struct tz_cidr *a)
{
	unsigned full, rest;

	if (net->family != a->family)
		return false;
	full = net->prefix / 8;
	rest = net->prefix % 8;
	if (memcmp(net->addr, a->addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((net->addr[full] ^ a->addr[full]) & (unsigned char)(0xff << (8 - rest))) == 0;
}

struct tz_netlist *tz_netlist_new(void)
{
	struct tz_netlist *l = g_new0(struct tz_netlist, 1);

	l->nets = g_array_new(FALSE, FALSE, sizeof(struct tz_cidr));
	return l;
}

void tz_netlist_free(struct tz_netlist *l)
{
	if (l == NULL)
		return;
	g_array_free(l->nets, TRUE);
	g_free(l);
}

int tz_netlist_add(struct tz_netlist *l, const char *cidr, char *err, size_t errlen)
{
	struct tz_cidr c;

	if (tz_cidr_parse(cidr, &c, err, errlen) < 0)
		return -1;
	g_array_append_val(l->nets, c);
	return 0;
}

size_t tz_netlist_count(const struct tz_netlist *l)
{
	return l ? l->nets->len : 0;
}

static bool list_match(const struct tz_netlist *l, const struct tz_cidr *a)
{
	for (guint i = 0; l && i < l->nets->len; i++)
		if (tz_cidr_contains(&g_array_index(l->nets, struct tz_cidr, i), a))
			return true;
	return false;
}

bool tz_netlist_match(const struct tz_netlist *l, const char *addr)
{
	struct tz_cidr a;

	if (addr == NULL || tz_addr_parse(addr, &a, NULL, 0) < 0)
		return false;
	return list_match(l, &a);
}

bool tz_netlist_match_sa(const struct tz_netlist *l, const struct sockaddr *sa)
{
	char buf[INET6_ADDRSTRLEN];

	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf, sizeof(buf));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf, sizeof(buf));
	else
		return false;
	return tz_netlist_match(l, buf);
}
