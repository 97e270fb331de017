/* tz_pgaudit.c — the audit chain in the shared database (see
 * tz_audit_int.h): table audit(seq, record) holds the records exactly as
 * the file log would, audit_head(seq, mac) the newest one. */
#include "tz_audit_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tz_pg.h"
#include "tz_util.h"

static int head_locked(PGconn *c, unsigned long *seq, char prev[65], char *err, size_t errlen)
{
	PGresult *r = PQexec(c, "SELECT seq, mac FROM audit_head FOR UPDATE");
	int ret = 0;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 ||
	    strlen(PQgetvalue(r, 0, 1)) != 64)
		ret = tz_pg_fail(c, "audit: chain head", err, errlen);
	else {
		*seq = strtoul(PQgetvalue(r, 0, 0), NULL, 10);
		memcpy(prev, PQgetvalue(r, 0, 1), 65);
	}
	PQclear(r);
	return ret;
}

static int params(PGconn *c, const char *sql, const char *a, const char *b, char *err,
		  size_t errlen)
{
	const char *const v[] = { a, b };
	PGresult *r = PQexecParams(c, sql, 2, NULL, v, NULL, NULL, 0);
	int ret = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : tz_pg_fail(c, "audit", err, errlen);

	PQclear(r);
	return ret;
}

static int append_locked(PGconn *c, const struct tz_audit_event *ev, size_t n,
			 const unsigned char *key, char *err, size_t errlen)
{
	unsigned long seq = 0;
	char prev[65], num[32];

	if (head_locked(c, &seq, prev, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		GString *rec = tz_audit_format(&ev[i], seq + 1 + i, prev, key);
		const char *mac = strstr(rec->str, MAC_SEP) + strlen(MAC_SEP);
		int rc;
		memcpy(prev, mac, 64);
		prev[64] = '\0';
		g_string_truncate(rec, rec->len - 1);   /* the "\n" */
		snprintf(num, sizeof(num), "%lu", seq + 1 + i);
		rc = params(c, "INSERT INTO audit(seq, record) VALUES($1, $2)", num, rec->str,
			    err, errlen);
		g_string_free(rec, TRUE);
		if (rc < 0)
			return -1;
	}
	snprintf(num, sizeof(num), "%lu", seq + n);
	return params(c, "UPDATE audit_head SET seq = $1, mac = $2", num, prev, err, errlen);
}

int tz_pgaudit_append(PGconn **conn, const char *url, const struct tz_audit_event *ev, size_t n,
		      const unsigned char *key, char *err, size_t errlen)
{
	if (tz_pg_begin(conn, url, "textize-audit", "BEGIN", err, errlen) < 0)
		return -1;
	if (append_locked(*conn, ev, n, key, err, errlen) == 0 &&
	    tz_pg_exec(*conn, "COMMIT", err, errlen) == 0)
		return 0;
	/* Unknown state (the server may be gone): start afresh next time.
	 * A COMMIT that failed in flight is reported failed; the caller then
	 * tempfails, and a record that did land names an entry that will be
	 * stored again under a new id (records are never removed). */
	PQfinish(*conn);
	*conn = NULL;
	return -1;
}

/* Compare the head row with what the walk found. 0 or 1 with err. */
static int check_head(PGconn *c, unsigned long seq, const char *prev, char *err, size_t errlen)
{
	PGresult *r = PQexec(c, "SELECT seq, mac FROM audit_head");
	int ret = -1;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		tz_pg_fail(c, "audit: chain head", err, errlen);
	else if (strtoul(PQgetvalue(r, 0, 0), NULL, 10) != seq || strcmp(PQgetvalue(r, 0, 1), prev))
		ret = 1, tz_err(err, errlen, "the chain head names record %s, the last one is %lu: "
				"newest records removed or replaced", PQgetvalue(r, 0, 0), seq);
	else
		ret = 0;
	PQclear(r);
	return ret;
}

int tz_pgaudit_verify(const char *url, const unsigned char *key, unsigned long *records,
		      unsigned long *bad_line, char *err, size_t errlen)
{
	PGconn *c = tz_pg_open(url, "textize-audit-verify", err, errlen);
	char prev[65] = ZERO_HASH;
	unsigned long seq = 0, row = 0;
	PGresult *r;
	int rc = 0;

	if (c == NULL)
		return -1;
	/* One row at a time: the chain may be far larger than memory. */
	if (!PQsendQuery(c, "SELECT record FROM audit ORDER BY seq") || !PQsetSingleRowMode(c)) {
		tz_pg_fail(c, "audit", err, errlen);
		PQfinish(c);
		return -1;
	}
	while ((r = PQgetResult(c)) != NULL) {
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_SINGLE_TUPLE && rc == 0) {
			row++;
			rc = tz_audit_verify_line(PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0),
						  row, &seq, prev, key, err, errlen);
		} else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && rc == 0) {
			rc = tz_pg_fail(c, "audit", err, errlen);
		}
		PQclear(r);
	}
	if (rc == 0)
		rc = check_head(c, seq, prev, err, errlen);
	if (rc == 1)
		*bad_line = row;
	*records = seq;
	PQfinish(c);
	return rc;
}

char *tz_pgaudit_newest(const char *url, unsigned n, char *err, size_t errlen)
{
	PGconn *c = tz_pg_open(url, "textize-audit-read", err, errlen);
	char lim[16];
	const char *v[1] = { lim };
	PGresult *r;
	GString *out;

	if (c == NULL)
		return NULL;
	snprintf(lim, sizeof(lim), "%u", n);
	r = PQexecParams(c, "SELECT record FROM (SELECT seq, record FROM audit ORDER BY seq DESC"
			 " LIMIT $1::int) t ORDER BY seq", 1, NULL, v, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		tz_pg_fail(c, "audit", err, errlen);
		PQfinish(c);
		return NULL;
	}
	out = g_string_new(NULL);
	for (int i = 0; i < PQntuples(r); i++)
		g_string_append_printf(out, "%s\n", PQgetvalue(r, i, 0));
	PQclear(r);
	PQfinish(c);
	return g_string_free(out, FALSE);
}
