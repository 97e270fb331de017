/* tz_uu.c — uuencoded files inside text bodies; see tz_uu.h. */
#include "tz_uu.h"

#include <string.h>

/* Length of the line at p (without LF and a CR before it), and the offset
 * of the next line in *next. */
static size_t line_at(const char *buf, size_t len, size_t off, size_t *next)
{
	const char *nl = memchr(buf + off, '\n', len - off);
	size_t end = nl ? (size_t)(nl - buf) : len;

	*next = nl ? end + 1 : len;
	if (end > off && buf[end - 1] == '\r')
		end--;
	return end - off;
}

/* A data line: length character, then exactly the groups it announces
 * (one or two characters of slack for encoders that pad). */
static bool uu_line(const char *p, size_t n)
{
	size_t want;

	if (n == 0 || p[0] < 32 || p[0] > 96)
		return false;
	want = ((((unsigned)(p[0] - 32) & 63) + 2) / 3) * 4;
	if (n - 1 < want || n - 1 > want + 2)
		return false;
	for (size_t i = 1; i < n; i++)
		if (p[i] < 32 || p[i] > 96)
			return false;
	return true;
}

static bool begin_line(const char *p, size_t n, size_t *name_off)
{
	size_t i = 6, digits = 0;

	if (n < 8 || memcmp(p, "begin ", 6) != 0)
		return false;
	while (i < n && p[i] >= '0' && p[i] <= '7') {
		i++;
		digits++;
	}
	if (digits < 3 || digits > 4 || i >= n || p[i] != ' ' || i + 1 >= n)
		return false;
	*name_off = i + 1;
	return true;
}

bool tz_uu_find(const char *buf, size_t len, size_t from, struct tz_uu_block *b)
{
	size_t off = from, next, name_off;

	while (off < len) {
		size_t n = line_at(buf, len, off, &next), n2, next2, pos;

		if (!begin_line(buf + off, n, &name_off) || next >= len) {
			off = next;
			continue;
		}
		n2 = line_at(buf, len, next, &next2);
		if (!uu_line(buf + next, n2)) {
			off = next;
			continue;
		}
		b->start = off;
		b->name = g_strndup(buf + off + name_off, n - name_off);
		/* Data lines, then an optional "end". */
		pos = next;
		while (pos < len) {
			size_t m = line_at(buf, len, pos, &next2);
			if (m == 3 && memcmp(buf + pos, "end", 3) == 0) {
				pos = next2;
				break;
			}
			if (!uu_line(buf + pos, m) && !(m == 1 && (buf[pos] == '`' || buf[pos] == ' ')))
				break;
			pos = next2;
		}
		b->stop = pos;
		return true;
	}
	return false;
}

void tz_uu_decode(const char *buf, const struct tz_uu_block *b, GByteArray *out)
{
	size_t off, next;

	line_at(buf, b->stop, b->start, &off);   /* skip the begin line */
	while (off < b->stop) {
		size_t n = line_at(buf, b->stop, off, &next);
		const unsigned char *p = (const unsigned char *)buf + off;

		if (n > 0 && uu_line(buf + off, n)) {
			size_t want = (p[0] - 32) & 63, got = 0;
			for (size_t i = 1; i + 3 < n + 1 && got < want; i += 4) {
				unsigned char q[4], o[3];
				for (int k = 0; k < 4; k++)
					q[k] = (i + k < n) ? (unsigned char)((p[i + k] - 32) & 63) : 0;
				o[0] = (unsigned char)(q[0] << 2 | q[1] >> 4);
				o[1] = (unsigned char)(q[1] << 4 | q[2] >> 2);
				o[2] = (unsigned char)(q[2] << 6 | q[3]);
				size_t take = MIN((size_t)3, want - got);
				g_byte_array_append(out, o, (guint)take);
				got += take;
			}
		}
		off = next;
	}
}
