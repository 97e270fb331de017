/* ctl_queue.c — `textizectl queue ...`: the security team's view of the
 * sanitization queue (list, show, export, release, approve, reject, purge,
 * scan, sanitize, reindex). The grammar is the table in textizectl.c; here
 * each command opens the queue, resolves the entry it names (参照番号
 * MMDD-CODE[#PART] or the long id[#PART], checked before it touches the
 * file system), acts through the library and says what it did. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_args.h"
#include "ctl_qenv.h"
#include "tz_cdr_queue.h"
#include "tz_index.h"
#include "tz_localtime.h"
#include "tz_meta.h"
#include "tz_part.h"
#include "tz_queue.h"
#include "tz_ref.h"
#include "tz_store.h"
#include "tz_store_link.h"
#include "tz_tenant.h"
#include "tz_util.h"

/* every part state, for --state and its error line */
#define STATES TZ_STATE_PENDING "," TZ_STATE_CLEAN "," TZ_STATE_INFECTED "," TZ_STATE_SANITIZED "," \
	TZ_STATE_UNSANITIZABLE "," TZ_STATE_FAILED "," TZ_STATE_RELEASED "," TZ_STATE_REJECTED
#define ID_FORMS "MMDD-CODE, MMDD-CODE#PART, or the long id[#PART]"

/* One queue command's surroundings: the open queue and, when the first
 * operand names an entry, its long id, its metadata as it was before the
 * command, and the part when it was given as ID#N (else 0). */
struct qrun {
	struct ctl_qenv e;
	char id[TZ_ID_LEN];
	struct tz_meta *m;
	unsigned part;
	char msgid[TZ_MSGID_LEN];
};

static int entry_open(const struct ctl_args *a, struct qrun *r)
{
	const char *s = ctl_arg(a, 0);
	char ref[TZ_REF_LEN], id[TZ_ID_LEN], err[TZ_ERRLEN];
	unsigned part;
	int kind, rc;

	if (tz_ref_parse(s, &kind, ref, id, &part) < 0)
		return ctl_fail(a, EX_DATAERR, "'%s' is not a 参照番号 or entry id (%s)", s, ID_FORMS);
	rc = tz_store_resolve(r->e.st, s, r->id, &r->part, err, sizeof(err));
	if (rc < 0)   /* -2: the shared database did not answer */
		return ctl_fail(a, rc == -2 ? EX_UNAVAILABLE : EX_NOINPUT, "%s", err);
	r->m = tz_store_meta_read(r->e.st, r->id, err, sizeof(err));
	if (r->m == NULL)
		return ctl_fail(a, EX_NOINPUT, "no entry %s in the quarantine (%s)", s, err);
	/* another tenant's entry is not there for this view: the same
	 * answer as an id that does not exist */
	if (!ctl_qenv_sees(&r->e, r->m->tenant))
		return ctl_fail(a, EX_NOINPUT, "no entry %s in the quarantine (%s)", s,
				"not found");
	if (r->part && tz_meta_part_get(r->m, r->part) == NULL)
		return ctl_fail(a, EX_DATAERR, "%s has no part %u (parts 1 to %u)", s, r->part,
				r->m->parts->len);
	return 0;
}

/* Open the queue with need, and the entry of operand 0 when there is one.
 * 0, or the exit code after the message; qclose in any case. */
static int qopen(const struct ctl_args *a, struct qrun *r, unsigned need)
{
	int rc;

	memset(r, 0, sizeof(*r));
	rc = ctl_qenv_open(&r->e, a->opt[CTL_O_CONF], need | CTL_NEED_STORE | CTL_NEED_AUDIT |
			   CTL_NEED_INDEX);
	if (rc || (rc = ctl_qenv_tenant(&r->e, a)) != 0)
		return rc;
	r->e.q.sent_message_id = r->msgid;
	return ctl_arg(a, 0) ? entry_open(a, r) : 0;
}

static int qclose(struct qrun *r, int rc)
{
	tz_meta_free(r->m);
	ctl_qenv_close(&r->e);
	return rc;
}

/* The entry as people name it: "1124-7QK2 (20261124-085556-…)". */
static const char *entry_name(const struct qrun *r, char buf[128])
{
	snprintf(buf, 128, "%s (%s)", r->m && r->m->ref ? r->m->ref : "-", r->id);
	return buf;
}

