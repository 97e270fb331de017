/* tz_cdr_media.c — images. Decoded inside the sandbox by Pillow (the first
 * frame, EXIF orientation applied, transparency flattened on white) into a
 * binary PPM; re-encoded here as a PNG by tz_pixels: EXIF, ICC profiles,
 * comments, XMP and bytes after the image end are not carried over because
 * nothing but pixel values is. */
#include "tz_cdr_int.h"

#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "tz_pixels.h"
#include "tz_util.h"

#define PYTHON "/usr/bin/python3"

/* Runs in the sandbox: argv[1] input, argv[2] output PPM, argv[3] pixel
 * limit. Exit 3: a format we do not take; 4: too many pixels. */
static const char decode_py[] =
	"import sys, warnings\n"
	"from PIL import Image, ImageOps\n"
	"warnings.simplefilter('error', Image.DecompressionBombWarning)\n"
	"Image.MAX_IMAGE_PIXELS = int(sys.argv[3])\n"
	"try:\n"
	"    im = Image.open(sys.argv[1])\n"
	"    if im.format not in ('PNG', 'JPEG', 'GIF', 'BMP', 'TIFF', 'WEBP'):\n"
	"        sys.exit(3)\n"
	"    if im.width * im.height > int(sys.argv[3]):\n"
	"        sys.exit(4)\n"
	"    im.seek(0)\n"
	"    im.load()\n"
	"except (Image.DecompressionBombError, Image.DecompressionBombWarning):\n"
	"    sys.exit(4)\n"
	"im = ImageOps.exif_transpose(im)\n"
	"if im.mode in ('RGBA', 'LA', 'PA') or (im.mode == 'P' and 'transparency' in im.info):\n"
	"    im = im.convert('RGBA')\n"
	"    bg = Image.new('RGB', im.size, (255, 255, 255))\n"
	"    bg.paste(im, mask=im.getchannel('A'))\n"
	"    im = bg\n"
	"else:\n"
	"    im = im.convert('RGB')\n"
	"im.save(sys.argv[2], 'PPM')\n";

int tz_cdr_image(const struct tz_cdr_opts *o, const char *input, const char *workdir,
		 struct tz_cdr_result *r, char *err, size_t errlen)
{
	char *outdir = tz_cdr_subdir(workdir, "decode", err, errlen);
	char *base = g_path_get_basename(input);
	char *sin = g_strconcat(TZ_SANDBOX_IN "/", base, NULL);
	char *ppm = NULL, *png = NULL, limit[24], why[200];
	struct tz_pixmap pm = { 0 };
	int rc = -1;

	r->kind = "image";
	if (outdir == NULL)
		goto out;
	snprintf(limit, sizeof limit, "%llu", (unsigned long long)o->max_pixels);
	{
		char *argv[] = { PYTHON, "-I", "-c", (char *)decode_py, sin,
				 TZ_SANDBOX_OUT "/image.ppm", limit, NULL };
		struct tz_sandbox_job job = { .argv = argv, .input = input, .outdir = outdir };
		tz_cdr_limits(o, &job.lim);
		job.lim.fsize_bytes = o->max_pixels * 3 + 64;
		rc = tz_sandbox_run(&job, why, sizeof why);
		if (rc == -1) {
			tz_err(err, errlen, "%s", why);
			goto out;
		}
		if (rc == 3 || rc == 4 || rc != 0) {
			rc = tz_cdr_refuse(r, "image", "%s", rc == 3 ? "image format not supported"
					   : rc == 4 ? "more pixels than SanitizeMaxPixels"
					   : rc == TZ_SANDBOX_KILLED ? why
					   : "image could not be decoded (damaged or unsupported)");
			goto out;
		}
	}
	ppm = g_build_filename(outdir, "image.ppm", NULL);
	if (tz_pixmap_read_ppm(ppm, o->max_pixels, &pm, why, sizeof why) != 0) {
		rc = tz_cdr_refuse(r, "image", "%s", why);
		goto out;
	}
	png = g_build_filename(workdir, "sanitized.png", NULL);
	rc = tz_pixmap_write_png(&pm, 0, png, err, errlen);
	if (rc == 0) {
		r->sanitized = true;
		r->out_path = png;
		png = NULL;
		r->out_ext = ".png";
		r->out_type = "image/png";
	}
out:
	tz_pixmap_clear(&pm);
	g_free(outdir);
	g_free(base);
	g_free(sin);
	g_free(ppm);
	g_free(png);
	return rc < 0 ? -1 : 0;
}
