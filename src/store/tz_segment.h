/* tz_segment.h — the quarantine's append-only segment store (the store
 * format chosen for issue 16; docs/quarantine.md "Store format"), used by
 * tz_store.c for a quarantine that has a store/ directory.
 *
 * A directory of segment files NNNNNNNN.tzs. Every entry is ONE record
 * appended to the newest segment; concurrent commits share one fdatasync
 * (group commit), so an entry costs no new inode and ~1/batch fsyncs.
 *
 * Record (little-endian):
 *   header 128 bytes  "TZSG" | version 1 | kind | nblobs (u16) | dir_len (u32)
 *                     | flags (u32: 1 = encrypted, 2 = GMAC checksum) | payload_len
 *                     (u64) | time (u64, epoch s, when written) | id (40, NUL
 *                     padded) | payload checksum (32) | stored time of a compacted
 *                     entry (u64, else 0) | 16 zero bytes
 *   directory         per blob: name length (u8) | name | offset in payload (u64)
 *                     | stored length (u64) | plain length (u64) | SHA-256 of the
 *                     plaintext (32)
 *   payload           the blobs, each plain or in tz_crypt's file format
 *                     (header + 64 KB AES-256-GCM chunks bound to id and name)
 *   trailer 32 bytes  SHA-256 of header | directory
 * The payload checksum finds a torn record; it authenticates nothing (the
 * blobs' GCM tags and plaintext SHA-256 do). Flag 2 (everything written
 * now): the GMAC of AES-256-GCM under an all-zero key and IV, 16 bytes,
 * then 16 zero bytes (tz_segsum.c; 4.9x SHA-256's speed); without it
 * (records written before): SHA-256. A flag, not a version byte, so that
 * a binary from before skips such a record in the newest segment instead
 * of cutting the segment off there (docs/quarantine.md "Store format").
 * Kinds: 1 entry (a new entry: original, parts, meta), 2 add (blobs added to
 * or replacing those of an existing entry: a new meta.json, a sanitized
 * copy; the newest record wins per name), 3 delete (a tombstone).
 *
 * Crash safety: appends are serialised (a mutex and flock(LOCK) across
 * processes) and a commit returns only after an fdatasync that followed
 * its complete write, so everything acknowledged lies in a valid prefix of
 * the newest segment; opening the store for writing truncates a torn tail
 * (a record whose checksums fail). A failed write is cut off again at once.
 *
 * Thread safety: one struct tz_seg is shared by all threads; each
 * tz_seg_entry belongs to one thread. */
#ifndef TZ_SEGMENT_H
#define TZ_SEGMENT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <glib.h>
#include "tz_crypt.h"

struct tz_seg;
struct tz_seg_entry;

struct tz_seg_opts {
	const unsigned char *key;   /* TZ_KEY_LEN bytes, or NULL: blobs plain */
	uint64_t max_segment;       /* roll to a new segment at this size (0: 256 MB) */
	int readonly;               /* never writes, never repairs */
	int append_only;            /* a process that only adds entries (the
				     * milter): no index of entries is kept, so
				     * its memory does not grow with the store;
				     * it lists nothing (below) */
};

/* Open (creating when writable) the store in dir; scans the segments,
 * repairing a torn tail of the newest one. Caller tz_seg_free()s.
 * append_only: only the newest segment is scanned (to repair it and to
 * append behind it); entries are written, committed and tombstoned
 * (tz_seg_tombstone) as usual, but the store lists none: tz_seg_has and
 * tz_seg_has_blob answer 0, and reading, listing, verifying, adding blobs
 * and purging fail with an error. */
struct tz_seg *tz_seg_open(const char *dir, const struct tz_seg_opts *o, char *err, size_t errlen);
void tz_seg_free(struct tz_seg *s);

/* ---- writing ---- */

/* Start an entry with this id (tz_id_valid). Blobs are staged in memory up
 * to 1 MB, beyond that in an unnamed temporary file. */
struct tz_seg_entry *tz_seg_entry_begin(struct tz_seg *s, const char *id, char *err, size_t errlen);
/* A blob in pieces: begin, write..., end. name: [A-Za-z0-9._-], 1..64. */
int tz_seg_blob_begin(struct tz_seg_entry *e, const char *name, char *err, size_t errlen);
int tz_seg_blob_write(struct tz_seg_entry *e, const void *buf, size_t len, char *err, size_t errlen);
/* sha256_hex (65 bytes) and size, when not NULL, receive the plaintext's. */
int tz_seg_blob_end(struct tz_seg_entry *e, char *sha256_hex, uint64_t *size, char *err, size_t errlen);
/* A blob whose SHA-256 the caller computes over exactly the bytes it writes
 * (the engine's, taken while decoding a part) and gives at the end, as 64
 * hex digits: the bytes are not hashed a second time here. */
int tz_seg_blob_begin_hashed(struct tz_seg_entry *e, const char *name, char *err, size_t errlen);
int tz_seg_blob_end_hashed(struct tz_seg_entry *e, const char *sha256_hex, uint64_t *size,
			   char *err, size_t errlen);
