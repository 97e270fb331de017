/* test_autofwd.c — auto-forwarding markers, internal vs external
 * recipients, SRS senders and the allow-list. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <gmime/gmime.h>

#include "tz_autofwd.h"
#include "policy_test.h"

#define BASE "From: Alice <alice@city.example.jp>\nTo: bob@partner.example\nSubject: hi\n"

static void test_markers(void **state)
{
	static const struct { const char *sender, *headers, *marker; } t[] = {
		{ "alice@city.example.jp", BASE, NULL },
		{ "alice@city.example.jp", BASE "Auto-Submitted: auto-forwarded", "auto-submitted" },
		{ "alice@city.example.jp", BASE "auto-submitted:   (rule 3) AUTO-FORWARDED; by=x", "auto-submitted" },
		{ "alice@city.example.jp", BASE "Auto-Submitted: auto-replied", NULL },
		{ "alice@city.example.jp", BASE "Auto-Submitted: no", NULL },
		{ "alice@city.example.jp", BASE "Auto-Submitted: auto-forwardedx", NULL },
		{ "alice@city.example.jp", BASE "Autoforwarded: TRUE", "autoforwarded" },
		{ "alice@city.example.jp", BASE "Autoforwarded: true ", "autoforwarded" },
		{ "alice@city.example.jp", BASE "Autoforwarded: FALSE", NULL },
		{ "alice@city.example.jp", BASE "Resent-From: alice@city.example.jp", "resent" },
		{ "alice@city.example.jp", BASE "resent-to: bob@partner.example", "resent" },
		{ "alice@city.example.jp", BASE "X-MS-Exchange-Inbox-Rules-Loop: alice@city.example.jp", "exchange-loop" },
		{ "alice@city.example.jp", BASE "X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent", "exchange-rules" },
		{ "alice@city.example.jp", BASE "X-MS-Exchange-Generated-Message-Source: Journal Agent", NULL },
		{ "alice@city.example.jp", BASE "Delivered-To: alice@city.example.jp", "delivered-to" },
		{ "alice@city.example.jp", BASE "Delivered-To: <alice@mail.city.example.jp>", "delivered-to" },
		{ "alice@city.example.jp", BASE "Delivered-To: someone@elsewhere.example", NULL },
		{ "alice@city.example.jp", BASE "Auto-Submitted: auto-generated\nDelivered-To: alice@city.example.jp", "delivered-to" },
		{ "SRS0=HHH=TT=partner.example=bob@city.example.jp", BASE, "srs" },
		{ "srs1=HHH=fwd.example==HHH=TT=orig.example=bob@city.example.jp", BASE, "srs" },
		{ "SRS0+xyz@city.example.jp", BASE, "srs" },
		{ "SRS2=xyz@city.example.jp", BASE, NULL },
		{ "srs@city.example.jp", BASE, NULL },
		{ "", BASE, NULL },
	};
	GPtrArray *internal = strlist(".city.example.jp");

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct tz_msghdr *h = hdrs(t[i].headers);
		const char *m = tz_autofwd_marker(internal, t[i].sender, h);
		if ((m == NULL) != (t[i].marker == NULL) || (m && strcmp(m, t[i].marker) != 0))
			fail_msg("case %zu: want %s got %s", i, t[i].marker ? t[i].marker : "none",
				 m ? m : "none");
		tz_msghdr_free(h);
	}
	g_ptr_array_free(internal, TRUE);
}

static void test_check(void **state)
{
	static const struct {
		const char *sender, *rcpts, *headers, *allow; bool fires;
	} t[] = {
		/* marked, external recipient: rejected */
		{ "alice@city.example.jp", "bob@partner.example", BASE "Auto-Submitted: auto-forwarded", "", true },
		/* marked but every recipient internal: a forward inside is fine */
		{ "alice@city.example.jp", "carol@city.example.jp dave@ward.city.example.jp",
		  BASE "Auto-Submitted: auto-forwarded", "", false },
		/* one external among internal ones is enough */
		{ "alice@city.example.jp", "carol@city.example.jp bob@partner.example",
		  BASE "Resent-From: alice@city.example.jp", "", true },
		/* not marked */
		{ "alice@city.example.jp", "bob@partner.example", BASE, "", false },
		/* allowed pair, envelope sender is the forwarding mailbox */
		{ "alice@city.example.jp", "bob@partner.example", BASE "Autoforwarded: TRUE",
		  "alice@city.example.jp>bob@partner.example", false },
		/* allowed by domain on the external side */
		{ "alice@city.example.jp", "BOB@Partner.Example", BASE "Autoforwarded: TRUE",
		  "alice@city.example.jp>@partner.example", false },
		/* the pair covers bob but not eve */
		{ "alice@city.example.jp", "bob@partner.example eve@evil.example", BASE "Autoforwarded: TRUE",
		  "alice@city.example.jp>bob@partner.example", true },
		/* a pair for another mailbox does not help */
		{ "carol@city.example.jp", "bob@partner.example", BASE "Autoforwarded: TRUE",
		  "alice@city.example.jp>bob@partner.example", true },
		/* the mailbox named in Delivered-To is the forwarder (SRS sender) */
		{ "SRS0=h=tt=example.org=x@city.example.jp", "bob@partner.example",
		  BASE "Delivered-To: alice@city.example.jp", "alice@city.example.jp>bob@partner.example", false },
		/* Exchange rule loop header names the mailbox */
		{ "postmaster@city.example.jp", "bob@partner.example",
		  BASE "X-MS-Exchange-Inbox-Rules-Loop: alice@city.example.jp",
		  "alice@city.example.jp>bob@partner.example", false },
		/* malformed allow entries match nothing */
		{ "alice@city.example.jp", "bob@partner.example", BASE "Autoforwarded: TRUE",
		  "alice@city.example.jp bob@partner.example >bob@partner.example", true },
	};
	GPtrArray *internal = strlist(".city.example.jp");
	struct tz_autofwd_options o;

	tz_autofwd_options_init(&o);
	o.internal_domains = internal;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct tz_msghdr *h = hdrs(t[i].headers);
		GPtrArray *rcpts = strlist(t[i].rcpts), *allow = strlist(t[i].allow);
		struct tz_verdict *v = tz_verdict_new();
		o.allow = allow;
		tz_autofwd_check(&o, t[i].sender, rcpts, h, v);
		if ((v->action == TZ_ACTION_REJECT) != t[i].fires)
			fail_msg("case %zu: fires=%d got %s (%s)", i, t[i].fires,
				 tz_action_name(v->action), v->reason ? v->reason : "");
		if (t[i].fires) {
			assert_string_equal(v->code, "550");
			assert_string_equal(v->ecode, "5.7.1");
			assert_string_equal(tz_verdict_summary(v), "autofwd=reject");
		}
		tz_verdict_free(v);
		g_ptr_array_free(rcpts, TRUE);
		g_ptr_array_free(allow, TRUE);
		tz_msghdr_free(h);
	}
	g_ptr_array_free(internal, TRUE);
}

