/* tz_store.c — the sanitization queue on disk (layout in tz_store.h).
 *
 * Atomicity: an entry is built in tmp/<id>/ — original, parts, then
 * meta.json, each fsynced — the directory is fsynced once, then renamed
 * into entries/<day>/, and that directory is fsynced once for all entries
 * committing at the same moment (group commit, with the commit hooks:
 * the audit record, the index row). Readers only ever look under entries/, so a crash at
 * any point leaves either nothing visible or a complete entry. tmp/ itself
 * is not fsynced after the rename: the entry's new name is what must
 * survive, and should the old name survive a crash too, tz_store_clean_tmp
 * leaves an id alone that is also complete.
 * Thread safety: directory fds, key and hooks are read-only once the store
 * is shared; the group commit has its own lock (hooks run in its leader);
 * each entry belongs to one thread. */
#include "tz_store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "tz_log.h"
#include "tz_ref.h"
#include "tz_util.h"

volatile int tz_store_test_crash_step;

int tzs_fsync_dir(int fd)
{
	return fsync(fd) < 0 && errno != EINVAL ? -1 : 0;
}

int tzs_open_dir_at(int at, const char *name, int create)
{
	if (create && mkdirat(at, name, 0700) < 0 && errno != EEXIST)
		return -1;
	return openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
}

static struct tz_store *store_open(const char *dir, const char *key_file, int append_only,
				   char *err, size_t errlen)
{
	struct tz_store *st = g_new0(struct tz_store, 1);

	st->append_only = append_only;
	st->rootfd = st->tmpfd = st->entfd = st->lockdirfd = -1;
	st->dir = g_strdup(dir);
	pthread_mutex_init(&st->grp.mu, NULL);
	pthread_cond_init(&st->grp.cv, NULL);
	st->grp.queue = g_ptr_array_new();
	if (key_file && *key_file) {
		if (tz_key_load(key_file, st->key, err, errlen) < 0)
			goto fail;
		st->has_key = 1;
	}
	st->rootfd = tzs_open_dir_at(AT_FDCWD, dir, 1);
	if (st->rootfd < 0) {
		tz_err(err, errlen, "quarantine %s: %s", dir, strerror(errno));
		goto fail;
	}
	st->tmpfd = tzs_open_dir_at(st->rootfd, "tmp", 1);
	st->entfd = tzs_open_dir_at(st->rootfd, "entries", 1);
	if (st->tmpfd < 0 || st->entfd < 0) {
		tz_err(err, errlen, "quarantine %s: %s", dir, strerror(errno));
		goto fail;
	}
	if (tzs_seg_open(st, 0, err, errlen) < 0)   /* store/, when there is one */
		goto fail;
	st->local_refs = tz_refs_dir_new(st->rootfd);
	return st;
fail:
	tz_store_free(st);
	return NULL;
}

struct tz_store *tz_store_open(const char *dir, const char *key_file, char *err, size_t errlen)
{
	return store_open(dir, key_file, 0, err, errlen);
}

struct tz_store *tz_store_open_appending(const char *dir, const char *key_file,
					 char *err, size_t errlen)
{
	return store_open(dir, key_file, 1, err, errlen);
}

void tz_store_free(struct tz_store *st)
{
	if (st == NULL)
		return;
	tz_refs_free(st->refs);
	tz_refs_free(st->local_refs);
	if (st->rootfd >= 0)
		close(st->rootfd);
	if (st->tmpfd >= 0)
		close(st->tmpfd);
	if (st->entfd >= 0)
		close(st->entfd);
	OPENSSL_cleanse(st->key, sizeof(st->key));
	tzs_side_stop(st);   /* before the hooks it runs go */
	tzs_hooks_free(st);
	tzs_seg_close(st);
	tz_store_set_blobs(st, NULL);
	tz_store_set_locker(st, NULL);
	g_ptr_array_unref(st->grp.queue);
	pthread_cond_destroy(&st->grp.cv);
	pthread_mutex_destroy(&st->grp.mu);
	g_free(st->dir);
	g_free(st);
}

int tz_store_use_segments(struct tz_store *st, char *err, size_t errlen)
{
	return tzs_seg_open(st, 1, err, errlen);
}

int tz_store_segmented(const struct tz_store *st)
{
	return st->seg != NULL;
}

