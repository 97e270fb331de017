/* tz_store.h — the sanitization queue on disk: one entry per text-ized
 * message (original, every stripped part, metadata JSON), written
 * atomically and durably (fsync) before the milter accepts the message.
 *
 * Two layouts, read both: when QuarantineDir/store/ exists (StoreFormat
 * segment, or `textizectl queue migrate`), new entries are one record each
 * in the segment store there (tz_segment.h, docs/quarantine.md "Store
 * format"); entries still in the directory layout below are read, changed
 * and removed where they are until migrated. The API is the same for both.
 *
 * Directory layout under the queue directory (dirs 0700, files 0600):
 *   tmp/<id>/                      entries being written; never listed
 *   entries/<YYYYMMDD>/<id>/       complete entries (renamed from tmp/)
 *     meta.json                    tz_meta (envelope, message, parts + states)
 *     original.eml                 the message exactly as received
 *     part-001.bin ...             decoded stripped parts, named by index only
 *     part-001.sanitized.bin       CDR output when SanitizerCommand made one
 * Every file goes through tz_crypt (AES-256-GCM when a key is set). */
#ifndef TZ_STORE_H
#define TZ_STORE_H

#include <time.h>
#include <gmime/gmime.h>
#include "textize.h"
#include "tz_engine.h"
#include "tz_envelope.h"
#include "tz_crypt.h"
#include "tz_meta.h"

struct tz_store;          /* an open queue directory; thread-safe */
struct tz_store_entry;    /* one entry being written; used by one thread */

/* Open (creating with mode 0700 if needed) the queue directory. key_file may
 * be NULL (no encryption). NULL + err on failure. */
struct tz_store *tz_store_open(const char *dir, const char *key_file,
			       char *err, size_t errlen);
/* The same for a process that only adds entries (the milter): the segment
 * store then keeps no index of the entries it holds, so the process's
 * memory does not grow with the quarantine (docs/performance.md, issue 16
 * eighth pass). Entries are committed (and withdrawn when a required hook
 * fails) as with tz_store_open; an entry of the segment store cannot be
 * read, listed, changed or purged through it (an error), and
 * tz_store_has does not see one (tz_store_has_among does). Not for a
 * store given a BlobStore (tz_store_set_blobs): its commit reads the
 * staged copies back to put them. */
struct tz_store *tz_store_open_appending(const char *dir, const char *key_file,
					 char *err, size_t errlen);
void tz_store_free(struct tz_store *st);   /* NULL is a no-op */

/* Write new entries into the segment store QuarantineDir/store/, creating
 * it (StoreFormat segment; queue migrate). 0 or -1 with err. */
int tz_store_use_segments(struct tz_store *st, char *err, size_t errlen);
int tz_store_segmented(const struct tz_store *st);   /* 1: store/ is in use */
/* Reclaim the space of removed entries in the segment store (drop dead
 * segments, compact mostly-dead ones); *freed bytes. No-op without it. */
int tz_store_compact(struct tz_store *st, uint64_t *freed, char *err, size_t errlen);

/* `textizectl queue migrate`: move every entry of the directory layout
 * into the segment store (creating it), oldest first; each one copied,
 * every file read back and compared, then its directory removed.
 * Idempotent and resumable (tz_store_migrate.c). dry_run: only count. */
struct tz_store_migration {
	void (*done)(void *ctx, const char *id, int resumed);   /* per entry; may be NULL */
	void *ctx;
	unsigned copied;           /* copied, verified, directory removed */
	unsigned resumed;          /* copied by a run cut off: verified, removed */
	unsigned pending;          /* still in the directory layout */
};
int tz_store_migrate(struct tz_store *st, int dry_run, struct tz_store_migration *mg,
		     char *err, size_t errlen);

/* `queue migrate --to-blobs`: every entry of this host's QuarantineDir
 * (either layout) put into the blob store st is attached to, sealed alike,
 * each file read back and compared, meta.json last; entries already in the
 * store are only compared. The local copy is removed after that only with
 * remove_local. Idempotent and resumable (tz_store_toblob.c); dry_run:
 * only count. Stop this host's milter first: it stages entries there. */
