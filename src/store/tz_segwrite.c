/* tz_segwrite.c — writing the segment store (format in tz_segment.h):
 * an entry's blobs are staged (memory up to SPILL bytes, then an unnamed
 * temporary file, already encrypted), then appended as one record under
 * the store's mutex and flock, then made durable by one fdatasync shared
 * with every commit that arrived meanwhile (group commit: a leader syncs
 * for the batch, the others wait). Only after that is the entry indexed,
 * so nothing this process lists was ever unsynced. The store's commit
 * takes the three steps apart (tz_seg_entry_write, tz_seg_sync,
 * tz_seg_publish) to run the sync beside the audit log's. */
#define _GNU_SOURCE
#include "tz_segment_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "tz_util.h"

/* An entry's payload is staged in memory up to SPILL bytes, and all
 * entries of the process together up to STAGE_BUDGET; beyond either it
 * goes to an unnamed temporary file. The budget is what keeps 200
 * concurrent 10 MB messages from holding 200 MB of staged ciphertext
 * while they wait for the append lock (measured: 81 MB peak RSS at 200
 * sessions with a per-entry limit only, against 45-53 MB for the
 * directory store). */
#define SPILL (1u << 20)
#define STAGE_BUDGET (8u << 20)

static gsize staged_total;   /* bytes held in memory by all entries (atomic) */

