/* test_policy_glue.c — milter/policy_glue.c driven through the milter core
 * (session.c) and a fake MTA: relay refused at RCPT (and dropped from the
 * recipients), SIZE= refused at MAIL, the policy's header edits and the
 * conversion's in one plan (forged headers deleted before ours are added),
 * hold through quarantine, the visibility rewrite with and without
 * SMFIP_HDR_LEADSPC, the breaker at end of header, and the policy part of
 * the summary line. SPF is off (no DNS here; it has
 * its own tests). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "fake_mta.h"
#include "policy_glue.h"
#include "runtime.h"
#include "session.h"
#include "tz_engine.h"
#include "tz_log.h"

static char tmpdir[64];
static GString *logged;

static void log_sink(int prio, const char *line)
{
	g_string_append_printf(logged, "%s\n", line);
}

static void use_config(const char *extra)
{
	char *text = g_strdup_printf("Socket local:%s/sock\nSpoolDir %s\nQuarantineDir %s/q\n"
				     "AuditLog %s/audit.log\nReportDatabase %s/report.db\nStateDir %s\n"
				     "InternalNetworks 10.0.0.0/8\nLocalDomains city.example.lg.jp\n"
				     "SPFCheck no\nMaxVisibleRecipients 1\nOutboundRateLimit 1/1h\n%s",
				     tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, extra ? extra : "");
	char err[TZ_ERRLEN];

	if (fake_runtime_install(tmpdir, text, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	g_free(text);
}

static int setup(void **state)
{
	strcpy(tmpdir, "/tmp/tz-test-glue-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	use_config(NULL);
	g_string_truncate(logged, 0);
	return 0;
}

static int teardown(void **state)
{
	char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
	int rc = system(cmd);

	tzm_runtime_current_clear();
	g_free(cmd);
	return rc == 0 ? 0 : -1;
}

static struct tzm_conn *conn_open(const char *addr, bool leadspc, struct fake *f)
{
	struct tzm_conn *c = tzm_conn_new("client.example", addr);

	assert_non_null(c);
	c->leadspc = leadspc;
	assert_int_equal(tzm_on_connect(c, &fake_ops, f), TZM_CONTINUE);
	return c;
}

/* MAIL, RCPTs, headers ("Name: value" lines), EOH, body, EOM; stops at
 * the first step that does not continue and returns its status. */
static enum tzm_status send_msg(struct tzm_conn *c, struct fake *f, const char *from,
				const char *const *rcpts, const char *const *hdrs)
{
	char *mail[] = { (char *)from, NULL };
	enum tzm_status st;

	if ((st = tzm_on_mail(c, &fake_ops, f, mail)) != TZM_CONTINUE)
		return st;
	for (int i = 0; rcpts[i]; i++) {
		char *r[] = { (char *)rcpts[i], NULL };
		if ((st = tzm_on_rcpt(c, &fake_ops, f, r)) != TZM_CONTINUE)
			return st;
	}
	for (int i = 0; hdrs[i]; i++) {
		const char *colon = strchr(hdrs[i], ':');
		char *name = g_strndup(hdrs[i], colon - hdrs[i]);
		st = tzm_on_header(c, &fake_ops, f, name, colon + (c->leadspc ? 1 : 2));
		g_free(name);
		if (st != TZM_CONTINUE)
			return st;
	}
	if ((st = tzm_on_eoh(c, &fake_ops, f)) != TZM_CONTINUE)
		return st;
	if ((st = tzm_on_body(c, &fake_ops, f, (const unsigned char *)"hello\r\n", 7)) != TZM_CONTINUE)
		return st;
	return tzm_on_eom(c, &fake_ops, f);
}

static void test_relay_at_rcpt(void **state)
{
	struct fake *f = fake_new("Q1");
	struct tzm_conn *c = conn_open("192.0.2.1", false, f);
	char *mail[] = { "<a@example.com>", NULL };
	char *r1[] = { "<x@example.net>", NULL }, *r2[] = { "<user@city.example.lg.jp>", NULL };

	assert_int_equal(tzm_on_mail(c, &fake_ops, f, mail), TZM_CONTINUE);
	assert_int_equal(tzm_on_rcpt(c, &fake_ops, f, r1), TZM_REJECT);
	assert_string_equal(f->rcode, "550");
	assert_string_equal(f->xcode, "5.7.1");
	assert_int_equal(tzm_on_rcpt(c, &fake_ops, f, r2), TZM_CONTINUE);
	assert_int_equal(c->msg->env.rcpts->len, 1);   /* the refused one is gone */
	assert_string_equal(g_ptr_array_index(c->msg->env.rcpts, 0), "user@city.example.lg.jp");
	assert_string_equal(tzm_policy_summary(c->msg), " policy=relay=reject*1");
	tzm_conn_free(c);
	assert_non_null(strstr(logged->str, "rcpts=1 action=aborted"));
	assert_non_null(strstr(logged->str, "policy=relay=reject*1"));
	fake_free(f);
}

static void test_size_at_mail(void **state)
{
	struct fake *f = fake_new("Q2");
	struct tzm_conn *c;
	char *mail[] = { "<a@example.com>", "BODY=8BITMIME", "SIZE=999999999", NULL };

	use_config("MaxMessageSizeInbound 1m");
	c = conn_open("192.0.2.1", false, f);
	assert_int_equal(tzm_on_mail(c, &fake_ops, f, mail), TZM_REJECT);
	assert_string_equal(f->rcode, "552");
	assert_string_equal(f->xcode, "5.3.4");
	tzm_conn_free(c);
	assert_non_null(strstr(logged->str, "action=policy"));
	assert_non_null(strstr(logged->str, "policy=size=reject"));
	fake_free(f);
}

