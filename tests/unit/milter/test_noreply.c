/* test_noreply.c — the no-reply gate (milter/noreply.c) through the fake
 * MTA: a refusal at a no-reply step is held with its reply and answers the
 * next step that replies, later no-reply steps are not run, a stale reply
 * is never held, the first refusal wins, abort forgets it, and an MTA
 * without the flags gets every answer at once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "fake_mta.h"
#include "noreply.h"

static struct tzm_noreply gate(unsigned steps)
{
	struct tzm_noreply g;

	memset(&g, 0, sizeof(g));
	g.steps = steps;
	return g;
}

/* What the setreply op does in the milter: set it, and note it. */
static enum tzm_status refuse(struct tzm_noreply *g, struct fake *f, const char *code,
			      const char *ecode, const char *text)
{
	fake_ops.setreply(f, code, ecode, text);
	tzm_noreply_note(g, code, ecode, text);
	return code[0] == '5' ? TZM_REJECT : TZM_TEMPFAIL;
}

static void test_header_refusal_answers_eom(void **state)
{
	struct tzm_noreply g = gate(TZM_NOREPLY_STEPS);
	struct fake *f = fake_new("Q1");
	enum tzm_status st;

	(void)state;
	assert_false(tzm_noreply_before(&g, TZM_STEP_HEADER, &fake_ops, f, &st));
	st = refuse(&g, f, "552", "5.3.4", "Message size exceeds fixed limit");
	assert_int_equal(tzm_noreply_after(&g, TZM_STEP_HEADER, st), TZM_NOREPLY);
	/* the MTA goes on: the rest of the message is not looked at */
	assert_true(tzm_noreply_before(&g, TZM_STEP_HEADER, &fake_ops, f, &st));
	assert_int_equal(st, TZM_NOREPLY);
	assert_true(tzm_noreply_before(&g, TZM_STEP_EOH, &fake_ops, f, &st));
	assert_int_equal(st, TZM_NOREPLY);
	assert_true(tzm_noreply_before(&g, TZM_STEP_BODY, &fake_ops, f, &st));
	assert_int_equal(st, TZM_NOREPLY);
	/* end of message answers it, with the same reply set again */
	strcpy(f->rcode, "x");
	assert_true(tzm_noreply_before(&g, TZM_STEP_EOM, &fake_ops, f, &st));
	assert_int_equal(st, TZM_REJECT);
	assert_string_equal(f->rcode, "552");
	assert_string_equal(f->xcode, "5.3.4");
	assert_string_equal(f->text, "Message size exceeds fixed limit");
	/* and it is gone: the next message runs normally */
	assert_false(tzm_noreply_before(&g, TZM_STEP_MAIL, &fake_ops, f, &st));
	fake_free(f);
}

static void test_eoh_tempfail_and_first_wins(void **state)
{
	struct tzm_noreply g = gate(TZM_NOREPLY_STEPS);
	struct fake *f = fake_new("Q1");
	enum tzm_status st;

	(void)state;
	assert_false(tzm_noreply_before(&g, TZM_STEP_EOH, &fake_ops, f, &st));
	st = refuse(&g, f, "451", "4.7.1", "Try again later");
	assert_int_equal(tzm_noreply_after(&g, TZM_STEP_EOH, st), TZM_NOREPLY);
	/* a later refusal (cannot run: the gate stops it) would not replace it */
	assert_int_equal(tzm_noreply_after(&g, TZM_STEP_BODY, TZM_REJECT), TZM_NOREPLY);
	assert_true(tzm_noreply_before(&g, TZM_STEP_EOM, &fake_ops, f, &st));
	assert_int_equal(st, TZM_TEMPFAIL);
	assert_string_equal(f->rcode, "451");
	fake_free(f);
}

/* A reply set at RCPT (a refused recipient) must not be replayed for a
 * later refusal that set none. */
