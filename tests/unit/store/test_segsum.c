/* test_segsum.c — the segment record's payload checksum (tz_segsum.c,
 * format in tz_segment.h): records are written with flag 2, their
 * checksum the GMAC of AES-256-GCM under an all-zero key and IV (computed
 * here independently, as a GCM tag over the payload as AAD), the field's
 * other 16 bytes zero, the version byte still 1; records written before
 * (no flag, SHA-256; made here by rewriting the written records as the
 * previous writer wrote them) are listed, read and verified, a sealed
 * segment's offset index of them is used, a damaged payload of one in the
 * newest segment is still found and not listed, and compaction rewrites
 * them with the GMAC. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <sys/stat.h>
#include <openssl/evp.h>

#include "tz_segment.h"
#include "tz_store_testlib.h"

static unsigned char key[TZ_KEY_LEN];

static int setup(void **state)
{
	for (int i = 0; i < TZ_KEY_LEN; i++)
		key[i] = (unsigned char)(5 * i + 3);
	*state = tl_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	tl_rmrf(*state);
	g_free(*state);
	return 0;
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

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

static void make_id(char id[TZ_ID_LEN], unsigned k)
{
	snprintf(id, TZ_ID_LEN, "20261204-000000-%06u-%08x", k, k * 2654435761u);
}

/* An entry of two blobs: original.eml (n bytes) and meta.json. */
static void write_entry(struct tz_seg *s, const char *id, size_t n)
{
	char err[TZ_ERRLEN] = "";
	struct tz_seg_entry *e = tz_seg_entry_begin(s, id, err, sizeof(err));
	unsigned char *a = content(id, "original.eml", n), *m = content(id, "meta.json", 200);

	assert_non_null(e);
	assert_int_equal(tz_seg_entry_add(e, "original.eml", a, n, err, sizeof(err)), 0);
	assert_int_equal(tz_seg_entry_add(e, "meta.json", m, 200, err, sizeof(err)), 0);
	assert_int_equal(tz_seg_entry_commit(e, err, sizeof(err)), 0);
	g_free(a);
	g_free(m);
}

static int entry_ok(struct tz_seg *s, const char *id, size_t n)
{
	const char *names[] = { "original.eml", "meta.json" };
	size_t lens[] = { n, 200 };
	int ok = 1;

	for (int i = 0; i < 2 && ok; i++) {
		GByteArray *ba = g_byte_array_new();
		unsigned char *want = content(id, names[i], lens[i]);
		char err[TZ_ERRLEN] = "";
		ok = tz_seg_read(s, id, names[i], tl_collect, ba, err, sizeof(err)) == 0 &&
		     ba->len == lens[i] && memcmp(ba->data, want, lens[i]) == 0;
		if (!ok)
			fprintf(stderr, "%s/%s: %s\n", id, names[i], err);
		g_byte_array_unref(ba);
		g_free(want);
	}
	return ok;
}

static struct tz_seg *open_store(const char *dir, uint64_t max_segment)
{
	struct tz_seg_opts o = { key, max_segment, 0, 0 };
	char err[TZ_ERRLEN] = "";
	struct tz_seg *s = tz_seg_open(dir, &o, err, sizeof(err));

	if (s == NULL)
		fprintf(stderr, "open %s: %s\n", dir, err);
	assert_non_null(s);
	return s;
}

static int count_cb(void *ctx, const struct tz_seg_info *i)
{
	(void)i;
	++*(unsigned *)ctx;
	return 0;
}

static unsigned count(struct tz_seg *s)
{
	unsigned n = 0;

	tz_seg_foreach(s, count_cb, &n);
	return n;
}

/* The records of a segment file: offsets of each (ends with the size). */
static GArray *records(const GByteArray *f)
{
	GArray *offs = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	uint64_t off = 0;

	while (off + 128 <= f->len) {
		g_array_append_val(offs, off);
		off += 128 + (f->data[off + 8] | (uint64_t)f->data[off + 9] << 8 |
			      (uint64_t)f->data[off + 10] << 16 | (uint64_t)f->data[off + 11] << 24) +
		       get64(f->data + off + 16) + 32;
	}
	assert_int_equal(off, f->len);
	g_array_append_val(offs, off);
	return offs;
}

static GByteArray *slurp(const char *path)
{
	gchar *b = NULL;
	gsize n = 0;
	GByteArray *ba = g_byte_array_new();

	assert_true(g_file_get_contents(path, &b, &n, NULL));
	g_byte_array_append(ba, (const guint8 *)b, (guint)n);
	g_free(b);
	return ba;
}

/* The GMAC as GCM defines it: the tag of an empty plaintext whose
 * additional data is the payload; key and IV all zero. */
