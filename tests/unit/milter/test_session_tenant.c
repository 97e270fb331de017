/* test_session_tenant.c — the milter's choice of tenant (session.c rcpt_tenant,
 * docs/tenants.md) through the fake MTA: the first accepted recipient
 * fixes the message's tenant, a recipient of another tenant (or of none)
 * gets 452 4.5.3 and is not a recipient of this message, the notice
 * carries that tenant's NoticeContact, its rule actions apply (SpoofAction),
 * the stored entry names the tenant, and outbound mail takes the tenant of
 * the client's network. */
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
#include "tz_meta.h"
#include "tz_store.h"

static char tmpdir[64];

static int setup(void **state)
{
	char *text, *spool, err[TZ_ERRLEN];

	strcpy(tmpdir, "/tmp/tz-test-tenant-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	spool = g_strdup_printf("%s/spool", tmpdir);
	g_mkdir_with_parents(spool, 0700);
	g_free(spool);
	text = g_strdup_printf("Socket local:%s/sock\nSpoolDir %s/spool\nQuarantineDir %s/q\n"
			       "AuditLog %s/audit.log\nReportDatabase %s/report.db\nSPFCheck no\n"
			       "StateDir %s\nInternalNetworks 10.0.0.0/8\nLocalDomains pref.example.jp\n"
			       "NoticeLanguage en\nNoticeContact Prefecture desk\nSpoofAction reject\n"
			       "Tenant kameyama\nLocalDomains kameyama.example.lg.jp\n"
			       "NoticeContact Kameyama desk 0595\nSpoofAction tag\n"
			       "InternalNetworks 10.1.0.0/16\n"
			       "Tenant suzuka\nLocalDomains suzuka.example.lg.jp\n"
			       "NoticeContact Suzuka desk 059\n",
			       tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir);
	if (fake_runtime_install(tmpdir, text, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	g_free(text);
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

static struct tzm_conn *conn_open(const char *addr)
{
	struct tzm_conn *c = tzm_conn_new("client.example", addr);
	struct fake *f = fake_new(NULL);

	assert_non_null(c);
	assert_int_equal(tzm_on_connect(c, &fake_ops, f), TZM_CONTINUE);
	fake_free(f);
	return c;
}

static enum tzm_status rcpt(struct tzm_conn *c, struct fake *f, const char *addr)
{
	char *argv[] = { (char *)addr, NULL };

	return tzm_on_rcpt(c, &fake_ops, f, argv);
}

/* Headers, body and end of message; the From may claim a domain. */
static enum tzm_status finish(struct tzm_conn *c, struct fake *f, const char *from)
{
	static const char body[] = "--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
		"--b\r\nContent-Type: application/pdf; name=a.pdf\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n";
	enum tzm_status st;

	if ((st = tzm_on_header(c, &fake_ops, f, "From", from)) != TZM_CONTINUE ||
	    (st = tzm_on_header(c, &fake_ops, f, "Subject", "tenant test")) != TZM_CONTINUE ||
	    (st = tzm_on_header(c, &fake_ops, f, "MIME-Version", "1.0")) != TZM_CONTINUE ||
	    (st = tzm_on_header(c, &fake_ops, f, "Content-Type",
				"multipart/mixed; boundary=\"b\"")) != TZM_CONTINUE ||
	    (st = tzm_on_eoh(c, &fake_ops, f)) != TZM_CONTINUE ||
	    (st = tzm_on_body(c, &fake_ops, f, (const unsigned char *)body, sizeof(body) - 1)) != TZM_CONTINUE)
		return st;
	return tzm_on_eom(c, &fake_ops, f);
}

/* The new body, base64 decoded (GLib skips the line ends). */
static char *new_body(const struct fake *f)
{
	char *b64 = g_strndup((const char *)f->body->data, f->body->len);
	gsize n;
	guchar *raw = g_base64_decode(b64, &n);
	char *s = g_strndup((const char *)raw, n);

	g_free(b64);
	g_free(raw);
	return s;
}

/* The meta.json of the one entry stored so far (a fresh queue per test). */
/* The tenant recorded in the newest entry's metadata, read through the
 * store (either layout: StoreFormat decides where the milter put it). */
static char *stored_tenant(void)
{
	char *dir = g_strdup_printf("%s/q", tmpdir), err[TZ_ERRLEN], *tenant = NULL;
	struct tz_store *st = tz_store_open(dir, NULL, err, sizeof(err));
	GPtrArray *ids = NULL;

	if (st && tz_store_list(st, &ids, err, sizeof(err)) == 0 && ids->len > 0) {
		struct tz_meta *m = tz_store_meta_read(st, g_ptr_array_index(ids, ids->len - 1),
						       err, sizeof(err));
		if (m)
			tenant = g_strdup(m->tenant ? m->tenant : "");
		tz_meta_free(m);
	}
	if (ids)
		g_ptr_array_unref(ids);
	tz_store_free(st);
	g_free(dir);
	return tenant;
}

static void test_first_rcpt_fixes_tenant(void **state)
{
	struct fake *f = fake_new("T1");
	struct tzm_conn *c = conn_open("192.0.2.1");
	char *from[] = { "<a@example.com>", NULL };
	char *body, *meta;

	assert_int_equal(tzm_on_mail(c, &fake_ops, f, from), TZM_CONTINUE);
	assert_int_equal(rcpt(c, f, "<taro@kameyama.example.lg.jp>"), TZM_CONTINUE);
	assert_string_equal(c->msg->tenant->t->name, "kameyama");
	assert_int_equal(rcpt(c, f, "<hanako@kameyama.example.lg.jp>"), TZM_CONTINUE);
	/* another tenant's recipient, and one of no tenant: 452, not ours */
	assert_int_equal(rcpt(c, f, "<jiro@suzuka.example.lg.jp>"), TZM_TEMPFAIL);
	assert_string_equal(f->rcode, "452");
	assert_string_equal(f->xcode, "4.5.3");
	assert_int_equal(rcpt(c, f, "<boss@pref.example.jp>"), TZM_TEMPFAIL);
	assert_string_equal(f->rcode, "452");
	assert_int_equal(c->msg->env.rcpts->len, 2);
	/* a relay attempt is refused as before and decides nothing */
	assert_int_equal(rcpt(c, f, "<x@elsewhere.example>"), TZM_REJECT);
	assert_int_equal(finish(c, f, "a@example.com"), TZM_CONTINUE);
	body = new_body(f);
	assert_non_null(strstr(body, "Kameyama desk 0595"));
	assert_null(strstr(body, "Prefecture desk"));
	assert_null(strstr(body, "Suzuka desk"));
	meta = stored_tenant();
	g_free(body);
	tzm_conn_free(c);
	fake_free(f);
	assert_non_null(meta);
	assert_string_equal(meta, "kameyama");
	g_free(meta);
}

/* The second message on the connection starts undecided; a recipient of
 * no tenant first makes it a message of the global rules. */
static void test_per_message_and_global(void **state)
{
	struct fake *f = fake_new("T2");
	struct tzm_conn *c = conn_open("192.0.2.1");
	char *from[] = { "<a@example.com>", NULL };
	char *body;

	assert_int_equal(tzm_on_mail(c, &fake_ops, f, from), TZM_CONTINUE);
	assert_int_equal(rcpt(c, f, "<jiro@suzuka.example.lg.jp>"), TZM_CONTINUE);
	assert_int_equal(finish(c, f, "a@example.com"), TZM_CONTINUE);
	body = new_body(f);
	assert_non_null(strstr(body, "Suzuka desk 059"));
	g_free(body);
	fake_free(f);
	f = fake_new("T3");
	assert_int_equal(tzm_on_mail(c, &fake_ops, f, from), TZM_CONTINUE);
	assert_int_equal(rcpt(c, f, "<boss@pref.example.jp>"), TZM_CONTINUE);
	assert_null(c->msg->tenant);
	assert_int_equal(rcpt(c, f, "<taro@kameyama.example.lg.jp>"), TZM_TEMPFAIL);
	assert_int_equal(finish(c, f, "a@example.com"), TZM_CONTINUE);
	body = new_body(f);
	assert_non_null(strstr(body, "Prefecture desk"));
	g_free(body);
	tzm_conn_free(c);
	fake_free(f);
}

/* The tenant's rule actions: a From in the tenant's own domain from an
 * outside client is tagged for kameyama (SpoofAction tag) and refused for
 * suzuka (the global reject). */
static void test_tenant_actions(void **state)
{
	struct fake *f = fake_new("T4");
	struct tzm_conn *c = conn_open("192.0.2.1");
	char *from[] = { "<a@example.com>", NULL };

	assert_int_equal(tzm_on_mail(c, &fake_ops, f, from), TZM_CONTINUE);
	assert_int_equal(rcpt(c, f, "<taro@kameyama.example.lg.jp>"), TZM_CONTINUE);
	assert_int_equal(finish(c, f, "mayor@kameyama.example.lg.jp"), TZM_CONTINUE);
	fake_free(f);
	f = fake_new("T5");
	assert_int_equal(tzm_on_mail(c, &fake_ops, f, from), TZM_CONTINUE);
	assert_int_equal(rcpt(c, f, "<jiro@suzuka.example.lg.jp>"), TZM_CONTINUE);
	assert_int_equal(finish(c, f, "mayor@suzuka.example.lg.jp"), TZM_REJECT);
	tzm_conn_free(c);
	fake_free(f);
}

/* Outbound: the client's network names the tenant; recipients do not. */
static void test_outbound_client(void **state)
{
	struct tzm_conn *c = conn_open("10.1.2.3");
	struct tzm_conn *d = conn_open("10.9.9.9");
	struct fake *f = fake_new("T6");
	char *from[] = { "<staff@kameyama.example.lg.jp>", NULL };

	assert_int_equal(tzm_on_mail(c, &fake_ops, f, from), TZM_CONTINUE);
	assert_int_equal(c->msg->env.direction, TZ_DIR_OUTBOUND);
	assert_string_equal(c->msg->tenant->t->name, "kameyama");
	assert_string_equal(c->msg->env.tenant, "kameyama");
	assert_int_equal(rcpt(c, f, "<x@suzuka.example.lg.jp>"), TZM_CONTINUE);
	assert_int_equal(rcpt(c, f, "<y@example.com>"), TZM_CONTINUE);
	assert_int_equal(tzm_on_mail(d, &fake_ops, f, from), TZM_CONTINUE);
	assert_int_equal(d->msg->env.direction, TZ_DIR_OUTBOUND);
	assert_null(d->msg->tenant);
	tzm_conn_free(c);
	tzm_conn_free(d);
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_rcpt_fixes_tenant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_per_message_and_global, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenant_actions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbound_client, setup, teardown),
	};

	tz_engine_global_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
