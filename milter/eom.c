/* eom.c — end of message for inbound mail: store the original, run the
 * engine with the store as the sink for stripped parts, commit the entry
 * durably, then edit the header and replace the body. Any failure before
 * the last step returns the OnError reply; nothing is ever accepted
 * unconverted (a failed edit also fails the message: the MTA drops the
 * edits made so far when the milter tempfails). */
#include "session.h"
#include "gate.h"
#include "policy_glue.h"

#include <string.h>
#include <syslog.h>
#include <time.h>
#include "tz_engine.h"
#include "tz_hdrplan.h"
#include "tz_log.h"
#include "tz_release.h"
#include "tz_store.h"
#include "tz_util.h"
#include "tz_weblink.h"

/* libmilter sends each smfi_replacebody call as SMFIR_REPLBODY packets of
 * at most MILTER_CHUNK_SIZE (65535, <libmilter/mfdef.h>) bytes. A call of
 * a multiple of that fills every packet but the body's last (the old
 * 65536 sent a 1-byte packet after each full one); four per call bound the
 * buffer at 256 KB. */
#define TZM_MILTER_CHUNK 65535
#define TZM_BODY_CHUNK (4 * TZM_MILTER_CHUNK)

/* A header value as libmilter wants it: folds as LF + blank, and (with
 * SMFIP_HDR_LEADSPC) the blank after the colon included. g_free(). */
static char *milter_value(const struct tzm_conn *c, const char *value)
{
	GString *v = g_string_new(c->leadspc && value[0] != ' ' && value[0] != '\t' ? " " : "");

	for (const char *p = value; *p; p++)
		if (!(p[0] == '\r' && p[1] == '\n'))
			g_string_append_c(v, *p);
	return g_string_free(v, FALSE);
}

int tzm_edit_header(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
		    const GPtrArray *engine_edits, char *err, size_t errlen)
{
	GArray *plan = tz_hdrplan_build(tzm_policy_edits(c->msg), engine_edits);
	int rc = 0;

	for (guint i = 0; rc >= 0 && i < plan->len; i++) {
		const struct tz_hdrstep *s = &g_array_index(plan, struct tz_hdrstep, i);
		char *v = s->value ? milter_value(c, s->value) : NULL;

		switch (s->op) {
		case TZ_STEP_DELETE: rc = ops->chgheader(ctx, s->name, (int)s->index, NULL); break;
		case TZ_STEP_CHANGE: rc = ops->chgheader(ctx, s->name, (int)s->index, v ? v : ""); break;
		case TZ_STEP_INSERT_TOP: rc = ops->insheader(ctx, 0, s->name, v ? v : ""); break;
		case TZ_STEP_APPEND: rc = ops->addheader(ctx, s->name, v ? v : ""); break;
		}
		if (rc < 0)
			tz_err(err, errlen, "header edit of %s refused by the MTA", s->name);
		g_free(v);
	}
	g_array_unref(plan);
	return rc < 0 ? -1 : 0;
}

/* Size of the body with every bare LF made CRLF. */
static size_t crlf_size(const GByteArray *body)
{
	size_t n = body->len;

	for (guint i = 0; i < body->len; i++)
		if (body->data[i] == '\n' && (i == 0 || body->data[i - 1] != '\r'))
			n++;
	return n;
}

/* Send the new body with CRLF line ends (the engine writes LF): in one call
 * when it fits TZM_BODY_CHUNK (a text body nearly always does), else in
 * calls of exactly TZM_BODY_CHUNK; the buffer is no larger than needed. */
static int replace_body(const struct tzm_ops *ops, void *ctx, const GByteArray *body,
			uint64_t *sent, char *err, size_t errlen)
{
	size_t total = body ? crlf_size(body) : 0;
	size_t cap = MIN(total, (size_t)TZM_BODY_CHUNK);
	unsigned char *buf = g_malloc(cap + 2);
	size_t n = 0;
	int rc = 0;

	*sent = 0;
	for (guint i = 0; body && i < body->len && rc == 0; i++) {
		if (body->data[i] == '\n' && (i == 0 || body->data[i - 1] != '\r'))
			buf[n++] = '\r';
		buf[n++] = body->data[i];
		if (n >= TZM_BODY_CHUNK) {
			rc = ops->replacebody(ctx, buf, TZM_BODY_CHUNK);
			*sent += TZM_BODY_CHUNK;
			n -= TZM_BODY_CHUNK;   /* the LF after a CR that filled it */
			memmove(buf, buf + TZM_BODY_CHUNK, n);
		}
	}
	/* An empty new body still has to replace the old one. */
	if (rc == 0 && (n > 0 || *sent == 0)) {
		rc = ops->replacebody(ctx, buf, (int)n);
		*sent += n;
	}
	g_free(buf);
	return rc < 0 ? tz_err(err, errlen, "replacing the body failed") : 0;
}

