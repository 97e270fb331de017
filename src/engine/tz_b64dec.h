/* tz_b64dec.h — GMime-exact base64 decoding, four characters at a time. */
#ifndef TZ_B64DEC_H
#define TZ_B64DEC_H

#include <string.h>
#include <gmime/gmime.h>

/* g_mime_encoding_base64_decode_step's contract and results: out has room
 * for len + 3 bytes; state and save start at 0. */
size_t tz_b64_decode_step(const unsigned char *in, size_t len, unsigned char *out, int *state, guint32 *save);

typedef struct _TzB64Filter TzB64Filter;
typedef struct {
	GMimeFilterClass parent_class;
} TzB64FilterClass;
GType tz_b64_filter_get_type(void);
#define TZ_TYPE_B64_FILTER (tz_b64_filter_get_type())

/* A decoding filter for GMimeStreamFilter, in place of
 * g_mime_filter_basic_new(GMIME_CONTENT_ENCODING_BASE64, FALSE). */
GMimeFilter *tz_b64_filter_new(void);

#endif
