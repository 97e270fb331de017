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

struct tz_sealer {
	tz_seal_out_fn out;
	void *ctx;
	char id[TZ_ID_LEN];
	char *aad_name, *what;
	int encrypted;
	unsigned char header[TZ_CRYPT_HEADER_LEN];
	uint64_t counter;        /* chunks sealed */
	uint64_t size;           /* plaintext bytes */
	EVP_MD_CTX *md;          /* SHA-256 of the plaintext */
	EVP_CIPHER_CTX *cipher;
	unsigned char *buf;      /* plaintext waiting for a full chunk */
	size_t buflen;
	size_t buf_used;         /* the most of buf ever filled: what to cleanse */
	unsigned char *sealed;   /* ciphertext + tag of one chunk */
};

struct tz_cfile {
	int dirfd;
	int fd;
	char *fname;
	struct tz_sealer *seal;
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

static int chunk_seal(EVP_CIPHER_CTX *c, const unsigned char header[TZ_CRYPT_HEADER_LEN],
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

static int chunk_open(EVP_CIPHER_CTX *c, const unsigned char header[TZ_CRYPT_HEADER_LEN],
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

static EVP_CIPHER_CTX *cipher_new(const unsigned char *key, int encrypt)
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

static int header_new(unsigned char header[TZ_CRYPT_HEADER_LEN])
{
	memset(header, 0, TZ_CRYPT_HEADER_LEN);
	memcpy(header, magic, 4);
	header[4] = 1;
	header[5] = 16;   /* log2(TZ_CRYPT_CHUNK) */
	return RAND_bytes(header + 8, NONCE_LEN) == 1 ? 0 : -1;
}

static int header_check(const unsigned char header[TZ_CRYPT_HEADER_LEN])
{
	return memcmp(header, magic, 4) == 0 && header[4] == 1 && header[5] == 16 &&
	       !header[6] && !header[7] ? 0 : -1;
}

void tz_sealer_free(struct tz_sealer *s)
{
	if (s == NULL)
		return;
	EVP_MD_CTX_free(s->md);
	EVP_CIPHER_CTX_free(s->cipher);
	if (s->buf)
		OPENSSL_cleanse(s->buf, s->buf_used);
	g_free(s->buf);
	g_free(s->sealed);
	g_free(s->aad_name);
	g_free(s->what);
	g_free(s);
}

struct tz_sealer *tz_sealer_new(const unsigned char *key, const char *id, const char *aad_name,
				const char *what, tz_seal_out_fn out, void *ctx,
				char *err, size_t errlen)
{
	struct tz_sealer *s = g_new0(struct tz_sealer, 1);

	s->out = out;
	s->ctx = ctx;
	g_strlcpy(s->id, id, sizeof(s->id));
	s->aad_name = g_strdup(aad_name);
	s->what = g_strdup(what);
	s->buf = g_malloc(TZ_CRYPT_CHUNK);
	s->md = EVP_MD_CTX_new();
	if (s->md == NULL || EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1) {
		tz_err(err, errlen, "%s: SHA-256 unavailable", what);
		goto fail;
	}
	if (key == NULL)
		return s;
	s->encrypted = 1;
	s->sealed = g_malloc(TZ_CRYPT_CHUNK + TAG_LEN);
	s->cipher = cipher_new(key, 1);
	if (header_new(s->header) < 0 || s->cipher == NULL) {
		tz_err(err, errlen, "%s: cannot set up AES-256-GCM", what);
		goto fail;
	}
	if (out(ctx, s->header, sizeof(s->header), err, errlen) < 0)
		goto fail;
	return s;
fail:
	tz_sealer_free(s);
	return NULL;
}

void tz_sealer_skip_digest(struct tz_sealer *s)
{
	EVP_MD_CTX_free(s->md);
	s->md = NULL;
}

/* Seal n bytes of plaintext at in as chunk s->counter and hand them on. */
static int seal_chunk(struct tz_sealer *s, const unsigned char *in, size_t n, int final,
		      char *err, size_t errlen)
{
	if (chunk_seal(s->cipher, s->header, s->id, s->aad_name, s->counter, final,
		       in, n, s->sealed) < 0)
		return tz_err(err, errlen, "%s: encryption failed", s->what);
	s->counter++;
	return s->out(s->ctx, s->sealed, n + TAG_LEN, err, errlen);
}

/* Hand on the buffered plaintext: sealed as chunk s->counter, or plain. */
static int sealer_emit(struct tz_sealer *s, int final, char *err, size_t errlen)
{
	size_t n = s->buflen;

	s->buflen = 0;
	if (!s->encrypted)
		return n ? s->out(s->ctx, s->buf, n, err, errlen) : 0;
	return seal_chunk(s, s->buf, n, final, err, errlen);
}

/* A full chunk of the caller's bytes is sealed (or, without a key, handed
 * on) where it lies; only a partial one is copied to wait for the rest.
 * The receiver sees whole chunks either way (the segment store's staging
 * grows by them: handing on the engine's small pieces made it reallocate
 * and fault far more, docs/performance.md). A full chunk is never the
 * final one: the final one is always shorter, so that truncation at a
 * chunk boundary is detectable. */
int tz_sealer_write(struct tz_sealer *s, const void *buf, size_t len, char *err, size_t errlen)
{
	const unsigned char *p = buf;

	if (len == 0)
		return 0;
	if (s->md && EVP_DigestUpdate(s->md, buf, len) != 1)
		return tz_err(err, errlen, "%s: SHA-256 failed", s->what);
	s->size += len;
	while (len > 0) {
		size_t take = MIN(TZ_CRYPT_CHUNK - s->buflen, len);
		int rc = 0;
		if (take == TZ_CRYPT_CHUNK)
			rc = s->encrypted ? seal_chunk(s, p, take, 0, err, errlen) :
					    s->out(s->ctx, p, take, err, errlen);
		else {
			memcpy(s->buf + s->buflen, p, take);
			s->buflen += take;
			s->buf_used = MAX(s->buf_used, s->buflen);
			if (s->buflen == TZ_CRYPT_CHUNK)
				rc = sealer_emit(s, 0, err, errlen);
		}
		if (rc < 0)
			return -1;
		p += take;
		len -= take;
	}
	return 0;
}

int tz_sealer_finish(struct tz_sealer *s, unsigned char sha256[32], uint64_t *size,
		     char *err, size_t errlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (sealer_emit(s, 1, err, errlen) < 0)
		return -1;
	if (s->md && (EVP_DigestFinal_ex(s->md, md, &mdlen) != 1 || mdlen != 32))
		return tz_err(err, errlen, "%s: SHA-256 failed", s->what);
	if (sha256 && s->md)
		memcpy(sha256, md, 32);
	if (size)
		*size = s->size;
	return 0;
}

static void cfile_release(struct tz_cfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	tz_sealer_free(f->seal);
	g_free(f->fname);
	g_free(f);
}

static int cfile_out(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	struct tz_cfile *f = ctx;

	if (tz_write_all(f->fd, buf, len) < 0)
		return tz_err(err, errlen, "%s: write: %s", f->fname, strerror(errno));
	return 0;
}

struct tz_cfile *tz_cfile_create(int dirfd, const char *fname, const char *aad_name,
				 const unsigned char *key, const char *id,
				 char *err, size_t errlen)
{
	struct tz_cfile *f = g_new0(struct tz_cfile, 1);

	f->dirfd = dirfd;
	f->fname = g_strdup(fname);
	f->fd = openat(dirfd, fname, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (f->fd < 0) {
		tz_err(err, errlen, "%s: %s", fname, strerror(errno));
		cfile_release(f);
		return NULL;
	}
	f->seal = tz_sealer_new(key, id, aad_name, fname, cfile_out, f, err, errlen);
	if (f->seal == NULL) {
		tz_cfile_abort(f);
		return NULL;
	}
	return f;
}

int tz_cfile_write(struct tz_cfile *f, const void *buf, size_t len, char *err, size_t errlen)
{
	return tz_sealer_write(f->seal, buf, len, err, errlen);
}

int tz_cfile_finish(struct tz_cfile *f, char *sha256_hex, uint64_t *size,
		    char *err, size_t errlen)
{
	unsigned char md[32];
	int rc = -1;

	if (tz_sealer_finish(f->seal, md, size, err, errlen) < 0)
		goto out;
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
	if (sha256_hex)
		tz_hex(md, 32, sha256_hex);
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

/* pread exactly len bytes at off; -1 (errno) or a short count only at
 * end of file. */
static ssize_t pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	unsigned char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, p + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -1 : (ssize_t)got;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int tz_unseal_range(int fd, uint64_t at, uint64_t len, const unsigned char *key, const char *id,
		    const char *aad_name, const char *what, tz_cfile_fn fn, void *ctx,
		    char *err, size_t errlen)
{
	unsigned char header[TZ_CRYPT_HEADER_LEN];
	unsigned char *in = g_malloc(TZ_CRYPT_CHUNK + TAG_LEN);
	unsigned char *out = g_malloc(TZ_CRYPT_CHUNK);
	EVP_CIPHER_CTX *c = cipher_new(key, 0);
	uint64_t pos = TZ_CRYPT_HEADER_LEN;
	int rc = -1, final = 0;

	if (len < TZ_CRYPT_HEADER_LEN ||
	    pread_full(fd, header, sizeof(header), at) != (ssize_t)sizeof(header) ||
	    memcmp(header, magic, 4) != 0) {
		tz_err(err, errlen, "%s: not an encrypted quarantine file", what);
		goto out;
	}
	if (header_check(header) < 0) {
		tz_err(err, errlen, "%s: unsupported format version %u", what, header[4]);
		goto out;
	}
	if (c == NULL) {
		tz_err(err, errlen, "%s: cannot set up AES-256-GCM", what);
		goto out;
	}
	for (uint64_t i = 0; !final; i++) {
		size_t n = (size_t)MIN(len - pos, (uint64_t)TZ_CRYPT_CHUNK + TAG_LEN);
		ssize_t got = pread_full(fd, in, n, at + pos);
		if (got < 0) {
			tz_err(err, errlen, "%s: read: %s", what, strerror(errno));
			goto out;
		}
		if (got < TAG_LEN || (size_t)got < n) {
			tz_err(err, errlen, "%s: truncated (authentication failed)", what);
			goto out;
		}
		final = n < TZ_CRYPT_CHUNK + TAG_LEN;
		if (chunk_open(c, header, id, aad_name, i, final, in, n, out) < 0) {
			tz_err(err, errlen, "%s: authentication failed (tampered, truncated, or wrong key/entry)", what);
			goto out;
		}
		if (n > TAG_LEN && fn(ctx, out, n - TAG_LEN, err, errlen) < 0)
			goto out;
		pos += n;
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
	struct stat sb;
	int fd, rc;

	fd = openat(dirfd, fname, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return tz_err(err, errlen, "%s: %s", fname, strerror(errno));
	if (key == NULL)
		rc = read_plain(fd, fname, fn, ctx, err, errlen);
	else if (fstat(fd, &sb) < 0)
		rc = tz_err(err, errlen, "%s: %s", fname, strerror(errno));
	else
		rc = tz_unseal_range(fd, 0, (uint64_t)sb.st_size, key, id, aad_name, fname, fn, ctx,
				     err, errlen);
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
