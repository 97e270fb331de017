/* test_web.c — the console's safety pieces (issue 19): signed staff links
 * (right link passes; expired, wrong recipient, wrong entry, wrong part,
 * tampered MAC, wrong key all fail), the one HTML escape (<script>, quotes,
 * RLO and other invisible characters, invalid UTF-8, very long text), CSRF
 * tokens and sessions, the login rate limit, the staff form token, and the
 * notice's {link}. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <cmocka.h>
#include <glib.h>

#include "tz_notice.h"
#include "tz_weblink.h"
#include "web_html.h"
#include "web_listen.h"
#include "web_session.h"
#include "web_staff.h"
#include "web_state.h"
#include "web.h"

#define ID "20261202-093000-000001-0000abcd"
#define T0 1796000000LL

static const unsigned char key[TZ_KEY_LEN] = "0123456789abcdef0123456789abcdef";
static const unsigned char key2[TZ_KEY_LEN] = "0123456789abcdef0123456789abcdeX";

static struct tz_weblink good(void)
{
	struct tz_weblink l = { ID, 2, "Taro@City.Example.lg.jp", T0 + 3600 };
	return l;
}

static void test_link_roundtrip(void **state)
{
	struct tz_weblink l = good();
	char mac[TZ_WEBLINK_MAC_HEX];
	char *url;

	(void)state;
	assert_int_equal(tz_weblink_mac(key, &l, mac), 0);
	assert_int_equal(strlen(mac), 64);
	assert_int_equal(tz_weblink_verify(key, &l, mac, T0), TZ_WEBLINK_OK);
	/* the recipient is compared lower-cased: the same person */
	l.rcpt = "taro@city.example.lg.jp";
	assert_int_equal(tz_weblink_verify(key, &l, mac, T0), TZ_WEBLINK_OK);
	url = tz_weblink_url(key, "https://tz.example.lg.jp", &l);
	assert_non_null(url);
	assert_non_null(strstr(url, "https://tz.example.lg.jp/s?e=" ID "&p=2&r=taro%40city.example.lg.jp&x="));
	assert_non_null(strstr(url, mac));
	g_free(url);
}

static void test_link_refused(void **state)
{
	struct tz_weblink l = good(), x;
	char mac[TZ_WEBLINK_MAC_HEX], bad[TZ_WEBLINK_MAC_HEX];

	(void)state;
	assert_int_equal(tz_weblink_mac(key, &l, mac), 0);
	/* expired: at and after the expiry */
	assert_int_equal(tz_weblink_verify(key, &l, mac, T0 + 3600), TZ_WEBLINK_EXPIRED);
	assert_int_equal(tz_weblink_verify(key, &l, mac, T0 + 99999), TZ_WEBLINK_EXPIRED);
	/* a later expiry written into the URL breaks the MAC */
	x = l; x.expiry = T0 + 999999;
	assert_int_equal(tz_weblink_verify(key, &x, mac, T0), TZ_WEBLINK_BAD);
	/* wrong recipient */
	x = l; x.rcpt = "hanako@city.example.lg.jp";
	assert_int_equal(tz_weblink_verify(key, &x, mac, T0), TZ_WEBLINK_BAD);
	/* wrong entry */
	x = l; x.id = "20261202-093000-000002-0000abcd";
	assert_int_equal(tz_weblink_verify(key, &x, mac, T0), TZ_WEBLINK_BAD);
	/* wrong part, and "all parts" from a one-part link */
	x = l; x.part = 3;
	assert_int_equal(tz_weblink_verify(key, &x, mac, T0), TZ_WEBLINK_BAD);
	x = l; x.part = 0;
	assert_int_equal(tz_weblink_verify(key, &x, mac, T0), TZ_WEBLINK_BAD);
	/* every single hex digit changed */
	for (int i = 0; i < 64; i++) {
		memcpy(bad, mac, sizeof(bad));
		bad[i] = bad[i] == '0' ? '1' : '0';
		assert_int_equal(tz_weblink_verify(key, &l, bad, T0), TZ_WEBLINK_BAD);
	}
	/* truncated, upper-cased, empty, missing */
	assert_int_equal(tz_weblink_verify(key, &l, "abc", T0), TZ_WEBLINK_BAD);
	assert_int_equal(tz_weblink_verify(key, &l, "", T0), TZ_WEBLINK_BAD);
	assert_int_equal(tz_weblink_verify(key, &l, NULL, T0), TZ_WEBLINK_BAD);
	/* another key */
	assert_int_equal(tz_weblink_verify(key2, &l, mac, T0), TZ_WEBLINK_BAD);
	/* malformed fields sign nothing: a path in the id, a separator in the address */
	x = l; x.id = "../../etc/passwd";
	assert_int_equal(tz_weblink_mac(key, &x, bad), -1);
	x = l; x.rcpt = "a|b@example.jp";
	assert_int_equal(tz_weblink_mac(key, &x, bad), -1);
	x = l; x.rcpt = "";
	assert_int_equal(tz_weblink_mac(key, &x, bad), -1);
}

