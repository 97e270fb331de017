/* tz_hdrplan.h — one plan for every header edit of a message: the policy's
 * (tz_verdict edits) and the engine's (tz_result header edits), in the one
 * order that both MTAs carry out the same way.
 *
 * Edits name an original field by its index among the fields of that name
 * the milter was shown. That index names the same field to the MTA only
 * while no lower field of the name has gone and nothing has been inserted
 * above it: Postfix counts live fields only (measured: with the policy's
 * deletion of a forged Authentication-Results made first, hygiene's
 * deletion of the next one, by its original index, found nothing and its
 * control byte was delivered), Sendmail counts deleted slots too, and
 * Postfix's cleanup_milter.c says its own hidden Received becomes
 * countable once a field is inserted above it. So: every change and
 * deletion first, per name from the highest index down, then the
 * insertions at the top, then the additions at the end. Two edits of one
 * field become one: a deletion wins, else the policy's change. They do not
 * meet today (inbound the policy only deletes and inserts, outbound there
 * is no conversion) and the engine lists one edit per field (test_engine
 * test_one_edit_per_field), so the plan makes what `textizectl convert`,
 * which applies the engine's list in order, writes. */
#ifndef TZ_HDRPLAN_H
#define TZ_HDRPLAN_H

#include <glib.h>

enum tz_hdrstep_op {
	TZ_STEP_DELETE = 0, /* delete the index-th field of the name */
	TZ_STEP_CHANGE,     /* replace the index-th field of the name */
	TZ_STEP_INSERT_TOP, /* insert above every field */
	TZ_STEP_APPEND,     /* add below every field */
};

/* One request to the MTA. name and value point into the edit lists the
 * plan was made from (they must outlive it); value is NULL for DELETE and
 * is as its producer wrote it (the engine's may be folded with CRLF+WSP). */
struct tz_hdrstep {
	enum tz_hdrstep_op op;
	const char *name;
	unsigned index;
	const char *value;
};

/* The steps, in the order to apply them (a GArray of struct tz_hdrstep;
 * g_array_unref). policy: struct tz_verdict_edit *, engine: struct
 * tz_header_edit *; either may be NULL. Never NULL. */
GArray *tz_hdrplan_build(const GPtrArray *policy, const GPtrArray *engine);

#endif
