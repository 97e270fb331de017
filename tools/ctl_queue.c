/* ctl_queue.c — `textizectl queue ...`: the security team's view of the
 * sanitization queue (list, show, export, release, reject, purge, scan,
 * reindex). Ids from the command line are checked with tz_id_valid before
 * they touch the file system. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_qenv.h"
#include "tz_index.h"
#include "tz_localtime.h"
#include "tz_meta.h"
#include "tz_part.h"
#include "tz_queue.h"
#include "tz_store.h"
#include "tz_util.h"

static void usage(FILE *f)
{
	fputs("usage: textizectl queue [-c CONF] COMMAND ...\n"
	      "  list [--since D] [--until D] [--from S] [--rcpt S] [--flag F] [--state S] [--format table|csv|json]\n"
	      "  show ID [--format table|json]\n"
	      "  export ID PART|original --out FILE [--operator NAME]\n"
	      "  release ID [PART...] [--to ADDR] --operator NAME [--again] [--force --reason TEXT]\n"
	      "  approve ID PART --operator NAME\n"
	      "  reject ID [PART] --operator NAME [--reason TEXT]\n"
	      "  purge [--older-than DAYS] [--operator NAME]\n"
	      "  scan [--watch] [--interval SECONDS] [ID]\n"
	      "  sanitize [--watch] [--interval SECONDS] [ID]\n"
	      "  reindex\n"
	      "ID is the 参照番号 from the notice (1202-4F7K; 1202-4F7K#2 names part 2) or the long id.\n"
	      "D is YYYY-MM-DD (local time; --until includes that day) or YYYY-MM-DDTHH:MM:SS.\n"
	      "F is a risk flag name (executable, macro, archive, ...).\n", f);
}

/* Options common to the subcommands, collected in one pass. */
struct qopts {
	const char *conf, *since, *until, *from, *rcpt, *flag, *state, *format;
	const char *out, *operator_name, *to, *reason, *older, *interval;
	int force, watch, again;
	GPtrArray *args;   /* positional, borrowed */
};

static int parse_opts(int argc, char **argv, struct qopts *o)
{
	static const char *const with_value[] = {
		"-c", "--since", "--until", "--from", "--rcpt", "--flag", "--state", "--format",
		"--out", "--operator", "--to", "--reason", "--older-than", "--interval", NULL,
	};
	const char **slots[] = {
		&o->conf, &o->since, &o->until, &o->from, &o->rcpt, &o->flag, &o->state, &o->format,
		&o->out, &o->operator_name, &o->to, &o->reason, &o->older, &o->interval,
	};

	o->args = g_ptr_array_new();
	for (int i = 1; i < argc; i++) {
		int k;
		if (strcmp(argv[i], "--force") == 0) {
			o->force = 1;
			continue;
		}
		if (strcmp(argv[i], "--again") == 0) {
			o->again = 1;
			continue;
		}
		if (strcmp(argv[i], "--watch") == 0) {
			o->watch = 1;
			continue;
		}
		for (k = 0; with_value[k] && strcmp(argv[i], with_value[k]) != 0; k++)
			;
		if (with_value[k]) {
			if (i + 1 >= argc) {
				fprintf(stderr, "textizectl: %s needs a value\n", argv[i]);
				return -1;
			}
			*slots[k] = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "textizectl: unknown option %s\n", argv[i]);
			return -1;
		} else {
			g_ptr_array_add(o->args, argv[i]);
		}
	}
	return 0;
}

static const char *arg(const struct qopts *o, guint i)
{
	return i < o->args->len ? g_ptr_array_index(o->args, i) : NULL;
}

/* Local date or date-time to epoch seconds; end_of_day for --until D. */
static int parse_when(const char *s, int end_of_day, int64_t *out)
{
	if (tz_local_date_parse(s, end_of_day, out) < 0) {
		fprintf(stderr, "textizectl: bad date %s\n", s);
		return -1;
	}
	return 0;
}

static int flag_bit(const char *name, unsigned *bit)
{
	*bit = 0;
	if (name == NULL)
		return 0;
	for (unsigned b = 0; b < TZ_RISK_COUNT; b++)
		if (strcmp(name, tz_risk_name(1u << b)) == 0) {
			*bit = 1u << b;
			return 0;
		}
	fprintf(stderr, "textizectl: unknown risk flag %s\n", name);
	return -1;
}

