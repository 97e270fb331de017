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

struct tz_cdr_opts {
	unsigned max_pages;         /* SanitizeMaxPages */
	unsigned dpi;               /* SanitizeResolution: render resolution */
	uint64_t max_pixels;        /* SanitizeMaxPixels: per page or image */
	bool ocr;                   /* SanitizeOCR */
	const char *ocr_languages;  /* SanitizeOCRLanguages, tesseract -l */
	unsigned timeout_s;         /* SanitizeTimeout: one converter run */
	uint64_t mem_bytes;         /* SanitizeMemoryLimit: address space of one run */
	uint64_t max_input;         /* SanitizeMaxInputSize: larger parts are refused */
};

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
};

/* Sanitize the file at input (a private copy the caller made) using the
 * empty private directory workdir for every intermediate file. Returns 0
 * when decided (r->sanitized, or r->reason says why not), -1 with err when
 * the machine failed (retry later). Free r with tz_cdr_result_clear. */
int tz_cdr_file(const struct tz_cdr_opts *o, const char *input, const char *workdir,
		struct tz_cdr_result *r, char *err, size_t errlen);

void tz_cdr_result_clear(struct tz_cdr_result *r);


#endif
