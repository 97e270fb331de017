/* tz_spf.c — SPF evaluation with a pool of libspf2 servers, a deadline
 * layer over libspf2's DNS stack, and the SPF result policy. */
#include "tz_spf.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <glib.h>
#include <spf2/spf_dns_cache.h>
#include <spf2/spf_dns_resolv.h>
#include <spf2/spf_dns_rr.h>

#include "tz_log.h"
#include "tz_util.h"

struct tz_spf {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	unsigned n;
	SPF_server_t **servers;
	SPF_dns_server_t **dns;   /* SPF_server_new_dns does not take ownership */
	bool *busy;
};

/* Deadline of the check running on this thread (monotonic µs, 0 = none). */
static __thread int64_t spf_deadline;

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void spf_log_warning(const char *file, int line, const char *msg)
{
	tz_log(LOG_DEBUG, NULL, "libspf2: %s", msg);
}

static void spf_log_quiet(const char *file, int line, const char *msg)
{
}

void tz_spf_global_init(unsigned query_timeout_s)
{
	char opts[256];
	const char *old = getenv("RES_OPTIONS");

	SPF_warning_handler = spf_log_warning;
	SPF_info_handler = spf_log_quiet;
	SPF_debug_handler = spf_log_quiet;
	if (query_timeout_s < 1)
		query_timeout_s = 1;
	if (query_timeout_s > 30)
		query_timeout_s = 30;
	/* Later options win in res_init, so ours go last. */
	snprintf(opts, sizeof(opts), "%s%stimeout:%u attempts:2", old ? old : "",
		 old ? " " : "", query_timeout_s);
	setenv("RES_OPTIONS", opts, 1);
}

/* ---------------------------------------------------------------- deadline layer */

static SPF_dns_rr_t *deadline_lookup(SPF_dns_server_t *d, const char *domain,
				     ns_type rr_type, int should_cache)
{
	SPF_dns_rr_t *rr;

	if (spf_deadline && now_us() > spf_deadline)
		return SPF_dns_rr_new_init(d, domain, rr_type, 0, TRY_AGAIN);
	rr = SPF_dns_lookup(d->layer_below, domain, rr_type, should_cache);
	/* glibc reports REFUSED/FORMERR/NOTIMP answers as NO_RECOVERY, which
	 * libspf2 takes for "no record" (result none). RFC 7208 4.4: a DNS
	 * error other than NXDOMAIN is a temperror, so say TRY_AGAIN. */
	if (rr && rr->herrno == NO_RECOVERY)
		rr->herrno = TRY_AGAIN;
	return rr;
}

static void deadline_destroy(SPF_dns_server_t *d)
{
	free(d);   /* SPF_dns_free frees the layers below */
}

static SPF_dns_server_t *deadline_new(SPF_dns_server_t *below)
{
	SPF_dns_server_t *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->destroy = deadline_destroy;
	d->lookup = deadline_lookup;
	d->layer_below = below;
	d->name = "textize-deadline";
	return d;
}

static SPF_dns_server_t *real_dns(void)
{
	SPF_dns_server_t *res = SPF_dns_resolv_new(NULL, "resolv", 0), *cache;

	if (res == NULL)
		return NULL;
	cache = SPF_dns_cache_new(res, "cache", 0, 8);
	if (cache == NULL)
		SPF_dns_free(res);
	return cache;
}

/* ---------------------------------------------------------------- pool */

struct tz_spf *tz_spf_new(unsigned pool_size, tz_spf_dns_fn make_dns, void *ctx,
			  char *err, size_t errlen)
{
	struct tz_spf *s = g_new0(struct tz_spf, 1);
	pthread_condattr_t ca;

	s->n = pool_size ? pool_size : 1;
	s->servers = g_new0(SPF_server_t *, s->n);
	s->dns = g_new0(SPF_dns_server_t *, s->n);
	s->busy = g_new0(bool, s->n);
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->freed, &ca);
	pthread_condattr_destroy(&ca);
	for (unsigned i = 0; i < s->n; i++) {
		SPF_dns_server_t *below = make_dns ? make_dns(ctx) : real_dns();
		SPF_dns_server_t *top = below ? deadline_new(below) : NULL;

		if (top == NULL) {
			if (below)
				SPF_dns_free(below);
			tz_err(err, errlen, "spf: cannot create the DNS layer");
			goto fail;
		}
		s->dns[i] = top;
		s->servers[i] = SPF_server_new_dns(top, 0);
		if (s->servers[i] == NULL) {
			tz_err(err, errlen, "spf: cannot create an SPF server");
			goto fail;
		}
	}
	return s;
