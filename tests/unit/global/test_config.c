/* test_config.c — textize.conf parsing: every default, every type of value,
 * errors naming file:line, the sample config and the man page listing every
 * key of the table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include "tz_config.h"

/* Write text to a temp file; returns its path (g_free + unlink by caller). */
static char *write_conf(const char *text)
{
	char *path = g_strdup("/tmp/tz-test-conf-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* Load text; on failure copy the error (without the path) into why. */
static struct tz_config *load_text(const char *text, char *why, size_t whylen)
{
	char err[TZ_ERRLEN];
	char *path = write_conf(text);
	struct tz_config *cfg = tz_config_load(path, err, sizeof(err));

	if (cfg == NULL && why) {
		const char *p = strncmp(err, path, strlen(path)) == 0 ? err + strlen(path) : err;
		snprintf(why, whylen, "%s", p);
	}
	unlink(path);
	g_free(path);
	return cfg;
}

static void test_defaults(void **state)
{
	struct tz_config *cfg = tz_config_new_defaults();
	struct tz_engine_options o;

	assert_string_equal(cfg->socket, "local:/run/textize/textize.sock");
	assert_int_equal(cfg->socket_mode, 0660);
	assert_null(cfg->user_id);
	assert_null(cfg->pid_file);
	assert_false(cfg->background);
	assert_int_equal(cfg->spool_memory_limit, 1024 * 1024);
	assert_int_equal(cfg->milter_timeout, 600);
	assert_int_equal(cfg->log_level, LOG_INFO);
	assert_int_equal(cfg->on_error, TZ_ACTION_TEMPFAIL);
	assert_int_equal(cfg->internal_networks->len, 0);
	assert_int_equal(cfg->local_domains->len, 0);
	assert_int_equal(cfg->limits.max_mime_depth, 32);
	assert_int_equal(cfg->limits.max_parts, 1000);
	assert_int_equal(cfg->limits.max_header_bytes, 1024 * 1024);
	assert_int_equal(cfg->limits.max_output_bytes, 16 * 1024 * 1024);
	assert_int_equal(cfg->limits.time_budget_ms, 20000);
	assert_int_equal(cfg->limits.max_html_nodes, 200000);
	assert_null(cfg->quarantine_key_file);
	tz_config_engine_options(cfg, &o);
	assert_int_equal(o.body_charset, TZ_BODY_UTF8);
	assert_int_equal(o.body_encoding, TZ_ENC_BASE64);
	assert_int_equal(o.notice_lang, TZ_NOTICE_JA);
	assert_false(o.notice_details);
	assert_null(o.notice_contact);
	assert_null(o.subject_prefix);
	tz_config_unref(cfg);
}

static void test_values(void **state)
{
	struct tz_config *cfg;
	struct tz_engine_options o;
	char why[TZ_ERRLEN] = "";

	cfg = load_text("\xef\xbb\xbf# a comment\r\n"
			"  socket   inet:8891@127.0.0.1  \r\n"
			"SOCKETMODE 0600\n"
			"\n"
			"UserID textize:textize\n"
			"Background yes\n"
			"SpoolMemoryLimit 256k\n"
			"MaxMessageSize 2g\n"
			"MilterTimeout 2m\n"
			"LogLevel debug\n"
			"OnError REJECT\n"
			"InternalNetworks 10.0.0.0/8, 192.168.1.0/24 2001:db8::/32\n"
			"LocalDomains City.Example.lg.jp .example.jp\n"
			"BodyCharset iso-2022-jp\n"
			"BodyEncoding quoted-printable\n"
			"SubjectPrefix [#外部] \n"
			"NoticeLanguage en\n"
			"NoticeDetails full\n"
			"NoticeContact 情報政策課 内線 1234\n"
			"ConversionTimeLimit 1500ms\n"
			"MaxParts 10\n"
			"MaxHtmlNodes 5000\n", why, sizeof(why));
	assert_non_null(cfg);
	assert_string_equal(cfg->socket, "inet:8891@127.0.0.1");
	assert_int_equal(cfg->socket_mode, 0600);
	assert_string_equal(cfg->user_id, "textize:textize");
	assert_true(cfg->background);
	assert_int_equal(cfg->spool_memory_limit, 256 * 1024);
	assert_true(cfg->max_message_size == 2ull * 1024 * 1024 * 1024);
	assert_int_equal(cfg->milter_timeout, 120);
	assert_int_equal(cfg->log_level, LOG_DEBUG);
	assert_int_equal(cfg->on_error, TZ_ACTION_REJECT);
	assert_int_equal(cfg->internal_networks->len, 3);
	assert_true(tz_config_is_internal(cfg, "10.1.2.3"));
	assert_true(tz_config_is_internal(cfg, "::ffff:192.168.1.77"));
	assert_true(tz_config_is_internal(cfg, "2001:db8:1::5"));
	assert_false(tz_config_is_internal(cfg, "192.168.2.1"));
	assert_false(tz_config_is_internal(cfg, NULL));
	assert_true(tz_config_is_local_domain(cfg, "user@city.example.lg.jp"));
	assert_true(tz_config_is_local_domain(cfg, "a@EXAMPLE.jp"));
	assert_true(tz_config_is_local_domain(cfg, "a@x.y.example.jp"));
	assert_false(tz_config_is_local_domain(cfg, "a@badexample.jp"));
	assert_false(tz_config_is_local_domain(cfg, "a@example.lg.jp"));
	assert_string_equal(cfg->subject_prefix, "[#外部]");
	assert_int_equal(cfg->limits.time_budget_ms, 1500);
	assert_int_equal(cfg->limits.max_parts, 10);
	tz_config_engine_options(cfg, &o);
	assert_int_equal(o.body_charset, TZ_BODY_ISO2022JP);
	assert_int_equal(o.body_encoding, TZ_ENC_QP);
	assert_int_equal(o.notice_lang, TZ_NOTICE_EN);
	assert_true(o.notice_details);
	assert_string_equal(o.notice_contact, "情報政策課 内線 1234");
	assert_int_equal(o.limits.max_parts, 10);
	assert_int_equal(o.limits.max_html_nodes, 5000);
	tz_config_unref(cfg);
}

/* A closed set is parsed once into its enum, case-insensitively, aliases
 * included; the snapshot holds the enum. */
static void test_enums(void **state)
{
	char why[TZ_ERRLEN] = "";
	struct tz_config *cfg = load_text("Socket local:/x\n"
					  "LogLevel ERROR\n"
					  "RelayAction TempFail\n"
					  "RecipientVisibilityAction rewrite\n"
					  "SPFSoftfailAction hold\n"
					  "SanitizedDelivery Approve\n", why, sizeof(why));

	if (cfg == NULL)
		fail_msg("%s", why);
	assert_int_equal(cfg->log_level, LOG_ERR);
	assert_int_equal(cfg->relay_action, TZ_ACTION_TEMPFAIL);
	assert_int_equal(cfg->visibility_action, TZ_ACTION_REWRITE);
	assert_int_equal(cfg->spf_softfail_action, TZ_ACTION_HOLD);
	assert_int_equal(cfg->sanitized_delivery, TZ_SANITIZED_APPROVE);
	/* the defaults, as the table writes them */
	assert_int_equal(cfg->size_action, TZ_ACTION_REJECT);
	assert_int_equal(cfg->spf_none_action, TZ_ACTION_TAG);
	assert_int_equal(cfg->spf_temperror_action, TZ_ACTION_TEMPFAIL);
	assert_int_equal(cfg->notice_details, TZ_DETAILS_STAFF);
	tz_config_unref(cfg);
	cfg = tz_config_new_defaults();
	assert_int_equal(cfg->sanitized_delivery, TZ_SANITIZED_AUTO);
	tz_config_unref(cfg);
}

/* Every name an enum row offers parses, through the row, to a code whose
 * canonical name is that name: the table and the setter agree. */
static void test_enum_rows(void **state)
{
	for (const struct tz_config_key *k = tz_config_keys; k->name; k++) {
		char *valid, **names;

		if (k->set != tz_config_set_enum)
			continue;
		assert_non_null(k->names);
		valid = tz_name_code_list(k->names, (unsigned)k->max);
		names = g_strsplit(valid, "|", -1);
		assert_non_null(names[0]);
		for (char **n = names; *n; n++) {
			struct tz_config *cfg = tz_config_new_defaults();
			char err[TZ_ERRLEN];
			int code = -1;

			if (tz_config_set(cfg, k->name, *n, err, sizeof(err)) < 0)
				fail_msg("%s %s: %s", k->name, *n, err);
			memcpy(&code, (char *)cfg + k->offset, sizeof(code));
			assert_string_equal(tz_name_code_name(k->names, code), *n);
			tz_config_unref(cfg);
		}
		g_strfreev(names);
		g_free(valid);
	}
}

/* Each bad file must fail with the right line number and a reason. */
static void test_errors(void **state)
{
	static const struct { const char *text; const char *want; } cases[] = {
		{ "Socket local:/x\nNoSuchKey 1\n", ":2: unknown key \"NoSuchKey\"" },
		{ "Socket tcp:8891\n", ":1: Socket must be" },
		{ "Socket local:relative\n", ":1: Socket: local socket needs an absolute path" },
		{ "\n\nBackground maybe\n", ":3: Background must be yes or no" },
		{ "SocketMode 0999\n", ":1: SocketMode needs an octal number" },
		{ "SpoolMemoryLimit 1t\n", ":1: SpoolMemoryLimit: bad number or unit" },
		{ "SpoolMemoryLimit -1\n", ":1: SpoolMemoryLimit needs a number" },
		{ "SpoolMemoryLimit 0\n", ":1: SpoolMemoryLimit must not be 0" },
		{ "SpoolMemoryLimit\n", ":1: SpoolMemoryLimit needs a number" },
		{ "MaxParts 99999999999999999999\n", ":1: MaxParts: number out of range" },
		{ "MaxMimeDepth 5000\n", ":1: MaxMimeDepth: 5000 is larger than 1000" },
		{ "OnError accept\n", ":1: OnError must be one of tempfail|reject" },
		{ "LogLevel loud\n", ":1: LogLevel must be one of err|warning|notice|info|debug: \"loud\"" },
		/* a closed set names its valid values, and only the ones the key allows */
		{ "RelayAction hold\n", ":1: RelayAction must be one of tempfail|reject: \"hold\"" },
		{ "SizeAction rewrite\n", ":1: SizeAction must be one of log|tag|hold|tempfail|reject" },
		{ "SPFFailAction rejct\n", ":1: SPFFailAction must be one of log|tag|hold|tempfail|reject" },
		{ "RecipientVisibilityAction accept\n",
		  ":1: RecipientVisibilityAction must be one of log|tag|rewrite|hold|tempfail|reject" },
		{ "BodyCharset shift_jis\n", ":1: BodyCharset must be one of utf-8|iso-2022-jp" },
		{ "BodyEncoding 8bit\n", ":1: BodyEncoding must be one of base64|quoted-printable" },
		{ "NoticeLanguage jp\n", ":1: NoticeLanguage must be one of ja|en" },
		{ "NoticeDetails all\n", ":1: NoticeDetails must be one of staff|full" },
		{ "SanitizedDelivery on\n", ":1: SanitizedDelivery must be one of off|auto|approve" },
		{ "InternalNetworks 10.0.0.0/8 10.0.0.1/8\n", ":1: InternalNetworks: host bits set" },
		{ "InternalNetworks 10.0.0.0/33\n", ":1: InternalNetworks: bad prefix length" },
		{ "InternalNetworks example.jp\n", ":1: InternalNetworks: not an IP address" },
		{ "LocalDomains a@b.jp\n", ":1: LocalDomains: bad domain name" },
		{ "SpoolDir relative/dir\n", ":1: SpoolDir must be an absolute path" },
		{ "DigestTime 24:00\n", ":1: DigestTime must be a local time HH:MM" },
		{ "DigestTime 8.30\n", ":1: DigestTime must be a local time HH:MM" },
		{ "DigestTime 08:30x\n", ":1: DigestTime must be a local time HH:MM" },
		{ "MilterTimeout 1500ms\n", ":1: MilterTimeout is in whole seconds" },
		{ "Socket\n", ":1: Socket must be" },
		{ "QuarantineDir\n", ": QuarantineDir must be set" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char why[TZ_ERRLEN] = "";
		struct tz_config *cfg = load_text(cases[i].text, why, sizeof(why));

		if (cfg != NULL || strncmp(why, cases[i].want, strlen(cases[i].want)) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, cfg ? "(loaded)" : why,
				 cases[i].want);
	}
}

static void test_missing_file(void **state)
{
	char err[TZ_ERRLEN];

	assert_null(tz_config_load("/nonexistent/textize.conf", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/textize.conf: "));
}

static void test_refcount(void **state)
{
	struct tz_config *cfg = tz_config_new_defaults();

	assert_ptr_equal(tz_config_ref(cfg), cfg);
	assert_int_equal(cfg->refs, 2);
	tz_config_unref(cfg);
	assert_int_equal(cfg->refs, 1);
	tz_config_unref(cfg);
	tz_config_unref(NULL);
}

/* Last one wins, and a list can be emptied again. */
static void test_repeat(void **state)
{
	struct tz_config *cfg = load_text("InternalNetworks 10.0.0.0/8\nInternalNetworks\n"
					  "SubjectPrefix a\nSubjectPrefix b\n", NULL, 0);

	assert_non_null(cfg);
	assert_int_equal(cfg->internal_networks->len, 0);
	assert_false(tz_config_is_internal(cfg, "10.0.0.1"));
	assert_string_equal(cfg->subject_prefix, "b");
	tz_config_unref(cfg);
}

/* Read a whole file from the source tree (NULL when absent). */
static char *slurp(const char *rel)
{
	char *path = g_build_filename(TZ_TOP_SRCDIR, rel, NULL);
	char *text = NULL;

	g_file_get_contents(path, &text, NULL, NULL);
	g_free(path);
	return text;
}

/* conf/textize.conf shows every key at its default, and loads cleanly. */
static void test_sample_conf(void **state)
{
	char *path = g_build_filename(TZ_TOP_SRCDIR, "conf/textize.conf", NULL);
	char *text = slurp("conf/textize.conf");
	char err[TZ_ERRLEN];
	struct tz_config *cfg;

	assert_non_null(text);
	for (const struct tz_config_key *k = tz_config_keys; k->name; k++) {
		char *line = *k->default_str ? g_strdup_printf("\n%s %s\n", k->name, k->default_str)
					     : g_strdup_printf("\n%s\n", k->name);
		if (strstr(text, line) == NULL)
			fail_msg("conf/textize.conf lacks the line \"%s\"", g_strstrip(line));
		g_free(line);
	}
	cfg = tz_config_load(path, err, sizeof(err));
	if (cfg == NULL)
		fail_msg("%s", err);
	tz_config_unref(cfg);
	g_free(text);
	g_free(path);
}

/* Every row is complete and every default passes its own setter. */
static void test_table(void **state)
{
	for (const struct tz_config_key *k = tz_config_keys; k->name; k++) {
		assert_non_null(k->type);
		assert_non_null(k->default_str);
		assert_non_null(k->doc);
		assert_non_null(k->set);
		assert_ptr_equal(tz_config_key_find(k->name), k);
		for (const struct tz_config_key *j = k + 1; j->name; j++)
			if (g_ascii_strcasecmp(j->name, k->name) == 0)
				fail_msg("duplicate key %s", k->name);
	}
	tz_config_unref(tz_config_new_defaults());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_enums),
		cmocka_unit_test(test_enum_rows),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_refcount),
		cmocka_unit_test(test_repeat),
		cmocka_unit_test(test_sample_conf),
		cmocka_unit_test(test_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