static void gmac(const unsigned char *p, size_t n, unsigned char tag[16])
{
	static const unsigned char zero[32];
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l;

	assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, zero, zero), 1);
	assert_int_equal(EVP_EncryptUpdate(c, NULL, &l, p, (int)n), 1);
	assert_int_equal(EVP_EncryptFinal_ex(c, NULL, &l), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag), 1);
	EVP_CIPHER_CTX_free(c);
}

/* Every segment file of dir, by name. */
static GPtrArray *segment_paths(const char *dir)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *n;

	while ((n = g_dir_read_name(d)) != NULL)
		if (g_str_has_suffix(n, ".tzs"))
			g_ptr_array_add(a, g_build_filename(dir, n, NULL));
	g_dir_close(d);
	g_ptr_array_sort(a, (GCompareFunc)g_strcmp0);
	return a;
}

/* Records as written: version 1, flag 2 and the GMAC, the trailer SHA-256 of the
 * header and directory. A small record (read with the first pread when
 * checked) and a large one (read in chunks), plain and encrypted. */
static void test_gmac_written(void **state)
{
	for (int with_key = 0; with_key < 2; with_key++) {
		char *dir = g_strdup_printf("%s/k%d", (char *)*state, with_key);
		struct tz_seg_opts o = { with_key ? key : NULL, 0, 0, 0 };
		char err[TZ_ERRLEN] = "", a[TZ_ID_LEN], b[TZ_ID_LEN], *p = g_build_filename(dir, "00000001.tzs", NULL);
		struct tz_seg *s = tz_seg_open(dir, &o, err, sizeof(err));
		GByteArray *f;
		GArray *offs;

		assert_non_null(s);
		make_id(a, 1);
		make_id(b, 2);
		write_entry(s, a, 1000);
		write_entry(s, b, 300000);
		assert_int_equal(tz_seg_delete(s, a, err, sizeof(err)), 0);   /* no payload */
		tz_seg_free(s);
		f = slurp(p);
		offs = records(f);
		assert_int_equal(offs->len, 4);
		for (guint i = 0; i + 1 < offs->len; i++) {
			const unsigned char *h = f->data + g_array_index(offs, uint64_t, i);
			uint64_t end = g_array_index(offs, uint64_t, i + 1), plen = get64(h + 16);
			size_t dirlen = (size_t)(end - g_array_index(offs, uint64_t, i) - 128 - plen - 32);
			unsigned char tag[16], md[32], zero[16] = { 0 };
			assert_int_equal(h[4], 1);
			assert_int_equal(h[12] & 2, 2);
			gmac(h + 128 + dirlen, (size_t)plen, tag);
			assert_memory_equal(h + 72, tag, 16);
			assert_memory_equal(h + 88, zero, 16);
			EVP_Digest(h, 128 + dirlen, md, NULL, EVP_sha256(), NULL);
			assert_memory_equal(h + 128 + dirlen + plen, md, 32);
		}
		g_array_unref(offs);
		g_byte_array_unref(f);
		g_free(p);
		g_free(dir);
	}
}

/* Rewrite every record of the file as the previous writer wrote it: no
 * flag 2, the payload's SHA-256 in the checksum field, the trailer again.
 * Its offset index goes (it holds the headers as they were). */
static void make_sha256(const char *path)
{
	GByteArray *f = slurp(path);
	GArray *offs = records(f);
	char *x = g_strdup(path);

	for (guint i = 0; i + 1 < offs->len; i++) {
		uint64_t off = g_array_index(offs, uint64_t, i), end = g_array_index(offs, uint64_t, i + 1);
		unsigned char *h = f->data + off;
		uint64_t plen = get64(h + 16), dirlen = end - off - 128 - plen - 32;
		h[12] &= (unsigned char)~2u;
		EVP_Digest(h + 128 + dirlen, (size_t)plen, h + 72, NULL, EVP_sha256(), NULL);
		EVP_Digest(h, (size_t)(128 + dirlen), h + 128 + dirlen + plen, NULL, EVP_sha256(), NULL);
	}
	assert_true(g_file_set_contents(path, (const gchar *)f->data, f->len, NULL));
	memcpy(x + strlen(x) - 3, "tzx", 3);
	unlink(x);
	g_free(x);
	g_array_unref(offs);
	g_byte_array_unref(f);
}

/* 1 when the last record (in the newest segment) that holds id has the
 * GMAC flag, 0 when not. */
