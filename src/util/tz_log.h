/* tz_log.h — the log facade. The core never calls syslog itself: it logs
 * through here, and the milter points the facade at syslog (facility mail)
 * and/or stderr. Every message line starts with the queue id. */
#ifndef TZ_LOG_H
#define TZ_LOG_H

#include <syslog.h>

typedef void (*tz_log_fn)(int priority, const char *line);

void tz_log_set_sink(tz_log_fn fn);       /* NULL = stderr */
void tz_log_set_level(int max_priority);  /* lines above it are dropped (LOG_INFO default) */
/* Whether a line of this priority would be written: for callers whose
 * message costs something to build. */
int tz_log_wants(int priority);
/* Log one line "QUEUEID: text"; qid may be NULL ("NOQUEUE"). */
void tz_log(int priority, const char *qid, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
