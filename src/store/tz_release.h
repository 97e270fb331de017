/* tz_release.h — releasing quarantined parts: the new mail that carries
 * them, and the X-Textize-Release marker that lets it pass the milter
 * without being text-ized again.
 *
 * Marker:  X-Textize-Release: <id> <parts> <mac>
 *   id     the quarantine entry id
 *   parts  released part indexes, comma-separated ("2" or "1,3")
 *   mac    lower-case hex HMAC-SHA256(ReleaseKeyFile key,
 *                                     id "|" parts "|" body-hash)
 *   body-hash  lower-case hex SHA-256 of the message body (the bytes after
 *          the blank line ending the header) with every CR removed and
 *          trailing LFs dropped — so CRLF/LF conversion on the way through
 *          sendmail and Postfix does not matter.
 * Without the key nobody can make a valid marker, and a marker cannot be
 * moved to another body. (A released mail itself could be replayed; it only
 * delivers again what was already released.)
 *
 * Milter use: load the key once (tz_key_load(cfg->release_key_file)); for a
 * message with the header, feed every body chunk to a tz_release_hash and
 * call tz_release_check() with the header value at end of message; only 1
 * means "pass unchanged". Or, with the whole message as a stream, call
 * tz_release_verify(). */
#ifndef TZ_RELEASE_H
#define TZ_RELEASE_H

#include <stddef.h>
#include <gmime/gmime.h>
#include "textize.h"
#include "tz_crypt.h"

#define TZ_RELEASE_HEADER "X-Textize-Release"

/* Canonical body hash, fed incrementally (any chunking). */
struct tz_release_hash;
struct tz_release_hash *tz_release_hash_new(void);
void tz_release_hash_update(struct tz_release_hash *h, const void *buf, size_t len);
/* Write the hex digest (65 bytes) and free h. */
void tz_release_hash_final(struct tz_release_hash *h, char out[65]);
void tz_release_hash_free(struct tz_release_hash *h);   /* NULL is a no-op */

/* The header value for id/parts/body hash into out. 0 or -1 (too small). */
int tz_release_marker(const unsigned char key[TZ_KEY_LEN], const char *id, const char *parts,
		      const char body_sha256[65], char *out, size_t outlen);

/* 1 when value is a well-formed marker whose mac matches body_sha256 under
 * key, else 0 (reason in err). Constant-time comparison. */
int tz_release_check(const unsigned char key[TZ_KEY_LEN], const char *value,
		     const char body_sha256[65], char *err, size_t errlen);

/* The same for a whole message (header + body) read from msg's current
 * position to its end: 1 valid, 0 not valid, -1 read error. */
int tz_release_verify(const unsigned char key[TZ_KEY_LEN], const char *value,
		      GMimeStream *msg, char *err, size_t errlen);

struct tz_store;
struct tz_meta;

/* What the release mail says beyond the files, as the notice does:
 * contact is NoticeContact (NULL or "" = 情報セキュリティ担当); details
 * (NoticeDetails full) adds each file's MIME type and SHA-256, for a
 * security team's mailbox; staff get neither by default. */
struct tz_release_words {
	const char *contact;
	int details;
};

/* Write the release mail for the listed parts of entry m (files taken
 * from the sanitized copy when one exists) to outfd: From (from, or the
 * original envelope sender), To (to, or the original recipients), a short
 * ja/en note naming each file by the short 参照番号 (m->ref, else the
 * entry id) and whom to ask, and one attachment per part, marked with the
 * header above. parts are 1-based indexes, n of them. forced: a part the
 * scanner did not pass is among them; the text then starts with a
 * warning. w may be NULL (built-in contact, no details). */
int tz_release_write_mail(struct tz_store *st, const struct tz_meta *m, const unsigned *parts,
			  unsigned n, const char *from, const char *to,
			  const unsigned char key[TZ_KEY_LEN], int forced,
			  const struct tz_release_words *w, int outfd, char *err, size_t errlen);

struct tz_meta_part;
/* The file name a released (or downloaded) copy of p carries, as an RFC
 * 2231 / RFC 6266 parameter value "UTF-8''name%20..." (the extension of a
 * sanitized copy's format when it has one); caller g_free()s. */
char *tz_release_filename_param(const struct tz_meta_part *p);

#endif