static int cmd_list(struct ctl_qenv *e, const struct qopts *o)
{
	static const char *const cols[] = { "ref", "id", "stored", "from", "to", "subject", "part",
					    "filename", "type", "size", "risk", "state", "verdict", "sha256",
					    NULL };
	struct tz_index_filter f = { 0 };
	struct ctl_table *t;
	GPtrArray *rows;
	char err[TZ_ERRLEN];
	unsigned bad;
	int fmt = ctl_format_parse(o->format);

	if (fmt < 0 || parse_when(o->since, 0, &f.since) < 0 || parse_when(o->until, 1, &f.until) < 0 ||
	    flag_bit(o->flag, &f.flag) < 0)
		return 2;
	f.from = o->from;
	f.rcpt = o->rcpt;
	f.state = o->state;
	/* The files are the truth: bring the index up to date first. */
	if (tz_index_sync(e->ix, e->st, 0, &bad, err, sizeof(err)) < 0 ||
	    tz_index_query(e->ix, &f, &rows, err, sizeof(err)) < 0) {
		fprintf(stderr, "textizectl: %s\n", err);
		return 1;
	}
	if (bad)
		fprintf(stderr, "textizectl: %u entries could not be read (run queue reindex)\n", bad);
	t = ctl_table_new(cols);
	ctl_table_numeric(t, "part");
	ctl_table_numeric(t, "size");
	for (guint i = 0; i < rows->len; i++) {
		const struct tz_index_row *r = g_ptr_array_index(rows, i);
		char part[16], size[32], when[40], *risk = tz_risk_string(r->risk);
		const char *v[14];
		snprintf(part, sizeof(part), "%u", r->part);
		snprintf(size, sizeof(size), "%" G_GUINT64_FORMAT, r->size);
		ctl_local_time(r->stored_time, when);
		v[0] = r->ref; v[1] = r->id; v[2] = when; v[3] = r->sender; v[4] = r->rcpts;
		v[5] = r->subject; v[6] = part; v[7] = r->filename; v[8] = r->detected_type;
		v[9] = size; v[10] = risk; v[11] = r->state; v[12] = r->verdict;
		v[13] = r->sha256;
		ctl_table_add(t, v);
		g_free(risk);
	}
	ctl_table_print(t, (enum ctl_format)fmt, stdout);
	ctl_table_free(t);
	g_ptr_array_unref(rows);
	return 0;
}

