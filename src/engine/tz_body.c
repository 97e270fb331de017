/* tz_body.c — transfer encoding of the new body; see tz_body.h. */
#include "tz_body.h"

#include <stdint.h>
#include <string.h>

#include "tz_charset.h"

static const char b64_tab[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Every 12 bits as their two base64 characters: a group of three bytes is
 * two look-ups and two 2-byte stores instead of four of each. */
static char b64_pair[4096][2];

static gpointer b64_pair_init(gpointer unused)
{
	(void)unused;
	for (unsigned v = 0; v < 4096; v++) {
		b64_pair[v][0] = b64_tab[v >> 6];
		b64_pair[v][1] = b64_tab[v & 63];
	}
	return NULL;
}

/* Written straight into out, sized once: 57 input bytes make one line of
 * 76 characters and a LF. Per byte through a 80-byte line buffer and an
 * append per line it was 6 % of the 5 KB profile. */
void tz_body_base64(const void *buf, size_t len, GByteArray *out)
{
	static GOnce once = G_ONCE_INIT;
	const char *tab = b64_tab;
	const unsigned char *p = buf, *end = p + len;
	size_t groups = (len + 2) / 3, lines = (groups + 18) / 19, at = out->len;
	unsigned char *w;

	if (len == 0)
		return;
	g_once(&once, b64_pair_init, NULL);
	g_byte_array_set_size(out, (guint)(at + groups * 4 + lines));
	w = out->data + at;
	while (end - p >= 57) {
		/* 18 groups as 9 pairs from one 8-byte load each (the last
		 * reads bytes 48..55 of the line's 57: never past it), then
		 * the 19th alone */
		for (int g = 0; g < 9; g++, p += 6) {
			uint64_t x;

			memcpy(&x, p, 8);
			x = GUINT64_FROM_BE(x);
			memcpy(w, b64_pair[x >> 52], 2);
			memcpy(w + 2, b64_pair[(x >> 40) & 0xfff], 2);
			memcpy(w + 4, b64_pair[(x >> 28) & 0xfff], 2);
			memcpy(w + 6, b64_pair[(x >> 16) & 0xfff], 2);
			w += 8;
		}
		{
			unsigned v = (unsigned)p[0] << 16 | (unsigned)p[1] << 8 | p[2];

			memcpy(w, b64_pair[v >> 12], 2);
			memcpy(w + 2, b64_pair[v & 0xfff], 2);
			w += 4;
			p += 3;
		}
		*w++ = '\n';
	}
	if (p == end)
		return;
	for (; end - p >= 3; p += 3, w += 4) {
		unsigned v = (unsigned)p[0] << 16 | (unsigned)p[1] << 8 | p[2];

		w[0] = (unsigned char)tab[v >> 18];
		w[1] = (unsigned char)tab[(v >> 12) & 63];
		w[2] = (unsigned char)tab[(v >> 6) & 63];
		w[3] = (unsigned char)tab[v & 63];
	}
	if (p < end) {
		unsigned v = (unsigned)p[0] << 16 | (end - p > 1 ? (unsigned)p[1] << 8 : 0);

		w[0] = (unsigned char)tab[v >> 18];
		w[1] = (unsigned char)tab[(v >> 12) & 63];
		w[2] = end - p > 1 ? (unsigned char)tab[(v >> 6) & 63] : '=';
		w[3] = '=';
		w += 4;
	}
	*w = '\n';
}

static void qp_put(GByteArray *out, const char *s, size_t n, size_t *col)
{
	/* Soft break before a token that would pass column 75 (76 with '='). */
	if (*col + n > 75) {
		g_byte_array_append(out, (const guint8 *)"=\n", 2);
		*col = 0;
	}
	g_byte_array_append(out, (const guint8 *)s, n);
	*col += n;
}

void tz_body_qp(const void *buf, size_t len, GByteArray *out)
{
	const unsigned char *p = buf;
	size_t col = 0;
	char hex[4];

	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		bool at_start = i == 0 || p[i - 1] == '\n';
		bool before_eol = i + 1 == len || p[i + 1] == '\n';

		if (c == '\n') {
			g_byte_array_append(out, (const guint8 *)"\n", 1);
			col = 0;
			continue;
		}
		if ((c >= 33 && c <= 126 && c != '=')
		    || ((c == ' ' || c == '\t') && !before_eol)) {
			/* "From " and "." at the start of a line are mangled by some MTAs. */
			bool guard = at_start && ((c == 'F' && len - i >= 5 && memcmp(p + i, "From ", 5) == 0)
						  || (c == '.'));
			if (!guard) {
				char ch = (char)c;
				qp_put(out, &ch, 1, &col);
				continue;
			}
		}
		snprintf(hex, sizeof(hex), "=%02X", c);
		qp_put(out, hex, 3, &col);
	}
	if (len > 0 && p[len - 1] != '\n')
		g_byte_array_append(out, (const guint8 *)"\n", 1);
}

bool tz_body_lines_fit(const void *buf, size_t len, size_t max)
{
	const char *p = buf, *end = p + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		size_t n = (nl != NULL ? nl : end) - p;
		if (n > max)
			return false;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return true;
}

void tz_body_encode(enum tz_body_charset cs, enum tz_body_encoding enc,
		    const char *text, size_t len, GByteArray *out, const char **cte)
{
	GString *jis = NULL;
	const char *buf = text;

	if (cs == TZ_BODY_ISO2022JP) {
		jis = g_string_sized_new(len + len / 2 + 16);
		tz_charset_utf8_to_iso2022jp(text, len, jis);
		buf = jis->str;
		len = jis->len;
		if (tz_body_lines_fit(buf, len, 998)) {
			g_byte_array_append(out, (const guint8 *)buf, len);
			if (len > 0 && buf[len - 1] != '\n')
				g_byte_array_append(out, (const guint8 *)"\n", 1);
			*cte = "7bit";
			goto out;
		}
	}
	if (enc == TZ_ENC_QP) {
		tz_body_qp(buf, len, out);
		*cte = "quoted-printable";
	} else {
		tz_body_base64(buf, len, out);
		*cte = "base64";
	}
out:
	if (jis != NULL)
		g_string_free(jis, TRUE);
}
