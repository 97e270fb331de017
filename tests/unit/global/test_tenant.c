/* test_tenant.c — `Tenant NAME` sections of textize.conf (tz_tenant.h):
 * a section's keys override the global ones for that tenant only, the
 * global config widens LocalDomains/InternalNetworks to every tenant's,
 * lookups by recipient and client address, and every error -n reports
 * (global key in a section, unknown key, domain in two tenants, a section
 * without LocalDomains, bad or repeated names, WebTenantGroup outside a
 * section), each with file:line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tz_config.h"
#include "tz_tenant.h"

/* Load text; the problems (the path replaced by "F") into *problems. */
static struct tz_config *load(const char *text, GPtrArray **problems)
{
	char *path = g_strdup("/tmp/tz-test-tenant-XXXXXX");
	int fd = mkstemp(path);
	struct tz_config *cfg;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	*problems = g_ptr_array_new_with_free_func(g_free);
	cfg = tz_config_load_all(path, *problems);
	for (guint i = 0; i < (*problems)->len; i++) {
		char *p = (*problems)->pdata[i];
		if (strncmp(p, path, strlen(path)) == 0) {
			char *q = g_strdup_printf("F%s", p + strlen(path));
			g_free(p);
			(*problems)->pdata[i] = q;
		}
	}
	unlink(path);
	g_free(path);
	return cfg;
}

/* The problem list holds one containing want. */
static void assert_problem(GPtrArray *problems, const char *want)
{
	for (guint i = 0; i < problems->len; i++)
		if (strstr(problems->pdata[i], want))
			return;
	for (guint i = 0; i < problems->len; i++)
		fprintf(stderr, "problem: %s\n", (char *)problems->pdata[i]);
	fail_msg("no problem containing \"%s\"", want);
}

static const char two_tenants[] =
	"NoticeContact 情報政策課 (内線 100)\n"           /* 1 */
	"LocalDomains pref.example.jp\n"                   /* 2 */
	"InternalNetworks 10.0.0.0/8\n"                    /* 3 */
	"RetentionDays 180\n"                              /* 4 */
	"SpoofAction reject\n"                             /* 5 */
	"Tenant kameyama\n"                                /* 6 */
	"LocalDomains kameyama.example.lg.jp .city.kameyama.example.jp\n" /* 7 */
	"InternalNetworks 10.1.0.0/16\n"                   /* 8 */
	"NoticeContact 亀山市 情報政策課 (0595-00-0000)\n" /* 9 */
	"RetentionDays 90\n"                               /* 10 */
	"SpoofAction tag\n"                                /* 11 */
	"WebTenantGroup textize-kameyama\n"                /* 12 */
	"Tenant suzuka\n"                                  /* 13 */
	"LocalDomains suzuka.example.lg.jp\n"              /* 14 */
	"SanitizedDelivery approve\n";                     /* 15 */

