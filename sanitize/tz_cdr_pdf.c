/* tz_cdr_pdf.c — PDF and Office documents (dangerzone's method).
 * Inside the sandbox: pdfinfo counts the pages, pdftoppm renders each page
 * to a binary PPM (LibreOffice first makes a PDF of an Office file, which
 * is then treated as just as untrusted). Outside: tz_pixels reads each PPM
 * with a strict parser and writes a PNG of its own; img2pdf wraps those
 * PNGs into a PDF, or tesseract (sandboxed too) makes a PDF with the same
 * page images and an invisible OCR text layer. Nothing of the original
 * file but pixel values reaches the output. */
#include "tz_cdr_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>

#include "tz_pixels.h"
#include "tz_proc.h"
#include "tz_util.h"

#define PDFINFO   "/usr/bin/pdfinfo"
#define PDFTOPPM  "/usr/bin/pdftoppm"
#define TESSERACT "/usr/bin/tesseract"
#define IMG2PDF   "/usr/bin/img2pdf"
#define SOFFICE   "/usr/lib/libreoffice/program/soffice"

static char *in_path(const char *host)
{
	char *base = g_path_get_basename(host);
	char *p = g_strconcat(TZ_SANDBOX_IN "/", base, NULL);

	g_free(base);
	return p;
}

/* "Pages:  N" from pdfinfo's output (written by the sandbox: parsed as
 * untrusted, digits only). 0 when absent. */
static unsigned parse_pages(const char *path)
{
	gchar *text = NULL;
	unsigned long n = 0;
	const char *p;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return 0;
	for (p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, "Pages:", 6) == 0) {
			const char *q = p + 6;
			while (*q == ' ')
				q++;
			if (g_ascii_isdigit(*q) && strspn(q, "0123456789") <= 6)
				n = strtoul(q, NULL, 10);
			break;
		}
	}
	g_free(text);
	return (unsigned)n;
}

/* The page number of a pdftoppm output name "page-0007.ppm", else 0. */
static unsigned page_number(const char *name)
{
	size_t d;

	if (strncmp(name, "page-", 5) != 0)
		return 0;
	d = strspn(name + 5, "0123456789");
	if (d == 0 || d > 6 || strcmp(name + 5 + d, ".ppm") != 0)
		return 0;
	return (unsigned)strtoul(name + 5, NULL, 10);
}

/* Turn the sandbox's PPM pages into trusted PNGs pngdir/page-%04u.png. */
static int pages_to_png(const struct tz_cdr_opts *o, const char *ppmdir, unsigned pages,
			const char *pngdir, struct tz_cdr_result *r, char *err, size_t errlen)
{
	char **names = g_new0(char *, pages + 1);
	DIR *d = opendir(ppmdir);
	struct dirent *e;
	int rc = 1;

	if (d == NULL) {
		g_free(names);
		return tz_err(err, errlen, "%s: %s", ppmdir, strerror(errno));
	}
	while ((e = readdir(d)) != NULL) {
		unsigned n = page_number(e->d_name);
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (n == 0 || n > pages || names[n - 1]) {
			tz_cdr_refuse(r, "pdf", "renderer left an unexpected file");
			goto out;
		}
		names[n - 1] = g_strdup(e->d_name);
	}
	for (unsigned i = 0; i < pages; i++) {
		struct tz_pixmap pm;
		char *ppm, *png, why[200], name[32];
		int bad;

		if (names[i] == NULL) {
			tz_cdr_refuse(r, "pdf", "page %u could not be rendered", i + 1);
			goto out;
		}
		ppm = g_build_filename(ppmdir, names[i], NULL);
		snprintf(name, sizeof name, "page-%04u.png", i + 1);
		png = g_build_filename(pngdir, name, NULL);
		bad = tz_pixmap_read_ppm(ppm, o->max_pixels, &pm, why, sizeof why);
		unlink(ppm);
		if (bad) {
			tz_cdr_refuse(r, "pdf", "page %u: %s", i + 1, why);
		} else if (tz_pixmap_write_png(&pm, o->dpi, png, err, errlen) != 0) {
			rc = -1;
		}
		tz_pixmap_clear(&pm);
		g_free(ppm);
		g_free(png);
		if (bad || rc < 0)
			goto out;
	}
	rc = 0;
out:
	closedir(d);
	for (unsigned i = 0; i < pages; i++)   /* may have holes: not g_strfreev */
		g_free(names[i]);
	g_free(names);
	return rc;
}

