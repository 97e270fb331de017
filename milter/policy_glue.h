/* policy_glue.h — the single place where policy rules plug into the milter.
 * session.c calls one hook per SMTP step, after its own bookkeeping; each
 * hook returns TZM_CONTINUE to let the message go on, or a stopping status
 * after setting the reply with ops->setreply (tzm_fail for internal
 * errors). The hooks keep state in conn->policy / msg->policy and free it
 * in tzm_policy_msg_free / tzm_policy_conn_free.
 *
 * The core decides, the glue acts: every rule lives in src/ and fills a
 * struct tz_verdict; this file only feeds the rules what the SMTP session
 * said and applies the verdict. Each rule runs at the first step where its
 * inputs are complete, and a reject/tempfail is answered right there:
 *   MAIL   size (ESMTP SIZE=), sender block list, SPF (inbound)
 *   RCPT   open relay (only that recipient is refused)
 *   header collects the fields (attacker-controlled) for the rules below
 *   EOH    inbound: spoofing, forged-header removal; outbound: auto-forward,
 *          recipient visibility, circuit breaker
 *   body   size while streaming
 *   EOM    hold (ops->quarantine); tag and log only pass. The header
 *          edits (Received-SPF, Authentication-Results, X-Textize-Policy,
 *          visibility rewrite, removal of forged headers) are made with
 *          the conversion's, in one plan (tzm_edit_header).
 * tzm_policy_eom runs first for both directions; then inbound mail is
 * text-ized and outbound mail passes. The message's summary line carries
 * tzm_policy_summary(): every rule that fired and its action. */
#ifndef TZM_POLICY_GLUE_H
#define TZM_POLICY_GLUE_H

#include "session.h"
#include "tz_stats.h"

/* Once, before any thread starts (main): libspf2 logging and the DNS
 * per-query timeout (RES_OPTIONS) from cfg. */
void tzm_policy_global_init(const struct tz_config *cfg);
/* At exit: free the SPF pool and the breaker. */
void tzm_policy_global_free(void);

enum tzm_status tzm_policy_connect(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx);
/* argv: as tzm_on_mail got it (address, then ESMTP parameters). */
enum tzm_status tzm_policy_mail(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
				char **argv);
enum tzm_status tzm_policy_rcpt(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
				const char *rcpt);
enum tzm_status tzm_policy_header(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
				  const char *name, const char *value);
enum tzm_status tzm_policy_eoh(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx);
enum tzm_status tzm_policy_body(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx);
enum tzm_status tzm_policy_eom(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx);

/* The policy's header edits for m (struct tz_verdict_edit *), NULL when
 * there is no policy state. Not applied by tzm_policy_eom: tzm_edit_header
 * makes them, with the conversion's. */
const GPtrArray *tzm_policy_edits(const struct tzm_msg *m);

/* " policy=rule=action,..." for the summary line, "" when nothing fired.
 * Points into m's policy state (valid until tzm_policy_msg_free). */
const char *tzm_policy_summary(const struct tzm_msg *m);
/* The policy facts of m for the counters (verdict, hits, relay refusals);
 * the strings point into m's policy state, as above. */
void tzm_policy_stats(const struct tzm_msg *m, struct tz_stats_msg *out);
void tzm_policy_msg_free(struct tzm_msg *m);
void tzm_policy_conn_free(struct tzm_conn *c);

#endif
