/* corpus_ja_gate.c — the Japanese quality gate (issue 5): every corpus
 * message tagged "japanese" in MANIFEST.tsv is converted by the engine and
 * its decoded Subject, From, attachment names and body text must read as
 * the sender wrote them: no U+FFFD (the body may have it only when the
 * engine reports the source undecodable) and none of the typical 文字化け
 * patterns:
 *   - UTF-8 read as Latin-1/CP1252 ("ã\u0081", "æ—¥");
 *   - UTF-8 read as CP932 (縺/繧/繝 runs: E3 81/82/83 leads);
 *   - EUC-JP read as Shift_JIS (､ｳ･ﾆ: half-width kana pairs);
 *   - Shift_JIS read as CP1252 ("‚±‚ê");
 *   - C1 controls, a raw ESC, or JIS with the ESC lost ("$B%F%9(B").
 * Corpus: $TZ_CORPUS, default $TZ_TOP_SRCDIR/../shared/corpus; exit 77
 * (automake SKIP) when absent. Prints one line per failing message. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gmime/gmime.h>

#include "tz_engine.h"

static const struct {
	const char *name;
	const char *re;
} gate_patterns[] = {
	{ "utf8-as-latin1", "[\\x{e3}-\\x{e9}][\\x{80}-\\x{bf}\\x{152}\\x{153}\\x{160}\\x{161}"
	  "\\x{178}\\x{17d}\\x{17e}\\x{192}\\x{2c6}\\x{2dc}\\x{2013}\\x{2014}\\x{2018}-\\x{201e}"
	  "\\x{2020}-\\x{2022}\\x{2026}\\x{2030}\\x{2039}\\x{203a}\\x{20ac}\\x{2122}]" },
	{ "utf8-as-cp932", "[\\x{7e3a}\\x{7e67}\\x{7e5d}].?[\\x{7e3a}\\x{7e67}\\x{7e5d}]" },
	{ "eucjp-as-sjis", "([\\x{ff64}\\x{ff65}][\\x{ff61}-\\x{ff9f}]){2,}" },
	{ "sjis-as-cp1252", "(\\x{201a}[^\\s]){2,}" },
	{ "c1-control", "[\\x{80}-\\x{9f}]" },
	{ "raw-escape", "\\x{1b}" },
	{ "jis-lost-escape", "\\$B[\\x{21}-\\x{7e}]{4,}\\(B" },
};

struct gate {
	GRegex *re[G_N_ELEMENTS(gate_patterns)];
	unsigned checked, failed;
};

/* 0 when clean; else prints why. */
static int gate_text(struct gate *g, const char *file, const char *what, const char *t,
		     bool fffd_ok)
{
	GMatchInfo *mi = NULL;
	size_t k;
	int bad = 0;

	if (t == NULL)
		return 0;
	if (!g_utf8_validate(t, -1, NULL)) {
		printf("FAIL %s: %s is not valid UTF-8\n", file, what);
		return 1;
	}
	if (!fffd_ok && strstr(t, "\xef\xbf\xbd") != NULL) {
		printf("FAIL %s: U+FFFD in %s\n", file, what);
		bad = 1;
	}
	for (k = 0; k < G_N_ELEMENTS(gate_patterns); k++) {
		if (g_regex_match(g->re[k], t, 0, &mi)) {
			gchar *m = g_match_info_fetch(mi, 0);

			printf("FAIL %s: %s in %s: \"%s\"\n", file, gate_patterns[k].name, what, m);
			g_free(m);
			bad = 1;
		}
		g_match_info_free(mi);
		mi = NULL;
	}
	return bad;
}

static char *gate_body_text(const struct tz_result *r)
{
	gsize n = 0;
	GString *b = g_string_new_len((const char *)r->body->data, (gssize)r->body->len);
	guchar *d = g_base64_decode(b->str, &n);  /* skips the line ends */
	char *t = g_strndup((const char *)d, n);

	g_free(d);
	g_string_free(b, TRUE);
	return t;
}

static void gate_message(struct gate *g, const char *dir, const char *file)
{
	char *path = g_build_filename(dir, file, NULL), err[TZ_ERRLEN] = "";
	struct tz_engine_options opt;
	struct tz_result *r = NULL;
	GMimeStream *in = g_mime_stream_fs_open(path, O_RDONLY, 0, NULL);
	char *body;
	int bad = 0;
	guint k;

	g->checked++;
	tz_engine_options_init(&opt);
	opt.body_encoding = TZ_ENC_BASE64;
	if (in == NULL || tz_engine_convert(&opt, in, "20260101-000000-000000-00000000", NULL,
					    &r, err, sizeof err) != 0) {
		printf("FAIL %s: does not convert: %s\n", file, err);
		g->failed++;
		goto out;
	}
	bad |= gate_text(g, file, "Subject", r->subject, false);
	bad |= gate_text(g, file, "From", r->from, false);
	for (k = 0; k < r->parts->len; k++) {
		const struct tz_part *p = g_ptr_array_index(r->parts, k);

		bad |= gate_text(g, file, "a filename", p->filename, false);
	}
	body = gate_body_text(r);
	bad |= gate_text(g, file, "the body", body, r->body_undecodable);
	g_free(body);
	g->failed += bad;
out:
	tz_result_free(r);
	if (in)
		g_object_unref(in);
	g_free(path);
}

int main(void)
{
	const char *dir = getenv("TZ_CORPUS");
	char *def = NULL, *manifest, *line, **f;
	struct gate g = { { NULL }, 0, 0 };
	FILE *fp;
	size_t k, cap = 0;

	if (dir == NULL)
		dir = def = g_build_filename(getenv("TZ_TOP_SRCDIR") ? getenv("TZ_TOP_SRCDIR") :
					     TZ_TOP_SRCDIR, "..", "shared", "corpus", NULL);
	manifest = g_build_filename(dir, "MANIFEST.tsv", NULL);
	fp = fopen(manifest, "r");
	if (fp == NULL) {
		/* freed here too: LeakSanitizer fails a skip that leaks */
		printf("SKIP: no corpus at %s\n", dir);
		g_free(manifest);
		g_free(def);
		return 77;
	}
	g_mime_init();
	for (k = 0; k < G_N_ELEMENTS(gate_patterns); k++) {
		g.re[k] = g_regex_new(gate_patterns[k].re, G_REGEX_OPTIMIZE, 0, NULL);
		if (g.re[k] == NULL) {
			printf("bad pattern %s\n", gate_patterns[k].name);
			return 99;
		}
	}
	line = NULL;
	while (getline(&line, &cap, fp) > 0) {
		g_strchomp(line);
		f = g_strsplit(line, "\t", -1);
		if (g_strv_length(f) >= 5 && strcmp(f[0], "file") != 0) {
			gchar **tags = g_strsplit(f[4], ",", -1);

			if (g_strv_contains((const gchar *const *)tags, "japanese"))
				gate_message(&g, dir, f[0]);
			g_strfreev(tags);
		}
		g_strfreev(f);
	}
	free(line);
	fclose(fp);
	printf("%u Japanese messages checked, %u failed\n", g.checked, g.failed);
	for (k = 0; k < G_N_ELEMENTS(gate_patterns); k++)
		g_regex_unref(g.re[k]);
	g_mime_shutdown();
	g_free(manifest);
	g_free(def);
	return g.failed == 0 && g.checked > 0 ? 0 : 1;
}
