/* tz_segment.c — the segment store's reading side (format in
 * tz_segment.h): opening and scanning segments into an in-memory index
 * (id -> where each blob is), repairing a torn tail, reading and
 * verifying blobs, listing, and retention (drop whole segments, compact
 * mostly-dead ones by re-appending their live records). Writing is in
 * tz_segwrite.c. */
#define _GNU_SOURCE
#include "tz_segment_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "tz_util.h"

#define MAX_SEGMENT_DEFAULT (256ull << 20)

void seg_crash(struct tz_seg *s, int step)
{
	if (s->crash_step == step && g_atomic_int_get(&s->commits) >= s->crash_after)
		_exit(9);
}

static void seg_file_free(gpointer p)
{
	struct seg_file *f = p;

	if (f->fd >= 0)
		close(f->fd);
	g_free(f);
}

void seg_entry_free(struct seg_entry_idx *x)
{
	if (x == NULL)
		return;
	g_array_unref(x->locs);
	g_free(x);
}

static void idx_free(gpointer p)
{
	seg_entry_free(p);
}

struct seg_entry_idx *seg_entry_copy(struct tz_seg *s, const char *id)
{
	struct seg_entry_idx *x = g_hash_table_lookup(s->index, id), *c;

	if (x == NULL)
		return NULL;
	c = g_new0(struct seg_entry_idx, 1);
	*c = *x;
	c->locs = g_array_copy(x->locs);
	return c;
}

int seg_entry_unchanged(struct tz_seg *s, const struct seg_entry_idx *x)
{
	struct seg_entry_idx *now = g_hash_table_lookup(s->index, x->id);

	if (now == NULL || now->seg != x->seg || now->locs->len != x->locs->len)
		return 0;
	for (guint i = 0; i < x->locs->len; i++) {
		const struct seg_loc *a = &g_array_index(x->locs, struct seg_loc, i);
		const struct seg_loc *b = &g_array_index(now->locs, struct seg_loc, i);
		if (strcmp(a->name, b->name) != 0 || a->seg != b->seg || a->at != b->at)
			return 0;
	}
	return 1;
}

struct seg_file *seg_active(struct tz_seg *s)
{
	return s->files->len ? g_ptr_array_index(s->files, s->files->len - 1) : NULL;
}

struct seg_file *seg_file_get(struct tz_seg *s, unsigned no)
{
	for (guint i = 0; i < s->files->len; i++) {
		struct seg_file *f = g_ptr_array_index(s->files, i);
		if (f->no == no)
			return f;
	}
	return NULL;
}

static void seg_name(unsigned no, char out[32])
{
	snprintf(out, 32, "%08u.tzs", no);
}

static struct seg_file *add_file(struct tz_seg *s, unsigned no, int fd)
{
	struct seg_file *f = g_new0(struct seg_file, 1);
	guint i;

	f->no = no;
	f->fd = fd;
	for (i = 0; i < s->files->len; i++)
		if (((struct seg_file *)g_ptr_array_index(s->files, i))->no > no)
			break;
	g_ptr_array_insert(s->files, (gint)i, f);
	return f;
}

/* Create (or, made by another process meanwhile, open) segment no and make
 * its name durable. s->mu held. */
int seg_new_file(struct tz_seg *s, unsigned no, char *err, size_t errlen)
{
	char name[32];
	int fd;

	seg_name(no, name);
	fd = openat(s->dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || fsync(s->dirfd) < 0) {
		if (fd >= 0)
			close(fd);
		return tz_err(err, errlen, "segment %s/%s: %s", s->dir, name, strerror(errno));
	}
	add_file(s, no, fd);
	return 0;
}

/* Parse a record header and directory. 0 or -1 (not a sane record). */
static int parse_head(const unsigned char *h, const unsigned char *dir, uint32_t dirlen,
		      GArray *blobs)
{
	unsigned n = h[6] | (unsigned)h[7] << 8;
	uint64_t plen = seg_get64(h + 16);
	uint32_t pos = 0;

	g_array_set_size(blobs, 0);
	for (unsigned i = 0; i < n; i++) {
		struct seg_blob b = { 0 };
		unsigned nl;
		if (pos >= dirlen)
			return -1;
		nl = dir[pos++];
		if (nl == 0 || nl > SEG_NAME_MAX || pos + nl + 56 > dirlen)
			return -1;
		memcpy(b.name, dir + pos, nl);
		pos += nl;
		b.offset = seg_get64(dir + pos);
		b.stored = seg_get64(dir + pos + 8);
		b.plain = seg_get64(dir + pos + 16);
		memcpy(b.sha256, dir + pos + 24, 32);
		pos += 56;
		if (b.offset > plen || b.stored > plen - b.offset || memchr(b.name, '/', nl))
			return -1;
		g_array_append_val(blobs, b);
	}
	return pos == dirlen ? 0 : -1;
}

