/* tz_store_blob.c — the store on a shared blob backend (BlobStore s3 or
 * postgresql; tz_blob.h, docs/cluster.md "Shared blobs").
 *
 * With a backend set, QuarantineDir only stages an entry while it is
 * written: the group commit's leader puts every file of the batch's
 * entries (BlobPuts at once), sealed as tz_crypt seals them, then each
 * entry's meta.json once all its files are stored, before any hook
 * runs (so blobs are durable before the audit record and the index row,
 * and before the MTA hears 250); an entry whose blobs cannot all be put
 * fails (the milter tempfails) and what was put of it is deleted. Once
 * committed the staged copy is removed: the backend is the only truth, so
 * a purge or a state change made on any gateway is what every gateway
 * reads. Reads fetch into an unlinked temporary file and authenticate
 * every chunk there; nothing of another gateway's entry is cached.
 *
 * An entry is listed once its meta.json blob exists; removal deletes
 * meta.json first, so an entry cut off half-way is never listed, and its
 * leftover blobs are swept by the next purge (tz_store_blob_sweep). */
#define _GNU_SOURCE 1   /* O_TMPFILE, F_OFD_SETLKW */
#include "tz_store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tz_blob.h"
#include "tz_log.h"
#include "tz_util.h"

void tz_store_set_blobs(struct tz_store *st, struct tz_blob *b)
{
	tz_blob_free(st->blob);
	st->blob = b;
}

void tz_store_set_blob_puts(struct tz_store *st, unsigned n)
{
	st->blob_puts = n;
}

struct tz_blob *tz_store_blobs(const struct tz_store *st)
{
	return st->blob;
}

static int tmpfile_fd(struct tz_store *st, char *err, size_t errlen)
{
	int fd = openat(st->tmpfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0)
		return tz_err(err, errlen, "quarantine %s/tmp: temporary file: %s", st->dir, strerror(errno));
	return fd;
}

static int out_fd(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	if (tz_write_all(*(int *)ctx, buf, len) < 0)
		return tz_err(err, errlen, "temporary file: %s", strerror(errno));
	return 0;
}

struct seal_to {
	struct tz_sealer *s;
};

static int seal_in(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	return tz_sealer_write(((struct seal_to *)ctx)->s, buf, len, err, errlen);
}

/* Seal what fill() writes into a temporary file and put it as id/name. */
static int put_sealed(struct tz_store *st, const char *id, const char *name,
		      int (*fill)(void *fctx, tz_cfile_fn fn, void *ctx, char *err, size_t errlen),
		      void *fctx, char *sha256_hex, uint64_t *psize, char *err, size_t errlen)
{
	struct seal_to to = { NULL };
	unsigned char sha[32];
	uint64_t plain = 0;
	struct stat sb;
	int fd = tmpfile_fd(st, err, errlen), rc = -1;

	if (fd < 0)
		return -1;
	to.s = tz_sealer_new(tz_store_key(st), id, name, name, out_fd, &fd, err, errlen);
	if (to.s == NULL || fill(fctx, seal_in, &to, err, errlen) < 0 ||
	    tz_sealer_finish(to.s, sha, &plain, err, errlen) < 0)
		goto out;
	if (fstat(fd, &sb) < 0) {
		tz_err(err, errlen, "temporary file: %s", strerror(errno));
		goto out;
	}
	if (tz_blob_put(st->blob, id, name, fd, (uint64_t)sb.st_size, err, errlen) < 0)
		goto out;
	if (sha256_hex)
		tz_hex(sha, sizeof(sha), sha256_hex);
	if (psize)
		*psize = plain;
	rc = 0;
out:
	tz_sealer_free(to.s);
	close(fd);
	return rc;
}

/* fill() sources: a file of the staged entry, a buffer, a descriptor. */
struct local_file {
	struct tz_store *st;
	const char *id, *name;
};

static int fill_local(void *fctx, tz_cfile_fn fn, void *ctx, char *err, size_t errlen)
{
	const struct local_file *lf = fctx;

	return tzs_file_read_local(lf->st, lf->id, lf->name, fn, ctx, err, errlen);
}

struct buffer {
	const char *p;
	size_t len;
};

static int fill_buffer(void *fctx, tz_cfile_fn fn, void *ctx, char *err, size_t errlen)
{
	const struct buffer *b = fctx;

	return fn(ctx, b->p, b->len, err, errlen);
}

