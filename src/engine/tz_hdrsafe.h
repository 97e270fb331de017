/* tz_hdrsafe.h — header hygiene for the sender's top-level fields that the
 * text-ized message keeps. A field with a bare CR, NUL or another control,
 * a line over RFC 5322's 998 octets, or bytes that are not UTF-8 is
 * rewritten (decoded, cleaned, encoded as 7-bit RFC 2047 and folded) or,
 * when it cannot be, dropped; fields that tell a mail client "this mail
 * has attachments" are dropped. The engine turns each decision into a
 * header edit, so the milter and `textizectl convert` apply the same bytes. */
#ifndef TZ_HDRSAFE_H
#define TZ_HDRSAFE_H

#include <stdbool.h>
#include <stddef.h>

enum tz_hdrsafe_action {
	TZ_HDRSAFE_KEEP = 0,
	TZ_HDRSAFE_REWRITE,   /* *value holds the new value */
	TZ_HDRSAFE_DROP,
};

/* Judge one field: name, and the whole field as received ("Name: value"
 * with its folding as LF, field_len bytes, NULs included). shown, when
 * not NULL, is the field's decoded text (the engine has it for the
 * Subject and the From readers show): a control, bidi control or line
 * separator in it (an encoded one) has the field rewritten too. On
 * REWRITE, *value receives the new value: 7-bit, folded with CRLF + SP,
 * every line within 998 octets (g_free). */
enum tz_hdrsafe_action tz_hdrsafe_judge(const char *name, const char *field, size_t field_len,
					const char *shown, char **value);

/* The field's bytes as received are safe to pass on (judge's test before
 * anything else: no control, no line over 998 octets, UTF-8). */
bool tz_hdrsafe_clean(const char *field, size_t field_len);

/* The text of a free-text field (the whole field as for judge) the way a
 * rewrite sees it: decoded, every control (encoded ones too) a blank. For
 * a value built from it (the Subject with SubjectPrefix), which must not
 * bring back what hygiene would have cleaned. g_free(). */
char *tz_hdrsafe_text(const char *field, size_t field_len);

/* Encode a UTF-8 value for the field `name` the way a rewrite does
 * (addresses through GMime, free text as RFC 2047 words, other fields
 * cleaned): 7-bit, folded with CRLF + SP. NULL when it cannot be (the
 * field is then dropped). g_free(). */
char *tz_hdrsafe_encode(const char *name, const char *utf8);

/* The field holds addresses (From, To, Reply-To, ...): a rewrite keeps
 * its structure as GMime parses it from the raw value. */
bool tz_hdrsafe_address_field(const char *name);

/* The addresses of an address field's raw value without display names
 * ("a@example.com, b@example.com"), for a value whose text must go; ""
 * for any other field or when none parse. g_free(). */
char *tz_hdrsafe_addresses_only(const char *name, const char *raw);

#endif