fail:
	tz_spf_free(s);
	return NULL;
}

void tz_spf_free(struct tz_spf *s)
{
	if (s == NULL)
		return;
	for (unsigned i = 0; i < s->n; i++) {
		if (s->servers[i])
			SPF_server_free(s->servers[i]);
		if (s->dns[i])
			SPF_dns_free(s->dns[i]);
	}
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->freed);
	g_free(s->servers);
	g_free(s->dns);
	g_free(s->busy);
	g_free(s);
}

/* A free server, waiting until the deadline at most; -1 when none. */
static int acquire(struct tz_spf *s, int64_t deadline)
{
	struct timespec ts = { .tv_sec = deadline / 1000000, .tv_nsec = (deadline % 1000000) * 1000 };
	int idx = -1;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		for (unsigned i = 0; i < s->n && idx < 0; i++)
			if (!s->busy[i])
				idx = (int)i;
		if (idx >= 0) {
			s->busy[idx] = true;
			break;
		}
		if (deadline == 0)
			pthread_cond_wait(&s->freed, &s->lock);
		else if (pthread_cond_timedwait(&s->freed, &s->lock, &ts) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&s->lock);
	return idx;
}

static void release(struct tz_spf *s, int idx)
{
	pthread_mutex_lock(&s->lock);
	s->busy[idx] = false;
	pthread_cond_signal(&s->freed);
	pthread_mutex_unlock(&s->lock);
}

/* ---------------------------------------------------------------- check */

static enum tz_spf_res map_result(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS: return TZ_SPF_PASS;
	case SPF_RESULT_FAIL: return TZ_SPF_FAIL;
	case SPF_RESULT_SOFTFAIL: return TZ_SPF_SOFTFAIL;
	case SPF_RESULT_NEUTRAL: return TZ_SPF_NEUTRAL;
	case SPF_RESULT_NONE: return TZ_SPF_NONE;
	case SPF_RESULT_TEMPERROR: return TZ_SPF_TEMPERROR;
	case SPF_RESULT_PERMERROR: return TZ_SPF_PERMERROR;
	default: return TZ_SPF_TEMPERROR;   /* never treat an unknown result as a pass */
	}
}

const char *tz_spf_res_name(enum tz_spf_res res)
{
	static const char *const names[] = { "none", "neutral", "pass", "fail", "softfail",
					     "temperror", "permerror" };
	return (unsigned)res < G_N_ELEMENTS(names) ? names[res] : "temperror";
}

/* Copy the domain-name characters of s (others become '?'). */
static void safe_domain(char *out, size_t outlen, const char *s)
{
	size_t i = 0;

	for (; s && *s && i + 1 < outlen; s++, i++)
		out[i] = (g_ascii_isalnum(*s) || *s == '.' || *s == '-' || *s == '_') ? *s : '?';
	out[i] = '\0';
}

/* Copy the address characters of an IP literal (others become '?'). */
static void safe_ip(char *out, size_t outlen, const char *s)
{
	size_t i = 0;

	for (; s && *s && i + 1 < outlen; s++, i++)
		out[i] = (g_ascii_isxdigit(*s) || *s == '.' || *s == ':') ? *s : '?';
	out[i] = '\0';
}

static int set_client(SPF_request_t *req, const char *ip)
{
	if (ip == NULL || *ip == '\0')
		return -1;
	if (g_ascii_strncasecmp(ip, "IPv6:", 5) == 0)
		ip += 5;
	/* An IPv4-mapped IPv6 client is an IPv4 client for SPF (RFC 7208 5). */
	if (g_ascii_strncasecmp(ip, "::ffff:", 7) == 0 && strchr(ip + 7, '.'))
		ip += 7;
	if (strchr(ip, ':'))
		return SPF_request_set_ipv6_str(req, ip) == SPF_E_SUCCESS ? 0 : -1;
	return SPF_request_set_ipv4_str(req, ip) == SPF_E_SUCCESS ? 0 : -1;
}

