/* tz_cdr_queue.h — the sanitize worker over the quarantine (textizectl
 * queue sanitize): each part that is pending or clean and has no CDR copy
 * yet is decrypted into a private work directory, converted by tz_cdr (in
 * its sandbox) and the result stored in the entry (encrypted like every
 * other file) as part-NNN.sanitized-TAG.EXT with its SHA-256 and size; the
 * part's state becomes "sanitized", or "unsanitizable" with the reason in
 * its note. Infected, failed, released and rejected parts are left alone:
 * they are the security team's. The entry is locked only to read the part
 * and to record the result, not during the conversion; a part that changed
 * meanwhile keeps its new state and the result is thrown away. The worker
 * waits for its conversion children with waitpid(-1): the caller has no
 * other children running while it works. */
#ifndef TZ_CDR_QUEUE_H
#define TZ_CDR_QUEUE_H

#include <stddef.h>
#include "tz_cdr.h"
#include "tz_queue.h"

struct tz_store;
struct tz_audit;
struct tz_index;

#define TZ_STATE_UNSANITIZABLE "unsanitizable"

struct tz_cdr_queue {
	struct tz_store *st;
	struct tz_audit *audit;     /* required: every decision is audited */
	struct tz_index *ix;        /* NULL = no index */
	struct tz_cdr_opts opts;
	/* SanitizedDelivery auto: once no part of an entry waits any more
	 * (for the scanner or for this worker), its sanitized copies are
	 * released to the original recipients through this queue (release
	 * command and key); NULL = no delivery (approve, off). */
	const struct tz_queue *deliver;
	/* SanitizeWorkers: conversions at once, each in a child process of
	 * its own (tz_cdr_child.h) with its own sandbox runs; 0 = 1. Parts
	 * are claimed (an flock in QUEUE/work) so that two workers or two
	 * processes never convert the same part, and an entry is delivered
	 * once. */
	unsigned workers;
};

/* Sanitize the waiting parts of one entry. Returns 0, or -1 with err (a
 * machine error: the part stays as it was, retry later). *done counts the
 * parts decided. */
int tz_cdr_queue_entry(const struct tz_cdr_queue *q, const char *id, unsigned *done,
		       char *err, size_t errlen);

/* Every entry with waiting parts, oldest first. Stops at the first machine
 * error (-1), since the next part would meet the same broken machine. */
int tz_cdr_queue_all(const struct tz_cdr_queue *q, unsigned *done, char *err, size_t errlen);

#endif
