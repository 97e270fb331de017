/* test_limits.c — pathological messages through the whole engine, each in a
 * child process: 10,000 nested multiparts, 100,000 tiny parts, a 50 MB
 * single-line base64 body (as an attachment and as the text), 100,000
 * nested HTML tables, a header with 100,000 encoded-words, 100,000 RFC 2231
 * filename continuations, and a conversion over its time budget.
 *
 * The inputs are generated here at test time into a temporary directory
 * (never committed), read through a file stream as the milter reads a spooled
 * message. Each child must end with a decision: the expected error for a
 * limit, or a correct conversion. A crash fails the test; a hang is caught by
 * a generous alarm (HANG_SECONDS), not a timed assertion. The child's peak
 * RSS (wait4 ru_maxrss) must stay under the bound written next to each
 * shape; the bounds hold for an unsanitized build — under ASan/valgrind the
 * shadow memory and quarantine make RSS meaningless, so there only the
 * decision is checked. TZ_LIMITS_VERBOSE=1 prints the measurements. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <gmime/gmime.h>

#include "tz_engine.h"
#include "tz_html.h"

#define HANG_SECONDS 300
#define REF "20260101-000000-000000-0000abcd"
#define BIG_DECODED (37500000u)   /* 50,000,000 base64 characters decode to this */

#if defined(__SANITIZE_ADDRESS__)
#define TZ_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TZ_SANITIZED 1
#endif
#endif
#ifndef TZ_SANITIZED
#define TZ_SANITIZED 0
#endif

/* ------------------------------------------------------------ generators */

static char *tmpdir;

static FILE *gen_open(const char *name, char **path)
{
	FILE *f;

	*path = g_build_filename(tmpdir, name, NULL);
	f = fopen(*path, "w");
	assert_non_null(f);
	return f;
}

static void gen_close(FILE *f)
{
	assert_int_equal(ferror(f), 0);
	assert_int_equal(fclose(f), 0);
}

static void top_header(FILE *f, const char *ctype)
{
	fprintf(f, "From: a@example.com\nTo: b@example.jp\nSubject: limits\n"
		   "Message-ID: <limits@example.com>\nMIME-Version: 1.0\nContent-Type: %s\n\n", ctype);
}

/* depth multiparts, each the only child of the one above. */
static void gen_nested(FILE *f, unsigned depth)
{
	top_header(f, "multipart/mixed; boundary=\"b0\"");
	for (unsigned i = 0; i < depth; i++) {
		fprintf(f, "--b%u\n", i);
		if (i + 1 < depth)
			fprintf(f, "Content-Type: multipart/mixed; boundary=\"b%u\"\n\n", i + 1);
		else
			fprintf(f, "Content-Type: text/plain\n\ninnermost\n");
	}
	for (unsigned i = depth; i-- > 0;)
		fprintf(f, "--b%u--\n", i);
}

static void gen_many_parts(FILE *f, unsigned n, bool rfc2231)
{
	/* the RFC 2231 form hides the boundary from tz_prescan's reader */
	top_header(f, rfc2231 ? "multipart/mixed; boundary*=us-ascii''b" : "multipart/mixed; boundary=\"b\"");
	for (unsigned i = 0; i < n; i++)
		fputs("--b\nContent-Type: text/plain\n\nx\n", f);
	fputs("--b--\n", f);
}

/* The decoded bytes of the big body: a fixed pseudo-random sequence, or
 * letters when it is to be read as text. */
static void big_bytes(guint8 *buf, size_t len, size_t off, bool text)
{
	for (size_t i = 0; i < len; i++) {
		size_t k = off + i;
		buf[i] = text ? (guint8)('a' + k % 26) : (guint8)((k * 2654435761u) >> 13);
	}
}

