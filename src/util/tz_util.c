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

unsigned tz_unclosed_words(const char *s)
{
	unsigned n = 0;
	bool open = false;

	for (const char *p = s; p != NULL && *p; p++) {
		if (p[0] == '=' && p[1] == '?') {
			n += open;
			open = true;
			p++;
		} else if (p[0] == '?' && p[1] == '=' && open) {
			open = false;
			p++;
		}
	}
	return n + open;
}
