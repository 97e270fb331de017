/* tz_cdr_ppap.c — an encrypted ZIP opened with the password staff give
 * (tz_cdr_ppap.h). */
#include "tz_cdr_ppap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>

#include "tz_clamd.h"
#include "tz_config.h"
#include "tz_cdr_int.h"
#include "tz_log.h"
#include "tz_store.h"
#include "tz_util.h"

void tz_cdr_opts_from_config(struct tz_cdr_opts *o, const struct tz_config *c)
{
	tz_cdr_opts_default(o);
	o->max_pages = c->sanitize_max_pages;
	o->dpi = c->sanitize_dpi ? c->sanitize_dpi : 150;
	o->max_pixels = c->sanitize_max_pixels;
	o->ocr = c->sanitize_ocr;
	o->ocr_languages = c->sanitize_ocr_languages ? c->sanitize_ocr_languages : "jpn+eng";
	o->timeout_s = c->sanitize_timeout ? c->sanitize_timeout : 120;
	o->mem_bytes = c->sanitize_memory;
	o->max_input = c->sanitize_max_input;
	o->zip_max_members = c->sanitize_zip_max_members;
	o->zip_max_ratio = c->sanitize_zip_max_ratio;
	o->zip_max_total = c->sanitize_zip_max_total;
	o->zip_max_depth = c->sanitize_zip_max_depth;
}

int tz_cdr_clamd_scan(void *ctx, const char *path, char *name, size_t namelen,
		      char *err, size_t errlen)
{
	const struct tz_cdr_clamd *c = ctx;
	struct tz_clamd *s;
	enum tz_clamd_verdict v;
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return tz_err(err, errlen, "%s: %s", path, strerror(errno));
	s = tz_clamd_begin(c->socket, c->timeout_s, err, errlen);
	if (s == NULL) {
		close(fd);
		return -1;
	}
	while ((n = read(fd, buf, sizeof buf)) > 0)
		if (tz_clamd_write(s, buf, (size_t)n, err, errlen) < 0)
			break;
	close(fd);
	v = tz_clamd_end(s, name, namelen, err, errlen);
	if (v == TZ_CLAMD_FOUND)
		return 1;
	if (v == TZ_CLAMD_CLEAN && n == 0)
		return 0;
	/* clamd down or refusing a member: not scanned is not clean */
	if (v == TZ_CLAMD_REFUSED)
		tz_err(err, errlen, "clamd refused a member: %s", name);
	else if (n < 0)
		tz_err(err, errlen, "%s: %s", path, strerror(errno));
	return -1;
}

int tz_cdr_ppap_try(const struct tz_cdr_queue *q, const char *id, unsigned index,
		    const char *password, struct tz_cdr_ppap *pp, char *err, size_t errlen)
{
	char *base = g_build_filename(tz_store_dir(q->st), "work", NULL);
	char *input = NULL, *conv = NULL;
	int rc = -1;

	memset(pp, 0, sizeof *pp);
	pp->workdir = g_strdup_printf("%s/ppap-%s-%u-XXXXXX", base, id, index);
	if (mkdir(base, 0700) < 0 && errno != EEXIST) {
		tz_err(err, errlen, "%s: %s", base, strerror(errno));
		goto out;
	}
	if (mkdtemp(pp->workdir) == NULL) {
		tz_err(err, errlen, "%s: %s", pp->workdir, strerror(errno));
		g_free(pp->workdir);
		pp->workdir = NULL;
		goto out;
	}
	input = g_build_filename(pp->workdir, "input", NULL);
	conv = g_build_filename(pp->workdir, "conv", NULL);
	rc = tz_cdr_queue_fetch(q, id, index, 1, input, pp->sha, err, errlen);
	if (rc == 2)
		rc = -1;    /* unreadable in the store: the team's matter, not a password's */
	if (rc != 0)
		goto out;
	if (mkdir(conv, 0700) < 0) {
		rc = tz_err(err, errlen, "%s: %s", conv, strerror(errno));
		goto out;
	}
	rc = tz_cdr_zip(&q->opts, input, password, 0, conv, &pp->r, err, errlen);
out:
	if (input)
		unlink(input);   /* the encrypted original: no longer needed here */
	g_free(base);
	g_free(input);
	g_free(conv);
	return rc;
}

int tz_cdr_ppap_record(const struct tz_cdr_queue *q, const char *id, unsigned index,
		       const struct tz_cdr_ppap *pp, const char *operator_name,
		       char *err, size_t errlen)
{
	int rc;

	if (pp->r.wrong_password)
		return tz_err(err, errlen, "the password did not open the archive: nothing to record");
	rc = tz_cdr_queue_record(q, id, index, 1, pp->sha, &pp->r, operator_name, err, errlen);
	if (rc > 0)
		tz_log(LOG_INFO, id, "part %u opened with the password given by %s: %s", index,
		       operator_name, pp->r.sanitized ? pp->r.members : pp->r.reason);
	if (rc > 0 && q->deliver)
		tz_cdr_queue_deliver(q, id);
	return rc;
}

void tz_cdr_ppap_clear(struct tz_cdr_ppap *pp)
{
	tz_cdr_rm_tree(pp->workdir);
	g_free(pp->workdir);
	tz_cdr_result_clear(&pp->r);
	memset(pp, 0, sizeof *pp);
}
