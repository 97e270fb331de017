/* tz_body.h — the new body's bytes: UTF-8 text converted to the output
 * charset and transfer-encoded (base64 / quoted-printable), LF line ends,
 * no line over 998 octets. */
#ifndef TZ_BODY_H
#define TZ_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>
#include "tz_engine.h"

/* Encode text (valid UTF-8, LF line ends) for the body: to charset cs, then
 * transfer encoding enc — except that ISO-2022-JP is sent as "7bit" (the
 * form Japanese mail clients expect) when every line fits in 998 octets.
 * Appends to out; *cte receives the Content-Transfer-Encoding value
 * (static string). */
void tz_body_encode(enum tz_body_charset cs, enum tz_body_encoding enc,
		    const char *text, size_t len, GByteArray *out, const char **cte);

/* base64 in 76-character lines, each ending in LF. */
void tz_body_base64(const void *buf, size_t len, GByteArray *out);

/* Quoted-printable (RFC 2045): LF is a hard line break, lines are soft-broken
 * at 76 characters, trailing white space and a leading "From " or "." are
 * encoded so that no transport alters them. */
void tz_body_qp(const void *buf, size_t len, GByteArray *out);

/* True when no line of buf (LF-separated) is longer than max octets. */
bool tz_body_lines_fit(const void *buf, size_t len, size_t max);

#endif
