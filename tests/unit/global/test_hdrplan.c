/* test_hdrplan.c — one plan for the policy's and the engine's header
 * edits (tz_hdrplan): the order of the steps, two edits of one field made
 * one, and the plan carried out on a model of each MTA's header editing
 * (as measured through them: Postfix counts live fields only, Sendmail
 * deleted slots too), with and without SPF's fields inserted, ending in
 * the header intended — where the policy's edits made first, as before,
 * leave a dirty field on Postfix. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "tz_engine.h"
#include "tz_hdrplan.h"
#include "tz_verdict.h"

/* ------------------------------------------------------------ edit lists */

static GPtrArray *engine_list(void)
{
	return g_ptr_array_new();   /* entries freed by engine_free */
}

static void eng(GPtrArray *a, enum tz_header_op op, const char *name, unsigned index, const char *value)
{
	struct tz_header_edit *e = g_new0(struct tz_header_edit, 1);

	e->op = op;
	e->name = g_strdup(name);
	e->index = index;
	e->value = g_strdup(value);
	g_ptr_array_add(a, e);
}

static void engine_free(GPtrArray *a)
{
	for (guint i = 0; i < a->len; i++) {
		struct tz_header_edit *e = a->pdata[i];
		g_free(e->name);
		g_free(e->value);
		g_free(e);
	}
	g_ptr_array_free(a, TRUE);
}

/* The plan as lines "OP Name index [value]" for comparing. */
static char *plan_text(const GArray *plan)
{
	static const char *const op[] = { "del", "chg", "ins", "add" };
	GString *s = g_string_new("");

	for (guint i = 0; i < plan->len; i++) {
		const struct tz_hdrstep *st = &g_array_index(plan, struct tz_hdrstep, i);
		g_string_append_printf(s, "%s %s %u [%s]\n", op[st->op], st->name, st->index,
				       st->value ? st->value : "-");
	}
	return g_string_free(s, FALSE);
}

/* ------------------------------------------------------------ the order */

static void test_order(void **state)
{
	(void)state;
	struct tz_verdict *v = tz_verdict_new();
	GPtrArray *e = engine_list();

	tz_verdict_edit(v, TZ_EDIT_INSERT, "Received-SPF", 0, "pass");
	tz_verdict_edit(v, TZ_EDIT_DELETE, "Authentication-Results", 1, NULL);
	tz_verdict_edit(v, TZ_EDIT_INSERT, "Authentication-Results", 0, "gw; spf=pass");
	tz_verdict_edit(v, TZ_EDIT_APPEND, "X-Textize-Policy", 0, "spf; softfail");
	eng(e, TZ_HDR_CHANGE, "Received", 1, "from a");
	eng(e, TZ_HDR_DELETE, "authentication-results", 3, NULL);
	eng(e, TZ_HDR_DELETE, "Content-Type", 2, NULL);
	eng(e, TZ_HDR_CHANGE, "Content-Type", 1, "text/plain");
	eng(e, TZ_HDR_ADD, "X-Textize", 0, "textize");

	GArray *plan = tz_hdrplan_build(v->edits, e);
	char *got = plan_text(plan);
	/* by name (any spelling), highest index first; then the insertions in
	 * their order (the last one ends on top); then the additions, the
	 * policy's first */
	assert_string_equal(got,
			    "del authentication-results 3 [-]\n"
			    "del Authentication-Results 1 [-]\n"
			    "del Content-Type 2 [-]\n"
			    "chg Content-Type 1 [text/plain]\n"
			    "chg Received 1 [from a]\n"
			    "ins Received-SPF 0 [pass]\n"
			    "ins Authentication-Results 0 [gw; spf=pass]\n"
			    "add X-Textize-Policy 0 [spf; softfail]\n"
			    "add X-Textize 0 [textize]\n");
	g_free(got);
	g_array_unref(plan);
	engine_free(e);
	tz_verdict_free(v);
}

/* Two edits of one field: a deletion wins; of two changes the policy's. */
static void test_one_edit_per_field(void **state)
{
	(void)state;
	struct tz_verdict *v = tz_verdict_new();
	GPtrArray *e = engine_list();

	tz_verdict_edit(v, TZ_EDIT_CHANGE, "To", 1, "undisclosed-recipients:;");
	tz_verdict_edit(v, TZ_EDIT_DELETE, "To", 2, NULL);
	tz_verdict_edit(v, TZ_EDIT_DELETE, "X-Textize-Id", 1, NULL);
	eng(e, TZ_HDR_CHANGE, "to", 1, "=?UTF-8?B?YQ==?= <a@example>");
	eng(e, TZ_HDR_CHANGE, "To", 2, "b@example");
	eng(e, TZ_HDR_CHANGE, "Cc", 1, "c@example");
	eng(e, TZ_HDR_DELETE, "Cc", 1, NULL);
	eng(e, TZ_HDR_DELETE, "X-Textize-Id", 1, NULL);

	GArray *plan = tz_hdrplan_build(v->edits, e);
	char *got = plan_text(plan);
	assert_string_equal(got,
			    "del Cc 1 [-]\n"
			    "del To 2 [-]\n"
			    "chg To 1 [undisclosed-recipients:;]\n"
			    "del X-Textize-Id 1 [-]\n");
	g_free(got);
	g_array_unref(plan);
	engine_free(e);
	tz_verdict_free(v);
}