/* One body line of base64 (no line breaks at all), BIG_DECODED bytes. */
static void gen_big_base64(FILE *f, bool text, GChecksum *sum)
{
	guint8 in[3 * 4096];
	char out[sizeof(in) * 4 / 3 + 8];
	int state = 0, save = 0;

	if (text)
		top_header(f, "text/plain; charset=us-ascii\nContent-Transfer-Encoding: base64");
	else
		fputs("From: a@example.com\nTo: b@example.jp\nSubject: big\nMIME-Version: 1.0\n"
		      "Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nbody\n"
		      "--b\nContent-Type: application/octet-stream; name=\"big.bin\"\n"
		      "Content-Transfer-Encoding: base64\n\n", f);
	for (size_t off = 0; off < BIG_DECODED; off += sizeof(in)) {
		size_t n = MIN(sizeof(in), BIG_DECODED - off);
		big_bytes(in, n, off, text);
		if (sum)
			g_checksum_update(sum, in, n);
		/* break_lines FALSE: a single line of 50 MB */
		fwrite(out, 1, g_base64_encode_step(in, n, FALSE, out, &state, &save), f);
	}
	fwrite(out, 1, g_base64_encode_close(FALSE, out, &state, &save), f);
	fputs(text ? "\n" : "\n--b--\n", f);
}

static void gen_html_tables(FILE *f, unsigned depth)
{
	top_header(f, "text/html; charset=utf-8");
	fputs("<html><body><p>before the tables</p>", f);
	for (unsigned i = 0; i < depth; i++)
		fputs("<table><tr><td>", f);
	fputs("deepest", f);
	for (unsigned i = 0; i < depth; i++)
		fputs("</td></tr></table>", f);
	fputs("</body></html>\n", f);
}

/* An HTML body of n unclosed table cells: slow to render (~4 MB/s here),
 * so it shows whether the time budget holds inside the renderer. */
static void gen_html_cells(FILE *f, size_t bytes)
{
	top_header(f, "text/html; charset=utf-8");
	fputs("<html><body><table><tr>", f);
	for (size_t n = 0; n < bytes; n += 5 * 64) {
		for (int i = 0; i < 64; i++)
			fputs("<td>x", f);
		fputc('\n', f);
	}
	fputs("</table></body></html>\n", f);
}

/* Subject of n encoded-words of "あ", folded one word per line. */
static void gen_encoded_words(FILE *f, unsigned n)
{
	fputs("From: a@example.com\nTo: b@example.jp\nSubject:", f);
	for (unsigned i = 0; i < n; i++)
		fputs(i == 0 ? " =?UTF-8?B?44GC?=" : "\n =?UTF-8?B?44GC?=", f);
	fputs("\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nbody\n", f);
}

/* An attachment whose name comes in n RFC 2231 continuations. */
static void gen_rfc2231(FILE *f, unsigned n)
{
	top_header(f, "multipart/mixed; boundary=\"b\"");
	fputs("--b\nContent-Type: text/plain\n\nbody\n--b\n"
	      "Content-Type: application/octet-stream\nContent-Disposition: attachment", f);
	for (unsigned i = 0; i < n; i++)
		fprintf(f, ";\n filename*%u*=%s%%E3%%81%%82", i, i == 0 ? "UTF-8''" : "");
	fputs("\n\nZGF0YQ==\n--b--\n", f);
}

/* ------------------------------------------------------------ the child */

struct outcome {
	int rc;                  /* tz_engine_convert's return */
	char err[TZ_ERRLEN];
	size_t text_bytes;
	unsigned nparts;
	uint64_t part1_size;     /* decoded size of the last stripped part */
	char part_sha[65];
	char subject_head[64];   /* first bytes of the decoded Subject */
	size_t subject_len;
	bool body_has_marker;    /* the decoded body contains the shape's marker */
	long maxrss_kb;          /* filled by the parent */
	double seconds;          /* filled by the parent */
};

static bool body_contains(const struct tz_result *r, const char *marker)
{
	GMimeStream *mem = g_mime_stream_mem_new_with_buffer((const char *)r->body->data, r->body->len);
	GMimeStream *filt = g_mime_stream_filter_new(mem);
	GMimeFilter *dec = g_mime_filter_basic_new(GMIME_CONTENT_ENCODING_BASE64, FALSE);
	GByteArray *plain = g_byte_array_new();
	char buf[4096];
	ssize_t n;
	bool found;

	g_mime_stream_filter_add(GMIME_STREAM_FILTER(filt), dec);
	while ((n = g_mime_stream_read(filt, buf, sizeof(buf))) > 0)
		g_byte_array_append(plain, (guint8 *)buf, (guint)n);
	g_byte_array_append(plain, (const guint8 *)"", 1);
	found = strstr((const char *)plain->data, marker) != NULL;
	g_byte_array_free(plain, TRUE);
	g_object_unref(dec);
	g_object_unref(filt);
	g_object_unref(mem);
	return found;
}

