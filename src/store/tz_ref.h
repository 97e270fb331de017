/* tz_ref.h — the 参照番号 staff read out on the phone: the local date and
 * four characters, "1202-4F7K" (a part: "1202-4F7K#2"). The characters are
 * Crockford base32 (no I, L, O, U), so what is heard or misread maps back:
 * lower case is accepted, O reads as 0, I and L as 1. The long entry id
 * (UTC, microseconds, random) stays the internal name; a reference names
 * one entry per gateway (quarantine directory) per local day, reserved
 * with O_EXCL in QUEUE/refs/YYYYMMDD/CODE (the file holds the long id), so
 * a collision is retried, never shared. A reference is found again for a
 * year: MMDD resolves to this year's day, else last year's. */
#ifndef TZ_REF_H
#define TZ_REF_H

#include <stddef.h>
#include <time.h>
#include "textize.h"

#define TZ_REF_LEN 16      /* "MMDD-" + up to 6 characters + NUL, with room */

/* Reserve a fresh reference for entry id on the local day of `now` under
 * the quarantine root directory fd. 0, or -1 with err (then the mail is
 * tempfailed like any store error). */
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
