/* tz_digest.h — the daily digest mail per recipient (DigestTime): one
 * mail to each recipient of the day's inbound text-ized mail, listing
 * every file stripped from their mail that day with the 参照番号 and,
 * when the console is set up, a signed link of their own (tz_weblink:
 * entry, recipient, expiry), so a recipient of a mail with several
 * recipients (whose notice carries no link) gets one too. The core
 * decides what goes in and writes the mail; textizectl digest send
 * (tools/ctl_digest.c) pipes it to ReleaseCommand, once per recipient
 * and day. Every sender-controlled string (subject, sender, file names)
 * passes tz_header_display_safe before it is written. */
#ifndef TZ_DIGEST_H
#define TZ_DIGEST_H

#include <stddef.h>
#include <stdint.h>
#include <glib.h>
#include "tz_crypt.h"

struct tz_store;

/* At most this many entries in one recipient's digest; the rest is
 * counted ("ほか N 件"). */
#define TZ_DIGEST_MAX_ENTRIES 200

/* The inbound entries with stripped parts stored in [from, to): all
 * (struct tz_meta*, owned) and by_rcpt: recipient (lower-cased) ->
 * GPtrArray of the same metas (borrowed), oldest first. */
struct tz_digest {
	GPtrArray *all;
	GHashTable *by_rcpt;
	unsigned bad;           /* entries that could not be read (skipped) */
};
/* NULL with err when the store cannot be listed. */
struct tz_digest *tz_digest_collect(struct tz_store *st, int64_t from, int64_t to,
				    char *err, size_t errlen);
void tz_digest_free(struct tz_digest *d);   /* NULL is a no-op */

struct tz_digest_opts {
	const char *from;               /* ReleaseFrom */
	const char *contact;            /* NoticeContact, NULL = built-in */
	const char *date;               /* the day, "YYYY-MM-DD" (Subject, text) */
	const char *base_url;           /* WebBaseURL, NULL = no links */
	const unsigned char *link_key;  /* WebKeyFile, NULL = no links */
	int64_t link_expiry;            /* links' expiry (epoch seconds) */
	int64_t now;                    /* Date: */
	/* ReleaseKeyFile: the digest carries a release marker (X-Textize-
	 * Release over a fresh id, part 0, and the body's hash), so the milter
	 * passes our own mail as it passes a release instead of judging it
	 * as inbound mail from our own domain. */
	const unsigned char *release_key;
};

/* The digest mail for rcpt listing metas (struct tz_meta*), a whole
 * RFC 5322 message with CRLF line ends (text/plain, UTF-8, base64).
 * NULL with err when rcpt cannot be a header value or o->release_key is
 * NULL. g_free(). */
char *tz_digest_mail(const struct tz_digest_opts *o, const char *rcpt, const GPtrArray *metas,
		     char *err, size_t errlen);

#endif
