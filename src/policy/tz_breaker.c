/* tz_breaker.c — outbound circuit breaker: sliding windows per sender and
 * overall, the trip, and the state file shared with textizectl. */
#include "tz_breaker.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tz_log.h"
#include "tz_util.h"

struct event {
	time_t t;
	unsigned rcpts;
};

struct sender {
	GQueue events;        /* struct event*, oldest first */
	bool over;            /* over a limit now (alerted, listed in the file) */
	time_t over_since;
};

struct tz_breaker {
	pthread_mutex_t lock;
	struct tz_breaker_options o;   /* strings owned (copies) */
	tz_clock_fn clock;
	GHashTable *senders;           /* key -> struct sender* */
	GQueue trips;                  /* time_t (GSIZE_TO_POINTER) of sender trips */
	GQueue global;                 /* time_t of accepted outbound messages */
	time_t last_sweep;
	/* mirrored from / to the state file */
	struct tz_breaker_state st;
	struct stat file_st;           /* identity of the file last read/written */
	bool file_bad;                 /* the file (or shared state) could not be read: fail closed */
	gint64 last_poll;              /* shared: monotonic us of the last load() */
};

/* ---------------------------------------------------------------- parsing */

int tz_rate_parse(const char *s, struct tz_rate *out)
{
	char *end;
	unsigned long n, w = 0, mult = 1;

	if (s == NULL)
		return -1;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (end == s || errno || n > 100000000UL || *s == '-')
		return -1;
	if (*end == '/') {
		const char *ws = end + 1;
		w = strtoul(ws, &end, 10);
		if (end == ws || errno || w == 0 || w > 7UL * 86400)
			return -1;
		switch (*end) {
		case '\0': case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		default: return -1;
		}
		if (*end && end[1] != '\0')
			return -1;
		w *= mult;
		if (w > 7UL * 86400)
			return -1;
	} else if (*end != '\0') {
		return -1;
	}
	out->count = (unsigned)n;
	out->window_s = (unsigned)w;
	return 0;
}

/* ---------------------------------------------------------------- state file */

void tz_breaker_state_init(struct tz_breaker_state *st)
{
	memset(st, 0, sizeof(*st));
	st->senders = g_ptr_array_new_with_free_func(g_free);
}

void tz_breaker_state_clear(struct tz_breaker_state *st)
{
	if (st->senders)
		g_ptr_array_free(st->senders, TRUE);
	st->senders = NULL;
}

static int parse_line(struct tz_breaker_state *st, char *line)
{
	char *sp = strchr(line, ' ');
	char *val = sp ? sp + 1 : (char *)"";

	if (sp)
		*sp = '\0';
	if (line[0] == '#' || line[0] == '\0')
		return 0;
	if (strcmp(line, "generation") == 0)
		st->generation = g_ascii_strtoull(val, NULL, 10);
	else if (strcmp(line, "tripped") == 0)
		st->tripped = strcmp(val, "0") != 0;
	else if (strcmp(line, "since") == 0)
		st->since = (time_t)g_ascii_strtoll(val, NULL, 10);
	else if (strcmp(line, "reason") == 0)
		g_strlcpy(st->reason, val, sizeof(st->reason));
	else if (strcmp(line, "sender") == 0)
		g_ptr_array_add(st->senders, g_strdup(val));
	else
		return -1;
	return 0;
}

int tz_breaker_state_load(const char *path, struct tz_breaker_state *st, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int ret = -1, lineno = 0;

	tz_breaker_state_clear(st);
	tz_breaker_state_init(st);
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		return tz_err(err, errlen, "%s: %s", path, strerror(errno));
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (parse_line(st, line) < 0) {
			tz_err(err, errlen, "%s:%d: unknown line", path, lineno);
			goto out;
		}
	}
	ret = ferror(f) ? tz_err(err, errlen, "%s: read error", path) : 0;
out:
	fclose(f);
	return ret;
}

