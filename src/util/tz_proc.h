/* tz_proc.h — run an external command (SanitizerCommand, ReleaseCommand)
 * without a shell: the configured string is split into words (quotes as in
 * sh, no expansion), %i / %o words are replaced, and the process is killed
 * when it outlives its time limit. */
#ifndef TZ_PROC_H
#define TZ_PROC_H

#include <stddef.h>
#include "textize.h"

/* Split cmd into argv, replacing "%i" and "%o" inside words by in / out
 * (either may be NULL when unused). NULL with err on a syntax error or an
 * empty command. Caller g_strfreev()s. */
char **tz_proc_argv(const char *cmd, const char *in, const char *out, char *err, size_t errlen);

/* Run argv with stdin from stdin_fd (-1 = /dev/null), stdout/stderr to
 * /dev/null, killing it (SIGKILL to its process group) after timeout_s
 * seconds (0 = no limit). Returns the exit status (0..255), or -1 with err
 * when it could not run, died on a signal or timed out. */
int tz_proc_run(char **argv, int stdin_fd, unsigned timeout_s, char *err, size_t errlen);

#endif