int tz_store_compact(struct tz_store *st, uint64_t *freed, char *err, size_t errlen)
{
	struct tz_seg_purge_stats ps = { 0 };
	int rc = st->seg ? tz_seg_purge(st->seg, 0, &ps, err, errlen) : 0;

	if (freed)
		*freed = ps.freed;
	return rc;
}

const unsigned char *tz_store_key(const struct tz_store *st)
{
	return st->has_key ? st->key : NULL;
}

const char *tz_store_dir(const struct tz_store *st)
{
	return st->dir;
}

/* Remove a flat directory (entries hold only files) and its contents. */
int tzs_remove_flat_dir(int parentfd, const char *name)
{
	int fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	DIR *d;
	struct dirent *de;

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	return unlinkat(parentfd, name, AT_REMOVEDIR);
}

/* ---- writing an entry ---- */

/* One blob of the entry being written — a file in tmp/<id> or a blob of
 * its segment record — begun, written, ended (SHA-256 and size out).
 * hashed: the bytes are a part the engine hashed while decoding (it hands
 * the sink exactly the buffers it hashed); a segment blob takes that
 * SHA-256 (sha256 in at the end) instead of hashing them again. The
 * directory layout still hashes them itself. */
static int blob_begin(struct tz_store_entry *e, const char *name, int hashed, char *err, size_t errlen)
{
	if (e->in_blob)
		return tz_err(err, errlen, "quarantine %s: %s begun inside another", e->id, name);
	e->cur_hashed = hashed && e->seg;
	if (e->seg ? tzs_seg_blob_begin(e, name, e->cur_hashed, err, errlen) < 0 :
	    (e->cur = tz_cfile_create(e->dirfd, name, name, tz_store_key(e->st), e->id,
				      err, errlen)) == NULL)
		return -1;
	e->in_blob = 1;
	return 0;
}

static int blob_write(struct tz_store_entry *e, const void *buf, size_t len, char *err, size_t errlen)
{
	if (!e->in_blob)
		return tz_err(err, errlen, "quarantine %s: part data outside a part", e->id);
	return e->seg ? tzs_seg_blob_write(e, buf, len, err, errlen) :
			tz_cfile_write(e->cur, buf, len, err, errlen);
}

static int blob_end(struct tz_store_entry *e, char sha256[65], uint64_t *size, char *err, size_t errlen)
{
	struct tz_cfile *f = e->cur;

	e->in_blob = 0;
	e->cur = NULL;
	return e->seg ? tzs_seg_blob_end(e, sha256, e->cur_hashed, size, err, errlen) :
			tz_cfile_finish(f, sha256, size, err, errlen);
}

static int sink_begin(void *ctx, const struct tz_part *part, char *err, size_t errlen)
{
	struct tz_store_entry *e = ctx;
	char name[32];

	if (e->in_blob)
		return tz_err(err, errlen, "quarantine %s: part %u begun inside part %u",
			      e->id, part->index, e->cur_index);
	if (part->index == 0 || part->index > 999999)
		return tz_err(err, errlen, "quarantine %s: bad part index %u", e->id, part->index);
	for (guint i = 0; i < e->stored->len; i++)
		if (g_array_index(e->stored, struct stored_part, i).index == part->index)
			return tz_err(err, errlen, "quarantine %s: part %u stored twice", e->id, part->index);
	/* Named by index only: nothing the sender wrote reaches the file system. */
	snprintf(name, sizeof(name), "part-%03u.bin", part->index);
	if (blob_begin(e, name, 1, err, errlen) < 0)
		return -1;
	e->cur_index = part->index;
	return 0;
}

static int sink_write(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	return blob_write(ctx, buf, len, err, errlen);
}

static int sink_end(void *ctx, const struct tz_part *part, char *err, size_t errlen)
{
	struct tz_store_entry *e = ctx;
	struct stored_part sp = { 0 };

	if (!e->in_blob || part->index != e->cur_index)
		return tz_err(err, errlen, "quarantine %s: end of part %u not begun", e->id, part->index);
	sp.index = part->index;
	if (e->cur_hashed)
		g_strlcpy(sp.sha256, part->sha256, sizeof(sp.sha256));
	if (blob_end(e, sp.sha256, &sp.size, err, errlen) < 0)
		return -1;
	/* What is kept must be what was described: the size always (counted
	 * while storing), the SHA-256 where the store hashed too (the
	 * directory layout). */
	if ((part->sha256[0] && strcmp(part->sha256, sp.sha256) != 0) || part->size != sp.size)
		return tz_err(err, errlen, "quarantine %s: part %u stored content differs from the engine's record",
			      e->id, part->index);
	g_array_append_val(e->stored, sp);
	return 0;
}

