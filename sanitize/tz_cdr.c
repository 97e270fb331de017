/* tz_cdr.c — choose the converter from the content (tz_cdr.h), the helpers
 * the converters share, and plain text / CSV, which need no sandbox: they
 * are decoded by the same charset code that reads every mail body. */
#define _XOPEN_SOURCE 700
#include "tz_cdr_int.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>

#include "tz_charset.h"
#include "tz_sniff.h"
#include "tz_util.h"

void tz_cdr_opts_default(struct tz_cdr_opts *o)
{
	/* every field a caller does not set is off (no scanner, no budget):
	 * a field added later must not be left to the stack */
	*o = (struct tz_cdr_opts){ 0 };
	o->max_pages = 100;
	o->dpi = 150;
	o->max_pixels = 40u * 1000 * 1000;
	o->ocr = true;
	o->ocr_languages = "jpn+eng";
	o->timeout_s = 120;
	o->mem_bytes = (uint64_t)3072 << 20;
	o->max_input = (uint64_t)50 << 20;
	o->zip_max_members = 100;
	o->zip_max_ratio = 100;
	o->zip_max_total = (uint64_t)200 << 20;
	o->zip_max_depth = 2;
}

void tz_cdr_result_clear(struct tz_cdr_result *r)
{
	g_free(r->out_path);
	g_free(r->members);
	memset(r, 0, sizeof *r);
}

int tz_cdr_refuse(struct tz_cdr_result *r, const char *kind, const char *fmt, ...)
{
	va_list ap;

	r->sanitized = false;
	r->kind = kind;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof r->reason, fmt, ap);
	va_end(ap);
	return 0;
}

void tz_cdr_limits(const struct tz_cdr_opts *o, struct tz_sandbox_limits *l)
{
	tz_sandbox_limits_default(l);
	l->wall_s = o->timeout_s;
	l->cpu_s = o->timeout_s;
	l->mem_bytes = o->mem_bytes;
}

char *tz_cdr_subdir(const char *workdir, const char *name, char *err, size_t errlen)
{
	char *p = g_build_filename(workdir, name, NULL);

	if (mkdir(p, 0700) != 0) {
		tz_err(err, errlen, "mkdir %s: %s", p, strerror(errno));
		g_free(p);
		return NULL;
	}
	return p;
}

int tz_cdr_run(const struct tz_sandbox_job *job, struct tz_cdr_result *r, const char *kind,
	       char *err, size_t errlen)
{
	char why[256];
	int rc = tz_sandbox_run(job, why, sizeof why);

	if (rc == 0)
		return 0;
	if (rc == -1)
		return tz_err(err, errlen, "%s", why);
	if (rc == TZ_SANDBOX_KILLED)
		tz_cdr_refuse(r, kind, "%s", why);
	else
		tz_cdr_refuse(r, kind, "%s failed (exit %d): damaged, encrypted or unsupported",
			      strrchr(job->argv[0], '/') + 1, rc);
	return 1;
}

int tz_cdr_copy(const char *src, const char *dst, char *err, size_t errlen)
{
	gchar *bytes = NULL;
	gsize len = 0;
	int rc = 0;

	if (link(src, dst) == 0)
		return 0;
	if (!g_file_get_contents(src, &bytes, &len, NULL) ||
	    !g_file_set_contents(dst, bytes, (gssize)len, NULL))
		rc = tz_err(err, errlen, "%s: cannot copy", dst);
	g_free(bytes);
	return rc;
}

