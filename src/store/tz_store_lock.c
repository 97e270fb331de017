/* tz_store_lock.c — locking an entry (tz_store.h): the host-local lock
 * (the entry directory's flock, the segment store's byte-range lock, the
 * blob backend's) and then, with StoreBackend postgresql, the cross-host
 * one the locker takes; claims across hosts. */
#define _GNU_SOURCE
#include "tz_store_int.h"

#include <errno.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "tz_util.h"

static int local_lock(struct tz_store *st, const char *id, char *err, size_t errlen)
{
	int fd;

	if (st->blob)
		return tz_id_valid(id) ? tzs_blob_lock(st, id, err, errlen)
				       : tz_err(err, errlen, "not a quarantine id: %s", id ? id : "(null)");
	if (tz_id_valid(id) && tzs_seg_has(st, id))
		return tzs_seg_lock(st, id, err, errlen);
	fd = tz_store_entry_open(st, id, err, errlen);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			close(fd);
			return tz_err(err, errlen, "quarantine %s: lock: %s", id, strerror(errno));
		}
	}
	return fd;
}

/* The host-local lock first: this host's threads and processes queue on
 * it, so only one of them at a time waits for the cross-host one. */
int tz_store_lock(struct tz_store *st, const char *id, char *err, size_t errlen)
{
	int fd = local_lock(st, id, err, errlen);

	if (fd >= 0 && st->locker.take &&
	    st->locker.take(st->locker.ctx, TZ_XLOCK_ENTRY, id, 1, fd, err, errlen) != 1) {
		close(fd);
		return -1;
	}
	return fd;
}

void tz_store_unlock(struct tz_store *st, int lockfd)
{
	if (lockfd < 0)
		return;
	if (st->locker.drop)
		st->locker.drop(st->locker.ctx, lockfd);
	close(lockfd);   /* closing the last fd drops the flock */
}

void tz_store_set_locker(struct tz_store *st, const struct tz_store_locker *l)
{
	if (st->locker.free)
		st->locker.free(st->locker.ctx);
	memset(&st->locker, 0, sizeof st->locker);
	if (l)
		st->locker = *l;
}

int tz_store_xclaim(struct tz_store *st, const char *name, int block, int token,
		    char *err, size_t errlen)
{
	if (st->locker.take == NULL)
		return 1;
	return st->locker.take(st->locker.ctx, TZ_XLOCK_CLAIM, name, block, token, err, errlen);
}

void tz_store_xunclaim(struct tz_store *st, int token)
{
	if (st->locker.drop && token >= 0)
		st->locker.drop(st->locker.ctx, token);
}
