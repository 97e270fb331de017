/* ctl_args.c — the table walker behind textizectl's one grammar (see
 * ctl_args.h). getopt_long in "return operands in order" mode, so options
 * may sit anywhere among the command words; the words are matched against
 * the table afterwards and every option is checked against the row it
 * ended up in. Usage texts are generated from the same table, so --help
 * cannot disagree with what the parser accepts. */
#include "ctl_args.h"

#include <getopt.h>
#include <stdarg.h>
#include <string.h>
#include <glib.h>

#include "ctl.h"
#include "textize.h"
#include "tz_config.h"

struct opt_def {
	const char *name;     /* long name */
	int has_arg;
	int short_name;       /* 0 = none */
	const char *metavar;
	const char *help;
};

/* an option is a bit of a uint32_t mask (CTL_OPT) */
G_STATIC_ASSERT(CTL_O_COUNT <= 32);

static const struct opt_def options[CTL_O_COUNT] = {
	[CTL_O_CONF] = { "config", 1, 'c', "FILE", "configuration (default " TZ_DEFAULT_CONF
			 " when readable, else built-in defaults)" },
	[CTL_O_FORMAT] = { "format", 1, 0, "FORMAT", "output format" },
	[CTL_O_OPERATOR] = { "operator", 1, 0, "NAME", "who acts (written to the audit log; "
			     "commands that record nothing ignore it)" },
	[CTL_O_HELP] = { "help", 0, 'h', NULL, "this text" },
	[CTL_O_VERSION] = { "version", 0, 'V', NULL, "print the version" },
	[CTL_O_TENANT] = { "tenant", 1, 0, "NAME", "only this Tenant's entries (default: "
			   "$TEXTIZE_TENANT); an entry of another is not found" },
	[CTL_O_SINCE] = { "since", 1, 0, "D", "stored on or after D (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS, local time)" },
	[CTL_O_UNTIL] = { "until", 1, 0, "D", "stored before the end of D (YYYY-MM-DD includes that day)" },
	[CTL_O_FROM] = { "from", 1, 0, "TEXT", "sender contains TEXT" },
	[CTL_O_RCPT] = { "rcpt", 1, 0, "TEXT", "a recipient contains TEXT" },
	[CTL_O_FLAG] = { "flag", 1, 0, "FLAG", "parts with this risk flag" },
	[CTL_O_STATE] = { "state", 1, 0, "STATE", "parts in this state" },
	[CTL_O_OUT] = { "out", 1, 0, "FILE", "write to FILE (an existing FILE only with --force)" },
	[CTL_O_FORCE] = { "force", 0, 0, NULL, "release: a part that is not clean (needs --reason); "
			  "export/report: replace an existing --out FILE" },
	[CTL_O_TO] = { "to", 1, 0, "ADDR", "send to ADDR instead of the original recipients" },
	[CTL_O_AGAIN] = { "again", 0, 0, NULL, "send a part already released once more (audited)" },
	[CTL_O_RECLAIM] = { "reclaim", 0, 0, NULL, "StoreBackend postgresql: take over a stale claim "
			    "left 'sending' by a host that died (audited; only after checking the "
			    "MTA's log that the part was not delivered)" },
	[CTL_O_REASON] = { "reason", 1, 0, "TEXT", "why (written to the audit log)" },
	[CTL_O_OLDER_THAN] = { "older-than", 1, 0, "DAYS", "entries stored more than DAYS days ago "
			       "(default RetentionDays)" },
	[CTL_O_WATCH] = { "watch", 0, 0, NULL, "keep going until SIGTERM or SIGINT" },
	[CTL_O_INTERVAL] = { "interval", 1, 0, "SECONDS", "pause between rounds with --watch" },
	[CTL_O_DATE] = { "date", 1, 0, "YYYY-MM-DD", "the day (default today, local time)" },
	[CTL_O_STATE_DIR] = { "state-dir", 1, 0, "DIR", "StateDir to use instead of the configuration's" },
	[CTL_O_SOCKET] = { "socket", 1, 0, "SPEC", "StatsSocket to ask instead of the configuration's" },
	[CTL_O_JSON] = { "json", 0, 0, NULL, "the same as --format json" },
	[CTL_O_PARTS] = { "parts", 1, 0, "DIR", "write each stripped part to DIR/part-NNN.bin" },
	[CTL_O_DRY_RUN] = { "dry-run", 0, 0, NULL, "only count what would be done; change nothing" },
	[CTL_O_TO_BLOBS] = { "to-blobs", 0, 0, NULL, "into the blob store (BlobStore s3|postgresql) "
			     "instead of the segment store" },
	[CTL_O_REMOVE_LOCAL] = { "remove-local", 0, 0, NULL, "with --to-blobs: remove each local copy "
				 "once the store's copy reads back the same" },
};

