/* tz_audit.c — hash-chained, append-only audit log (format in tz_audit.h). */
#define _GNU_SOURCE 1   /* memrchr */
#include "tz_audit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <glib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "tz_audit_int.h"
#include "tz_crypt.h"
#include "tz_jread.h"
#include "tz_meta.h"
#include "tz_pg.h"
#include "tz_util.h"

#define TAIL_MAX 16384      /* records are kept well below this */
#define TAIL_FIRST 2048     /* what is read first: a record without a long detail */
#define DETAIL_MAX 2048
/* How far back tz_audit_withdraw_missing looks (see tz_audit.h). */
#define RECONCILE_TAIL (1 << 20)

struct tz_audit {
	char *path;             /* or the shared database's URL */
	PGconn *pg;             /* StoreBackend postgresql: (re)connected on use */
	int fd;
	int has_key;
	unsigned char key[TZ_KEY_LEN];
	pthread_mutex_t mu;     /* threads share one fd, and flock does not exclude them */
};

/* M = SHA-256 or HMAC-SHA256 of text[0..len), lower-case hex. */
static void chain_mac(const unsigned char *key, const char *text, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (key)
		HMAC(EVP_sha256(), key, TZ_KEY_LEN, (const unsigned char *)text, len, md, &mdlen);
	else
		EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL);
	tz_hex(md, mdlen, out);
}

