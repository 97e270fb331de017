/* policy_glue.c — feeds the policy rules (src/policy/tz_relay.c, tz_size.c,
 * tz_autofwd.c, tz_visibility.c, tz_spoof.c, tz_spf.c, tz_breaker.c,
 * tz_senderlist.c) what
 * the SMTP session said, and applies their verdict through the ops table.
 * No decision is made here (see policy_glue.h for which rule runs when).
 *
 * Process-wide objects: the libspf2 server pool and the circuit breaker
 * are made on first use (after privileges were dropped, so the breaker's
 * state file belongs to UserID) and live until exit; the breaker takes new
 * limits when a connection brings a newer config snapshot (SIGHUP) and
 * keeps its counters and trip; the sender list follows SenderListFile. */
#include "policy_glue.h"
#include "breaker_shared.h"

#include <pthread.h>
#include <string.h>
#include <syslog.h>

#include "tz_log.h"
#include "tz_msghdr.h"
#include "tz_policy.h"
#include "tz_pgsenders.h"
#include "tz_senderlist.h"
#include "tz_senderlist_shared.h"
#include "tz_util.h"

/* libspf2 servers: one per concurrently checking thread, more wait. */
#define SPF_POOL_SIZE 16

struct policy_conn {
	const struct tz_policy *pol;   /* the connection's runtime's, built once per config */
};

struct policy_msg {
	struct tz_verdict *v;       /* every rule that fired for this message */
	struct tz_verdict *rcpt_v;  /* one recipient's relay verdict, reset and reused */
	struct tz_msghdr *hdrs;     /* top-level header fields as received */
	bool hdr_overflow;          /* more fields than TZ_MSGHDR_MAX_FIELDS */
	bool size_fired;            /* the streaming size rule has fired */
	bool await_release;         /* stops held until EOM checks the release marker */
	unsigned relay_refused;     /* recipients refused as relay attempts */
	enum tz_action relay_action;   /* their action: reject or tempfail */
	GString *summary;           /* last tzm_policy_summary() result, NULL until one */
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tz_spf *g_spf;
static struct tz_breaker *g_breaker;
static unsigned g_breaker_generation;
static struct tz_senderlist_file *g_senders;   /* SenderListFile, made on first use */
/* StoreBackend postgresql: the database's sender_list (plus SenderListFile
 * when set, so a host-local list still counts), through the policy's
 * cache; the loader's context is the connection and the file's path. */
struct senders_src {
	struct tz_pgsenders *db;
	char *url, *path;
};
static struct tz_senderlist_shared *g_senders_db;
static struct senders_src g_senders_src;

void tzm_policy_global_init(const struct tz_config *cfg)
{
	/* Each query may take a share of SPFTimeout; the deadline layer cuts
	 * the evaluation off at SPFTimeout itself. */
	unsigned per_query = cfg->spf_timeout_ms / 2000;

	tz_spf_global_init(per_query ? per_query : 1);
	if (cfg->local_domains == NULL || cfg->local_domains->len == 0)
		tz_log(LOG_WARNING, NULL, "policy: LocalDomains is empty: the open-relay rule is off "
		       "(only Postfix's relay restrictions apply)");
}

void tzm_policy_global_free(void)
{
	pthread_mutex_lock(&g_lock);
	tz_spf_free(g_spf);
	tz_breaker_free(g_breaker);
	tz_senderlist_file_free(g_senders);
	tz_senderlist_shared_free(g_senders_db);
	tz_pgsenders_free(g_senders_src.db);
	g_free(g_senders_src.url);
	g_free(g_senders_src.path);
	g_senders_src = (struct senders_src){ NULL, NULL, NULL };
	g_senders_db = NULL;
	g_spf = NULL;
	g_breaker = NULL;
	g_senders = NULL;
	pthread_mutex_unlock(&g_lock);
}

static struct tz_spf *spf_pool(char *err, size_t errlen)
{
	struct tz_spf *s;

