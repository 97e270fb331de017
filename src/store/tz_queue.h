/* tz_queue.h — the security team's operations on the sanitization queue:
 * scan (clamd + optional CDR), export, release, reject, purge. Each one
 * locks the entry, changes meta.json atomically, writes an audit record,
 * and refreshes the index (when that fails, the entry's rows are dropped
 * for the next catch-up to redo, and a line is logged). Used by textizectl. */
#ifndef TZ_QUEUE_H
#define TZ_QUEUE_H

#include <stdbool.h>
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
	unsigned force_approvals;          /* ForceReleaseApprovals: operators per forced release (0 = 1) */
	const char *notice_contact;        /* NoticeContact for the release mail; NULL = built-in */
	int notice_details;                /* NoticeDetails full: types and hashes in the release mail */
	char *sent_message_id;             /* NULL, or a caller's buffer of TZ_MSGID_LEN: the
					    * Message-ID of the release mail last sent, so the
					    * operator can trace it in the MTA's log */
	const char *claims_url;            /* StoreBackend postgresql: DatabaseURL, whose
					    * release claims make a release run on two
					    * hosts at once send once (tz_pgclaim.h);
					    * NULL = the entry lock alone */
	const char *tenant;                /* tz_queue_purge: only entries stored under this
					    * tenant; "" = only those of no tenant; NULL =
					    * every entry */
	/* The NoticeContact of an entry's tenant (NULL = none) for its release
	 * mail; a NULL hook or answer: notice_contact (docs/tenants.md). */
	const char *(*tenant_contact)(const char *tenant, const void *ctx);
	const void *tenant_ctx;
	int reclaim_claims;                /* release --reclaim: take over a stale claim left
					    * "sending" (the operator checked it was not
					    * delivered; tz_pgclaim.h) */
};
#define TZ_MSGID_LEN 128

/* What a scan did: parts that got a verdict, and of those how many were
 * found infected and how many could not be scanned (failed). */
struct tz_scan_count {
	unsigned scanned, infected, failed;
};

/* Scan every pending part of one entry. Returns 0, 1 when clamd could not
 * be reached (the parts stay pending; stop and retry later), -1 on error.
 * Adds what was done to *count. */
int tz_queue_scan_entry(const struct tz_queue *q, const char *id, struct tz_scan_count *count,
			char *err, size_t errlen);
/* All entries with pending parts, oldest first; same return values; *count
 * is zeroed first. */
int tz_queue_scan_all(const struct tz_queue *q, struct tz_scan_count *count, char *err,
		      size_t errlen);

/* Write the plaintext of part (0 = the original message) to out_path
 * (created 0600), verified against its SHA-256. out_path must not exist,
 * unless replace: then it is replaced only once the new file is complete
 * (a failed export leaves the old file as it was). */
int tz_queue_export(const struct tz_queue *q, const char *id, unsigned part,
		    const char *out_path, int replace, const char *operator_name,
		    char *err, size_t errlen);

/* A release request. parts: 1-based indexes, n of them (n = 0: every
 * part that can go without force or again). */
struct tz_release_req {
	const unsigned *parts;
	unsigned n;
	const char *to;                    /* NULL = the original recipients */
	const char *operator_name;
	int force;                         /* parts not clean/sanitized (infected, rejected, ...) */
	const char *reason;                /* required with force */
	int again;                         /* send parts already released once more */
};

/* Release parts as a new mail through release_command, under the entry
 * lock, so that concurrent releases of one part deliver it once.
 * - clean or sanitized parts go at once;
 * - a released part only with again (audited "AGAIN");
 * - any other part only with force and a reason, and, when
 *   force_approvals > 1, only once that many distinct operators (the
 *   requester counts as the first) have approved: the request is then
 *   recorded in meta.json and audited ("release_requested"), nothing is
 *   sent, and 1 is returned; tz_queue_approve completes it.
 * The mail of a forced release carries a warning at the top of its text.
 * Returns 0 (sent, audited), 1 (waiting for approval) or -1 with err. */
int tz_queue_release(const struct tz_queue *q, const char *id, const struct tz_release_req *r,
		     char *err, size_t errlen);

/* Approve the open forced-release request of part as operator_name (who
 * must not have asked or approved already). Audited "approved"; when the
 * approvals reach force_approvals the part is sent (0), else 1; -1 with
 * err (no request open, same operator, send failed). */
int tz_queue_approve(const struct tz_queue *q, const char *id, unsigned part,
		     const char *operator_name, char *err, size_t errlen);

/* Mark part (0 = every part) rejected. */
int tz_queue_reject(const struct tz_queue *q, const char *id, unsigned part,
		    const char *operator_name, const char *reason, char *err, size_t errlen);

/* Remove entries stored more than days days ago. *removed counts them. */
int tz_queue_purge(const struct tz_queue *q, unsigned days, const char *operator_name,
		   unsigned *removed, char *err, size_t errlen);

/* Whether the recipient may fetch p's sanitized copy by themselves (the
 * console's staff link): only a copy that SanitizedDelivery auto would
 * mail them anyway (sanitized_auto), of a part that is sanitized or
 * already released; never one the team rejected. */
struct tz_meta_part;
bool tz_queue_copy_for_staff(const struct tz_meta_part *p, bool sanitized_auto);

#endif
