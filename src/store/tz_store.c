/* tz_store.c — the sanitization queue on disk (layout in tz_store.h).
 *
 * Atomicity: an entry is built in tmp/<id>/ — original, parts, then
 * meta.json, each fsynced — the directory is fsynced once, then renamed
 * into entries/<day>/, and that directory is fsynced once for all entries
 * committing at the same moment (group commit, with the commit hooks:
 * the audit record, the index row). Readers only ever look under entries/, so a crash at
 * any point leaves either nothing visible or a complete entry. tmp/ itself
 * is not fsynced after the rename: the entry's new name is what must
 * survive, and should the old name survive a crash too, tz_store_clean_tmp
 * leaves an id alone that is also complete.
 * Thread safety: directory fds, key and hooks are read-only once the store
 * is shared; the group commit has its own lock (hooks run in its leader);
 * each entry belongs to one thread. */
#include "tz_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "tz_log.h"
#include "tz_ref.h"
#include "tz_util.h"

#define META_MAX (16u << 20)

volatile int tz_store_test_crash_step;

struct tz_store {
	char *dir;
	int rootfd, tmpfd, entfd;
	int has_key;
	unsigned char key[TZ_KEY_LEN];
	struct tz_store_hook hooks[TZ_STORE_MAX_HOOKS];   /* required first (tz_store_set_hook) */
	gint hook_failures[TZ_STORE_MAX_HOOKS];   /* best-effort misses (atomic) */
	unsigned nhooks;
	struct {
		pthread_mutex_t mu;
		pthread_cond_t cv;
		GPtrArray *queue;  /* struct pending * waiting for a leader */
		int leading;       /* a leader is working on a batch */
	} grp;                     /* group commit, below */
	char day_synced[9];        /* entries/<day> known durable (under grp.mu) */
};

struct stored_part {
	unsigned index;
	char sha256[65];
	uint64_t size;
};

struct tz_store_entry {
	struct tz_store *st;
	char id[TZ_ID_LEN];
	char ref[TZ_REF_LEN];      /* 参照番号, reserved in refs/ */
	int dirfd;                 /* tmp/<id> */
	int have_original;
	char orig_sha256[65];
	uint64_t orig_size;
	struct tz_cfile *cur;      /* part being written by the sink */
	unsigned cur_index;
	GArray *stored;            /* struct stored_part */
	struct tz_part_sink sink;
};

static int fsync_dirfd(int fd)
{
	return fsync(fd) < 0 && errno != EINVAL ? -1 : 0;
}

static int open_dir_at(int at, const char *name, int create)
{
	if (create && mkdirat(at, name, 0700) < 0 && errno != EEXIST)
		return -1;
	return openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
}

struct tz_store *tz_store_open(const char *dir, const char *key_file,
			       char *err, size_t errlen)
{
	struct tz_store *st = g_new0(struct tz_store, 1);

	st->rootfd = st->tmpfd = st->entfd = -1;
	st->dir = g_strdup(dir);
	pthread_mutex_init(&st->grp.mu, NULL);
	pthread_cond_init(&st->grp.cv, NULL);
	st->grp.queue = g_ptr_array_new();
	if (key_file && *key_file) {
		if (tz_key_load(key_file, st->key, err, errlen) < 0)
			goto fail;
		st->has_key = 1;
	}
	st->rootfd = open_dir_at(AT_FDCWD, dir, 1);
	if (st->rootfd < 0) {
		tz_err(err, errlen, "quarantine %s: %s", dir, strerror(errno));
		goto fail;
	}
	st->tmpfd = open_dir_at(st->rootfd, "tmp", 1);
	st->entfd = open_dir_at(st->rootfd, "entries", 1);
	if (st->tmpfd < 0 || st->entfd < 0) {
		tz_err(err, errlen, "quarantine %s: %s", dir, strerror(errno));
		goto fail;
	}
	return st;
fail:
	tz_store_free(st);
	return NULL;
}

void tz_store_free(struct tz_store *st)
{
	if (st == NULL)
		return;
	if (st->rootfd >= 0)
		close(st->rootfd);
	if (st->tmpfd >= 0)
		close(st->tmpfd);
	if (st->entfd >= 0)
		close(st->entfd);
	OPENSSL_cleanse(st->key, sizeof(st->key));
	for (unsigned i = 0; i < st->nhooks; i++)
		if (st->hooks[i].free)
			st->hooks[i].free(st->hooks[i].ctx);
	g_ptr_array_unref(st->grp.queue);
	pthread_cond_destroy(&st->grp.cv);
	pthread_mutex_destroy(&st->grp.mu);
	g_free(st->dir);
	g_free(st);
}

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