static void test_either_list_absent(void **state)
{
	(void)state;
	struct tz_verdict *v = tz_verdict_new();
	GPtrArray *e = engine_list();
	GArray *plan = tz_hdrplan_build(NULL, NULL);

	assert_int_equal(plan->len, 0);
	g_array_unref(plan);
	tz_verdict_edit(v, TZ_EDIT_DELETE, "Cc", 1, NULL);
	tz_verdict_edit(v, TZ_EDIT_DELETE, "Cc", 2, NULL);
	plan = tz_hdrplan_build(v->edits, NULL);
	char *got = plan_text(plan);
	assert_string_equal(got, "del Cc 2 [-]\ndel Cc 1 [-]\n");
	g_free(got);
	g_array_unref(plan);
	eng(e, TZ_HDR_ADD, "X-Textize", 0, "t");
	plan = tz_hdrplan_build(NULL, e);
	assert_int_equal(plan->len, 1);
	assert_int_equal(g_array_index(plan, struct tz_hdrstep, 0).op, TZ_STEP_APPEND);
	g_array_unref(plan);
	engine_free(e);
	tz_verdict_free(v);
}

/* ------------------------------------------------------------ MTA models */

/* What the MTAs do with an edit by index, as measured through them
 * (tests/integration: tz_trace_case): Postfix shows a milter neither its
 * own Received nor counts it, and counts only live fields (a deleted one
 * is jumped over); Sendmail counts what it shows, deleted slots too. */
struct field {
	char *line;      /* "Name: value" */
	bool deleted;
	bool own;        /* the MTA's own Received */
};

struct mta {
	GPtrArray *f;    /* struct field *, top to bottom */
	bool postfix;
};

static void mta_init(struct mta *m, bool postfix, const char *const *lines)
{
	m->f = g_ptr_array_new();
	m->postfix = postfix;
	for (guint i = 0; lines[i]; i++) {
		struct field *x = g_new0(struct field, 1);
		x->line = g_strdup(lines[i]);
		x->own = i == 0;
		g_ptr_array_add(m->f, x);
	}
}

static bool named(const struct field *x, const char *name)
{
	size_t n = strlen(name);

	return g_ascii_strncasecmp(x->line, name, n) == 0 && x->line[n] == ':';
}

/* The position of the idx-th field called name, as the MTA counts; -1. */
static int mta_find(const struct mta *m, const char *name, unsigned idx)
{
	for (guint i = 0; i < m->f->len; i++) {
		const struct field *x = m->f->pdata[i];
		if (m->postfix && (x->deleted || x->own))
			continue;
		if (named(x, name) && --idx == 0)
			return (int)i;
	}
	return -1;
}

static void mta_insert(struct mta *m, guint at, const char *name, const char *value)
{
	struct field *x = g_new0(struct field, 1);

	x->line = g_strdup_printf("%s: %s", name, value);
	g_ptr_array_insert(m->f, (gint)at, x);
}

static void mta_apply(struct mta *m, enum tz_hdrstep_op op, const char *name, unsigned idx, const char *value)
{
	int at;

	switch (op) {
	case TZ_STEP_DELETE:
		if ((at = mta_find(m, name, idx)) >= 0)
			((struct field *)m->f->pdata[at])->deleted = true;
		break;
	case TZ_STEP_CHANGE:
		if ((at = mta_find(m, name, idx)) < 0) {
			mta_insert(m, m->f->len, name, value);   /* both MTAs add it */
			break;
		}
		g_free(((struct field *)m->f->pdata[at])->line);
		((struct field *)m->f->pdata[at])->line = g_strdup_printf("%s: %s", name, value);
		break;
	case TZ_STEP_INSERT_TOP:
		mta_insert(m, 0, name, value);
		break;
	case TZ_STEP_APPEND:
		mta_insert(m, m->f->len, name, value);
		break;
	}
}

/* The header as delivered, one field per line; frees the model. */
static char *mta_result(struct mta *m)
{
	GString *s = g_string_new("");

	for (guint i = 0; i < m->f->len; i++) {
		struct field *x = m->f->pdata[i];
		if (!x->deleted)
			g_string_append_printf(s, "%s\n", x->line);
		g_free(x->line);
		g_free(x);
	}
	g_ptr_array_free(m->f, TRUE);
	return g_string_free(s, FALSE);
}

static char *run_plan(bool postfix, const char *const *header, const struct tz_verdict *v, GPtrArray *e)
{
	struct mta m;
	GArray *plan = tz_hdrplan_build(v->edits, e);

	mta_init(&m, postfix, header);
	for (guint i = 0; i < plan->len; i++) {
		const struct tz_hdrstep *s = &g_array_index(plan, struct tz_hdrstep, i);
		mta_apply(&m, s->op, s->name, s->index, s->value);
	}
	g_array_unref(plan);
	return mta_result(&m);
}

