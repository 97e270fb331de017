/* tz_crypt.h — the quarantine file format: every stored file is written and
 * read through this module, plain when no key is configured, otherwise
 * AES-256-GCM in independently authenticated chunks so that 50 MB parts are
 * streamed (never held in memory) and every byte handed to a reader has
 * already been verified.
 *
 * Encrypted file layout (version 1):
 *   header  20 bytes: "TZQE" | version 0x01 | log2(chunk) 0x10 | 0x00 0x00 |
 *                     nonce (12 random bytes, fresh for every file)
 *   chunks  ciphertext (65536 bytes, the last one 0..65535) | GCM tag (16)
 * Chunk i uses nonce XOR big-endian i in its last 8 bytes, and the additional
 * data header | entry id | 0 | file name | 0 | i (8 bytes BE) | final (1 byte).
 * So a flipped byte, a truncated file (the final chunk is always shorter than
 * a full one and marked final), reordered chunks, or a file moved to another
 * entry or name all fail authentication.
 *
 * Key files (QuarantineKeyFile, ReleaseKeyFile, AuditKeyFile) hold 32 bytes,
 * either raw or as 64 hex digits (surrounding white space ignored). They must
 * not be writable by group or readable/writable by others. */
#ifndef TZ_CRYPT_H
#define TZ_CRYPT_H

#include <stddef.h>
#include <stdint.h>
#include <glib.h>
#include "textize.h"
#include "tz_util.h"

#define TZ_KEY_LEN 32
#define TZ_CRYPT_CHUNK 65536
#define TZ_CRYPT_HEADER_LEN 20

/* Load a 32-byte key from path (raw or hex). 0 or -1 with err. */
int tz_key_load(const char *path, unsigned char key[TZ_KEY_LEN], char *err, size_t errlen);

/* A file being written. */
struct tz_cfile;

/* Create `fname` in directory dirfd (O_EXCL, mode 0600). `aad_name` is the
 * logical name bound into the authentication (the final name when fname is
 * a temporary one); id is the entry id. key NULL = plain file. */
struct tz_cfile *tz_cfile_create(int dirfd, const char *fname, const char *aad_name,
				 const unsigned char *key, const char *id,
				 char *err, size_t errlen);
int tz_cfile_write(struct tz_cfile *f, const void *buf, size_t len, char *err, size_t errlen);
/* Write the last chunk, fsync and close. sha256_hex (65 bytes) and size, when
 * not NULL, receive the digest and length of the plaintext. Frees f whatever
 * the outcome; on failure the file is unlinked. */
int tz_cfile_finish(struct tz_cfile *f, char *sha256_hex, uint64_t *size,
		    char *err, size_t errlen);
/* Close and unlink an unfinished file. NULL is a no-op. */
void tz_cfile_abort(struct tz_cfile *f);

/* Receives verified plaintext while a file is read; -1 stops the read. */
typedef int (*tz_cfile_fn)(void *ctx, const void *buf, size_t len, char *err, size_t errlen);

/* Read `fname` from dirfd, verifying every chunk before passing it to fn.
 * aad_name/id/key as for tz_cfile_create. Note that fn may have received
 * earlier (authentic) chunks when a later one fails: callers producing an
 * output file write it under a temporary name and rename only on 0. */
int tz_cfile_read(int dirfd, const char *fname, const char *aad_name,
		  const unsigned char *key, const char *id, tz_cfile_fn fn, void *ctx,
		  char *err, size_t errlen);

/* Read a whole (small) file into *out (caller g_byte_array_unref()s);
 * fails when the plaintext exceeds max bytes. */
int tz_cfile_read_all(int dirfd, const char *fname, const char *aad_name,
		      const unsigned char *key, const char *id, size_t max,
		      GByteArray **out, char *err, size_t errlen);

/* ---- the format as a stream, for stores that frame files themselves ----
 * (tz_segment.c keeps every blob in exactly this format inside a segment
 * record; tz_cfile above is the same sealer writing to a file). One
 * implementation of the chunking, so the two can never disagree. */

/* Receives the sealed bytes (header, then each chunk with its tag), or
 * with no key the plaintext in pieces of at most TZ_CRYPT_CHUNK. */
typedef int (*tz_seal_out_fn)(void *ctx, const void *buf, size_t len, char *err, size_t errlen);
struct tz_sealer;
/* key NULL: the plaintext passes through (still hashed and counted).
 * what names the object in errors. The header goes out at once. */
struct tz_sealer *tz_sealer_new(const unsigned char *key, const char *id, const char *aad_name,
				const char *what, tz_seal_out_fn out, void *ctx,
				char *err, size_t errlen);
/* The caller already hashes exactly these bytes (the engine hashes a part
 * while decoding it and hands the same buffers on): no second SHA-256 of
 * them here. Call before the first write. */
void tz_sealer_skip_digest(struct tz_sealer *s);
int tz_sealer_write(struct tz_sealer *s, const void *buf, size_t len, char *err, size_t errlen);
/* The final chunk; sha256 (32 bytes) and size, when not NULL, receive the
 * plaintext's (sha256 is left alone after tz_sealer_skip_digest). Does not
 * free. */
int tz_sealer_finish(struct tz_sealer *s, unsigned char sha256[32], uint64_t *size,
		     char *err, size_t errlen);
void tz_sealer_free(struct tz_sealer *s);   /* NULL is a no-op */

/* Authenticate and decrypt the sealed object of len bytes at offset at of
 * fd (pread: the file offset is not used), passing the plaintext to fn
 * chunk by chunk, each verified first. what names it in errors. */
int tz_unseal_range(int fd, uint64_t at, uint64_t len, const unsigned char *key, const char *id,
		    const char *aad_name, const char *what, tz_cfile_fn fn, void *ctx,
		    char *err, size_t errlen);
#define TZ_CRYPT_TAG_LEN 16

#endif