static void child_run(const char *path, const struct tz_engine_options *opt, const char *marker, int wfd)
{
	struct outcome o;
	struct tz_result *res = NULL;
	GMimeStream *in;
	int fd = open(path, O_RDONLY);

	alarm(HANG_SECONDS);
	memset(&o, 0, sizeof(o));
	tz_engine_global_init();
	if (fd < 0)
		_exit(3);
	in = g_mime_stream_fs_new(fd);
	o.rc = tz_engine_convert(opt, in, REF, NULL, &res, o.err, sizeof(o.err));
	if (o.rc == 0) {
		o.text_bytes = res->text_bytes;
		o.nparts = res->parts->len;
		if (res->parts->len > 0) {
			const struct tz_part *p = g_ptr_array_index(res->parts, res->parts->len - 1);
			o.part1_size = p->size;
			memcpy(o.part_sha, p->sha256, sizeof(o.part_sha));
		}
		if (res->subject) {
			o.subject_len = strlen(res->subject);
			g_strlcpy(o.subject_head, res->subject, sizeof(o.subject_head));
		}
		o.body_has_marker = marker && body_contains(res, marker);
	}
	tz_result_free(res);
	g_object_unref(in);
	if (write(wfd, &o, sizeof(o)) != (ssize_t)sizeof(o))
		_exit(4);
	_exit(0);
}

/* Convert path in a child; the parent collects the outcome and the child's
 * peak RSS. A signal (crash, or SIGALRM for a hang) fails the test. */
static void run_shape(const char *label, const char *path, const struct tz_engine_options *opt,
		      const char *marker, struct outcome *o)
{
	int p[2], status;
	struct rusage ru;
	struct timeval t0, t1;
	pid_t pid;
	ssize_t n;

	assert_int_equal(pipe(p), 0);
	gettimeofday(&t0, NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		child_run(path, opt, marker, p[1]);
	}
	close(p[1]);
	memset(o, 0, sizeof(*o));
	n = read(p[0], o, sizeof(*o));
	close(p[0]);
	assert_int_equal(wait4(pid, &status, 0, &ru), pid);
	gettimeofday(&t1, NULL);
	if (WIFSIGNALED(status))
		fail_msg("%s: child killed by signal %d%s", label, WTERMSIG(status),
			 WTERMSIG(status) == SIGALRM ? " (no decision within the hang timeout)" : "");
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(n, (ssize_t)sizeof(*o));
	o->maxrss_kb = ru.ru_maxrss;
	o->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_usec - t0.tv_usec) / 1e6;
	if (getenv("TZ_LIMITS_VERBOSE"))
		fprintf(stderr, "# %-28s rc=%d %-45s %6.2f s  peak RSS %6ld MB\n", label, o->rc,
			o->rc ? o->err : "(converted)", o->seconds, o->maxrss_kb / 1024);
}

static void assert_rss_below(const struct outcome *o, long mb)
{
	if (TZ_SANITIZED || getenv("TZ_LIMITS_NO_RSS"))
		return;
	if (o->maxrss_kb > mb * 1024)
		fail_msg("peak RSS %ld MB over the bound of %ld MB", o->maxrss_kb / 1024, mb);
}

static void assert_error_contains(const struct outcome *o, const char *what)
{
	assert_int_equal(o->rc, -1);
	if (strstr(o->err, what) == NULL)
		fail_msg("error \"%s\" does not name \"%s\"", o->err, what);
}

/* GMime grows a header buffer by small reallocs: nearly free with glibc's
 * realloc (mremap), a fresh copy each time under ASan, which turns a 1-2 MB
 * header block into minutes (valgrind's realloc copies too). The shapes
 * with such a block run in the unsanitized build's make check only. */
