/* tz_prescan.c — a byte scan of the raw message before GMime parses it,
 * so that a message with too many MIME parts is refused before GMime has
 * built an object for each of them (100,000 empty parts in 3 MB of mail
 * cost ~190 MB of GMime objects; the walk's part limit comes too late).
 *
 * GMime starts a part at every line "--BOUNDARY" of a boundary declared
 * earlier, so the scan collects every `boundary=` value it sees (anywhere:
 * a superset of the real declarations) and counts the lines that open a
 * part of one of them. Boundaries are compared on their first KEY bytes,
 * which can only count more lines, never fewer. Two backstops keep the scan
 * itself from being steered around: more distinct boundaries than a
 * message with max_parts parts can use is refused, and so are more than
 * DASH_FACTOR * max_parts lines beginning with "--" that could be a
 * delimiter (a declaration the scan cannot read, e.g. RFC 2231-encoded,
 * still bounds GMime's work); "-- x", "--" and dash-only lines are not
 * counted there, so SQL dumps and separators in text do not trip it.
 * Over-counting only ever refuses (fail closed). */
#include "tz_engine_int.h"

#include <stdint.h>
#include <string.h>

#include "tz_util.h"

#define WINDOW 65536   /* bytes read per step */
#define LOOK 1024      /* bytes kept ahead of the scan position */
#define KEY 64         /* boundary bytes compared */
#define DASH_FACTOR 16

struct prescan {
	GHashTable *bounds;     /* boundary keys (first KEY bytes), owned */
	unsigned max_parts;
	unsigned opens;         /* lines opening a part of a known boundary */
	unsigned dashes;        /* lines beginning with "--" */
	bool at_line_start;
	char *err;
	size_t errlen;
};

static bool is_lwsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* p is just after the word "boundary": read `*= "value"` or `=value` and
 * remember the value's first KEY bytes. */
static int take_boundary(struct prescan *s, const char *p, const char *end)
{
	char key[KEY + 1];
	size_t n = 0;

	while (p < end && (*p == '*' || g_ascii_isdigit(*p)))
		p++;
	while (p < end && is_lwsp(*p))
		p++;
	if (p >= end || *p != '=')
		return 0;
	for (p++; p < end && is_lwsp(*p); p++)
		;
	if (p < end && *p == '"') {
		for (p++; p < end && *p != '"' && n < KEY; p++) {
			if (*p == '\\' && p + 1 < end)
				p++;
			key[n++] = *p;
		}
	} else {
		for (; p < end && !is_lwsp(*p) && *p != ';' && *p != '"' && n < KEY; p++)
			key[n++] = *p;
	}
	if (n == 0)
		return 0;
	key[n] = '\0';
	if (g_hash_table_contains(s->bounds, key))
		return 0;
	/* Every multipart needs a part of its own: more boundaries than parts
	 * means the declarations are there to swamp the scan. */
	if (g_hash_table_size(s->bounds) >= 4 * s->max_parts + 16)
		return tz_err(s->err, s->errlen, "more than %u MIME parts (boundaries)", s->max_parts);
	g_hash_table_add(s->bounds, g_strdup(key));
	return 0;
}

/* A line the backstop must not count: "-- " (signatures, SQL comments in
 * a text attachment), a bare "--", or nothing but dashes (separators).
 * Real boundaries do not start with a blank, and one made only of dashes
 * would also have to be hidden from take_boundary (RFC 2231 sections). */
