/* tz_store_link.c — the audit and index commit hooks, and index catch-up
 * (see tz_store_link.h). */
#include "tz_store_link.h"

#include <stdio.h>
#include <string.h>

#include "tz_log.h"
#include "tz_util.h"

/* The batch's events (event "stored" or "withdrawn"), details in detail. */
static struct tz_audit_event *audit_events(const struct tz_store_committed *c, size_t n,
					   const char *event, char (*detail)[96])
{
	struct tz_audit_event *ev = g_new0(struct tz_audit_event, n);

	for (size_t i = 0; i < n; i++) {
		const struct tz_meta *m = c[i].meta;
		snprintf(detail[i], sizeof(detail[i]), "%sparts=%u size=%" G_GUINT64_FORMAT,
			 strcmp(event, "stored") == 0 ? "" : "not stored: the segment's sync failed; ",
			 m->parts->len, m->original_size);
		ev[i] = (struct tz_audit_event){ event, "milter", m->id, 0, m->original_sha256, detail[i] };
	}
	return ev;
}

static int audit_log(void *ctx, const struct tz_store_committed *c, size_t n, const char *event,
		     char *err, size_t errlen)
{
	char (*detail)[96] = g_malloc(n * sizeof(*detail));
	struct tz_audit_event *ev = audit_events(c, n, event, detail);
	int rc = tz_audit_append_batch(ctx, ev, n, err, errlen);

	g_free(detail);
	g_free(ev);
	return rc;
}

static int audit_run(void *ctx, const struct tz_store_committed *c, size_t n,
		     char *err, size_t errlen)
{
	return audit_log(ctx, c, n, "stored", err, errlen);
}

/* Their `stored` records were written beside a segment sync that failed. */
static int audit_undo(void *ctx, const struct tz_store_committed *c, size_t n,
		      char *err, size_t errlen)
{
	return audit_log(ctx, c, n, "withdrawn", err, errlen);
}

static int present_cb(void *ctx, const char *const *ids, unsigned n, int *held,
		      char *err, size_t errlen)
{
	return tz_store_has_among(ctx, ids, n, held, err, errlen);
}

/* With the file audit log the commit syncs the segment and the log side by
 * side (undo set), so a crash between the two can leave a `stored` record
 * of an entry that did not reach the disk: withdraw those now, before this
 * process commits anything. The shared database keeps them in series: the
 * segment durable before its record is written. */
void tz_store_set_audit(struct tz_store *st, struct tz_audit *audit)
{
	struct tz_store_hook h = { .name = "audit", .kind = TZ_STORE_HOOK_REQUIRED,
				   .run = audit ? audit_run : NULL, .ctx = audit };
	char err[TZ_ERRLEN] = "";
	unsigned n = 0;

	if (tz_audit_local(audit) && tz_store_blobs(st) == NULL) {
		h.undo = audit_undo;
		if (tz_store_segmented(st) &&
		    tz_audit_withdraw_missing(audit, present_cb, st, &n, err, sizeof(err)) < 0)
			tz_log(LOG_ERR, NULL, "audit log: checking for records of entries not stored: %s", err);
		else if (n > 0)
			tz_log(LOG_WARNING, NULL, "audit log: %u `stored` records of entries a crash kept "
			       "from the store withdrawn", n);
	}
	tz_store_set_hook(st, &h);
}

static int index_run(void *ctx, const struct tz_store_committed *c, size_t n,
		     char *err, size_t errlen)
{
	const struct tz_meta **m = g_new0(const struct tz_meta *, n);
	int rc;

	for (size_t i = 0; i < n; i++)
		m[i] = c[i].meta;
	rc = tz_index_writer_add(ctx, m, n, err, errlen);
	g_free(m);
	return rc;
}

static void index_free(void *ctx)
{
	tz_index_writer_free(ctx);
}

void tz_store_set_index(struct tz_store *st, const char *db_path)
{
	struct tz_store_hook h = {
		.name = "index", .kind = TZ_STORE_HOOK_BEST_EFFORT, .free = index_free,
		.missed = "not added to the index",
		.remedy = "textizectl adds it on its next run (or run textizectl queue reindex)",
	};

	if (db_path && *db_path) {
		h.run = index_run;
		h.ctx = tz_index_writer_new(db_path, TZ_INDEX_WRITER_BUDGET_MS);
	}
	tz_store_set_hook(st, &h);
}

unsigned tz_store_index_failures(struct tz_store *st)
{
	return tz_store_hook_failures(st, "index");
}

/* Drop the rows of entries purged behind the index's back. */
static void drop_gone(struct tz_index *ix, GHashTable *have, GHashTable *ondisk)
{
	GHashTableIter it;
	gpointer k;

	g_hash_table_iter_init(&it, have);
	while (g_hash_table_iter_next(&it, &k, NULL))
		if (!g_hash_table_contains(ondisk, k))
			tz_index_remove(ix, k, NULL, 0);
}

int tz_index_sync(struct tz_index *ix, struct tz_store *st, int full, unsigned *bad,
		  char *err, size_t errlen)
{
	GPtrArray *ids = NULL;
	GHashTable *have = full ? NULL : tz_index_ids(ix, err, errlen);
	GHashTable *ondisk = g_hash_table_new(g_str_hash, g_str_equal);
	int n = 0;

	*bad = 0;
	if ((full && tz_index_clear(ix, err, errlen) < 0) || (!full && have == NULL) ||
	    tz_store_list(st, &ids, err, errlen) < 0) {
		n = -1;
		goto out;
	}
	for (guint i = 0; i < ids->len; i++) {
		const char *id = g_ptr_array_index(ids, i);
		struct tz_meta *m;
		g_hash_table_add(ondisk, (gpointer)id);
		if (have && g_hash_table_contains(have, id))
			continue;
		m = tz_store_meta_read(st, id, NULL, 0);
		if (m == NULL || tz_index_update(ix, m, err, errlen) < 0)
			(*bad)++;
		else
			n++;
		tz_meta_free(m);
	}
	if (have)
		drop_gone(ix, have, ondisk);
out:
	if (have)
		g_hash_table_unref(have);
	g_hash_table_unref(ondisk);
	if (ids)
		g_ptr_array_unref(ids);
	return n;
}
