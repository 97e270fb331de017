/* tz_pg.c — connecting to the shared database and checking its schema
 * version (see tz_pg.h); the migrations themselves are in tz_pgschema.c. */
#include "tz_pg.h"

#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "tz_util.h"

bool tz_pg_is_url(const char *s)
{
	return s && (g_str_has_prefix(s, "postgresql://") || g_str_has_prefix(s, "postgres://"));
}

PGconn *tz_pg_connect(const char *url, const char *application_name, char *err, size_t errlen)
{
	/* dbname is expanded from url after connect_timeout, so a timeout
	 * in the URL wins over ours. */
	const char *const keys[] = { "connect_timeout", "application_name", "dbname", NULL };
	const char *const vals[] = { TZ_PG_CONNECT_TIMEOUT,
				     application_name ? application_name : "textize", url, NULL };
	PGconn *conn;

	if (url == NULL || *url == '\0') {
		tz_err(err, errlen, "DatabaseURL is not set");
		return NULL;
	}
	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL) {
		tz_err(err, errlen, "database: out of memory");
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		tz_pg_fail(conn, "database: cannot connect", err, errlen);
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

int tz_pg_fail(PGconn *conn, const char *what, char *err, size_t errlen)
{
	char *msg = g_strdup(conn ? PQerrorMessage(conn) : "no connection"), *cut, **words, *one;

	/* The "LINE 1: ..." quote of the statement and its caret line are
	 * noise in a log line; the message and a connection's hint are not. */
	if ((cut = strstr(msg, "\nLINE ")) != NULL)
		*cut = '\0';
	words = g_strsplit_set(msg, " \t\r\n", -1);
	one = g_strjoinv(" ", words);
	g_strstrip(one);
	while ((cut = strstr(one, "  ")) != NULL)
		memmove(cut, cut + 1, strlen(cut));
	tz_err(err, errlen, "%s: %s", what, *one ? one : "unknown error");
	g_strfreev(words);
	g_free(one);
	g_free(msg);
	return -1;
}

int tz_pg_exec(PGconn *conn, const char *sql, char *err, size_t errlen)
{
	PGresult *r = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(r);
	int ret = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		ret = tz_pg_fail(conn, "database", err, errlen);
	PQclear(r);
	return ret;
}

/* The one integer a query returns, or -1 with err. */
static int query_int(PGconn *conn, const char *sql, long *out, char *err, size_t errlen)
{
	PGresult *r = PQexec(conn, sql);
	int ret = 0;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 || PQnfields(r) != 1)
		ret = tz_pg_fail(conn, "database: schema version", err, errlen);
	else
		*out = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return ret;
}

int tz_pg_schema_version(PGconn *conn, int *version, char *err, size_t errlen)
{
	long exists = 0, v = 0;

	/* to_regclass: NULL when the table does not exist, without an error
	 * that would abort a surrounding transaction. */
	if (query_int(conn, "SELECT (to_regclass('schema_version') IS NOT NULL)::int",
		      &exists, err, errlen) < 0)
		return -1;
	if (exists && query_int(conn, "SELECT coalesce(max(version), 0) FROM schema_version",
				&v, err, errlen) < 0)
		return -1;
	*version = (int)v;
	return 0;
}

PGconn *tz_pg_open(const char *url, const char *application_name, char *err, size_t errlen)
{
	PGconn *conn = tz_pg_connect(url, application_name, err, errlen);
	int v;

	if (conn == NULL)
		return NULL;
	if (tz_pg_schema_version(conn, &v, err, errlen) < 0)
		goto fail;
	if (v != TZ_PG_SCHEMA_VERSION) {
		tz_err(err, errlen, "database schema is version %d, this textize needs %d%s", v,
		       TZ_PG_SCHEMA_VERSION, v < TZ_PG_SCHEMA_VERSION ?
		       " (run textizectl db migrate)" : " (upgrade textize on this host)");
		goto fail;
	}
	return conn;
fail:
	PQfinish(conn);
	return NULL;
}

int tz_pg_begin(PGconn **conn, const char *url, const char *application_name,
		const char *begin, char *err, size_t errlen)
{
	for (int tries = 0; tries < 2; tries++) {
		bool fresh = *conn == NULL || PQstatus(*conn) != CONNECTION_OK;
		if (fresh) {
			if (*conn)
				PQfinish(*conn);
			if ((*conn = tz_pg_open(url, application_name, err, errlen)) == NULL)
				return -1;
		}
		if (tz_pg_exec(*conn, begin, err, errlen) == 0)
			return 0;
		if (fresh || PQstatus(*conn) == CONNECTION_OK)
			break;   /* a new connection, or an error that is not the link's */
	}
	PQfinish(*conn);
	*conn = NULL;
	return -1;
}

int tz_pg_check(const char *url, char *err, size_t errlen)
{
	PGconn *conn = tz_pg_open(url, "textize-check", err, errlen);

	if (conn == NULL)
		return -1;
	PQfinish(conn);
	return 0;
}
