/* tz_spool.c — body spool: a GByteArray until the memory limit (its own,
 * and the process-wide total of every spool's memory), then an unlinked
 * temp file. Every reader gets its own GMime stream (a borrowed
 * byte array, or its own open file description) so readers never disturb
 * each other's position. (GMime substreams would share one source but
 * return -1 instead of 0 at the end of an fs source.) */
#define _GNU_SOURCE 1   /* O_TMPFILE, mkostemp */
#include "tz_spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tz_util.h"

/* Every spool's memory together, against the process-wide total (issue
 * 16): without it 200 sessions each under SpoolMemoryLimit could hold 200
 * times it at once. charged counts what GLib allocates (the array's
 * capacity, the next power of two), not just the bytes held. */
static gsize mem_total_limit;   /* 0: no total (atomic) */
static gsize mem_total_held;    /* bytes charged by all spools (atomic) */

struct tz_spool {
	char *dir;
	size_t mem_limit;
	size_t charged;        /* bytes of mem_total_held that are this spool's */
	GByteArray *mem;       /* content while in memory, NULL once on disk */
	int fd;                /* temp file, -1 while in memory */
	uint64_t size;
	bool failed;           /* a write failed: the content is incomplete */
	bool reading;          /* a stream was handed out: no more writes */
};

struct tz_spool *tz_spool_new(const char *dir, size_t mem_limit)
{
	struct tz_spool *sp = g_new0(struct tz_spool, 1);

	sp->dir = g_strdup(dir ? dir : "/tmp");
	sp->mem_limit = mem_limit;
	sp->mem = g_byte_array_new();
	sp->fd = -1;
	return sp;
}

void tz_spool_set_memory_total(size_t total)
{
	__atomic_store_n(&mem_total_limit, total, __ATOMIC_RELAXED);
}

size_t tz_spool_memory_held(void)
{
	return __atomic_load_n(&mem_total_held, __ATOMIC_RELAXED);
}

/* Grow this spool's charge to cover `need` bytes in memory: GLib grows an
 * array to the next power of two, so that is what is charged. false when
 * the process-wide total would be passed (the spool then goes to disk). */
static bool charge(struct tz_spool *sp, size_t need)
{
	size_t want = 16, add;
	gsize limit = __atomic_load_n(&mem_total_limit, __ATOMIC_RELAXED);
	gsize cur = __atomic_load_n(&mem_total_held, __ATOMIC_RELAXED);

	while (want < need)
		want <<= 1;
	if (want <= sp->charged)
		return true;
	add = want - sp->charged;
	do {
		if (limit > 0 && cur + add > limit)
			return false;
	} while (!__atomic_compare_exchange_n(&mem_total_held, &cur, cur + add, TRUE,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	sp->charged = want;
	return true;
}

/* Give this spool's memory and its charge back. */
static void release_mem(struct tz_spool *sp)
{
	if (sp->mem)
		g_byte_array_unref(sp->mem);
	sp->mem = NULL;
	__atomic_sub_fetch(&mem_total_held, sp->charged, __ATOMIC_RELAXED);
	sp->charged = 0;
}

void tz_spool_free(struct tz_spool *sp)
{
	if (sp == NULL)
		return;
	if (sp->fd >= 0)
		close(sp->fd);
	release_mem(sp);
	g_free(sp->dir);
	g_free(sp);
}

/* Open an anonymous file in dir: O_TMPFILE has no name at any moment; the
 * mkstemp fallback (file systems without O_TMPFILE) unlinks at once. */
static int open_tmpfile(const char *dir, char *err, size_t errlen)
{
	char *path;
	int fd;

#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return tz_err(err, errlen, "spool: %s: %s", dir, strerror(errno));
#endif
	path = g_build_filename(dir, "tz-spool-XXXXXX", NULL);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		tz_err(err, errlen, "spool: %s: %s", dir, strerror(errno));
	} else if (unlink(path) < 0) {
		tz_err(err, errlen, "spool: unlink %s: %s", path, strerror(errno));
		close(fd);
		fd = -1;
	}
	g_free(path);
	return fd;
}

/* Move the memory content to a new temp file. */
static int spool_to_disk(struct tz_spool *sp, char *err, size_t errlen)
{
	int fd = open_tmpfile(sp->dir, err, errlen);

	if (fd < 0)
		return -1;
	if (tz_write_all(fd, sp->mem->data, sp->mem->len) < 0) {
		tz_err(err, errlen, "spool: write: %s", strerror(errno));
		close(fd);
		return -1;
	}
	release_mem(sp);
	sp->fd = fd;
	return 0;
}

int tz_spool_write(struct tz_spool *sp, const void *buf, size_t len,
		   char *err, size_t errlen)
{
	if (sp->failed)
		return tz_err(err, errlen, "spool: earlier write failed");
	if (sp->reading)
		return tz_err(err, errlen, "spool: write after the content was read");
	if (sp->mem && (sp->mem->len + len > sp->mem_limit || !charge(sp, sp->mem->len + len))) {
		if (spool_to_disk(sp, err, errlen) < 0)
			goto fail;
	}
	if (sp->mem) {
		g_byte_array_append(sp->mem, buf, (guint)len);
	} else if (tz_write_all(sp->fd, buf, len) < 0) {
		tz_err(err, errlen, "spool: write: %s", strerror(errno));
		goto fail;
	}
	sp->size += len;
	return 0;
fail:
	sp->failed = true;
	return -1;
}

uint64_t tz_spool_size(const struct tz_spool *sp)
{
	return sp->size;
}

bool tz_spool_on_disk(const struct tz_spool *sp)
{
	return sp->fd >= 0;
}

GMimeStream *tz_spool_stream(struct tz_spool *sp, char *err, size_t errlen)
{
	GMimeStream *s;
	char path[64];
	int fd;

	if (sp->failed) {
		tz_err(err, errlen, "spool: content incomplete after a write error");
		return NULL;
	}
	sp->reading = true;
	if (sp->mem) {
		s = g_mime_stream_mem_new_with_byte_array(sp->mem);
		/* the spool keeps the array; the stream only borrows it */
		g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(s), FALSE);
		return s;
	}
	/* A new open file description per reader (not dup, which would share
	 * the offset): reopening through /proc works for unlinked and
	 * O_TMPFILE files alike. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", sp->fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		tz_err(err, errlen, "spool: reopen %s: %s", path, strerror(errno));
		return NULL;
	}
	/* unbounded end: with an explicit end GMime returns -1, not 0, at
	 * the end; the file no longer grows once it is being read */
	return g_mime_stream_fs_new_with_bounds(fd, 0, -1);
}
