/* tz_pixels.h — the trusted side of the pixel boundary. A converter in the
 * sandbox leaves raw pixels as binary PPM (P6, 8 bits); this reads them with
 * a parser that accepts only that exact form and fixed limits, and writes
 * PNG files itself (zlib, no metadata but the resolution), so nothing of the
 * original file but pixel values crosses the boundary. */
#ifndef TZ_PIXELS_H
#define TZ_PIXELS_H

#include <stddef.h>
#include <stdint.h>

struct tz_pixmap {
	unsigned width, height;
	unsigned char *rgb;     /* width * height * 3 bytes, g_free() */
};

/* Read the P6 file at path: "P6", width, height, "255", one whitespace byte
 * (comments refused), then exactly width*height*3 bytes and nothing after.
 * Refuses width or height 0 or above 65535 and more than max_pixels pixels.
 * 0, or -1 with err. On success pm->rgb is owned by the caller
 * (tz_pixmap_clear). */
int tz_pixmap_read_ppm(const char *path, uint64_t max_pixels, struct tz_pixmap *pm,
		       char *err, size_t errlen);

void tz_pixmap_clear(struct tz_pixmap *pm);   /* frees rgb; pm may be zeroed */

/* Write pm as an 8-bit RGB PNG with a pHYs chunk for dpi (0 = none) and no
 * other ancillary chunk. Created with O_EXCL, mode 0600. 0 or -1 with err. */
int tz_pixmap_write_png(const struct tz_pixmap *pm, unsigned dpi, const char *path,
			char *err, size_t errlen);

#endif