#define TZ_TOBLOB_COPIED 1
#define TZ_TOBLOB_PRESENT 2
struct tz_store_toblob {
	/* Before an entry is listed from the store (TZ_TOBLOB_COPIED) or its
	 * local copy removed (TZ_TOBLOB_PRESENT): the audit record; -1 with
	 * err stops the run there. May be NULL. */
	int (*done)(void *ctx, const char *id, int how, char *err, size_t errlen);
	void *ctx;
	unsigned local;            /* entries found in QuarantineDir */
	unsigned copied;           /* put, read back, meta.json put */
	unsigned present;          /* in the store before (an earlier run): compared */
	unsigned pending;          /* not in the store yet */
	unsigned kept;             /* local copies left in place (no remove_local) */
};
int tz_store_to_blobs(struct tz_store *st, int dry_run, int remove_local,
		      struct tz_store_toblob *mg, char *err, size_t errlen);

/* Start a new entry with a fresh id (tz_id_new), in a temporary place that
 * never reads as complete. */
struct tz_store_entry *tz_store_entry_begin(struct tz_store *st, char *err, size_t errlen);
const char *tz_store_entry_id(const struct tz_store_entry *e);
/* The entry's 参照番号 ("1202-4F7K", tz_ref.h), for the notice and staff. */
const char *tz_store_entry_ref(const struct tz_store_entry *e);
/* What a person typed — a long id or a 参照番号, each optionally with
 * "#PART" — to the long id (*part = PART or 0). 0, or -1 with err (no
 * such entry, or a code naming two), or -2 with err (the registry could
 * not be read: the shared database did not answer). */
int tz_store_resolve(struct tz_store *st, const char *arg, char id[TZ_ID_LEN], unsigned *part,
		     char *err, size_t errlen);
/* Drop the 参照番号 reservations of days before cutoff (queue purge): in
 * QUEUE/refs and, when set, in the shared registry. Days dropped (the
 * larger count), or -1 with err (the database did not answer). */
int tz_store_purge_refs(struct tz_store *st, time_t cutoff, char *err, size_t errlen);
/* The 参照番号 registry shared by a cluster's gateways (StoreBackend
 * postgresql, set by the runtime: tz_blobcfg_attach); the store owns it.
 * With one, codes are reserved there only (never in QUEUE/refs, even
 * when it does not answer: the entry fails) and looked up there and in
 * QUEUE/refs (codes from before the switch). NULL: QUEUE/refs only. */
struct tz_refs;
void tz_store_set_refs(struct tz_store *st, struct tz_refs *refs);

/* Store the complete original message as received, read from `original`
 * from its current position to the end. */
int tz_store_entry_put_original(struct tz_store_entry *e, GMimeStream *original,
				char *err, size_t errlen);

/* A sink for tz_engine_convert that writes every stripped part into the
 * entry (valid while the entry lives). */
const struct tz_part_sink *tz_store_entry_sink(struct tz_store_entry *e);

/* Write the metadata (envelope + result), fsync everything, and move the
 * entry into place: after 0 it is complete and durable. The entry is freed
 * whatever the outcome. */
int tz_store_entry_commit(struct tz_store_entry *e, const struct tz_envelope *env,
			  const struct tz_result *res, char *err, size_t errlen);

/* Throw away an uncommitted entry and free it. NULL is a no-op. */
void tz_store_entry_abort(struct tz_store_entry *e);

/* ---- commit hooks (register before the store is shared between threads) ----
 *
 * The store knows only itself: the logs and caches beside it (the audit
 * log, the index, a database backend) are hooks the runtime registers.
 * Hooks run in the group commit's leader, once per batch of entries that
 * are durable on disk, required hooks first, each in registration order:
 *   TZ_STORE_HOOK_REQUIRED     the record must exist before the MTA hears
 *                              250 (the audit record): a failure fails every
 *                              commit of the batch; their entries are rolled
 *                              back (not listed) and the milter tempfails.
 *   TZ_STORE_HOOK_BEST_EFFORT  derived data (the index): a failure is logged
 *                              at LOG_ERR per entry ("quarantine ID: stored,
 *                              but MISSED: WHY; REMEDY") and counted; the
 *                              entries stand.
 * Best-effort hooks run on a thread of their own while the required ones
 * run (the index's transaction overlaps the audit log's fdatasync); both
 * are done before any commit of the batch returns. So a best-effort hook
 * sees every entry durable in the store, including one a required hook
 * then rejects: that entry is withdrawn from the store (never listed), and
 * what the hook derived from it goes at its catch-up (tz_index_sync drops
 * index rows of entries not in the store).
 * On the segment store the segment's fdatasync runs on a thread of its own
 * while the hooks run, when every required hook has an undo (the file
 * audit log: its fdatasync and the segment's are then paid once, side by
 * side, not in series); otherwise the segment is synced before any hook
 * runs. A hook beside the sync sees entries written but maybe not yet
 * durable: when the sync fails, the commits fail and undo is called on
 * the entries the hook took (the audit log: a `withdrawn` record each);
 * a crash between the two is repaired when the hook is set again
 * (tz_store_set_audit: a `stored` record whose entry is not in the store
 * gets its `withdrawn` record). The best-effort hooks then run in the
 * leader after the required ones, beside the sync rather than after it:
 * they may see an entry that is not durable yet, and one whose sync fails
 * (or that a power loss takes) is never listed, so what they derived from
 * it goes at their catch-up, as for one a required hook rejects. The side
 * thread lives as long as the store (one per process that commits).
 * tz_store_link.h builds the audit and index hooks. */
