/* tz_queue.c — scan, export, release, reject, purge (see tz_queue.h).
 * Every state change happens under the entry lock, is written to
 * meta.json before it is audited, and is never "clean" by default: a part
 * only becomes clean when clamd said OK for exactly the stored bytes. */
#define _GNU_SOURCE 1   /* O_TMPFILE */
#include "tz_queue.h"
#include "tz_queue_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "tz_audit.h"
#include "tz_clamd.h"
#include "tz_index.h"
#include "tz_log.h"
#include "tz_meta.h"
#include "tz_proc.h"
#include "tz_store.h"
#include "tz_util.h"

void tzq_set_str(char **dst, const char *v)
{
	/* copy before freeing: v may be *dst itself, or point into it */
	char *old = *dst;

	*dst = v ? g_strdup(v) : NULL;
	g_free(old);
}

void tzq_now_iso(char out[32])
{
	tz_meta_iso_time((int64_t)time(NULL), out, 32);
}

int tzq_audit(const struct tz_queue *q, const char *event, const char *op, const char *id,
	      unsigned part, const char *sha, const char *detail, char *err, size_t errlen)
{
	struct tz_audit_event ev = { event, op, id, part, sha, detail };

	return tz_audit_append(q->audit, &ev, err, errlen);
}

/* Refresh the entry's index rows after a change that meta.json and the
 * audit log already hold. Should the index refuse, its rows for the entry
 * are dropped, so that the next catch-up reads the entry afresh from
 * meta.json rather than go on showing the old state (catch-up only adds
 * entries the index lacks); the operator is told either way. */
void tzq_reindex(const struct tz_queue *q, const struct tz_meta *m)
{
	char why[TZ_ERRLEN];

	if (q->ix == NULL || tz_index_update(q->ix, m, why, sizeof(why)) == 0)
		return;
	if (tz_index_remove(q->ix, m->id, NULL, 0) == 0)
		tz_log(LOG_WARNING, m->id, "index not refreshed (%s); the next textizectl "
		       "run indexes the entry again", why);
	else
		tz_log(LOG_ERR, m->id, "index not refreshed (%s) and may show an old state: "
		       "run textizectl queue reindex", why);
}

/* ---- scanning ---- */

struct scan_feed {
	struct tz_clamd *c;
	int send_failed;
};

static int feed_clamd(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	struct scan_feed *f = ctx;

	if (tz_clamd_write(f->c, buf, len, err, errlen) < 0) {
		f->send_failed = 1;   /* clamd hung up: its reply says why */
		return -1;
	}
	return 0;
}

/* A file-name extension safe to hand to a CDR tool (it may need it). */
static const char *safe_ext(const char *name)
{
	const char *dot = name ? strrchr(name, '.') : NULL;
	size_t n;

	if (dot == NULL)
		return "";
	n = strlen(dot + 1);
	if (n == 0 || n > 8)
		return "";
	for (const char *p = dot + 1; *p; p++)
		if (!g_ascii_isalnum(*p))
			return "";
	return dot;
}

static int write_fd_cb(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	if (tz_write_all(*(int *)ctx, buf, len) < 0)
		return tz_err(err, errlen, "write: %s", strerror(errno));
	return 0;
}

/* Run SanitizerCommand on part p; on success the CDR copy is stored in the
 * entry and recorded in p. Work files live in QUEUE/work (0700) and are
 * removed whatever happens. */
