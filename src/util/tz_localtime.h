/* tz_localtime.h — times as people read and type them: local time with its
 * offset (stored times stay UTC on disk and in the audit log), and the
 * dates the security team types to filter the queue. Shared by textizectl
 * and textize-web so both show and accept the same forms. */
#ifndef TZ_LOCALTIME_H
#define TZ_LOCALTIME_H

#include <stdint.h>

/* t as local time with its offset, "2026-12-02T09:30:00+09:00". */
void tz_local_time(int64_t t, char out[40]);

/* "YYYY-MM-DD" (local midnight; end_of_day: the next midnight, so an
 * "until" day is included) or "YYYY-MM-DDTHH:MM:SS" (local, end_of_day
 * ignored) to epoch seconds. NULL or "" gives 0 (no bound). 0, or -1 when
 * s is neither form. */
int tz_local_date_parse(const char *s, int end_of_day, int64_t *out);

/* "HH:MM" (a local wall-clock time, e.g. DigestTime) to minutes after
 * midnight; -1 when s is not that form or out of range. */
int tz_local_hhmm(const char *s);

#endif
