/* runtime.c — current config snapshot + store, swapped under a mutex. */
#include "runtime.h"

#include <pthread.h>
#include <string.h>
#include <glib.h>
#include <openssl/crypto.h>
#include "check.h"
#include "tz_audit.h"
#include "tz_blobcfg.h"
#include "tz_store_link.h"
#include "tz_log.h"
#include "tz_spool.h"
#include "tz_util.h"

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tzm_runtime *current;
static unsigned generation;

/* Every tenant's policy and engine options, once per configuration. */
static void runtime_tenants(struct tzm_runtime *rt)
{
	rt->ntenants = tz_config_tenant_count(rt->cfg);
	if (rt->ntenants == 0)
		return;
	rt->tenants = g_new0(struct tzm_tenant, rt->ntenants);
	for (unsigned i = 0; i < rt->ntenants; i++) {
		struct tzm_tenant *mt = &rt->tenants[i];
		mt->t = tz_config_tenant_at(rt->cfg, i);
		tz_policy_from_config(&mt->policy, mt->t->cfg);
		tz_config_engine_options(mt->t->cfg, &mt->engine_opt);
	}
}

static const struct tzm_tenant *runtime_tenant(const struct tzm_runtime *rt,
					       const struct tz_tenant *t)
{
	for (unsigned i = 0; t && i < rt->ntenants; i++)
		if (rt->tenants[i].t == t)
			return &rt->tenants[i];
	return NULL;
}

const struct tzm_tenant *tzm_tenant_for_rcpt(const struct tzm_runtime *rt, const char *rcpt)
{
	return runtime_tenant(rt, tz_config_tenant_for_rcpt(rt->cfg, rcpt));
}

const struct tzm_tenant *tzm_tenant_for_client(const struct tzm_runtime *rt, const char *addr)
{
	return runtime_tenant(rt, tz_config_tenant_for_client(rt->cfg, addr));
}

struct tzm_runtime *tzm_runtime_new(struct tz_config *cfg, char *err, size_t errlen)
{
	struct tzm_runtime *rt;
	struct tz_store *st;
	struct tz_audit *audit = NULL;
	char why[TZ_ERRLEN];

	if (tz_config_audit_location(cfg)) {
		/* with StoreBackend postgresql the chain is in the shared
		 * database: an entry whose record cannot be added there is not
		 * committed, so a database that is down tempfails the mail */
		audit = tz_audit_open(tz_config_audit_location(cfg), cfg->audit_key_file, why,
				      sizeof(why));
		if (audit == NULL) {
			tz_err(err, errlen, "AuditLog: %s", why);
			return NULL;
		}
	}
	/* The milter only adds entries: no index of the segment store in its
	 * memory (it would grow with the quarantine, ~0.85 KB an entry). With
	 * a BlobStore the commit reads its staged copies back to upload them
	 * (and tombstones them after): the index is of those few. */
	st = cfg->blob_store == TZ_BLOB_LOCAL
		? tz_store_open_appending(cfg->quarantine_dir, cfg->quarantine_key_file, err, errlen)
		: tz_store_open(cfg->quarantine_dir, cfg->quarantine_key_file, err, errlen);
	if (st == NULL) {
		tz_audit_free(audit);
		return NULL;
	}
	/* StoreFormat segment: new entries go to QuarantineDir/store/ (a
	 * quarantine that has store/ uses it whatever this says). */
	if (cfg->store_format == TZ_STORE_SEGMENT &&
	    tz_store_use_segments(st, err, errlen) < 0) {
		tz_store_free(st);
		tz_audit_free(audit);
		return NULL;
	}
	/* BlobStore s3|postgresql: every commit puts its blobs there before
	 * the audit record is written (tz_store_blob.c) */
	if (tz_blobcfg_attach(cfg, st, err, errlen) < 0) {
		tz_store_free(st);
		tz_audit_free(audit);
		return NULL;
	}
	if (audit)
		tz_store_set_audit(st, audit);
	/* The index is best effort by design (see tz_store.h); the files are
	 * the truth. */
	if (tz_config_index_location(cfg))
		tz_store_set_index(st, tz_config_index_location(cfg));
	rt = g_new0(struct tzm_runtime, 1);
	/* A configured key that cannot be read is an error like any other
	 * config error: running without it would text-ize released mail. */
	if (cfg->release_key_file) {
		if (tz_key_load(cfg->release_key_file, rt->release_key, why, sizeof(why)) < 0) {
			tz_err(err, errlen, "ReleaseKeyFile: %s", why);
			g_free(rt);
			tz_store_free(st);
			tz_audit_free(audit);
			return NULL;
		}
		rt->has_release_key = true;
	}
	if (cfg->web_base_url && cfg->web_key_file) {
		if (tz_key_load(cfg->web_key_file, rt->link_key, why, sizeof(why)) < 0) {
			tz_err(err, errlen, "WebKeyFile: %s", why);
			OPENSSL_cleanse(rt->release_key, sizeof(rt->release_key));
			g_free(rt);
			tz_store_free(st);
			tz_audit_free(audit);
			return NULL;
		}
		rt->has_link_key = true;
	}
	rt->refs = 1;
	rt->cfg = tz_config_ref(cfg);
	tz_policy_from_config(&rt->policy, rt->cfg);
	tz_config_engine_options(rt->cfg, &rt->engine_opt);
	runtime_tenants(rt);
	rt->store = st;
	rt->audit = audit;
	return rt;
}

