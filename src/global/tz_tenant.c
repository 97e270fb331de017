/* tz_tenant.c — `Tenant NAME` sections of textize.conf: collecting their
 * lines, building each tenant's config by replaying the global lines and
 * then its own through the key table's setters, and the checks that span
 * tenants. See tz_tenant.h for the syntax and docs/tenants.md for the why. */
#include "tz_tenant.h"
#include "tz_config.h"

#include <string.h>
#include "tz_util.h"

/* Keys whose value matters only after the tenant is known (the first
 * accepted RCPT for inbound mail, the client address for outbound mail),
 * or in the queue, per entry. Rules decided at MAIL (SPF, the sender list,
 * the declared SIZE) run before any recipient, so their keys stay global. */
const char *const tz_tenant_keys[] = {
	"LocalDomains", "InternalNetworks", "InternalDomains",
	"SubjectPrefix", "NoticeTemplate", "NoticeLanguage", "NoticeDetails", "NoticeContact",
	"BodyCharset", "BodyEncoding",
	"RetentionDays", "SanitizedDelivery",
	"SpoofAction", "SpoofRejectText",
	"AutoForwardAction", "AutoForwardAllow", "AutoForwardRejectText",
	"MaxVisibleRecipients", "RecipientVisibilityAction", "RecipientVisibilityText",
	NULL
};

#define SECTION_KEY TZ_TENANT_SECTION_KEY
#define WEB_GROUP_KEY TZ_TENANT_WEB_GROUP_KEY

struct cfg_line {
	unsigned lineno;
	char *key, *value;
};

struct section {
	char *name;
	unsigned line;
	GArray *lines;            /* struct cfg_line */
	char *web_group;
};

struct tz_tenant_parse {
	char *path;
	GArray *global;           /* struct cfg_line: every global line, in order */
	GPtrArray *sections;      /* struct section* */
};

static void cfg_line_clear(gpointer p)
{
	struct cfg_line *l = p;

	g_free(l->key);
	g_free(l->value);
}

static GArray *lines_new(void)
{
	GArray *a = g_array_new(FALSE, TRUE, sizeof(struct cfg_line));

	g_array_set_clear_func(a, cfg_line_clear);
	return a;
}

static void section_free(gpointer p)
{
	struct section *s = p;

	g_free(s->name);
	g_free(s->web_group);
	g_array_unref(s->lines);
	g_free(s);
}

bool tz_tenant_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > TZ_TENANT_NAME_MAX || !g_ascii_isalnum(name[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(g_ascii_islower(name[i]) || g_ascii_isdigit(name[i]) ||
		      name[i] == '-' || name[i] == '_'))
			return false;
	return true;
}

struct tz_tenant_parse *tz_tenant_parse_new(const char *path)
{
	struct tz_tenant_parse *tp = g_new0(struct tz_tenant_parse, 1);

	tp->path = g_strdup(path);
	tp->global = lines_new();
	tp->sections = g_ptr_array_new_with_free_func(section_free);
	return tp;
}

static const char *tenant_key(const char *key)
{
	for (int i = 0; tz_tenant_keys[i]; i++)
		if (g_ascii_strcasecmp(tz_tenant_keys[i], key) == 0)
			return tz_tenant_keys[i];
	return NULL;
}

static void add_line(GArray *a, unsigned lineno, const char *key, const char *value)
{
	struct cfg_line l = { lineno, g_strdup(key), g_strdup(value) };

	g_array_append_val(a, l);
}

static void start_section(struct tz_tenant_parse *tp, unsigned lineno, const char *value,
			  GPtrArray *problems)
{
	struct section *s = g_new0(struct section, 1);

	if (!tz_tenant_name_valid(value))
		g_ptr_array_add(problems, g_strdup_printf("%s:%u: Tenant needs a name of 1 to %d "
				"lower-case letters, digits, '-' or '_': \"%s\"", tp->path, lineno,
				TZ_TENANT_NAME_MAX, value));
	for (guint i = 0; i < tp->sections->len; i++) {
		struct section *o = tp->sections->pdata[i];
		if (strcmp(o->name, value) == 0)
			g_ptr_array_add(problems, g_strdup_printf("%s:%u: Tenant %s is already "
					"defined on line %u", tp->path, lineno, value, o->line));
	}
	s->name = g_strdup(value);
	s->line = lineno;
	s->lines = lines_new();
	g_ptr_array_add(tp->sections, s);
}

