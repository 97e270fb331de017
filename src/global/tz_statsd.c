/* tz_statsd.c — StatsSocket: the stats server thread and its client (see
 * tz_statsd.h). Plain sockets and poll(): one request per connection, one
 * connection at a time, every read and write under a deadline. */
#define _GNU_SOURCE 1   /* accept4, pipe2 */
#include "tz_statsd.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib.h>

#include "tz_util.h"

#define MAX_ANSWER (4u << 20)   /* client side: far above any real answer */

struct tz_statsd {
	int fd;                     /* listening socket */
	char *path;                 /* local socket path to unlink, NULL for inet */
	int stop[2];                /* self-pipe: a byte on stop[1] ends the thread */
	pthread_t thread;
	bool running;
	tz_statsd_render_fn render;
	void *arg;
};

/* ------------------------------------------------------------ addresses */

struct address {
	struct sockaddr_storage ss;
	socklen_t len;
	bool local;
};

static int parse_local(const char *path, struct address *a, char *err, size_t errlen)
{
	struct sockaddr_un *un = (struct sockaddr_un *)&a->ss;

	if (path[0] != '/' || strlen(path) >= sizeof(un->sun_path))
		return tz_err(err, errlen, "StatsSocket: local socket needs an absolute path "
			      "shorter than %zu bytes: %s", sizeof(un->sun_path), path);
	un->sun_family = AF_UNIX;
	memcpy(un->sun_path, path, strlen(path) + 1);
	a->len = (socklen_t)sizeof(*un);
	a->local = true;
	return 0;
}

/* "PORT[@ADDR]" for family; ADDR defaults to loopback. */
static int parse_inet(const char *rest, int family, struct address *a, char *err, size_t errlen)
{
	char *port = g_strdup(rest), *host = strchr(port, '@');
	struct addrinfo hints = { 0 }, *res = NULL;
	int rc;

	if (host)
		*host++ = '\0';
	if (host == NULL || *host == '\0')
		host = family == AF_INET6 ? "::1" : "127.0.0.1";
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0 || res == NULL || res->ai_addrlen > sizeof(a->ss)) {
		tz_err(err, errlen, "StatsSocket: cannot resolve %s port %s: %s", host, port,
		       rc ? gai_strerror(rc) : "no address");
		rc = -1;
	} else {
		memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
		a->len = res->ai_addrlen;
		rc = 0;
	}
	if (res)
		freeaddrinfo(res);
	g_free(port);
	return rc;
}

static int parse_spec(const char *spec, struct address *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	if (spec == NULL || *spec == '\0')
		return tz_err(err, errlen, "StatsSocket is not set");
	if (g_ascii_strncasecmp(spec, "local:", 6) == 0)
		return parse_local(spec + 6, a, err, errlen);
	if (g_ascii_strncasecmp(spec, "unix:", 5) == 0)
		return parse_local(spec + 5, a, err, errlen);
	if (g_ascii_strncasecmp(spec, "inet:", 5) == 0)
		return parse_inet(spec + 5, AF_INET, a, err, errlen);
	if (g_ascii_strncasecmp(spec, "inet6:", 6) == 0)
		return parse_inet(spec + 6, AF_INET6, a, err, errlen);
	return tz_err(err, errlen, "StatsSocket must be local:/path, inet:PORT@ADDR or "
		      "inet6:PORT@ADDR: %s", spec);
}

/* ------------------------------------------------------------ deadlines */

static gint64 deadline_after(int ms)
{
	return g_get_monotonic_time() + (gint64)ms * 1000;
}

/* Wait for `events` until the deadline: 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, gint64 deadline)
{
	for (;;) {
		gint64 left = (deadline - g_get_monotonic_time()) / 1000;
		struct pollfd p = { .fd = fd, .events = events };
		int rc;

		if (left <= 0)
			return 0;
		rc = poll(&p, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		return rc < 0 ? -1 : rc > 0;
	}
}

static int write_all(int fd, const char *buf, size_t len, gint64 deadline)
{
	while (len > 0) {
		ssize_t n;

		if (wait_fd(fd, POLLOUT, deadline) <= 0)
			return -1;
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_str(int fd, const char *s, gint64 deadline)
{
	return write_all(fd, s, strlen(s), deadline);
}

/* ------------------------------------------------------------ requests */

