/* ctl.h — textizectl subcommands. Each lives in its own tools/ctl_*.c and is
 * listed once in the table in textizectl.c. A command gets argv starting at
 * its own name and returns the process exit code. */
#ifndef TZ_CTL_H
#define TZ_CTL_H

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

#endif
