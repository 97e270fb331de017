/* tz_queue_int.h — helpers shared by the queue operations in tz_queue.c and
 * tz_queue_release.c; not part of the library's interface. */
#ifndef TZ_QUEUE_INT_H
#define TZ_QUEUE_INT_H

#include "tz_meta.h"
#include "tz_queue.h"

void tzq_set_str(char **dst, const char *v);      /* replaces *dst with a copy of v (NULL ok; v may alias *dst) */
void tzq_now_iso(char out[32]);                   /* the time now as stored (UTC ISO 8601) */
/* One audit record; 0 or -1 with err. */
int tzq_audit(const struct tz_queue *q, const char *event, const char *op, const char *id,
	      unsigned part, const char *sha, const char *detail, char *err, size_t errlen);
/* Refresh the entry's index rows (or drop them for the next catch-up). */
void tzq_reindex(const struct tz_queue *q, const struct tz_meta *m);

#endif
