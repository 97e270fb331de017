/* ctl.h — textizectl commands. Each lives in a tools/ctl_*.c and is a row
 * of the table in textizectl.c (ctl_args.h: operands, options); a run
 * function gets the parsed arguments and returns the exit code
 * (sysexits(3), see textizectl(8) EXIT STATUS). */
#ifndef TZ_CTL_H
#define TZ_CTL_H

#include <stddef.h>

struct tz_config;
struct ctl_args;

/* The config every subcommand reads: *conf when given, else
 * TZ_DEFAULT_CONF when it is readable (then *conf names it), else the
 * built-in defaults. NULL with err when the file does not load. */
struct tz_config *ctl_config_load(const char **conf, char *err, size_t errlen);

int ctl_convert(const struct ctl_args *a);
/* ctl_queue.c: the sanitization queue */
int ctl_queue_list(const struct ctl_args *a);
int ctl_queue_show(const struct ctl_args *a);
int ctl_queue_export(const struct ctl_args *a);
int ctl_queue_release(const struct ctl_args *a);
int ctl_queue_approve(const struct ctl_args *a);
int ctl_queue_reject(const struct ctl_args *a);
int ctl_queue_purge(const struct ctl_args *a);
int ctl_queue_migrate(const struct ctl_args *a);   /* ctl_migrate.c */
int ctl_queue_scan(const struct ctl_args *a);
int ctl_queue_sanitize(const struct ctl_args *a);
int ctl_queue_reindex(const struct ctl_args *a);
int ctl_audit_verify(const struct ctl_args *a);  /* ctl_audit.c */
int ctl_report_daily(const struct ctl_args *a);  /* ctl_report.c */
int ctl_breaker(const struct ctl_args *a);       /* ctl_breaker.c: status, reset */
int ctl_stats(const struct ctl_args *a);         /* ctl_stats.c: StatsSocket */
int ctl_db(const struct ctl_args *a);            /* ctl_db.c: status, migrate */
int ctl_digest_send(const struct ctl_args *a);
int ctl_sender(const struct ctl_args *a);       /* ctl_senders.c: block, allow, list */   /* ctl_digest.c: DigestTime */
struct ctl_qenv;
/* ctl_sanitize.c: `queue sanitize` (the built-in CDR worker); exit status */
int ctl_sanitize(struct ctl_qenv *e, const char *id, int watch, unsigned interval);

#endif
