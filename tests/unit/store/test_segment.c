/* test_segment.c — the segment store (tz_segment.h): round trips plain and
 * encrypted at chunk and spill boundaries; reopen rebuilds the index from
 * the files; add/replace and tombstones survive a reopen; a flipped byte
 * fails the read; a torn tail is cut off and later appends survive;
 * concurrent writers; retention drops and compacts segments; a reader
 * finds segments beyond a gap in the numbers; the offset index is used
 * when valid and ignored and rewritten when damaged or stale; a compaction racing puts
 * (in another handle, as another process would) never undoes one; a writer
 * opened append_only keeps no index (its heap does not grow with the
 * store), lists nothing, and appends what a reader finds, holding no
 * segment but the newest; segments roll by day with either writer; kill -9 at
 * every step of a commit (fault points, 4 writer threads; the writer
 * opened as the CLI and as the milter opens it) leaves every
 * acknowledged entry complete and nothing torn listed; a full and a
 * read-only file system make a commit fail (root only: private mounts). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <limits.h>
#include <malloc.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "tz_segment.h"
#include "tz_store_testlib.h"

static unsigned char key[TZ_KEY_LEN];

/* The clock the store reads, shifted by whole days in test_roll_by_day
 * (this definition wins over libc's for the statically linked store). */
static time_t clock_shift;

time_t time(time_t *t)
{
	struct timespec ts;
	time_t v;

	clock_gettime(CLOCK_REALTIME, &ts);
	v = ts.tv_sec + clock_shift;
	if (t)
		*t = v;
	return v;
}

static int setup(void **state)
{
	for (int i = 0; i < TZ_KEY_LEN; i++)
		key[i] = (unsigned char)(7 * i + 1);
	*state = tl_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	tl_rmrf(*state);
	g_free(*state);
	return 0;
}

/* Content that depends on the id, the blob name and the length, so a read
 * can be checked without remembering what was written. */
static unsigned char *content(const char *id, const char *name, size_t n)
{
	unsigned char *b = g_malloc(n + 1);
	guint h = g_str_hash(id) ^ (g_str_hash(name) * 31u);

	for (size_t i = 0; i < n; i++) {
		h = h * 1103515245u + 12345u;
		b[i] = (unsigned char)(h >> 16);
	}
	return b;
}

static int collect(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	(void)err, (void)errlen;
	g_byte_array_append(ctx, buf, (guint)len);
	return 0;
}

/* 1 when blob name of id reads back as content(id, name, n). */
static int blob_ok(struct tz_seg *s, const char *id, const char *name, size_t n)
{
	GByteArray *ba = g_byte_array_new();
	unsigned char *want = content(id, name, n);
	char err[TZ_ERRLEN] = "";
	int ok = tz_seg_read(s, id, name, collect, ba, err, sizeof(err)) == 0 &&
		 ba->len == n && (n == 0 || memcmp(ba->data, want, n) == 0);

	if (!ok)
		fprintf(stderr, "blob %s/%s: %s (len %u want %zu)\n", id, name, err, ba->len, n);
	g_byte_array_unref(ba);
	g_free(want);
	return ok;
}

/* The entry shape every test writes: original (size n), part, meta. */
static size_t part_len(size_t n) { return n / 3 + 1; }

static int write_entry(struct tz_seg *s, const char *id, size_t n, char *err, size_t errlen)
{
	struct tz_seg_entry *e = tz_seg_entry_begin(s, id, err, errlen);
	const char *names[] = { "original.eml", "part-001.bin", "meta.json" };
	size_t lens[] = { n, part_len(n), 300 };

	if (e == NULL)
		return -1;
	for (int i = 0; i < 3; i++) {
		unsigned char *b = content(id, names[i], lens[i]);
		/* In uneven pieces, as the engine's sink writes. */
		int rc = tz_seg_blob_begin(e, names[i], err, errlen);
		for (size_t off = 0; rc == 0 && off < lens[i]; off += 7777)
			rc = tz_seg_blob_write(e, b + off, lens[i] - off < 7777 ? lens[i] - off : 7777,
					       err, errlen);
		rc = rc ? rc : tz_seg_blob_end(e, NULL, NULL, err, errlen);
		g_free(b);
		if (rc < 0) {
			tz_seg_entry_abort(e);
			return -1;
		}
	}
	return tz_seg_entry_commit(e, err, errlen);
}

static int entry_ok(struct tz_seg *s, const char *id, size_t n)
{
	return blob_ok(s, id, "original.eml", n) && blob_ok(s, id, "part-001.bin", part_len(n)) &&
	       blob_ok(s, id, "meta.json", 300);
}

static void make_id(char id[TZ_ID_LEN], unsigned k)
{
	snprintf(id, TZ_ID_LEN, "20261202-000000-%06u-%08x", k % 1000000, k * 2654435761u);
}

static struct tz_seg *open_store_as(const char *dir, int with_key, uint64_t max_segment,
				    int append_only)
{
	struct tz_seg_opts o = { with_key ? key : NULL, max_segment, 0, append_only };
	char err[TZ_ERRLEN] = "";
	struct tz_seg *s = tz_seg_open(dir, &o, err, sizeof(err));

	if (s == NULL)
		fprintf(stderr, "open %s: %s\n", dir, err);
	return s;
}

