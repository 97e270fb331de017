/* tz_textjudge.c — content check for parts declared as text. Thresholds
 * are chosen so that real mail (the shared corpus: Japanese, legacy
 * charsets, broken labels) always passes, while a binary file, which has
 * NULs or a signature or a high share of controls, never does. */
#include "tz_textjudge.h"

#include <string.h>
#include <glib.h>

#include "tz_encscan.h"

/* Markup and scripts are text a reader may read; every other signature
 * is a file. Only signatures of 4 bytes or more count here: the short ones
 * ("MZ", "BZh") start ordinary words, and the binaries behind them carry
 * NULs and controls, which the judge counts anyway. */
const char *tz_file_signature(const void *buf, size_t len)
{
	static const char *const text_like[] = { "HTML", "script", "SVG", "XML", "HTA/HTML", NULL };
	bool strong = false;
	const char *name = tz_encscan_signature(buf, len, &strong);

	if (name == NULL || !strong)
		return NULL;
	for (int i = 0; text_like[i]; i++)
		if (strcmp(name, text_like[i]) == 0)
			return NULL;
	return name;
}

enum tz_text_verdict tz_text_judge(const char *raw, size_t rawlen, const char *utf8,
				   size_t ulen, const struct tz_decode_info *info)
{
	size_t controls = 0, chars = 0;
	if (tz_file_signature(raw, rawlen) != NULL)
		return TZ_TEXT_SIGNATURE;
	/* A NUL byte: only UTF-16 and UTF-32 text has them (and decoding
	 * removes them); some decoders drop NULs, so look at the bytes. */
	if (memchr(raw, '\0', rawlen) != NULL
	    && !(info != NULL && (g_str_has_prefix(info->used, "utf-16") || g_str_has_prefix(info->used, "utf-32"))))
		return TZ_TEXT_NUL;
	for (size_t i = 0; i < ulen; i++) {
		unsigned char ch = (unsigned char)utf8[i];
		if ((ch & 0xc0) != 0x80)
			chars++;
		if (ch == 0)
			return TZ_TEXT_NUL;
		if ((ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r' && ch != '\f' && ch != '\v'
		     && ch != 0x1b) || ch == 0x7f)
			controls++;
	}
	/* 1 in 64 characters, and more than a stray few: text written by
	 * people has almost none; a binary has one in eight or so. */
	if (controls > 16 && controls * 64 > chars)
		return TZ_TEXT_CONTROLS;
	if (info != NULL && info->replaced > 16 && (size_t)info->replaced * 20 > chars)
		return TZ_TEXT_UNDECODABLE;
	return TZ_TEXT_OK;
}

const char *tz_text_verdict_name(enum tz_text_verdict v)
{
	switch (v) {
	case TZ_TEXT_OK: return "text";
	case TZ_TEXT_NUL: return "NUL in text";
	case TZ_TEXT_SIGNATURE: return "file signature in text";
	case TZ_TEXT_CONTROLS: return "control characters in text";
	case TZ_TEXT_UNDECODABLE: return "undecodable text";
	}
	return "unknown";
}
