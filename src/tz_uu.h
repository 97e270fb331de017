/* tz_uu.h — find and decode uuencoded files embedded in text bodies
 * ("begin 644 name" ... "end"), which old and Japanese mail software still
 * sends inside text/plain. The engine cuts them out of the text and strips
 * them like attachments. */
#ifndef TZ_UU_H
#define TZ_UU_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

struct tz_uu_block {
	size_t start;   /* offset of the "begin" line */
	size_t stop;    /* offset just after the block ("end" line included when present) */
	char *name;     /* raw bytes of the name on the begin line; owned, g_free() */
};

/* Find the first block at or after `from` in buf. A "begin" line counts only
 * when the line after it is a well-formed uuencoded line, so prose that
 * starts with "begin 644" stays text. Returns false when there is none. */
bool tz_uu_find(const char *buf, size_t len, size_t from, struct tz_uu_block *b);

/* Decode the data lines of a block found by tz_uu_find, appending to out. */
void tz_uu_decode(const char *buf, const struct tz_uu_block *b, GByteArray *out);

#endif
