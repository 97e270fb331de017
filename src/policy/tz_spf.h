/* tz_spf.h — SPF (inbound) with libspf2, and the policy on its result.
 *
 * Threads: libspf2 gives each thread its own resolver state (res_ninit in
 * a pthread key, spf_dns_resolv.c) and its cache layer locks itself, but
 * SPF_server_t is not documented as shareable, so tz_spf keeps a small pool
 * of SPF servers, each used by one thread at a time; the pool is made once
 * per process (not per message, not per SIGHUP).
 *
 * DNS time is bounded twice: tz_spf_global_init() sets RES_OPTIONS
 * (timeout/attempts) before any thread exists, which bounds each query;
 * and a layer on top of libspf2's DNS stack answers TRY_AGAIN once the
 * per-check deadline has passed, which bounds a whole evaluation (includes,
 * redirects, mx/a lookups) to the deadline plus one query. Running out of
 * time is a temperror, never a pass. */
#ifndef TZ_SPF_H
#define TZ_SPF_H

#include <stdbool.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <spf2/spf.h>
#include "tz_verdict.h"

enum tz_spf_res {
	TZ_SPF_NONE = 0, TZ_SPF_NEUTRAL, TZ_SPF_PASS, TZ_SPF_FAIL, TZ_SPF_SOFTFAIL,
	TZ_SPF_TEMPERROR, TZ_SPF_PERMERROR,
};

struct tz_spf_result {
	enum tz_spf_res result;
	bool helo_identity;   /* the HELO name was checked (null sender) */
	char domain[256];     /* the domain checked, printable ASCII, may be "" */
};

/* Process-wide setup; call once before threads start: libspf2's log
 * handlers (warnings go to tz_log at debug level) and RES_OPTIONS with the
 * per-query timeout (seconds, 1..30; attempts 2). */
void tz_spf_global_init(unsigned query_timeout_s);

/* Makes one libspf2 DNS stack (tests: a zone; NULL = the real resolver
 * with a cache). Called pool_size times. */
typedef SPF_dns_server_t *(*tz_spf_dns_fn)(void *ctx);

/* A pool of pool_size (>= 1) SPF servers. NULL with err on failure. */
struct tz_spf *tz_spf_new(unsigned pool_size, tz_spf_dns_fn make_dns, void *ctx,
			  char *err, size_t errlen);
void tz_spf_free(struct tz_spf *s);     /* NULL is a no-op; no check may be running */

/* Evaluate SPF for MAIL FROM `sender` ("" = null sender: the HELO identity
 * is checked, RFC 7208 2.4) from client_ip with `helo`, within timeout_ms
 * (0 = no deadline beyond the per-query one). Fills r and returns 0;
 * returns -1 with err only on internal failure (bad client address, out
 * of memory): the caller fails closed. */
int tz_spf_check(struct tz_spf *s, unsigned timeout_ms, const char *client_ip,
		 const char *helo, const char *sender, struct tz_spf_result *r,
		 char *err, size_t errlen);

const char *tz_spf_res_name(enum tz_spf_res res);  /* "pass", "fail", ... */

struct tz_spf_policy {
	const char *authserv_id;          /* AuthservID, never NULL */
	struct tz_rule_action fail;       /* SPFFailAction, default reject 550 5.7.23 */
	struct tz_rule_action softfail;   /* SPFSoftfailAction, default tag */
	struct tz_rule_action none;       /* SPFNoneAction (none and neutral), default tag */
	struct tz_rule_action temperror;  /* SPFTempErrorAction, default tempfail 451 4.7.24 */
	struct tz_rule_action permerror;  /* SPFPermErrorAction, default tag */
};

#define TZ_SPF_FAIL_TEXT "SPF validation failed"
#define TZ_SPF_TEMPERROR_TEXT "SPF validation error, try again later"
#define TZ_SPF_PERMERROR_TEXT "SPF validation error"

void tz_spf_policy_init(struct tz_spf_policy *p, const char *authserv_id);

/* Apply the policy: insert Received-SPF and Authentication-Results (RFC
 * 7208 9.1, RFC 8601) at the top of the header and record a hit (rule
 * "spf") for every result other than pass. Attacker-supplied values
 * (sender, helo) are quoted and made printable. */
void tz_spf_verdict(const struct tz_spf_policy *p, const struct tz_spf_result *r,
		    const char *client_ip, const char *helo, const char *sender,
		    struct tz_verdict *v);

#endif
