/* web_pool.h — database connections per request (textize-web's broker).
 * The index (ReportDatabase, SQLite or PostgreSQL) and WebDatabase are
 * connections a thread must not share; instead of one lock around shared
 * connections — which made every page wait while one release ran its
 * ReleaseCommand or a PPAP try its sandbox — each request takes a pair of
 * its own from this pool (opened on demand, kept for the next request)
 * and runs on a copy of the application wired to them. */
#ifndef TZ_WEB_POOL_H
#define TZ_WEB_POOL_H

#include <stddef.h>

struct web_app;
struct web_pool;

struct web_conn {
	struct tz_index *ix;          /* NULL when ReportDatabase is empty */
	struct web_state *state;
};

/* A pool for the locations of cfg; the first pair is the one
 * web_app_open opened (it becomes the pool's). */
struct web_pool *web_pool_new(const char *index_location, const char *state_path,
			      struct tz_index *ix, struct web_state *state);
void web_pool_free(struct web_pool *p);   /* closes every idle pair */

/* An idle pair, or a new one; NULL with err. */
struct web_conn *web_pool_take(struct web_pool *p, char *err, size_t errlen);
void web_pool_give(struct web_pool *p, struct web_conn *c);

/* Fill *local, a copy of app for one request: its own connections (c),
 * its own lock (uncontended: the handlers keep taking it, it now guards
 * only this request's connections). web_app_request_done() after. */
void web_app_for_request(const struct web_app *app, struct web_conn *c, struct web_app *local);
void web_app_request_done(struct web_app *local);

#endif
