/* tz_pgclaim.h — release claims in the shared database: before a release
 * (or the approval that completes one) sends anything, it claims each
 * (request, entry, part) with INSERT ... ON CONFLICT DO NOTHING, all parts
 * in one transaction, so when two hosts run the same request at once one
 * sends and the other is refused, whatever the state of a shared entry
 * lock. The request key names what is being done once: the part's last
 * release time ("first" before any), so a later --again is a new request. */
#ifndef TZ_PGCLAIM_H
#define TZ_PGCLAIM_H

#include <stddef.h>
#include "textize.h"

/* 0 all claimed (by this host), 1 one was claimed already (err names the
 * host and time; nothing claimed), -1 error (nothing claimed). */
int tz_pgclaim_take(const char *url, const char *const *requests, const char *id,
		    const unsigned *parts, unsigned n, char *err, size_t errlen);
/* Give the claims back after the send failed, so the request may be run
 * again. 0 or -1. */
int tz_pgclaim_drop(const char *url, const char *const *requests, const char *id,
		    const unsigned *parts, unsigned n, char *err, size_t errlen);

#endif
