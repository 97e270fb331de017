/* tz_crypt.c — chunked AES-256-GCM (or plain) files for the quarantine; the
 * format is described in tz_crypt.h. */
#include "tz_crypt.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "tz_util.h"

#define TAG_LEN 16
#define NONCE_LEN 12
static const unsigned char magic[4] = { 'T', 'Z', 'Q', 'E' };

struct tz_cfile {
	int dirfd;
	int fd;
	char *fname;
	char *aad_name;
	char id[TZ_ID_LEN];
	int encrypted;
	unsigned char key[TZ_KEY_LEN];
	unsigned char header[TZ_CRYPT_HEADER_LEN];
	uint64_t counter;        /* chunks written */
	uint64_t size;           /* plaintext bytes */
	EVP_MD_CTX *md;          /* SHA-256 of the plaintext */
	EVP_CIPHER_CTX *cipher;
	unsigned char *buf;      /* plaintext waiting for a full chunk */
	size_t buflen;
	unsigned char *out;      /* ciphertext + tag of one chunk */
};

/* Read up to len bytes, stopping only at end of file. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int tz_key_load(const char *path, unsigned char key[TZ_KEY_LEN], char *err, size_t errlen)
{
	unsigned char raw[200];
	struct stat sb;
	ssize_t n;
	size_t a, b;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return tz_err(err, errlen, "key file %s: %s", path, strerror(errno));
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		tz_err(err, errlen, "key file %s: not a regular file", path);
		goto out;
	}
	/* A key others can read is no secret; refuse it rather than run open. */
	if (sb.st_mode & 0027) {
		tz_err(err, errlen, "key file %s: mode %03o, must not be group-writable or accessible by others",
		       path, (unsigned)(sb.st_mode & 0777));
		goto out;
	}
	n = read_full(fd, raw, sizeof(raw));
	if (n < 0) {
		tz_err(err, errlen, "key file %s: %s", path, strerror(errno));
		goto out;
	}
	if (n == TZ_KEY_LEN) {
		memcpy(key, raw, TZ_KEY_LEN);
		rc = 0;
		goto out;
	}
	for (a = 0; a < (size_t)n && isspace(raw[a]); a++)
		;
	for (b = (size_t)n; b > a && isspace(raw[b - 1]); b--)
		;
	if (b - a != 2 * TZ_KEY_LEN) {
		tz_err(err, errlen, "key file %s: need 32 raw bytes or 64 hex digits", path);
		goto out;
	}
	for (size_t i = 0; i < TZ_KEY_LEN; i++) {
		int hi = hexval(raw[a + 2 * i]), lo = hexval(raw[a + 2 * i + 1]);
		if (hi < 0 || lo < 0) {
			tz_err(err, errlen, "key file %s: need 32 raw bytes or 64 hex digits", path);
			goto out;
		}
		key[i] = (unsigned char)(hi << 4 | lo);
	}
	rc = 0;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	close(fd);
	return rc;
}

/* Nonce and additional data of chunk i (see the format in tz_crypt.h). */
static void chunk_params(const unsigned char header[TZ_CRYPT_HEADER_LEN], const char *id,
			 const char *aad_name, uint64_t i, int final,
			 unsigned char nonce[NONCE_LEN], GByteArray *aad)
{
	unsigned char be[9];

	memcpy(nonce, header + 8, NONCE_LEN);
	for (int k = 0; k < 8; k++) {
		be[k] = (unsigned char)(i >> (56 - 8 * k));
		nonce[4 + k] ^= be[k];
	}
	be[8] = final ? 1 : 0;
	g_byte_array_set_size(aad, 0);
	g_byte_array_append(aad, header, TZ_CRYPT_HEADER_LEN);
	g_byte_array_append(aad, (const guint8 *)id, (guint)strlen(id) + 1);
	g_byte_array_append(aad, (const guint8 *)aad_name, (guint)strlen(aad_name) + 1);
	g_byte_array_append(aad, be, sizeof(be));
}

