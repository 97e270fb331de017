/* tz_clamd.c — clamd INSTREAM client (protocol in tz_clamd.h). */
#include "tz_clamd.h"

#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib.h>

#include "tz_util.h"

#define CHUNK 65536

struct tz_clamd {
	int fd;
	int broken;            /* a send failed: clamd probably closed with an error */
};

static void set_timeouts(int fd, unsigned timeout_s)
{
	struct timeval tv = { (time_t)(timeout_s ? timeout_s : 60), 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int connect_unix(const char *path, unsigned timeout_s, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return tz_err(err, errlen, "clamd socket path too long: %s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return tz_err(err, errlen, "socket: %s", strerror(errno));
	set_timeouts(fd, timeout_s);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		tz_err(err, errlen, "clamd %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* "host:port" or "[v6]:port". */
static int connect_inet(const char *spec, unsigned timeout_s, char *err, size_t errlen)
{
	char *host = NULL, *colon;
	const char *port;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	int fd = -1, gai;

	colon = strrchr(spec, ':');
	if (colon == NULL || colon == spec)
		return tz_err(err, errlen, "ScannerSocket %s: need /path or host:port", spec);
	port = colon + 1;
	if (spec[0] == '[' && colon[-1] == ']')
		host = g_strndup(spec + 1, (gsize)(colon - spec - 2));
	else
		host = g_strndup(spec, (gsize)(colon - spec));
	gai = getaddrinfo(host, port, &hints, &res);
	if (gai != 0) {
		tz_err(err, errlen, "clamd %s: %s", spec, gai_strerror(gai));
		goto out;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		set_timeouts(fd, timeout_s);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		tz_err(err, errlen, "clamd %s: %s", spec, strerror(errno));
		close(fd);
		fd = -1;
	}
out:
	if (res)
		freeaddrinfo(res);
	g_free(host);
	return fd;
}

static int send_all(struct tz_clamd *c, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			c->broken = 1;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

struct tz_clamd *tz_clamd_begin(const char *socket_spec, unsigned timeout_s,
				char *err, size_t errlen)
{
	struct tz_clamd *c;
	int fd;

	if (socket_spec == NULL || *socket_spec == '\0') {
		tz_err(err, errlen, "ScannerSocket is not set");
		return NULL;
	}
	fd = socket_spec[0] == '/' ? connect_unix(socket_spec, timeout_s, err, errlen)
				   : connect_inet(socket_spec, timeout_s, err, errlen);
	if (fd < 0)
		return NULL;
	c = g_new0(struct tz_clamd, 1);
	c->fd = fd;
	if (send_all(c, "zINSTREAM", 10) < 0) {
		tz_err(err, errlen, "clamd: send: %s", strerror(errno));
		tz_clamd_abort(c);
		return NULL;
	}
	return c;
}

int tz_clamd_write(struct tz_clamd *c, const void *buf, size_t len, char *err, size_t errlen)
{
	const unsigned char *p = buf;

	if (c->broken)
		return -1;
	while (len > 0) {
		size_t n = len > CHUNK ? CHUNK : len;
		unsigned char be[4] = { (unsigned char)(n >> 24), (unsigned char)(n >> 16),
					(unsigned char)(n >> 8), (unsigned char)n };
		if (send_all(c, be, 4) < 0 || send_all(c, p, n) < 0)
			return tz_err(err, errlen, "clamd: send: %s", strerror(errno));
		p += n;
		len -= n;
	}
	return 0;
}

enum tz_clamd_verdict tz_clamd_parse_reply(const char *reply, char *name, size_t namelen)
{
	const char *r = reply;
	size_t n;

	if (strncmp(r, "stream: ", 8) == 0)
		r += 8;
	n = strlen(r);
	if (name && namelen)
		name[0] = '\0';
	if (strcmp(r, "OK") == 0)
		return TZ_CLAMD_CLEAN;
	if (n > 6 && strcmp(r + n - 6, " FOUND") == 0) {
		if (name && namelen)
			g_strlcpy(name, r, MIN(namelen, n - 6 + 1));
		return TZ_CLAMD_FOUND;
	}
	if (name && namelen)
		g_strlcpy(name, *reply ? reply : "no reply", namelen);
	return *reply ? TZ_CLAMD_REFUSED : TZ_CLAMD_DOWN;
}

enum tz_clamd_verdict tz_clamd_end(struct tz_clamd *c, char *name, size_t namelen,
				   char *err, size_t errlen)
{
	static const unsigned char zero[4] = { 0, 0, 0, 0 };
	char reply[1024];
	size_t got = 0;
	enum tz_clamd_verdict v;

	if (!c->broken)
		send_all(c, zero, 4);
	/* Read until clamd closes or sends the NUL terminator (z-commands). */
	while (got < sizeof(reply) - 1) {
		ssize_t n = recv(c->fd, reply + got, sizeof(reply) - 1 - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(reply, '\0', got))
			break;
	}
	reply[got] = '\0';
	g_strchomp(reply);
	v = tz_clamd_parse_reply(reply, name, namelen);
	if (v == TZ_CLAMD_DOWN)
		tz_err(err, errlen, "clamd: no verdict (%s)", c->broken ? "connection broken" : "timeout or closed");
	else if (v == TZ_CLAMD_REFUSED)
		tz_err(err, errlen, "clamd: %s", reply);
	tz_clamd_abort(c);
	return v;
}

void tz_clamd_abort(struct tz_clamd *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	g_free(c);
}
