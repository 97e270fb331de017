/* tz_store_group.c — the store's commit hooks and its group commit: the
 * last steps of a commit, shared by every entry that reaches them while a
 * batch is in flight (see tz_store.h for the hook contract). */
#include "tz_store_int.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "tz_log.h"
#include "tz_util.h"

static int hook_find(const struct tz_store *st, const char *name)
{
	for (unsigned i = 0; i < st->nhooks; i++)
		if (strcmp(st->hooks[i].name, name) == 0)
			return (int)i;
	return -1;
}

int tz_store_set_hook(struct tz_store *st, const struct tz_store_hook *h)
{
	int i = hook_find(st, h->name);
	unsigned at;

	if (i >= 0) {   /* replace: drop the old one, keep the others' order */
		if (st->hooks[i].free)
			st->hooks[i].free(st->hooks[i].ctx);
		memmove(&st->hooks[i], &st->hooks[i + 1], (st->nhooks - (unsigned)i - 1) * sizeof(*h));
		memmove(&st->hook_failures[i], &st->hook_failures[i + 1],
			(st->nhooks - (unsigned)i - 1) * sizeof(st->hook_failures[0]));
		st->nhooks--;
	}
	if (h->run == NULL)
		return 0;
	if (st->nhooks == TZ_STORE_MAX_HOOKS) {
		if (h->free)
			h->free(h->ctx);
		return -1;
	}
	/* Required hooks before best-effort ones, each kind in arrival order. */
	for (at = st->nhooks; at > 0 && h->kind == TZ_STORE_HOOK_REQUIRED &&
	     st->hooks[at - 1].kind != TZ_STORE_HOOK_REQUIRED; at--)
		;
	memmove(&st->hooks[at + 1], &st->hooks[at], (st->nhooks - at) * sizeof(*h));
	memmove(&st->hook_failures[at + 1], &st->hook_failures[at],
		(st->nhooks - at) * sizeof(st->hook_failures[0]));
	st->hooks[at] = *h;
	st->hook_failures[at] = 0;
	st->nhooks++;
	return 0;
}

unsigned tz_store_hook_failures(struct tz_store *st, const char *name)
{
	int i = hook_find(st, name);

	return i < 0 ? 0 : (unsigned)g_atomic_int_get(&st->hook_failures[i]);
}

void tzs_hooks_free(struct tz_store *st)
{
	for (unsigned i = 0; i < st->nhooks; i++)
		if (st->hooks[i].free)
			st->hooks[i].free(st->hooks[i].ctx);
	st->nhooks = 0;
}

/* ---- group commit ----
 *
 * The last steps of a commit are shared by all entries that reach them
 * while a batch is in flight: one thread (the leader) fsyncs each day
 * directory once for all their renames and runs each commit hook once for
 * all of them (the audit log: one write and one fdatasync; the index: one
 * transaction), while the others wait. Under concurrent mail that turns N
 * directory fsyncs, N fdatasyncs and N index transactions into one each;
 * an entry waits at most for the batch in flight and then its own. */


/* what: "fsync: " or "" before the reason. */
static void pending_fail(struct pending *p, const char *what, const char *why)
{
	p->rc = -1;
	tz_err(p->err, sizeof(p->err), "quarantine %s: %s%s", p->id, what, why);
}

/* fsync every day directory the batch renamed into, once each. */
static void sync_days(struct tz_store *st, struct pending **b, guint n)
{
	gboolean *seen = g_new0(gboolean, n);

	for (guint i = 0; i < n; i++) {
		char day[9];
		int fd, ok, why;
		if (seen[i] || b[i]->rc < 0 || b[i]->in_segment)
			continue;
		memcpy(day, b[i]->id, 8);
		day[8] = '\0';
		fd = tzs_open_dir_at(st->entfd, day, 0);
		ok = fd >= 0 && tzs_fsync_dir(fd) == 0;
		why = errno;
		if (fd >= 0)
			close(fd);
		for (guint j = i; j < n; j++) {
			if (seen[j] || b[j]->in_segment || memcmp(b[j]->id, day, 8) != 0)
				continue;
			seen[j] = TRUE;
			if (!ok && b[j]->rc == 0)
				pending_fail(b[j], "fsync: ", strerror(why));
		}
	}
	g_free(seen);
}

/* The entries of the batch still standing, as the hooks see them. */
static guint standing(struct pending **b, guint n, struct tz_store_committed *c)
{
	guint k = 0;

	for (guint i = 0; i < n; i++)
		if (b[i]->rc == 0)
			c[k++] = (struct tz_store_committed){ b[i]->m, b[i]->env };
	return k;
}