/* The parts the operands name after the id (or ID#N) into out; "original"
 * is part 0 where allowed. 0 or the exit code. */
static int parts_of(const struct ctl_args *a, const struct qrun *r, int allow_original, GArray *out)
{
	if (r->part) {
		if (a->nargs > 1)
			return ctl_fail(a, EX_USAGE, "the part is given twice ('%s' and '%s')",
					ctl_arg(a, 0), ctl_arg(a, 1));
		g_array_append_val(out, r->part);
		return 0;
	}
	for (unsigned i = 1; i < a->nargs; i++) {
		const char *s = ctl_arg(a, i);
		char *end;
		unsigned long v = strtoul(s, &end, 10);
		if (allow_original && strcmp(s, "original") == 0)
			v = 0;
		else if (*s < '1' || *s > '9' || *end || tz_meta_part_get(r->m, (unsigned)v) == NULL)
			return ctl_fail(a, EX_DATAERR, "%s has no part '%s' (parts 1 to %u%s)", r->id, s,
					r->m->parts->len, allow_original ? ", or original" : "");
		unsigned p = (unsigned)v;
		g_array_append_val(out, p);
	}
	return 0;
}


/* --since / --until: a local date or date-time to epoch seconds (--until D
 * means the end of that day). 0 or EX_USAGE. */
static int parse_when(const struct ctl_args *a, enum ctl_opt o, int64_t *out)
{
	const char *s = a->opt[o];

	if (tz_local_date_parse(s, o == CTL_O_UNTIL, out) < 0)
		return ctl_fail(a, EX_USAGE, "--%s: bad date '%s' (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)",
				o == CTL_O_UNTIL ? "until" : "since", s);
	return 0;
}

static int flag_bit(const struct ctl_args *a, unsigned *bit)
{
	const char *name = a->opt[CTL_O_FLAG];
	GString *all = g_string_new(NULL);
	int rc;

	*bit = 0;
	for (unsigned b = 0; name && b < TZ_RISK_COUNT; b++) {
		if (strcmp(name, tz_risk_name(1u << b)) == 0)
			*bit = 1u << b;
		g_string_append_printf(all, "%s%s", b ? "," : "", tz_risk_name(1u << b));
	}
	rc = name ? ctl_check_choice(a, "--flag", name, all->str) : 0;
	g_string_free(all, TRUE);
	return rc;
}

/* "part 2 (見積書.pdf)" for the success lines. */
static void print_part_line(const char *verb, const struct tz_meta_part *p, const char *entry,
			    const char *tail)
{
	printf("%s part %u (%s) of %s%s\n", verb, p->index,
	       p->filename && *p->filename ? p->filename : "no name", entry, tail);
}

/* After a release or approve that sent mail: the parts that went (those
 * asked for; without any, the library took every part that was clean or
 * sanitized, or already released with --again) and the handle of the mail. */
static int print_released(const struct ctl_args *a, struct qrun *r, const GArray *asked)
{
	char err[TZ_ERRLEN], name[128], *to;
	struct tz_meta *now = tz_store_meta_read(r->e.st, r->id, err, sizeof(err));

	if (now == NULL)
		return ctl_fail(a, EX_IOERR, "sent, but the entry cannot be read back: %s", err);
	to = g_strdup_printf(" to %s", a->opt[CTL_O_TO] ? a->opt[CTL_O_TO] : "the original recipients");
	for (guint i = 0; i < now->parts->len; i++) {
		const struct tz_meta_part *p = g_ptr_array_index(now->parts, i);
		const struct tz_meta_part *was = tz_meta_part_get(r->m, p->index);
		int went = 0;
		for (guint k = 0; k < asked->len; k++)
			went |= g_array_index(asked, unsigned, k) == p->index;
		if (asked->len == 0)
			went = strcmp(p->state, TZ_STATE_RELEASED) == 0 &&
			       (a->opt[CTL_O_AGAIN] || (was && strcmp(was->state, TZ_STATE_RELEASED) != 0));
		if (went)
			print_part_line("released", p, entry_name(r, name), to);
	}
	printf("mail accepted by ReleaseCommand (%s), Message-ID %s\n", r->e.cfg->release_command,
	       r->msgid[0] ? r->msgid : "-");
	g_free(to);
	tz_meta_free(now);
	return 0;
}