/* True when buf holds a whole request: a line, and for HTTP (first line
 * ends in a version) the blank line after the header. */
static bool request_complete(const char *buf)
{
	const char *nl = strchr(buf, '\n');
	const char *v;

	if (nl == NULL)
		return false;
	v = g_strstr_len(buf, nl - buf, " HTTP/");
	if (v == NULL)
		return true;
	return strstr(nl, "\n\r\n") != NULL || strstr(nl, "\n\n") != NULL;
}

/* Read one request into buf (NUL-terminated). 0, or -1 on timeout, error
 * or a request longer than the buffer. EOF ends the request too. */
static int read_request(int fd, char *buf, size_t cap, int timeout_ms)
{
	gint64 deadline = deadline_after(timeout_ms);
	size_t len = 0;

	buf[0] = '\0';
	while (!request_complete(buf)) {
		ssize_t n;

		if (len + 1 >= cap || wait_fd(fd, POLLIN, deadline) <= 0)
			return -1;
		n = recv(fd, buf + len, cap - 1 - len, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return len > 0 ? 0 : -1;
		if (memchr(buf + len, '\0', (size_t)n))
			return -1;   /* not text */
		len += (size_t)n;
		buf[len] = '\0';
	}
	return 0;
}

struct route {
	const char *path;
	enum tz_statsd_format fmt;
	const char *type;
};

static const struct route routes[] = {
	{ "/metrics", TZ_STATSD_PROMETHEUS, "text/plain; version=0.0.4; charset=utf-8" },
	{ "/stats.json", TZ_STATSD_JSON, "application/json" },
	{ "/stats", TZ_STATSD_TABLE, "text/plain; charset=utf-8" },
	{ NULL, 0, NULL },
};

static int answer_http(int fd, const char *status, const char *type, const char *body,
		       gint64 deadline)
{
	char *head = g_strdup_printf("HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
				     "Cache-Control: no-cache\r\nConnection: close\r\n\r\n",
				     status, type, strlen(body));
	int rc = write_all(fd, head, strlen(head), deadline);

	g_free(head);
	return rc < 0 ? -1 : write_all(fd, body, strlen(body), deadline);
}

/* "GET PATH [HTTP/x]": HTTP with a version gets a status line and header;
 * without one (HTTP/0.9 style, typed at a unix socket) only the body. */
static int serve_get(int fd, char *line, tz_statsd_render_fn render, void *arg, gint64 deadline)
{
	char **w = g_strsplit_set(line, " \t", 4);
	char *q, *body;
	bool http = w[1] && w[2] && g_str_has_prefix(w[2], "HTTP/");
	const struct route *r = routes;
	int rc;

	if (w[1] && (q = strchr(w[1], '?')) != NULL)
		*q = '\0';   /* no parameters: ignore them */
	while (r->path && (w[1] == NULL || strcmp(w[1], r->path) != 0))
		r++;
	if (r->path == NULL) {
		rc = http ? answer_http(fd, "404 Not Found", "text/plain", "not found: try /metrics\n",
					deadline) : write_str(fd, "error: not found\n", deadline);
		g_strfreev(w);
		return rc;
	}
	body = render(r->fmt, arg);
	if (body == NULL)
		rc = http ? answer_http(fd, "500 Internal Server Error", "text/plain", "error\n", deadline)
			  : write_str(fd, "error: stats unavailable\n", deadline);
	else
		rc = http ? answer_http(fd, "200 OK", r->type, body, deadline)
			  : write_all(fd, body, strlen(body), deadline);
	g_free(body);
	g_strfreev(w);
	return rc;
}

/* "stats [table|json|prometheus]". */
static int serve_line(int fd, const char *line, tz_statsd_render_fn render, void *arg,
		      gint64 deadline)
{
	static const char *const names[] = { "table", "json", "prometheus" };
	char **w = g_strsplit_set(line, " \t", 3);
	int fmt = w[0] == NULL || w[1] == NULL || *w[1] == '\0' ? TZ_STATSD_TABLE : -1;
	char *body;
	int rc;

	for (int i = 0; fmt < 0 && i < (int)G_N_ELEMENTS(names); i++)
		if (g_ascii_strcasecmp(w[1], names[i]) == 0)
			fmt = i;
	if (w[0] == NULL || strcmp(w[0], "stats") != 0 || fmt < 0 || (w[1] && w[2])) {
		g_strfreev(w);
		return write_str(fd, "error: unknown request (stats [table|json|prometheus], "
				 "GET /metrics)\n", deadline);
	}
	g_strfreev(w);
	body = render((enum tz_statsd_format)fmt, arg);
	rc = body ? write_all(fd, body, strlen(body), deadline)
		  : write_str(fd, "error: stats unavailable\n", deadline);
	g_free(body);
	return rc;
}

int tz_statsd_serve_fd(int fd, int timeout_ms, tz_statsd_render_fn render, void *arg)
{
	char buf[TZ_STATSD_MAX_REQUEST + 1];
	gint64 deadline;
	char *line;
	int rc;

	if (read_request(fd, buf, sizeof(buf), timeout_ms) < 0)
		return -1;
	deadline = deadline_after(timeout_ms);
	line = g_strndup(buf, strcspn(buf, "\r\n"));
	g_strstrip(line);
	rc = g_str_has_prefix(line, "GET ") ? serve_get(fd, line, render, arg, deadline)
						: serve_line(fd, line, render, arg, deadline);
	g_free(line);
	return rc;
}

/* ------------------------------------------------------------ server */

static int bind_local(struct tz_statsd *d, const struct address *a, unsigned mode, uid_t uid,
		      gid_t gid, char *err, size_t errlen)
{
	const char *path = ((const struct sockaddr_un *)&a->ss)->sun_path;
	struct stat st;

	/* a socket left by a crash is ours to replace; anything else is not */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return tz_err(err, errlen, "StatsSocket %s exists and is not a socket", path);
		unlink(path);
	}
	if (bind(d->fd, (const struct sockaddr *)&a->ss, a->len) < 0)
		return tz_err(err, errlen, "StatsSocket bind %s: %s", path, strerror(errno));
	d->path = g_strdup(path);
	if (mode && chmod(path, mode) < 0)
		return tz_err(err, errlen, "chmod %s: %s", path, strerror(errno));
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(path, uid, gid) < 0)
		return tz_err(err, errlen, "chown %s: %s", path, strerror(errno));
	return 0;
}