static void test_allow_valid(void **state)
{
	assert_true(tz_autofwd_allow_valid("a@city.example.jp>b@partner.example"));
	assert_true(tz_autofwd_allow_valid("a@city.example.jp>@partner.example"));
	assert_false(tz_autofwd_allow_valid("a@city.example.jp"));
	assert_false(tz_autofwd_allow_valid(">b@x"));
	assert_false(tz_autofwd_allow_valid("a@x>"));
	assert_false(tz_autofwd_allow_valid("a@x>b@y>c@z"));
	assert_false(tz_autofwd_allow_valid("a>b"));
	assert_false(tz_autofwd_allow_valid(NULL));
}

static void test_action_tag(void **state)
{
	GPtrArray *internal = strlist(".city.example.jp"), *rcpts = strlist("bob@partner.example");
	struct tz_msghdr *h = hdrs(BASE "Autoforwarded: TRUE");
	struct tz_autofwd_options o;
	struct tz_verdict *v = tz_verdict_new();

	tz_autofwd_options_init(&o);
	o.internal_domains = internal;
	o.act.action = TZ_ACTION_TAG;
	tz_autofwd_check(&o, "alice@city.example.jp", rcpts, h, v);
	assert_int_equal(v->action, TZ_ACTION_TAG);
	assert_non_null(find_edit(v, TZ_EDIT_APPEND, "X-Textize-Policy"));
	assert_non_null(strstr(v->reason, "autoforwarded"));
	tz_autofwd_check(&o, "alice@city.example.jp", NULL, h, v);   /* no recipients: no-op */
	tz_verdict_free(v);
	tz_msghdr_free(h);
	g_ptr_array_free(internal, TRUE);
	g_ptr_array_free(rcpts, TRUE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_markers),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_allow_valid),
		cmocka_unit_test(test_action_tag),
	};
	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
