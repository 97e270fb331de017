/* tz_verdict.h — what a policy rule decided about one message: the action,
 * the SMTP reply (code, enhanced code, text) and the header edits to make.
 * "The core decides, the glue acts": rules in src/ fill a verdict, the
 * milter glue (milter/policy_glue.c) applies it. One verdict collects every
 * rule that fired for a message; the strongest action wins and every hit is
 * named in the summary string for the message's log line. */
#ifndef TZ_VERDICT_H
#define TZ_VERDICT_H

#include <stdbool.h>
#include <glib.h>
#include "tz_namecode.h"

/* Ordered weakest to strongest: merging keeps the larger one. */
enum tz_action {
	TZ_ACTION_ACCEPT = 0,  /* no rule fired */
	TZ_ACTION_LOG,         /* decide, log, let through (rolling a rule out) */
	TZ_ACTION_TAG,         /* add X-Textize-Policy, let through */
	TZ_ACTION_REWRITE,     /* apply the rule's header rewrite (visibility only) */
	TZ_ACTION_HOLD,        /* smfi_quarantine: Postfix hold queue */
	TZ_ACTION_TEMPFAIL,    /* 4xx */
	TZ_ACTION_REJECT,      /* 5xx */
};

/* Bits for tz_action_parse's `allowed`: which actions a key accepts. */
#define TZ_ACTMASK(a) (1u << (a))
#define TZ_ACTIONS_COMMON (TZ_ACTMASK(TZ_ACTION_LOG) | TZ_ACTMASK(TZ_ACTION_TAG) | \
	TZ_ACTMASK(TZ_ACTION_HOLD) | TZ_ACTMASK(TZ_ACTION_TEMPFAIL) | TZ_ACTMASK(TZ_ACTION_REJECT))

enum tz_edit_op {
	TZ_EDIT_INSERT = 0, /* insert at the top of the header (smfi_insheader 0) */
	TZ_EDIT_APPEND,     /* add at the end (smfi_addheader) */
	TZ_EDIT_CHANGE,     /* replace the index-th field of that name */
	TZ_EDIT_DELETE,     /* delete the index-th field of that name */
};

/* One header edit. index is the 1-based occurrence among the original
 * fields with that name (CHANGE/DELETE); deletions of one name are listed
 * from the highest index down so either index semantics of the MTA works.
 * They are made together with the conversion's, in the order tz_hdrplan.h
 * gives (every CHANGE/DELETE before any INSERT/APPEND), so that fields we
 * add never shift the indexes of the original ones. */
struct tz_verdict_edit {
	enum tz_edit_op op;
	char *name;            /* owned */
	unsigned index;
	char *value;           /* owned, printable ASCII, NULL for DELETE */
};

/* The policy rules. A hit names its rule by this; the stats count hits
 * per rule, the summary line and X-Textize-Policy print tz_rule_name. */
enum tz_rule {
	TZ_RULE_RELAY = 0,
	TZ_RULE_SIZE,
	TZ_RULE_AUTOFWD,
	TZ_RULE_VISIBILITY,
	TZ_RULE_SPF,
	TZ_RULE_SPOOF,
	TZ_RULE_BREAKER,
	TZ_RULE_HEADERS,       /* the header collection itself (too many fields) */
	TZ_RULE_SENDERLIST,    /* SenderListFile: a blocked sender */
	TZ_RULE_OTHER,         /* what the stats count a value out of range as */
	TZ_NRULES
};

/* One rule that fired and the action configured for it. The summary
 * line, the stats and the X-Textize-Policy header all read these; none
 * parses a decision back out of text. */
struct tz_hit {
	enum tz_rule rule;
	enum tz_action action;
};

struct tz_verdict {
	enum tz_action action; /* strongest action of every hit */
	char code[4];          /* "550"; "" when action is not reject/tempfail */
	char ecode[16];        /* "5.7.1" */
	char *text;            /* reply text (ASCII, from the config), owned */
	char *reason;          /* log detail of the deciding hit, owned */
	GArray *hits;          /* struct tz_hit, in the order the rules fired */
	GString *summary;      /* tz_verdict_summary's text, rebuilt from hits; NULL until asked */
	GPtrArray *edits;      /* struct tz_verdict_edit*, owned, in apply order */
};

/* How one rule acts when it fires: the configured action and reply text
 * (NULL = the rule's built-in text). Pointers are the config's. */
struct tz_rule_action {
	enum tz_action action;
	const char *text;
};

/* A new empty verdict (ACCEPT, no hits, no edits). Never NULL (g_new). */
struct tz_verdict *tz_verdict_new(void);
void tz_verdict_free(struct tz_verdict *v);      /* NULL is a no-op */
/* Back to a new verdict's state, keeping the arrays (a verdict reused per
 * recipient allocates nothing once warm). */
void tz_verdict_reset(struct tz_verdict *v);

/* Record that `rule` fired with the configured action. code/ecode/text are
 * the rule's reply for reject; for tempfail a 5xx code is turned into 451
 * and 4.x.x (and a 4xx into 550/5.x.x for reject) so one reply text serves
 * both. text must be ASCII (config-checked) and is never attacker data.
 * The reason (printf) is for the log only and may contain attacker bytes:
 * it is made printable before it is stored. A tag action also adds an
 * X-Textize-Policy header naming the rule. */
void tz_verdict_hit(struct tz_verdict *v, enum tz_rule rule, enum tz_action action,
		    const char *code, const char *ecode, const char *text,
		    const char *reason_fmt, ...) __attribute__((format(printf, 7, 8)));

/* Internal error in a rule: fail closed with 451 4.3.0 (fmt is logged). */
void tz_verdict_error(struct tz_verdict *v, enum tz_rule rule, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Queue a header edit. value is copied and made printable ASCII. */
void tz_verdict_edit(struct tz_verdict *v, enum tz_edit_op op, const char *name,
		     unsigned index, const char *value);

/* Move src's hits, edits and (if stronger) decision into dst; frees src. */
void tz_verdict_merge(struct tz_verdict *dst, struct tz_verdict *src);

/* True when the message must not go on (reject or tempfail). */
bool tz_verdict_stops(const struct tz_verdict *v);

/* The summary fragment for the log line, "autofwd=reject,spf=tag" (built
 * from v->hits): "" when nothing fired. Valid until the next call. */
const char *tz_verdict_summary(struct tz_verdict *v);

/* "relay", "spf", ...; "other" for a value out of range. */
const char *tz_rule_name(enum tz_rule r);

/* Every action's name: the config's action keys parse with it (their
 * row's mask names the actions a key allows), the logs print with it. */
extern const struct tz_name_code tz_action_names[];
/* "reject", "tempfail", ... */
const char *tz_action_name(enum tz_action a);
/* Parse a case-insensitive action name accepted by `allowed` (TZ_ACTMASK
 * bits). 0 on success, -1 when unknown or not allowed. */
int tz_action_parse(const char *s, unsigned allowed, enum tz_action *out);

/* True when s is a usable reply text: non-empty printable ASCII without
 * '%' (which some milter libraries treat as a format character). */
bool tz_reply_text_valid(const char *s);

#endif
