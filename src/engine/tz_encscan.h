/* tz_encscan.h — find encoded files in the final body text.
 *
 * The engine calls this on the UTF-8 text it is about to deliver (transfer
 * and charset decoding done, HTML rendered, LF line ends, no controls but
 * TAB/LF) and cuts every block out as a quarantined part. The scanner
 * judges the text a reader gets, not what the message declared, so one
 * module decides for every path that produces body text.
 *
 * Blocks: uuencode (also begin-base64 and headerless full lines), BinHex
 * 4.0, yEnc, ASCII armor (-----BEGIN X----- with a payload), data: URLs,
 * ASCII85 between <~ and ~>,
 * and bare base64/base64url/base32/hex runs whose decoded bytes start with
 * a file signature or are long enough to be a file. Every line may carry a
 * quote/indent prefix of spaces, tabs, '>' and '|'. Rules and thresholds:
 * docs/security.md, "Encoded files in body text".
 *
 * Cost: linear in the text (every byte is looked at a bounded number of
 * times); memory: the block list plus the decoded bytes of the blocks, at
 * most max_blocks blocks (the last one then runs to the end of the text). */
#ifndef TZ_ENCSCAN_H
#define TZ_ENCSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

enum tz_enc_kind {
	TZ_ENCBLK_UUENCODE,
	TZ_ENCBLK_UU_BASE64,   /* begin-base64 ... ==== (uuencode -m) */
	TZ_ENCBLK_BINHEX,
	TZ_ENCBLK_YENC,
	TZ_ENCBLK_ARMOR,       /* any -----BEGIN X----- block with payload: PGP, PEM, PKCS7 */
	TZ_ENCBLK_BASE64,      /* base64 or base64url run */
	TZ_ENCBLK_BASE32,
	TZ_ENCBLK_HEX,         /* compact, separated ("4d 5a", "0x4d,", "\x4d", "%4D") or a hex dump */
	TZ_ENCBLK_DATA_URL,
	TZ_ENCBLK_ASCII85,     /* <~ ... ~> */
	TZ_ENCBLK_COUNT
};

struct tz_enc_block {
	size_t start, stop;    /* byte range in the text to remove: whole lines (LF
				  included) where the block is lines; the URL or the
				  token only for data: URLs and in-line runs */
	enum tz_enc_kind kind;
	char *name;            /* UTF-8 file name found in the block (begin line, yEnc
				  name=, BinHex header), NULL when none; owned */
	GByteArray *data;      /* decoded bytes when decodable, else the block's raw
				  text; owned, never NULL */
	gboolean decoded;      /* data holds decoded bytes (FALSE: raw text) */
	const char *reason;    /* static, why it counts: "signature PE", "begin line",
				  "length", ... (for logs and tests) */
};

struct tz_encscan_limits {
	/* Decoded bytes that make a bare base64/base32/hex run "long enough to
	 * be a file" without a signature (default 1024: see docs/security.md). */
	size_t min_b64_file;
	/* Decoded bytes a run needs before a 4-byte-or-longer file signature
	 * counts (default 16), and before a 2-3 byte one counts (default 48). */
	size_t min_sig_strong, min_sig_weak;
	/* Payload characters a data: URL needs (default 1: any payload). */
	size_t min_data_url;
	/* Consecutive headerless full uuencode lines ("M" + 60) that count
	 * without a begin line (default 3). */
	size_t min_uu_lines;
	/* At most this many blocks (default 10000); the last block then runs to
	 * the end of the text, so nothing past the cap is delivered unjudged. */
	size_t max_blocks;
};

void tz_encscan_limits_init(struct tz_encscan_limits *l);

/* Scan text[0..len). Returns the blocks, non-overlapping, in order of start
 * (GPtrArray of struct tz_enc_block *, free func set: g_ptr_array_unref
 * frees them). l NULL = defaults. Never NULL. */
GPtrArray *tz_encscan(const char *text, size_t len, const struct tz_encscan_limits *l);

void tz_enc_block_free(struct tz_enc_block *b);   /* NULL is a no-op */

/* "uuencode", "uu-base64", "binhex", "yenc", "armor", "base64", "base32",
 * "hex", "data-url", "ascii85"; static. */
const char *tz_enc_kind_name(enum tz_enc_kind k);

/* The file type whose signature (magic number) buf starts with — "PE",
 * "ZIP", "PDF", ..., also markup a browser runs ("HTML", "script", "SVG",
 * "XML") — or NULL. *strong: the signature is 4 bytes or longer. The one
 * table every content check of the engine uses. Static string. */
const char *tz_encscan_signature(const void *buf, size_t len, bool *strong);

#endif
