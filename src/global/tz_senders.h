/* tz_senders.h — reading, adding to and removing from the sender block/allow list wherever the
 * configuration keeps it: the shared database's sender_list on StoreBackend
 * postgresql (every gateway reads it, tz_senderlist_shared.h), else
 * SenderListFile (tz_senderlist.h). For the console and textizectl. */
#ifndef TZ_SENDERS_H
#define TZ_SENDERS_H

#include <stdbool.h>
#include <stddef.h>
#include "tz_config.h"
#include "tz_senderlist.h"

/* The list can be written: postgresql, or SenderListFile set. */
bool tz_senders_enabled(const struct tz_config *cfg);

/* Add kind pattern (normalised here; by = the operator, kept in the
 * database): 0 added, 1 already there, -1 with err. */
int tz_senders_add(const struct tz_config *cfg, enum tz_senderlist_kind kind,
		   const char *pattern, const char *by, char *err, size_t errlen);

/* Remove kind pattern (as tz_senderlist_remove: however it is spelled):
 * 0 removed, 1 not there, -1 with err. The caller serialises writers of
 * SenderListFile. */
int tz_senders_remove(const struct tz_config *cfg, enum tz_senderlist_kind kind,
		      const char *pattern, char *err, size_t errlen);

/* The whole list as SenderListFile's text into *text (g_free; "" for a
 * missing file): 0, or -1 with err (the database unreachable). */
int tz_senders_text(const struct tz_config *cfg, char **text, char *err, size_t errlen);

#endif
