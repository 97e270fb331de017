/* ctl_convert.c — `textizectl convert [--json] [--parts DIR] [FILE|-]`: run the
 * text-ization engine on one message, offline, and print the new message
 * (or a JSON summary of what was found and stripped). Input that is not a
 * regular file (stdin, pipes) is copied to an unlinked temporary file first:
 * the engine needs a seekable stream and never holds the message as a string. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gmime/gmime.h>

#include "textize.h"
#include "ctl.h"
#include "ctl_args.h"
#include "tz_config.h"
#include "tz_engine.h"
#include "tz_util.h"

/* --parts: a part sink writing each stripped part to DIR/part-NNN.bin, the
 * names the quarantine uses; the file is created new (O_EXCL), 0600. */
struct parts_dir {
	const char *dir;
	FILE *f;
};

static int parts_begin(void *ctx, const struct tz_part *part, char *err, size_t errlen)
{
	struct parts_dir *pd = ctx;
	char *path = g_strdup_printf("%s/part-%03u.bin", pd->dir, part->index);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	pd->f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (pd->f == NULL) {
		tz_err(err, errlen, "cannot create %s: %s", path, g_strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	g_free(path);
	return pd->f != NULL ? 0 : -1;
}

static int parts_write(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	struct parts_dir *pd = ctx;

	if (fwrite(buf, 1, len, pd->f) != len)
		return tz_err(err, errlen, "write error: %s", g_strerror(errno));
	return 0;
}

static int parts_end(void *ctx, const struct tz_part *part, char *err, size_t errlen)
{
	struct parts_dir *pd = ctx;
	int rc = fclose(pd->f);

	(void)part;
	pd->f = NULL;
	return rc == 0 ? 0 : tz_err(err, errlen, "write error: %s", g_strerror(errno));
}

/* A seekable stream over the input; NULL with err on failure. */
static GMimeStream *open_input(const char *path, char *err, size_t errlen)
{
	struct stat st;
	FILE *tmp;
	char buf[65536];
	ssize_t n;
	int fd = 0;

	if (path != NULL && strcmp(path, "-") != 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			tz_err(err, errlen, "%s: %s", path, strerror(errno));
			return NULL;
		}
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			return g_mime_stream_fs_new(fd);
	}
	tmp = tmpfile();
	if (tmp == NULL) {
		tz_err(err, errlen, "temporary file: %s", strerror(errno));
		goto fail;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, (size_t)n, tmp) != (size_t)n)
			break;
	if (n < 0 || ferror(tmp) || fflush(tmp) != 0) {
		tz_err(err, errlen, "%s: cannot read input", path ? path : "stdin");
		fclose(tmp);
		goto fail;
	}
	if (fd > 0)
		close(fd);
	rewind(tmp);
	return g_mime_stream_file_new(tmp);
fail:
	if (fd > 0)
		close(fd);
	return NULL;
}

int ctl_convert(const struct ctl_args *a)
{
	const char *conf = a->opt[CTL_O_CONF], *path = ctl_arg(a, 0);
	struct tz_config *cfg = NULL;
	struct tz_engine_options opt;
	struct tz_result *res = NULL;
	GMimeStream *raw = NULL, *in = NULL;
	char err[TZ_ERRLEN], id[TZ_ID_LEN];
	bool json;
	int rc = EX_DATAERR;
	struct parts_dir pd = { NULL, NULL };
	struct tz_part_sink sink = { &pd, parts_begin, parts_write, parts_end };

	json = a->opt[CTL_O_JSON] || g_strcmp0(a->opt[CTL_O_FORMAT], "json") == 0;
	pd.dir = a->opt[CTL_O_PARTS];
	tz_engine_global_init();
	tz_engine_options_init(&opt);
	if (conf != NULL) {
		if ((cfg = tz_config_load(conf, err, sizeof(err))) == NULL) {
			rc = ctl_fail(a, EX_CONFIG, "%s", err);
			goto out;
		}
		tz_config_engine_options(cfg, &opt);
	}
	if ((raw = open_input(path, err, sizeof(err))) == NULL) {
		rc = ctl_fail(a, EX_NOINPUT, "%s", err);
		goto out;
	}
	in = tz_engine_input(raw);   /* what the engine reads: header output must match */
	tz_id_new(id);
	if (tz_engine_convert(&opt, in, id, pd.dir ? &sink : NULL, &res, err, sizeof(err)) != 0) {
		rc = ctl_fail(a, EX_DATAERR, "%s: %s", path && strcmp(path, "-") ? path : "stdin", err);
		goto out;
	}
	if (json) {
		char *j = tz_result_to_json(res);
		printf("%s\n", j);
		g_free(j);
		rc = fflush(stdout) == 0 ? 0 : EX_IOERR;
	} else if (g_mime_stream_reset(in) != 0
		   || tz_result_write_message(res, in, stdout, err, sizeof(err)) != 0) {
		rc = ctl_fail(a, EX_IOERR, "%s", err);
	} else {
		rc = 0;
	}
out:
	if (pd.f != NULL)
		fclose(pd.f);
	tz_result_free(res);
	if (in != NULL)
		g_object_unref(in);
	if (raw != NULL)
		g_object_unref(raw);
	tz_config_unref(cfg);
	return rc;
}