static int gmac_of(const char *dir, const char *id)
{
	GPtrArray *paths = segment_paths(dir);
	int v = -1;

	for (guint k = 0; k < paths->len; k++) {
		GByteArray *f = slurp(g_ptr_array_index(paths, k));
		GArray *offs = records(f);
		for (guint i = 0; i + 1 < offs->len; i++) {
			const unsigned char *h = f->data + g_array_index(offs, uint64_t, i);
			if (memcmp(h + 32, id, strlen(id)) == 0)
				v = (h[12] & 2) != 0;
		}
		g_array_unref(offs);
		g_byte_array_unref(f);
	}
	g_ptr_array_unref(paths);
	return v;
}

/* Entry k's original: small ones (their record checked from the first
 * read) and larger ones (checked in chunks) alternate; the last is large. */
#define OLD_ENTRIES 16

static size_t size_of(unsigned k)
{
	return k % 2 ? 12000 : 1000;
}

/* A store written by the previous writer (SHA-256): opened, listed, read,
 * verified (sealed segments and the newest, whose records are checked in
 * full); a damaged payload in its newest segment is found; appends and
 * compaction write the GMAC. */
static void test_sha256_read(void **state)
{
	char err[TZ_ERRLEN], id[TZ_ID_LEN], last[TZ_ID_LEN], keep[TZ_ID_LEN], added[TZ_ID_LEN];
	struct tz_seg_purge_stats st;
	struct tz_seg *s = open_store(*state, 40 * 1024);
	char *x1 = g_build_filename(*state, "00000001.tzx", NULL);
	GPtrArray *paths;
	unsigned n, bad;
	struct stat sb;
	ino_t ino = 0;

	for (unsigned k = 0; k < OLD_ENTRIES; k++) {
		make_id(id, k);
		write_entry(s, id, size_of(k));
	}
	tz_seg_free(s);
	paths = segment_paths(*state);
	assert_true(paths->len >= 3);
	for (guint k = 0; k < paths->len; k++)
		make_sha256(g_ptr_array_index(paths, k));
	make_id(id, 0);
	assert_int_equal(gmac_of(*state, id), 0);
	for (int pass = 0; pass < 2; pass++) {   /* scanned, then sealed ones from their index */
		s = open_store(*state, 40 * 1024);
		/* the first pass wrote segment 1's index; the second used it
		 * (a rejected index is rewritten: a new file) */
		assert_int_equal(stat(x1, &sb), 0);
		if (pass == 0)
			ino = sb.st_ino;
		assert_true(sb.st_ino == ino);
		assert_int_equal(count(s), OLD_ENTRIES);
		for (unsigned k = 0; k < OLD_ENTRIES; k++) {
			make_id(id, k);
			assert_true(entry_ok(s, id, size_of(k)));
		}
		assert_int_equal(tz_seg_verify(s, &n, &bad, err, sizeof(err)), 0);
		assert_int_equal(n, OLD_ENTRIES);
		tz_seg_free(s);
	}
	/* A byte of the newest SHA-256 record's payload damaged: not listed. */
	make_id(last, OLD_ENTRIES - 1);
	{
		const char *p = g_ptr_array_index(paths, paths->len - 1);
		GByteArray *f = slurp(p);
		f->data[f->len - 32 - 5000] ^= 0x10;
		assert_true(g_file_set_contents(p, (const gchar *)f->data, f->len, NULL));
		g_byte_array_unref(f);
	}
	s = open_store(*state, 40 * 1024);
	assert_false(tz_seg_has(s, last));
	assert_int_equal(count(s), OLD_ENTRIES - 1);
	/* What is written now has the GMAC, beside SHA-256 records. */
	make_id(added, 20);
	write_entry(s, added, 3000);
	tz_seg_free(s);
	assert_int_equal(gmac_of(*state, added), 1);
	/* Compaction moves an entry of a SHA-256 record into a GMAC one. */
	s = open_store(*state, 40 * 1024);
	assert_true(entry_ok(s, added, 3000));
	make_id(keep, 1);
	for (unsigned k = 0; k + 1 < OLD_ENTRIES; k++) {
		make_id(id, k);
		if (k != 1)
			assert_int_equal(tz_seg_delete(s, id, err, sizeof(err)), 0);
	}
	assert_int_equal(tz_seg_purge(s, 0, &st, err, sizeof(err)), 0);
	assert_true(st.compacted >= 1);
	tz_seg_free(s);
	assert_int_equal(gmac_of(*state, keep), 1);
	s = open_store(*state, 40 * 1024);
	assert_true(entry_ok(s, keep, size_of(1)));
	assert_true(entry_ok(s, added, 3000));
	make_id(id, 0);
	assert_false(tz_seg_has(s, id));
	tz_seg_free(s);
	g_ptr_array_unref(paths);
	g_free(x1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gmac_written, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sha256_read, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
