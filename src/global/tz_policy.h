/* tz_policy.h — the policy rules' options taken from textize.conf (the
 * "policy" group of tz_config_keys[]), and the setters for the value types
 * only the policy keys use (rates, reply texts, the auto-forward
 * allow-list). The rules themselves never read the config: they take the
 * option structs filled here, so they stay testable on their own. */
#ifndef TZ_POLICY_H
#define TZ_POLICY_H

#include "tz_autofwd.h"
#include "tz_breaker.h"
#include "tz_config.h"
#include "tz_relay.h"
#include "tz_size.h"
#include "tz_spf.h"
#include "tz_spoof.h"
#include "tz_visibility.h"

/* The actions each action key allows (masks over tz_action_names). */
#define TZ_POLICY_ACTIONS TZ_ACTIONS_COMMON
#define TZ_POLICY_VIS_ACTIONS TZ_VISIBILITY_ACTIONS
#define TZ_POLICY_RELAY_ACTIONS (TZ_ACTMASK(TZ_ACTION_REJECT) | TZ_ACTMASK(TZ_ACTION_TEMPFAIL))

/* Every rule's options for one config snapshot. Pointers go into cfg (and
 * into authserv_id below): valid while the caller holds cfg. */
struct tz_policy {
	struct tz_relay_options relay;
	struct tz_size_options size;
	struct tz_autofwd_options autofwd;
	struct tz_visibility_options visibility;
	struct tz_spoof_options spoof;
	struct tz_spf_policy spf;
	bool spf_check;               /* SPFCheck */
	unsigned spf_timeout_ms;      /* SPFTimeout */
	struct tz_breaker_options breaker;
	char authserv_id[256];        /* AuthservID, else the host name */
	char state_path[4096];        /* StateDir/breaker.state */
};

/* Fill p from cfg. InternalDomains defaults to LocalDomains. */
void tz_policy_from_config(struct tz_policy *p, const struct tz_config *cfg);

/* Setters for tz_config_keys[] rows (see tz_config.h for the contract). */
int tz_policy_set_rate(struct tz_config *, const struct tz_config_key *, const char *, char *, size_t);   /* struct tz_rate */
int tz_policy_set_text(struct tz_config *, const struct tz_config_key *, const char *, char *, size_t);   /* char*, ASCII reply text */
int tz_policy_set_allow(struct tz_config *, const struct tz_config_key *, const char *, char *, size_t);  /* GPtrArray of "a>b" */

#endif
