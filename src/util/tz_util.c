/* tz_util.c — error buffers, reference ids, hex encoding. */
#include "tz_util.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <glib.h>

int tz_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

void tz_hex(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

void tz_id_new(char out[TZ_ID_LEN])
{
	struct timeval tv;
	struct tm tm;
	unsigned char rnd[4];
	char hex[9];
	char buf[96];
	size_t n;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	/* The random tail keeps ids unique across processes and threads that
	 * share a microsecond; if the kernel has none to give yet, fall back to
	 * the pid, a counter and a stack address, still unique enough for
	 * naming while never blocking mail. The kernel's, not OpenSSL's: four
	 * bytes from getrandom(2) need no lock, while RAND_bytes takes the
	 * library's locks and, in a thread that has not used it yet, builds a
	 * DRBG (110-290 us here; the milter's threads come and go): ~1.7 % of
	 * the milter's CPU on 5 KB mail. */
	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
		/* pool not ready yet (early boot), or no getrandom (seccomp, old
		 * kernel): a process-wide counter and the pid keep two ids of one
		 * microsecond apart */
		static unsigned counter;
		uint32_t v = (uint32_t)(uintptr_t)&tm ^ (uint32_t)getpid() * 2654435761u ^
			     __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED) * 40503u;
		memcpy(rnd, &v, sizeof(rnd));
	}
	tz_hex(rnd, sizeof(rnd), hex);
	/* Formatted through a roomy buffer: the compiler cannot bound tm fields. */
	snprintf(buf, sizeof(buf), "%04d%02d%02d-%02d%02d%02d-%06ld-%s",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv.tv_usec, hex);
	n = strlen(buf);
	if (n >= TZ_ID_LEN)
		n = TZ_ID_LEN - 1;
	memcpy(out, buf, n);
	out[n] = '\0';
}

int tz_id_valid(const char *s)
{
	/* "YYYYMMDD-HHMMSS-uuuuuu-xxxxxxxx" */
	static const char shape[] = "dddddddd-dddddd-dddddd-hhhhhhhh";
	size_t i;

	if (s == NULL || strlen(s) != sizeof(shape) - 1)
		return 0;
	for (i = 0; shape[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (shape[i] == '-' && c != '-')
			return 0;
		if (shape[i] == 'd' && !isdigit(c))
			return 0;
		if (shape[i] == 'h' && !(isdigit(c) || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return 1;
}

int tz_write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int tz_read_all(int fd, void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

char *tz_printable_buf(const char *s, char *out, size_t outlen)
{
	size_t i = 0;

	for (; s && s[i] && i + 1 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[i] = '\0';
	return out;
}

char *tz_printable(const char *s, size_t max)
{
	size_t n = 0;

	if (s == NULL)
		return g_strdup("");
	while (s[n] && n < max)
		n++;
	return tz_printable_buf(s, g_malloc(n + 1), n + 1);
}

size_t tz_header_decode_cost(const char *v, size_t len)
{
	GArray *open = NULL, *close = NULL;
	const char *end = v + len;
	size_t cost = 0, k = 0;

	if (v == NULL || memchr(v, '=', len) == NULL)
		return 0;
	open = g_array_new(FALSE, FALSE, sizeof(size_t));
	close = g_array_new(FALSE, FALSE, sizeof(size_t));
	for (const char *p = v; p < end; p++) {
		if (*p == '?' && p + 1 < end && p[1] == '=') {
			size_t at = (size_t)(p - v);
			g_array_append_val(close, at);
		}
		if (*p != '=')
			continue;
		const char *q = p + 1;
		while (q < end && *q == '\\')   /* GMime unquotes before it decodes */
			q++;
		if (q < end && *q == '?') {
			size_t at[2] = { (size_t)(p - v), (size_t)(q + 1 - v) };
			g_array_append_vals(open, at, 2);
		}
	}
	/* each opening's scan: to the first "?=" after its '?', or the end */
	for (guint i = 0; i < open->len; i += 2) {
		size_t from = g_array_index(open, size_t, i), after = g_array_index(open, size_t, i + 1);
		while (k < close->len && g_array_index(close, size_t, k) < after)
			k++;
		cost += (k < close->len ? g_array_index(close, size_t, k) : len) - from;
	}
	g_array_free(open, TRUE);
	g_array_free(close, TRUE);
	return cost;
}

/* A copy of raw with enough ')' appended that a comment opened at any '('
 * is closed, or NULL when none would stay open. GMime 3.2.13 (Debian 12)
 * leaks the addr-spec when skip_comment runs off the end of the header
 * ("a@[192.0.2.1] (x"; fixed upstream in 3.2.15, gmime issue #159); an
 * attacker could repeat that in every message, so it never sees one.
 * Where GMime opens a comment depends on its whole parse (quoted strings,
 * domain literals, what it gives up on), and guessing that was wrong once
 * (a fuzzer found a second leak), so every '(' counts as a possible start
 * and only skip_comment's own scan is modelled: a backslash escapes the
 * next character, '(' and ')' nest, nothing else matters. That scan reads
 * a run of backslashes the same way from every start (it always enters
 * the run at its first character), so one pass gives each character its
 * depth step, and prefix sums say how deep a comment opened at p still is
 * at the end. */
static char *close_comments(const char *raw)
{
	size_t n, need = 0;
	gssize *sum, low;   /* sum[i]: steps before i */
	GString *s;

	if (strchr(raw, '(') == NULL)   /* most headers: nothing to close */
		return NULL;
	n = strlen(raw);
	sum = g_new(gssize, n + 1);
	sum[0] = 0;
	for (size_t i = 0; i < n; i++) {
		gssize step = raw[i] == '(' ? 1 : raw[i] == ')' ? -1 : 0;
		if (raw[i] == '\\' && i + 1 < n) {
			sum[i + 1] = sum[i];
			i++;
			step = 0;
		}
		sum[i + 1] = sum[i] + step;
	}
	/* A comment opened at p is open at the end iff the depth never drops
	 * below where it started: min(sum[p+1..n]) >= sum[p+1]. */
	low = sum[n];
	for (size_t p = n; p-- > 0;) {
		if (sum[p + 1] < low)
			low = sum[p + 1];
		if (raw[p] == '(' && low >= sum[p + 1] &&
		    (size_t)(1 + sum[n] - sum[p + 1]) > need)
			need = (size_t)(1 + sum[n] - sum[p + 1]);
	}
	g_free(sum);
	if (need == 0)
		return NULL;
	s = g_string_new(raw);
	/* the blank absorbs a trailing backslash that would escape a ')' */
	g_string_append_c(s, ' ');
	while (need--)
		g_string_append_c(s, ')');
	return g_string_free(s, FALSE);
}

char *tz_header_for_gmime(const char *v)
{
	return close_comments(v);
}