/* One pread of this many bytes starts every record read: it holds the
 * header and directory of any record, and the whole of a small one (a 5 KB
 * mail's record is ~6.5 KB), so opening a store costs about one syscall per
 * record instead of three or four (bench/seg-open.c; docs/performance.md). */
#define SEG_READ_AHEAD (8u << 10)

int seg_head_parse(const unsigned char *head, uint32_t n, GArray *blobs)
{
	return n >= SEG_HDR && memcmp(head, "TZSG", 4) == 0 && head[4] == 1 &&
	       head[5] >= SEG_KIND_ENTRY && head[5] <= SEG_KIND_DELETE &&
	       seg_get32(head + 8) == n - SEG_HDR ? parse_head(head, head + SEG_HDR, n - SEG_HDR, blobs) : -1;
}

/* seg_record_read; headout (when not NULL) receives the header and
 * directory of a record whose header checksum holds (the offset index).
 * -1: a read failed (EIO): not a torn record, never cut off. */
static int record_read(int fd, uint64_t off, uint64_t size, int full, unsigned char hdr[SEG_HDR],
		       GArray *blobs, uint64_t *len, GByteArray *headout)
{
	unsigned char *buf, *head, md[32], trailer[SEG_TRAILER];
	uint32_t dirlen;
	uint64_t plen, tail;
	size_t want, got;
	ssize_t n;
	int rc = 0, gmac;

	if (size < off || size - off < SEG_HDR + SEG_TRAILER)
		return 0;
	want = size - off < SEG_READ_AHEAD ? (size_t)(size - off) : SEG_READ_AHEAD;
	buf = g_malloc(want);
	n = pread(fd, buf, want, (off_t)off);
	if (n < 0) {
		g_free(buf);
		return -1;
	}
	got = (size_t)n;
	if (got < SEG_HDR || memcmp(buf, "TZSG", 4) != 0 || buf[4] != 1 ||
	    buf[5] < SEG_KIND_ENTRY || buf[5] > SEG_KIND_DELETE)
		goto out;
	memcpy(hdr, buf, SEG_HDR);
	dirlen = seg_get32(hdr + 8);
	plen = seg_get64(hdr + 16);
	if (dirlen > (16u << 20) || plen > size || size - off - SEG_HDR - SEG_TRAILER < dirlen + plen)
		goto out;
	head = buf;
	if (SEG_HDR + (size_t)dirlen > got) {   /* a directory beyond the read-ahead */
		head = g_malloc(SEG_HDR + dirlen);
		memcpy(head, hdr, SEG_HDR);
		n = pread(fd, head + SEG_HDR, dirlen, (off_t)(off + SEG_HDR));
		if (n != (ssize_t)dirlen) {
			rc = n < 0 ? -1 : 0;
			goto out_head;
		}
	}
	tail = SEG_HDR + dirlen + plen;
	if (tail + SEG_TRAILER <= got) {
		memcpy(trailer, buf + tail, SEG_TRAILER);
	} else if ((n = pread(fd, trailer, SEG_TRAILER, (off_t)(off + tail))) != SEG_TRAILER) {
		rc = n < 0 ? -1 : 0;
		goto out_head;
	}
	EVP_Digest(head, SEG_HDR + dirlen, md, NULL, EVP_sha256(), NULL);
	if (CRYPTO_memcmp(md, trailer, 32) != 0 || parse_head(head, head + SEG_HDR, dirlen, blobs) < 0)
		goto out_head;
	/* The payload checksum: always when repairing the newest segment,
	 * since a crash may have persisted the header and trailer but not
	 * every page in between. */
	*len = tail + SEG_TRAILER;
	gmac = (seg_get32(hdr + 12) & SEG_FLAG_GMAC) != 0;
	if (headout)
		g_byte_array_append(g_byte_array_set_size(headout, 0), head, SEG_HDR + dirlen);
	if (!full)
		rc = 1;
	else if (tail <= got)   /* the payload came with the read-ahead */
		rc = seg_sum_buf(gmac, buf + SEG_HDR + dirlen, plen, md) == 0 &&
		     CRYPTO_memcmp(md, hdr + 72, SEG_SUM_LEN) == 0 ? 1 : 2;
	else
		rc = seg_sum_range(gmac, fd, off + SEG_HDR + dirlen, plen, md) < 0 ||
		     CRYPTO_memcmp(md, hdr + 72, SEG_SUM_LEN) != 0 ? 2 : 1;
out_head:
	if (head != buf)
		g_free(head);
out:
	g_free(buf);
	return rc;
}

