/* bench_engine.c — the text-ization engine alone, in one process, over a
 * batch of messages, next to two floors measured on the same bytes:
 *
 *   read    open + read + close of the file (page cache warm): the I/O floor
 *   gmime   GMime parses the message and decodes every leaf part to a null
 *           stream: what any MIME-correct filter must pay at least
 *   engine  tz_engine_convert (notice, text choice/rendering, charset work,
 *           streaming SHA-256/libmagic/risk sniffing of stripped parts)
 *           with a counting sink, then tz_result_free
 *
 * Each batch is timed for at least -t seconds (default 2) and at least one
 * pass. Output is one line per (batch, mode), easy for bench/run to parse:
 *   BATCH MODE msgs=N bytes=N secs=S mbps=X msgps=Y errors=N
 * MB is 10^6 bytes. The message is converted from a GMime memory stream
 * over bytes already in memory, as the milter does with a spool that stayed
 * in memory; the read floor is timed separately.
 *
 * With -n N every batch runs exactly N timed passes instead (repeatable
 * instruction counts under valgrind --tool=callgrind).
 *
 * usage: bench_engine [-t SECS | -n PASSES] [-m MODES] NAME=FILE|NAME=@DIR ...
 *   MODES: comma list of read,gmime,engine (default all)
 *   @DIR takes every regular file of DIR as one batch (the corpus). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <gmime/gmime.h>
#include "tz_engine.h"

struct msg {
	char *path;
	GByteArray *data;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static GByteArray *slurp(const char *path)
{
	GByteArray *b = g_byte_array_new();
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		fprintf(stderr, "bench_engine: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		g_byte_array_append(b, (guint8 *)buf, (guint)n);
	close(fd);
	return b;
}

static GPtrArray *load_batch(const char *spec)
{
	GPtrArray *a = g_ptr_array_new();

	if (spec[0] == '@') {
		DIR *d = opendir(spec + 1);
		struct dirent *de;

		if (d == NULL) {
			fprintf(stderr, "bench_engine: %s: %s\n", spec + 1, strerror(errno));
			exit(1);
		}
		while ((de = readdir(d)) != NULL) {
			char *p = g_build_filename(spec + 1, de->d_name, NULL);
			struct stat st;

			if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
				struct msg *m = g_new0(struct msg, 1);
				m->path = p;
				m->data = slurp(p);
				g_ptr_array_add(a, m);
			} else {
				g_free(p);
			}
		}
		closedir(d);
	} else {
		struct msg *m = g_new0(struct msg, 1);
		m->path = g_strdup(spec);
		m->data = slurp(spec);
		g_ptr_array_add(a, m);
	}
	return a;
}

/* ---------------------------------------------------------------- modes */

static int run_read(const struct msg *m)
{
	char buf[65536];
	int fd = open(m->path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	close(fd);
	return n < 0 ? -1 : 0;
}

static GMimeStream *mem_stream(const struct msg *m)
{
	/* Over the caller's bytes, no copy: the spool hands the engine its own
	 * buffer the same way. */
	GMimeStream *s = g_mime_stream_mem_new();

	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(s), FALSE);
	g_mime_stream_mem_set_byte_array(GMIME_STREAM_MEM(s), m->data);
	return s;
}

static void decode_leaf(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	GMimeStream *null = data;

	if (GMIME_IS_PART(part)) {
		GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(part));
		if (w)
			g_mime_data_wrapper_write_to_stream(w, null);
	}
}

static int run_gmime(const struct msg *m)
{
	GMimeStream *s = mem_stream(m);
	GMimeParser *p = g_mime_parser_new_with_stream(s);
	GMimeMessage *msg = g_mime_parser_construct_message(p, NULL);
	GMimeStream *null = g_mime_stream_null_new();
	int rc = msg ? 0 : -1;

	if (msg) {
		g_mime_message_foreach(msg, decode_leaf, null);
		g_object_unref(msg);
	}
	g_object_unref(null);
	g_object_unref(p);
	g_object_unref(s);
	return rc;
}

/* The sink receives every stripped byte, as the store would; counting them
 * keeps the compiler from treating the data as dead. */
static size_t sink_bytes;

static int sink_write(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	sink_bytes += len;
	return 0;
}

static const struct tz_part_sink counting_sink = { NULL, NULL, sink_write, NULL };
static struct tz_engine_options opts;
static int verbose;
static unsigned passes;   /* -n: exact number of timed passes, 0 = by time */

static int run_engine(const struct msg *m)
{
	GMimeStream *s = mem_stream(m);
	struct tz_result *res = NULL;
	char err[TZ_ERRLEN];
	int rc = tz_engine_convert(&opts, s, "bench-0000000000000001", &counting_sink,
				   &res, err, sizeof(err));

	if (rc != 0 && verbose)
		fprintf(stderr, "bench_engine: %s: %s\n", m->path, err);
	tz_result_free(res);
	g_object_unref(s);
	return rc;
}

/* ---------------------------------------------------------------- timing */

static void time_batch(const char *name, const char *mode, int (*fn)(const struct msg *),
		       GPtrArray *batch, double min_secs)
{
	unsigned long long msgs = 0, bytes = 0, errors = 0;
	double t0, t;
	unsigned pass = 0;

	/* One untimed pass: page cache, libmagic database, CP932 table. */
	for (guint i = 0; i < batch->len && passes == 0; i++)
		fn(batch->pdata[i]);
	t0 = now();
	do {
		for (guint i = 0; i < batch->len; i++) {
			const struct msg *m = batch->pdata[i];
			if (fn(m) != 0)
				errors++;
			msgs++;
			bytes += m->data->len;
		}
		t = now() - t0;
		pass++;
	} while (passes ? pass < passes : t < min_secs);
	/* errors are counted per pass; report them for one pass */
	printf("%s %s msgs=%llu bytes=%llu secs=%.3f mbps=%.1f msgps=%.1f errors=%llu\n",
	       name, mode, msgs, bytes, t, bytes / t / 1e6, msgs / t,
	       errors * batch->len / (msgs ? msgs : 1));
	fflush(stdout);
}

int main(int argc, char **argv)
{
	double secs = 2.0;
	const char *modes = "read,gmime,engine";
	int c;

	while ((c = getopt(argc, argv, "t:n:m:v")) != -1) {
		switch (c) {
		case 't': secs = atof(optarg); break;
		case 'n': passes = (unsigned)atoi(optarg); break;
		case 'm': modes = optarg; break;
		case 'v': verbose = 1; break;
		default:
			fprintf(stderr, "usage: bench_engine [-t SECS | -n PASSES] [-m read,gmime,engine] [-v] NAME=FILE|NAME=@DIR ...\n");
			return 2;
		}
	}
	tz_engine_global_init();
	tz_engine_options_init(&opts);
	for (int i = optind; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		char *name;
		GPtrArray *batch;

		if (eq == NULL) {
			fprintf(stderr, "bench_engine: expected NAME=FILE, got %s\n", argv[i]);
			return 2;
		}
		name = g_strndup(argv[i], (gsize)(eq - argv[i]));
		batch = load_batch(eq + 1);
		if (strstr(modes, "read"))
			time_batch(name, "read", run_read, batch, secs);
		if (strstr(modes, "gmime"))
			time_batch(name, "gmime", run_gmime, batch, secs);
		if (strstr(modes, "engine"))
			time_batch(name, "engine", run_engine, batch, secs);
		g_free(name);
	}
	return 0;
}
