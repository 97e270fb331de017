/* tz_sniff.h — look at a stripped part while it streams past: SHA-256,
 * size, libmagic type of the first bytes, and a scan for the structures that
 * make a file risky (ZIP entries: encryption flag, vbaProject.bin,
 * executables inside; OLE macro/encryption streams; PDF JavaScript). Never
 * holds more than a fixed head of the content in memory. */
#ifndef TZ_SNIFF_H
#define TZ_SNIFF_H

#include <stddef.h>
#include "tz_part.h"

struct tz_sniff;

/* A fresh scanner, NULL only when OpenSSL cannot set up SHA-256. Free with
 * tz_sniff_free. */
struct tz_sniff *tz_sniff_new(void);
void tz_sniff_free(struct tz_sniff *s);   /* NULL is a no-op */

/* Feed the next len decoded bytes. */
void tz_sniff_update(struct tz_sniff *s, const void *buf, size_t len);

/* Complete p: size, sha256, detected_type (replaced), and risk bits (added)
 * from the content, p->filename, p->declared_type and raw_name — the
 * decoded name before it was made display-safe (NULL when none), used to
 * find bidi/control characters. Returns 0, or -1 with err when hashing
 * fails. The scanner cannot be fed again afterwards. */
int tz_sniff_finish(struct tz_sniff *s, struct tz_part *p, const char *raw_name,
		    char *err, size_t errlen);

/* The risk bits that a file name alone carries (executable / archive /
 * macro / script extension, double extension, control characters). */
unsigned tz_sniff_name_risk(const char *name);

/* libmagic MIME type of buf ("application/octet-stream" when libmagic
 * cannot tell). Thread-safe: borrows a handle from a process-wide pool of
 * at most one per CPU. Returns a new string, g_free(). */
char *tz_sniff_magic_type(const void *buf, size_t len);

/* Load one pooled magic handle now (optional: done lazily). */
void tz_sniff_thread_init(void);

#endif
