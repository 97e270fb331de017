/* test_verdict.c — verdicts: action names, reply codes per action,
 * strongest-wins merging, tag headers, printable reasons. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tz_util.h"
#include "tz_verdict.h"
#include "policy_test.h"

static void test_action_parse(void **state)
{
	static const struct { const char *in; unsigned allowed; int ret; enum tz_action out; } t[] = {
		{ "reject", TZ_ACTIONS_COMMON, 0, TZ_ACTION_REJECT },
		{ "TempFail", TZ_ACTIONS_COMMON, 0, TZ_ACTION_TEMPFAIL },
		{ "hold", TZ_ACTIONS_COMMON, 0, TZ_ACTION_HOLD },
		{ "tag", TZ_ACTIONS_COMMON, 0, TZ_ACTION_TAG },
		{ "log", TZ_ACTIONS_COMMON, 0, TZ_ACTION_LOG },
		{ "rewrite", TZ_ACTIONS_COMMON, -1, 0 },
		{ "rewrite", TZ_ACTIONS_COMMON | TZ_ACTMASK(TZ_ACTION_REWRITE), 0, TZ_ACTION_REWRITE },
		{ "accept", TZ_ACTIONS_COMMON, -1, 0 },
		{ "", TZ_ACTIONS_COMMON, -1, 0 },
		{ "rejectx", TZ_ACTIONS_COMMON, -1, 0 },
		{ "hold", TZ_ACTMASK(TZ_ACTION_REJECT), -1, 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum tz_action a = 0;
		assert_int_equal(tz_action_parse(t[i].in, t[i].allowed, &a), t[i].ret);
		if (t[i].ret == 0) {
			char *lower = g_ascii_strdown(t[i].in, -1);
			assert_int_equal(a, t[i].out);
			assert_string_equal(tz_action_name(a), lower);
			g_free(lower);
		}
	}
	assert_int_equal(tz_action_parse(NULL, TZ_ACTIONS_COMMON, &(enum tz_action){0}), -1);
}

static void test_reply_codes(void **state)
{
	static const struct {
		enum tz_action a; const char *code, *ecode; const char *want_code, *want_ecode;
	} t[] = {
		{ TZ_ACTION_REJECT, "550", "5.7.1", "550", "5.7.1" },
		{ TZ_ACTION_TEMPFAIL, "550", "5.7.1", "451", "4.7.1" },
		{ TZ_ACTION_TEMPFAIL, "552", "5.3.4", "451", "4.3.4" },
		{ TZ_ACTION_REJECT, "451", "4.7.1", "550", "5.7.1" },
		{ TZ_ACTION_TEMPFAIL, "451", "4.7.24", "451", "4.7.24" },
		{ TZ_ACTION_HOLD, "550", "5.7.1", "", "" },
		{ TZ_ACTION_LOG, "550", "5.7.1", "", "" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct tz_verdict *v = tz_verdict_new();
		tz_verdict_hit(v, TZ_RULE_RELAY, t[i].a, t[i].code, t[i].ecode, "Go away", "x");
		assert_int_equal(v->action, t[i].a);
		assert_string_equal(v->code, t[i].want_code);
		assert_string_equal(v->ecode, t[i].want_ecode);
		assert_int_equal(v->hits->len, 1);
		assert_int_equal(g_array_index(v->hits, struct tz_hit, 0).rule, TZ_RULE_RELAY);
		assert_int_equal(g_array_index(v->hits, struct tz_hit, 0).action, t[i].a);
		if (t[i].a == TZ_ACTION_REJECT)
			assert_string_equal(tz_verdict_summary(v), "relay=reject");
		assert_int_equal(tz_verdict_stops(v),
				 t[i].a == TZ_ACTION_REJECT || t[i].a == TZ_ACTION_TEMPFAIL);
		tz_verdict_free(v);
	}
}

static void test_strongest_wins(void **state)
{
	struct tz_verdict *v = tz_verdict_new();

	assert_string_equal(tz_verdict_summary(v), "");
	assert_int_equal(v->action, TZ_ACTION_ACCEPT);
	tz_verdict_hit(v, TZ_RULE_SIZE, TZ_ACTION_LOG, NULL, NULL, NULL, "first");
	tz_verdict_hit(v, TZ_RULE_SPF, TZ_ACTION_REJECT, "550", "5.7.1", "No", "second");
	tz_verdict_hit(v, TZ_RULE_BREAKER, TZ_ACTION_TEMPFAIL, "451", "4.7.1", "Later", "third");
	assert_int_equal(v->action, TZ_ACTION_REJECT);
	assert_string_equal(v->code, "550");
	assert_string_equal(v->text, "No");
	assert_string_equal(v->reason, "spf: second");
	assert_string_equal(tz_verdict_summary(v), "size=log,spf=reject,breaker=tempfail");
	tz_verdict_free(v);
}

static void test_merge(void **state)
{
	struct tz_verdict *a = tz_verdict_new(), *b = tz_verdict_new();

	tz_verdict_hit(a, TZ_RULE_SPOOF, TZ_ACTION_TAG, NULL, NULL, NULL, "tagged");
	tz_verdict_hit(b, TZ_RULE_BREAKER, TZ_ACTION_TEMPFAIL, "451", "4.7.1", "Later", "slow");
	tz_verdict_edit(b, TZ_EDIT_DELETE, "X-Textize", 1, NULL);
	tz_verdict_merge(a, b);
	assert_int_equal(a->action, TZ_ACTION_TEMPFAIL);
	assert_string_equal(a->code, "451");
	assert_string_equal(a->text, "Later");
	assert_string_equal(tz_verdict_summary(a), "spoof=tag,breaker=tempfail");
	assert_int_equal(a->edits->len, 2);   /* tag header + delete */
	assert_non_null(find_edit(a, TZ_EDIT_APPEND, "X-Textize-Policy"));
	assert_non_null(find_edit(a, TZ_EDIT_DELETE, "X-Textize"));
	tz_verdict_merge(a, NULL);
	tz_verdict_free(a);
}

