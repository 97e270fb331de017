/* tz_store_migrate.c — `textizectl queue migrate`: every entry of the
 * directory layout (entries/<day>/<id>/) moved into the segment store
 * (store/), oldest first. Per entry: each file read through tz_crypt
 * (authenticated), written as one entry record with the same blob names
 * and the entry's own stored time; every blob read back from the segment
 * and compared (SHA-256 of the plaintext) with its source; only then the
 * directory is removed. Idempotent and resumable: an id already in the
 * segment store (a run cut off after its commit) is only verified against
 * what is left of its directory, which is then removed. */
#include "tz_store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "tz_util.h"

/* The files of an entry directory, sorted; leftovers (*.tmp) skipped. */
static GPtrArray *entry_files(int dirfd)
{
	GPtrArray *v = g_ptr_array_new_with_free_func(g_free);
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return v;
	}
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && !g_str_has_suffix(de->d_name, ".tmp"))
			g_ptr_array_add(v, g_strdup(de->d_name));
	closedir(d);
	g_ptr_array_sort(v, (GCompareFunc)tzs_cmp_str);
	return v;
}

void *tzs_sha_new(void)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	if (c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(c);
		c = NULL;
	}
	return c;
}

int tzs_sha_feed(void *sha, const void *buf, size_t len, char *err, size_t errlen)
{
	return EVP_DigestUpdate(sha, buf, len) == 1 ? 0 : tz_err(err, errlen, "SHA-256 failed");
}

int tzs_sha_done(void *sha, int rc, char hex[65], char *err, size_t errlen)
{
	unsigned char md[32];

	if (sha == NULL)
		return tz_err(err, errlen, "SHA-256 failed");
	if (rc == 0 && EVP_DigestFinal_ex(sha, md, NULL) != 1)
		rc = tz_err(err, errlen, "SHA-256 failed");
	if (rc == 0)
		tz_hex(md, 32, hex);
	EVP_MD_CTX_free(sha);
	return rc;
}

/* SHA-256 (hex) of a blob's plaintext, from the directory (dirfd >= 0) or
 * the segment store. */
static int blob_sha(struct tz_store *st, int dirfd, const char *id, const char *name,
		    char hex[65], char *err, size_t errlen)
{
	void *sha = tzs_sha_new();
	int rc = sha == NULL ? -1 :
		 dirfd >= 0 ? tz_cfile_read(dirfd, name, name, tz_store_key(st), id, tzs_sha_feed, sha,
					    err, errlen) :
			      tz_seg_read(st->seg, id, name, tzs_sha_feed, sha, err, errlen);

	return tzs_sha_done(sha, rc, hex, err, errlen);
}

static int copy_cb(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	return tz_seg_blob_write(ctx, buf, len, err, errlen);
}

/* One record with every file of the directory, stored time kept. */
static int copy_entry(struct tz_store *st, int dirfd, const char *id, GPtrArray *files,
		      char *err, size_t errlen)
{
	struct tz_meta *m = tzs_dir_meta(st, dirfd, id, err, errlen);
	struct tz_seg_entry *e;

	if (m == NULL)
		return -1;
	e = tz_seg_entry_begin(st->seg, id, err, errlen);
	if (e != NULL)
		tz_seg_entry_set_stored(e, (time_t)m->stored_time);
	tz_meta_free(m);
	if (e == NULL)
		return -1;
	for (guint i = 0; i < files->len; i++) {
		const char *name = g_ptr_array_index(files, i);
		if (tz_seg_blob_begin(e, name, err, errlen) < 0 ||
		    tz_cfile_read(dirfd, name, name, tz_store_key(st), id, copy_cb, e, err, errlen) < 0 ||
		    tz_seg_blob_end(e, NULL, NULL, err, errlen) < 0) {
			tz_seg_entry_abort(e);
			return -1;
		}
	}
	return tz_seg_entry_commit(e, err, errlen);
}