static int cmd_show(struct ctl_qenv *e, const struct qopts *o)
{
	static const char *const cols[] = { "part", "filename", "declared", "detected", "size", "sha256",
					    "risk", "state", "verdict", "note", NULL };
	char err[TZ_ERRLEN];
	struct tz_meta *m = tz_store_meta_read(e->st, arg(o, 0), err, sizeof(err));
	struct ctl_table *t;
	char *json, when[40];

	if (m == NULL) {
		fprintf(stderr, "textizectl: %s\n", err);
		return 1;
	}
	if (o->format && strcmp(o->format, "json") == 0) {
		json = tz_meta_to_json(m);
		fputs(json, stdout);
		g_free(json);
		tz_meta_free(m);
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
	tz_meta_free(m);
	return 0;
}

static int parse_part(const char *s, unsigned *part)
{
	char *end;
	unsigned long v;

	if (s && strcmp(s, "original") == 0) {
		*part = 0;
		return 0;
	}
	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	v = strtoul(s, &end, 10);
	if (*end || v > 999999)
		return -1;
	*part = (unsigned)v;
	return 0;
}

static int report(int rc, const char *err)
{
	if (rc < 0)
		fprintf(stderr, "textizectl: %s\n", err);
	return rc < 0 ? 1 : 0;
}

/* A forced release waiting for approval is not done: say so, and exit
 * EX_TEMPFAIL (75) so that scripts do not take it for a delivery. */
static int pending_or_report(int rc, const char *err)
{
	if (rc == 1) {
		printf("%s\n", err);
		return 75;
	}
	return report(rc, err);
}

static int cmd_export(struct ctl_qenv *e, const struct qopts *o)
{
	const char *op = ctl_operator(o->operator_name, 1);
	char err[TZ_ERRLEN];
	unsigned part;

	if (op == NULL || o->out == NULL || parse_part(arg(o, 1), &part) < 0) {
		usage(stderr);
		return 2;
	}
	return report(tz_queue_export(&e->q, arg(o, 0), part, o->out, op, err, sizeof(err)), err);
}

static int cmd_release(struct ctl_qenv *e, const struct qopts *o)
{
	const char *op = ctl_operator(o->operator_name, 0);
	GArray *parts = g_array_new(FALSE, FALSE, sizeof(unsigned));
	char err[TZ_ERRLEN];
	int rc;

	if (op == NULL) {
		g_array_unref(parts);
		return 2;
	}
	for (guint i = 1; i < o->args->len; i++) {
		unsigned p;
		if (parse_part(arg(o, i), &p) < 0 || p == 0) {
			fprintf(stderr, "textizectl: bad part %s\n", arg(o, i));
			g_array_unref(parts);
			return 2;
		}
		g_array_append_val(parts, p);
	}
	{
		struct tz_release_req r = { (const unsigned *)(void *)parts->data, parts->len, o->to, op,
					    o->force, o->reason, o->again };
		rc = tz_queue_release(&e->q, arg(o, 0), &r, err, sizeof(err));
	}
	g_array_unref(parts);
	return pending_or_report(rc, err);
}

static int cmd_approve(struct ctl_qenv *e, const struct qopts *o)
{
	const char *op = ctl_operator(o->operator_name, 0);
	char err[TZ_ERRLEN];
	unsigned part = 0;

	if (op == NULL || arg(o, 1) == NULL || parse_part(arg(o, 1), &part) < 0 || part == 0) {
		fprintf(stderr, "textizectl: approve needs ID PART --operator NAME\n");
		return 2;
	}
	return pending_or_report(tz_queue_approve(&e->q, arg(o, 0), part, op, err, sizeof(err)), err);
}

static int cmd_reject(struct ctl_qenv *e, const struct qopts *o)
{
	const char *op = ctl_operator(o->operator_name, 0);
	char err[TZ_ERRLEN];
	unsigned part = 0;

	if (op == NULL || (arg(o, 1) && (parse_part(arg(o, 1), &part) < 0 || part == 0)))
		return 2;
	return report(tz_queue_reject(&e->q, arg(o, 0), part, op, o->reason, err, sizeof(err)), err);
}

static int cmd_purge(struct ctl_qenv *e, const struct qopts *o)
{
	const char *op = ctl_operator(o->operator_name ? o->operator_name : "retention", 0);
	unsigned days = e->cfg->retention_days, removed = 0;
	char err[TZ_ERRLEN], *end;
	int rc;

	if (o->older) {
		unsigned long v = strtoul(o->older, &end, 10);
		if (*end || end == o->older || v > 36500) {
			fprintf(stderr, "textizectl: bad --older-than %s\n", o->older);
			return 2;
		}
		days = (unsigned)v;
	}
	if (op == NULL)
		return 2;
	rc = tz_queue_purge(&e->q, days, op, &removed, err, sizeof(err));
	printf("purged %u entries older than %u days\n", removed, days);
	return report(rc, err);
}

static volatile sig_atomic_t stop_watch;

static void on_term(int sig)
{
	(void)sig;
	stop_watch = 1;
}

/* Exit 0 when done, 75 (EX_TEMPFAIL) when clamd could not be reached, 1 on
 * other errors. --watch keeps going until SIGTERM/SIGINT. */
static int cmd_scan(struct ctl_qenv *e, const struct qopts *o)
{
	unsigned interval = o->interval ? (unsigned)strtoul(o->interval, NULL, 10) : 30, n = 0;
	char err[TZ_ERRLEN];
	int rc;

	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	for (;;) {
		n = 0;
		rc = arg(o, 0) ? tz_queue_scan_entry(&e->q, arg(o, 0), &n, err, sizeof(err))
			       : tz_queue_scan_all(&e->q, &n, err, sizeof(err));
		if (rc != 0)
			fprintf(stderr, "textizectl: %s%s\n", rc == 1 ? "scanner unavailable, parts stay pending: " : "", err);
		if (n)
			printf("scanned %u parts\n", n);
		fflush(stdout);
		if (!o->watch || stop_watch)
			break;
		for (unsigned s = 0; s < (interval ? interval : 1) && !stop_watch; s++)
			sleep(1);
		if (stop_watch)
			break;
	}
	return rc == 1 ? 75 : rc < 0 ? 1 : 0;
}

static int cmd_reindex(struct ctl_qenv *e)
{
	char err[TZ_ERRLEN];
	unsigned bad;
	int n = tz_index_sync(e->ix, e->st, 1, &bad, err, sizeof(err));

	if (n < 0) {
		fprintf(stderr, "textizectl: %s\n", err);
		return 1;
	}
	printf("indexed %d entries%s", n, bad ? "" : "\n");
	if (bad)
		printf(", %u unreadable\n", bad);
	return bad ? 1 : 0;
}

/* The entry argument as typed — 参照番号 ("1202-4F7K", "1202-4F7K#2") or
 * the long id, with or without "#PART" — becomes the long id, and the
 * part, when given that way, the next argument (commands that take one). */
static int resolve_entry(struct ctl_qenv *e, struct qopts *o, const char *cmd,
			 char id[TZ_ID_LEN], char partbuf[16])
{
	char err[TZ_ERRLEN];
	unsigned part = 0;

	if (tz_store_resolve(e->st, arg(o, 0), id, &part, err, sizeof(err)) < 0) {
		fprintf(stderr, "textizectl: %s\n", err);
		return -1;
	}
	o->args->pdata[0] = id;
	if (part == 0 || strcmp(cmd, "show") == 0 || strcmp(cmd, "scan") == 0 || strcmp(cmd, "sanitize") == 0)
		return 0;
	if (arg(o, 1) && strcmp(cmd, "release") != 0) {
		fprintf(stderr, "textizectl: the part is given twice (%s and %s)\n",
			(const char *)g_ptr_array_index(o->args, 0), arg(o, 1));
		return -1;
	}
	snprintf(partbuf, 16, "%u", part);
	g_ptr_array_insert(o->args, 1, partbuf);
	return 0;
}

int ctl_queue(int argc, char **argv)
{
	struct qopts o = { 0 };
	struct ctl_qenv e;
	const char *cmd;
	unsigned need = CTL_NEED_STORE | CTL_NEED_AUDIT | CTL_NEED_INDEX;
	int rc = 2, names_entry;
	char id[TZ_ID_LEN], partbuf[16];

	/* `queue -c CONF list` as well as `queue list -c CONF` */
	if (argc >= 3 && strcmp(argv[1], "-c") == 0) {
		o.conf = argv[2];
		argv[2] = argv[0];
		argv += 2;
		argc -= 2;
	}
	if (argc < 2 || parse_opts(argc - 1, argv + 1, &o) < 0) {
		usage(stderr);
		goto out;
	}
	cmd = argv[1];
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0) {
		usage(stdout);
		rc = 0;
		goto out;
	}
	/* Every command but list/purge/scan/reindex names an entry first. */
	names_entry = strcmp(cmd, "list") != 0 && strcmp(cmd, "purge") != 0 &&
		      strcmp(cmd, "reindex") != 0 &&
		      ((strcmp(cmd, "scan") != 0 && strcmp(cmd, "sanitize") != 0) || arg(&o, 0));
	if (names_entry && arg(&o, 0) == NULL) {
		fprintf(stderr, "textizectl: %s needs an entry (参照番号 such as 1202-4F7K, or the long id)\n",
			cmd);
		goto out;
	}
	if (strcmp(cmd, "release") == 0 || strcmp(cmd, "approve") == 0)
		need |= CTL_NEED_RELEASE_KEY;
	if (ctl_qenv_open(&e, o.conf, need) < 0) {
		rc = 1;
		goto out;
	}
	if (names_entry && resolve_entry(&e, &o, cmd, id, partbuf) < 0) {
		rc = 2;
	} else if (e.ix == NULL && (strcmp(cmd, "list") == 0 || strcmp(cmd, "reindex") == 0)) {
		fprintf(stderr, "textizectl: ReportDatabase is not set\n");
		rc = 1;
	} else if (strcmp(cmd, "list") == 0) {
		rc = cmd_list(&e, &o);
	} else if (strcmp(cmd, "show") == 0) {
		rc = cmd_show(&e, &o);
	} else if (strcmp(cmd, "export") == 0) {
		rc = cmd_export(&e, &o);
	} else if (strcmp(cmd, "release") == 0) {
		rc = cmd_release(&e, &o);
	} else if (strcmp(cmd, "approve") == 0) {
		rc = cmd_approve(&e, &o);
	} else if (strcmp(cmd, "reject") == 0) {
		rc = cmd_reject(&e, &o);
	} else if (strcmp(cmd, "purge") == 0) {
		rc = cmd_purge(&e, &o);
	} else if (strcmp(cmd, "scan") == 0) {
		rc = cmd_scan(&e, &o);
	} else if (strcmp(cmd, "sanitize") == 0) {
		rc = ctl_sanitize(&e, arg(&o, 0), o.watch, o.interval);
	} else if (strcmp(cmd, "reindex") == 0) {
		rc = cmd_reindex(&e);
	} else {
		fprintf(stderr, "textizectl: unknown queue command %s\n", cmd);
		usage(stderr);
	}
	ctl_qenv_close(&e);
out:
	if (o.args)
		g_ptr_array_unref(o.args);
	return rc;
}
