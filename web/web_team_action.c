/* web_team_action.c — the security team's actions, each one call into the
 * same library functions textizectl queue uses (tz_queue_release with the
 * workflow's force/approval rules, tz_queue_approve, tz_queue_reject), with
 * the logged-in user as the operator, so every action is audited under
 * their name. A staff request is granted by releasing its parts to that
 * staff member alone (no force: a part the scanner did not pass needs the
 * forced release and its second approver), or declined (audited). After
 * an action the browser is sent back to the entry with a fixed result
 * code; failures are shown at once with the library's reason. */
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

#include "tz_audit.h"
#include "tz_queue.h"
#include "tz_store.h"
#include "tz_util.h"
#include "web_tenant.h"
#include "web.h"
#include "web_html.h"
#include "web_session.h"
#include "web_state.h"
#include "web_team.h"

static const struct {
	const char *code, *text;
} messages[] = {
	{ "released", "配送しました。" },
	{ "requested", "強制配送を申請しました。ほかの承認者の承認を待っています。" },
	{ "approved", "承認しました。" },
	{ "approved_sent", "承認しました。必要な承認がそろったため配送しました。" },
	{ "rejected", "配送しないことにしました。" },
	{ "granted", "職員の依頼に応じて、その職員へ配送しました。" },
	{ "declined", "職員の依頼を却下しました。" },
	{ "sender_blocked", "差出人を拒否リストに加えました。次のメールから受信時に断ります。" },
	{ "sender_allowed", "差出人を許可リストに加えました(拒否の例外)。" },
	{ NULL, NULL },
};

const char *web_team_message(const char *code)
{
	for (int i = 0; code && messages[i].code; i++)
		if (strcmp(code, messages[i].code) == 0)
			return messages[i].text;
	return NULL;
}

static void failed(struct web_req *r, const char *what, const char *err)
{
	char *msg = g_strdup_printf("%sできませんでした: %s", what, err);

	web_error_page(r, MHD_HTTP_CONFLICT, msg);
	g_free(msg);
}

/* The reason field as typed (one line), "" when absent; NULL when bad. */
static const char *clean_reason(const char *s)
{
	if (s == NULL)
		return "";
	return web_reason_ok(s, 0, 1) ? s : NULL;
}

static int parse_part(const char *s, unsigned *part)
{
	char *end;
	unsigned long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	v = strtoul(s, &end, 10);
	if (*end || v == 0 || v > 999999)
		return -1;
	*part = (unsigned)v;
	return 0;
}

static void on_request(struct web_req *r, const char *action, const char *reason)
{
	const char *req = web_field(r, "req");
	struct web_request *q = NULL;
	char err[TZ_ERRLEN];
	int rc = -1;

	pthread_mutex_lock(&r->app->lock);
	if (req && (q = web_state_request_by_row(r->app->state, g_ascii_strtoll(req, NULL, 10))) != NULL &&
	    strcmp(q->status, "open") == 0) {
		if (strcmp(action, "grant") == 0) {
			struct tz_release_req rr = { &q->part, q->part ? 1 : 0, q->rcpt, r->session->user, 0, NULL, 0 };
			rc = tz_queue_release(&r->app->q, q->id, &rr, err, sizeof(err));
			if (rc == 0)
				rc = web_state_decide(r->app->state, q->rowid, "released", r->session->user, reason,
						      err, sizeof(err));
		} else {
			struct tz_audit_event ev = { "request_declined", r->session->user, q->id, q->part, NULL,
						     *reason ? reason : NULL };
			rc = tz_audit_append(r->app->audit, &ev, err, sizeof(err));
			if (rc == 0)
				rc = web_state_decide(r->app->state, q->rowid, "declined", r->session->user, reason,
						      err, sizeof(err));
		}
	} else {
		snprintf(err, sizeof(err), "その依頼は見つからないか、すでに処理されています");
	}
	pthread_mutex_unlock(&r->app->lock);
	if (rc != 0)
		failed(r, strcmp(action, "grant") == 0 ? "配送" : "却下", err);
	else
		web_redirect(r, "/team/entry?id=%s&msg=%s", q->id, strcmp(action, "grant") == 0 ? "granted" : "declined");
	web_request_free(q);
}

static int on_part(struct web_req *r, const char *action, const char *id, unsigned part,
		   const char *reason, const char **code, char *err, size_t errlen)
{
	const struct tz_queue *qq = &r->app->q;
	const char *op = r->session->user;
	int rc;

	if (strcmp(action, "release") == 0 || strcmp(action, "force") == 0) {
		int force = strcmp(action, "force") == 0;
		struct tz_release_req rr = { &part, 1, NULL, op, force, *reason ? reason : NULL, 0 };
		rc = tz_queue_release(qq, id, &rr, err, errlen);
		*code = rc == 1 ? "requested" : "released";
	} else if (strcmp(action, "approve") == 0) {
		if (!(r->session->roles & WEB_ROLE_APPROVER))
			return tz_err(err, errlen, "承認者のグループに属していません");
		rc = tz_queue_approve(qq, id, part, op, err, errlen);
		*code = rc == 1 ? "approved" : "approved_sent";
	} else if (strcmp(action, "reject") == 0) {
		rc = tz_queue_reject(qq, id, part, op, *reason ? reason : NULL, err, errlen);
		*code = "rejected";
	} else {
		return tz_err(err, errlen, "unknown action");
	}
	return rc < 0 ? -1 : 0;
}

void web_team_action(struct web_req *r)
{
	const char *action = web_field(r, "action"), *reason = clean_reason(web_field(r, "reason"));
	const char *arg = web_field(r, "id"), *code = NULL;
	char id[TZ_ID_LEN], err[TZ_ERRLEN];
	unsigned part = 0, ignored;
	int rc = -1;

	if (!(r->session->roles & WEB_ROLE_TEAM)) {
		web_error_page(r, MHD_HTTP_FORBIDDEN, "この操作の権限がありません(閲覧のみ)。");
		return;
	}
	if (!web_tenant_action_ok(r)) {   /* another tenant's entry: not found */
		web_error_page(r, MHD_HTTP_NOT_FOUND, "そのエントリはありません。");
		return;
	}
	if (action == NULL || reason == NULL) {
		web_error_page(r, MHD_HTTP_BAD_REQUEST, "理由は 500 文字まで、改行なしで入力してください。");
		return;
	}
	if (strcmp(action, "grant") == 0 || strcmp(action, "decline") == 0) {
		on_request(r, action, reason);
		return;
	}
	if (strcmp(action, "sender") == 0) {
		web_team_sender_action(r, reason);
		return;
	}
	if (strcmp(action, "unlist") == 0) {
		web_team_sender_remove(r, reason);
		return;
	}
	pthread_mutex_lock(&r->app->lock);
	if (arg == NULL || parse_part(web_field(r, "part"), &part) < 0)
		snprintf(err, sizeof(err), "エントリと番号を指定してください");
	else if (tz_store_resolve(r->app->st, arg, id, &ignored, err, sizeof(err)) == 0)
		rc = on_part(r, action, id, part, reason, &code, err, sizeof(err));
	pthread_mutex_unlock(&r->app->lock);
	if (rc < 0)
		failed(r, "操作", err);
	else
		web_redirect(r, "/team/entry?id=%s&msg=%s", id, code);
}
