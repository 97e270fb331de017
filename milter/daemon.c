/* daemon.c — user lookup, directories, socket permissions, privilege
 * drop, detaching and the pid file. */
#define _GNU_SOURCE 1   /* initgroups */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>
#include "tz_util.h"

int tzm_user_lookup(const char *spec, struct tzm_user *u, char *err, size_t errlen)
{
	char *name = g_strdup(spec), *group = strchr(name, ':');
	struct passwd *pw;
	struct group *gr;
	int rc = -1;

	memset(u, 0, sizeof(*u));
	if (group)
		*group++ = '\0';
	pw = getpwnam(name);
	if (pw == NULL) {
		tz_err(err, errlen, "UserID: no such user: %s", name);
		goto out;
	}
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	if (group && *group) {
		gr = getgrnam(group);
		if (gr == NULL) {
			tz_err(err, errlen, "UserID: no such group: %s", group);
			goto out;
		}
		u->gid = gr->gr_gid;
	}
	u->name = g_strdup(name);
	u->set = true;
	rc = 0;
out:
	g_free(name);
	return rc;
}

void tzm_user_clear(struct tzm_user *u)
{
	g_free(u->name);
	memset(u, 0, sizeof(*u));
}

/* mkdir -p with mode for the last component; 1 when it was created. */
static int make_dir(const char *dir, mode_t mode, char *err, size_t errlen)
{
	struct stat st;

	char *parent;
	int rc;

	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : tz_err(err, errlen, "%s: not a directory", dir);
	/* missing parents are plain 0755 directories: only the last one is
	 * private, and the user must be able to reach it */
	parent = g_path_get_dirname(dir);
	rc = g_mkdir_with_parents(parent, 0755);
	g_free(parent);
	if (rc < 0 || (mkdir(dir, mode) < 0 && errno != EEXIST))
		return tz_err(err, errlen, "mkdir %s: %s", dir, strerror(errno));
	return 1;
}

/* Create the directory holding `file` (0750) when missing, for the user. */
static int make_parent(const char *file, const struct tzm_user *u, char *err, size_t errlen)
{
	char *dir;
	int made;

	if (file == NULL)
		return 0;
	dir = g_path_get_dirname(file);
	made = make_dir(dir, 0750, err, errlen);
	if (made > 0 && u->set && chown(dir, u->uid, u->gid) < 0)
		made = tz_err(err, errlen, "chown %s: %s", dir, strerror(errno));
	g_free(dir);
	return made < 0 ? -1 : 0;
}

int tzm_dirs_prepare(const struct tz_config *cfg, const struct tzm_user *u,
		     char *err, size_t errlen)
{
	int made;

	if (make_parent(cfg->audit_log, u, err, errlen) < 0 ||
	    make_parent(cfg->report_database, u, err, errlen) < 0)
		return -1;
	made = make_dir(cfg->spool_dir, 0700, err, errlen);
	if (made < 0)
		return -1;
	if (made && u->set && chown(cfg->spool_dir, u->uid, u->gid) < 0)
		return tz_err(err, errlen, "chown %s: %s", cfg->spool_dir, strerror(errno));
	made = make_dir(cfg->quarantine_dir, 0700, err, errlen);
	if (made < 0)
		return -1;
	if (made && u->set && chown(cfg->quarantine_dir, u->uid, u->gid) < 0)
		return tz_err(err, errlen, "chown %s: %s", cfg->quarantine_dir, strerror(errno));
	/* StateDir holds the circuit breaker's state file (policy) */
	made = cfg->state_dir ? make_dir(cfg->state_dir, 0750, err, errlen) : 0;
	if (made < 0)
		return -1;
	if (made && u->set && chown(cfg->state_dir, u->uid, u->gid) < 0)
		return tz_err(err, errlen, "chown %s: %s", cfg->state_dir, strerror(errno));
	return 0;
}

static const char *local_socket_path(const char *sock)
{
	if (g_ascii_strncasecmp(sock, "local:", 6) == 0)
		return sock + 6;
	if (g_ascii_strncasecmp(sock, "unix:", 5) == 0)
		return sock + 5;
	return NULL;
}

int tzm_socket_prepare(const struct tz_config *cfg, const struct tzm_user *u,
		       char *err, size_t errlen)
{
	const char *path = local_socket_path(cfg->socket);

	if (path == NULL)
		return 0;
	if (chmod(path, cfg->socket_mode) < 0)
		return tz_err(err, errlen, "chmod %s: %s", path, strerror(errno));
	if (u->set && chown(path, u->uid, u->gid) < 0)
		return tz_err(err, errlen, "chown %s: %s", path, strerror(errno));
	return 0;
}

int tzm_privileges_drop(const struct tzm_user *u, char *err, size_t errlen)
{
	if (!u->set)
		return 0;
	if (getuid() == 0 && initgroups(u->name, u->gid) < 0)
		return tz_err(err, errlen, "initgroups %s: %s", u->name, strerror(errno));
	if (setgid(u->gid) < 0)
		return tz_err(err, errlen, "setgid %u: %s", (unsigned)u->gid, strerror(errno));
	if (setuid(u->uid) < 0)
		return tz_err(err, errlen, "setuid %u: %s", (unsigned)u->uid, strerror(errno));
	if (u->uid != 0 && (setuid(0) == 0 || geteuid() == 0))
		return tz_err(err, errlen, "root privileges could be regained after setuid");
	return 0;
}

int tzm_daemonize(char *err, size_t errlen)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return tz_err(err, errlen, "fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return tz_err(err, errlen, "setsid: %s", strerror(errno));
	fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		return tz_err(err, errlen, "/dev/null: %s", strerror(errno));
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
	return 0;
}

int tzm_pidfile_write(const char *path, char *err, size_t errlen)
{
	char buf[32];
	int fd, n;

	if (path == NULL)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return tz_err(err, errlen, "PidFile %s: %s", path, strerror(errno));
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		return tz_err(err, errlen, "PidFile %s: %s", path, strerror(errno));
	}
	close(fd);
	return 0;
}

void tzm_pidfile_remove(const char *path)
{
	if (path)
		unlink(path);
}