/* The signed staff link for the notice (tz_weblink.h): only for inbound
 * mail with exactly one recipient, since one notice goes to every
 * recipient and a link names one. NULL when none. */
static char *staff_link(const struct tzm_conn *c, const char *id)
{
	const struct tzm_runtime *rt = c->rt;
	const struct tz_envelope *env = &c->msg->env;
	struct tz_weblink l;

	if (!rt->has_link_key || env->direction != TZ_DIR_INBOUND || env->rcpts->len != 1)
		return NULL;
	l.id = id;
	l.part = 0;
	l.rcpt = g_ptr_array_index(env->rcpts, 0);
	l.expiry = (int64_t)time(NULL) + rt->cfg->web_link_lifetime;
	return tz_weblink_url(rt->link_key, rt->cfg->web_base_url, &l);
}

/* Tell the MTA we are alive (SMFIR_PROGRESS restarts its end-of-message
 * timeout, 300 s in Postfix and Sendmail) once a message has taken a
 * second since its end: ordinary mail finishes well before, and each
 * packet is a write and a wake-up of the MTA's process (2 of the 11
 * packets textize sent per 5 KB message; issue 16, seventh pass). */
#define TZM_PROGRESS_AFTER_US G_USEC_PER_SEC

static void progress_if_slow(const struct tzm_msg *m, const struct tzm_ops *ops, void *ctx, gint64 now)
{
	if (now - m->t[TZM_T_EOM] >= TZM_PROGRESS_AFTER_US)
		ops->progress(ctx);
}

/* Store the original and convert; on success *res and the committed entry
 * id. All the work that touches the disk happens here. */
static int convert_and_store(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx,
			     struct tz_result **res, char *err, size_t errlen)
{
	struct tzm_msg *m = c->msg;
	struct tz_engine_options opt;
	struct tz_store_entry *e = NULL;
	GMimeStream *orig = NULL, *in = NULL;
	char why[TZ_ERRLEN], *link = NULL;
	int rc = -1;

	*res = NULL;
	/* built with the runtime (the tenant's, if the message has one);
	 * display_ref is this entry's */
	opt = *tzm_msg_engine_options(c);
	e = tz_store_entry_begin(c->rt->store, why, sizeof(why));
	if (e == NULL) {
		tz_err(err, errlen, "quarantine: %s", why);
		goto out;
	}
	g_strlcpy(m->ref_id, tz_store_entry_id(e), sizeof(m->ref_id));
	opt.display_ref = tz_store_entry_ref(e);   /* staff quote the short 参照番号 */
	opt.staff_link = link = staff_link(c, m->ref_id);
	orig = tz_spool_stream(m->spool, err, errlen);
	in = tz_spool_stream(m->spool, err, errlen);
	if (orig == NULL || in == NULL)
		goto out;
	if (tz_store_entry_put_original(e, orig, why, sizeof(why)) < 0) {
		tz_err(err, errlen, "quarantine original: %s", why);
		goto out;
	}
	m->t[TZM_T_ORIG] = g_get_monotonic_time();
	progress_if_slow(m, ops, ctx, m->t[TZM_T_ORIG]);
	if (tz_engine_convert(&opt, in, m->ref_id, tz_store_entry_sink(e), res, why, sizeof(why)) < 0) {
		tz_err(err, errlen, "conversion: %s", why);
		goto out;
	}
	m->t[TZM_T_ENGINE] = g_get_monotonic_time();
	progress_if_slow(m, ops, ctx, m->t[TZM_T_ENGINE]);
	rc = tz_store_entry_commit(e, &m->env, *res, why, sizeof(why));
	m->t[TZM_T_COMMIT] = g_get_monotonic_time();
	e = NULL;   /* commit frees the entry whatever the outcome */
	if (rc < 0)
		tz_err(err, errlen, "quarantine commit: %s", why);
out:
	if (rc < 0) {
		tz_result_free(*res);
		*res = NULL;
		m->ref_id[0] = '\0';   /* nothing was committed under it */
	}
	tz_store_entry_abort(e);
	g_free(link);
	if (orig)
		g_object_unref(orig);
	if (in)
		g_object_unref(in);
	return rc;
}

