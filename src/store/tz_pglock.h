/* tz_pglock.h — the store's cross-host lock on the shared database
 * (StoreBackend postgresql; docs/cluster.md "Two hosts change one entry").
 *
 * Each lock is a PostgreSQL session advisory lock, pg_advisory_lock(class,
 * hash of the name), held on a connection of its own for as long as the
 * lock is held: a host that dies (or loses the database) drops the
 * connection and the server frees the lock. The connection comes from a
 * small pool of idle ones. A lock that cannot be taken because the
 * database is unreachable is an error (the operation fails, nothing is
 * written), never a quiet fall-back to the host-local lock. A wait is
 * bounded by TZ_PGLOCK_WAIT_S (lock_timeout): longer than a release, which
 * holds the entry while ReleaseCommand runs (300 s at most). */
#ifndef TZ_PGLOCK_H
#define TZ_PGLOCK_H

#include <stddef.h>
#include "tz_store.h"

#define TZ_PGLOCK_WAIT_S 600
/* Idle connections kept for the next lock. */
#define TZ_PGLOCK_POOL 4

/* A locker for tz_store_set_locker on the database url (no connection is
 * made until the first lock). */
struct tz_store_locker tz_pglock_new(const char *url);

#endif