static int cmd_list(struct qrun *r, const struct ctl_args *a, struct tz_index_filter f)
{
	static const char *const cols[] = { "ref", "id", "stored", "from", "to", "subject", "part",
					    "filename", "type", "size", "risk", "state", "verdict", "sha256",
					    NULL };
	struct ctl_table *t;
	GPtrArray *rows;
	char err[TZ_ERRLEN];
	unsigned bad;

	f.tenant = r->e.tenant ? r->e.tenant->name : NULL;
	/* The files are the truth: bring the index up to date first. */
	if (tz_index_sync(r->e.ix, r->e.st, 0, &bad, err, sizeof(err)) < 0 ||
	    tz_index_query(r->e.ix, &f, &rows, err, sizeof(err)) < 0)
		return ctl_fail(a, EX_IOERR, "%s", err);
	if (bad)
		fprintf(stderr, "textizectl: %u entries could not be read (run queue reindex)\n", bad);
	t = ctl_table_new(cols);
	ctl_table_numeric(t, "part");
	ctl_table_numeric(t, "size");
	for (guint i = 0; i < rows->len; i++) {
		const struct tz_index_row *x = g_ptr_array_index(rows, i);
		char part[16], size[32], when[40], *risk = tz_risk_string(x->risk);
		const char *v[] = { x->ref, x->id, when, x->sender, x->rcpts, x->subject, part,
				    x->filename, x->detected_type, size, risk, x->state, x->verdict,
				    x->sha256 };
		snprintf(part, sizeof(part), "%u", x->part);
		snprintf(size, sizeof(size), "%" G_GUINT64_FORMAT, x->size);
		ctl_local_time(x->stored_time, when);
		ctl_table_add(t, v);
		g_free(risk);
	}
	ctl_table_print(t, (enum ctl_format)ctl_format_parse(a->opt[CTL_O_FORMAT]), stdout);
	ctl_table_free(t);
	g_ptr_array_unref(rows);
	return 0;
}

int ctl_queue_list(const struct ctl_args *a)
{
	struct tz_index_filter f = { 0 };
	struct qrun r;
	int rc;

	f.from = a->opt[CTL_O_FROM];
	f.rcpt = a->opt[CTL_O_RCPT];
	f.state = a->opt[CTL_O_STATE];
	if (parse_when(a, CTL_O_SINCE, &f.since) || parse_when(a, CTL_O_UNTIL, &f.until) ||
	    flag_bit(a, &f.flag) || ctl_check_choice(a, "--state", f.state, STATES))
		return EX_USAGE;
	rc = qopen(a, &r, CTL_NEED_INDEX_SET);
	return qclose(&r, rc ? rc : cmd_list(&r, a, f));
}

