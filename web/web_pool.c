/* web_pool.c — per-request database connections (see web_pool.h). */
#include "web_pool.h"

#include <pthread.h>
#include <glib.h>

#include "tz_index.h"
#include "web.h"
#include "web_state.h"

/* more idle pairs than threads are closed, not kept */
#define WEB_POOL_IDLE_MAX 16

struct web_pool {
	GMutex mu;
	GPtrArray *idle;             /* struct web_conn* */
	char *ix_loc;                /* NULL = no index */
	char *state_path;
};

static void conn_close(struct web_conn *c)
{
	if (c == NULL)
		return;
	tz_index_free(c->ix);
	web_state_free(c->state);
	g_free(c);
}

struct web_pool *web_pool_new(const char *index_location, const char *state_path,
			      struct tz_index *ix, struct web_state *state)
{
	struct web_pool *p = g_new0(struct web_pool, 1);
	struct web_conn *c = g_new0(struct web_conn, 1);

	g_mutex_init(&p->mu);
	p->idle = g_ptr_array_new();
	p->ix_loc = g_strdup(index_location);
	p->state_path = g_strdup(state_path);
	c->ix = ix;
	c->state = state;
	g_ptr_array_add(p->idle, c);
	return p;
}

void web_pool_free(struct web_pool *p)
{
	if (p == NULL)
		return;
	for (guint i = 0; i < p->idle->len; i++)
		conn_close(p->idle->pdata[i]);
	g_ptr_array_free(p->idle, TRUE);
	g_mutex_clear(&p->mu);
	g_free(p->ix_loc);
	g_free(p->state_path);
	g_free(p);
}

struct web_conn *web_pool_take(struct web_pool *p, char *err, size_t errlen)
{
	struct web_conn *c = NULL;

	g_mutex_lock(&p->mu);
	if (p->idle->len > 0)
		c = g_ptr_array_steal_index_fast(p->idle, p->idle->len - 1);
	g_mutex_unlock(&p->mu);
	if (c)
		return c;
	c = g_new0(struct web_conn, 1);
	if ((p->ix_loc && (c->ix = tz_index_open(p->ix_loc, 5000, err, errlen)) == NULL) ||
	    (c->state = web_state_open(p->state_path, err, errlen)) == NULL) {
		conn_close(c);
		return NULL;
	}
	return c;
}

void web_pool_give(struct web_pool *p, struct web_conn *c)
{
	g_mutex_lock(&p->mu);
	if (p->idle->len < WEB_POOL_IDLE_MAX) {
		g_ptr_array_add(p->idle, c);
		c = NULL;
	}
	g_mutex_unlock(&p->mu);
	conn_close(c);
}

void web_app_for_request(const struct web_app *app, struct web_conn *c, struct web_app *local)
{
	*local = *app;
	pthread_mutex_init(&local->lock, NULL);
	local->ix = c->ix;
	local->state = c->state;
	local->q.ix = c->ix;
	local->cdr.ix = c->ix;
	if (app->cdr.deliver)
		local->cdr.deliver = &local->q;
	if (app->cdr.opts.scan_ctx == &app->clamd)
		local->cdr.opts.scan_ctx = &local->clamd;
	local->pool = NULL;   /* a request never frees or hands on the pool */
}

void web_app_request_done(struct web_app *local)
{
	pthread_mutex_destroy(&local->lock);
}
