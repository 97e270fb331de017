/* tz_senderlist.c — the sender block/allow list (tz_senderlist.h). */
#include "tz_senderlist.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>

#include "tz_util.h"

#define LIST_MAX (4u << 20)   /* a list file larger than this is refused */

struct tz_senderlist {
	GHashTable *entries;   /* pattern -> GINT_TO_POINTER(kind), allow wins a tie */
};

char *tz_senderlist_pattern(const char *s)
{
	const char *at;
	char *low;

	if (s == NULL || *s == '\0' || strlen(s) > 254)
		return NULL;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || strchr("<>\"(),;:[]\\", *p))
			return NULL;
	at = strchr(s, '@');
	if (at && (at == s || strchr(at + 1, '@') || at[1] == '\0'))
		return NULL;
	low = g_ascii_strdown(s, -1);
	/* a domain: at least one dot, no empty label */
	{
		const char *d = at ? low + (at - s) + 1 : low;
		if (!strchr(d, '.') || d[0] == '.' || g_str_has_suffix(d, ".") || strstr(d, "..")) {
			g_free(low);
			return NULL;
		}
	}
	return low;
}

/* One line: 1 an entry (*kind, *pat g_free), 0 blank or comment, -1 not
 * an entry. */
static int parse_line(const char *line, enum tz_senderlist_kind *kind, char **pat)
{
	char *s = g_strstrip(g_strdup(line)), **f, *tok[3] = { NULL, NULL, NULL };
	unsigned n = 0;

	*kind = TZ_SENDER_NONE;
	*pat = NULL;
	if (*s == '\0' || *s == '#') {
		g_free(s);
		return 0;
	}
	f = g_strsplit_set(s, " \t", -1);
	for (char **t = f; *t; t++)
		if (**t && n < 3)
			tok[n++] = *t;
	if (n == 2 && g_ascii_strcasecmp(tok[0], "block") == 0)
		*kind = TZ_SENDER_BLOCK;
	else if (n == 2 && g_ascii_strcasecmp(tok[0], "allow") == 0)
		*kind = TZ_SENDER_ALLOW;
	if (*kind != TZ_SENDER_NONE)
		*pat = tz_senderlist_pattern(tok[1]);
	g_strfreev(f);
	g_free(s);
	return *pat ? 1 : -1;
}

struct tz_senderlist *tz_senderlist_parse(const char *text, unsigned *bad)
{
	struct tz_senderlist *l = g_new0(struct tz_senderlist, 1);
	char **lines = g_strsplit(text ? text : "", "\n", -1);
	unsigned nbad = 0;

	l->entries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (char **ln = lines; *ln; ln++) {
		enum tz_senderlist_kind k;
		char *pat = NULL;
		int rc = parse_line(*ln, &k, &pat);

		if (rc == 0)
			continue;
		if (rc < 0)
			nbad++;
		else if (GPOINTER_TO_INT(g_hash_table_lookup(l->entries, pat)) == TZ_SENDER_ALLOW)
			g_free(pat);   /* the same entry allowed and blocked: allow */
		else
			g_hash_table_replace(l->entries, pat, GINT_TO_POINTER(k));
	}
	g_strfreev(lines);
	if (bad)
		*bad = nbad;
	return l;
}

void tz_senderlist_free(struct tz_senderlist *l)
{
	if (l == NULL)
		return;
	g_hash_table_unref(l->entries);
	g_free(l);
}

enum tz_senderlist_kind tz_senderlist_lookup(const struct tz_senderlist *l, const char *sender)
{
	const char *at = sender ? strrchr(sender, '@') : NULL;
	enum tz_senderlist_kind k = TZ_SENDER_NONE;
	char *low;

	if (l == NULL || at == NULL || at == sender || at[1] == '\0')
		return TZ_SENDER_NONE;
	low = g_ascii_strdown(sender, -1);
	/* the address, then the domain and each parent domain */
	k = GPOINTER_TO_INT(g_hash_table_lookup(l->entries, low));
	for (const char *d = low + (at - sender) + 1; k == TZ_SENDER_NONE && d; ) {
		k = GPOINTER_TO_INT(g_hash_table_lookup(l->entries, d));
		d = strchr(d, '.');
		d = d ? d + 1 : NULL;
	}
	g_free(low);
	return k;
}