/* Every file of the directory reads back the same from the segment store. */
static int verify_entry(struct tz_store *st, int dirfd, const char *id, GPtrArray *files,
			char *err, size_t errlen)
{
	char a[65], b[65], why[TZ_ERRLEN];

	for (guint i = 0; i < files->len; i++) {
		const char *name = g_ptr_array_index(files, i);
		if (blob_sha(st, dirfd, id, name, a, why, sizeof(why)) < 0)
			return tz_err(err, errlen, "quarantine %s: %s (directory): %s", id, name, why);
		if (blob_sha(st, -1, id, name, b, why, sizeof(why)) < 0)
			return tz_err(err, errlen, "quarantine %s: %s (segment): %s", id, name, why);
		if (strcmp(a, b) != 0)
			return tz_err(err, errlen, "quarantine %s: %s differs after copying", id, name);
	}
	return 0;
}

/* Migrate one entry directory: 1 copied, 2 was copied before (verified,
 * removed now), -1 with err. */
static int migrate_one(struct tz_store *st, int dayfd, const char *id, char *err, size_t errlen)
{
	int dirfd = tzs_open_dir_at(dayfd, id, 0), had, rc = -1;
	GPtrArray *files;

	if (dirfd < 0)
		return tz_err(err, errlen, "quarantine %s: %s", id, strerror(errno));
	files = entry_files(dirfd);
	had = tz_seg_has(st->seg, id);
	if (!had && copy_entry(st, dirfd, id, files, err, errlen) < 0)
		goto out;
	if (verify_entry(st, dirfd, id, files, err, errlen) < 0)
		goto out;
	if (tzs_remove_flat_dir(dayfd, id) < 0 || tzs_fsync_dir(dayfd) < 0) {
		tz_err(err, errlen, "quarantine %s: remove after copying: %s", id, strerror(errno));
		goto out;
	}
	rc = had ? 2 : 1;
out:
	close(dirfd);
	g_ptr_array_unref(files);
	return rc;
}

/* The day directories' entry ids, oldest first. */
static GPtrArray *dir_ids(struct tz_store *st)
{
	GPtrArray *v = g_ptr_array_new_with_free_func(g_free);
	int fd = openat(st->entfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;

	while (d && (de = readdir(d)) != NULL) {
		int dayfd;
		GPtrArray *in;
		if (strlen(de->d_name) != 8 || strspn(de->d_name, "0123456789") != 8)
			continue;
		dayfd = tzs_open_dir_at(dirfd(d), de->d_name, 0);
		if (dayfd < 0)
			continue;
		in = entry_files(dayfd);
		for (guint i = 0; i < in->len; i++)
			if (tz_id_valid(g_ptr_array_index(in, i)))
				g_ptr_array_add(v, g_strdup(g_ptr_array_index(in, i)));
		g_ptr_array_unref(in);
		close(dayfd);
	}
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	g_ptr_array_sort(v, (GCompareFunc)tzs_cmp_str);
	return v;
}

int tz_store_migrate(struct tz_store *st, int dry_run, struct tz_store_migration *mg,
		     char *err, size_t errlen)
{
	GPtrArray *ids = dir_ids(st);
	int rc = 0;

	memset(&mg->copied, 0, sizeof(*mg) - offsetof(struct tz_store_migration, copied));
	mg->pending = ids->len;
	if (!dry_run && ids->len > 0 && tzs_seg_open(st, 1, err, errlen) < 0)
		rc = -1;
	for (guint i = 0; i < ids->len && rc == 0 && !dry_run; i++) {
		const char *id = g_ptr_array_index(ids, i);
		char day[9];
		int dayfd, r;
		memcpy(day, id, 8);
		day[8] = '\0';
		dayfd = tzs_open_dir_at(st->entfd, day, 0);
		r = dayfd < 0 ? tz_err(err, errlen, "quarantine entries/%s: %s", day, strerror(errno)) :
				migrate_one(st, dayfd, id, err, errlen);
		if (dayfd >= 0) {
			close(dayfd);
			unlinkat(st->entfd, day, AT_REMOVEDIR);   /* when empty now */
		}
		if (r > 0) {
			mg->pending--;
			*(r == 1 ? &mg->copied : &mg->resumed) += 1;
			if (mg->done)
				mg->done(mg->ctx, id, r == 2);
		} else {
			rc = -1;
		}
	}
	g_ptr_array_unref(ids);
	return rc;
}
