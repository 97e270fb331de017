/* tz_json.h — a small streaming JSON writer (objects, arrays, strings,
 * numbers) used for the conversion summary and the quarantine metadata.
 * Output is always valid JSON: strings are escaped, control characters
 * written as \u00XX, and invalid UTF-8 replaced by U+FFFD. */
#ifndef TZ_JSON_H
#define TZ_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

/* Append s (len bytes, or up to NUL when len is (size_t)-1) as a quoted,
 * escaped JSON string. NULL s writes null. */
void tz_json_escape(GString *out, const char *s, size_t len);

#define TZ_JSON_MAX_DEPTH 32

struct tz_json {
	GString *out;                        /* the text so far; owned */
	unsigned depth;
	bool first[TZ_JSON_MAX_DEPTH + 1];   /* nothing written yet at this level */
};

/* A writer with an empty output. Free with tz_json_free, or take the text
 * with tz_json_finish. */
struct tz_json *tz_json_new(void);
void tz_json_free(struct tz_json *j);            /* NULL is a no-op */
/* Returns the text (caller g_free()s) and frees the writer. */
char *tz_json_finish(struct tz_json *j);

/* `key` is the member name inside an object, NULL inside an array or at the
 * top level. Nesting deeper than TZ_JSON_MAX_DEPTH is ignored (the program
 * never does that; the limit keeps the writer from overflowing). */
void tz_json_begin_object(struct tz_json *j, const char *key);
void tz_json_end_object(struct tz_json *j);
void tz_json_begin_array(struct tz_json *j, const char *key);
void tz_json_end_array(struct tz_json *j);
void tz_json_string(struct tz_json *j, const char *key, const char *value);  /* NULL -> null */
void tz_json_string_len(struct tz_json *j, const char *key, const char *value, size_t len);
void tz_json_int(struct tz_json *j, const char *key, int64_t v);
void tz_json_uint(struct tz_json *j, const char *key, uint64_t v);
void tz_json_bool(struct tz_json *j, const char *key, bool v);
void tz_json_null(struct tz_json *j, const char *key);

#endif
