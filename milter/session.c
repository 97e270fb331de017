/* session.c — per-connection and per-message state and the SMTP steps up
 * to end of message. The message is rebuilt into the spool exactly as
 * received (header fields as "Name:value" with the MTA's folding turned
 * into CRLF, a blank line, the body chunks) so the original kept in the
 * quarantine is the message the sender sent. */
#include "session.h"
#include "tz_release.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include "policy_glue.h"
#include "stats.h"
#include "tz_log.h"
#include "tz_util.h"

/* The client's name as Postfix logs it: the MTA passes "[addr]" (the
 * Sendmail convention) when the client has no reverse DNS, which the
 * summary line would show as "[addr][addr]"; Postfix says
 * "unknown[addr]", and so do we (and the queue entry's client_name). */
static const char *conn_client_name(const char *name)
{
	if (name == NULL || *name == '\0' || *name == '[')
		return "unknown";
	return name;
}

struct tzm_conn *tzm_conn_new(const char *client_name, const char *client_addr)
{
	struct tzm_runtime *rt = tzm_runtime_current();
	struct tzm_conn *c;

	if (rt == NULL)
		return NULL;
	c = g_new0(struct tzm_conn, 1);
	c->rt = rt;
	c->client_name = g_strdup(conn_client_name(client_name));
	c->client_addr = g_strdup(client_addr);
	c->internal = tz_config_is_internal(rt->cfg, client_addr);
	c->tenant = tzm_tenant_for_client(rt, client_addr);
	return c;
}

void tzm_conn_free(struct tzm_conn *c)
{
	if (c == NULL)
		return;
	tzm_msg_end(c);
	tzm_policy_conn_free(c);
	tzm_runtime_unref(c->rt);
	g_free(c->client_name);
	g_free(c->client_addr);
	g_free(c->helo);
	g_free(c->auth_user);
	if (c->line)
		g_string_free(c->line, TRUE);
	g_free(c);
}

enum tz_direction tzm_direction(const struct tzm_conn *c)
{
	return c->internal || (c->auth_user && *c->auth_user) ? TZ_DIR_OUTBOUND : TZ_DIR_INBOUND;
}

const char *tzm_qid(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx)
{
	struct tzm_msg *m = c->msg;
	const char *i;

	if (m == NULL)
		return "NOQUEUE";
	if (m->env.queue_id == NULL && ops && (i = ops->getsymval(ctx, "i")) != NULL && *i)
		m->env.queue_id = g_strdup(i);
	return m->env.queue_id ? m->env.queue_id : "NOQUEUE";
}

/* Envelope data comes from the Internet: made printable before it is
 * logged (on the stack: the line is formatted once, without allocating). */
static void msg_summary(struct tzm_conn *c)
{
	struct tzm_msg *m = c->msg;
	char from[201], client[201];
	gint64 ms = (g_get_monotonic_time() - m->t_start) / 1000;

	tz_log(m->error[0] ? LOG_WARNING : LOG_INFO, m->env.queue_id,
	       "%s client=%s[%s] from=<%s> rcpts=%u action=%s ref=%s stripped=%u hdrfix=%u "
	       "in=%llu out=%llu spool=%s ms=%lld%s%s%s%s%s",
	       m->env.direction == TZ_DIR_OUTBOUND ? "outbound" : "inbound",
	       tz_printable_buf(c->client_name, client, sizeof(client)),
	       c->client_addr ? c->client_addr : "",
	       tz_printable_buf(m->env.sender, from, sizeof(from)), m->env.rcpts->len,
	       tz_outcome_name(m->outcome), m->ref_id[0] ? m->ref_id : "-",
	       m->stripped, m->headers_fixed, (unsigned long long)m->bytes_in,
	       (unsigned long long)m->bytes_out, tz_spool_on_disk(m->spool) ? "disk" : "mem",
	       /* A released mail skipped the policy verdicts: naming rules
	        * that were held and then not applied would mislead. */
	       (long long)ms, m->outcome == TZ_OUTCOME_RELEASED ? "" : tzm_policy_summary(m),
	       m->tenant ? " tenant=" : "", m->tenant ? m->tenant->t->name : "",
	       m->error[0] ? " error=" : "", m->error);
}

