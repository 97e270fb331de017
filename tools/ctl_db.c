/* ctl_db.c — `textizectl db status|migrate [VERSION]`: the shared database
 * of a gateway cluster (StoreBackend postgresql, DatabaseURL). status
 * prints the schema version and exits 0 when it is the one this textize
 * needs, 1 when not; migrate applies the missing migrations (tz_pg.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "ctl.h"
#include "ctl_args.h"
#include "tz_config.h"
#include "tz_pg.h"

static int status(PGconn *conn, const struct ctl_args *a)
{
	char err[TZ_ERRLEN];
	int v;

	if (tz_pg_schema_version(conn, &v, err, sizeof(err)) < 0)
		return ctl_fail(a, EX_UNAVAILABLE, "%s", err);
	printf("schema version %d (this textize needs %d)%s\n", v, TZ_PG_SCHEMA_VERSION,
	       v == TZ_PG_SCHEMA_VERSION ? "" : v < TZ_PG_SCHEMA_VERSION ?
	       ": run textizectl db migrate" : ": upgrade textize on this host");
	return v == TZ_PG_SCHEMA_VERSION ? 0 : 1;
}

static int migrate(PGconn *conn, const struct ctl_args *a)
{
	const char *to_s = ctl_arg(a, 0);
	char err[TZ_ERRLEN], *end = NULL;
	long to = 0;
	int from, now;

	if (to_s) {
		to = strtol(to_s, &end, 10);
		if (*to_s == '\0' || *end || to < 1 || to > TZ_PG_SCHEMA_VERSION)
			return ctl_fail(a, EX_USAGE, "VERSION must be 1 to %d: %s",
					TZ_PG_SCHEMA_VERSION, to_s);
	}
	if (tz_pg_migrate(conn, (int)to, &from, &now, err, sizeof(err)) < 0)
		return ctl_fail(a, EX_UNAVAILABLE, "%s (schema now version %d)", err, now);
	if (from == now)
		printf("schema version %d: nothing to do\n", now);
	else
		printf("schema migrated from version %d to %d\n", from, now);
	return 0;
}

int ctl_db(const struct ctl_args *a)
{
	const char *conf = a->opt[CTL_O_CONF];
	struct tz_config *cfg;
	PGconn *conn = NULL;
	char err[TZ_ERRLEN];
	int ret;

	cfg = ctl_config_load(&conf, err, sizeof(err));
	if (cfg == NULL)
		return ctl_fail(a, EX_CONFIG, "%s", err);
	if (cfg->database_url == NULL) {
		ret = ctl_fail(a, EX_CONFIG, "DatabaseURL is not set in %s",
			       conf ? conf : "the defaults");
		goto out;
	}
	conn = tz_pg_connect(cfg->database_url, "textizectl", err, sizeof(err));
	if (conn == NULL) {
		ret = ctl_fail(a, EX_UNAVAILABLE, "%s", err);
		goto out;
	}
	ret = strcmp(a->cmd->sub, "status") == 0 ? status(conn, a) : migrate(conn, a);
out:
	PQfinish(conn);
	tz_config_unref(cfg);
	return ret;
}
