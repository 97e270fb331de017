/* tz_msghdr.h — the top-level header fields of one message as the MTA
 * handed them to the milter (name, raw value), in order, with each field's
 * occurrence index among fields of the same name (what smfi_chgheader
 * wants). Filled by the glue from xxfi_header, read by the policy rules.
 * Every byte in here is attacker-controlled. */
#ifndef TZ_MSGHDR_H
#define TZ_MSGHDR_H

#include <glib.h>

/* More fields than this make tz_msghdr_add fail: a policy error (tempfail),
 * never a silent pass. */
#define TZ_MSGHDR_MAX_FIELDS 10000

struct tz_msghdr_field {
	char *name;      /* as received, owned */
	char *value;     /* raw value as received (may be folded), owned */
	unsigned index;  /* 1-based occurrence among fields with this name */
};

struct tz_msghdr {
	GPtrArray *fields;    /* struct tz_msghdr_field* */
	GHashTable *counts;   /* lower-case name -> count (GUINT_TO_POINTER) */
};

struct tz_msghdr *tz_msghdr_new(void);       /* never NULL */
void tz_msghdr_free(struct tz_msghdr *h);    /* NULL is a no-op */

/* Append a field (copied). -1 when the field limit is reached. */
int tz_msghdr_add(struct tz_msghdr *h, const char *name, const char *value);

/* The raw value of the first field with this name (case-insensitive), or
 * NULL. Points into h. */
const char *tz_msghdr_get(const struct tz_msghdr *h, const char *name);

#define tz_msghdr_len(h) ((h)->fields->len)
#define tz_msghdr_nth(h, i) ((const struct tz_msghdr_field *)g_ptr_array_index((h)->fields, (i)))

/* The first token of a structured value (Auto-Submitted, Authentication-
 * Results, ...): leading CFWS skipped, up to the next ';', space or
 * comment; "" when there is none. g_free(). */
char *tz_msghdr_first_token(const char *value);

#endif
