/* check.h — the one validation of a configuration and the files it names
 * (key files, writable directories) for -n, start-up and SIGHUP. */
#ifndef TZM_CHECK_H
#define TZM_CHECK_H

#include <glib.h>
#include "tz_config.h"

/* Append one "Key: path: reason" line per problem to problems (g_free'd
 * strings, caller owns the array) and return how many were added. The
 * user is UserID when running as root, else the process's own user. */
int tzm_config_check(const struct tz_config *cfg, GPtrArray *problems);

/* -n only: with StoreBackend postgresql, connect to DatabaseURL and check
 * the schema version (a down database at start-up or SIGHUP must not stop
 * the daemon: it tempfails until the database is back). Same contract. */
int tzm_database_check(const struct tz_config *cfg, GPtrArray *problems);

#endif
