/* tz_blob.c — the blob backend's checks and entry listing shared by every
 * implementation, and the directory implementation (see tz_blob.h). */
#include "tz_blob.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tz_util.h"

int tz_blob_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	return n > 0 && n <= 200 && name[0] != '.' &&
	       strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static int check(const char *id, const char *name, char *err, size_t errlen)
{
	if (!tz_id_valid(id))
		return tz_err(err, errlen, "blob: not a quarantine id: %s", id ? id : "(null)");
	if (name && !tz_blob_name_ok(name))
		return tz_err(err, errlen, "blob %s: bad name", id);
	return 0;
}

int tz_blob_put(struct tz_blob *b, const char *id, const char *name, int fd, uint64_t size,
		char *err, size_t errlen)
{
	if (check(id, name, err, errlen) < 0 || name == NULL)
		return -1;
	return b->ops->put(b, id, name, fd, size, err, errlen);
}

int tz_blob_get(struct tz_blob *b, const char *id, const char *name, int outfd, uint64_t max,
		char *err, size_t errlen)
{
	if (check(id, name, err, errlen) < 0 || name == NULL)
		return -1;
	return b->ops->get(b, id, name, outfd, max, err, errlen);
}

int tz_blob_delete(struct tz_blob *b, const char *id, const char *name, char *err, size_t errlen)
{
	if (check(id, name, err, errlen) < 0 || name == NULL)
		return -1;
	return b->ops->del(b, id, name, err, errlen);
}

static int cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int tz_blob_names(struct tz_blob *b, const char *id, GPtrArray **names, char *err, size_t errlen)
{
	GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
	size_t idlen = id ? strlen(id) : 0;

	*names = g_ptr_array_new_with_free_func(g_free);
	if (check(id, NULL, err, errlen) < 0 || b->ops->list(b, id, keys, err, errlen) < 0) {
		g_ptr_array_unref(keys);
		return -1;
	}
	for (guint i = 0; i < keys->len; i++) {
		const char *k = g_ptr_array_index(keys, i);
		if (strncmp(k, id, idlen) == 0 && k[idlen] == '/' && tz_blob_name_ok(k + idlen + 1))
			g_ptr_array_add(*names, g_strdup(k + idlen + 1));
	}
	g_ptr_array_unref(keys);
	g_ptr_array_sort(*names, cmp_str);
	return 0;
}

/* An entry is complete once its meta.json is there: the store puts it
 * last and deletes it first (tz_store_blob.c), like the directory layout
 * lists only directories with a meta.json. */
int tz_blob_entries(struct tz_blob *b, GPtrArray **complete, GPtrArray **partial,
		    char *err, size_t errlen)
{
	GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GHashTableIter it;
	gpointer k, v;

	if (b->ops->list(b, NULL, keys, err, errlen) < 0) {
		g_ptr_array_unref(keys);
		g_hash_table_unref(seen);
		return -1;
	}
	for (guint i = 0; i < keys->len; i++) {
		const char *key = g_ptr_array_index(keys, i), *slash = strchr(key, '/');
		char *id;
		if (slash == NULL || slash - key >= TZ_ID_LEN)
			continue;
		id = g_strndup(key, (gsize)(slash - key));
		if (!tz_id_valid(id)) {
			g_free(id);
			continue;
		}
		v = g_hash_table_lookup(seen, id);
		g_hash_table_replace(seen, id,
				     GINT_TO_POINTER(GPOINTER_TO_INT(v) | (strcmp(slash + 1, "meta.json") == 0 ? 2 : 1)));
	}
	g_ptr_array_unref(keys);
	if (complete)
		*complete = g_ptr_array_new_with_free_func(g_free);
	if (partial)
		*partial = g_ptr_array_new_with_free_func(g_free);
	g_hash_table_iter_init(&it, seen);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		GPtrArray *to = (GPOINTER_TO_INT(v) & 2) ? (complete ? *complete : NULL)
							 : (partial ? *partial : NULL);
		if (to)
			g_ptr_array_add(to, g_strdup(k));
	}
	g_hash_table_unref(seen);
	if (complete)
		g_ptr_array_sort(*complete, cmp_str);
	if (partial)
		g_ptr_array_sort(*partial, cmp_str);
	return 0;
}

void tz_blob_free(struct tz_blob *b)
{
	if (b)
		b->ops->free(b);
}

/* ---- the directory implementation ---- */

struct blob_dir {
	struct tz_blob b;
	int fd;
	char *dir;
};

#define BD(b) ((struct blob_dir *)(void *)(b))

