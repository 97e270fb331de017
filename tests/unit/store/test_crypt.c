/* test_crypt.c — the quarantine file format: round trips at chunk
 * boundaries, and every kind of tampering detected on read: a flipped
 * byte (header, body, tag), truncation (inside a chunk and exactly at a
 * chunk boundary), an appended chunk, a file swapped between entries or
 * between names, a wrong key; key file parsing; whole chunks sealed where
 * they lie read back alike; a sealer whose caller hashes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tz_crypt.h"
#include "tz_store_testlib.h"

#define ID1 "20261124-082306-123456-0badcafe"
#define ID2 "20261124-082306-123457-0badcafe"

static unsigned char key1[TZ_KEY_LEN], key2[TZ_KEY_LEN];

static int setup(void **state)
{
	for (int i = 0; i < TZ_KEY_LEN; i++) {
		key1[i] = (unsigned char)i;
		key2[i] = (unsigned char)(i + 1);
	}
	*state = tl_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	tl_rmrf(*state);
	g_free(*state);
	return 0;
}

static unsigned char *pattern(size_t n)
{
	unsigned char *b = g_malloc(n + 1);

	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(i * 31 + (i >> 8));
	return b;
}

/* Write n bytes (in uneven pieces) as name; returns the dir fd. */
static void write_file(int dfd, const char *name, const char *id, const unsigned char *key,
		       const unsigned char *buf, size_t n)
{
	char err[TZ_ERRLEN], sha[65], want[65];
	struct tz_cfile *f = tz_cfile_create(dfd, name, name, key, id, err, sizeof(err));
	uint64_t size;
	size_t off = 0, step = 1;

	assert_non_null(f);
	while (off < n) {
		size_t k = MIN(step, n - off);
		assert_int_equal(tz_cfile_write(f, buf + off, k, err, sizeof(err)), 0);
		off += k;
		step = step * 3 + 7;
	}
	assert_int_equal(tz_cfile_finish(f, sha, &size, err, sizeof(err)), 0);
	assert_int_equal(size, n);
	tl_sha256(buf, n, want);
	assert_string_equal(sha, want);
}

static int read_back(int dfd, const char *fname, const char *aad, const char *id,
		     const unsigned char *key, GByteArray **out)
{
	char err[TZ_ERRLEN];

	return tz_cfile_read_all(dfd, fname, aad, key, id, 1u << 30, out, err, sizeof(err));
}

static int open_dir(void **state)
{
	return open(*state, O_RDONLY | O_DIRECTORY);
}

static void test_round_trip_sizes(void **state)
{
	static const size_t sizes[] = { 0, 1, 100, 65535, 65536, 65537, 131072, 200001 };
	int dfd = open_dir(state);

	for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
		unsigned char *buf = pattern(sizes[i]);
		GByteArray *ba;
		struct stat sb;
		write_file(dfd, "f.bin", ID1, key1, buf, sizes[i]);
		assert_int_equal(fstatat(dfd, "f.bin", &sb, 0), 0);
		assert_int_equal(sb.st_mode & 0777, 0600);
		assert_int_equal(read_back(dfd, "f.bin", "f.bin", ID1, key1, &ba), 0);
		assert_int_equal(ba->len, sizes[i]);
		if (sizes[i])
			assert_memory_equal(ba->data, buf, sizes[i]);
		g_byte_array_unref(ba);
		/* plain mode too */
		unlinkat(dfd, "f.bin", 0);
		write_file(dfd, "f.bin", ID1, NULL, buf, sizes[i]);
		assert_int_equal(read_back(dfd, "f.bin", "f.bin", ID1, NULL, &ba), 0);
		assert_int_equal(ba->len, sizes[i]);
		g_byte_array_unref(ba);
		unlinkat(dfd, "f.bin", 0);
		g_free(buf);
	}
	close(dfd);
}

/* Write n bytes as name in two calls, the first of `first` bytes: a
 * write that holds whole chunks seals them where they lie, one after a
 * partial chunk goes through the buffer; the file must read back alike. */
static void write_split(int dfd, const char *name, const unsigned char *key,
			const unsigned char *buf, size_t n, size_t first)
{
	char err[TZ_ERRLEN], sha[65], want[65];
	struct tz_cfile *f = tz_cfile_create(dfd, name, name, key, ID1, err, sizeof(err));

	assert_non_null(f);
	assert_int_equal(tz_cfile_write(f, buf, first, err, sizeof(err)), 0);
	assert_int_equal(tz_cfile_write(f, buf + first, n - first, err, sizeof(err)), 0);
	assert_int_equal(tz_cfile_finish(f, sha, NULL, err, sizeof(err)), 0);
	tl_sha256(buf, n, want);
	assert_string_equal(sha, want);
}

