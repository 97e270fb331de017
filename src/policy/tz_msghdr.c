/* tz_msghdr.c — ordered header fields with per-name occurrence indexes. */
#include "tz_msghdr.h"

static void field_free(gpointer p)
{
	struct tz_msghdr_field *f = p;

	g_free(f->name);
	g_free(f->value);
	g_free(f);
}

struct tz_msghdr *tz_msghdr_new(void)
{
	struct tz_msghdr *h = g_new0(struct tz_msghdr, 1);

	h->fields = g_ptr_array_new_with_free_func(field_free);
	h->counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return h;
}

void tz_msghdr_free(struct tz_msghdr *h)
{
	if (h == NULL)
		return;
	g_ptr_array_free(h->fields, TRUE);
	g_hash_table_destroy(h->counts);
	g_free(h);
}

int tz_msghdr_add(struct tz_msghdr *h, const char *name, const char *value)
{
	struct tz_msghdr_field *f;
	char *key;
	unsigned n;

	if (h->fields->len >= TZ_MSGHDR_MAX_FIELDS)
		return -1;
	key = g_ascii_strdown(name ? name : "", -1);
	n = GPOINTER_TO_UINT(g_hash_table_lookup(h->counts, key)) + 1;
	g_hash_table_replace(h->counts, key, GUINT_TO_POINTER(n));
	f = g_new0(struct tz_msghdr_field, 1);
	f->name = g_strdup(name ? name : "");
	f->value = g_strdup(value ? value : "");
	f->index = n;
	g_ptr_array_add(h->fields, f);
	return 0;
}

const char *tz_msghdr_get(const struct tz_msghdr *h, const char *name)
{
	for (guint i = 0; i < h->fields->len; i++) {
		const struct tz_msghdr_field *f = tz_msghdr_nth(h, i);
		if (g_ascii_strcasecmp(f->name, name) == 0)
			return f->value;
	}
	return NULL;
}

char *tz_msghdr_first_token(const char *value)
{
	const char *s = value, *e;
	int depth = 0;

	while (*s) {
		if (*s == '(')
			depth++;
		else if (*s == ')' && depth)
			depth--;
		else if (!depth && !g_ascii_isspace(*s))
			break;
		s++;
	}
	for (e = s; *e && *e != ';' && *e != '(' && !g_ascii_isspace(*e); e++)
		;
	return g_strndup(s, (gsize)(e - s));
}
