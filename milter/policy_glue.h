/* policy_glue.h — the single place where policy rules plug into the milter.
 * session.c calls one hook per SMTP step, after its own bookkeeping; each
 * hook returns TZM_CONTINUE to let the message go on, or a stopping status
 * after setting the reply with ops->setreply (tzm_fail for internal
 * errors). The hooks may keep state in conn->policy / msg->policy and must
 * free it in tzm_policy_msg_free / tzm_policy_conn_free.
 *
 * Order at end of message: tzm_policy_eom runs first for both directions
 * (it may add header edits through ops or hold the message with
 * ops->quarantine); then inbound mail is text-ized and outbound mail passes.
 * Until the policy issue lands every hook returns TZM_CONTINUE. */
#ifndef TZM_POLICY_GLUE_H
#define TZM_POLICY_GLUE_H

#include "session.h"

enum tzm_status tzm_policy_connect(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx);
enum tzm_status tzm_policy_mail(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx);
enum tzm_status tzm_policy_rcpt(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
				const char *rcpt);
enum tzm_status tzm_policy_eoh(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx);
enum tzm_status tzm_policy_eom(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx);
void tzm_policy_msg_free(struct tzm_msg *m);
void tzm_policy_conn_free(struct tzm_conn *c);

#endif