/* The debug line after the summary: milliseconds from MAIL to each step
 * reached (tzm_msg_t), each step's own share, and the CPU time of end of
 * message (wall much above CPU: the thread waited, for the disk or for a
 * core). For finding where latency goes; below LogLevel debug it costs the
 * clock reads only (the line is not even formatted). */
static void msg_timing(const struct tzm_msg *m)
{
	static const char *const names[TZM_T_COUNT] = { "data", "stream", "original", "engine",
							"commit", "edits" };
	char buf[256];
	size_t n = 0;
	gint64 prev = m->t_start;

	if (!tz_log_wants(LOG_DEBUG))
		return;
	for (int i = 0; i < TZM_T_COUNT && n < sizeof(buf); i++) {
		if (m->t[i] == 0)
			continue;
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " %s=%.1f", names[i],
				      (double)(m->t[i] - prev) / 1000.0);
		prev = m->t[i];
	}
	if (n < sizeof(buf))
		snprintf(buf + n, sizeof(buf) - n, " eom_cpu=%.1f gate_wait=%u", (double)m->cpu_eom / 1000.0,
			 m->gate_wait_ms);
	tz_log(LOG_DEBUG, m->env.queue_id, "timing: ms since the previous step:%s", buf);
}

void tzm_msg_end(struct tzm_conn *c)
{
	struct tzm_msg *m = c->msg;

	if (m == NULL)
		return;
	msg_summary(c);
	msg_timing(m);
	tzm_stats_message(c);   /* the same facts, counted for textizectl stats */
	tzm_policy_msg_free(m);
	tz_spool_free(m->spool);
	g_free(m->release_marker);
	g_free(m->env.queue_id);
	g_free(m->env.client_addr);
	g_free(m->env.client_name);
	g_free(m->env.helo);
	g_free(m->env.auth_user);
	g_free(m->env.sender);
	g_free(m->env.spf_result);
	g_free(m->env.tenant);
	g_ptr_array_unref(m->env.rcpts);
	g_free(m);
	c->msg = NULL;
}

enum tzm_status tzm_fail(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
			 const char *reason)
{
	bool reject = c->rt->cfg->on_error == TZ_ACTION_REJECT;

	tz_log(LOG_ERR, c->msg ? tzm_qid(c, ops, ctx) : NULL, "error: %s", reason);
	if (c->msg) {
		if (!c->msg->error[0])
			g_strlcpy(c->msg->error, reason, sizeof(c->msg->error));
		c->msg->outcome = reject ? TZ_OUTCOME_ERROR_REJECT : TZ_OUTCOME_ERROR_TEMPFAIL;
	}
	return tzm_refuse_with(ops, ctx, c->msg ? tzm_qid(c, ops, ctx) : NULL,
			       reject ? TZM_REPLY_ERROR_REJECT : TZM_REPLY_ERROR_TEMPFAIL);
}

enum tzm_status tzm_on_connect(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx)
{
	return tzm_policy_connect(c, ops, ctx);
}

enum tzm_status tzm_on_helo(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
			    const char *helo)
{
	g_free(c->helo);
	c->helo = g_strdup(helo);
	return TZM_CONTINUE;
}

/* "<a@b>" -> "a@b"; "<>" -> "". */
static char *strip_brackets(const char *s)
{
	size_t n;

	if (s == NULL)
		return g_strdup("");
	n = strlen(s);
	if (n >= 2 && s[0] == '<' && s[n - 1] == '>')
		return g_strndup(s + 1, n - 2);
	return g_strdup(s);
}

enum tzm_status tzm_on_mail(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
			    char **argv)
{
	const struct tz_config *cfg = c->rt->cfg;
	const char *auth = ops->getsymval(ctx, "{auth_authen}");
	struct tzm_msg *m;

	tzm_msg_end(c);   /* a message the MTA never ended (no abort seen) */
	g_free(c->auth_user);
	c->auth_user = auth && *auth ? g_strdup(auth) : NULL;
	m = g_new0(struct tzm_msg, 1);
	m->t_start = g_get_monotonic_time();
	m->outcome = TZ_OUTCOME_ABORTED;
	m->env.sender = strip_brackets(argv ? argv[0] : NULL);
	m->env.rcpts = g_ptr_array_new_with_free_func(g_free);
	m->env.client_addr = g_strdup(c->client_addr);
	m->env.client_name = g_strdup(c->client_name);
	m->env.helo = g_strdup(c->helo);
	m->env.auth_user = g_strdup(c->auth_user);
	m->env.direction = tzm_direction(c);
	if (m->env.direction == TZ_DIR_OUTBOUND) {
		m->tenant = c->tenant;
		m->tenant_decided = true;
		m->env.tenant = c->tenant ? g_strdup(c->tenant->t->name) : NULL;
	}
	m->spool = tz_spool_new(cfg->spool_dir, cfg->spool_memory_limit);
	c->msg = m;
	c->messages++;
	tzm_qid(c, ops, ctx);
	return tzm_policy_mail(c, ops, ctx, argv);
}

