/* tz_clamd.h — a clamd client for the INSTREAM command: "zINSTREAM\0",
 * then chunks each prefixed by a 4-byte big-endian length, then a zero
 * length; the reply is "stream: OK", "stream: NAME FOUND" or "... ERROR".
 * The socket is a unix path ("/run/clamav/clamd.ctl") or HOST:PORT
 * ("127.0.0.1:3310", "[::1]:3310"). */
#ifndef TZ_CLAMD_H
#define TZ_CLAMD_H

#include <stddef.h>
#include "textize.h"

enum tz_clamd_verdict {
	TZ_CLAMD_CLEAN = 0,    /* stream: OK */
	TZ_CLAMD_FOUND = 1,    /* stream: NAME FOUND; the name is returned */
	TZ_CLAMD_REFUSED = 2,  /* clamd answered with an error (size limit, ...) */
	TZ_CLAMD_DOWN = -1,    /* no answer: connect/send/receive failed or timed out */
};

struct tz_clamd;   /* one INSTREAM scan in progress */

/* Connect and start a scan; NULL with err when clamd cannot be reached. */
struct tz_clamd *tz_clamd_begin(const char *socket_spec, unsigned timeout_s,
				char *err, size_t errlen);
/* Send data (split into chunks as needed). -1 when the connection broke;
 * tz_clamd_end then still reads whatever clamd said. */
int tz_clamd_write(struct tz_clamd *c, const void *buf, size_t len, char *err, size_t errlen);
/* Finish and read the verdict; name receives the signature (FOUND) or
 * clamd's error text (REFUSED). Frees c. */
enum tz_clamd_verdict tz_clamd_end(struct tz_clamd *c, char *name, size_t namelen,
				   char *err, size_t errlen);
void tz_clamd_abort(struct tz_clamd *c);   /* NULL is a no-op */

/* Parse one reply line (exposed for tests). */
enum tz_clamd_verdict tz_clamd_parse_reply(const char *reply, char *name, size_t namelen);

#endif
