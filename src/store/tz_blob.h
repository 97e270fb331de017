/* tz_blob.h — the blob backend: where the quarantine's files (original,
 * stripped parts, sanitized files, meta.json) live when every gateway must
 * reach them (BlobStore s3|postgresql; docs/cluster.md "Shared blobs").
 *
 * A blob is named by its entry id and file name ("20261203.../part-001.bin")
 * and holds the file's bytes exactly as tz_crypt seals them (the same
 * format as a file of the directory layout): the key never leaves the
 * gateways and a backend only ever sees ciphertext. Blobs are written
 * whole and never changed in place: put replaces atomically (the last
 * writer wins), so a reader sees the old or the new bytes, never a mix.
 *
 * Every call is bounded (timeouts, a few retries inside the backend) and
 * returns -1 with err on any failure: the store fails closed (a commit that
 * cannot put its blobs is not acknowledged and the milter tempfails).
 *
 * BlobStore local (the default) has no tz_blob at all: QuarantineDir is
 * the truth, as before. tz_blob_dir_new is the same interface on a
 * directory, for the store's unit tests and a shared mount. */
#ifndef TZ_BLOB_H
#define TZ_BLOB_H

#include <stddef.h>
#include <stdint.h>
#include <glib.h>
#include "textize.h"

#define TZ_BLOB_ABSENT 1   /* tz_blob_get: no such blob */

struct tz_blob;

struct tz_blob_ops {
	const char *kind;          /* "s3", "postgresql", "directory" */
	/* size bytes read from fd at offset 0 (pread: the offset is not used). */
	int (*put)(struct tz_blob *b, const char *id, const char *name, int fd, uint64_t size,
		   char *err, size_t errlen);
	/* Append the blob's bytes to outfd; at most max bytes (more is an error).
	 * 0, TZ_BLOB_ABSENT, or -1. On -1 outfd may hold part of them. */
	int (*get)(struct tz_blob *b, const char *id, const char *name, int outfd, uint64_t max,
		   char *err, size_t errlen);
	/* Remove one blob; absent is success. */
	int (*del)(struct tz_blob *b, const char *id, const char *name, char *err, size_t errlen);
	/* The "id/name" of every blob (id NULL) or of id's, in no particular
	 * order, added to keys (g_free'd strings). */
	int (*list)(struct tz_blob *b, const char *id, GPtrArray *keys, char *err, size_t errlen);
	void (*free)(struct tz_blob *b);
};

struct tz_blob {
	const struct tz_blob_ops *ops;
};

static inline const char *tz_blob_kind(const struct tz_blob *b) { return b->ops->kind; }

int tz_blob_put(struct tz_blob *b, const char *id, const char *name, int fd, uint64_t size,
		char *err, size_t errlen);
int tz_blob_get(struct tz_blob *b, const char *id, const char *name, int outfd, uint64_t max,
		char *err, size_t errlen);
int tz_blob_delete(struct tz_blob *b, const char *id, const char *name, char *err, size_t errlen);
/* The names of id's blobs (caller unrefs), sorted; none is an empty array. */
int tz_blob_names(struct tz_blob *b, const char *id, GPtrArray **names, char *err, size_t errlen);
/* Entries: ids with a meta.json (complete, see tz_store_blob.c) into
 * *complete, ids with blobs but no meta.json into *partial (either may be
 * NULL); sorted, caller unrefs. */
int tz_blob_entries(struct tz_blob *b, GPtrArray **complete, GPtrArray **partial,
		    char *err, size_t errlen);
void tz_blob_free(struct tz_blob *b);   /* NULL is a no-op */

/* A blob name is safe as an object key and a file name: [A-Za-z0-9._-],
 * not starting with '.', at most 200 bytes. */
int tz_blob_name_ok(const char *name);

/* Blobs as files dir/<id>/<name> (written under a temporary name, fsynced,
 * renamed). */
struct tz_blob *tz_blob_dir_new(const char *dir, char *err, size_t errlen);

/* BlobStore postgresql: table blobs (id, name, chunk, data bytea) in the
 * shared database (DatabaseURL, schema migration 3); a put is one
 * transaction. Connects on first use and reconnects after a failure. */
struct tz_blob *tz_blob_pg_new(const char *url, char *err, size_t errlen);

/* BlobStore s3: an S3-compatible object store (tz_blob_s3.c). */
struct tz_s3_conf {
	const char *endpoint;      /* S3Endpoint: http(s)://host[:port], path-style */
	const char *bucket;        /* S3Bucket */
	const char *region;        /* S3Region, e.g. "us-east-1" */
	const char *key_file;      /* S3AccessKeyFile: access key id, secret (0600) */
	unsigned timeout_ms;       /* each request (0 = 30000) */
	unsigned retries;          /* extra tries of an idempotent request (0 = 2) */
};
struct tz_blob *tz_blob_s3_new(const struct tz_s3_conf *c, char *err, size_t errlen);

#endif
