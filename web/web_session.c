/* web_session.c — sessions, CSRF tokens and the login rate limit. */
#include "web_session.h"

#include <pthread.h>
#include <string.h>
#include <glib.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include "tz_util.h"

#define MAX_SESSIONS 10000   /* bounded: the oldest go first */
#define MAX_FAIL_KEYS 10000

struct fails {
	int64_t window_start;
	unsigned count;
};

struct web_sessions {
	pthread_mutex_t lock;
	GHashTable *live;    /* token -> struct web_session* */
	GHashTable *fails;   /* "a:" client or "u:" user -> struct fails* */
};

int web_random_token(char out[WEB_TOKEN_HEX])
{
	unsigned char b[32];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -1;
	tz_hex(b, sizeof(b), out);
	OPENSSL_cleanse(b, sizeof(b));
	return 0;
}

struct web_sessions *web_sessions_new(void)
{
	struct web_sessions *s = g_new0(struct web_sessions, 1);

	pthread_mutex_init(&s->lock, NULL);
	s->live = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)web_session_free);
	s->fails = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return s;
}

void web_sessions_free(struct web_sessions *s)
{
	if (s == NULL)
		return;
	g_hash_table_destroy(s->live);
	g_hash_table_destroy(s->fails);
	pthread_mutex_destroy(&s->lock);
	g_free(s);
}

void web_session_free(struct web_session *x)
{
	if (x == NULL)
		return;
	g_free(x->user);
	OPENSSL_cleanse(x, sizeof(*x));
	g_free(x);
}

static struct web_session *copy(const struct web_session *x)
{
	struct web_session *c = g_new(struct web_session, 1);

	*c = *x;
	c->user = g_strdup(x->user);
	return c;
}

static gboolean expired(gpointer key, gpointer value, gpointer now)
{
	return ((struct web_session *)value)->expires <= *(int64_t *)now;
}

struct web_session *web_session_create(struct web_sessions *s, const char *user, unsigned roles,
				       int64_t lifetime, int64_t now)
{
	struct web_session *x = g_new0(struct web_session, 1), *c;

	if (web_random_token(x->token) < 0 || web_random_token(x->csrf) < 0) {
		web_session_free(x);
		return NULL;
	}
	x->user = g_strdup(user);
	x->roles = roles;
	x->expires = now + lifetime;
	pthread_mutex_lock(&s->lock);
	g_hash_table_foreach_remove(s->live, expired, &now);
	if (g_hash_table_size(s->live) >= MAX_SESSIONS) {
		pthread_mutex_unlock(&s->lock);
		web_session_free(x);
		return NULL;
	}
	g_hash_table_insert(s->live, x->token, x);
	c = copy(x);
	pthread_mutex_unlock(&s->lock);
	return c;
}

struct web_session *web_session_find(struct web_sessions *s, const char *token, int64_t now)
{
	struct web_session *x, *c = NULL;

	if (token == NULL || strlen(token) != 64)
		return NULL;
	pthread_mutex_lock(&s->lock);
	x = g_hash_table_lookup(s->live, token);
	if (x && x->expires > now)
		c = copy(x);
	else if (x)
		g_hash_table_remove(s->live, token);
	pthread_mutex_unlock(&s->lock);
	return c;
}

void web_session_end(struct web_sessions *s, const char *token)
{
	if (token == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	g_hash_table_remove(s->live, token);
	pthread_mutex_unlock(&s->lock);
}

int web_csrf_ok(const struct web_session *x, const char *given)
{
	return x && given && strlen(given) == 64 && CRYPTO_memcmp(x->csrf, given, 64) == 0;
}

/* ---- login rate limit ---- */

static int over(struct web_sessions *s, const char *key, int64_t now)
{
	struct fails *f = g_hash_table_lookup(s->fails, key);

	return f && now - f->window_start < WEB_LOGIN_WINDOW && f->count >= WEB_LOGIN_FAILURES;
}

int web_login_allowed(struct web_sessions *s, const char *client, const char *user, int64_t now)
{
	char *a = g_strconcat("a:", client ? client : "", NULL);
	char *u = g_strconcat("u:", user ? user : "", NULL);
	int ok;

	pthread_mutex_lock(&s->lock);
	ok = !over(s, a, now) && !over(s, u, now);
	pthread_mutex_unlock(&s->lock);
	g_free(a);
	g_free(u);
	return ok;
}

static gboolean window_over(gpointer key, gpointer value, gpointer now)
{
	return *(int64_t *)now - ((struct fails *)value)->window_start >= WEB_LOGIN_WINDOW;
}

static void count(struct web_sessions *s, char *key, int64_t now)
{
	struct fails *f = g_hash_table_lookup(s->fails, key);

	if (f == NULL) {
		if (g_hash_table_size(s->fails) >= MAX_FAIL_KEYS)
			g_hash_table_foreach_remove(s->fails, window_over, &now);
		if (g_hash_table_size(s->fails) >= MAX_FAIL_KEYS)
			g_hash_table_remove_all(s->fails);   /* a flood of names: bounded memory first */
		f = g_new0(struct fails, 1);
		g_hash_table_insert(s->fails, key, f);
		key = NULL;
	}
	if (now - f->window_start >= WEB_LOGIN_WINDOW) {
		f->window_start = now;
		f->count = 0;
	}
	f->count++;
	g_free(key);
}

void web_login_failed(struct web_sessions *s, const char *client, const char *user, int64_t now)
{
	pthread_mutex_lock(&s->lock);
	count(s, g_strconcat("a:", client ? client : "", NULL), now);
	count(s, g_strconcat("u:", user ? user : "", NULL), now);
	pthread_mutex_unlock(&s->lock);
}

void web_login_succeeded(struct web_sessions *s, const char *client, const char *user)
{
	char *u = g_strconcat("u:", user ? user : "", NULL);

	pthread_mutex_lock(&s->lock);
	g_hash_table_remove(s->fails, u);
	pthread_mutex_unlock(&s->lock);
	g_free(u);
}
