/* tz_cdr_queue.c — the sanitize worker over the quarantine (tz_cdr_queue.h). */
#define _XOPEN_SOURCE 700
#include "tz_cdr_queue.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <glib.h>
#include <openssl/rand.h>

#include "textize.h"
#include "tz_audit.h"
#include "tz_index.h"
#include "tz_log.h"
#include "tz_meta.h"
#include "tz_queue_int.h"
#include "tz_store.h"
#include "tz_cdr_child.h"
#include "tz_cdr_int.h"
#include "tz_util.h"

static int waiting(const struct tz_meta_part *p)
{
	return p->sanitized_file == NULL &&
	       (strcmp(p->state, TZ_STATE_PENDING) == 0 || strcmp(p->state, TZ_STATE_CLEAN) == 0);
}

int tz_cdr_ppap_waiting(const struct tz_meta_part *p)
{
	return (p->risk & TZ_RISK_ENCRYPTED_ZIP) && p->sanitized_file == NULL &&
	       (waiting(p) || strcmp(p->state, TZ_STATE_UNSANITIZABLE) == 0);
}

/* Whether part p still waits for what the caller is about to do. */
static int open_for(const struct tz_meta_part *p, int ppap)
{
	return ppap ? tz_cdr_ppap_waiting(p) : waiting(p);
}

static int write_fd_cb(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	if (tz_write_all(*(int *)ctx, buf, len) < 0)
		return tz_err(err, errlen, "write: %s", strerror(errno));
	return 0;
}

/* Under the entry lock: the plaintext of part index into workdir/input.
 * 1 when the part is no longer waiting, 0 copied, 2 when the stored file
 * cannot be read or fails authentication (err says why: a decision about
 * this part, not a reason to stop the worker), -1 error. */
int tz_cdr_queue_fetch(const struct tz_cdr_queue *q, const char *id, unsigned index, int ppap,
		       const char *input, char sha[65], char *err, size_t errlen)
{
	struct tz_meta *m = NULL;
	struct tz_meta_part *p;
	int lock = tz_store_lock(q->st, id, err, errlen), fd = -1, rc = -1;

	if (lock < 0)
		return -1;
	m = tz_store_meta_read(q->st, id, err, errlen);
	if (m == NULL)
		goto out;
	p = tz_meta_part_get(m, index);
	if (p == NULL || !open_for(p, ppap)) {
		rc = 1;
		goto out;
	}
	memcpy(sha, p->sha256, 65);
	fd = open(input, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		tz_err(err, errlen, "%s: %s", input, strerror(errno));
		goto out;
	}
	rc = tz_store_file_read(q->st, id, p->file, write_fd_cb, &fd, err, errlen) < 0 ? 2 : 0;
out:
	if (fd >= 0)
		close(fd);
	tz_meta_free(m);
	tz_store_unlock(q->st, lock);
	return rc;
}