static const uint32_t global_opts = CTL_OPT(CTL_O_CONF) | CTL_OPT(CTL_O_FORMAT) |
	CTL_OPT(CTL_O_OPERATOR) | CTL_OPT(CTL_O_HELP) | CTL_OPT(CTL_O_VERSION) |
	CTL_OPT(CTL_O_TENANT);

static char cmd_name[64];

const char *ctl_cmd_name(const struct ctl_args *a)
{
	if (a == NULL || a->cmd == NULL)
		return NULL;
	snprintf(cmd_name, sizeof(cmd_name), "%s%s%s", a->cmd->name, a->cmd->sub ? " " : "",
		 a->cmd->sub ? a->cmd->sub : "");
	return cmd_name;
}

static void vfail(const char *where, const char *fmt, va_list ap)
{
	char *msg = g_strdup_vprintf(fmt, ap);

	/* one line: a value from argv cannot break it */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "textizectl: %s%s%s\n", where ? where : "", where ? ": " : "", msg);
	g_free(msg);
}

int ctl_fail(const struct ctl_args *a, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(ctl_cmd_name(a), fmt, ap);
	va_end(ap);
	return code;
}

static int fail_at(const char *where, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail_at(const char *where, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(where, fmt, ap);
	va_end(ap);
	return code;
}

const char *ctl_arg(const struct ctl_args *a, unsigned i)
{
	return i < a->nargs ? a->arg[i] : NULL;
}

static char *choices_text(const char *choices)
{
	char **v = g_strsplit(choices, ",", -1);
	char *s = g_strjoinv(", ", v);

	g_strfreev(v);
	return s;
}

int ctl_check_choice(const struct ctl_args *a, const char *option, const char *value,
		     const char *choices)
{
	char **v;
	int found = 0;

	if (value == NULL)
		return 0;
	v = g_strsplit(choices, ",", -1);
	for (int i = 0; v[i]; i++)
		found |= strcmp(v[i], value) == 0;
	g_strfreev(v);
	if (!found) {
		char *c = choices_text(choices);
		ctl_fail(a, EX_USAGE, "%s: unknown value '%s' (%s)", option, value, c);
		g_free(c);
		return EX_USAGE;
	}
	return 0;
}

int ctl_opt_uint(const struct ctl_args *a, enum ctl_opt o, unsigned max, unsigned *out)
{
	const char *s = a->opt[o];
	char *end;
	unsigned long v;

	if (s == NULL)
		return 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || v > max)
		return ctl_fail(a, EX_USAGE, "--%s: '%s' is not a number from 0 to %u", options[o].name,
				s, max);
	*out = (unsigned)v;
	return 0;
}

/* ---- usage texts, from the tables ---- */