const struct tz_policy *tzm_msg_policy(const struct tzm_conn *c)
{
	return c->msg && c->msg->tenant ? &c->msg->tenant->policy : &c->rt->policy;
}

const struct tz_engine_options *tzm_msg_engine_options(const struct tzm_conn *c)
{
	return c->msg && c->msg->tenant ? &c->msg->tenant->engine_opt : &c->rt->engine_opt;
}

/* Inbound: the first accepted recipient fixes the message's tenant; a
 * recipient of another tenant (or of none, after one of a tenant) is
 * refused 452 4.5.3 and comes again in a later transaction, so every
 * message is text-ized under exactly one tenant's rules. */
static enum tzm_status rcpt_tenant(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
				   const char *rcpt)
{
	struct tzm_msg *m = c->msg;
	const struct tzm_tenant *t;

	if (m->env.direction != TZ_DIR_INBOUND || c->rt->ntenants == 0)
		return TZM_CONTINUE;
	t = tzm_tenant_for_rcpt(c->rt, rcpt);
	if (!m->tenant_decided) {
		m->tenant = t;
		m->tenant_decided = true;
		m->env.tenant = t ? g_strdup(t->t->name) : NULL;
		return TZM_CONTINUE;
	}
	if (t == m->tenant)
		return TZM_CONTINUE;
	tz_log(LOG_INFO, tzm_qid(c, ops, ctx), "recipient of tenant %s deferred (452 4.5.3): "
	       "this message is tenant %s's", t ? t->t->name : "(none)",
	       m->tenant ? m->tenant->t->name : "(none)");
	g_ptr_array_remove_index(m->env.rcpts, m->env.rcpts->len - 1);
	return tzm_refuse_with(ops, ctx, m->env.queue_id, TZM_REPLY_OTHER_TENANT);
}

enum tzm_status tzm_on_rcpt(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
			    char **argv)
{
	enum tzm_status st;
	char *rcpt;
	guint n;

	if (c->msg == NULL)
		return TZM_CONTINUE;
	rcpt = strip_brackets(argv ? argv[0] : NULL);
	g_ptr_array_add(c->msg->env.rcpts, rcpt);
	n = c->msg->env.rcpts->len;
	tzm_qid(c, ops, ctx);
	st = tzm_policy_rcpt(c, ops, ctx, rcpt);
	if (st != TZM_CONTINUE || c->msg->env.rcpts->len != n)
		return st;   /* refused: it decides no tenant */
	return rcpt_tenant(c, ops, ctx, rcpt);
}

/* Append to the spool, enforcing MaxMessageSize. A size overrun rejects
 * (552 5.3.4); a spool error fails closed. */
static enum tzm_status spool_append(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
				    const void *buf, size_t len)
{
	struct tzm_msg *m = c->msg;
	char err[TZ_ERRLEN];

	if (m->too_big)
		return TZM_REJECT;
	if (m->bytes_in + len > c->rt->cfg->max_message_size) {
		m->too_big = true;
		m->outcome = TZ_OUTCOME_TOO_BIG;
		tz_log(LOG_NOTICE, tzm_qid(c, ops, ctx), "message larger than MaxMessageSize %zu",
		       c->rt->cfg->max_message_size);
		return tzm_refuse_with(ops, ctx, m->env.queue_id, TZM_REPLY_TOO_BIG);
	}
	if (tz_spool_write(m->spool, buf, len, err, sizeof(err)) < 0)
		return tzm_fail(c, ops, ctx, err);
	m->bytes_in += len;
	return TZM_CONTINUE;
}