	pthread_mutex_lock(&g_lock);
	if (g_spf == NULL)
		g_spf = tz_spf_new(SPF_POOL_SIZE, NULL, NULL, err, errlen);
	s = g_spf;
	pthread_mutex_unlock(&g_lock);
	return s;
}

/* The breaker, made or reconfigured for this connection's snapshot. */
static struct tz_breaker *breaker(struct tzm_conn *c, char *err, size_t errlen)
{
	struct tz_breaker *b;
	/* breaker keys are global: the runtime's options, whatever the tenant */
	struct tz_breaker_options o = c->rt->policy.breaker;

	/* StoreBackend postgresql: the state every gateway shares */
	o.shared = tzm_breaker_shared(c->rt->cfg);
	pthread_mutex_lock(&g_lock);
	if (g_breaker == NULL) {
		g_breaker = tz_breaker_new(&o, NULL, err, errlen);
		g_breaker_generation = c->rt->generation;
	} else if (c->rt->generation > g_breaker_generation) {
		tz_breaker_configure(g_breaker, &o);
		g_breaker_generation = c->rt->generation;
	}
	b = g_breaker;
	pthread_mutex_unlock(&g_lock);
	return b;
}

static struct policy_msg *msg_state(struct tzm_conn *c)
{
	return c->msg ? c->msg->policy : NULL;
}

/* Answer a stopping verdict: log it, set the reply, map the status. */
static enum tzm_status stop(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
			    const struct tz_verdict *v)
{
	const char *qid = tzm_qid(c, ops, ctx);

	tz_log(LOG_NOTICE, qid, "policy: %s %s %s (%s)", tz_action_name(v->action), v->code,
	       v->ecode, v->reason ? v->reason : "");
	if (c->msg)
		c->msg->outcome = TZ_OUTCOME_POLICY;
	return tzm_refuse(ops, ctx, qid, v->code, v->ecode, v->text);
}

enum tzm_status tzm_policy_connect(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx)
{
	struct policy_conn *pc = g_new0(struct policy_conn, 1);