int tz_breaker_state_save(const char *path, const struct tz_breaker_state *st, char *err, size_t errlen)
{
	GString *s = g_string_new("# textize circuit breaker state (textizectl breaker status|reset)\n");
	char *tmp = g_strdup_printf("%s.tmp.%ld", path, (long)getpid());
	char *dir = g_path_get_dirname(path);
	int fd = -1, dfd = -1, ret = -1;

	g_string_append_printf(s, "generation %llu\ntripped %d\nsince %lld\nreason %s\n",
			       (unsigned long long)st->generation, st->tripped ? 1 : 0,
			       (long long)st->since, st->reason);
	for (guint i = 0; st->senders && i < st->senders->len; i++)
		g_string_append_printf(s, "sender %s\n", (char *)g_ptr_array_index(st->senders, i));
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || tz_write_all(fd, s->str, s->len) < 0 || fsync(fd) < 0) {
		tz_err(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) < 0) {
		tz_err(err, errlen, "rename %s: %s", path, strerror(errno));
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		fsync(dfd);   /* the rename itself must survive a crash */
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (ret < 0)
		unlink(tmp);
	g_string_free(s, TRUE);
	g_free(tmp);
	g_free(dir);
	return ret;
}

int tz_breaker_lock(const char *path, char *err, size_t errlen)
{
	char *lp = g_strdup_printf("%s.lock", path);
	/* O_RDONLY is enough for flock and works when root created the file. */
	int fd = open(lp, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		tz_err(err, errlen, "%s: %s", lp, strerror(errno));
	else if (flock(fd, LOCK_EX) < 0) {
		tz_err(err, errlen, "flock %s: %s", lp, strerror(errno));
		close(fd);
		fd = -1;
	}
	g_free(lp);
	return fd;
}

void tz_breaker_unlock(int fd)
{
	if (fd >= 0)
		close(fd);   /* releases the flock */
}

int tz_breaker_reset_file(const char *path, char *err, size_t errlen)
{
	struct tz_breaker_state st;
	int fd, ret = -1;

	tz_breaker_state_init(&st);
	fd = tz_breaker_lock(path, err, errlen);
	if (fd < 0)
		goto out;
	/* An unreadable file is replaced: reset is how the operator repairs it. */
	if (tz_breaker_state_load(path, &st, err, errlen) < 0) {
		tz_breaker_state_clear(&st);
		tz_breaker_state_init(&st);
	}
	st.generation++;
	st.tripped = false;
	st.since = 0;
	st.reason[0] = '\0';
	g_ptr_array_set_size(st.senders, 0);
	ret = tz_breaker_state_save(path, &st, err, errlen);
out:
	tz_breaker_unlock(fd);
	tz_breaker_state_clear(&st);
	return ret;
}

/* ---------------------------------------------------------------- the breaker */

static void sender_free(gpointer p)
{
	struct sender *s = p;

	g_queue_clear_full(&s->events, g_free);
	g_free(s);
}

static void copy_options(struct tz_breaker *b, const struct tz_breaker_options *o)
{
	g_free((char *)b->o.state_path);
	g_free((char *)b->o.text);
	b->o = *o;
	b->o.state_path = g_strdup(o->state_path);
	b->o.text = g_strdup(o->text);
}

static void clear_counters(struct tz_breaker *b)
{
	g_hash_table_remove_all(b->senders);
	g_queue_clear(&b->trips);
	g_queue_clear(&b->global);
}

static time_t now_of(const struct tz_breaker *b)
{
	return b->clock ? b->clock() : time(NULL);
}

/* Take st (read from the file or the shared state) as ours; a new
 * generation is an operator's reset: the counters start afresh. */
static void adopt(struct tz_breaker *b, struct tz_breaker_state *st)
{
	if (st->generation != b->st.generation) {
		tz_log(LOG_NOTICE, NULL, "breaker: reset by operator (generation %llu)",
		       (unsigned long long)st->generation);
		clear_counters(b);
	}
	tz_breaker_state_clear(&b->st);
	b->st = *st;
}

/* The shared state, read at most every TZ_BREAKER_POLL_MS (also while it
 * cannot be read: a dead database is not asked on every message). */
static void refresh_shared(struct tz_breaker *b)
{
	struct tz_breaker_state st;
	gint64 now = g_get_monotonic_time();
	char err[TZ_ERRLEN];

	if (b->last_poll && now - b->last_poll < TZ_BREAKER_POLL_MS * 1000)
		return;
	b->last_poll = now;
	tz_breaker_state_init(&st);
	if (b->o.shared->load(b->o.shared->ctx, &st, err, sizeof(err)) < 0) {
		if (!b->file_bad)
			tz_log(LOG_ERR, NULL, "breaker: shared state: %s: outbound mail tempfailed "
			       "until the database answers", err);
		b->file_bad = true;
		tz_breaker_state_clear(&st);
		return;
	}
	if (b->file_bad)
		tz_log(LOG_NOTICE, NULL, "breaker: shared state readable again");
	b->file_bad = false;
	if (b->st.tripped && !st.tripped && st.generation == b->st.generation) {
		/* our trip never reached the database (it was down): write it
		 * now rather than forget it; no reset happened since */
		tz_breaker_state_clear(&st);
		if (b->o.shared->save(b->o.shared->ctx, &b->st, err, sizeof(err)) < 0)
			tz_log(LOG_ERR, NULL, "breaker: cannot save shared state: %s", err);
		return;
	}
	adopt(b, &st);
}

/* Re-read the state file when it changed since we last saw it. */
static void refresh(struct tz_breaker *b)
{
	struct tz_breaker_state st;
	struct stat sb;
	char err[TZ_ERRLEN];

	if (b->o.shared) {
		refresh_shared(b);
		return;
	}
	if (b->o.state_path == NULL || stat(b->o.state_path, &sb) < 0)
		return;
	if (sb.st_ino == b->file_st.st_ino && sb.st_size == b->file_st.st_size &&
	    sb.st_mtim.tv_sec == b->file_st.st_mtim.tv_sec &&
	    sb.st_mtim.tv_nsec == b->file_st.st_mtim.tv_nsec)
		return;
	b->file_st = sb;
	tz_breaker_state_init(&st);
	if (tz_breaker_state_load(b->o.state_path, &st, err, sizeof(err)) < 0) {
		if (!b->file_bad)
			tz_log(LOG_ERR, NULL, "breaker: %s: outbound mail tempfailed until repaired "
			       "(textizectl breaker reset)", err);
		b->file_bad = true;
		tz_breaker_state_clear(&st);
		return;
	}
	b->file_bad = false;
	adopt(b, &st);
}

static void collect_over(gpointer key, gpointer value, gpointer data)
{
	struct sender *s = value;
	GPtrArray *out = data;
	char *safe;

	if (!s->over)
		return;
	safe = g_strdelimit(g_strdup(key), " \t\r\n", '?');
	g_ptr_array_add(out, g_strdup_printf("%lld %s", (long long)s->over_since, safe));
	g_free(safe);
}

/* Write our state; an operator reset that raced us wins. */
static void persist(struct tz_breaker *b)
{
	struct tz_breaker_state disk;
	char err[TZ_ERRLEN];
	int fd;

	if (b->o.shared) {
		int rc = b->o.shared->save(b->o.shared->ctx, &b->st, err, sizeof(err));
		if (rc < 0)
			tz_log(LOG_ERR, NULL, "breaker: cannot save shared state: %s", err);
		if (rc == 1) {   /* an operator's reset came first: adopt it */
			b->last_poll = 0;
			refresh_shared(b);
		}
		return;
	}
	if (b->o.state_path == NULL)
		return;
	fd = tz_breaker_lock(b->o.state_path, err, sizeof(err));
	tz_breaker_state_init(&disk);
	if (fd < 0)
		goto fail;
	if (tz_breaker_state_load(b->o.state_path, &disk, err, sizeof(err)) == 0 &&
	    disk.generation != b->st.generation) {
		memset(&b->file_st, 0, sizeof(b->file_st));
		refresh(b);   /* adopt the reset; this trip belonged to the old generation */
		goto out;
	}
	g_ptr_array_set_size(b->st.senders, 0);
	g_hash_table_foreach(b->senders, collect_over, b->st.senders);
	if (tz_breaker_state_save(b->o.state_path, &b->st, err, sizeof(err)) < 0)
		goto fail;
	stat(b->o.state_path, &b->file_st);
	goto out;
fail:
	tz_log(LOG_ERR, NULL, "breaker: cannot save state: %s", err);
out:
	tz_breaker_unlock(fd);
	tz_breaker_state_clear(&disk);
}

struct tz_breaker *tz_breaker_new(const struct tz_breaker_options *o, tz_clock_fn clock,
				  char *err, size_t errlen)
{
	struct tz_breaker *b = g_new0(struct tz_breaker, 1);

	pthread_mutex_init(&b->lock, NULL);
	b->clock = clock;
	b->senders = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, sender_free);
	tz_breaker_state_init(&b->st);
	copy_options(b, o);
	if (b->o.shared == NULL && b->o.state_path &&
	    tz_breaker_state_load(b->o.state_path, &b->st, err, errlen) < 0) {
		tz_breaker_free(b);
		return NULL;
	}
	if (b->o.state_path)
		stat(b->o.state_path, &b->file_st);
	return b;
}