struct tz_statsd *tz_statsd_open(const char *spec, unsigned mode, uid_t uid, gid_t gid,
				 char *err, size_t errlen)
{
	struct tz_statsd *d = g_new0(struct tz_statsd, 1);
	struct address a;
	int one = 1;

	d->fd = d->stop[0] = d->stop[1] = -1;
	if (parse_spec(spec, &a, err, errlen) < 0)
		goto fail;
	d->fd = socket(a.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (d->fd < 0) {
		tz_err(err, errlen, "StatsSocket socket: %s", strerror(errno));
		goto fail;
	}
	if (a.local) {
		if (bind_local(d, &a, mode, uid, gid, err, errlen) < 0)
			goto fail;
	} else {
		setsockopt(d->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(d->fd, (const struct sockaddr *)&a.ss, a.len) < 0) {
			tz_err(err, errlen, "StatsSocket bind %s: %s", spec, strerror(errno));
			goto fail;
		}
	}
	if (listen(d->fd, 8) < 0 || pipe2(d->stop, O_CLOEXEC) < 0) {
		tz_err(err, errlen, "StatsSocket listen %s: %s", spec, strerror(errno));
		goto fail;
	}
	return d;
fail:
	tz_statsd_free(d);
	return NULL;
}

/* After the answer: stop sending, then read what the client still sends
 * (briefly), so closing does not reset the connection under an answer
 * the client has not read yet. */
static void finish(int fd)
{
	gint64 deadline = deadline_after(200);
	char sink[512];

	shutdown(fd, SHUT_WR);
	while (wait_fd(fd, POLLIN, deadline) > 0 && recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
	close(fd);
}

static void *serve_thread(void *arg)
{
	struct tz_statsd *d = arg;
	struct pollfd p[2] = { { .fd = d->fd, .events = POLLIN }, { .fd = d->stop[0], .events = POLLIN } };

	for (;;) {
		int c;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		c = accept4(d->fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;   /* the client went away, or no fds: try the next */
		tz_statsd_serve_fd(c, TZ_STATSD_TIMEOUT_MS, d->render, d->arg);
		finish(c);
	}
	return NULL;
}

int tz_statsd_start(struct tz_statsd *d, tz_statsd_render_fn render, void *arg,
		    char *err, size_t errlen)
{
	sigset_t all, old;
	int rc;

	d->render = render;
	d->arg = arg;
	/* signals stay with the threads that handle them (main.c) */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&d->thread, NULL, serve_thread, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return tz_err(err, errlen, "StatsSocket thread: %s", strerror(rc));
	d->running = true;
	return 0;
}

void tz_statsd_free(struct tz_statsd *d)
{
	if (d == NULL)
		return;
	if (d->running) {
		if (write(d->stop[1], "x", 1) < 0) {
			/* cannot happen with an empty pipe; join would hang */
		}
		pthread_join(d->thread, NULL);
	}
	if (d->fd >= 0)
		close(d->fd);
	if (d->stop[0] >= 0)
		close(d->stop[0]);
	if (d->stop[1] >= 0)
		close(d->stop[1]);
	if (d->path)
		unlink(d->path);
	g_free(d->path);
	g_free(d);
}

/* ------------------------------------------------------------ client */

static int connect_to(const struct address *a, gint64 deadline, char *err, size_t errlen)
{
	int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (fd < 0)
		return tz_err(err, errlen, "socket: %s", strerror(errno));
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) < 0 && errno != EINPROGRESS) {
		tz_err(err, errlen, "connect: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (wait_fd(fd, POLLOUT, deadline) <= 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0) {
		tz_err(err, errlen, "connect: %s", soerr ? strerror(soerr) : "timed out");
		close(fd);
		return -1;
	}
	return fd;
}

char *tz_statsd_query(const char *spec, const char *request, int timeout_ms,
		      char *err, size_t errlen)
{
	gint64 deadline = deadline_after(timeout_ms);
	GString *out = NULL;
	struct address a;
	char buf[8192];
	int fd;

	if (parse_spec(spec, &a, err, errlen) < 0 ||
	    (fd = connect_to(&a, deadline, err, errlen)) < 0)
		return NULL;
	if (write_all(fd, request, strlen(request), deadline) < 0) {
		tz_err(err, errlen, "send: %s", errno ? strerror(errno) : "timed out");
		goto out;
	}
	out = g_string_new("");
	for (;;) {
		ssize_t n;

		if (wait_fd(fd, POLLIN, deadline) <= 0) {
			tz_err(err, errlen, "no answer within %d ms", timeout_ms);
			goto fail;
		}
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			tz_err(err, errlen, "recv: %s", strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > MAX_ANSWER) {
			tz_err(err, errlen, "answer larger than %u bytes", MAX_ANSWER);
			goto fail;
		}
		g_string_append_len(out, buf, n);
	}
	goto out;
fail:
	g_string_free(out, TRUE);
	out = NULL;
out:
	close(fd);
	return out ? g_string_free(out, FALSE) : NULL;
}