static int fill_fd(void *fctx, tz_cfile_fn fn, void *ctx, char *err, size_t errlen)
{
	char *buf = g_malloc(TZ_CRYPT_CHUNK);
	int fd = *(int *)fctx, rc = 0;
	ssize_t n;

	while (rc == 0 && (n = read(fd, buf, TZ_CRYPT_CHUNK)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		rc = n < 0 ? tz_err(err, errlen, "read: %s", strerror(errno))
			   : fn(ctx, buf, (size_t)n, err, errlen);
	}
	g_free(buf);
	return rc;
}

int tzs_blob_put_local(struct tz_store *st, const char *id, const char *fname, char *err, size_t errlen)
{
	struct local_file lf = { st, id, fname };

	return put_sealed(st, id, fname, fill_local, &lf, NULL, NULL, err, errlen);
}

static int put_meta(struct tz_store *st, const struct tz_meta *m, char *err, size_t errlen)
{
	char *json = tz_meta_to_json(m);
	struct buffer b = { json, strlen(json) };
	int rc = put_sealed(st, m->id, "meta.json", fill_buffer, &b, NULL, NULL, err, errlen);

	g_free(json);
	return rc;
}

GPtrArray *tzs_blob_entry_names(const struct tz_meta *m)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);

	g_ptr_array_add(names, g_strdup("original.eml"));
	for (guint i = 0; i < m->parts->len; i++) {
		const struct tz_meta_part *p = g_ptr_array_index(m->parts, i);
		if (p->file)
			g_ptr_array_add(names, g_strdup(p->file));
		if (p->sanitized_file)
			g_ptr_array_add(names, g_strdup(p->sanitized_file));
	}
	return names;
}

/* One put of a commit: a file of the staged entry, or (name NULL) the
 * entry's meta.json. */
struct put_job {
	struct tz_store *st;
	struct pending *p;
	char *name;
	int rc;
	char err[TZ_ERRLEN];
};

static void put_job_run(gpointer data, gpointer unused)
{
	struct put_job *j = data;

	(void)unused;
	j->rc = j->name ? tzs_blob_put_local(j->st, j->p->id, j->name, j->err, sizeof(j->err))
			: put_meta(j->st, j->p->m, j->err, sizeof(j->err));
}

static void put_job_free(gpointer data)
{
	struct put_job *j = data;

	g_free(j->name);
	g_free(j);
}

/* Run every job, at most st->blob_puts at once, and return when all are
 * done (GLib's shared threads: none is started for a single job). */
static void run_jobs(struct tz_store *st, GPtrArray *jobs)
{
	GThreadPool *pool = NULL;

	if (st->blob_puts > 1 && jobs->len > 1)
		pool = g_thread_pool_new(put_job_run, NULL, (gint)MIN(st->blob_puts, jobs->len), FALSE, NULL);
	for (guint i = 0; i < jobs->len; i++)
		if (pool == NULL || !g_thread_pool_push(pool, g_ptr_array_index(jobs, i), NULL))
			put_job_run(g_ptr_array_index(jobs, i), NULL);
	if (pool)
		g_thread_pool_free(pool, FALSE, TRUE);
}

/* An entry whose put failed is not committed (the first reason kept). */
static void mark_failed(struct tz_store *st, GPtrArray *jobs)
{
	for (guint i = 0; i < jobs->len; i++) {
		struct put_job *j = g_ptr_array_index(jobs, i);
		if (j->rc == 0 || j->p->rc < 0)
			continue;
		j->p->rc = tz_err(j->p->err, sizeof(j->p->err), "quarantine %s: blob store (%s): %s",
				  j->p->id, tz_blob_kind(st->blob), j->err);
	}
}

/* The batch's blobs: first every file of every entry, concurrently; then
 * the meta.json of each entry all of whose files are durable, also
 * concurrently. An entry with a failed put fails (the milter tempfails)
 * and what was put of it is deleted again. */