static void test_error_fails_closed(void **state)
{
	struct tz_verdict *v = tz_verdict_new();

	tz_verdict_error(v, TZ_RULE_SPF, "out of memory");
	assert_int_equal(v->action, TZ_ACTION_TEMPFAIL);
	assert_string_equal(v->code, "451");
	assert_string_equal(v->ecode, "4.3.0");
	assert_string_equal(tz_verdict_summary(v), "spf=tempfail");
	/* a rule is named from its enum; a value out of range is "other" */
	assert_string_equal(tz_rule_name(TZ_RULE_HEADERS), "headers");
	assert_string_equal(tz_rule_name((enum tz_rule)99), "other");
	tz_verdict_free(v);
}

static void test_printable(void **state)
{
	struct tz_verdict *v = tz_verdict_new();
	const struct tz_verdict_edit *e;
	char *p;

	/* Attacker bytes in a reason must not become a header line break. */
	tz_verdict_hit(v, TZ_RULE_RELAY, TZ_ACTION_TAG, NULL, NULL, NULL, "evil\r\nBcc: x@y \x1b\xe3\x81\x82");
	e = find_edit(v, TZ_EDIT_APPEND, "X-Textize-Policy");
	assert_non_null(e);
	assert_null(strpbrk(e->value, "\r\n\x1b"));
	assert_string_equal(e->value, "relay; evil??Bcc: x@y ????");
	assert_null(strpbrk(v->reason, "\r\n"));
	p = tz_printable("abc", 2);
	assert_string_equal(p, "ab");
	g_free(p);
	p = tz_printable(NULL, 10);
	assert_string_equal(p, "");
	g_free(p);
	assert_true(tz_reply_text_valid("Relay access denied"));
	assert_false(tz_reply_text_valid(""));
	assert_false(tz_reply_text_valid("100% spam"));
	assert_false(tz_reply_text_valid("日本語"));
	assert_false(tz_reply_text_valid("a\r\nb"));
	/* An invalid configured text falls back to a built-in one. */
	tz_verdict_hit(v, TZ_RULE_RELAY, TZ_ACTION_REJECT, "550", "5.7.1", "bad\ntext", "x");
	assert_string_equal(v->text, "Message rejected by policy");
	tz_verdict_free(v);
	tz_verdict_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_action_parse),
		cmocka_unit_test(test_reply_codes),
		cmocka_unit_test(test_strongest_wins),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_error_fails_closed),
		cmocka_unit_test(test_printable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
