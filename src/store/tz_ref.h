/* tz_ref.h — the 参照番号 staff read out on the phone: the local date and
 * four characters, "1202-4F7K" (a part: "1202-4F7K#2"). The characters are
 * Crockford base32 (no I, L, O, U), so what is heard or misread maps back:
 * lower case is accepted, O reads as 0, I and L as 1. The long entry id
 * (UTC, microseconds, random) stays the internal name; a reference names
 * one entry per gateway (quarantine directory) per local day, reserved
 * atomically in a registry (below), so a collision is retried, never
 * shared. A reference is found again for a
 * year: MMDD resolves to this year's day, else last year's.
 *
 * Where reservations are recorded is a registry (struct tz_refs): a log
 * per local day under the quarantine, QUEUE/refs/YYYYMMDD.log
 * (tz_refs_dir_new, tz_ref_file.c: one gateway; the file per code of
 * earlier versions is still read) or the shared database's table refs
 * (tz_refs_pg_new, tz_ref_pg.c: every gateway of a cluster).
 * The draw, its retries and the year rule are the same for both, here;
 * a registry only records and finds (day, code) -> id atomically. */
#ifndef TZ_REF_H
#define TZ_REF_H

#include <stddef.h>
#include <time.h>
#include "textize.h"

#define TZ_REF_LEN 16      /* "MMDD-" + up to 6 characters + NUL, with room */

struct tz_refs;
struct tz_refs_ops {
	/* Record day (YYYYMMDD) + code -> id unless that pair is taken:
	 * 0 recorded, 1 taken (draw again), -1 with err. */
	int (*claim)(struct tz_refs *r, const char *day, const char *code, const char *id,
		     char *err, size_t errlen);
	/* The id of day + code: 0 found, 1 none, -1 with err. */
	int (*find)(struct tz_refs *r, const char *day, const char *code, char id[TZ_ID_LEN],
		    char *err, size_t errlen);
	/* Forget the days before keep (YYYYMMDD): how many days, or -1. */
	int (*purge)(struct tz_refs *r, const char *keep, char *err, size_t errlen);
	void (*free)(struct tz_refs *r);
	/* Make every claim this process made so far durable; NULL when a
	 * claim is durable by itself. 0, or -1 with err. */
	int (*sync)(struct tz_refs *r, char *err, size_t errlen);
};
struct tz_refs {
	const struct tz_refs_ops *ops;
};

/* QUEUE/refs/YYYYMMDD.log under the quarantine root rootfd (borrowed:
 * it must outlive the registry); shared by a process's threads. */
struct tz_refs *tz_refs_dir_new(int rootfd);
/* Table refs of the shared database at url (tz_ref_pg.c). Connects on
 * first use and again after any failure; never falls back to files. */
struct tz_refs *tz_refs_pg_new(const char *url);
void tz_refs_free(struct tz_refs *r);   /* NULL is a no-op */
/* Every code this process reserved in r so far on stable storage (the
 * store's commit, before an entry is acknowledged: a crash must not free
 * the code of an entry that was). 0, or -1 with err. */
int tz_refs_sync(struct tz_refs *r, char *err, size_t errlen);

/* Reserve a fresh reference for entry id on the local day of `now` in r
 * (the draw and retries of tz_ref_reserve). 0, or -1 with err. */
int tz_refs_reserve(struct tz_refs *r, const char *id, time_t now, char out[TZ_REF_LEN],
		    char *err, size_t errlen);

/* The long id of a normalised short reference in r (this year's MMDD,
 * else last year's). legacy (may be NULL) is read as well, never written:
 * the files a gateway reserved in before it joined a cluster; the same
 * day and code in both naming different entries is refused as ambiguous
 * (use the long id) rather than guessed. 0 found, 1 none, 2 ambiguous,
 * -1 error (a database that does not answer); err says which. */
int tz_refs_lookup(struct tz_refs *r, struct tz_refs *legacy, const char *ref, time_t now,
		   char id[TZ_ID_LEN], char *err, size_t errlen);

/* Forget the reservations of local days wholly before cutoff minus one
 * day. How many days (files) or rows' days (database), -1 on error. */
int tz_refs_purge(struct tz_refs *r, time_t cutoff, char *err, size_t errlen);

/* Reserve a fresh reference for entry id on the local day of `now` under
 * the quarantine root directory fd, durably. 0, or -1 with err (then the
 * mail is tempfailed like any store error). */
int tz_ref_reserve(int rootfd, const char *id, time_t now, char out[TZ_REF_LEN],
		   char *err, size_t errlen);

/* Remove the reservations of local days wholly before `cutoff` minus one
 * day (queue purge: their entries are gone). Returns how many days. */
int tz_ref_purge(int rootfd, time_t cutoff);

/* Split "REF[#N]" or "LONGID[#N]" as typed by a person: *kind = 1 for a
 * short reference (normalised into ref), 2 for a long id (into id);
 * *part = N or 0. 0, or -1 when it is neither. */
int tz_ref_parse(const char *s, int *kind, char ref[TZ_REF_LEN], char id[TZ_ID_LEN],
		 unsigned *part);

/* The long id a short reference names (this year's MMDD, else last
 * year's, relative to now). 0, or -1 with err. */
int tz_ref_lookup(int rootfd, const char *ref, time_t now, char id[TZ_ID_LEN],
		  char *err, size_t errlen);

#endif
