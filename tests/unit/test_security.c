/* test_security.c — docs/security.md's engine-level threats, each through
 * the whole engine (tz_engine_convert, then tz_result_write_message as
 * textizectl prints the message the MTA will deliver):
 *   - header injection: CR/LF hidden in encoded Subject/From words and in
 *     RFC 2231 / RFC 2047 filenames never starts a new header line in the
 *     output, nor reaches a header value we write other than as folding;
 *   - the decoded values we hand to logs, the index and JSON (subject,
 *     from, filenames) carry no line breaks or other controls;
 *   - printf directives in message data come out literally;
 *   - a filename with path separators is never a path ("../" neutralised). */
#define _GNU_SOURCE 1
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <gmime/gmime.h>

#include "tz_engine.h"

#define REF "20260101-000000-000000-5ec0r17y"

/* base64("Hello\r\nBcc: victim@example.org\r\nX-Injected: 1") */
#define B64_CRLF "SGVsbG8NCkJjYzogdmljdGltQGV4YW1wbGUub3JnDQpYLUluamVjdGVkOiAx"

static const char msg_injection[] =
	"From: =?UTF-8?B?" B64_CRLF "?= <a@example.com>\n"
	"To: b@example.jp\n"
	"Subject: =?UTF-8?B?" B64_CRLF "?= =?UTF-8?Q?more=0D=0AX-Injected:_2?=\n"
	"Message-ID: <inj@example.com>\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/mixed; boundary=\"b\"\n"
	"\n"
	"--b\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"\n"
	"body %s%n%x %1$s\n"
	"--b\n"
	"Content-Type: application/octet-stream; name=\"=?UTF-8?B?" B64_CRLF "?=\"\n"
	"Content-Disposition: attachment; filename*=UTF-8''a%0D%0AX-Injected:%203%0Ab.txt\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	"ZGF0YQ==\n"
	"--b\n"
	"Content-Type: application/octet-stream; name=\"=?UTF-8?Q?x=0Ay=0D=25s=25n.exe?=\"\n"
	"\n"
	"data\n"
	"--b\n"
	"Content-Type: application/octet-stream\n"
	"Content-Disposition: attachment; filename=\"../../../etc/cron.d/evil\"\n"
	"\n"
	"data\n"
	"--b--\n";

static struct tz_result *convert(const char *msg, const struct tz_engine_options *opt, char **out_text)
{
	GMimeStream *in = g_mime_stream_mem_new_with_buffer(msg, strlen(msg));
	struct tz_result *r = NULL;
	char err[TZ_ERRLEN];
	size_t len = 0;
	FILE *f;

	assert_int_equal(tz_engine_convert(opt, in, REF, NULL, &r, err, sizeof(err)), 0);
	g_mime_stream_reset(in);
	*out_text = NULL;
	f = open_memstream(out_text, &len);
	assert_non_null(f);
	assert_int_equal(tz_result_write_message(r, in, f, err, sizeof(err)), 0);
	fclose(f);
	g_object_unref(in);
	return r;
}

static void assert_no_controls(const char *what, const char *s)
{
	if (s == NULL)
		return;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			fail_msg("%s holds control byte 0x%02x: \"%s\"", what, *p, s);
}

/* The header block of the output: every line is a field start or a
 * folding line; none begins with an injected field name. */
static void assert_header_block_clean(const char *text)
{
	const char *end = strstr(text, "\n\n");
	char *head;
	char **lines;

	assert_non_null(end);
	head = g_strndup(text, end - text);
	lines = g_strsplit(head, "\n", -1);
	for (char **l = lines; *l; l++) {
		if (g_ascii_strncasecmp(*l, "Bcc:", 4) == 0 || g_ascii_strncasecmp(*l, "X-Injected", 10) == 0)
			fail_msg("injected header line in the output: \"%s\"", *l);
		if (strchr(*l, '\r'))
			fail_msg("bare CR in a header line: \"%s\"", *l);
		if (**l != ' ' && **l != '\t' && strchr(*l, ':') == NULL)
			fail_msg("a header line that is neither a field nor folding: \"%s\"", *l);
	}
	g_strfreev(lines);
	g_free(head);
}

