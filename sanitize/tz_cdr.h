/* tz_cdr.h — content disarm and reconstruction of one stripped part. The
 * converter is chosen by the type libmagic sees in the content, never by the
 * name or the declared type:
 *   PDF                      → pages rendered to pixels in the sandbox,
 *                              rebuilt as an image PDF (+ OCR text layer);
 *   Office / OpenDocument /  → LibreOffice in the sandbox makes a PDF, which
 *   RTF                        then goes the PDF way;
 *   images                   → decoded in the sandbox, re-encoded as PNG here;
 *   plain text / CSV         → decoded to UTF-8 (CSV with a BOM for Excel);
 *   anything else            → not sanitizable, with the reason.
 * The file's faults (damaged, encrypted, too many pages, a converter that
 * loops or crashes) are decisions ("unsanitizable: why"); only a broken
 * machine (no bwrap, no disk) is an error to retry. */
#ifndef TZ_CDR_H
#define TZ_CDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What is left of the outermost archive's SanitizeZipMaxTotal and
 * SanitizeZipMaxMembers while its members are worked: every archive nested
 * in it, siblings included, takes from this one budget. */
struct tz_cdr_zip_budget {
	uint64_t bytes;
	unsigned members;
};

struct tz_cdr_opts {
	unsigned max_pages;         /* SanitizeMaxPages */
	unsigned dpi;               /* SanitizeResolution: render resolution */
	uint64_t max_pixels;        /* SanitizeMaxPixels: per page or image */
	bool ocr;                   /* SanitizeOCR */
	const char *ocr_languages;  /* SanitizeOCRLanguages, tesseract -l */
	unsigned timeout_s;         /* SanitizeTimeout: one converter run */
	uint64_t mem_bytes;         /* SanitizeMemoryLimit: address space of one run */
	uint64_t max_input;         /* SanitizeMaxInputSize: larger parts are refused */
	unsigned zip_max_members;   /* SanitizeZipMaxMembers: entries of one archive */
	unsigned zip_max_ratio;     /* SanitizeZipMaxRatio: uncompressed/compressed */
	uint64_t zip_max_total;     /* SanitizeZipMaxTotal: bytes unpacked, nesting included */
	unsigned zip_max_depth;     /* SanitizeZipMaxDepth: archives in archives */
	struct tz_cdr_zip_budget *zip_budget; /* NULL outside an archive (tz_cdr_zip makes it) */
	/* A scanner for the members of an archive opened with a password
	 * (clamd could not look inside it while it was encrypted): 0 clean,
	 * 1 found (name says what; the member is left out), -1 with err (a
	 * machine error). NULL = members are not scanned. */
	int (*scan)(void *ctx, const char *path, char *name, size_t namelen,
		    char *err, size_t errlen);
	void *scan_ctx;
};

/* The longest archive password accepted (bytes). */
#define TZ_CDR_PASSWORD_MAX 256

/* The defaults of the key table (documented in textize.conf(5)). */
void tz_cdr_opts_default(struct tz_cdr_opts *o);

struct tz_cdr_result {
	bool sanitized;
	const char *kind;           /* "pdf", "office", "image", "text", "csv", or
				     * the refused kind ("encrypted-pdf", "unknown") */
	char detected[96];          /* libmagic type of the input */
	char *out_path;             /* sanitized file (in workdir), g_free() */
	const char *out_ext;        /* ".pdf", ".png", ".txt", ".csv" */
	const char *out_type;       /* MIME type of out_path */
	unsigned pages;             /* pages rendered (PDF/Office) */
	bool ocr;                   /* the PDF has an OCR text layer */
	char ocr_skipped[128];      /* why not, when SanitizeOCR asked for one */
	char reason[256];           /* why not sanitized */
	char *members;              /* a ZIP: "N of M members sanitized[; not
				     * sanitized: NAME (why), ...]", g_free() */
	bool wrong_password;        /* an encrypted ZIP the given password did not open */
};

/* Sanitize the file at input (a private copy the caller made) using the
 * empty private directory workdir for every intermediate file. Returns 0
 * when decided (r->sanitized, or r->reason says why not), -1 with err when
 * the machine failed (retry later). Free r with tz_cdr_result_clear. */
int tz_cdr_file(const struct tz_cdr_opts *o, const char *input, const char *workdir,
		struct tz_cdr_result *r, char *err, size_t errlen);

void tz_cdr_result_clear(struct tz_cdr_result *r);

/* A ZIP archive (tz_cdr_zip.c), as tz_cdr_file does it, with an optional
 * password for an encrypted one (NULL: encrypted = unsanitizable; a wrong
 * one sets r->wrong_password). The password reaches the sandboxed reader
 * through a pipe, never a file. depth is 0 for a part.
 * r must be zeroed (or cleared) before. */
int tz_cdr_zip(const struct tz_cdr_opts *o, const char *input, const char *password,
	       unsigned depth, const char *workdir, struct tz_cdr_result *r,
	       char *err, size_t errlen);

/* A member name of an archive (sender-controlled) as a relative path that
 * cannot leave its directory and shows as what it is; "" when nothing is
 * left. g_free(). Exposed for the unit test. */
char *tz_cdr_zip_clean_name(const char *name);


#endif
