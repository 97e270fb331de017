/* tz_cdr_int.h — shared between the converters of tz_cdr*.c; not public. */
#ifndef TZ_CDR_INT_H
#define TZ_CDR_INT_H

#include "tz_cdr.h"
#include "tz_sandbox.h"

/* Set r to "not sanitizable" with a printf reason; returns 0 (decided). */
int tz_cdr_refuse(struct tz_cdr_result *r, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Sandbox limits for one run of a converter under o. */
void tz_cdr_limits(const struct tz_cdr_opts *o, struct tz_sandbox_limits *l);

/* Make workdir/name (mode 0700); its path, g_free(); NULL with err. */
char *tz_cdr_subdir(const char *workdir, const char *name, char *err, size_t errlen);

/* Run job; 0 when the converter exited 0, 1 when the file made it fail or
 * be killed (reason in r, kind as given), -1 with err when the sandbox
 * could not run. */
int tz_cdr_run(const struct tz_sandbox_job *job, struct tz_cdr_result *r, const char *kind,
	       char *err, size_t errlen);

/* Copy (or hard-link) src to the new file dst; 0, or -1 with err. */
int tz_cdr_copy(const char *src, const char *dst, char *err, size_t errlen);

/* A small text file a sandbox wrote (a manifest, pdfinfo's output), read
 * as untrusted: a regular file, not through a link, not a FIFO, at most
 * max bytes. NUL-terminated text (g_free), or NULL. */
char *tz_cdr_read_output(const char *path, size_t max);

/* Remove dir and everything under it (NULL: nothing). */
void tz_cdr_rm_tree(const char *dir);

/* tz_cdr_file for a member of an archive nested depth levels deep. */
int tz_cdr_file_at(const struct tz_cdr_opts *o, const char *input, unsigned depth,
		   const char *workdir, struct tz_cdr_result *r, char *err, size_t errlen);

/* The converters. Same contract as tz_cdr_file. */
int tz_cdr_pdf(const struct tz_cdr_opts *o, const char *input, const char *workdir,
	       struct tz_cdr_result *r, char *err, size_t errlen);
int tz_cdr_office(const struct tz_cdr_opts *o, const char *input, const char *ext,
		  const char *workdir, struct tz_cdr_result *r, char *err, size_t errlen);
int tz_cdr_image(const struct tz_cdr_opts *o, const char *input, const char *workdir,
		 struct tz_cdr_result *r, char *err, size_t errlen);
int tz_cdr_text(const struct tz_cdr_opts *o, const char *input, bool csv, const char *workdir,
		struct tz_cdr_result *r, char *err, size_t errlen);

#endif