static char *esc(const char *s, size_t max)
{
	GString *g = g_string_new(NULL);

	web_html_text(g, s, max);
	return g_string_free(g, FALSE);
}

static void test_escape(void **state)
{
	char *o;

	(void)state;
	o = esc("<script>alert('x')</script>\"&", 0);
	assert_string_equal(o, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;");
	g_free(o);
	/* RLO: "invoice\u202Egpj.exe" must not read as "invoiceexe.jpg" */
	o = esc("invoice\xE2\x80\xAEgpj.exe", 0);
	assert_string_equal(o, "invoice[U+202E]gpj.exe");
	g_free(o);
	/* isolates, zero width space, BOM, control characters, DEL */
	o = esc("a\xE2\x81\xA6" "b\xE2\x80\x8B" "c\xEF\xBB\xBF" "d\r\n\x01\x7f", 0);
	assert_string_equal(o, "a[U+2066]b[U+200B]c[U+FEFF]d[U+000D][U+000A][U+0001][U+007F]");
	g_free(o);
	/* invalid UTF-8: one U+FFFD per bad byte, the rest kept */
	o = esc("\xff\xfe" "ok\xe3\x81" "x", 0);
	assert_string_equal(o, "\xEF\xBF\xBD\xEF\xBF\xBDok\xEF\xBF\xBD\xEF\xBF\xBDx");
	assert_true(g_utf8_validate(o, -1, NULL));
	g_free(o);
	/* Japanese passes as it is */
	o = esc("請求書.pdf", 0);
	assert_string_equal(o, "請求書.pdf");
	g_free(o);
	/* NULL shows as "-" */
	o = esc(NULL, 0);
	assert_string_equal(o, "-");
	g_free(o);
}

static void test_escape_long(void **state)
{
	GString *big = g_string_new(NULL);
	char *o;

	(void)state;
	for (int i = 0; i < 100000; i++)
		g_string_append(big, i % 2 ? "<" : "あ");
	o = esc(big->str, 0);
	/* WEB_TEXT_MAX characters, then the ellipsis; nothing unescaped */
	assert_null(strchr(o, '<'));
	assert_true(g_str_has_suffix(o, "…"));
	assert_true(strlen(o) <= WEB_TEXT_MAX * 4 + 3);
	g_free(o);
	o = esc(big->str, 5);
	assert_string_equal(o, "あ&lt;あ&lt;あ…");
	g_free(o);
	g_string_free(big, TRUE);
}

static void test_block_keeps_lines(void **state)
{
	GString *g = g_string_new(NULL);

	(void)state;
	web_html_block(g, "line1\n<b>\xE2\x80\xAE\n", 0);
	assert_string_equal(g->str, "line1\n&lt;b&gt;[U+202E]\n");
	g_string_free(g, TRUE);
}

static void test_printf_escapes_arguments(void **state)
{
	GString *g = g_string_new(NULL);

	(void)state;
	web_html_printf(g, "<td title=\"%s\">%u %lld %d%%</td>", "\"><script>", 7u, -5LL, 3);
	assert_string_equal(g->str, "<td title=\"&quot;&gt;&lt;script&gt;\">7 -5 3%</td>");
	g_string_free(g, TRUE);
}

static void test_sessions_and_csrf(void **state)
{
	struct web_sessions *s = web_sessions_new();
	struct web_session *x, *y;
	char forged[WEB_TOKEN_HEX];

	(void)state;
	x = web_session_create(s, "sato", WEB_ROLE_TEAM, 600, T0);
	assert_non_null(x);
	assert_int_equal(strlen(x->token), 64);
	assert_string_not_equal(x->token, x->csrf);
	y = web_session_find(s, x->token, T0 + 10);
	assert_non_null(y);
	assert_string_equal(y->user, "sato");
	assert_true(web_csrf_ok(y, x->csrf));
	/* wrong, missing, short, another session's token */
	memcpy(forged, x->csrf, sizeof(forged));
	forged[10] ^= 1;
	assert_false(web_csrf_ok(y, forged));
	assert_false(web_csrf_ok(y, NULL));
	assert_false(web_csrf_ok(y, ""));
	assert_false(web_csrf_ok(NULL, x->csrf));
	web_session_free(y);
	y = web_session_create(s, "suzuki", WEB_ROLE_APPROVER, 600, T0);
	assert_false(web_csrf_ok(x, y->csrf));
	web_session_free(y);
	/* expiry and logout */
	assert_null(web_session_find(s, x->token, T0 + 600));
	web_session_free(x);
	x = web_session_create(s, "sato", WEB_ROLE_TEAM, 600, T0);
	web_session_end(s, x->token);
	assert_null(web_session_find(s, x->token, T0 + 1));
	assert_null(web_session_find(s, "not-a-token", T0));
	web_session_free(x);
	web_sessions_free(s);
}

static void test_login_rate_limit(void **state)
{
	struct web_sessions *s = web_sessions_new();

	(void)state;
	for (int i = 0; i < WEB_LOGIN_FAILURES; i++) {
		assert_true(web_login_allowed(s, "192.0.2.1", "sato", T0 + i));
		web_login_failed(s, "192.0.2.1", "sato", T0 + i);
	}
	/* refused for that address (any user) and that user (any address) */
	assert_false(web_login_allowed(s, "192.0.2.1", "sato", T0 + 10));
	assert_false(web_login_allowed(s, "192.0.2.1", "other", T0 + 10));
	assert_false(web_login_allowed(s, "192.0.2.99", "sato", T0 + 10));
	assert_true(web_login_allowed(s, "192.0.2.99", "other", T0 + 10));
	/* until the window has passed */
	assert_true(web_login_allowed(s, "192.0.2.1", "sato", T0 + WEB_LOGIN_WINDOW));
	web_sessions_free(s);
}

static void test_staff_token(void **state)
{
	char a[65], b[65], c[65];

	(void)state;
	web_staff_token(key, "aa", a);
	web_staff_token(key, "ab", b);
	web_staff_token(key2, "aa", c);
	assert_int_equal(strlen(a), 64);
	assert_string_not_equal(a, b);
	assert_string_not_equal(a, c);
}

static void test_listen(void **state)
{
	struct sockaddr_storage ss;
	char err[256];

	(void)state;
	assert_int_equal(web_listen_parse("127.0.0.1:8080", &ss, err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(web_listen_parse("[::1]:443", &ss, err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(web_listen_parse("localhost:80", &ss, err, sizeof(err)), -1);
	assert_int_equal(web_listen_parse("127.0.0.1:0", &ss, err, sizeof(err)), -1);
	assert_int_equal(web_listen_parse("127.0.0.1:70000", &ss, err, sizeof(err)), -1);
	assert_int_equal(web_listen_parse("127.0.0.1", &ss, err, sizeof(err)), -1);
}

static void test_notice_link(void **state)
{
	GString *out = g_string_new(NULL);
	GPtrArray *parts = g_ptr_array_new();
	struct tz_notice_opts o = { .lang = TZ_NOTICE_JA, .ref_id = "1202-4F7K", .parts = parts,
				    .link = "https://tz.example.lg.jp/s?e=x" };

	(void)state;
	tz_notice_render_opts("A\n{if:link}\nL {link}\n{end}\nB\n", &o, out);
	assert_string_equal(out->str, "A\nL https://tz.example.lg.jp/s?e=x\nB\n");
	g_string_truncate(out, 0);
	o.link = NULL;
	tz_notice_render_opts("A\n{if:link}\nL {link}\n{end}\nB\n", &o, out);
	assert_string_equal(out->str, "A\nB\n");
	g_string_free(out, TRUE);
	g_ptr_array_unref(parts);
}

/* Reasons are counted in characters, as the form's maxlength counts. */
static void test_reason_length(void **state)
{
	GString *ja = g_string_new(NULL), *ascii = g_string_new(NULL);

	(void)state;
	for (int i = 0; i < WEB_REASON_MAX; i++) {
		g_string_append(ja, "確");      /* 3 bytes each: 1,500 bytes */
		g_string_append_c(ascii, 'a');
	}
	assert_true(web_reason_ok(ja->str, 0, 0));
	assert_true(web_reason_ok(ascii->str, 0, 0));
	g_string_append(ja, "認");
	g_string_append_c(ascii, 'a');
	assert_false(web_reason_ok(ja->str, 0, 0));
	assert_false(web_reason_ok(ascii->str, 0, 0));
	assert_false(web_reason_ok("", 0, 0));
	assert_true(web_reason_ok("", 0, 1));
	assert_false(web_reason_ok("a\nb", 0, 0));
	assert_true(web_reason_ok("a\r\nb", 1, 0));
	assert_false(web_reason_ok("a\x01b", 1, 0));
	assert_false(web_reason_ok("a\x7f", 1, 0));
	assert_false(web_reason_ok("\xff\xfe", 1, 0));
	g_string_free(ja, TRUE);
	g_string_free(ascii, TRUE);
}

/* PPAP tries: counted per link and part, never past the limit. */
static void test_ppap_tries(void **state)
{
	char *dir = g_dir_make_tmp("tz-webstate-XXXXXX", NULL), *path = g_build_filename(dir, "web.db", NULL);
	char err[256], *result = NULL;
	struct web_state *s = web_state_open(path, err, sizeof err);
	unsigned tries = 0;

	(void)state;
	assert_non_null(s);
	for (unsigned i = 1; i <= 5; i++) {
		assert_int_equal(web_state_ppap_take(s, "mac1", 1, 5, &tries, err, sizeof err), 0);
		assert_int_equal(tries, i);
	}
	assert_int_equal(web_state_ppap_take(s, "mac1", 1, 5, &tries, err, sizeof err), 1);
	assert_int_equal(web_state_ppap_get(s, "mac1", 1, &result), 5);   /* not counted past 5 */
	assert_null(result);
	assert_int_equal(web_state_ppap_take(s, "mac1", 2, 5, &tries, err, sizeof err), 0);
	assert_int_equal(tries, 1);                                      /* another part */
	assert_int_equal(web_state_ppap_take(s, "mac2", 1, 5, &tries, err, sizeof err), 0);
	assert_int_equal(tries, 1);                                      /* another link */
	web_state_ppap_result(s, "mac2", 1, "wrong");
	assert_int_equal(web_state_ppap_get(s, "mac2", 1, &result), 1);
	assert_string_equal(result, "wrong");
	g_free(result);
	web_state_free(s);
	unlink(path);
	g_free(path);
	g_rmdir(dir);
	g_free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_roundtrip),
		cmocka_unit_test(test_link_refused),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_escape_long),
		cmocka_unit_test(test_block_keeps_lines),
		cmocka_unit_test(test_printf_escapes_arguments),
		cmocka_unit_test(test_sessions_and_csrf),
		cmocka_unit_test(test_login_rate_limit),
		cmocka_unit_test(test_staff_token),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_notice_link),
		cmocka_unit_test(test_reason_length),
		cmocka_unit_test(test_ppap_tries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
