/* tz_jread.h — a small strict JSON reader for the documents the quarantine
 * writes itself (meta.json, audit records): objects, arrays, strings,
 * integers, true/false/null. Depth and size are bounded; anything else is
 * refused. */
#ifndef TZ_JREAD_H
#define TZ_JREAD_H

#include <stddef.h>
#include <stdint.h>
#include <glib.h>

enum tz_jtype { TZ_J_NULL = 0, TZ_J_BOOL, TZ_J_INT, TZ_J_STR, TZ_J_ARR, TZ_J_OBJ };

struct tz_jv {
	enum tz_jtype type;
	int64_t i;             /* TZ_J_INT, TZ_J_BOOL (0/1) */
	char *s;               /* TZ_J_STR, owned, valid UTF-8 */
	GPtrArray *items;      /* TZ_J_ARR: struct tz_jv*; TZ_J_OBJ: alternating key (TZ_J_STR) / value */
};

/* Parse one document; NULL with err on failure. Free with tz_jv_free. */
struct tz_jv *tz_jv_parse(const char *text, size_t len, char *err, size_t errlen);
void tz_jv_free(struct tz_jv *v);                     /* NULL is a no-op */

/* Member of an object, NULL when absent or v is not an object. */
const struct tz_jv *tz_jv_get(const struct tz_jv *v, const char *key);
/* Typed getters: the string (NULL when absent or JSON null), the integer
 * (def when absent). */
const char *tz_jv_str(const struct tz_jv *obj, const char *key);
int64_t tz_jv_int(const struct tz_jv *obj, const char *key, int64_t def);

#endif