/* CPU time of the calling thread, microseconds (the timing: debug line). */
static gint64 thread_cpu_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
		return 0;
	return (gint64)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

bool tzm_is_release(struct tzm_conn *c)
{
	struct tzm_msg *m = c->msg;
	GMimeStream *s;
	char why[TZ_ERRLEN] = "";
	int ok = 0;

	if (m->release_marker == NULL)
		return false;
	if (!c->rt->has_release_key)
		tz_err(why, sizeof(why), "no ReleaseKeyFile configured");
	else if (m->release_markers != 1)
		tz_err(why, sizeof(why), "%u markers", m->release_markers);
	else if ((s = tz_spool_stream(m->spool, why, sizeof(why))) != NULL) {
		ok = tz_release_verify(c->rt->release_key, m->release_marker, s, why, sizeof(why));
		g_object_unref(s);
	}
	if (ok == 1) {
		tz_log(LOG_INFO, m->env.queue_id, "release marker verified: %s", m->release_marker);
		return true;
	}
	/* Forged, altered or unverifiable: text-ize it like any inbound mail. */
	tz_log(LOG_WARNING, m->env.queue_id, "release marker not accepted (%s); text-izing", why);
	return false;
}

struct progress_arg {
	const struct tzm_ops *ops;
	void *ctx;
};

static void gate_progress(void *arg)
{
	const struct progress_arg *p = arg;

	p->ops->progress(p->ctx);
}

/* Wait for ConversionBudget (gate.h); false after tzm_fail when the wait
 * ran out: the message is tempfailed, never passed unconverted. */
static bool gate_enter(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx, size_t w,
		       enum tzm_status *st)
{
	const struct tz_config *cfg = c->rt->cfg;
	struct progress_arg p = { ops, ctx };
	char err[TZ_ERRLEN];

	if (tzm_gate_enter(cfg->conversion_budget, w, cfg->conversion_wait, gate_progress, &p,
			   &c->msg->gate_wait_ms) == 0)
		return true;
	tz_err(err, sizeof(err), "ConversionBudget %zu busy for ConversionWait %u ms",
	       cfg->conversion_budget, cfg->conversion_wait);
	*st = tzm_fail(c, ops, ctx, err);
	return false;
}

enum tzm_status tzm_textize(struct tzm_conn *c, const struct tzm_ops *ops, void *ctx)
{
	struct tzm_msg *m = c->msg;
	struct tz_result *res = NULL;
	char err[TZ_ERRLEN];
	enum tzm_status st;
	size_t w = tzm_gate_weight(c->rt->cfg->conversion_budget, m->bytes_in);
	gint64 cpu0;

	if (!gate_enter(c, ops, ctx, w, &st))
		return st;
	cpu0 = thread_cpu_us();
	if (convert_and_store(c, ops, ctx, &res, err, sizeof(err)) < 0 ||
	    tzm_edit_header(c, ops, ctx, res->header_edits, err, sizeof(err)) < 0 ||
	    replace_body(ops, ctx, res->body, &m->bytes_out, err, sizeof(err)) < 0) {
		st = tzm_fail(c, ops, ctx, err);
		goto out;
	}
	m->stripped = res->parts ? res->parts->len : 0;
	m->headers_fixed = res->headers_fixed;
	m->outcome = TZ_OUTCOME_TEXTIZED;
	st = TZM_CONTINUE;
	m->t[TZM_T_EDITS] = g_get_monotonic_time();
out:
	m->cpu_eom = thread_cpu_us() - cpu0;
	tz_result_free(res);
	tzm_gate_leave(w);
	return st;
}
