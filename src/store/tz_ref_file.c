/* tz_ref_file.c — the 参照番号 registry of one gateway (tz_ref.h), in
 * files under the quarantine root: one log per local day,
 * refs/YYYYMMDD.log, a 48-byte line per reserved code ("CODE   ID...\n").
 * A reservation appends a line under flock, after reading the lines other
 * processes appended, so two entries never share a code; this process
 * keeps the day's codes in memory and reads only what is new. It costs no
 * inode: a file per code did (ext4's inode allocation was 19 % of the
 * milter's CPU on 5 KB mail, docs/performance.md). The store's commit makes
 * the log durable (tz_refs_sync) before an entry is acknowledged, so a
 * crash never frees the code of an entry that was.
 *
 * Days reserved before the logs, refs/YYYYMMDD/CODE (a file per code,
 * holding the id), are still read: a claim avoids their codes and a
 * lookup finds them; nothing writes them any more. */
#define _GNU_SOURCE
#include "tz_ref.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>

#include "tz_util.h"

#define REC_LEN 48                 /* code (6) ' ' id (40) '\n', space padded */
#define CODE_MAX 6
#define ID_FIELD (REC_LEN - CODE_MAX - 2)
#define READ_CHUNK (REC_LEN * 1365) /* ~64 KB of whole lines */

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";   /* Crockford */

struct refs_file {
	struct tz_refs r;
	int rootfd;
	GMutex mu;                 /* this process's threads; flock orders processes */
	pid_t pid;                 /* the process fd was opened in (flock is per open file) */
	char day[9];               /* the day whose log is open, "" none */
	int fd;                    /* that log, or -1 */
	uint64_t seen;             /* bytes of it read into the sets */
	uint64_t written, synced;  /* end of this process's last line; durable up to */
	guint8 *short_codes;       /* 4-character codes taken: a bit each (128 KB) */
	int short_used;            /* a bit of it set since it was last cleared */
	GHashTable *long_codes;    /* 5 and 6 characters: rare (a day nearly full) */
};

#define RF(r) ((struct refs_file *)(void *)(r))

/* 0..2^20-1 for a 4-character code, -1 for another length. */
static int short_index(const char *code)
{
	int v = 0;

	if (strlen(code) != 4)
		return -1;
	for (int i = 0; i < 4; i++)
		v = v << 5 | (int)(strchr(alphabet, code[i]) - alphabet);
	return v;
}

static int taken(const struct refs_file *f, const char *code)
{
	int i = short_index(code);

	if (i >= 0)
		return (f->short_codes[i >> 3] >> (i & 7)) & 1;
	return g_hash_table_contains(f->long_codes, code);
}

static void take(struct refs_file *f, const char *code)
{
	int i = short_index(code);

	if (i >= 0) {
		f->short_codes[i >> 3] |= (guint8)(1u << (i & 7));
		f->short_used = 1;
	} else
		g_hash_table_add(f->long_codes, g_strdup(code));
}

static int code_ok(const char *c)
{
	size_t n = strlen(c);

	return n >= 4 && n <= CODE_MAX && strspn(c, alphabet) == n;
}

/* Parse one line: 1 with code and id, 0 when it is not one (a line a
 * crash cut short; the rest of a failed write). */
static int parse_line(const char *p, char code[CODE_MAX + 1], char id[TZ_ID_LEN])
{
	char f[ID_FIELD + 1];
	size_t n;

	if (p[REC_LEN - 1] != '\n' || p[CODE_MAX] != ' ')
		return 0;
	memcpy(code, p, CODE_MAX);
	code[CODE_MAX] = '\0';
	for (n = CODE_MAX; n > 0 && code[n - 1] == ' '; n--)
		code[n - 1] = '\0';
	memcpy(f, p + CODE_MAX + 1, ID_FIELD);
	for (n = ID_FIELD; n > 0 && f[n - 1] == ' '; n--)
		;
	f[n] = '\0';
	if (n >= TZ_ID_LEN || !code_ok(code) || !tz_id_valid(f))
		return 0;
	memcpy(id, f, n + 1);
	return 1;
}