void tz_senderlist_check(const struct tz_senderlist *l, const char *sender, struct tz_verdict *v)
{
	if (tz_senderlist_lookup(l, sender) == TZ_SENDER_BLOCK)
		tz_verdict_hit(v, TZ_RULE_SENDERLIST, TZ_ACTION_REJECT, "550", "5.7.1", TZ_SENDERLIST_TEXT,
			       "sender <%s> is on SenderListFile's block list", sender);
}

/* ---- the file, re-read when it changes ---- */

struct tz_senderlist_file {
	char *path;
	pthread_mutex_t lock;
	struct tz_senderlist *list;   /* last good one; NULL before the first read */
	struct stat seen;             /* what it was read from */
	bool have_seen;
};

struct tz_senderlist_file *tz_senderlist_file_new(const char *path)
{
	struct tz_senderlist_file *f = g_new0(struct tz_senderlist_file, 1);

	f->path = g_strdup(path);
	pthread_mutex_init(&f->lock, NULL);
	return f;
}

void tz_senderlist_file_free(struct tz_senderlist_file *f)
{
	if (f == NULL)
		return;
	tz_senderlist_free(f->list);
	pthread_mutex_destroy(&f->lock);
	g_free(f->path);
	g_free(f);
}

const char *tz_senderlist_file_path(const struct tz_senderlist_file *f)
{
	return f->path;
}

static bool same(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Under f->lock: re-read when the file changed. 0, or -1 (last list kept). */
static int refresh(struct tz_senderlist_file *f, char *err, size_t errlen)
{
	struct stat st;
	char *text = NULL;
	gsize len = 0;
	GError *ge = NULL;

	if (stat(f->path, &st) != 0) {
		if (errno != ENOENT)
			return tz_err(err, errlen, "%s: %s", f->path, strerror(errno));
		tz_senderlist_free(f->list);   /* removed: nobody is blocked */
		f->list = tz_senderlist_parse("", NULL);
		f->have_seen = false;
		return 0;
	}
	if (f->have_seen && f->list && same(&st, &f->seen))
		return 0;
	if (st.st_size > LIST_MAX)
		return tz_err(err, errlen, "%s: larger than %u bytes", f->path, LIST_MAX);
	if (!g_file_get_contents(f->path, &text, &len, &ge)) {
		tz_err(err, errlen, "%s", ge->message);
		g_error_free(ge);
		return -1;
	}
	tz_senderlist_free(f->list);
	f->list = tz_senderlist_parse(text, NULL);
	f->seen = st;
	f->have_seen = true;
	g_free(text);
	return 0;
}

int tz_senderlist_file_check(struct tz_senderlist_file *f, const char *sender,
			     struct tz_verdict *v, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&f->lock);
	rc = refresh(f, err, errlen);
	tz_senderlist_check(f->list, sender, v);
	pthread_mutex_unlock(&f->lock);
	return rc;
}

static bool has_line(const char *text, const char *line)
{
	char **ls = g_strsplit(text, "\n", -1);
	bool found = false;

	for (char **p = ls; *p && !found; p++)
		found = g_ascii_strcasecmp(g_strstrip(*p), line) == 0;
	g_strfreev(ls);
	return found;
}

/* The whole of out into the new file tmp, on disk before it is renamed. */
static int write_new(const char *tmp, const GString *out, char *err, size_t errlen)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);

	if (fd < 0)
		return tz_err(err, errlen, "%s: %s", tmp, strerror(errno));
	if (tz_write_all(fd, out->str, out->len) < 0 || fsync(fd) != 0) {
		tz_err(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) != 0) {
		unlink(tmp);
		return tz_err(err, errlen, "%s: %s", tmp, strerror(errno));
	}
	return 0;
}

/* out replaces path: a temporary file, fsynced, renamed over (the milter
 * never reads half a file). 0 or -1 with err. */