struct tz_store_committed {
	const struct tz_meta *meta;        /* as written into the entry */
	const struct tz_envelope *env;     /* the message's (queue id for logs); may be NULL */
};

enum tz_store_hook_kind {
	TZ_STORE_HOOK_REQUIRED,
	TZ_STORE_HOOK_BEST_EFFORT,
};

#define TZ_STORE_MAX_HOOKS 8

struct tz_store_hook {
	const char *name;                  /* static; one hook per name */
	enum tz_store_hook_kind kind;
	/* The batch c[0..n), n >= 1, oldest first; called by one thread at a
	 * time per store and hook kind (the leader, or its side thread for
	 * best-effort hooks). 0, or -1 with err. */
	int (*run)(void *ctx, const struct tz_store_committed *c, size_t n,
		   char *err, size_t errlen);
	void (*free)(void *ctx);           /* may be NULL; run by tz_store_free or on replace */
	void *ctx;
	const char *missed;                /* best effort: "not added to the index" */
	const char *remedy;                /* best effort: what repairs it, for the log */
	/* Required hooks, may be NULL: undo what run recorded for c[0..n),
	 * entries whose segment sync then failed (see above). */
	int (*undo)(void *ctx, const struct tz_store_committed *c, size_t n,
		    char *err, size_t errlen);
};

/* Register *h (copied), replacing (and freeing) a hook of the same name;
 * h->run == NULL only removes it. -1 when TZ_STORE_MAX_HOOKS are in use
 * (h->ctx is then freed). */
int tz_store_set_hook(struct tz_store *st, const struct tz_store_hook *h);

/* Committed entries the best-effort hook `name` failed on, since it was
 * registered (0 for an unknown name). */
unsigned tz_store_hook_failures(struct tz_store *st, const char *name);

/* ---- shared blobs (BlobStore s3|postgresql; tz_store_blob.c) ----
 * With a blob backend (owned by the store from here on; NULL = none, the
 * files under QuarantineDir are the truth) every commit puts the entry's
 * files there before any hook runs, and fails when it cannot; every read,
 * change and removal below goes to the backend, so all gateways sharing
 * it see one queue. Set before the store is shared between threads. */
struct tz_blob;
void tz_store_set_blobs(struct tz_store *st, struct tz_blob *b);
/* How many puts a commit runs at once on the blob store (0 or 1: one
 * after another; BlobPuts). */
void tz_store_set_blob_puts(struct tz_store *st, unsigned n);
struct tz_blob *tz_store_blobs(const struct tz_store *st);
/* Delete what is left of entries cut off while being put or removed (blobs
 * but no meta.json) stored on day (YYYYMMDD) or before; *removed counts. */
int tz_store_blob_sweep(struct tz_store *st, const char *day, unsigned *removed,
			char *err, size_t errlen);

/* ---- reading and maintaining committed entries (textizectl, scanner) ---- */

const unsigned char *tz_store_key(const struct tz_store *st);   /* NULL = plain */
const char *tz_store_dir(const struct tz_store *st);

/* Ids of all complete entries, sorted (oldest first); caller unrefs. -1
 * with err (and *ids NULL) when they cannot all be listed. */
int tz_store_list(struct tz_store *st, GPtrArray **ids, char *err, size_t errlen);

