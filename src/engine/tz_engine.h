/* tz_engine.h — the text-ization engine: one message in (a GMime stream),
 * header edits + a new text/plain body + the list of stripped parts out.
 * No libmilter, no syslog: the caller decides what to do with the result. */
#ifndef TZ_ENGINE_H
#define TZ_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <gmime/gmime.h>
#include "textize.h"
#include "tz_part.h"

enum tz_body_charset { TZ_BODY_UTF8 = 0, TZ_BODY_ISO2022JP };
enum tz_body_encoding { TZ_ENC_BASE64 = 0, TZ_ENC_QP };
enum tz_notice_lang { TZ_NOTICE_JA = 0, TZ_NOTICE_EN };

/* Hard limits; reaching one makes tz_engine_convert fail (an error result,
 * which the milter turns into a tempfail or reject). 0 never means
 * "unlimited" — defaults are set by tz_engine_options_init. */
struct tz_limits {
	unsigned max_mime_depth;      /* nesting of multiparts / message/rfc822 (default 32) */
	unsigned max_parts;           /* MIME parts in one message (default 1000) */
	unsigned max_headers;         /* header fields in one entity (default 1000) */
	size_t max_header_bytes;      /* bytes of one entity's header block (default 1 MiB) */
	unsigned max_html_depth;      /* element nesting the HTML renderer follows (default 256) */
	size_t max_output_bytes;      /* bytes of the new body (default 16 MiB) */
	unsigned time_budget_ms;      /* wall time for one conversion (default 20000) */
	unsigned max_html_nodes;      /* elements + attributes + comments libxml2 may build for one
				       * HTML part (default 200000: ~100 MB of DOM with the text
				       * nodes between them; a 3 MB newsletter has ~60000); config
				       * key MaxHtmlNodes; 0 here also means the default */
	unsigned max_output_ratio;    /* body text at most this many times the message's size,
				       * plus 192 KiB for the notice (default 3; MaxOutputRatio) */
	size_t max_memory_bytes;      /* the large buffers one conversion holds at once: a part's
				       * decoded bytes, its text, its rendering and the body text
				       * (default 256 MiB; MaxConversionMemory) */
};

struct tz_engine_options {
	enum tz_body_charset body_charset;   /* default UTF-8 */
	enum tz_body_encoding body_encoding; /* default base64 */
	const char *subject_prefix;          /* UTF-8 prefix for Subject, NULL/"" = none */
	const char *notice_template;         /* path of a template file, NULL = built-in */
	enum tz_notice_lang notice_lang;     /* built-in template language, default ja */
	bool notice_details;                 /* NoticeDetails full: MIME types and SHA-256 */
	const char *notice_contact;          /* NoticeContact, NULL/"" = built-in wording */
	struct tz_limits limits;
	bool sanitized_follow;               /* SanitizedDelivery auto: the notice says
					      * sanitized copies will follow */
	const char *staff_link;              /* signed link to the staff page for the notice's
					      * {link} (tz_weblink.h); NULL = none */
	const char *display_ref;             /* 参照番号 shown to staff ({ref_id}, {ref}),
					      * NULL = the ref_id given to tz_engine_convert */
};

/* Fill o with the built-in defaults. */
void tz_engine_options_init(struct tz_engine_options *o);

/* Receives the decoded bytes of every stripped part, in order, while the
 * engine decodes it (the quarantine store implements this). begin() sees the
 * part with name and types set; end() sees it complete (size, sha256,
 * detected type, risk). Any callback returning -1 aborts the conversion
 * with that error. A NULL sink or NULL callbacks are allowed. */
struct tz_part_sink {
	void *ctx;
	int (*begin)(void *ctx, const struct tz_part *part, char *err, size_t errlen);
	int (*write)(void *ctx, const void *buf, size_t len, char *err, size_t errlen);
	int (*end)(void *ctx, const struct tz_part *part, char *err, size_t errlen);
};

enum tz_header_op { TZ_HDR_DELETE = 0, TZ_HDR_ADD, TZ_HDR_CHANGE };

/* One edit of the top-level header. index is the 1-based occurrence among
 * the fields with this name (DELETE/CHANGE) in the original header; edits
 * are listed in the order they must be applied (deletions of one name from
 * the highest index down). The milter makes them together with the
 * policy's, in the order of tz_hdrplan.h. */
struct tz_header_edit {
	enum tz_header_op op;
	char *name;     /* owned */
	unsigned index;
	char *value;    /* owned, 7-bit, unfolded or folded with CRLF+WSP; NULL for DELETE */
};

enum tz_result_kind {
	TZ_KIND_TEXT = 0,    /* ordinary mail: text kept or rendered */
	TZ_KIND_ENCRYPTED,   /* encrypted: nothing could be text-ized, original stripped */
	TZ_KIND_REPORT,      /* multipart/report rendered */
};

struct tz_result {
	enum tz_result_kind kind;
	GPtrArray *header_edits;     /* struct tz_header_edit*, owned */
	GByteArray *body;            /* the new body: transfer-encoded, lines end in LF, none over 998 octets */
	GPtrArray *parts;            /* struct tz_part*, stripped parts in order, owned */
	char ref_id[TZ_ID_LEN];      /* the id given to tz_engine_convert */
	char *body_charset_declared; /* charset declared by the chosen text part, NULL when none */
	char *body_charset_used;     /* charset actually used to decode it */
	bool body_charset_detected;  /* the declared charset failed or was absent: `used` was detected */
	bool body_undecodable;       /* some source bytes could not be decoded (replaced) */
	char *subject;               /* decoded Subject, UTF-8, NULL when absent */
	char *message_id;            /* Message-ID as in the header, NULL when absent */
	char *from;                  /* decoded From, UTF-8, NULL when absent */
	char *date;                  /* Date as in the header, NULL when absent */
	size_t text_bytes;           /* bytes of the UTF-8 text before transfer encoding */
	unsigned headers_fixed;      /* kept sender fields rewritten or dropped (tz_hdrsafe) */
};

/* Convert the message read from `in` (not consumed beyond need; the caller
 * keeps ownership). ref_id is the reference printed in the notice and in
 * X-Textize. On success returns 0 and *out (free with tz_result_free). On
 * any failure (parse error, limit reached, sink error, out of time) returns
 * -1 with a one-line reason in err and *out == NULL. */
int tz_engine_convert(const struct tz_engine_options *opt, GMimeStream *in,
		      const char *ref_id, const struct tz_part_sink *sink,
		      struct tz_result **out, char *err, size_t errlen);

void tz_result_free(struct tz_result *r);   /* NULL is a no-op */

/* The stream the engine reads for `in` (from its current position): `in`
 * itself (a new reference) or, for mail whose lines end in CR alone, a
 * copy with LF line ends. tz_engine_convert uses it; a caller that reads
 * the message again (tz_result_write_message) must read this one too.
 * g_object_unref() the result. */
GMimeStream *tz_engine_input(GMimeStream *in);

/* Write the whole new message (kept top-level headers with the edits applied,
 * then the body) to `out`, as textizectl convert prints it. `in` must be the
 * same message, rewound. */
int tz_result_write_message(const struct tz_result *r, GMimeStream *in,
			    FILE *out, char *err, size_t errlen);

/* JSON summary (textizectl convert --json): charsets declared/used, every
 * stripped part with its fields. Caller g_free()s. */
char *tz_result_to_json(const struct tz_result *r);

/* Must be called once per process before any conversion (g_mime_init and
 * libmagic setup); idempotent and thread-safe. */
void tz_engine_global_init(void);

#endif
