/* test_blob.c — shared blobs (tz_blob.h, tz_store_blob.c, tz_blob_s3.c):
 * the directory backend's put/get/delete/list; two stores ("gateways")
 * with their own QuarantineDir on one backend: an entry committed by A is
 * listed, read and changed by B, is sealed in the backend and not left on
 * A's disk, and removed by B everywhere; a backend that fails a put fails
 * the commit (nothing listed, nothing left); the sweep of half-removed
 * entries; SigV4 as libcurl signs it for us, against AWS's published test
 * vector (get-vanilla); the S3 backend against a scripted local HTTP peer:
 * request shape, payload hash, retry of a 503, no retry of a 403, a peer
 * that never answers (timeout), 404 as absent; S3AccessKeyFile's mode. */
#define _GNU_SOURCE 1   /* O_TMPFILE, strcasestr */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "tz_blob.h"
#include "tz_s3.h"
#include "tz_store.h"
#include "tz_store_testlib.h"

static const char original[] = "From: a@example.jp\r\nTo: b@example.lg.jp\r\n"
	"Subject: blob test\r\n\r\nbody\r\n";

/* A backend that wraps the directory one and can be told to fail. */
struct flaky {
	struct tz_blob b;
	struct tz_blob *in;
	int fail_put_after;        /* puts that still succeed; -1 = all */
	gint puts;                 /* (atomic: a commit puts from several threads) */
	unsigned delay_us;         /* each put takes this long */
	gint inflight, max_inflight;
	gint meta_early;           /* meta.json put while the entry lacked a file */
};

static void fl_check_meta_last(struct flaky *f, const char *id)
{
	GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
	char err[TZ_ERRLEN];

	/* commit_one's entry: original.eml and part-001.bin before meta.json */
	if (f->in->ops->list(f->in, id, keys, err, sizeof(err)) < 0 || keys->len < 2)
		g_atomic_int_inc(&f->meta_early);
	g_ptr_array_unref(keys);
}

static int fl_put(struct tz_blob *b, const char *id, const char *name, int fd, uint64_t size,
		  char *err, size_t errlen)
{
	struct flaky *f = (struct flaky *)b;
	gint now = g_atomic_int_add(&f->inflight, 1) + 1, max;
	int rc;

	while ((max = g_atomic_int_get(&f->max_inflight)) < now &&
	       !g_atomic_int_compare_and_exchange(&f->max_inflight, max, now))
		;
	if (f->delay_us)
		g_usleep(f->delay_us);
	if (strcmp(name, "meta.json") == 0)
		fl_check_meta_last(f, id);
	if (f->fail_put_after >= 0 && g_atomic_int_add(&f->puts, 1) >= f->fail_put_after)
		rc = tz_err(err, errlen, "injected put failure");
	else
		rc = f->in->ops->put(f->in, id, name, fd, size, err, errlen);
	g_atomic_int_add(&f->inflight, -1);
	return rc;
}
static int fl_get(struct tz_blob *b, const char *id, const char *name, int outfd, uint64_t max,
		  char *err, size_t errlen)
{
	return ((struct flaky *)b)->in->ops->get(((struct flaky *)b)->in, id, name, outfd, max, err, errlen);
}
static int fl_del(struct tz_blob *b, const char *id, const char *name, char *err, size_t errlen)
{
	return ((struct flaky *)b)->in->ops->del(((struct flaky *)b)->in, id, name, err, errlen);
}
static int fl_list(struct tz_blob *b, const char *id, GPtrArray *keys, char *err, size_t errlen)
{
	return ((struct flaky *)b)->in->ops->list(((struct flaky *)b)->in, id, keys, err, errlen);
}
static void fl_free(struct tz_blob *b)
{
	tz_blob_free(((struct flaky *)b)->in);
	g_free(b);
}
static const struct tz_blob_ops flaky_ops = { "flaky", fl_put, fl_get, fl_del, fl_list, fl_free };

static struct flaky *flaky_new(const char *dir)
{
	struct flaky *f = g_new0(struct flaky, 1);
	char err[TZ_ERRLEN];

