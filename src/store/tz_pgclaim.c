/* tz_pgclaim.c — release claims (see tz_pgclaim.h; table release_claims,
 * tz_pgschema.c migration 1). One short connection per release: releases
 * are an operator's actions, not a hot path. */
#include "tz_pgclaim.h"

#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "tz_pg.h"
#include "tz_util.h"

/* Who holds the claim (request, id, part), for the refusal. */
static void holder(PGconn *c, const char *const *v, char *err, size_t errlen)
{
	PGresult *r = PQexecParams(c, "SELECT host, to_char(claimed_at AT TIME ZONE 'UTC',"
				   " 'YYYY-MM-DD HH24:MI:SS') FROM release_claims"
				   " WHERE request = $1 AND id = $2 AND part = $3", 3, NULL, v,
				   NULL, NULL, 0);

	tz_err(err, errlen, "%s part %s is being or was released by %s at %s UTC (request %s)",
	       v[1], v[2], PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "another host",
	       PQntuples(r) == 1 ? PQgetvalue(r, 0, 1) : "?", v[0]);
	PQclear(r);
}

/* Insert (take) or delete (drop) every claim in one transaction. */
static int claims(const char *url, int take, const char *const *requests, const char *id,
		  const unsigned *parts, unsigned n, char *err, size_t errlen)
{
	PGconn *c = tz_pg_open(url, "textize-release", err, errlen);
	const char *host = g_get_host_name();
	int ret = -1;

	if (c == NULL)
		return -1;
	if (tz_pg_exec(c, "BEGIN", err, errlen) < 0)
		goto out;
	for (unsigned i = 0; i < n; i++) {
		char part[16];
		const char *const v[] = { requests[i], id, part, host };
		PGresult *r;
		snprintf(part, sizeof(part), "%u", parts[i]);
		r = PQexecParams(c, take ?
				 "INSERT INTO release_claims(request, id, part, host) VALUES($1,$2,$3,$4)"
				 " ON CONFLICT DO NOTHING" :
				 "DELETE FROM release_claims WHERE request = $1 AND id = $2 AND part = $3",
				 take ? 4 : 3, NULL, v, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			tz_pg_fail(c, "release claim", err, errlen);
			PQclear(r);
			goto rollback;
		}
		if (take && strcmp(PQcmdTuples(r), "1") != 0) {
			PQclear(r);
			holder(c, v, err, errlen);
			ret = 1;
			goto rollback;
		}
		PQclear(r);
	}
	ret = tz_pg_exec(c, "COMMIT", err, errlen);
	goto out;
rollback:
	PQclear(PQexec(c, "ROLLBACK"));
out:
	PQfinish(c);
	return ret;
}

int tz_pgclaim_take(const char *url, const char *const *requests, const char *id,
		    const unsigned *parts, unsigned n, char *err, size_t errlen)
{
	return claims(url, 1, requests, id, parts, n, err, errlen);
}

int tz_pgclaim_drop(const char *url, const char *const *requests, const char *id,
		    const unsigned *parts, unsigned n, char *err, size_t errlen)
{
	return claims(url, 0, requests, id, parts, n, err, errlen);
}