static struct tz_seg *open_store(const char *dir, int with_key, uint64_t max_segment)
{
	return open_store_as(dir, with_key, max_segment, 0);
}

static int count_cb(void *ctx, const struct tz_seg_info *i)
{
	(void)i;
	(*(unsigned *)ctx)++;
	return 0;
}

static unsigned count(struct tz_seg *s)
{
	unsigned n = 0;

	tz_seg_foreach(s, count_cb, &n);
	return n;
}

static void roundtrip(const char *dir, int with_key)
{
	/* Sizes around the GCM chunk (65536) and the 1 MB spill to a file. */
	size_t sizes[] = { 0, 1, 65535, 65536, 65537, 3 * 65536, (1u << 20) + 5, 5 * 1024 * 1024 };
	size_t ns = sizeof(sizes) / sizeof(sizes[0]);
	char err[TZ_ERRLEN], id[TZ_ID_LEN];
	struct tz_seg *s = open_store(dir, with_key, 0);

	assert_non_null(s);
	for (unsigned k = 0; k < ns; k++) {
		make_id(id, k);
		assert_int_equal(write_entry(s, id, sizes[k], err, sizeof(err)), 0);
		assert_true(entry_ok(s, id, sizes[k]));
	}
	assert_int_equal(count(s), ns);
	tz_seg_free(s);
	/* Everything again from the files alone. */
	s = open_store(dir, with_key, 0);
	assert_non_null(s);
	assert_int_equal(count(s), ns);
	for (unsigned k = 0; k < ns; k++) {
		make_id(id, k);
		assert_true(entry_ok(s, id, sizes[k]));
	}
	assert_false(blob_ok(s, id, "part-002.bin", 0));
	make_id(id, 999);
	assert_false(tz_seg_has(s, id));
	tz_seg_free(s);
}

static void test_roundtrip_plain(void **state) { roundtrip(*state, 0); }
static void test_roundtrip_encrypted(void **state) { roundtrip(*state, 1); }

static void test_bad_input(void **state)
{
	char err[TZ_ERRLEN];
	struct tz_seg *s = open_store(*state, 1, 0);
	struct tz_seg_entry *e;

	assert_null(tz_seg_entry_begin(s, "../x", err, sizeof(err)));
	e = tz_seg_entry_begin(s, "20261202-000000-000001-0badcafe", err, sizeof(err));
	assert_int_equal(tz_seg_blob_begin(e, "../meta.json", err, sizeof(err)), -1);
	assert_int_equal(tz_seg_blob_begin(e, ".hidden", err, sizeof(err)), -1);
	assert_int_equal(tz_seg_entry_add(e, "a.bin", "x", 1, err, sizeof(err)), 0);
	assert_int_equal(tz_seg_entry_add(e, "a.bin", "x", 1, err, sizeof(err)), -1);
	assert_int_equal(tz_seg_blob_begin(e, "b.bin", err, sizeof(err)), 0);
	/* A blob left open is not committed. */
	assert_int_equal(tz_seg_entry_commit(e, err, sizeof(err)), -1);
	assert_int_equal(count(s), 0);
	assert_int_equal(tz_seg_put(s, "20261202-000000-000001-0badcafe", "meta.json", "x", 1,
				    err, sizeof(err)), -1);
	tz_seg_free(s);
}

static void test_put_and_delete(void **state)
{
	char err[TZ_ERRLEN], a[TZ_ID_LEN], b[TZ_ID_LEN];
	struct tz_seg *s = open_store(*state, 1, 0);
	GByteArray *ba = g_byte_array_new();

	make_id(a, 1);
	make_id(b, 2);
	assert_int_equal(write_entry(s, a, 1000, err, sizeof(err)), 0);
	assert_int_equal(write_entry(s, b, 1000, err, sizeof(err)), 0);
	assert_int_equal(tz_seg_put(s, a, "meta.json", "{\"v\":2}", 7, err, sizeof(err)), 0);
	assert_int_equal(tz_seg_put(s, a, "part-001.sanitized.bin", "clean", 5, err, sizeof(err)), 0);
	assert_int_equal(tz_seg_delete(s, b, err, sizeof(err)), 0);
	tz_seg_free(s);
	s = open_store(*state, 1, 0);
	assert_int_equal(tz_seg_read(s, a, "meta.json", collect, ba, err, sizeof(err)), 0);
	assert_int_equal(ba->len, 7);
	assert_memory_equal(ba->data, "{\"v\":2}", 7);
	assert_true(blob_ok(s, a, "original.eml", 1000));
	assert_false(tz_seg_has(s, b));
	assert_int_equal(count(s), 1);
	g_byte_array_unref(ba);
	tz_seg_free(s);
}

/* Flip one byte of segment 1 at offset from its end. */
static void flip(const char *dir, off_t from_end)
{
	char *p = g_build_filename(dir, "00000001.tzs", NULL);
	int fd = open(p, O_RDWR);
	off_t at = lseek(fd, 0, SEEK_END) - from_end;
	unsigned char c;

	assert_true(pread(fd, &c, 1, at) == 1);
	c ^= 0x20;
	assert_true(pwrite(fd, &c, 1, at) == 1);
	close(fd);
	g_free(p);
}