/* Take n bytes of the process-wide budget; 0 when it would be exceeded. */
static int budget_take(size_t n)
{
	gsize cur = __atomic_load_n(&staged_total, __ATOMIC_RELAXED);

	do {
		if (cur + n > STAGE_BUDGET)
			return 0;
	} while (!__atomic_compare_exchange_n(&staged_total, &cur, cur + n, TRUE,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return 1;
}

static void budget_give(size_t n)
{
	__atomic_sub_fetch(&staged_total, n, __ATOMIC_RELAXED);
}

struct tz_seg_entry {
	struct tz_seg *s;
	char id[TZ_ID_LEN];
	GArray *blobs;               /* struct seg_blob */
	GByteArray *mem;             /* staged payload */
	int spillfd;                 /* staged payload beyond SPILL, or -1 */
	uint64_t len;                /* payload bytes staged */
	struct seg_sum *payload_sum;  /* the record's payload checksum (tz_segsum.c) */
	int in_blob;
	int cur_hashed;              /* the caller gives the blob's SHA-256 at its end */
	struct seg_blob cur;
	struct tz_sealer *seal;      /* the blob being written (tz_crypt's format) */
	time_t stored;               /* record time; 0: now */
	int copied_enc;              /* seg_rewrite: the copied blobs' encryption, or -1 */
	const struct seg_entry_idx *expect;   /* seg_rewrite: the entry as copied */
};

static int name_ok(const char *n)
{
	size_t l = strlen(n);

	return l > 0 && l <= SEG_NAME_MAX && n[0] != '.' &&
	       strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == l;
}

/* Append staged payload bytes (ciphertext when encrypted). */
static int stage(struct tz_seg_entry *e, const void *p, size_t n, char *err, size_t errlen)
{
	if (seg_sum_update(e->payload_sum, p, n) < 0)
		return tz_err(err, errlen, "segment %s: payload checksum failed", e->id);
	if (e->spillfd < 0 && (e->mem->len + n > SPILL || !budget_take(n))) {
		e->spillfd = openat(e->s->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (e->spillfd < 0 || tz_write_all(e->spillfd, e->mem->data, e->mem->len) < 0)
			return tz_err(err, errlen, "segment %s: staging: %s", e->id, strerror(errno));
		/* give the memory back, not just the bytes */
		budget_give(e->mem->len);
		g_byte_array_unref(e->mem);
		e->mem = g_byte_array_new();
	}
	if (e->spillfd >= 0 ? tz_write_all(e->spillfd, p, n) < 0 : 0)
		return tz_err(err, errlen, "segment %s: staging: %s", e->id, strerror(errno));
	if (e->spillfd < 0)
		g_byte_array_append(e->mem, p, (guint)n);
	e->len += n;
	return 0;
}

struct tz_seg_entry *tz_seg_entry_begin(struct tz_seg *s, const char *id, char *err, size_t errlen)
{
	struct tz_seg_entry *e;

	if (s->readonly) {
		tz_err(err, errlen, "segment store %s is read-only", s->dir);
		return NULL;
	}
	if (!tz_id_valid(id)) {
		tz_err(err, errlen, "not a quarantine id: %s", id ? id : "(null)");
		return NULL;
	}
	e = g_new0(struct tz_seg_entry, 1);
	e->s = s;
	g_strlcpy(e->id, id, sizeof(e->id));
	e->blobs = g_array_new(FALSE, TRUE, sizeof(struct seg_blob));
	e->mem = g_byte_array_new();
	e->spillfd = -1;
	e->copied_enc = -1;
	e->payload_sum = seg_sum_new(1);
	if (e->payload_sum == NULL) {
		tz_err(err, errlen, "segment %s: payload checksum unavailable", id);
		tz_seg_entry_abort(e);
		return NULL;
	}
	return e;
}

static int stage_out(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	return stage(ctx, buf, len, err, errlen);
}

int tz_seg_blob_begin(struct tz_seg_entry *e, const char *name, char *err, size_t errlen)
{
	if (e->in_blob)
		return tz_err(err, errlen, "segment %s: blob %s begun inside %s", e->id, name, e->cur.name);
	if (!name_ok(name))
		return tz_err(err, errlen, "segment %s: bad blob name", e->id);
	for (guint i = 0; i < e->blobs->len; i++)
		if (strcmp(g_array_index(e->blobs, struct seg_blob, i).name, name) == 0)
			return tz_err(err, errlen, "segment %s: blob %s stored twice", e->id, name);
	memset(&e->cur, 0, sizeof(e->cur));
	g_strlcpy(e->cur.name, name, sizeof(e->cur.name));
	e->cur.offset = e->len;
	/* Each blob in exactly tz_crypt's file format, bound to id and name. */
	e->seal = tz_sealer_new(e->s->has_key ? e->s->key : NULL, e->id, name, name,
				stage_out, e, err, errlen);
	if (e->seal == NULL)
		return -1;
	e->in_blob = 1;
	return 0;
}

int tz_seg_blob_begin_hashed(struct tz_seg_entry *e, const char *name, char *err, size_t errlen)
{
	if (tz_seg_blob_begin(e, name, err, errlen) < 0)
		return -1;
	tz_sealer_skip_digest(e->seal);
	e->cur_hashed = 1;
	return 0;
}

int tz_seg_blob_write(struct tz_seg_entry *e, const void *buf, size_t len, char *err, size_t errlen)
{
	if (!e->in_blob)
		return tz_err(err, errlen, "segment %s: data outside a blob", e->id);
	return tz_sealer_write(e->seal, buf, len, err, errlen);
}

/* The blob's end, after the sealer's final chunk (rc). */
static int blob_done(struct tz_seg_entry *e, int rc, char *sha256_hex, uint64_t *size)
{
	tz_sealer_free(e->seal);
	e->seal = NULL;
	e->in_blob = 0;
	e->cur_hashed = 0;
	if (rc < 0)
		return -1;
	e->cur.stored = e->len - e->cur.offset;
	g_array_append_val(e->blobs, e->cur);
	if (sha256_hex)
		tz_hex(e->cur.sha256, 32, sha256_hex);
	if (size)
		*size = e->cur.plain;
	return 0;
}

int tz_seg_blob_end(struct tz_seg_entry *e, char *sha256_hex, uint64_t *size, char *err, size_t errlen)
{
	int rc;

	if (!e->in_blob)
		return tz_err(err, errlen, "segment %s: end of a blob not begun", e->id);
	if (e->cur_hashed)
		return tz_err(err, errlen, "segment %s: blob %s needs its SHA-256", e->id, e->cur.name);
	rc = tz_sealer_finish(e->seal, e->cur.sha256, &e->cur.plain, err, errlen);
	return blob_done(e, rc, sha256_hex, size);
}

int tz_seg_blob_end_hashed(struct tz_seg_entry *e, const char *sha256_hex, uint64_t *size,
			   char *err, size_t errlen)
{
	int rc;

	if (!e->in_blob || !e->cur_hashed)
		return tz_err(err, errlen, "segment %s: end of a blob not begun hashed", e->id);
	for (int i = 0; i < 32; i++) {
		int hi = g_ascii_xdigit_value(sha256_hex[2 * i]);
		int lo = hi < 0 ? -1 : g_ascii_xdigit_value(sha256_hex[2 * i + 1]);
		if (lo < 0)
			return tz_err(err, errlen, "segment %s: blob %s: not a SHA-256", e->id, e->cur.name);
		e->cur.sha256[i] = (unsigned char)(hi << 4 | lo);
	}
	if (sha256_hex[64] != '\0')
		return tz_err(err, errlen, "segment %s: blob %s: not a SHA-256", e->id, e->cur.name);
	rc = tz_sealer_finish(e->seal, NULL, &e->cur.plain, err, errlen);
	return blob_done(e, rc, NULL, size);
}

int tz_seg_entry_add(struct tz_seg_entry *e, const char *name, const void *buf, size_t len,
		     char *err, size_t errlen)
{
	if (tz_seg_blob_begin(e, name, err, errlen) < 0 ||
	    tz_seg_blob_write(e, buf, len, err, errlen) < 0)
		return -1;
	return tz_seg_blob_end(e, NULL, NULL, err, errlen);
}

void tz_seg_entry_abort(struct tz_seg_entry *e)
{
	if (e == NULL)
		return;
	if (e->spillfd >= 0)
		close(e->spillfd);
	budget_give(e->mem->len);
	seg_sum_free(e->payload_sum);
	tz_sealer_free(e->seal);
	g_array_unref(e->blobs);
	g_byte_array_unref(e->mem);
	g_free(e);
}

/* Header and directory of the record (SEG_HDR + directory bytes). */
static GByteArray *record_head(const char *id, int kind, int encrypted, time_t t, GArray *blobs,
			       uint64_t payload_len, const unsigned char payload_sum[SEG_SUM_LEN])
{
	GByteArray *h = g_byte_array_sized_new(SEG_HDR + blobs->len * 96);
	unsigned char fixed[SEG_HDR] = "TZSG";
	uint32_t dirlen = 0;

	for (guint i = 0; i < blobs->len; i++)
		dirlen += 1 + (uint32_t)strlen(g_array_index(blobs, struct seg_blob, i).name) + 24 + 32;
	fixed[4] = 1;
	fixed[5] = (unsigned char)kind;
	fixed[6] = (unsigned char)(blobs->len & 0xff);
	fixed[7] = (unsigned char)(blobs->len >> 8);
	for (int i = 0; i < 4; i++) {
		fixed[8 + i] = (unsigned char)(dirlen >> (8 * i));
		fixed[12 + i] = (unsigned char)(((encrypted ? SEG_FLAG_ENC : 0) | SEG_FLAG_GMAC) >> (8 * i));
	}
	seg_put64(fixed + 16, payload_len);
	/* The write time decides when a segment rolls; a compacted entry keeps
	 * its own stored time (retention) in a field of its own. */
	seg_put64(fixed + 24, (uint64_t)time(NULL));
	seg_put64(fixed + 104, (uint64_t)t);
	memcpy(fixed + 32, id, strlen(id));
	memcpy(fixed + 72, payload_sum, SEG_SUM_LEN);
	g_byte_array_append(h, fixed, SEG_HDR);
	for (guint i = 0; i < blobs->len; i++) {
		const struct seg_blob *b = &g_array_index(blobs, struct seg_blob, i);
		unsigned char n = (unsigned char)strlen(b->name), v[24];
		g_byte_array_append(h, &n, 1);
		g_byte_array_append(h, (const guint8 *)b->name, n);
		seg_put64(v, b->offset);
		seg_put64(v + 8, b->stored);
		seg_put64(v + 16, b->plain);
		g_byte_array_append(h, v, 24);
		g_byte_array_append(h, b->sha256, 32);
	}
	return h;
}

/* w == NULL: append and wait until durable and listed; else only append
 * and say where (tz_seg_entry_write). */
static int commit_kind(struct tz_seg_entry *e, int kind, struct tz_seg_written *w,
		       char *err, size_t errlen)
{
	unsigned char psum[SEG_SUM_LEN], trailer[SEG_TRAILER];
	unsigned mdlen = 0;
	GByteArray *h = NULL;
	int rc = -1;

	if (e->in_blob) {
		tz_err(err, errlen, "segment %s: blob %s unfinished", e->id, e->cur.name);
		goto out;
	}
	if (e->blobs->len > 65535) {
		tz_err(err, errlen, "segment %s: too many blobs", e->id);
		goto out;
	}
	if (seg_sum_final(e->payload_sum, psum) < 0) {
		tz_err(err, errlen, "segment %s: payload checksum failed", e->id);
		goto out;
	}
	h = record_head(e->id, kind, e->copied_enc >= 0 ? e->copied_enc : e->s->has_key,
			e->stored, e->blobs, e->len, psum);
	EVP_Digest(h->data, h->len, trailer, &mdlen, EVP_sha256(), NULL);
	seg_crash(e->s, 1);
	rc = seg_append(e->s, h->data, h->len, e->spillfd, e->mem->data, e->len, trailer, e->expect,
			w, err, errlen);
out:
	if (h)
		g_byte_array_unref(h);
	tz_seg_entry_abort(e);
	return rc;
}

int tz_seg_entry_commit(struct tz_seg_entry *e, char *err, size_t errlen)
{
	if (e->blobs->len == 0) {
		tz_err(err, errlen, "segment %s: an entry without blobs", e->id);
		tz_seg_entry_abort(e);
		return -1;
	}
	return commit_kind(e, SEG_KIND_ENTRY, NULL, err, errlen);
}

int tz_seg_entry_write(struct tz_seg_entry *e, struct tz_seg_written *w, char *err, size_t errlen)
{
	if (e->blobs->len == 0) {
		tz_err(err, errlen, "segment %s: an entry without blobs", e->id);
		tz_seg_entry_abort(e);
		return -1;
	}
	return commit_kind(e, SEG_KIND_ENTRY, w, err, errlen);
}

int tz_seg_put(struct tz_seg *s, const char *id, const char *name, const void *buf, size_t len,
	       char *err, size_t errlen)
{
	struct tz_seg_entry *e;

	if (seg_append_only_refuses(s, err, errlen) < 0)
		return -1;
	if (!tz_seg_has(s, id))
		return tz_err(err, errlen, "no quarantine entry %s", id ? id : "(null)");
	e = tz_seg_entry_begin(s, id, err, errlen);
	if (e == NULL)
		return -1;
	if (tz_seg_entry_add(e, name, buf, len, err, errlen) < 0) {
		tz_seg_entry_abort(e);
		return -1;
	}
	return commit_kind(e, SEG_KIND_ADD, NULL, err, errlen);
}

void tz_seg_entry_set_stored(struct tz_seg_entry *e, time_t stored)
{
	e->stored = stored;
}

int tz_seg_put_fd(struct tz_seg *s, const char *id, const char *name, int srcfd,
		  char *sha256_hex, uint64_t *size, char *err, size_t errlen)
{
	unsigned char *buf;
	struct tz_seg_entry *e;
	ssize_t n = 0;

	if (seg_append_only_refuses(s, err, errlen) < 0)
		return -1;
	if (!tz_seg_has(s, id))
		return tz_err(err, errlen, "no quarantine entry %s", id ? id : "(null)");
	if (tz_seg_has_blob(s, id, name))
		return tz_err(err, errlen, "%s: exists already", name);
	e = tz_seg_entry_begin(s, id, err, errlen);
	if (e == NULL || tz_seg_blob_begin(e, name, err, errlen) < 0) {
		tz_seg_entry_abort(e);
		return -1;
	}
	buf = g_malloc(TZ_CRYPT_CHUNK);
	while ((n = read(srcfd, buf, TZ_CRYPT_CHUNK)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			tz_err(err, errlen, "%s: read: %s", name, strerror(errno));
			break;
		}
		if (tz_seg_blob_write(e, buf, (size_t)n, err, errlen) < 0) {
			n = -1;
			break;
		}
	}
	g_free(buf);
	if (n < 0 || tz_seg_blob_end(e, sha256_hex, size, err, errlen) < 0) {
		tz_seg_entry_abort(e);
		return -1;
	}
	return commit_kind(e, SEG_KIND_ADD, NULL, err, errlen);
}

int tz_seg_delete(struct tz_seg *s, const char *id, char *err, size_t errlen)
{
	if (!tz_seg_has(s, id))
		return tz_err(err, errlen, "no quarantine entry %s", id ? id : "(null)");
	return tz_seg_tombstone(s, id, err, errlen);
}

int tz_seg_tombstone(struct tz_seg *s, const char *id, char *err, size_t errlen)
{
	struct tz_seg_entry *e = tz_seg_entry_begin(s, id, err, errlen);

	return e ? commit_kind(e, SEG_KIND_DELETE, NULL, err, errlen) : -1;
}

/* Stage a copy of blob l, as stored, into e. */
static int copy_blob(struct tz_seg_entry *e, const struct seg_loc *l, unsigned char *buf,
		     char *err, size_t errlen)
{
	struct tz_seg *s = e->s;
	struct seg_blob b = { 0 };
	uint64_t done = 0;
	int fd;

	if (e->copied_enc >= 0 && e->copied_enc != l->encrypted)
		return tz_err(err, errlen, "segment %s: blobs with and without encryption", e->id);
	e->copied_enc = l->encrypted;
	g_strlcpy(b.name, l->name, sizeof(b.name));
	b.offset = e->len;
	b.stored = l->stored;
	b.plain = l->plain;
	memcpy(b.sha256, l->sha256, 32);
	pthread_mutex_lock(&s->mu);
	fd = seg_file_get(s, l->seg) ? dup(seg_file_get(s, l->seg)->fd) : -1;
	pthread_mutex_unlock(&s->mu);
	while (fd >= 0 && done < l->stored) {
		size_t want = l->stored - done < TZ_CRYPT_CHUNK ? (size_t)(l->stored - done) : TZ_CRYPT_CHUNK;
		ssize_t n = pread(fd, buf, want, (off_t)(l->at + done));
		if (n <= 0 || stage(e, buf, (size_t)n, err, errlen) < 0)
			break;
		done += (uint64_t)n;
	}
	if (fd >= 0)
		close(fd);
	if (done < l->stored)
		return err && *err ? -1 : tz_err(err, errlen, "segment %s: cannot copy %s", e->id, l->name);
	g_array_append_val(e->blobs, b);
	return 0;
}

/* One try of seg_rewrite: -2 when the entry changed between the copy and
 * the append. */
static int rewrite_once(struct tz_seg *s, const struct seg_entry_idx *x, unsigned char *buf,
			char *err, size_t errlen)
{
	struct tz_seg_entry *e = tz_seg_entry_begin(s, x->id, err, errlen);

	if (e == NULL)
		return -1;
	e->stored = x->stored;
	e->expect = x;
	for (guint i = 0; i < x->locs->len; i++) {
		if (copy_blob(e, &g_array_index(x->locs, struct seg_loc, i), buf, err, errlen) < 0) {
			tz_seg_entry_abort(e);
			return -1;
		}
	}
	return commit_kind(e, SEG_KIND_ENTRY, NULL, err, errlen);
}

/* A fresh entry record holding the current version of every blob of id,
 * copied as stored (blobs are bound to id and name, not to a place), with
 * its original time: compaction moves an entry out of a segment this way.
 * The copy is appended only if the entry is still exactly as copied (under
 * the append locks, so across processes too): a put or a delete that lands
 * meanwhile makes it start over rather than be undone by the copy. */
int seg_rewrite(struct tz_seg *s, const char *id, char *err, size_t errlen)
{
	unsigned char *buf = g_malloc(TZ_CRYPT_CHUNK);
	int rc = -2;

	for (int tries = 0; rc == -2 && tries < 8; tries++) {
		struct seg_entry_idx *x;
		pthread_mutex_lock(&s->mu);
		seg_refresh(s, 0);
		x = seg_entry_copy(s, id);
		pthread_mutex_unlock(&s->mu);
		if (x == NULL)
			rc = 0;   /* deleted meanwhile: nothing to move */
		else
			rc = rewrite_once(s, x, buf, err, errlen);
		seg_entry_free(x);
	}
	if (rc == -2)
		rc = tz_err(err, errlen, "segment %s: changed during every compaction try", id);
	g_free(buf);
	return rc;
}

/* ---- append and group commit ---- */

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Copy the spilled payload into the segment at off. */
static int copy_spill(struct tz_seg *s, int dst, uint64_t off, int src, uint64_t len)
{
	unsigned char *buf = g_malloc(TZ_CRYPT_CHUNK);
	uint64_t done = 0;
	int rc = 0;

	while (rc == 0 && done < len) {
		size_t want = len - done < TZ_CRYPT_CHUNK ? (size_t)(len - done) : TZ_CRYPT_CHUNK;
		ssize_t n = pread(src, buf, want, (off_t)done);
		if (n <= 0 || pwrite_all(dst, buf, (size_t)n, off + done) < 0)
			rc = -1;
		else
			done += (uint64_t)n;
		if (done >= len / 2 && done - (uint64_t)(n > 0 ? n : 0) < len / 2)
			seg_crash(s, 4);
	}
	g_free(buf);
	return rc;
}

/* Note that the newest segment is durable up to size (force), or that it
 * is when nothing was noted yet: what crash_before_sync keeps. */
static void durable_upto(struct tz_seg *s, unsigned no, uint64_t size, int force)
{
	pthread_mutex_lock(&s->grp.mu);
	if (force || !s->grp.synced_known) {
		s->grp.synced_no = no;
		s->grp.synced_size = size;
		s->grp.synced_known = 1;
	}
	pthread_mutex_unlock(&s->grp.mu);
}

/* Write the record at the end of the newest segment; s->mu and the flock
 * are held. fno and off receive where it went. On failure the segment is
 * cut back to where it was, so no torn record stays in front of later ones. */
static int write_record(struct tz_seg *s, const void *head, size_t headlen, int payload_fd,
			const void *payload, uint64_t plen, const void *trailer,
			const struct seg_entry_idx *expect, unsigned *fno, uint64_t *off,
			char *err, size_t errlen)
{
	struct seg_file *f;
	struct stat sb;
	int ok;

	if (seg_refresh(s, 1) < 0)
		return tz_err(err, errlen, "segment store %s: repair: %s", s->dir, strerror(errno));
	if (expect && !seg_entry_unchanged(s, expect)) {
		tz_err(err, errlen, "segment %s: changed meanwhile", expect->id);
		return -2;
	}
	f = seg_active(s);
	if (f == NULL || fstat(f->fd, &sb) < 0)
		return tz_err(err, errlen, "segment store %s: no active segment", s->dir);
	if ((uint64_t)sb.st_size >= s->max_segment ||
	    (f->newest && f->newest / 86400 != time(NULL) / 86400)) {
		/* Roll: the old segment synced before anything goes to the new one. */
		if (fdatasync(f->fd) < 0) {
			/* as in group_sync: every commit not yet acknowledged may
			 * sit in the pages the kernel dropped; the store is broken */
			int why = errno;
			pthread_mutex_lock(&s->grp.mu);
			if (s->grp.failed_upto == 0) {
				s->grp.failed_upto = s->grp.done + 1;
				tz_err(s->grp.err, sizeof(s->grp.err), "fdatasync: %s", strerror(why));
			}
			pthread_mutex_unlock(&s->grp.mu);
			return tz_err(err, errlen, "segment store %s: roll: %s", s->dir, strerror(why));
		}
		if (seg_new_file(s, f->no + 1, err, errlen) < 0)
			return tz_err(err, errlen, "segment store %s: roll: %s", s->dir, strerror(errno));
		seg_keep_newest(s);
		f = seg_active(s);
		sb.st_size = 0;
		durable_upto(s, f->no, 0, 1);
	}
	*fno = f->no;
	*off = (uint64_t)sb.st_size;
	durable_upto(s, f->no, *off, 0);   /* what this process found there was durable */
	seg_crash(s, 2);
	ok = pwrite_all(f->fd, head, headlen, *off) == 0;
	seg_crash(s, 3);
	if (ok && plen > 0 && payload_fd >= 0)
		ok = copy_spill(s, f->fd, *off + headlen, payload_fd, plen) == 0;
	else if (ok && plen > 0) {
		ok = pwrite_all(f->fd, payload, (size_t)(plen / 2), *off + headlen) == 0;
		seg_crash(s, 4);
		ok = ok && pwrite_all(f->fd, (const unsigned char *)payload + plen / 2,
				      (size_t)(plen - plen / 2), *off + headlen + plen / 2) == 0;
	}
	ok = ok && pwrite_all(f->fd, trailer, SEG_TRAILER, *off + headlen + plen) == 0;
	if (!ok) {
		int why = errno;
		if (ftruncate(f->fd, (off_t)*off) < 0)
			why = errno;
		return tz_err(err, errlen, "segment store %s: write: %s", s->dir, strerror(why));
	}
	f->scanned = *off + headlen + plen + SEG_TRAILER;
	/* the record's time, for the roll by day: a store opened append_only
	 * never reads its own records back */
	if ((time_t)seg_get64(head + 24) > f->newest)
		f->newest = (time_t)seg_get64(head + 24);
	seg_crash(s, 5);
	return 0;
}

/* TZ_SEG_CRASH_STEP=7/K or 8/K (tests): a power loss while the sync
 * leader is about to fdatasync: what no sync made durable yet is dropped
 * (the newest segment cut back to the size the last sync covered) and the
 * process _exits(9); 7 first waits 200 ms, so that what runs beside the
 * sync (the audit log's write and fdatasync) gets done, 8 does not. */
static void crash_before_sync(struct tz_seg *s)
{
	struct seg_file *f;

	if ((s->crash_step != 7 && s->crash_step != 8) ||
	    g_atomic_int_get(&s->commits) < s->crash_after)
		return;
	if (s->crash_step == 7)
		g_usleep(200 * 1000);
	pthread_mutex_lock(&s->mu);
	f = seg_active(s);
	if (f && ftruncate(f->fd, (off_t)(f->no == s->grp.synced_no ? s->grp.synced_size : 0)) < 0)
		_exit(8);
	_exit(9);
}

/* The leader syncs the newest segment for everyone whose record is
 * written (an older segment was synced when it was rolled). A failed sync
 * breaks the store until it is opened again: after a failed fsync the
 * kernel may have dropped the pages, so nothing later can be promised. */
static int group_sync(struct tz_seg *s, char *err, size_t errlen)
{
	unsigned long mine;
	int rc;

	pthread_mutex_lock(&s->grp.mu);
	mine = ++s->grp.enqueued;
	while (s->grp.done < mine) {
		if (s->grp.leading) {
			pthread_cond_wait(&s->grp.cv, &s->grp.mu);
		} else {
			unsigned long from = s->grp.done + 1, upto = s->grp.enqueued;
			struct stat sb = { 0 };
			unsigned no = 0;
			int fd, why;
			s->grp.leading = 1;
			pthread_mutex_unlock(&s->grp.mu);
			pthread_mutex_lock(&s->mu);
			fd = dup(seg_active(s)->fd);   /* a purge may close it meanwhile */
			no = seg_active(s)->no;
			pthread_mutex_unlock(&s->mu);
			crash_before_sync(s);
			rc = fd < 0 || fstat(fd, &sb) < 0 ? -1 : fdatasync(fd);
			why = errno;
			if (fd >= 0)
				close(fd);
			pthread_mutex_lock(&s->grp.mu);
			if (rc < 0 && s->grp.failed_upto == 0) {
				s->grp.failed_upto = from;
				tz_err(s->grp.err, sizeof(s->grp.err), "fdatasync: %s", strerror(why));
			}
			if (rc == 0) {
				seg_crash(s, 9);   /* durable, nobody told yet */
				s->grp.synced_no = no;
				s->grp.synced_size = (uint64_t)sb.st_size;
				s->grp.synced_known = 1;
			}
			s->grp.done = upto;
			s->grp.leading = 0;
			pthread_cond_broadcast(&s->grp.cv);
		}
	}
	rc = s->grp.failed_upto && mine >= s->grp.failed_upto ? -1 : 0;
	if (rc < 0)
		tz_err(err, errlen, "segment store %s: %s", s->dir, s->grp.err);
	pthread_mutex_unlock(&s->grp.mu);
	return rc;
}

int tz_seg_sync(struct tz_seg *s, char *err, size_t errlen)
{
	return group_sync(s, err, errlen);
}

void tz_seg_publish(struct tz_seg *s, const struct tz_seg_written *w)
{
	unsigned char hdr[SEG_HDR];
	GArray *blobs;
	uint64_t len;

	seg_crash(s, 6);
	g_atomic_int_inc(&s->commits);
	if (s->append_only)
		return;   /* lists nothing */
	/* Durable: now it may be listed. */
	blobs = g_array_new(FALSE, TRUE, sizeof(struct seg_blob));
	pthread_mutex_lock(&s->mu);
	if (seg_file_get(s, w->fno) &&
	    seg_record_read(seg_file_get(s, w->fno)->fd, w->off, w->off + w->len, 0, hdr, blobs, &len) == 1)
		seg_index_record(s, seg_file_get(s, w->fno), w->off, hdr, blobs, len);
	pthread_mutex_unlock(&s->mu);
	g_array_unref(blobs);
}

int seg_append(struct tz_seg *s, const void *head, size_t headlen, int payload_fd,
	       const void *payload, uint64_t plen, const void *trailer,
	       const struct seg_entry_idx *expect, struct tz_seg_written *w, char *err, size_t errlen)
{
	struct tz_seg_written here = { 0 };
	int rc;

	pthread_mutex_lock(&s->mu);
	while (flock(s->lockfd, LOCK_EX) < 0 && errno == EINTR)
		;
	rc = write_record(s, head, headlen, payload_fd, payload, plen, trailer, expect, &here.fno,
			  &here.off, err, errlen);
	flock(s->lockfd, LOCK_UN);
	pthread_mutex_unlock(&s->mu);
	if (rc < 0)
		return rc;
	here.len = headlen + plen + SEG_TRAILER;
	if (w) {   /* the caller syncs (tz_seg_sync) and publishes */
		*w = here;
		return 0;
	}
	if (group_sync(s, err, errlen) < 0)
		return -1;
	tz_seg_publish(s, &here);
	return 0;
}
