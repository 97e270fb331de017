/* tz_cdr_child.h — tz_cdr_file in a child process (tz_cdr_child.c), for a
 * worker that runs several conversions at once. */
#ifndef TZ_CDR_CHILD_H
#define TZ_CDR_CHILD_H

#include <stddef.h>
#include <sys/types.h>
#include "tz_cdr.h"

/* Fork a child that runs tz_cdr_file(o, input, conv) and writes its result
 * into workdir/result; its pid (wait for it with waitpid), or -1 with err. */
pid_t tz_cdr_child_start(const struct tz_cdr_opts *o, const char *input, const char *workdir,
			 const char *conv, char *err, size_t errlen);

/* The result of the child that used workdir and exited with status (from
 * waitpid). 0 decided (r filled; a child that died is "unsanitizable:
 * crash"), -1 with err for a machine error of the child (retry later).
 * Clear r with tz_cdr_result_clear. */
int tz_cdr_child_result(const char *workdir, int status, struct tz_cdr_result *r,
			char *err, size_t errlen);

#endif
