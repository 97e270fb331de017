/* tz_ambig.h — is a MIME entity's structure ambiguous? A header that two
 * readers (GMime, a mail client, a curious staff member's tool) could take
 * two ways is never resolved towards "text": the engine strips the entity
 * whole and lists it. Pure function of the parsed entity. */
#ifndef TZ_AMBIG_H
#define TZ_AMBIG_H

#include <stdbool.h>
#include <gmime/gmime.h>

enum tz_ambiguity {
	TZ_AMBIG_NONE = 0,
	TZ_AMBIG_DUP_CONTENT_TYPE,   /* Content-Type twice with different values */
	TZ_AMBIG_DUP_CTE,            /* Content-Transfer-Encoding twice with different values */
	TZ_AMBIG_DUP_PARAM,          /* a Content-Type parameter (boundary, charset...) twice, different values */
	TZ_AMBIG_UNKNOWN_CTE,        /* a transfer encoding nobody defines (RFC 2045 6.4: octet-stream) */
	TZ_AMBIG_ENCODED_MULTIPART,  /* multipart or message/rfc822 with base64/QP/uuencode (RFC 2045 6.4) */
	TZ_AMBIG_NO_BOUNDARY,        /* multipart without a usable boundary parameter */
};

/* Judge obj. A part with no header at all is not ambiguous: RFC 2046
 * 5.1.1 defines it as text/plain; US-ASCII, real mail has them, and its
 * content is judged like any text (tz_textjudge, the final-text scan). */
enum tz_ambiguity tz_ambiguity_of(GMimeObject *obj);

/* "duplicate Content-Type", ... for logs and JSON; static. */
const char *tz_ambiguity_name(enum tz_ambiguity a);

#endif