/* Open the directory of a complete entry (O_RDONLY|O_DIRECTORY); -1 when the
 * id is malformed or absent, or the entry is in the segment store. The
 * caller closes it. */
int tz_store_entry_open(struct tz_store *st, const char *id, char *err, size_t errlen);
/* 1 when id is a committed entry of this host's QuarantineDir (segment
 * store or directory layout), without reading it. */
int tz_store_has(struct tz_store *st, const char *id);
/* held[i] = tz_store_has(st, ids[i]) for n ids at once, also through a
 * store opened with tz_store_open_appending. 0, or -1 with err. */
int tz_store_has_among(struct tz_store *st, const char *const *ids, unsigned n, int *held,
		       char *err, size_t errlen);

/* Exclusive lock on an entry (flock on its directory; in the segment
 * store an OFD lock on a byte of store/LOCKS; on a blob backend an OFD
 * lock on a byte of QuarantineDir/blob.locks) for read-modify-write of
 * meta.json across threads and processes of this host, and, with a
 * cross-host locker set (below), across every host sharing it. Returns an
 * fd for unlock; -1 with err (also when the cross-host lock cannot be
 * taken: never a silent host-local lock). */
int tz_store_lock(struct tz_store *st, const char *id, char *err, size_t errlen);
void tz_store_unlock(struct tz_store *st, int lockfd);

/* ---- the cross-host lock (StoreBackend postgresql; tz_pglock.h) ----
 * A locker takes a named lock for a token (the fd of the host-local lock
 * taken first, open until drop) and holds it until drop(token); a holder
 * that dies loses it. kind separates the name spaces. take: 1 taken, 0
 * held by someone else (block 0 only), -1 with err. Owned by the store
 * from tz_store_set_locker on (its free runs on replace and in
 * tz_store_free); set before the store is shared between threads. */
enum tz_xlock_kind { TZ_XLOCK_ENTRY = 1, TZ_XLOCK_CLAIM = 2 };
struct tz_store_locker {
	int (*take)(void *ctx, enum tz_xlock_kind kind, const char *name, int block, int token,
		    char *err, size_t errlen);
	void (*drop)(void *ctx, int token);
	void (*free)(void *ctx);
	void *ctx;
};
void tz_store_set_locker(struct tz_store *st, const struct tz_store_locker *l);   /* NULL: none */
/* A claim (the sanitize worker's: one conversion of a part at a time)
 * across hosts, for a token the caller holds locally: 1 taken (or no
 * locker: the local one is all), 0 held elsewhere, -1 with err. */
int tz_store_xclaim(struct tz_store *st, const char *name, int block, int token,
		    char *err, size_t errlen);
void tz_store_xunclaim(struct tz_store *st, int token);

/* meta.json of an entry (caller tz_meta_free()s) / atomic rewrite of it
 * (caller holds the lock). */
struct tz_meta *tz_store_meta_read(struct tz_store *st, const char *id, char *err, size_t errlen);
int tz_store_meta_write(struct tz_store *st, const struct tz_meta *m, char *err, size_t errlen);

/* Stream the plaintext of a file of an entry ("original.eml", a part file)
 * through fn; every byte is authenticated first when encrypted. */
int tz_store_file_read(struct tz_store *st, const char *id, const char *fname,
		       tz_cfile_fn fn, void *ctx, char *err, size_t errlen);

/* Add a file to a complete entry from the plaintext readable on srcfd
 * (written under a temporary name, fsynced, renamed). sha256_hex/size may
 * be NULL. Fails if fname exists. */
int tz_store_file_put(struct tz_store *st, const char *id, const char *fname, int srcfd,
		      char *sha256_hex, uint64_t *size, char *err, size_t errlen);

/* Remove a complete entry (retention). */
int tz_store_remove(struct tz_store *st, const char *id, char *err, size_t errlen);

/* Remove abandoned tmp/ entries (a crashed writer) older than max_age
 * seconds (0 = all: only when no writer can be running); an id that is
 * also a complete entry is left alone. Returns how many were removed. */
int tz_store_clean_tmp(struct tz_store *st, unsigned max_age);

/* Tests only: when set to N > 0, commit stops before step N as if the
 * process had died there (nothing is cleaned up). Steps: 1 write meta,
 * 2 fsync entry dir, 3 rename into entries/, 4 fsync target dir. */
extern volatile int tz_store_test_crash_step;

#endif