int tz_crypt_chunk_seal(EVP_CIPHER_CTX *c, const unsigned char header[TZ_CRYPT_HEADER_LEN],
			const char *id, const char *aad_name, uint64_t i, int final,
			const unsigned char *in, size_t len, unsigned char *out)
{
	unsigned char nonce[NONCE_LEN];
	GByteArray *aad = g_byte_array_new();
	int outl = 0, fl = 0, rc = -1;

	chunk_params(header, id, aad_name, i, final, nonce, aad);
	if (EVP_EncryptInit_ex(c, NULL, NULL, NULL, nonce) == 1 &&
	    EVP_EncryptUpdate(c, NULL, &outl, aad->data, (int)aad->len) == 1 &&
	    EVP_EncryptUpdate(c, out, &outl, in, (int)len) == 1 &&
	    EVP_EncryptFinal_ex(c, out + outl, &fl) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, out + len) == 1)
		rc = 0;
	g_byte_array_unref(aad);
	return rc;
}

int tz_crypt_chunk_open(EVP_CIPHER_CTX *c, const unsigned char header[TZ_CRYPT_HEADER_LEN],
			const char *id, const char *aad_name, uint64_t i, int final,
			unsigned char *in, size_t len, unsigned char *out)
{
	unsigned char nonce[NONCE_LEN];
	GByteArray *aad = g_byte_array_new();
	int outl = 0, fl = 0, rc = -1;

	chunk_params(header, id, aad_name, i, final, nonce, aad);
	if (len >= TAG_LEN &&
	    EVP_DecryptInit_ex(c, NULL, NULL, NULL, nonce) == 1 &&
	    EVP_DecryptUpdate(c, NULL, &outl, aad->data, (int)aad->len) == 1 &&
	    EVP_DecryptUpdate(c, out, &outl, in, (int)(len - TAG_LEN)) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, in + len - TAG_LEN) == 1 &&
	    EVP_DecryptFinal_ex(c, out + outl, &fl) == 1)
		rc = 0;
	g_byte_array_unref(aad);
	return rc;
}

EVP_CIPHER_CTX *tz_crypt_ctx_new(const unsigned char *key, int encrypt)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

	if (c == NULL || EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, encrypt) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(c, NULL, NULL, key, NULL, encrypt) != 1) {
		EVP_CIPHER_CTX_free(c);
		return NULL;
	}
	return c;
}

int tz_crypt_header_new(unsigned char header[TZ_CRYPT_HEADER_LEN])
{
	memset(header, 0, TZ_CRYPT_HEADER_LEN);
	memcpy(header, magic, 4);
	header[4] = 1;
	header[5] = 16;   /* log2(TZ_CRYPT_CHUNK) */
	return RAND_bytes(header + 8, NONCE_LEN) == 1 ? 0 : -1;
}

int tz_crypt_header_check(const unsigned char header[TZ_CRYPT_HEADER_LEN])
{
	return memcmp(header, magic, 4) == 0 && header[4] == 1 && header[5] == 16 &&
	       !header[6] && !header[7] ? 0 : -1;
}

/* Encrypt buf[0..len) as chunk f->counter and write it with its tag. */
static int seal_chunk(struct tz_cfile *f, const unsigned char *buf, size_t len, int final,
		      char *err, size_t errlen)
{
	if (tz_crypt_chunk_seal(f->cipher, f->header, f->id, f->aad_name, f->counter, final,
				buf, len, f->out) < 0)
		return tz_err(err, errlen, "%s: encryption failed", f->fname);
	if (tz_write_all(f->fd, f->out, len + TAG_LEN) < 0)
		return tz_err(err, errlen, "%s: write: %s", f->fname, strerror(errno));
	f->counter++;
	return 0;
}

static void cfile_release(struct tz_cfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	EVP_MD_CTX_free(f->md);
	EVP_CIPHER_CTX_free(f->cipher);
	OPENSSL_cleanse(f->key, sizeof(f->key));
	if (f->buf)
		OPENSSL_cleanse(f->buf, TZ_CRYPT_CHUNK);
	g_free(f->buf);
	g_free(f->out);
	g_free(f->fname);
	g_free(f->aad_name);
	g_free(f);
}

