/* web_auth.c — PAM login and roles from groups. */
#include "web_auth.h"

#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <security/pam_appl.h>
#include <glib.h>
#include <openssl/crypto.h>

#include "tz_config.h"
#include "tz_util.h"
#include "web_session.h"

#define MAX_GROUPS 1024

int web_auth_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 64 || name[0] == '-')
		return 0;
	for (const char *p = name; *p; p++)
		if (!g_ascii_isalnum(*p) && !strchr("._@-", *p))
			return 0;
	return 1;
}

/* PAM asks; we answer the password to every hidden prompt, nothing else. */
static int converse(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *r;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	r = calloc((size_t)n, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF) {
			r[i].resp = strdup((const char *)data);
			if (r[i].resp == NULL)
				goto fail;
		} else if (msg[i]->msg_style == PAM_PROMPT_ECHO_ON) {
			goto fail;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
fail:
	for (int i = 0; i < n; i++)
		if (r[i].resp) {
			OPENSSL_cleanse(r[i].resp, strlen(r[i].resp));
			free(r[i].resp);
		}
	free(r);
	return PAM_CONV_ERR;
}

/* libmicrohttpd's pool calls these from several threads: the _r forms. */
static int in_group(const char *group, const gid_t *gids, int n)
{
	struct group g, *found = NULL;
	char buf[16384];

	if (group == NULL || getgrnam_r(group, &g, buf, sizeof(buf), &found) != 0 || found == NULL)
		return 0;
	for (int i = 0; i < n; i++)
		if (gids[i] == g.gr_gid)
			return 1;
	return 0;
}

void web_auth_canonical(const char *typed, char *out, size_t outlen)
{
	struct passwd pw, *found = NULL;
	char buf[16384];

	if (getpwnam_r(typed, &pw, buf, sizeof(buf), &found) == 0 && found &&
	    web_auth_name_ok(pw.pw_name))
		g_strlcpy(out, pw.pw_name, outlen);
	else
		g_strlcpy(out, typed, outlen);
}

unsigned web_auth_roles(const struct tz_config *cfg, const char *user)
{
	struct passwd pw, *found = NULL;
	char buf[16384];
	gid_t gids[MAX_GROUPS];
	int n = MAX_GROUPS;
	unsigned roles = 0;

	if (getpwnam_r(user, &pw, buf, sizeof(buf), &found) != 0 || found == NULL ||
	    getgrouplist(user, pw.pw_gid, gids, &n) < 0)
		return 0;
	if (in_group(cfg->web_auditor_group, gids, n))
		roles |= WEB_ROLE_AUDITOR;
	if (in_group(cfg->web_team_group, gids, n))
		roles |= WEB_ROLE_AUDITOR | WEB_ROLE_TEAM;
	if (in_group(cfg->web_approver_group, gids, n))
		roles |= WEB_ROLE_AUDITOR | WEB_ROLE_TEAM | WEB_ROLE_APPROVER;
	return roles;
}

int web_auth_login(const struct tz_config *cfg, const char *user, const char *password,
		   unsigned *roles, char *err, size_t errlen)
{
	struct pam_conv conv = { converse, (void *)password };
	pam_handle_t *ph = NULL;
	int rc;

	*roles = 0;
	if (!web_auth_name_ok(user) || password == NULL || *password == '\0' || strlen(password) > 512)
		return tz_err(err, errlen, "bad user name or password");
	rc = pam_start(cfg->web_pam_service, user, &conv, &ph);
	if (rc == PAM_SUCCESS)
		rc = pam_authenticate(ph, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	if (rc == PAM_SUCCESS)
		rc = pam_acct_mgmt(ph, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	if (rc != PAM_SUCCESS) {
		tz_err(err, errlen, "PAM: %s", ph ? pam_strerror(ph, rc) : "cannot start");
		pam_end(ph, rc);
		return -1;
	}
	pam_end(ph, rc);
	*roles = web_auth_roles(cfg, user);
	if (*roles == 0)
		return tz_err(err, errlen, "%s is in none of the console's groups", user);
	return 0;
}

int web_auth_in_group(const char *user, const char *group)
{
	struct passwd pw, *found = NULL;
	char buf[16384];
	gid_t gids[MAX_GROUPS];
	int n = MAX_GROUPS;

	if (getpwnam_r(user, &pw, buf, sizeof(buf), &found) != 0 || found == NULL ||
	    getgrouplist(user, pw.pw_gid, gids, &n) < 0)
		return 0;
	return in_group(group, gids, n);
}
