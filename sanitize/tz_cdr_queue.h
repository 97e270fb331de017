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
	 * are claimed (an flock in QUEUE/work, and on StoreBackend
	 * postgresql an advisory lock in the database) so that two workers,
	 * two processes or two hosts never convert the same part, and an
	 * entry is delivered once. */
	unsigned workers;
	/* With Tenant sections: whether an entry of tenant (NULL = none) is
	 * delivered (the tenant's SanitizedDelivery); NULL = every entry. */
	int (*deliver_for)(const char *tenant, const void *ctx);
	const void *deliver_ctx;
};

/* Sanitize the waiting parts of one entry. Returns 0, or -1 with err (a
 * machine error: the part stays as it was, retry later). *done counts the
 * parts decided. */
int tz_cdr_queue_entry(const struct tz_cdr_queue *q, const char *id, unsigned *done,
		       char *err, size_t errlen);

/* The steps of the worker, for the password path (tz_cdr_ppap.c). ppap 0:
 * the part waits for the worker (pending or clean, no copy); 1: it is an
 * encrypted archive waiting for a password (tz_cdr_ppap_waiting).
 * fetch: under the entry lock, the part's plaintext into the new file
 * input and its SHA-256; 0 copied, 1 no longer waiting, 2 the stored file
 * is unreadable (err says why), -1 error.
 * record: under the entry lock, r for the part if it is still the one
 * fetched (sha) and still waiting; audited under operator_name. 1
 * recorded, 0 someone else decided meanwhile, -1.
 * deliver: SanitizedDelivery auto (q->deliver) once no part of the entry
 * waits; failures are logged, the copies wait for queue release. */
int tz_cdr_queue_fetch(const struct tz_cdr_queue *q, const char *id, unsigned index, int ppap,
		       const char *input, char sha[65], char *err, size_t errlen);
int tz_cdr_queue_record(const struct tz_cdr_queue *q, const char *id, unsigned index, int ppap,
			const char sha[65], const struct tz_cdr_result *r, const char *operator_name,
			char *err, size_t errlen);
void tz_cdr_queue_deliver(const struct tz_cdr_queue *q, const char *id);

/* A part flagged as an encrypted ZIP with no copy yet, not decided by the
 * team (pending, clean, or unsanitizable because of the password). */
struct tz_meta_part;
int tz_cdr_ppap_waiting(const struct tz_meta_part *p);

/* Every entry with waiting parts, oldest first. Stops at the first machine
 * error (-1), since the next part would meet the same broken machine. */
int tz_cdr_queue_all(const struct tz_cdr_queue *q, unsigned *done, char *err, size_t errlen);

#endif
