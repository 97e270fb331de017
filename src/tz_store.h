/* tz_store.h — the sanitization queue on disk: one entry per text-ized
 * message (original, every stripped part, metadata JSON), written
 * atomically and durably (fsync) before the milter accepts the message. */
#ifndef TZ_STORE_H
#define TZ_STORE_H

#include <gmime/gmime.h>
#include "textize.h"
#include "tz_engine.h"
#include "tz_envelope.h"

struct tz_store;          /* an open queue directory; thread-safe */
struct tz_store_entry;    /* one entry being written; used by one thread */

/* Open (creating with mode 0700 if needed) the queue directory. key_file may
 * be NULL (no encryption). NULL + err on failure. */
struct tz_store *tz_store_open(const char *dir, const char *key_file,
			       char *err, size_t errlen);
void tz_store_free(struct tz_store *st);   /* NULL is a no-op */

/* Start a new entry with a fresh id (tz_id_new), in a temporary place that
 * never reads as complete. */
struct tz_store_entry *tz_store_entry_begin(struct tz_store *st, char *err, size_t errlen);
const char *tz_store_entry_id(const struct tz_store_entry *e);

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

#endif