int seg_record_read(int fd, uint64_t off, uint64_t size, int full, unsigned char hdr[SEG_HDR],
		    GArray *blobs, uint64_t *len)
{
	return record_read(fd, off, size, full, hdr, blobs, len, NULL);
}

static void loc_set(GArray *locs, const struct seg_loc *l)
{
	for (guint i = 0; i < locs->len; i++) {
		if (strcmp(g_array_index(locs, struct seg_loc, i).name, l->name) == 0) {
			g_array_index(locs, struct seg_loc, i) = *l;
			return;
		}
	}
	g_array_append_val(locs, *l);
}

void seg_index_record(struct tz_seg *s, struct seg_file *f, uint64_t off,
		      const unsigned char *hdr, GArray *blobs, uint64_t len)
{
	char id[TZ_ID_LEN];
	time_t t = (time_t)seg_get64(hdr + 24), stored = (time_t)seg_get64(hdr + 104);
	uint64_t base = off + SEG_HDR + seg_get32(hdr + 8);
	struct seg_entry_idx *x;

	memcpy(id, hdr + 32, TZ_ID_LEN);
	id[TZ_ID_LEN - 1] = '\0';
	if (t > f->newest)
		f->newest = t;   /* the day a segment is rolled at (kept append_only too) */
	if (s->append_only || !tz_id_valid(id) || (s->only && !g_hash_table_contains(s->only, id)))
		return;
	x = g_hash_table_lookup(s->index, id);
	if (hdr[5] == SEG_KIND_DELETE) {
		g_hash_table_remove(s->index, id);
		return;
	}
	if (x == NULL && hdr[5] == SEG_KIND_ADD)
		return;   /* blobs of an entry deleted or purged before */
	if (x == NULL || hdr[5] == SEG_KIND_ENTRY) {
		/* An entry record re-appended by compaction replaces the old one. */
		x = g_new0(struct seg_entry_idx, 1);
		g_strlcpy(x->id, id, sizeof(x->id));
		x->stored = stored ? stored : t;
		x->seg = f->no;
		x->locs = g_array_sized_new(FALSE, TRUE, sizeof(struct seg_loc), blobs->len);
		g_hash_table_replace(s->index, x->id, x);
	}
	for (guint i = 0; i < blobs->len; i++) {
		const struct seg_blob *b = &g_array_index(blobs, struct seg_blob, i);
		struct seg_loc l = { 0 };
		g_strlcpy(l.name, b->name, sizeof(l.name));
		l.seg = f->no;
		l.at = base + b->offset;
		l.stored = b->stored;
		l.plain = b->plain;
		l.encrypted = (seg_get32(hdr + 12) & SEG_FLAG_ENC) != 0;
		memcpy(l.sha256, b->sha256, 32);
		loc_set(x->locs, &l);
	}
	(void)len;
}

/* Read the records of f not seen yet. Records of the newest segment are
 * checked in full; a torn one ends the scan, and is cut off when repair.
 * A sealed segment read from its start comes from its offset index when
 * that is valid (tz_segindex.c); scanned instead, it gets one written. */