static bool skip_big_header_block(void)
{
	if (!TZ_SANITIZED)
		return false;
	print_message("skipped under ASan: GMime's header buffer growth is quadratic there\n");
	return true;
}

/* ------------------------------------------------------------ tests */

static void test_nested_multiparts(void **state)
{
	struct tz_engine_options opt;
	struct outcome o;
	char *path;
	FILE *f = gen_open("nested.eml", &path);

	(void)state;
	gen_nested(f, 10000);
	gen_close(f);
	tz_engine_options_init(&opt);
	/* refused by the byte scan before GMime builds a part */
	run_shape("10,000 nested multiparts", path, &opt, NULL, &o);
	assert_error_contains(&o, "more than 1000 MIME parts");
	assert_rss_below(&o, 32);
	/* with the part limit out of the way, the depth limit decides */
	opt.limits.max_parts = 1000000;
	run_shape("10,000 nested, parts unlimited", path, &opt, NULL, &o);
	assert_error_contains(&o, "MIME nesting deeper than 32");
	assert_rss_below(&o, 64);
	g_free(path);
}

static void test_many_parts(void **state)
{
	struct tz_engine_options opt;
	struct outcome o;
	char *path;
	FILE *f = gen_open("many.eml", &path);

	(void)state;
	gen_many_parts(f, 100000, false);
	gen_close(f);
	tz_engine_options_init(&opt);
	run_shape("100,000 tiny parts", path, &opt, NULL, &o);
	assert_error_contains(&o, "more than 1000 MIME parts");
	assert_rss_below(&o, 32);
	g_free(path);
}

/* A declaration the byte scan cannot read: its backstop (lines beginning
 * with "--") still refuses the message before GMime builds the parts. */
static void test_many_parts_hidden_boundary(void **state)
{
	struct tz_engine_options opt;
	struct outcome o;
	char *path;
	FILE *f = gen_open("many-2231.eml", &path);

	(void)state;
	gen_many_parts(f, 100000, true);
	gen_close(f);
	tz_engine_options_init(&opt);
	run_shape("100,000 parts, RFC 2231 bdry", path, &opt, NULL, &o);
	assert_error_contains(&o, "more than 1000 MIME parts");
	assert_rss_below(&o, 64);
	g_free(path);
}

/* The scan must not refuse ordinary text: 20,000 separator lines of
 * dashes and 20,000 "-- comment" lines (an SQL dump sent as a 7bit text
 * attachment) convert, though 60,000 is over the backstop's 16,000. */
static void test_dash_lines_convert(void **state)
{
	struct tz_engine_options opt;
	struct outcome o;
	char *path;
	FILE *f = gen_open("dashes.eml", &path);

	(void)state;
	top_header(f, "multipart/mixed; boundary=\"b\"");
	fputs("--b\nContent-Type: text/plain\n\n", f);
	for (unsigned i = 0; i < 20000; i++)
		fprintf(f, "----------------\n-- item %u\n", i);
	fputs("last line\n--b\nContent-Type: text/plain; name=dump.sql\n"
	      "Content-Disposition: attachment; filename=dump.sql\n\n", f);
	for (unsigned i = 0; i < 20000; i++)
		fprintf(f, "-- comment %u\nSELECT %u;\n", i, i);
	fputs("--b--\n", f);
	gen_close(f);
	tz_engine_options_init(&opt);
	run_shape("60,000 dash lines, text + SQL", path, &opt, "last line", &o);
	assert_int_equal(o.rc, 0);
	assert_true(o.body_has_marker);
	assert_int_equal(o.nparts, 1);   /* dump.sql stripped */
	g_free(path);
}

/* The 50 MB attachment is streamed, not held: it converts, with the right
 * size and SHA-256, in memory far below its size. */
