/* ctl_report.c — `textizectl report daily [--date YYYY-MM-DD] [--format
 * html|csv|json] [--out FILE [--force]] [--tenant NAME]`: the daily report
 * of the queue (or of one tenant's entries), from SQLite and AuditLog or,
 * on StoreBackend postgresql, the database.
 * Options are parsed by ctl_args.c (the table in textizectl.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "ctl_args.h"
#include "ctl_qenv.h"
#include "tz_index.h"
#include "tz_localtime.h"
#include "tz_report.h"
#include "tz_store_link.h"
#include "tz_tenant.h"

int ctl_report_daily(const struct ctl_args *a)
{
	const char *date = a->opt[CTL_O_DATE], *out = a->opt[CTL_O_OUT];
	const char *format = a->opt[CTL_O_FORMAT] ? a->opt[CTL_O_FORMAT] : "html";
	struct ctl_qenv e;
	struct tz_report *r;
	char err[TZ_ERRLEN], *text;
	unsigned bad;
	int64_t day;
	int rc;

	if (date && (strlen(date) != 10 || tz_local_date_parse(date, 0, &day) < 0))
		return ctl_fail(a, EX_USAGE, "--date: bad date '%s' (YYYY-MM-DD)", date);
	if ((rc = ctl_out_check(a, out)) != 0)
		return rc;
	if ((rc = ctl_qenv_open(&e, a->opt[CTL_O_CONF], CTL_NEED_STORE | CTL_NEED_INDEX |
				CTL_NEED_INDEX_SET)) != 0)
		return rc;
	/* A tenant's view: only the tenant's entries and the audit records of
	 * those entries (tz_report_daily_tenant). */
	if ((rc = ctl_qenv_tenant(&e, a)) != 0) {
		ctl_qenv_close(&e);
		return rc;
	}
	if (e.ix == NULL || tz_index_sync(e.ix, e.st, 0, &bad, err, sizeof(err)) < 0 ||
	    (r = tz_report_daily_tenant(e.ix, date, e.tenant ? e.tenant->name : NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "textizectl: %s\n", e.ix ? err : "ReportDatabase is not set");
		ctl_qenv_close(&e);
		return 1;
	}
	/* What happened that day comes from the audit log, not from the
	 * parts' states now (a rejected detection was still a detection). */
	if ((tz_config_store_shared(e.cfg) ? tz_report_add_events_db(r, e.cfg->database_url, err, sizeof(err))
	     : tz_report_add_events(r, e.cfg->audit_log, err, sizeof(err))) < 0 ||
	    (tz_report_add_refs(r, e.ix) < 0 && tz_err(err, sizeof(err), "report: reading the index failed") < 0)) {
		fprintf(stderr, "textizectl: %s\n", err);
		tz_report_free(r);
		ctl_qenv_close(&e);
		return 1;
	}
	if (r->bad_events)
		fprintf(stderr, "textizectl: %" G_GINT64_FORMAT " audit records could not be read "
			"(run textizectl audit verify)\n", r->bad_events);
	text = strcmp(format, "html") == 0 ? tz_report_html(r)
	     : strcmp(format, "csv") == 0 ? tz_report_csv(r) : tz_report_json(r);
	rc = ctl_out_write(a, out, text);
	g_free(text);
	tz_report_free(r);
	ctl_qenv_close(&e);
	return rc;
}