static void test_sections(void **state)
{
	GPtrArray *problems;
	struct tz_config *cfg = load(two_tenants, &problems);
	const struct tz_tenant *k, *s;

	assert_non_null(cfg);
	assert_int_equal(problems->len, 0);
	assert_int_equal(tz_config_tenant_count(cfg), 2);
	k = tz_config_tenant_find(cfg, "kameyama");
	s = tz_config_tenant_find(cfg, "suzuka");
	assert_non_null(k);
	assert_non_null(s);
	assert_null(tz_config_tenant_find(cfg, "tsu"));
	assert_int_equal(k->line, 6);
	assert_string_equal(k->web_group, "textize-kameyama");
	assert_null(s->web_group);
	assert_string_equal(k->cfg->tenant_name, "kameyama");
	assert_null(cfg->tenant_name);
	/* the section's values for its tenant; global ones otherwise */
	assert_string_equal(k->cfg->notice_contact, "亀山市 情報政策課 (0595-00-0000)");
	assert_string_equal(s->cfg->notice_contact, "情報政策課 (内線 100)");
	assert_string_equal(cfg->notice_contact, "情報政策課 (内線 100)");
	assert_int_equal(k->cfg->retention_days, 90);
	assert_int_equal(s->cfg->retention_days, 180);
	assert_int_equal(cfg->retention_days, 180);
	assert_int_equal(k->cfg->spoof_action, TZ_ACTION_TAG);
	assert_int_equal(s->cfg->spoof_action, TZ_ACTION_REJECT);
	assert_int_equal(s->cfg->sanitized_delivery, TZ_SANITIZED_APPROVE);
	assert_int_equal(cfg->sanitized_delivery, TZ_SANITIZED_AUTO);
	/* a tenant's LocalDomains are its own ... */
	assert_int_equal(k->cfg->local_domains->len, 2);
	assert_false(tz_config_is_local_domain(k->cfg, "a@pref.example.jp"));
	/* ... and the global config sees every tenant's */
	assert_true(tz_config_is_local_domain(cfg, "a@pref.example.jp"));
	assert_true(tz_config_is_local_domain(cfg, "a@kameyama.example.lg.jp"));
	assert_true(tz_config_is_local_domain(cfg, "a@suzuka.example.lg.jp"));
	assert_true(tz_config_is_internal(cfg, "10.1.2.3"));
	/* the hooks the queue (release mail) and the sanitizer use */
	assert_string_equal(tz_tenant_contact("kameyama", cfg), "亀山市 情報政策課 (0595-00-0000)");
	assert_string_equal(tz_tenant_contact("suzuka", cfg), "情報政策課 (内線 100)");
	assert_null(tz_tenant_contact("tsu", cfg));
	assert_true(tz_tenant_sanitized_auto("kameyama", cfg));
	assert_false(tz_tenant_sanitized_auto("suzuka", cfg));
	assert_true(tz_tenant_sanitized_auto(NULL, cfg));
	assert_true(tz_config_any_sanitized_auto(cfg));
	assert_false(tz_config_any_sanitized_auto(s->cfg));
	assert_int_equal(tz_config_key_line(k->cfg, "RetentionDays"), 10);
	assert_int_equal(tz_config_key_line(s->cfg, "RetentionDays"), 0);
	tz_config_unref(cfg);
	g_ptr_array_unref(problems);
}

static void test_lookup(void **state)
{
	GPtrArray *problems;
	struct tz_config *cfg = load(two_tenants, &problems);
	const struct tz_tenant *t;

	assert_int_equal(problems->len, 0);
	t = tz_config_tenant_for_rcpt(cfg, "Taro@Kameyama.Example.LG.JP");
	assert_non_null(t);
	assert_string_equal(t->name, "kameyama");
	t = tz_config_tenant_for_rcpt(cfg, "x@www.city.kameyama.example.jp");   /* subdomain */
	assert_non_null(t);
	assert_string_equal(t->name, "kameyama");
	t = tz_config_tenant_for_rcpt(cfg, "x@suzuka.example.lg.jp");
	assert_non_null(t);
	assert_string_equal(t->name, "suzuka");
	assert_null(tz_config_tenant_for_rcpt(cfg, "x@pref.example.jp"));        /* global */
	assert_null(tz_config_tenant_for_rcpt(cfg, "x@evil-kameyama.example.lg.jp"));
	assert_null(tz_config_tenant_for_rcpt(cfg, NULL));
	t = tz_config_tenant_for_client(cfg, "10.1.9.9");
	assert_non_null(t);
	assert_string_equal(t->name, "kameyama");
	/* suzuka has no InternalNetworks of its own: no client is its */
	assert_null(tz_config_tenant_for_client(cfg, "10.2.0.1"));
	assert_null(tz_config_tenant_for_client(cfg, NULL));
	tz_config_unref(cfg);
	g_ptr_array_unref(problems);
}