	f->b.ops = &flaky_ops;
	f->in = tz_blob_dir_new(dir, err, sizeof(err));
	assert_non_null(f->in);
	f->fail_put_after = -1;
	return f;
}

/* Commit one entry with one part of `size` bytes into st. */
static int commit_one(struct tz_store *st, char id[TZ_ID_LEN], char *err, size_t errlen)
{
	struct tz_store_entry *e = tz_store_entry_begin(st, err, errlen);
	struct tz_result *res = tl_result();
	struct tz_envelope *env = tl_envelope("sender@example.jp", "staff@city.example.lg.jp");
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(original, strlen(original));
	const struct tz_part_sink *sink;
	char part[3000];
	struct tz_part *p;
	int rc = -1;

	assert_non_null(e);
	for (size_t k = 0; k < sizeof(part); k++)
		part[k] = (char)(k * 13 + 1);
	p = tl_part(1, "見積書.pdf", part, sizeof(part), 0);
	g_ptr_array_add(res->parts, p);
	sink = tz_store_entry_sink(e);
	g_strlcpy(id, tz_store_entry_id(e), TZ_ID_LEN);
	if (tz_store_entry_put_original(e, s, err, errlen) < 0 ||
	    sink->begin(sink->ctx, p, err, errlen) < 0 ||
	    sink->write(sink->ctx, part, sizeof(part), err, errlen) < 0 ||
	    sink->end(sink->ctx, p, err, errlen) < 0) {
		tz_store_entry_abort(e);
		goto out;
	}
	rc = tz_store_entry_commit(e, env, res, err, errlen);
out:
	g_object_unref(s);
	tl_result_free(res);
	tl_envelope_free(env);
	return rc;
}

static int collect(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	g_byte_array_append(ctx, buf, (guint)len);
	return 0;
}

static void test_dir_backend(void **state)
{
	char *dir = tl_tmpdir(), *bdir = g_build_filename(dir, "blobs", NULL), err[TZ_ERRLEN];
	struct tz_blob *b = tz_blob_dir_new(bdir, err, sizeof(err));
	const char *id = "20261203-080000-000001-0123abcd";
	char *in = g_build_filename(dir, "in", NULL), *out = g_build_filename(dir, "out", NULL);
	GPtrArray *names, *complete, *partial;
	int fd, ofd;

	(void)state;
	assert_non_null(b);
	assert_string_equal(tz_blob_kind(b), "directory");
	g_file_set_contents(in, "sealed bytes", 12, NULL);
	fd = open(in, O_RDONLY);
	ofd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(tz_blob_put(b, id, "part-001.bin", fd, 12, err, sizeof(err)), 0);
	assert_int_equal(tz_blob_get(b, id, "part-001.bin", ofd, 100, err, sizeof(err)), 0);
	assert_int_equal(lseek(ofd, 0, SEEK_END), 12);
	/* more than max is an error, not a truncated blob */
	assert_int_equal(tz_blob_get(b, id, "part-001.bin", ofd, 5, err, sizeof(err)), -1);
	assert_int_equal(tz_blob_get(b, id, "meta.json", ofd, 100, err, sizeof(err)), TZ_BLOB_ABSENT);
	/* names that could leave the store are refused before any backend */
	assert_int_equal(tz_blob_put(b, id, "../x", fd, 12, err, sizeof(err)), -1);
	assert_int_equal(tz_blob_put(b, "../../etc", "x", fd, 12, err, sizeof(err)), -1);
	assert_int_equal(tz_blob_entries(b, &complete, &partial, err, sizeof(err)), 0);
	assert_int_equal(complete->len, 0);   /* no meta.json: not an entry (yet) */
	assert_int_equal(partial->len, 1);
	g_ptr_array_unref(complete);
	g_ptr_array_unref(partial);
	assert_int_equal(tz_blob_put(b, id, "meta.json", fd, 12, err, sizeof(err)), 0);
	assert_int_equal(tz_blob_entries(b, &complete, NULL, err, sizeof(err)), 0);
	assert_int_equal(complete->len, 1);
	assert_string_equal(g_ptr_array_index(complete, 0), id);
	g_ptr_array_unref(complete);
	if (tz_blob_names(b, id, &names, err, sizeof(err)) != 0)
		fail_msg("list: %s", err);
	assert_int_equal(names->len, 2);
	assert_string_equal(g_ptr_array_index(names, 0), "meta.json");
	g_ptr_array_unref(names);
	assert_int_equal(tz_blob_delete(b, id, "meta.json", err, sizeof(err)), 0);
	assert_int_equal(tz_blob_delete(b, id, "meta.json", err, sizeof(err)), 0);   /* absent: fine */
	assert_int_equal(tz_blob_delete(b, id, "part-001.bin", err, sizeof(err)), 0);
	assert_int_equal(tz_blob_names(b, id, &names, err, sizeof(err)), 0);
	assert_int_equal(names->len, 0);
	g_ptr_array_unref(names);
	close(fd);
	close(ofd);
	tz_blob_free(b);
	tl_rmrf(dir);
	g_free(in);
	g_free(out);
	g_free(bdir);
	g_free(dir);
}