int tz_cdr_queue_record(const struct tz_cdr_queue *q, const char *id, unsigned index, int ppap,
			const char sha[65], const struct tz_cdr_result *r, const char *operator_name,
			char *err, size_t errlen)
{
	struct tz_meta *m = NULL;
	struct tz_meta_part *p;
	struct tz_audit_event ev = { 0 };
	unsigned char tag[3];
	char detail[900], ts[32], tagx[7], why[TZ_ERRLEN];
	char *sname = NULL;
	int lock = tz_store_lock(q->st, id, err, errlen), fd = -1, rc = -1;

	if (lock < 0)
		return -1;
	m = tz_store_meta_read(q->st, id, err, errlen);
	if (m == NULL)
		goto out;
	p = tz_meta_part_get(m, index);
	if (p == NULL || !open_for(p, ppap) || strcmp(p->sha256, sha) != 0) {
		rc = 0;    /* decided by someone else meanwhile: theirs stands */
		goto out;
	}
	if (r->sanitized) {
		/* a random tag: a copy stored by a run that died before its
		 * meta.json write must not block this one */
		if (RAND_bytes(tag, sizeof tag) != 1) {
			tz_err(err, errlen, "RAND_bytes failed");
			goto out;
		}
		tz_hex(tag, sizeof tag, tagx);
		sname = g_strdup_printf("part-%03u.sanitized-%s%s", index, tagx, r->out_ext);
		fd = open(r->out_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			tz_err(err, errlen, "%s: %s", r->out_path, strerror(errno));
			goto out;
		}
		if (tz_store_file_put(q->st, id, sname, fd, p->sanitized_sha256, &p->sanitized_size,
				      err, errlen) < 0)
			goto out;
		tzq_set_str(&p->sanitized_file, sname);
		tzq_set_str(&p->state, TZ_STATE_SANITIZED);
		g_snprintf(detail, sizeof detail, "state=sanitized kind=%s detected=%s pages=%u size=%llu%s%s%s%s",
			   r->kind, r->detected, r->pages, (unsigned long long)p->sanitized_size,
			   r->ocr ? " ocr=yes" : *r->ocr_skipped ? " ocr=skipped: " : "",
			   r->ocr ? "" : r->ocr_skipped, r->members ? " " : "",
			   r->members ? r->members : "");
		tzq_set_str(&p->note, detail + strlen("state=sanitized "));
	} else {
		tzq_set_str(&p->state, TZ_STATE_UNSANITIZABLE);
		g_snprintf(why, sizeof why, "%s: %s", r->kind ? r->kind : "unknown", r->reason);
		tzq_set_str(&p->note, why);
		g_snprintf(detail, sizeof detail, "state=unsanitizable detected=%s reason=%s",
			 r->detected, why);
	}
	tz_meta_iso_time((int64_t)time(NULL), ts, sizeof ts);
	/* a part clamd scanned keeps the time of that scan */
	if (p->scanned_at == NULL)
		tzq_set_str(&p->scanned_at, ts);
	/* durable before audited: the audit never claims more than the disk */
	if (tz_store_meta_write(q->st, m, err, errlen) < 0)
		goto out;
	ev.event = r->sanitized ? "sanitized" : "unsanitizable";
	ev.operator_name = operator_name;
	ev.id = id;
	ev.part = index;
	ev.sha256 = r->sanitized ? p->sanitized_sha256 : p->sha256;
	ev.detail = detail;
	if (tz_audit_append(q->audit, &ev, err, errlen) < 0)
		goto out;
	if (q->ix && tz_index_update(q->ix, m, why, sizeof why) != 0 &&
	    tz_index_remove(q->ix, m->id, NULL, 0) != 0)
		tz_log(LOG_ERR, id, "index not refreshed (%s): run textizectl queue reindex", why);
	rc = 1;
out:
	if (fd >= 0)
		close(fd);
	g_free(sname);
	tz_meta_free(m);
	tz_store_unlock(q->st, lock);
	return rc;
}

/* ---- claims: one process converts a part, one delivers an entry ----
 *
 * The entry lock is held only to read a part and to record its result, so
 * two workers (or two queue sanitize processes on one quarantine) could
 * both convert the same part; record() keeps the state right (the second
 * result is thrown away) but the work would be done twice. A claim is an
 * flock on QUEUE/work/claim-NAME held during the conversion; the holder
 * removes the file before it lets go, and a process that locked a file
 * that is no longer the one at that path tries again. On StoreBackend
 * postgresql the claim is also taken across hosts (tz_store_xclaim: an
 * advisory lock held on its own connection during the conversion), so two
 * gateways' workers never convert one part at once either. */