const unsigned char *tz_store_key(const struct tz_store *st)
{
	return st->has_key ? st->key : NULL;
}

const char *tz_store_dir(const struct tz_store *st)
{
	return st->dir;
}

/* Remove a flat directory (entries hold only files) and its contents. */
static int remove_flat_dir(int parentfd, const char *name)
{
	int fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	DIR *d;
	struct dirent *de;

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	return unlinkat(parentfd, name, AT_REMOVEDIR);
}

/* ---- writing an entry ---- */

static int sink_begin(void *ctx, const struct tz_part *part, char *err, size_t errlen)
{
	struct tz_store_entry *e = ctx;
	char name[32];

	if (e->cur)
		return tz_err(err, errlen, "quarantine %s: part %u begun inside part %u",
			      e->id, part->index, e->cur_index);
	if (part->index == 0 || part->index > 999999)
		return tz_err(err, errlen, "quarantine %s: bad part index %u", e->id, part->index);
	for (guint i = 0; i < e->stored->len; i++)
		if (g_array_index(e->stored, struct stored_part, i).index == part->index)
			return tz_err(err, errlen, "quarantine %s: part %u stored twice", e->id, part->index);
	/* Named by index only: nothing the sender wrote reaches the file system. */
	snprintf(name, sizeof(name), "part-%03u.bin", part->index);
	e->cur = tz_cfile_create(e->dirfd, name, name, tz_store_key(e->st), e->id, err, errlen);
	if (e->cur == NULL)
		return -1;
	e->cur_index = part->index;
	return 0;
}

static int sink_write(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	struct tz_store_entry *e = ctx;

	if (e->cur == NULL)
		return tz_err(err, errlen, "quarantine %s: part data outside a part", e->id);
	return tz_cfile_write(e->cur, buf, len, err, errlen);
}

static int sink_end(void *ctx, const struct tz_part *part, char *err, size_t errlen)
{
	struct tz_store_entry *e = ctx;
	struct stored_part sp = { 0 };
	struct tz_cfile *f = e->cur;

	if (f == NULL || part->index != e->cur_index)
		return tz_err(err, errlen, "quarantine %s: end of part %u not begun", e->id, part->index);
	e->cur = NULL;
	sp.index = part->index;
	if (tz_cfile_finish(f, sp.sha256, &sp.size, err, errlen) < 0)
		return -1;
	/* The engine hashes while decoding, the store while writing: they must
	 * agree, or what is kept is not what was described. */
	if ((part->sha256[0] && strcmp(part->sha256, sp.sha256) != 0) || part->size != sp.size)
		return tz_err(err, errlen, "quarantine %s: part %u stored content differs from the engine's record",
			      e->id, part->index);
	g_array_append_val(e->stored, sp);
	return 0;
}

struct tz_store_entry *tz_store_entry_begin(struct tz_store *st, char *err, size_t errlen)
{
	struct tz_store_entry *e = g_new0(struct tz_store_entry, 1);

	e->st = st;
	tz_id_new(e->id);
	e->dirfd = -1;
	if (mkdirat(st->tmpfd, e->id, 0700) < 0 ||
	    (e->dirfd = open_dir_at(st->tmpfd, e->id, 0)) < 0) {
		tz_err(err, errlen, "quarantine %s/tmp/%s: %s", st->dir, e->id, strerror(errno));
		unlinkat(st->tmpfd, e->id, AT_REMOVEDIR);
		g_free(e);
		return NULL;
	}
	/* The reference staff will quote: reserved now, because the notice
	 * that shows it is written before the entry is committed. */
	if (tz_ref_reserve(st->rootfd, e->id, time(NULL), e->ref, err, errlen) < 0) {
		close(e->dirfd);
		unlinkat(st->tmpfd, e->id, AT_REMOVEDIR);
		g_free(e);
		return NULL;
	}
	e->stored = g_array_new(FALSE, TRUE, sizeof(struct stored_part));
	e->sink.ctx = e;
	e->sink.begin = sink_begin;
	e->sink.write = sink_write;
	e->sink.end = sink_end;
	return e;
}