static int sanitize(const struct tz_queue *q, const char *id, struct tz_meta_part *p,
		    char *err, size_t errlen)
{
	char *work = g_build_filename(tz_store_dir(q->st), "work", NULL);
	char *in = g_strdup_printf("%s/%s-%u.in%s", work, id, p->index, safe_ext(p->filename));
	char *out = g_strdup_printf("%s/%s-%u.out%s", work, id, p->index, safe_ext(p->filename));
	char *sname = g_strdup_printf("part-%03u.sanitized.bin", p->index);
	char **argv = NULL;
	int fd = -1, rc = -1, st;

	if (mkdir(work, 0700) < 0 && errno != EEXIST) {
		tz_err(err, errlen, "%s: %s", work, strerror(errno));
		goto out;
	}
	unlink(in);
	unlink(out);
	fd = open(in, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || tz_store_file_read(q->st, id, p->file, write_fd_cb, &fd, err, errlen) < 0) {
		if (fd < 0)
			tz_err(err, errlen, "%s: %s", in, strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;
	argv = tz_proc_argv(q->sanitizer_command, in, out, err, errlen);
	if (argv == NULL)
		goto out;
	st = tz_proc_run(argv, -1, q->sanitizer_timeout, err, errlen);
	if (st != 0) {
		if (st > 0)
			tz_err(err, errlen, "sanitizer exited with status %d", st);
		goto out;
	}
	fd = open(out, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		tz_err(err, errlen, "sanitizer made no output file");
		goto out;
	}
	if (tz_store_file_put(q->st, id, sname, fd, p->sanitized_sha256, &p->sanitized_size,
			      err, errlen) < 0)
		goto out;
	tzq_set_str(&p->sanitized_file, sname);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	unlink(in);
	unlink(out);
	g_strfreev(argv);
	g_free(work);
	g_free(in);
	g_free(out);
	g_free(sname);
	return rc;
}

/* Scan one part; returns 1 when clamd is down (p unchanged), else 0 with
 * p's state, verdict and note set. */
static int scan_part(const struct tz_queue *q, const char *id, struct tz_meta_part *p,
		     char *err, size_t errlen)
{
	struct scan_feed f = { NULL, 0 };
	char name[512], rerr[TZ_ERRLEN], ts[32];
	enum tz_clamd_verdict v;

	f.c = tz_clamd_begin(q->scanner_socket, q->scanner_timeout, err, errlen);
	if (f.c == NULL)
		return 1;
	rerr[0] = '\0';
	if (tz_store_file_read(q->st, id, p->file, feed_clamd, &f, rerr, sizeof(rerr)) < 0 &&
	    !f.send_failed) {
		/* The stored bytes failed authentication or could not be read. */
		tz_clamd_abort(f.c);
		tzq_set_str(&p->state, TZ_STATE_FAILED);
		tzq_set_str(&p->note, rerr);
		goto done;
	}
	v = tz_clamd_end(f.c, name, sizeof(name), err, errlen);
	if (v == TZ_CLAMD_DOWN)
		return 1;
	if (v == TZ_CLAMD_FOUND) {
		tzq_set_str(&p->state, TZ_STATE_INFECTED);
		tzq_set_str(&p->verdict, name);
	} else if (v == TZ_CLAMD_REFUSED) {
		tzq_set_str(&p->state, TZ_STATE_FAILED);
		tzq_set_str(&p->verdict, "ERROR");
		tzq_set_str(&p->note, name);
	} else if (q->sanitizer_command && *q->sanitizer_command) {
		tzq_set_str(&p->verdict, "OK");
		if (sanitize(q, id, p, rerr, sizeof(rerr)) == 0) {
			tzq_set_str(&p->state, TZ_STATE_SANITIZED);
		} else {
			tzq_set_str(&p->state, TZ_STATE_FAILED);
			tzq_set_str(&p->note, rerr);
		}
	} else {
		tzq_set_str(&p->state, TZ_STATE_CLEAN);
		tzq_set_str(&p->verdict, "OK");
	}
done:
	tzq_now_iso(ts);
	tzq_set_str(&p->scanned_at, ts);
	return 0;
}

int tz_queue_scan_entry(const struct tz_queue *q, const char *id, struct tz_scan_count *count,
			char *err, size_t errlen)
{
	struct tz_meta *m = NULL;
	int lock, rc = 0;

	lock = tz_store_lock(q->st, id, err, errlen);
	if (lock < 0)
		return -1;
	m = tz_store_meta_read(q->st, id, err, errlen);
	if (m == NULL) {
		rc = -1;
		goto out;
	}
	for (guint i = 0; i < m->parts->len && rc == 0; i++) {
		struct tz_meta_part *p = g_ptr_array_index(m->parts, i);
		char detail[700];
		if (strcmp(p->state, TZ_STATE_PENDING) != 0)
			continue;
		if (scan_part(q, id, p, err, errlen) == 1) {
			rc = 1;
			break;
		}
		/* Durable before audited: the audit never claims more than the disk. */
		if (tz_store_meta_write(q->st, m, err, errlen) < 0) {
			rc = -1;
			break;
		}
		snprintf(detail, sizeof(detail), "state=%s verdict=%s%s%s", p->state,
			 p->verdict ? p->verdict : "-", p->note ? " note=" : "", p->note ? p->note : "");
		if (tzq_audit(q, "scanned", "scanner", id, p->index, p->sha256, detail, err, errlen) < 0)
			rc = -1;
		count->scanned++;
		count->infected += strcmp(p->state, TZ_STATE_INFECTED) == 0;
		count->failed += strcmp(p->state, TZ_STATE_FAILED) == 0;
	}
	if (m)
		tzq_reindex(q, m);
out:
	tz_meta_free(m);
	tz_store_unlock(q->st, lock);
	return rc;
}

int tz_queue_scan_all(const struct tz_queue *q, struct tz_scan_count *count, char *err,
		      size_t errlen)
{
	GPtrArray *ids;
	int rc = 0;

	memset(count, 0, sizeof(*count));
	if (tz_store_list(q->st, &ids, err, errlen) < 0)
		return -1;
	for (guint i = 0; i < ids->len; i++) {
		const char *id = g_ptr_array_index(ids, i);
		struct tz_meta *m = tz_store_meta_read(q->st, id, NULL, 0);
		int pending = 0, r;
		for (guint k = 0; m && k < m->parts->len; k++)
			pending |= strcmp(((struct tz_meta_part *)g_ptr_array_index(m->parts, k))->state,
					  TZ_STATE_PENDING) == 0;
		tz_meta_free(m);
		if (!pending)
			continue;
		r = tz_queue_scan_entry(q, id, count, err, errlen);
		if (r == 1) {
			rc = 1;       /* clamd down: no point going on */
			break;
		}
		if (r < 0)
			rc = -1;      /* one broken entry does not stop the others */
	}
	g_ptr_array_unref(ids);
	return rc;
}

/* ---- export ---- */

struct export_ctx {
	int fd;
	EVP_MD_CTX *md;
};

static int export_cb(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	struct export_ctx *x = ctx;

	EVP_DigestUpdate(x->md, buf, len);
	if (tz_write_all(x->fd, buf, len) < 0)
		return tz_err(err, errlen, "write: %s", strerror(errno));
	return 0;
}

int tz_queue_export(const struct tz_queue *q, const char *id, unsigned part,
		    const char *out_path, int replace, const char *operator_name,
		    char *err, size_t errlen)
{
	struct tz_meta *m = tz_store_meta_read(q->st, id, err, errlen);
	struct tz_meta_part *p = NULL;
	struct export_ctx x = { -1, EVP_MD_CTX_new() };
	char *tmp = g_strdup_printf("%s.tmp-%d", out_path, (int)getpid());
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char sha[65];
	int rc = -1;

	if (m == NULL)
		goto out;
	if (part && (p = tz_meta_part_get(m, part)) == NULL) {
		tz_err(err, errlen, "%s has no part %u", id, part);
		goto out;
	}
	/* Written under a temporary name: a file that fails authentication
	 * half-way never appears under the requested name. */
	x.fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (x.fd < 0) {
		tz_err(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	EVP_DigestInit_ex(x.md, EVP_sha256(), NULL);
	if (tz_store_file_read(q->st, id, p ? p->file : "original.eml", export_cb, &x, err, errlen) < 0)
		goto out;
	EVP_DigestFinal_ex(x.md, md, &mdlen);
	tz_hex(md, mdlen, sha);
	if (strcmp(sha, p ? p->sha256 : m->original_sha256) != 0) {
		tz_err(err, errlen, "%s part %u: content does not match its recorded SHA-256", id, part);
		goto out;
	}
	if (fsync(x.fd) < 0 || (replace ? rename(tmp, out_path) : link(tmp, out_path)) < 0) {
		tz_err(err, errlen, "%s: %s", out_path, strerror(errno));
		goto out;
	}
	rc = tzq_audit(q, "exported", operator_name, id, part, sha, out_path, err, errlen);
	if (rc < 0)
		unlink(out_path);
out:
	if (x.fd >= 0) {
		close(x.fd);
		unlink(tmp);
	}
	EVP_MD_CTX_free(x.md);
	tz_meta_free(m);
	g_free(tmp);
	return rc;
}

/* ---- reject and purge ---- */

int tz_queue_reject(const struct tz_queue *q, const char *id, unsigned part,
		    const char *operator_name, const char *reason, char *err, size_t errlen)
{
	struct tz_meta *m = NULL;
	int lock, rc = -1, found = 0;

	lock = tz_store_lock(q->st, id, err, errlen);
	if (lock < 0)
		return -1;
	m = tz_store_meta_read(q->st, id, err, errlen);
	if (m == NULL)
		goto out;
	for (guint i = 0; i < m->parts->len; i++) {
		struct tz_meta_part *p = g_ptr_array_index(m->parts, i);
		char *detail;
		if (part && p->index != part)
			continue;
		found = 1;
		detail = g_strdup_printf("from_state=%s reason=%s", p->state, reason ? reason : "-");
		tzq_set_str(&p->state, TZ_STATE_REJECTED);
		tzq_set_str(&p->note, reason);
		rc = tz_store_meta_write(q->st, m, err, errlen);
		if (rc == 0)
			rc = tzq_audit(q, "rejected", operator_name, id, p->index, p->sha256, detail, err, errlen);
		g_free(detail);
		if (rc < 0)
			goto out;
	}
	if (!found) {
		tz_err(err, errlen, "%s has no part %u", id, part);
		rc = -1;
	}
	tzq_reindex(q, m);
out:
	tz_meta_free(m);
	tz_store_unlock(q->st, lock);
	return rc;
}

/* Whether purge may touch m under q->tenant (an unreadable entry belongs
 * to no tenant's view: only an unlimited purge removes it). */
static bool tzq_tenant_match(const struct tz_queue *q, const struct tz_meta *m)
{
	if (q->tenant == NULL)
		return true;
	if (m == NULL)
		return false;
	if (*q->tenant == '\0')
		return m->tenant == NULL;
	return m->tenant != NULL && strcmp(m->tenant, q->tenant) == 0;
}

int tz_queue_purge(const struct tz_queue *q, unsigned days, const char *operator_name,
		   unsigned *removed, char *err, size_t errlen)
{
	time_t cutoff = time(NULL) - (time_t)days * 86400;
	char day[9], detail[64];
	struct tm tm;
	GPtrArray *ids;
	unsigned swept = 0;
	int rc = 0, lock;

	*removed = 0;
	gmtime_r(&cutoff, &tm);
	strftime(day, sizeof(day), "%Y%m%d", &tm);
	if (tz_store_list(q->st, &ids, err, errlen) < 0)
		return -1;
	for (guint i = 0; i < ids->len; i++) {
		const char *id = g_ptr_array_index(ids, i);
		struct tz_meta *m;
		/* Ids start with the UTC day they were stored: older days go whole;
		 * the cutoff day is decided by the recorded time. */
		if (strncmp(id, day, 8) > 0)
			continue;
		/* Under the entry lock: a scan or release on another host that
		 * waits for it then finds the entry gone, and cannot write its
		 * meta.json or index row back after the purge. */
		lock = tz_store_lock(q->st, id, err, errlen);
		if (lock < 0) {
			rc = -1;
			break;
		}
		m = tz_store_meta_read(q->st, id, NULL, 0);
		if ((m && m->stored_time > (int64_t)cutoff) || !tzq_tenant_match(q, m)) {
			tz_meta_free(m);
			tz_store_unlock(q->st, lock);
			continue;
		}
		snprintf(detail, sizeof(detail), "retention=%u days", days);
		/* Audited first: a purge that is not on record must not happen.
		 * The index row before the files or blobs: cut off between the
		 * two, the entry is unlisted but whole, and the next catch-up
		 * lists it again for the next purge; never a row without blobs. */
		if (tzq_audit(q, "purged", operator_name, id, 0, m ? m->original_sha256 : NULL, detail,
			      err, errlen) < 0)
			rc = -1;
		if (rc == 0 && q->ix)
			(void)tz_index_remove(q->ix, id, NULL, 0);
		if (rc == 0 && tz_store_remove(q->st, id, err, errlen) < 0)
			rc = -1;
		tz_meta_free(m);
		tz_store_unlock(q->st, lock);
		if (rc < 0)
			break;
		(*removed)++;
	}
	tz_store_clean_tmp(q->st, 86400);
	/* shared blobs: what a purge or a failed commit cut off half-way */
	if (rc == 0 && tz_store_blob_sweep(q->st, day, &swept, err, errlen) < 0)
		rc = -1;
	/* their entries are gone: free the 参照番号 (not in a tenant's purge:
	 * the same days hold other tenants' entries, which it kept) */
	if (rc == 0 && q->tenant == NULL && tz_store_purge_refs(q->st, cutoff, err, errlen) < 0)
		rc = -1;
	/* Retention must free the space: segments with nothing live go,
	 * mostly-dead ones are compacted (a failure is reported, not skipped). */
	if (rc == 0 && tz_store_compact(q->st, NULL, err, errlen) < 0)
		rc = -1;
	g_ptr_array_unref(ids);
	return rc;
}
