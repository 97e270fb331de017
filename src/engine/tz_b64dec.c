/* tz_b64dec.c — base64 decoding of stripped and text parts, as GMime's
 * g_mime_encoding_base64_decode_step (3.2) does it but four characters at
 * a time: it was the largest single cost of attachment-heavy mail
 * (docs/performance.md). The result of every call is GMime's, bytes and
 * state, for any input and any state (tests/unit/engine/test_b64dec
 * compares them with the installed GMime), so what a part decodes to,
 * garbage included, does not change. GMime's rules, kept here: bytes
 * outside the alphabet are skipped; the first '=' ends the data (the open
 * quartet gives one or two bytes if it holds two or three characters,
 * else none) and the state becomes -1, after which nothing is decoded. The filter is a GMimeFilter the filter stream calls with the
 * same chunks as GMimeFilterBasic. */
#include "tz_b64dec.h"

#include <stdint.h>

#define BAD 0x80000000u

/* rank[c]: the 6-bit value of c, 0xff outside the alphabet. */
static uint8_t rank[256];
/* dec[k][c]: rank[c] shifted into quartet position k; BAD outside the
 * alphabet (and so for '=', which only the byte step handles). */
static uint32_t dec[4][256];

static gpointer tables_init(gpointer unused)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	(void)unused;
	memset(rank, 0xff, sizeof(rank));
	for (unsigned i = 0; i < 64; i++)
		rank[(uint8_t)alphabet[i]] = (uint8_t)i;
	for (unsigned c = 0; c < 256; c++)
		for (unsigned k = 0; k < 4; k++)
			dec[k][c] = rank[c] == 0xff ? BAD : (uint32_t)rank[c] << (18 - 6 * k);
	return NULL;
}

static void tables(void)
{
	static GOnce once = G_ONCE_INIT;

	g_once(&once, tables_init, NULL);
}

/* The end of the data: a quartet with two or three characters before
 * the '=' gives one or two bytes, padded with zero bits (GMime's rule). */
static unsigned char *closing(unsigned char *o, guint32 *saved, int n)
{
	if (n >= 2) {
		*saved <<= 6 * (4 - n);
		*o++ = (unsigned char)(*saved >> 16);
		if (n > 2)
			*o++ = (unsigned char)(*saved >> 8);
	}
	return o;
}

size_t tz_b64_decode_step(const unsigned char *in, size_t len, unsigned char *out, int *state, guint32 *save)
{
	const unsigned char *p = in, *end = in + len;
	unsigned char *o = out;
	guint32 saved = *save;
	int n = *state;

	if (n == -1)
		return 0;
	tables();
	while (p < end) {
		unsigned char c;
		uint8_t r;

		/* Whole quartets of alphabet characters at a quartet start:
		 * GMime's loop would emit these three bytes each and leave
		 * saved at 0 after each. Eight characters are read at once and
		 * each quartet's bytes stored as four (the fourth is
		 * overwritten next): o - out <= 3 * (p - in + 3) / 4 (at most
		 * three characters came from the previous call), and with eight
		 * unread characters the store stays inside the len + 3 bytes. */
		while (n == 0 && end - p >= 8) {
			uint32_t x = dec[0][p[0]] | dec[1][p[1]] | dec[2][p[2]] | dec[3][p[3]];
			uint32_t y = dec[0][p[4]] | dec[1][p[5]] | dec[2][p[6]] | dec[3][p[7]];

			if ((x | y) & BAD)
				break;
			x = GUINT32_TO_BE(x << 8);
			y = GUINT32_TO_BE(y << 8);
			memcpy(o, &x, 4);
			memcpy(o + 3, &y, 4);
			o += 6;
			p += 8;
			saved = 0;
		}
		while (n == 0 && end - p >= 4) {
			uint32_t x = dec[0][p[0]] | dec[1][p[1]] | dec[2][p[2]] | dec[3][p[3]];

			if (x & BAD)
				break;
			o[0] = (unsigned char)(x >> 16);
			o[1] = (unsigned char)(x >> 8);
			o[2] = (unsigned char)x;
			o += 3;
			p += 4;
			saved = 0;
		}
		if (p >= end)
			break;
		/* GMime's step, one byte */
		r = rank[c = *p++];
		if (r == 0xff) {
			if (c != '=')
				continue;
			o = closing(o, &saved, n);
			n = -1;
			break;
		}
		saved = (saved << 6) | r;
		if (++n == 4) {
			*o++ = (unsigned char)(saved >> 16);
			*o++ = (unsigned char)(saved >> 8);
			*o++ = (unsigned char)saved;
			saved = 0;
			n = 0;
		}
	}
	*save = saved;
	*state = n;
	return (size_t)(o - out);
}

/* ------------------------------------------------------------ the filter */

struct _TzB64Filter {
	GMimeFilter parent;
	int state;
	guint32 save;
};

G_DEFINE_TYPE(TzB64Filter, tz_b64_filter, GMIME_TYPE_FILTER)

static GMimeFilter *filter_copy(GMimeFilter *f)
{
	(void)f;
	return tz_b64_filter_new();
}

/* GMimeFilterBasic's base64 decoding: room for len + 3 bytes, one step. */
static void filter_filter(GMimeFilter *f, char *in, size_t len, size_t prespace,
			  char **out, size_t *outlen, size_t *outprespace)
{
	TzB64Filter *b = (TzB64Filter *)f;

	(void)prespace;
	g_mime_filter_set_size(f, len + 3, FALSE);
	*outlen = tz_b64_decode_step((const unsigned char *)in, len, (unsigned char *)f->outbuf,
				     &b->state, &b->save);
	*out = f->outbuf;
	*outprespace = f->outpre;
}

static void filter_reset(GMimeFilter *f)
{
	TzB64Filter *b = (TzB64Filter *)f;

	b->state = 0;
	b->save = 0;
}

static void tz_b64_filter_class_init(TzB64FilterClass *klass)
{
	GMimeFilterClass *fc = GMIME_FILTER_CLASS(klass);

	fc->copy = filter_copy;
	fc->filter = filter_filter;
	fc->complete = filter_filter;   /* base64 decoding has nothing to flush */
	fc->reset = filter_reset;
}

static void tz_b64_filter_init(TzB64Filter *b)
{
	b->state = 0;
	b->save = 0;
}

GMimeFilter *tz_b64_filter_new(void)
{
	tables();
	return g_object_new(TZ_TYPE_B64_FILTER, NULL);
}