static void test_errors(void **state)
{
	static const struct { const char *text, *want; } cases[] = {
		{ "Tenant a\nLocalDomains a.example.jp\nSocket local:/x\n",
		  "F:3: Socket is global: it cannot be set in Tenant a" },
		{ "Tenant a\nLocalDomains a.example.jp\nNoSuchKey 1\n", "F:3: unknown key \"NoSuchKey\"" },
		{ "NoSuchKey 1\n", "F:1: unknown key \"NoSuchKey\"" },
		{ "Tenant a\nLocalDomains a.example.jp\nTenant b\nLocalDomains b.example.jp A.example.jp\n",
		  "F:4: domain a.example.jp of Tenant b is also in Tenant a (line 2)" },
		{ "Tenant a\nLocalDomains .example.jp\nTenant b\nLocalDomains b.example.jp\n",
		  "domain b.example.jp of Tenant b is also in Tenant a" },
		{ "Tenant a\nNoticeContact x\n", "F:1: Tenant a needs LocalDomains" },
		{ "Tenant Kameyama\nLocalDomains a.example.jp\n", "F:1: Tenant needs a name" },
		{ "Tenant a\nLocalDomains a.example.jp\nTenant a\nLocalDomains b.example.jp\n",
		  "F:3: Tenant a is already defined on line 1" },
		{ "WebTenantGroup g\n", "F:1: WebTenantGroup belongs in a Tenant section" },
		{ "Tenant a\nLocalDomains a.example.jp\nRetentionDays many\n", "F:3: RetentionDays needs a number" },
		{ "Tenant a\nLocalDomains a.example.jp\nSpoofAction rewrite\n", "F:3: SpoofAction must be one of" },
		{ "Tenant a\nLocalDomains a.example.jp\nInternalNetworks 10.0.0.0/33\n", "F:3: InternalNetworks" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		GPtrArray *problems;
		struct tz_config *cfg = load(cases[i].text, &problems);

		assert_non_null(cfg);
		assert_problem(problems, cases[i].want);
		tz_config_unref(cfg);
		g_ptr_array_unref(problems);
	}
}

/* tz_config_load (start-up, SIGHUP, textizectl) refuses a file -n faults. */
static void test_load_refuses(void **state)
{
	char path[] = "/tmp/tz-test-tenant-XXXXXX", err[TZ_ERRLEN];
	static const char text[] = "Tenant a\nLocalDomains a.example.jp\nStateDir /tmp\n";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_null(tz_config_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, ":3: StateDir is global"));
	unlink(path);
}

/* A file without sections is what it was: no tenants. */
static void test_no_sections(void **state)
{
	GPtrArray *problems;
	struct tz_config *cfg = load("LocalDomains a.example.jp\n", &problems);

	assert_int_equal(problems->len, 0);
	assert_int_equal(tz_config_tenant_count(cfg), 0);
	assert_null(cfg->tenants);
	assert_null(tz_config_tenant_for_rcpt(cfg, "x@a.example.jp"));
	assert_null(tz_config_tenant_at(cfg, 0));
	tz_config_unref(cfg);
	g_ptr_array_unref(problems);
}

static void test_names(void **state)
{
	assert_true(tz_tenant_name_valid("kameyama"));
	assert_true(tz_tenant_name_valid("mie-24207_x"));
	assert_true(tz_tenant_name_valid("0a"));
	assert_false(tz_tenant_name_valid(""));
	assert_false(tz_tenant_name_valid(NULL));
	assert_false(tz_tenant_name_valid("-a"));
	assert_false(tz_tenant_name_valid("a b"));
	assert_false(tz_tenant_name_valid("a'b"));
	assert_false(tz_tenant_name_valid("Ab"));
	assert_false(tz_tenant_name_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));   /* 33 */
	/* every key a section may set is a key of the table */
	for (int i = 0; tz_tenant_keys[i]; i++)
		assert_non_null(tz_config_key_find(tz_tenant_keys[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_load_refuses),
		cmocka_unit_test(test_no_sections),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
