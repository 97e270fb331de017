/* web_team.h — helpers shared by the team pages (web_team*.c). */
#ifndef TZ_WEB_TEAM_H
#define TZ_WEB_TEAM_H

#include <glib.h>

struct web_req;

/* Page frame with the team's navigation bar. */
void web_team_begin(struct web_req *r, const char *title);
/* A <td> for a part state, in Japanese, classed by state. */
void web_state_cell(GString *out, const char *state);
/* The fixed text of a result code passed in ?msg= after an action (never
 * text from the URL itself); NULL for an unknown code. */
const char *web_team_message(const char *code);

struct tz_meta;
/* The text-ized body of m as staff received it (web_team_body.c). */
void web_team_body(struct web_req *r, const struct tz_meta *m);
/* Staff requests as a table with the team's decision forms. */
void web_team_request_rows(struct web_req *r, GPtrArray *reqs, int show_entry);

/* web_team_senders.c: block/allow the entry's sender (SenderListFile):
 * the forms on the entry page, and the action (POST /team/action
 * action=sender) with the reason already checked. */
struct tz_meta;
void web_team_sender_forms(struct web_req *r, const struct tz_meta *m);
void web_team_sender_action(struct web_req *r, const char *reason);

/* web_team_senderlist.c: the list as a page (GET /team/senders) and the
 * removal of one entry (POST /team/action action=unlist, reason checked).
 * Every writer of SenderListFile in this process holds the lock. */
#include <pthread.h>
extern pthread_mutex_t web_senderlist_lock;
/* where the sender list lives, for the pages: SenderListFile or the database */
const char *web_senders_where(const struct tz_config *cfg);
void web_team_sender_remove(struct web_req *r, const char *reason);

#endif
