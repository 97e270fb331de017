/* gate.c — admission to conversion: one mutex, a FIFO of waiters, one
 * condition variable. Only messages that do not fit ever wait; for small
 * mail it is a lock, an add and an unlock. */
#include "gate.h"

#include <pthread.h>
#include <glib.h>

/* How often a waiting session tells the MTA it is still working. */
#define PROGRESS_EVERY_MS 5000

struct waiter {
	struct waiter *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond;
static pthread_once_t cond_once = PTHREAD_ONCE_INIT;
static size_t in_use;
static unsigned running, running_max, waiting;
static struct waiter *head, **tail = &head;

/* The condition waits on CLOCK_MONOTONIC: a clock step is no timeout. */
static void cond_init(void)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&cond, &a);
	pthread_condattr_destroy(&a);
}

size_t tzm_gate_weight(size_t budget, uint64_t bytes)
{
	if (budget == 0)
		return 0;
	if (bytes >= budget - MIN(budget, TZM_GATE_OVERHEAD))
		return budget;
	return (size_t)bytes + TZM_GATE_OVERHEAD;
}

static void unlink_waiter(struct waiter *w)
{
	struct waiter **pp = &head;

	while (*pp != w)
		pp = &(*pp)->next;
	*pp = w->next;
	if (tail == &w->next)
		tail = pp;
	waiting--;
}

static void admit(size_t weight)
{
	in_use += weight;
	if (++running > running_max)
		running_max = running;
}

static struct timespec deadline_in(gint64 now_us, unsigned ms)
{
	gint64 t = now_us + (gint64)ms * 1000;
	struct timespec ts = { .tv_sec = t / 1000000, .tv_nsec = (long)(t % 1000000) * 1000 };

	return ts;
}

int tzm_gate_enter(size_t budget, size_t weight, unsigned wait_ms,
		   void (*progress)(void *ctx), void *ctx, unsigned *waited_ms)
{
	struct waiter me = { NULL };
	gint64 start, now, end, last;
	int rc = -1;

	*waited_ms = 0;
	pthread_once(&cond_once, cond_init);
	pthread_mutex_lock(&lock);
	if (head == NULL && (weight == 0 || in_use + weight <= budget)) {
		admit(weight);
		pthread_mutex_unlock(&lock);
		return 0;
	}
	*tail = &me;
	tail = &me.next;
	waiting++;
	start = last = g_get_monotonic_time();
	end = start + (gint64)wait_ms * 1000;
	for (;;) {
		struct timespec ts;

		if (head == &me && in_use + weight <= budget) {
			admit(weight);
			rc = 0;
			break;
		}
		now = g_get_monotonic_time();
		if (now >= end)
			break;
		/* every few seconds of waiting, however often others wake us */
		if (progress != NULL && now - last >= PROGRESS_EVERY_MS * 1000) {
			pthread_mutex_unlock(&lock);
			progress(ctx);
			pthread_mutex_lock(&lock);
			last = now;
			continue;
		}
		ts = deadline_in(now, (unsigned)(MIN(end - now, last + PROGRESS_EVERY_MS * 1000 - now) / 1000) + 1);
		pthread_cond_timedwait(&cond, &lock, &ts);
	}
	unlink_waiter(&me);
	/* the next in line may fit now (admitted) or may be first now (timed out) */
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	*waited_ms = (unsigned)((g_get_monotonic_time() - start) / 1000);
	return rc;
}

void tzm_gate_leave(size_t weight)
{
	pthread_mutex_lock(&lock);
	in_use -= MIN(weight, in_use);
	running--;
	if (head != NULL)
		pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

void tzm_gate_state(struct tzm_gate_state *out)
{
	pthread_mutex_lock(&lock);
	out->in_use = in_use;
	out->running = running;
	out->running_max = running_max;
	out->waiting = waiting;
	pthread_mutex_unlock(&lock);
}
