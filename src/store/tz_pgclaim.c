/* tz_pgclaim.c — release claims with a lease (see tz_pgclaim.h; table
 * release_claims, tz_pgschema.c migrations 1 and 3). One short connection
 * per step: releases are an operator's actions, not a hot path. */
#include "tz_pgclaim.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>

#include "tz_pg.h"
#include "tz_util.h"

#define KEY "request = $1 AND id = $2 AND part = $3"
#define MINE KEY " AND host = $4 AND pid = $5::int AND boot_id = $6"

static const char *const state_names[] = { "claimed", "sending", "sent" };

const char *tz_claim_state_name(enum tz_claim_state s)
{
	return (unsigned)s < G_N_ELEMENTS(state_names) ? state_names[s] : "?";
}

enum tz_claim_verdict tz_claim_judge(const struct tz_claim_holder *h, bool reclaim,
				     int64_t lease_s)
{
	bool gone = h->same_host && (!h->same_boot || !h->pid_alive);
	bool stale = gone || h->idle_s > lease_s;

	switch (h->state) {
	case TZ_CLAIM_CLAIMED:
		return stale ? TZ_CLAIM_TAKE : TZ_CLAIM_HELD;
	case TZ_CLAIM_SENDING:
		return !stale ? TZ_CLAIM_HELD : reclaim ? TZ_CLAIM_TAKE : TZ_CLAIM_ASK;
	case TZ_CLAIM_SENT:
	default:
		return TZ_CLAIM_DONE;
	}
}

/* This process as a claim's holder: host, pid, boot id. */
struct me {
	char pid[16];
	char boot[64];
	const char *host;
};

static void me_init(struct me *me)
{
	gchar *b = NULL;

	me->host = g_get_host_name();
	snprintf(me->pid, sizeof(me->pid), "%ld", (long)getpid());
	if (g_file_get_contents("/proc/sys/kernel/random/boot_id", &b, NULL, NULL))
		g_strlcpy(me->boot, g_strstrip(b), sizeof(me->boot));
	else
		g_strlcpy(me->boot, "unknown", sizeof(me->boot));
	g_free(b);
}

static enum tz_claim_state state_of(const char *s)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(state_names); i++)
		if (strcmp(s, state_names[i]) == 0)
			return (enum tz_claim_state)i;
	return TZ_CLAIM_SENT;   /* unknown: the strictest */
}

/* The claim another holder has on v's key, judged; locked FOR UPDATE for
 * the rest of the transaction. *desc = the holder for messages. */
static int judge_row(PGconn *c, const char *const *v, const struct me *me, bool reclaim,
		     enum tz_claim_verdict *out, char **desc, char *err, size_t errlen)
{
	PGresult *r = PQexecParams(c, "SELECT state, host, pid, boot_id,"
				   " floor(extract(epoch FROM now() - updated_at))::bigint,"
				   " to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
				   " FROM release_claims WHERE " KEY " FOR UPDATE", 3, NULL, v, NULL,
				   NULL, 0);
	struct tz_claim_holder h = { 0 };
	long pid;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return tz_pg_fail(c, "release claim", err, errlen);
	}
	if (PQntuples(r) != 1) {   /* given back between our insert and now */
		PQclear(r);
		*out = TZ_CLAIM_HELD;
		*desc = g_strdup("another host (its claim just went; try again)");
		return 0;
	}
	pid = g_ascii_strtoll(PQgetvalue(r, 0, 2), NULL, 10);
	h.state = state_of(PQgetvalue(r, 0, 0));
	h.same_host = strcmp(PQgetvalue(r, 0, 1), me->host) == 0;
	h.same_boot = strcmp(PQgetvalue(r, 0, 3), me->boot) == 0;
	h.pid_alive = pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
	h.idle_s = g_ascii_strtoll(PQgetvalue(r, 0, 4), NULL, 10);
	*out = tz_claim_judge(&h, reclaim, TZ_PGCLAIM_LEASE_S);
	*desc = g_strdup_printf("host=%s pid=%ld state=%s since=%sZ", PQgetvalue(r, 0, 1), pid,
				PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 5));
	PQclear(r);
	return 0;
}

static void refusal(enum tz_claim_verdict vd, const char *const *v, const char *desc,
		    char *err, size_t errlen)
{
	tz_err(err, errlen, "%s part %s (request %s) is claimed: %s; %s", v[1], v[2], v[0], desc,
	       vd == TZ_CLAIM_DONE ? "it was sent for this request" :
	       vd == TZ_CLAIM_ASK ? "its holder is gone while sending: check the MTA's log, and "
				    "only if the part was not delivered release it with --reclaim" :
	       "its holder may still be at work (the lease is " G_STRINGIFY(TZ_PGCLAIM_LEASE_S) " s)");
}

