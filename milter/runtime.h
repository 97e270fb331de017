/* runtime.h — the daemon's current configuration snapshot and the objects
 * built from it (the quarantine store). A connection takes a reference at
 * connect and keeps it until close, so a SIGHUP reload never changes the
 * rules under a message in flight; the old snapshot is freed when its last
 * connection closes. */
#ifndef TZM_RUNTIME_H
#define TZM_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include "tz_config.h"
#include "tz_crypt.h"
#include "tz_engine.h"
#include "tz_policy.h"
#include "tz_store.h"
#include "tz_tenant.h"

/* One tenant's rules, built with the runtime (docs/tenants.md). */
struct tzm_tenant {
	const struct tz_tenant *t;        /* in cfg->tenants; name, its config */
	struct tz_policy policy;
	struct tz_engine_options engine_opt;
};

struct tzm_runtime {
	int refs;                  /* atomic */
	struct tz_config *cfg;     /* one reference, owned */
	struct tz_store *store;    /* owned; opened on cfg->quarantine_dir */
	struct tz_audit *audit;    /* owned; AuditLog, NULL when not set; outlives store */
	unsigned generation;       /* 1 for the first load, +1 per reload */
	bool has_release_key;      /* ReleaseKeyFile loaded: released mail can be recognised */
	unsigned char release_key[TZ_KEY_LEN];
	/* Built once per configuration (start-up, SIGHUP), never per
	 * connection or message; both borrow strings from cfg. */
	struct tz_policy policy;
	struct tz_engine_options engine_opt;
	bool has_link_key;         /* WebKeyFile loaded and WebBaseURL set: notices carry staff links */
	unsigned char link_key[TZ_KEY_LEN];
	struct tzm_tenant *tenants;       /* one per Tenant section, NULL when none */
	unsigned ntenants;
};

/* The runtime's tenant for a recipient (by LocalDomains) or an internal
 * client (by InternalNetworks); NULL = no tenant (the global rules). */
const struct tzm_tenant *tzm_tenant_for_rcpt(const struct tzm_runtime *rt, const char *rcpt);
const struct tzm_tenant *tzm_tenant_for_client(const struct tzm_runtime *rt, const char *addr);

/* Build a runtime from cfg (takes its own reference to cfg): opens the
 * store, its audit log (a log that cannot be opened is an error: nothing
 * accepted goes unrecorded) and its index. NULL + err on failure. refs = 1. */
struct tzm_runtime *tzm_runtime_new(struct tz_config *cfg, char *err, size_t errlen);
struct tzm_runtime *tzm_runtime_ref(struct tzm_runtime *rt);
void tzm_runtime_unref(struct tzm_runtime *rt);   /* NULL is a no-op */

/* The process-wide current runtime. set takes over the caller's reference
 * and drops the old one; get returns a new reference (NULL before the first
 * set and after tzm_runtime_current_clear). Thread-safe. */
void tzm_runtime_set_current(struct tzm_runtime *rt);
struct tzm_runtime *tzm_runtime_current(void);
void tzm_runtime_current_clear(void);

/* SIGHUP: load `path`, build a runtime and make it current. On failure the
 * current one stays and -1 + err is returned (the caller logs it). */
int tzm_runtime_reload(const char *path, char *err, size_t errlen);

#endif
