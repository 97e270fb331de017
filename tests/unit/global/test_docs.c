/* test_docs.c — the documentation matches the code: every key of
 * tz_config_keys[] has its entry in man/textize.conf.5.in (".It Cm Key Ar
 * type", with "Default:" and the default value) and its line at the default
 * in conf/textize.conf, a closed set its every value; the man page
 * documents no key that does not exist;
 * every textizectl command and queue subcommand and every textize-milter
 * option has an entry in its man page; `mandoc -Tlint -W warning` is clean
 * on the three pages (skipped when mandoc is not installed). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "tz_config.h"
#include "tz_tenant.h"

static const char *const man_pages[] = {
	"man/textize-milter.8.in", "man/textize.conf.5.in", "man/textizectl.8.in",
	"man/textize-web.8.in", NULL
};

/* A file of the source tree; fails the test when it is missing. */
static char *slurp(const char *rel)
{
	char *path = g_build_filename(TZ_TOP_SRCDIR, rel, NULL);
	char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		fail_msg("cannot read %s", path);
	g_free(path);
	return text;
}

/* The man page entry of a key: from its ".It Cm Key Ar type" line to the
 * next ".It" or ".El" at the start of a line. NULL when absent. g_free(). */
static char *key_entry(const char *man, const struct tz_config_key *k)
{
	char *head = g_strdup_printf("\n.It Cm %s Ar %s\n", k->name, k->type);
	const char *start = strstr(man, head), *end, *el;

	g_free(head);
	if (start == NULL)
		return NULL;
	start++;
	end = strstr(start + 1, "\n.It ");
	el = strstr(start + 1, "\n.El");
	if (end == NULL || (el && el < end))
		end = el;
	return end ? g_strndup(start, (gsize)(end - start)) : g_strdup(start);
}

/* A key with a closed set of values: the entry names every value the
 * parser offers (case-insensitively, as the parser matches). */
static int enum_names_missing(const char *entry, const struct tz_config_key *k)
{
	char *valid, **names, *lower;
	int missing = 0;

	if (k->set != tz_config_set_enum)
		return 0;
	valid = tz_name_code_list(k->names, (unsigned)k->max);
	names = g_strsplit(valid, "|", -1);
	lower = g_ascii_strdown(entry, -1);
	for (char **n = names; *n; n++) {
		if (strstr(lower, *n) == NULL) {
			print_error("man/textize.conf.5.in: entry %s does not name the value %s\n",
				    k->name, *n);
			missing++;
		}
	}
	g_free(lower);
	g_strfreev(names);
	g_free(valid);
	return missing;
}

/* Every key has an entry with its type, "Default:" and the default. */
static void test_man_keys(void **state)
{
	char *man = slurp("man/textize.conf.5.in");
	int missing = 0;

	for (const struct tz_config_key *k = tz_config_keys; k->name; k++) {
		char *e = key_entry(man, k);

		if (e == NULL) {
			print_error("man/textize.conf.5.in: no \".It Cm %s Ar %s\" entry\n", k->name, k->type);
			missing++;
			continue;
		}
		if (strstr(e, "\nDefault:") == NULL || (*k->default_str && strstr(e, k->default_str) == NULL)) {
			print_error("man/textize.conf.5.in: entry %s does not give its default \"%s\"\n",
				    k->name, k->default_str);
			missing++;
		}
		if (strstr(e, "\nExample:\n.Dl ") == NULL) {
			print_error("man/textize.conf.5.in: entry %s has no example\n", k->name);
			missing++;
		}
		missing += enum_names_missing(e, k);
		g_free(e);
	}
	g_free(man);
	if (missing)
		fail_msg("%d key(s) not documented in man/textize.conf.5.in", missing);
}

