/* tz_visibility.c — the recipient visibility rule. */
#include "tz_visibility.h"

#include <string.h>
#include "tz_maddr.h"

void tz_visibility_options_init(struct tz_visibility_options *o)
{
	memset(o, 0, sizeof(*o));
	o->act.action = TZ_ACTION_REJECT;
}

static bool is_to_cc(const char *name)
{
	return g_ascii_strcasecmp(name, "To") == 0 || g_ascii_strcasecmp(name, "Cc") == 0;
}

unsigned tz_visibility_count(const GPtrArray *internal_domains, const struct tz_msghdr *h)
{
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	unsigned n;

	for (guint i = 0; i < tz_msghdr_len(h); i++) {
		const struct tz_msghdr_field *f = tz_msghdr_nth(h, i);
		GPtrArray *mb;

		if (!is_to_cc(f->name))
			continue;
		mb = tz_maddr_parse(f->value, NULL);
		for (guint j = 0; j < mb->len; j++) {
			const struct tz_mailbox *m = g_ptr_array_index(mb, j);
			char *dom = tz_maddr_domain(m->addr);
			if (dom && !tz_domain_listed(dom, internal_domains))
				g_hash_table_add(seen, tz_maddr_norm(m->addr));
			g_free(dom);
		}
		g_ptr_array_free(mb, TRUE);
	}
	n = g_hash_table_size(seen);
	g_hash_table_destroy(seen);
	return n;
}

/* Highest occurrence index of a field name (0 when absent). */
static unsigned last_index(const struct tz_msghdr *h, const char *name)
{
	unsigned n = 0;

	for (guint i = 0; i < tz_msghdr_len(h); i++) {
		const struct tz_msghdr_field *f = tz_msghdr_nth(h, i);
		if (g_ascii_strcasecmp(f->name, name) == 0 && f->index > n)
			n = f->index;
	}
	return n;
}

static void rewrite(const struct tz_msghdr *h, struct tz_verdict *v)
{
	unsigned to = last_index(h, "To"), cc = last_index(h, "Cc");

	/* Highest index first so the result is the same whether the MTA
	 * renumbers after each deletion or not. */
	for (unsigned i = cc; i >= 1; i--)
		tz_verdict_edit(v, TZ_EDIT_DELETE, "Cc", i, NULL);
	for (unsigned i = to; i >= 2; i--)
		tz_verdict_edit(v, TZ_EDIT_DELETE, "To", i, NULL);
	if (to >= 1)
		tz_verdict_edit(v, TZ_EDIT_CHANGE, "To", 1, "undisclosed-recipients:;");
	else
		tz_verdict_edit(v, TZ_EDIT_APPEND, "To", 0, "undisclosed-recipients:;");
}

void tz_visibility_check(const struct tz_visibility_options *o, const struct tz_msghdr *h,
			 struct tz_verdict *v)
{
	unsigned n;

	if (o->max_visible == 0)
		return;
	n = tz_visibility_count(o->internal_domains, h);
	if (n <= o->max_visible)
		return;
	tz_verdict_hit(v, TZ_RULE_VISIBILITY, o->act.action, "550", "5.7.1",
		       o->act.text ? o->act.text : TZ_VISIBILITY_TEXT,
		       "%u external addresses visible in To/Cc (limit %u)", n, o->max_visible);
	if (o->act.action == TZ_ACTION_REWRITE)
		rewrite(h, v);
}