/* Where the entry's blobs go until commit: its segment record, or tmp/<id>. */
static int entry_place(struct tz_store_entry *e, char *err, size_t errlen)
{
	struct tz_store *st = e->st;

	if (st->seg)
		return tzs_seg_begin(e, err, errlen);
	if (mkdirat(st->tmpfd, e->id, 0700) < 0 ||
	    (e->dirfd = tzs_open_dir_at(st->tmpfd, e->id, 0)) < 0) {
		tz_err(err, errlen, "quarantine %s/tmp/%s: %s", st->dir, e->id, strerror(errno));
		unlinkat(st->tmpfd, e->id, AT_REMOVEDIR);
		return -1;
	}
	return 0;
}

static void entry_unplace(struct tz_store_entry *e)
{
	tz_seg_entry_abort(e->seg);
	e->seg = NULL;
	tz_cfile_abort(e->cur);
	e->cur = NULL;
	if (e->dirfd >= 0)
		tzs_remove_flat_dir(e->st->tmpfd, e->id);
}

struct tz_store_entry *tz_store_entry_begin(struct tz_store *st, char *err, size_t errlen)
{
	struct tz_store_entry *e = g_new0(struct tz_store_entry, 1);

	e->st = st;
	tz_id_new(e->id);
	e->dirfd = -1;
	if (entry_place(e, err, errlen) < 0) {
		g_free(e);
		return NULL;
	}
	/* The reference staff will quote: reserved now, because the notice
	 * that shows it is written before the entry is committed. */
	if (tz_refs_reserve(tzs_refs(st), e->id, time(NULL), e->ref,
			    err, errlen) < 0) {
		entry_unplace(e);
		if (e->dirfd >= 0)
			close(e->dirfd);
		g_free(e);
		return NULL;
	}
	e->stored = g_array_new(FALSE, TRUE, sizeof(struct stored_part));
	e->sink.ctx = e;
	e->sink.begin = sink_begin;
	e->sink.write = sink_write;
	e->sink.end = sink_end;
	return e;
}

const char *tz_store_entry_id(const struct tz_store_entry *e)
{
	return e->id;
}

const char *tz_store_entry_ref(const struct tz_store_entry *e)
{
	return e->ref;
}

int tz_store_resolve(struct tz_store *st, const char *arg, char id[TZ_ID_LEN], unsigned *part,
		     char *err, size_t errlen)
{
	char ref[TZ_REF_LEN];
	int kind;

	if (tz_ref_parse(arg, &kind, ref, id, part) < 0)
		return tz_err(err, errlen, "not an entry id or 参照番号: %s (want MMDD-CODE, "
			      "MMDD-CODE#PART or the long id)", arg ? arg : "(none)");
	/* shared: the local files are still read for the codes given
	 * before this host joined the cluster (tz_refs_lookup) */
	if (kind == 1) {
		int rc = tz_refs_lookup(st->refs ? st->refs : st->local_refs,
					st->refs ? st->local_refs : NULL, ref, time(NULL), id,
					err, errlen);
		return rc == 0 ? 0 : rc < 0 ? -2 : -1;
	}
	return 0;
}

void tz_store_set_refs(struct tz_store *st, struct tz_refs *refs)
{
	tz_refs_free(st->refs);
	st->refs = refs;
}

int tz_store_purge_refs(struct tz_store *st, time_t cutoff, char *err, size_t errlen)
{
	int n = tz_refs_purge(st->local_refs, cutoff, err, errlen);

	if (st->refs && n >= 0) {
		int m = tz_refs_purge(st->refs, cutoff, err, errlen);
		n = m < 0 ? -1 : MAX(n, m);
	}
	return n;
}

const struct tz_part_sink *tz_store_entry_sink(struct tz_store_entry *e)
{
	return &e->sink;
}

