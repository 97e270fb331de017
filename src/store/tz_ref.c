/* tz_ref.c — short, unambiguous references (format and guarantees in
 * tz_ref.h): the draw and the year rule every registry shares. The
 * registries record a claim atomically, so two entries can never share a
 * reference even when the random draw repeats: the day logs under the
 * quarantine (tz_ref_file.c), the database's primary key (tz_ref_pg.c). */
#include "tz_ref.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
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
		/* getrandom needs no lock; RAND_bytes when the pool is not ready */
		if (getrandom(rnd, n, GRND_NONBLOCK) != (ssize_t)n && RAND_bytes(rnd, (int)n) != 1)
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
	struct tz_refs *r = tz_refs_dir_new(rootfd);
	int rc = tz_refs_reserve(r, id, now, out, err, errlen);

	if (rc == 0)
		rc = tz_refs_sync(r, err, errlen);
	tz_refs_free(r);
	return rc;
}

void tz_refs_free(struct tz_refs *r)
{
	if (r)
		r->ops->free(r);
}

int tz_refs_sync(struct tz_refs *r, char *err, size_t errlen)
{
	return r && r->ops->sync ? r->ops->sync(r, err, errlen) : 0;
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
	struct tz_refs *r = tz_refs_dir_new(rootfd);
	int rc = tz_refs_lookup(r, NULL, ref, now, id, err, errlen) == 0 ? 0 : -1;

	tz_refs_free(r);
	return rc;
}

int tz_refs_purge(struct tz_refs *r, time_t cutoff, char *err, size_t errlen)
{
	char keep[9];

	local_day(cutoff - 86400, keep);
	return r->ops->purge(r, keep, err, errlen);
}

int tz_ref_purge(int rootfd, time_t cutoff)
{
	struct tz_refs *r = tz_refs_dir_new(rootfd);
	char err[TZ_ERRLEN];
	int n = tz_refs_purge(r, cutoff, err, sizeof(err));

	tz_refs_free(r);
	return n;
}
