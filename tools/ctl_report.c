/* ctl_report.c — `textizectl report daily [-c CONF] [--date YYYY-MM-DD]
 * [--format html|csv|json] [--out FILE]`: the daily report of the queue. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "ctl_qenv.h"
#include "tz_index.h"
#include "tz_report.h"

static void usage(FILE *f)
{
	fputs("usage: textizectl report daily [-c CONF] [--date YYYY-MM-DD] [--format html|csv|json] [--out FILE]\n", f);
}

static int write_out(const char *path, const char *text)
{
	FILE *f = path ? fopen(path, "w") : stdout;

	if (f == NULL) {
		perror(path);
		return 1;
	}
	fputs(text, f);
	if (path && fclose(f) != 0) {
		perror(path);
		return 1;
	}
	return 0;
}

int ctl_report(int argc, char **argv)
{
	const char *conf = NULL, *date = NULL, *format = "html", *out = NULL;
	struct ctl_qenv e;
	struct tz_report *r;
	char err[TZ_ERRLEN], *text;
	unsigned bad;
	int rc;

	if (argc < 2 || strcmp(argv[1], "daily") != 0) {
		usage(stderr);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		const char **slot = strcmp(argv[i], "-c") == 0 ? &conf : strcmp(argv[i], "--date") == 0 ? &date
				  : strcmp(argv[i], "--format") == 0 ? &format : strcmp(argv[i], "--out") == 0 ? &out : NULL;
		if (slot == NULL || i + 1 >= argc) {
			usage(stderr);
			return 2;
		}
		*slot = argv[++i];
	}
	if (strcmp(format, "html") != 0 && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0) {
		usage(stderr);
		return 2;
	}
	if (ctl_qenv_open(&e, conf, CTL_NEED_STORE | CTL_NEED_INDEX) < 0)
		return 1;
	if (e.ix == NULL || tz_index_sync(e.ix, e.st, 0, &bad, err, sizeof(err)) < 0 ||
	    (r = tz_report_daily(e.ix, date, err, sizeof(err))) == NULL) {
		fprintf(stderr, "textizectl: %s\n", e.ix ? err : "ReportDatabase is not set");
		ctl_qenv_close(&e);
		return 1;
	}
	/* What happened that day comes from the audit log, not from the
	 * parts' states now (a rejected detection was still a detection). */
	if (tz_report_add_events(r, e.cfg->audit_log, err, sizeof(err)) < 0 ||
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
	rc = write_out(out, text);
	g_free(text);
	tz_report_free(r);
	ctl_qenv_close(&e);
	return rc;
}
