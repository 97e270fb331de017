/* tz_pgsenders.c — the sender list's rows (see tz_pgsenders.h). */
#include "tz_pgsenders.h"

#include <string.h>
#include <glib.h>

#include "tz_pg.h"
#include "tz_util.h"

struct tz_pgsenders {
	char *url;
	PGconn *conn;
};

struct tz_pgsenders *tz_pgsenders_new(const char *url)
{
	struct tz_pgsenders *ps = g_new0(struct tz_pgsenders, 1);

	ps->url = g_strdup(url);
	return ps;
}

void tz_pgsenders_free(struct tz_pgsenders *ps)
{
	if (ps == NULL)
		return;
	PQfinish(ps->conn);
	g_free(ps->url);
	g_free(ps);
}

int tz_pgsenders_load(struct tz_pgsenders *ps, char **text, char *err, size_t errlen)
{
	PGresult *r;
	GString *s;

	if (ps->conn && PQstatus(ps->conn) != CONNECTION_OK)
		g_clear_pointer(&ps->conn, PQfinish);
	if (ps->conn == NULL &&
	    (ps->conn = tz_pg_open(ps->url, "textize-senders", err, errlen)) == NULL)
		return -1;
	r = PQexec(ps->conn, "SELECT kind, pattern FROM sender_list ORDER BY pattern, kind");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		tz_pg_fail(ps->conn, "sender list", err, errlen);
		PQclear(r);
		g_clear_pointer(&ps->conn, PQfinish);
		return -1;
	}
	s = g_string_new("# sender_list (StoreBackend postgresql)\n");
	for (int i = 0; i < PQntuples(r); i++)
		g_string_append_printf(s, "%s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
	PQclear(r);
	*text = g_string_free(s, FALSE);
	return 0;
}

int tz_pgsenders_add(const char *url, const char *kind, const char *pattern, const char *by,
		     char *err, size_t errlen)
{
	PGconn *c = tz_pg_open(url, "textize-senders", err, errlen);
	const char *const v[] = { kind, pattern, by ? by : "" };
	PGresult *r;
	int ret;

	if (c == NULL)
		return -1;
	r = PQexecParams(c, "INSERT INTO sender_list(kind, pattern, added_by) VALUES($1, $2, $3)"
			 " ON CONFLICT DO NOTHING", 3, NULL, v, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		ret = tz_pg_fail(c, "sender list", err, errlen);
	else
		ret = strcmp(PQcmdTuples(r), "1") == 0 ? 0 : 1;
	PQclear(r);
	PQfinish(c);
	return ret;
}

int tz_pgsenders_remove(const char *url, const char *kind, const char *pattern,
			char *err, size_t errlen)
{
	PGconn *c = tz_pg_open(url, "textize-senders", err, errlen);
	const char *const v[] = { kind, pattern };
	PGresult *r;
	int ret;

	if (c == NULL)
		return -1;
	r = PQexecParams(c, "DELETE FROM sender_list WHERE kind = $1 AND pattern = $2", 2, NULL, v,
			 NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		ret = tz_pg_fail(c, "sender list", err, errlen);
	else
		ret = strcmp(PQcmdTuples(r), "0") == 0 ? 1 : 0;
	PQclear(r);
	PQfinish(c);
	return ret;
}