static void option_lines(FILE *f, uint32_t set, const char *formats)
{
	for (int o = 0; o < CTL_O_COUNT; o++) {
		char left[48], sh[8] = "    ";
		if (!(set & CTL_OPT(o)) || (o == CTL_O_FORMAT && formats == NULL))
			continue;
		if (options[o].short_name)
			snprintf(sh, sizeof(sh), "-%c, ", options[o].short_name);
		snprintf(left, sizeof(left), "%s--%s%s%s", sh, options[o].name,
			 options[o].metavar ? " " : "", options[o].metavar ? options[o].metavar : "");
		if (o == CTL_O_FORMAT) {
			char *c = choices_text(formats);
			fprintf(f, "  %-26s %s: %s (default %.*s)\n", left, options[o].help, c,
				(int)strcspn(formats, ","), formats);
			g_free(c);
		} else {
			fprintf(f, "  %-26s %s\n", left, options[o].help);
		}
	}
}

static void leaf_usage(FILE *f, const struct ctl_command *c)
{
	fprintf(f, "usage: textizectl %s%s%s%s%s [options]\n  %s\n", c->name, c->sub ? " " : "",
		c->sub ? c->sub : "", *c->operands ? " " : "", c->operands, c->summary);
	if (c->help)
		fprintf(f, "%s", c->help);
	if (c->opts & ~global_opts) {
		fputs("options:\n", f);
		option_lines(f, c->opts & ~global_opts, NULL);
	}
	fputs("global options (before or after the command):\n", f);
	option_lines(f, global_opts, c->formats);
}

static void group_usage(FILE *f, const struct ctl_command *table, const char *name)
{
	fprintf(f, "usage: textizectl %s COMMAND [options]\n", name);
	for (const struct ctl_command *c = table; c->name; c++)
		if (strcmp(c->name, name) == 0)
			fprintf(f, "  %-9s %-28s %s\n", c->sub, c->operands, c->summary);
	fprintf(f, "'textizectl %s COMMAND --help' shows a command's options.\n", name);
	if (strcmp(name, "queue") == 0)
		fputs("ID is the 参照番号 from the notice (1202-4F7K; 1202-4F7K#2 names part 2) or the long id.\n", f);
}

static void top_usage(FILE *f, const struct ctl_command *table)
{
	fputs("usage: textizectl [options] COMMAND [SUBCOMMAND] [options] [operands]\n\ncommands:\n", f);
	for (const struct ctl_command *c = table; c->name; c++) {
		char left[40];
		snprintf(left, sizeof(left), "%s%s%s", c->name, c->sub ? " " : "", c->sub ? c->sub : "");
		fprintf(f, "  %-16s %s\n", left, c->summary);
	}
	fprintf(f, "  %-16s %s\n  %-16s %s\n", "help [COMMAND]", "this text, or a command's",
		"version", "print the version");
	fputs("global options (before or after the command):\n", f);
	option_lines(f, global_opts, "table,csv,json");
	fputs("'textizectl COMMAND [SUBCOMMAND] --help' shows a command's options.\n", f);
}

/* ---- parsing ---- */

/* "a, b, c" for the error lines: the subcommands of a group, or every
 * command name once. */
static char *names_of(const struct ctl_command *table, const char *group)
{
	GString *s = g_string_new(NULL);
	const char *last = NULL;

	for (const struct ctl_command *c = table; c->name; c++) {
		const char *n = group ? (strcmp(c->name, group) == 0 ? c->sub : NULL) : c->name;
		if (n == NULL || (last && strcmp(last, n) == 0))
			continue;
		g_string_append_printf(s, "%s%s", s->len ? ", " : "", n);
		last = n;
	}
	if (group == NULL)
		g_string_append(s, ", help, version");
	return g_string_free(s, FALSE);
}

static char *options_of(const struct ctl_command *c)
{
	GString *s = g_string_new(NULL);

	for (int o = 0; o < CTL_O_COUNT; o++)
		if (((c->opts | global_opts) & CTL_OPT(o)) && (o != CTL_O_FORMAT || c->formats))
			g_string_append_printf(s, "%s--%s", s->len ? ", " : "", options[o].name);
	return g_string_free(s, FALSE);
}

struct scan {
	GPtrArray *words;
	const char *bad;       /* first unknown option, as typed */
	const char *novalue;   /* first option missing its value */
	uint32_t given;
};

