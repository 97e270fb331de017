/* tz_log.c — the log facade: formats "QUEUEID: text" and hands it to a sink
 * (syslog in the milter, stderr by default). */
#include "tz_log.h"

#include <stdarg.h>
#include <stdio.h>

static tz_log_fn log_sink;
static int log_level = LOG_INFO;

void tz_log_set_sink(tz_log_fn fn)
{
	log_sink = fn;
}

void tz_log_set_level(int max_priority)
{
	log_level = max_priority;
}

int tz_log_wants(int priority)
{
	return priority <= log_level;
}

void tz_log(int priority, const char *qid, const char *fmt, ...)
{
	char line[2200];
	va_list ap;
	int n;

	if (priority > log_level)
		return;
	/* "QUEUEID: " and the message formatted once, into one buffer */
	n = snprintf(line, sizeof(line), "%s: ", qid ? qid : "NOQUEUE");
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (log_sink)
		log_sink(priority, line);
	else
		fprintf(stderr, "%s\n", line);
}
