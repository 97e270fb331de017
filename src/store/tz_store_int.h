/* tz_store_int.h — what the store's files share (tz_store.c: the
 * directory layout and the API; tz_store_group.c: commit hooks and the
 * group commit; tz_store_seg.c: entries in the segment store). Not for
 * other modules. */
#ifndef TZ_STORE_INT_H
#define TZ_STORE_INT_H

#include <pthread.h>
#include <sys/types.h>
#include "tz_ref.h"
#include "tz_segment.h"
#include "tz_store.h"

#define META_MAX (16u << 20)

struct tz_store {
	char *dir;
	int rootfd, tmpfd, entfd;
	int has_key;
	int append_only;           /* tz_store_open_appending: the segment store lists nothing */
	unsigned char key[TZ_KEY_LEN];
	struct tz_store_hook hooks[TZ_STORE_MAX_HOOKS];   /* required first (tz_store_set_hook) */
	gint hook_failures[TZ_STORE_MAX_HOOKS];   /* best-effort misses (atomic) */
	unsigned nhooks;
	struct {
		pthread_mutex_t mu;
		pthread_cond_t cv;
		GPtrArray *queue;  /* struct pending * waiting for a leader */
		int leading;       /* a leader is working on a batch */
	} grp;                     /* group commit, below */
	struct {
		pthread_mutex_t mu;
		pthread_cond_t cv;
		pthread_t th;
		pid_t pid;         /* the process it runs in, which set up mu and cv; 0: none yet */
		int stop;
		struct side *job;  /* the batch it works on, NULL when idle */
	} side;                    /* the group commit's side thread (tz_store_group.c) */
	char day_synced[9];        /* entries/<day> known durable (under grp.mu) */
	struct tz_seg *seg;        /* store/: the segment store, or NULL (tz_store_seg.c) */
	int lockdirfd;             /* store/ for entry locks, or -1 */
	struct tz_blob *blob;      /* BlobStore s3|postgresql, or NULL (tz_store_blob.c) */
	struct tz_refs *local_refs;   /* 参照番号 in QUEUE/refs (tz_ref.h) */
	struct tz_refs *refs;      /* the shared registry (StoreBackend postgresql), or NULL */
	struct tz_store_locker locker;   /* cross-host lock, or take == NULL (tz_store.h) */
	unsigned blob_puts;        /* puts at once in a commit (BlobPuts) */
};

struct stored_part {
	unsigned index;
	char sha256[65];
	uint64_t size;
};

struct tz_store_entry {
	struct tz_store *st;
	char id[TZ_ID_LEN];
	char ref[TZ_REF_LEN];      /* 参照番号, reserved in refs/ */
	int dirfd;                 /* tmp/<id> */
	int have_original;
	char orig_sha256[65];
	uint64_t orig_size;
	struct tz_seg_entry *seg;  /* written into the segment store, or NULL: tmp/<id> */
	struct tz_cfile *cur;      /* part being written by the sink (directory layout) */
	unsigned cur_index;
	int in_blob;               /* a part or the original is being written */
	int cur_hashed;            /* the segment blob takes the engine's SHA-256 at its end */
	GArray *stored;            /* struct stored_part */
	struct tz_part_sink sink;
};

/* One entry in the group commit (tz_store_group.c). */
struct pending {
	const char *id;
	int in_segment;            /* segment store: its record is written (w), not yet
				    * durable nor listed; no day directory */
	struct tz_seg_written w;
	const struct tz_meta *m;
	const struct tz_envelope *env;
	int uploaded;              /* its blobs were put (tz_store_blob.c) */
	int done;                  /* under grp.mu */
	int rc;                    /* 0, or -1 with err: not durable or not audited */
	char err[TZ_ERRLEN];
};

int tzs_fsync_dir(int fd);
/* Where this store reserves 参照番号: the shared registry, else QUEUE/refs. */
static inline struct tz_refs *tzs_refs(const struct tz_store *st)
{
	return st->refs ? st->refs : st->local_refs;
}
int tzs_open_dir_at(int at, const char *name, int create);
int tzs_remove_flat_dir(int parentfd, const char *name);   /* an entry directory */
int tzs_cmp_str(gconstpointer a, gconstpointer b);         /* for g_ptr_array_sort */
/* meta.json of the entry directory dirfd, checked to describe id. */
struct tz_meta *tzs_dir_meta(struct tz_store *st, int dirfd, const char *id, char *err, size_t errlen);
/* meta.json of an entry of this host's QuarantineDir (segment or directory
 * layout), whatever BlobStore says (queue migrate --to-blobs reads it). */
struct tz_meta *tzs_meta_local(struct tz_store *st, const char *id, char *err, size_t errlen);