/* Gateways A and B: own QuarantineDirs, one key, one backend directory. */
struct pair {
	char *dir, *key, *bdir;
	struct tz_store *a, *b;
	struct flaky *fa;
};

static void pair_open(struct pair *p)
{
	char err[TZ_ERRLEN], *qa, *qb;
	struct flaky *fb;

	p->dir = tl_tmpdir();
	p->key = tl_keyfile(p->dir, "q.key", 0x30);
	p->bdir = g_build_filename(p->dir, "blobs", NULL);
	qa = g_build_filename(p->dir, "qa", NULL);
	qb = g_build_filename(p->dir, "qb", NULL);
	p->a = tz_store_open(qa, p->key, err, sizeof(err));
	p->b = tz_store_open(qb, p->key, err, sizeof(err));
	assert_non_null(p->a);
	assert_non_null(p->b);
	p->fa = flaky_new(p->bdir);
	fb = flaky_new(p->bdir);
	tz_store_set_blobs(p->a, &p->fa->b);
	tz_store_set_blobs(p->b, &fb->b);
	g_free(qa);
	g_free(qb);
}

static void pair_close(struct pair *p)
{
	tz_store_free(p->a);
	tz_store_free(p->b);
	tl_rmrf(p->dir);
	g_free(p->dir);
	g_free(p->key);
	g_free(p->bdir);
}

static unsigned files_under(const char *dir, const char *id)
{
	char *cmd = g_strdup_printf("find '%s' -type f -path '*%s*' | wc -l", dir, id), *out = NULL;
	unsigned n;

	char *argv[] = { "sh", "-c", cmd, NULL };

	if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL, NULL, NULL))
		fail_msg("cannot run find");
	n = (unsigned)atoi(out ? out : "0");
	g_free(out);
	g_free(cmd);
	return n;
}