bool tz_tenant_parse_line(struct tz_tenant_parse *tp, unsigned lineno, const char *key,
			  const char *value, GPtrArray *problems)
{
	struct section *s = tp->sections->len ? g_ptr_array_index(tp->sections, tp->sections->len - 1)
					      : NULL;
	const char *canon;

	if (g_ascii_strcasecmp(key, SECTION_KEY) == 0) {
		start_section(tp, lineno, value, problems);
		return true;
	}
	if (g_ascii_strcasecmp(key, WEB_GROUP_KEY) == 0) {
		if (s == NULL)
			g_ptr_array_add(problems, g_strdup_printf("%s:%u: %s belongs in a Tenant "
					"section", tp->path, lineno, WEB_GROUP_KEY));
		else {
			g_free(s->web_group);
			s->web_group = *value ? g_strdup(value) : NULL;
		}
		return true;
	}
	if (s == NULL) {
		add_line(tp->global, lineno, key, value);
		return false;
	}
	canon = tenant_key(key);
	if (canon != NULL)
		add_line(s->lines, lineno, canon, value);
	else if (tz_config_key_find(key) != NULL)
		g_ptr_array_add(problems, g_strdup_printf("%s:%u: %s is global: it cannot be set "
				"in Tenant %s (put it before the first Tenant line)", tp->path, lineno,
				key, s->name));
	else
		g_ptr_array_add(problems, g_strdup_printf("%s:%u: unknown key \"%s\"", tp->path,
				lineno, key));
	return true;
}

/* One tenant's config: defaults, the global lines (their errors were
 * reported when the global config read them), then the section's. */
static struct tz_tenant *build(struct tz_tenant_parse *tp, struct section *s, GPtrArray *problems)
{
	struct tz_tenant *t = g_new0(struct tz_tenant, 1);
	char why[TZ_ERRLEN];

	t->name = g_strdup(s->name);
	t->line = s->line;
	t->web_group = g_strdup(s->web_group);
	t->cfg = tz_config_new_defaults();
	t->cfg->path = g_strdup(tp->path);
	t->cfg->tenant_name = g_strdup(s->name);
	t->cfg->key_lines = g_hash_table_new(g_str_hash, g_str_equal);
	for (guint i = 0; i < tp->global->len; i++) {
		struct cfg_line *l = &g_array_index(tp->global, struct cfg_line, i);
		(void)tz_config_set(t->cfg, l->key, l->value, why, sizeof(why));
	}
	for (guint i = 0; i < s->lines->len; i++) {
		struct cfg_line *l = &g_array_index(s->lines, struct cfg_line, i);
		if (tz_config_set(t->cfg, l->key, l->value, why, sizeof(why)) < 0)
			g_ptr_array_add(problems, g_strdup_printf("%s:%u: %s", tp->path, l->lineno, why));
		else   /* key_lines of a tenant: what its section set */
			g_hash_table_insert(t->cfg->key_lines, (gpointer)tz_config_key_find(l->key)->name,
					    GUINT_TO_POINTER(l->lineno));
	}
	if (tz_config_key_line(t->cfg, "LocalDomains") == 0 || t->cfg->local_domains->len == 0)
		g_ptr_array_add(problems, g_strdup_printf("%s:%u: Tenant %s needs LocalDomains (the "
				"recipient domains that are its mail)", tp->path, s->line, s->name));
	return t;
}

/* a and b overlap when one matches the other (".mie.jp" covers
 * "kameyama.mie.jp"). */
static bool domains_overlap(const struct tz_config *a, const char *da,
			    const struct tz_config *b, const char *db)
{
	return tz_config_is_local_domain(b, da[0] == '.' ? da + 1 : da) ||
	       tz_config_is_local_domain(a, db[0] == '.' ? db + 1 : db);
}

static void check_overlaps(struct tz_config *cfg, GPtrArray *problems)
{
	for (guint i = 0; i < cfg->tenants->len; i++) {
		const struct tz_tenant *a = cfg->tenants->pdata[i];
		for (guint j = i + 1; j < cfg->tenants->len; j++) {
			const struct tz_tenant *b = cfg->tenants->pdata[j];
			for (guint k = 0; k < a->cfg->local_domains->len; k++) {
				const char *da = a->cfg->local_domains->pdata[k];
				for (guint m = 0; m < b->cfg->local_domains->len; m++) {
					const char *db = b->cfg->local_domains->pdata[m];
					if (domains_overlap(a->cfg, da, b->cfg, db))
						g_ptr_array_add(problems, g_strdup_printf(
							"%s:%u: domain %s of Tenant %s is also in "
							"Tenant %s (line %u): a domain belongs to one "
							"tenant", cfg->path, tz_config_key_line(b->cfg,
							"LocalDomains"), db, b->name, a->name,
							tz_config_key_line(a->cfg, "LocalDomains")));
				}
			}
		}
	}
}