static void test_stale_reply_not_held(void **state)
{
	struct tzm_noreply g = gate(TZM_NOREPLY_STEPS);
	struct fake *f = fake_new("Q1");
	enum tzm_status st;

	(void)state;
	assert_false(tzm_noreply_before(&g, TZM_STEP_RCPT, &fake_ops, f, &st));
	st = refuse(&g, f, "550", "5.7.1", "Relaying denied");
	assert_int_equal(tzm_noreply_after(&g, TZM_STEP_RCPT, st), TZM_REJECT);
	assert_false(tzm_noreply_before(&g, TZM_STEP_HEADER, &fake_ops, f, &st));
	assert_int_equal(tzm_noreply_after(&g, TZM_STEP_HEADER, TZM_TEMPFAIL), TZM_NOREPLY);
	f->rcode[0] = '\0';
	assert_true(tzm_noreply_before(&g, TZM_STEP_EOM, &fake_ops, f, &st));
	assert_int_equal(st, TZM_TEMPFAIL);
	assert_string_equal(f->rcode, "");   /* the MTA's own 4xx, not the relay text */
	fake_free(f);
}

static void test_connect_refusal_answers_mail(void **state)
{
	struct tzm_noreply g = gate(TZM_NOREPLY_STEPS);
	struct fake *f = fake_new(NULL);
	enum tzm_status st;

	(void)state;
	assert_false(tzm_noreply_before(&g, TZM_STEP_CONNECT, &fake_ops, f, &st));
	st = refuse(&g, f, "451", "4.3.0", "Temporary content filter failure, try again later");
	assert_int_equal(tzm_noreply_after(&g, TZM_STEP_CONNECT, st), TZM_NOREPLY);
	assert_true(tzm_noreply_before(&g, TZM_STEP_HELO, &fake_ops, f, &st));
	assert_int_equal(st, TZM_NOREPLY);
	assert_true(tzm_noreply_before(&g, TZM_STEP_MAIL, &fake_ops, f, &st));
	assert_int_equal(st, TZM_TEMPFAIL);
	assert_string_equal(f->xcode, "4.3.0");
	fake_free(f);
}

static void test_abort_forgets(void **state)
{
	struct tzm_noreply g = gate(TZM_NOREPLY_STEPS);
	struct fake *f = fake_new("Q1");
	enum tzm_status st;

	(void)state;
	assert_false(tzm_noreply_before(&g, TZM_STEP_BODY, &fake_ops, f, &st));
	assert_int_equal(tzm_noreply_after(&g, TZM_STEP_BODY, TZM_REJECT), TZM_NOREPLY);
	tzm_noreply_clear(&g);   /* the MTA aborted the message */
	assert_false(tzm_noreply_before(&g, TZM_STEP_MAIL, &fake_ops, f, &st));
	assert_int_equal(tzm_noreply_after(&g, TZM_STEP_MAIL, TZM_CONTINUE), TZM_CONTINUE);
	fake_free(f);
}

/* Without the flags every step answers for itself, as before. */
static void test_without_flags(void **state)
{
	struct tzm_noreply g = gate(0);
	struct fake *f = fake_new("Q1");
	enum tzm_status st;

	(void)state;
	for (enum tzm_step s = TZM_STEP_CONNECT; s <= TZM_STEP_EOM; s++) {
		assert_false(tzm_noreply_before(&g, s, &fake_ops, f, &st));
		assert_int_equal(tzm_noreply_after(&g, s, TZM_CONTINUE), TZM_CONTINUE);
	}
	assert_int_equal(tzm_noreply_after(&g, TZM_STEP_HEADER, TZM_REJECT), TZM_REJECT);
	assert_false(tzm_noreply_before(&g, TZM_STEP_EOM, &fake_ops, f, &st));
	fake_free(f);
}

/* MAIL, RCPT and EOM are never no-reply steps: their rules answer there. */
static void test_replying_steps(void **state)
{
	(void)state;
	assert_false(TZM_NOREPLY_STEPS & TZM_STEP_BIT(TZM_STEP_MAIL));
	assert_false(TZM_NOREPLY_STEPS & TZM_STEP_BIT(TZM_STEP_RCPT));
	assert_false(TZM_NOREPLY_STEPS & TZM_STEP_BIT(TZM_STEP_EOM));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_refusal_answers_eom),
		cmocka_unit_test(test_eoh_tempfail_and_first_wins),
		cmocka_unit_test(test_stale_reply_not_held),
		cmocka_unit_test(test_connect_refusal_answers_mail),
		cmocka_unit_test(test_abort_forgets),
		cmocka_unit_test(test_without_flags),
		cmocka_unit_test(test_replying_steps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
