/* tz_senderlist_shared.h — the sender block/allow list kept in the shared
 * database (StoreBackend postgresql), read through a bounded cache: an
 * entry the team adds on any host applies on every gateway within
 * TZ_SENDERLIST_SHARED_TTL_MS. The loader (supplied by the glue, which may
 * reach the store) returns the list as text in SenderListFile's format,
 * parsed by tz_senderlist_parse, so both backends mean the same.
 *
 * Failure: a reload that fails keeps the last list read in force (an
 * unreachable database must neither block every sender nor unblock one)
 * and is retried after the TTL, not at every MAIL. A gateway that has
 * never read the list (started while the database is down) tempfails
 * inbound senders (451 4.7.1, rule senderlist) until it can: fail closed,
 * a blocked sender is never let through for want of the list. */
#ifndef TZ_SENDERLIST_SHARED_H
#define TZ_SENDERLIST_SHARED_H

#include <stddef.h>
#include <stdint.h>
#include "tz_senderlist.h"
#include "tz_verdict.h"

#define TZ_SENDERLIST_SHARED_TTL_MS 5000
#define TZ_SENDERLIST_UNREAD_TEXT "Sender list unavailable, try again later"

/* The list's text into *text (g_free) or -1 with err. */
typedef int (*tz_senderlist_load_fn)(void *ctx, char **text, char *err, size_t errlen);
/* Milliseconds of a monotonic clock (tests give their own). */
typedef int64_t (*tz_ms_clock_fn)(void);

struct tz_senderlist_shared;

/* clock NULL = g_get_monotonic_time() / 1000. */
struct tz_senderlist_shared *tz_senderlist_shared_new(tz_senderlist_load_fn load, void *ctx,
						      unsigned ttl_ms, tz_ms_clock_fn clock);
void tz_senderlist_shared_free(struct tz_senderlist_shared *s);   /* NULL is a no-op */

/* Check sender, reloading first when the list is older than the TTL.
 * 0 checked against a fresh list; 1 checked against the last good list
 * (the reload failed: err); -1 no list was ever read (err; v holds a
 * tempfail). Thread-safe. */
int tz_senderlist_shared_check(struct tz_senderlist_shared *s, const char *sender,
			       struct tz_verdict *v, char *err, size_t errlen);

#endif