/* The global config answers "is this ours / internal" for every tenant. */
static void widen_global(struct tz_config *cfg, const struct tz_tenant *t, GPtrArray *problems)
{
	char why[TZ_ERRLEN];

	for (guint i = 0; i < t->cfg->local_domains->len; i++) {
		const char *d = t->cfg->local_domains->pdata[i];
		bool have = false;
		for (guint j = 0; j < cfg->local_domains->len && !have; j++)
			have = strcmp(cfg->local_domains->pdata[j], d) == 0;
		if (!have)
			g_ptr_array_add(cfg->local_domains, g_strdup(d));
	}
	if (tz_config_key_line(t->cfg, "InternalNetworks") == 0)
		return;
	for (guint i = 0; i < t->cfg->internal_networks->len; i++) {
		const char *n = t->cfg->internal_networks->pdata[i];
		if (tz_netlist_add(cfg->internal_nets, n, why, sizeof(why)) < 0)
			g_ptr_array_add(problems, g_strdup_printf("%s: Tenant %s: %s", cfg->path,
					t->name, why));
		else
			g_ptr_array_add(cfg->internal_networks, g_strdup(n));
	}
}

void tz_tenant_parse_finish(struct tz_tenant_parse *tp, struct tz_config *cfg,
			    GPtrArray *problems)
{
	if (tp->sections->len > 0) {
		cfg->tenants = g_ptr_array_new_with_free_func((GDestroyNotify)tz_tenant_free);
		for (guint i = 0; i < tp->sections->len; i++)
			g_ptr_array_add(cfg->tenants, build(tp, tp->sections->pdata[i], problems));
		check_overlaps(cfg, problems);
		for (guint i = 0; i < cfg->tenants->len; i++)
			widen_global(cfg, cfg->tenants->pdata[i], problems);
	}
	g_array_unref(tp->global);
	g_ptr_array_unref(tp->sections);
	g_free(tp->path);
	g_free(tp);
}

void tz_tenant_free(struct tz_tenant *t)
{
	if (t == NULL)
		return;
	tz_config_unref(t->cfg);
	g_free(t->name);
	g_free(t->web_group);
	g_free(t);
}

/* ------------------------------------------------------- hooks */

const char *tz_tenant_contact(const char *tenant, const void *cfg)
{
	const struct tz_tenant *t = tz_config_tenant_find(cfg, tenant);

	return t ? t->cfg->notice_contact : NULL;
}

int tz_tenant_sanitized_auto(const char *tenant, const void *cfg)
{
	const struct tz_tenant *t = tenant ? tz_config_tenant_find(cfg, tenant) : NULL;
	const struct tz_config *c = t ? t->cfg : cfg;

	return c->sanitized_delivery == TZ_SANITIZED_AUTO;
}

bool tz_config_any_sanitized_auto(const struct tz_config *cfg)
{
	bool any = cfg->sanitized_delivery == TZ_SANITIZED_AUTO;

	for (unsigned i = 0; i < tz_config_tenant_count(cfg); i++)
		any |= tz_config_tenant_at(cfg, i)->cfg->sanitized_delivery == TZ_SANITIZED_AUTO;
	return any;
}

/* ------------------------------------------------------- lookups */

unsigned tz_config_tenant_count(const struct tz_config *cfg)
{
	return cfg && cfg->tenants ? cfg->tenants->len : 0;
}

const struct tz_tenant *tz_config_tenant_at(const struct tz_config *cfg, unsigned i)
{
	return i < tz_config_tenant_count(cfg) ? cfg->tenants->pdata[i] : NULL;
}

const struct tz_tenant *tz_config_tenant_find(const struct tz_config *cfg, const char *name)
{
	for (unsigned i = 0; name && i < tz_config_tenant_count(cfg); i++) {
		const struct tz_tenant *t = cfg->tenants->pdata[i];
		if (strcmp(t->name, name) == 0)
			return t;
	}
	return NULL;
}

const struct tz_tenant *tz_config_tenant_for_rcpt(const struct tz_config *cfg, const char *addr)
{
	for (unsigned i = 0; i < tz_config_tenant_count(cfg); i++) {
		const struct tz_tenant *t = cfg->tenants->pdata[i];
		if (tz_config_is_local_domain(t->cfg, addr))
			return t;
	}
	return NULL;
}

const struct tz_tenant *tz_config_tenant_for_client(const struct tz_config *cfg,
						    const char *addr)
{
	for (unsigned i = 0; addr && i < tz_config_tenant_count(cfg); i++) {
		const struct tz_tenant *t = cfg->tenants->pdata[i];
		if (tz_config_key_line(t->cfg, "InternalNetworks") > 0 &&
		    tz_config_is_internal(t->cfg, addr))
			return t;
	}
	return NULL;
}
