/* web_tenant.c — limiting the console to a tenant (web_tenant.h). */
#include "web_tenant.h"

#include <string.h>
#include <microhttpd.h>

#include "tz_log.h"
#include "tz_meta.h"
#include "tz_store.h"
#include "tz_tenant.h"
#include "tz_util.h"
#include "web_auth.h"
#include "web_session.h"
#include "web_state.h"

int web_tenant_resolve(struct web_req *r)
{
	const struct tz_config *cfg = r->app->cfg;
	const struct tz_tenant *found = NULL;

	r->tenant = NULL;
	if (r->session == NULL)
		return 0;
	for (unsigned i = 0; i < tz_config_tenant_count(cfg); i++) {
		const struct tz_tenant *t = tz_config_tenant_at(cfg, i);
		if (t->web_group == NULL || !web_auth_in_group(r->session->user, t->web_group))
			continue;
		if (found) {
			tz_log(LOG_WARNING, NULL, "web: %s is in the groups of tenants %s and %s: refused",
			       r->session->user, found->name, t->name);
			web_error_page(r, MHD_HTTP_FORBIDDEN, "複数の団体のグループに属しているため"
				       "利用できません。管理者に連絡してください。");
			return -1;
		}
		found = t;
	}
	r->tenant = found;
	return 0;
}

int web_tenant_sees(const struct web_req *r, const struct tz_meta *m)
{
	if (r->tenant == NULL)
		return 1;
	return m && m->tenant && strcmp(m->tenant, r->tenant->name) == 0;
}

/* Whether r may see the entry with long id or 参照番号 arg. */
static int sees_arg(struct web_req *r, const char *arg)
{
	char id[TZ_ID_LEN], err[TZ_ERRLEN];
	struct tz_meta *m = NULL;
	unsigned part;
	int ok;

	if (tz_store_resolve(r->app->st, arg, id, &part, err, sizeof(err)) == 0)
		m = tz_store_meta_read(r->app->st, id, err, sizeof(err));
	ok = m == NULL || web_tenant_sees(r, m);   /* none: the action says not found */
	tz_meta_free(m);
	return ok;
}

int web_tenant_action_ok(struct web_req *r)
{
	const char *req = web_field(r, "req"), *id = web_field(r, "id");
	struct web_request *q = NULL;
	int ok = 1;

	if (r->tenant == NULL)
		return 1;
	pthread_mutex_lock(&r->app->lock);
	if (req && (q = web_state_request_by_row(r->app->state, g_ascii_strtoll(req, NULL, 10))) != NULL)
		ok = sees_arg(r, q->id);
	if (ok && id)
		ok = sees_arg(r, id);
	pthread_mutex_unlock(&r->app->lock);
	web_request_free(q);
	return ok;
}

void web_tenant_filter_requests(struct web_req *r, GPtrArray *reqs)
{
	if (r->tenant == NULL || reqs == NULL)
		return;
	for (guint i = reqs->len; i-- > 0;) {
		const struct web_request *q = g_ptr_array_index(reqs, i);
		if (!sees_arg(r, q->id))
			g_ptr_array_remove_index(reqs, i);
	}
}
