/* tz_namecode.c — name<->code tables (see tz_namecode.h). */
#include "tz_namecode.h"

#include <glib.h>

static bool allowed_code(unsigned allowed, int code)
{
	return allowed == 0 || (code >= 0 && code < 32 && (allowed & (1u << code)));
}

bool tz_name_code_find(const struct tz_name_code *t, unsigned allowed,
		       const char *name, int *code)
{
	if (name == NULL)
		return false;
	for (; t->name; t++) {
		if (g_ascii_strcasecmp(t->name, name) == 0 && allowed_code(allowed, t->code)) {
			*code = t->code;
			return true;
		}
	}
	return false;
}

const char *tz_name_code_name(const struct tz_name_code *t, int code)
{
	for (; t->name; t++)
		if (t->code == code)
			return t->name;
	return NULL;
}

char *tz_name_code_list(const struct tz_name_code *t, unsigned allowed)
{
	GString *s = g_string_new("");

	for (const struct tz_name_code *e = t; e->name; e++) {
		/* aliases are accepted but not offered: only the first name */
		if (!allowed_code(allowed, e->code) || tz_name_code_name(t, e->code) != e->name)
			continue;
		if (s->len)
			g_string_append_c(s, '|');
		g_string_append(s, e->name);
	}
	return g_string_free(s, FALSE);
}