/* One part's claim inside take's transaction: 0 claimed, 1 refused, -1. */
static int take_one(PGconn *c, const char *const *v, const struct me *me, bool reclaim,
		    char **reclaimed, char *err, size_t errlen)
{
	PGresult *r = PQexecParams(c, "INSERT INTO release_claims(request, id, part, host, pid,"
				   " boot_id, state) VALUES($1, $2, $3, $4, $5::int, $6, 'claimed')"
				   " ON CONFLICT DO NOTHING", 6, NULL, v, NULL, NULL, 0);
	enum tz_claim_verdict vd = TZ_CLAIM_HELD;
	char *desc = NULL;
	int ret;

	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		PQclear(r);
		return tz_pg_fail(c, "release claim", err, errlen);
	}
	ret = strcmp(PQcmdTuples(r), "1") == 0 ? 0 : 1;
	PQclear(r);
	if (ret == 0)
		return 0;
	if (judge_row(c, v, me, reclaim, &vd, &desc, err, errlen) < 0)
		return -1;
	if (vd != TZ_CLAIM_TAKE) {
		refusal(vd, v, desc, err, errlen);
		g_free(desc);
		return 1;
	}
	r = PQexecParams(c, "UPDATE release_claims SET host = $4, pid = $5::int, boot_id = $6,"
			 " state = 'claimed', claimed_at = now(), updated_at = now() WHERE " KEY,
			 6, NULL, v, NULL, NULL, 0);
	ret = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : tz_pg_fail(c, "release claim", err, errlen);
	PQclear(r);
	if (ret == 0 && reclaimed)
		*reclaimed = desc;
	else
		g_free(desc);
	return ret;
}

/* Run step over every part in one transaction; 0, 1 (refused, rolled
 * back) or -1 (rolled back). */
typedef int (*claim_step)(PGconn *c, const char *const *v, const struct me *me, int arg,
			  char **slot, char *err, size_t errlen);

static int each_part(const char *url, const char *const *requests, const char *id,
		     const unsigned *parts, unsigned n, claim_step step, int arg, char **slots,
		     char *err, size_t errlen)
{
	PGconn *c = tz_pg_open(url, "textize-release", err, errlen);
	struct me me;
	int ret = 0;

	if (c == NULL)
		return -1;
	me_init(&me);
	if (tz_pg_exec(c, "BEGIN", err, errlen) < 0) {
		PQfinish(c);
		return -1;
	}
	for (unsigned i = 0; i < n && ret == 0; i++) {
		char part[16];
		const char *const v[] = { requests[i], id, part, me.host, me.pid, me.boot };
		snprintf(part, sizeof(part), "%u", parts[i]);
		ret = step(c, v, &me, arg, slots ? &slots[i] : NULL, err, errlen);
	}
	if (ret == 0)
		ret = tz_pg_exec(c, "COMMIT", err, errlen);
	else
		PQclear(PQexec(c, "ROLLBACK"));
	if (ret != 0 && slots)
		for (unsigned i = 0; i < n; i++)
			g_clear_pointer(&slots[i], g_free);
	PQfinish(c);
	return ret;
}

static int step_take(PGconn *c, const char *const *v, const struct me *me, int reclaim,
		     char **slot, char *err, size_t errlen)
{
	return take_one(c, v, me, reclaim != 0, slot, err, errlen);
}

/* Move (or with to < 0 delete) this process's claim on v's key. */
static int step_mine(PGconn *c, const char *const *v, const struct me *me, int to,
		     char **slot, char *err, size_t errlen)
{
	const char *const vv[] = { v[0], v[1], v[2], v[3], v[4], v[5],
				   to >= 0 ? tz_claim_state_name((enum tz_claim_state)to) : NULL };
	PGresult *r = PQexecParams(c, to >= 0 ?
				   "UPDATE release_claims SET state = $7, updated_at = now()"
				   " WHERE " MINE " AND state <> 'sent'" :
				   "DELETE FROM release_claims WHERE " MINE " AND state <> 'sent'",
				   to >= 0 ? 7 : 6, NULL, vv, NULL, NULL, 0);
	int ret = 0;

	(void)me;
	(void)slot;
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		ret = tz_pg_fail(c, "release claim", err, errlen);
	else if (strcmp(PQcmdTuples(r), "1") != 0) {
		tz_err(err, errlen, "%s part %s (request %s): this host's claim was taken over "
		       "(stale after " G_STRINGIFY(TZ_PGCLAIM_LEASE_S) " s); not sent", v[1], v[2], v[0]);
		ret = 1;
	}
	PQclear(r);
	return ret;
}

int tz_pgclaim_take(const char *url, const char *const *requests, const char *id,
		    const unsigned *parts, unsigned n, bool reclaim, char **reclaimed,
		    char *err, size_t errlen)
{
	return each_part(url, requests, id, parts, n, step_take, reclaim, reclaimed, err, errlen);
}

int tz_pgclaim_mark(const char *url, const char *const *requests, const char *id,
		    const unsigned *parts, unsigned n, enum tz_claim_state to,
		    char *err, size_t errlen)
{
	return each_part(url, requests, id, parts, n, step_mine, (int)to, NULL, err, errlen);
}

int tz_pgclaim_drop(const char *url, const char *const *requests, const char *id,
		    const unsigned *parts, unsigned n, char *err, size_t errlen)
{
	return each_part(url, requests, id, parts, n, step_mine, -1, NULL, err, errlen) == 0 ? 0 : -1;
}
