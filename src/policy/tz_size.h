/* tz_size.h — message size limits per direction (MaxMessageSizeInbound,
 * MaxMessageSizeOutbound): checked at MAIL from the ESMTP SIZE= parameter
 * and again while the message streams, so the milter can stop spooling at
 * the limit. 552 5.3.4. */
#ifndef TZ_SIZE_H
#define TZ_SIZE_H

#include <stdint.h>
#include "tz_envelope.h"
#include "tz_verdict.h"

struct tz_size_options {
	uint64_t max_inbound;    /* bytes, 0 = no limit */
	uint64_t max_outbound;   /* bytes, 0 = no limit */
	struct tz_rule_action act;  /* SizeAction: reject | tempfail | hold | tag | log */
};

#define TZ_SIZE_TEXT "Message size exceeds fixed maximum message size"

void tz_size_options_init(struct tz_size_options *o);   /* reject, no limits */

/* The value of a SIZE= parameter among the ESMTP MAIL arguments (NULL-
 * terminated, as libmilter passes them after the address), or -1 when
 * there is none or it is not a plain decimal number (the streaming check
 * still applies then). */
int64_t tz_size_param(char *const *esmtp_args);

/* At MAIL: fires (rule "size") when the declared size exceeds the limit. */
void tz_size_check_declared(const struct tz_size_options *o, enum tz_direction dir,
			    int64_t declared, struct tz_verdict *v);

/* While streaming: bytes seen so far (header + body). Returns true when the
 * limit is passed (and records the hit): the caller calls it until it
 * returns true, then stops counting, so a log/tag action fires once. */
bool tz_size_check_stream(const struct tz_size_options *o, enum tz_direction dir,
			  uint64_t bytes, struct tz_verdict *v);

#endif
