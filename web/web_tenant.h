/* web_tenant.h — the console limited to one municipality (docs/tenants.md).
 * An operator in the WebTenantGroup of a Tenant section sees only that
 * tenant's entries: the queue list, entry pages, requests, and every action
 * that names an entry; another tenant's entry is "not found", exactly like
 * one that does not exist. An operator in no WebTenantGroup sees every
 * entry (the prefecture's team); one in the groups of two tenants is
 * refused (which one is meant cannot be told). Decided per request from the
 * groups, so a change of membership counts at the next click. */
#ifndef TZ_WEB_TENANT_H
#define TZ_WEB_TENANT_H

#include "web.h"
#include "tz_tenant.h"

struct tz_meta;

/* Set r->tenant for r's session. 0, or -1 after a 403 page. */
int web_tenant_resolve(struct web_req *r);
/* Whether r may see entry m (stored under m->tenant). */
int web_tenant_sees(const struct web_req *r, const struct tz_meta *m);
/* The same for the entry a /team/action form names (field "req": a staff
 * request's entry; else field "id"). 1 also when the form names none (the
 * action then fails on its own). Takes r->app->lock. */
int web_tenant_action_ok(struct web_req *r);
/* Drop from reqs (struct web_request*) those of entries r may not see. */
void web_tenant_filter_requests(struct web_req *r, GPtrArray *reqs);

#endif
