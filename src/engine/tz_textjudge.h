/* tz_textjudge.h — are the bytes of a part that declares itself text really
 * text? A type label is the sender's word; an executable labelled
 * text/plain must not be printed into the body. */
#ifndef TZ_TEXTJUDGE_H
#define TZ_TEXTJUDGE_H

#include <stdbool.h>
#include <stddef.h>
#include "tz_charset.h"

enum tz_text_verdict {
	TZ_TEXT_OK = 0,
	TZ_TEXT_NUL,          /* a NUL character after decoding */
	TZ_TEXT_SIGNATURE,    /* starts with a file signature (PE, ZIP, PDF, ...) */
	TZ_TEXT_CONTROLS,     /* a high share of control characters */
	TZ_TEXT_UNDECODABLE,  /* invalid in the declared and in every detected charset */
};

/* Judge a text part: raw = its transfer-decoded bytes, utf8 = the same
 * after charset decoding (tz_charset_to_utf8), info = that decoding's
 * report. */
enum tz_text_verdict tz_text_judge(const char *raw, size_t rawlen, const char *utf8,
				   size_t ulen, const struct tz_decode_info *info);

/* The file type whose signature buf starts with ("ZIP", "PDF", "ELF",
 * ...: tz_encscan_signature's table, 4-byte signatures and longer, markup
 * and scripts excepted), or NULL. Static. */
const char *tz_file_signature(const void *buf, size_t len);

const char *tz_text_verdict_name(enum tz_text_verdict v);

#endif
