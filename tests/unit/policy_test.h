/* policy_test.h — helpers shared by the policy unit tests: build a header
 * list from "Name: value" lines, a domain list from a space-separated
 * string, and find an edit in a verdict. */
#ifndef TZ_POLICY_TEST_H
#define TZ_POLICY_TEST_H

#include <string.h>
#include <glib.h>
#include "tz_msghdr.h"
#include "tz_verdict.h"

/* Lines separated by '\n'; a line starting with a space or tab continues
 * the previous field (folding). The value keeps its text after ": ". */
static inline struct tz_msghdr *hdrs(const char *text)
{
	struct tz_msghdr *h = tz_msghdr_new();
	char **lines = g_strsplit(text ? text : "", "\n", -1);
	GString *name = NULL, *val = NULL;

	for (char **l = lines; *l; l++) {
		if ((**l == ' ' || **l == '\t') && val) {
			g_string_append_printf(val, "\n%s", *l);
			continue;
		}
		if (name)
			tz_msghdr_add(h, name->str, val->str);
		if (name)
			g_string_free(name, TRUE), g_string_free(val, TRUE);
		name = val = NULL;
		char *colon = strchr(*l, ':');
		if (colon == NULL)
			continue;
		name = g_string_new_len(*l, colon - *l);
		val = g_string_new(colon[1] == ' ' ? colon + 2 : colon + 1);
	}
	if (name) {
		tz_msghdr_add(h, name->str, val->str);
		g_string_free(name, TRUE);
		g_string_free(val, TRUE);
	}
	g_strfreev(lines);
	return h;
}

static inline GPtrArray *strlist(const char *words)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
	char **w = g_strsplit_set(words ? words : "", " ,", -1);

	for (char **p = w; *p; p++)
		if (**p)
			g_ptr_array_add(a, g_strdup(*p));
	g_strfreev(w);
	return a;
}

/* The first edit with this op and name, or NULL. */
static inline const struct tz_verdict_edit *find_edit(const struct tz_verdict *v,
						      enum tz_edit_op op, const char *name)
{
	for (guint i = 0; i < v->edits->len; i++) {
		const struct tz_verdict_edit *e = g_ptr_array_index(v->edits, i);
		if (e->op == op && g_ascii_strcasecmp(e->name, name) == 0)
			return e;
	}
	return NULL;
}

#endif
