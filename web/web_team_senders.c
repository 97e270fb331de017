/* web_team_senders.c — block or allow an entry's sender from the entry
 * page (SenderListFile, read by the milter at MAIL FROM: tz_senderlist.h).
 * What goes into the list is taken from the entry's envelope sender on
 * the server, never from the form: a post names the entry, the scope
 * (address or domain) and block or allow, so no request can write an
 * arbitrary line. Every change is audited under the operator's name
 * ("sender_blocked" / "sender_allowed") with the entry it came from. */
#include <string.h>
#include <microhttpd.h>

#include "tz_audit.h"
#include "tz_meta.h"
#include "tz_senderlist.h"
#include "tz_senders.h"
#include "tz_store.h"
#include "tz_util.h"
#include "web.h"
#include "web_html.h"
#include "web_session.h"
#include "web_team.h"

/* address or domain of sender as the list stores it; NULL when it has
 * none (null sender, no domain, not storable). g_free(). */
static char *target(const char *sender, bool domain)
{
	const char *at = sender ? strrchr(sender, '@') : NULL;

	if (at == NULL)
		return NULL;
	return tz_senderlist_pattern(domain ? at + 1 : sender);
}

static void one_form(struct web_req *r, const struct tz_meta *m, const char *kind,
		     const char *scope, const char *label, bool danger)
{
	GString *b = r->body;

	web_html_printf(b, "<form class=\"inline\" method=\"post\" action=\"/team/action\">"
			"<input type=\"hidden\" name=\"action\" value=\"sender\">"
			"<input type=\"hidden\" name=\"id\" value=\"%s\"><input type=\"hidden\" name=\"kind\" "
			"value=\"%s\"><input type=\"hidden\" name=\"scope\" value=\"%s\">", m->id, kind, scope);
	web_csrf_field(b, r);
	web_html_printf(b, "<button type=\"submit\" id=\"sender-%s-%s\"%s>%s</button></form> ",
			kind, scope, danger ? " class=\"danger\"" : "", label);
}

void web_team_sender_forms(struct web_req *r, const struct tz_meta *m)
{
	char *addr = target(m->sender, false), *dom = target(m->sender, true);

	if ((r->session->roles & WEB_ROLE_TEAM) && tz_senders_enabled(r->app->cfg) && addr && dom &&
	    strcmp(m->direction, "inbound") == 0) {
		web_html_printf(r->body, "<h2>差出人</h2><fieldset><legend>%s</legend><p>拒否すると、"
				"この差出人からのメールは受信時に 550 で断ります。許可は拒否の例外で、"
				"テキスト化や検査は省きません。</p>", m->sender);
		one_form(r, m, "block", "address", "このアドレスを拒否", true);
		one_form(r, m, "block", "domain", "このドメインを拒否", true);
		one_form(r, m, "allow", "address", "このアドレスを許可", false);
		one_form(r, m, "allow", "domain", "このドメインを許可", false);
		web_html_printf(r->body, "<p class=\"mono\">%s → %s / %s</p></fieldset>",
				web_senders_where(r->app->cfg), addr, dom);
	}
	g_free(addr);
	g_free(dom);
}

void web_team_sender_action(struct web_req *r, const char *reason)
{
	const char *arg = web_field(r, "id"), *kind = web_field(r, "kind"), *scope = web_field(r, "scope");
	bool block = g_strcmp0(kind, "block") == 0, domain = g_strcmp0(scope, "domain") == 0;
	char id[TZ_ID_LEN], err[TZ_ERRLEN], *pat = NULL, *detail = NULL;
	struct tz_meta *m = NULL;
	unsigned ignored;
	int rc = -1;

	if (!tz_senders_enabled(r->app->cfg) || (!block && g_strcmp0(kind, "allow") != 0) ||
	    (!domain && g_strcmp0(scope, "address") != 0)) {
		web_error_page(r, MHD_HTTP_BAD_REQUEST, "SenderListFile が設定されていないか、指定が正しくありません。");
		return;
	}
	pthread_mutex_lock(&web_senderlist_lock);   /* add and remove: one writer */
	if (arg == NULL || tz_store_resolve(r->app->st, arg, id, &ignored, err, sizeof(err)) != 0 ||
	    (m = tz_store_meta_read(r->app->st, id, err, sizeof(err))) == NULL)
		snprintf(err, sizeof(err), "そのエントリはありません");
	else if ((pat = target(m->sender, domain)) == NULL)
		snprintf(err, sizeof(err), "このエントリの差出人はリストに書けません");
	else
		rc = tz_senders_add(r->app->cfg, block ? TZ_SENDER_BLOCK : TZ_SENDER_ALLOW, pat,
				    r->session->user, err, sizeof(err));
	if (rc >= 0) {
		struct tz_audit_event ev = { block ? "sender_blocked" : "sender_allowed", r->session->user,
					     id, 0, NULL, NULL };
		detail = g_strdup_printf("%s %s%s%s%s", block ? "block" : "allow", pat,
					 rc == 1 ? " (already listed)" : "", *reason ? " reason=" : "", reason);
		ev.detail = detail;
		if (tz_audit_append(r->app->audit, &ev, err, sizeof(err)) < 0)
			rc = -1;
	}
	pthread_mutex_unlock(&web_senderlist_lock);
	if (rc < 0)
		web_error_page(r, MHD_HTTP_CONFLICT, err);
	else
		web_redirect(r, "/team/entry?id=%s&msg=%s", id, block ? "sender_blocked" : "sender_allowed");
	tz_meta_free(m);
	g_free(pat);
	g_free(detail);
}
