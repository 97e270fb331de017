/* ctl_args.h — textizectl's one command-line grammar. The commands, their
 * subcommands, operands and options are rows of one table (textizectl.c);
 * ctl_args_parse walks argv once with getopt_long, so every option is
 * accepted before or after the command words (`textizectl -c F queue list`
 * == `textizectl queue list -c F` == `textizectl queue -c F list`), checks
 * it against the row, and answers --help / --version / usage errors itself.
 * Errors are one line on stderr naming the problem and the valid choices;
 * exit codes are sysexits(3) (see textizectl(8) EXIT STATUS). */
#ifndef TZ_CTL_ARGS_H
#define TZ_CTL_ARGS_H

#include <stdint.h>
#include <stdio.h>
#include <sysexits.h>

/* Every option textizectl knows; a command row says which it takes. */
enum ctl_opt {
	/* global: every command accepts these */
	CTL_O_CONF, CTL_O_FORMAT, CTL_O_OPERATOR, CTL_O_HELP, CTL_O_VERSION, CTL_O_TENANT,
	/* per command */
	CTL_O_SINCE, CTL_O_UNTIL, CTL_O_FROM, CTL_O_RCPT, CTL_O_FLAG, CTL_O_STATE,
	CTL_O_OUT, CTL_O_FORCE, CTL_O_TO, CTL_O_AGAIN, CTL_O_REASON, CTL_O_OLDER_THAN,
	CTL_O_WATCH, CTL_O_INTERVAL, CTL_O_DATE, CTL_O_STATE_DIR, CTL_O_SOCKET,
	CTL_O_JSON, CTL_O_PARTS, CTL_O_RECLAIM, CTL_O_DRY_RUN, CTL_O_TO_BLOBS, CTL_O_REMOVE_LOCAL,
	CTL_O_COUNT
};
#define CTL_OPT(o) (UINT32_C(1) << (o))
#define CTL_ANY 1000u   /* max_args: no upper limit */

struct ctl_args;

/* One row: a command ("convert", sub NULL) or a subcommand ("queue",
 * "list"). A group's rows are consecutive. */
struct ctl_command {
	const char *name;
	const char *sub;
	const char *operands;  /* for the usage line, "" when none */
	unsigned min_args, max_args;
	uint32_t opts;         /* CTL_OPT() bits beyond the global options */
	const char *formats;   /* "table,csv,json": what --format takes; NULL: none */
	const char *summary;   /* one line */
	const char *help;      /* more lines for --help, or NULL */
	int (*run)(const struct ctl_args *a);
};

struct ctl_args {
	const struct ctl_command *cmd;
	const char *opt[CTL_O_COUNT];  /* the value; "" for a flag; NULL: not given */
	char **arg;                    /* operands after the command words (borrowed) */
	unsigned nargs;
};

/* Parse argv against the table (ended by a row with name NULL). Returns -1
 * when a->cmd should run; otherwise the exit code, after printing the help,
 * the version or the usage error. a->arg is freed by ctl_args_free. */
int ctl_args_parse(const struct ctl_command *table, int argc, char **argv,
		   struct ctl_args *a);
void ctl_args_free(struct ctl_args *a);

/* The operand i, or NULL. */
const char *ctl_arg(const struct ctl_args *a, unsigned i);

/* "queue list": the command words, for messages. */
const char *ctl_cmd_name(const struct ctl_args *a);

/* Print "textizectl: CMD: <message>" as one line on stderr; returns code. */
int ctl_fail(const struct ctl_args *a, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* value must be one of the comma-separated choices; else a usage error
 * naming them ("--state: unknown value 'bogus' (pending, clean, ...)").
 * Returns 0 or EX_USAGE. NULL value is fine. */
int ctl_check_choice(const struct ctl_args *a, const char *option, const char *value,
		     const char *choices);

/* A non-negative integer option (<= max), or EX_USAGE after saying so.
 * Leaves *out alone when the option is absent. */
int ctl_opt_uint(const struct ctl_args *a, enum ctl_opt o, unsigned max, unsigned *out);

#endif