/* A hook's failure on the entries that were standing when it ran (mask):
 * a required hook's fails them all; a best-effort hook's is logged and
 * counted per entry still standing, which stands. */
static void hook_failed(struct tz_store *st, unsigned h, struct pending **b, guint n,
			const gboolean *mask, const char *why)
{
	const struct tz_store_hook *hk = &st->hooks[h];

	for (guint i = 0; i < n; i++) {
		if (!mask[i] || b[i]->rc < 0)
			continue;
		if (hk->kind == TZ_STORE_HOOK_REQUIRED) {
			pending_fail(b[i], "", why);
			continue;
		}
		g_atomic_int_inc(&st->hook_failures[h]);
		tz_log(LOG_ERR, b[i]->env ? b[i]->env->queue_id : NULL,
		       "quarantine %s: stored, but %s: %s%s%s", b[i]->id,
		       hk->missed ? hk->missed : hk->name, why, hk->remedy ? "; " : "",
		       hk->remedy ? hk->remedy : "");
	}
}

/* The batch's side work, on a thread of its own while the leader runs the
 * required hooks. Without sync: the best-effort hooks (the index
 * transaction: CPU and a write, no fsync), which then overlap the audit
 * log's fdatasync instead of following it. With sync: only the segment's
 * fdatasync, so that it and the audit log's run side by side; the leader
 * runs the best-effort hooks once the required ones are done, while the
 * sync still runs — the index's transaction no longer waits for the sync
 * and then adds to the commit. The index may thus hold a row of an entry
 * that is not durable yet; one whose sync then fails (or that a crash
 * loses) is never listed, and the index's catch-up drops its row, as it
 * drops that of one a required hook rejects (withdrawn from the store). */
struct side {
	struct tz_store *st;
	int sync, sync_rc;                     /* tz_seg_sync first, and its result */
	int hooks;                             /* the best-effort hooks too, after the sync */
	char sync_why[TZ_ERRLEN];
	guint n;
	gboolean *mask;                        /* standing when the hooks started */
	struct tz_store_committed *c;          /* those entries, taken before they start */
	guint k;
	char why[TZ_STORE_MAX_HOOKS][TZ_ERRLEN];
	int rc[TZ_STORE_MAX_HOOKS];
};

/* The best-effort hooks over sd->c; only sd's own copies: the leader may
 * fail entries of the batch meanwhile. */
static void best_effort(struct side *sd)
{
	for (unsigned h = 0; h < sd->st->nhooks; h++)
		if (sd->st->hooks[h].kind != TZ_STORE_HOOK_REQUIRED && sd->k > 0)
			sd->rc[h] = sd->st->hooks[h].run(sd->st->hooks[h].ctx, sd->c, sd->k, sd->why[h],
							 sizeof(sd->why[h]));
}

static void *side_main(void *arg)
{
	struct side *sd = arg;

	/* the batch's 参照番号 first: a failure fails the batch as the
	 * segment's would (never listed, the required hooks undone) */
	if (sd->sync)
		sd->sync_rc = tz_refs_sync(tzs_refs(sd->st), sd->sync_why, sizeof(sd->sync_why));
	if (sd->sync && sd->sync_rc == 0)
		sd->sync_rc = tz_seg_sync(sd->st->seg, sd->sync_why, sizeof(sd->sync_why));
	if (sd->sync_rc == 0 && sd->hooks)
		best_effort(sd);
	return NULL;
}

/* Which entries of b stand now, into sd's own copies. */
static void side_take(struct side *sd, struct pending **b, guint n)
{
	for (guint i = 0; i < n; i++)
		sd->mask[i] = b[i]->rc == 0;
	sd->k = standing(b, n, sd->c);
}

/* The side thread lives as long as the store (started by the first batch
 * that needs it, in the process that commits: a fork's child starts its
 * own). One created per batch cost a clone and, at its exit, its stack
 * madvised away, on the commit's critical path; and on a busy machine a
 * new thread waits for a core longer than a woken one (traced: the
 * segment's fdatasync began before the audit's write in 15-17 of 21
 * commits with this thread, 10 of 20 and 9 of 21 with one per batch). One batch at
 * a time: only the leader hands it work. */
static void *side_loop(void *arg)
{
	struct tz_store *st = arg;

	pthread_mutex_lock(&st->side.mu);
	for (;;) {
		struct side *sd = st->side.job;
		if (sd == NULL && st->side.stop)
			break;
		if (sd == NULL) {
			pthread_cond_wait(&st->side.cv, &st->side.mu);
			continue;
		}
		pthread_mutex_unlock(&st->side.mu);
		side_main(sd);
		pthread_mutex_lock(&st->side.mu);
		st->side.job = NULL;
		pthread_cond_broadcast(&st->side.cv);
	}
	pthread_mutex_unlock(&st->side.mu);
	return NULL;
}

