/* test_digest.c — the daily digest mail (tz_digest_mail): hostile subject,
 * sender and file names reach neither a new header line nor the reader as
 * bidi controls; the recipient's own signed link is in it and verifies;
 * the release marker verifies over the body (so the milter passes the
 * mail) and fails once the body changes; a recipient that could inject a
 * header is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <glib.h>

#include "tz_digest.h"
#include "tz_meta.h"
#include "tz_release.h"
#include "tz_weblink.h"

static const unsigned char key[TZ_KEY_LEN] = "0123456789abcdef0123456789abcdef";
static const unsigned char link_key[TZ_KEY_LEN] = "fedcba9876543210fedcba9876543210";

static struct tz_meta *meta(void)
{
	struct tz_meta *m = tz_meta_new();
	struct tz_meta_part *p = tz_meta_part_new();

	g_strlcpy(m->id, "20261203-044339-124989-ac2d537d", sizeof m->id);
	m->ref = g_strdup("1203-8WSV");
	m->stored_time = 1796273000;
	m->subject = g_strdup("見積\r\nBcc: victim@example.com\xe2\x80\xae" "gpj.exe");
	m->from = g_strdup("取引先 <a@example.com>\r\nX-Textize: forged");
	g_ptr_array_add(m->rcpts, g_strdup("taro@city.example.lg.jp"));
	p->index = 1;
	p->filename = g_strdup("請求\xe2\x80\xae" "fdp.exe");
	p->size = 1234;
	g_ptr_array_add(m->parts, p);
	return m;
}

static char *body_of(const char *mail, char **hdr)
{
	const char *sep = strstr(mail, "\r\n\r\n");
	gsize n = 0;
	char *b64, *text;

	assert_non_null(sep);
	*hdr = g_strndup(mail, (gsize)(sep - mail) + 2);
	b64 = g_strdup(sep + 4);
	text = (char *)g_base64_decode(b64, &n);
	g_free(b64);
	text = g_realloc(text, n + 1);
	text[n] = '\0';
	return text;
}

static void test_mail(void **state)
{
	struct tz_meta *m = meta();
	GPtrArray *metas = g_ptr_array_new();
	struct tz_digest_opts o = { "security@city.example.lg.jp", NULL, "2026-12-02",
				    "https://textize.example.lg.jp", link_key, 1796300000, 1796273000, key };
	char err[256], *mail, *hdr = NULL, *text, sha[65], *marker, *link, *mac;
	struct tz_release_hash *h;
	struct tz_weblink wl = { m->id, 0, "taro@city.example.lg.jp", 1796300000 };

	(void)state;
	g_ptr_array_add(metas, m);
	mail = tz_digest_mail(&o, "taro@city.example.lg.jp", metas, err, sizeof err);
	assert_non_null(mail);
	text = body_of(mail, &hdr);
	/* the header block: our fields only, nothing the sender wrote */
	assert_null(strstr(hdr, "Bcc:"));
	assert_null(strstr(hdr, "X-Textize: forged"));
	assert_non_null(strstr(hdr, "\r\nTo: taro@city.example.lg.jp\r\n"));
	/* the text: names shown, controls and bidi made visible */
	assert_non_null(strstr(text, "参照番号 1203-8WSV"));
	assert_null(strstr(text, "\xe2\x80\xae"));
	assert_non_null(strstr(text, "[U+202E]fdp.exe"));
	assert_null(strstr(text, "\r\nBcc:"));
	assert_null(strstr(text, "\r\nX-Textize: forged"));
	/* the recipient's own link, which textize-web accepts */
	link = strstr(text, "https://textize.example.lg.jp/s?");
	assert_non_null(link);
	mac = strstr(link, "&m=");
	assert_non_null(mac);
	mac = g_strndup(mac + 3, 64);
	assert_int_equal(tz_weblink_verify(link_key, &wl, mac, 1796273000), TZ_WEBLINK_OK);
	g_free(mac);
	/* the release marker covers the body */
	marker = strstr(hdr, "X-Textize-Release: ");
	assert_non_null(marker);
	marker = g_strndup(marker + 19, strcspn(marker + 19, "\r\n"));
	h = tz_release_hash_new();
	tz_release_hash_update(h, strstr(mail, "\r\n\r\n") + 4, strlen(strstr(mail, "\r\n\r\n") + 4));
	tz_release_hash_final(h, sha);
	assert_int_equal(tz_release_check(key, marker, sha, err, sizeof err), 1);
	sha[0] = sha[0] == '0' ? '1' : '0';
	assert_int_equal(tz_release_check(key, marker, sha, err, sizeof err), 0);
	g_free(marker);
	g_free(mail);
	g_free(hdr);
	g_free(text);
	/* a recipient that would start a header line, or no release key */
	assert_null(tz_digest_mail(&o, "taro@city.example.lg.jp\r\nBcc: x@example.com", metas, err, sizeof err));
	o.release_key = NULL;
	assert_null(tz_digest_mail(&o, "taro@city.example.lg.jp", metas, err, sizeof err));
	g_ptr_array_unref(metas);
	tz_meta_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mail),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
