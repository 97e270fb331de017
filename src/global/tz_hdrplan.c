/* tz_hdrplan.c — see tz_hdrplan.h. */
#include "tz_hdrplan.h"

#include "tz_engine.h"
#include "tz_verdict.h"

static void step(GArray *a, enum tz_hdrstep_op op, const char *name, unsigned index, const char *value)
{
	struct tz_hdrstep s = { op, name, index, op == TZ_STEP_DELETE ? NULL : value };

	g_array_append_val(a, s);
}

static enum tz_hdrstep_op policy_op(enum tz_edit_op op)
{
	switch (op) {
	case TZ_EDIT_DELETE: return TZ_STEP_DELETE;
	case TZ_EDIT_CHANGE: return TZ_STEP_CHANGE;
	case TZ_EDIT_INSERT: return TZ_STEP_INSERT_TOP;
	case TZ_EDIT_APPEND: break;
	}
	return TZ_STEP_APPEND;
}

static enum tz_hdrstep_op engine_op(enum tz_header_op op)
{
	switch (op) {
	case TZ_HDR_DELETE: return TZ_STEP_DELETE;
	case TZ_HDR_CHANGE: return TZ_STEP_CHANGE;
	case TZ_HDR_ADD: break;
	}
	return TZ_STEP_APPEND;
}

/* Every edit of both lists as a step, policy first, in list order. */
static GArray *all_steps(const GPtrArray *policy, const GPtrArray *engine)
{
	GArray *a = g_array_new(FALSE, FALSE, sizeof(struct tz_hdrstep));

	for (guint i = 0; policy != NULL && i < policy->len; i++) {
		const struct tz_verdict_edit *e = g_ptr_array_index(policy, i);
		step(a, policy_op(e->op), e->name, e->index, e->value);
	}
	for (guint i = 0; engine != NULL && i < engine->len; i++) {
		const struct tz_header_edit *e = g_ptr_array_index(engine, i);
		step(a, engine_op(e->op), e->name, e->index, e->value);
	}
	return a;
}

static bool by_index(const struct tz_hdrstep *s)
{
	return s->op == TZ_STEP_DELETE || s->op == TZ_STEP_CHANGE;
}

/* Per name (any spelling), highest index first. */
static gint field_order(gconstpointer pa, gconstpointer pb)
{
	const struct tz_hdrstep *a = pa, *b = pb;
	int c = g_ascii_strcasecmp(a->name, b->name);

	if (c != 0)
		return c;
	return a->index > b->index ? -1 : a->index < b->index;
}

static bool same_field(const struct tz_hdrstep *a, const struct tz_hdrstep *b)
{
	return a->index == b->index && g_ascii_strcasecmp(a->name, b->name) == 0;
}

/* The changes and deletions, one per field, in the order to apply them. */
static void indexed_steps(GArray *out, const GArray *all)
{
	GArray *ix = g_array_new(FALSE, FALSE, sizeof(struct tz_hdrstep));

	for (guint i = 0; i < all->len; i++)
		if (by_index(&g_array_index(all, struct tz_hdrstep, i)))
			g_array_append_val(ix, g_array_index(all, struct tz_hdrstep, i));
	/* stable (GLib >= 2.32): of two changes of a field the policy's,
	 * listed first, stays first */
	g_array_sort(ix, field_order);
	for (guint i = 0; i < ix->len;) {
		const struct tz_hdrstep *first = &g_array_index(ix, struct tz_hdrstep, i);
		const struct tz_hdrstep *pick = first;
		guint j = i;

		for (; j < ix->len && same_field(first, &g_array_index(ix, struct tz_hdrstep, j)); j++)
			if (g_array_index(ix, struct tz_hdrstep, j).op == TZ_STEP_DELETE && pick->op != TZ_STEP_DELETE)
				pick = &g_array_index(ix, struct tz_hdrstep, j);
		g_array_append_val(out, *pick);
		i = j;
	}
	g_array_free(ix, TRUE);
}

static void steps_of(GArray *out, const GArray *all, enum tz_hdrstep_op op)
{
	for (guint i = 0; i < all->len; i++)
		if (g_array_index(all, struct tz_hdrstep, i).op == op)
			g_array_append_val(out, g_array_index(all, struct tz_hdrstep, i));
}

GArray *tz_hdrplan_build(const GPtrArray *policy, const GPtrArray *engine)
{
	GArray *all = all_steps(policy, engine);
	GArray *plan = g_array_sized_new(FALSE, FALSE, sizeof(struct tz_hdrstep), all->len);

	indexed_steps(plan, all);
	steps_of(plan, all, TZ_STEP_INSERT_TOP);
	steps_of(plan, all, TZ_STEP_APPEND);
	g_array_free(all, TRUE);
	return plan;
}
