/* tz_netaddr.h — IPv4/IPv6 addresses and CIDR networks: parse "192.0.2.0/24",
 * "2001:db8::/32" or a bare address (a host network), and test whether a
 * client address lies inside a list of networks. An IPv4-mapped IPv6 address
 * (::ffff:192.0.2.1) matches IPv4 networks, because Postfix on a dual-stack
 * socket may report clients that way. Used for InternalNetworks and by the
 * policy rules. */
#ifndef TZ_NETADDR_H
#define TZ_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct tz_cidr {
	int family;                 /* AF_INET or AF_INET6 */
	unsigned char addr[16];     /* network bytes (4 used for AF_INET), host bits zeroed */
	unsigned prefix;            /* 0..32 or 0..128 */
};

/* Parse one address ("192.0.2.1", "2001:db8::1", "[2001:db8::1]") into a
 * host network; IPv4-mapped IPv6 becomes AF_INET. 0 or -1 with err. */
int tz_addr_parse(const char *s, struct tz_cidr *out, char *err, size_t errlen);
/* Parse "ADDR/PREFIX" or "ADDR". Host bits set below the prefix are an
 * error (a typo such as 10.0.0.1/8 is more likely than an intent). */
int tz_cidr_parse(const char *s, struct tz_cidr *out, char *err, size_t errlen);
/* True when address a (as parsed by tz_addr_parse) is inside net. */
bool tz_cidr_contains(const struct tz_cidr *net, const struct tz_cidr *a);

struct tz_netlist;          /* an ordered list of networks; immutable once built */

struct tz_netlist *tz_netlist_new(void);
void tz_netlist_free(struct tz_netlist *l);     /* NULL is a no-op */
int tz_netlist_add(struct tz_netlist *l, const char *cidr, char *err, size_t errlen);
size_t tz_netlist_count(const struct tz_netlist *l);   /* NULL = 0 */
/* True when the textual address is inside one of the networks. A NULL or
 * unparsable address is not inside anything. */
bool tz_netlist_match(const struct tz_netlist *l, const char *addr);
/* Same for a socket address (AF_INET / AF_INET6; anything else = false). */
bool tz_netlist_match_sa(const struct tz_netlist *l, const struct sockaddr *sa);

#endif