int tz_store_entry_put_original(struct tz_store_entry *e, GMimeStream *original,
				char *err, size_t errlen)
{
	char *buf;
	ssize_t n;
	int rc = -1;

	if (e->have_original)
		return tz_err(err, errlen, "quarantine %s: original stored twice", e->id);
	if (blob_begin(e, "original.eml", 0, err, errlen) < 0)
		return -1;
	buf = g_malloc(TZ_CRYPT_CHUNK);
	while ((n = g_mime_stream_read(original, buf, TZ_CRYPT_CHUNK)) > 0)
		if (blob_write(e, buf, (size_t)n, err, errlen) < 0)
			goto out;
	if (n < 0) {
		tz_err(err, errlen, "quarantine %s: reading the original failed", e->id);
		goto out;
	}
	rc = blob_end(e, e->orig_sha256, &e->orig_size, err, errlen);
	e->have_original = rc == 0;
out:
	if (rc < 0 && e->in_blob) {   /* a cfile half written: gone with the entry */
		tz_cfile_abort(e->cur);
		e->cur = NULL;
		e->in_blob = 0;
	}
	g_free(buf);
	return rc;
}

static void entry_free(struct tz_store_entry *e)
{
	tz_cfile_abort(e->cur);
	tz_seg_entry_abort(e->seg);
	if (e->dirfd >= 0)
		close(e->dirfd);
	g_array_unref(e->stored);
	g_free(e);
}

void tz_store_entry_abort(struct tz_store_entry *e)
{
	if (e == NULL)
		return;
	entry_unplace(e);
	entry_free(e);
}

/* Part records for the metadata: the engine's, each checked against what was
 * actually stored; stored parts the result does not list are kept too. */
static int meta_parts(struct tz_store_entry *e, struct tz_meta *m, char *err, size_t errlen)
{
	for (guint i = 0; i < m->parts->len; i++) {
		struct tz_meta_part *p = g_ptr_array_index(m->parts, i);
		guint k;
		for (k = 0; k < e->stored->len; k++)
			if (g_array_index(e->stored, struct stored_part, k).index == p->index)
				break;
		if (k == e->stored->len)
			return tz_err(err, errlen, "quarantine %s: part %u was never stored", e->id, p->index);
	}
	for (guint k = 0; k < e->stored->len; k++) {
		const struct stored_part *sp = &g_array_index(e->stored, struct stored_part, k);
		struct tz_meta_part *p = tz_meta_part_get(m, sp->index);
		if (p == NULL) {
			p = tz_meta_part_new();
			p->index = sp->index;
			g_ptr_array_add(m->parts, p);
		}
		g_free(p->file);
		p->file = g_strdup_printf("part-%03u.bin", sp->index);
		p->size = sp->size;
		g_strlcpy(p->sha256, sp->sha256, sizeof(p->sha256));
	}
	return 0;
}

static int write_meta_file(int dirfd, const char *fname, const struct tz_meta *m,
			   const unsigned char *key, char *err, size_t errlen)
{
	char *json = tz_meta_to_json(m);
	struct tz_cfile *f = tz_cfile_create(dirfd, fname, "meta.json", key, m->id, err, errlen);
	int rc = -1;

	if (f == NULL)
		goto out;
	if (tz_cfile_write(f, json, strlen(json), err, errlen) < 0) {
		tz_cfile_abort(f);
		goto out;
	}
	rc = tz_cfile_finish(f, NULL, NULL, err, errlen);
out:
	g_free(json);
	return rc;
}

#define CRASH_AT(n) do { if (tz_store_test_crash_step == (n)) { \
	tz_err(err, errlen, "simulated crash before step %d", (n)); goto crashed; } } while (0)

/* entries/<day> exists and its name in entries/ is durable. Checked once
 * per day by the first entry of that day this process commits: the thread
 * that created the directory may not have synced entries/ yet. */
static int ensure_day(struct tz_store *st, const char *day, int force, char *err, size_t errlen)
{
	int known;

	pthread_mutex_lock(&st->grp.mu);
	known = strcmp(st->day_synced, day) == 0;
	pthread_mutex_unlock(&st->grp.mu);
	if (known && !force)
		return 0;
	if ((mkdirat(st->entfd, day, 0700) < 0 && errno != EEXIST) || tzs_fsync_dir(st->entfd) < 0)
		return tz_err(err, errlen, "quarantine entries/%s: %s", day, strerror(errno));
	pthread_mutex_lock(&st->grp.mu);
	g_strlcpy(st->day_synced, day, sizeof(st->day_synced));
	pthread_mutex_unlock(&st->grp.mu);
	return 0;
}

