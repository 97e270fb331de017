/* noreply.h — the milter protocol's no-reply steps (SMFIP_NR_*), without
 * libmilter. At a step negotiated "no reply" the MTA does not wait for the
 * milter and libmilter must be told SMFIS_NOREPLY whatever the step
 * decided (any other answer is turned into no reply by libmilter, and a
 * refusal would also reset its state machine). So a refusal decided at
 * such a step is held, with the reply the core set for it, and answers
 * the next step that replies: a refusal at CONNECT or HELO answers MAIL,
 * one at a header, end of header or body chunk answers end of message,
 * which is where the SMTP client hears it in any case (Postfix answers
 * DATA only after the final dot). Once a refusal is held, the core is not
 * called for the message's remaining no-reply steps (nothing more to
 * spool). One gate per SMTP connection (struct tzm_conn). */
#ifndef TZM_NOREPLY_H
#define TZM_NOREPLY_H

#include <stdbool.h>
#include "ops.h"
#include "reply.h"

/* The SMTP steps the milter takes part in. */
enum tzm_step {
	TZM_STEP_CONNECT = 0,
	TZM_STEP_HELO,
	TZM_STEP_MAIL,
	TZM_STEP_RCPT,
	TZM_STEP_HEADER,
	TZM_STEP_EOH,
	TZM_STEP_BODY,
	TZM_STEP_EOM,
};
#define TZM_STEP_BIT(s) (1u << (s))

/* The steps at which textize never has to answer at once: no rule decides
 * at CONNECT or HELO, and what is decided at a header, the end of the
 * header or a body chunk reaches the client after the final dot anyway.
 * MAIL (SIZE=, SPF), RCPT (relay, per recipient) and EOM reply. */
#define TZM_NOREPLY_STEPS (TZM_STEP_BIT(TZM_STEP_CONNECT) | TZM_STEP_BIT(TZM_STEP_HELO) | \
	TZM_STEP_BIT(TZM_STEP_HEADER) | TZM_STEP_BIT(TZM_STEP_EOH) | TZM_STEP_BIT(TZM_STEP_BODY))

struct tzm_noreply {
	unsigned steps;          /* TZM_STEP_BIT of the steps negotiated without reply */
	enum tzm_status held;    /* TZM_CONTINUE: nothing held */
	/* the last reply the core set (tzm_noreply_note), held with a refusal */
	char code[4], ecode[16], text[512];
};

/* Every reply the core sets (the setreply op) is noted here. */
void tzm_noreply_note(struct tzm_noreply *g, const char *code, const char *ecode,
		      const char *text);

/* Before the core's handler for `step`. False: run the handler and pass
 * its status to tzm_noreply_after. True: do not run it; *st is the answer
 * (the held refusal, its reply set again through ops, at a step that
 * replies; TZM_NOREPLY at a no-reply step while one is held). */
bool tzm_noreply_before(struct tzm_noreply *g, enum tzm_step step, const struct tzm_ops *ops,
			void *ctx, enum tzm_status *st);

/* After the handler: at a no-reply step a refusal (anything but
 * TZM_CONTINUE) is held and TZM_NOREPLY returned; at other steps st. */
enum tzm_status tzm_noreply_after(struct tzm_noreply *g, enum tzm_step step, enum tzm_status st);

/* Forget a held refusal (abort, end of message). */
void tzm_noreply_clear(struct tzm_noreply *g);

#endif
