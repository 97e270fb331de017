/* tz_pg.h — the shared database of a gateway cluster (StoreBackend
 * postgresql, DatabaseURL; docs/cluster.md): connecting, the versioned
 * schema and its migrations.
 *
 * The schema is a list of migrations, version 1..TZ_PG_SCHEMA_VERSION, in
 * tz_pgschema.c; `textizectl db migrate` applies the missing ones, each in
 * its own transaction together with its row in schema_version, under a
 * transaction-level advisory lock so two hosts migrating at once take
 * turns. A program that uses the database first checks that the version is
 * exactly the one it was built for and refuses to run otherwise (an older
 * schema lacks tables; a newer one may mean other semantics). */
#ifndef TZ_PG_H
#define TZ_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <libpq-fe.h>
#include "textize.h"

#define TZ_PG_SCHEMA_VERSION 7
/* Seconds to wait for a connection unless the URL says connect_timeout. */
#define TZ_PG_CONNECT_TIMEOUT "5"

/* True when s is a libpq URI (postgresql:// or postgres://): where a
 * store location may be a file path or the shared database. */
bool tz_pg_is_url(const char *s);

/* Connect to url (a libpq URI or key=value string); application_name is
 * shown in pg_stat_activity. NULL with err (the password never appears:
 * libpq's messages do not carry it). */
PGconn *tz_pg_connect(const char *url, const char *application_name, char *err, size_t errlen);

/* err = what libpq said about conn, on one line, prefixed by what. -1. */
int tz_pg_fail(PGconn *conn, const char *what, char *err, size_t errlen);

/* Run sql (no parameters, no rows wanted); 0 or -1 with err. */
int tz_pg_exec(PGconn *conn, const char *sql, char *err, size_t errlen);

/* The applied schema version into *version (0 = empty database). 0 or -1. */
int tz_pg_schema_version(PGconn *conn, int *version, char *err, size_t errlen);

/* Apply migrations up to target (0 = TZ_PG_SCHEMA_VERSION), one
 * transaction each. *from and *to receive the versions before and after.
 * A database newer than target is an error (no downgrades). 0 or -1. */
int tz_pg_migrate(PGconn *conn, int target, int *from, int *to, char *err, size_t errlen);

/* Connect and check the version is TZ_PG_SCHEMA_VERSION (textize-milter
 * -n and every program's start). 0, or -1 with an err naming the fix. */
int tz_pg_check(const char *url, char *err, size_t errlen);

/* Connect and check as above: the connection, or NULL with err. */
PGconn *tz_pg_open(const char *url, const char *application_name, char *err, size_t errlen);

/* Start a transaction with begin ("BEGIN ...") on *conn, opening it first
 * when there is none or it is known broken. A connection that was idle
 * across a server restart or failover only fails when used: when begin
 * fails on such a connection it is opened again and begin sent once more
 * (nothing was done yet, so this is safe). 0, or -1 with err and *conn
 * closed (NULL). */
int tz_pg_begin(PGconn **conn, const char *url, const char *application_name,
		const char *begin, char *err, size_t errlen);

#endif