/* 1 claimed (*fd holds it), 0 someone else holds it (nonblocking), -1. */
static int claim(const struct tz_cdr_queue *q, const char *name, int block, int *fd,
		 char *err, size_t errlen)
{
	char *path = g_strdup_printf("%s/work/claim-%s", tz_store_dir(q->st), name);
	struct stat a, b;
	int rc = -1;

	for (;;) {
		*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (*fd < 0) {
			tz_err(err, errlen, "%s: %s", path, strerror(errno));
			break;
		}
		if (flock(*fd, LOCK_EX | (block ? 0 : LOCK_NB)) != 0) {
			int e = errno;
			close(*fd);
			*fd = -1;
			if (e == EINTR)
				continue;
			rc = e == EWOULDBLOCK ? 0 : tz_err(err, errlen, "%s: flock: %s", path,
							    strerror(e));
			break;
		}
		if (fstat(*fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev) {
			rc = 1;
			break;
		}
		close(*fd);   /* removed by its last holder: take the new one */
	}
	if (rc == 1 && (rc = tz_store_xclaim(q->st, name, block, *fd, err, errlen)) != 1) {
		unlink(path);   /* another host converts it (0), or no database (-1) */
		close(*fd);
		*fd = -1;
	}
	g_free(path);
	return rc;
}

static void unclaim(const struct tz_cdr_queue *q, const char *name, int fd)
{
	char *path = g_strdup_printf("%s/work/claim-%s", tz_store_dir(q->st), name);

	if (fd >= 0) {
		tz_store_xunclaim(q->st, fd);
		unlink(path);
		close(fd);
	}
	g_free(path);
}

/* ---- the pool: up to q->workers conversions at once ---- */

struct job {
	char id[TZ_ID_LEN];
	unsigned index;
};

struct slot {
	pid_t pid;              /* 0 = free */
	struct job job;
	char *dir;              /* QUEUE/work/cdr-ID-N-XXXXXX */
	char sha[65];
	char cname[TZ_ID_LEN + 16];
	int claim;
	struct timespec t0;
};

static void slot_clear(const struct tz_cdr_queue *q, struct slot *s)
{
	tz_cdr_rm_tree(s->dir);
	g_free(s->dir);
	unclaim(q, s->cname, s->claim);
	memset(s, 0, sizeof *s);
	s->claim = -1;
}

/* Record r for the slot's part and log it; 1 decided, 0 not (someone
 * else's decision stands), -1. */
static int finish(const struct tz_cdr_queue *q, struct slot *s, const struct tz_cdr_result *r,
		  char *err, size_t errlen)
{
	struct timespec t1;
	int rc = tz_cdr_queue_record(q, s->job.id, s->job.index, 0, s->sha, r, "sanitizer", err,
				     errlen);

	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc > 0)
		tz_log(LOG_INFO, s->job.id, "part %u %s (%s%s%s) in %.1fs", s->job.index,
		       r->sanitized ? "sanitized" : "unsanitizable", r->kind ? r->kind : "-",
		       r->sanitized ? "" : ": ", r->sanitized ? "" : r->reason,
		       (double)(t1.tv_sec - s->t0.tv_sec) + (double)(t1.tv_nsec - s->t0.tv_nsec) / 1e9);
	return rc;
}

/* Claim, fetch and start the conversion of job in the free slot s. 1
 * started, 0 nothing to start (claimed elsewhere, decided meanwhile, or
 * decided here without a conversion: *done counts it), -1 error. */
static int start(const struct tz_cdr_queue *q, const struct job *job, struct slot *s,
		 unsigned *done, char *err, size_t errlen)
{
	char *base = g_build_filename(tz_store_dir(q->st), "work", NULL);
	char *input = NULL, *conv = NULL;
	struct tz_cdr_result r = { 0 };
	int rc = -1;

	s->job = *job;
	snprintf(s->cname, sizeof s->cname, "%s-%u", job->id, job->index);
	s->dir = g_strdup_printf("%s/cdr-%s-%u-XXXXXX", base, job->id, job->index);
	if (mkdir(base, 0700) < 0 && errno != EEXIST) {
		tz_err(err, errlen, "%s: %s", base, strerror(errno));
		goto out;
	}
	rc = claim(q, s->cname, 0, &s->claim, err, errlen);
	if (rc <= 0)
		goto out;
	if (mkdtemp(s->dir) == NULL) {
		rc = tz_err(err, errlen, "%s: %s", s->dir, strerror(errno));
		goto out;
	}
	input = g_build_filename(s->dir, "input", NULL);
	conv = g_build_filename(s->dir, "conv", NULL);
	rc = tz_cdr_queue_fetch(q, job->id, job->index, 0, input, s->sha, err, errlen);
	if (rc == 2) {
		/* tampered or damaged in the store: the part is decided, the
		 * others go on (the scanner marks the same case failed) */
		tz_cdr_refuse(&r, "stored", "the stored file could not be read: %s", err);
		rc = tz_cdr_queue_record(q, job->id, job->index, 0, s->sha, &r, "sanitizer", err,
					 errlen);
		*done += rc > 0;
		rc = rc < 0 ? -1 : 0;
		goto out;
	}
	if (rc != 0) {
		rc = rc > 0 ? 0 : -1;
		goto out;
	}
	if (mkdir(conv, 0700) < 0) {
		rc = tz_err(err, errlen, "%s: %s", conv, strerror(errno));
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &s->t0);
	/* one line per conversion: a part converted twice shows in the logs */
	tz_log(LOG_INFO, job->id, "part %u: converting", job->index);
	s->pid = tz_cdr_child_start(&q->opts, input, s->dir, conv, err, errlen);
	rc = s->pid > 0 ? 1 : -1;
out:
	if (rc != 1)
		slot_clear(q, s);
	tz_cdr_result_clear(&r);
	g_free(base);
	g_free(input);
	g_free(conv);
	return rc;
}

