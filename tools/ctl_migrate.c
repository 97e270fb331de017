/* ctl_migrate.c — `textizectl queue migrate`: move the entries of the
 * directory layout into the segment store (tz_store_migrate), each one
 * audited ("migrated"); safe to run again after an interruption, and
 * while the milter runs (the store reads both layouts meanwhile).
 * --dry-run only counts the entries still in the directory layout.
 * --to-blobs: every local entry into the BlobStore (tz_store_to_blobs),
 * audited, then indexed (the shared database's catch-up). */
#include <stdio.h>

#include "ctl.h"
#include "ctl_args.h"
#include "ctl_qenv.h"
#include "tz_audit.h"
#include "tz_blob.h"
#include "tz_store_link.h"
#include "tz_store.h"

struct migrate_run {
	struct tz_audit *audit;
	const char *op;
	unsigned unaudited;
	int remove_local;          /* --to-blobs --remove-local */
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

static int moved(void *ctx, const char *id, int how, char *err, size_t errlen)
{
	struct migrate_run *mr = ctx;
	struct tz_audit_event ev = { "migrated", mr->op, id, 0, NULL, NULL };

	ev.detail = how == TZ_TOBLOB_COPIED
		? (mr->remove_local ? "to the blob store; local copy removed" : "to the blob store; local copy kept")
		: "in the blob store already (compared); local copy removed";
	return mr->audit ? tz_audit_append(mr->audit, &ev, err, errlen) : 0;
}

static int to_blobs(const struct ctl_args *a, const char *op)
{
	struct migrate_run mr = { NULL, op, 0, 0 };
	struct tz_store_toblob mg = { moved, &mr, 0, 0, 0, 0, 0 };
	int dry = a->opt[CTL_O_DRY_RUN] != NULL, rm = a->opt[CTL_O_REMOVE_LOCAL] != NULL, rc;
	char err[TZ_ERRLEN], ierr[TZ_ERRLEN];
	unsigned bad = 0;
	struct ctl_qenv e;

	rc = ctl_qenv_open(&e, a->opt[CTL_O_CONF], CTL_NEED_STORE | (dry ? 0 : CTL_NEED_AUDIT | CTL_NEED_INDEX));
	if (rc)
		return rc;
	if (tz_store_blobs(e.st) == NULL) {
		ctl_qenv_close(&e);
		return ctl_fail(a, EX_CONFIG, "--to-blobs needs BlobStore s3 or postgresql");
	}
	mr.audit = e.audit;
	mr.remove_local = rm;
	rc = tz_store_to_blobs(e.st, dry, rm, &mg, err, sizeof(err));
	if (dry) {
		printf("would put %u of %u local entries into the blob store (%s); %u are there "
		       "already (dry run: nothing changed)\n", mg.pending, mg.local,
		       tz_blob_kind(tz_store_blobs(e.st)), mg.local - mg.pending);
	} else {
		printf("put %u entries into the blob store (%s), %u were there already; %u local "
		       "copies %s, %u entries left to put\n", mg.copied, tz_blob_kind(tz_store_blobs(e.st)),
		       mg.present, rm ? mg.copied + mg.present : mg.kept, rm ? "removed" : "kept",
		       mg.pending);
		/* listed from every gateway now; the index follows (as a catch-up) */
		if (e.ix && tz_index_sync(e.ix, e.st, 0, &bad, ierr, sizeof(ierr)) < 0) {
			fprintf(stderr, "textizectl: index: %s (run queue reindex)\n", ierr);
			bad++;
		}
	}
	if (rc < 0)
		rc = ctl_fail(a, EX_IOERR, "%s (run queue migrate --to-blobs again to resume)", err);
	else if (bad)
		rc = EX_IOERR;
	ctl_qenv_close(&e);
	return rc;
}

int ctl_queue_migrate(const struct ctl_args *a)
{
	const char *op = ctl_operator(a, "migration");
	struct migrate_run mr = { NULL, op, 0, 0 };
	struct tz_store_migration mg = { migrated, &mr, 0, 0, 0 };
	char err[TZ_ERRLEN];
	struct ctl_qenv e;
	int rc;

	if (op == NULL)
		return EX_USAGE;
	if (a->opt[CTL_O_REMOVE_LOCAL] && !a->opt[CTL_O_TO_BLOBS])
		return ctl_fail(a, EX_USAGE, "--remove-local goes with --to-blobs");
	if (a->opt[CTL_O_TO_BLOBS])
		return to_blobs(a, op);
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
