/* tz_pgschema.c — the shared database's schema as numbered migrations,
 * and applying them (see tz_pg.h). A migration is never edited once
 * released: a change is a new one at the end, so every database walks the
 * same path from empty. */
#include "tz_pg.h"

#include <stdio.h>
#include <glib.h>

#include "tz_util.h"

/* Taken for the length of each migration's transaction: hosts migrating at
 * once apply each step once, in turn ("textize" in ASCII). */
#define MIGRATE_LOCK "7465787469"

static const char *const migrations[] = {
	/* 1: the queue index (the same columns as the SQLite index, so the
	 * same queries read it), the audit chain and its head, and release
	 * claims. */
	"CREATE TABLE schema_version(version integer PRIMARY KEY,"
	" applied_at timestamptz NOT NULL DEFAULT now());"
	"CREATE TABLE entries(id text PRIMARY KEY, stored_time bigint NOT NULL,"
	" stored_at text, sender text, sender_domain text, rcpts text, subject text,"
	" message_id text, client_addr text, direction text, spf text, kind text,"
	" nparts integer, original_size bigint, ref text, gateway text);"
	"CREATE INDEX entries_time ON entries(stored_time);"
	"CREATE TABLE rcpts(id text NOT NULL REFERENCES entries(id) ON DELETE CASCADE,"
	" addr text NOT NULL);"
	"CREATE INDEX rcpts_id ON rcpts(id);"
	"CREATE TABLE parts(id text NOT NULL REFERENCES entries(id) ON DELETE CASCADE,"
	" idx integer NOT NULL, filename text, reason text, declared_type text,"
	" detected_type text, size bigint, sha256 text, risk integer, state text,"
	" verdict text, PRIMARY KEY(id, idx));"
	/* the audit chain: one row per record, its text exactly as the file
	 * format has it; audit_head is the row writers lock to serialise */
	"CREATE TABLE audit(seq bigint PRIMARY KEY, record text NOT NULL);"
	"CREATE TABLE audit_head(one boolean PRIMARY KEY DEFAULT true CHECK(one),"
	" seq bigint NOT NULL, mac text NOT NULL);"
	"INSERT INTO audit_head VALUES(true, 0, repeat('0', 64));"
	/* one row per (request, entry, part) delivered: the first host to
	 * insert it delivers, every other sees the conflict and does not */
	"CREATE TABLE release_claims(request text NOT NULL, id text NOT NULL,"
	" part integer NOT NULL, host text NOT NULL,"
	" claimed_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY(request, id, part));",

	/* 2: the outbound circuit breaker shared by every gateway: its
	 * tripped state (one row) and the outbound messages of the longest
	 * window (pruned by the writers). */
	"CREATE TABLE breaker(one boolean PRIMARY KEY DEFAULT true CHECK(one),"
	" generation bigint NOT NULL DEFAULT 0, tripped boolean NOT NULL DEFAULT false,"
	" since bigint NOT NULL DEFAULT 0, reason text NOT NULL DEFAULT '');"
	"INSERT INTO breaker DEFAULT VALUES;"
	"CREATE TABLE breaker_events(t bigint NOT NULL, sender text NOT NULL,"
	" rcpts integer NOT NULL, host text NOT NULL);"
	"CREATE INDEX breaker_events_sender ON breaker_events(sender, t);"
	"CREATE INDEX breaker_events_t ON breaker_events(t);"
	"CREATE TABLE breaker_senders(sender text PRIMARY KEY, since bigint NOT NULL);",

	/* 3 (branch cluster): release claims get a holder (pid, boot id), a
	 * state and a lease (tz_pgclaim.h). A claim made before this
	 * migration may have been sent or not: it becomes "sending", which
	 * only an operator's --reclaim takes over. */
	"ALTER TABLE release_claims ADD COLUMN pid integer NOT NULL DEFAULT 0,"
	" ADD COLUMN boot_id text NOT NULL DEFAULT '',"
	" ADD COLUMN state text NOT NULL DEFAULT 'sending'"
	"  CHECK (state IN ('claimed', 'sending', 'sent')),"
	" ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();"
	"UPDATE release_claims SET updated_at = claimed_at;"
	"ALTER TABLE release_claims ALTER COLUMN state SET DEFAULT 'claimed';",

	/* 4 (branch cluster): the sender block/allow list, shared
	 * (tz_pgsenders.h); SenderListFile's lines as rows. */
	"CREATE TABLE sender_list(kind text NOT NULL CHECK (kind IN ('block', 'allow')),"
	" pattern text NOT NULL, added_at timestamptz NOT NULL DEFAULT now(),"
	" added_by text NOT NULL DEFAULT '', PRIMARY KEY(pattern, kind));",

	/* 5 (tenant branch): the Tenant section each entry was stored under
	 * (docs/tenants.md); NULL for entries of no tenant. Tenant-limited
	 * views filter on it. */
	"ALTER TABLE entries ADD COLUMN tenant text;"
	"CREATE INDEX entries_tenant ON entries(tenant, stored_time);",

	/* 6 (branch s3): shared blobs (BlobStore postgresql, tz_blob_pg.c): every file of
	 * every entry as tz_crypt sealed it, in chunks of at most 1 MiB */
	"CREATE TABLE blobs(id text NOT NULL, name text NOT NULL, chunk integer NOT NULL,"
	" data bytea NOT NULL, PRIMARY KEY(id, name, chunk));",

	/* 7 (branch refs): the 参照番号 every gateway reserves (tz_ref_pg.c):
	 * one code per local day (YYYYMMDD) across the cluster, one code per
	 * entry; the host that reserved it for the operator's eyes only */
	"CREATE TABLE refs(day integer NOT NULL, code text NOT NULL, id text NOT NULL UNIQUE,"
	" gateway text NOT NULL DEFAULT '', reserved_at timestamptz NOT NULL DEFAULT now(),"
	" PRIMARY KEY(day, code));",
};

