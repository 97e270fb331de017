/* tz_netaddr.h — stub, to be written. */
#ifndef TZ_NETADDR_H
#define TZ_NETADDR_H
#endif