/* The man page documents only keys that exist. */
static void test_man_no_stale_keys(void **state)
{
	char *man = slurp("man/textize.conf.5.in");
	char **lines = g_strsplit(man, "\n", -1);
	int stale = 0;

	for (char **l = lines; *l; l++) {
		char name[128];

		if (sscanf(*l, ".It Cm %127s Ar ", name) == 1 && strstr(*l, " Ar ") &&
		    tz_config_key_find(name) == NULL && strcmp(name, TZ_TENANT_SECTION_KEY) != 0 &&
		    strcmp(name, TZ_TENANT_WEB_GROUP_KEY) != 0) {   /* tz_tenant.h: sections only */
			print_error("man/textize.conf.5.in documents unknown key %s\n", name);
			stale++;
		}
	}
	g_strfreev(lines);
	g_free(man);
	if (stale)
		fail_msg("%d documented key(s) do not exist", stale);
}

/* conf/textize.conf shows every key at its default ("Key Value" line). */
static void test_sample_keys(void **state)
{
	char *text = slurp("conf/textize.conf");
	int missing = 0;

	for (const struct tz_config_key *k = tz_config_keys; k->name; k++) {
		char *line = *k->default_str ? g_strdup_printf("\n%s %s\n", k->name, k->default_str)
					     : g_strdup_printf("\n%s\n", k->name);
		if (strstr(text, line) == NULL) {
			print_error("conf/textize.conf lacks the line \"%s %s\"\n", k->name, k->default_str);
			missing++;
		}
		g_free(line);
	}
	g_free(text);
	if (missing)
		fail_msg("%d key(s) missing from conf/textize.conf", missing);
}

/* The quoted strings that match re (group 1, and group 2 when it matched,
 * joined by a blank) between start and the next "};" of file. */
static GPtrArray *table_names(const char *file, const char *start, const char *re_text)
{
	char *src = slurp(file);
	const char *t = strstr(src, start);
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
	GRegex *re = g_regex_new(re_text, G_REGEX_MULTILINE, 0, NULL);
	GMatchInfo *mi = NULL;
	char *table;

	assert_non_null(t);
	table = g_strndup(t, (gsize)(strstr(t, "};") - t));
	g_regex_match(re, table, 0, &mi);
	while (g_match_info_matches(mi)) {
		char *name = g_match_info_fetch(mi, 1), *sub = g_match_info_fetch(mi, 2);
		g_ptr_array_add(a, sub && *sub ? g_strdup_printf("%s %s", name, sub) : g_strdup(name));
		g_free(name);
		g_free(sub);
		g_match_info_next(mi, NULL);
	}
	g_match_info_free(mi);
	g_regex_unref(re);
	g_free(table);
	g_free(src);
	return a;
}

/* man has a line starting with head followed by a blank or the line end. */
static bool man_has(const char *man, const char *head)
{
	for (const char *p = strstr(man, head); p; p = strstr(p + 1, head)) {
		char c = p[strlen(head)];
		if (c == ' ' || c == '\n')
			return true;
	}
	return false;
}

/* Every row of textizectl's command table (tools/textizectl.c: `{ "queue",
 * "list", ...` or `{ "stats", NULL, ...`) has an ".It Cm" entry in
 * textizectl.8 (the command, and its subcommand as ".It Cm sub" under it
 * or ".It Cm command sub"), and every option of the grammar (ctl_args.c)
 * an ".It Fl -name" or is named in the synopsis of a command. */
static void test_ctl_commands(void **state)
{
	char *man = slurp("man/textizectl.8.in");
	GPtrArray *cmds = table_names("tools/textizectl.c", "commands[] = {",
				      "^\\s*\\{ \"([a-z-]+)\", (?:NULL|\"([a-z-]+)\")");
	GPtrArray *opts = table_names("tools/ctl_args.c", "options[CTL_O_COUNT] = {",
				      "^\\s*\\[CTL_O_[A-Z_]+\\] = \\{ \"([a-z-]+)\"");
	int missing = 0, subs = 0;

	(void)state;
	assert_true(cmds->len >= 15);
	assert_true(opts->len >= 20);
	for (guint i = 0; i < cmds->len; i++) {
		char *name = cmds->pdata[i], *sp = strchr(name, ' ');
		char *group = g_strdup_printf("\n.It Cm %.*s", sp ? (int)(sp - name) : (int)strlen(name), name);
		char *whole = g_strdup_printf("\n.It Cm %s", name);
		char *sub = sp ? g_strdup_printf("\n.It Cm %s", sp + 1) : NULL;

		if (!man_has(man, group) || (sp && !man_has(man, whole) && !man_has(man, sub))) {
			print_error("man/textizectl.8.in: no entry for command %s\n", name);
			missing++;
		}
		subs += sp != NULL;
		g_free(group);
		g_free(whole);
		g_free(sub);
	}
	assert_true(subs >= 12);
	for (guint i = 0; i < opts->len; i++) {
		char *fl = g_strdup_printf("Fl -%s", (char *)opts->pdata[i]);
		if (strstr(man, fl) == NULL) {
			print_error("man/textizectl.8.in: option --%s is not described\n",
				    (char *)opts->pdata[i]);
			missing++;
		}
		g_free(fl);
	}
	g_ptr_array_unref(cmds);
	g_ptr_array_unref(opts);
	g_free(man);
	if (missing)
		fail_msg("%d textizectl command(s) or option(s) not documented", missing);
}