/* OCR: tesseract in the sandbox (its input is our own PNGs) makes a PDF of
 * the same page images with an invisible text layer. 0 made, 1 tesseract
 * failed or ran out of time (the caller goes on without the layer: it is
 * an extra, not the sanitizing), -1 machine error. */
static int rebuild_ocr(const struct tz_cdr_opts *o, const char *workdir, const char *pngdir,
		       unsigned pages, const char *out, char *why, size_t whylen,
		       char *err, size_t errlen)
{
	GString *list = g_string_new(NULL);
	char *listf = g_build_filename(pngdir, "list.txt", NULL);
	char *ocrdir = tz_cdr_subdir(workdir, "ocr", err, errlen);
	char *made = ocrdir ? g_build_filename(ocrdir, "ocr.pdf", NULL) : NULL;
	char dpi[16];
	int rc = -1;

	for (unsigned i = 1; i <= pages; i++)
		g_string_append_printf(list, TZ_SANDBOX_IN "/pages/page-%04u.png\n", i);
	snprintf(dpi, sizeof dpi, "%u", o->dpi);
	if (ocrdir && !g_file_set_contents(listf, list->str, (gssize)list->len, NULL)) {
		tz_err(err, errlen, "%s: cannot write", listf);
	} else if (ocrdir) {
		char *argv[] = { TESSERACT, TZ_SANDBOX_IN "/pages/list.txt", TZ_SANDBOX_OUT "/ocr",
				 "-l", (char *)o->ocr_languages, "--dpi", dpi, "pdf", NULL };
		struct tz_sandbox_job job = { .argv = argv, .input = pngdir, .outdir = ocrdir };
		tz_cdr_limits(o, &job.lim);
		job.lim.wall_s = job.lim.cpu_s = o->timeout_s * (pages < 10 ? 1 : pages / 10 + 1);
		rc = tz_sandbox_run(&job, why, whylen);
		if (rc == -1)
			tz_err(err, errlen, "%s", why);
		else if (rc > 0)
			snprintf(why, whylen, "tesseract exit %d", rc);
		if (rc == 0 && rename(made, out) != 0)
			snprintf(why, whylen, "tesseract made no PDF");
		if (rc == 0 && !g_file_test(out, G_FILE_TEST_IS_REGULAR))
			rc = 1;
		else if (rc > 0 || rc == TZ_SANDBOX_KILLED)
			rc = 1;     /* why says it: exit status, signal or time limit */
	}
	unlink(listf);
	g_string_free(list, TRUE);
	g_free(listf);
	g_free(ocrdir);
	g_free(made);
	return rc;
}

/* Rebuild the PDF from the trusted PNGs: with the OCR layer when asked and
 * possible, else img2pdf. */
static int rebuild(const struct tz_cdr_opts *o, const char *workdir, const char *pngdir,
		   unsigned pages, struct tz_cdr_result *r, char *err, size_t errlen)
{
	char *out = g_build_filename(workdir, "sanitized.pdf", NULL);
	char why[256] = "";
	int rc = 1;

	if (o->ocr) {
		rc = rebuild_ocr(o, workdir, pngdir, pages, out, why, sizeof why, err, errlen);
		if (rc < 0) {
			g_free(out);
			return -1;
		}
		r->ocr = rc == 0;
		if (rc > 0)
			snprintf(r->ocr_skipped, sizeof r->ocr_skipped, "%s", why);
	}
	if (rc != 0) {
		GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
		g_ptr_array_add(argv, g_strdup(IMG2PDF));
		g_ptr_array_add(argv, g_strdup("-o"));
		g_ptr_array_add(argv, g_strdup(out));
		for (unsigned i = 1; i <= pages; i++)
			g_ptr_array_add(argv, g_strdup_printf("%s/page-%04u.png", pngdir, i));
		g_ptr_array_add(argv, NULL);
		rc = tz_proc_run((char **)argv->pdata, -1, o->timeout_s, err, errlen);
		if (rc > 0)
			rc = tz_err(err, errlen, "img2pdf failed (exit %d)", rc);
		g_ptr_array_free(argv, TRUE);
	}
	if (rc == 0) {
		r->sanitized = true;
		r->out_path = out;
		r->out_ext = ".pdf";
		r->out_type = "application/pdf";
		r->pages = pages;
		return 0;
	}
	g_free(out);
	return rc;
}

int tz_cdr_pdf(const struct tz_cdr_opts *o, const char *input, const char *workdir,
	       struct tz_cdr_result *r, char *err, size_t errlen)
{
	char *in = in_path(input), *render = NULL, *pngdir = NULL, *info = NULL;
	char last[16];
	unsigned pages;
	int rc = -1;

