/* policy_glue.c — policy hooks (see policy_glue.h). Placeholder: every
 * step continues; the policy issue replaces these bodies. */
#include "policy_glue.h"

enum tzm_status tzm_policy_connect(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx)
{
	return TZM_CONTINUE;
}

enum tzm_status tzm_policy_mail(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx)
{
	return TZM_CONTINUE;
}

enum tzm_status tzm_policy_rcpt(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
				const char *rcpt)
{
	return TZM_CONTINUE;
}

enum tzm_status tzm_policy_eoh(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx)
{
	return TZM_CONTINUE;
}

enum tzm_status tzm_policy_eom(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx)
{
	return TZM_CONTINUE;
}

void tzm_policy_msg_free(struct tzm_msg *m)
{
	m->policy = NULL;
}

void tzm_policy_conn_free(struct tzm_conn *c)
{
	c->policy = NULL;
}
