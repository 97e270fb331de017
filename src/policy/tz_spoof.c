/* tz_spoof.c — internal-domain spoofing and forged-header removal. */
#include "tz_spoof.h"

#include <stdlib.h>
#include <string.h>
#include "tz_maddr.h"

void tz_spoof_options_init(struct tz_spoof_options *o)
{
	memset(o, 0, sizeof(*o));
	o->act.action = TZ_ACTION_REJECT;
}

/* Does a decoded display name carry an internal address? Looks at every
 * '@' and the domain-ish run after it. */
static bool name_has_internal(const char *name, const GPtrArray *domains)
{
	for (const char *at = name ? strchr(name, '@') : NULL; at; at = strchr(at + 1, '@')) {
		const char *e = at + 1;
		char *dom;
		bool hit;
		while (g_ascii_isalnum(*e) || *e == '.' || *e == '-')
			e++;
		dom = g_ascii_strdown(at + 1, (gssize)(e - at - 1));
		while (*dom && dom[strlen(dom) - 1] == '.')
			dom[strlen(dom) - 1] = '\0';
		hit = tz_domain_listed(dom, domains);
		g_free(dom);
		if (hit)
			return true;
	}
	return false;
}

/* Why a From (or, without one, Sender) value is a spoof, or NULL;
 * *shown is set when a reader sees an address in it (tz_maddr_parse's
 * reading, the mailboxes tz_maddr_parse_any lists first). */
static const char *from_spoofed(const char *value, const GPtrArray *domains, bool sender, bool *shown)
{
	guint readers;
	GPtrArray *mb = tz_maddr_parse_any(value, &readers);
	const char *why = NULL;

	for (guint i = 0; i < readers; i++)
		*shown = *shown || strchr(((const struct tz_mailbox *)g_ptr_array_index(mb, i))->addr, '@') != NULL;
	for (guint i = 0; i < mb->len && !why; i++) {
		const struct tz_mailbox *m = g_ptr_array_index(mb, i);
		if (tz_maddr_listed(m->addr, domains))
			why = sender ? "header Sender in internal domain (no From address)" : "header From in internal domain";
		else if (name_has_internal(m->name, domains))
			why = sender ? "internal address in Sender display name (no From address)"
				     : "internal address in From display name";
	}
	g_ptr_array_free(mb, TRUE);
	return why;
}

void tz_spoof_check(const struct tz_spoof_options *o, bool trusted, const char *sender,
		    const struct tz_msghdr *h, struct tz_verdict *v)
{
	const char *why = NULL;
	const char *what = sender ? sender : "";
	bool from_shown = false, ignored = false;

	if (trusted)
		return;
	if (sender && tz_maddr_listed(sender, o->internal_domains))
		why = "envelope sender in internal domain";
	for (guint i = 0; h && i < tz_msghdr_len(h) && !why; i++) {
		const struct tz_msghdr_field *f = tz_msghdr_nth(h, i);
		if (g_ascii_strcasecmp(f->name, "From") == 0) {
			why = from_spoofed(f->value, o->internal_domains, false, &from_shown);
			what = f->value;
		}
	}
	/* Without a From address (none, or one header hygiene drops) a reader
	 * may show the Sender instead */
	for (guint i = 0; h && i < tz_msghdr_len(h) && !why && !from_shown; i++) {
		const struct tz_msghdr_field *f = tz_msghdr_nth(h, i);
		if (g_ascii_strcasecmp(f->name, "Sender") == 0) {
			why = from_spoofed(f->value, o->internal_domains, true, &ignored);
			what = f->value;
		}
	}
	if (why)
		tz_verdict_hit(v, TZ_RULE_SPOOF, o->act.action, "550", "5.7.1",
			       o->act.text ? o->act.text : TZ_SPOOF_TEXT, "%s: %s", why, what);
}

char *tz_authres_id(const char *value)
{
	char *id = tz_msghdr_first_token(value ? value : "");

	if (*id == '\0') {
		g_free(id);
		return NULL;
	}
	return id;
}

struct doomed {
	const char *name;
	unsigned index;
};

/* Same name together, highest index first (see tz_verdict_edit). */
static int doomed_cmp(const void *a, const void *b)
{
	const struct doomed *x = a, *y = b;
	int c = g_ascii_strcasecmp(x->name, y->name);

	if (c)
		return c;
	return x->index < y->index ? 1 : x->index > y->index ? -1 : 0;
}

static bool forged(const struct tz_msghdr_field *f, const char *authserv_id)
{
	char *id;
	bool r;

	if (g_ascii_strncasecmp(f->name, "X-Textize", 9) == 0)
		return true;
	if (g_ascii_strcasecmp(f->name, "Authentication-Results") != 0 || !authserv_id)
		return false;
	id = tz_authres_id(f->value);
	r = id && g_ascii_strcasecmp(id, authserv_id) == 0;
	g_free(id);
	return r;
}

unsigned tz_spoof_strip(const struct tz_spoof_options *o, const struct tz_msghdr *h,
			struct tz_verdict *v)
{
	struct doomed *d = g_new0(struct doomed, tz_msghdr_len(h) + 1);
	unsigned n = 0;

	for (guint i = 0; i < tz_msghdr_len(h); i++) {
		const struct tz_msghdr_field *f = tz_msghdr_nth(h, i);
		if (forged(f, o->authserv_id)) {
			d[n].name = f->name;
			d[n].index = f->index;
			n++;
		}
	}
	qsort(d, n, sizeof(*d), doomed_cmp);
	for (unsigned i = 0; i < n; i++)
		tz_verdict_edit(v, TZ_EDIT_DELETE, d[i].name, d[i].index, NULL);
	g_free(d);
	return n;
}
