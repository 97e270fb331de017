/* ctl_stats.c — `textizectl stats [-c CONF] [--socket SPEC] [--format
 * table|json|prometheus]`: ask the running milter for its counters on
 * StatsSocket. The milter renders all three formats (src/tz_stats.c), so
 * this command only finds the socket and prints the answer. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "tz_config.h"
#include "tz_statsd.h"
#include "textize.h"


static void usage(FILE *f)
{
	fputs("usage: textizectl stats [-c CONF] [--socket SPEC] [--format table|json|prometheus]\n"
	      "  the running milter's counters since it started: messages by direction\n"
	      "  and action, stripped parts, rejects by rule, tempfails, p50/p99 time,\n"
	      "  breaker state. The socket is StatsSocket from CONF (default\n"
	      "  " TZ_DEFAULT_CONF " when present) or --socket.\n", f);
}

static int parse_args(int argc, char **argv, const char **conf, const char **sock,
		      const char **format)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			*conf = argv[++i];
		else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			*sock = argv[++i];
		else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
			*format = argv[++i];
		else if (strncmp(argv[i], "--format=", 9) == 0)
			*format = argv[i] + 9;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
		else
			return -1;
	}
	if (strcmp(*format, "table") && strcmp(*format, "json") && strcmp(*format, "prometheus"))
		return -1;
	return 0;
}

int ctl_stats(int argc, char **argv)
{
	const char *conf = NULL, *sock = NULL, *format = "table";
	struct tz_config *cfg = NULL;
	char err[TZ_ERRLEN], *req = NULL, *answer = NULL;
	int ret = 1, rc = parse_args(argc, argv, &conf, &sock, &format);

	if (rc != 0) {
		usage(rc > 0 ? stdout : stderr);
		return rc > 0 ? 0 : 2;
	}
	if (sock == NULL) {
		cfg = ctl_config_load(&conf, err, sizeof(err));
		if (cfg == NULL) {
			fprintf(stderr, "textizectl: %s\n", err);
			return 1;
		}
		sock = cfg->stats_socket;
	}
	if (sock == NULL) {
		fprintf(stderr, "textizectl: StatsSocket is not set in %s (the milter keeps no "
			"stats server)\n", conf ? conf : "the configuration");
		goto out;
	}
	req = g_strdup_printf("stats %s\n", format);
	answer = tz_statsd_query(sock, req, TZ_STATSD_TIMEOUT_MS * 2, err, sizeof(err));
	if (answer == NULL) {
		fprintf(stderr, "textizectl: %s: %s (is textize-milter running?)\n", sock, err);
		goto out;
	}
	if (g_str_has_prefix(answer, "error:")) {
		fprintf(stderr, "textizectl: %s", answer);
		goto out;
	}
	fputs(answer, stdout);
	if (strcmp(format, "json") == 0)
		putchar('\n');
	ret = 0;
out:
	g_free(answer);
	g_free(req);
	tz_config_unref(cfg);
	return ret;
}