static void test_two_gateways(void **state)
{
	struct pair p;
	char id[TZ_ID_LEN], err[TZ_ERRLEN], *path, *raw = NULL, *qa;
	GPtrArray *ids;
	GByteArray *ba = g_byte_array_new();
	struct tz_meta *m;
	gsize rawlen = 0;

	(void)state;
	pair_open(&p);
	assert_int_equal(commit_one(p.a, id, err, sizeof(err)), 0);
	/* B lists and reads what A committed */
	assert_int_equal(tz_store_list(p.b, &ids, err, sizeof(err)), 0);
	assert_int_equal(ids->len, 1);
	assert_string_equal(g_ptr_array_index(ids, 0), id);
	g_ptr_array_unref(ids);
	m = tz_store_meta_read(p.b, id, err, sizeof(err));
	assert_non_null(m);
	assert_int_equal(m->parts->len, 1);
	assert_int_equal(tz_store_file_read(p.b, id, "original.eml", collect, ba, err, sizeof(err)), 0);
	assert_int_equal(ba->len, strlen(original));
	assert_memory_equal(ba->data, original, ba->len);
	/* sealed in the backend: the header, not the plaintext */
	path = g_build_filename(p.bdir, id, "original.eml", NULL);
	assert_true(g_file_get_contents(path, &raw, &rawlen, NULL));
	assert_memory_equal(raw, "TZQE", 4);
	assert_null(g_strstr_len(raw, (gssize)rawlen, "blob test"));
	g_free(raw);
	g_free(path);
	/* and not left on A's disk */
	qa = g_build_filename(p.dir, "qa", NULL);
	assert_int_equal(files_under(qa, id), 0);
	/* a change B makes is what A reads */
	g_free(m->ref);
	m->ref = g_strdup("1203-B0B0");
	assert_int_equal(tz_store_meta_write(p.b, m, err, sizeof(err)), 0);
	tz_meta_free(m);
	m = tz_store_meta_read(p.a, id, err, sizeof(err));
	assert_non_null(m);
	assert_string_equal(m->ref, "1203-B0B0");
	tz_meta_free(m);
	/* a file added on A (a sanitized copy) is read on B; twice is refused */
	{
		char *src = g_build_filename(p.dir, "san", NULL);
		int fd;
		g_file_set_contents(src, "sanitized", 9, NULL);
		fd = open(src, O_RDONLY);
		assert_int_equal(tz_store_file_put(p.a, id, "part-001.sanitized.bin", fd, NULL, NULL,
						   err, sizeof(err)), 0);
		lseek(fd, 0, SEEK_SET);
		assert_int_equal(tz_store_file_put(p.b, id, "part-001.sanitized.bin", fd, NULL, NULL,
						   err, sizeof(err)), -1);
		close(fd);
		g_free(src);
		g_byte_array_set_size(ba, 0);
		assert_int_equal(tz_store_file_read(p.b, id, "part-001.sanitized.bin", collect, ba,
						    err, sizeof(err)), 0);
		assert_int_equal(ba->len, 9);
	}
	/* a blob moved to another name fails authentication */
	{
		char *from = g_build_filename(p.bdir, id, "part-001.sanitized.bin", NULL);
		char *to = g_build_filename(p.bdir, id, "part-001.bin", NULL);
		char *keep = g_strdup_printf("%s.keep", to);
		assert_int_equal(rename(to, keep), 0);
		assert_int_equal(link(from, to), 0);
		assert_int_equal(tz_store_file_read(p.b, id, "part-001.bin", collect, ba, err, sizeof(err)), -1);
		assert_int_equal(unlink(to), 0);
		assert_int_equal(rename(keep, to), 0);
		g_free(from);
		g_free(to);
		g_free(keep);
	}
	/* removed via B: gone for A, every blob gone */
	assert_int_equal(tz_store_remove(p.b, id, err, sizeof(err)), 0);
	assert_null(tz_store_meta_read(p.a, id, err, sizeof(err)));
	assert_int_equal(files_under(p.bdir, id), 0);
	assert_int_equal(tz_store_list(p.a, &ids, err, sizeof(err)), 0);
	assert_int_equal(ids->len, 0);
	g_ptr_array_unref(ids);
	g_byte_array_unref(ba);
	g_free(qa);
	pair_close(&p);
}

/* BlobPuts: the entry's files are put at once (both in flight together),
 * meta.json only after both are in the store; one after another with 1. */
