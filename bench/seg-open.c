/* bench/seg-open.c — what opening the segment store costs as it grows
 * (issue 16 item 3: is a per-segment offset index worth building?).
 *
 *   seg-open DIR N   (or +N: DIR already holds them) write N entries shaped like the 5 KB bench message
 *                    (original 5 KB + meta.json 1.4 KB, no key) into DIR,
 *                    four writer threads, then time: tz_seg_open read-only
 *                    and writable (each record's header and directory are
 *                    read; the newest segment's payloads are checked too),
 *                    and 1,000 lookups (tz_seg_read of meta.json).
 * Prints "entries=N segments=S open_ro_ms=... open_rw_ms=... read_us=...".
 * Put DIR on tmpfs for the CPU and syscall cost alone (warm page cache);
 * a cold cache on a disk adds a seek per record at worst: SEG_OPEN_COLD=1
 * drops DIR's files from the page cache (posix_fadvise DONTNEED, nothing
 * else's) before each timed open. The offset index (NNNNNNNN.tzx, written
 * by a writable open) is used when present; delete it to measure without. Not installed;
 * built by hand against a build tree (see docs/performance.md). */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <glib.h>
#include "tz_segment.h"

static struct tz_seg *seg;
static unsigned total;
static char blob5k[5027], meta[1400];

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void make_id(char *id, size_t len, unsigned i)
{
	snprintf(id, len, "20261203-%06u-%06u-%08x", i / 1000000, i % 1000000, i * 2654435761u);
}

static void *writer(void *arg)
{
	unsigned t = (unsigned)(uintptr_t)arg;
	char id[64], err[256];

	for (unsigned i = t; i < total; i += 4) {
		struct tz_seg_entry *e;

		make_id(id, sizeof(id), i);
		e = tz_seg_entry_begin(seg, id, err, sizeof(err));
		if (e == NULL || tz_seg_entry_add(e, "original.eml", blob5k, sizeof(blob5k), err, sizeof(err)) < 0 ||
		    tz_seg_entry_add(e, "meta.json", meta, sizeof(meta), err, sizeof(err)) < 0 ||
		    tz_seg_entry_commit(e, err, sizeof(err)) < 0) {
			fprintf(stderr, "seg-open: %s: %s\n", id, err);
			exit(1);
		}
	}
	return NULL;
}

/* SEG_OPEN_COLD: start each timed open with DIR's files out of the page cache. */
static void evict(const char *dir)
{
	GDir *d = getenv("SEG_OPEN_COLD") ? g_dir_open(dir, 0, NULL) : NULL;

	for (const char *n; d && (n = g_dir_read_name(d)) != NULL;) {
		char *p = g_build_filename(dir, n, NULL);
		int fd = open(p, O_RDONLY);
		if (fd >= 0) {
			fdatasync(fd);
			posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
			close(fd);
		}
		g_free(p);
	}
	if (d)
		g_dir_close(d);
}

static int count(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	*(size_t *)ctx += len;
	return 0;
}

int main(int argc, char **argv)
{
	struct tz_seg_opts rw = { NULL, 0, 0, 0 }, ro = { NULL, 0, 1, 0 };
	pthread_t th[4];
	char err[256], id[64];
	double t0, t_ro, t_rw, t_rd;
	size_t got = 0;
	GDir *d;
	unsigned nseg = 0;

	if (argc != 3)
		return fprintf(stderr, "usage: seg-open DIR N\n"), 2;
	/* "+N": the store already holds N entries; only open and look up */
	total = (unsigned)strtoul(argv[2] + (argv[2][0] == '+'), NULL, 10);
	memset(blob5k, 'x', sizeof(blob5k));
	memset(meta, 'm', sizeof(meta));
	seg = tz_seg_open(argv[1], &rw, err, sizeof(err));
	if (seg == NULL)
		return fprintf(stderr, "seg-open: %s\n", err), 1;
	for (uintptr_t t = 0; t < 4 && argv[2][0] != '+'; t++)
		pthread_create(&th[t], NULL, writer, (void *)t);
	for (int t = 0; t < 4 && argv[2][0] != '+'; t++)
		pthread_join(th[t], NULL);
	tz_seg_free(seg);

	evict(argv[1]);
	t0 = now_ms();
	seg = tz_seg_open(argv[1], &ro, err, sizeof(err));
	t_ro = now_ms() - t0;
	tz_seg_free(seg);
	evict(argv[1]);
	t0 = now_ms();
	seg = tz_seg_open(argv[1], &rw, err, sizeof(err));
	t_rw = now_ms() - t0;
	t0 = now_ms();
	for (unsigned i = 0; i < 1000; i++) {
		make_id(id, sizeof(id), (unsigned)(((uint64_t)i * 7919u) % total));
		if (tz_seg_read(seg, id, "meta.json", count, &got, err, sizeof(err)) < 0)
			return fprintf(stderr, "seg-open: read %s: %s\n", id, err), 1;
	}
	t_rd = (now_ms() - t0) * 1000.0 / 1000.0;
	tz_seg_free(seg);
	if ((d = g_dir_open(argv[1], 0, NULL)) != NULL) {
		for (const char *n; (n = g_dir_read_name(d)) != NULL;)
			nseg += g_str_has_suffix(n, ".tzs");
		g_dir_close(d);
	}
	printf("entries=%u segments=%u open_ro_ms=%.1f open_rw_ms=%.1f read_us=%.1f\n", total, nseg,
	       t_ro, t_rw, t_rd);
	return got == 1000u * sizeof(meta) ? 0 : 1;
}
