/* tz_textjudge.c — content check for parts declared as text. Thresholds
 * are chosen so that real mail (the shared corpus: Japanese, legacy
 * charsets, broken labels) always passes, while a binary file, which has
 * NULs or a signature or a high share of controls, never does. */
#include "tz_textjudge.h"

#include <string.h>
#include <glib.h>

struct sig {
	size_t off;
	const char *magic;
	size_t len;
	const char *name;
};

#define S(off, m, name) { off, m, sizeof(m) - 1, name }
static const struct sig sigs[] = {
	S(0, "MZ", "pe"),
	S(0, "\x7f" "ELF", "elf"),
	S(0, "\xfe\xed\xfa\xce", "mach-o"), S(0, "\xfe\xed\xfa\xcf", "mach-o"),
	S(0, "\xce\xfa\xed\xfe", "mach-o"), S(0, "\xcf\xfa\xed\xfe", "mach-o"),
	S(0, "\xca\xfe\xba\xbe", "mach-o-fat/java"),
	S(0, "PK\x03\x04", "zip"), S(0, "PK\x05\x06", "zip"), S(0, "PK\x07\x08", "zip"),
	S(0, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
	S(0, "%PDF-", "pdf"),
	S(0, "Rar!\x1a\x07", "rar"),
	S(0, "7z\xbc\xaf\x27\x1c", "7z"),
	S(0, "\x1f\x8b", "gzip"),
	S(0, "BZh", "bzip2"),
	S(0, "\xfd" "7zXZ", "xz"),
	S(0, "MSCF", "cab"),
	S(0, "ITSF", "chm"),
	S(0, "L\x00\x00\x00\x01\x14\x02\x00", "lnk"),
	S(0, "\x89PNG\r\n\x1a\n", "png"),
	S(0, "\xff\xd8\xff", "jpeg"),
	S(0, "GIF8", "gif"),
	S(0, "{\\rtf", "rtf"),
	S(0, "\x00" "asm", "wasm"),
	S(0, "-lh", "lzh"),   /* LHA: "-lh5-" at offset 2 in practice, checked below */
	S(0x8001, "CD001", "iso9660"),
	S(0, "\x28\xb5\x2f\xfd", "zstd"),
	S(0, "!<arch>\n", "ar/deb"),
	S(0, "\xed\xab\xee\xdb", "rpm"),
	S(0, "dex\n", "dex"),
	S(0, "#!", "script"),
};
#undef S

const char *tz_file_signature(const void *buf, size_t len)
{
	const unsigned char *b = buf;

	for (size_t i = 0; i < G_N_ELEMENTS(sigs); i++) {
		const struct sig *s = &sigs[i];
		if (s->off == 0 && strcmp(s->name, "lzh") == 0)
			continue;
		/* "MZ" and "#!" are two printable letters: require what follows
		 * them in a real file, so prose starting "MZ..." stays text. */
		if (strcmp(s->name, "pe") == 0 && !(len >= 64 && b[0] == 'M' && b[1] == 'Z'
						    && (b[2] != ' ' || b[3] == 0)))
			continue;
		if (strcmp(s->name, "script") == 0 && !(len >= 3 && b[0] == '#' && b[1] == '!'
							&& (b[2] == '/' || b[2] == ' ')))
			continue;
		if (len >= s->off + s->len && memcmp(b + s->off, s->magic, s->len) == 0)
			return s->name;
	}
	if (len >= 7 && b[2] == '-' && b[3] == 'l' && (b[4] == 'h' || b[4] == 'z') && b[6] == '-')
		return "lzh";
	return NULL;
}

enum tz_text_verdict tz_text_judge(const char *raw, size_t rawlen, const char *utf8,
				   size_t ulen, const struct tz_decode_info *info)
{
	size_t controls = 0, chars = 0;
	const char *sig = tz_file_signature(raw, rawlen);

	/* "#!" scripts are text a reader may want to see; every other
	 * signature is a file. */
	if (sig != NULL && strcmp(sig, "script") != 0)
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