static void test_whole_chunk_writes(void **state)
{
	static const size_t sizes[] = { 65536, 131072, 200001 };
	static const size_t firsts[] = { 0, 1, 65535, 65536, 65537 };
	int dfd = open_dir(state);

	for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
		unsigned char *buf = pattern(sizes[i]);
		for (size_t k = 0; k < G_N_ELEMENTS(firsts); k++) {
			for (int enc = 0; enc < 2; enc++) {
				GByteArray *ba;
				struct stat sb;
				write_split(dfd, "w.bin", enc ? key1 : NULL, buf, sizes[i], MIN(firsts[k], sizes[i]));
				assert_int_equal(fstatat(dfd, "w.bin", &sb, 0), 0);
				/* header + one tag per chunk, the last one short (maybe empty) */
				assert_int_equal(sb.st_size, enc ? TZ_CRYPT_HEADER_LEN + sizes[i] +
						 16 * (sizes[i] / TZ_CRYPT_CHUNK + 1) : sizes[i]);
				assert_int_equal(read_back(dfd, "w.bin", "w.bin", ID1, enc ? key1 : NULL, &ba), 0);
				assert_int_equal(ba->len, sizes[i]);
				assert_memory_equal(ba->data, buf, sizes[i]);
				g_byte_array_unref(ba);
				unlinkat(dfd, "w.bin", 0);
			}
		}
		g_free(buf);
	}
	close(dfd);
}

static int collect_out(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	g_byte_array_append(ctx, buf, (guint)len);
	return 0;
}

/* A sealer told that its caller hashes the bytes writes the same bytes,
 * counts them, and leaves the SHA-256 to the caller. */