static void test_big_base64_attachment(void **state)
{
	struct tz_engine_options opt;
	struct outcome o;
	GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
	char *path;
	FILE *f = gen_open("big-attachment.eml", &path);

	(void)state;
	gen_big_base64(f, false, sum);
	gen_close(f);
	tz_engine_options_init(&opt);
	run_shape("50 MB base64 attachment", path, &opt, "body", &o);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.nparts, 1);
	assert_int_equal(o.part1_size, BIG_DECODED);
	assert_string_equal(o.part_sha, g_checksum_get_string(sum));
	assert_true(o.body_has_marker);
	assert_rss_below(&o, 64);
	g_checksum_free(sum);
	unlink(path);
	g_free(path);
}

/* The same size as the text itself: over the output limit, an error. */
static void test_big_base64_text(void **state)
{
	struct tz_engine_options opt;
	struct outcome o;
	char *path;
	FILE *f = gen_open("big-text.eml", &path);

	(void)state;
	gen_big_base64(f, true, NULL);
	gen_close(f);
	tz_engine_options_init(&opt);
	run_shape("50 MB base64 text body", path, &opt, NULL, &o);
	assert_error_contains(&o, "larger than");
	assert_rss_below(&o, 256);
	unlink(path);
	g_free(path);
}

/* Over the budget: an error result naming it (the milter tempfails). */
static void test_time_budget(void **state)
{
	struct tz_engine_options opt;
	struct outcome o;
	char *path;
	FILE *f = gen_open("budget.eml", &path);

	(void)state;
	gen_big_base64(f, false, NULL);
	gen_close(f);
	tz_engine_options_init(&opt);
	opt.limits.time_budget_ms = 1;   /* far less than decoding 37 MB takes */
	run_shape("time budget (1 ms)", path, &opt, NULL, &o);
	assert_error_contains(&o, "time budget of 1 ms exceeded");
	unlink(path);
	g_free(path);
}

static void test_html_tables(void **state)
{
	struct tz_engine_options opt;
	struct outcome o;
	char *path;
	FILE *f = gen_open("tables.eml", &path);

	(void)state;
	gen_html_tables(f, 100000);
	gen_close(f);
	tz_engine_options_init(&opt);
	run_shape("100,000 nested HTML tables", path, &opt, "before the tables", &o);
	assert_int_equal(o.rc, 0);
	assert_true(o.body_has_marker);
	assert_rss_below(&o, 64);
	g_free(path);
}

/* The limits hold inside one HTML parse: 30 MB of "<td>x" would take
 * seconds and ~2 GB of libxml2 DOM. With a 300 ms budget the parser is
 * stopped by the clock; with the default budget, by the DOM node cap. */
static void test_html_time_budget(void **state)
{
	struct tz_engine_options opt;
	struct outcome o;
	char *path;
	FILE *f = gen_open("cells.eml", &path);

	(void)state;
	gen_html_cells(f, 30u << 20);
	gen_close(f);
	tz_engine_options_init(&opt);
	opt.limits.max_output_bytes = 64u << 20;   /* the budget, not the size, must decide */
	opt.limits.time_budget_ms = 300;
	run_shape("30 MB HTML cells, 300 ms", path, &opt, NULL, &o);
	assert_error_contains(&o, "time budget");
	/* stopped inside the parse: the DOM of all 12 million nodes would be ~2 GB */
	assert_rss_below(&o, 384);
	/* with the default budget the DOM cap decides, before the memory goes */
	tz_engine_options_init(&opt);
	opt.limits.max_output_bytes = 64u << 20;
	run_shape("30 MB HTML cells, DOM cap", path, &opt, NULL, &o);
	assert_error_contains(&o, "more than 200000 elements, attributes and comments");
	assert_rss_below(&o, 256);
	unlink(path);
	g_free(path);
}

/* The renderer's own contract: past the deadline or over the node cap, -2
 * and nothing appended; no limits render as tz_html_to_text does. */