static void scan_argv(int argc, char **argv, struct ctl_args *a, struct scan *s)
{
	struct option lo[CTL_O_COUNT + 1];
	int c;

	for (int o = 0; o < CTL_O_COUNT; o++)
		lo[o] = (struct option){ options[o].name, options[o].has_arg ? required_argument : no_argument,
					 NULL, 1000 + o };
	lo[CTL_O_COUNT] = (struct option){ NULL, 0, NULL, 0 };
	opterr = 0;
	optind = 1;
	/* '-': operands come back in order (code 1), whatever POSIXLY_CORRECT
	 * says; ':': a missing value is told apart from an unknown option. */
	while ((c = getopt_long(argc, argv, "-:c:hV", lo, NULL)) != -1) {
		int o = c == 'c' ? CTL_O_CONF : c == 'h' ? CTL_O_HELP : c == 'V' ? CTL_O_VERSION : c - 1000;
		if (c == 1) {
			g_ptr_array_add(s->words, optarg);
		} else if (c == ':') {
			if (s->novalue == NULL)
				s->novalue = argv[optind - 1];
		} else if (c == '?' || o < 0 || o >= CTL_O_COUNT) {
			if (s->bad == NULL)
				s->bad = argv[optind - 1];
		} else {
			a->opt[o] = optarg ? optarg : "";
			s->given |= CTL_OPT(o);
		}
	}
	while (optind < argc)   /* after "--" */
		g_ptr_array_add(s->words, argv[optind++]);
}

/* The row the words name; *used = how many words that took. NULL after an
 * error line (then *rc is the exit code) or for help/version (*rc 0). */
static const struct ctl_command *find_row(const struct ctl_command *table, struct scan *s,
					  struct ctl_args *a, unsigned *used, int *rc)
{
	const char *w0 = s->words->len ? s->words->pdata[0] : NULL;
	const char *w1 = s->words->len > 1 ? s->words->pdata[1] : NULL;
	const struct ctl_command *g = NULL;
	char *names;

	*rc = 0;
	if (w0 && strcmp(w0, "help") == 0) {
		a->opt[CTL_O_HELP] = "";
		g_ptr_array_remove_index(s->words, 0);
		return find_row(table, s, a, used, rc);
	}
	if (w0 && strcmp(w0, "version") == 0)
		a->opt[CTL_O_VERSION] = "";
	if (a->opt[CTL_O_VERSION] && (w0 == NULL || strcmp(w0, "version") == 0)) {
		printf("textizectl %s\n", TZ_VERSION);
		return NULL;
	}
	if (w0 == NULL && s->bad) {
		*rc = fail_at(NULL, EX_USAGE, "unknown option '%.*s' (textizectl --help)",
			      (int)strcspn(s->bad, "="), s->bad);
		return NULL;
	}
	if (w0 == NULL) {
		if (a->opt[CTL_O_HELP]) {
			top_usage(stdout, table);
			return NULL;
		}
		names = names_of(table, NULL);
		*rc = fail_at(NULL, EX_USAGE, "missing command (%s; textizectl --help)", names);
		g_free(names);
		return NULL;
	}
	for (const struct ctl_command *c = table; c->name && g == NULL; c++)
		if (strcmp(c->name, w0) == 0)
			g = c;
	if (g == NULL) {
		names = names_of(table, NULL);
		*rc = fail_at(NULL, EX_USAGE, "unknown command '%s' (%s)", w0, names);
		g_free(names);
		return NULL;
	}
	*used = 1;
	if (g->sub == NULL)
		return g;
	if (w1 && strcmp(w1, "help") == 0) {
		a->opt[CTL_O_HELP] = "";
		g_ptr_array_remove_index(s->words, 1);
		w1 = s->words->len > 1 ? s->words->pdata[1] : NULL;
	}
	if (w1 == NULL && a->opt[CTL_O_HELP]) {
		group_usage(stdout, table, w0);
		return NULL;
	}
	for (const struct ctl_command *c = g; c->name && w1 && strcmp(c->name, w0) == 0; c++)
		if (strcmp(c->sub, w1) == 0) {
			*used = 2;
			return c;
		}
	names = names_of(table, w0);
	if (w1 == NULL)
		*rc = fail_at(w0, EX_USAGE, "missing command (%s)", names);
	else
		*rc = fail_at(w0, EX_USAGE, "unknown command '%s' (%s)", w1, names);
	g_free(names);
	return NULL;
}

