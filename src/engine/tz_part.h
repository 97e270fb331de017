/* tz_part.h — the record kept for every part stripped from a message. */
#ifndef TZ_PART_H
#define TZ_PART_H

#include <stdint.h>
#include <glib.h>

/* Risk flags, a bitmask in tz_part.risk. */
enum tz_risk {
	TZ_RISK_EXECUTABLE     = 1u << 0,  /* PE/ELF/Mach-O, .exe .scr .js .vbs .lnk ... */
	TZ_RISK_DOUBLE_EXT     = 1u << 1,  /* "invoice.pdf.exe" */
	TZ_RISK_NAME_CONTROL   = 1u << 2,  /* RLO/bidi or control characters in the name */
	TZ_RISK_MACRO          = 1u << 3,  /* macro-enabled Office (vbaProject, .docm, ...) */
	TZ_RISK_ENCRYPTED_ZIP  = 1u << 4,  /* password-protected archive */
	TZ_RISK_ARCHIVE        = 1u << 5,  /* zip, rar, 7z, gz, lzh, iso ... */
	TZ_RISK_TYPE_MISMATCH  = 1u << 6,  /* declared / named type disagrees with content */
	TZ_RISK_SCRIPT         = 1u << 7,  /* HTML, script, or active content */
	TZ_RISK_ENCRYPTED      = 1u << 8,  /* S/MIME or PGP encrypted message */
};
#define TZ_RISK_COUNT 9

/* Why a part was stripped. */
enum tz_part_reason {
	TZ_REASON_ATTACHMENT = 0,   /* a file (any type, text included) */
	TZ_REASON_INLINE_IMAGE,     /* inline/related image */
	TZ_REASON_HTML_ALTERNATIVE, /* the HTML form of the body (text was kept or rendered) */
	TZ_REASON_SIGNATURE,        /* S/MIME or PGP signature */
	TZ_REASON_TNEF,             /* winmail.dat */
	TZ_REASON_CALENDAR,         /* text/calendar */
	TZ_REASON_ENCRYPTED,        /* the whole original: encrypted content */
	TZ_REASON_UUENCODE,         /* uuencoded file inside a text body */
	TZ_REASON_OTHER,            /* anything else that is not body text */
	/* Added after OTHER so the values above keep their numbers. */
	TZ_REASON_ENCODED_BLOCK,    /* an encoded file found in the final body text */
	TZ_REASON_UNSHOWN,          /* content the body cannot show (not text, preamble, ...) */
	TZ_REASON_AMBIGUOUS,        /* a MIME structure two readers could take two ways */
};
#define TZ_REASON_COUNT (TZ_REASON_AMBIGUOUS + 1)

struct tz_part {
	unsigned index;           /* 1-based, order of appearance; the reference within the entry */
	char *mime_path;          /* position in the MIME tree, "1.2.1"; owned */
	enum tz_part_reason reason;
	char *filename;           /* decoded UTF-8, display-safe (see tz_header), NULL when none; owned */
	char *declared_type;      /* lower-case "type/subtype" as declared; owned, never NULL */
	char *detected_type;      /* libmagic MIME type of the decoded content; owned, NULL before sniffing */
	uint64_t size;            /* decoded size in bytes */
	char sha256[65];          /* lower-case hex of the decoded content */
	unsigned risk;            /* TZ_RISK_* */
};

struct tz_part *tz_part_new(void);              /* zeroed; free with tz_part_free */
void tz_part_free(struct tz_part *p);           /* NULL is a no-op */
const char *tz_part_reason_name(enum tz_part_reason r);  /* "attachment", ... static */
const char *tz_risk_name(unsigned bit);         /* "executable", ... for one bit; static */
/* Comma-separated names of all bits in risk, "" when none; caller g_free()s. */
char *tz_risk_string(unsigned risk);

#endif
