/* eom-store.c — textize-milter's end of message without the milter: for
 * each pass, a new entry in a segment store, the original stored, the
 * engine converting with the store as its sink, the commit (segment
 * record and fdatasync; no audit or index hooks). What is left of the
 * end-of-message CPU once the protocol is taken away, in one thread, so
 * that callgrind can count it (bench/eom-callgrind) and getrusage time it.
 * With EOM_HOOKS=1 the milter's hooks too (DIR/audit.log, DIR/report.db),
 * and the commit's wall time per pass is printed as p50/p90/p99 with the
 * page faults and context switches per pass: the commit step of
 * latency-probe without Postfix (EOM_GAP_MS between passes, default 0).
 *
 * usage: eom-store DIR MESSAGE PASSES [KEYFILE]
 * prints: passes=N cpu_ms_per_pass=X
 * Instructions per message: callgrind with PASSES 21 minus PASSES 1, / 20.
 * Built by hand like bench/engine-callgrind's bench_engine, B a build dir:
 *   gcc -O2 -g -I$B $(for d in src src/[a-z]*; do printf -- '-I%s ' $d; done) \
 *     $(pkg-config --cflags gmime-3.0) bench/eom-store.c -o /tmp/eom-store \
 *     -Wl,--start-group $B/src/{util,charset,html,engine,store,policy,global}/libtz*.a \
 *     -Wl,--end-group \
 *     $(pkg-config --libs gmime-3.0 libxml-2.0 uchardet openssl) -lmagic -lsqlite3 -lspf2 -lm -lpthread */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <gmime/gmime.h>
#include "tz_engine.h"
#include "tz_envelope.h"
#include "tz_audit.h"
#include "tz_store.h"
#include "tz_store_link.h"
#include "tz_util.h"

static double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static double *commit_ms;   /* EOM_HOOKS: each pass's commit, wall */
static int npass;

static double wall_ms(void)
{
	return (double)g_get_monotonic_time() / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int one(struct tz_store *st, const struct tz_engine_options *opt, GByteArray *msg,
	       struct tz_envelope *env)
{
	double t;
	char err[TZ_ERRLEN] = "";
	struct tz_store_entry *e = tz_store_entry_begin(st, err, sizeof(err));
	GMimeStream *orig, *in;
	struct tz_result *res = NULL;
	int rc = -1;

	if (e == NULL)
		goto out;
	/* two readers of the same bytes, as eom.c has (tz_spool_stream) */
	orig = g_mime_stream_mem_new_with_byte_array(msg);
	in = g_mime_stream_mem_new_with_byte_array(msg);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(orig), FALSE);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(in), FALSE);
	if (tz_store_entry_put_original(e, orig, err, sizeof(err)) == 0 &&
	    tz_engine_convert(opt, in, tz_store_entry_id(e), tz_store_entry_sink(e), &res,
			      err, sizeof(err)) == 0) {
		t = wall_ms();
		rc = tz_store_entry_commit(e, env, res, err, sizeof(err));
		if (commit_ms)
			commit_ms[npass++] = wall_ms() - t;
		e = NULL;
	}
	tz_store_entry_abort(e);
	tz_result_free(res);
	g_object_unref(orig);
	g_object_unref(in);
out:
	if (rc < 0)
		fprintf(stderr, "eom-store: %s\n", err);
	return rc;
}

int main(int argc, char **argv)
{
	struct tz_envelope env = { 0 };
	struct tz_engine_options opt;
	char err[TZ_ERRLEN] = "";
	struct tz_store *st;
	GByteArray *msg;
	gchar *data;
	gsize len;
	struct rusage ru0, ru1;
	int n;
	double t0;

	if (argc < 4 || !g_file_get_contents(argv[2], &data, &len, NULL)) {
		fprintf(stderr, "usage: eom-store DIR MESSAGE PASSES [KEYFILE]\n");
		return 2;
	}
	g_mime_init();
	msg = g_byte_array_new_take((guint8 *)data, len);
	n = atoi(argv[3]);
	st = tz_store_open(argv[1], argc > 4 ? argv[4] : NULL, err, sizeof(err));
	if (st == NULL || tz_store_use_segments(st, err, sizeof(err)) < 0) {
		fprintf(stderr, "eom-store: %s\n", err);
		return 1;
	}
	tz_engine_options_init(&opt);
	env.sender = (char *)"sender@example.jp";
	env.rcpts = g_ptr_array_new();
	g_ptr_array_add(env.rcpts, (char *)"staff@city.example.lg.jp");
	env.direction = TZ_DIR_INBOUND;
	if (getenv("EOM_HOOKS") && atoi(getenv("EOM_HOOKS")) > 0) {
		char *ap = g_strdup_printf("%s/audit.log", argv[1]);
		char *ix = g_strdup_printf("%s/report.db", argv[1]);
		struct tz_audit *a = tz_audit_open(ap, NULL, err, sizeof(err));
		if (a == NULL) {
			fprintf(stderr, "eom-store: %s\n", err);
			return 1;
		}
		tz_store_set_audit(st, a);
		tz_store_set_index(st, ix);
		commit_ms = g_new0(double, n > 0 ? n : 1);
		g_free(ap);
		g_free(ix);
	}
	t0 = cpu_ms();
	getrusage(RUSAGE_SELF, &ru0);
	for (int i = 0; i < n; i++) {
		if (one(st, &opt, msg, &env) < 0)
			return 1;
		if (getenv("EOM_GAP_MS"))
			g_usleep((gulong)atoi(getenv("EOM_GAP_MS")) * 1000);
	}
	getrusage(RUSAGE_SELF, &ru1);
	printf("passes=%d cpu_ms_per_pass=%.3f\n", n, n ? (cpu_ms() - t0) / n : 0.0);
	if (commit_ms && npass > 0) {
		qsort(commit_ms, (size_t)npass, sizeof(double), cmp_d);
		printf("commit_ms p50=%.3f p90=%.3f p99=%.3f max=%.3f minflt_per_pass=%.1f "
		       "csw_per_pass=%.1f\n", commit_ms[(npass - 1) / 2], commit_ms[(npass - 1) * 9 / 10],
		       commit_ms[(npass - 1) * 99 / 100], commit_ms[npass - 1],
		       (double)(ru1.ru_minflt - ru0.ru_minflt) / npass,
		       (double)(ru1.ru_nvcsw + ru1.ru_nivcsw - ru0.ru_nvcsw - ru0.ru_nivcsw) / npass);
	}
	tz_store_free(st);
	g_ptr_array_unref(env.rcpts);
	g_byte_array_unref(msg);
	return 0;
}
