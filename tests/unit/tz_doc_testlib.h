/* tz_doc_testlib.h — for tests that check a sample output shown in
 * docs/operations.ja.md against what the code writes: the block after a
 * `<!-- test: output id=ID -->` marker. Header-only (static). */
#ifndef TZ_DOC_TESTLIB_H
#define TZ_DOC_TESTLIB_H

#include <string.h>
#include <glib.h>

/* The fenced block after the marker, without its fences; NULL when the
 * document has no such block. g_free(). */
static inline char *tl_doc_block(const char *id)
{
	char *path = g_build_filename(TZ_TOP_SRCDIR, "docs", "operations.ja.md", NULL), *text = NULL;
	char *marker = g_strdup_printf("<!-- test: output id=%s -->\n```\n", id), *start, *end, *out = NULL;

	if (g_file_get_contents(path, &text, NULL, NULL) && (start = strstr(text, marker)) != NULL) {
		start += strlen(marker);
		end = strstr(start, "```\n");
		if (end)
			out = g_strndup(start, (gsize)(end - start));
	}
	g_free(path);
	g_free(marker);
	g_free(text);
	return out;
}

#endif