void tzs_blob_batch(struct tz_store *st, struct pending **b, unsigned n)
{
	GPtrArray *files = g_ptr_array_new_with_free_func(put_job_free);
	GPtrArray *metas = g_ptr_array_new_with_free_func(put_job_free);

	for (unsigned i = 0; st->blob && i < n; i++) {
		GPtrArray *names;
		if (b[i]->rc < 0)
			continue;
		names = tzs_blob_entry_names(b[i]->m);
		for (guint k = 0; k < names->len; k++) {
			struct put_job *j = g_new0(struct put_job, 1);
			j->st = st;
			j->p = b[i];
			j->name = g_strdup(g_ptr_array_index(names, k));
			g_ptr_array_add(files, j);
		}
		g_ptr_array_unref(names);
		b[i]->uploaded = 1;   /* from now on a failure deletes its blobs */
	}
	run_jobs(st, files);
	mark_failed(st, files);
	for (unsigned i = 0; st->blob && i < n; i++) {
		struct put_job *j;
		if (b[i]->rc < 0 || !b[i]->uploaded)
			continue;
		j = g_new0(struct put_job, 1);
		j->st = st;
		j->p = b[i];
		g_ptr_array_add(metas, j);
	}
	run_jobs(st, metas);
	mark_failed(st, metas);
	for (unsigned i = 0; st->blob && i < n; i++)
		if (b[i]->rc < 0 && b[i]->uploaded) {
			tzs_blob_remove(st, b[i]->id, NULL, 0);
			b[i]->uploaded = 0;
		}
	g_ptr_array_unref(files);
	g_ptr_array_unref(metas);
}

void tzs_blob_settle(struct tz_store *st, struct pending **b, unsigned n)
{
	for (unsigned i = 0; st->blob && i < n; i++) {
		char why[TZ_ERRLEN];
		if (b[i]->rc < 0 && b[i]->uploaded &&
		    tzs_blob_remove(st, b[i]->id, why, sizeof(why)) < 0)
			tz_log(LOG_ERR, b[i]->env ? b[i]->env->queue_id : NULL,
			       "quarantine %s: not committed, but its blobs stay (%s); the next"
			       " queue purge removes them", b[i]->id, why);
	}
}

/* ---- reading and changing committed entries ---- */

/* Fetch id/name into an unlinked temporary file: its fd (size in *size),
 * TZ_BLOB_ABSENT-as-(-2), or -1. */
static int fetch(struct tz_store *st, const char *id, const char *name, uint64_t *size,
		 char *err, size_t errlen)
{
	int fd = tmpfile_fd(st, err, errlen), rc;
	struct stat sb;

	if (fd < 0)
		return -1;
	/* a part is at most the largest message (plus its sealing) */
	rc = tz_blob_get(st->blob, id, name, fd, (uint64_t)1 << 36, err, errlen);
	if (rc == 0 && fstat(fd, &sb) == 0) {
		*size = (uint64_t)sb.st_size;
		return fd;
	}
	close(fd);
	if (rc == TZ_BLOB_ABSENT)
		return -2;
	return rc == 0 ? tz_err(err, errlen, "temporary file: %s", strerror(errno)) : -1;
}

static int unseal_fd(struct tz_store *st, int fd, uint64_t size, const char *id, const char *name,
		     tz_cfile_fn fn, void *ctx, char *err, size_t errlen)
{
	char what[TZ_ID_LEN + 256];

	snprintf(what, sizeof(what), "quarantine %s/%s", id, name);
	if (tz_store_key(st))
		return tz_unseal_range(fd, 0, size, tz_store_key(st), id, name, what, fn, ctx, err, errlen);
	if (lseek(fd, 0, SEEK_SET) < 0)
		return tz_err(err, errlen, "%s: %s", what, strerror(errno));
	return fill_fd(&fd, fn, ctx, err, errlen);
}

int tzs_blob_file_read(struct tz_store *st, const char *id, const char *fname,
		       tz_cfile_fn fn, void *ctx, char *err, size_t errlen)
{
	uint64_t size = 0;
	int fd, rc;

	if (!tz_blob_name_ok(fname))
		return tz_err(err, errlen, "bad file name %s", fname);
	fd = fetch(st, id, fname, &size, err, errlen);
	if (fd == -2)
		return tz_err(err, errlen, "quarantine %s: no file %s", id, fname);
	if (fd < 0)
		return -1;
	rc = unseal_fd(st, fd, size, id, fname, fn, ctx, err, errlen);
	close(fd);
	return rc;
}

static int collect(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	GByteArray *ba = ctx;

	if (ba->len + len > META_MAX)
		return tz_err(err, errlen, "meta.json: more than %u bytes", META_MAX);
	g_byte_array_append(ba, buf, (guint)len);
	return 0;
}