/* Move tmp/<id> to entries/<day>/<id>; durable only once the day
 * directory is fsynced (group_commit). On failure the entry stays in tmp/
 * for the caller to remove; -2 = simulated crash. */
static int publish(struct tz_store_entry *e, char *err, size_t errlen)
{
	struct tz_store *st = e->st;
	char day[9], to[TZ_ID_LEN + 16];
	int rc;

	memcpy(day, e->id, 8);
	day[8] = '\0';
	snprintf(to, sizeof(to), "%s/%s", day, e->id);
	if (ensure_day(st, day, 0, err, errlen) < 0)
		return -1;
	CRASH_AT(3);
	rc = renameat(st->tmpfd, e->id, st->entfd, to);
	if (rc < 0 && errno == ENOENT && ensure_day(st, day, 1, err, errlen) == 0)
		rc = renameat(st->tmpfd, e->id, st->entfd, to);   /* day removed behind us */
	if (rc < 0)
		return tz_err(err, errlen, "quarantine %s: rename: %s", e->id, strerror(errno));
	CRASH_AT(4);
	return 0;
crashed:
	return -2;
}

/* Undo a publish that is not known durable or not audited: the entry must
 * not stay visible after a failure was reported. */
static void unpublish(struct tz_store_entry *e)
{
	char day[9];
	int dayfd;

	memcpy(day, e->id, 8);
	day[8] = '\0';
	dayfd = tzs_open_dir_at(e->st->entfd, day, 0);
	if (dayfd < 0)
		return;
	if (renameat(dayfd, e->id, e->st->tmpfd, e->id) < 0)
		tzs_remove_flat_dir(dayfd, e->id);
	tzs_fsync_dir(dayfd);
	close(dayfd);
}

int tz_store_entry_commit(struct tz_store_entry *e, const struct tz_envelope *env,
			  const struct tz_result *res, char *err, size_t errlen)
{
	struct tz_meta *m = tz_meta_new();
	struct pending p = { 0 };
	int rc = -1, crashed = 0;

	if (e->in_blob) {
		tz_err(err, errlen, "quarantine %s: part %u unfinished", e->id, e->cur_index);
		goto out;
	}
	if (!e->have_original) {
		tz_err(err, errlen, "quarantine %s: no original stored", e->id);
		goto out;
	}
	tz_meta_fill(m, e->id, env, res);
	m->ref = g_strdup(e->ref);
	m->original_size = e->orig_size;
	g_strlcpy(m->original_sha256, e->orig_sha256, sizeof(m->original_sha256));
	if (meta_parts(e, m, err, errlen) < 0)
		goto out;
	if (e->seg) {   /* one record, durable, then the hooks (tz_store_seg.c) */
		rc = tzs_seg_commit(e, m, env, err, errlen);
		goto out;
	}
	CRASH_AT(1);
	if (write_meta_file(e->dirfd, "meta.json", m, tz_store_key(e->st), err, errlen) < 0)
		goto out;
	CRASH_AT(2);
	if (tzs_fsync_dir(e->dirfd) < 0) {
		tz_err(err, errlen, "quarantine %s: fsync: %s", e->id, strerror(errno));
		goto out;
	}
	rc = publish(e, err, errlen);
	if (rc == -2)
		goto crashed;
	if (rc < 0)
		goto out;
	p.id = e->id;
	p.m = m;
	p.env = env;
	tzs_group_commit(e->st, &p);
	if (p.rc < 0) {
		g_strlcpy(err, p.err, errlen);
		unpublish(e);
		rc = -1;
		goto out;
	}
	if (e->st->blob)
		tzs_drop_staged(e->st, e->id);
	rc = 0;
	goto out;
crashed:
	crashed = 1;
	rc = -1;
out:
	tz_meta_free(m);
	if (rc < 0 && !crashed)
		entry_unplace(e);
	entry_free(e);
	return rc;
}

/* ---- committed entries ---- */

static int open_day(struct tz_store *st, const char *id)
{
	char day[9];

	memcpy(day, id, 8);
	day[8] = '\0';
	return tzs_open_dir_at(st->entfd, day, 0);
}