static int cmd_show(struct qrun *r, const struct ctl_args *a)
{
	static const char *const cols[] = { "part", "filename", "declared", "detected", "size", "sha256",
					    "risk", "state", "verdict", "note", NULL };
	const struct tz_meta *m = r->m;
	struct ctl_table *t;
	char *json, when[40];

	if (ctl_format_parse(a->opt[CTL_O_FORMAT]) == CTL_FMT_JSON) {
		json = tz_meta_to_json(m);
		fputs(json, stdout);
		g_free(json);
		return 0;
	}
	ctl_local_time(m->stored_time, when);
	printf("参照番号:   %s\n", m->ref ? m->ref : "-");
	printf("id:          %s\nstored:      %s\nqueue id:    %s\nclient:      %s [%s]\n"
	       "sender:      %s\nrecipients:  %u\ndirection:   %s\nspf:         %s\n"
	       "message-id:  %s\nsubject:     %s\noriginal:    %" G_GUINT64_FORMAT " bytes sha256 %s\n\n",
	       m->id, when, m->queue_id ? m->queue_id : "-",
	       m->client_name ? m->client_name : "-", m->client_addr ? m->client_addr : "-",
	       *m->sender ? m->sender : "<>", m->rcpts->len, m->direction, m->spf ? m->spf : "-",
	       m->message_id ? m->message_id : "-", m->subject ? m->subject : "-",
	       m->original_size, m->original_sha256);
	for (guint i = 0; i < m->rcpts->len; i++)
		printf("  to: %s\n", (char *)g_ptr_array_index(m->rcpts, i));
	t = ctl_table_new(cols);
	for (guint i = 0; i < m->parts->len; i++) {
		const struct tz_meta_part *p = g_ptr_array_index(m->parts, i);
		char idx[16], size[32], *risk = tz_risk_string(p->risk);
		const char *v[] = { idx, p->filename, p->declared_type, p->detected_type, size, p->sha256,
				    risk, p->state, p->verdict, p->note };
		snprintf(idx, sizeof(idx), "%u", p->index);
		snprintf(size, sizeof(size), "%" G_GUINT64_FORMAT, p->size);
		if (r->part == 0 || r->part == p->index)   /* ID#N: that part */
			ctl_table_add(t, v);
		g_free(risk);
	}
	ctl_table_print(t, CTL_FMT_TABLE, stdout);
	ctl_table_free(t);
	for (guint i = 0; i < m->parts->len; i++) {
		const struct tz_meta_part *p = g_ptr_array_index(m->parts, i);
		if (p->force_requested_by)
			printf("\npart %u: forced release requested by %s (reason: %s); approved by %s; "
			       "waiting for queue approve %s %u --operator NAME\n", p->index,
			       p->force_requested_by, p->force_reason ? p->force_reason : "-",
			       p->force_approvers ? p->force_approvers : "-", m->id, p->index);
	}
	return 0;
}

int ctl_queue_show(const struct ctl_args *a)
{
	struct qrun r;
	int rc = qopen(a, &r, 0);

	return qclose(&r, rc ? rc : cmd_show(&r, a));
}

/* The exit code of a library call: 0, or 1 (the queue refused or failed:
 * the reason on stderr). */
static int refused(const struct ctl_args *a, int rc, const char *err)
{
	return rc < 0 ? ctl_fail(a, 1, "%s", err) : 0;
}

int ctl_queue_export(const struct ctl_args *a)
{
	const char *op = ctl_operator(a, NULL), *out = a->opt[CTL_O_OUT];
	GArray *parts = g_array_new(FALSE, FALSE, sizeof(unsigned));
	char err[TZ_ERRLEN], name[128];
	struct qrun r;
	int rc;

	if (op == NULL) {
		rc = EX_USAGE;
		goto out;
	}
	if (out == NULL) {
		rc = ctl_fail(a, EX_USAGE, "missing --out FILE (where the plaintext goes)");
		goto out;
	}
	rc = qopen(a, &r, 0);
	if (rc == 0 && (rc = parts_of(a, &r, 1, parts)) == 0 && parts->len != 1)
		rc = ctl_fail(a, EX_USAGE, "missing PART (a part number, or original)");
	if (rc == 0 && (rc = ctl_out_check(a, out)) == 0 &&
	    (rc = refused(a, tz_queue_export(&r.e.q, r.id, g_array_index(parts, unsigned, 0), out,
					     a->opt[CTL_O_FORCE] != NULL, op,
					     err, sizeof(err)), err)) == 0) {
		const struct tz_meta_part *p = tz_meta_part_get(r.m, g_array_index(parts, unsigned, 0));
		if (p)
			print_part_line("exported", p, entry_name(&r, name), "");
		else
			printf("exported the original message of %s\n", entry_name(&r, name));
		printf("to %s (audited as %s)\n", out, op);
	}
	qclose(&r, rc);
out:
	g_array_unref(parts);
	return rc;
}

/* A forced release waiting for approval is not done: say so, and exit
 * EX_TEMPFAIL (75) so that scripts do not take it for a delivery. */
static int sent_or_pending(const struct ctl_args *a, struct qrun *r, const GArray *asked, int rc,
			   const char *err)
{
	if (rc == 1) {
		printf("%s\n", err);
		return EX_TEMPFAIL;
	}
	return rc < 0 ? refused(a, rc, err) : print_released(a, r, asked);
}