/* SanitizedDelivery auto: when every part of the entry is decided, send
 * its sanitized copies that have not gone out yet. A failure is logged and
 * leaves the copies for queue release: it must not stop the sanitizing.
 * The delivery claim makes a second worker that finished the entry's last
 * part at the same time find the copies released, not send them again. */
void tz_cdr_queue_deliver(const struct tz_cdr_queue *q, const char *id)
{
	struct tz_meta *m = NULL;
	GArray *a = g_array_new(FALSE, FALSE, sizeof(unsigned));
	char err[TZ_ERRLEN], cname[TZ_ID_LEN + 16];
	int open_parts = 0, cfd = -1;

	snprintf(cname, sizeof cname, "%s-deliver", id);
	if (claim(q, cname, 1, &cfd, err, sizeof err) != 1) {
		tz_log(LOG_ERR, id, "sanitized copies not delivered (%s): they wait for the next "
		       "run or textizectl queue release", err);
		g_array_free(a, TRUE);
		return;
	}
	m = tz_store_meta_read(q->st, id, NULL, 0);
	for (guint i = 0; m && i < m->parts->len; i++) {
		struct tz_meta_part *p = g_ptr_array_index(m->parts, i);
		if (strcmp(p->state, TZ_STATE_PENDING) == 0 || waiting(p))
			open_parts = 1;
		else if (strcmp(p->state, TZ_STATE_SANITIZED) == 0)
			g_array_append_val(a, p->index);
	}
	if (m && q->deliver_for && !q->deliver_for(m->tenant, q->deliver_ctx))
		open_parts = 1;   /* its tenant's SanitizedDelivery is approve or off */
	if (m && !open_parts && a->len > 0) {
		struct tz_release_req req = {
			.parts = (const unsigned *)(void *)a->data, .n = a->len,
			.to = NULL, .operator_name = "sanitizer",
		};
		if (tz_queue_release(q->deliver, id, &req, err, sizeof err) == 0)
			tz_log(LOG_INFO, id, "%u sanitized copies delivered to the original recipients",
			       a->len);
		else
			tz_log(LOG_ERR, id, "sanitized copies not delivered (%s): they wait for "
			       "textizectl queue release", err);
	}
	unclaim(q, cname, cfd);
	g_array_free(a, TRUE);
	tz_meta_free(m);
}


/* Whether the run has more of entry id to do: not started yet (todo from
 * next on) or converting. */
static int entry_busy(const GArray *todo, guint next, const struct slot *slots, unsigned n,
		      const char *id)
{
	for (guint i = next; i < todo->len; i++)
		if (strcmp(g_array_index(todo, struct job, i).id, id) == 0)
			return 1;
	for (unsigned i = 0; i < n; i++)
		if (slots[i].pid > 0 && strcmp(slots[i].job.id, id) == 0)
			return 1;
	return 0;
}

/* The child pid exited with status: its result recorded; -1 on error. */
static int reap(const struct tz_cdr_queue *q, struct slot *s, int status, unsigned *done,
		char *err, size_t errlen)
{
	struct tz_cdr_result r;
	int rc = tz_cdr_child_result(s->dir, status, &r, err, errlen);

	if (rc == 0 && strcmp(r.kind ? r.kind : "", "crash") == 0)
		tz_log(LOG_ERR, s->job.id, "part %u: %s", s->job.index, r.reason);
	if (rc == 0)
		rc = finish(q, s, &r, err, errlen);
	*done += rc > 0;
	tz_cdr_result_clear(&r);
	return rc < 0 ? -1 : 0;
}