const char *tz_store_entry_id(const struct tz_store_entry *e)
{
	return e->id;
}

const char *tz_store_entry_ref(const struct tz_store_entry *e)
{
	return e->ref;
}

int tz_store_resolve(struct tz_store *st, const char *arg, char id[TZ_ID_LEN], unsigned *part,
		     char *err, size_t errlen)
{
	char ref[TZ_REF_LEN];
	int kind;

	if (tz_ref_parse(arg, &kind, ref, id, part) < 0)
		return tz_err(err, errlen, "not an entry id or 参照番号: %s (want MMDD-CODE, "
			      "MMDD-CODE#PART or the long id)", arg ? arg : "(none)");
	if (kind == 1)
		return tz_ref_lookup(st->rootfd, ref, time(NULL), id, err, errlen);
	return 0;
}

int tz_store_purge_refs(struct tz_store *st, time_t cutoff)
{
	return tz_ref_purge(st->rootfd, cutoff);
}

const struct tz_part_sink *tz_store_entry_sink(struct tz_store_entry *e)
{
	return &e->sink;
}

int tz_store_entry_put_original(struct tz_store_entry *e, GMimeStream *original,
				char *err, size_t errlen)
{
	struct tz_cfile *f;
	char *buf;
	ssize_t n;
	int rc = -1;

	if (e->have_original)
		return tz_err(err, errlen, "quarantine %s: original stored twice", e->id);
	f = tz_cfile_create(e->dirfd, "original.eml", "original.eml", tz_store_key(e->st),
			    e->id, err, errlen);
	if (f == NULL)
		return -1;
	buf = g_malloc(TZ_CRYPT_CHUNK);
	while ((n = g_mime_stream_read(original, buf, TZ_CRYPT_CHUNK)) > 0)
		if (tz_cfile_write(f, buf, (size_t)n, err, errlen) < 0)
			goto out;
	if (n < 0) {
		tz_err(err, errlen, "quarantine %s: reading the original failed", e->id);
		goto out;
	}
	rc = tz_cfile_finish(f, e->orig_sha256, &e->orig_size, err, errlen);
	f = NULL;
	e->have_original = rc == 0;
out:
	tz_cfile_abort(f);
	g_free(buf);
	return rc;
}

static void entry_free(struct tz_store_entry *e)
{
	tz_cfile_abort(e->cur);
	if (e->dirfd >= 0)
		close(e->dirfd);
	g_array_unref(e->stored);
	g_free(e);
}

void tz_store_entry_abort(struct tz_store_entry *e)
{
	if (e == NULL)
		return;
	tz_cfile_abort(e->cur);
	e->cur = NULL;
	remove_flat_dir(e->st->tmpfd, e->id);
	entry_free(e);
}

/* Part records for the metadata: the engine's, each checked against what was
 * actually stored; stored parts the result does not list are kept too. */
static int meta_parts(struct tz_store_entry *e, struct tz_meta *m, char *err, size_t errlen)
{
	for (guint i = 0; i < m->parts->len; i++) {
		struct tz_meta_part *p = g_ptr_array_index(m->parts, i);
		guint k;
		for (k = 0; k < e->stored->len; k++)
			if (g_array_index(e->stored, struct stored_part, k).index == p->index)
				break;
		if (k == e->stored->len)
			return tz_err(err, errlen, "quarantine %s: part %u was never stored", e->id, p->index);
	}
	for (guint k = 0; k < e->stored->len; k++) {
		const struct stored_part *sp = &g_array_index(e->stored, struct stored_part, k);
		struct tz_meta_part *p = tz_meta_part_get(m, sp->index);
		if (p == NULL) {
			p = tz_meta_part_new();
			p->index = sp->index;
			g_ptr_array_add(m->parts, p);
		}
		g_free(p->file);
		p->file = g_strdup_printf("part-%03u.bin", sp->index);
		p->size = sp->size;
		g_strlcpy(p->sha256, sp->sha256, sizeof(p->sha256));
	}
	return 0;
}

