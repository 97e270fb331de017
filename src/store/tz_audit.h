/* tz_audit.h — the quarantine's tamper-evident audit log (AuditLog): one
 * JSON line per event, appended under an exclusive lock and fsynced.
 *
 * A record is {"seq":N,"time":...,"event":...,"operator":...,"id":...,
 * "part":N,"sha256":...,"detail":...,"prev":P,"mac":M}: M is SHA-256 (or,
 * with AuditKeyFile, HMAC-SHA256) of the record's text up to and excluding
 * `,"mac":`, and P is the M of the previous record (64 zeros for the first
 * record of a file). So editing a record breaks its own M, and removing or
 * reordering records breaks seq and P. Without a key anyone able to write
 * the file can rebuild the whole chain; with a key they cannot. Cutting off
 * the newest records is not detectable from the file alone.
 *
 * Appenders in several threads and processes serialise on a mutex plus
 * flock(2), and read the previous record from the file's tail under the
 * lock, so the chain never forks or interleaves. */
#ifndef TZ_AUDIT_H
#define TZ_AUDIT_H

#include <stddef.h>
#include "textize.h"

struct tz_audit;

struct tz_audit_event {
	const char *event;          /* stored, withdrawn, scanned, released, rejected, purged, exported */
	const char *operator_name;  /* "milter", "scanner" or the operator's name */
	const char *id;             /* entry id, NULL when none */
	unsigned part;              /* part index, 0 = the whole entry */
	const char *sha256;         /* hash of the object concerned, NULL when none */
	const char *detail;         /* free text, NULL when none */
};

/* Open (creating 0600) the log; key_file may be NULL (plain SHA-256).
 * path may be the shared database's URI (StoreBackend postgresql): the
 * chain is then in its tables (tz_audit_int.h), connected on first use. */
struct tz_audit *tz_audit_open(const char *path, const char *key_file,
			       char *err, size_t errlen);
void tz_audit_free(struct tz_audit *a);   /* NULL is a no-op */

/* Append one record durably. Thread-safe. 0 or -1 with err. */
int tz_audit_append(struct tz_audit *a, const struct tz_audit_event *ev,
		    char *err, size_t errlen);
/* Append n records in this order, chained, with one write and one
 * fdatasync (the store's group commit): all are durable, or all are
 * reported failed. */
int tz_audit_append_batch(struct tz_audit *a, const struct tz_audit_event *ev, size_t n,
			  char *err, size_t errlen);

/* 1 when a is a file (AuditLog), 0 for the shared database. */
int tz_audit_local(const struct tz_audit *a);

/* Reconcile the log with the store after a crash between the segment's
 * fdatasync and the audit log's, which the store's group commit runs side
 * by side (tz_store.h): every `stored` record among the lines that begin in
 * the file's last 1 MiB (~3,000 records) whose id has no later record and
 * which the store does not hold gets a `withdrawn` record (operator
 * "milter", its sha256), appended under the log's lock, so two processes
 * reconciling at once withdraw it once. present(ctx, ids, n, held) sets
 * held[i]; it is asked for all those ids without the lock (it may read
 * the whole store), then, under the lock, again for the ones it found
 * missing (usually none); when it fails (-1 with err) nothing is
 * withdrawn. File logs only (0 and nothing done for the
 * shared database). 0 (*withdrawn counts) or -1 with err. */
typedef int (*tz_audit_present_fn)(void *ctx, const char *const *ids, unsigned n, int *held,
				   char *err, size_t errlen);

/* present() asked only for the ids not held yet (held[i] == 0); its
 * answers fill those, the others stay. 0 or present's -1 with err. */
int tz_audit_present_rest(tz_audit_present_fn present, void *ctx, const char *const *ids, unsigned n,
			  int *held, char *err, size_t errlen);
int tz_audit_withdraw_missing(struct tz_audit *a, tz_audit_present_fn present, void *ctx,
			      unsigned *withdrawn, char *err, size_t errlen);

/* Check the whole log. Returns 0 when intact (*records = count), 1 when
 * broken (*bad_line = 1-based line of the first bad record, reason in err),
 * -1 when the file cannot be read. key_file as for tz_audit_open. */
int tz_audit_verify(const char *path, const char *key_file, unsigned long *records,
		    unsigned long *bad_line, char *err, size_t errlen);

/* The newest records of the log at location (AuditLog, or the shared
 * database's chain for a postgresql:// URL), oldest first, a line each: at
 * most n records of the database, the last max_bytes of a file (whose
 * partial first line a parser skips). NULL with err when unreadable;
 * caller g_free()s. */
char *tz_audit_newest(const char *location, unsigned n, size_t max_bytes, char *err, size_t errlen);

#endif
