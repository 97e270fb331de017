/* tz_queue_release.c — releasing parts from the queue, deliberately and
 * once (see tz_queue.h). Everything happens under the entry lock: the
 * state is read, the mail sent, and the new state written before the lock
 * is dropped, so a second release of the same part, concurrent or later,
 * sees "released" and is refused unless it asks for --again. A forced
 * release (a part the scanner did not pass) needs a reason and, with
 * ForceReleaseApprovals > 1, a second operator's approval; the request
 * waits in meta.json, and every step is an audit record. */
#define _GNU_SOURCE 1   /* O_TMPFILE */
#include "tz_queue.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tz_log.h"
#include "tz_meta.h"
#include "tz_pgclaim.h"
#include "tz_proc.h"
#include "tz_queue_int.h"
#include "tz_release.h"
#include "tz_store.h"
#include "tz_util.h"

enum need { NEED_NOTHING, NEED_AGAIN, NEED_FORCE };

static enum need need_of(const struct tz_meta_part *p)
{
	if (strcmp(p->state, TZ_STATE_CLEAN) == 0 || strcmp(p->state, TZ_STATE_SANITIZED) == 0)
		return NEED_NOTHING;
	if (strcmp(p->state, TZ_STATE_RELEASED) == 0)
		return NEED_AGAIN;
	return NEED_FORCE;
}

bool tz_queue_copy_for_staff(const struct tz_meta_part *p, bool sanitized_auto)
{
	return sanitized_auto && p->sanitized_file &&
	       (strcmp(p->state, TZ_STATE_SANITIZED) == 0 || strcmp(p->state, TZ_STATE_RELEASED) == 0);
}

static unsigned approvals_needed(const struct tz_queue *q)
{
	return q->force_approvals > 1 ? q->force_approvals : 1;
}

/* Parts to release: the requested ones (each checked) or every part that
 * needs nothing the request does not give. */
static GArray *pick_parts(const struct tz_meta *m, const struct tz_release_req *r,
			  char *err, size_t errlen)
{
	GArray *a = g_array_new(FALSE, FALSE, sizeof(unsigned));

	for (unsigned i = 0; i < r->n; i++) {
		const struct tz_meta_part *p = tz_meta_part_get(m, r->parts[i]);
		enum need nd = p ? need_of(p) : NEED_NOTHING;
		if (p == NULL) {
			tz_err(err, errlen, "%s has no part %u", m->id, r->parts[i]);
			goto fail;
		}
		if (nd == NEED_AGAIN && !r->again) {
			tz_err(err, errlen, "%s part %u was already released (by %s at %s): "
			       "--again sends it once more (audited)", m->id, p->index,
			       p->released_by ? p->released_by : "?", p->released_at ? p->released_at : "?");
			goto fail;
		}
		if (nd == NEED_FORCE && !r->force) {
			tz_err(err, errlen, "%s part %u is %s: only clean or sanitized parts are released "
			       "(--force with --reason overrides, audited and approved by a second operator)",
			       m->id, p->index, p->state);
			goto fail;
		}
		g_array_append_val(a, r->parts[i]);
	}
	for (guint i = 0; r->n == 0 && i < m->parts->len; i++) {
		const struct tz_meta_part *p = g_ptr_array_index(m->parts, i);
		enum need nd = need_of(p);
		if (nd == NEED_NOTHING || (nd == NEED_AGAIN && r->again) || (nd == NEED_FORCE && r->force))
			g_array_append_val(a, p->index);
	}
	if (a->len == 0) {
		tz_err(err, errlen, "%s: no part can be released", m->id);
		goto fail;
	}
	return a;
fail:
	g_array_unref(a);
	return NULL;
}

/* The Message-ID tz_release_write_mail put in the mail's header (in fd),
 * into q->sent_message_id when the caller asked for it: the handle an
 * operator greps the MTA's log for (Postfix logs it with its queue id). */
static void note_message_id(const struct tz_queue *q, int fd)
{
	char head[8192], *p, *end;
	ssize_t n;

	if (q->sent_message_id == NULL)
		return;
	q->sent_message_id[0] = '\0';
	n = pread(fd, head, sizeof(head) - 1, 0);
	if (n <= 0)
		return;
	head[n] = '\0';
	p = strstr(head, "\nMessage-ID: <");
	end = p ? strchr(p + 14, '>') : NULL;
	/* "<...>" on that one line, with room for the NUL */
	if (end && strcspn(p + 14, "\n") > (size_t)(end - (p + 14)) && end - (p + 13) + 2 <= TZ_MSGID_LEN)
		g_strlcpy(q->sent_message_id, p + 13, (size_t)(end - (p + 13)) + 2);
}

