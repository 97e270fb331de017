/* ctl_breaker.c — `textizectl breaker [-c CONF] [--state-dir DIR] status|reset`:
 * show or reset the outbound circuit breaker. The milter persists the
 * breaker in StateDir/breaker.state (see tz_breaker.h); status reads that
 * file, reset rewrites it (under its lock) with a new generation, which
 * every running milter notices on its next outbound message and so clears
 * its counters and lets outbound mail flow again. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "tz_breaker.h"
#include "tz_config.h"
#include "textize.h"


static void usage(FILE *f)
{
	fputs("usage: textizectl breaker [-c CONF] [--state-dir DIR] status|reset\n"
	      "  status  show whether outbound mail is stopped, why and since when,\n"
	      "          and the senders currently over their rate limit\n"
	      "  reset   let outbound mail flow again (operator action after a trip)\n"
	      "  StateDir comes from CONF (default " TZ_DEFAULT_CONF " when present).\n", f);
}

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

int ctl_breaker(int argc, char **argv)
{
	const char *conf = NULL, *state_dir = NULL, *cmd = NULL;
	struct tz_config *cfg = NULL;
	char err[TZ_ERRLEN], *path = NULL;
	int ret = 2;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "--state-dir") == 0 && i + 1 < argc)
			state_dir = argv[++i];
		else if ((strcmp(argv[i], "status") == 0 || strcmp(argv[i], "reset") == 0) && !cmd)
			cmd = argv[i];
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (cmd == NULL) {
		usage(stderr);
		return 2;
	}
	if (state_dir == NULL) {
		cfg = ctl_config_load(&conf, err, sizeof(err));
		if (cfg == NULL) {
			fprintf(stderr, "textizectl: %s\n", err);
			return 1;
		}
		state_dir = cfg->state_dir;
	}
	if (state_dir == NULL) {
		fprintf(stderr, "textizectl: StateDir is not set\n");
		ret = 1;
		goto out;
	}
	path = g_build_filename(state_dir, TZ_BREAKER_STATE_FILE, NULL);
	ret = strcmp(cmd, "status") == 0 ? show(path) : reset(path);
out:
	g_free(path);
	tz_config_unref(cfg);
	return ret;
}