void tz_breaker_free(struct tz_breaker *b)
{
	if (b == NULL)
		return;
	g_hash_table_destroy(b->senders);
	g_queue_clear(&b->trips);
	g_queue_clear(&b->global);
	tz_breaker_state_clear(&b->st);
	g_free((char *)b->o.state_path);
	g_free((char *)b->o.text);
	pthread_mutex_destroy(&b->lock);
	g_free(b);
}

void tz_breaker_configure(struct tz_breaker *b, const struct tz_breaker_options *o)
{
	pthread_mutex_lock(&b->lock);
	copy_options(b, o);
	memset(&b->file_st, 0, sizeof(b->file_st));   /* StateDir may have moved */
	b->last_poll = 0;
	pthread_mutex_unlock(&b->lock);
}

static unsigned window_max(const struct tz_breaker_options *o)
{
	unsigned w = o->msgs.window_s > o->rcpts.window_s ? o->msgs.window_s : o->rcpts.window_s;

	return w ? w : 3600;
}

static unsigned trip_window(const struct tz_breaker_options *o)
{
	return o->trip.window_s ? o->trip.window_s : window_max(o);
}

/* Drop timestamps (GSIZE_TO_POINTER) at or before now - window. */
static void prune_times(GQueue *q, time_t now, unsigned window)
{
	while (!g_queue_is_empty(q) &&
	       (time_t)GPOINTER_TO_SIZE(g_queue_peek_head(q)) <= now - (time_t)window)
		g_queue_pop_head(q);
}