static int write_meta_file(int dirfd, const char *fname, const struct tz_meta *m,
			   const unsigned char *key, char *err, size_t errlen)
{
	char *json = tz_meta_to_json(m);
	struct tz_cfile *f = tz_cfile_create(dirfd, fname, "meta.json", key, m->id, err, errlen);
	int rc = -1;

	if (f == NULL)
		goto out;
	if (tz_cfile_write(f, json, strlen(json), err, errlen) < 0) {
		tz_cfile_abort(f);
		goto out;
	}
	rc = tz_cfile_finish(f, NULL, NULL, err, errlen);
out:
	g_free(json);
	return rc;
}

#define CRASH_AT(n) do { if (tz_store_test_crash_step == (n)) { \
	tz_err(err, errlen, "simulated crash before step %d", (n)); goto crashed; } } while (0)

/* entries/<day> exists and its name in entries/ is durable. Checked once
 * per day by the first entry of that day this process commits: the thread
 * that created the directory may not have synced entries/ yet. */
static int ensure_day(struct tz_store *st, const char *day, int force, char *err, size_t errlen)
{
	int known;

	pthread_mutex_lock(&st->grp.mu);
	known = strcmp(st->day_synced, day) == 0;
	pthread_mutex_unlock(&st->grp.mu);
	if (known && !force)
		return 0;
	if ((mkdirat(st->entfd, day, 0700) < 0 && errno != EEXIST) || fsync_dirfd(st->entfd) < 0)
		return tz_err(err, errlen, "quarantine entries/%s: %s", day, strerror(errno));
	pthread_mutex_lock(&st->grp.mu);
	g_strlcpy(st->day_synced, day, sizeof(st->day_synced));
	pthread_mutex_unlock(&st->grp.mu);
	return 0;
}

/* Move tmp/<id> to entries/<day>/<id>; durable only once the day
 * directory is fsynced (group_commit). On failure the entry stays in tmp/
 * for the caller to remove; -2 = simulated crash. */
static int publish(struct tz_store_entry *e, char *err, size_t errlen)
{
	struct tz_store *st = e->st;
	char day[9], to[TZ_ID_LEN + 16];
	int rc;

	memcpy(day, e->id, 8);
	day[8] = '\0';
	snprintf(to, sizeof(to), "%s/%s", day, e->id);
	if (ensure_day(st, day, 0, err, errlen) < 0)
		return -1;
	CRASH_AT(3);
	rc = renameat(st->tmpfd, e->id, st->entfd, to);
	if (rc < 0 && errno == ENOENT && ensure_day(st, day, 1, err, errlen) == 0)
		rc = renameat(st->tmpfd, e->id, st->entfd, to);   /* day removed behind us */
	if (rc < 0)
		return tz_err(err, errlen, "quarantine %s: rename: %s", e->id, strerror(errno));
	CRASH_AT(4);
	return 0;
crashed:
	return -2;
}

/* Undo a publish that is not known durable or not audited: the entry must
 * not stay visible after a failure was reported. */
