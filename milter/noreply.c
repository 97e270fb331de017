/* noreply.c — holding a refusal decided at a no-reply step until the next
 * step that replies (noreply.h). */
#include "noreply.h"

#include <syslog.h>
#include <glib.h>
#include "tz_log.h"

static bool is_noreply(const struct tzm_noreply *g, enum tzm_step step)
{
	return (g->steps & TZM_STEP_BIT(step)) != 0;
}

void tzm_noreply_note(struct tzm_noreply *g, const char *code, const char *ecode,
		      const char *text)
{
	g_strlcpy(g->code, code ? code : "", sizeof(g->code));
	g_strlcpy(g->ecode, ecode ? ecode : "", sizeof(g->ecode));
	g_strlcpy(g->text, text ? text : "", sizeof(g->text));
}

bool tzm_noreply_before(struct tzm_noreply *g, enum tzm_step step, const struct tzm_ops *ops,
			void *ctx, enum tzm_status *st)
{
	if (is_noreply(g, step)) {
		if (g->held != TZM_CONTINUE) {
			*st = TZM_NOREPLY;
			return true;
		}
		/* a reply noted at an earlier step must not be held with
		 * a refusal that set none */
		g->code[0] = '\0';
		return false;
	}
	if (g->held == TZM_CONTINUE)
		return false;
	*st = g->held;
	/* The reply went with a step that did not answer; set it again for
	 * this one. If the MTA does not take it, its default reply of the
	 * same class refuses the message all the same (reply.h). */
	if (g->code[0] && ops->setreply(ctx, g->code, g->ecode, g->text) < 0)
		tz_log(LOG_ERR, NULL, "could not set the held reply %s %s", g->code, g->ecode);
	tzm_noreply_clear(g);
	return true;
}

enum tzm_status tzm_noreply_after(struct tzm_noreply *g, enum tzm_step step, enum tzm_status st)
{
	if (!is_noreply(g, step))
		return st;
	/* Only a refusal is held: an accept given at the end of the message
	 * would pass it unconverted, so the message goes on to be converted. */
	if (st != TZM_CONTINUE && st != TZM_NOREPLY && st != TZM_ACCEPT && g->held == TZM_CONTINUE)
		g->held = st;
	return TZM_NOREPLY;
}

void tzm_noreply_clear(struct tzm_noreply *g)
{
	g->held = TZM_CONTINUE;
	g->code[0] = g->ecode[0] = g->text[0] = '\0';
}