/* Hand sd to the side thread: 1, or -1 when there is none to be had. */
static int side_start(struct tz_store *st, struct side *sd)
{
	if (st->side.pid != getpid()) {
		/* none yet, or the parent's, which a fork did not copy */
		pthread_mutex_init(&st->side.mu, NULL);
		pthread_cond_init(&st->side.cv, NULL);
		st->side.job = NULL;
		st->side.stop = 0;
		if (pthread_create(&st->side.th, NULL, side_loop, st) != 0) {
			st->side.pid = 0;
			return -1;
		}
		st->side.pid = getpid();
	}
	pthread_mutex_lock(&st->side.mu);
	st->side.job = sd;
	pthread_cond_broadcast(&st->side.cv);
	pthread_mutex_unlock(&st->side.mu);
	return 1;
}

static void side_wait(struct tz_store *st)
{
	pthread_mutex_lock(&st->side.mu);
	while (st->side.job != NULL)
		pthread_cond_wait(&st->side.cv, &st->side.mu);
	pthread_mutex_unlock(&st->side.mu);
}

/* Only the process that started the thread stops it and destroys its
 * lock: a fork's child holds a copy of a condition variable the parent's
 * thread waits on, and destroying that copy would wait for a waiter that
 * is not there. */
void tzs_side_stop(struct tz_store *st)
{
	if (st->side.pid != getpid())
		return;
	pthread_mutex_lock(&st->side.mu);
	st->side.stop = 1;
	pthread_cond_broadcast(&st->side.cv);
	pthread_mutex_unlock(&st->side.mu);
	pthread_join(st->side.th, NULL);
	pthread_cond_destroy(&st->side.cv);
	pthread_mutex_destroy(&st->side.mu);
	st->side.pid = 0;
}

/* 1 when the batch has segment records to sync. */
static int seg_records(struct pending **b, guint n)
{
	for (guint i = 0; i < n; i++)
		if (b[i]->in_segment && b[i]->rc == 0)
			return 1;
	return 0;
}

/* The segment's sync may run beside the hooks only when every required
 * hook can undo what it recorded (tz_store.h). */
static int sync_beside(const struct tz_store *st)
{
	for (unsigned h = 0; h < st->nhooks; h++)
		if (st->hooks[h].kind == TZ_STORE_HOOK_REQUIRED && st->hooks[h].undo == NULL)
			return 0;
	return 1;
}

/* The segment's sync is done (rc, why): list the batch's records, or fail
 * them. A record a required hook rejected is listed too, so that its
 * committer can withdraw it (tzs_seg_commit); one whose sync failed is
 * never listed, and beside: what the required hooks recorded for those
 * still standing is undone. */
static void seg_settle(struct tz_store *st, struct pending **b, guint n, int rc, const char *why,
		       int beside)
{
	struct tz_store_committed *c = g_new0(struct tz_store_committed, n);
	guint k = 0;

	for (guint i = 0; i < n; i++) {
		if (!b[i]->in_segment)
			continue;
		if (rc == 0) {
			tz_seg_publish(st->seg, &b[i]->w);
			continue;
		}
		if (b[i]->rc < 0)
			continue;
		if (beside)
			c[k++] = (struct tz_store_committed){ b[i]->m, b[i]->env };
		pending_fail(b[i], "", why);
	}
	for (unsigned h = 0; beside && k > 0 && h < st->nhooks; h++) {
		char uwhy[TZ_ERRLEN] = "";
		if (st->hooks[h].kind != TZ_STORE_HOOK_REQUIRED ||
		    st->hooks[h].undo(st->hooks[h].ctx, c, k, uwhy, sizeof(uwhy)) == 0)
			continue;
		/* the next set of the hook repairs it (tz_store_set_audit) */
		tz_log(LOG_ERR, NULL, "quarantine: %u entries not stored (%s), and %s not undone: %s",
		       k, why, st->hooks[h].name, uwhy);
	}
	g_free(c);
}

/* The batch's 参照番号 durable before any of it is acknowledged (the day
 * logs: tz_ref_file.c; a database claim is durable by itself), when no
 * segment sync runs beside the hooks (side_main does it there, before
 * that sync): a failure fails the batch before the hooks run. */