static int open_log(struct tz_audit *a, char *err, size_t errlen)
{
	a->fd = open(a->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (a->fd < 0)
		return tz_err(err, errlen, "audit log %s: %s", a->path, strerror(errno));
	return 0;
}

struct tz_audit *tz_audit_open(const char *path, const char *key_file,
			       char *err, size_t errlen)
{
	struct tz_audit *a = g_new0(struct tz_audit, 1);

	a->path = g_strdup(path);
	a->fd = -1;
	pthread_mutex_init(&a->mu, NULL);
	if (key_file && *key_file) {
		if (tz_key_load(key_file, a->key, err, errlen) < 0)
			goto fail;
		a->has_key = 1;
	}
	/* The shared database is connected on first append (and again after
	 * an error): a gateway that starts while it is down runs and tempfails
	 * rather than refusing to start. */
	if (!tz_pg_is_url(path) && open_log(a, err, errlen) < 0)
		goto fail;
	return a;
fail:
	tz_audit_free(a);
	return NULL;
}

void tz_audit_free(struct tz_audit *a)
{
	if (a == NULL)
		return;
	if (a->fd >= 0)
		close(a->fd);
	PQfinish(a->pg);
	pthread_mutex_destroy(&a->mu);
	OPENSSL_cleanse(a->key, sizeof(a->key));
	g_free(a->path);
	g_free(a);
}

/* The last line of the file's [size - win, size) into buf (NUL-ended, no
 * final LF); *start = its first byte. 1 when the window holds the whole
 * line (a LF before it, or the file's start), 0 when it does not, -1 with
 * err. */
static int tail_window(int fd, off_t size, size_t win, char *buf, char **start,
		       char *err, size_t errlen)
{
	off_t from = size > (off_t)win ? size - (off_t)win : 0;
	ssize_t n = pread(fd, buf, (size_t)(size - from), from);
	size_t len;
	char *nl;

	if (n <= 0)
		return tz_err(err, errlen, "audit log: read: %s", n < 0 ? strerror(errno) : "short");
	len = (size_t)n;
	if (buf[len - 1] == '\n')
		len--;
	buf[len] = '\0';
	nl = memrchr(buf, '\n', len);
	*start = nl ? nl + 1 : buf;
	return nl || from == 0;
}

/* The mac and seq of the last record in the file (zeros / 0 when empty).
 * Called with the lock held. The last TAIL_FIRST bytes hold a record
 * nearly always; TAIL_MAX only when they do not (a 2 KB detail): reading
 * 16 KB for every commit was ~0.7 % of the milter's CPU on 5 KB mail. */
static int read_tail(int fd, char prev[65], unsigned long *seq, char *err, size_t errlen)
{
	char buf[TAIL_MAX + 1], *start, *mac;
	struct stat sb;
	int whole;

	g_strlcpy(prev, ZERO_HASH, 65);
	*seq = 0;
	if (fstat(fd, &sb) < 0)
		return tz_err(err, errlen, "audit log: %s", strerror(errno));
	if (sb.st_size == 0)
		return 0;
	whole = tail_window(fd, sb.st_size, TAIL_FIRST, buf, &start, err, errlen);
	if (whole == 0)
		whole = tail_window(fd, sb.st_size, TAIL_MAX, buf, &start, err, errlen);
	if (whole < 0)
		return -1;
	/* A torn last line still gets chained to (its own mac is wrong, which
	 * verify reports); the chain itself goes on from the text as it is. */
	mac = strstr(start, MAC_SEP);
	if (mac && strlen(mac) >= strlen(MAC_SEP) + 64) {
		memcpy(prev, mac + strlen(MAC_SEP), 64);
		prev[64] = '\0';
	} else {
		chain_mac(NULL, start, strlen(start), prev);
	}
	if (strncmp(start, "{\"seq\":", 7) == 0)
		*seq = strtoul(start + 7, NULL, 10);
	return 0;
}

static void fmt_now(char *out, size_t outlen)
{
	struct timeval tv;
	char base[32];

	gettimeofday(&tv, NULL);
	tz_meta_iso_time((int64_t)tv.tv_sec, base, sizeof(base));
	base[strlen(base) - 1] = '\0';   /* drop Z, add milliseconds */
	snprintf(out, outlen, "%s.%03ldZ", base, (long)(tv.tv_usec / 1000));
}

static void kv(GString *s, const char *key, const char *v)
{
	g_string_append_printf(s, ",\"%s\":", key);
	if (v)
		tz_meta_json_str(s, v);
	else
		g_string_append(s, "null");
}

GString *tz_audit_format(const struct tz_audit_event *ev, unsigned long seq,
			 const char *prev, const unsigned char *key)
{
	GString *s = g_string_new(NULL);
	char now[40], mac[65], *detail = NULL;

	if (ev->detail && strlen(ev->detail) > DETAIL_MAX)
		detail = g_strndup(ev->detail, DETAIL_MAX);
	fmt_now(now, sizeof(now));
	g_string_append_printf(s, "{\"seq\":%lu", seq);
	kv(s, "time", now);
	kv(s, "event", ev->event);
	kv(s, "operator", ev->operator_name);
	kv(s, "id", ev->id);
	g_string_append_printf(s, ",\"part\":%u", ev->part);
	kv(s, "sha256", ev->sha256);
	kv(s, "detail", detail ? detail : ev->detail);
	kv(s, "prev", prev);
	chain_mac(key, s->str, s->len, mac);
	g_string_append_printf(s, MAC_SEP "%s\"}\n", mac);
	g_free(detail);
	return s;
}

/* Reopen when the path no longer names our file (log rotation). */
static int check_rotated(struct tz_audit *a, char *err, size_t errlen)
{
	struct stat p, f;

	if (stat(a->path, &p) == 0 && fstat(a->fd, &f) == 0 &&
	    p.st_dev == f.st_dev && p.st_ino == f.st_ino)
		return 0;
	close(a->fd);
	return open_log(a, err, errlen);
}

int tz_audit_append(struct tz_audit *a, const struct tz_audit_event *ev,
		    char *err, size_t errlen)
{
	return tz_audit_append_batch(a, ev, 1, err, errlen);
}

/* Take the log for appending: a's mutex, then its flock. 0, or -1 with
 * err and nothing held. */
static int log_lock(struct tz_audit *a, char *err, size_t errlen)
{
	pthread_mutex_lock(&a->mu);
	if (check_rotated(a, err, errlen) < 0)
		goto fail;
	while (flock(a->fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			tz_err(err, errlen, "audit log %s: lock: %s", a->path, strerror(errno));
			goto fail;
		}
	}
	return 0;
fail:
	pthread_mutex_unlock(&a->mu);
	return -1;
}

static void log_unlock(struct tz_audit *a)
{
	flock(a->fd, LOCK_UN);
	pthread_mutex_unlock(&a->mu);
}

/* Append n records to the file, chained; the lock held. */
static int append_locked(struct tz_audit *a, const struct tz_audit_event *ev, size_t n,
			 char *err, size_t errlen)
{
	char prev[65];
	unsigned long seq;
	GString *recs = g_string_new(NULL);
	int rc = -1;

	if (read_tail(a->fd, prev, &seq, err, errlen) < 0)
		goto out;
	/* Each record chains to the one before it, the first to the file's
	 * last record. */
	for (size_t i = 0; i < n; i++) {
		GString *rec = tz_audit_format(&ev[i], seq + 1 + i, prev, a->has_key ? a->key : NULL);
		const char *mac = strstr(rec->str, MAC_SEP) + strlen(MAC_SEP);
		memcpy(prev, mac, 64);
		prev[64] = '\0';
		g_string_append_len(recs, rec->str, (gssize)rec->len);
		g_string_free(rec, TRUE);
	}
	/* One write of whole lines with O_APPEND, then one fdatasync for all:
	 * the records are there and durable, or every event is reported
	 * failed. */
	if (tz_write_all(a->fd, recs->str, recs->len) < 0 || fdatasync(a->fd) < 0) {
		tz_err(err, errlen, "audit log %s: write: %s", a->path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	g_string_free(recs, TRUE);
	return rc;
}

int tz_audit_append_batch(struct tz_audit *a, const struct tz_audit_event *ev, size_t n,
			  char *err, size_t errlen)
{
	int rc;

	if (a->path && tz_pg_is_url(a->path)) {
		pthread_mutex_lock(&a->mu);
		rc = tz_pgaudit_append(&a->pg, a->path, ev, n, a->has_key ? a->key : NULL, err, errlen);
		pthread_mutex_unlock(&a->mu);
		return rc;
	}
	if (log_lock(a, err, errlen) < 0)
		return -1;
	rc = append_locked(a, ev, n, err, errlen);
	log_unlock(a);
	return rc;
}

int tz_audit_local(const struct tz_audit *a)
{
	return a && a->path && !tz_pg_is_url(a->path);
}

/* The newest complete lines of the log (the lock held): from the first
 * line that starts within its last RECONCILE_TAIL bytes. */
static gchar **tail_lines(int fd, char *err, size_t errlen)
{
	struct stat sb;
	off_t from;
	char *buf, *start;
	ssize_t n;
	gchar **lines;

	if (fstat(fd, &sb) < 0) {
		tz_err(err, errlen, "audit log: %s", strerror(errno));
		return NULL;
	}
	from = sb.st_size > RECONCILE_TAIL ? sb.st_size - RECONCILE_TAIL : 0;
	buf = g_malloc((size_t)(sb.st_size - from) + 1);
	n = sb.st_size > from ? pread(fd, buf, (size_t)(sb.st_size - from), from) : 0;
	if (n < 0) {
		tz_err(err, errlen, "audit log: read: %s", strerror(errno));
		g_free(buf);
		return NULL;
	}
	buf[n] = '\0';
	start = buf;
	if (from > 0)   /* the first line is partial */
		start = strchr(buf, '\n') ? strchr(buf, '\n') + 1 : buf + n;
	lines = g_strsplit(start, "\n", -1);
	g_free(buf);
	return lines;
}

/* The `withdrawn` events for the `stored` records among lines whose id has
 * no later record and is not present; ids and hashes kept in keep. NULL
 * with err when present fails. */
static GArray *orphans(gchar **lines, tz_audit_present_fn present, void *ctx, GPtrArray *keep,
		       char *err, size_t errlen)
{
	GHashTable *last = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	GPtrArray *order = g_ptr_array_new(), *asked = g_ptr_array_new();
	GArray *ev = g_array_new(FALSE, TRUE, sizeof(struct tz_audit_event));
	int *held;

	for (gchar **l = lines; *l; l++) {
		struct tz_jv *v = **l && l[1] ? tz_jv_parse(*l, strlen(*l), NULL, 0) : NULL;
		const char *e = v ? tz_jv_str(v, "event") : NULL, *id = v ? tz_jv_str(v, "id") : NULL;
		if (e && id) {
			char *k = g_strdup(id);
			if (!g_hash_table_contains(last, k))
				g_ptr_array_add(order, k);
			/* insert keeps the first key, the one order holds */
			g_hash_table_insert(last, k, strcmp(e, "stored") == 0 && tz_jv_str(v, "sha256")
					    ? g_strdup(tz_jv_str(v, "sha256")) : NULL);
		}
		tz_jv_free(v);
	}
	for (guint i = 0; i < order->len; i++)   /* the last record of these is `stored` */
		if (g_hash_table_lookup(last, g_ptr_array_index(order, i)))
			g_ptr_array_add(asked, g_ptr_array_index(order, i));
	held = g_new0(int, asked->len + 1);
	if (asked->len > 0 &&
	    present(ctx, (const char *const *)asked->pdata, asked->len, held, err, errlen) < 0) {
		g_array_unref(ev);
		ev = NULL;
	}
	for (guint i = 0; ev && i < asked->len; i++) {
		const char *id = g_ptr_array_index(asked, i), *sha = g_hash_table_lookup(last, id);
		struct tz_audit_event w = { "withdrawn", "milter", NULL, 0, NULL,
					    "not in the store: its segment record was not durable "
					    "(a crash or a failed fdatasync); never acknowledged" };
		if (held[i])
			continue;
		g_ptr_array_add(keep, g_strdup(id));
		w.id = g_ptr_array_index(keep, keep->len - 1);
		g_ptr_array_add(keep, g_strdup(sha));
		w.sha256 = g_ptr_array_index(keep, keep->len - 1);
		g_array_append_val(ev, w);
	}
	g_free(held);
	g_ptr_array_unref(asked);
	g_ptr_array_unref(order);
	g_hash_table_unref(last);
	return ev;
}

/* The second pass asks the store again only for the ids the first found
 * missing; any other id (a commit since) counts as held. */
struct suspects {
	tz_audit_present_fn present;
	void *ctx;
	GHashTable *ids;
};

int tz_audit_present_rest(tz_audit_present_fn present, void *ctx, const char *const *ids, unsigned n,
			  int *held, char *err, size_t errlen)
{
	GPtrArray *ask = g_ptr_array_new();
	int *got, rc = 0;

	for (unsigned i = 0; i < n; i++)
		if (!held[i])
			g_ptr_array_add(ask, (gpointer)ids[i]);
	got = g_new0(int, ask->len + 1);
	if (ask->len > 0)
		rc = present(ctx, (const char *const *)ask->pdata, ask->len, got, err, errlen);
	for (unsigned i = 0, k = 0; rc == 0 && i < n; i++)
		if (!held[i])
			held[i] = got[k++];
	g_free(got);
	g_ptr_array_unref(ask);
	return rc;
}

static int present_suspects(void *ctx, const char *const *ids, unsigned n, int *held,
			    char *err, size_t errlen)
{
	struct suspects *sp = ctx;

	for (unsigned i = 0; i < n; i++)
		held[i] = !g_hash_table_contains(sp->ids, ids[i]);
	return tz_audit_present_rest(sp->present, sp->ctx, ids, n, held, err, errlen);
}

int tz_audit_withdraw_missing(struct tz_audit *a, tz_audit_present_fn present, void *ctx,
			      unsigned *withdrawn, char *err, size_t errlen)
{
	GPtrArray *keep = g_ptr_array_new_with_free_func(g_free);
	struct suspects sp = { present, ctx, g_hash_table_new(g_str_hash, g_str_equal) };
	GArray *ev = NULL;
	gchar **lines;
	int rc = -1;

	*withdrawn = 0;
	if (!tz_audit_local(a)) {
		rc = 0;
		goto out;
	}
	/* First without the log's lock: asking the store reads its segments
	 * (a store opened to append keeps no index), and every commit of every
	 * process waits for that lock. A line being appended meanwhile is
	 * incomplete and skipped. Usually nothing is missing and that is all. */
	pthread_mutex_lock(&a->mu);
	lines = check_rotated(a, err, errlen) < 0 ? NULL : tail_lines(a->fd, err, errlen);
	pthread_mutex_unlock(&a->mu);
	if (lines == NULL)
		goto out;
	ev = orphans(lines, present, ctx, keep, err, errlen);
	g_strfreev(lines);
	if (ev == NULL || ev->len == 0) {
		rc = ev ? 0 : -1;
		goto out;
	}
	for (guint i = 0; i < ev->len; i++)
		g_hash_table_add(sp.ids, (gpointer)g_array_index(ev, struct tz_audit_event, i).id);
	g_array_unref(ev);
	ev = NULL;
	if (log_lock(a, err, errlen) < 0)
		goto out;
	/* Again under the lock, for those: two processes opening at once
	 * withdraw once, and one withdrawn meanwhile is not again. */
	lines = tail_lines(a->fd, err, errlen);
	if (lines) {
		ev = orphans(lines, present_suspects, &sp, keep, err, errlen);
		rc = ev == NULL ? -1 : ev->len == 0 ? 0 :
		     append_locked(a, (struct tz_audit_event *)ev->data, ev->len, err, errlen);
		if (rc == 0)
			*withdrawn = ev->len;
		g_strfreev(lines);
	}
	log_unlock(a);
out:
	if (ev)
		g_array_unref(ev);
	g_hash_table_unref(sp.ids);
	g_ptr_array_unref(keep);
	return rc;
}

/* Check one line against the expected seq/prev; fills next prev. */
int tz_audit_verify_line(const char *line, size_t len, unsigned long lineno, unsigned long *seq,
		       char prev[65], const unsigned char *key, char *err, size_t errlen)
{
	struct tz_jv *v = tz_jv_parse(line, len, NULL, 0);
	const char *p, *m, *sep = g_strstr_len(line, (gssize)len, MAC_SEP);
	char mac[65];
	int rc = 1;

	if (v == NULL || sep == NULL || (p = tz_jv_str(v, "prev")) == NULL ||
	    (m = tz_jv_str(v, "mac")) == NULL || tz_jv_str(v, "event") == NULL) {
		tz_err(err, errlen, "line %lu: not an audit record (altered or torn)", lineno);
		goto out;
	}
	chain_mac(key, line, (size_t)(sep - line), mac);
	if (strcmp(mac, m) != 0) {
		tz_err(err, errlen, "line %lu: record altered (its %s does not match)%s", lineno,
		       key ? "HMAC" : "hash", key ? " or wrong AuditKeyFile" : "");
		goto out;
	}
	if (tz_jv_int(v, "seq", 0) != (int64_t)(*seq + 1)) {
		tz_err(err, errlen, "line %lu: seq %lld where %lu was expected: records removed or reordered",
		       lineno, (long long)tz_jv_int(v, "seq", 0), *seq + 1);
		goto out;
	}
	if (strcmp(p, prev) != 0) {
		tz_err(err, errlen, "line %lu: does not chain to the previous record: records removed, reordered or replaced",
		       lineno);
		goto out;
	}
	*seq += 1;
	g_strlcpy(prev, m, 65);
	rc = 0;
out:
	tz_jv_free(v);
	return rc;
}

int tz_audit_verify(const char *path, const char *key_file, unsigned long *records,
		    unsigned long *bad_line, char *err, size_t errlen)
{
	unsigned char key[TZ_KEY_LEN];
	int has_key = 0, rc = -1;
	char prev[65] = ZERO_HASH, *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long seq = 0, lineno = 0;
	FILE *f = NULL;

	*records = 0;
	*bad_line = 0;
	if (key_file && *key_file) {
		if (tz_key_load(key_file, key, err, errlen) < 0)
			return -1;
		has_key = 1;
	}
	if (tz_pg_is_url(path)) {
		rc = tz_pgaudit_verify(path, has_key ? key : NULL, records, bad_line, err, errlen);
		goto out;
	}
	f = fopen(path, "re");
	if (f == NULL) {
		tz_err(err, errlen, "audit log %s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (line[n - 1] != '\n') {
			tz_err(err, errlen, "line %lu: torn record (no end of line)", lineno);
			rc = 1;
			break;
		}
		rc = tz_audit_verify_line(line, (size_t)n - 1, lineno, &seq, prev, has_key ? key : NULL,
				 err, errlen);
		if (rc != 0)
			break;
	}
	if (rc == 1)
		*bad_line = lineno;
	*records = seq;
out:
	if (f)
		fclose(f);
	free(line);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

char *tz_audit_newest(const char *location, unsigned n, size_t max_bytes, char *err, size_t errlen)
{
	FILE *f;
	char *buf;
	size_t got;
	long size;

	if (location == NULL)
		return NULL;
	if (tz_pg_is_url(location))
		return tz_pgaudit_newest(location, n, err, errlen);
	f = fopen(location, "re");
	if (f == NULL) {
		tz_err(err, errlen, "audit log %s: %s", location, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 ||
	    fseek(f, (size_t)size > max_bytes ? size - (long)max_bytes : 0, SEEK_SET) < 0) {
		tz_err(err, errlen, "audit log %s: %s", location, strerror(errno));
		fclose(f);
		return NULL;
	}
	buf = g_malloc(max_bytes + 1);
	got = fread(buf, 1, max_bytes, f);
	buf[got] = '\0';
	fclose(f);
	return buf;
}