static void test_html_deadline_api(void **state)
{
	static const char html[] = "<p>one</p><table><tr><td>two</td></tr></table>";
	GString *a = g_string_new(NULL), *b = g_string_new(NULL), *c = g_string_new("kept");
	unsigned fa = 0, fb = 0;
	char err[256];

	(void)state;
	assert_int_equal(tz_html_to_text(html, strlen(html), 0, a, &fa, err, sizeof(err)), 0);
	assert_int_equal(tz_html_to_text_until(html, strlen(html), 0, 0, 0, b, &fb, err, sizeof(err)), 0);
	assert_string_equal(a->str, b->str);
	assert_int_equal(fa, fb);
	assert_int_equal(tz_html_to_text_until(html, strlen(html), 0, g_get_monotonic_time() - 1, 0, c,
					       NULL, err, sizeof(err)), -2);
	assert_non_null(strstr(err, "time budget"));
	assert_string_equal(c->str, "kept");
	/* 2 elements of the source plus the implied html/body: over a cap of 3 */
	assert_int_equal(tz_html_to_text_until(html, strlen(html), 0, 0, 3, c, NULL, err, sizeof(err)), -2);
	assert_non_null(strstr(err, "more than 3 elements"));
	assert_string_equal(c->str, "kept");
	g_string_free(a, TRUE);
	g_string_free(b, TRUE);
	g_string_free(c, TRUE);
}

/* Over the default 1 MiB header limit: an error. */
static void test_encoded_words_limit(void **state)
{
	struct tz_engine_options opt;
	struct outcome o;
	char *path;
	FILE *f = gen_open("words.eml", &path);

	(void)state;
	gen_encoded_words(f, 100000);
	gen_close(f);
	tz_engine_options_init(&opt);
	run_shape("100,000 encoded-words", path, &opt, NULL, &o);
	assert_error_contains(&o, "header");
	assert_rss_below(&o, 32);
	g_free(path);
}

/* With the header limit raised the same Subject decodes completely: the
 * decoder is not the bottleneck. */
static void test_encoded_words_decoded(void **state)
{
	struct tz_engine_options opt;
	struct outcome o;
	char *path;

	(void)state;
	if (skip_big_header_block())
		return;
	path = g_build_filename(tmpdir, "words.eml", NULL);
	tz_engine_options_init(&opt);
	opt.limits.max_header_bytes = 8 * 1024 * 1024;
	run_shape("100,000 encoded-words, 8 MiB", path, &opt, "body", &o);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.subject_len, 100000 * 3);   /* "あ" is 3 bytes of UTF-8 */
	assert_memory_equal(o.subject_head, "\xe3\x81\x82\xe3\x81\x82", 6);
	assert_rss_below(&o, 64);
	g_free(path);
}

static void test_rfc2231_continuations(void **state)
{
	struct tz_engine_options opt;
	struct outcome o;
	char *path;
	FILE *f;

	(void)state;
	if (skip_big_header_block())
		return;
	f = gen_open("rfc2231.eml", &path);
	gen_rfc2231(f, 100000);
	gen_close(f);
	tz_engine_options_init(&opt);
	run_shape("100,000 RFC 2231 sections", path, &opt, NULL, &o);
	assert_error_contains(&o, "header");
	assert_rss_below(&o, 128);
	g_free(path);
}

static int setup(void **state)
{
	(void)state;
	tmpdir = g_dir_make_tmp("tz-limits-XXXXXX", NULL);
	return tmpdir ? 0 : -1;
}

static int teardown(void **state)
{
	GDir *d = g_dir_open(tmpdir, 0, NULL);
	const char *n;

	(void)state;
	while (d && (n = g_dir_read_name(d)) != NULL) {
		char *p = g_build_filename(tmpdir, n, NULL);
		unlink(p);
		g_free(p);
	}
	if (d)
		g_dir_close(d);
	rmdir(tmpdir);
	g_free(tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_multiparts),
		cmocka_unit_test(test_many_parts),
		cmocka_unit_test(test_many_parts_hidden_boundary),
		cmocka_unit_test(test_dash_lines_convert),
		cmocka_unit_test(test_big_base64_attachment),
		cmocka_unit_test(test_big_base64_text),
		cmocka_unit_test(test_time_budget),
		cmocka_unit_test(test_html_tables),
		cmocka_unit_test(test_html_time_budget),
		cmocka_unit_test(test_html_deadline_api),
		cmocka_unit_test(test_encoded_words_limit),
		cmocka_unit_test(test_encoded_words_decoded),
		cmocka_unit_test(test_rfc2231_continuations),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
