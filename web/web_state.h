/* web_state.h — textize-web's own SQLite file (WebDatabase): the release
 * requests staff make from a signed link, one per link (the link's MAC is
 * the key, so a link cannot act twice), and what the team decided. The
 * queue itself stays in the quarantine store; this holds only what the
 * store has no place for. Not thread-safe: the caller serialises. */
#ifndef TZ_WEB_STATE_H
#define TZ_WEB_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <glib.h>

struct web_state;

struct web_state *web_state_open(const char *path, char *err, size_t errlen);
void web_state_free(struct web_state *s);   /* NULL is a no-op */

struct web_request {
	int64_t rowid;
	char *mac;                 /* the link that asked */
	char *id;
	unsigned part;             /* 0 = every part */
	char *rcpt;
	char *reason;
	int64_t created;
	char *status;              /* "open", "released", "declined", "forced" */
	char *decided_by;          /* NULL while open */
	char *note;                /* what the team said, NULL when nothing */
};
void web_request_free(struct web_request *q);   /* NULL is a no-op */

/* Record a request. 0 added, 1 this link already asked (nothing
 * changed), -1 with err. */
int web_state_add_request(struct web_state *s, const char *mac, const char *id, unsigned part,
			  const char *rcpt, const char *reason, int64_t now,
			  char *err, size_t errlen);
/* Drop the request of link mac again (its audit record could not be
 * written: no request stands without one). */
void web_state_forget_request(struct web_state *s, const char *mac);
/* The request made with link mac, NULL when none (or on error). */
struct web_request *web_state_request_by_mac(struct web_state *s, const char *mac);
struct web_request *web_state_request_by_row(struct web_state *s, int64_t rowid);
/* Requests, newest first: open ones only, or all (open_only 0) up to limit;
 * for one entry when id is not NULL. Array of struct web_request*. */
GPtrArray *web_state_requests(struct web_state *s, int open_only, const char *id, unsigned limit);
/* Close an open request. 0, 1 when it was not open, -1 with err. */
int web_state_decide(struct web_state *s, int64_t rowid, const char *status, const char *by,
		     const char *note, char *err, size_t errlen);

/* Password tries on an encrypted archive, per link and part (PPAP).
 * take: count one more try unless max were made; 0 counted (*tries the
 * count now), 1 locked (max reached, nothing counted), -1 with err.
 * result: what the last try gave ("wrong", "opened", "error").
 * get: the tries made so far and the last result (g_free, NULL when
 * none). */
int web_state_ppap_take(struct web_state *s, const char *mac, unsigned part, unsigned max,
			unsigned *tries, char *err, size_t errlen);
void web_state_ppap_result(struct web_state *s, const char *mac, unsigned part, const char *result);
unsigned web_state_ppap_get(struct web_state *s, const char *mac, unsigned part, char **result);

#endif
