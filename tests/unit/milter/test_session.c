/* test_session.c — the milter core (milter/session.c, eom.c) driven through
 * a fake MTA (struct tzm_ops): a whole inbound message, header
 * reconstruction with and without SMFIP_HDR_LEADSPC, several messages per
 * connection, abort at every step, close without a message, outbound
 * passing, and every failure path ending in the OnError reply (also when
 * the MTA does not take the reply). Run under
 * ASan, the abort/close cases also prove nothing leaks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include "fake_mta.h"
#include "session.h"
#include "runtime.h"
#include "tz_engine.h"
#include "tz_log.h"
#include "tz_store.h"

/* ------------------------------------------------------------ fixture */

static char tmpdir[64];

/* Install a runtime whose config is the defaults plus `extra` lines. */
static void use_config(const char *extra)
{
	char *text = g_strdup_printf("Socket local:%s/sock\nSpoolDir %s/spool\n"
				     "QuarantineDir %s/q\nAuditLog %s/audit.log\nReportDatabase %s/report.db\n"
				     "InternalNetworks 10.0.0.0/8\n"
				     "SPFCheck no\nStateDir %s\n%s",   /* policy: no DNS, no /var/lib */
				     tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, extra ? extra : "");
	char err[TZ_ERRLEN];

	if (fake_runtime_install(tmpdir, text, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	g_free(text);
}

static int setup(void **state)
{
	char *spool;

	strcpy(tmpdir, "/tmp/tz-test-session-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	spool = g_strdup_printf("%s/spool", tmpdir);
	g_mkdir_with_parents(spool, 0700);
	g_free(spool);
	use_config(NULL);
	return 0;
}

static int teardown(void **state)
{
	char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);

	tzm_runtime_current_clear();
	if (system(cmd) != 0)
		return -1;
	g_free(cmd);
	return 0;
}

static const char *const msg_headers[][2] = {
	{ "From", " Sender <sender@example.com>" },
	{ "To", " user@city.example.lg.jp" },
	{ "Subject", " =?UTF-8?B?5Lya6K2w?=\n\tfolded" },
	{ "Message-ID", " <m1@example.com>" },
	{ "MIME-Version", " 1.0" },
	{ "Content-Type", " multipart/alternative; boundary=\"b\"" },
	{ NULL, NULL }
};

static const char msg_body[] =
	"--b\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nhello \xe4\xbc\x9a\xe8\xad\xb0\r\n"
	"--b\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n<p>hello</p>\r\n--b--\r\n";

/* A connection as the MTA opens one: tzm_conn_new then the connect step
 * (which sets up the policy state). */
static struct tzm_conn *conn_open(const char *name, const char *addr)
{
	struct tzm_conn *c = tzm_conn_new(name, addr);
	struct fake *f = fake_new(NULL);

	assert_non_null(c);
	assert_int_equal(tzm_on_connect(c, &fake_ops, f), TZM_CONTINUE);
	fake_free(f);
	return c;
}

/* Drive MAIL .. EOM for one message; returns the eom status. */
static enum tzm_status run_message(struct tzm_conn *c, struct fake *f, const char *qid)
{
	char *from[] = { "<sender@example.com>", NULL };
	char *rcpt[] = { "<user@city.example.lg.jp>", NULL };
	enum tzm_status st;

	g_hash_table_insert(f->macros, "i", (gpointer)qid);
	assert_int_equal(tzm_on_mail(c, &fake_ops, f, from), TZM_CONTINUE);
	assert_int_equal(tzm_on_rcpt(c, &fake_ops, f, rcpt), TZM_CONTINUE);
	for (int i = 0; msg_headers[i][0]; i++) {
		const char *v = msg_headers[i][1] + (c->leadspc ? 0 : 1);

		st = tzm_on_header(c, &fake_ops, f, msg_headers[i][0], v);
		if (st != TZM_CONTINUE)
			return st;
	}
	st = tzm_on_eoh(c, &fake_ops, f);
	if (st != TZM_CONTINUE)
		return st;
	/* the body in two chunks, split inside a line */
	st = tzm_on_body(c, &fake_ops, f, (const unsigned char *)msg_body, 30);
	if (st != TZM_CONTINUE)
		return st;
	st = tzm_on_body(c, &fake_ops, f, (const unsigned char *)msg_body + 30, sizeof(msg_body) - 31);
	if (st != TZM_CONTINUE)
		return st;
	return tzm_on_eom(c, &fake_ops, f);
}

/* The original as the quarantine stored it: the newest original.eml under q/. */
static int append_bytes(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	g_string_append_len(ctx, buf, (gssize)len);
	return 0;
}

/* The newest entry's original.eml, read through the store (either layout:
 * StoreFormat decides where the milter put it). */
static char *stored_original(void)
{
	char *dir = g_strdup_printf("%s/q", tmpdir), err[TZ_ERRLEN];
	struct tz_store *st = tz_store_open(dir, NULL, err, sizeof(err));
	GPtrArray *ids = NULL;
	GString *text = g_string_new(NULL);
	int rc = -1;

	if (st && tz_store_list(st, &ids, err, sizeof(err)) == 0 && ids->len > 0)
		rc = tz_store_file_read(st, g_ptr_array_index(ids, ids->len - 1), "original.eml",
					append_bytes, text, err, sizeof(err));
	if (ids)
		g_ptr_array_unref(ids);
	tz_store_free(st);
	g_free(dir);
	return g_string_free(text, rc < 0);
}

/* ------------------------------------------------------------ tests */

static void check_textized(struct fake *f)
{
	char *body = g_strndup((char *)f->body->data, f->body->len);

	assert_true(f->replacebody_calls >= 1);
	/* CRLF everywhere, no bare LF */
	for (guint i = 0; i < f->body->len; i++)
		if (f->body->data[i] == '\n')
			assert_true(i > 0 && f->body->data[i - 1] == '\r');
	assert_non_null(strstr(f->calls->str, "Content-Type"));
	assert_non_null(strstr(f->calls->str, "add X-Textize"));
	assert_null(strstr(body, "<p>"));
	g_free(body);
}

/* A new body larger than one replacebody call goes in calls of exactly
 * 4 x 65535 bytes (libmilter's packet size, so every packet is full) and
 * one for the rest; nothing is lost at the seams (CR LF across them). */
static void test_large_body_chunks(void **state)
{
	struct fake *f = fake_new("BIG1");
	struct tzm_conn *c = conn_open("mx.example.com", "192.0.2.1");
	char *from[] = { "<sender@example.com>", NULL };
	char *rcpt[] = { "<user@city.example.lg.jp>", NULL };
	GString *body = g_string_new("");
	guint sum = 0;
	int n;

	(void)state;
	for (int i = 0; body->len < 600000; i++)
		g_string_append_printf(body, "line %d of a long plain text body\r\n", i);
	g_hash_table_insert(f->macros, "i", "BIG1");
	assert_int_equal(tzm_on_mail(c, &fake_ops, f, from), TZM_CONTINUE);
	assert_int_equal(tzm_on_rcpt(c, &fake_ops, f, rcpt), TZM_CONTINUE);
	assert_int_equal(tzm_on_header(c, &fake_ops, f, "From", "sender@example.com"), TZM_CONTINUE);
	assert_int_equal(tzm_on_header(c, &fake_ops, f, "Content-Type", "text/plain; charset=us-ascii"),
			 TZM_CONTINUE);
	assert_int_equal(tzm_on_eoh(c, &fake_ops, f), TZM_CONTINUE);
	assert_int_equal(tzm_on_body(c, &fake_ops, f, (unsigned char *)body->str, body->len), TZM_CONTINUE);
	assert_int_equal(tzm_on_eom(c, &fake_ops, f), TZM_CONTINUE);
	n = f->replacebody_calls;
	assert_true(n >= 3 && n <= 8);
	assert_int_equal(n, (int)((f->body->len + 4 * 65535 - 1) / (4 * 65535)));
	for (int i = 0; i < n; i++) {
		if (i < n - 1)
			assert_int_equal(f->replacebody_len[i], 4 * 65535);
		sum += (guint)f->replacebody_len[i];
	}
	assert_int_equal(sum, f->body->len);
	check_textized(f);
	tzm_conn_free(c);
	g_string_free(body, TRUE);
	fake_free(f);
}

static void test_inbound_leadspc(void **state)
{
	struct fake *f = fake_new(NULL);
	struct tzm_conn *c = conn_open("mx.example.com", "192.0.2.1");
	GString *want = g_string_new("");
	char *orig;

	c->leadspc = true;
	assert_int_equal(tzm_on_helo(c, &fake_ops, f, "mx.example.com"), TZM_CONTINUE);
	assert_int_equal(run_message(c, f, "ABC123"), TZM_CONTINUE);
	check_textized(f);
	/* values added by the milter carry their own leading blank */
	assert_non_null(strstr(f->calls->str, "add X-Textize [ textize"));
	/* the quarantined original is the message byte for byte */
	for (int i = 0; msg_headers[i][0]; i++) {
		char **lines = g_strsplit(msg_headers[i][1], "\n", -1);
		char *v = g_strjoinv("\r\n", lines);

		g_string_append_printf(want, "%s:%s\r\n", msg_headers[i][0], v);
		g_strfreev(lines);
		g_free(v);
	}
	g_string_append(want, "\r\n");
	g_string_append(want, msg_body);
	orig = stored_original();
	assert_non_null(orig);
	assert_string_equal(orig, want->str);
	assert_null(c->msg);
	g_free(orig);
	/* and the audit log recorded it */
	{
		char *path = g_strdup_printf("%s/audit.log", tmpdir), *log = NULL;

		assert_true(g_file_get_contents(path, &log, NULL, NULL));
		assert_non_null(strstr(log, "\"event\":\"stored\""));
		g_free(log);
		g_free(path);
	}
	g_string_free(want, TRUE);
	tzm_conn_free(c);
	fake_free(f);
}

static void test_inbound_no_leadspc(void **state)
{
	struct fake *f = fake_new(NULL);
	struct tzm_conn *c = conn_open("mx.example.com", "192.0.2.1");
	char *orig;

	assert_int_equal(run_message(c, f, "ABC124"), TZM_CONTINUE);
	check_textized(f);
	assert_non_null(strstr(f->calls->str, "add X-Textize [textize"));
	orig = stored_original();
	assert_non_null(orig);
	assert_non_null(strstr(orig, "Subject: =?UTF-8?B?5Lya6K2w?=\r\n\tfolded\r\n"));
	g_free(orig);
	tzm_conn_free(c);
	fake_free(f);
}

static void test_several_messages(void **state)
{
	struct fake *f = fake_new(NULL);
	struct tzm_conn *c = conn_open(NULL, "2001:db8::25");

	for (int i = 0; i < 3; i++) {
		g_string_truncate(f->calls, 0);
		g_byte_array_set_size(f->body, 0);
		assert_int_equal(run_message(c, f, "Q"), TZM_CONTINUE);
		check_textized(f);
	}
	assert_int_equal(c->messages, 3);
	tzm_conn_free(c);
	fake_free(f);
}

/* Abort after each step, then one complete message on the same connection. */
static void test_abort_every_step(void **state)
{
	char *from[] = { "<a@example.com>", NULL };
	char *rcpt[] = { "<b@example.jp>", NULL };

	for (int step = 0; step < 5; step++) {
		struct fake *f = fake_new(NULL);
		struct tzm_conn *c = conn_open("x", "192.0.2.9");

		tzm_on_mail(c, &fake_ops, f, from);
		if (step >= 1)
			tzm_on_rcpt(c, &fake_ops, f, rcpt);
		if (step >= 2)
			tzm_on_header(c, &fake_ops, f, "Subject", "x");
		if (step >= 3)
			tzm_on_eoh(c, &fake_ops, f);
		if (step >= 4)
			tzm_on_body(c, &fake_ops, f, (const unsigned char *)"x\r\n", 3);
		tzm_on_abort(c);
		assert_null(c->msg);
		tzm_on_abort(c);   /* twice is harmless */
		assert_int_equal(run_message(c, f, "AB"), TZM_CONTINUE);
		tzm_conn_free(c);
		fake_free(f);
	}
}

/* Close without a message, and close in the middle of one (no abort). */
static void test_close(void **state)
{
	struct fake *f = fake_new(NULL);
	char *from[] = { "<a@example.com>", NULL };
	struct tzm_conn *c = conn_open("x", "192.0.2.9");

	tzm_conn_free(c);
	c = conn_open("x", "192.0.2.9");
	tzm_on_mail(c, &fake_ops, f, from);
	tzm_on_header(c, &fake_ops, f, "Subject", "x");
	tzm_conn_free(c);
	tzm_conn_free(NULL);
	fake_free(f);
}

static void test_outbound(void **state)
{
	struct fake *f = fake_new(NULL);
	struct tzm_conn *c = conn_open("pc1", "10.1.2.3");

	assert_int_equal(tzm_direction(c), TZ_DIR_OUTBOUND);
	assert_int_equal(run_message(c, f, "OUT1"), TZM_CONTINUE);
	assert_int_equal(f->replacebody_calls, 0);
	assert_string_equal(f->calls->str, "");
	tzm_conn_free(c);
	/* an authenticated session is outbound whatever the address */
	c = conn_open("pc2", "198.51.100.7");
	assert_int_equal(tzm_direction(c), TZ_DIR_INBOUND);
	g_hash_table_insert(f->macros, "{auth_authen}", "staff1");
	assert_int_equal(run_message(c, f, "OUT2"), TZM_CONTINUE);
	assert_int_equal(tzm_direction(c), TZ_DIR_OUTBOUND);
	assert_int_equal(f->replacebody_calls, 0);
	tzm_conn_free(c);
	fake_free(f);
}

static void test_engine_error(void **state)
{
	struct fake *f = fake_new(NULL);
	struct tzm_conn *c;

	use_config("MaxParts 1\n");
	c = conn_open("x", "192.0.2.1");
	assert_int_equal(run_message(c, f, "ERR1"), TZM_TEMPFAIL);
	assert_string_equal(f->rcode, "451");
	assert_string_equal(f->xcode, "4.3.0");
	assert_int_equal(f->replacebody_calls, 0);
	tzm_conn_free(c);
	use_config("MaxParts 1\nOnError reject\n");
	c = conn_open("x", "192.0.2.1");
	assert_int_equal(run_message(c, f, "ERR2"), TZM_REJECT);
	assert_string_equal(f->rcode, "550");
	assert_string_equal(f->xcode, "5.7.0");
	tzm_conn_free(c);
	use_config(NULL);
	fake_free(f);
}

static void test_spool_error(void **state)
{
	struct fake *f = fake_new(NULL);
	struct tzm_conn *c;

	use_config("SpoolMemoryLimit 10\nSpoolDir /nonexistent/spool\n");
	c = conn_open("x", "192.0.2.1");
	assert_int_equal(run_message(c, f, "SP1"), TZM_TEMPFAIL);
	assert_string_equal(f->rcode, "451");
	tzm_on_abort(c);
	tzm_conn_free(c);
	use_config(NULL);
	fake_free(f);
}

static void test_too_big(void **state)
{
	struct fake *f = fake_new(NULL);
	struct tzm_conn *c;

	use_config("MaxMessageSize 100\n");
	c = conn_open("x", "192.0.2.1");
	assert_int_equal(run_message(c, f, "BIG1"), TZM_REJECT);
	assert_string_equal(f->rcode, "552");
	assert_string_equal(f->xcode, "5.3.4");
	/* the MTA may still send eom; it must not pass */
	assert_int_not_equal(tzm_on_eom(c, &fake_ops, f), TZM_CONTINUE);
	tzm_conn_free(c);
	use_config(NULL);
	fake_free(f);
}

/* An MTA that refuses our reply: the message is refused all the same
 * (fail closed), with the status of the reply's class. */
static void test_setreply_fails(void **state)
{
	struct fake *f = fake_new(NULL);
	struct tzm_conn *c;

	f->fail_setreply = true;
	use_config("MaxParts 1\n");
	c = conn_open("x", "192.0.2.1");
	assert_int_equal(run_message(c, f, "SR1"), TZM_TEMPFAIL);
	assert_string_equal(f->rcode, "");
	assert_int_equal(f->replacebody_calls, 0);
	tzm_conn_free(c);
	use_config("MaxMessageSize 100\n");
	c = conn_open("x", "192.0.2.1");
	assert_int_equal(run_message(c, f, "SR2"), TZM_REJECT);
	assert_int_not_equal(tzm_on_eom(c, &fake_ops, f), TZM_CONTINUE);
	tzm_conn_free(c);
	use_config(NULL);
	fake_free(f);
}

static void test_replacebody_fails(void **state)
{
	struct fake *f = fake_new(NULL);
	struct tzm_conn *c = conn_open("x", "192.0.2.1");

	f->fail_replacebody = true;
	assert_int_equal(run_message(c, f, "RB1"), TZM_TEMPFAIL);
	assert_string_equal(f->xcode, "4.3.0");
	tzm_conn_free(c);
	fake_free(f);
}

static void test_eom_without_mail(void **state)
{
	struct fake *f = fake_new(NULL);
	struct tzm_conn *c = conn_open("x", "192.0.2.1");

	assert_int_equal(tzm_on_header(c, &fake_ops, f, "Subject", "x"), TZM_CONTINUE);
	assert_int_equal(tzm_on_eom(c, &fake_ops, f), TZM_TEMPFAIL);
	tzm_conn_free(c);
	fake_free(f);
}

/* A connection keeps its snapshot across a reload. */
static void test_snapshot(void **state)
{
	struct tzm_conn *c = conn_open("x", "192.0.2.1");
	struct tzm_runtime *old = c->rt;
	struct tzm_runtime *now;

	use_config("SubjectPrefix [x]\n");
	now = tzm_runtime_current();
	assert_ptr_not_equal(now, old);
	assert_null(old->cfg->subject_prefix);
	assert_string_equal(now->cfg->subject_prefix, "[x]");
	tzm_runtime_unref(now);
	tzm_conn_free(c);
	use_config(NULL);
}

static void quiet(int prio, const char *line)
{
	(void)prio;
	(void)line;
}

static GString *log_lines;

static void capture(int prio, const char *line)
{
	(void)prio;
	g_string_append_printf(log_lines, "%s\n", line);
}

/* The summary line names the client as Postfix does: "unknown[addr]" when
 * the MTA passes the bracketed address (no reverse DNS), else name[addr]. */
static void test_client_unknown(void **state)
{
	static const char *const cases[][3] = {
		{ "[127.0.0.1]", "127.0.0.1", " client=unknown[127.0.0.1] " },
		{ "[IPv6:2001:db8::1]", "2001:db8::1", " client=unknown[2001:db8::1] " },
		{ "", "192.0.2.7", " client=unknown[192.0.2.7] " },
		{ "mail.example.com", "192.0.2.1", " client=mail.example.com[192.0.2.1] " },
	};

	for (size_t k = 0; k < G_N_ELEMENTS(cases); k++) {
		struct tzm_conn *c = conn_open(cases[k][0], cases[k][1]);
		struct fake *f = fake_new(NULL);

		log_lines = g_string_new("");
		tz_log_set_sink(capture);
		assert_int_equal(run_message(c, f, "ABC123"), TZM_CONTINUE);
		tzm_conn_free(c);
		tz_log_set_sink(getenv("TZ_TEST_VERBOSE") ? NULL : quiet);
		if (strstr(log_lines->str, cases[k][2]) == NULL)
			fail_msg("want \"%s\" in:\n%s", cases[k][2], log_lines->str);
		assert_null(strstr(log_lines->str, "[["));
		g_string_free(log_lines, TRUE);
		fake_free(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inbound_leadspc),
		cmocka_unit_test(test_large_body_chunks),
		cmocka_unit_test(test_inbound_no_leadspc),
		cmocka_unit_test(test_several_messages),
		cmocka_unit_test(test_abort_every_step),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_outbound),
		cmocka_unit_test(test_engine_error),
		cmocka_unit_test(test_spool_error),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_replacebody_fails),
		cmocka_unit_test(test_setreply_fails),
		cmocka_unit_test(test_eom_without_mail),
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_client_unknown),
	};

	if (getenv("TZ_TEST_VERBOSE") == NULL)
		tz_log_set_sink(quiet);
	tz_engine_global_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