static bool plain_dashes(const char *p, const char *end)
{
	const char *q = p + 2;

	if (q >= end || *q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
		return true;
	while (q < end && *q == '-')
		q++;
	while (q < end && (*q == ' ' || *q == '\t' || *q == '\r'))
		q++;
	return q >= end || *q == '\n';
}

/* p is at the start of a line beginning with "--". */
static int take_dashes(struct prescan *s, const char *p, const char *end)
{
	char key[KEY + 1];
	size_t n = 0;

	if (!plain_dashes(p, end) && ++s->dashes > DASH_FACTOR * s->max_parts)
		return tz_err(s->err, s->errlen, "more than %u MIME parts (delimiter lines)", s->max_parts);
	for (p += 2; p < end && *p != '\n' && n < KEY; p++)
		key[n++] = *p;
	if (n < KEY)   /* the whole line is here: GMime ignores trailing blanks */
		while (n > 0 && is_lwsp(key[n - 1]))
			n--;
	key[n] = '\0';
	if (n == 0 || !g_hash_table_contains(s->bounds, key))
		return 0;   /* not a delimiter, or "--B--" (a close opens nothing) */
	if (++s->opens > s->max_parts)
		return tz_err(s->err, s->errlen, "more than %u MIME parts", s->max_parts);
	return 0;
}

#define ONES 0x0101010101010101ULL

/* "boundary" in any ASCII case at p (8 bytes readable): OR 0x20 folds each
 * letter's upper case onto its lower case and maps no other byte there. */
static inline bool is_boundary_word(const char *p)
{
	uint64_t w, want;

	memcpy(&w, p, 8);
	memcpy(&want, "boundary", 8);
	return (w | (ONES * 0x20)) == want;
}

/* A byte that may follow "boundary" in a declaration take_boundary
 * accepts: [*0-9], LWSP or '='. After anything else it returns at once. */
static inline bool after_word(char c)
{
	return c == '*' || c == '=' || is_lwsp(c) || (c >= '0' && c <= '9');
}

/* The events of buf[0, stop) (buf[stop, len) is lookahead), found from
 * the byte j that ends them, and taken in the order of their starts:
 *   - a line start at j + 1 < stop with "--" there ('\n' at j), and at 0
 *     when the previous window ended with '\n' (s->at_line_start);
 *   - a word "boundary" starting at j - 7 < stop whose 'y' at j is
 *     followed by a byte after_word() accepts.
 * A "boundary" word holds no '\n', so no line start lies between its
 * start and its 'y': ordering by j orders by start. These are exactly
 * the calls the byte-at-a-time scan made (tests/unit/engine/test_prescan
 * keeps that scan and compares), but most bytes are only looked at by the
 * 16-byte masks below (SSE2; without it every 'y' and '\n' comes here):
 * base64 has no '\n' followed by "--", and a 'y' followed by a digit,
 * '+' or '/' about once in 170 bytes. */
static int event_at(struct prescan *s, const char *buf, size_t j, size_t stop, size_t len)
{
	const char *end = buf + len;
	char c = buf[j];

	if (c == '\n') {
		if (j + 1 < stop && j + 2 < len && buf[j + 1] == '-' && buf[j + 2] == '-')
			return take_dashes(s, buf + j + 1, end);
	} else if ((c | 0x20) == 'y' && j >= 7 && j - 7 < stop && j + 1 < len && after_word(buf[j + 1])
		   && is_boundary_word(buf + j - 7)) {
		return take_boundary(s, buf + j + 1, end);
	}
	return 0;
}

#ifdef __SSE2__
#include <emmintrin.h>

/* Bit k set when buf[base + k] may end an event; event_at decides, so
 * this may flag more than that: a 'y' is flagged before any byte <= '='
 * (all of after_word's bytes are). */
static inline unsigned block_mask(const char *p)
{
	const __m128i v0 = _mm_loadu_si128((const __m128i *)p);
	const __m128i v1 = _mm_loadu_si128((const __m128i *)(p + 1));
	const __m128i v2 = _mm_loadu_si128((const __m128i *)(p + 2));
	const __m128i dash = _mm_set1_epi8('-');
	__m128i nl, y, next;

	nl = _mm_and_si128(_mm_cmpeq_epi8(v0, _mm_set1_epi8('\n')),
			   _mm_and_si128(_mm_cmpeq_epi8(v1, dash), _mm_cmpeq_epi8(v2, dash)));
	y = _mm_cmpeq_epi8(_mm_or_si128(v0, _mm_set1_epi8(0x20)), _mm_set1_epi8('y'));
	next = _mm_cmpeq_epi8(_mm_min_epu8(v1, _mm_set1_epi8('=')), v1);   /* v1 <= '=' unsigned */
	return (unsigned)_mm_movemask_epi8(_mm_or_si128(nl, _mm_and_si128(y, next)));
}
#endif

/* Scan buf[0, stop); buf[stop, len) is lookahead only. This loop was a
 * quarter of the engine's time on attachment-heavy mail when it stopped
 * on every '\n' and every 'b' (docs/performance.md). */
static int scan(struct prescan *s, const char *buf, size_t stop, size_t len)
{
	/* no event ends at or after jmax (see event_at) */
	size_t j = 0, jmax = MIN(stop + 7, len > 0 ? len - 1 : 0);

	if (stop == 0)
		return 0;
	if (s->at_line_start && buf[0] == '-' && len > 1 && buf[1] == '-'
	    && take_dashes(s, buf, buf + len) != 0)
		return -1;
#ifdef __SSE2__
	for (; j < jmax && len - j >= 18; j += 16) {
		unsigned m = block_mask(buf + j);

		while (m != 0) {
			size_t k = j + (size_t)__builtin_ctz(m);

			if (k >= jmax)
				break;
			if (event_at(s, buf, k, stop, len) != 0)
				return -1;
			m &= m - 1;
		}
	}
#endif
	for (; j < jmax; j++)
		if (((buf[j] | 0x20) == 'y' || buf[j] == '\n') && event_at(s, buf, j, stop, len) != 0)
			return -1;
	s->at_line_start = buf[stop - 1] == '\n';
	return 0;
}

int tz_prescan_count(GMimeStream *in, unsigned max_parts, struct tz_prescan_counts *out,
		     char *err, size_t errlen)
{
	struct prescan s = { .max_parts = max_parts, .at_line_start = true, .err = err, .errlen = errlen };
	char *buf = g_malloc(WINDOW + LOOK);
	size_t have = 0;
	ssize_t n;
	int rc = 0;

	s.bounds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (;;) {
		n = g_mime_stream_read(in, buf + have, WINDOW);
		if (n < 0) {
			rc = tz_err(err, errlen, "cannot read the message");
			break;
		}
		if (n == 0 && !g_mime_stream_eos(in))
			continue;
		have += (size_t)n;
		if (n == 0) {   /* the end: everything left is scanned */
			rc = scan(&s, buf, have, have);
			break;
		}
		if (have <= LOOK)
			continue;
		if ((rc = scan(&s, buf, have - LOOK, have)) != 0)
			break;
		memmove(buf, buf + have - LOOK, LOOK);
		have = LOOK;
	}
	if (out != NULL) {
		out->opens = s.opens;
		out->dashes = s.dashes;
		out->bounds = g_hash_table_size(s.bounds);
	}
	g_hash_table_destroy(s.bounds);
	g_free(buf);
	return rc;
}

int tz_prescan_parts(GMimeStream *in, unsigned max_parts, char *err, size_t errlen)
{
	return tz_prescan_count(in, max_parts, NULL, err, errlen);
}