/* A whole blob at once. */
int tz_seg_entry_add(struct tz_seg_entry *e, const char *name, const void *buf, size_t len,
		     char *err, size_t errlen);
/* Append the entry and return once it is on stable storage (0), together
 * with the entries other threads commit meanwhile; -1 with err: nothing of
 * it is listed. Frees e either way. */
int tz_seg_entry_commit(struct tz_seg_entry *e, char *err, size_t errlen);
/* The same in three steps, for a caller that overlaps the sync with work
 * of its own (the store's group commit: the audit log's fdatasync):
 * tz_seg_entry_write appends the record complete but neither durable nor
 * listed (frees e either way); tz_seg_sync makes every record appended so
 * far durable (shared with the other committers, as above; -1: the store
 * is broken until opened again); tz_seg_publish lists a record written
 * before a tz_seg_sync that returned 0. */
struct tz_seg_written {
	unsigned fno;
	uint64_t off, len;
};
int tz_seg_entry_write(struct tz_seg_entry *e, struct tz_seg_written *w, char *err, size_t errlen);
int tz_seg_sync(struct tz_seg *s, char *err, size_t errlen);
void tz_seg_publish(struct tz_seg *s, const struct tz_seg_written *w);
void tz_seg_entry_abort(struct tz_seg_entry *e);
/* Add (or replace) one blob of a committed entry, durably. */
int tz_seg_put(struct tz_seg *s, const char *id, const char *name, const void *buf, size_t len,
	       char *err, size_t errlen);
/* Add a blob read from srcfd (to its end) to a committed entry, durably,
 * streaming (a 50 MB sanitized copy is never held in memory); fails when
 * the entry already has a blob of that name. sha256_hex/size may be NULL. */
int tz_seg_put_fd(struct tz_seg *s, const char *id, const char *name, int srcfd,
		  char *sha256_hex, uint64_t *size, char *err, size_t errlen);
/* The stored time of an entry being written (migration keeps the old
 * entry's); default: now. */
void tz_seg_entry_set_stored(struct tz_seg_entry *e, time_t stored);
/* Tombstone an entry, durably; its bytes go at the next purge. */
int tz_seg_delete(struct tz_seg *s, const char *id, char *err, size_t errlen);
/* The same without asking whether the entry is listed, for the process
 * that committed it (one opened append_only lists nothing): a tombstone
 * of an id that is not live changes nothing for a reader. */
int tz_seg_tombstone(struct tz_seg *s, const char *id, char *err, size_t errlen);

/* ---- reading ---- */

/* Pass the verified plaintext of blob name of entry id to fn (tz_crypt.h:
 * fn may have had earlier authentic chunks when a later one fails). */
int tz_seg_read(struct tz_seg *s, const char *id, const char *name, tz_cfile_fn fn, void *ctx,
		char *err, size_t errlen);
/* Every blob of every listed entry, verified; counts and the first
 * failure in err. 0 when all verify. */
int tz_seg_verify(struct tz_seg *s, unsigned *entries, unsigned *bad, char *err, size_t errlen);

struct tz_seg_info {
	const char *id;
	time_t stored;
	guint nblobs;
	const char *const *names;   /* nblobs names */
};
/* Call fn for each live entry in id order (reindex, recovery, list); the
 * view is refreshed first (records other processes appended). A non-zero
 * return of fn stops and is returned. */
int tz_seg_foreach(struct tz_seg *s, int (*fn)(void *ctx, const struct tz_seg_info *i), void *ctx);
/* 1 when a live entry has this id (and, name not NULL, a blob of it). */
int tz_seg_has(struct tz_seg *s, const char *id);
int tz_seg_has_blob(struct tz_seg *s, const char *id, const char *name);
/* held[i] = whether a live entry has ids[i], for n ids at once; also in a
 * store opened append_only (its segments are read for these ids alone,
 * memory for them only). 0, or -1 with err. */
int tz_seg_has_among(struct tz_seg *s, const char *const *ids, unsigned n, int *held,
		     char *err, size_t errlen);

/* ---- retention ---- */

struct tz_seg_purge_stats {
	unsigned expired;         /* entries stored before the cutoff, now gone */
	unsigned dropped;         /* segments unlinked whole */
	unsigned compacted;       /* segments rewritten (their live records re-appended) */
	uint64_t freed;           /* bytes */
};
/* Forget entries stored before cutoff; drop segments with nothing live,
 * compact older segments less than half live. */
int tz_seg_purge(struct tz_seg *s, time_t cutoff, struct tz_seg_purge_stats *st,
		 char *err, size_t errlen);

/* Tests: TZ_SEG_CRASH_STEP=N or N/K in the environment (read at open)
 * makes step N of a commit _exit(9) once K commits are durable: 1 staged,
 * 2 locked, 3 header written, 4 half the payload written, 5 written but
 * not synced, 6 synced but not yet returned. */
#define TZ_SEG_CRASH_STEPS 6

#endif