int tzs_blob_meta_read(struct tz_store *st, const char *id, GByteArray **ba, char *err, size_t errlen)
{
	uint64_t size = 0;
	int fd = fetch(st, id, "meta.json", &size, err, errlen), rc;

	if (fd == -2)
		return tz_err(err, errlen, "no quarantine entry %s", id);
	if (fd < 0)
		return -1;
	*ba = g_byte_array_new();
	rc = unseal_fd(st, fd, size, id, "meta.json", collect, *ba, err, errlen);
	close(fd);
	return rc;
}

int tzs_blob_meta_write(struct tz_store *st, const struct tz_meta *m, char *err, size_t errlen)
{
	return put_meta(st, m, err, errlen);
}

int tzs_blob_file_put(struct tz_store *st, const char *id, const char *fname, int srcfd,
		      char *sha256_hex, uint64_t *size, char *err, size_t errlen)
{
	GPtrArray *names;
	gboolean exists = FALSE;

	if (!tz_blob_name_ok(fname) || strcmp(fname, "meta.json") == 0)
		return tz_err(err, errlen, "bad file name %s", fname);
	if (tz_blob_names(st->blob, id, &names, err, errlen) < 0) {
		g_ptr_array_unref(names);
		return -1;
	}
	for (guint i = 0; i < names->len; i++)
		exists |= strcmp(g_ptr_array_index(names, i), fname) == 0;
	g_ptr_array_unref(names);
	if (exists)
		return tz_err(err, errlen, "%s: cannot put in place (exists)", fname);
	return put_sealed(st, id, fname, fill_fd, &srcfd, sha256_hex, size, err, errlen);
}

/* meta.json first: from then on the entry is not listed, whatever of it
 * is left. */
int tzs_blob_remove(struct tz_store *st, const char *id, char *err, size_t errlen)
{
	GPtrArray *names;
	int rc = tz_blob_delete(st->blob, id, "meta.json", err, errlen);

	if (rc < 0)
		return -1;
	if (tz_blob_names(st->blob, id, &names, err, errlen) < 0)
		rc = -1;
	for (guint i = 0; rc == 0 && i < names->len; i++)
		rc = tz_blob_delete(st->blob, id, g_ptr_array_index(names, i), err, errlen);
	g_ptr_array_unref(names);
	return rc;
}

int tzs_blob_list(struct tz_store *st, GPtrArray *ids, char *err, size_t errlen)
{
	GPtrArray *complete;

	if (tz_blob_entries(st->blob, &complete, NULL, err, errlen) < 0)
		return -1;
	for (guint i = 0; i < complete->len; i++)
		g_ptr_array_add(ids, g_strdup(g_ptr_array_index(complete, i)));
	g_ptr_array_unref(complete);
	return 0;
}

/* The read-modify-write lock of meta.json: an OFD lock on one byte (by
 * the id's hash) of QuarantineDir/blob.locks, between the threads and
 * processes of this host. Gateways do not lock each other: what must
 * happen once across hosts (a release) is claimed in the database. */
int tzs_blob_lock(struct tz_store *st, const char *id, char *err, size_t errlen)
{
	int fd = openat(st->rootfd, "blob.locks", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 1 };

	if (fd < 0)
		return tz_err(err, errlen, "quarantine %s/blob.locks: %s", st->dir, strerror(errno));
	fl.l_start = (off_t)(g_str_hash(id) % 65521u);
	while (fcntl(fd, F_OFD_SETLKW, &fl) < 0) {
		if (errno != EINTR) {
			close(fd);
			return tz_err(err, errlen, "quarantine %s: lock: %s", id, strerror(errno));
		}
	}
	return fd;
}

int tz_store_blob_sweep(struct tz_store *st, const char *day, unsigned *removed,
			char *err, size_t errlen)
{
	GPtrArray *partial;
	int rc = 0;

	*removed = 0;
	if (st->blob == NULL)
		return 0;
	if (tz_blob_entries(st->blob, NULL, &partial, err, errlen) < 0)
		return -1;
	for (guint i = 0; rc == 0 && i < partial->len; i++) {
		const char *id = g_ptr_array_index(partial, i);
		if (strncmp(id, day, 8) > 0)   /* may be an entry being put right now */
			continue;
		rc = tzs_blob_remove(st, id, err, errlen);
		if (rc == 0)
			(*removed)++;
	}
	g_ptr_array_unref(partial);
	return rc;
}