G_STATIC_ASSERT(G_N_ELEMENTS(migrations) == TZ_PG_SCHEMA_VERSION);

/* One migration, in its own transaction: lock, re-read the version (another
 * host may have just applied it), apply, record. *applied = 1 if it ran. */
static int migrate_one(PGconn *conn, int version, int *applied, char *err, size_t errlen)
{
	char rec[128];
	int now;

	*applied = 0;
	if (tz_pg_exec(conn, "BEGIN; SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ")", err, errlen) < 0)
		return -1;
	if (tz_pg_schema_version(conn, &now, err, errlen) < 0)
		goto fail;
	if (now >= version)
		return tz_pg_exec(conn, "COMMIT", err, errlen);
	if (now != version - 1) {
		tz_err(err, errlen, "database: schema version %d, cannot apply migration %d", now, version);
		goto fail;
	}
	snprintf(rec, sizeof(rec), "INSERT INTO schema_version(version) VALUES(%d)", version);
	if (tz_pg_exec(conn, migrations[version - 1], err, errlen) < 0 ||
	    tz_pg_exec(conn, rec, err, errlen) < 0 || tz_pg_exec(conn, "COMMIT", err, errlen) < 0)
		goto fail;
	*applied = 1;
	return 0;
fail:
	{
		PGresult *r = PQexec(conn, "ROLLBACK");   /* keep err: the first failure */
		PQclear(r);
	}
	return -1;
}

int tz_pg_migrate(PGconn *conn, int target, int *from, int *to, char *err, size_t errlen)
{
	int v, applied;

	if (target == 0)
		target = TZ_PG_SCHEMA_VERSION;
	if (target < 0 || target > TZ_PG_SCHEMA_VERSION)
		return tz_err(err, errlen, "no schema version %d (this textize knows 1 to %d)",
			      target, TZ_PG_SCHEMA_VERSION);
	if (tz_pg_schema_version(conn, &v, err, errlen) < 0)
		return -1;
	*from = *to = v;
	if (v > target)
		return tz_err(err, errlen, "database schema is version %d, newer than %d: "
			      "no downgrades", v, target);
	for (int i = v + 1; i <= target; i++) {
		if (migrate_one(conn, i, &applied, err, errlen) < 0)
			return -1;
		*to = i;
	}
	return 0;
}