static void test_tamper(void **state)
{
	char err[TZ_ERRLEN], id[TZ_ID_LEN], id2[TZ_ID_LEN];
	unsigned n, bad;
	struct tz_seg *s;

	for (int with_key = 0; with_key < 2; with_key++) {
		char *dir = g_strdup_printf("%s/k%d", (char *)*state, with_key);
		/* Segment 1 holds the first entry alone (it is larger than a
		 * segment may grow): a sealed segment, whose records open does
		 * not re-hash, so the damaged entry is listed and its read fails. */
		s = open_store(dir, with_key, 100000);
		make_id(id, 1);
		make_id(id2, 2);
		assert_int_equal(write_entry(s, id, 200000, err, sizeof(err)), 0);
		assert_int_equal(write_entry(s, id2, 100, err, sizeof(err)), 0);
		tz_seg_free(s);
		flip(dir, 150000);
		s = open_store(dir, with_key, 100000);
		assert_true(tz_seg_has(s, id));
		assert_false(blob_ok(s, id, "original.eml", 200000));
		assert_true(entry_ok(s, id2, 100));
		assert_int_equal(tz_seg_verify(s, &n, &bad, err, sizeof(err)), -1);
		assert_int_equal(n, 2);
		assert_int_equal(bad, 1);
		assert_non_null(strstr(err, id));
		tz_seg_free(s);
		g_free(dir);
	}
}

/* A torn tail (the last record cut short, or its payload damaged) is cut
 * off when the store is opened; what follows later is kept. */
