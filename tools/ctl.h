/* ctl.h — textizectl subcommands. Each lives in its own tools/ctl_*.c and is
 * listed once in the table in textizectl.c. A command gets argv starting at
 * its own name and returns the process exit code. */
#ifndef TZ_CTL_H
#define TZ_CTL_H

#include <stddef.h>

struct tz_config;

/* The config every subcommand reads: *conf when given, else
 * TZ_DEFAULT_CONF when it is readable (then *conf names it), else the
 * built-in defaults. NULL with err when the file does not load. */
struct tz_config *ctl_config_load(const char **conf, char *err, size_t errlen);

struct ctl_command {
	const char *name;      /* "convert", "queue", "audit", ... */
	const char *summary;   /* one line for `textizectl help` */
	int (*run)(int argc, char **argv);
};

int ctl_convert(int argc, char **argv);
int ctl_queue(int argc, char **argv);    /* ctl_queue.c: sanitization queue */
int ctl_audit(int argc, char **argv);    /* ctl_audit.c: audit log verification */
int ctl_report(int argc, char **argv);   /* ctl_report.c: daily report */
int ctl_breaker(int argc, char **argv);  /* ctl_breaker.c: outbound circuit breaker */
int ctl_stats(int argc, char **argv);    /* ctl_stats.c: the milter's counters (StatsSocket) */
struct ctl_qenv;
/* ctl_sanitize.c: `queue sanitize` (the built-in CDR worker); exit status */
int ctl_sanitize(struct ctl_qenv *e, const char *id, int watch, const char *interval);

#endif
