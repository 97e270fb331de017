/* ctl_stats.c — `textizectl stats [--socket SPEC] [--format
 * table|json|prometheus]`: ask the running milter for its counters on
 * StatsSocket. The milter renders all three formats (src/global/tz_stats.c), so
 * this command only finds the socket and prints the answer. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_args.h"
#include "tz_config.h"
#include "tz_statsd.h"
#include "textize.h"


int ctl_stats(const struct ctl_args *a)
{
	const char *conf = a->opt[CTL_O_CONF], *sock = a->opt[CTL_O_SOCKET];
	const char *format = a->opt[CTL_O_FORMAT] ? a->opt[CTL_O_FORMAT] : "table";
	struct tz_config *cfg = NULL;
	char err[TZ_ERRLEN], *req = NULL, *answer = NULL;
	int ret;

	if (sock == NULL) {
		cfg = ctl_config_load(&conf, err, sizeof(err));
		if (cfg == NULL)
			return ctl_fail(a, EX_CONFIG, "%s", err);
		sock = cfg->stats_socket;
	}
	if (sock == NULL) {
		ret = ctl_fail(a, EX_CONFIG, "StatsSocket is not set in %s (the milter keeps no "
			       "stats server)", conf ? conf : "the configuration");
		goto out;
	}
	req = g_strdup_printf("stats %s\n", format);
	answer = tz_statsd_query(sock, req, TZ_STATSD_TIMEOUT_MS * 2, err, sizeof(err));
	if (answer == NULL) {
		ret = ctl_fail(a, EX_UNAVAILABLE, "%s: %s (is textize-milter running?)", sock, err);
		goto out;
	}
	if (g_str_has_prefix(answer, "error:")) {
		ret = ctl_fail(a, EX_SOFTWARE, "%.*s", (int)strcspn(answer, "\n"), answer);
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