static void prune_events(struct sender *s, time_t now, unsigned window)
{
	struct event *e;

	while ((e = g_queue_peek_head(&s->events)) && e->t <= now - (time_t)window)
		g_free(g_queue_pop_head(&s->events));
}

/* Forget senders with nothing in their window, at most once a minute. */
static void sweep(struct tz_breaker *b, time_t now)
{
	GHashTableIter it;
	gpointer k, v;

	if (now - b->last_sweep < 60)
		return;
	b->last_sweep = now;
	g_hash_table_iter_init(&it, b->senders);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct sender *s = v;
		prune_events(s, now, window_max(&b->o));
		if (g_queue_is_empty(&s->events) && !s->over)
			g_hash_table_iter_remove(&it);
	}
}

/* Would one more message with nrcpts put s over a limit? */
static const char *sender_over(const struct tz_breaker_options *o, struct sender *s,
			       time_t now, unsigned nrcpts)
{
	unsigned msgs = 0, rcpts = 0;

	for (GList *l = s->events.head; l; l = l->next) {
		const struct event *e = l->data;
		if (o->msgs.count && e->t > now - (time_t)o->msgs.window_s)
			msgs++;
		if (o->rcpts.count && e->t > now - (time_t)o->rcpts.window_s)
			rcpts += e->rcpts;
	}
	if (o->msgs.count && msgs + 1 > o->msgs.count)
		return "message rate";
	if (o->rcpts.count && (uint64_t)rcpts + nrcpts > o->rcpts.count)
		return "recipient rate";
	return NULL;
}

