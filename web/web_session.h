/* web_session.h — login sessions of the security team, their CSRF tokens,
 * and the login rate limit. Sessions live in memory only (a restart logs
 * everybody out): a random 256-bit token in an HttpOnly, SameSite=Strict
 * cookie (Secure under https) names one; every form carries the session's
 * own random CSRF token, compared in constant time. Thread-safe. */
#ifndef TZ_WEB_SESSION_H
#define TZ_WEB_SESSION_H

#include <stdint.h>

#define WEB_COOKIE "textize_session"
#define WEB_TOKEN_HEX 65

/* Roles from the user's groups. */
enum {
	WEB_ROLE_AUDITOR = 1 << 0,   /* read only */
	WEB_ROLE_TEAM = 1 << 1,      /* + release, reject, ask for forced release */
	WEB_ROLE_APPROVER = 1 << 2,  /* + approve a forced release */
};

struct web_session {
	char token[WEB_TOKEN_HEX];
	char csrf[WEB_TOKEN_HEX];
	char *user;
	unsigned roles;
	int64_t expires;
};

struct web_sessions;

struct web_sessions *web_sessions_new(void);
void web_sessions_free(struct web_sessions *s);   /* NULL is a no-op */

/* A new session for user; the returned copy is the caller's (free with
 * web_session_free). */
struct web_session *web_session_create(struct web_sessions *s, const char *user, unsigned roles,
				       int64_t lifetime, int64_t now);
/* A copy of the live session named by token, NULL when unknown or expired. */
struct web_session *web_session_find(struct web_sessions *s, const char *token, int64_t now);
void web_session_end(struct web_sessions *s, const char *token);
void web_session_free(struct web_session *x);   /* NULL is a no-op */

/* 1 when given equals the session's CSRF token (constant time). */
int web_csrf_ok(const struct web_session *x, const char *given);

/* Login rate limit: at most WEB_LOGIN_FAILURES failed logins per client
 * address and per user name within WEB_LOGIN_WINDOW seconds; then every
 * try is refused until the window has passed. */
#define WEB_LOGIN_FAILURES 5
#define WEB_LOGIN_WINDOW 900
int web_login_allowed(struct web_sessions *s, const char *client, const char *user, int64_t now);
void web_login_failed(struct web_sessions *s, const char *client, const char *user, int64_t now);
void web_login_succeeded(struct web_sessions *s, const char *client, const char *user);

/* 32 random bytes as hex (OpenSSL RAND_bytes); 0 or -1. */
int web_random_token(char out[WEB_TOKEN_HEX]);

#endif