/* tz_store_group.c: make p durable (day directory), run the hooks with the
 * others committing now; p->rc and p->err say how it went. */
void tzs_group_commit(struct tz_store *st, struct pending *p);
void tzs_side_stop(struct tz_store *st);   /* at tz_store_free */
void tzs_hooks_free(struct tz_store *st);

/* tz_store_seg.c: the segment store under QuarantineDir/store, when it
 * exists (or create: made). 0, or -1 with err. */
int tzs_seg_open(struct tz_store *st, int create, char *err, size_t errlen);
void tzs_seg_close(struct tz_store *st);
/* Entry writing into the segment store (e->seg set by tzs_seg_begin). */
int tzs_seg_begin(struct tz_store_entry *e, char *err, size_t errlen);
/* hashed: the caller gives the blob's SHA-256 (in sha256_hex) at its end
 * (tz_seg_blob_begin_hashed); otherwise sha256_hex receives it. */
int tzs_seg_blob_begin(struct tz_store_entry *e, const char *name, int hashed, char *err, size_t errlen);
int tzs_seg_blob_write(struct tz_store_entry *e, const void *buf, size_t len, char *err, size_t errlen);
int tzs_seg_blob_end(struct tz_store_entry *e, char *sha256_hex, int hashed, uint64_t *size,
		     char *err, size_t errlen);
int tzs_seg_commit(struct tz_store_entry *e, const struct tz_meta *m, const struct tz_envelope *env,
		   char *err, size_t errlen);
/* Committed entries: 1 when id is in the segment store. */
int tzs_seg_has(struct tz_store *st, const char *id);
int tzs_seg_list(struct tz_store *st, GPtrArray *ids);
int tzs_seg_lock(struct tz_store *st, const char *id, char *err, size_t errlen);
int tzs_seg_meta_read(struct tz_store *st, const char *id, GByteArray **ba, char *err, size_t errlen);
int tzs_seg_meta_write(struct tz_store *st, const struct tz_meta *m, char *err, size_t errlen);

/* SHA-256 (hex) of a file's plaintext, for the migrations' read-back
 * checks (tz_store_migrate.c): tzs_sha_new, the file read through
 * tzs_sha_feed (a tz_cfile_fn), then tzs_sha_done with the read's result,
 * which frees the context (NULL from tzs_sha_new: an error). */
void *tzs_sha_new(void);
int tzs_sha_feed(void *sha, const void *buf, size_t len, char *err, size_t errlen);
int tzs_sha_done(void *sha, int rc, char hex[65], char *err, size_t errlen);

/* tz_store.c: a file of an entry on this host's disk (staged or local). */
int tzs_file_read_local(struct tz_store *st, const char *id, const char *fname,
			tz_cfile_fn fn, void *ctx, char *err, size_t errlen);
/* This host's entries (directory layout and segment store), whatever
 * BlobStore says, added to ids, sorted (tz_store_toblob.c). */
int tzs_list_local(struct tz_store *st, GPtrArray *ids, char *err, size_t errlen);
/* Remove the staged copy of an entry whose blobs are committed. */
void tzs_drop_staged(struct tz_store *st, const char *id);

/* tz_store_blob.c: the store on a blob backend (st->blob != NULL). The
 * leader puts the batch's blobs before the hooks run (batch) and deletes
 * those of entries that failed after all (settle). */
struct tz_blob;
void tzs_blob_batch(struct tz_store *st, struct pending **b, unsigned n);
void tzs_blob_settle(struct tz_store *st, struct pending **b, unsigned n);
int tzs_blob_file_read(struct tz_store *st, const char *id, const char *fname,
		       tz_cfile_fn fn, void *ctx, char *err, size_t errlen);
int tzs_blob_meta_read(struct tz_store *st, const char *id, GByteArray **ba, char *err, size_t errlen);
int tzs_blob_meta_write(struct tz_store *st, const struct tz_meta *m, char *err, size_t errlen);
int tzs_blob_file_put(struct tz_store *st, const char *id, const char *fname, int srcfd,
		      char *sha256_hex, uint64_t *size, char *err, size_t errlen);
int tzs_blob_remove(struct tz_store *st, const char *id, char *err, size_t errlen);
/* The names of m's files other than meta.json, as a commit puts them. */
GPtrArray *tzs_blob_entry_names(const struct tz_meta *m);
/* Put the local file id/fname (staged or of the local layouts) sealed. */
int tzs_blob_put_local(struct tz_store *st, const char *id, const char *fname, char *err, size_t errlen);
int tzs_blob_list(struct tz_store *st, GPtrArray *ids, char *err, size_t errlen);
int tzs_blob_lock(struct tz_store *st, const char *id, char *err, size_t errlen);

#endif