static void trip(struct tz_breaker *b, const char *qid, time_t now, const char *why)
{
	b->st.tripped = true;
	b->st.since = now;
	g_strlcpy(b->st.reason, why, sizeof(b->st.reason));
	tz_log(LOG_ALERT, qid, "breaker: TRIPPED: %s; all outbound mail is tempfailed until "
	       "`textizectl breaker reset`", why);
}

/* The sender just went over a limit: alert, count the trip. */
static void sender_tripped(struct tz_breaker *b, const char *qid, const char *key,
			   struct sender *s, time_t now, const char *what)
{
	unsigned tw = trip_window(&b->o), n;
	char why[TZ_ERRLEN];

	s->over = true;
	s->over_since = now;
	tz_log(LOG_ALERT, qid, "breaker: sender %s over its %s limit; its outbound mail is "
	       "tempfailed", key, what);
	if (b->o.trip.count == 0)
		return;
	if (b->o.shared && b->o.shared->over) {
		/* the senders over on every gateway; an error leaves the count
		 * to the next one (this sender's mail is tempfailed anyway) */
		if (b->o.shared->over(b->o.shared->ctx, key, now, tw, &n, why, sizeof(why)) < 0) {
			tz_log(LOG_ERR, qid, "breaker: shared trip count: %s", why);
			s->over = false;
			return;
		}
	} else {
		prune_times(&b->trips, now, tw);
		g_queue_push_tail(&b->trips, GSIZE_TO_POINTER((gsize)now));
		n = g_queue_get_length(&b->trips);
	}
	if (n >= b->o.trip.count && !b->st.tripped) {
		snprintf(why, sizeof(why), "%u senders over their limit within %us%s", n, tw,
			 b->o.shared && b->o.shared->over ? " (all gateways)" : "");
		trip(b, qid, now, why);
	}
}

/* Count one accepted message toward the global limit; true if it trips. */
static bool global_over(struct tz_breaker *b, const char *qid, time_t now)
{
	char why[200];

	if (b->o.global.count == 0)
		return false;
	prune_times(&b->global, now, b->o.global.window_s ? b->o.global.window_s : 3600);
	if (g_queue_get_length(&b->global) + 1 > b->o.global.count) {
		snprintf(why, sizeof(why), "outbound total over %u messages per %us",
			 b->o.global.count, b->o.global.window_s ? b->o.global.window_s : 3600);
		trip(b, qid, now, why);
		return true;
	}
	g_queue_push_tail(&b->global, GSIZE_TO_POINTER((gsize)now));
	return false;
}

/* Shared state: would one more message of key put it, or all outbound
 * mail, over a limit? *over as sender_over(); -1 with err when the counts
 * cannot be read. */
static int shared_over(struct tz_breaker *b, const char *key, time_t now, unsigned nrcpts,
		       const char **over, bool *global, char *err, size_t errlen)
{
	const struct tz_breaker_options *o = &b->o;
	const unsigned w[3] = { o->msgs.count ? o->msgs.window_s : 0,
				o->rcpts.count ? o->rcpts.window_s : 0,
				o->global.count ? (o->global.window_s ? o->global.window_s : 3600) : 0 };
	uint64_t c[3] = { 0, 0, 0 };

	if ((w[0] || w[1] || w[2]) && o->shared->counts(o->shared->ctx, key, now, w, c, err, errlen) < 0)
		return -1;
	*over = NULL;
	if (o->msgs.count && c[0] + 1 > o->msgs.count)
		*over = "message rate";
	else if (o->rcpts.count && c[1] + nrcpts > o->rcpts.count)
		*over = "recipient rate";
	*global = o->global.count && c[2] + 1 > o->global.count;
	return 0;
}

