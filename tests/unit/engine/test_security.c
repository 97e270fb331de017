/* test_security.c — docs/security.md's engine-level threats, each through
 * the whole engine (tz_engine_convert, then tz_result_write_message as
 * textizectl prints the message the MTA will deliver):
 *   - header injection: CR/LF hidden in encoded Subject/From words and in
 *     RFC 2231 / RFC 2047 filenames never starts a new header line in the
 *     output, nor reaches a header value we write other than as folding;
 *   - the decoded values we hand to logs, the index and JSON (subject,
 *     from, filenames) carry no line breaks or other controls;
 *   - printf directives in message data come out literally;
 *   - a filename with path separators is never a path ("../" neutralised),
 *     and the quarantine store names what it writes itself: after storing
 *     such a message with hostile envelope strings, every file under the
 *     queue is one of the fixed names, directories 0700 and files 0600. */
#define _GNU_SOURCE 1
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <gmime/gmime.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tz_engine.h"
#include "tz_envelope.h"
#include "tz_store.h"

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

/* refs/<8 digits>.log: the 参照番号 day logs (tz_ref_file.c), 0600 files
 * of 48-byte lines, each a Crockford code and the entry id; nothing else
 * (no name from the sender, no file per code). */
static void check_refs(const char *dir, const char *id)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		char *p;
		struct stat st;
		gchar *text = NULL;
		gsize len = 0;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		p = g_build_filename(dir, de->d_name, NULL);
		assert_int_equal(lstat(p, &st), 0);
		if (strlen(de->d_name) != 12 || strspn(de->d_name, "0123456789") != 8 ||
		    strcmp(de->d_name + 8, ".log") != 0 || !S_ISREG(st.st_mode))
			fail_msg("unexpected name in the queue: %s", p);
		assert_int_equal(st.st_mode & 07777, 0600);
		assert_true(g_file_get_contents(p, &text, &len, NULL));
		assert_true(len > 0 && len % 48 == 0);
		for (gsize o = 0; o < len; o += 48) {
			size_t n = strspn(text + o, "0123456789ABCDEFGHJKMNPQRSTVWXYZ");
			assert_true(n >= 4 && n <= 6);
			assert_memory_equal(text + o + 7, id, strlen(id));
			assert_int_equal(text[o + 47], '\n');
		}
		g_free(text);
		g_free(p);
	}
	closedir(d);
}

/* Walk the queue; every name must be one the store makes, with its mode. */
static void check_tree(const char *dir, int level, const char *id, unsigned *files)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		char *p;
		struct stat st;
		bool ok;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		p = g_build_filename(dir, de->d_name, NULL);
		assert_int_equal(lstat(p, &st), 0);
		if (level == 0 && strcmp(de->d_name, "refs") == 0) {
			assert_true(S_ISDIR(st.st_mode));
			assert_int_equal(st.st_mode & 07777, 0700);
			check_refs(p, id);
			g_free(p);
			continue;
		}
		switch (level) {
		case 0: ok = strcmp(de->d_name, "tmp") == 0 || strcmp(de->d_name, "entries") == 0; break;
		case 1: ok = strlen(de->d_name) == 8 && strncmp(de->d_name, id, 8) == 0; break;
		case 2: ok = strcmp(de->d_name, id) == 0; break;
		default:
			ok = strcmp(de->d_name, "meta.json") == 0 || strcmp(de->d_name, "original.eml") == 0
			     || (g_str_has_prefix(de->d_name, "part-") && g_str_has_suffix(de->d_name, ".bin")
				 && strlen(de->d_name) == 12);
		}
		if (!ok)
			fail_msg("unexpected name in the queue: %s", p);
		if (S_ISDIR(st.st_mode)) {
			assert_int_equal(st.st_mode & 07777, 0700);
			check_tree(p, level + 1, id, files);
		} else {
			assert_true(S_ISREG(st.st_mode));   /* never a symlink */
			assert_int_equal(st.st_mode & 07777, 0600);
			++*files;
		}
		g_free(p);
	}
	closedir(d);
}

static void test_store_names_its_files(void **state)
{
	char err[TZ_ERRLEN], id[TZ_ID_LEN];
	char *root = g_dir_make_tmp("tz-sec-XXXXXX", NULL), *q = g_build_filename(root, "queue", NULL);
	struct tz_envelope env = { 0 };
	struct tz_engine_options opt;
	struct tz_store *st;
	struct tz_store_entry *e;
	struct tz_result *r = NULL;
	GMimeStream *in = g_mime_stream_mem_new_with_buffer(msg_injection, strlen(msg_injection));
	unsigned files = 0;
	mode_t old = umask(022);   /* the store's modes must not depend on the umask */

	(void)state;
	st = tz_store_open(q, NULL, err, sizeof(err));
	assert_non_null(st);
	e = tz_store_entry_begin(st, err, sizeof(err));
	assert_non_null(e);
	g_strlcpy(id, tz_store_entry_id(e), sizeof(id));
	/* envelope strings are the sender's too */
	env.queue_id = "../../qid";
	env.helo = "../../../tmp/helo";
	env.sender = "../../a@example.com";
	env.rcpts = g_ptr_array_new();
	g_ptr_array_add(env.rcpts, "/etc/passwd");
	assert_int_equal(tz_store_entry_put_original(e, in, err, sizeof(err)), 0);
	g_mime_stream_reset(in);
	tz_engine_options_init(&opt);
	assert_int_equal(tz_engine_convert(&opt, in, id, tz_store_entry_sink(e), &r, err, sizeof(err)), 0);
	if (tz_store_entry_commit(e, &env, r, err, sizeof(err)) != 0)
		fail_msg("commit: %s", err);
	check_tree(q, 0, id, &files);
	assert_int_equal(files, 2 + r->parts->len);   /* meta.json, original.eml, part-NNN.bin */
	umask(old);
	tz_result_free(r);
	tz_store_free(st);
	g_ptr_array_free(env.rcpts, TRUE);
	g_object_unref(in);
	char *rm = g_strdup_printf("rm -rf '%s'", root);
	assert_int_equal(system(rm), 0);
	g_free(rm);
	g_free(q);
	g_free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_injection),
		cmocka_unit_test(test_format_directives_literal),
		cmocka_unit_test(test_filename_not_a_path),
		cmocka_unit_test(test_store_names_its_files),
	};

	tz_engine_global_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
