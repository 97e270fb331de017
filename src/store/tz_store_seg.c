/* tz_store_seg.c — entries kept in the segment store (tz_segment.h) under
 * QuarantineDir/store/: the store's on-disk format of issue 16. tz_store.c
 * sends here every operation on an entry that lives in it, and every new
 * entry once the store/ directory exists (made by `textizectl queue
 * migrate` or StoreFormat segment); entries still in the directory layout
 * are read and changed where they are until they are migrated.
 *
 * Commit: original, parts and meta.json are blobs of one record, written;
 * the store's group commit makes it durable (one fdatasync per batch, side
 * by side with the audit log's when it can: tz_store_group.c) and runs
 * the hooks. A required hook that fails
 * tombstones the entry again, so it is never listed.
 * Entry locks: an OFD byte-range lock on store/LOCKS at a byte chosen by
 * the id (two ids sharing a byte only wait for each other); closing the
 * fd unlocks, as with the directory's flock. No inode per entry. */
#define _GNU_SOURCE
#include "tz_store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "tz_audit.h"
#include "tz_util.h"

int tzs_seg_open(struct tz_store *st, int create, char *err, size_t errlen)
{
	struct tz_seg_opts o = { st->has_key ? st->key : NULL, 0, 0, st->append_only };
	char *path, why[TZ_ERRLEN] = "";

	if (st->seg)
		return 0;
	if (!create && faccessat(st->rootfd, "store", F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : tz_err(err, errlen, "quarantine %s/store: %s", st->dir,
						    strerror(errno));
	/* A reader that may not write (another user, a read-only mount) still
	 * reads: the segment store then neither repairs nor appends. */
	o.readonly = !create && (faccessat(st->rootfd, "store", W_OK, AT_EACCESS) < 0 ||
				 (faccessat(st->rootfd, "store/LOCK", W_OK, AT_EACCESS) < 0 &&
				  errno != ENOENT));
	path = g_strdup_printf("%s/store", st->dir);
	st->seg = tz_seg_open(path, &o, why, sizeof(why));
	g_free(path);
	if (st->seg == NULL)
		return tz_err(err, errlen, "quarantine %s: %s", st->dir, why);
	st->lockdirfd = tzs_open_dir_at(st->rootfd, "store", 0);
	if (st->lockdirfd < 0 || tzs_fsync_dir(st->rootfd) < 0) {
		tz_err(err, errlen, "quarantine %s/store: %s", st->dir, strerror(errno));
		tzs_seg_close(st);
		return -1;
	}
	return 0;
}

void tzs_seg_close(struct tz_store *st)
{
	tz_seg_free(st->seg);
	st->seg = NULL;
	if (st->lockdirfd >= 0)
		close(st->lockdirfd);
	st->lockdirfd = -1;
}

int tzs_seg_begin(struct tz_store_entry *e, char *err, size_t errlen)
{
	e->seg = tz_seg_entry_begin(e->st->seg, e->id, err, errlen);
	return e->seg ? 0 : -1;
}

int tzs_seg_blob_begin(struct tz_store_entry *e, const char *name, int hashed, char *err, size_t errlen)
{
	return hashed ? tz_seg_blob_begin_hashed(e->seg, name, err, errlen) :
			tz_seg_blob_begin(e->seg, name, err, errlen);
}

int tzs_seg_blob_write(struct tz_store_entry *e, const void *buf, size_t len, char *err, size_t errlen)
{
	return tz_seg_blob_write(e->seg, buf, len, err, errlen);
}

int tzs_seg_blob_end(struct tz_store_entry *e, char *sha256_hex, int hashed, uint64_t *size,
		     char *err, size_t errlen)
{
	return hashed ? tz_seg_blob_end_hashed(e->seg, sha256_hex, size, err, errlen) :
			tz_seg_blob_end(e->seg, sha256_hex, size, err, errlen);
}

int tzs_seg_commit(struct tz_store_entry *e, const struct tz_meta *m, const struct tz_envelope *env,
		   char *err, size_t errlen)
{
	struct tz_seg_entry *se = e->seg;
	struct pending p = { 0 };
	char *json = tz_meta_to_json(m), why[TZ_ERRLEN];
	int rc;

	e->seg = NULL;   /* tz_seg_entry_write frees it whatever happens */
	rc = tz_seg_entry_add(se, "meta.json", json, strlen(json), err, errlen);
	g_free(json);
	if (rc < 0) {
		tz_seg_entry_abort(se);
		return -1;
	}
	/* Written, not yet durable: the group commit syncs it (beside the
	 * audit log's fdatasync when it can) and lists it. */
	if (tz_seg_entry_write(se, &p.w, err, errlen) < 0)
		return -1;
	p.id = e->id;
	p.in_segment = 1;
	p.m = m;
	p.env = env;
	tzs_group_commit(e->st, &p);
	/* Tombstoned by what this commit knows, not by a lookup: a store
	 * opened to append lists nothing. With a BlobStore the record was
	 * only the staged copy, now put there. */
	if (p.rc == 0 && e->st->blob)
		(void)tz_seg_tombstone(e->st->seg, e->id, NULL, 0);
	if (p.rc == 0)
		return 0;
	g_strlcpy(err, p.err, errlen);
	/* Not recorded where it must be: it must never be listed. Its record
	 * is written, and may become durable with a later sync even when this
	 * batch failed before its own (the 参照番号 log's sync failing): a
	 * tombstone whatever failed (after a failed sync it fails too, and the
	 * store stays broken until opened again). */
	if (tz_seg_tombstone(e->st->seg, e->id, why, sizeof(why)) < 0)
		tz_err(err, errlen, "%s; and withdrawing it failed: %s", p.err, why);
	return -1;
}

int tzs_seg_has(struct tz_store *st, const char *id)
{
	return st->seg && tz_seg_has(st->seg, id);
}

/* An entry of the directory layout. */
static int dir_has(struct tz_store *st, const char *id)
{
	int fd = tz_store_entry_open(st, id, NULL, 0);

	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

int tz_store_has(struct tz_store *st, const char *id)
{
	return tzs_seg_has(st, id) || dir_has(st, id);
}

static int seg_present(void *ctx, const char *const *ids, unsigned n, int *held, char *err, size_t errlen)
{
	return tz_seg_has_among(ctx, ids, n, held, err, errlen);
}

int tz_store_has_among(struct tz_store *st, const char *const *ids, unsigned n, int *held,
		       char *err, size_t errlen)
{
	/* The directories first: `queue migrate` appends an entry's record
	 * before it removes its directory, so an entry moving meanwhile is
	 * seen in one place or the other, never in neither. */
	for (unsigned i = 0; i < n; i++)
		held[i] = dir_has(st, ids[i]);
	return st->seg ? tz_audit_present_rest(seg_present, st->seg, ids, n, held, err, errlen) : 0;
}

static int list_cb(void *ctx, const struct tz_seg_info *i)
{
	for (guint k = 0; k < i->nblobs; k++)
		if (strcmp(i->names[k], "meta.json") == 0) {
			g_ptr_array_add(ctx, g_strdup(i->id));
			break;
		}
	return 0;
}

int tzs_seg_list(struct tz_store *st, GPtrArray *ids)
{
	return st->seg ? tz_seg_foreach(st->seg, list_cb, ids) : 0;
}

int tzs_seg_lock(struct tz_store *st, const char *id, char *err, size_t errlen)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 1 };
	int fd = openat(st->lockdirfd, "LOCKS", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return tz_err(err, errlen, "quarantine %s: lock: %s", id, strerror(errno));
	fl.l_start = (off_t)(g_str_hash(id) & 0x7fffffffu);
	while (fcntl(fd, F_OFD_SETLKW, &fl) < 0) {
		if (errno != EINTR) {
			close(fd);
			return tz_err(err, errlen, "quarantine %s: lock: %s", id, strerror(errno));
		}
	}
	return fd;
}

static int collect(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	GByteArray *ba = ctx;

	if (ba->len + len > META_MAX)
		return tz_err(err, errlen, "meta.json larger than %u bytes", META_MAX);
	g_byte_array_append(ba, buf, (guint)len);
	return 0;
}

int tzs_seg_meta_read(struct tz_store *st, const char *id, GByteArray **ba, char *err, size_t errlen)
{
	*ba = g_byte_array_new();
	return tz_seg_read(st->seg, id, "meta.json", collect, *ba, err, errlen);
}

int tzs_seg_meta_write(struct tz_store *st, const struct tz_meta *m, char *err, size_t errlen)
{
	char *json = tz_meta_to_json(m);
	int rc = tz_seg_put(st->seg, m->id, "meta.json", json, strlen(json), err, errlen);

	g_free(json);
	return rc;
}
