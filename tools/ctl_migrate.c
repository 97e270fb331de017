/* ctl_migrate.c — `textizectl queue migrate`: move the entries of the
 * directory layout into the segment store (tz_store_migrate), each one
 * audited ("migrated"); safe to run again after an interruption, and
 * while the milter runs (the store reads both layouts meanwhile).
 * --dry-run only counts the entries still in the directory layout. */
#include <stdio.h>

#include "ctl.h"
#include "ctl_args.h"
#include "ctl_qenv.h"
#include "tz_audit.h"
#include "tz_store.h"

struct migrate_run {
	struct tz_audit *audit;
	const char *op;
	unsigned unaudited;
};

static void migrated(void *ctx, const char *id, int resumed)
{
	struct migrate_run *mr = ctx;
	struct tz_audit_event ev = { "migrated", mr->op, id, 0, NULL,
				     resumed ? "to the segment store (resumed)" : "to the segment store" };
	char err[TZ_ERRLEN];

	if (mr->audit && tz_audit_append(mr->audit, &ev, err, sizeof(err)) < 0) {
		fprintf(stderr, "textizectl: %s: not audited: %s\n", id, err);
		mr->unaudited++;
	}
}

int ctl_queue_migrate(const struct ctl_args *a)
{
	const char *op = ctl_operator(a, "migration");
	struct migrate_run mr = { NULL, op, 0 };
	struct tz_store_migration mg = { migrated, &mr, 0, 0, 0 };
	char err[TZ_ERRLEN];
	struct ctl_qenv e;
	int rc;

	if (op == NULL)
		return EX_USAGE;
	if (a->opt[CTL_O_DRY_RUN]) {
		rc = ctl_qenv_open(&e, a->opt[CTL_O_CONF], CTL_NEED_STORE);
		if (rc)
			return rc;
		/* Counts only: no segment store is created, nothing audited. */
		rc = tz_store_migrate(e.st, 1, &mg, err, sizeof(err));
		printf("would migrate %u entries to the segment store (dry run: nothing changed)\n",
		       mg.pending);
		ctl_qenv_close(&e);
		return rc < 0 ? ctl_fail(a, EX_IOERR, "%s", err) : 0;
	}
	rc = ctl_qenv_open(&e, a->opt[CTL_O_CONF], CTL_NEED_STORE | CTL_NEED_AUDIT);
	if (rc)
		return rc;
	mr.audit = e.audit;
	rc = tz_store_migrate(e.st, 0, &mg, err, sizeof(err));
	printf("migrated %u entries to the segment store (%u finished from an earlier run), "
	       "%u left in the directory layout\n", mg.copied, mg.resumed, mg.pending);
	if (rc < 0)
		rc = ctl_fail(a, EX_IOERR, "%s (run queue migrate again to resume)", err);
	else if (mr.unaudited)
		rc = EX_IOERR;
	ctl_qenv_close(&e);
	return rc;
}
