/* tz_meta.h — the metadata of one quarantine entry (meta.json): what the
 * SMTP session and the engine said about the message, and the state of
 * every stripped part. One serialiser and one parser, so the milter's
 * writer, the scanner's rewrites and textizectl's readers agree. */
#ifndef TZ_META_H
#define TZ_META_H

#include <stdint.h>
#include <glib.h>
#include "textize.h"
#include "tz_engine.h"
#include "tz_envelope.h"

/* Part states. pending: waiting for the scanner; clean: scanned, nothing
 * found; infected: the scanner found something; sanitized: a CDR copy was
 * made; failed: scanning/sanitizing failed for good; released / rejected:
 * decided by an operator. */
#define TZ_STATE_PENDING   "pending"
#define TZ_STATE_CLEAN     "clean"
#define TZ_STATE_INFECTED  "infected"
#define TZ_STATE_SANITIZED "sanitized"
#define TZ_STATE_FAILED    "failed"
#define TZ_STATE_RELEASED  "released"
#define TZ_STATE_REJECTED  "rejected"

/* All strings owned, NULL when unknown unless noted. */
struct tz_meta_part {
	unsigned index;            /* 1-based, as in tz_part */
	char *file;                /* file name in the entry, "part-001.bin"; never NULL */
	char *mime_path;
	char *reason;              /* tz_part_reason_name() */
	char *filename;            /* decoded, display-safe name from the sender */
	char *declared_type;
	char *detected_type;
	uint64_t size;
	char sha256[65];
	unsigned risk;             /* TZ_RISK_* */
	char *state;               /* TZ_STATE_*; never NULL */
	char *verdict;             /* scanner: "OK" or the signature name */
	char *scanned_at;          /* ISO 8601 UTC */
	char *note;                /* why failed / who decided, free text */
	char *sanitized_file;      /* "part-001.sanitized.bin" when a CDR copy exists */
	uint64_t sanitized_size;
	char sanitized_sha256[65];
	char *released_at;
	char *released_by;
	/* A forced release waiting for approvals (tz_queue_release): who
	 * asked, why, and the operators who approved so far (comma-separated,
	 * the requester first). NULL when none is open. */
	char *force_requested_by;
	char *force_reason;
	char *force_approvers;
};

struct tz_meta {
	char id[TZ_ID_LEN];
	char *ref;                 /* 参照番号 "MMDD-CODE" (tz_ref.h), NULL when none */
	char *stored_at;           /* ISO 8601 UTC; never NULL */
	int64_t stored_time;       /* seconds since the epoch */
	/* envelope */
	char *queue_id, *client_addr, *client_name, *helo, *auth_user;
	char *sender;              /* "" for the null sender; never NULL */
	GPtrArray *rcpts;          /* char*, owned; never NULL */
	char *direction;           /* "inbound" | "outbound"; never NULL */
	char *spf;
	char *tenant;              /* Tenant section whose rules applied, NULL = none */
	/* message */
	char *kind;                /* "text" | "encrypted" | "report" | "unknown" */
	char *message_id, *subject, *from, *date;
	uint64_t original_size;
	char original_sha256[65];
	GPtrArray *parts;          /* struct tz_meta_part*, owned, in index order */
};

struct tz_meta *tz_meta_new(void);
void tz_meta_free(struct tz_meta *m);              /* NULL is a no-op */
struct tz_meta_part *tz_meta_part_new(void);       /* state pending, owned by a meta once added */
void tz_meta_part_free(struct tz_meta_part *p);    /* NULL is a no-op */

/* Fill m from the session and the engine result (res may be NULL when only
 * the original is kept). Parts get state pending; file names are set by
 * the caller. */
void tz_meta_fill(struct tz_meta *m, const char *id, const struct tz_envelope *env,
		  const struct tz_result *res);

/* Part by 1-based index, NULL when absent. */
struct tz_meta_part *tz_meta_part_get(const struct tz_meta *m, unsigned index);

/* Serialise (caller g_free()s) / parse. Parsing fails on anything that
 * is not a well-formed meta document. */
char *tz_meta_to_json(const struct tz_meta *m);
struct tz_meta *tz_meta_parse(const char *json, size_t len, char *err, size_t errlen);

/* JSON string escaping (quotes included) appended to s; invalid UTF-8 is
 * replaced by U+FFFD so the output is always valid JSON. */
void tz_meta_json_str(GString *s, const char *v);

/* "2026-11-24T08:23:06Z" for t into out (at least 21 bytes). */
void tz_meta_iso_time(int64_t t, char *out, size_t outlen);

/* Domain part of an address, lower-cased, "" for none; caller g_free()s. */
char *tz_meta_domain(const char *addr);

#endif
