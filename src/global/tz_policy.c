/* tz_policy.c — policy options from the config, and the policy setters. */
#include "tz_policy.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "tz_util.h"

#define FIELD(cfg, key, type) ((type *)(void *)((char *)(cfg) + (key)->offset))

int tz_policy_set_rate(struct tz_config *cfg, const struct tz_config_key *key,
		       const char *value, char *err, size_t errlen)
{
	struct tz_rate r;

	if (tz_rate_parse(value, &r) < 0)
		return tz_err(err, errlen, "%s: expected COUNT/WINDOW such as 100/10m, or 0: \"%s\"",
			      key->name, value);
	*FIELD(cfg, key, struct tz_rate) = r;
	return 0;
}

int tz_policy_set_text(struct tz_config *cfg, const struct tz_config_key *key,
		       const char *value, char *err, size_t errlen)
{
	char **f = FIELD(cfg, key, char *);

	if (!tz_reply_text_valid(value))
		return tz_err(err, errlen, "%s: reply text must be printable ASCII without '%%'",
			      key->name);
	g_free(*f);
	*f = g_strdup(value);
	return 0;
}

int tz_policy_set_allow(struct tz_config *cfg, const struct tz_config_key *key,
			const char *value, char *err, size_t errlen)
{
	GPtrArray **f = FIELD(cfg, key, GPtrArray *);
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
	char **items = g_strsplit_set(value, ", \t", -1);
	int ret = 0;

	for (char **p = items; *p && ret == 0; p++) {
		if (**p == '\0')
			continue;
		if (!tz_autofwd_allow_valid(*p))
			ret = tz_err(err, errlen, "%s: expected internal@domain>external@domain "
				     "(either side may be @domain): \"%s\"", key->name, *p);
		else
			g_ptr_array_add(a, g_ascii_strdown(*p, -1));
	}
	g_strfreev(items);
	if (ret < 0) {
		g_ptr_array_unref(a);
		return -1;
	}
	if (*f)
		g_ptr_array_unref(*f);
	*f = a;
	return 0;
}

static void rules_from_config(struct tz_policy *p, const struct tz_config *cfg)
{
	const GPtrArray *internal = cfg->internal_domains && cfg->internal_domains->len
		? cfg->internal_domains : cfg->local_domains;

	tz_relay_options_init(&p->relay);
	p->relay.local_domains = cfg->local_domains;
	p->relay.act = (struct tz_rule_action){ cfg->relay_action, cfg->relay_text };
	tz_size_options_init(&p->size);
	p->size.max_inbound = cfg->max_size_inbound;
	p->size.max_outbound = cfg->max_size_outbound;
	p->size.act = (struct tz_rule_action){ cfg->size_action, cfg->size_text };
	tz_autofwd_options_init(&p->autofwd);
	p->autofwd.internal_domains = internal;
	p->autofwd.allow = cfg->autofwd_allow;
	p->autofwd.act = (struct tz_rule_action){ cfg->autofwd_action, cfg->autofwd_text };
	tz_visibility_options_init(&p->visibility);
	p->visibility.internal_domains = internal;
	p->visibility.max_visible = cfg->max_visible_rcpts;
	p->visibility.act = (struct tz_rule_action){ cfg->visibility_action,
						     cfg->visibility_text };
	tz_spoof_options_init(&p->spoof);
	p->spoof.internal_domains = internal;
	p->spoof.act = (struct tz_rule_action){ cfg->spoof_action, cfg->spoof_text };
}

void tz_policy_from_config(struct tz_policy *p, const struct tz_config *cfg)
{
	memset(p, 0, sizeof(*p));
	if (cfg->authserv_id)
		g_strlcpy(p->authserv_id, cfg->authserv_id, sizeof(p->authserv_id));
	else if (gethostname(p->authserv_id, sizeof(p->authserv_id) - 1) < 0 || !*p->authserv_id)
		g_strlcpy(p->authserv_id, "localhost", sizeof(p->authserv_id));
	rules_from_config(p, cfg);
	p->spoof.authserv_id = p->authserv_id;
	tz_spf_policy_init(&p->spf, p->authserv_id);
	p->spf.fail = (struct tz_rule_action){ cfg->spf_fail_action, cfg->spf_fail_text };
	p->spf.softfail.action = cfg->spf_softfail_action;
	p->spf.none.action = cfg->spf_none_action;
	p->spf.temperror = (struct tz_rule_action){ cfg->spf_temperror_action,
						    cfg->spf_temperror_text };
	p->spf.permerror.action = cfg->spf_permerror_action;
	p->spf_check = cfg->spf_check;
	p->spf_timeout_ms = cfg->spf_timeout_ms;
	p->breaker.msgs = cfg->outbound_rate;
	p->breaker.rcpts = cfg->rcpt_rate;
	p->breaker.trip = cfg->breaker_trip;
	p->breaker.global = cfg->global_rate;
	p->breaker.text = cfg->breaker_text;
	if (cfg->state_dir) {
		snprintf(p->state_path, sizeof(p->state_path), "%s/%s", cfg->state_dir,
			 TZ_BREAKER_STATE_FILE);
		p->breaker.state_path = p->state_path;
	}
}