static void test_torn_tail(void **state)
{
	char err[TZ_ERRLEN], a[TZ_ID_LEN], b[TZ_ID_LEN], c[TZ_ID_LEN];
	char *p = g_build_filename(*state, "00000001.tzs", NULL);
	struct tz_seg *s = open_store(*state, 1, 0);
	struct stat sb;
	unsigned n, bad;

	make_id(a, 1);
	make_id(b, 2);
	make_id(c, 3);
	assert_int_equal(write_entry(s, a, 5000, err, sizeof(err)), 0);
	assert_int_equal(write_entry(s, b, 5000, err, sizeof(err)), 0);
	tz_seg_free(s);
	stat(p, &sb);
	assert_int_equal(truncate(p, sb.st_size - 10), 0);
	s = open_store(*state, 1, 0);
	assert_true(tz_seg_has(s, a));
	assert_false(tz_seg_has(s, b));
	assert_int_equal(write_entry(s, c, 5000, err, sizeof(err)), 0);
	tz_seg_free(s);
	/* Damage inside the newest record's payload (header and trailer
	 * intact: pages written out of order): that record is not listed,
	 * the others are, and a record after it too. */
	flip(*state, 2000);
	s = open_store(*state, 1, 0);
	assert_true(entry_ok(s, a, 5000));
	assert_false(tz_seg_has(s, c));
	assert_int_equal(tz_seg_verify(s, &n, &bad, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(write_entry(s, b, 5000, err, sizeof(err)), 0);
	tz_seg_free(s);
	flip(*state, 7000 + 2000);   /* c's payload again, b now after it */
	s = open_store(*state, 1, 0);
	assert_true(entry_ok(s, a, 5000));
	assert_true(entry_ok(s, b, 5000));
	assert_false(tz_seg_has(s, c));
	tz_seg_free(s);
	g_free(p);
}

struct writer {
	struct tz_seg *s;
	unsigned first, n;
	int failures;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	char err[TZ_ERRLEN], id[TZ_ID_LEN];

	for (unsigned k = w->first; k < w->first + w->n; k++) {
		make_id(id, k);
		if (write_entry(w->s, id, 3000 + k, err, sizeof(err)) < 0)
			w->failures++;
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	struct tz_seg *s = open_store(*state, 1, 64 * 1024);   /* rolls often */
	struct writer w[8];
	pthread_t th[8];
	char id[TZ_ID_LEN];

	for (int i = 0; i < 8; i++) {
		w[i] = (struct writer){ s, (unsigned)i * 100, 40, 0 };
		pthread_create(&th[i], NULL, writer_main, &w[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	tz_seg_free(s);
	s = open_store(*state, 1, 64 * 1024);
	assert_int_equal(count(s), 320);
	for (int i = 0; i < 8; i++)
		for (unsigned k = (unsigned)i * 100; k < (unsigned)i * 100 + 40; k++) {
			make_id(id, k);
			assert_true(entry_ok(s, id, 3000 + k));
		}
	tz_seg_free(s);
}

static unsigned segments(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *n;
	unsigned c = 0;

	while ((n = g_dir_read_name(d)) != NULL)
		c += g_str_has_suffix(n, ".tzs");
	g_dir_close(d);
	return c;
}

static void test_purge(void **state)
{
	char err[TZ_ERRLEN], id[TZ_ID_LEN], keep[TZ_ID_LEN];
	struct tz_seg *s = open_store(*state, 1, 40 * 1024);
	struct tz_seg_purge_stats st;

	for (unsigned k = 0; k < 30; k++) {
		make_id(id, k);
		assert_int_equal(write_entry(s, id, 10000, err, sizeof(err)), 0);
	}
	assert_true(segments(*state) >= 6);
	/* Delete all but one entry of the first segment and most others. */
	make_id(keep, 1);
	for (unsigned k = 0; k < 30; k++) {
		make_id(id, k);
		if (k != 1 && k < 25)
			assert_int_equal(tz_seg_delete(s, id, err, sizeof(err)), 0);
	}
	assert_int_equal(tz_seg_put(s, keep, "meta.json", "{\"v\":3}", 7, err, sizeof(err)), 0);
	assert_int_equal(tz_seg_purge(s, 0, &st, err, sizeof(err)), 0);
	assert_true(st.compacted >= 1);
	assert_true(st.freed > 0);
	assert_int_equal(st.expired, 0);
	tz_seg_free(s);
	/* The kept entry, moved by compaction, still has its newest meta. */
	s = open_store(*state, 1, 40 * 1024);
	assert_int_equal(count(s), 6);
	assert_true(blob_ok(s, keep, "original.eml", 10000));
	{
		GByteArray *ba = g_byte_array_new();
		assert_int_equal(tz_seg_read(s, keep, "meta.json", collect, ba, err, sizeof(err)), 0);
		assert_memory_equal(ba->data, "{\"v\":3}", 7);
		g_byte_array_unref(ba);
	}
	/* Retention: everything stored before the cutoff goes, and every
	 * segment but the newest with it. */
	assert_int_equal(tz_seg_purge(s, time(NULL) + 10, &st, err, sizeof(err)), 0);
	assert_int_equal(st.expired, 6);
	assert_int_equal(count(s), 0);
	assert_int_equal(segments(*state), 1);
	tz_seg_free(s);
	s = open_store(*state, 1, 40 * 1024);
	assert_int_equal(count(s), 0);
	tz_seg_free(s);
}

/* Every entry written is listed and reads back; dead ones are not. */
static void all_there(const char *dir, unsigned n, unsigned dead)
{
	struct tz_seg *s = open_store(dir, 1, 40 * 1024);
	char id[TZ_ID_LEN];

	assert_non_null(s);
	assert_int_equal(count(s), n - 1);
	for (unsigned k = 0; k < n; k++) {
		make_id(id, k);
		if (k == dead)
			assert_false(tz_seg_has(s, id));
		else
			assert_true(entry_ok(s, id, 10000));
	}
	tz_seg_free(s);
}

static GByteArray *slurp(const char *path)
{
	gchar *b = NULL;
	gsize n = 0;
	GByteArray *ba = g_byte_array_new();

	if (g_file_get_contents(path, &b, &n, NULL))
		g_byte_array_append(ba, (const guint8 *)b, (guint)n);
	g_free(b);
	return ba;
}

static void spew(const char *path, const GByteArray *ba)
{
	assert_true(g_file_set_contents(path, (const gchar *)ba->data, ba->len, NULL));
}

/* The offset index of a sealed segment (NNNNNNNN.tzx): written by the
 * first writable open, used by the next (same entries, a tombstone in a
 * sealed segment honoured), and never trusted over the records: damaged
 * (a flipped byte), stale (another segment's index, a segment cut short)
 * or empty, it is ignored, the records are scanned, and it is written
 * again; purge drops it with its segment. */
static void test_offset_index(void **state)
{
	char err[TZ_ERRLEN], id[TZ_ID_LEN];
	char *x1 = g_build_filename(*state, "00000001.tzx", NULL);
	char *x2 = g_build_filename(*state, "00000002.tzx", NULL);
	char *s2 = g_build_filename(*state, "00000002.tzs", NULL);
	struct tz_seg *s = open_store(*state, 1, 40 * 1024);
	struct tz_seg_purge_stats st;
	GByteArray *good, *other, *bad;

	for (unsigned k = 0; k < 24; k++) {
		make_id(id, k);
		assert_int_equal(write_entry(s, id, 10000, err, sizeof(err)), 0);
	}
	make_id(id, 3);   /* in segment 1: its tombstone lands in a later one */
	assert_int_equal(tz_seg_delete(s, id, err, sizeof(err)), 0);
	tz_seg_free(s);
	assert_true(segments(*state) >= 4);
	assert_false(g_file_test(x1, G_FILE_TEST_EXISTS));   /* not by the writer */
	all_there(*state, 24, 3);                             /* scans, writes */
	assert_true(g_file_test(x1, G_FILE_TEST_EXISTS));
	good = slurp(x1);
	assert_true(good->len > 20 + 64);
	all_there(*state, 24, 3);                             /* from the index */
	/* Damaged: one byte of a record's directory flipped. */
	bad = slurp(x1);
	bad->data[bad->len / 2] ^= 0x40;
	spew(x1, bad);
	all_there(*state, 24, 3);
	g_byte_array_unref(bad);
	bad = slurp(x1);
	assert_int_equal(bad->len, good->len);
	assert_memory_equal(bad->data, good->data, good->len);   /* written again */
	g_byte_array_unref(bad);
	/* Stale: segment 1's index in place of segment 2's (checksum fine). */
	other = slurp(x2);
	spew(x2, good);
	all_there(*state, 24, 3);
	bad = slurp(x2);
	assert_memory_equal(bad->data, other->data, other->len);
	g_byte_array_unref(bad);
	/* Empty, and a segment shorter than its index says. */
	g_byte_array_set_size(other, 0);
	spew(x1, other);
	all_there(*state, 24, 3);
	g_byte_array_unref(other);
	other = slurp(s2);
	assert_int_equal(truncate(s2, (off_t)(other->len - 1)), 0);
	s = open_store(*state, 1, 40 * 1024);
	assert_true(count(s) < 23);   /* its last record is gone, not listed from the index */
	tz_seg_free(s);
	spew(s2, other);
	all_there(*state, 24, 3);
	/* Purge: the index goes with its segment. */
	s = open_store(*state, 1, 40 * 1024);
	assert_int_equal(tz_seg_purge(s, time(NULL) + 10, &st, err, sizeof(err)), 0);
	assert_false(g_file_test(x1, G_FILE_TEST_EXISTS));
	assert_false(g_file_test(x2, G_FILE_TEST_EXISTS));
	tz_seg_free(s);
	g_byte_array_unref(good);
	g_byte_array_unref(other);
	g_free(x1);
	g_free(x2);
	g_free(s2);
}

/* A reader whose newest segment was N finds N+2 when N+1 is gone (another
 * process purged it): discovery does not stop at a gap. */
static void test_gap(void **state)
{
	char err[TZ_ERRLEN], id[TZ_ID_LEN], path[PATH_MAX];
	struct tz_seg *w = open_store(*state, 0, 20 * 1024), *r;
	struct tz_seg_opts ro = { NULL, 0, 1, 0 };
	unsigned k = 0;

	make_id(id, k++);
	assert_int_equal(write_entry(w, id, 9000, err, sizeof(err)), 0);
	r = tz_seg_open(*state, &ro, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(count(r), 1);
	while (segments(*state) < 4) {
		make_id(id, k++);
		assert_int_equal(write_entry(w, id, 9000, err, sizeof(err)), 0);
	}
	snprintf(path, sizeof(path), "%s/00000002.tzs", (const char *)*state);
	assert_int_equal(unlink(path), 0);
	assert_true(tz_seg_has(r, id));   /* the newest entry, in segment 4 */
	assert_true(entry_ok(r, id, 9000));
	tz_seg_free(r);
	tz_seg_free(w);
}

static unsigned meta_version(struct tz_seg *s, const char *id)
{
	GByteArray *ba = g_byte_array_new();
	char err[TZ_ERRLEN] = "";
	unsigned v = 0;

	if (tz_seg_read(s, id, "meta.json", collect, ba, err, sizeof(err)) == 0) {
		g_byte_array_append(ba, (const guint8 *)"", 1);
		sscanf((const char *)ba->data, "{\"v\":%u}", &v);
	}
	g_byte_array_unref(ba);
	return v;
}

struct putter {
	struct tz_seg *s;
	const char *id;
	unsigned last;               /* the last version put */
	int failures;                /* puts that failed or were undone */
	volatile int done;
};

static void *putter_main(void *arg)
{
	struct putter *p = arg;
	char err[TZ_ERRLEN], v[32];

	for (unsigned i = 1; i <= 300; i++) {
		int n = snprintf(v, sizeof(v), "{\"v\":%u}", i);
		if (tz_seg_put(p->s, p->id, "meta.json", v, (size_t)n, err, sizeof(err)) < 0) {
			fprintf(stderr, "put %u: %s\n", i, err);
			p->failures++;
		} else {
			p->last = i;
			/* sleep a little so compactions land between puts */
			g_usleep(200);
			/* only this thread writes meta.json: nothing older may
			 * come back, whatever a compaction copied meanwhile */
			if (meta_version(p->s, p->id) != i) {
				fprintf(stderr, "put %u: read back %u\n", i, meta_version(p->s, p->id));
				p->failures++;
			}
		}
	}
	p->done = 1;
	return NULL;
}

/* One handle puts new meta.json versions of an entry while another (as a
 * second process would) compacts the segments its older records are in:
 * a compaction copy must never replace a newer put. */
static void test_compaction_vs_put(void **state)
{
	char err[TZ_ERRLEN], id[TZ_ID_LEN];
	struct tz_seg *a = open_store(*state, 1, 8 * 1024), *b = open_store(*state, 1, 8 * 1024);
	struct tz_seg_purge_stats st;
	struct putter p = { a, id, 0, 0, 0 };
	unsigned compacted = 0;
	pthread_t th;

	make_id(id, 1);
	assert_int_equal(write_entry(a, id, 600, err, sizeof(err)), 0);
	pthread_create(&th, NULL, putter_main, &p);
	while (!p.done) {
		assert_int_equal(tz_seg_purge(b, 0, &st, err, sizeof(err)), 0);
		compacted += st.compacted;
	}
	pthread_join(th, NULL);
	assert_int_equal(p.failures, 0);
	assert_int_equal(tz_seg_purge(b, 0, &st, err, sizeof(err)), 0);
	assert_true(compacted > 0);
	assert_int_equal(meta_version(a, id), 300);
	assert_int_equal(meta_version(b, id), 300);
	assert_true(blob_ok(b, id, "original.eml", 600));
	tz_seg_free(a);
	tz_seg_free(b);
	a = open_store(*state, 1, 8 * 1024);
	assert_int_equal(meta_version(a, id), 300);
	assert_true(blob_ok(a, id, "part-001.bin", part_len(600)));
	tz_seg_free(a);
}

/* ---- a writer that keeps no index (the milter's) ---- */

/* The newest segment's path (the one with the highest number). */
static char *newest_segment(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	char *best = NULL;

	for (const char *n; d && (n = g_dir_read_name(d)) != NULL;)
		if (g_str_has_suffix(n, ".tzs") && (best == NULL || strcmp(n, best) > 0)) {
			g_free(best);
			best = g_strdup(n);
		}
	if (d)
		g_dir_close(d);
	assert_non_null(best);
	{
		char *p = g_build_filename(dir, best, NULL);
		g_free(best);
		return p;
	}
}

/* Heap bytes in use (0 under an allocator that does not say: ASan, valgrind). */
static size_t heap_used(void)
{
	return mallinfo2().uordblks;
}

/* Opened append_only (as the milter opens it): the heap does not grow with
 * the entries the store holds; nothing is listed and what needs the index
 * fails; what it appends and tombstones, across segment rolls and behind a
 * torn tail it repaired at open, is what a reader (another handle, as
 * another process) finds, verified. */
static void test_append_only(void **state)
{
	const uint64_t small = 64 * 1024;
	char err[TZ_ERRLEN] = "", id[TZ_ID_LEN], gone[TZ_ID_LEN], own[TZ_ID_LEN], *p;
	struct tz_seg *s = open_store(*state, 1, 0), *w, *r;
	struct tz_seg_purge_stats ps;
	struct writer wr[4];
	pthread_t th[4];
	GByteArray *ba = g_byte_array_new();
	size_t before, full, lean, grown;
	unsigned n = 0, bad = 0;
	struct stat sb;

	for (int i = 0; i < 4; i++) {   /* 2,000 entries */
		wr[i] = (struct writer){ s, (unsigned)i * 500, 500, 0 };
		pthread_create(&th[i], NULL, writer_main, &wr[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(wr[i].failures, 0);
	}
	tz_seg_free(s);
	/* all 2,000 in one segment, the newest, which the writer scans; it
	 * rolls every 64 KB from here on */
	before = heap_used();
	s = open_store(*state, 1, 0);
	full = heap_used() - before;
	before = heap_used();
	w = open_store_as(*state, 1, small, 1);
	lean = heap_used() - before;
	assert_non_null(s);
	assert_non_null(w);
	assert_int_equal(count(s), 2000);
	tz_seg_free(s);
	if (full == 0) {
		fprintf(stderr, "test_append_only: the allocator reports no heap use; sizes not compared\n");
	} else {
		/* the full index: ~0.6 KB an entry here; the writer: a few segments' worth */
		fprintf(stderr, "test_append_only: heap after open: full %zu bytes, append_only %zu\n",
			full, lean);
		assert_true(full > 2000 * 300);
		assert_true(lean < 32 * 1024);
	}

	make_id(gone, 5);
	assert_false(tz_seg_has(w, gone));
	assert_false(tz_seg_has_blob(w, gone, "meta.json"));
	assert_int_equal(tz_seg_read(w, gone, "meta.json", collect, ba, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "append only"));
	assert_int_equal(tz_seg_foreach(w, count_cb, &n), -1);
	assert_int_equal(n, 0);
	assert_int_equal(tz_seg_verify(w, &n, &bad, err, sizeof(err)), -1);
	assert_int_equal(tz_seg_put(w, gone, "x.bin", "x", 1, err, sizeof(err)), -1);
	assert_int_equal(tz_seg_put_fd(w, gone, "x.bin", 0, NULL, NULL, err, sizeof(err)), -1);
	assert_int_equal(tz_seg_purge(w, time(NULL) + 10, &ps, err, sizeof(err)), -1);
	assert_int_equal(ps.expired, 0);

	r = open_store(*state, 1, 0);   /* a reader open all along */
	before = heap_used();
	for (unsigned k = 2000; k < 2100; k++) {
		make_id(id, k);
		assert_int_equal(write_entry(w, id, 3000 + k, err, sizeof(err)), 0);
	}
	make_id(own, 2050);
	assert_int_equal(tz_seg_tombstone(w, gone, err, sizeof(err)), 0);
	assert_int_equal(tz_seg_tombstone(w, own, err, sizeof(err)), 0);
	for (unsigned k = 2100; k < 2200; k++) {
		make_id(id, k);
		assert_int_equal(write_entry(w, id, 3000 + k, err, sizeof(err)), 0);
	}
	grown = heap_used() - before;   /* 200 commits later (~20 segments) */
	if (full > 0)
		assert_true(grown < 32 * 1024);
	for (unsigned k = 2000; k < 2200; k++) {
		make_id(id, k);
		assert_true(k == 2050 ? !tz_seg_has(r, id) : entry_ok(r, id, 3000 + k));
	}
	assert_false(tz_seg_has(r, gone));
	assert_int_equal(count(r), 2200 - 2);
	tz_seg_free(r);
	tz_seg_free(w);

	/* The last record torn (entry 2199): the writer's open cuts it off and
	 * appends behind what is left. */
	p = newest_segment(*state);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(truncate(p, sb.st_size - 10), 0);
	w = open_store_as(*state, 1, small, 1);
	make_id(id, 4000);
	assert_int_equal(write_entry(w, id, 4000, err, sizeof(err)), 0);
	tz_seg_free(w);
	r = open_store(*state, 1, 0);
	assert_true(entry_ok(r, id, 4000));
	make_id(id, 2199);
	assert_false(tz_seg_has(r, id));
	make_id(id, 2198);
	assert_true(entry_ok(r, id, 3000 + 2198));
	assert_int_equal(tz_seg_verify(r, &n, &bad, err, sizeof(err)), 0);
	assert_int_equal(n, 2200 - 2 - 1 + 1);
	tz_seg_free(r);
	g_free(p);
	g_byte_array_unref(ba);
}

/* A new segment each day, whoever wrote the one before: a writer that
 * never reads its own records back (append_only) too. Retention drops
 * whole segments, so one that spans weeks keeps expired mail on disk. */
static void test_roll_by_day(void **state)
{
	char err[TZ_ERRLEN] = "", id[TZ_ID_LEN];

	for (int append_only = 0; append_only <= 1; append_only++) {
		char *dir = g_strdup_printf("%s/%d", (char *)*state, append_only);
		struct tz_seg *s = open_store_as(dir, 1, 0, append_only);
		assert_non_null(s);
		for (unsigned day = 0; day < 4; day++) {
			clock_shift = (time_t)day * 86400;
			for (unsigned k = 0; k < 2; k++) {
				make_id(id, day * 10 + k);
				assert_int_equal(write_entry(s, id, 1000, err, sizeof(err)), 0);
			}
			assert_int_equal(segments(dir), day + 1);
		}
		tz_seg_free(s);
		clock_shift = 0;
		g_free(dir);
	}
}

/* Segments another process purged: a writer opened append_only holds no
 * descriptor of them once it appends again (it keeps the newest alone),
 * so their space is freed then, not when the milter restarts. */
static void test_append_only_holds_newest(void **state)
{
	char err[TZ_ERRLEN] = "", id[TZ_ID_LEN], link[PATH_MAX];
	struct tz_seg *w = open_store_as(*state, 1, 64 * 1024, 1), *r;
	struct tz_seg_purge_stats ps;
	unsigned deleted = 0;
	GDir *d;

	assert_non_null(w);
	for (unsigned k = 0; k < 60; k++) {   /* ~6 segments of 64 KB */
		make_id(id, k);
		assert_int_equal(write_entry(w, id, 20000, err, sizeof(err)), 0);
	}
	assert_true(segments(*state) >= 5);
	r = open_store(*state, 1, 64 * 1024);
	assert_non_null(r);
	assert_int_equal(tz_seg_purge(r, time(NULL) + 10, &ps, err, sizeof(err)), 0);
	assert_int_equal(ps.expired, 60);
	assert_true(ps.dropped >= 4);
	tz_seg_free(r);
	/* the writer's next append finds the newer segments the purge's
	 * tombstones went to (its own newest may have been purged too) */
	make_id(id, 100);
	assert_int_equal(write_entry(w, id, 20000, err, sizeof(err)), 0);
	d = g_dir_open("/proc/self/fd", 0, NULL);
	assert_non_null(d);
	for (const char *n; (n = g_dir_read_name(d)) != NULL;) {
		char *p = g_build_filename("/proc/self/fd", n, NULL);
		ssize_t len = readlink(p, link, sizeof(link) - 1);
		g_free(p);
		if (len > 0) {
			link[len] = '\0';
			deleted += strstr(link, ".tzs (deleted)") != NULL;
		}
	}
	g_dir_close(d);
	assert_int_equal(deleted, 0);
	tz_seg_free(w);
	r = open_store(*state, 1, 0);
	assert_true(entry_ok(r, id, 20000));
	assert_int_equal(count(r), 1);
	tz_seg_free(r);
}

/* ---- kill -9 at every step of the commit ---- */

struct crasher {
	struct tz_seg *s;
	int fd;                      /* acknowledged ids go here */
	unsigned first;
	pthread_mutex_t *mu;
};

static void *crasher_main(void *arg)
{
	struct crasher *c = arg;
	char err[TZ_ERRLEN], id[TZ_ID_LEN];

	for (unsigned k = c->first; k < c->first + 1000; k++) {
		make_id(id, k);
		if (write_entry(c->s, id, 2000 + (k % 7) * 30000, err, sizeof(err)) < 0)
			_exit(3);
		pthread_mutex_lock(c->mu);   /* one whole line per id */
		if (write(c->fd, id, strlen(id)) < 0 || write(c->fd, "\n", 1) < 0)
			_exit(4);
		pthread_mutex_unlock(c->mu);
	}
	return NULL;
}

/* Child: 4 threads commit until the fault point kills the process. */
static void crash_child(const char *dir, int fd, int round, int after)
{
	int step = (round - 1) % TZ_SEG_CRASH_STEPS + 1, append_only = round > TZ_SEG_CRASH_STEPS;
	char env[32];
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	struct crasher c[4];
	pthread_t th[4];
	struct tz_seg *s;

	snprintf(env, sizeof(env), "%d/%d", step, after);
	setenv("TZ_SEG_CRASH_STEP", env, 1);
	s = open_store_as(dir, 1, 256 * 1024, append_only);
	if (s == NULL)
		_exit(2);
	for (int i = 0; i < 4; i++) {
		c[i] = (struct crasher){ s, fd, (unsigned)(round * 50000 + after * 1000 + i * 10000), &mu };
		pthread_create(&th[i], NULL, crasher_main, &c[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	_exit(5);   /* the fault point never fired */
}

static void test_crash_points(void **state)
{
	unsigned total_acked = 0;

	/* The writer as the CLI opens the store, and as the milter does
	 * (append_only: no index, only the newest segment scanned). */
	for (int round = 1; round <= TZ_SEG_CRASH_STEPS * 2; round++) {
		for (int after = 0; after <= 12; after += 6) {
			int p[2], status;
			pid_t pid;
			GString *acked = g_string_new(NULL);
			char buf[4096], **ids, err[TZ_ERRLEN];
			ssize_t n;
			struct tz_seg *s;
			unsigned entries, bad, listed, n_acked;

			assert_int_equal(pipe(p), 0);
			pid = fork();
			assert_true(pid >= 0);
			if (pid == 0) {
				close(p[0]);
				crash_child(*state, p[1], round, after);
			}
			close(p[1]);
			while ((n = read(p[0], buf, sizeof(buf))) > 0)
				g_string_append_len(acked, buf, n);
			close(p[0]);
			assert_int_equal(waitpid(pid, &status, 0), pid);
			assert_true(WIFEXITED(status));
			assert_int_equal(WEXITSTATUS(status), 9);
			/* Recovery: open, which repairs the tail. */
			s = open_store(*state, 1, 256 * 1024);
			assert_non_null(s);
			ids = g_strsplit(acked->str, "\n", -1);
			n_acked = 0;
			for (char **i = ids; *i && **i; i++) {
				unsigned k = 0;
				sscanf(*i + 16, "%u", &k);
				assert_true(tz_seg_has(s, *i));
				assert_true(entry_ok(s, *i, 2000 + (k % 7) * 30000));
				total_acked++;
				n_acked++;
			}
			/* Nothing listed is torn: every blob of every entry verifies. */
			assert_int_equal(tz_seg_verify(s, &entries, &bad, err, sizeof(err)), 0);
			listed = count(s);
			assert_true(listed >= n_acked);
			/* The fault fired after `after` durable commits; at most the
			 * three other threads had not reported theirs yet. */
			assert_true(n_acked + 3 >= (unsigned)after);
			g_strfreev(ids);
			g_string_free(acked, TRUE);
			tz_seg_free(s);
		}
	}
	assert_true(total_acked > 0);
}

/* ---- a full and a read-only file system ---- */

static int small_fs_child(const char *mnt)
{
	char err[TZ_ERRLEN], id[TZ_ID_LEN], ro[PATH_MAX];
	struct tz_seg *s;
	unsigned acked = 0, k;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", mnt, "tmpfs", 0, "size=256k") < 0) {
		fprintf(stderr, "private mount: %s\n", strerror(errno));
		return 77;
	}
	s = open_store(mnt, 1, 0);
	if (s == NULL)
		return 10;
	for (k = 0; k < 100; k++) {
		make_id(id, k);
		if (write_entry(s, id, 40000, err, sizeof(err)) < 0)
			break;
		acked++;
	}
	if (k == 100 || strstr(err, "space") == NULL)
		return 11;   /* never full, or not reported as such */
	tz_seg_free(s);
	/* Everything acknowledged is there, and nothing torn. */
	s = open_store(mnt, 1, 0);
	if (s == NULL || count(s) != acked)
		return 12;
	for (k = 0; k < acked; k++) {
		make_id(id, k);
		if (!entry_ok(s, id, 40000))
			return 13;
	}
	tz_seg_free(s);
	/* Read-only (a bind mount of it, remounted read-only: a store that
	 * cannot take a write): opening it for writing fails and says why;
	 * opened read-only it still serves every entry. */
	snprintf(ro, sizeof(ro), "%s.ro", mnt);
	if (mkdir(ro, 0700) < 0 || mount(mnt, ro, NULL, MS_BIND, NULL) < 0 ||
	    mount(NULL, ro, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0) {
		fprintf(stderr, "read-only bind mount: %s\n", strerror(errno));
		return 16;
	}
	err[0] = '\0';
	s = tz_seg_open(ro, &(struct tz_seg_opts){ key, 0, 0, 0 }, err, sizeof(err));
	if (s != NULL || strstr(err, "Read-only") == NULL)
		return 14;
	s = tz_seg_open(ro, &(struct tz_seg_opts){ key, 0, 1, 0 }, err, sizeof(err));
	make_id(id, 0);
	if (s == NULL || count(s) != acked || !entry_ok(s, id, 40000) ||
	    tz_seg_entry_begin(s, id, err, sizeof(err)) != NULL)
		return 15;
	tz_seg_free(s);
	return 0;
}

static void test_full_and_readonly(void **state)
{
	char *mnt = g_build_filename(*state, "mnt", NULL);
	int status;
	pid_t pid;

	if (geteuid() != 0) {
		fprintf(stderr, "not root: no private mounts\n");
		g_free(mnt);
		skip();
	}
	mkdir(mnt, 0700);
	pid = fork();
	if (pid == 0)
		_exit(small_fs_child(mnt));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	g_free(mnt);
	if (WEXITSTATUS(status) == 77)
		skip();   /* no private mounts here */
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip_plain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip_encrypted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_and_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offset_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compaction_vs_put, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roll_by_day, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_only_holds_newest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_points, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_and_readonly, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