/* The options against the row; 0 or the exit code. Checked before --help
 * too, so `CMD ... --help` exits 0 only for a command line whose words and
 * options are right (tests/docs_exec.py checks the documents' commands so). */
static int check_options(const struct ctl_command *c, struct scan *s, struct ctl_args *a)
{
	char *list = options_of(c), *bad = NULL;
	int rc = 0;

	for (int o = 0; o < CTL_O_COUNT && bad == NULL; o++)
		if ((s->given & CTL_OPT(o)) && !((c->opts | global_opts) & CTL_OPT(o)))
			bad = g_strdup_printf("--%s", options[o].name);
	if (s->bad)
		rc = ctl_fail(a, EX_USAGE, "unknown option '%.*s' (%s)", (int)strcspn(s->bad, "="),
			      s->bad, list);
	else if (s->novalue)
		rc = ctl_fail(a, EX_USAGE, "option '%s' needs a value", s->novalue);
	else if (bad)
		rc = ctl_fail(a, EX_USAGE, "option '%s' does not apply here (%s)", bad, list);
	else if (a->opt[CTL_O_FORMAT] && c->formats == NULL)
		rc = ctl_fail(a, EX_USAGE, "--format does not apply here (one output only)");
	else if (a->opt[CTL_O_FORMAT])
		rc = ctl_check_choice(a, "--format", a->opt[CTL_O_FORMAT], c->formats);
	g_free(list);
	g_free(bad);
	return rc;
}

/* The operand count against the row; 0 or EX_USAGE. */
static int check_operands(const struct ctl_command *c, struct ctl_args *a)
{
	if (a->nargs < c->min_args)
		return ctl_fail(a, EX_USAGE, "missing operand (usage: textizectl %s %s)", ctl_cmd_name(a),
				c->operands);
	if (a->nargs > c->max_args)
		return ctl_fail(a, EX_USAGE, "unexpected argument '%s' (usage: textizectl %s%s%s)",
				a->arg[c->max_args], ctl_cmd_name(a), *c->operands ? " " : "", c->operands);
	return 0;
}

int ctl_args_parse(const struct ctl_command *table, int argc, char **argv, struct ctl_args *a)
{
	struct scan s = { g_ptr_array_new(), NULL, NULL, 0 };
	const struct ctl_command *c;
	unsigned used = 0;
	int rc;

	memset(a, 0, sizeof(*a));
	scan_argv(argc, argv, a, &s);
	c = find_row(table, &s, a, &used, &rc);
	if (c == NULL) {
		g_ptr_array_unref(s.words);
		return rc;
	}
	a->cmd = c;
	a->nargs = s.words->len - used;
	a->arg = g_new0(char *, a->nargs + 1);
	memcpy(a->arg, s.words->pdata + used, a->nargs * sizeof(char *));
	g_ptr_array_unref(s.words);
	if ((rc = check_options(c, &s, a)) != 0)
		return rc;
	if (a->opt[CTL_O_HELP]) {
		leaf_usage(stdout, c);
		return 0;
	}
	if (a->opt[CTL_O_VERSION]) {
		printf("textizectl %s\n", TZ_VERSION);
		return 0;
	}
	rc = check_operands(c, a);
	return rc ? rc : -1;
}

void ctl_args_free(struct ctl_args *a)
{
	g_free(a->arg);
	a->arg = NULL;
}