static int scan_file(struct tz_seg *s, struct seg_file *f, int newest, int repair)
{
	GArray *blobs;
	GByteArray *x = NULL, *head = NULL;
	unsigned char hdr[SEG_HDR];
	struct stat sb;
	uint64_t len;
	int rc = 0;

	if (!newest && s->append_only)
		return 0;   /* appends go behind the newest; the others hold nothing it needs */
	if (!newest && f->scanned == 0 && seg_x_load(s, f))
		return 0;
	if (fstat(f->fd, &sb) < 0)
		return -1;
	blobs = g_array_new(FALSE, TRUE, sizeof(struct seg_blob));
	if (!newest && f->scanned == 0 && !s->readonly) {
		x = g_byte_array_new();
		head = g_byte_array_new();
		seg_x_begin(x);
	}
	while (f->scanned < (uint64_t)sb.st_size) {
		int r = record_read(f->fd, f->scanned, (uint64_t)sb.st_size, newest, hdr, blobs, &len, head);
		if (r < 0) {   /* a failed read is no torn tail: cut nothing, say so */
			rc = -1;
			break;
		}
		if (r == 0) {
			if (repair && (ftruncate(f->fd, (off_t)f->scanned) < 0 || fsync(f->fd) < 0))
				rc = -1;
			break;
		}
		/* 2: an intact header but not its payload (its pages did not
		 * reach the disk before a crash, or rotted): never listed, and
		 * skipped, since records after it may be complete. */
		if (r == 1)
			seg_index_record(s, f, f->scanned, hdr, blobs, len);
		if (r == 1 && x)
			seg_x_add(x, f->scanned, len, head->data, head->len);
		f->scanned += len;
	}
	if (x && f->scanned == (uint64_t)sb.st_size)
		seg_x_save(s, f, x);
	if (x) {
		g_byte_array_unref(x);
		g_byte_array_unref(head);
	}
	g_array_unref(blobs);
	return rc;
}

static int open_files(struct tz_seg *s, char *err, size_t errlen);

/* The directory changed since it was last listed (or may have within the
 * clock's granularity): a segment may have appeared beyond a gap in the
 * numbers (another process purged the one after ours). */
static int dir_changed(struct tz_seg *s)
{
	struct stat sb;

	if (fstat(s->dirfd, &sb) < 0)
		return 1;
	return sb.st_mtim.tv_sec != s->dir_mtime.tv_sec || sb.st_mtim.tv_nsec != s->dir_mtime.tv_nsec ||
	       time(NULL) - sb.st_mtim.tv_sec < 2;
}

/* Open segments other processes created, and read new records. s->mu and
 * (when repair) the flock are held. */