static void unpublish(struct tz_store_entry *e)
{
	char day[9];
	int dayfd;

	memcpy(day, e->id, 8);
	day[8] = '\0';
	dayfd = open_dir_at(e->st->entfd, day, 0);
	if (dayfd < 0)
		return;
	if (renameat(dayfd, e->id, e->st->tmpfd, e->id) < 0)
		remove_flat_dir(dayfd, e->id);
	fsync_dirfd(dayfd);
	close(dayfd);
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

struct pending {
	struct tz_store_entry *e;
	const struct tz_meta *m;
	const struct tz_envelope *env;
	int done;                  /* under grp.mu */
	int rc;                    /* 0, or -1 with err: not durable or not audited */
	char err[TZ_ERRLEN];
};

/* what: "fsync: " or "" before the reason. */
static void pending_fail(struct pending *p, const char *what, const char *why)
{
	p->rc = -1;
	tz_err(p->err, sizeof(p->err), "quarantine %s: %s%s", p->e->id, what, why);
}

/* fsync every day directory the batch renamed into, once each. */
static void sync_days(struct tz_store *st, struct pending **b, guint n)
{
	gboolean *seen = g_new0(gboolean, n);

	for (guint i = 0; i < n; i++) {
		char day[9];
		int fd, ok, why;
		if (seen[i] || b[i]->rc < 0)
			continue;
		memcpy(day, b[i]->e->id, 8);
		day[8] = '\0';
		fd = open_dir_at(st->entfd, day, 0);
		ok = fd >= 0 && fsync_dirfd(fd) == 0;
		why = errno;
		if (fd >= 0)
			close(fd);
		for (guint j = i; j < n; j++) {
			if (seen[j] || memcmp(b[j]->e->id, day, 8) != 0)
				continue;
			seen[j] = TRUE;
			if (!ok && b[j]->rc == 0)
				pending_fail(b[j], "fsync: ", strerror(why));
		}
	}
	g_free(seen);
}

/* Run one hook over the entries of the batch still standing. A required
 * hook's failure fails them all; a best-effort hook's is logged and
 * counted per entry, which stands. */
static void run_hook(struct tz_store *st, unsigned h, struct pending **b, guint n)
{
	const struct tz_store_hook *hk = &st->hooks[h];
	struct tz_store_committed *c = g_new0(struct tz_store_committed, n);
	char why[TZ_ERRLEN] = "";
	guint k = 0;

	for (guint i = 0; i < n; i++)
		if (b[i]->rc == 0)
			c[k++] = (struct tz_store_committed){ b[i]->m, b[i]->env };
	if (k == 0 || hk->run(hk->ctx, c, k, why, sizeof(why)) == 0)
		goto out;
	for (guint i = 0; i < n; i++) {
		if (b[i]->rc < 0)
			continue;
		if (hk->kind == TZ_STORE_HOOK_REQUIRED) {
			pending_fail(b[i], "", why);
			continue;
		}
		g_atomic_int_inc(&st->hook_failures[h]);
		tz_log(LOG_ERR, b[i]->env ? b[i]->env->queue_id : NULL,
		       "quarantine %s: stored, but %s: %s%s%s", b[i]->e->id,
		       hk->missed ? hk->missed : hk->name, why, hk->remedy ? "; " : "",
		       hk->remedy ? hk->remedy : "");
	}
out:
	g_free(c);
}

/* The leader's turn: take everything queued, work on it with the lock
 * released, then wake its owners. Called and returns with grp.mu held. */
static void lead(struct tz_store *st)
{
	GPtrArray *batch = st->grp.queue;
	struct pending **b = (struct pending **)batch->pdata;

	st->grp.queue = g_ptr_array_new();
	st->grp.leading = 1;
	pthread_mutex_unlock(&st->grp.mu);
	sync_days(st, b, batch->len);
	for (unsigned h = 0; h < st->nhooks; h++)
		run_hook(st, h, b, batch->len);
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
static void group_commit(struct tz_store *st, struct pending *p)
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

int tz_store_entry_commit(struct tz_store_entry *e, const struct tz_envelope *env,
			  const struct tz_result *res, char *err, size_t errlen)
{
	struct tz_meta *m = tz_meta_new();
	struct pending p = { 0 };
	int rc = -1, crashed = 0;

	if (e->cur) {
		tz_err(err, errlen, "quarantine %s: part %u unfinished", e->id, e->cur_index);
		goto out;
	}
	if (!e->have_original) {
		tz_err(err, errlen, "quarantine %s: no original stored", e->id);
		goto out;
	}
	tz_meta_fill(m, e->id, env, res);
	m->ref = g_strdup(e->ref);
	m->original_size = e->orig_size;
	g_strlcpy(m->original_sha256, e->orig_sha256, sizeof(m->original_sha256));
	if (meta_parts(e, m, err, errlen) < 0)
		goto out;
	CRASH_AT(1);
	if (write_meta_file(e->dirfd, "meta.json", m, tz_store_key(e->st), err, errlen) < 0)
		goto out;
	CRASH_AT(2);
	if (fsync_dirfd(e->dirfd) < 0) {
		tz_err(err, errlen, "quarantine %s: fsync: %s", e->id, strerror(errno));
		goto out;
	}
	rc = publish(e, err, errlen);
	if (rc == -2)
		goto crashed;
	if (rc < 0)
		goto out;
	p.e = e;
	p.m = m;
	p.env = env;
	group_commit(e->st, &p);
	if (p.rc < 0) {
		g_strlcpy(err, p.err, errlen);
		unpublish(e);
		rc = -1;
		goto out;
	}
	rc = 0;
	goto out;
crashed:
	crashed = 1;
	rc = -1;
out:
	tz_meta_free(m);
	if (rc < 0 && !crashed) {
		tz_cfile_abort(e->cur);
		e->cur = NULL;
		remove_flat_dir(e->st->tmpfd, e->id);
	}
	entry_free(e);
	return rc;
}

/* ---- committed entries ---- */

static int open_day(struct tz_store *st, const char *id)
{
	char day[9];

	memcpy(day, id, 8);
	day[8] = '\0';
	return open_dir_at(st->entfd, day, 0);
}

int tz_store_entry_open(struct tz_store *st, const char *id, char *err, size_t errlen)
{
	int dayfd, fd;

	if (!tz_id_valid(id))
		return tz_err(err, errlen, "not a quarantine id: %s", id ? id : "(null)");
	dayfd = open_day(st, id);
	fd = dayfd < 0 ? -1 : open_dir_at(dayfd, id, 0);
	if (dayfd >= 0)
		close(dayfd);
	if (fd < 0)
		return tz_err(err, errlen, "no quarantine entry %s", id);
	return fd;
}

static int cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add the complete entries of one day directory to ids. */
static void list_day(int dayfd, GPtrArray *ids)
{
	DIR *d = fdopendir(dayfd);
	struct dirent *de;

	if (d == NULL) {
		close(dayfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char path[TZ_ID_LEN + 16];
		if (!tz_id_valid(de->d_name))
			continue;
		g_strlcpy(path, de->d_name, sizeof(path));
		g_strlcat(path, "/meta.json", sizeof(path));
		if (faccessat(dirfd(d), path, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			g_ptr_array_add(ids, g_strdup(de->d_name));
	}
	closedir(d);
}

int tz_store_list(struct tz_store *st, GPtrArray **ids, char *err, size_t errlen)
{
	int fd = openat(st->entfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *de;

	*ids = g_ptr_array_new_with_free_func(g_free);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return tz_err(err, errlen, "quarantine %s/entries: %s", st->dir, strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		int dayfd;
		if (strlen(de->d_name) != 8 || strspn(de->d_name, "0123456789") != 8)
			continue;
		dayfd = open_dir_at(dirfd(d), de->d_name, 0);
		if (dayfd >= 0)
			list_day(dayfd, *ids);
	}
	closedir(d);
	g_ptr_array_sort(*ids, cmp_str);
	return 0;
}

int tz_store_lock(struct tz_store *st, const char *id, char *err, size_t errlen)
{
	int fd = tz_store_entry_open(st, id, err, errlen);

	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			close(fd);
			return tz_err(err, errlen, "quarantine %s: lock: %s", id, strerror(errno));
		}
	}
	return fd;
}

void tz_store_unlock(int lockfd)
{
	if (lockfd >= 0)
		close(lockfd);   /* closing the last fd drops the flock */
}

struct tz_meta *tz_store_meta_read(struct tz_store *st, const char *id, char *err, size_t errlen)
{
	GByteArray *ba = NULL;
	struct tz_meta *m = NULL;
	int fd = tz_store_entry_open(st, id, err, errlen);

	if (fd < 0)
		return NULL;
	if (tz_cfile_read_all(fd, "meta.json", "meta.json", tz_store_key(st), id, META_MAX,
			      &ba, err, errlen) < 0)
		goto out;
	m = tz_meta_parse((const char *)ba->data, ba->len, err, errlen);
	/* Plain files carry no authenticated id: check that the document
	 * describes the entry it was found in. */
	if (m && strcmp(m->id, id) != 0) {
		tz_err(err, errlen, "quarantine %s: meta.json describes %s", id, m->id);
		tz_meta_free(m);
		m = NULL;
	}
out:
	if (ba)
		g_byte_array_unref(ba);
	close(fd);
	return m;
}

int tz_store_meta_write(struct tz_store *st, const struct tz_meta *m, char *err, size_t errlen)
{
	int fd = tz_store_entry_open(st, m->id, err, errlen), rc = -1;

	if (fd < 0)
		return -1;
	unlinkat(fd, "meta.json.tmp", 0);   /* left by a crashed rewrite */
	if (write_meta_file(fd, "meta.json.tmp", m, tz_store_key(st), err, errlen) < 0)
		goto out;
	if (renameat(fd, "meta.json.tmp", fd, "meta.json") < 0 || fsync_dirfd(fd) < 0) {
		tz_err(err, errlen, "quarantine %s: meta.json: %s", m->id, strerror(errno));
		unlinkat(fd, "meta.json.tmp", 0);
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

int tz_store_file_read(struct tz_store *st, const char *id, const char *fname,
		       tz_cfile_fn fn, void *ctx, char *err, size_t errlen)
{
	int fd, rc;

	if (strchr(fname, '/') || fname[0] == '.')
		return tz_err(err, errlen, "bad file name %s", fname);
	fd = tz_store_entry_open(st, id, err, errlen);
	if (fd < 0)
		return -1;
	rc = tz_cfile_read(fd, fname, fname, tz_store_key(st), id, fn, ctx, err, errlen);
	close(fd);
	return rc;
}

int tz_store_file_put(struct tz_store *st, const char *id, const char *fname, int srcfd,
		      char *sha256_hex, uint64_t *size, char *err, size_t errlen)
{
	char tmpname[256], *buf = g_malloc(TZ_CRYPT_CHUNK);
	struct tz_cfile *f = NULL;
	int fd, rc = -1;
	ssize_t n;

	fd = tz_store_entry_open(st, id, err, errlen);
	if (fd < 0)
		goto out;
	if (strchr(fname, '/') || fname[0] == '.' || strlen(fname) > 200) {
		tz_err(err, errlen, "bad file name %s", fname);
		goto out;
	}
	snprintf(tmpname, sizeof(tmpname), "%s.tmp", fname);
	unlinkat(fd, tmpname, 0);
	f = tz_cfile_create(fd, tmpname, fname, tz_store_key(st), id, err, errlen);
	if (f == NULL)
		goto out;
	while ((n = read(srcfd, buf, TZ_CRYPT_CHUNK)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			tz_err(err, errlen, "%s: read: %s", fname, strerror(errno));
			goto out;
		}
		if (tz_cfile_write(f, buf, (size_t)n, err, errlen) < 0)
			goto out;
	}
	rc = tz_cfile_finish(f, sha256_hex, size, err, errlen);
	f = NULL;
	if (rc == 0 && (faccessat(fd, fname, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
			renameat(fd, tmpname, fd, fname) < 0 || fsync_dirfd(fd) < 0)) {
		tz_err(err, errlen, "%s: cannot put in place (exists?): %s", fname, strerror(errno));
		unlinkat(fd, tmpname, 0);
		rc = -1;
	}
out:
	tz_cfile_abort(f);
	if (fd >= 0)
		close(fd);
	g_free(buf);
	return rc;
}

int tz_store_remove(struct tz_store *st, const char *id, char *err, size_t errlen)
{
	int dayfd;

	if (!tz_id_valid(id))
		return tz_err(err, errlen, "not a quarantine id: %s", id ? id : "(null)");
	dayfd = open_day(st, id);
	if (dayfd < 0 || remove_flat_dir(dayfd, id) < 0 || fsync_dirfd(dayfd) < 0) {
		tz_err(err, errlen, "quarantine %s: remove: %s", id, strerror(errno));
		if (dayfd >= 0)
			close(dayfd);
		return -1;
	}
	close(dayfd);
	return 0;
}

/* The id names a complete entry (after a crash on a file system that does
 * not journal renames, its old name in tmp/ may have survived as well:
 * removing "that" leftover would remove the entry's files). */
static int is_complete(struct tz_store *st, const char *id)
{
	int fd = open_day(st, id), rc;
	char path[TZ_ID_LEN + 16];

	if (fd < 0)
		return 0;
	g_strlcpy(path, id, sizeof(path));
	g_strlcat(path, "/meta.json", sizeof(path));
	rc = faccessat(fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	close(fd);
	return rc;
}

int tz_store_clean_tmp(struct tz_store *st, unsigned max_age)
{
	/* A fresh open, not dup(): threads must not share a directory offset. */
	int fd = openat(st->tmpfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), n = 0;
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	time_t now = time(NULL);

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat sb;
		if (!tz_id_valid(de->d_name) ||
		    fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    (max_age > 0 && now - sb.st_mtime < (time_t)max_age) ||
		    is_complete(st, de->d_name))
			continue;
		if (remove_flat_dir(dirfd(d), de->d_name) == 0)
			n++;
	}
	closedir(d);
	return n;
}