/* Shared state: all outbound mail went over OutboundGlobalLimit. */
static bool shared_trip_global(struct tz_breaker *b, const char *qid, time_t now)
{
	char why[200];

	snprintf(why, sizeof(why), "outbound total over %u messages per %us", b->o.global.count,
		 b->o.global.window_s ? b->o.global.window_s : 3600);
	trip(b, qid, now, why);
	return true;
}

static void hit(struct tz_breaker *b, struct tz_verdict *v, bool tripped, const char *fmt,
		const char *arg)
{
	const char *text = b->o.text ? b->o.text :
		(tripped ? TZ_BREAKER_TRIPPED_TEXT : TZ_BREAKER_SENDER_TEXT);

	tz_verdict_hit(v, TZ_RULE_BREAKER, TZ_ACTION_TEMPFAIL, "451", "4.7.1", text, fmt, arg);
}

static struct sender *sender_get(struct tz_breaker *b, const char *key)
{
	struct sender *s = g_hash_table_lookup(b->senders, key);

	if (s == NULL && g_hash_table_size(b->senders) < TZ_BREAKER_MAX_SENDERS) {
		s = g_new0(struct sender, 1);
		g_queue_init(&s->events);
		g_hash_table_insert(b->senders, g_strdup(key), s);
	}
	return s;
}

void tz_breaker_check(struct tz_breaker *b, const char *qid, const char *sender_key,
		      unsigned nrcpts, struct tz_verdict *v)
{
	const char *key = sender_key && *sender_key ? sender_key : "unknown";
	time_t now;
	struct sender *s;
	const char *over;
	bool was_tripped, dirty = false, gover = false;
	char why[TZ_ERRLEN];

	pthread_mutex_lock(&b->lock);
	now = now_of(b);
	refresh(b);
	was_tripped = b->st.tripped;
	if (b->file_bad || b->st.tripped) {
		hit(b, v, true, "breaker tripped (%s)", !b->file_bad ? b->st.reason :
		    b->o.shared ? "shared state unreachable" : "state file unreadable");
		goto out;
	}
	sweep(b, now);
	s = sender_get(b, key);
	if (s == NULL) {
		hit(b, v, false, "too many senders tracked (%s)", key);
		goto out;
	}
	prune_events(s, now, window_max(&b->o));
	if (b->o.shared == NULL)
		over = sender_over(&b->o, s, now, nrcpts ? nrcpts : 1);
	else if (shared_over(b, key, now, nrcpts ? nrcpts : 1, &over, &gover, why, sizeof(why)) < 0) {
		tz_log(LOG_ERR, qid, "breaker: shared counts: %s", why);
		hit(b, v, true, "breaker: shared state unreachable (%s)", why);
		goto out;
	}
	if (over) {
		if (!s->over) {
			sender_tripped(b, qid, key, s, now, over);
			dirty = true;
		}
		hit(b, v, b->st.tripped, "sender %s over its limit", key);
		goto out;
	}
	if (s->over) {
		s->over = false;   /* its window has room again */
		dirty = true;
	}
	if (b->o.shared ? gover && shared_trip_global(b, qid, now) : global_over(b, qid, now)) {
		hit(b, v, true, "breaker tripped (%s)", b->st.reason);
		goto out;
	}
	if (b->o.shared) {
		if ((b->o.msgs.count || b->o.rcpts.count || b->o.global.count) &&
		    b->o.shared->record(b->o.shared->ctx, key, nrcpts ? nrcpts : 1, now, why,
					sizeof(why)) < 0) {
			tz_log(LOG_ERR, qid, "breaker: shared counts: %s", why);
			hit(b, v, true, "breaker: shared state unreachable (%s)", why);
		}
	} else if (b->o.msgs.count || b->o.rcpts.count) {
		struct event *e = g_new(struct event, 1);
		e->t = now;
		e->rcpts = nrcpts ? nrcpts : 1;
		g_queue_push_tail(&s->events, e);
	}
out:
	if (dirty || b->st.tripped != was_tripped)
		persist(b);
	pthread_mutex_unlock(&b->lock);
}
