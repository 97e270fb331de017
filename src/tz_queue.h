/* tz_queue.h — the security team's operations on the sanitization queue:
 * scan (clamd + optional CDR), export, release, reject, purge. Each one
 * locks the entry, changes meta.json atomically, writes an audit record,
 * and refreshes the index (when that fails, the entry's rows are dropped
 * for the next catch-up to redo, and a line is logged). Used by textizectl. */
#ifndef TZ_QUEUE_H
#define TZ_QUEUE_H

#include <stddef.h>
#include "textize.h"
#include "tz_crypt.h"

struct tz_store;
struct tz_audit;
struct tz_index;

/* What the operations need; filled by the caller, pointers borrowed. */
struct tz_queue {
	struct tz_store *st;
	struct tz_audit *audit;            /* required: every change is audited */
	struct tz_index *ix;               /* NULL = no index */
	const char *scanner_socket;
	unsigned scanner_timeout;          /* seconds */
	const char *sanitizer_command;     /* NULL = none */
	unsigned sanitizer_timeout;        /* seconds */
	const char *release_command;
	const unsigned char *release_key;  /* NULL = release impossible */
	const char *release_from;          /* NULL = original envelope sender */
};

/* Scan every pending part of one entry. Returns 0, 1 when clamd could not
 * be reached (the parts stay pending; stop and retry later), -1 on error.
 * *scanned counts parts that got a verdict. */
int tz_queue_scan_entry(const struct tz_queue *q, const char *id, unsigned *scanned,
			char *err, size_t errlen);
/* All entries with pending parts, oldest first; same return values. */
int tz_queue_scan_all(const struct tz_queue *q, unsigned *scanned, char *err, size_t errlen);

/* Write the plaintext of part (0 = the original message) to out_path
 * (created 0600, must not exist), verified against its SHA-256. */
int tz_queue_export(const struct tz_queue *q, const char *id, unsigned part,
		    const char *out_path, const char *operator_name, char *err, size_t errlen);

/* Release parts (n = 0: every clean or sanitized part) as a new mail
 * through release_command. Parts must be clean or sanitized (or released
 * before) unless force, which is recorded. to: NULL = the original
 * recipients. */
int tz_queue_release(const struct tz_queue *q, const char *id, const unsigned *parts,
		     unsigned n, const char *to, const char *operator_name, int force,
		     char *err, size_t errlen);

/* Mark part (0 = every part) rejected. */
int tz_queue_reject(const struct tz_queue *q, const char *id, unsigned part,
		    const char *operator_name, const char *reason, char *err, size_t errlen);

/* Remove entries stored more than days days ago. *removed counts them. */
int tz_queue_purge(const struct tz_queue *q, unsigned days, const char *operator_name,
		   unsigned *removed, char *err, size_t errlen);

#endif
