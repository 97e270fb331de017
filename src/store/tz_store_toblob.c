/* tz_store_toblob.c — `textizectl queue migrate --to-blobs`: every entry of
 * this host's QuarantineDir (directory layout or segment store) put into
 * the configured blob store (BlobStore s3|postgresql), sealed with the
 * same QuarantineKeyFile as the blob backend seals, oldest first.
 *
 * Per entry: each file put (original, parts, sanitized files), read back
 * from the store and compared (SHA-256 of the plaintext, authenticated on
 * both sides) with the local file; only then meta.json, last, as a commit
 * puts it, so an entry cut off half-way is never listed and a re-run puts
 * it again. An entry whose meta.json is in the store already (an earlier
 * run) is not put again: its files are compared with the local ones and
 * meta.json is left as it is (a release or a scan on another gateway may
 * have changed it since). The local copy is removed only when asked
 * (remove_local), and only after that comparison; without it the local
 * copy stays, unlisted (BlobStore lists the store), as a way back.
 * Each step that takes effect is audited first (done()), like a purge. */
#include "tz_store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "tz_blob.h"
#include "tz_util.h"

static int local_has(struct tz_store *st, const char *id, const char *name)
{
	int fd, ok;

	if (tzs_seg_has(st, id))
		return tz_seg_has_blob(st->seg, id, name) == 1;
	fd = tz_store_entry_open(st, id, NULL, 0);
	if (fd < 0)
		return 0;
	ok = faccessat(fd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	close(fd);
	return ok;
}

/* The entry's files other than meta.json, as a commit puts them, that it
 * has here (an entry may have been kept without its original). */
static GPtrArray *entry_names(struct tz_store *st, const struct tz_meta *m)
{
	GPtrArray *v = tzs_blob_entry_names(m);

	for (guint i = 0; i < v->len; i++)
		if (!local_has(st, m->id, g_ptr_array_index(v, i)))
			g_ptr_array_remove_index(v, i--);
	return v;
}

/* SHA-256 (hex) of a file's plaintext, local or from the blob store. */
static int file_sha(struct tz_store *st, int from_blob, const char *id, const char *name,
		    char hex[65], char *err, size_t errlen)
{
	void *sha = tzs_sha_new();
	int rc = sha == NULL ? -1 :
		 from_blob ? tzs_blob_file_read(st, id, name, tzs_sha_feed, sha, err, errlen) :
			     tzs_file_read_local(st, id, name, tzs_sha_feed, sha, err, errlen);

	return tzs_sha_done(sha, rc, hex, err, errlen);
}

/* Every file reads back from the store as it reads here. */
static int verify(struct tz_store *st, const char *id, GPtrArray *names, char *err, size_t errlen)
{
	char a[65], b[65], why[TZ_ERRLEN];

	for (guint i = 0; i < names->len; i++) {
		const char *name = g_ptr_array_index(names, i);
		if (file_sha(st, 0, id, name, a, why, sizeof(why)) < 0)
			return tz_err(err, errlen, "quarantine %s: %s (local): %s", id, name, why);
		if (file_sha(st, 1, id, name, b, why, sizeof(why)) < 0)
			return tz_err(err, errlen, "quarantine %s: %s (blob store): %s", id, name, why);
		if (strcmp(a, b) != 0)
			return tz_err(err, errlen, "quarantine %s: %s differs in the blob store", id, name);
	}
	return 0;
}

/* One entry: TZ_TOBLOB_COPIED or _PRESENT, or -1 with err. */
static int move_one(struct tz_store *st, const char *id, int present, int remove_local,
		    struct tz_store_toblob *mg, char *err, size_t errlen)
{
	struct tz_meta *m = tzs_meta_local(st, id, err, errlen);
	GPtrArray *names;
	int rc = -1;

	if (m == NULL)
		return -1;
	names = entry_names(st, m);
	for (guint i = 0; !present && i < names->len; i++)
		if (tzs_blob_put_local(st, id, g_ptr_array_index(names, i), err, errlen) < 0)
			goto out;
	if (verify(st, id, names, err, errlen) < 0)
		goto out;
	/* On record before it takes effect (listed, or the local copy gone);
	 * a run cut off right after records it again when it is re-run. */
	if ((!present || remove_local) && mg->done &&
	    mg->done(mg->ctx, id, present ? TZ_TOBLOB_PRESENT : TZ_TOBLOB_COPIED, err, errlen) < 0)
		goto out;
	/* meta.json last: from now on the entry is listed by every gateway */
	if (!present && tzs_blob_meta_write(st, m, err, errlen) < 0)
		goto out;
	/* a purge's sweep elsewhere takes blobs without meta.json: check once
	 * more that none went while meta.json was not there */
	if (!present && verify(st, id, names, err, errlen) < 0)
		goto out;
	if (remove_local)
		tzs_drop_staged(st, id);
	rc = present ? TZ_TOBLOB_PRESENT : TZ_TOBLOB_COPIED;
out:
	g_ptr_array_unref(names);
	tz_meta_free(m);
	return rc;
}

int tz_store_to_blobs(struct tz_store *st, int dry_run, int remove_local,
		      struct tz_store_toblob *mg, char *err, size_t errlen)
{
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free), *in_store = NULL;
	GHashTable *have = g_hash_table_new(g_str_hash, g_str_equal);
	int rc = -1;

	mg->local = mg->copied = mg->present = mg->pending = mg->kept = 0;
	if (st->blob == NULL) {
		tz_err(err, errlen, "BlobStore is local: no blob store to move the entries into");
		goto out;
	}
	if (tzs_list_local(st, ids, err, errlen) < 0 ||
	    tz_blob_entries(st->blob, &in_store, NULL, err, errlen) < 0)
		goto out;
	for (guint i = 0; i < in_store->len; i++)
		g_hash_table_add(have, g_ptr_array_index(in_store, i));
	mg->local = ids->len;
	for (guint i = 0; i < ids->len; i++)
		mg->pending += !g_hash_table_contains(have, g_ptr_array_index(ids, i));
	rc = 0;
	for (guint i = 0; i < ids->len && rc == 0 && !dry_run; i++) {
		const char *id = g_ptr_array_index(ids, i);
		int present = g_hash_table_contains(have, id);
		int r = move_one(st, id, present, remove_local, mg, err, errlen);
		if (r < 0) {
			rc = -1;
			break;
		}
		if (r == TZ_TOBLOB_COPIED) {
			mg->copied++;
			mg->pending--;
		} else {
			mg->present++;
		}
		if (!remove_local)
			mg->kept++;
	}
out:
	g_hash_table_unref(have);
	if (in_store)
		g_ptr_array_unref(in_store);
	g_ptr_array_unref(ids);
	return rc;
}
