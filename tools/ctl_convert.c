/* ctl_convert.c — `textizectl convert [-c CONF] [--json] [FILE|-]`: run the
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
#include "tz_config.h"
#include "tz_engine.h"
#include "tz_util.h"

static void usage(FILE *f)
{
	fputs("usage: textizectl convert [-c CONF] [--json] [FILE|-]\n"
	      "  Text-ize one message (FILE, or stdin when absent or '-') and print the new\n"
	      "  message; --json prints a summary of charsets and stripped parts instead.\n"
	      "  -c CONF takes the engine settings from CONF; without it, built-in defaults.\n", f);
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

int ctl_convert(int argc, char **argv)
{
	const char *conf = NULL, *path = NULL;
	struct tz_config *cfg = NULL;
	struct tz_engine_options opt;
	struct tz_result *res = NULL;
	GMimeStream *raw = NULL, *in = NULL;
	char err[TZ_ERRLEN], id[TZ_ID_LEN];
	bool json = false;
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (path == NULL && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0))
			path = argv[i];
		else {
			usage(stderr);
			return 2;
		}
	}
	tz_engine_global_init();
	tz_engine_options_init(&opt);
	if (conf != NULL) {
		if ((cfg = tz_config_load(conf, err, sizeof(err))) == NULL) {
			fprintf(stderr, "textizectl convert: %s\n", err);
			goto out;
		}
		tz_config_engine_options(cfg, &opt);
	}
	if ((raw = open_input(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "textizectl convert: %s\n", err);
		goto out;
	}
	in = tz_engine_input(raw);   /* what the engine reads: header output must match */
	tz_id_new(id);
	if (tz_engine_convert(&opt, in, id, NULL, &res, err, sizeof(err)) != 0) {
		fprintf(stderr, "textizectl convert: %s: %s\n", path && strcmp(path, "-") ? path : "stdin", err);
		goto out;
	}
	if (json) {
		char *j = tz_result_to_json(res);
		printf("%s\n", j);
		g_free(j);
		rc = fflush(stdout) == 0 ? 0 : 1;
	} else if (g_mime_stream_reset(in) != 0
		   || tz_result_write_message(res, in, stdout, err, sizeof(err)) != 0) {
		fprintf(stderr, "textizectl convert: %s\n", err);
	} else {
		rc = 0;
	}
out:
	tz_result_free(res);
	if (in != NULL)
		g_object_unref(in);
	if (raw != NULL)
		g_object_unref(raw);
	tz_config_unref(cfg);
	return rc;
}
