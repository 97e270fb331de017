/* tz_cdr_child.c — one conversion in a child process of the worker, so
 * that SanitizeWorkers conversions run at once while each still makes its
 * own sandbox runs. The child is a fork of the worker (no exec): it closes
 * every descriptor it inherited (index, audit log, the claims of other
 * parts), runs tz_cdr_file and writes the result as a key file
 * WORKDIR/result, which the parent reads back after the child exited. The
 * child never touches the quarantine, the index or the audit log: the
 * parent records. */
#define _GNU_SOURCE
#include "tz_cdr_child.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib.h>

#include "tz_cdr_int.h"
#include "tz_util.h"

static const char G[] = "result";

static void put_str(GKeyFile *k, const char *key, const char *v)
{
	if (v)
		g_key_file_set_string(k, G, key, v);
}

static G_GNUC_NORETURN void child(const struct tz_cdr_opts *o, const char *input,
				  const char *workdir, const char *conv)
{
	struct tz_cdr_result r = { 0 };
	char err[TZ_ERRLEN] = "";
	GKeyFile *k = g_key_file_new();
	char *path = g_build_filename(workdir, "result", NULL);
	int rc;

	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	close_range(3, ~0U, 0);
	rc = tz_cdr_file(o, input, conv, &r, err, sizeof err);
	if (rc != 0) {
		put_str(k, "error", err);
	} else {
		g_key_file_set_boolean(k, G, "sanitized", r.sanitized);
		put_str(k, "kind", r.kind);
		put_str(k, "detected", r.detected);
		put_str(k, "out_path", r.out_path);
		put_str(k, "out_ext", r.out_ext);
		put_str(k, "out_type", r.out_type);
		g_key_file_set_uint64(k, G, "pages", r.pages);
		g_key_file_set_boolean(k, G, "ocr", r.ocr);
		put_str(k, "ocr_skipped", r.ocr_skipped);
		put_str(k, "reason", r.reason);
		put_str(k, "members", r.members);
	}
	_exit(g_key_file_save_to_file(k, path, NULL) ? (rc == 0 ? 0 : 1) : 2);
}

pid_t tz_cdr_child_start(const struct tz_cdr_opts *o, const char *input, const char *workdir,
			 const char *conv, char *err, size_t errlen)
{
	pid_t pid;

	fflush(NULL);   /* nothing buffered is written twice */
	pid = fork();
	if (pid < 0)
		tz_err(err, errlen, "fork: %s", strerror(errno));
	else if (pid == 0)
		child(o, input, workdir, conv);
	return pid;
}

/* A string of the key file (our own child wrote it), copied into buf. */
static void get_buf(GKeyFile *k, const char *key, char *buf, size_t len)
{
	char *v = g_key_file_get_string(k, G, key, NULL);

	g_strlcpy(buf, v ? v : "", len);
	g_free(v);
}

/* The same as a string of static lifetime, as tz_cdr_result keeps them. */
static const char *get_static(GKeyFile *k, const char *key)
{
	char *v = g_key_file_get_string(k, G, key, NULL);
	const char *s = v ? g_intern_string(v) : NULL;

	g_free(v);
	return s;
}

int tz_cdr_child_result(const char *workdir, int status, struct tz_cdr_result *r,
			char *err, size_t errlen)
{
	char *path = g_build_filename(workdir, "result", NULL);
	GKeyFile *k = g_key_file_new();
	int rc = 0;

	memset(r, 0, sizeof *r);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
		/* the child could not save its result (a full disk): a machine
		 * error, tried again later, not a verdict on the file */
		rc = tz_err(err, errlen, "%s: the conversion could not save its result", workdir);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) > 1 ||
	    !g_key_file_load_from_file(k, path, G_KEY_FILE_NONE, NULL)) {
		/* our own code died on this file (it ran outside the sandbox
		 * only on bytes the sandbox made): decided, never retried in a
		 * loop, never delivered */
		tz_cdr_refuse(r, "crash", "the conversion process died (%s %d)",
			      WIFSIGNALED(status) ? "signal" : "status",
			      WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	} else if (WEXITSTATUS(status) == 1) {
		char e[TZ_ERRLEN];
		get_buf(k, "error", e, sizeof e);
		rc = tz_err(err, errlen, "%s", *e ? e : "conversion failed");
	} else {
		r->sanitized = g_key_file_get_boolean(k, G, "sanitized", NULL);
		r->kind = get_static(k, "kind");
		get_buf(k, "detected", r->detected, sizeof r->detected);
		r->out_path = g_key_file_get_string(k, G, "out_path", NULL);
		r->out_ext = get_static(k, "out_ext");
		r->out_type = get_static(k, "out_type");
		r->pages = (unsigned)g_key_file_get_uint64(k, G, "pages", NULL);
		r->ocr = g_key_file_get_boolean(k, G, "ocr", NULL);
		get_buf(k, "ocr_skipped", r->ocr_skipped, sizeof r->ocr_skipped);
		get_buf(k, "reason", r->reason, sizeof r->reason);
		r->members = g_key_file_get_string(k, G, "members", NULL);
		if (r->sanitized && (r->out_path == NULL || r->out_ext == NULL))
			rc = tz_err(err, errlen, "%s: incomplete result", path);
	}
	g_key_file_free(k);
	g_free(path);
	return rc;
}