static int replace_file(const char *path, const GString *out, char *err, size_t errlen)
{
	char *tmp = g_strconcat(path, ".tmp", NULL);
	int rc = -1;

	if (write_new(tmp, out, err, errlen) != 0)
		goto out;
	if (rename(tmp, path) != 0) {
		tz_err(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	g_free(tmp);
	return rc;
}

int tz_senderlist_add(const char *path, enum tz_senderlist_kind kind, const char *pattern,
		      char *err, size_t errlen)
{
	const char *word = kind == TZ_SENDER_BLOCK ? "block" : "allow";
	char *text = NULL, *line = NULL, *pat = tz_senderlist_pattern(pattern);
	GString *out = NULL;
	gsize len = 0;
	int rc = -1;

	if (pat == NULL || kind == TZ_SENDER_NONE) {
		g_free(pat);
		return tz_err(err, errlen, "not an address or a domain");
	}
	if (!g_file_get_contents(path, &text, &len, NULL)) {
		if (access(path, F_OK) == 0) {
			tz_err(err, errlen, "%s: cannot read", path);
			goto out;
		}
		text = g_strdup("# textize sender list (SenderListFile): block|allow ADDRESS|DOMAIN\n");
		len = strlen(text);
	}
	line = g_strdup_printf("%s %s", word, pat);
	if (has_line(text, line)) {
		rc = 1;
		goto out;
	}
	out = g_string_new_len(text, (gssize)len);
	if (out->len && out->str[out->len - 1] != '\n')
		g_string_append_c(out, '\n');
	g_string_append_printf(out, "%s\n", line);
	rc = replace_file(path, out, err, errlen);
out:
	if (out)
		g_string_free(out, TRUE);
	g_free(text);
	g_free(line);
	g_free(pat);
	return rc;
}

void tz_senderlist_entry_free(struct tz_senderlist_entry *e)
{
	if (e == NULL)
		return;
	g_free(e->pattern);
	g_free(e);
}

GPtrArray *tz_senderlist_entries(const char *text)
{
	GPtrArray *a = g_ptr_array_new_with_free_func((GDestroyNotify)tz_senderlist_entry_free);
	char **lines = g_strsplit(text ? text : "", "\n", -1);

	for (char **ln = lines; *ln; ln++) {
		struct tz_senderlist_entry *e = g_new0(struct tz_senderlist_entry, 1);

		if (parse_line(*ln, &e->kind, &e->pattern) == 1)
			g_ptr_array_add(a, e);
		else
			tz_senderlist_entry_free(e);
	}
	g_strfreev(lines);
	return a;
}

int tz_senderlist_remove(const char *path, enum tz_senderlist_kind kind, const char *pattern,
			 char *err, size_t errlen)
{
	char *text = NULL, *pat = tz_senderlist_pattern(pattern), **lines = NULL;
	GString *out = NULL;
	unsigned removed = 0;
	int rc = -1;

	if (pat == NULL || kind == TZ_SENDER_NONE) {
		g_free(pat);
		return tz_err(err, errlen, "not an address or a domain");
	}
	if (!g_file_get_contents(path, &text, NULL, NULL)) {
		rc = access(path, F_OK) == 0 ? tz_err(err, errlen, "%s: cannot read", path) : 1;
		goto out;
	}
	lines = g_strsplit(text, "\n", -1);
	out = g_string_new(NULL);
	for (char **ln = lines; *ln; ln++) {
		enum tz_senderlist_kind k;
		char *p = NULL;

		if (parse_line(*ln, &k, &p) == 1 && k == kind && strcmp(p, pat) == 0)
			removed++;   /* every spelling of the entry goes */
		else if (**ln || ln[1])
			g_string_append_printf(out, "%s\n", *ln);
		g_free(p);
	}
	rc = removed ? replace_file(path, out, err, errlen) : 1;
out:
	if (out)
		g_string_free(out, TRUE);
	g_strfreev(lines);
	g_free(text);
	g_free(pat);
	return rc;
}
