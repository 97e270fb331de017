/* textizectl.c — the operator and security-team command: dispatches to the
 * subcommands in tools/ctl_*.c. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "textize.h"
#include "ctl.h"
#include "tz_config.h"

static const struct ctl_command commands[] = {
	{ "convert", "text-ize one message to stdout (or --json summary)", ctl_convert },
	{ "queue", "sanitization queue: list, show, export, release, reject, purge, scan, reindex", ctl_queue },
	{ "audit", "verify the quarantine audit log", ctl_audit },
	{ "report", "daily report of the sanitization queue (html, csv, json)", ctl_report },
	{ "breaker", "outbound circuit breaker: status, reset", ctl_breaker },
	{ "stats", "the running milter's counters (table, json, prometheus) from StatsSocket", ctl_stats },
	/* Areas add their commands here. */
	{ NULL, NULL, NULL },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: textizectl COMMAND [options]\n\ncommands:\n");
	for (const struct ctl_command *c = commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "  %-10s %s\n", "version", "print the version");
}

struct tz_config *ctl_config_load(const char **conf, char *err, size_t errlen)
{
	if (*conf == NULL && access(TZ_DEFAULT_CONF, R_OK) == 0)
		*conf = TZ_DEFAULT_CONF;
	return *conf ? tz_config_load(*conf, err, errlen) : tz_config_new_defaults();
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("textizectl %s\n", TZ_VERSION);
		return 0;
	}
	for (const struct ctl_command *c = commands; c->name; c++)
		if (strcmp(argv[1], c->name) == 0)
			return c->run(argc - 1, argv + 1);
	fprintf(stderr, "textizectl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
