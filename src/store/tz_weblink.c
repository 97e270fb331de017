/* tz_weblink.c — HMAC-signed staff links (format in tz_weblink.h). */
#include "tz_weblink.h"

#include <string.h>
#include <glib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "tz_util.h"

#define RCPT_MAX 320   /* longest address we sign (RFC 5321 path limits) */

static int link_text(const struct tz_weblink *l, GString *out)
{
	char *rcpt;

	if (l->id == NULL || !tz_id_valid(l->id) || l->rcpt == NULL || *l->rcpt == '\0' ||
	    strlen(l->rcpt) > RCPT_MAX || strchr(l->rcpt, '|') != NULL || l->expiry <= 0)
		return -1;
	rcpt = g_ascii_strdown(l->rcpt, -1);
	g_string_printf(out, "textize-link-v1|%s|%u|%s|%lld", l->id, l->part, rcpt,
			(long long)l->expiry);
	g_free(rcpt);
	return 0;
}

int tz_weblink_mac(const unsigned char key[TZ_KEY_LEN], const struct tz_weblink *l,
		   char mac[TZ_WEBLINK_MAC_HEX])
{
	GString *text = g_string_new(NULL);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	mac[0] = '\0';
	if (link_text(l, text) < 0) {
		g_string_free(text, TRUE);
		return -1;
	}
	HMAC(EVP_sha256(), key, TZ_KEY_LEN, (const unsigned char *)text->str, text->len, md, &mdlen);
	g_string_free(text, TRUE);
	tz_hex(md, mdlen < 32 ? mdlen : 32, mac);
	return 0;
}

char *tz_weblink_url(const unsigned char key[TZ_KEY_LEN], const char *base,
		     const struct tz_weblink *l)
{
	char mac[TZ_WEBLINK_MAC_HEX];
	char *rcpt, *esc, *url;

	if (base == NULL || tz_weblink_mac(key, l, mac) < 0)
		return NULL;
	rcpt = g_ascii_strdown(l->rcpt, -1);
	esc = g_uri_escape_string(rcpt, NULL, FALSE);
	url = g_strdup_printf("%s/s?e=%s&p=%u&r=%s&x=%lld&m=%s", base, l->id, l->part, esc,
			      (long long)l->expiry, mac);
	g_free(esc);
	g_free(rcpt);
	return url;
}

enum tz_weblink_check tz_weblink_verify(const unsigned char key[TZ_KEY_LEN],
					const struct tz_weblink *l, const char *mac, int64_t now)
{
	char want[TZ_WEBLINK_MAC_HEX];

	if (mac == NULL || strlen(mac) != 64 || tz_weblink_mac(key, l, want) < 0)
		return TZ_WEBLINK_BAD;
	if (CRYPTO_memcmp(want, mac, 64) != 0)
		return TZ_WEBLINK_BAD;
	return now >= l->expiry ? TZ_WEBLINK_EXPIRED : TZ_WEBLINK_OK;
}
