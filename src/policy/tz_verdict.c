/* tz_verdict.c — verdicts: recording rule hits, merging, action names. */
#include "tz_verdict.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tz_util.h"

const struct tz_name_code tz_action_names[] = {
	{ "accept", TZ_ACTION_ACCEPT },
	{ "log", TZ_ACTION_LOG },
	{ "tag", TZ_ACTION_TAG },
	{ "rewrite", TZ_ACTION_REWRITE },
	{ "hold", TZ_ACTION_HOLD },
	{ "tempfail", TZ_ACTION_TEMPFAIL },
	{ "reject", TZ_ACTION_REJECT },
	{ NULL, 0 }
};

static const char *const rule_names[TZ_NRULES] = {
	[TZ_RULE_RELAY] = "relay",
	[TZ_RULE_SIZE] = "size",
	[TZ_RULE_AUTOFWD] = "autofwd",
	[TZ_RULE_VISIBILITY] = "visibility",
	[TZ_RULE_SPF] = "spf",
	[TZ_RULE_SPOOF] = "spoof",
	[TZ_RULE_BREAKER] = "breaker",
	[TZ_RULE_HEADERS] = "headers",
	[TZ_RULE_SENDERLIST] = "senderlist",
	[TZ_RULE_OTHER] = "other",
};

const char *tz_rule_name(enum tz_rule r)
{
	return rule_names[(unsigned)r < TZ_NRULES ? r : TZ_RULE_OTHER];
}

const char *tz_action_name(enum tz_action a)
{
	const char *n = tz_name_code_name(tz_action_names, (int)a);

	return n ? n : "?";
}

int tz_action_parse(const char *s, unsigned allowed, enum tz_action *out)
{
	int code;

	if (allowed == 0 || !tz_name_code_find(tz_action_names, allowed, s, &code))
		return -1;
	*out = (enum tz_action)code;
	return 0;
}

bool tz_reply_text_valid(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p >= 0x7f || *p == '%')
			return false;
	return true;
}

struct tz_verdict *tz_verdict_new(void)
{
	struct tz_verdict *v = g_new0(struct tz_verdict, 1);

	v->hits = g_array_new(FALSE, TRUE, sizeof(struct tz_hit));
	v->edits = g_ptr_array_new();   /* summary: made by the first tz_verdict_summary */
	return v;
}

static void edit_free(struct tz_verdict_edit *e)
{
	if (e == NULL)
		return;
	g_free(e->name);
	g_free(e->value);
	g_free(e);
}

void tz_verdict_free(struct tz_verdict *v)
{
	if (v == NULL)
		return;
	tz_verdict_reset(v);
	g_array_free(v->hits, TRUE);
	if (v->summary)
		g_string_free(v->summary, TRUE);
	g_ptr_array_free(v->edits, TRUE);
	g_free(v);
}

void tz_verdict_reset(struct tz_verdict *v)
{
	v->action = TZ_ACTION_ACCEPT;
	v->code[0] = v->ecode[0] = '\0';
	g_free(v->text);
	g_free(v->reason);
	v->text = v->reason = NULL;
	g_array_set_size(v->hits, 0);
	for (guint i = 0; i < v->edits->len; i++)
		edit_free(g_ptr_array_index(v->edits, i));
	g_ptr_array_set_size(v->edits, 0);
}

void tz_verdict_edit(struct tz_verdict *v, enum tz_edit_op op, const char *name,
		     unsigned index, const char *value)
{
	struct tz_verdict_edit *e = g_new0(struct tz_verdict_edit, 1);

	e->op = op;
	e->name = g_strdup(name);
	e->index = index;
	/* Header values go to the MTA verbatim: keep them one printable line
	 * (998 octets is the RFC 5322 line limit; leave room for the name). */
	e->value = op == TZ_EDIT_DELETE ? NULL : tz_printable(value, 900);
	g_ptr_array_add(v->edits, e);
}

/* Make the reply code agree with the action: one configured text serves
 * both reject (5xx) and tempfail (4xx). */
