/* tz_notice.h — the notice at the top of every text-ized body, rendered
 * from a template (format documented in conf/notice-ja.txt), and the
 * localised strings the engine writes into the text (forwarded-message
 * markers, removed-uuencode markers, reasons, risk names). */
#ifndef TZ_NOTICE_H
#define TZ_NOTICE_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include "tz_engine.h"
#include "tz_part.h"

#define TZ_NOTICE_MAX_BYTES (64 * 1024)   /* largest template file accepted */

/* The built-in template for lang (static; identical to conf/notice-LANG.txt). */
const char *tz_notice_builtin(enum tz_notice_lang lang);

/* Read and check a template file (valid UTF-8, at most TZ_NOTICE_MAX_BYTES,
 * every block directive closed by {end}). NULL path gives a copy of the
 * built-in one. Returns a new string (g_free) or NULL with err. */
char *tz_notice_load(const char *path, enum tz_notice_lang lang, char *err, size_t errlen);

/* Check a template's block structure; 0, or -1 with "line N: reason". */
int tz_notice_check(const char *tmpl, char *err, size_t errlen);

/* What one notice is about. parts: the stripped parts (struct tz_part*),
 * borrowed; the HTML alternative among them is not listed but sets
 * {if:html}. details: NoticeDetails full (types, hashes). contact:
 * NoticeContact, NULL/"" for the built-in "情報セキュリティ担当".
 * sanitized_follow: SanitizedDelivery auto, sets {if:sanitized_follow}
 * (sanitized copies of the files follow in another message). */
struct tz_notice_opts {
	enum tz_notice_lang lang;
	const char *ref_id;
	bool encrypted;
	const GPtrArray *parts;
	bool details;
	const char *contact;
	bool sanitized_follow;
	const char *link;            /* signed staff link ({link}, {if:link}); NULL/"" = none */
};

/* Render tmpl for one message. Appends UTF-8 text ending in LF to out.
 * Values are inserted as given (filenames are display-safe already), cut
 * to a readable length. */
void tz_notice_render_opts(const char *tmpl, const struct tz_notice_opts *o, GString *out);
/* The same with the built-in template of o->lang (tz_notice_builtin),
 * split into lines once per process. */
void tz_notice_render_builtin(const struct tz_notice_opts *o, GString *out);

enum tz_notice_str {
	TZ_STR_FORWARDED_BEGIN = 0,  /* line before an inline message/rfc822 */
	TZ_STR_FORWARDED_END,        /* line after it */
	TZ_STR_NO_NAME,              /* "unnamed file" */
	TZ_STR_NONE,                 /* "none" */
	TZ_STR_REPORT_STATUS,        /* heading of delivery-status fields */
	TZ_STR_ENCODED_REMOVED,      /* marker format: %s name, %s ref ("id#n") */
	TZ_STR_NOTE_NO_TEXT,         /* note after the notice: nothing could be shown */
	TZ_STR_NOTE_HIDDEN,          /* note after the notice: files hidden in HTML removed */
	TZ_STR_COUNT
};
const char *tz_notice_string(enum tz_notice_lang lang, enum tz_notice_str s);
const char *tz_notice_reason(enum tz_notice_lang lang, enum tz_part_reason r);
/* Localised risk names joined with ", "; "" when none. g_free(). */
char *tz_notice_risks(enum tz_notice_lang lang, unsigned risk);
/* "812 バイト", "1.4 MB (1,468,006 バイト)" ... g_free(). */
char *tz_notice_size(enum tz_notice_lang lang, uint64_t bytes);
/* "812 バイト", "1.4 MB": the size as staff read it ({size}). g_free(). */
char *tz_notice_size_short(enum tz_notice_lang lang, uint64_t bytes);
/* A name staff recognise for a file's type ("PDF 文書", "Excel ブック"),
 * from the type detected from the content, else the declared one (either
 * may be NULL); "ファイル" when neither is known. Static. */
const char *tz_notice_kind(enum tz_notice_lang lang, const char *detected, const char *declared);

#endif