struct tzm_runtime *tzm_runtime_ref(struct tzm_runtime *rt)
{
	if (rt)
		g_atomic_int_inc(&rt->refs);
	return rt;
}

void tzm_runtime_unref(struct tzm_runtime *rt)
{
	if (rt == NULL || !g_atomic_int_dec_and_test(&rt->refs))
		return;
	tz_store_free(rt->store);
	tz_audit_free(rt->audit);
	OPENSSL_cleanse(rt->release_key, sizeof(rt->release_key));
	OPENSSL_cleanse(rt->link_key, sizeof(rt->link_key));
	g_free(rt->tenants);
	tz_config_unref(rt->cfg);
	g_free(rt);
}

void tzm_runtime_set_current(struct tzm_runtime *rt)
{
	struct tzm_runtime *old;

	pthread_mutex_lock(&current_lock);
	old = current;
	current = rt;
	if (rt) {
		rt->generation = ++generation;
		/* process-wide, so it follows the newest configuration */
		tz_spool_set_memory_total(rt->cfg->spool_memory_total);
	}
	pthread_mutex_unlock(&current_lock);
	tzm_runtime_unref(old);
}

struct tzm_runtime *tzm_runtime_current(void)
{
	struct tzm_runtime *rt;

	pthread_mutex_lock(&current_lock);
	rt = tzm_runtime_ref(current);
	pthread_mutex_unlock(&current_lock);
	return rt;
}

void tzm_runtime_current_clear(void)
{
	tzm_runtime_set_current(NULL);
}

int tzm_runtime_reload(const char *path, char *err, size_t errlen)
{
	struct tz_config *cfg = tz_config_load(path, err, errlen);
	struct tzm_runtime *rt;

	if (cfg == NULL)
		return -1;
	/* The same check as -n and start-up: a reload that would leave the
	 * daemon unable to read a key or write a directory is refused. */
	{
		GPtrArray *problems = g_ptr_array_new_with_free_func(g_free);
		int n = tzm_config_check(cfg, problems);
		if (n > 0) {
			for (guint i = 0; i < problems->len; i++)
				tz_log(LOG_ERR, NULL, "reload: %s", (char *)g_ptr_array_index(problems, i));
			tz_err(err, errlen, "%d problem(s) with the files %s names (logged above)", n, path);
		}
		g_ptr_array_unref(problems);
		if (n > 0) {
			tz_config_unref(cfg);
			return -1;
		}
	}
	rt = tzm_runtime_new(cfg, err, errlen);
	tz_config_unref(cfg);
	if (rt == NULL)
		return -1;
	tz_log_set_level(rt->cfg->log_level);
	tzm_runtime_set_current(rt);
	return 0;
}
