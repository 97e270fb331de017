/* tz_encscan_int.h — what the two halves of the encoded-file scanner share:
 * tz_encscan.c (line-shaped blocks: uuencode, BinHex, yEnc, armor, the
 * driver) and tz_encrun.c (runs: data: URLs, base64/base32/hex, file
 * signatures, the decoders). Not for other modules. */
#ifndef TZ_ENCSCAN_INT_H
#define TZ_ENCSCAN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

#include "tz_encscan.h"

/* One line of the text: [start, end) without the LF; next = start of the
 * following line (len at the end). c = first byte after the quote/indent
 * prefix (spaces, tabs, '>', '|'); cend = end without trailing spaces, tabs
 * and CR leftovers (cend >= c). */
struct enc_line {
	size_t start, end, next, c, cend;
};

/* The line that starts at off (off < len). */
void enc_line_at(const char *t, size_t len, size_t off, struct enc_line *ln);

struct run;
struct hexrun;

/* A scan in progress: the text, the limits and the blocks found so far.
 * Each pass (the lines, then each kind of run in the gaps) may add up to
 * max_blocks blocks: nnew counts the current pass's, which enc_add appends
 * to blocks after the base blocks the pass runs between. */
struct enc_scan {
	const char *t;
	size_t len;
	const struct tz_encscan_limits *l;
	GPtrArray *blocks;
	size_t nnew;
	struct run *run;       /* run scratch, made on the first candidate, */
	struct hexrun *hex;    /* freed by tz_encscan (enc_scratch_free) */
	const signed char *hqx;   /* BinHex character values, -1 = not one */
	const signed char *uut, *xxt;   /* uuencode, xxencode values */
};

/* Append a block (data: decoded bytes, or NULL = raw text of the range);
 * takes ownership of name and data. */
struct tz_enc_block *enc_add(struct enc_scan *s, size_t start, size_t stop,
			     enum tz_enc_kind kind, char *name, GByteArray *data,
			     const char *reason);

/* Fill the character tables (once per process; tz_encscan calls it). */
void enc_tables_init(void);

/* Value of a base64 (either alphabet) character, -1 when not one. */
int enc_b64val(unsigned char c);

/* Decode every base64 character in [from, to) (both alphabets; anything
 * else is skipped), appending to out; skip the first `skip` characters. */
void enc_b64_decode(const char *t, size_t from, size_t to, size_t skip, GByteArray *out);

/* The name of the file signature at the start of b (n bytes), NULL when
 * none. *strong: the signature is 4 bytes or longer. */
const char *enc_signature(const unsigned char *b, size_t n, bool *strong);

/* Widen a run's range to whole lines where only a prefix precedes it and
 * only spaces follow it. */
void enc_widen(const struct enc_scan *s, size_t *rs, size_t *re);

/* The pass may add another block (fewer than max_blocks so far). */
static inline bool enc_room(const struct enc_scan *s)
{
	return s->nnew < s->l->max_blocks;
}

/* Free the run scratch of a scan. */
void enc_scratch_free(struct enc_scan *s);

/* Runs and data: URLs in the gap [from, to) of the text. */
void enc_scan_dataurls(struct enc_scan *s, size_t from, size_t to);
void enc_scan_a85(struct enc_scan *s, size_t from, size_t to);
void enc_scan_b64runs(struct enc_scan *s, size_t from, size_t to);
void enc_scan_hexruns(struct enc_scan *s, size_t from, size_t to);

#endif