	pc->pol = &c->rt->policy;
	c->policy = pc;
	return TZM_CONTINUE;
}

/* SPF for an inbound message at MAIL; an internal error fails closed. */
static void check_spf(struct tzm_conn *c, const struct tz_policy *pol, struct tz_verdict *v)
{
	struct tzm_msg *m = c->msg;
	struct tz_spf_result r;
	char err[TZ_ERRLEN] = "";
	struct tz_spf *spf;

	if (!pol->spf_check || c->client_addr == NULL)
		return;   /* no IP (local submission): nothing to check */
	spf = spf_pool(err, sizeof(err));
	if (spf == NULL || tz_spf_check(spf, pol->spf_timeout_ms, c->client_addr, c->helo,
					m->env.sender, &r, err, sizeof(err)) < 0) {
		tz_verdict_error(v, TZ_RULE_SPF, "%s", err[0] ? err : "SPF unavailable");
		return;
	}
	g_free(m->env.spf_result);
	m->env.spf_result = g_strdup(tz_spf_res_name(r.result));
	tz_spf_verdict(&pol->spf, &r, c->client_addr, c->helo, m->env.sender, v);
}

/* SenderListFile at MAIL of inbound mail: a blocked sender is refused.
 * The list object follows the path of the current config snapshot; the
 * file itself is re-read when it changes (tz_senderlist.h). A list that
 * cannot be re-read keeps the last good one (logged): an unreadable file
 * must not block every sender nor unblock one. */
/* The shared list's loader: the database's rows, then the local file's. */
static int load_senders(void *ctx, char **text, char *err, size_t errlen)
{
	struct senders_src *src = ctx;
	char *db = NULL, *file = NULL;
	GError *ge = NULL;

	if (tz_pgsenders_load(src->db, &db, err, errlen) < 0)
		return -1;
	if (src->path && !g_file_get_contents(src->path, &file, NULL, &ge) &&
	    !g_error_matches(ge, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
		tz_err(err, errlen, "%s", ge->message);
		g_error_free(ge);
		g_free(db);
		return -1;
	}
	g_clear_error(&ge);
	*text = g_strconcat(db, "\n", file ? file : "", NULL);
	g_free(db);
	g_free(file);
	return 0;
}

/* Under g_lock: the shared list for cfg, made again when its database or
 * file changed (a reload). */
static struct tz_senderlist_shared *senders_db(const struct tz_config *cfg)
{
	const char *path = cfg->sender_list_file && *cfg->sender_list_file ? cfg->sender_list_file : NULL;

	if (g_senders_db && (g_strcmp0(g_senders_src.url, cfg->database_url) != 0 ||
			     g_strcmp0(g_senders_src.path, path) != 0)) {
		tz_senderlist_shared_free(g_senders_db);
		tz_pgsenders_free(g_senders_src.db);
		g_free(g_senders_src.url);
		g_free(g_senders_src.path);
		g_senders_db = NULL;
	}
	if (g_senders_db == NULL) {
		g_senders_src = (struct senders_src){ tz_pgsenders_new(cfg->database_url),
						      g_strdup(cfg->database_url), g_strdup(path) };
		g_senders_db = tz_senderlist_shared_new(load_senders, &g_senders_src,
							TZ_SENDERLIST_SHARED_TTL_MS, NULL);
	}
	return g_senders_db;
}

static void check_senders(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
			  struct tz_verdict *v)
{
	const char *path = c->rt->cfg->sender_list_file;
	struct tz_senderlist_file *f;
	char err[TZ_ERRLEN];

	if (tz_config_store_shared(c->rt->cfg)) {
		pthread_mutex_lock(&g_lock);
		if (tz_senderlist_shared_check(senders_db(c->rt->cfg), c->msg->env.sender, v,
					       err, sizeof(err)) != 0)
			tz_log(LOG_ERR, tzm_qid(c, ops, ctx), "sender list (database): %s", err);
		pthread_mutex_unlock(&g_lock);
		return;
	}
	if (path == NULL || *path == '\0')
		return;
	pthread_mutex_lock(&g_lock);
	if (g_senders && strcmp(tz_senderlist_file_path(g_senders), path) != 0) {
		tz_senderlist_file_free(g_senders);
		g_senders = NULL;
	}
	if (g_senders == NULL)
		g_senders = tz_senderlist_file_new(path);
	f = g_senders;
	if (tz_senderlist_file_check(f, c->msg->env.sender, v, err, sizeof(err)) < 0)
		tz_log(LOG_ERR, tzm_qid(c, ops, ctx), "SenderListFile not re-read (%s): the last "
		       "list read stays in force", err);
	pthread_mutex_unlock(&g_lock);
}

enum tzm_status tzm_policy_mail(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
				char **argv)
{
	struct policy_conn *pc = c->policy;
	struct policy_msg *pm;

	if (pc == NULL || c->msg == NULL)
		return tzm_fail(c, ops, ctx, "policy: no connection state");
	pm = g_new0(struct policy_msg, 1);
	pm->v = tz_verdict_new();
	pm->hdrs = tz_msghdr_new();
	c->msg->policy = pm;
	tz_size_check_declared(&pc->pol->size, c->msg->env.direction,
			       tz_size_param(argv && argv[0] ? argv + 1 : NULL), pm->v);
	if (c->msg->env.direction == TZ_DIR_INBOUND && !tz_verdict_stops(pm->v))
		check_senders(c, ops, ctx, pm->v);
	if (c->msg->env.direction == TZ_DIR_INBOUND && !tz_verdict_stops(pm->v))
		check_spf(c, pc->pol, pm->v);
	return tz_verdict_stops(pm->v) ? stop(c, ops, ctx, pm->v) : TZM_CONTINUE;
}

enum tzm_status tzm_policy_rcpt(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
				const char *rcpt)
{
	struct policy_conn *pc = c->policy;
	struct policy_msg *pm = msg_state(c);
	struct tz_verdict *v;
	enum tzm_status st = TZM_CONTINUE;

	if (pc == NULL || pm == NULL)
		return tzm_fail(c, ops, ctx, "policy: no message state");
	if (pm->rcpt_v == NULL)
		pm->rcpt_v = tz_verdict_new();
	v = pm->rcpt_v;
	tz_verdict_reset(v);
	tz_relay_check(&pc->pol->relay, tzm_direction(c) == TZ_DIR_OUTBOUND, rcpt, v);
	if (tz_verdict_stops(v)) {
		/* Only this recipient is refused; the message goes on without
		 * it, so it must not count as one of its recipients. */
		tz_log(LOG_NOTICE, tzm_qid(c, ops, ctx), "policy: %s %s %s (%s)",
		       tz_action_name(v->action), v->code, v->ecode, v->reason);
		st = tzm_refuse(ops, ctx, c->msg->env.queue_id, v->code, v->ecode, v->text);
		pm->relay_refused++;
		pm->relay_action = v->action;
		g_ptr_array_remove_index(c->msg->env.rcpts, c->msg->env.rcpts->len - 1);
	}
	return st;
}

enum tzm_status tzm_policy_header(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
				  const char *name, const char *value)
{
	struct policy_msg *pm = msg_state(c);

	if (pm == NULL)
		return tzm_fail(c, ops, ctx, "policy: no message state");
	if (!pm->hdr_overflow && tz_msghdr_add(pm->hdrs, name, value) < 0)
		pm->hdr_overflow = true;   /* decided at EOH: fail closed */
	return TZM_CONTINUE;
}

/* The sender the rate limits count: the SMTP AUTH user, else the client. */
static const char *sender_key(const struct tzm_conn *c)
{
	if (c->auth_user && *c->auth_user)
		return c->auth_user;
	return c->client_addr ? c->client_addr : "local";
}

static void outbound_rules(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
			   const struct tz_policy *pol, struct policy_msg *pm)
{
	struct tzm_msg *m = c->msg;
	struct tz_breaker *b;
	char err[TZ_ERRLEN] = "";

	tz_autofwd_check(&pol->autofwd, m->env.sender, m->env.rcpts, pm->hdrs, pm->v);
	tz_visibility_check(&pol->visibility, pm->hdrs, pm->v);
	if (tz_verdict_stops(pm->v))
		return;   /* a refused message does not count toward the rates */
	b = breaker(c, err, sizeof(err));
	if (b == NULL)
		tz_verdict_error(pm->v, TZ_RULE_BREAKER, "%s", err);
	else
		tz_breaker_check(b, tzm_qid(c, ops, ctx), sender_key(c), m->env.rcpts->len, pm->v);
}

enum tzm_status tzm_policy_eoh(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx)
{
	struct policy_conn *pc = c->policy;
	struct policy_msg *pm = msg_state(c);
	struct tzm_msg *m = c->msg;

	if (pc == NULL || pm == NULL)
		return tzm_fail(c, ops, ctx, "policy: no message state");
	if (pm->hdr_overflow)
		tz_verdict_error(pm->v, TZ_RULE_HEADERS, "more than %d header fields", TZ_MSGHDR_MAX_FIELDS);
	if (!pm->size_fired)
		pm->size_fired = tz_size_check_stream(&pc->pol->size, m->env.direction, m->bytes_in, pm->v);
	if (tz_verdict_stops(pm->v))
		return stop(c, ops, ctx, pm->v);
	if (m->env.direction == TZ_DIR_INBOUND) {
		/* the tenant's rules from here on (tzm_msg_policy) */
		tz_spoof_check(&tzm_msg_policy(c)->spoof, false, m->env.sender, pm->hdrs, pm->v);
		tz_spoof_strip(&tzm_msg_policy(c)->spoof, pm->hdrs, pm->v);
		/* Mail released from the quarantine comes from an internal
		 * sender; whether its marker is genuine can only be decided
		 * with the body (the MAC covers it). Hold the verdict until
		 * end of message, where a marker that fails to verify gets it. */
		if (m->release_marker != NULL && c->rt->has_release_key) {
			pm->await_release = true;
			return TZM_CONTINUE;
		}
	} else {
		outbound_rules(c, ops, ctx, tzm_msg_policy(c), pm);
	}
	return tz_verdict_stops(pm->v) ? stop(c, ops, ctx, pm->v) : TZM_CONTINUE;
}

enum tzm_status tzm_policy_body(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx)
{
	struct policy_conn *pc = c->policy;
	struct policy_msg *pm = msg_state(c);

	if (pc == NULL || pm == NULL)
		return tzm_fail(c, ops, ctx, "policy: no message state");
	if (!pm->size_fired)
		pm->size_fired = tz_size_check_stream(&pc->pol->size, c->msg->env.direction,
						      c->msg->bytes_in, pm->v);
	return tz_verdict_stops(pm->v) && !pm->await_release ? stop(c, ops, ctx, pm->v) : TZM_CONTINUE;
}

enum tzm_status tzm_policy_eom(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx)
{
	struct policy_msg *pm = msg_state(c);
	const char *qid = tzm_qid(c, ops, ctx);

	if (pm == NULL)
		return tzm_fail(c, ops, ctx, "policy: no message state");
	if (tz_verdict_stops(pm->v))
		return stop(c, ops, ctx, pm->v);
	if (pm->v->action == TZ_ACTION_HOLD) {
		char *why = g_strdup_printf("textize policy: %s", pm->v->reason ? pm->v->reason : "");
		int rc = ops->quarantine(ctx, why);
		g_free(why);
		if (rc < 0)
			return tzm_fail(c, ops, ctx, "policy: hold (quarantine) refused by the MTA");
	}
	if (pm->v->action != TZ_ACTION_ACCEPT)
		tz_log(LOG_NOTICE, qid, "policy: %s (%s)", tz_action_name(pm->v->action),
		       pm->v->reason ? pm->v->reason : "");
	return TZM_CONTINUE;
}

const GPtrArray *tzm_policy_edits(const struct tzm_msg *m)
{
	const struct policy_msg *pm = m ? m->policy : NULL;

	return pm ? pm->v->edits : NULL;
}

const char *tzm_policy_summary(const struct tzm_msg *m)
{
	struct policy_msg *pm = m ? m->policy : NULL;
	const char *hits;

	if (pm == NULL)
		return "";
	hits = tz_verdict_summary(pm->v);
	if (!*hits && !pm->relay_refused)
		return "";
	if (pm->summary == NULL)
		pm->summary = g_string_sized_new(80);
	g_string_assign(pm->summary, " policy=");
	g_string_append(pm->summary, hits);
	if (pm->relay_refused)
		g_string_append_printf(pm->summary, "%s%s=%s*%u", *hits ? "," : "",
				       tz_rule_name(TZ_RULE_RELAY), tz_action_name(pm->relay_action),
				       pm->relay_refused);
	return pm->summary->str;
}

void tzm_policy_stats(const struct tzm_msg *m, struct tz_stats_msg *out)
{
	struct policy_msg *pm = m ? m->policy : NULL;

	out->verdict = TZ_ACTION_ACCEPT;
	out->hits = NULL;
	out->nhits = 0;
	out->relay_refused = 0;
	if (pm == NULL)
		return;
	out->verdict = pm->v->action;
	out->hits = (const struct tz_hit *)(void *)pm->v->hits->data;
	out->nhits = pm->v->hits->len;
	out->relay_refused = pm->relay_refused;
	out->relay_action = pm->relay_refused ? pm->relay_action : TZ_ACTION_REJECT;
}

void tzm_policy_msg_free(struct tzm_msg *m)
{
	struct policy_msg *pm = m->policy;

	if (pm) {
		tz_verdict_free(pm->v);
		tz_verdict_free(pm->rcpt_v);
		tz_msghdr_free(pm->hdrs);
		if (pm->summary)
			g_string_free(pm->summary, TRUE);
		g_free(pm);
	}
	m->policy = NULL;
}

void tzm_policy_conn_free(struct tzm_conn *c)
{
	g_free(c->policy);
	c->policy = NULL;
}