/* A value we hand to the MTA: CRLF only as folding (CRLF + blank). */
static void assert_value_folds_only(const char *name, const char *v)
{
	for (const char *p = v; p && *p; p++) {
		if (*p == '\r' && p[1] == '\n' && (p[2] == ' ' || p[2] == '\t')) {
			p++;
			continue;
		}
		if ((unsigned char)*p < 0x20 && *p != '\t')
			fail_msg("%s value has control byte 0x%02x outside folding", name, *p);
	}
}

static void test_header_injection(void **state)
{
	struct tz_engine_options opt;
	struct tz_result *r;
	char *text;

	(void)state;
	tz_engine_options_init(&opt);
	opt.subject_prefix = "[外部]";   /* the Subject is rewritten: decoded text goes back into a header */
	r = convert(msg_injection, &opt, &text);
	assert_header_block_clean(text);
	for (guint i = 0; i < r->header_edits->len; i++) {
		const struct tz_header_edit *e = g_ptr_array_index(r->header_edits, i);
		assert_value_folds_only(e->name, e->value);
	}
	/* what logs, the index and JSON receive: the words are decoded (the
	 * CR/LF really were there) but the line breaks are gone */
	assert_non_null(strstr(r->subject, "Bcc: victim@example.org"));
	assert_no_controls("subject", r->subject);
	assert_no_controls("from", r->from);
	for (guint i = 0; i < r->parts->len; i++) {
		const struct tz_part *p = g_ptr_array_index(r->parts, i);
		assert_no_controls("filename", p->filename);
	}
	assert_int_equal(r->parts->len, 3);
	tz_result_free(r);
	free(text);
}

/* printf directives in the body, a filename and the Subject come out as
 * the same characters (a format use would have consumed or crashed). */
static void test_format_directives_literal(void **state)
{
	static const char msg[] =
		"From: a@example.com\nTo: b@example.jp\nSubject: 100%s %n%n%n %x\n"
		"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n"
		"--b\nContent-Type: text/plain\n\nrate %d%% %s%s%s\n"
		"--b\nContent-Type: application/pdf; name=\"%s%n%p.pdf\"\n\n%PDF-1.4\n"
		"--b\nContent-Type: text/plain\n\n"
		"begin 644 %s%n.bin\n#86)C\n`\nend\n"
		"--b--\n";
	struct tz_engine_options opt;
	struct tz_result *r;
	char *text, *json;

	(void)state;
	tz_engine_options_init(&opt);
	opt.subject_prefix = "[%s]";
	r = convert(msg, &opt, &text);
	assert_string_equal(r->subject, "100%s %n%n%n %x");
	assert_int_equal(r->parts->len, 2);
	assert_string_equal(((struct tz_part *)g_ptr_array_index(r->parts, 0))->filename, "%s%n%p.pdf");
	assert_string_equal(((struct tz_part *)g_ptr_array_index(r->parts, 1))->filename, "%s%n.bin");
	assert_non_null(strstr(text, "Subject: [%s] 100%s %n%n%n %x\n"));
	json = tz_result_to_json(r);
	assert_non_null(strstr(json, "%s%n%p.pdf"));
	g_free(json);
	tz_result_free(r);
	free(text);
}

/* A sender's filename is a label, never a path: separators neutralised. */
static void test_filename_not_a_path(void **state)
{
	struct tz_engine_options opt;
	struct tz_result *r;
	char *text;

	(void)state;
	tz_engine_options_init(&opt);
	r = convert(msg_injection, &opt, &text);
	for (guint i = 0; i < r->parts->len; i++) {
		const struct tz_part *p = g_ptr_array_index(r->parts, i);
		assert_null(p->filename ? strchr(p->filename, '/') : NULL);
		assert_null(p->filename ? strchr(p->filename, '\\') : NULL);
	}
	tz_result_free(r);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_injection),
		cmocka_unit_test(test_format_directives_literal),
		cmocka_unit_test(test_filename_not_a_path),
	};

	tz_engine_global_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