static int run_query(SPF_server_t *server, const char *client_ip, const char *helo,
		     const char *sender, struct tz_spf_result *r, char *err, size_t errlen)
{
	SPF_request_t *req = SPF_request_new(server);
	SPF_response_t *resp = NULL;
	SPF_errcode_t code;
	int ret = -1;

	if (req == NULL) {
		tz_err(err, errlen, "spf: out of memory");
		goto out;
	}
	if (set_client(req, client_ip) < 0) {
		tz_err(err, errlen, "spf: bad client address");
		goto out;
	}
	if (helo && *helo)
		SPF_request_set_helo_dom(req, helo);
	r->helo_identity = sender == NULL || *sender == '\0';
	if (r->helo_identity) {
		safe_domain(r->domain, sizeof(r->domain), helo);
		if (helo == NULL || *helo == '\0') {
			r->result = TZ_SPF_NONE;   /* no identity to check */
			ret = 0;
			goto out;
		}
	} else {
		const char *at = strrchr(sender, '@');
		safe_domain(r->domain, sizeof(r->domain), at ? at + 1 : sender);
	}
	/* For "" libspf2 uses postmaster@HELO, which is RFC 7208 2.4. */
	if (SPF_request_set_env_from(req, r->helo_identity ? "" : sender) != 0) {
		r->result = TZ_SPF_NONE;   /* no usable domain in the sender */
		ret = 0;
		goto out;
	}
	code = SPF_request_query_mailfrom(req, &resp);
	if (resp == NULL || code == SPF_E_NO_MEMORY || code == SPF_E_INTERNAL_ERROR) {
		tz_err(err, errlen, "spf: libspf2 error %d", (int)code);
		goto out;
	}
	r->result = map_result(SPF_response_result(resp));
	/* libspf2 leaves the result unset when the record does not compile
	 * (unknown mechanism, bad literal): RFC 7208 4.6 makes that a
	 * permerror; a DNS failure there is a temperror. */
	if (SPF_response_result(resp) == SPF_RESULT_INVALID)
		r->result = code == SPF_E_DNS_ERROR ? TZ_SPF_TEMPERROR : TZ_SPF_PERMERROR;
	ret = 0;
out:
	if (resp)
		SPF_response_free(resp);
	if (req)
		SPF_request_free(req);
	return ret;
}

int tz_spf_check(struct tz_spf *s, unsigned timeout_ms, const char *client_ip,
		 const char *helo, const char *sender, struct tz_spf_result *r,
		 char *err, size_t errlen)
{
	int64_t deadline = timeout_ms ? now_us() + (int64_t)timeout_ms * 1000 : 0;
	int idx, ret;

	memset(r, 0, sizeof(*r));
	idx = acquire(s, deadline);
	if (idx < 0) {
		/* Every server busy until the deadline: DNS is slow, try later. */
		r->result = TZ_SPF_TEMPERROR;
		return 0;
	}
	spf_deadline = deadline;
	ret = run_query(s->servers[idx], client_ip, helo, sender, r, err, errlen);
	spf_deadline = 0;
	release(s, idx);
	return ret;
}

/* ---------------------------------------------------------------- policy */

void tz_spf_policy_init(struct tz_spf_policy *p, const char *authserv_id)
{
	memset(p, 0, sizeof(*p));
	p->authserv_id = authserv_id;
	p->fail.action = TZ_ACTION_REJECT;
	p->softfail.action = TZ_ACTION_TAG;
	p->none.action = TZ_ACTION_TAG;
	p->temperror.action = TZ_ACTION_TEMPFAIL;
	p->permerror.action = TZ_ACTION_TAG;
}

/* A quoted-string of s: printable ASCII, '"' and '\' escaped, at most 255
 * source bytes. g_free(). */
static char *quoted(const char *s)
{
	GString *q = g_string_new("\"");
	size_t n = 0;

	for (; s && *s && n < 255; s++, n++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			g_string_append_c(q, '\\');
		g_string_append_c(q, (c >= 0x20 && c < 0x7f) ? (char)c : '?');
	}
	g_string_append_c(q, '"');
	return g_string_free(q, FALSE);
}

/* An RFC 8601 pvalue: the address as is when it is plain atext, else a
 * quoted-string. g_free(). */
