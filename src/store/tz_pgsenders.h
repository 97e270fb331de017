/* tz_pgsenders.h — the sender block/allow list in the shared database
 * (table sender_list, tz_pgschema.c migration 4): what SenderListFile
 * holds on a single host, one row per entry, so an entry the team adds on
 * one host applies on all. The policy reads it through its own cache
 * (tz_senderlist_shared.h); this layer knows only rows. */
#ifndef TZ_PGSENDERS_H
#define TZ_PGSENDERS_H

#include <stddef.h>
#include "textize.h"

struct tz_pgsenders;

/* Connects on first use and again after any error. Not thread-safe. */
struct tz_pgsenders *tz_pgsenders_new(const char *url);
void tz_pgsenders_free(struct tz_pgsenders *ps);   /* NULL is a no-op */

/* Every entry as SenderListFile's text ("block PATTERN\n" ...) into
 * *text (g_free); 0 or -1 with err. */
int tz_pgsenders_load(struct tz_pgsenders *ps, char **text, char *err, size_t errlen);

/* Add kind ("block" or "allow") pattern (already normalised by
 * tz_senderlist_pattern), by whom: 0 added, 1 already there, -1 err. */
int tz_pgsenders_add(const char *url, const char *kind, const char *pattern, const char *by,
		     char *err, size_t errlen);

/* Remove the entry kind pattern (normalised as for add): 0 removed,
 * 1 not there, -1 err. */
int tz_pgsenders_remove(const char *url, const char *kind, const char *pattern,
			char *err, size_t errlen);

#endif
