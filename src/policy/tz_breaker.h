/* tz_breaker.h — the outbound spam circuit breaker.
 *
 * Per sender (the authenticated user, else the client address) the
 * messages and recipients of outbound mail are counted in sliding windows
 * (OutboundRateLimit e.g. "100/10m", RecipientRateLimit). A sender over a
 * limit gets 451 4.7.1 and one LOG_ALERT line when it first goes over; it
 * may send again when its window has room. When BreakerTrip senders go
 * over within the BreakerTrip window, or all outbound mail together passes
 * OutboundGlobalLimit, the breaker trips: every outbound message is
 * tempfailed until an operator runs `textizectl breaker reset` (the
 * standard: stop the mail service when spam is sent from inside).
 *
 * State: one struct tz_breaker per milter process, shared by all threads
 * (one mutex), not part of the config snapshot, so a SIGHUP keeps it
 * (tz_breaker_configure only changes the limits). The tripped state and
 * the senders currently over their limit are persisted in a small text file
 * (StateDir/breaker.state: "generation N", "tripped 0|1", "since T",
 * "reason ...", "sender T KEY" lines), written atomically (temp file, fsync,
 * rename, fsync of the directory) under an flock on StateDir/breaker.lock,
 * so a tripped breaker survives a restart. `textizectl breaker status`
 * reads that file; `reset` rewrites it with tripped 0 and generation+1. The
 * milter stat()s the file on every check (cheap) and re-reads it when it
 * changed; a new generation clears all its counters. An unreadable state
 * file counts as tripped (fail closed). */
#ifndef TZ_BREAKER_H
#define TZ_BREAKER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <glib.h>
#include "tz_verdict.h"

/* "N/W": N events per window W (seconds; suffix s, m, h, d). N = 0 is off. */
struct tz_rate {
	unsigned count;
	unsigned window_s;
};

/* Parse "100/10m", "500/1h", "30/90s", "100/600" or "0" (off). A missing
 * window (BreakerTrip "3") gives window_s 0: the caller picks one. */
int tz_rate_parse(const char *s, struct tz_rate *out);

struct tz_breaker_state;

/* The state shared by every gateway of a cluster (StoreBackend postgresql,
 * docs/cluster.md), supplied by the glue; with it the state file is not
 * used. The breaker polls load() at most every TZ_BREAKER_POLL_MS, so a
 * trip or reset on one host takes effect on all within a second. Any
 * error counts as tripped for that message (fail safe: outbound mail is
 * tempfailed while the shared state cannot be read or written). */
struct tz_breaker_shared {
	void *ctx;
	/* generation, tripped, since, reason into st. 0 or -1 with err. */
	int (*load)(void *ctx, struct tz_breaker_state *st, char *err, size_t errlen);
	/* Record st's trip unless the generation moved on (an operator's
	 * reset came first): 0 written, 1 moved on, -1 error. */
	int (*save)(void *ctx, const struct tz_breaker_state *st, char *err, size_t errlen);
	/* Counts before this message over the windows w (seconds, ending at
	 * now): c[0] key's messages in w[0], c[1] key's recipients in w[1],
	 * c[2] every sender's messages in w[2]. 0 or -1 with err. */
	int (*counts)(void *ctx, const char *key, time_t now, const unsigned w[3], uint64_t c[3],
		      char *err, size_t errlen);
	/* Count one accepted message of key to nrcpts recipients. 0 or -1. */
	int (*record)(void *ctx, const char *key, unsigned nrcpts, time_t now, char *err,
		      size_t errlen);
	/* key went over its limit at now: note it and put into *n how many
	 * distinct senders went over on any gateway within window seconds
	 * (BreakerTrip counted cluster-wide). NULL = count on this host. 0
	 * or -1 with err. */
	int (*over)(void *ctx, const char *key, time_t now, unsigned window, unsigned *n,
		    char *err, size_t errlen);
};
#define TZ_BREAKER_POLL_MS 500

struct tz_breaker_options {
	struct tz_rate msgs;        /* OutboundRateLimit, per sender */
	struct tz_rate rcpts;       /* RecipientRateLimit, per sender */
	struct tz_rate trip;        /* BreakerTrip: senders over within window (default: msgs window) */
	struct tz_rate global;      /* OutboundGlobalLimit: all outbound messages */
	const char *state_path;     /* StateDir/breaker.state; NULL = memory only */
	const char *text;           /* reply text, NULL = built-in */
	const struct tz_breaker_shared *shared;   /* NULL = this host only; not copied */
};

#define TZ_BREAKER_SENDER_TEXT "Sending rate limit exceeded, try again later"
#define TZ_BREAKER_TRIPPED_TEXT "Outbound mail suspended by the circuit breaker, contact the administrator"
#define TZ_BREAKER_STATE_FILE "breaker.state"
/* Senders tracked at once; more is treated as an attack on the table:
 * new senders are tempfailed (fail closed) until old windows expire. */
#define TZ_BREAKER_MAX_SENDERS 100000

typedef time_t (*tz_clock_fn)(void);

struct tz_breaker;

/* clock NULL = time(). Reads the state file when there is one. NULL with
 * err when the state file exists but cannot be read. */
struct tz_breaker *tz_breaker_new(const struct tz_breaker_options *o, tz_clock_fn clock,
				  char *err, size_t errlen);
void tz_breaker_free(struct tz_breaker *b);    /* NULL is a no-op */

/* New limits (SIGHUP): counters and tripped state are kept. The options'
 * strings are copied. */
void tz_breaker_configure(struct tz_breaker *b, const struct tz_breaker_options *o);

/* One outbound message from sender_key to nrcpts recipients: records it, or
 * records a hit (rule "breaker", 451 4.7.1 tempfail) when the sender or the
 * breaker is over. qid is for the alert log line. Thread-safe. */
void tz_breaker_check(struct tz_breaker *b, const char *qid, const char *sender_key,
		      unsigned nrcpts, struct tz_verdict *v);

/* The persisted state, as textizectl shows it. */
struct tz_breaker_state {
	uint64_t generation;
	bool tripped;
	time_t since;
	char reason[256];
	GPtrArray *senders;   /* char* "T KEY" lines: senders over their limit */
};

void tz_breaker_state_init(struct tz_breaker_state *st);
void tz_breaker_state_clear(struct tz_breaker_state *st);
/* Load path; a missing file is a normal state (not tripped, generation 0).
 * -1 with err when it cannot be read or parsed. */
int tz_breaker_state_load(const char *path, struct tz_breaker_state *st, char *err, size_t errlen);
/* Write atomically; the caller holds the lock. */
int tz_breaker_state_save(const char *path, const struct tz_breaker_state *st, char *err, size_t errlen);
/* flock path.lock (exclusive); returns the fd for tz_breaker_unlock, -1 with err. */
int tz_breaker_lock(const char *path, char *err, size_t errlen);
void tz_breaker_unlock(int fd);
/* The operator's reset: under the lock, generation+1, not tripped, no senders. */
int tz_breaker_reset_file(const char *path, char *err, size_t errlen);

#endif
