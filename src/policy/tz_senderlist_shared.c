/* tz_senderlist_shared.c — the sender list from the shared database
 * through a bounded cache (see tz_senderlist_shared.h). */
#include "tz_senderlist_shared.h"

#include <pthread.h>
#include <glib.h>

#include "tz_util.h"

struct tz_senderlist_shared {
	pthread_mutex_t lock;
	tz_senderlist_load_fn load;
	void *ctx;
	unsigned ttl_ms;
	tz_ms_clock_fn clock;
	struct tz_senderlist *list;   /* NULL until the first good load */
	int64_t tried;                /* when the last load was tried */
	bool tried_once;
};

static int64_t mono_ms(void)
{
	return g_get_monotonic_time() / 1000;
}

struct tz_senderlist_shared *tz_senderlist_shared_new(tz_senderlist_load_fn load, void *ctx,
						      unsigned ttl_ms, tz_ms_clock_fn clock)
{
	struct tz_senderlist_shared *s = g_new0(struct tz_senderlist_shared, 1);

	pthread_mutex_init(&s->lock, NULL);
	s->load = load;
	s->ctx = ctx;
	s->ttl_ms = ttl_ms;
	s->clock = clock ? clock : mono_ms;
	return s;
}

void tz_senderlist_shared_free(struct tz_senderlist_shared *s)
{
	if (s == NULL)
		return;
	tz_senderlist_free(s->list);
	pthread_mutex_destroy(&s->lock);
	g_free(s);
}

/* Under s->lock: reload when the TTL has passed since the last try.
 * 0 (fresh or not due), -1 with err (the last list stays). */
static int refresh(struct tz_senderlist_shared *s, char *err, size_t errlen)
{
	int64_t now = s->clock();
	char *text = NULL;

	if (s->tried_once && now - s->tried < (int64_t)s->ttl_ms)
		return s->list ? 0 : tz_err(err, errlen, "the sender list was never read "
					   "(retried every %u ms)", s->ttl_ms);
	s->tried = now;
	s->tried_once = true;
	if (s->load(s->ctx, &text, err, errlen) < 0)
		return -1;
	tz_senderlist_free(s->list);
	s->list = tz_senderlist_parse(text, NULL);
	g_free(text);
	return 0;
}

int tz_senderlist_shared_check(struct tz_senderlist_shared *s, const char *sender,
			       struct tz_verdict *v, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = refresh(s, err, errlen) < 0 ? 1 : 0;
	if (s->list)
		tz_senderlist_check(s->list, sender, v);
	else {
		tz_verdict_hit(v, TZ_RULE_SENDERLIST, TZ_ACTION_TEMPFAIL, "451", "4.7.1",
			       TZ_SENDERLIST_UNREAD_TEXT, "sender list not read yet (%s)", err);
		rc = -1;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}
