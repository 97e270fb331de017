/* tz_clean.h — decoded text made fit for the new body (see tz_clean.c). */
#ifndef TZ_CLEAN_H
#define TZ_CLEAN_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

/* Append decoded UTF-8 s to out: line ends to LF, control characters
 * (except tab) and invisible characters dropped, invalid UTF-8 replaced by
 * U+FFFD (*replaced set then). */
void tz_clean_append(GString *out, const char *s, size_t len, bool *replaced);

/* Whether clean_append drops code point u when out is what was written
 * before it (a zero width joiner is kept after a character that is not
 * ASCII). */
bool tz_clean_invisible(gunichar u, const GString *out);

#endif