/* The claims of one send on the shared database (NULL on local). */
struct claimset {
	const char *url;
	char **keys;
	const char *id;
	const unsigned *parts;
	unsigned n;
};

/* Build the mail into an unnamed file and pipe it to ReleaseCommand: 0,
 * -1, or 1 when cs's claims were taken over before the send (not sent).
 * The claims move to "sending" just before ReleaseCommand starts, so a
 * claim still "claimed" was never handed to it. */
static int send_release(const struct tz_queue *q, const struct tz_meta *m, GArray *a,
			const char *to, int forced, const struct claimset *cs,
			char *err, size_t errlen)
{
	char *tmpdir = g_build_filename(tz_store_dir(q->st), "tmp", NULL);
	const char *contact = q->tenant_contact && m->tenant ? q->tenant_contact(m->tenant, q->tenant_ctx)
							    : NULL;
	struct tz_release_words words = { contact ? contact : q->notice_contact, q->notice_details };
	char **argv = NULL;
	int fd, rc = -1, st;

	fd = open(tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		tz_err(err, errlen, "%s: %s", tmpdir, strerror(errno));
		goto out;
	}
	if (tz_release_write_mail(q->st, m, (const unsigned *)(void *)a->data, a->len,
				  q->release_from, to, q->release_key, forced, &words, fd, err, errlen) < 0)
		goto out;
	note_message_id(q, fd);
	argv = tz_proc_argv(q->release_command, NULL, NULL, err, errlen);
	if (argv == NULL || lseek(fd, 0, SEEK_SET) < 0)
		goto out;
	if (cs && (st = tz_pgclaim_mark(cs->url, (const char *const *)cs->keys, cs->id, cs->parts,
					 cs->n, TZ_CLAIM_SENDING, err, errlen)) != 0) {
		rc = st;
		goto out;
	}
	st = tz_proc_run(argv, fd, 300, err, errlen);
	if (st != 0) {
		if (st > 0)
			tz_err(err, errlen, "%s exited with status %d", argv[0], st);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	g_strfreev(argv);
	g_free(tmpdir);
	return rc;
}

/* The claim keys of the parts in a: what is done once is "the release
 * after the part's last one". Caller g_strfreev()s. */
static char **claim_keys(const struct tz_meta *m, GArray *a)
{
	char **k = g_new0(char *, a->len + 1);

	for (guint i = 0; i < a->len; i++) {
		const struct tz_meta_part *p = tz_meta_part_get(m, g_array_index(a, unsigned, i));
		k[i] = p->released_at ? g_strdup_printf("after %s", p->released_at) : g_strdup("first");
	}
	return k;
}

/* Audit the claims take_over found stale and took: "reclaimed". */
static int audit_reclaimed(const struct tz_queue *q, const struct tz_meta *m, GArray *a,
			   char **was, const char *op, char *err, size_t errlen)
{
	int rc = 0;

	for (guint i = 0; i < a->len && rc == 0; i++) {
		const struct tz_meta_part *p = tz_meta_part_get(m, g_array_index(a, unsigned, i));
		char *detail;
		if (was[i] == NULL)
			continue;
		detail = g_strdup_printf("stale claim taken over: %s", was[i]);
		rc = tzq_audit(q, "reclaimed", op, m->id, p->index, p->sha256, detail, err, errlen);
		g_free(detail);
	}
	return rc;
}

/* Send the parts in a (claimed first on the shared database), or -1. */
static int send_claimed(const struct tz_queue *q, const struct tz_meta *m, GArray *a,
			const char *to, int forced, bool reclaim, const char *op,
			char *err, size_t errlen)
{
	char why[TZ_ERRLEN], **was;
	struct claimset cs = { q->claims_url, NULL, m->id, (const unsigned *)(void *)a->data, a->len };
	int rc;

	if (q->claims_url == NULL)
		return send_release(q, m, a, to, forced, NULL, err, errlen);
	cs.keys = claim_keys(m, a);
	was = g_new0(char *, a->len + 1);
	rc = tz_pgclaim_take(cs.url, (const char *const *)cs.keys, m->id, cs.parts, cs.n, reclaim,
			     was, err, errlen);
	if (rc == 0 && (rc = audit_reclaimed(q, m, a, was, op, err, errlen)) < 0)
		(void)tz_pgclaim_drop(cs.url, (const char *const *)cs.keys, m->id, cs.parts, cs.n,
				      why, sizeof(why));
	else if (rc == 0 && (rc = send_release(q, m, a, to, forced, &cs, err, errlen)) < 0 &&
		 tz_pgclaim_drop(cs.url, (const char *const *)cs.keys, m->id, cs.parts, cs.n,
				 why, sizeof(why)) < 0)
		tz_err(err + strlen(err), errlen - strlen(err), "; and the claim stays: %s", why);
	/* Sent: a failure to record "sent" leaves "sending", which blocks
	 * only this request key, and the part's new released_at (written
	 * next) makes any later release a new request. */
	if (rc == 0 && tz_pgclaim_mark(cs.url, (const char *const *)cs.keys, m->id, cs.parts, cs.n,
				       TZ_CLAIM_SENT, why, sizeof(why)) != 0)
		tz_log(LOG_WARNING, m->id, "release sent, but its claim stays 'sending': %s", why);
	g_strfreev(was);
	g_strfreev(cs.keys);
	return rc == 0 ? 0 : -1;
}

/* Send the parts in a, then record each as released and audit it. */
static int deliver(const struct tz_queue *q, struct tz_meta *m, GArray *a, const char *to,
		   bool reclaim, const char *op, const char *why, char *err, size_t errlen)
{
	int forced = 0, rc = 0;
	char ts[32];

	for (guint i = 0; i < a->len; i++)
		forced |= need_of(tz_meta_part_get(m, g_array_index(a, unsigned, i))) == NEED_FORCE;
	if (send_claimed(q, m, a, to, forced, reclaim, op, err, errlen) < 0)
		return -1;
	tzq_now_iso(ts);
	for (guint i = 0; i < a->len && rc == 0; i++) {
		struct tz_meta_part *p = tz_meta_part_get(m, g_array_index(a, unsigned, i));
		enum need nd = need_of(p);
		char *detail = g_strdup_printf("from_state=%s to=%s%s%s%s", p->state,
					       to ? to : "original recipients",
					       nd == NEED_FORCE ? " FORCED" : nd == NEED_AGAIN ? " AGAIN" : "",
					       why ? " " : "", why ? why : "");
		tzq_set_str(&p->state, TZ_STATE_RELEASED);
		tzq_set_str(&p->released_at, ts);
		tzq_set_str(&p->released_by, op);
		tzq_set_str(&p->force_requested_by, NULL);
		tzq_set_str(&p->force_reason, NULL);
		tzq_set_str(&p->force_approvers, NULL);
		rc = tz_store_meta_write(q->st, m, err, errlen);
		if (rc == 0)
			rc = tzq_audit(q, "released", op, m->id, p->index,
				       p->sanitized_file ? p->sanitized_sha256 : p->sha256, detail, err, errlen);
		g_free(detail);
	}
	return rc;
}

/* Record a forced-release request for every part of a that needs force. */
static int request(const struct tz_queue *q, struct tz_meta *m, GArray *a,
		   const struct tz_release_req *r, char *err, size_t errlen)
{
	int rc = 0;

	for (guint i = 0; i < a->len && rc == 0; i++) {
		struct tz_meta_part *p = tz_meta_part_get(m, g_array_index(a, unsigned, i));
		char *detail;
		if (need_of(p) != NEED_FORCE)
			continue;
		tzq_set_str(&p->force_requested_by, r->operator_name);
		tzq_set_str(&p->force_reason, r->reason);
		tzq_set_str(&p->force_approvers, r->operator_name);
		detail = g_strdup_printf("state=%s approvals=1/%u reason=%s", p->state,
					 approvals_needed(q), r->reason);
		rc = tz_store_meta_write(q->st, m, err, errlen);
		if (rc == 0)
			rc = tzq_audit(q, "release_requested", r->operator_name, m->id, p->index, p->sha256,
				       detail, err, errlen);
		g_free(detail);
	}
	return rc;
}

int tz_queue_release(const struct tz_queue *q, const char *id, const struct tz_release_req *r,
		     char *err, size_t errlen)
{
	struct tz_meta *m = NULL;
	GArray *a = NULL;
	int lock, rc = -1, needs_force = 0;
	char *why = NULL;

	if (q->release_key == NULL)
		return tz_err(err, errlen, "ReleaseKeyFile is not set: released mail could not be marked");
	if (r->force && (r->reason == NULL || *r->reason == '\0'))
		return tz_err(err, errlen, "--force needs --reason: a forced release is on record with why");
	lock = tz_store_lock(q->st, id, err, errlen);
	if (lock < 0)
		return -1;
	m = tz_store_meta_read(q->st, id, err, errlen);
	if (m == NULL || (a = pick_parts(m, r, err, errlen)) == NULL)
		goto out;
	for (guint i = 0; i < a->len; i++)
		needs_force |= need_of(tz_meta_part_get(m, g_array_index(a, unsigned, i))) == NEED_FORCE;
	for (guint i = 0; needs_force && approvals_needed(q) > 1 && i < a->len; i++)
		if (need_of(tz_meta_part_get(m, g_array_index(a, unsigned, i))) != NEED_FORCE) {
			/* the request records forced parts only: clean ones in it would
			 * be neither sent nor kept, and the tool would say "pending" */
			tz_err(err, errlen, "%s: part %u needs no approval: release the clean parts "
			       "first, then request the forced ones", id, g_array_index(a, unsigned, i));
			goto out;
		}
	if (needs_force && approvals_needed(q) > 1 && r->to) {
		tz_err(err, errlen, "%s: a forced release that needs approval goes to the original "
		       "recipients only (no --to)", id);
		goto out;
	}
	if (needs_force && approvals_needed(q) > 1) {
		/* Nothing goes until the forced parts are approved. */
		rc = request(q, m, a, r, err, errlen);
		if (rc == 0) {
			tz_err(err, errlen, "%s: forced release requested; it needs %u more approval(s): "
			       "textizectl queue approve %s PART --operator NAME (another operator)",
			       id, approvals_needed(q) - 1, id);
			rc = 1;
		}
	} else {
		if (needs_force)
			why = g_strdup_printf("reason=%s", r->reason);
		rc = deliver(q, m, a, r->to, q->reclaim_claims != 0, r->operator_name, why, err, errlen);
	}
	tzq_reindex(q, m);
out:
	if (a)
		g_array_unref(a);
	g_free(why);
	tz_meta_free(m);
	tz_store_unlock(q->st, lock);
	return rc;
}

static int listed(const char *list, const char *name)
{
	gchar **v = g_strsplit(list ? list : "", ",", -1);
	int found = 0;

	for (int i = 0; v[i]; i++)
		found |= strcmp(v[i], name) == 0;
	g_strfreev(v);
	return found;
}

static unsigned count_list(const char *list)
{
	unsigned n = list && *list ? 1 : 0;

	for (const char *p = list; p && *p; p++)
		n += *p == ',';
	return n;
}

int tz_queue_approve(const struct tz_queue *q, const char *id, unsigned part,
		     const char *operator_name, char *err, size_t errlen)
{
	struct tz_meta *m = NULL;
	struct tz_meta_part *p;
	GArray *a = NULL;
	char *list = NULL, *detail = NULL;
	unsigned have;
	int lock, rc = -1;

	if (q->release_key == NULL)
		return tz_err(err, errlen, "ReleaseKeyFile is not set: released mail could not be marked");
	if (strchr(operator_name, ','))
		return tz_err(err, errlen, "bad operator name %s", operator_name);
	lock = tz_store_lock(q->st, id, err, errlen);
	if (lock < 0)
		return -1;
	m = tz_store_meta_read(q->st, id, err, errlen);
	if (m == NULL)
		goto out;
	p = tz_meta_part_get(m, part);
	if (p == NULL || p->force_requested_by == NULL || need_of(p) != NEED_FORCE) {
		tz_err(err, errlen, "%s part %u has no forced release waiting for approval", id, part);
		goto out;
	}
	if (listed(p->force_approvers, operator_name)) {
		tz_err(err, errlen, "%s part %u: %s already %s this release; another operator must approve",
		       id, part, operator_name,
		       strcmp(p->force_requested_by, operator_name) == 0 ? "requested" : "approved");
		goto out;
	}
	list = g_strconcat(p->force_approvers, ",", operator_name, NULL);
	tzq_set_str(&p->force_approvers, list);
	have = count_list(list);
	detail = g_strdup_printf("approvals=%u/%u requested_by=%s reason=%s", have, approvals_needed(q),
				 p->force_requested_by, p->force_reason ? p->force_reason : "-");
	if (tz_store_meta_write(q->st, m, err, errlen) < 0 ||
	    tzq_audit(q, "approved", operator_name, id, part, p->sha256, detail, err, errlen) < 0)
		goto out;
	if (have < approvals_needed(q)) {
		tz_err(err, errlen, "%s part %u: approved (%u of %u)", id, part, have, approvals_needed(q));
		rc = 1;
		goto out;
	}
	g_free(detail);
	detail = g_strdup_printf("requested_by=%s approved_by=%s reason=%s", p->force_requested_by,
				 list + strlen(p->force_requested_by) + 1,
				 p->force_reason ? p->force_reason : "-");
	a = g_array_new(FALSE, FALSE, sizeof(unsigned));
	g_array_append_val(a, part);
	rc = deliver(q, m, a, NULL, false, operator_name, detail, err, errlen);
	tzq_reindex(q, m);
out:
	if (a)
		g_array_unref(a);
	g_free(list);
	g_free(detail);
	tz_meta_free(m);
	tz_store_unlock(q->st, lock);
	return rc;
}
