/* tz_netaddr.c — stub, to be written. */
#include "textize.h"