static void test_parallel_puts(void **state)
{
	struct pair p;
	char id[TZ_ID_LEN], err[TZ_ERRLEN];
	GPtrArray *ids;

	(void)state;
	pair_open(&p);
	p.fa->delay_us = 100000;
	tz_store_set_blob_puts(p.a, 1);
	if (commit_one(p.a, id, err, sizeof(err)) != 0)
		fail_msg("commit: %s", err);
	assert_int_equal(g_atomic_int_get(&p.fa->max_inflight), 1);
	tz_store_set_blob_puts(p.a, 8);
	p.fa->max_inflight = 0;
	if (commit_one(p.a, id, err, sizeof(err)) != 0)
		fail_msg("commit: %s", err);
	assert_int_equal(g_atomic_int_get(&p.fa->max_inflight), 2);   /* original + part */
	assert_int_equal(g_atomic_int_get(&p.fa->meta_early), 0);
	assert_int_equal(tz_store_list(p.b, &ids, err, sizeof(err)), 0);
	assert_int_equal(ids->len, 2);
	g_ptr_array_unref(ids);
	assert_int_equal(files_under(p.bdir, id), 3);
	pair_close(&p);
}

static void test_put_failure_fails_commit(void **state)
{
	struct pair p;
	char id[TZ_ID_LEN], err[TZ_ERRLEN], *qa;
	GPtrArray *ids;
	unsigned swept;

	(void)state;
	pair_open(&p);
	/* one after another, then with the files put at once */
	for (int after = 0; after < 6; after++) {   /* original, part, meta.json */
		tz_store_set_blob_puts(p.a, after < 3 ? 1 : 4);
		p.fa->fail_put_after = after % 3;
		p.fa->puts = 0;
		assert_int_equal(commit_one(p.a, id, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "blob store"));
		assert_int_equal(tz_store_list(p.b, &ids, err, sizeof(err)), 0);
		assert_int_equal(ids->len, 0);
		g_ptr_array_unref(ids);
		assert_int_equal(files_under(p.bdir, id), 0);   /* what was put is deleted again */
		qa = g_build_filename(p.dir, "qa", "entries", NULL);
		assert_int_equal(files_under(qa, id), 0);       /* and not committed locally */
		g_free(qa);
	}
	/* an entry cut off half-way through removal: not listed, swept */
	p.fa->fail_put_after = -1;
	assert_int_equal(commit_one(p.a, id, err, sizeof(err)), 0);
	{
		char *meta = g_build_filename(p.bdir, id, "meta.json", NULL);
		assert_int_equal(unlink(meta), 0);
		g_free(meta);
	}
	assert_int_equal(tz_store_list(p.b, &ids, err, sizeof(err)), 0);
	assert_int_equal(ids->len, 0);
	g_ptr_array_unref(ids);
	assert_int_equal(tz_store_blob_sweep(p.b, "20000101", &swept, err, sizeof(err)), 0);
	assert_int_equal(swept, 0);   /* a day before it: kept */
	assert_int_equal(tz_store_blob_sweep(p.b, "99991231", &swept, err, sizeof(err)), 0);
	assert_int_equal(swept, 1);
	assert_int_equal(files_under(p.bdir, id), 0);
	pair_close(&p);
}

/* ---- S3: a scripted HTTP peer on 127.0.0.1 ---- */

struct peer {
	int fd, port;
	const char *const *replies;   /* one per connection; NULL entry = never answer */
	unsigned n;
	GPtrArray *requests;          /* what each connection sent */
	pthread_t th;
};

static void *peer_run(void *arg)
{
	struct peer *p = arg;

	for (unsigned i = 0; i < p->n; i++) {
		int c = accept(p->fd, NULL, NULL);
		GString *req = g_string_new(NULL);
		char buf[4096];
		ssize_t k;
		long want = -1;
		if (c < 0)
			break;
		while ((k = read(c, buf, sizeof(buf))) > 0) {
			char *end, *cl;
			g_string_append_len(req, buf, k);
			end = strstr(req->str, "\r\n\r\n");
			if (end == NULL)
				continue;
			cl = strcasestr(req->str, "\r\nContent-Length: ");
			if (want < 0)
				want = (long)(end + 4 - req->str) + (cl && cl < end ? atol(cl + 18) : 0);
			if ((long)req->len >= want)
				break;
		}
		g_ptr_array_add(p->requests, g_string_free(req, FALSE));
		if (p->replies[i] == NULL) {   /* hang until the client gives up */
			while (read(c, buf, sizeof(buf)) > 0)
				;
		} else if (write(c, p->replies[i], strlen(p->replies[i])) < 0) {
			perror("peer write");
		}
		close(c);
	}
	return NULL;
}