/* Every option letter of textize-milter's getopt string has an ".It Fl X". */
static void test_milter_options(void **state)
{
	char *man = slurp("man/textize-milter.8.in");
	char *src = slurp("milter/main.c");
	const char *g = strstr(src, "getopt(argc, argv, \"");
	int missing = 0;

	assert_non_null(g);
	for (const char *p = g + strlen("getopt(argc, argv, \""); *p && *p != '"'; p++) {
		char *head;

		if (*p == ':')
			continue;
		head = g_strdup_printf("\n.It Fl %c\n", *p);
		if (strstr(man, head) == NULL) {
			head[strlen(head) - 1] = ' ';
			if (strstr(man, head) == NULL) {
				print_error("man/textize-milter.8.in: no entry for option -%c\n", *p);
				missing++;
			}
		}
		g_free(head);
	}
	g_free(src);
	g_free(man);
	if (missing)
		fail_msg("%d option(s) not documented", missing);
}

/* mandoc -Tlint -W warning prints nothing for each page, with the
 * placeholders filled the way man/Makefile.am fills them. */
static void test_mandoc_lint(void **state)
{
	char *mandoc = g_find_program_in_path("mandoc");
	char *dir;
	int dirty = 0;

	if (mandoc == NULL) {
		print_message("mandoc not installed (Debian package mandoc): lint skipped\n");
		skip();
	}
	/* in the build directory (cwd): make distcheck allows no writes elsewhere */
	dir = g_strdup("test_docs.tmp.XXXXXX");
	assert_non_null(g_mkdtemp(dir));
	assert_non_null(dir);
	for (int i = 0; man_pages[i]; i++) {
		char *text = slurp(man_pages[i]);
		char *base = g_path_get_basename(man_pages[i]);
		char *page, *out = NULL, *errs = NULL;
		GRegex *re = g_regex_new("@[A-Za-z_]+@", 0, 0, NULL);
		char *filled = g_regex_replace_literal(re, text, -1, 0, "/usr/local/etc/textize", 0, NULL);
		char *argv[] = { mandoc, "-Tlint", "-W", "warning", NULL, NULL };
		int status = 0;

		base[strlen(base) - 3] = '\0';   /* drop ".in" */
		page = g_build_filename(dir, base, NULL);
		assert_true(g_file_set_contents(page, filled, -1, NULL));
		argv[4] = page;
		assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &errs,
					 &status, NULL));
		if ((out && *out) || (errs && *errs)) {
			print_error("mandoc -Tlint %s:\n%s%s", man_pages[i], out ? out : "", errs ? errs : "");
			dirty++;
		}
		g_unlink(page);
		g_free(page);
		g_free(out);
		g_free(errs);
		g_free(filled);
		g_regex_unref(re);
		g_free(base);
		g_free(text);
	}
	g_rmdir(dir);
	g_free(dir);
	g_free(mandoc);
	if (dirty)
		fail_msg("%d man page(s) not lint-clean", dirty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_man_keys),
		cmocka_unit_test(test_man_no_stale_keys),
		cmocka_unit_test(test_sample_keys),
		cmocka_unit_test(test_ctl_commands),
		cmocka_unit_test(test_milter_options),
		cmocka_unit_test(test_mandoc_lint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