/* How the milter made them before the plan: the policy's (its changes and
 * deletions, then its insertions and additions), then the engine's. */
static char *run_two_planners(bool postfix, const char *const *header, const struct tz_verdict *v, GPtrArray *e)
{
	struct mta m;

	mta_init(&m, postfix, header);
	for (int pass = 0; pass < 2; pass++)
		for (guint i = 0; i < v->edits->len; i++) {
			const struct tz_verdict_edit *p = v->edits->pdata[i];
			bool ix = p->op == TZ_EDIT_CHANGE || p->op == TZ_EDIT_DELETE;
			if (ix == (pass == 0))
				mta_apply(&m, p->op == TZ_EDIT_DELETE ? TZ_STEP_DELETE : p->op == TZ_EDIT_CHANGE
					  ? TZ_STEP_CHANGE : p->op == TZ_EDIT_INSERT ? TZ_STEP_INSERT_TOP
					  : TZ_STEP_APPEND, p->name, p->index, p->value);
		}
	for (guint i = 0; i < e->len; i++) {
		const struct tz_header_edit *x = e->pdata[i];
		mta_apply(&m, x->op == TZ_HDR_DELETE ? TZ_STEP_DELETE : x->op == TZ_HDR_CHANGE
			  ? TZ_STEP_CHANGE : TZ_STEP_APPEND, x->name, x->index, x->value);
	}
	return mta_result(&m);
}

/* A message with a control byte in its first Received (header hygiene
 * changes it), a forged Authentication-Results of ours (the policy
 * deletes it) above a dirty foreign one (hygiene deletes it: see
 * policy_strips), two Content-Types and a forged X-Textize. */
static const char *const file_fields[] = {
	"Received: from client by gw.example (MTA) with ESMTP id Q",
	"Received: from evil\001host by relay.example",
	"Received: from origin by relay.example",
	"Authentication-Results: gw.example; spf=pass",
	"Authentication-Results: other.example; dkim=pass \001",
	"Subject: s",
	"Content-Type: multipart/mixed; boundary=b",
	"Content-Type: text/html",
	"X-Textize: forged",
	NULL,
};

static const char *const intended_tail =
	"Received: from client by gw.example (MTA) with ESMTP id Q\n"
	"Received: from evil host by relay.example\n"
	"Received: from origin by relay.example\n"
	"Subject: s\n"
	"Content-Type: text/plain; charset=UTF-8\n"
	"X-Textize: textize\n";

/* The edits as the rules and the engine make them from what the milter
 * was shown (shown_own: the MTA's own Received is among it); spf: SPF
 * inserts its two fields at the top. */
static void scenario(bool shown_own, bool spf, struct tz_verdict *v, GPtrArray *e)
{
	unsigned r = shown_own ? 1 : 0;

	tz_verdict_edit(v, TZ_EDIT_DELETE, "X-Textize", 1, NULL);
	tz_verdict_edit(v, TZ_EDIT_DELETE, "Authentication-Results", 1, NULL);
	if (spf) {
		tz_verdict_edit(v, TZ_EDIT_INSERT, "Received-SPF", 0, "none");
		tz_verdict_edit(v, TZ_EDIT_INSERT, "Authentication-Results", 0, "gw.example; spf=none");
	}
	eng(e, TZ_HDR_CHANGE, "Received", 1 + r, "from evil host by relay.example");
	eng(e, TZ_HDR_DELETE, "Authentication-Results", 2, NULL);
	eng(e, TZ_HDR_DELETE, "Content-Type", 2, NULL);
	eng(e, TZ_HDR_CHANGE, "Content-Type", 1, "text/plain; charset=UTF-8");
	eng(e, TZ_HDR_DELETE, "X-Textize", 1, NULL);
	eng(e, TZ_HDR_ADD, "X-Textize", 0, "textize");
}

static void test_on_the_mtas(void **state)
{
	(void)state;

	for (int postfix = 0; postfix < 2; postfix++)
		for (int spf = 0; spf < 2; spf++) {
			struct tz_verdict *v = tz_verdict_new();
			GPtrArray *e = engine_list();
			char *want = g_strconcat(spf ? "Authentication-Results: gw.example; spf=none\n"
						       "Received-SPF: none\n" : "", intended_tail, NULL);
			scenario(!postfix, spf, v, e);

			char *got = run_plan(postfix, file_fields, v, e);
			assert_string_equal(got, want);
			g_free(got);
			/* With the policy's edits made first, as before the plan,
			 * Postfix missed the dirty foreign A-R when no field was
			 * inserted (it counts live fields: the forged one, deleted
			 * first, no longer counted) — the control byte delivered, as
			 * measured through Postfix (test_policy.sh, SPF off). */
			got = run_two_planners(postfix, file_fields, v, e);
			if (postfix && !spf)
				assert_non_null(strstr(got, "other.example; dkim=pass \001"));
			g_free(got);
			g_free(want);
			engine_free(e);
			tz_verdict_free(v);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_one_edit_per_field),
		cmocka_unit_test(test_either_list_absent),
		cmocka_unit_test(test_on_the_mtas),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