static void peer_start(struct peer *p, const char *const *replies, unsigned n)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	p->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(p->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(p->fd, 8), 0);
	getsockname(p->fd, (struct sockaddr *)&sa, &len);
	p->port = ntohs(sa.sin_port);
	p->replies = replies;
	p->n = n;
	p->requests = g_ptr_array_new_with_free_func(g_free);
	pthread_create(&p->th, NULL, peer_run, p);
}

static void peer_stop(struct peer *p)
{
	shutdown(p->fd, SHUT_RDWR);
	pthread_join(p->th, NULL);
	close(p->fd);
	g_ptr_array_unref(p->requests);
}

static const char *header(const char *req, const char *name)
{
	static char v[512];
	char *at = strcasestr(req, name);

	if (at == NULL)
		return "";
	at += strlen(name);
	g_strlcpy(v, at, sizeof(v));
	v[strcspn(v, "\r\n")] = '\0';
	return v;
}

/* AWS's SigV4 test suite, get-vanilla: GET / on example.amazonaws.com,
 * service "service", us-east-1, 2015-08-30T12:36:00Z. libcurl signs; we
 * check what reaches the wire is AWS's published signature. */
static void test_sigv4_vector(void **state)
{
	static const char *const ok[] = { "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" };
	struct peer p;
	CURL *h = curl_easy_init();
	struct curl_slist *hd = curl_slist_append(NULL, "X-Amz-Date: 20150830T123600Z");
	struct curl_slist *to = NULL;
	char err[TZ_ERRLEN], conn[64];

	(void)state;
	peer_start(&p, ok, 1);
	snprintf(conn, sizeof(conn), "example.amazonaws.com:80:127.0.0.1:%d", p.port);
	to = curl_slist_append(NULL, conn);
	assert_int_equal(tz_s3_sign(h, "us-east-1", "service", "AKIDEXAMPLE",
				    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", err, sizeof(err)), 0);
	curl_easy_setopt(h, CURLOPT_URL, "http://example.amazonaws.com/");
	curl_easy_setopt(h, CURLOPT_CONNECT_TO, to);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	assert_int_equal(p.requests->len, 1);
	assert_string_equal(header(g_ptr_array_index(p.requests, 0), "\r\nAuthorization: "),
			    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
			    "SignedHeaders=host;x-amz-date, "
			    "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	curl_slist_free_all(hd);
	curl_slist_free_all(to);
	curl_easy_cleanup(h);
	peer_stop(&p);
}

static struct tz_blob *s3_for(const char *dir, int port, unsigned timeout_ms)
{
	char *keys = g_build_filename(dir, "s3.keys", NULL), *ep = g_strdup_printf("http://127.0.0.1:%d/", port);
	struct tz_s3_conf c = { ep, "textize", "us-east-1", keys, timeout_ms, 1 };
	char err[TZ_ERRLEN];
	struct tz_blob *b;

	g_file_set_contents(keys, "AKIDTEXTIZE\nsecret/with+chars\n", -1, NULL);
	chmod(keys, 0600);
	b = tz_blob_s3_new(&c, err, sizeof(err));
	if (b == NULL)
		fail_msg("%s", err);
	g_free(keys);
	g_free(ep);
	return b;
}

static void test_s3_requests(void **state)
{
	static const char *const replies[] = {
		"HTTP/1.1 503 Slow Down\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
		"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		"HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n"
		"<Error><Code>SignatureDoesNotMatch</Code></Error>",
		"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
		"<ListBucketResult><IsTruncated>false</IsTruncated>"
		"<Contents><Key>20261203-080000-000001-0123abcd/meta.json</Key></Contents>"
		"<Contents><Key>20261203-080000-000001-0123abcd/part-001.bin</Key></Contents>"
		"</ListBucketResult>",
		NULL,
	};
	const char *id = "20261203-080000-000001-0123abcd";
	char *dir = tl_tmpdir(), *in = g_build_filename(dir, "in", NULL), err[TZ_ERRLEN], sha[65];
	struct peer p;
	struct tz_blob *b;
	GPtrArray *names;
	const char *req;
	int fd, ofd = open(dir, O_TMPFILE | O_RDWR, 0600);

	(void)state;
	peer_start(&p, replies, G_N_ELEMENTS(replies));
	b = s3_for(dir, p.port, 3000);   /* generous: valgrind is slow */
	g_file_set_contents(in, "sealed part bytes", 17, NULL);
	tl_sha256("sealed part bytes", 17, sha);
	fd = open(in, O_RDONLY);
	/* PUT: a 503 is tried again; path-style, the payload hash signed */
	if (tz_blob_put(b, id, "part-001.bin", fd, 17, err, sizeof(err)) != 0)
		fail_msg("put: %s", err);
	assert_int_equal(p.requests->len, 2);
	req = g_ptr_array_index(p.requests, 1);
	assert_true(g_str_has_prefix(req, "PUT /textize/20261203-080000-000001-0123abcd/part-001.bin HTTP/1.1\r\n"));
	assert_string_equal(header(req, "\r\nx-amz-content-sha256: "), sha);
	assert_non_null(strstr(header(req, "\r\nAuthorization: "),
			       "Credential=AKIDTEXTIZE/"));
	assert_non_null(strstr(header(req, "\r\nAuthorization: "), "/us-east-1/s3/aws4_request"));
	assert_non_null(strstr(header(req, "\r\nAuthorization: "), "x-amz-content-sha256"));
	assert_non_null(strstr(req, "\r\n\r\nsealed part bytes"));
	/* GET into the file; 404 is absent */
	assert_int_equal(tz_blob_get(b, id, "part-001.bin", ofd, 100, err, sizeof(err)), 0);
	assert_int_equal(lseek(ofd, 0, SEEK_END), 5);
	assert_int_equal(tz_blob_get(b, id, "meta.json", ofd, 100, err, sizeof(err)), TZ_BLOB_ABSENT);
	/* a 403 is not tried again, and says what the store said */
	assert_int_equal(tz_blob_delete(b, id, "meta.json", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "HTTP 403 SignatureDoesNotMatch"));
	assert_int_equal(p.requests->len, 5);
	/* LIST with the entry's prefix */
	if (tz_blob_names(b, id, &names, err, sizeof(err)) != 0)
		fail_msg("list: %s", err);
	assert_int_equal(names->len, 2);
	assert_true(g_str_has_prefix(g_ptr_array_index(p.requests, 5),
				     "GET /textize?list-type=2&max-keys=1000&prefix=20261203-080000-000001-0123abcd%2F HTTP/1.1"));
	g_ptr_array_unref(names);
	/* a peer that never answers: bounded by the timeout, an error */
	{
		gint64 t0 = g_get_monotonic_time();
		assert_int_equal(tz_blob_delete(b, id, "part-001.bin", err, sizeof(err)), -1);
		assert_true(g_get_monotonic_time() - t0 < 15 * G_USEC_PER_SEC);
		assert_non_null(strstr(err, "after 2 tries"));
	}
	tz_blob_free(b);
	close(fd);
	close(ofd);
	peer_stop(&p);
	tl_rmrf(dir);
	g_free(in);
	g_free(dir);
}

#define LIST_OK "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n<ListBucketResult>"
#define KEY(k) "<Contents><Key>" k "</Key></Contents>"

/* A bucket listed in three pages: each next request carries the token the
 * page before gave (URL-encoded, in the signed query), and every key of
 * every page is seen; a truncated page without a token is an error. */
static void test_s3_list_pages(void **state)
{
	static const char *const replies[] = {
		LIST_OK "<IsTruncated>true</IsTruncated><NextContinuationToken>tok/1+=</NextContinuationToken>"
		KEY("20261201-080000-000001-0123abcd/meta.json") KEY("20261201-080000-000001-0123abcd/original.eml")
		"</ListBucketResult>",
		LIST_OK "<IsTruncated>true</IsTruncated><NextContinuationToken>2</NextContinuationToken>"
		KEY("20261201-080000-000001-0123abcd/part-001.bin") KEY("20261202-080000-000002-0123abcd/original.eml")
		"</ListBucketResult>",
		LIST_OK "<IsTruncated>false</IsTruncated>"
		KEY("20261203-080000-000003-0123abcd/meta.json") "</ListBucketResult>",
		LIST_OK "<IsTruncated>true</IsTruncated>" KEY("20261203-080000-000003-0123abcd/meta.json")
		"</ListBucketResult>",
	};
	char *dir = tl_tmpdir(), err[TZ_ERRLEN];
	GPtrArray *complete, *partial;
	struct peer p;
	struct tz_blob *b;

	(void)state;
	peer_start(&p, replies, G_N_ELEMENTS(replies));
	b = s3_for(dir, p.port, 3000);
	if (tz_blob_entries(b, &complete, &partial, err, sizeof(err)) != 0)
		fail_msg("list: %s", err);
	assert_int_equal(p.requests->len, 3);
	assert_true(g_str_has_prefix(g_ptr_array_index(p.requests, 0),
				     "GET /textize?list-type=2&max-keys=1000 HTTP/1.1\r\n"));
	assert_true(g_str_has_prefix(g_ptr_array_index(p.requests, 1),
				     "GET /textize?continuation-token=tok%2F1%2B%3D&list-type=2&max-keys=1000 HTTP/1.1\r\n"));
	assert_true(g_str_has_prefix(g_ptr_array_index(p.requests, 2),
				     "GET /textize?continuation-token=2&list-type=2&max-keys=1000 HTTP/1.1\r\n"));
	/* entry 1 spans pages 1 and 2; entry 2 has no meta.json (partial) */
	assert_int_equal(complete->len, 2);
	assert_string_equal(g_ptr_array_index(complete, 0), "20261201-080000-000001-0123abcd");
	assert_string_equal(g_ptr_array_index(complete, 1), "20261203-080000-000003-0123abcd");
	assert_int_equal(partial->len, 1);
	assert_string_equal(g_ptr_array_index(partial, 0), "20261202-080000-000002-0123abcd");
	g_ptr_array_unref(complete);
	g_ptr_array_unref(partial);
	/* truncated, but no token to go on with: an error, not a short list */
	assert_int_equal(tz_blob_entries(b, &complete, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "truncated without a continuation token"));
	tz_blob_free(b);
	peer_stop(&p);
	tl_rmrf(dir);
	g_free(dir);
}

static void test_s3_key_file(void **state)
{
	char *dir = tl_tmpdir(), *keys = g_build_filename(dir, "k", NULL), *id = NULL, *sec = NULL;
	char err[TZ_ERRLEN];

	(void)state;
	g_file_set_contents(keys, "  AKID\n  SECRET  \n", -1, NULL);
	chmod(keys, 0644);
	assert_int_equal(tz_s3_load_keys(keys, &id, &sec, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "mode 644"));
	chmod(keys, 0600);
	assert_int_equal(tz_s3_load_keys(keys, &id, &sec, err, sizeof(err)), 0);
	assert_string_equal(id, "AKID");
	assert_string_equal(sec, "SECRET");
	g_free(id);
	g_free(sec);
	g_file_set_contents(keys, "only-one\n", -1, NULL);
	assert_int_equal(tz_s3_load_keys(keys, &id, &sec, err, sizeof(err)), -1);
	tl_rmrf(dir);
	g_free(keys);
	g_free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dir_backend),
		cmocka_unit_test(test_two_gateways),
		cmocka_unit_test(test_put_failure_fails_commit),
		cmocka_unit_test(test_parallel_puts),
		cmocka_unit_test(test_sigv4_vector),
		cmocka_unit_test(test_s3_requests),
		cmocka_unit_test(test_s3_list_pages),
		cmocka_unit_test(test_s3_key_file),
	};

	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
