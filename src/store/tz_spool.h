/* tz_spool.h — where one message waits between the first header and end of
 * message. Bytes are kept in memory up to a limit, then moved to an
 * unlinked temporary file in the spool directory (O_TMPFILE where the file
 * system supports it, else mkstemp + unlink), so no message size makes the
 * daemon hold the whole message in RAM and a crash leaves nothing behind.
 * The content is read back as GMime streams (for the engine and for the
 * store) without copying it. One spool is used by one thread at a time. */
#ifndef TZ_SPOOL_H
#define TZ_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gmime/gmime.h>

struct tz_spool;

/* A new empty spool. dir is only touched when the memory limit is passed.
 * Free with tz_spool_free. Never fails. */
struct tz_spool *tz_spool_new(const char *dir, size_t mem_limit);
void tz_spool_free(struct tz_spool *sp);     /* NULL is a no-op; closes the file */

/* Append bytes. On the first write that would pass the memory limit (the
 * spool's own, or the process-wide total) the spool moves to a temp file. 0, or -1 with err (disk full, no SpoolDir);
 * after an error the spool refuses further writes. */
int tz_spool_write(struct tz_spool *sp, const void *buf, size_t len,
		   char *err, size_t errlen);

/* The process-wide limit on the memory of all spools together (0, the
 * start: none beyond each spool's own): a write that would pass it moves
 * that spool to disk, as its own limit does. Thread-safe; the milter sets
 * it from SpoolMemoryTotal at start and on reload. */
void tz_spool_set_memory_total(size_t total);
size_t tz_spool_memory_held(void);   /* bytes all spools hold in memory now */

uint64_t tz_spool_size(const struct tz_spool *sp);
bool tz_spool_on_disk(const struct tz_spool *sp);

/* A new read-only stream over the whole content, positioned at 0. Each
 * call returns an independent stream (its own position); the caller
 * g_object_unref()s it, and must do so before tz_spool_free. Writing to
 * the spool after taking a stream is not allowed. NULL + err on failure. */
GMimeStream *tz_spool_stream(struct tz_spool *sp, char *err, size_t errlen);

#endif
