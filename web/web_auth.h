/* web_auth.h — the security team's login: the password is checked by PAM
 * (WebPAMService; SSSD brings a municipality's directory), the roles come
 * from the user's Unix groups (WebTeamGroup, WebApproverGroup,
 * WebAuditorGroup). A user in none of them cannot log in. */
#ifndef TZ_WEB_AUTH_H
#define TZ_WEB_AUTH_H

#include <stddef.h>

struct tz_config;

/* 0 with *roles (WEB_ROLE_* bits, never 0) when user/password pass PAM
 * (authenticate + account) and the user holds a role; -1 with err. */
int web_auth_login(const struct tz_config *cfg, const char *user, const char *password,
		   unsigned *roles, char *err, size_t errlen);

/* The roles of user from group membership alone (no password). */
unsigned web_auth_roles(const struct tz_config *cfg, const char *user);

/* 1 when user (its primary group or a supplementary one) is in group. */
int web_auth_in_group(const char *user, const char *group);

/* The account's own name for what was typed (getpwnam_r: "SATO" or
 * "sato@example.lg.jp" through SSSD is "sato"), into out; the typed name
 * when no account has it. Sessions, roles, the login limit and the audit
 * operator all use this name, so one person is one operator (a forced
 * release cannot be requested and approved under two spellings). */
void web_auth_canonical(const char *typed, char *out, size_t outlen);

/* 1 when name is acceptable as a login name (1..64 of [A-Za-z0-9._@-]). */
int web_auth_name_ok(const char *name);

#endif
