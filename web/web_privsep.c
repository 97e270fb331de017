/* web_privsep.c — the front/broker transport and the privilege drops of
 * textize-web (see web_privsep.h). */
#define _GNU_SOURCE 1   /* setresuid, setresgid */
#include "web_privsep.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <arpa/inet.h>
#include <pthread.h>

#include "tz_util.h"

/* tz_write_all, but through send(MSG_NOSIGNAL): a peer that went away
 * must not kill this process with SIGPIPE. */
static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int web_wire_send(int fd, GVariant *v)
{
	gsize len = g_variant_get_size(v);
	uint32_t be;
	void *data;
	int rc;

	if (len > WEB_WIRE_MAX_RESP)
		return -1;
	be = htonl((uint32_t)len);
	data = g_malloc(len ? len : 1);
	g_variant_store(v, data);
	rc = write_all(fd, &be, sizeof(be)) < 0 || write_all(fd, data, len) < 0 ? -1 : 0;
	g_free(data);
	return rc;
}

GVariant *web_wire_recv(int fd, const GVariantType *type, size_t max)
{
	uint32_t be;
	size_t len;
	void *data;
	GVariant *v;

	if (tz_read_all(fd, &be, sizeof(be)) < 0)
		return NULL;
	len = ntohl(be);
	if (len > max)
		return NULL;
	data = g_malloc(len ? len : 1);
	if (tz_read_all(fd, data, len) < 0) {
		g_free(data);
		return NULL;
	}
	v = g_variant_ref_sink(g_variant_new_from_data(type, data, len, FALSE, g_free, data));
	/* untrusted bytes: only a message in normal form is read at all */
	if (!g_variant_is_normal_form(v)) {
		g_variant_unref(v);
		return NULL;
	}
	return v;
}

/* Pass fd over the control socket. Sends are atomic on SOCK_SEQPACKET;
 * the lock only keeps the error handling simple. */
static pthread_mutex_t ctl_lock = PTHREAD_MUTEX_INITIALIZER;

static int pass_fd(int ctl, int fd)
{
	char byte = 'r';
	struct iovec iov = { &byte, 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = { 0 };
	struct cmsghdr *c;
	ssize_t n;

	memset(&u, 0, sizeof(u));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof(u.buf);
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	pthread_mutex_lock(&ctl_lock);
	do
		n = sendmsg(ctl, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	pthread_mutex_unlock(&ctl_lock);
	return n == 1 ? 0 : -1;
}

GVariant *web_broker_ask(int ctl, GVariant *req, unsigned timeout_s)
{
	struct timeval tv = { (time_t)timeout_s, 0 };
	GVariant *resp = NULL;
	int sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		return NULL;
	setsockopt(sp[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(sp[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (pass_fd(ctl, sp[1]) == 0) {
		close(sp[1]);
		sp[1] = -1;
		if (web_wire_send(sp[0], req) == 0)
			resp = web_wire_recv(sp[0], G_VARIANT_TYPE(WEB_WIRE_RESP), WEB_WIRE_MAX_RESP);
	}
	close(sp[0]);
	if (sp[1] >= 0)
		close(sp[1]);
	return resp;
}

int web_broker_next(int ctl)
{
	char byte;
	struct iovec iov = { &byte, 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = { 0 };
	struct cmsghdr *c;
	ssize_t n;
	int fd = -1;

	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof(u.buf);
	n = recvmsg(ctl, &m, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return (int)n;
	c = CMSG_FIRSTHDR(&m);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len == CMSG_LEN(sizeof(int)) && !(m.msg_flags & MSG_CTRUNC))
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	if (fd < 0) {
		errno = EPROTO;
		return -1;
	}
	return fd;
}

/* "user[:group]" -> uid, gid (the user's primary group without one). */
static int lookup(const char *spec, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	char *user = g_strdup(spec), *group = strchr(user, ':');
	struct passwd *pw;
	struct group *gr = NULL;

	if (group)
		*group++ = '\0';
	pw = getpwnam(user);
	if (pw && group)
		gr = getgrnam(group);
	if (pw == NULL || (group && gr == NULL)) {
		tz_err(err, errlen, "no such %s: %s", pw ? "group" : "user", pw ? group : user);
		g_free(user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = gr ? gr->gr_gid : pw->pw_gid;
	g_free(user);
	return 0;
}

static int become(uid_t uid, gid_t gid, const char *spec, char *err, size_t errlen)
{
	if (setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return tz_err(err, errlen, "cannot become %s: %s", spec, g_strerror(errno));
	if (setuid(0) == 0 || seteuid(0) == 0)
		return tz_err(err, errlen, "could become root again after dropping to %s", spec);
	return 0;
}

int web_drop_front(const char *spec, char *err, size_t errlen)
{
	uid_t uid;
	gid_t gid;

	if (lookup(spec, &uid, &gid, err, errlen) < 0)
		return -1;
	if (uid == 0)
		return tz_err(err, errlen, "WebUser %s: the front never stays root", spec);
	if (setgroups(0, NULL) < 0)
		return tz_err(err, errlen, "cannot drop groups: %s", g_strerror(errno));
	return become(uid, gid, spec, err, errlen);
}

int web_drop_broker(const char *spec, char *err, size_t errlen)
{
	int n = getgroups(0, NULL), k = 0, rc;
	gid_t *groups = g_new0(gid_t, n > 0 ? n : 1), *keep = g_new0(gid_t, n > 0 ? n : 1);
	uid_t uid;
	gid_t gid;

	if (n > 0)
		n = getgroups(n, groups);
	for (int i = 0; i < n; i++)
		if (groups[i] != 0)
			keep[k++] = groups[i];
	rc = lookup(spec, &uid, &gid, err, errlen);
	if (rc == 0 && uid != 0 && (n < 0 || setgroups((size_t)k, keep) < 0))
		rc = tz_err(err, errlen, "cannot set groups: %s", g_strerror(errno));
	g_free(groups);
	g_free(keep);
	if (rc < 0)
		return -1;
	/* UserID root (CI): nothing to drop; the caller warns */
	return uid == 0 ? 0 : become(uid, gid, spec, err, errlen);
}
