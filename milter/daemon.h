/* daemon.h — process chores of textize-milter: the user to run as, the
 * directories it needs, the local socket's owner and mode, detaching,
 * the pid file. No libmilter here. Each returns 0, or -1 with err. */
#ifndef TZM_DAEMON_H
#define TZM_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "tz_config.h"

struct tzm_user {
	bool set;           /* UserID given */
	char *name;         /* owned */
	uid_t uid;
	gid_t gid;
};

/* "user" or "user:group" -> uid/gid (the user's primary group by default). */
int tzm_user_lookup(const char *spec, struct tzm_user *u, char *err, size_t errlen);
void tzm_user_clear(struct tzm_user *u);

/* Create SpoolDir and QuarantineDir (0700) and the directories of AuditLog
 * and ReportDatabase (0750) when missing, owned by the user, so the daemon
 * can write there after dropping root. Existing directories are left as
 * they are. */
int tzm_dirs_prepare(const struct tz_config *cfg, const struct tzm_user *u,
		     char *err, size_t errlen);

/* For a local:/unix: socket: chmod to SocketMode and chown to the user. */
int tzm_socket_prepare(const struct tz_config *cfg, const struct tzm_user *u,
		       char *err, size_t errlen);

/* Switch to the user (supplementary groups, gid, uid) and check that root
 * cannot be regained. No-op when u->set is false. */
int tzm_privileges_drop(const struct tzm_user *u, char *err, size_t errlen);

/* fork, setsid, stdin/stdout/stderr to /dev/null. The parent exits 0. */
int tzm_daemonize(char *err, size_t errlen);

int tzm_pidfile_write(const char *path, char *err, size_t errlen);   /* NULL path = no-op */
void tzm_pidfile_remove(const char *path);

#endif
