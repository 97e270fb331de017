/* ctl_breaker.c — `textizectl breaker status|reset [--state-dir DIR]`:
 * show or reset the outbound circuit breaker. The milter persists the
 * breaker in StateDir/breaker.state (see tz_breaker.h); status reads that
 * file, reset rewrites it (under its lock) with a new generation, which
 * every running milter notices on its next outbound message and so clears
 * its counters and lets outbound mail flow again. With StoreBackend
 * postgresql (and no --state-dir) both act on the shared database's
 * breaker row instead, which every gateway polls (tz_pgbreaker.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_args.h"
#include "tz_breaker.h"
#include "tz_config.h"
#include "tz_pgbreaker.h"
#include "textize.h"


static void print_time(const char *label, time_t t)
{
	char buf[64];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
	printf("%s%s\n", label, buf);
}

static int show(const char *path)
{
	struct tz_breaker_state st;
	char err[TZ_ERRLEN];
	int ret = 1;

	tz_breaker_state_init(&st);
	if (tz_breaker_state_load(path, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "textizectl: %s\n", err);
		printf("breaker: UNREADABLE STATE (outbound mail is tempfailed; `textizectl breaker reset` repairs it)\n");
		goto out;
	}
	printf("breaker: %s\n", st.tripped ? "TRIPPED (outbound mail is tempfailed)" : "normal");
	if (st.tripped) {
		print_time("since: ", st.since);
		printf("reason: %s\n", st.reason);
	}
	printf("generation: %llu\n", (unsigned long long)st.generation);
	printf("senders over their limit: %u\n", st.senders->len);
	for (guint i = 0; i < st.senders->len; i++) {
		char *line = g_ptr_array_index(st.senders, i), *sp = strchr(line, ' ');
		time_t t = (time_t)g_ascii_strtoll(line, NULL, 10);
		char buf[64];
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
		printf("  %s  %s\n", buf, sp ? sp + 1 : line);
	}
	ret = 0;
out:
	tz_breaker_state_clear(&st);
	return ret;
}

static int reset(const char *path)
{
	char err[TZ_ERRLEN];

	if (tz_breaker_reset_file(path, err, sizeof(err)) < 0) {
		fprintf(stderr, "textizectl: breaker reset: %s\n", err);
		return 1;
	}
	printf("breaker: reset; outbound mail flows again\n");
	return 0;
}

/* status / reset on the shared database (StoreBackend postgresql) */
static int shared(const struct ctl_args *a, const char *url)
{
	struct tz_pgbreaker *pb = tz_pgbreaker_new(url);
	struct tz_pgbreaker_row row;
	char err[TZ_ERRLEN];
	uint64_t gen;
	int ret = 0;

	if (strcmp(a->cmd->sub, "reset") == 0) {
		if (tz_pgbreaker_reset(pb, &gen, err, sizeof(err)) < 0)
			ret = ctl_fail(a, EX_UNAVAILABLE, "%s", err);
		else
			printf("breaker: reset; outbound mail flows again (every gateway within a second)\n");
	} else if (tz_pgbreaker_load(pb, &row, err, sizeof(err)) < 0) {
		ret = ctl_fail(a, EX_UNAVAILABLE, "%s", err);
		printf("breaker: UNREADABLE SHARED STATE (outbound mail is tempfailed on every gateway)\n");
	} else {
		printf("breaker: %s\n", row.tripped ? "TRIPPED (outbound mail is tempfailed)" : "normal");
		if (row.tripped) {
			print_time("since: ", (time_t)row.since);
			printf("reason: %s\n", row.reason);
		}
		printf("generation: %llu\n", (unsigned long long)row.generation);
		printf("shared: every gateway on the same DatabaseURL\n");
	}
	tz_pgbreaker_free(pb);
	return ret;
}

int ctl_breaker(const struct ctl_args *a)
{
	const char *conf = a->opt[CTL_O_CONF], *state_dir = a->opt[CTL_O_STATE_DIR];
	struct tz_config *cfg = NULL;
	char err[TZ_ERRLEN], *path = NULL;
	int ret;

	if (state_dir == NULL) {
		cfg = ctl_config_load(&conf, err, sizeof(err));
		if (cfg == NULL)
			return ctl_fail(a, EX_CONFIG, "%s", err);
		if (tz_config_store_shared(cfg)) {
			ret = shared(a, cfg->database_url);
			goto out;
		}
		state_dir = cfg->state_dir;
	}
	if (state_dir == NULL) {
		ret = ctl_fail(a, EX_CONFIG, "StateDir is not set (set it, or give --state-dir DIR)");
		goto out;
	}
	path = g_build_filename(state_dir, TZ_BREAKER_STATE_FILE, NULL);
	ret = strcmp(a->cmd->sub, "status") == 0 ? show(path) : reset(path);
out:
	g_free(path);
	tz_config_unref(cfg);
	return ret;
}
