/* tz_segindex.c — the per-segment offset index (NNNNNNNN.tzx beside
 * NNNNNNNN.tzs): the header and directory of every valid record of a
 * sealed segment, in order, in one small file, so opening the store reads
 * one file per sealed segment instead of one pread per record.
 *
 * It is a cache, never trusted over the records: it names the segment
 * size it covers and the last record's trailer (the SHA-256 of that
 * record's header), and carries a SHA-256 of itself. A sealed segment
 * never changes (appends go to the newest; purge unlinks whole files), so
 * an index whose size or trailer does not match the segment, or whose
 * checksum fails, is stale or damaged: it is ignored, the segment is
 * scanned record by record as before, and the index is written again.
 * It is written by the first writable open (or refresh) that scans a
 * sealed segment, under a temporary name and renamed, without fsync:
 * losing it in a crash costs one scan, and a torn one fails its checksum.
 *
 * Layout (little-endian): "TZSX" 1 0 0 0 | u64 covered size | u32 records
 * | per record: u64 offset, u64 length, u32 n, n bytes of header +
 * directory | 32 bytes: the segment's bytes at covered-32 | 32 bytes:
 * SHA-256 of everything before. */
#define _GNU_SOURCE
#include "tz_segment_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "tz_util.h"

#define X_HEAD 20
#define X_MAX (256u << 20)   /* larger than any sane index: damaged */

static void xname(unsigned no, char out[32])
{
	snprintf(out, 32, "%08u.tzx", no);
}

void seg_x_begin(GByteArray *x)
{
	static const unsigned char head[X_HEAD] = { 'T', 'Z', 'S', 'X', 1 };

	g_byte_array_set_size(x, 0);
	g_byte_array_append(x, head, X_HEAD);
}

void seg_x_add(GByteArray *x, uint64_t off, uint64_t len, const unsigned char *head, uint32_t n)
{
	unsigned char r[20];
	uint32_t k = n;

	seg_put64(r, off);
	seg_put64(r + 8, len);
	for (int i = 0; i < 4; i++, k >>= 8)
		r[16 + i] = (unsigned char)k;
	g_byte_array_append(x, r, sizeof(r));
	g_byte_array_append(x, head, n);
	/* the record count, kept current in the header */
	k = (uint32_t)(x->data[16] | x->data[17] << 8 | x->data[18] << 16 |
		       (uint32_t)x->data[19] << 24) + 1;
	for (int i = 0; i < 4; i++, k >>= 8)
		x->data[16 + i] = (unsigned char)k;
}

/* The segment's last 32 bytes before covered: the last record's trailer. */
static int tail_of(int fd, uint64_t covered, unsigned char out[32])
{
	if (covered < 32)
		return covered == 0 ? (memset(out, 0, 32), 0) : -1;
	return pread(fd, out, 32, (off_t)(covered - 32)) == 32 ? 0 : -1;
}

void seg_x_save(struct tz_seg *s, struct seg_file *f, GByteArray *x)
{
	unsigned char tail[32], md[32];
	char name[32], tmp[48];
	int fd, ok;

	if (s->readonly || tail_of(f->fd, f->scanned, tail) < 0)
		return;
	seg_put64(x->data + 8, f->scanned);
	g_byte_array_append(x, tail, 32);
	EVP_Digest(x->data, x->len, md, NULL, EVP_sha256(), NULL);
	g_byte_array_append(x, md, 32);
	xname(f->no, name);
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", name, (int)getpid());
	fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;   /* a cache: the next open scans again */
	ok = tz_write_all(fd, x->data, x->len) == 0;
	close(fd);
	if (!ok || renameat(s->dirfd, tmp, s->dirfd, name) < 0)
		unlinkat(s->dirfd, tmp, 0);
}

void seg_x_drop(struct tz_seg *s, unsigned no)
{
	char name[32];

	xname(no, name);
	unlinkat(s->dirfd, name, 0);
}

/* The whole index of f, mapped (MAP_POPULATE: one call instead of a page
 * fault per page, which on this kind of VM cost more than the reads it
 * replaces); NULL when absent, unreadable or implausible. */
struct xmap {
	unsigned char *data;
	size_t len;
};

static int x_map(struct tz_seg *s, struct seg_file *f, struct xmap *x)
{
	char name[32];
	struct stat sb;
	void *p = MAP_FAILED;
	int fd;

	xname(f->no, name);
	fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size >= X_HEAD + 64 &&
	    (uint64_t)sb.st_size <= X_MAX)
		p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -1;
	x->data = p;
	x->len = (size_t)sb.st_size;
	return 0;
}

/* The index matches the segment as it is now: checksum, magic, size
 * covered and the trailer there. */
static int x_valid(struct seg_file *f, const struct xmap *x)
{
	unsigned char md[32], tail[32];
	struct stat sb;
	uint64_t covered = seg_get64(x->data + 8);

	EVP_Digest(x->data, x->len - 32, md, NULL, EVP_sha256(), NULL);
	if (CRYPTO_memcmp(md, x->data + x->len - 32, 32) != 0 || memcmp(x->data, "TZSX\1", 5) != 0)
		return 0;
	return fstat(f->fd, &sb) == 0 && (uint64_t)sb.st_size == covered &&
	       tail_of(f->fd, covered, tail) == 0 &&
	       CRYPTO_memcmp(tail, x->data + x->len - 64, 32) == 0;
}

int seg_x_load(struct tz_seg *s, struct seg_file *f)
{
	struct xmap xm, *x = &xm;
	GArray *blobs;
	size_t pos = X_HEAD, end;
	uint64_t covered;
	uint32_t count = 0;
	int ok = 1;

	if (x_map(s, f, x) < 0)
		return 0;
	if (!x_valid(f, x)) {
		munmap(x->data, x->len);
		return 0;
	}
	covered = seg_get64(x->data + 8);
	end = x->len - 64;
	blobs = g_array_new(FALSE, TRUE, sizeof(struct seg_blob));
	/* Parsed in full before anything is indexed: a bad index (it passed
	 * its checksum, so written by a broken writer) indexes nothing. */
	for (int pass = 0; pass < 2 && ok; pass++) {
		for (pos = X_HEAD; pos < end && ok;) {
			uint64_t off, len;
			uint32_t n;
			const unsigned char *r = x->data + pos;
			if (end - pos < 20)
				break;
			off = seg_get64(r);
			len = seg_get64(r + 8);
			n = (uint32_t)r[16] | (uint32_t)r[17] << 8 | (uint32_t)r[18] << 16 |
			    (uint32_t)r[19] << 24;
			ok = n >= SEG_HDR && n <= end - pos - 20 && off <= covered && len <= covered - off &&
			     seg_head_parse(r + 20, n, blobs) == 0;
			if (ok && pass == 1)
				seg_index_record(s, f, off, r + 20, blobs, len);
			count += pass == 0;
			pos += 20 + (size_t)n;
		}
		ok = ok && pos == end && count == (uint32_t)(x->data[16] | x->data[17] << 8 |
							    x->data[18] << 16 | (uint32_t)x->data[19] << 24);
	}
	g_array_unref(blobs);
	munmap(x->data, x->len);
	if (ok)
		f->scanned = covered;
	return ok;
}
