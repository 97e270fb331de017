/* tz_ref.c — short, unambiguous references (format and guarantees in
 * tz_ref.h). Reservation is a file created with O_EXCL, which is atomic
 * across the milter's threads, its processes and textizectl, so two
 * entries can never share a reference even when the random draw repeats. */
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

int tz_ref_reserve(int rootfd, const char *id, time_t now, char out[TZ_REF_LEN],
		   char *err, size_t errlen)
{
	char day[9], code[MAX_CHARS + 1];
	unsigned char rnd[MAX_CHARS];
	int dayfd, fd = -1;

	local_day(now, day);
	dayfd = open_refs_day(rootfd, day, 1);
	if (dayfd < 0)
		return tz_err(err, errlen, "quarantine refs/%s: %s", day, strerror(errno));
	for (unsigned round = 0; fd < 0 && round < SHORT_TRIES * 3; round++) {
		unsigned n = MIN(MAX_CHARS, SHORT_CHARS + round / SHORT_TRIES);
		if (RAND_bytes(rnd, (int)n) != 1) {
			close(dayfd);
			return tz_err(err, errlen, "no random numbers for a reference");
		}
		for (unsigned i = 0; i < n; i++)
			code[i] = alphabet[rnd[i] & 31];
		code[n] = '\0';
		fd = openat(dayfd, code, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0 && errno != EEXIST) {
			tz_err(err, errlen, "quarantine refs/%s/%s: %s", day, code, strerror(errno));
			close(dayfd);
			return -1;
		}
	}
	close(dayfd);
	if (fd < 0)
		return tz_err(err, errlen, "quarantine refs/%s: no free reference", day);
	if (tz_write_all(fd, id, strlen(id)) < 0) {
		tz_err(err, errlen, "quarantine refs/%s/%s: %s", day, code, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	snprintf(out, TZ_REF_LEN, "%.4s-%s", day + 4, code);
	return 0;
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

int tz_ref_lookup(int rootfd, const char *ref, time_t now, char id[TZ_ID_LEN],
		  char *err, size_t errlen)
{
	char day[9];
	struct tm tm;

	localtime_r(&now, &tm);
	for (int back = 0; back < 2; back++) {
		char buf[TZ_ID_LEN + 1], year[16];
		int dayfd, fd;
		ssize_t n;
		snprintf(year, sizeof(year), "%04d", tm.tm_year + 1900 - back);
		if (strlen(year) != 4)
			break;
		memcpy(day, year, 4);
		memcpy(day + 4, ref, 4);
		day[8] = '\0';
		dayfd = open_refs_day(rootfd, day, 0);
		if (dayfd < 0)
			continue;
		fd = openat(dayfd, ref + 5, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		close(dayfd);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		if (!tz_id_valid(buf))
			return tz_err(err, errlen, "reference %s: damaged record", ref);
		g_strlcpy(id, buf, TZ_ID_LEN);
		return 0;
	}
	return tz_err(err, errlen, "no quarantine entry with reference %s", ref);
}

int tz_ref_purge(int rootfd, time_t cutoff)
{
	char keep[9];
	int refs = openat(rootfd, "refs", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW), n = 0;
	DIR *d = refs < 0 ? NULL : fdopendir(refs);
	struct dirent *de;

	if (d == NULL) {
		if (refs >= 0)
			close(refs);
		return 0;
	}
	local_day(cutoff - 86400, keep);
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