static int copy_fd(int from, uint64_t at, int to, uint64_t len, uint64_t max, char *err, size_t errlen)
{
	char buf[65536];

	if (len > max)
		return tz_err(err, errlen, "blob: %" G_GUINT64_FORMAT " bytes, more than %" G_GUINT64_FORMAT,
			      len, max);
	while (len > 0) {
		ssize_t n = pread(from, buf, len < sizeof(buf) ? (size_t)len : sizeof(buf), (off_t)at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return tz_err(err, errlen, "blob: read: %s", n < 0 ? strerror(errno) : "short file");
		if (tz_write_all(to, buf, (size_t)n) < 0)
			return tz_err(err, errlen, "blob: write: %s", strerror(errno));
		at += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

static int dir_put(struct tz_blob *b, const char *id, const char *name, int fd, uint64_t size,
		   char *err, size_t errlen)
{
	char tmp[TZ_ID_LEN + 256], to[TZ_ID_LEN + 256];
	int out, rc = -1, idfd;

	if (mkdirat(BD(b)->fd, id, 0700) < 0 && errno != EEXIST)
		return tz_err(err, errlen, "blob %s: mkdir: %s", id, strerror(errno));
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", id, name);
	snprintf(to, sizeof(to), "%s/%s", id, name);
	out = openat(BD(b)->fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0)
		return tz_err(err, errlen, "blob %s: %s", to, strerror(errno));
	if (copy_fd(fd, 0, out, size, UINT64_MAX, err, errlen) < 0)
		;
	else if (fsync(out) < 0 || renameat(BD(b)->fd, tmp, BD(b)->fd, to) < 0)
		tz_err(err, errlen, "blob %s: %s", to, strerror(errno));
	else
		rc = 0;
	close(out);
	if (rc < 0)
		unlinkat(BD(b)->fd, tmp, 0);
	idfd = rc == 0 ? openat(BD(b)->fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (idfd >= 0) {
		fsync(idfd);
		close(idfd);
	}
	return rc;
}

static int dir_get(struct tz_blob *b, const char *id, const char *name, int outfd, uint64_t max,
		   char *err, size_t errlen)
{
	char path[TZ_ID_LEN + 256];
	struct stat sb;
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s", id, name);
	fd = openat(BD(b)->fd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT)
		return TZ_BLOB_ABSENT;
	if (fd < 0 || fstat(fd, &sb) < 0) {
		rc = tz_err(err, errlen, "blob %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	rc = copy_fd(fd, 0, outfd, (uint64_t)sb.st_size, max, err, errlen);
	close(fd);
	return rc;
}

static int dir_del(struct tz_blob *b, const char *id, const char *name, char *err, size_t errlen)
{
	char path[TZ_ID_LEN + 256];

	snprintf(path, sizeof(path), "%s/%s", id, name);
	if (unlinkat(BD(b)->fd, path, 0) < 0 && errno != ENOENT)
		return tz_err(err, errlen, "blob %s: %s", path, strerror(errno));
	unlinkat(BD(b)->fd, id, AT_REMOVEDIR);   /* the last one takes the directory */
	return 0;
}

static void list_id(int fd, const char *id, GPtrArray *keys)
{
	int idfd = openat(fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = idfd < 0 ? NULL : fdopendir(idfd);
	struct dirent *de;

	if (d == NULL) {
		if (idfd >= 0)
			close(idfd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (tz_blob_name_ok(de->d_name))
			g_ptr_array_add(keys, g_strdup_printf("%s/%s", id, de->d_name));
	closedir(d);
}

static int dir_list(struct tz_blob *b, const char *id, GPtrArray *keys, char *err, size_t errlen)
{
	int fd;
	DIR *d;
	struct dirent *de;

	if (id) {
		list_id(BD(b)->fd, id, keys);
		return 0;
	}
	fd = openat(BD(b)->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return tz_err(err, errlen, "blob %s: %s", BD(b)->dir, strerror(errno));
	}
	while ((de = readdir(d)) != NULL)
		if (tz_id_valid(de->d_name))
			list_id(dirfd(d), de->d_name, keys);
	closedir(d);
	return 0;
}

static void dir_free(struct tz_blob *b)
{
	close(BD(b)->fd);
	g_free(BD(b)->dir);
	g_free(b);
}

static const struct tz_blob_ops dir_ops = {
	"directory", dir_put, dir_get, dir_del, dir_list, dir_free,
};

struct tz_blob *tz_blob_dir_new(const char *dir, char *err, size_t errlen)
{
	struct blob_dir *d;
	int fd;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		tz_err(err, errlen, "blob directory %s: %s", dir, strerror(errno));
		return NULL;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		tz_err(err, errlen, "blob directory %s: %s", dir, strerror(errno));
		return NULL;
	}
	d = g_new0(struct blob_dir, 1);
	d->b.ops = &dir_ops;
	d->fd = fd;
	d->dir = g_strdup(dir);
	return &d->b;
}
