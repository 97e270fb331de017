/* tz_ref.c — short, unambiguous references (format and guarantees in
 * tz_ref.h): the draw and the year rule every registry shares, and the
 * file registry. There a reservation is a file created with O_EXCL, which
 * is atomic across the milter's threads, its processes and textizectl, so
 * two entries can never share a reference even when the random draw
 * repeats (the database registry, tz_ref_pg.c, has a primary key). */
#include "tz_ref.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>
#include <openssl/rand.h>

#include "tz_util.h"

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";   /* Crockford */

#define SHORT_CHARS 4      /* 32^4 = 1,048,576 per day */
#define SHORT_TRIES 24     /* then one more character each further round */
#define MAX_CHARS 6

static void local_day(time_t t, char day[9])
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(day, 9, "%Y%m%d", &tm);
}

static int open_refs_day(int rootfd, const char *day, int create)
{
	int refs, fd;

	if (create && mkdirat(rootfd, "refs", 0700) < 0 && errno != EEXIST)
		return -1;
	refs = openat(rootfd, "refs", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (refs < 0)
		return -1;
	if (create && mkdirat(refs, day, 0700) < 0 && errno != EEXIST) {
		close(refs);
		return -1;
	}
	fd = openat(refs, day, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	close(refs);
	return fd;
}

/* ---- the file registry: QUEUE/refs/YYYYMMDD/CODE holds the long id ---- */

struct refs_dir {
	struct tz_refs r;
	int rootfd;
};

#define RD(r) ((struct refs_dir *)(void *)(r))

static int dir_claim(struct tz_refs *r, const char *day, const char *code, const char *id,
		     char *err, size_t errlen)
{
	int dayfd = open_refs_day(RD(r)->rootfd, day, 1), fd;

	if (dayfd < 0)
		return tz_err(err, errlen, "quarantine refs/%s: %s", day, strerror(errno));
	fd = openat(dayfd, code, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	close(dayfd);
	if (fd < 0 && errno == EEXIST)
		return 1;
	if (fd < 0)
		return tz_err(err, errlen, "quarantine refs/%s/%s: %s", day, code, strerror(errno));
	if (tz_write_all(fd, id, strlen(id)) < 0) {
		tz_err(err, errlen, "quarantine refs/%s/%s: %s", day, code, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int dir_find(struct tz_refs *r, const char *day, const char *code, char id[TZ_ID_LEN],
		    char *err, size_t errlen)
{
	char buf[TZ_ID_LEN + 1];
	int dayfd = open_refs_day(RD(r)->rootfd, day, 0), fd;
	ssize_t n;

	if (dayfd < 0)
		return 1;
	fd = openat(dayfd, code, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	close(dayfd);
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

static int dir_purge(struct tz_refs *r, const char *keep, char *err, size_t errlen);

static void dir_free(struct tz_refs *r)
{
	g_free(RD(r));
}

static const struct tz_refs_ops dir_ops = { dir_claim, dir_find, dir_purge, dir_free };

struct tz_refs *tz_refs_dir_new(int rootfd)
{
	struct refs_dir *d = g_new0(struct refs_dir, 1);

	d->r.ops = &dir_ops;
	d->rootfd = rootfd;
	return &d->r;
}

void tz_refs_free(struct tz_refs *r)
{
	if (r)
		r->ops->free(r);
}

/* ---- what every registry shares: the draw, the year rule ---- */

int tz_refs_reserve(struct tz_refs *r, const char *id, time_t now, char out[TZ_REF_LEN],
		    char *err, size_t errlen)
{
	char day[9], code[MAX_CHARS + 1];
	unsigned char rnd[MAX_CHARS];
	int rc = 1;

	local_day(now, day);
	for (unsigned round = 0; rc == 1 && round < SHORT_TRIES * 3; round++) {
		unsigned n = MIN(MAX_CHARS, SHORT_CHARS + round / SHORT_TRIES);
		if (RAND_bytes(rnd, (int)n) != 1)
			return tz_err(err, errlen, "no random numbers for a reference");
		for (unsigned i = 0; i < n; i++)
			code[i] = alphabet[rnd[i] & 31];
		code[n] = '\0';
		rc = r->ops->claim(r, day, code, id, err, errlen);
	}
	if (rc < 0)
		return -1;
	if (rc == 1)
		return tz_err(err, errlen, "refs %s: no free reference", day);
	snprintf(out, TZ_REF_LEN, "%.4s-%s", day + 4, code);
	return 0;
}

int tz_ref_reserve(int rootfd, const char *id, time_t now, char out[TZ_REF_LEN],
		   char *err, size_t errlen)
{
	struct refs_dir d = { { &dir_ops }, rootfd };

	return tz_refs_reserve(&d.r, id, now, out, err, errlen);
}

/* Crockford decoding of what a person typed: case-insensitive, O = 0,
 * I and L = 1; U and anything else are not in the alphabet. */
static int norm_char(char c)
{
	c = (char)toupper((unsigned char)c);
	if (c == 'O')
		return '0';
	if (c == 'I' || c == 'L')
		return '1';
	return c && strchr(alphabet, c) ? c : -1;
}

int tz_ref_parse(const char *s, int *kind, char ref[TZ_REF_LEN], char id[TZ_ID_LEN],
		 unsigned *part)
{
	const char *hash = s ? strchr(s, '#') : NULL;
	size_t len = hash ? (size_t)(hash - s) : (s ? strlen(s) : 0);
	char buf[TZ_ID_LEN + 1];

	*part = 0;
	*kind = 0;
	if (s == NULL || len == 0 || len >= sizeof(buf))
		return -1;
	if (hash) {
		char *end;
		unsigned long v;
		if (!isdigit((unsigned char)hash[1]))
			return -1;
		errno = 0;
		v = strtoul(hash + 1, &end, 10);
		if (*end != '\0' || errno || v == 0 || v > 1000000)
			return -1;
		*part = (unsigned)v;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (tz_id_valid(buf)) {
		g_strlcpy(id, buf, TZ_ID_LEN);
		*kind = 2;
		return 0;
	}
	/* MMDD-CODE */
	if (len < 5 + SHORT_CHARS || len > 5 + MAX_CHARS || buf[4] != '-')
		return -1;
	for (int i = 0; i < 4; i++)
		if (!isdigit((unsigned char)buf[i]))
			return -1;
	for (size_t i = 5; i < len; i++) {
		int c = norm_char(buf[i]);
		if (c < 0)
			return -1;
		buf[i] = (char)c;
	}
	g_strlcpy(ref, buf, TZ_REF_LEN);
	*kind = 1;
	return 0;
}

/* day + code in r and legacy: 0 found (the same entry if in both), 1
 * none, 2 ambiguous, -1 error. */
static int find_both(struct tz_refs *r, struct tz_refs *legacy, const char *day, const char *code,
		     char id[TZ_ID_LEN], char *err, size_t errlen)
{
	char old[TZ_ID_LEN];
	int a = r->ops->find(r, day, code, id, err, errlen), b;

	if (a < 0 || legacy == NULL)
		return a;
	b = legacy->ops->find(legacy, day, code, old, err, errlen);
	if (b < 0)
		return -1;
	if (a == 0 && b == 0 && strcmp(id, old) != 0) {
		tz_err(err, errlen, "reference %.4s-%s names two entries (%s shared, %s "
		       "reserved on this host before the cluster): give the long id",
		       day + 4, code, id, old);
		return 2;
	}
	if (a == 1 && b == 0)
		g_strlcpy(id, old, TZ_ID_LEN);
	return a == 0 || b == 0 ? 0 : 1;
}

int tz_refs_lookup(struct tz_refs *r, struct tz_refs *legacy, const char *ref, time_t now,
		   char id[TZ_ID_LEN], char *err, size_t errlen)
{
	char day[9];
	struct tm tm;

	localtime_r(&now, &tm);
	for (int back = 0; back < 2; back++) {
		char year[16];
		int rc;
		snprintf(year, sizeof(year), "%04d", tm.tm_year + 1900 - back);
		if (strlen(year) != 4)
			break;
		memcpy(day, year, 4);
		memcpy(day + 4, ref, 4);
		day[8] = '\0';
		rc = find_both(r, legacy, day, ref + 5, id, err, errlen);
		if (rc != 1)
			return rc;
	}
	tz_err(err, errlen, "no quarantine entry with reference %s", ref);
	return 1;
}

int tz_ref_lookup(int rootfd, const char *ref, time_t now, char id[TZ_ID_LEN],
		  char *err, size_t errlen)
{
	struct refs_dir d = { { &dir_ops }, rootfd };

	return tz_refs_lookup(&d.r, NULL, ref, now, id, err, errlen) == 0 ? 0 : -1;
}

int tz_refs_purge(struct tz_refs *r, time_t cutoff, char *err, size_t errlen)
{
	char keep[9];

	local_day(cutoff - 86400, keep);
	return r->ops->purge(r, keep, err, errlen);
}

int tz_ref_purge(int rootfd, time_t cutoff)
{
	struct refs_dir d = { { &dir_ops }, rootfd };
	char err[TZ_ERRLEN];

	return tz_refs_purge(&d.r, cutoff, err, sizeof(err));
}

static int dir_purge(struct tz_refs *r, const char *keep, char *err, size_t errlen)
{
	int refs = openat(RD(r)->rootfd, "refs", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW), n = 0;
	DIR *d = refs < 0 ? NULL : fdopendir(refs);
	struct dirent *de;

	(void)err;
	(void)errlen;
	if (d == NULL) {
		if (refs >= 0)
			close(refs);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		int dayfd;
		DIR *dd;
		struct dirent *f;
		if (strlen(de->d_name) != 8 || strspn(de->d_name, "0123456789") != 8 ||
		    strcmp(de->d_name, keep) >= 0)
			continue;
		dayfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		dd = dayfd < 0 ? NULL : fdopendir(dayfd);
		if (dd == NULL) {
			if (dayfd >= 0)
				close(dayfd);
			continue;
		}
		while ((f = readdir(dd)) != NULL)
			if (f->d_name[0] != '.')
				unlinkat(dirfd(dd), f->d_name, 0);
		closedir(dd);
		if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) == 0)
			n++;
	}
	closedir(d);
	return n;
}