int tz_store_entry_open(struct tz_store *st, const char *id, char *err, size_t errlen)
{
	int dayfd, fd;

	if (!tz_id_valid(id))
		return tz_err(err, errlen, "not a quarantine id: %s", id ? id : "(null)");
	if (tzs_seg_has(st, id))
		return tz_err(err, errlen, "quarantine %s: kept in the segment store, not a directory", id);
	dayfd = open_day(st, id);
	fd = dayfd < 0 ? -1 : tzs_open_dir_at(dayfd, id, 0);
	if (dayfd >= 0)
		close(dayfd);
	if (fd < 0)
		return tz_err(err, errlen, "no quarantine entry %s", id);
	return fd;
}

int tzs_cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add the complete entries of one day directory to ids. */
static void list_day(int dayfd, GPtrArray *ids)
{
	DIR *d = fdopendir(dayfd);
	struct dirent *de;

	if (d == NULL) {
		close(dayfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char path[TZ_ID_LEN + 16];
		if (!tz_id_valid(de->d_name))
			continue;
		g_strlcpy(path, de->d_name, sizeof(path));
		g_strlcat(path, "/meta.json", sizeof(path));
		if (faccessat(dirfd(d), path, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			g_ptr_array_add(ids, g_strdup(de->d_name));
	}
	closedir(d);
}

int tz_store_list(struct tz_store *st, GPtrArray **ids, char *err, size_t errlen)
{
	*ids = g_ptr_array_new_with_free_func(g_free);
	if (st->blob) {   /* the shared store's entries, not the staged ones */
		if (tzs_blob_list(st, *ids, err, errlen) < 0) {
			g_ptr_array_unref(*ids);
			*ids = NULL;
			return -1;
		}
		g_ptr_array_sort(*ids, tzs_cmp_str);
		return 0;
	}
	if (tzs_list_local(st, *ids, err, errlen) < 0) {
		g_ptr_array_unref(*ids);
		*ids = NULL;
		return -1;
	}
	return 0;
}

int tzs_list_local(struct tz_store *st, GPtrArray *ids, char *err, size_t errlen)
{
	int fd = openat(st->entfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *de;

	d = fd < 0 ? NULL : fdopendir(fd);
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return tz_err(err, errlen, "quarantine %s/entries: %s", st->dir, strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		int dayfd;
		if (strlen(de->d_name) != 8 || strspn(de->d_name, "0123456789") != 8)
			continue;
		dayfd = tzs_open_dir_at(dirfd(d), de->d_name, 0);
		if (dayfd >= 0)
			list_day(dayfd, ids);
	}
	closedir(d);
	if (tzs_seg_list(st, ids) < 0)   /* opened to append: it cannot list */
		return tz_err(err, errlen, "quarantine %s: opened to append only, it lists nothing",
			      st->dir);
	g_ptr_array_sort(ids, tzs_cmp_str);
	/* An entry migrated just now may show in both layouts for a moment. */
	for (guint i = 1; i < ids->len; i++)
		if (strcmp(g_ptr_array_index(ids, i), g_ptr_array_index(ids, i - 1)) == 0)
			g_ptr_array_remove_index(ids, i--);
	return 0;
}

/* Parse meta.json's text; plain files carry no authenticated id: check
 * that the document describes the entry it was found in. */
static struct tz_meta *meta_parse_for(const GByteArray *ba, const char *id, char *err, size_t errlen)
{
	struct tz_meta *m = tz_meta_parse((const char *)ba->data, ba->len, err, errlen);

	if (m && strcmp(m->id, id) != 0) {
		tz_err(err, errlen, "quarantine %s: meta.json describes %s", id, m->id);
		tz_meta_free(m);
		m = NULL;
	}
	return m;
}

struct tz_meta *tzs_dir_meta(struct tz_store *st, int dirfd, const char *id, char *err, size_t errlen)
{
	GByteArray *ba = NULL;
	struct tz_meta *m = NULL;

	if (tz_cfile_read_all(dirfd, "meta.json", "meta.json", tz_store_key(st), id, META_MAX,
			      &ba, err, errlen) == 0)
		m = meta_parse_for(ba, id, err, errlen);
	if (ba)
		g_byte_array_unref(ba);
	return m;
}

struct tz_meta *tzs_meta_local(struct tz_store *st, const char *id, char *err, size_t errlen)
{
	GByteArray *ba = NULL;
	struct tz_meta *m = NULL;
	int fd;

	if (tz_id_valid(id) && tzs_seg_has(st, id)) {
		if (tzs_seg_meta_read(st, id, &ba, err, errlen) == 0)
			m = meta_parse_for(ba, id, err, errlen);
		if (ba)
			g_byte_array_unref(ba);
		return m;
	}
	fd = tz_store_entry_open(st, id, err, errlen);
	if (fd < 0)
		return NULL;
	m = tzs_dir_meta(st, fd, id, err, errlen);
	close(fd);
	return m;
}

struct tz_meta *tz_store_meta_read(struct tz_store *st, const char *id, char *err, size_t errlen)
{
	GByteArray *ba = NULL;
	struct tz_meta *m = NULL;

	if (!st->blob)
		return tzs_meta_local(st, id, err, errlen);
	if (!tz_id_valid(id)) {
		tz_err(err, errlen, "not a quarantine id: %s", id ? id : "(null)");
		return NULL;
	}
	if (tzs_blob_meta_read(st, id, &ba, err, errlen) == 0)
		m = meta_parse_for(ba, id, err, errlen);
	if (ba)
		g_byte_array_unref(ba);
	return m;
}

int tz_store_meta_write(struct tz_store *st, const struct tz_meta *m, char *err, size_t errlen)
{
	int fd, rc = -1;

	if (st->blob)
		return tz_id_valid(m->id) ? tzs_blob_meta_write(st, m, err, errlen)
					  : tz_err(err, errlen, "not a quarantine id: %s", m->id);
	if (tz_id_valid(m->id) && tzs_seg_has(st, m->id))
		return tzs_seg_meta_write(st, m, err, errlen);
	fd = tz_store_entry_open(st, m->id, err, errlen);
	if (fd < 0)
		return -1;
	unlinkat(fd, "meta.json.tmp", 0);   /* left by a crashed rewrite */
	if (write_meta_file(fd, "meta.json.tmp", m, tz_store_key(st), err, errlen) < 0)
		goto out;
	if (renameat(fd, "meta.json.tmp", fd, "meta.json") < 0 || tzs_fsync_dir(fd) < 0) {
		tz_err(err, errlen, "quarantine %s: meta.json: %s", m->id, strerror(errno));
		unlinkat(fd, "meta.json.tmp", 0);
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

int tz_store_file_read(struct tz_store *st, const char *id, const char *fname,
		       tz_cfile_fn fn, void *ctx, char *err, size_t errlen)
{
	if (st->blob)
		return tz_id_valid(id) ? tzs_blob_file_read(st, id, fname, fn, ctx, err, errlen)
				       : tz_err(err, errlen, "not a quarantine id: %s", id ? id : "(null)");
	return tzs_file_read_local(st, id, fname, fn, ctx, err, errlen);
}

int tzs_file_read_local(struct tz_store *st, const char *id, const char *fname,
			tz_cfile_fn fn, void *ctx, char *err, size_t errlen)
{
	int fd, rc;

	if (strchr(fname, '/') || fname[0] == '.')
		return tz_err(err, errlen, "bad file name %s", fname);
	if (tz_id_valid(id) && tzs_seg_has(st, id))
		return tz_seg_read(st->seg, id, fname, fn, ctx, err, errlen);
	fd = tz_store_entry_open(st, id, err, errlen);
	if (fd < 0)
		return -1;
	rc = tz_cfile_read(fd, fname, fname, tz_store_key(st), id, fn, ctx, err, errlen);
	close(fd);
	return rc;
}

int tz_store_file_put(struct tz_store *st, const char *id, const char *fname, int srcfd,
		      char *sha256_hex, uint64_t *size, char *err, size_t errlen)
{
	char tmpname[256], *buf;
	struct tz_cfile *f = NULL;
	int fd, rc = -1;
	ssize_t n;

	if (st->blob)
		return tz_id_valid(id) ? tzs_blob_file_put(st, id, fname, srcfd, sha256_hex, size, err, errlen)
				       : tz_err(err, errlen, "not a quarantine id: %s", id ? id : "(null)");
	if (tz_id_valid(id) && tzs_seg_has(st, id))
		return tz_seg_put_fd(st->seg, id, fname, srcfd, sha256_hex, size, err, errlen);
	buf = g_malloc(TZ_CRYPT_CHUNK);
	fd = tz_store_entry_open(st, id, err, errlen);
	if (fd < 0)
		goto out;
	if (strchr(fname, '/') || fname[0] == '.' || strlen(fname) > 200) {
		tz_err(err, errlen, "bad file name %s", fname);
		goto out;
	}
	snprintf(tmpname, sizeof(tmpname), "%s.tmp", fname);
	unlinkat(fd, tmpname, 0);
	f = tz_cfile_create(fd, tmpname, fname, tz_store_key(st), id, err, errlen);
	if (f == NULL)
		goto out;
	while ((n = read(srcfd, buf, TZ_CRYPT_CHUNK)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			tz_err(err, errlen, "%s: read: %s", fname, strerror(errno));
			goto out;
		}
		if (tz_cfile_write(f, buf, (size_t)n, err, errlen) < 0)
			goto out;
	}
	rc = tz_cfile_finish(f, sha256_hex, size, err, errlen);
	f = NULL;
	if (rc == 0 && (faccessat(fd, fname, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
			renameat(fd, tmpname, fd, fname) < 0 || tzs_fsync_dir(fd) < 0)) {
		tz_err(err, errlen, "%s: cannot put in place (exists?): %s", fname, strerror(errno));
		unlinkat(fd, tmpname, 0);
		rc = -1;
	}
out:
	tz_cfile_abort(f);
	if (fd >= 0)
		close(fd);
	g_free(buf);
	return rc;
}

int tz_store_remove(struct tz_store *st, const char *id, char *err, size_t errlen)
{
	int dayfd;

	if (st->append_only)   /* it cannot tell a segment entry from none */
		return tz_err(err, errlen, "quarantine %s: opened to append only", st->dir);
	if (!tz_id_valid(id))
		return tz_err(err, errlen, "not a quarantine id: %s", id ? id : "(null)");
	if (st->blob) {
		if (tzs_blob_remove(st, id, err, errlen) < 0)
			return -1;
		tzs_drop_staged(st, id);   /* a copy left by a crash after the commit */
		return 0;
	}
	if (tzs_seg_has(st, id))   /* a tombstone; the bytes go at tz_store_compact */
		return tz_seg_delete(st->seg, id, err, errlen);
	dayfd = open_day(st, id);
	if (dayfd < 0 || tzs_remove_flat_dir(dayfd, id) < 0 || tzs_fsync_dir(dayfd) < 0) {
		tz_err(err, errlen, "quarantine %s: remove: %s", id, strerror(errno));
		if (dayfd >= 0)
			close(dayfd);
		return -1;
	}
	close(dayfd);
	return 0;
}

void tzs_drop_staged(struct tz_store *st, const char *id)
{
	int dayfd;

	if (tzs_seg_has(st, id)) {
		(void)tz_seg_delete(st->seg, id, NULL, 0);
		return;
	}
	dayfd = open_day(st, id);
	if (dayfd >= 0) {
		(void)tzs_remove_flat_dir(dayfd, id);
		close(dayfd);
	}
}

/* The id names a complete entry (after a crash on a file system that does
 * not journal renames, its old name in tmp/ may have survived as well:
 * removing "that" leftover would remove the entry's files). */
static int is_complete(struct tz_store *st, const char *id)
{
	int fd = open_day(st, id), rc;
	char path[TZ_ID_LEN + 16];

	if (fd < 0)
		return 0;
	g_strlcpy(path, id, sizeof(path));
	g_strlcat(path, "/meta.json", sizeof(path));
	rc = faccessat(fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	close(fd);
	return rc;
}

int tz_store_clean_tmp(struct tz_store *st, unsigned max_age)
{
	/* A fresh open, not dup(): threads must not share a directory offset. */
	int fd = openat(st->tmpfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), n = 0;
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	time_t now = time(NULL);

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat sb;
		if (!tz_id_valid(de->d_name) ||
		    fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    (max_age > 0 && now - sb.st_mtime < (time_t)max_age) ||
		    is_complete(st, de->d_name))
			continue;
		if (tzs_remove_flat_dir(dirfd(d), de->d_name) == 0)
			n++;
	}
	closedir(d);
	return n;
}
