/* tz_pixels.c — strict PPM reader and minimal PNG writer (see tz_pixels.h).
 * Hand-written on purpose: both formats are a few lines, and a general
 * image library on this side of the boundary would be the attack surface
 * the sandbox exists to keep away. */
#include "tz_pixels.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>
#include <zlib.h>

#include "tz_util.h"

void tz_pixmap_clear(struct tz_pixmap *pm)
{
	g_free(pm->rgb);
	memset(pm, 0, sizeof *pm);
}

/* A decimal header field: 1..5 digits followed by one whitespace byte. */
static int header_num(const unsigned char *h, size_t n, size_t *pos, unsigned *v)
{
	unsigned x = 0, digits = 0;

	while (*pos < n && h[*pos] >= '0' && h[*pos] <= '9' && digits < 6) {
		x = x * 10 + (unsigned)(h[*pos] - '0');
		(*pos)++;
		digits++;
	}
	if (digits == 0 || digits > 5 || *pos >= n ||
	    (h[*pos] != ' ' && h[*pos] != '\n' && h[*pos] != '\t' && h[*pos] != '\r'))
		return -1;
	(*pos)++;
	*v = x;
	return 0;
}

int tz_pixmap_read_ppm(const char *path, uint64_t max_pixels, struct tz_pixmap *pm,
		       char *err, size_t errlen)
{
	unsigned char head[32];
	unsigned w = 0, h = 0, maxval = 0;
	size_t pos = 3;
	uint64_t need;
	struct stat st;
	ssize_t n;
	int fd, rc = -1;

	memset(pm, 0, sizeof *pm);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return tz_err(err, errlen, "%s: %s", path, strerror(errno));
	n = read(fd, head, sizeof head);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || n < 8 || memcmp(head, "P6", 2) != 0 ||
	    (head[2] != '\n' && head[2] != ' ') ||
	    header_num(head, (size_t)n, &pos, &w) || header_num(head, (size_t)n, &pos, &h) ||
	    header_num(head, (size_t)n, &pos, &maxval) || maxval != 255) {
		tz_err(err, errlen, "pixels: not an 8-bit binary PPM");
		goto out;
	}
	if (w == 0 || h == 0 || (uint64_t)w * h > max_pixels) {
		tz_err(err, errlen, "pixels: %ux%u is outside the limit of %llu pixels", w, h,
		       (unsigned long long)max_pixels);
		goto out;
	}
	need = (uint64_t)w * h * 3;
	if ((uint64_t)st.st_size != pos + need) {
		tz_err(err, errlen, "pixels: size %lld does not match %ux%u",
		       (long long)st.st_size, w, h);
		goto out;
	}
	pm->rgb = g_try_malloc(need);
	if (pm->rgb == NULL) {
		tz_err(err, errlen, "pixels: out of memory");
		goto out;
	}
	if (pread(fd, pm->rgb, need, (off_t)pos) != (ssize_t)need) {
		tz_err(err, errlen, "pixels: short read");
		tz_pixmap_clear(pm);
		goto out;
	}
	pm->width = w;
	pm->height = h;
	rc = 0;
out:
	close(fd);
	return rc;
}

static void be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static int chunk(int fd, const char *type, const unsigned char *data, size_t len)
{
	unsigned char hdr[8], crc[4];
	uLong c = crc32(0L, (const Bytef *)type, 4);

	if (len > 0x7fffffffu)
		return -1;
	be32(hdr, (uint32_t)len);
	memcpy(hdr + 4, type, 4);
	if (len)
		c = crc32(c, data, (uInt)len);
	be32(crc, (uint32_t)c);
	return tz_write_all(fd, hdr, 8) || (len && tz_write_all(fd, data, len)) ||
	       tz_write_all(fd, crc, 4) ? -1 : 0;
}

/* Deflate the rows (filter byte 0 before each) into one IDAT buffer. */
static unsigned char *deflate_rows(const struct tz_pixmap *pm, size_t *outlen)
{
	size_t row = (size_t)pm->width * 3;
	z_stream z;
	unsigned char *out = NULL;
	size_t cap;
	static const unsigned char filter0 = 0;
	int ok = 1;

	memset(&z, 0, sizeof z);
	if (deflateInit(&z, 6) != Z_OK)
		return NULL;
	cap = deflateBound(&z, (uLong)((row + 1) * pm->height)) + 64;
	out = g_try_malloc(cap);
	if (out == NULL) {
		deflateEnd(&z);
		return NULL;
	}
	z.next_out = out;
	z.avail_out = (uInt)cap;
	for (unsigned y = 0; y < pm->height && ok; y++) {
		z.next_in = (Bytef *)&filter0;
		z.avail_in = 1;
		ok = deflate(&z, Z_NO_FLUSH) == Z_OK;
		z.next_in = pm->rgb + row * y;
		z.avail_in = (uInt)row;
		ok = ok && deflate(&z, Z_NO_FLUSH) == Z_OK && z.avail_in == 0;
	}
	if (!ok || deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		g_free(out);
		return NULL;
	}
	*outlen = z.total_out;
	deflateEnd(&z);
	return out;
}

int tz_pixmap_write_png(const struct tz_pixmap *pm, unsigned dpi, const char *path,
			char *err, size_t errlen)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	unsigned char ihdr[13], phys[9];
	unsigned char *idat;
	size_t idat_len = 0;
	int fd, bad;

	idat = deflate_rows(pm, &idat_len);
	if (idat == NULL)
		return tz_err(err, errlen, "png: deflate failed");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		g_free(idat);
		return tz_err(err, errlen, "%s: %s", path, strerror(errno));
	}
	be32(ihdr, pm->width);
	be32(ihdr + 4, pm->height);
	ihdr[8] = 8;            /* bit depth */
	ihdr[9] = 2;            /* truecolour */
	ihdr[10] = ihdr[11] = ihdr[12] = 0;
	bad = tz_write_all(fd, sig, sizeof sig) || chunk(fd, "IHDR", ihdr, sizeof ihdr);
	if (!bad && dpi) {
		uint32_t ppm = (uint32_t)((dpi * 10000u + 127u) / 254u);   /* per metre */
		be32(phys, ppm);
		be32(phys + 4, ppm);
		phys[8] = 1;
		bad = chunk(fd, "pHYs", phys, sizeof phys);
	}
	bad = bad || chunk(fd, "IDAT", idat, idat_len) || chunk(fd, "IEND", NULL, 0);
	g_free(idat);
	if (close(fd) != 0)
		bad = 1;
	if (bad) {
		unlink(path);
		return tz_err(err, errlen, "%s: write failed", path);
	}
	return 0;
}
