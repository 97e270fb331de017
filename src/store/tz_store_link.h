/* tz_store_link.h — what joins the store to the logs and caches beside it,
 * so that tz_store.c includes neither: the commit hooks the runtime (the
 * milter, textizectl's fixtures) registers for the audit log and the
 * SQLite index, and the index's catch-up from the store, which only the
 * tools and the console call. Another backend (PostgreSQL) adds its own
 * hooks the same way (tz_store_set_hook). */
#ifndef TZ_STORE_LINK_H
#define TZ_STORE_LINK_H

#include "tz_audit.h"
#include "tz_index.h"
#include "tz_store.h"

/* Required hook "audit": one "stored" record per committed entry in this
 * audit log (borrowed; must outlive the store), the batch in one append
 * and one fdatasync. A failing append fails the commits and their entries
 * are rolled back: nothing accepted goes unrecorded. NULL removes it.
 * A file log (not the shared database, no blob backend) runs beside the
 * segment's fdatasync and can undo ("withdrawn" records); setting it on a
 * segment store first withdraws the `stored` records a crash left without
 * their entry (tz_audit_withdraw_missing; logged, never fatal). Set it
 * after tz_store_use_segments and tz_store_set_blobs. */
void tz_store_set_audit(struct tz_store *st, struct tz_audit *audit);

/* Best-effort hook "index": the batch added to the SQLite index at db_path
 * in one transaction through one long-lived tz_index_writer (retried while
 * the index is busy, for at most TZ_INDEX_WRITER_BUDGET_MS). An index that
 * stays busy or is broken never fails the commit (the store is the truth,
 * the message is accepted): the entry is logged at LOG_ERR with its queue
 * id and counted, and textizectl's catch-up or `queue reindex` adds it.
 * NULL or "" removes it. */
void tz_store_set_index(struct tz_store *st, const char *db_path);

/* Committed entries the index hook gave up on, since it was set. */
unsigned tz_store_index_failures(struct tz_store *st);

/* Index entries in the store that the index lacks (or all of them when
 * full), and drop index rows whose entry is gone. Returns the number
 * indexed or -1; unreadable entries are counted in *bad and skipped. */
int tz_index_sync(struct tz_index *ix, struct tz_store *st, int full, unsigned *bad,
		  char *err, size_t errlen);

#endif
