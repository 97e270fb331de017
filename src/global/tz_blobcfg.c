/* tz_blobcfg.c — the configured blob backend and 参照番号 registry (see
 * tz_blobcfg.h). */
#include "tz_blobcfg.h"

#include <glib.h>

#include "tz_blob.h"
#include "tz_ref.h"
#include "tz_pglock.h"
#include "tz_util.h"

static struct tz_blob *blob_new(const struct tz_config *cfg, char *err, size_t errlen)
{
	struct tz_s3_conf s3 = { 0 };

	switch (cfg->blob_store) {
	case TZ_BLOB_S3:
		s3.endpoint = cfg->s3_endpoint;
		s3.bucket = cfg->s3_bucket;
		s3.region = cfg->s3_region ? cfg->s3_region : "us-east-1";
		s3.key_file = cfg->s3_access_key_file;
		return tz_blob_s3_new(&s3, err, errlen);
	case TZ_BLOB_POSTGRESQL:
		return tz_blob_pg_new(cfg->database_url, err, errlen);
	case TZ_BLOB_LOCAL:
		break;
	}
	return NULL;
}

int tz_blobcfg_attach(const struct tz_config *cfg, struct tz_store *st, char *err, size_t errlen)
{
	struct tz_blob *b;

	/* StoreBackend postgresql: 参照番号 from the shared table, so a code
	 * is unique across the gateways and resolves on every one */
	if (cfg->store_backend == TZ_STORE_POSTGRESQL)
		tz_store_set_refs(st, tz_refs_pg_new(cfg->database_url));
	if (cfg->store_backend == TZ_STORE_POSTGRESQL) {
		/* entry locks and sanitize claims across the gateways */
		struct tz_store_locker l = tz_pglock_new(cfg->database_url);
		tz_store_set_locker(st, &l);
	}
	if (cfg->blob_store == TZ_BLOB_LOCAL)
		return 0;
	b = blob_new(cfg, err, errlen);
	if (b == NULL)
		return -1;
	tz_store_set_blobs(st, b);
	tz_store_set_blob_puts(st, cfg->blob_puts);
	return 0;
}

int tz_blobcfg_check(const struct tz_config *cfg, char *err, size_t errlen)
{
	GPtrArray *keys;
	struct tz_blob *b;
	int rc;

	if (cfg->blob_store == TZ_BLOB_LOCAL)
		return 0;
	b = blob_new(cfg, err, errlen);
	if (b == NULL)
		return -1;
	keys = g_ptr_array_new_with_free_func(g_free);
	rc = b->ops->list(b, "textize-check", keys, err, errlen);
	g_ptr_array_unref(keys);
	tz_blob_free(b);
	return rc;
}
