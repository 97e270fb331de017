/* ctl_sanitize.c — `textizectl queue sanitize [--watch] [--interval S] [ID]`:
 * the built-in sanitizer over the quarantine (sanitize/tz_cdr_queue.h), with
 * the Sanitize* keys of the config. SanitizeWorkers parts at a time, niced: the
 * converters are single-threaded (OMP_THREAD_LIMIT=1 for tesseract), so one
 * worker uses one core and the milter keeps the other. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_qenv.h"
#include "tz_cdr_ppap.h"
#include "tz_cdr_queue.h"
#include "tz_crypt.h"
#include "tz_tenant.h"
#include "tz_util.h"

static volatile sig_atomic_t stop_sanitize;

static void on_term(int sig)
{
	(void)sig;
	stop_sanitize = 1;
}

int ctl_sanitize(struct ctl_qenv *e, const char *id, int watch, unsigned interval)
{
	const struct tz_config *c = e->cfg;
	struct tz_cdr_queue q = { .st = e->st, .audit = e->audit, .ix = e->ix, .workers = 1 };
	unsigned n;
	char err[TZ_ERRLEN];
	int rc = 0;

	tz_cdr_opts_from_config(&q.opts, c);
	q.workers = c->sanitize_workers ? c->sanitize_workers : 1;
	/* each entry by its tenant's SanitizedDelivery (docs/tenants.md) */
	q.deliver_for = tz_tenant_sanitized_auto;
	q.deliver_ctx = c;
	if (tz_config_any_sanitized_auto(c)) {
		if (c->release_key_file == NULL) {
			fprintf(stderr, "textizectl: SanitizedDelivery auto needs ReleaseKeyFile: "
				"sanitized copies wait for queue release\n");
		} else if (tz_key_load(c->release_key_file, e->release_key, err, sizeof err) < 0) {
			fprintf(stderr, "textizectl: %s\n", err);
			return 1;
		} else {
			e->q.release_key = e->release_key;
			q.deliver = &e->q;
		}
	}
	if (setpriority(PRIO_PROCESS, 0, 10) != 0)
		fprintf(stderr, "textizectl: could not lower the priority\n");
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	for (;;) {
		n = 0;
		rc = id ? tz_cdr_queue_entry(&q, id, &n, err, sizeof err)
			: tz_cdr_queue_all(&q, &n, err, sizeof err);
		if (rc != 0)
			fprintf(stderr, "textizectl: sanitizer: %s (parts stay as they were)\n", err);
		if (n || !watch)
			printf("sanitized or decided %u parts\n", n);
		fflush(stdout);
		if (!watch || stop_sanitize)
			break;
		for (unsigned s = 0; s < (interval ? interval : 1) && !stop_sanitize; s++)
			sleep(1);
		if (stop_sanitize)
			break;
	}
	return rc < 0 ? 75 : 0;
}