static void set_reply(struct tz_verdict *v, enum tz_action action,
		      const char *code, const char *ecode, const char *text)
{
	char cls = action == TZ_ACTION_TEMPFAIL ? '4' : '5';

	g_strlcpy(v->code, code ? code : (cls == '4' ? "451" : "550"), sizeof(v->code));
	g_strlcpy(v->ecode, ecode ? ecode : (cls == '4' ? "4.7.1" : "5.7.1"), sizeof(v->ecode));
	if (v->code[0] != cls) {
		/* 451/550 are the generic codes for each class. */
		g_strlcpy(v->code, cls == '4' ? "451" : "550", sizeof(v->code));
		v->ecode[0] = cls;
	}
	g_free(v->text);
	v->text = g_strdup(tz_reply_text_valid(text) ? text :
			   (cls == '4' ? "Try again later" : "Message rejected by policy"));
}

static void record(struct tz_verdict *v, enum tz_rule rule, enum tz_action action,
		   const char *code, const char *ecode, const char *text, const char *reason)
{
	char *safe = tz_printable(reason, 400);
	struct tz_hit h = { .rule = rule, .action = action };

	g_array_append_val(v->hits, h);
	if (action > v->action || v->reason == NULL) {
		if (action >= v->action) {
			g_free(v->reason);
			v->reason = g_strdup_printf("%s: %s", tz_rule_name(rule), safe);
		}
		if (action > v->action) {
			v->action = action;
			v->code[0] = v->ecode[0] = '\0';
			if (action == TZ_ACTION_REJECT || action == TZ_ACTION_TEMPFAIL)
				set_reply(v, action, code, ecode, text);
		}
	}
	if (action == TZ_ACTION_TAG) {
		char *val = g_strdup_printf("%s; %s", tz_rule_name(rule), safe);
		tz_verdict_edit(v, TZ_EDIT_APPEND, "X-Textize-Policy", 0, val);
		g_free(val);
	}
	g_free(safe);
}

void tz_verdict_hit(struct tz_verdict *v, enum tz_rule rule, enum tz_action action,
		    const char *code, const char *ecode, const char *text,
		    const char *reason_fmt, ...)
{
	va_list ap;
	char *reason;

	va_start(ap, reason_fmt);
	reason = g_strdup_vprintf(reason_fmt, ap);
	va_end(ap);
	record(v, rule, action, code, ecode, text, reason);
	g_free(reason);
}

void tz_verdict_error(struct tz_verdict *v, enum tz_rule rule, const char *fmt, ...)
{
	va_list ap;
	char *reason;

	va_start(ap, fmt);
	reason = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	record(v, rule, TZ_ACTION_TEMPFAIL, "451", "4.3.0",
	       "Temporary policy failure, try again later", reason);
	g_free(reason);
}

void tz_verdict_merge(struct tz_verdict *dst, struct tz_verdict *src)
{
	if (src == NULL)
		return;
	g_array_append_vals(dst->hits, src->hits->data, src->hits->len);
	if (src->action > dst->action || (dst->reason == NULL && src->reason)) {
		if (src->action >= dst->action) {
			g_free(dst->reason);
			dst->reason = src->reason;
			src->reason = NULL;
		}
		if (src->action > dst->action) {
			dst->action = src->action;
			memcpy(dst->code, src->code, sizeof(dst->code));
			memcpy(dst->ecode, src->ecode, sizeof(dst->ecode));
			g_free(dst->text);
			dst->text = src->text;
			src->text = NULL;
		}
	}
	for (guint i = 0; i < src->edits->len; i++)
		g_ptr_array_add(dst->edits, g_ptr_array_index(src->edits, i));
	g_ptr_array_set_size(src->edits, 0);
	tz_verdict_free(src);
}

bool tz_verdict_stops(const struct tz_verdict *v)
{
	return v->action == TZ_ACTION_REJECT || v->action == TZ_ACTION_TEMPFAIL;
}

const char *tz_verdict_summary(struct tz_verdict *v)
{
	if (v->hits->len == 0)
		return "";
	if (v->summary == NULL)
		v->summary = g_string_sized_new(64);
	g_string_truncate(v->summary, 0);
	for (guint i = 0; i < v->hits->len; i++) {
		const struct tz_hit *h = &g_array_index(v->hits, struct tz_hit, i);

		g_string_append_printf(v->summary, "%s%s=%s", i ? "," : "", tz_rule_name(h->rule),
				       tz_action_name(h->action));
	}
	return v->summary->str;
}