int seg_refresh(struct tz_seg *s, int repair)
{
	struct seg_file *f;
	int rc = 0;

	for (;;) {   /* the usual case: the next number */
		char name[32];
		int fd;
		f = seg_active(s);
		seg_name(f ? f->no + 1 : 1, name);
		fd = openat(s->dirfd, name, (s->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			break;
		add_file(s, f ? f->no + 1 : 1, fd);
	}
	if (dir_changed(s) && open_files(s, NULL, 0) < 0)
		rc = -1;
	for (guint i = 0; i < s->files->len; i++) {
		f = g_ptr_array_index(s->files, i);
		if (scan_file(s, f, i + 1 == s->files->len, repair && i + 1 == s->files->len) < 0)
			rc = -1;
	}
	seg_keep_newest(s);
	return rc;
}

void seg_keep_newest(struct tz_seg *s)
{
	if (s->append_only && s->files->len > 1)
		g_ptr_array_remove_range(s->files, 0, s->files->len - 1);
}

/* Every NNNNNNNN.tzs in the directory not open yet, in order. */
static int open_files(struct tz_seg *s, char *err, size_t errlen)
{
	int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	struct stat sb;

	/* The time before the listing: a file made during it shows as a
	 * change on the next refresh. */
	if (fstat(s->dirfd, &sb) == 0)
		s->dir_mtime = sb.st_mtim;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return tz_err(err, errlen, "segment store %s: %s", s->dir, strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		int sfd;
		if (strlen(de->d_name) != 12 || strspn(de->d_name, "0123456789") != 8 ||
		    strcmp(de->d_name + 8, ".tzs") != 0 ||
		    seg_file_get(s, (unsigned)strtoul(de->d_name, NULL, 10)))
			continue;
		if (s->append_only && seg_active(s) &&
		    (unsigned)strtoul(de->d_name, NULL, 10) < seg_active(s)->no)
			continue;   /* behind the newest: nothing to append to */
		sfd = openat(s->dirfd, de->d_name,
			     (s->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOFOLLOW);
		if (sfd < 0 && errno == ENOENT)
			continue;   /* purged by another process meanwhile */
		if (sfd < 0) {
			tz_err(err, errlen, "segment %s/%s: %s", s->dir, de->d_name, strerror(errno));
			closedir(d);
			return -1;
		}
		add_file(s, (unsigned)strtoul(de->d_name, NULL, 10), sfd);
	}
	closedir(d);
	return 0;
}

static struct tz_seg *seg_open(const char *dir, const struct tz_seg_opts *o, GHashTable *only,
			       char *err, size_t errlen)
{
	struct tz_seg *s = g_new0(struct tz_seg, 1);
	const char *crash = getenv("TZ_SEG_CRASH_STEP");
	int rc;

	s->dir = g_strdup(dir);
	s->dirfd = s->lockfd = -1;
	s->readonly = o && o->readonly;
	s->append_only = o && o->append_only && !s->readonly;
	s->only = only;
	s->max_segment = o && o->max_segment ? o->max_segment : MAX_SEGMENT_DEFAULT;
	if (crash) {   /* "STEP" or "STEP/AFTER": once AFTER commits are done */
		s->crash_step = atoi(crash);
		s->crash_after = strchr(crash, '/') ? atoi(strchr(crash, '/') + 1) : 0;
	}
	if (o && o->key) {
		memcpy(s->key, o->key, TZ_KEY_LEN);
		s->has_key = 1;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->grp.mu, NULL);
	pthread_cond_init(&s->grp.cv, NULL);
	s->files = g_ptr_array_new_with_free_func(seg_file_free);
	s->index = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, idx_free);
	if (!s->readonly && mkdir(dir, 0700) < 0 && errno != EEXIST)
		goto fail_errno;
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0)
		goto fail_errno;
	if (!s->readonly) {
		s->lockfd = openat(s->dirfd, "LOCK", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (s->lockfd < 0)
			goto fail_errno;
	}
	if (open_files(s, err, errlen) < 0)
		goto fail;
	if (s->readonly) {
		if (seg_refresh(s, 0) == 0)
			return s;
		tz_err(err, errlen, "segment store %s: read: %s", dir, strerror(errno));
		goto fail;
	}
	while (flock(s->lockfd, LOCK_EX) < 0 && errno == EINTR)
		;
	rc = (seg_active(s) == NULL ? seg_new_file(s, 1, err, errlen) : 0) == 0 ? seg_refresh(s, 1) : -1;
	flock(s->lockfd, LOCK_UN);
	if (rc < 0) {
		if (!*err)
			tz_err(err, errlen, "segment store %s: repair: %s", dir, strerror(errno));
		goto fail;
	}
	return s;
fail_errno:
	tz_err(err, errlen, "segment store %s: %s", dir, strerror(errno));
fail:
	tz_seg_free(s);
	return NULL;
}

struct tz_seg *tz_seg_open(const char *dir, const struct tz_seg_opts *o, char *err, size_t errlen)
{
	return seg_open(dir, o, NULL, err, errlen);
}

void tz_seg_free(struct tz_seg *s)
{
	if (s == NULL)
		return;
	g_ptr_array_unref(s->files);
	g_hash_table_unref(s->index);
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->lockfd >= 0)
		close(s->lockfd);
	OPENSSL_cleanse(s->key, sizeof(s->key));
	pthread_cond_destroy(&s->grp.cv);
	pthread_mutex_destroy(&s->grp.mu);
	pthread_mutex_destroy(&s->mu);
	g_free(s->dir);
	g_free(s);
}

/* ---- reading ---- */

int seg_append_only_refuses(struct tz_seg *s, char *err, size_t errlen)
{
	return s->append_only ? tz_err(err, errlen, "segment store %s: opened to append only", s->dir) : 0;
}

int tz_seg_has(struct tz_seg *s, const char *id)
{
	int rc;

	if (s->append_only)
		return 0;
	pthread_mutex_lock(&s->mu);
	seg_refresh(s, 0);
	rc = id && g_hash_table_lookup(s->index, id) != NULL;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int tz_seg_has_among(struct tz_seg *s, const char *const *ids, unsigned n, int *held,
		     char *err, size_t errlen)
{
	struct tz_seg_opts ro = { s->has_key ? s->key : NULL, 0, 1, 0 };
	GHashTable *only;
	struct tz_seg *r;

	if (!s->append_only) {
		for (unsigned i = 0; i < n; i++)
			held[i] = tz_seg_has(s, ids[i]) == 1;
		return 0;
	}
	/* A second view of the store that indexes these ids alone: the
	 * segments are read as an open reads them, the memory is theirs. */
	only = g_hash_table_new(g_str_hash, g_str_equal);
	for (unsigned i = 0; i < n; i++)
		g_hash_table_add(only, (gpointer)ids[i]);
	r = seg_open(s->dir, &ro, only, err, errlen);
	if (r == NULL) {
		g_hash_table_unref(only);
		return -1;
	}
	for (unsigned i = 0; i < n; i++)   /* the view is this function's: no refresh per id */
		held[i] = g_hash_table_lookup(r->index, ids[i]) != NULL;
	tz_seg_free(r);
	g_hash_table_unref(only);
	return 0;
}

int tz_seg_has_blob(struct tz_seg *s, const char *id, const char *name)
{
	struct seg_entry_idx *x;
	int rc = 0;

	if (s->append_only)
		return 0;
	pthread_mutex_lock(&s->mu);
	seg_refresh(s, 0);
	x = id ? g_hash_table_lookup(s->index, id) : NULL;
	for (guint i = 0; x && i < x->locs->len && !rc; i++)
		rc = strcmp(g_array_index(x->locs, struct seg_loc, i).name, name) == 0;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int find_loc(struct tz_seg *s, const char *id, const char *name, struct seg_loc *out, int *fd)
{
	struct seg_entry_idx *x;
	int rc = -1;

	pthread_mutex_lock(&s->mu);
	seg_refresh(s, 0);
	x = id ? g_hash_table_lookup(s->index, id) : NULL;
	for (guint i = 0; x && i < x->locs->len; i++) {
		if (strcmp(g_array_index(x->locs, struct seg_loc, i).name, name) == 0) {
			*out = g_array_index(x->locs, struct seg_loc, i);
			*fd = dup(seg_file_get(s, out->seg)->fd);   /* purge may close it */
			rc = *fd < 0 ? -1 : 0;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* Plain blob: stream it, then compare its SHA-256 with the directory's. */
static int read_plain(int fd, const struct seg_loc *l, tz_cfile_fn fn, void *ctx,
		      char *err, size_t errlen)
{
	unsigned char *buf = g_malloc(TZ_CRYPT_CHUNK), md[32];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint64_t done = 0;
	int rc = -1;

	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	while (done < l->stored) {
		size_t want = l->stored - done < TZ_CRYPT_CHUNK ? (size_t)(l->stored - done) : TZ_CRYPT_CHUNK;
		ssize_t n = pread(fd, buf, want, (off_t)(l->at + done));
		if (n <= 0) {
			tz_err(err, errlen, "%s: read: %s", l->name, n < 0 ? strerror(errno) : "short");
			goto out;
		}
		EVP_DigestUpdate(c, buf, (size_t)n);
		if (fn(ctx, buf, (size_t)n, err, errlen) < 0)
			goto out;
		done += (uint64_t)n;
	}
	EVP_DigestFinal_ex(c, md, NULL);
	if (CRYPTO_memcmp(md, l->sha256, 32) != 0) {
		tz_err(err, errlen, "%s: checksum mismatch", l->name);
		goto out;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(c);
	g_free(buf);
	return rc;
}

int tz_seg_read(struct tz_seg *s, const char *id, const char *name, tz_cfile_fn fn, void *ctx,
		char *err, size_t errlen)
{
	struct seg_loc l;
	int fd = -1, rc;

	if (seg_append_only_refuses(s, err, errlen) < 0)
		return -1;
	if (find_loc(s, id, name, &l, &fd) < 0)
		return tz_err(err, errlen, "quarantine %s: no %s", id ? id : "(null)", name);
	if (l.encrypted && !s->has_key)
		rc = tz_err(err, errlen, "%s: encrypted, and no key configured", name);
	else if (!l.encrypted && s->has_key)
		/* the flag and the checksum are no MAC: with a key, only sealed
		 * bytes are trusted (as the file store refuses a non-TZQE file) */
		rc = tz_err(err, errlen, "%s: not sealed, and a key is configured", name);
	else if (l.encrypted)   /* tz_crypt's format at an offset of the segment */
		rc = tz_unseal_range(fd, l.at, l.stored, s->key, id, l.name, l.name, fn, ctx, err, errlen);
	else
		rc = read_plain(fd, &l, fn, ctx, err, errlen);
	close(fd);
	return rc;
}

static int cmp_idx(gconstpointer a, gconstpointer b)
{
	return strcmp((*(struct seg_entry_idx *const *)a)->id, (*(struct seg_entry_idx *const *)b)->id);
}

/* A snapshot of the live entries, sorted by id (copies: the index may
 * change while the caller works). */
static GPtrArray *snapshot(struct tz_seg *s)
{
	GPtrArray *v = g_ptr_array_new_with_free_func(idx_free);
	GHashTableIter it;
	gpointer k, val;

	pthread_mutex_lock(&s->mu);
	seg_refresh(s, 0);
	g_hash_table_iter_init(&it, s->index);
	while (g_hash_table_iter_next(&it, &k, &val))
		g_ptr_array_add(v, seg_entry_copy(s, k));
	pthread_mutex_unlock(&s->mu);
	g_ptr_array_sort(v, cmp_idx);
	return v;
}

int tz_seg_foreach(struct tz_seg *s, int (*fn)(void *ctx, const struct tz_seg_info *i), void *ctx)
{
	GPtrArray *v;
	int rc = 0;

	/* an empty listing would tell reindex that every entry is gone */
	if (seg_append_only_refuses(s, NULL, 0) < 0)
		return -1;
	v = snapshot(s);
	for (guint i = 0; i < v->len && rc == 0; i++) {
		struct seg_entry_idx *x = g_ptr_array_index(v, i);
		const char **names = g_new0(const char *, x->locs->len + 1);
		struct tz_seg_info info = { x->id, x->stored, x->locs->len, names };
		for (guint k = 0; k < x->locs->len; k++)
			names[k] = g_array_index(x->locs, struct seg_loc, k).name;
		rc = fn(ctx, &info);
		g_free(names);
	}
	g_ptr_array_unref(v);
	return rc;
}

static int discard(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	(void)ctx, (void)buf, (void)len, (void)err, (void)errlen;
	return 0;
}

int tz_seg_verify(struct tz_seg *s, unsigned *entries, unsigned *bad, char *err, size_t errlen)
{
	GPtrArray *v;
	char why[TZ_ERRLEN];

	*entries = *bad = 0;
	if (seg_append_only_refuses(s, err, errlen) < 0)
		return -1;
	v = snapshot(s);
	for (guint i = 0; i < v->len; i++) {
		struct seg_entry_idx *x = g_ptr_array_index(v, i);
		int ok = 1;
		for (guint k = 0; k < x->locs->len && ok; k++) {
			const char *name = g_array_index(x->locs, struct seg_loc, k).name;
			if (tz_seg_read(s, x->id, name, discard, NULL, why, sizeof(why)) < 0) {
				ok = 0;
				if (*bad == 0)
					tz_err(err, errlen, "quarantine %s: %s", x->id, why);
			}
		}
		(*entries)++;
		*bad += !ok;
	}
	g_ptr_array_unref(v);
	return *bad ? -1 : 0;
}

/* ---- retention ---- */

/* Tombstone the entries stored before cutoff (*n of them). -1 with err at
 * the first that fails: retention that silently keeps mail is a failure. */
static int expire(struct tz_seg *s, time_t cutoff, unsigned *n, char *err, size_t errlen)
{
	GPtrArray *v = snapshot(s);
	int rc = 0;

	for (guint i = 0; i < v->len && rc == 0; i++) {
		struct seg_entry_idx *x = g_ptr_array_index(v, i);
		if (x->stored >= cutoff)
			continue;
		rc = tz_seg_delete(s, x->id, err, errlen);
		if (rc == 0)
			(*n)++;
		else if (!tz_seg_has(s, x->id))
			rc = 0;   /* deleted by someone else meanwhile */
	}
	g_ptr_array_unref(v);
	return rc;
}

/* The live entries that still need segment no: their entry record or a
 * current blob is there. *live: bytes of those blobs. */
static GPtrArray *users_of(struct tz_seg *s, unsigned no, uint64_t *live)
{
	GPtrArray *v = snapshot(s), *out = g_ptr_array_new_with_free_func(idx_free);

	*live = 0;
	for (guint i = 0; i < v->len; i++) {
		struct seg_entry_idx *x = g_ptr_array_index(v, i);
		int uses = x->seg == no;
		for (guint k = 0; k < x->locs->len; k++) {
			const struct seg_loc *l = &g_array_index(x->locs, struct seg_loc, k);
			if (l->seg == no) {
				uses = 1;
				*live += l->stored;
			}
		}
		if (uses) {
			g_ptr_array_add(out, x);
			g_ptr_array_index(v, i) = NULL;
		}
	}
	g_ptr_array_set_free_func(v, NULL);
	for (guint i = 0; i < v->len; i++)
		if (g_ptr_array_index(v, i))
			idx_free(g_ptr_array_index(v, i));
	g_ptr_array_unref(v);
	return out;
}

static int drop_file(struct tz_seg *s, struct seg_file *f, struct tz_seg_purge_stats *st,
		     char *err, size_t errlen)
{
	char name[32];
	struct stat sb;

	seg_name(f->no, name);
	if (fstat(f->fd, &sb) < 0 || (unlinkat(s->dirfd, name, 0) < 0 && errno != ENOENT))
		return tz_err(err, errlen, "segment %s/%s: unlink: %s", s->dir, name, strerror(errno));
	seg_x_drop(s, f->no);
	st->freed += (uint64_t)sb.st_size;
	g_ptr_array_remove(s->files, f);
	st->dropped++;
	return 0;
}

/* Segment no: dropped when nothing live needs it, compacted (its users
 * re-written elsewhere, durably, then dropped) when less than half of it
 * is live. 1 when it went, 0 kept, -1 error. s->mu not held. */
static int purge_file(struct tz_seg *s, unsigned no, struct tz_seg_purge_stats *st,
		      char *err, size_t errlen)
{
	uint64_t live, size = 0;
	GPtrArray *users = users_of(s, no, &live);
	struct seg_file *f;
	struct stat sb;
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	f = seg_file_get(s, no);
	if (f && fstat(f->fd, &sb) == 0)
		size = (uint64_t)sb.st_size;
	pthread_mutex_unlock(&s->mu);
	if (f == NULL || (users->len > 0 && live * 2 >= size)) {
		g_ptr_array_unref(users);
		return f == NULL;
	}
	for (guint i = 0; i < users->len && rc == 0; i++)
		rc = seg_rewrite(s, ((struct seg_entry_idx *)g_ptr_array_index(users, i))->id, err, errlen);
	pthread_mutex_lock(&s->mu);
	f = seg_file_get(s, no);
	if (rc == 0 && f && f != seg_active(s) && (rc = drop_file(s, f, st, err, errlen)) == 0) {
		if (users->len > 0) {
			st->dropped--;
			st->compacted++;
		}
		rc = 1;
	}
	pthread_mutex_unlock(&s->mu);
	g_ptr_array_unref(users);
	return rc;
}

int tz_seg_purge(struct tz_seg *s, time_t cutoff, struct tz_seg_purge_stats *st,
		 char *err, size_t errlen)
{
	GArray *nos = g_array_new(FALSE, FALSE, sizeof(unsigned));
	int rc = 1;

	memset(st, 0, sizeof(*st));
	if (s->readonly)
		return tz_err(err, errlen, "segment store %s is read-only", s->dir);
	if (seg_append_only_refuses(s, err, errlen) < 0)
		return -1;
	if (expire(s, cutoff, &st->expired, err, errlen) < 0) {
		g_array_unref(nos);
		return -1;
	}
	pthread_mutex_lock(&s->mu);
	for (guint i = 0; i + 1 < s->files->len; i++)   /* never the newest */
		g_array_append_val(nos, ((struct seg_file *)g_ptr_array_index(s->files, i))->no);
	pthread_mutex_unlock(&s->mu);
	/* Oldest first, and only a prefix: a tombstone always follows the
	 * record it deletes, so dropping segments 1..k never drops a tombstone
	 * whose entry record survives in a segment kept. */
	for (guint i = 0; i < nos->len && rc == 1; i++)
		rc = purge_file(s, g_array_index(nos, unsigned, i), st, err, errlen);
	rc = rc < 0 ? -1 : 0;
	if (rc == 0 && (st->dropped || st->compacted) && fsync(s->dirfd) < 0)
		rc = tz_err(err, errlen, "segment store %s: fsync: %s", s->dir, strerror(errno));
	g_array_unref(nos);
	return rc;
}