struct tz_cfile *tz_cfile_create(int dirfd, const char *fname, const char *aad_name,
				 const unsigned char *key, const char *id,
				 char *err, size_t errlen)
{
	struct tz_cfile *f = g_new0(struct tz_cfile, 1);

	f->dirfd = dirfd;
	f->fname = g_strdup(fname);
	f->aad_name = g_strdup(aad_name);
	g_strlcpy(f->id, id, sizeof(f->id));
	f->buf = g_malloc(TZ_CRYPT_CHUNK);
	f->md = EVP_MD_CTX_new();
	f->fd = openat(dirfd, fname, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (f->fd < 0) {
		tz_err(err, errlen, "%s: %s", fname, strerror(errno));
		goto fail;
	}
	if (f->md == NULL || EVP_DigestInit_ex(f->md, EVP_sha256(), NULL) != 1) {
		tz_err(err, errlen, "%s: SHA-256 unavailable", fname);
		goto fail_unlink;
	}
	if (key == NULL)
		return f;
	f->encrypted = 1;
	memcpy(f->key, key, TZ_KEY_LEN);
	f->out = g_malloc(TZ_CRYPT_CHUNK + TAG_LEN);
	f->cipher = tz_crypt_ctx_new(f->key, 1);
	if (tz_crypt_header_new(f->header) < 0 || f->cipher == NULL) {
		tz_err(err, errlen, "%s: cannot set up AES-256-GCM", fname);
		goto fail_unlink;
	}
	if (tz_write_all(f->fd, f->header, sizeof(f->header)) < 0) {
		tz_err(err, errlen, "%s: write: %s", fname, strerror(errno));
		goto fail_unlink;
	}
	return f;
fail_unlink:
	unlinkat(dirfd, fname, 0);
fail:
	cfile_release(f);
	return NULL;
}

int tz_cfile_write(struct tz_cfile *f, const void *buf, size_t len, char *err, size_t errlen)
{
	const unsigned char *p = buf;

	if (len == 0)
		return 0;
	if (EVP_DigestUpdate(f->md, buf, len) != 1)
		return tz_err(err, errlen, "%s: SHA-256 failed", f->fname);
	f->size += len;
	while (len > 0) {
		size_t take = TZ_CRYPT_CHUNK - f->buflen;
		if (take > len)
			take = len;
		memcpy(f->buf + f->buflen, p, take);
		f->buflen += take;
		p += take;
		len -= take;
		if (f->buflen < TZ_CRYPT_CHUNK)
			break;
		/* A full buffer is never the final chunk: the final one is always
		 * shorter, so that truncation at a chunk boundary is detectable. */
		if (f->encrypted) {
			if (seal_chunk(f, f->buf, f->buflen, 0, err, errlen) < 0)
				return -1;
		} else if (tz_write_all(f->fd, f->buf, f->buflen) < 0) {
			return tz_err(err, errlen, "%s: write: %s", f->fname, strerror(errno));
		}
		f->buflen = 0;
	}
	return 0;
}

int tz_cfile_finish(struct tz_cfile *f, char *sha256_hex, uint64_t *size,
		    char *err, size_t errlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	int rc = -1;

	if (f->encrypted) {
		if (seal_chunk(f, f->buf, f->buflen, 1, err, errlen) < 0)
			goto out;
	} else if (tz_write_all(f->fd, f->buf, f->buflen) < 0) {
		tz_err(err, errlen, "%s: write: %s", f->fname, strerror(errno));
		goto out;
	}
	if (fsync(f->fd) < 0) {
		tz_err(err, errlen, "%s: fsync: %s", f->fname, strerror(errno));
		goto out;
	}
	if (close(f->fd) < 0) {
		f->fd = -1;
		tz_err(err, errlen, "%s: close: %s", f->fname, strerror(errno));
		goto out;
	}
	f->fd = -1;
	if (EVP_DigestFinal_ex(f->md, md, &mdlen) != 1) {
		tz_err(err, errlen, "%s: SHA-256 failed", f->fname);
		goto out;
	}
	if (sha256_hex)
		tz_hex(md, mdlen, sha256_hex);
	if (size)
		*size = f->size;
	rc = 0;
out:
	if (rc < 0)
		unlinkat(f->dirfd, f->fname, 0);
	cfile_release(f);
	return rc;
}

void tz_cfile_abort(struct tz_cfile *f)
{
	if (f == NULL)
		return;
	unlinkat(f->dirfd, f->fname, 0);
	cfile_release(f);
}

static int read_plain(int fd, const char *fname, tz_cfile_fn fn, void *ctx,
		      char *err, size_t errlen)
{
	unsigned char *buf = g_malloc(TZ_CRYPT_CHUNK);
	ssize_t n;
	int rc = -1;

	while ((n = read_full(fd, buf, TZ_CRYPT_CHUNK)) > 0)
		if (fn(ctx, buf, (size_t)n, err, errlen) < 0)
			goto out;
	if (n < 0) {
		tz_err(err, errlen, "%s: read: %s", fname, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	g_free(buf);
	return rc;
}

/* Authenticate and decrypt every chunk; see the format in tz_crypt.h. */
static int read_sealed(int fd, const char *fname, const char *aad_name,
		       const unsigned char *key, const char *id, tz_cfile_fn fn, void *ctx,
		       char *err, size_t errlen)
{
	unsigned char header[TZ_CRYPT_HEADER_LEN];
	unsigned char *in = g_malloc(TZ_CRYPT_CHUNK + TAG_LEN);
	unsigned char *out = g_malloc(TZ_CRYPT_CHUNK);
	EVP_CIPHER_CTX *c = tz_crypt_ctx_new(key, 0);
	uint64_t i;
	int rc = -1, final = 0;
	ssize_t n;

	n = read_full(fd, header, sizeof(header));
	if (n != (ssize_t)sizeof(header) || memcmp(header, magic, 4) != 0) {
		tz_err(err, errlen, "%s: not an encrypted quarantine file", fname);
		goto out;
	}
	if (tz_crypt_header_check(header) < 0) {
		tz_err(err, errlen, "%s: unsupported format version %u", fname, header[4]);
		goto out;
	}
	if (c == NULL) {
		tz_err(err, errlen, "%s: cannot set up AES-256-GCM", fname);
		goto out;
	}
	for (i = 0; !final; i++) {
		n = read_full(fd, in, TZ_CRYPT_CHUNK + TAG_LEN);
		if (n < 0) {
			tz_err(err, errlen, "%s: read: %s", fname, strerror(errno));
			goto out;
		}
		if (n < TAG_LEN) {
			tz_err(err, errlen, "%s: truncated (authentication failed)", fname);
			goto out;
		}
		final = n < TZ_CRYPT_CHUNK + TAG_LEN;
		if (tz_crypt_chunk_open(c, header, id, aad_name, i, final, in, (size_t)n, out) < 0) {
			tz_err(err, errlen, "%s: authentication failed (tampered, truncated, or wrong key/entry)", fname);
			goto out;
		}
		n -= TAG_LEN;
		if (n > 0 && fn(ctx, out, (size_t)n, err, errlen) < 0)
			goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(out, TZ_CRYPT_CHUNK);
	g_free(in);
	g_free(out);
	EVP_CIPHER_CTX_free(c);
	return rc;
}

int tz_cfile_read(int dirfd, const char *fname, const char *aad_name,
		  const unsigned char *key, const char *id, tz_cfile_fn fn, void *ctx,
		  char *err, size_t errlen)
{
	int fd, rc;

	fd = openat(dirfd, fname, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return tz_err(err, errlen, "%s: %s", fname, strerror(errno));
	if (key == NULL)
		rc = read_plain(fd, fname, fn, ctx, err, errlen);
	else
		rc = read_sealed(fd, fname, aad_name, key, id, fn, ctx, err, errlen);
	close(fd);
	return rc;
}

struct read_all_ctx {
	GByteArray *ba;
	size_t max;
};

static int read_all_cb(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	struct read_all_ctx *r = ctx;

	if (r->ba->len + len > r->max)
		return tz_err(err, errlen, "file larger than %zu bytes", r->max);
	g_byte_array_append(r->ba, buf, (guint)len);
	return 0;
}

int tz_cfile_read_all(int dirfd, const char *fname, const char *aad_name,
		      const unsigned char *key, const char *id, size_t max,
		      GByteArray **out, char *err, size_t errlen)
{
	struct read_all_ctx r = { g_byte_array_new(), max };

	*out = NULL;
	if (tz_cfile_read(dirfd, fname, aad_name, key, id, read_all_cb, &r, err, errlen) < 0) {
		g_byte_array_unref(r.ba);
		return -1;
	}
	*out = r.ba;
	return 0;
}