/* Append s with every bare LF turned into CRLF (MTAs hand folded header
 * values over with LF only), a run of other bytes at a time. */
static void append_crlf(GString *out, const char *s)
{
	const char *run = s, *nl;

	while ((nl = strchr(run, '\n')) != NULL) {
		g_string_append_len(out, run, nl - run);
		if (nl == s || nl[-1] != '\r')
			g_string_append_c(out, '\r');
		g_string_append_c(out, '\n');
		run = nl + 1;
	}
	g_string_append(out, run);
}

enum tzm_status tzm_on_header(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
			      const char *name, const char *value)
{
	GString *line;
	enum tzm_status st;

	if (c->msg == NULL)
		return TZM_CONTINUE;
	if (c->msg->t[TZM_T_HDR] == 0)
		c->msg->t[TZM_T_HDR] = g_get_monotonic_time();
	if (c->line == NULL)
		c->line = g_string_sized_new(256);
	line = c->line;   /* the connection's, reused for every field */
	g_string_assign(line, name);
	/* With SMFIP_HDR_LEADSPC the value keeps its own leading blank (or
	 * none); without it the MTA removed one space, so put it back. */
	g_string_append(line, c->leadspc ? ":" : ": ");
	append_crlf(line, value);
	g_string_append(line, "\r\n");
	st = spool_append(c, ops, ctx, line->str, line->len);
	if (g_ascii_strcasecmp(name, TZ_RELEASE_HEADER) == 0 && c->msg->release_markers++ == 0)
		c->msg->release_marker = g_strstrip(g_strdup(value));
	if (st == TZM_CONTINUE)
		st = tzm_policy_header(c, ops, ctx, name, value);
	return st;
}

enum tzm_status tzm_on_eoh(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx)
{
	enum tzm_status st;

	if (c->msg == NULL)
		return TZM_CONTINUE;
	st = spool_append(c, ops, ctx, "\r\n", 2);
	if (st != TZM_CONTINUE)
		return st;
	tzm_qid(c, ops, ctx);
	return tzm_policy_eoh(c, ops, ctx);
}

enum tzm_status tzm_on_body(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
			    const unsigned char *buf, size_t len)
{
	enum tzm_status st;

	if (c->msg == NULL)
		return TZM_CONTINUE;
	st = spool_append(c, ops, ctx, buf, len);
	return st == TZM_CONTINUE ? tzm_policy_body(c, ops, ctx) : st;
}

enum tzm_status tzm_on_eom(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx)
{
	struct tzm_msg *m = c->msg;
	enum tzm_status st;

	if (m == NULL)   /* cannot happen with a sane MTA; never pass unseen mail */
		return tzm_fail(c, ops, ctx, "end of message without MAIL");
	m->t[TZM_T_EOM] = g_get_monotonic_time();
	tzm_qid(c, ops, ctx);
	if (m->too_big) {
		st = tzm_refuse_with(ops, ctx, m->env.queue_id, TZM_REPLY_TOO_BIG);
		goto out;
	}
	/* Mail released from the quarantine was made by textizectl with the
	 * release key: it has passed review, so neither the policy rules (its
	 * envelope sender is internal) nor the conversion apply to it. */
	if (m->env.direction == TZ_DIR_INBOUND && tzm_is_release(c)) {
		st = TZM_CONTINUE;
		m->outcome = TZ_OUTCOME_RELEASED;
		goto out;
	}
	/* a stopping rule (stop()) or an internal error (tzm_fail) has set
	 * the outcome already */
	st = tzm_policy_eom(c, ops, ctx);
	if (st != TZM_CONTINUE)
		goto out;
	if (m->env.direction == TZ_DIR_OUTBOUND) {
		char err[TZ_ERRLEN];

		if (tzm_edit_header(c, ops, ctx, NULL, err, sizeof(err)) < 0) {
			st = tzm_fail(c, ops, ctx, err);
			goto out;
		}
		m->outcome = TZ_OUTCOME_PASSED;
		goto out;
	}
	st = tzm_textize(c, ops, ctx);
out:
	tzm_msg_end(c);
	return st;
}

void tzm_on_abort(struct tzm_conn *c)
{
	tzm_msg_end(c);
}
