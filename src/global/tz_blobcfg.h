/* tz_blobcfg.h — the blob backend a configuration names (BlobStore,
 * S3*, DatabaseURL) and its 参照番号 registry (StoreBackend), made and
 * attached to a store; and the blob store's check for `textize-milter -n`. */
#ifndef TZ_BLOBCFG_H
#define TZ_BLOBCFG_H

#include <stddef.h>
#include "tz_config.h"
#include "tz_store.h"

/* Give st the configured blob backend (nothing for BlobStore local) and,
 * with StoreBackend postgresql, the shared 参照番号 registry (tz_ref.h) and
 * the cross-host entry lock (tz_pglock.h).
 * 0, or -1 with err (a key file that cannot be read, ...). */
int tz_blobcfg_attach(const struct tz_config *cfg, struct tz_store *st, char *err, size_t errlen);

/* -n: make the backend and reach it once (a listing of a name no entry
 * has): 0 when BlobStore is local or the store answers, else -1 + err. */
int tz_blobcfg_check(const struct tz_config *cfg, char *err, size_t errlen);

#endif