	r->kind = "pdf";
	render = tz_cdr_subdir(workdir, "render", err, errlen);
	pngdir = render ? tz_cdr_subdir(workdir, "pages", err, errlen) : NULL;
	if (pngdir == NULL)
		goto out;
	info = g_build_filename(workdir, "pdfinfo.txt", NULL);
	{
		char *argv[] = { PDFINFO, in, NULL };
		struct tz_sandbox_job job = { .argv = argv, .input = input, .outdir = render,
					      .stdout_path = info };
		tz_cdr_limits(o, &job.lim);
		job.lim.fsize_bytes = 1 << 20;
		rc = tz_cdr_run(&job, r, "pdf", err, errlen);
		if (rc != 0)
			goto out;
	}
	pages = parse_pages(info);
	if (pages == 0) {
		rc = tz_cdr_refuse(r, "pdf", "no pages");
		goto out;
	}
	if (pages > o->max_pages) {
		rc = tz_cdr_refuse(r, "pdf", "%u pages, more than SanitizeMaxPages (%u)", pages,
				   o->max_pages);
		goto out;
	}
	snprintf(last, sizeof last, "%u", pages);
	{
		char dpi[16];
		char *argv[] = { PDFTOPPM, "-r", dpi, "-f", "1", "-l", last, in,
				 TZ_SANDBOX_OUT "/page", NULL };
		struct tz_sandbox_job job = { .argv = argv, .input = input, .outdir = render };
		snprintf(dpi, sizeof dpi, "%u", o->dpi);
		tz_cdr_limits(o, &job.lim);
		/* one page's pixels is the largest file it may write */
		job.lim.fsize_bytes = o->max_pixels * 3 + 64;
		job.lim.wall_s = job.lim.cpu_s = o->timeout_s * (pages < 10 ? 1 : pages / 10 + 1);
		rc = tz_cdr_run(&job, r, "pdf", err, errlen);
		if (rc != 0)
			goto out;
	}
	rc = pages_to_png(o, render, pages, pngdir, r, err, errlen);
	if (rc != 0)
		goto out;
	rc = rebuild(o, workdir, pngdir, pages, r, err, errlen);
out:
	g_free(in);
	g_free(render);
	g_free(pngdir);
	g_free(info);
	return rc < 0 ? -1 : 0;
}

int tz_cdr_office(const struct tz_cdr_opts *o, const char *input, const char *ext,
		  const char *workdir, struct tz_cdr_result *r, char *err, size_t errlen)
{
	char *indir = tz_cdr_subdir(workdir, "office-in", err, errlen);
	char *outdir = indir ? tz_cdr_subdir(workdir, "office-out", err, errlen) : NULL;
	char *doc = NULL, *pdf = NULL, *sub = NULL, *name = g_strconcat("document", ext, NULL);
	int rc = -1;

	if (outdir == NULL)
		goto out;
	/* LibreOffice picks its import filter by the extension: give it the
	 * one of the detected type, never the sender's. */
	doc = g_build_filename(indir, name, NULL);
	if (tz_cdr_copy(input, doc, err, errlen) != 0)
		goto out;
	{
		char *sdoc = g_strconcat(TZ_SANDBOX_IN "/office-in/", name, NULL);
		char *argv[] = { SOFFICE, "--headless", "--norestore", "--nolockcheck",
				 "--nodefault", "--nologo", "-env:UserInstallation=file:///tmp/lo",
				 "--convert-to", "pdf", "--outdir", TZ_SANDBOX_OUT, sdoc, NULL };
		struct tz_sandbox_job job = { .argv = argv, .input = indir, .outdir = outdir };
		tz_cdr_limits(o, &job.lim);
		job.lim.nproc = 256;    /* threads count */
		rc = tz_cdr_run(&job, r, "office", err, errlen);
		g_free(sdoc);
		if (rc != 0)
			goto out;
	}
	pdf = g_build_filename(outdir, "document.pdf", NULL);
	if (!g_file_test(pdf, G_FILE_TEST_IS_REGULAR)) {
		rc = tz_cdr_refuse(r, "office", "LibreOffice could not convert it (damaged, "
				   "encrypted or unsupported)");
		goto out;
	}
	sub = tz_cdr_subdir(workdir, "pdf", err, errlen);
	rc = sub ? tz_cdr_pdf(o, pdf, sub, r, err, errlen) : -1;
	r->kind = "office";
out:
	g_free(indir);
	g_free(outdir);
	g_free(doc);
	g_free(pdf);
	g_free(sub);
	g_free(name);
	return rc < 0 ? -1 : 0;
}