static void test_skip_digest(void **state)
{
	unsigned char *buf = pattern(150000), sha[32];
	char err[TZ_ERRLEN];
	GByteArray *a = g_byte_array_new(), *b = g_byte_array_new();
	struct tz_sealer *s1 = tz_sealer_new(NULL, ID1, "p", "p", collect_out, a, err, sizeof(err));
	struct tz_sealer *s2 = tz_sealer_new(NULL, ID1, "p", "p", collect_out, b, err, sizeof(err));
	uint64_t size = 0;

	(void)state;
	tz_sealer_skip_digest(s2);
	assert_int_equal(tz_sealer_write(s1, buf, 150000, err, sizeof(err)), 0);
	assert_int_equal(tz_sealer_write(s2, buf, 150000, err, sizeof(err)), 0);
	memset(sha, 0xaa, sizeof(sha));
	assert_int_equal(tz_sealer_finish(s1, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(tz_sealer_finish(s2, sha, &size, err, sizeof(err)), 0);
	assert_int_equal(size, 150000);
	for (size_t i = 0; i < sizeof(sha); i++)
		assert_int_equal(sha[i], 0xaa);
	assert_int_equal(a->len, 150000);
	assert_int_equal(b->len, 150000);
	assert_memory_equal(a->data, b->data, 150000);
	tz_sealer_free(s1);
	tz_sealer_free(s2);
	g_byte_array_unref(a);
	g_byte_array_unref(b);
	g_free(buf);
}

/* Modify a copy of an encrypted file and expect the read to fail. */
static void expect_tamper(int dfd, void (*mutate)(int fd, off_t size))
{
	struct stat sb;
	GByteArray *ba = NULL;
	int fd;

	fd = openat(dfd, "t.bin", O_RDWR);
	assert_true(fd >= 0);
	fstat(fd, &sb);
	mutate(fd, sb.st_size);
	close(fd);
	assert_int_equal(read_back(dfd, "t.bin", "t.bin", ID1, key1, &ba), -1);
	assert_null(ba);
}

static void flip_at(int fd, off_t where)
{
	unsigned char c;

	assert_int_equal(pread(fd, &c, 1, where), 1);
	c ^= 0x01;
	assert_int_equal(pwrite(fd, &c, 1, where), 1);
}

static void flip_header(int fd, off_t size) { (void)size; flip_at(fd, 10); }
static void flip_version(int fd, off_t size) { (void)size; flip_at(fd, 4); }
static void flip_body(int fd, off_t size) { (void)size; flip_at(fd, 70000); }
static void flip_last(int fd, off_t size) { flip_at(fd, size - 1); }
static void cut_inside(int fd, off_t size) { assert_int_equal(ftruncate(fd, size - 100), 0); }
/* Drop the (short) final chunk: what is left ends on a chunk boundary. */
static void cut_boundary(int fd, off_t size)
{
	(void)size;
	assert_int_equal(ftruncate(fd, TZ_CRYPT_HEADER_LEN + 2 * (TZ_CRYPT_CHUNK + 16)), 0);
}
static void append(int fd, off_t size)
{
	assert_int_equal(pwrite(fd, "xxxxxxxxxxxxxxxxxxxxxxxx", 24, size), 24);
}

static void test_tamper(void **state)
{
	void (*const cases[])(int, off_t) = {
		flip_header, flip_version, flip_body, flip_last, cut_inside, cut_boundary, append,
	};
	unsigned char *buf = pattern(150000);
	int dfd = open_dir(state);

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		unlinkat(dfd, "t.bin", 0);
		write_file(dfd, "t.bin", ID1, key1, buf, 150000);
		expect_tamper(dfd, cases[i]);
	}
	unlinkat(dfd, "t.bin", 0);
	g_free(buf);
	close(dfd);
}

/* A file is bound to its entry id, its name and the key. */
static void test_binding(void **state)
{
	unsigned char *buf = pattern(1000);
	int dfd = open_dir(state);
	GByteArray *ba = NULL;

	write_file(dfd, "part-001.bin", ID1, key1, buf, 1000);
	assert_int_equal(read_back(dfd, "part-001.bin", "part-001.bin", ID2, key1, &ba), -1);
	assert_int_equal(read_back(dfd, "part-001.bin", "part-002.bin", ID1, key1, &ba), -1);
	assert_int_equal(read_back(dfd, "part-001.bin", "part-001.bin", ID1, key2, &ba), -1);
	/* a plain reader must not return ciphertext as if it were content,
	 * and an encrypted reader refuses a plain file */
	write_file(dfd, "plain.bin", ID1, NULL, buf, 1000);
	assert_int_equal(read_back(dfd, "plain.bin", "plain.bin", ID1, key1, &ba), -1);
	assert_int_equal(read_back(dfd, "part-001.bin", "part-001.bin", ID1, key1, &ba), 0);
	assert_memory_equal(ba->data, buf, 1000);
	g_byte_array_unref(ba);
	/* O_EXCL: never overwrites */
	assert_null(tz_cfile_create(dfd, "part-001.bin", "part-001.bin", key1, ID1, NULL, 0));
	unlinkat(dfd, "part-001.bin", 0);
	unlinkat(dfd, "plain.bin", 0);
	g_free(buf);
	close(dfd);
}

static void put_file(const char *path, const void *data, size_t len, mode_t mode)
{
	FILE *f = fopen(path, "w");

	fwrite(data, 1, len, f);
	fclose(f);
	chmod(path, mode);
}

static void test_key_files(void **state)
{
	char *p = g_build_filename(*state, "k", NULL);
	unsigned char k[TZ_KEY_LEN], raw[TZ_KEY_LEN];
	char err[TZ_ERRLEN];

	for (int i = 0; i < TZ_KEY_LEN; i++)
		raw[i] = (unsigned char)(0xa0 + i);
	put_file(p, raw, sizeof(raw), 0600);
	assert_int_equal(tz_key_load(p, k, err, sizeof(err)), 0);
	assert_memory_equal(k, raw, sizeof(raw));
	put_file(p, "  A0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF\n", 67, 0640);
	assert_int_equal(tz_key_load(p, k, err, sizeof(err)), 0);
	assert_memory_equal(k, raw, sizeof(raw));
	put_file(p, "a0a1", 4, 0600);
	assert_int_equal(tz_key_load(p, k, err, sizeof(err)), -1);
	put_file(p, raw, sizeof(raw), 0644);
	assert_int_equal(tz_key_load(p, k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "mode"));
	assert_int_equal(tz_key_load("/nonexistent/key", k, err, sizeof(err)), -1);
	g_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_sizes),
		cmocka_unit_test(test_whole_chunk_writes),
		cmocka_unit_test(test_skip_digest),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_binding),
		cmocka_unit_test(test_key_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
