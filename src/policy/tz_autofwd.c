/* tz_autofwd.c — the auto-forwarding rule. */
#include "tz_autofwd.h"

#include <string.h>
#include "tz_maddr.h"

void tz_autofwd_options_init(struct tz_autofwd_options *o)
{
	memset(o, 0, sizeof(*o));
	o->act.action = TZ_ACTION_REJECT;
}

static bool token_is(const char *value, const char *want)
{
	char *t = tz_msghdr_first_token(value);
	bool r = g_ascii_strcasecmp(t, want) == 0;

	g_free(t);
	return r;
}

static bool is_srs(const char *sender)
{
	char *n = tz_maddr_norm(sender);
	bool r = strlen(n) > 5 && g_ascii_strncasecmp(n, "srs", 3) == 0 &&
		 (n[3] == '0' || n[3] == '1') && (n[4] == '=' || n[4] == '+' || n[4] == '-');

	g_free(n);
	return r;
}

/* Does a Delivered-To value name an internal address? */
static bool internal_addr_in(const char *value, const GPtrArray *domains)
{
	GPtrArray *mb = tz_maddr_parse_any(value, NULL);
	bool r = false;

	for (guint i = 0; i < mb->len && !r; i++)
		r = tz_maddr_listed(((struct tz_mailbox *)g_ptr_array_index(mb, i))->addr, domains);
	g_ptr_array_free(mb, TRUE);
	return r;
}

static const char *field_marker(const struct tz_msghdr_field *f, const GPtrArray *domains)
{
	if (g_ascii_strcasecmp(f->name, "Auto-Submitted") == 0 && token_is(f->value, "auto-forwarded"))
		return "auto-submitted";
	if (g_ascii_strcasecmp(f->name, "Autoforwarded") == 0 && token_is(f->value, "true"))
		return "autoforwarded";
	if (g_ascii_strncasecmp(f->name, "Resent-", 7) == 0)
		return "resent";
	if (g_ascii_strcasecmp(f->name, "X-MS-Exchange-Inbox-Rules-Loop") == 0)
		return "exchange-loop";
	if (g_ascii_strcasecmp(f->name, "X-MS-Exchange-Generated-Message-Source") == 0 &&
	    strstr(f->value, "Mailbox Rules Agent"))
		return "exchange-rules";
	if (g_ascii_strcasecmp(f->name, "Delivered-To") == 0 && internal_addr_in(f->value, domains))
		return "delivered-to";
	return NULL;
}

const char *tz_autofwd_marker(const GPtrArray *internal_domains, const char *sender,
			      const struct tz_msghdr *h)
{
	for (guint i = 0; i < tz_msghdr_len(h); i++) {
		const char *m = field_marker(tz_msghdr_nth(h, i), internal_domains);
		if (m)
			return m;
	}
	if (sender && is_srs(sender))
		return "srs";
	return NULL;
}

/* Addresses that may be the forwarding mailbox (normalised, owned). */
static GPtrArray *forwarders(const char *sender, const struct tz_msghdr *h)
{
	static const char *const names[] = { "Delivered-To", "Resent-From", "Resent-Sender",
					     "X-MS-Exchange-Inbox-Rules-Loop" };
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

	if (sender && *sender)
		g_ptr_array_add(out, tz_maddr_norm(sender));
	for (guint i = 0; i < tz_msghdr_len(h); i++) {
		const struct tz_msghdr_field *f = tz_msghdr_nth(h, i);
		for (size_t k = 0; k < G_N_ELEMENTS(names); k++) {
			if (g_ascii_strcasecmp(f->name, names[k]) != 0)
				continue;
			GPtrArray *mb = tz_maddr_parse_any(f->value, NULL);
			for (guint j = 0; j < mb->len; j++)
				g_ptr_array_add(out, tz_maddr_norm(
					((struct tz_mailbox *)g_ptr_array_index(mb, j))->addr));
			g_ptr_array_free(mb, TRUE);
		}
	}
	return out;
}

/* Does one side of an allow entry (address or @domain) match addr? */
static bool side_matches(const char *side, size_t len, const char *addr)
{
	char *s = g_strstrip(g_strndup(side, len));
	bool r = tz_maddr_matches(s, addr);

	g_free(s);
	return r;
}

static bool pair_allowed(const GPtrArray *allow, const GPtrArray *fwd, const char *rcpt)
{
	for (guint i = 0; allow && i < allow->len; i++) {
		const char *e = g_ptr_array_index((GPtrArray *)allow, i);
		const char *gt = strchr(e, '>');
		if (gt == NULL || !side_matches(gt + 1, strlen(gt + 1), rcpt))
			continue;
		for (guint j = 0; j < fwd->len; j++)
			if (side_matches(e, (size_t)(gt - e), g_ptr_array_index((GPtrArray *)fwd, j)))
				return true;
	}
	return false;
}

bool tz_autofwd_allow_valid(const char *entry)
{
	const char *gt = entry ? strchr(entry, '>') : NULL;

	if (gt == NULL || gt == entry || gt[1] == '\0' || strchr(gt + 1, '>'))
		return false;
	return memchr(entry, '@', (size_t)(gt - entry)) && strchr(gt + 1, '@');
}

void tz_autofwd_check(const struct tz_autofwd_options *o, const char *sender,
		      const GPtrArray *rcpts, const struct tz_msghdr *h, struct tz_verdict *v)
{
	const char *marker;
	GPtrArray *fwd = NULL;
	const char *blocked = NULL;

	if (rcpts == NULL)
		return;
	marker = tz_autofwd_marker(o->internal_domains, sender, h);
	if (marker == NULL)
		return;
	fwd = forwarders(sender, h);
	for (guint i = 0; i < rcpts->len && !blocked; i++) {
		const char *r = g_ptr_array_index((GPtrArray *)rcpts, i);
		if (!tz_maddr_listed(r, o->internal_domains) && !pair_allowed(o->allow, fwd, r))
			blocked = r;
	}
	if (blocked)
		tz_verdict_hit(v, TZ_RULE_AUTOFWD, o->act.action, "550", "5.7.1",
			       o->act.text ? o->act.text : TZ_AUTOFWD_TEXT,
			       "marker %s, sender <%s> to external <%s>", marker,
			       sender ? sender : "", blocked);
	g_ptr_array_free(fwd, TRUE);
}