char *tz_cdr_read_output(const char *path, size_t max)
{
	struct stat st;
	char *text = NULL;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size <= max) {
		size_t len = (size_t)st.st_size, got = 0;
		ssize_t n;
		text = g_malloc(len + 1);
		while (got < len && (n = read(fd, text + got, len - got)) > 0)
			got += (size_t)n;
		if (got != len) {
			g_free(text);
			text = NULL;
		} else {
			text[len] = '\0';
		}
	}
	if (fd >= 0)
		close(fd);
	return text;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void tz_cdr_rm_tree(const char *dir)
{
	if (dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- type by content ---- */

enum kind { K_PDF, K_OFFICE, K_IMAGE, K_TEXT, K_ZIP, K_NONE };

static const struct {
	const char *mime;    /* exact, or a prefix when it ends in '*' */
	enum kind k;
	const char *ext;     /* LibreOffice picks its import filter by it */
} types[] = {
	{ "application/pdf", K_PDF, NULL },
	{ "application/msword", K_OFFICE, ".doc" },
	{ "application/vnd.ms-excel", K_OFFICE, ".xls" },
	{ "application/vnd.ms-powerpoint", K_OFFICE, ".ppt" },
	{ "application/vnd.openxmlformats-officedocument.wordprocessingml.document", K_OFFICE, ".docx" },
	{ "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", K_OFFICE, ".xlsx" },
	{ "application/vnd.openxmlformats-officedocument.presentationml.presentation", K_OFFICE, ".pptx" },
	{ "application/vnd.oasis.opendocument.text", K_OFFICE, ".odt" },
	{ "application/vnd.oasis.opendocument.spreadsheet", K_OFFICE, ".ods" },
	{ "application/vnd.oasis.opendocument.presentation", K_OFFICE, ".odp" },
	{ "text/rtf", K_OFFICE, ".rtf" },
	{ "application/rtf", K_OFFICE, ".rtf" },
	{ "image/png", K_IMAGE, NULL },
	{ "image/jpeg", K_IMAGE, NULL },
	{ "image/gif", K_IMAGE, NULL },
	{ "image/bmp", K_IMAGE, NULL },
	{ "image/x-ms-bmp", K_IMAGE, NULL },
	{ "image/tiff", K_IMAGE, NULL },
	{ "image/webp", K_IMAGE, NULL },
	{ "text/plain", K_TEXT, NULL },
	{ "text/csv", K_TEXT, NULL },
	{ "application/zip", K_ZIP, NULL },
};

static enum kind kind_of(const char *mime, const char **ext)
{
	for (size_t i = 0; i < G_N_ELEMENTS(types); i++) {
		if (strcmp(mime, types[i].mime) == 0) {
			*ext = types[i].ext;
			return types[i].k;
		}
	}
	return K_NONE;
}

static int read_head(const char *path, char *buf, size_t cap, size_t *n, uint64_t *size,
		     char *err, size_t errlen)
{
	struct stat st;
	ssize_t got;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return tz_err(err, errlen, "%s: not a readable file", path);
	}
	got = read(fd, buf, cap);
	close(fd);
	if (got < 0)
		return tz_err(err, errlen, "%s: %s", path, strerror(errno));
	*n = (size_t)got;
	*size = (uint64_t)st.st_size;
	return 0;
}

int tz_cdr_file(const struct tz_cdr_opts *o, const char *input, const char *workdir,
		struct tz_cdr_result *r, char *err, size_t errlen)
{
	return tz_cdr_file_at(o, input, 0, workdir, r, err, errlen);
}

int tz_cdr_file_at(const struct tz_cdr_opts *o, const char *input, unsigned depth,
		   const char *workdir, struct tz_cdr_result *r, char *err, size_t errlen)
{
	enum { HEAD = 256 * 1024 };
	char *head = g_malloc(HEAD), *mime;
	const char *ext = NULL;
	uint64_t size = 0;
	size_t n = 0;
	enum kind k;
	int rc;

	memset(r, 0, sizeof *r);
	if (read_head(input, head, HEAD, &n, &size, err, errlen) != 0) {
		g_free(head);
		return -1;
	}
	mime = tz_sniff_magic_type(head, n);
	g_free(head);
	g_strlcpy(r->detected, mime, sizeof r->detected);
	k = kind_of(mime, &ext);
	g_free(mime);
	if (size > o->max_input)
		return tz_cdr_refuse(r, "too-large", "%llu bytes, more than SanitizeMaxInputSize",
				     (unsigned long long)size);
	switch (k) {
	case K_PDF:
		rc = tz_cdr_pdf(o, input, workdir, r, err, errlen);
		break;
	case K_OFFICE:
		rc = tz_cdr_office(o, input, ext, workdir, r, err, errlen);
		break;
	case K_IMAGE:
		rc = tz_cdr_image(o, input, workdir, r, err, errlen);
		break;
	case K_TEXT:
		rc = tz_cdr_text(o, input, strcmp(r->detected, "text/csv") == 0, workdir, r,
				 err, errlen);
		break;
	case K_ZIP:
		rc = tz_cdr_zip(o, input, NULL, depth, workdir, r, err, errlen);
		break;
	default:
		rc = tz_cdr_refuse(r, "unknown", "%s cannot be sanitized", r->detected);
		break;
	}
	return rc;
}

/* ---- plain text and CSV ---- */

/* Characters that change how text is shown or run rather than what it
 * says: C0 controls but tab and line ends, DEL, C1, and the bidi overrides
 * used to disguise text (Trojan Source). */
static bool unsafe_char(gunichar c)
{
	return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || (c >= 0x7f && c < 0xa0) ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0xfeff;
}

/* A CSV cell that Excel would run as a formula (=, +, -, @; DDE and
 * HYPERLINK attacks) gets a leading apostrophe, unless it is a number. */
static bool formula_cell(const char *p, const char *end)
{
	const char *q;

	if (p < end && *p == '\t')
		return true;   /* OWASP: a leading tab is read as a formula too (tz_report_csv_risky) */
	if (p >= end || (*p != '=' && *p != '+' && *p != '-' && *p != '@'))
		return false;
	for (q = p + 1; q < end && *q != ',' && *q != '"' && *q != '\n' && *q != '\r'; q++)
		if (!g_ascii_isdigit(*q) && *q != '.')
			return true;
	return q == p + 1;
}

static void csv_defuse(const GString *in, GString *out)
{
	const char *p = in->str, *end = in->str + in->len;
	bool quoted = false, cell_start = true;

	for (; p < end; p++) {
		if (cell_start) {
			const char *c = p;
			if (*c == '"') {
				g_string_append_c(out, '"');
				quoted = true;
				c++;
				p++;
			}
			if (formula_cell(c, end))
				g_string_append_c(out, '\'');
			cell_start = false;
			if (p >= end)
				break;
		}
		if (*p == '"' && quoted) {
			if (p + 1 < end && p[1] == '"') {
				g_string_append(out, "\"\"");
				p++;
				continue;
			}
			quoted = false;
		} else if (*p == '"') {
			quoted = true;
		} else if (!quoted && (*p == ',' || *p == '\n')) {
			cell_start = true;
		}
		g_string_append_c(out, *p);
	}
}

int tz_cdr_text(const struct tz_cdr_opts *o, const char *input, bool csv, const char *workdir,
		struct tz_cdr_result *r, char *err, size_t errlen)
{
	gchar *raw = NULL;
	gsize len = 0;
	GString *utf8 = g_string_new(NULL), *clean = g_string_new(NULL), *out;
	const char *cs;
	int rc = -1;

	(void)o;
	if (!g_file_get_contents(input, &raw, &len, NULL)) {
		tz_err(err, errlen, "%s: cannot read", input);
		goto done;
	}
	cs = tz_charset_detect(raw, len);
	tz_charset_to_utf8(cs, raw, len, utf8, NULL);
	for (const char *p = utf8->str; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (!unsafe_char(c))
			g_string_append_unichar(clean, c);
	}
	out = g_string_new(csv ? "\xEF\xBB\xBF" : "");   /* BOM: Excel reads UTF-8 */
	if (csv)
		csv_defuse(clean, out);
	else
		g_string_append_len(out, clean->str, (gssize)clean->len);
	r->out_path = g_build_filename(workdir, csv ? "sanitized.csv" : "sanitized.txt", NULL);
	if (!g_file_set_contents(r->out_path, out->str, (gssize)out->len, NULL)) {
		tz_err(err, errlen, "%s: cannot write", r->out_path);
	} else {
		r->sanitized = true;
		r->kind = csv ? "csv" : "text";
		r->out_ext = csv ? ".csv" : ".txt";
		r->out_type = csv ? "text/csv; charset=utf-8" : "text/plain; charset=utf-8";
		rc = 0;
	}
	g_string_free(out, TRUE);
done:
	g_free(raw);
	g_string_free(utf8, TRUE);
	g_string_free(clean, TRUE);
	return rc;
}
