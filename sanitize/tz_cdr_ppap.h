/* tz_cdr_ppap.h — an encrypted ZIP ("PPAP": the password comes in a second
 * mail) opened with the password staff give on the console: the part is
 * decrypted from the store into a private work directory, the archive read
 * in the sandbox with the password on the reader's stdin (a pipe: the
 * password is never in a file), every member scanned with clamd and
 * sanitized like any part, and the rebuilt ZIP stored as the part's
 * sanitized copy, exactly where the sanitize worker stores its own. Two
 * steps so the caller can serialise only the second: try (slow, no lock
 * but the entry's while reading), then record (meta, audit, index,
 * SanitizedDelivery). Also the Sanitize* keys as converter options, one
 * place for textizectl and textize-web. */
#ifndef TZ_CDR_PPAP_H
#define TZ_CDR_PPAP_H

#include <stddef.h>
#include "tz_cdr.h"
#include "tz_cdr_queue.h"

struct tz_config;

/* The Sanitize* keys of c as converter options (no scanner). */
void tz_cdr_opts_from_config(struct tz_cdr_opts *o, const struct tz_config *c);

/* A tz_cdr_opts scan callback over clamd (ctx: struct tz_cdr_clamd). */
struct tz_cdr_clamd {
	const char *socket;       /* ScannerSocket */
	unsigned timeout_s;       /* ScannerTimeout */
};
int tz_cdr_clamd_scan(void *ctx, const char *path, char *name, size_t namelen,
		      char *err, size_t errlen);

/* One try. Free with tz_cdr_ppap_clear. */
struct tz_cdr_ppap {
	char *workdir;            /* QUEUE/work/ppap-ID-N-XXXXXX */
	char sha[65];             /* the part as read */
	struct tz_cdr_result r;   /* r.sanitized, r.wrong_password, or r.reason */
};

/* Open part index of entry id with password. 0 tried (pp->r says how it
 * went), 1 the part is not an encrypted archive waiting for a password
 * (decided meanwhile, or never one), -1 with err (machine error). */
int tz_cdr_ppap_try(const struct tz_cdr_queue *q, const char *id, unsigned index,
		    const char *password, struct tz_cdr_ppap *pp, char *err, size_t errlen);

/* Record a try that opened the archive (a wrong password changes
 * nothing): the rebuilt ZIP becomes the sanitized copy, or the part is
 * unsanitizable with the reason (every member infected or refused);
 * audited under operator_name; then SanitizedDelivery auto (q->deliver).
 * 1 recorded, 0 decided by someone else meanwhile, -1 with err. */
int tz_cdr_ppap_record(const struct tz_cdr_queue *q, const char *id, unsigned index,
		       const struct tz_cdr_ppap *pp, const char *operator_name,
		       char *err, size_t errlen);

void tz_cdr_ppap_clear(struct tz_cdr_ppap *pp);

#endif
