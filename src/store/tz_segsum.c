/* tz_segsum.c — a segment record's payload checksum (tz_segment.h): what
 * finds a torn record (a crash that persisted its header and trailer but
 * not every page between). Records flagged SEG_FLAG_GMAC (all written
 * now) carry a GMAC with a fixed, public key: a checksum, not a MAC, at
 * 4.9x SHA-256's speed here (docs/performance.md "Issue 16, sixth pass:
 * the segment record's payload checksum").
 * Nothing is lost by dropping the cryptographic hash: whoever can write a
 * segment can rewrite header, trailer and hash alike, and the blobs are
 * authenticated elsewhere (AES-256-GCM tags; a plain blob's SHA-256 in the
 * directory, checked on every read). Records without the flag (SHA-256)
 * are still read. */
#define _GNU_SOURCE
#include "tz_segment_int.h"

#include <string.h>
#include <unistd.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

struct seg_sum {
	EVP_MD_CTX *md;      /* records without the flag: SHA-256 */
	EVP_MAC_CTX *mac;    /* SEG_FLAG_GMAC: everything written now */
};

/* Fetched once: a fetch per record takes the provider store's lock. */
static EVP_MAC *gmac_fetch(void)
{
	static gsize once;
	static EVP_MAC *mac;

	if (g_once_init_enter(&once)) {
		mac = EVP_MAC_fetch(NULL, "GMAC", NULL);
		g_once_init_leave(&once, 1);
	}
	return mac;
}

struct seg_sum *seg_sum_new(int gmac)
{
	static const unsigned char zero[32];
	struct seg_sum *c = g_new0(struct seg_sum, 1);
	OSSL_PARAM ps[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)"AES-256-GCM", 0),
		OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_IV, (void *)zero, 12),
		OSSL_PARAM_construct_end(),
	};
	int ok;

	if (gmac) {
		c->mac = gmac_fetch() ? EVP_MAC_CTX_new(gmac_fetch()) : NULL;
		ok = c->mac && EVP_MAC_init(c->mac, zero, sizeof(zero), ps) == 1;
	} else {
		c->md = EVP_MD_CTX_new();
		ok = c->md && EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) == 1;
	}
	if (!ok) {
		seg_sum_free(c);
		return NULL;
	}
	return c;
}

int seg_sum_update(struct seg_sum *c, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (c->md)
		return EVP_DigestUpdate(c->md, p, n) == 1 ? 0 : -1;
	return EVP_MAC_update(c->mac, p, n) == 1 ? 0 : -1;
}

int seg_sum_final(struct seg_sum *c, unsigned char out[SEG_SUM_LEN])
{
	unsigned mdlen = 0;
	size_t maclen = 0;

	memset(out, 0, SEG_SUM_LEN);   /* GMAC: 16 bytes, the rest zero */
	if (c->md)
		return EVP_DigestFinal_ex(c->md, out, &mdlen) == 1 && mdlen == 32 ? 0 : -1;
	return EVP_MAC_final(c->mac, out, &maclen, 16) == 1 && maclen == 16 ? 0 : -1;
}

void seg_sum_free(struct seg_sum *c)
{
	if (c == NULL)
		return;
	EVP_MD_CTX_free(c->md);
	EVP_MAC_CTX_free(c->mac);
	g_free(c);
}

int seg_sum_buf(int gmac, const void *p, size_t n, unsigned char out[SEG_SUM_LEN])
{
	struct seg_sum *c = seg_sum_new(gmac);
	int rc = c && seg_sum_update(c, p, n) == 0 && seg_sum_final(c, out) == 0 ? 0 : -1;

	seg_sum_free(c);
	return rc;
}

int seg_sum_range(int gmac, int fd, uint64_t off, uint64_t len, unsigned char out[SEG_SUM_LEN])
{
	struct seg_sum *c = seg_sum_new(gmac);
	unsigned char *buf = g_malloc(TZ_CRYPT_CHUNK);
	int rc = c ? 0 : -1;

	while (rc == 0 && len > 0) {
		size_t want = len < TZ_CRYPT_CHUNK ? (size_t)len : TZ_CRYPT_CHUNK;
		ssize_t n = pread(fd, buf, want, (off_t)off);
		if (n <= 0 || seg_sum_update(c, buf, (size_t)n) < 0)
			rc = -1;
		off += n > 0 ? (uint64_t)n : 0;
		len -= n > 0 ? (uint64_t)n : 0;
	}
	if (rc == 0)
		rc = seg_sum_final(c, out);
	seg_sum_free(c);
	g_free(buf);
	return rc;
}
