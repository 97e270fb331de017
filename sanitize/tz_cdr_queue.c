/* tz_cdr_queue.c — the sanitize worker over the quarantine (tz_cdr_queue.h). */
#define _XOPEN_SOURCE 700
#include "tz_cdr_queue.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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
#include "tz_cdr_int.h"
#include "tz_util.h"

static int waiting(const struct tz_meta_part *p)
{
	return p->sanitized_file == NULL &&
	       (strcmp(p->state, TZ_STATE_PENDING) == 0 || strcmp(p->state, TZ_STATE_CLEAN) == 0);
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
static int fetch_part(const struct tz_cdr_queue *q, const char *id, unsigned index,
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
	if (p == NULL || !waiting(p)) {
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
	tz_store_unlock(lock);
	return rc;
}

/* Under the entry lock: record r for part index if it is still the part
 * that was converted. */
static int record(const struct tz_cdr_queue *q, const char *id, unsigned index,
		  const char sha[65], const struct tz_cdr_result *r, char *err, size_t errlen)
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
	if (p == NULL || !waiting(p) || strcmp(p->sha256, sha) != 0) {
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
	tzq_set_str(&p->scanned_at, p->scanned_at ? p->scanned_at : ts);
	/* durable before audited: the audit never claims more than the disk */
	if (tz_store_meta_write(q->st, m, err, errlen) < 0)
		goto out;
	ev.event = r->sanitized ? "sanitized" : "unsanitizable";
	ev.operator_name = "sanitizer";
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
	tz_store_unlock(lock);
	return rc;
}

/* One part: fetch, convert in a work directory, record. 1 decided, 0 not
 * waiting any more, -1 error. */
static int one_part(const struct tz_cdr_queue *q, const char *id, unsigned index,
		    char *err, size_t errlen)
{
	char *base = g_build_filename(tz_store_dir(q->st), "work", NULL);
	char *tmpl = g_strdup_printf("%s/cdr-%s-%u-XXXXXX", base, id, index);
	char *input = NULL, *conv = NULL, sha[65];
	struct tz_cdr_result r = { 0 };
	struct timespec t0, t1;
	int rc = -1;

	if (mkdir(base, 0700) < 0 && errno != EEXIST) {
		tz_err(err, errlen, "%s: %s", base, strerror(errno));
		goto out;
	}
	if (mkdtemp(tmpl) == NULL) {
		tz_err(err, errlen, "%s: %s", tmpl, strerror(errno));
		goto out;
	}
	input = g_build_filename(tmpl, "input", NULL);
	conv = g_build_filename(tmpl, "conv", NULL);
	rc = fetch_part(q, id, index, input, sha, err, errlen);
	if (rc == 2) {
		/* tampered or damaged in the store: the part is decided, the
		 * others go on (the scanner marks the same case failed) */
		tz_cdr_refuse(&r, "stored", "the stored file could not be read: %s", err);
		rc = record(q, id, index, sha, &r, err, errlen);
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
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = tz_cdr_file(&q->opts, input, conv, &r, err, errlen);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc == 0) {
		rc = record(q, id, index, sha, &r, err, errlen);
		if (rc > 0)
			tz_log(LOG_INFO, id, "part %u %s (%s%s%s) in %.1fs", index,
			       r.sanitized ? "sanitized" : "unsanitizable", r.kind ? r.kind : "-",
			       r.sanitized ? "" : ": ", r.sanitized ? "" : r.reason,
			       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	}
out:
	tz_cdr_result_clear(&r);
	if (input)
		tz_cdr_rm_tree(tmpl);
	g_free(base);
	g_free(tmpl);
	g_free(input);
	g_free(conv);
	return rc;
}

/* SanitizedDelivery auto: when every part of the entry is decided, send
 * its sanitized copies that have not gone out yet. A failure is logged and
 * leaves the copies for queue release: it must not stop the sanitizing. */
static void deliver(const struct tz_cdr_queue *q, const char *id)
{
	struct tz_meta *m = tz_store_meta_read(q->st, id, NULL, 0);
	GArray *a = g_array_new(FALSE, FALSE, sizeof(unsigned));
	char err[TZ_ERRLEN];
	int open_parts = 0;

	for (guint i = 0; m && i < m->parts->len; i++) {
		struct tz_meta_part *p = g_ptr_array_index(m->parts, i);
		if (strcmp(p->state, TZ_STATE_PENDING) == 0 || waiting(p))
			open_parts = 1;
		else if (strcmp(p->state, TZ_STATE_SANITIZED) == 0)
			g_array_append_val(a, p->index);
	}
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
	g_array_free(a, TRUE);
	tz_meta_free(m);
}

int tz_cdr_queue_entry(const struct tz_cdr_queue *q, const char *id, unsigned *done,
		       char *err, size_t errlen)
{
	struct tz_meta *m = tz_store_meta_read(q->st, id, err, errlen);
	GArray *todo;
	int rc = 0;

	if (m == NULL)
		return -1;
	todo = g_array_new(FALSE, FALSE, sizeof(unsigned));
	for (guint i = 0; i < m->parts->len; i++) {
		struct tz_meta_part *p = g_ptr_array_index(m->parts, i);
		if (waiting(p))
			g_array_append_val(todo, p->index);
	}
	tz_meta_free(m);
	for (guint i = 0; i < todo->len && rc == 0; i++) {
		int r = one_part(q, id, g_array_index(todo, unsigned, i), err, errlen);
		if (r < 0)
			rc = -1;
		else if (r > 0)
			(*done)++;
	}
	if (rc == 0 && todo->len > 0 && q->deliver)
		deliver(q, id);
	g_array_free(todo, TRUE);
	return rc;
}

int tz_cdr_queue_all(const struct tz_cdr_queue *q, unsigned *done, char *err, size_t errlen)
{
	GPtrArray *ids;
	int rc = 0;

	if (tz_store_list(q->st, &ids, err, errlen) < 0)
		return -1;
	for (guint i = 0; i < ids->len && rc == 0; i++) {
		const char *id = g_ptr_array_index(ids, i);
		struct tz_meta *m = tz_store_meta_read(q->st, id, NULL, 0);
		int any = 0;
		for (guint k = 0; m && k < m->parts->len; k++)
			any |= waiting(g_ptr_array_index(m->parts, k));
		tz_meta_free(m);
		if (any)
			rc = tz_cdr_queue_entry(q, id, done, err, errlen);
	}
	g_ptr_array_unref(ids);
	return rc;
}
