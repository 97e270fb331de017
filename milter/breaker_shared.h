/* breaker_shared.h — the circuit breaker's state shared by the gateways of
 * a cluster (StoreBackend postgresql): tz_breaker_shared over the rows of
 * tz_pgbreaker. */
#ifndef TZM_BREAKER_SHARED_H
#define TZM_BREAKER_SHARED_H

#include "tz_breaker.h"
#include "tz_config.h"

/* The process's callbacks, made on first use from cfg's DatabaseURL (a
 * changed DatabaseURL takes a restart: the breaker keeps this pointer);
 * NULL when the backend is local. */
const struct tz_breaker_shared *tzm_breaker_shared(const struct tz_config *cfg);

#endif