int ctl_queue_release(const struct ctl_args *a)
{
	const char *op = ctl_operator(a, NULL);
	GArray *parts = g_array_new(FALSE, FALSE, sizeof(unsigned));
	char err[TZ_ERRLEN];
	struct qrun r;
	int rc = op ? qopen(a, &r, CTL_NEED_RELEASE_KEY) : EX_USAGE;

	if (op && rc == 0 && (rc = parts_of(a, &r, 0, parts)) == 0) {
		struct tz_release_req q = { (const unsigned *)(void *)parts->data, parts->len,
					    a->opt[CTL_O_TO], op, a->opt[CTL_O_FORCE] != NULL,
					    a->opt[CTL_O_REASON], a->opt[CTL_O_AGAIN] != NULL };
		r.e.q.reclaim_claims = a->opt[CTL_O_RECLAIM] != NULL;
		rc = sent_or_pending(a, &r, parts, tz_queue_release(&r.e.q, r.id, &q, err, sizeof(err)), err);
	}
	if (op)
		qclose(&r, rc);
	g_array_unref(parts);
	return rc;
}

int ctl_queue_approve(const struct ctl_args *a)
{
	const char *op = ctl_operator(a, NULL);
	GArray *parts = g_array_new(FALSE, FALSE, sizeof(unsigned));
	char err[TZ_ERRLEN];
	struct qrun r;
	int rc = op ? qopen(a, &r, CTL_NEED_RELEASE_KEY) : EX_USAGE;

	if (op && rc == 0 && (rc = parts_of(a, &r, 0, parts)) == 0 && parts->len != 1)
		rc = ctl_fail(a, EX_USAGE, "missing PART (the part whose forced release you approve)");
	if (op && rc == 0)
		rc = sent_or_pending(a, &r, parts, tz_queue_approve(&r.e.q, r.id, g_array_index(parts, unsigned, 0),
							       op, err, sizeof(err)), err);
	if (op)
		qclose(&r, rc);
	g_array_unref(parts);
	return rc;
}

int ctl_queue_reject(const struct ctl_args *a)
{
	const char *op = ctl_operator(a, NULL);
	GArray *parts = g_array_new(FALSE, FALSE, sizeof(unsigned));
	char err[TZ_ERRLEN], name[128];
	struct qrun r;
	int rc = op ? qopen(a, &r, 0) : EX_USAGE;

	if (op && rc == 0 && (rc = parts_of(a, &r, 0, parts)) == 0 &&
	    (rc = refused(a, tz_queue_reject(&r.e.q, r.id, parts->len ? g_array_index(parts, unsigned, 0) : 0,
					     op, a->opt[CTL_O_REASON], err, sizeof(err)), err)) == 0) {
		for (guint i = 0; i < r.m->parts->len; i++) {
			const struct tz_meta_part *p = g_ptr_array_index(r.m->parts, i);
			if (parts->len == 0 || p->index == g_array_index(parts, unsigned, 0))
				print_part_line("rejected", p, entry_name(&r, name), "");
		}
	}
	if (op)
		qclose(&r, rc);
	g_array_unref(parts);
	return rc;
}

/* One purge round: the entries of tenant (NULL = every entry, "" = those
 * of no tenant) older than days, or than its RetentionDays. */
static int purge_one(struct qrun *r, const char *tenant, unsigned days, const char *op,
		     unsigned *removed, char *err, size_t errlen)
{
	unsigned n = 0;
	int rc;

	r->e.q.tenant = tenant;
	rc = tz_queue_purge(&r->e.q, days, op, &n, err, errlen);
	printf("purged %u entries%s%s older than %u days\n", n, tenant && *tenant ? " of tenant " : "",
	       tenant && *tenant ? tenant : "", days);
	*removed += n;
	return rc;
}

/* --tenant: that tenant's entries. Without --older-than and with Tenant
 * sections, each tenant's entries go after its own RetentionDays, and
 * those of no tenant after the global one. */