/* The policy's edits and the conversion's go to the MTA as one plan
 * (tz_hdrplan.h): the forged A-R of ours (policy) and the foreign one with
 * a control byte (header hygiene) deleted from the highest index down, the
 * forged X-Textize deleted once though both asked, and only then anything
 * added. Worked out by hand from the header below. */
static void test_forged_deleted_before_added(void **state)
{
	static const char *const rcpts[] = { "<user@city.example.lg.jp>", NULL };
	static const char *const hdrs[] = {
		"X-Textize: forged", "From: Mayor <mayor@city.example.lg.jp>", "To: user@city.example.lg.jp",
		"Authentication-Results: mx.tz.example; spf=pass",
		"Authentication-Results: other.example; dkim=pass \001",
		"Subject: hi", NULL
	};
	struct fake *f = fake_new("Q3");
	struct tzm_conn *c;

	use_config("AuthservID mx.tz.example\nSpoofAction tag");
	c = conn_open("192.0.2.1", false, f);
	assert_int_equal(send_msg(c, f, "<x@evil.example>", rcpts, hdrs), TZM_CONTINUE);
	assert_non_null(strstr(f->calls->str,
			       "chg Authentication-Results 2 [(delete)]\n"
			       "chg Authentication-Results 1 [(delete)]\n"
			       "chg X-Textize 1 [(delete)]\n"
			       "add X-Textize-Policy [spoof; header From in internal domain: "
			       "Mayor <mayor@city.example.lg.jp>]\n"
			       "add MIME-Version [1.0]\n"
			       "add Content-Type [text/plain; charset=UTF-8]\n"
			       "add Content-Transfer-Encoding [base64]\n"
			       "add X-Textize [textize "));
	tzm_conn_free(c);
	assert_non_null(strstr(logged->str, "hdrfix=1 "));
	fake_free(f);
}

static void test_hold(void **state)
{
	static const char *const rcpts[] = { "<user@city.example.lg.jp>", NULL };
	static const char *const hdrs[] = { "From: Mayor <mayor@city.example.lg.jp>", NULL };
	struct fake *f = fake_new("Q4");
	struct tzm_conn *c;

	use_config("SpoofAction hold");
	c = conn_open("192.0.2.1", false, f);
	send_msg(c, f, "<x@evil.example>", rcpts, hdrs);
	assert_non_null(strstr(f->calls->str, "quarantine textize policy: spoof: header From in internal domain"));
	tzm_conn_free(c);
	assert_non_null(strstr(logged->str, "policy=spoof=hold"));
	fake_free(f);
}

static void test_visibility_rewrite(void **state)
{
	static const char *const rcpts[] = { "<a@example.net>", "<b@example.org>", NULL };
	static const char *const hdrs[] = {
		"From: user@city.example.lg.jp", "To: a@example.net", "Cc: b@example.org", NULL
	};
	for (int leadspc = 0; leadspc <= 1; leadspc++) {
		struct fake *f = fake_new("Q5");
		struct tzm_conn *c;

		use_config("RecipientVisibilityAction rewrite\nOutboundRateLimit 0");
		c = conn_open("10.0.0.5", leadspc, f);
		assert_int_equal(send_msg(c, f, "<user@city.example.lg.jp>", rcpts, hdrs), TZM_CONTINUE);
		assert_string_equal(f->calls->str, leadspc
				    ? "chg Cc 1 [(delete)]\nchg To 1 [ undisclosed-recipients:;]\n"
				    : "chg Cc 1 [(delete)]\nchg To 1 [undisclosed-recipients:;]\n");
		tzm_conn_free(c);
		assert_non_null(strstr(logged->str, "outbound"));
		assert_non_null(strstr(logged->str, "action=passed"));
		assert_non_null(strstr(logged->str, "policy=visibility=rewrite"));
		fake_free(f);
	}
}

static void test_breaker_at_eoh(void **state)
{
	static const char *const rcpts[] = { "<a@example.net>", NULL };
	static const char *const hdrs[] = { "From: user@city.example.lg.jp", "To: a@example.net", NULL };
	struct fake *f = fake_new("Q6");
	struct tzm_conn *c = conn_open("10.9.9.9", false, f);

	assert_int_equal(send_msg(c, f, "<user@city.example.lg.jp>", rcpts, hdrs), TZM_CONTINUE);
	assert_int_equal(send_msg(c, f, "<user@city.example.lg.jp>", rcpts, hdrs), TZM_TEMPFAIL);
	assert_string_equal(f->rcode, "451");
	assert_string_equal(f->xcode, "4.7.1");
	tzm_conn_free(c);
	assert_non_null(strstr(logged->str, "breaker: sender 10.9.9.9 over"));
	assert_non_null(strstr(logged->str, "policy=breaker=tempfail"));
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_relay_at_rcpt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_at_mail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_deleted_before_added, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_visibility_rewrite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_breaker_at_eoh, setup, teardown),
	};
	int rc;

	logged = g_string_new("");
	tz_log_set_sink(log_sink);
	tz_log_set_level(LOG_DEBUG);
	tz_engine_global_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	tzm_policy_global_free();
	g_string_free(logged, TRUE);
	return rc;
}
