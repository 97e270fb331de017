/* web_broker.c — the privileged half of textize-web (web_privsep.h): it
 * takes request streams from the front, one thread each (at most
 * WEB_BROKER_THREADS at once; more are refused and the front answers
 * 503), reads one typed request, looks the session up from the cookie
 * itself, runs the handler (web_dispatch: route, role, CSRF, signed link
 * — nothing the front says is believed but the request's bytes and the
 * client address), and writes the page back. */
#define _GNU_SOURCE 1   /* ppoll */
#include "web_broker.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <openssl/crypto.h>

#include "tz_log.h"
#include "tz_util.h"
#include "web.h"
#include "web_http.h"
#include "web_pool.h"
#include "web_privsep.h"
#include "web_session.h"

#define WEB_BROKER_THREADS 16
#define WEB_BROKER_READ_TIMEOUT 10

static gint active;

/* Pairs into a table; a name given twice sets *duplicate. Values can be
 * secrets (an archive's password): wiped before freed. */
static void secret_free(gpointer p)
{
	OPENSSL_cleanse(p, strlen(p));
	g_free(p);
}

static GHashTable *pairs(GVariant *a, int *duplicate)
{
	GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, secret_free);
	GVariantIter it;
	gchar *k, *v;

	g_variant_iter_init(&it, a);
	while (g_variant_iter_next(&it, "(^ay^ay)", &k, &v)) {
		if (g_hash_table_contains(t, k)) {
			*duplicate = 1;
			g_free(k);
			secret_free(v);
		} else
			g_hash_table_insert(t, k, v);
	}
	return t;
}

static GVariant *bs(const char *s)
{
	return g_variant_new_bytestring(s ? s : "");
}

static GVariant *answer(struct web_req *r)
{
	return g_variant_ref_sink(g_variant_new("(u@ay@ay@ay@ay@ay)", r->status, bs(r->content_type),
						bs(r->location), bs(r->set_cookie), bs(r->download_name),
						g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, r->body->str,
									  r->body->len, 1)));
}

/* One request: decode, answer, encode. */
static GVariant *serve(struct web_app *app, GVariant *in)
{
	struct web_req r = { 0 };
	gchar *method, *path, *client, *cookie;
	GVariant *query, *form, *out;
	gboolean too_big, dup;
	int duplicate = 0;
	struct web_app local;
	struct web_conn *c;
	char err[TZ_ERRLEN];

	g_variant_get(in, "(^ay^ay^ay^ay@a(ayay)@a(ayay)bb)", &method, &path, &client, &cookie, &query,
		      &form, &too_big, &dup);
	r.app = &local;
	r.method = method;
	r.path = path;
	r.client = client;
	r.status = 200;
	r.body = g_string_new(NULL);
	r.query = pairs(query, &duplicate);
	r.form = pairs(form, &duplicate);
	r.session = web_session_find(app->sessions, *cookie ? cookie : NULL, (int64_t)time(NULL));
	if ((c = web_pool_take(app->pool, err, sizeof(err))) == NULL) {
		tz_log(LOG_ERR, NULL, "web broker: %s", err);
		local = *app;   /* for the error page's navigation only */
		web_error_page(&r, 503, "データベースを開けません。時間をおいて試してください。");
	} else {
		web_app_for_request(app, c, &local);
		web_dispatch(&r, too_big, dup || duplicate);
		web_app_request_done(&local);
		web_pool_give(app->pool, c);
	}
	out = answer(&r);
	g_hash_table_destroy(r.query);
	g_hash_table_destroy(r.form);
	web_session_free(r.session);
	g_string_free(r.body, TRUE);
	g_free(r.location);
	g_free(r.set_cookie);
	g_free(r.download_name);
	g_variant_unref(query);
	g_variant_unref(form);
	g_free(method);
	g_free(path);
	g_free(client);
	g_free(cookie);
	return out;
}

struct job {
	struct web_app *app;
	int fd;
};

static void *run_job(void *p)
{
	struct job *j = p;
	struct timeval tv = { WEB_BROKER_READ_TIMEOUT, 0 };
	GVariant *in, *out;

	setsockopt(j->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	in = web_wire_recv(j->fd, G_VARIANT_TYPE(WEB_WIRE_REQ), WEB_WIRE_MAX_REQ);
	if (in == NULL)
		tz_log(LOG_WARNING, NULL, "web broker: a request from the front was not readable");
	else {
		out = serve(j->app, in);
		if (web_wire_send(j->fd, out) < 0)
			tz_log(LOG_WARNING, NULL, "web broker: the front did not take the answer");
		g_variant_unref(out);
		g_variant_unref(in);
	}
	close(j->fd);
	g_free(j);
	g_atomic_int_dec_and_test(&active);
	return NULL;
}

int web_broker_run(struct web_app *app, int ctl, volatile sig_atomic_t *stop)
{
	int rc = 0;

	struct pollfd p = { .fd = ctl, .events = POLLIN };
	sigset_t waiting;

	/* SIGTERM/SIGINT are blocked in every thread (textize-web.c, before
	 * any thread exists, so the workers and the libraries' threads inherit
	 * it); only here, inside ppoll, are they let in, so a stop signal
	 * always interrupts this wait */
	pthread_sigmask(SIG_BLOCK, NULL, &waiting);
	sigdelset(&waiting, SIGTERM);
	sigdelset(&waiting, SIGINT);
	while (!*stop) {
		int fd;
		pthread_t t;
		struct job *j;

		if (ppoll(&p, 1, NULL, &waiting) < 0) {
			if (errno == EINTR)
				continue;
			tz_log(LOG_ERR, NULL, "web broker: poll: %s", g_strerror(errno));
			rc = 1;
			break;
		}
		fd = web_broker_next(ctl);

		if (fd == 0) {
			tz_log(LOG_ERR, NULL, "web broker: the front is gone");
			rc = 1;
			break;
		}
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			tz_log(LOG_ERR, NULL, "web broker: control socket: %s", g_strerror(errno));
			rc = 1;
			break;
		}
		if (g_atomic_int_get(&active) >= WEB_BROKER_THREADS) {
			close(fd);   /* the front answers 503 */
			continue;
		}
		j = g_new0(struct job, 1);
		j->app = app;
		j->fd = fd;
		g_atomic_int_inc(&active);
		if (pthread_create(&t, NULL, run_job, j) != 0) {
			g_atomic_int_dec_and_test(&active);
			close(fd);
			g_free(j);
			continue;
		}
		pthread_detach(t);
	}
	/* let requests in flight finish before the app is closed under them */
	for (int i = 0; i < 600 && g_atomic_int_get(&active) > 0; i++)
		usleep(100000);
	return rc;
}