static int purge(struct qrun *r, const struct ctl_args *a, unsigned days, const char *op,
		 unsigned *removed, char *err, size_t errlen)
{
	bool given = a->opt[CTL_O_OLDER_THAN] != NULL;
	const struct tz_config *cfg = r->e.cfg;

	if (r->e.tenant)
		return purge_one(r, r->e.tenant->name, given ? days : r->e.tenant->cfg->retention_days,
				 op, removed, err, errlen);
	if (given || tz_config_tenant_count(cfg) == 0)
		return purge_one(r, NULL, given ? days : cfg->retention_days, op, removed, err, errlen);
	for (unsigned i = 0; i < tz_config_tenant_count(cfg); i++) {
		const struct tz_tenant *t = tz_config_tenant_at(cfg, i);
		if (purge_one(r, t->name, t->cfg->retention_days, op, removed, err, errlen) < 0)
			return -1;
	}
	return purge_one(r, "", cfg->retention_days, op, removed, err, errlen);
}

int ctl_queue_purge(const struct ctl_args *a)
{
	const char *op = ctl_operator(a, "retention");
	char err[TZ_ERRLEN];
	unsigned days, removed = 0;
	struct qrun r;
	int rc;

	if (op == NULL)
		return EX_USAGE;
	if ((rc = ctl_opt_uint(a, CTL_O_OLDER_THAN, 36500, &days)) != 0)
		return rc;
	if ((rc = qopen(a, &r, 0)) == 0)
		rc = refused(a, purge(&r, a, days, op, &removed, err, sizeof(err)), err);
	return qclose(&r, rc);
}

static volatile sig_atomic_t stop_watch;

static void on_term(int sig)
{
	(void)sig;
	stop_watch = 1;
}

/* Exit 0 when done, 75 (EX_TEMPFAIL) when clamd could not be reached, 1 on
 * other errors. --watch keeps going until SIGTERM/SIGINT. */
static int cmd_scan(struct qrun *r, const struct ctl_args *a, unsigned interval)
{
	struct tz_scan_count n;
	char err[TZ_ERRLEN];
	int rc;

	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	for (;;) {
		memset(&n, 0, sizeof(n));
		rc = ctl_arg(a, 0) ? tz_queue_scan_entry(&r->e.q, r->id, &n, err, sizeof(err))
				   : tz_queue_scan_all(&r->e.q, &n, err, sizeof(err));
		if (rc != 0)
			fprintf(stderr, "textizectl: queue scan: %s%s\n",
				rc == 1 ? "scanner unavailable, parts stay pending: " : "", err);
		if (n.scanned || !a->opt[CTL_O_WATCH])
			printf("scanned %u parts: %u infected, %u could not be scanned\n", n.scanned,
			       n.infected, n.failed);
		fflush(stdout);
		if (!a->opt[CTL_O_WATCH] || stop_watch)
			break;
		for (unsigned s = 0; s < (interval ? interval : 1) && !stop_watch; s++)
			sleep(1);
		if (stop_watch)
			break;
	}
	return rc == 1 ? EX_TEMPFAIL : rc < 0 ? 1 : 0;
}

int ctl_queue_scan(const struct ctl_args *a)
{
	unsigned interval = 30;
	struct qrun r;
	int rc = ctl_opt_uint(a, CTL_O_INTERVAL, 86400, &interval);

	if (rc)
		return rc;
	rc = qopen(a, &r, 0);
	return qclose(&r, rc ? rc : cmd_scan(&r, a, interval));
}

int ctl_queue_sanitize(const struct ctl_args *a)
{
	unsigned interval = 10;
	struct qrun r;
	int rc = ctl_opt_uint(a, CTL_O_INTERVAL, 86400, &interval);

	if (rc)
		return rc;
	rc = qopen(a, &r, 0);
	if (rc == 0)
		rc = ctl_sanitize(&r.e, ctl_arg(a, 0) ? r.id : NULL, a->opt[CTL_O_WATCH] != NULL, interval);
	return qclose(&r, rc);
}

int ctl_queue_reindex(const struct ctl_args *a)
{
	char err[TZ_ERRLEN];
	unsigned bad;
	struct qrun r;
	int n, rc = qopen(a, &r, CTL_NEED_INDEX_SET);

	if (rc)
		return qclose(&r, rc);
	n = tz_index_sync(r.e.ix, r.e.st, 1, &bad, err, sizeof(err));
	if (n < 0)
		return qclose(&r, ctl_fail(a, EX_IOERR, "%s", err));
	printf("indexed %d entries%s", n, bad ? "" : "\n");
	if (bad)
		printf(", %u unreadable\n", bad);
	return qclose(&r, bad ? 1 : 0);
}