/* Convert the jobs, q->workers at a time; deliver each entry once this run
 * is through with it. Stops starting new ones at the first machine error
 * (the next would meet the same broken machine) and waits for the others. */
static int run(const struct tz_cdr_queue *q, const GArray *todo, unsigned *done,
	       char *err, size_t errlen)
{
	unsigned n = q->workers ? q->workers : 1, running = 0;
	struct slot *slots = g_new0(struct slot, n);
	char e2[TZ_ERRLEN];
	guint next = 0;
	int rc = 0;

	for (unsigned i = 0; i < n; i++)
		slots[i].claim = -1;
	while ((rc == 0 && next < todo->len) || running > 0) {
		struct slot *s = NULL;
		const char *id = NULL;
		int status, st;
		pid_t pid;

		for (unsigned i = 0; i < n && rc == 0 && next < todo->len; i++) {
			if (slots[i].pid > 0)
				continue;
			id = g_array_index(todo, struct job, next).id;
			st = start(q, &g_array_index(todo, struct job, next++), &slots[i], done,
				   err, errlen);
			if (st < 0)
				rc = -1;
			running += st > 0;
			if (st == 0 && q->deliver && !entry_busy(todo, next, slots, n, id))
				tz_cdr_queue_deliver(q, id);
		}
		if (running == 0)
			continue;
		pid = waitpid(-1, &status, 0);
		if (pid < 0 && errno == EINTR)
			continue;
		for (unsigned i = 0; i < n && pid > 0; i++)
			if (slots[i].pid == pid)
				s = &slots[i];
		if (s == NULL) {
			if (pid < 0)
				break;   /* ECHILD: nothing of ours is left */
			continue;
		}
		running--;
		if (reap(q, s, status, done, rc == 0 ? err : e2, rc == 0 ? errlen : sizeof e2) < 0)
			rc = -1;
		s->pid = 0;
		id = s->job.id;
		if (q->deliver && !entry_busy(todo, next, slots, n, id))
			tz_cdr_queue_deliver(q, id);
		slot_clear(q, s);
	}
	g_free(slots);
	return rc;
}

/* Add the waiting parts of entry id to todo. */
static void add_entry(const struct tz_cdr_queue *q, const char *id, GArray *todo)
{
	struct tz_meta *m = tz_store_meta_read(q->st, id, NULL, 0);

	for (guint i = 0; m && i < m->parts->len; i++) {
		struct tz_meta_part *p = g_ptr_array_index(m->parts, i);
		struct job j = { .index = p->index };
		if (!waiting(p))
			continue;
		g_strlcpy(j.id, id, sizeof j.id);
		g_array_append_val(todo, j);
	}
	tz_meta_free(m);
}

int tz_cdr_queue_entry(const struct tz_cdr_queue *q, const char *id, unsigned *done,
		       char *err, size_t errlen)
{
	GArray *todo = g_array_new(FALSE, FALSE, sizeof(struct job));
	struct tz_meta *m = tz_store_meta_read(q->st, id, err, errlen);
	int rc = -1;

	if (m != NULL) {
		tz_meta_free(m);
		add_entry(q, id, todo);
		rc = run(q, todo, done, err, errlen);
	}
	g_array_free(todo, TRUE);
	return rc;
}

int tz_cdr_queue_all(const struct tz_cdr_queue *q, unsigned *done, char *err, size_t errlen)
{
	GArray *todo;
	GPtrArray *ids;
	int rc;

	if (tz_store_list(q->st, &ids, err, errlen) < 0)
		return -1;
	todo = g_array_new(FALSE, FALSE, sizeof(struct job));
	for (guint i = 0; i < ids->len; i++)
		add_entry(q, g_ptr_array_index(ids, i), todo);
	rc = run(q, todo, done, err, errlen);
	g_array_free(todo, TRUE);
	g_ptr_array_unref(ids);
	return rc;
}