/* Every line of fd from *pos to end (whole lines), to fn; *pos moves on.
 * fn returns non-zero to stop. */
static int read_lines(int fd, uint64_t *pos, uint64_t end,
		      int (*fn)(void *ctx, const char *code, const char *id), void *ctx)
{
	char *buf = g_malloc(READ_CHUNK);
	int rc = 0;

	while (rc == 0 && *pos + REC_LEN <= end) {
		size_t want = (size_t)MIN((uint64_t)READ_CHUNK, (end - *pos) / REC_LEN * REC_LEN);
		ssize_t n = pread(fd, buf, want, (off_t)*pos);
		if (n < REC_LEN) {
			rc = n < 0 ? -1 : 0;
			break;
		}
		n -= n % REC_LEN;
		for (ssize_t o = 0; rc == 0 && o < n; o += REC_LEN) {
			char code[CODE_MAX + 1], id[TZ_ID_LEN];
			if (parse_line(buf + o, code, id))
				rc = fn(ctx, code, id);
		}
		*pos += (uint64_t)n;
	}
	g_free(buf);
	return rc < 0 ? -1 : rc;
}

static int note_taken(void *ctx, const char *code, const char *id)
{
	(void)id;
	take(ctx, code);
	return 0;
}

/* refs/ under the root, made when create. */
static int open_refs(int rootfd, int create)
{
	if (create && mkdirat(rootfd, "refs", 0700) < 0 && errno != EEXIST)
		return -1;
	return openat(rootfd, "refs", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
}

/* The legacy day directory refs/DAY, or -1. */
static int open_legacy_day(int refs, const char *day)
{
	return openat(refs, day, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
}

/* The legacy day directory refs/DAY to read, or NULL. */
static DIR *list_legacy_day(int refs, const char *day)
{
	int dfd = open_legacy_day(refs, day);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);

	if (d == NULL && dfd >= 0)
		close(dfd);
	return d;
}

/* The codes of the legacy day directory, into the sets. */
static void take_legacy(struct refs_file *f, int refs, const char *day)
{
	DIR *d = list_legacy_day(refs, day);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (code_ok(de->d_name))
			take(f, de->d_name);
	closedir(d);
}

/* Make everything this process appended to the open log durable. Called
 * with f->mu held; the lock is dropped around the fdatasync (a duplicate
 * of the descriptor: a day switch may close the original meanwhile). */
static int sync_locked(struct refs_file *f, char *err, size_t errlen)
{
	uint64_t target = f->written;
	char day[9];
	int fd, rc;

	if (f->fd < 0 || f->synced >= target)
		return 0;
	fd = fcntl(f->fd, F_DUPFD_CLOEXEC, 0);
	g_strlcpy(day, f->day, sizeof(day));
	if (fd < 0)
		return tz_err(err, errlen, "quarantine refs/%s.log: %s", day, strerror(errno));
	g_mutex_unlock(&f->mu);
	rc = fdatasync(fd);
	if (rc < 0)
		tz_err(err, errlen, "quarantine refs/%s.log: fdatasync: %s", day, strerror(errno));
	close(fd);
	g_mutex_lock(&f->mu);
	if (rc == 0 && strcmp(f->day, day) == 0 && f->synced < target)
		f->synced = target;
	return rc;
}

/* Open day's log (creating it and refs/ durably), with the codes of its
 * legacy directory; the previous day's log made durable and closed. With
 * f->mu held. */
static int switch_day(struct refs_file *f, const char *day, char *err, size_t errlen)
{
	int refs, fd;
	char name[16];

	if (sync_locked(f, err, errlen) < 0)
		return -1;
	if (strcmp(f->day, day) == 0 && f->pid == getpid())
		return 0;   /* another thread switched while the lock was dropped */
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->day[0] = '\0';
	/* cleared only when used: its pages stay untouched (not resident)
	 * until codes are taken */
	if (f->short_used)
		memset(f->short_codes, 0, (1u << 20) / 8);
	f->short_used = 0;
	g_hash_table_remove_all(f->long_codes);
	f->seen = f->written = f->synced = 0;
	refs = open_refs(f->rootfd, 1);
	if (refs < 0)
		return tz_err(err, errlen, "quarantine refs: %s", strerror(errno));
	snprintf(name, sizeof(name), "%s.log", day);
	fd = openat(refs, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	/* the log's name durable before any code in it is relied on: at every
	 * open (once a day per process), not only by its creator, whose fsync
	 * may have failed after the name was made */
	if (fd < 0 || fsync(refs) < 0 || fsync(f->rootfd) < 0) {
		tz_err(err, errlen, "quarantine refs/%s: %s", name, strerror(errno));
		if (fd >= 0)
			close(fd);
		close(refs);
		return -1;
	}
	take_legacy(f, refs, day);
	close(refs);
	f->fd = fd;
	f->pid = getpid();
	g_strlcpy(f->day, day, sizeof(f->day));
	return 0;
}

/* Append code -> id unless taken; 0, 1 taken, -1. With f->mu held. */
static int claim_locked(struct refs_file *f, const char *day, const char *code, const char *id,
			char *err, size_t errlen)
{
	char line[REC_LEN + 1];
	struct stat sb;
	uint64_t end;
	int rc = -1;

	if ((strcmp(f->day, day) != 0 || f->pid != getpid()) && switch_day(f, day, err, errlen) < 0)
		return -1;
	if (flock(f->fd, LOCK_EX) < 0)
		return tz_err(err, errlen, "quarantine refs/%s.log: lock: %s", day, strerror(errno));
	if (fstat(f->fd, &sb) < 0 ||
	    read_lines(f->fd, &f->seen, (uint64_t)sb.st_size, note_taken, f) < 0) {
		tz_err(err, errlen, "quarantine refs/%s.log: %s", day, strerror(errno));
		goto out;
	}
	if (taken(f, code)) {
		rc = 1;
		goto out;
	}
	/* after a line a crash cut short, at the next line's place */
	end = ((uint64_t)sb.st_size + REC_LEN - 1) / REC_LEN * REC_LEN;
	snprintf(line, sizeof(line), "%-*s %-*s\n", CODE_MAX, code, ID_FIELD, id);
	errno = 0;
	if (pwrite(f->fd, line, REC_LEN, (off_t)end) != REC_LEN) {
		tz_err(err, errlen, "quarantine refs/%s.log: %s", day,
		       errno ? strerror(errno) : "short write");
		goto out;
	}
	take(f, code);
	f->seen = f->written = end + REC_LEN;
	rc = 0;
out:
	flock(f->fd, LOCK_UN);
	return rc;
}

static int file_claim(struct tz_refs *r, const char *day, const char *code, const char *id,
		      char *err, size_t errlen)
{
	struct refs_file *f = RF(r);
	int rc;

	if (!code_ok(code) || strlen(id) >= TZ_ID_LEN)
		return tz_err(err, errlen, "quarantine refs: bad code or id");
	g_mutex_lock(&f->mu);
	rc = claim_locked(f, day, code, id, err, errlen);
	g_mutex_unlock(&f->mu);
	return rc;
}

static int file_sync(struct tz_refs *r, char *err, size_t errlen)
{
	struct refs_file *f = RF(r);
	int rc;

	g_mutex_lock(&f->mu);
	rc = f->pid == getpid() ? sync_locked(f, err, errlen) : 0;
	g_mutex_unlock(&f->mu);
	return rc;
}

struct find_ctx {
	const char *code;
	char *id;
};

static int match(void *ctx, const char *code, const char *id)
{
	struct find_ctx *c = ctx;

	if (strcmp(code, c->code) != 0)
		return 0;
	g_strlcpy(c->id, id, TZ_ID_LEN);
	return 1;
}

/* A legacy file refs/DAY/CODE: 0 found, 1 none, -1 damaged. */
static int find_legacy(int refs, const char *day, const char *code, char id[TZ_ID_LEN],
		       char *err, size_t errlen)
{
	char buf[TZ_ID_LEN + 1];
	int dfd = open_legacy_day(refs, day), fd;
	ssize_t n;

	if (dfd < 0)
		return 1;
	fd = openat(dfd, code, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	close(dfd);
	if (fd < 0)
		return 1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (!tz_id_valid(buf))
		return tz_err(err, errlen, "reference %.4s-%s: damaged record", day + 4, code);
	g_strlcpy(id, buf, TZ_ID_LEN);
	return 0;
}

static int file_find(struct tz_refs *r, const char *day, const char *code, char id[TZ_ID_LEN],
		     char *err, size_t errlen)
{
	struct find_ctx c = { code, id };
	char name[16];
	struct stat sb;
	uint64_t pos = 0;
	int refs = open_refs(RF(r)->rootfd, 0), fd, rc = 0;

	if (refs < 0 || !code_ok(code))
		return refs < 0 ? 1 : (close(refs), 1);
	snprintf(name, sizeof(name), "%s.log", day);
	fd = openat(refs, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && fstat(fd, &sb) == 0)
		rc = read_lines(fd, &pos, (uint64_t)sb.st_size, match, &c);
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		tz_err(err, errlen, "quarantine refs/%s: %s", name, strerror(errno));
	else if (rc == 1)
		rc = 0;
	else
		rc = find_legacy(refs, day, code, id, err, errlen);
	close(refs);
	return rc;
}

/* Remove a legacy day directory and its files: 1 when it went. */
static int drop_legacy_day(int refs, const char *day)
{
	DIR *dd = list_legacy_day(refs, day);
	struct dirent *f;

	if (dd == NULL)
		return 0;
	while ((f = readdir(dd)) != NULL)
		if (f->d_name[0] != '.')
			unlinkat(dirfd(dd), f->d_name, 0);
	closedir(dd);
	return unlinkat(refs, day, AT_REMOVEDIR) == 0;
}

/* How many days went: a day may have a log and a legacy directory. */
static int file_purge(struct tz_refs *r, const char *keep, char *err, size_t errlen)
{
	int refs = open_refs(RF(r)->rootfd, 0), n;
	DIR *d = refs < 0 ? NULL : fdopendir(refs);
	GHashTable *gone;
	struct dirent *de;

	(void)err;
	(void)errlen;
	if (d == NULL) {
		if (refs >= 0)
			close(refs);
		return 0;
	}
	gone = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	while ((de = readdir(d)) != NULL) {
		char day[9];
		size_t len = strlen(de->d_name);
		if ((len != 8 && !(len == 12 && strcmp(de->d_name + 8, ".log") == 0)) ||
		    strspn(de->d_name, "0123456789") != 8)
			continue;
		memcpy(day, de->d_name, 8);
		day[8] = '\0';
		if (strcmp(day, keep) >= 0)
			continue;
		if (len == 8 ? drop_legacy_day(dirfd(d), day) : unlinkat(dirfd(d), de->d_name, 0) == 0)
			g_hash_table_add(gone, g_strdup(day));
	}
	closedir(d);
	n = (int)g_hash_table_size(gone);
	g_hash_table_unref(gone);
	return n;
}

static void file_free(struct tz_refs *r)
{
	struct refs_file *f = RF(r);

	if (f->fd >= 0)
		close(f->fd);
	g_mutex_clear(&f->mu);
	g_free(f->short_codes);
	g_hash_table_unref(f->long_codes);
	g_free(f);
}

static const struct tz_refs_ops file_ops = {
	.claim = file_claim, .find = file_find, .purge = file_purge, .free = file_free,
	.sync = file_sync,
};

struct tz_refs *tz_refs_dir_new(int rootfd)
{
	struct refs_file *f = g_new0(struct refs_file, 1);

	f->r.ops = &file_ops;
	f->rootfd = rootfd;
	f->fd = -1;
	g_mutex_init(&f->mu);
	f->short_codes = g_malloc0((1u << 20) / 8);
	f->long_codes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return &f->r;
}
