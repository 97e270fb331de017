/* tz_engine_int.h — internals shared by tz_engine.c (the MIME walk) and
 * tz_conv.c (budgets, stripping) and tz_result.c (header edits, output,
 * JSON). Not part of the engine API. */
#ifndef TZ_ENGINE_INT_H
#define TZ_ENGINE_INT_H

#include <stdbool.h>
#include <gmime/gmime.h>
#include "tz_engine.h"

/* One field of the top-level header exactly as received. */
struct tz_rawhdr {
	char *name;    /* field name as written; owned */
	char *field;   /* the whole field, "Name: value" with its folding, line ends LF; owned */
	size_t field_len;  /* bytes of field: a NUL the sender wrote does not end it */
};

void tz_rawhdr_free(struct tz_rawhdr *h);

/* The unfolded value of a field (after "Name:", leading blanks removed). g_free(). */
char *tz_rawhdr_value(const struct tz_rawhdr *h);

/* Read the top-level header block from in's current position the way the
 * MTA sees it: a leading mbox "From " line is skipped, a line that is not a
 * field (no colon, or a bad name) ends the header. Fills fields (struct
 * tz_rawhdr*, caller frees the array with its free func set). Fails when
 * the block exceeds max_bytes or max_fields. */
int tz_rawhdr_read(GMimeStream *in, size_t max_bytes, unsigned max_fields,
		   GPtrArray **fields, char *err, size_t errlen);

/* tz_rawhdr_read that also says where a header ended without its blank
 * line: *no_blank_at = the offset (from in's position) of the first line
 * that is not a field, -1 when a blank line (or the end) ended it. */
int tz_rawhdr_read_end(GMimeStream *in, size_t max_bytes, unsigned max_fields,
		       GPtrArray **fields, gint64 *no_blank_at, char *err, size_t errlen);

/* Fill r->header_edits for the new body (cte = its transfer encoding).
 * forced (NULL, or one entry per field): a new UTF-8 value the engine
 * decided for that field (an encoded file cut out of it); "" drops it. */
void tz_result_build_edits(struct tz_result *r, const GPtrArray *fields, char *const *forced,
			   const struct tz_engine_options *opt, const char *cte);

/* A field the new message never keeps: the old MIME structure (Content-*,
 * MIME-Version) and any X-Textize a sender forged. */
bool tz_result_replaced_field(const char *name);

/* RFC 2047 B-encode UTF-8 text as a header value (folded with CRLF SP);
 * printable ASCII that spells no encoded word ("=?") and fits a line is
 * returned as is. g_free(). */
char *tz_header_encode_value(const char *utf8, size_t name_len);

struct tz_result *tz_result_new(const char *ref_id);

/* ---- tz_conv.c: one conversion's state, budgets and stripping ---- */

/* What the notice adds below the parts list. */
enum tz_note {
	TZ_NOTE_NO_TEXT = 1u << 0,   /* the body shows no text at all */
	TZ_NOTE_HIDDEN  = 1u << 1,   /* encoded files were found in hidden HTML */
};

/* One conversion in progress. */
struct conv {
	const struct tz_engine_options *opt;
	const struct tz_part_sink *sink;
	struct tz_result *res;
	GString *text;           /* UTF-8 text of the new body, after the notice */
	GString *hidden;         /* what HTML hid from the reader: scanned, never shown */
	unsigned nparts;         /* MIME entities seen, for max_parts */
	gint64 deadline;         /* g_get_monotonic_time() limit */
	size_t input_bytes;      /* size of the message, for max_output_ratio */
	bool charset_recorded;   /* res->body_charset_* set from the first text part */
	unsigned notes;          /* TZ_NOTE_* for the notice */
	guint subject_field;     /* 1 + index of the field res->subject was decoded from; 0 none */
	guint from_field;        /* the same for res->from */
	char *err;
	size_t errlen;
};

/* 0, or -1 with err set when the time budget is spent. */
int tz_conv_check_time(struct conv *c);
/* The large buffers alive now (live: those of the part at hand) plus the
 * body text, against the memory budget. */
int tz_conv_check_memory(struct conv *c, size_t live);
/* The body text against MaxOutputSize and MaxOutputRatio. */
int tz_conv_check_output(struct conv *c);
/* Bytes of text the body may still grow by under those two limits. */
size_t tz_conv_output_room(struct conv *c);
/* The bytes of a GByteArray, never NULL (an empty array may have no data). */
const char *tz_bytes_of(const GByteArray *a);
/* A leaf's decoded content into out (text parts only), at most cap bytes. */
int tz_conv_read_leaf(struct conv *c, GMimePart *part, GByteArray *out, size_t cap);
/* Strip one leaf: its decoded content through sniff and sink. */
int tz_conv_strip_leaf(struct conv *c, GMimeObject *obj, const char *path,
		       enum tz_part_reason reason, unsigned risk);
/* Strip in-memory bytes (a file cut out of text); takes filename and raw_name. */
int tz_conv_strip_bytes(struct conv *c, const char *path, enum tz_part_reason reason,
			char *filename, char *raw_name, const void *buf, size_t len);
/* Strip a leaf the body does not show, from its decoded bytes raw. */
int tz_conv_strip_unshown(struct conv *c, GMimeObject *obj, const char *path,
			  const GByteArray *raw, unsigned risk);
/* The whole original from start, as received, is the one stripped part. */
int tz_conv_strip_whole(struct conv *c, GMimeStream *in, gint64 start,
			enum tz_part_reason reason, unsigned risk);

/* ---- tz_input.c ---- */

/* A copy of in from start (the copy starts at 0) with a blank line
 * inserted at offset at: the end of a header that the MTA ended at a line
 * which is no field. g_object_unref(). */
GMimeStream *tz_engine_with_blank_line(GMimeStream *in, gint64 start, gint64 at);

/* ---- tz_classify.c ---- */

enum tz_leaf_kind { TZ_LEAF_PLAIN, TZ_LEAF_HTML, TZ_LEAF_STATUS, TZ_LEAF_ENCRYPTED, TZ_LEAF_STRIP };

/* "type/subtype" in lower case (text/plain when absent). g_free(). */
char *tz_mime_type(GMimeObject *obj);
/* The file name GMime decoded, before display-safety, or NULL. g_free(). */
char *tz_raw_filename(GMimeObject *obj);
/* application/pkcs7-mime that is enveloped (encrypted), not signed-data. */
bool tz_pkcs7_encrypted(GMimeObject *obj);
/* What to do with a leaf of type t; *reason says why when it is stripped. */
enum tz_leaf_kind tz_classify(GMimeObject *obj, const char *t, enum tz_part_reason *reason);
/* Text that only says "this is an HTML mail" (or is empty). */
bool tz_text_is_stub(const char *s, size_t len);
/* text/html, or a multipart whose root is one. */
bool tz_html_kind(GMimeObject *obj, int depth);
/* The top-level body is encrypted: nothing can be text-ized. */
bool tz_top_encrypted(GMimeObject *obj, int depth);

/* ---- tz_prescan.c ---- */

/* Scan the raw message from in's position to its end and fail (-1, err)
 * when it holds more than max_parts MIME parts, before GMime builds them.
 * Leaves the position at the end; the caller seeks back. */
int tz_prescan_parts(GMimeStream *in, unsigned max_parts, char *err, size_t errlen);
/* The same, also telling what it counted (tests compare scans with it). */
struct tz_prescan_counts {
	unsigned opens, dashes, bounds;
};
int tz_prescan_count(GMimeStream *in, unsigned max_parts, struct tz_prescan_counts *out,
		     char *err, size_t errlen);

#endif
