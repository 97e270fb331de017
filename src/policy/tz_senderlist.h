/* tz_senderlist.h — the sender block/allow list (SenderListFile) the
 * security team writes from the console (textize-web: "block this sender"
 * on an entry) and the milter reads at MAIL FROM of inbound mail.
 *
 * The file, one entry a line, '#' comments:
 *     block sato@example.com      one address
 *     block example.net           a domain and its subdomains
 *     allow ceo@example.net       an exception to a block above
 * A blocked sender is refused at MAIL (rule "senderlist", 550 5.7.1).
 * "allow" only undoes a block: it skips no other rule, no scan and never
 * the text-ization (an allowed sender's mail is text-ized like all mail).
 * The most specific entry wins: an address over a domain, a longer domain
 * over a shorter one; for the same entry, allow over block.
 *
 * The file is re-read when its mtime, size or inode changed (checked at
 * each MAIL: a stat, no restart or signal needed); a file that cannot be
 * read keeps the last good list and is logged by the caller. */
#ifndef TZ_SENDERLIST_H
#define TZ_SENDERLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>
#include "tz_verdict.h"

enum tz_senderlist_kind { TZ_SENDER_NONE = 0, TZ_SENDER_BLOCK, TZ_SENDER_ALLOW };

struct tz_senderlist;

/* Parse text (the file's content). Lines that are not "block|allow
 * PATTERN" are skipped and counted in *bad (may be NULL). Never NULL. */
struct tz_senderlist *tz_senderlist_parse(const char *text, unsigned *bad);
void tz_senderlist_free(struct tz_senderlist *l);   /* NULL is a no-op */

/* What the list says about sender (the MAIL FROM address without <>):
 * the most specific entry's kind, TZ_SENDER_NONE when none matches or
 * the sender is the null sender. */
enum tz_senderlist_kind tz_senderlist_lookup(const struct tz_senderlist *l, const char *sender);

/* Fire rule "senderlist" (reject 550 5.7.1) on v when sender is blocked. */
#define TZ_SENDERLIST_TEXT "Sender blocked by the recipient's organisation"
void tz_senderlist_check(const struct tz_senderlist *l, const char *sender, struct tz_verdict *v);

/* A pattern as the file stores it: an address (local@domain) or a domain,
 * lower-cased, printable ASCII without spaces; NULL when it is neither
 * (g_free). Exposed for the console, which writes what the team chose. */
char *tz_senderlist_pattern(const char *s);

/* The file behind a list, re-read when it changed. Thread-safe. */
struct tz_senderlist_file;
struct tz_senderlist_file *tz_senderlist_file_new(const char *path);
void tz_senderlist_file_free(struct tz_senderlist_file *f);
/* Check sender against the current file (re-read first if it changed).
 * Returns 0, or -1 with err when the file changed but could not be read
 * (the last good list was used). A missing file is an empty list. */
int tz_senderlist_file_check(struct tz_senderlist_file *f, const char *sender,
			     struct tz_verdict *v, char *err, size_t errlen);
const char *tz_senderlist_file_path(const struct tz_senderlist_file *f);

/* Add "kind pattern" to the file at path unless that exact entry is
 * there (written to a temporary file, fsynced and renamed over, so the
 * milter never reads half a file). 0 added, 1 already there, -1 with
 * err. The caller serialises writers. */
int tz_senderlist_add(const char *path, enum tz_senderlist_kind kind, const char *pattern,
		      char *err, size_t errlen);

/* The entries of a list's text in file order (comments and lines that
 * are not entries left out). Array of struct tz_senderlist_entry*. */
struct tz_senderlist_entry {
	enum tz_senderlist_kind kind;
	char *pattern;                   /* as tz_senderlist_pattern() gives it */
};
void tz_senderlist_entry_free(struct tz_senderlist_entry *e);
GPtrArray *tz_senderlist_entries(const char *text);

/* Remove every line of the file at path that is the entry "kind pattern"
 * (however it is spelled: case, spaces); comments and other lines stay.
 * Written like tz_senderlist_add. 0 removed, 1 not there (or no file),
 * -1 with err. The caller serialises writers. */
int tz_senderlist_remove(const char *path, enum tz_senderlist_kind kind, const char *pattern,
			 char *err, size_t errlen);

#endif