static void refs_settle(struct tz_store *st, struct pending **b, guint n)
{
	char why[TZ_ERRLEN] = "";

	if (tz_refs_sync(tzs_refs(st), why, sizeof(why)) == 0)
		return;
	for (guint i = 0; i < n; i++)
		if (b[i]->rc == 0)
			pending_fail(b[i], "", why);
}

/* Every hook once over the batch: the required ones here, in order; with
 * sync the segment's sync beside them and then the best-effort ones here
 * (beside the sync), else the best-effort ones beside them (side_main);
 * all done before it returns. */
static void run_hooks(struct tz_store *st, struct pending **b, guint n, int sync)
{
	struct side *sd = g_new0(struct side, 1);
	struct tz_store_committed *c = g_new0(struct tz_store_committed, n);
	gboolean *now = g_new0(gboolean, n);
	int side = 0;

	*sd = (struct side){ .st = st, .sync = sync, .hooks = !sync, .n = n,
			     .mask = g_new0(gboolean, n), .c = g_new0(struct tz_store_committed, n) };
	side_take(sd, b, n);
	if (sync || (st->nhooks > 0 && st->hooks[st->nhooks - 1].kind != TZ_STORE_HOOK_REQUIRED))
		side = side_start(st, sd);
	if (side < 0 && sync) {   /* no thread to be had: the sync first, in turn */
		side_main(sd);
		seg_settle(st, b, n, sd->sync_rc, sd->sync_why, 0);
		sd->sync = 0;
	} else if (side < 0) {
		side_main(sd);
	}
	if (!sync)   /* else side_main synced them, on the thread or here in turn */
		refs_settle(st, b, n);
	for (unsigned h = 0; h < st->nhooks && st->hooks[h].kind == TZ_STORE_HOOK_REQUIRED; h++) {
		char why[TZ_ERRLEN] = "";
		guint k = standing(b, n, c);
		for (guint i = 0; i < n; i++)
			now[i] = b[i]->rc == 0;
		if (k > 0 && st->hooks[h].run(st->hooks[h].ctx, c, k, why, sizeof(why)) < 0)
			hook_failed(st, h, b, n, now, why);
	}
	if (!sd->hooks) {   /* the side only syncs: the index here, beside it */
		side_take(sd, b, n);
		best_effort(sd);
	}
	if (side > 0)
		side_wait(st);
	if (sd->sync)
		seg_settle(st, b, n, sd->sync_rc, sd->sync_why, 1);
	for (unsigned h = 0; h < st->nhooks; h++)
		if (st->hooks[h].kind != TZ_STORE_HOOK_REQUIRED && sd->rc[h] < 0)
			hook_failed(st, h, b, n, sd->mask, sd->why[h]);
	g_free(sd->mask);
	g_free(sd->c);
	g_free(sd);
	g_free(now);
	g_free(c);
}

/* The leader's turn: take everything queued, work on it with the lock
 * released, then wake its owners. Called and returns with grp.mu held.
 * The batch's segment records are synced before the hooks, or beside them
 * (run_hooks) when every required hook can undo. */
static void lead(struct tz_store *st)
{
	GPtrArray *batch = st->grp.queue;
	struct pending **b = (struct pending **)batch->pdata;
	int seg, beside;

	st->grp.queue = g_ptr_array_new();
	st->grp.leading = 1;
	pthread_mutex_unlock(&st->grp.mu);
	seg = seg_records(b, batch->len);
	beside = seg && sync_beside(st);
	sync_days(st, b, batch->len);
	if (seg && !beside) {
		char why[TZ_ERRLEN] = "";
		seg_settle(st, b, batch->len, tz_seg_sync(st->seg, why, sizeof(why)), why, 0);
	}
	tzs_blob_batch(st, b, batch->len);   /* blobs durable before any record of them */
	run_hooks(st, b, batch->len, beside);
	tzs_blob_settle(st, b, batch->len);
	pthread_mutex_lock(&st->grp.mu);
	for (guint i = 0; i < batch->len; i++)
		b[i]->done = 1;
	st->grp.leading = 0;
	pthread_cond_broadcast(&st->grp.cv);
	g_ptr_array_unref(batch);
}

/* Make a published entry durable, audited and indexed, together with the
 * others committing now. While a leader works, the queue fills; when it is
 * done, a thread whose entry is still queued leads the next batch. */
void tzs_group_commit(struct tz_store *st, struct pending *p)
{
	pthread_mutex_lock(&st->grp.mu);
	g_ptr_array_add(st->grp.queue, p);
	while (!p->done) {
		if (st->grp.leading)
			pthread_cond_wait(&st->grp.cv, &st->grp.mu);
		else
			lead(st);
	}
	pthread_mutex_unlock(&st->grp.mu);
}

