/* ctl.h — textizectl subcommands. Each lives in its own tools/ctl_*.c and is
 * listed once in the table in textizectl.c. A command gets argv starting at
 * its own name and returns the process exit code. */
#ifndef TZ_CTL_H
#define TZ_CTL_H

struct ctl_command {
	const char *name;      /* "convert", "queue", "audit", ... */
	const char *summary;   /* one line for `textizectl help` */
	int (*run)(int argc, char **argv);
};

int ctl_convert(int argc, char **argv);

#endif
