/* tz_pgbreaker.h — the outbound circuit breaker's state in the shared
 * database (StoreBackend postgresql): the one tripped/generation row every
 * gateway polls, and the outbound messages every gateway counts against
 * the rate limits. The glue adapts it to tz_breaker_shared (policy); this
 * layer knows only rows. Not thread-safe: the breaker calls it under its
 * own lock, textizectl from one thread. */
#ifndef TZ_PGBREAKER_H
#define TZ_PGBREAKER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "textize.h"

struct tz_pgbreaker_row {
	uint64_t generation;
	bool tripped;
	int64_t since;
	char reason[256];
};

struct tz_pgbreaker;

/* Connects on first use and again after any error. */
struct tz_pgbreaker *tz_pgbreaker_new(const char *url);
void tz_pgbreaker_free(struct tz_pgbreaker *pb);   /* NULL is a no-op */

int tz_pgbreaker_load(struct tz_pgbreaker *pb, struct tz_pgbreaker_row *row, char *err,
		      size_t errlen);
/* Record row's trip if the generation is still row->generation: 0, 1 when
 * it moved on (a reset came first), -1 with err. */
int tz_pgbreaker_save(struct tz_pgbreaker *pb, const struct tz_pgbreaker_row *row, char *err,
		      size_t errlen);
/* c[0] key's messages within w[0] s before now, c[1] its recipients
 * within w[1], c[2] all messages within w[2]; a window 0 counts 0. */
int tz_pgbreaker_counts(struct tz_pgbreaker *pb, const char *key, time_t now,
			const unsigned w[3], uint64_t c[3], char *err, size_t errlen);
/* One accepted outbound message; events older than a week (the longest
 * window) are pruned now and then. */
int tz_pgbreaker_record(struct tz_pgbreaker *pb, const char *key, unsigned nrcpts, time_t now,
			char *err, size_t errlen);
/* key went over its limit at now (table breaker_senders, one row per
 * sender, its latest time); the distinct senders over within window s
 * into *n. */
int tz_pgbreaker_over(struct tz_pgbreaker *pb, const char *key, time_t now, unsigned window,
		      unsigned *n, char *err, size_t errlen);
/* The operator's reset: generation+1, not tripped; the new generation
 * into *generation. */
int tz_pgbreaker_reset(struct tz_pgbreaker *pb, uint64_t *generation, char *err, size_t errlen);

#endif
