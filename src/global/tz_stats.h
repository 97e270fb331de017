/* tz_stats.h — process-wide counters of the milter, for `textizectl stats`
 * and Prometheus.
 *
 * The milter records one struct tz_stats_msg per message, from the same
 * facts as the message's summary line (session.c), so the counters and the
 * log never disagree. Recording is lock-free (C11 relaxed atomics): mail
 * threads never wait on the stats reader, and a reader may see a message
 * half counted, which is harmless for monitoring. Nothing here can fail or
 * allocate on the mail path.
 *
 * Each message is counted exactly once in messages{direction,action}:
 *   textized, passed, released  the normal ends (inbound, outbound, review)
 *   policy_reject/tempfail      a policy rule refused it (relay: every
 *                               recipient refused at RCPT)
 *   policy_hold, policy_tag     a rule held (Postfix hold queue) or tagged
 *                               it; the message was otherwise text-ized or
 *                               passed
 *   error_tempfail/reject       internal error (OnError)
 *   too_big                     over MaxMessageSize (552)
 *   aborted                     the client went away (or RSET) before the end
 * Policy hits are counted per message, rule and action (a message may hit
 * several rules), whatever the message's end.
 *
 * Latency: a fixed histogram (TZ_STATS_BUCKETS, milliseconds from MAIL to
 * the summary line); p50/p99 are estimated from it by linear interpolation
 * inside the bucket, as Prometheus' histogram_quantile() does.
 *
 * Output (all g_free()d by the caller): Prometheus text exposition format
 * 0.0.4, a JSON object and a table for people, each from one snapshot. */
#ifndef TZ_STATS_H
#define TZ_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "tz_envelope.h"
#include "tz_verdict.h"

/* How a message ended, as the milter saw it: the summary line's action=
 * (tz_outcome_name) and what the stats count it under. */
enum tz_outcome {
	TZ_OUTCOME_ABORTED = 0,      /* "aborted": the client went away, or no end yet */
	TZ_OUTCOME_TEXTIZED,         /* "textized" */
	TZ_OUTCOME_PASSED,           /* "passed": outbound */
	TZ_OUTCOME_RELEASED,         /* "released": a verified release from the quarantine */
	TZ_OUTCOME_POLICY,           /* "policy": a rule refused it */
	TZ_OUTCOME_ERROR_TEMPFAIL,   /* "tempfail": internal error, OnError tempfail */
	TZ_OUTCOME_ERROR_REJECT,     /* "reject": internal error, OnError reject */
	TZ_OUTCOME_TOO_BIG,          /* "reject-size": over MaxMessageSize */
	TZ_NOUTCOMES
};

/* "textized", "reject-size", ... (the summary line's words). */
const char *tz_outcome_name(enum tz_outcome o);

enum tz_stats_action {
	TZ_STATS_TEXTIZED = 0,
	TZ_STATS_PASSED,
	TZ_STATS_RELEASED,
	TZ_STATS_POLICY_REJECT,
	TZ_STATS_POLICY_TEMPFAIL,
	TZ_STATS_POLICY_HOLD,
	TZ_STATS_POLICY_TAG,
	TZ_STATS_ERROR_TEMPFAIL,
	TZ_STATS_ERROR_REJECT,
	TZ_STATS_TOO_BIG,
	TZ_STATS_ABORTED,
	TZ_STATS_NACTIONS
};

/* Upper bounds of the latency buckets in ms; one more bucket is +Inf. */
#define TZ_STATS_BUCKET_BOUNDS { 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000 }
#define TZ_STATS_NBUCKETS 14          /* the 13 bounds above + Inf */
#define TZ_STATS_NDIR 2               /* enum tz_direction */
#define TZ_STATS_NVERDICT (TZ_ACTION_REJECT + 1)

/* What the milter knows about one message when it logs its summary line.
 * Strings are borrowed for the call. */