static char *pvalue(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 255)
		return quoted(s);
	for (const char *p = s; *p; p++)
		if (!g_ascii_isalnum(*p) && !strchr(".@-_+=!#$&'*/?^`{|}~", *p))
			return quoted(s);
	return g_strdup(s);
}

/* The Received-SPF comment (RFC 7208 9.1), in libspf2's usual words. d and
 * ip are already made safe. g_free(). */
static char *spf_comment(enum tz_spf_res res, const char *d, const char *ip)
{
	switch (res) {
	case TZ_SPF_PASS:
		return g_strdup_printf("domain of %s designates %s as permitted sender", d, ip);
	case TZ_SPF_FAIL:
		return g_strdup_printf("domain of %s does not designate %s as permitted sender", d, ip);
	case TZ_SPF_SOFTFAIL:
		return g_strdup_printf("transitioning domain of %s does not designate %s as permitted sender", d, ip);
	case TZ_SPF_NEUTRAL:
		return g_strdup_printf("%s is neither permitted nor denied by domain of %s", ip, d);
	case TZ_SPF_NONE:
		return g_strdup_printf("domain of %s does not provide an SPF record", d);
	case TZ_SPF_TEMPERROR:
		return g_strdup_printf("temporary error looking up the SPF record of %s", d);
	default:
		return g_strdup_printf("domain of %s has an invalid SPF record", d);
	}
}

static void add_headers(const struct tz_spf_policy *p, const struct tz_spf_result *r,
			const char *client_ip, const char *helo, const char *sender,
			struct tz_verdict *v)
{
	const char *res = tz_spf_res_name(r->result);
	const char *ident = r->helo_identity ? "helo" : "mailfrom";
	char ip[64];
	char *qfrom = quoted(sender), *qhelo = quoted(helo);
	char *pv = pvalue(r->helo_identity ? helo : sender);
	char *val, *comment;

	safe_ip(ip, sizeof(ip), client_ip);
	comment = spf_comment(r->result, r->domain[0] ? r->domain : "(none)", ip);
	val = g_strdup_printf("%s (%s: %s) client-ip=%s; envelope-from=%s; helo=%s; "
			      "receiver=%s; identity=%s;", res, p->authserv_id, comment, ip,
			      qfrom, qhelo, p->authserv_id, ident);
	g_free(comment);
	/* Inserted in reverse: Authentication-Results ends up on top. */
	tz_verdict_edit(v, TZ_EDIT_INSERT, "Received-SPF", 0, val);
	g_free(val);
	val = g_strdup_printf("%s; spf=%s smtp.%s=%s", p->authserv_id, res,
			      r->helo_identity ? "helo" : "mailfrom", pv);
	tz_verdict_edit(v, TZ_EDIT_INSERT, "Authentication-Results", 0, val);
	g_free(val);
	g_free(qfrom);
	g_free(qhelo);
	g_free(pv);
}

void tz_spf_verdict(const struct tz_spf_policy *p, const struct tz_spf_result *r,
		    const char *client_ip, const char *helo, const char *sender,
		    struct tz_verdict *v)
{
	const struct tz_rule_action *a = NULL;
	const char *code = "550", *ecode = "5.7.23", *text = TZ_SPF_FAIL_TEXT;

	add_headers(p, r, client_ip, helo, sender, v);
	switch (r->result) {
	case TZ_SPF_PASS:
		return;
	case TZ_SPF_FAIL:
		a = &p->fail;
		break;
	case TZ_SPF_SOFTFAIL:
		a = &p->softfail;
		break;
	case TZ_SPF_NONE:
	case TZ_SPF_NEUTRAL:
		a = &p->none;
		break;
	case TZ_SPF_TEMPERROR:
		a = &p->temperror;
		code = "451", ecode = "4.7.24", text = TZ_SPF_TEMPERROR_TEXT;
		break;
	default:
		a = &p->permerror;
		code = "550", ecode = "5.7.24", text = TZ_SPF_PERMERROR_TEXT;
		break;
	}
	tz_verdict_hit(v, TZ_RULE_SPF, a->action, code, ecode, a->text ? a->text : text,
		       "%s for %s %s from %s", tz_spf_res_name(r->result),
		       r->helo_identity ? "helo" : "mailfrom", r->domain, client_ip ? client_ip : "?");
}
