/* tz_tenant.h — per-municipality sections of textize.conf (docs/tenants.md).
 *
 * A security cloud runs one gateway for many municipalities. A section
 * starts with a `Tenant NAME` line and runs to the next `Tenant` line or the
 * end of the file (like sshd_config's Match blocks, so the file stays flat
 * `Key Value` lines). Inside it, only the keys in tz_tenant_keys[] may be
 * set (the rest are global: a global key in a section is an error with
 * file:line), plus WebTenantGroup, which exists only in a section.
 * LocalDomains in a section is required and keys the tenant: mail to those
 * domains is the tenant's. A domain in two tenants is an error.
 *
 * Each tenant owns a complete tz_config: the global lines of the file
 * replayed through the same setters, then the section's lines. Everything
 * that reads a config (engine options, policy options, the queue) reads the
 * tenant's the same way, and a tenant can never see a half-applied value.
 * The global config's LocalDomains and InternalNetworks become the union of
 * its own and every tenant's, so the relay rule and the direction of a
 * connection see every municipality. */
#ifndef TZ_TENANT_H
#define TZ_TENANT_H

#include <stdbool.h>
#include <glib.h>

struct tz_config;

/* The two keys that exist only for sections (not rows of tz_config_keys). */
#define TZ_TENANT_SECTION_KEY "Tenant"
#define TZ_TENANT_WEB_GROUP_KEY "WebTenantGroup"

/* A tenant name: 1..32 of [a-z0-9_-], starting with a letter or digit
 * (it is stored in entries and written in URLs and SQL parameters). */
#define TZ_TENANT_NAME_MAX 32

struct tz_tenant {
	char *name;
	unsigned line;            /* line of its `Tenant` line */
	struct tz_config *cfg;    /* effective config: global + section; one reference */
	char *web_group;          /* WebTenantGroup, NULL = none (no console access) */
};

/* Keys a section may set (NULL-terminated, canonical names). */
extern const char *const tz_tenant_keys[];

bool tz_tenant_name_valid(const char *name);

/* ---- used by the loader (tz_config.c) ---- */
struct tz_tenant_parse;
struct tz_tenant_parse *tz_tenant_parse_new(const char *path);
/* Feed one `Key Value` line. Returns true when it was a section's line (or
 * a `Tenant` line) and is taken care of here (problems get its errors);
 * false when it is a global line for the caller to apply. */
bool tz_tenant_parse_line(struct tz_tenant_parse *tp, unsigned lineno, const char *key,
			  const char *value, GPtrArray *problems);
/* Build every tenant's config into cfg->tenants, check them (domains in
 * two tenants, a section without LocalDomains), widen cfg's LocalDomains
 * and InternalNetworks, and free tp. */
void tz_tenant_parse_finish(struct tz_tenant_parse *tp, struct tz_config *cfg,
			    GPtrArray *problems);
void tz_tenant_free(struct tz_tenant *t);   /* NULL is a no-op */

/* ---- lookups (pointers valid while the caller holds cfg) ---- */
unsigned tz_config_tenant_count(const struct tz_config *cfg);
const struct tz_tenant *tz_config_tenant_at(const struct tz_config *cfg, unsigned i);
const struct tz_tenant *tz_config_tenant_find(const struct tz_config *cfg, const char *name);
/* The tenant whose LocalDomains hold the domain of addr; NULL = none. */
const struct tz_tenant *tz_config_tenant_for_rcpt(const struct tz_config *cfg, const char *addr);
/* The tenant whose InternalNetworks hold the client address; NULL = none. */
const struct tz_tenant *tz_config_tenant_for_client(const struct tz_config *cfg,
						    const char *addr);

/* ---- hooks for the queue and the sanitizer, ctx = the global config ---- */
/* The tenant's NoticeContact (for tz_queue.tenant_contact); NULL = none
 * set or no such tenant. */
const char *tz_tenant_contact(const char *tenant, const void *cfg);
/* Whether entries of tenant (NULL = none) get SanitizedDelivery auto. */
int tz_tenant_sanitized_auto(const char *tenant, const void *cfg);
/* Whether any tenant or the global config has SanitizedDelivery auto. */
bool tz_config_any_sanitized_auto(const struct tz_config *cfg);

#endif
