/* tz_pgclaim.h — release claims in the shared database: before a release
 * (or the approval that completes one) sends anything, it claims each
 * (request, entry, part) with INSERT ... ON CONFLICT DO NOTHING, all parts
 * in one transaction, so when two hosts run the same request at once one
 * sends and the other is refused, whatever the state of a shared entry
 * lock. The request key names what is being done once: the part's last
 * release time ("first" before any), so a later --again is a new request.
 *
 * A claim has a lease and a state (schema migration 3):
 *   claimed  taken, the mail not yet handed to ReleaseCommand;
 *   sending  ReleaseCommand started: whether it delivered is not known
 *            until it returns;
 *   sent     ReleaseCommand succeeded.
 * It names its holder: host, pid and the kernel's boot id. A holder is
 * "gone" when it is on this host and that process no longer runs (or the
 * host has rebooted since). A claim is stale when its holder is gone or it
 * has not moved for TZ_PGCLAIM_LEASE_S. A stale "claimed" claim is taken
 * over by the next release of that request (nothing was sent); a stale
 * "sending" one only with --reclaim, the operator's word that the MTA's
 * log shows the part was not delivered; a "sent" one never. Every move
 * from claimed to sending or sent checks the claim is still this
 * process's, so a holder whose lease was taken over sends nothing. */
#ifndef TZ_PGCLAIM_H
#define TZ_PGCLAIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "textize.h"

/* The lease: longer than building a release mail and ReleaseCommand's
 * own time limit (300 s, tz_queue_release.c) together. */
#define TZ_PGCLAIM_LEASE_S 900

enum tz_claim_state { TZ_CLAIM_CLAIMED, TZ_CLAIM_SENDING, TZ_CLAIM_SENT };

/* What a second release does about a claim it finds. */
enum tz_claim_verdict {
	TZ_CLAIM_HELD,     /* holder may be at work: refuse */
	TZ_CLAIM_DONE,     /* sent for this request: refuse */
	TZ_CLAIM_ASK,      /* stale while sending: refuse, name --reclaim */
	TZ_CLAIM_TAKE,     /* take it over (audited "reclaimed") */
};

struct tz_claim_holder {
	enum tz_claim_state state;
	bool same_host;       /* holder's host is this host */
	bool same_boot;       /* ... and its boot id is this boot's */
	bool pid_alive;       /* ... and its pid runs (meaningful when both) */
	int64_t idle_s;       /* seconds since the claim last moved */
};

/* The rule above, as a pure function (unit-tested). */
enum tz_claim_verdict tz_claim_judge(const struct tz_claim_holder *h, bool reclaim,
				     int64_t lease_s);

const char *tz_claim_state_name(enum tz_claim_state s);

/* Claim every part for this process. 0 all claimed; 1 refused (err names
 * the holder, its state and what to do; nothing claimed); -1 error
 * (nothing claimed). reclaimed (n slots, may be NULL): for each part taken
 * over from a stale claim, what it was ("host=... pid=... state=...
 * since=..."), for the audit record; NULL where the claim was new. The
 * caller g_free()s the strings. */
int tz_pgclaim_take(const char *url, const char *const *requests, const char *id,
		    const unsigned *parts, unsigned n, bool reclaim, char **reclaimed,
		    char *err, size_t errlen);
/* Move this process's claims to state to (sending before ReleaseCommand,
 * sent after it). 0; 1 when one is no longer this process's (taken over:
 * do not send); -1 error. */
int tz_pgclaim_mark(const char *url, const char *const *requests, const char *id,
		    const unsigned *parts, unsigned n, enum tz_claim_state to,
		    char *err, size_t errlen);
/* Give this process's claims back after the send failed, so the request
 * may be run again. 0 or -1. */
int tz_pgclaim_drop(const char *url, const char *const *requests, const char *id,
		    const unsigned *parts, unsigned n, char *err, size_t errlen);

#endif
