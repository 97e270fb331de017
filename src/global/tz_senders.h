/* tz_senders.h — adding to the sender block/allow list wherever the
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

#endif