struct tz_stats_msg {
	enum tz_direction direction;
	enum tz_outcome outcome;     /* how it ended (the summary line's action=) */
	enum tz_action verdict;      /* strongest policy action, ACCEPT when none */
	const struct tz_hit *hits;   /* the verdict's hits (nhits of them), NULL = none */
	unsigned nhits;
	unsigned relay_refused;      /* recipients refused at RCPT as relay attempts */
	enum tz_action relay_action; /* their action (reject or tempfail) */
	unsigned rcpts;              /* recipients the message still has */
	unsigned stripped;           /* parts removed by the engine */
	uint64_t bytes_in, bytes_out;
	uint64_t ms;                 /* MAIL to end */
};

struct tz_stats;

/* The process-wide counters (static storage, never freed). */
struct tz_stats *tz_stats_global(void);
/* Separate counters for tests. g_free()-style pair; free(NULL) is a no-op. */
struct tz_stats *tz_stats_new(void);
void tz_stats_free(struct tz_stats *s);

/* Which messages{action} a message counts under (pure; tested). */
enum tz_stats_action tz_stats_classify(const struct tz_stats_msg *m);
/* Count one message. Thread-safe, lock-free, never fails. */
void tz_stats_record(struct tz_stats *s, const struct tz_stats_msg *m);

const char *tz_stats_action_name(enum tz_stats_action a);   /* "policy_reject" */

/* The breaker as the stats show it (read from StateDir/breaker.state). */
enum tz_stats_breaker_state {
	TZ_STATS_BREAKER_UNKNOWN = 0,  /* no StateDir */
	TZ_STATS_BREAKER_NORMAL,
	TZ_STATS_BREAKER_TRIPPED,
	TZ_STATS_BREAKER_UNREADABLE,   /* the milter treats this as tripped */
};

struct tz_stats_breaker {
	enum tz_stats_breaker_state state;
	time_t since;                  /* when it tripped (TRIPPED) */
	unsigned senders_over;         /* senders over their rate limit now */
};

/* Fill b from the breaker's state file (tz_breaker_state_load); path NULL
 * gives UNKNOWN. Never fails: an unreadable file is a state. */
void tz_stats_breaker_load(const char *path, struct tz_stats_breaker *b);
const char *tz_stats_breaker_name(enum tz_stats_breaker_state s);   /* "normal" */

/* A consistent-enough copy of the counters (each read atomically). */
struct tz_stats_snapshot {
	uint64_t messages[TZ_STATS_NDIR][TZ_STATS_NACTIONS];
	uint64_t hits[TZ_NRULES][TZ_STATS_NVERDICT];
	uint64_t stripped;
	uint64_t bytes_in, bytes_out;
	uint64_t buckets[TZ_STATS_NBUCKETS];   /* per bucket, not cumulative */
	uint64_t ms_sum;
	time_t started;                        /* tz_stats_new / first use */
	time_t now;
	struct tz_stats_breaker breaker;
};

/* Take a snapshot; breaker is copied when non-NULL (else UNKNOWN). */
void tz_stats_snapshot(struct tz_stats *s, const struct tz_stats_breaker *breaker,
		       struct tz_stats_snapshot *out);

/* Sums used by every output. */
uint64_t tz_stats_total(const struct tz_stats_snapshot *sn);
uint64_t tz_stats_tempfails(const struct tz_stats_snapshot *sn);   /* policy + error */
uint64_t tz_stats_rejects(const struct tz_stats_snapshot *sn);     /* policy + error + too_big */
/* Estimated q-quantile (0 < q <= 1) of the latency in ms; 0 with no data.
 * In the +Inf bucket the answer is the largest finite bound. */
double tz_stats_quantile_ms(const struct tz_stats_snapshot *sn, double q);

/* Renderings, g_free(). */
char *tz_stats_prometheus(const struct tz_stats_snapshot *sn);
char *tz_stats_json(const struct tz_stats_snapshot *sn);
char *tz_stats_table(const struct tz_stats_snapshot *sn);

#endif
