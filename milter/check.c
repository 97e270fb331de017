/* check.c — one validation of a loaded configuration and of every file it
 * names, used by `textize-milter -n`, at start-up and on SIGHUP, so that
 * "-n says OK" means the daemon will start: key files exist, are regular
 * files, have the documented safe mode (no group write, nothing for
 * others), are readable by the user the daemon runs as (UserID) and hold a
 * key of the right length; the directories it writes are writable by that
 * user (or, when missing, will be created by start-up as root). Every
 * problem is reported, not just the first. Permission checks read the
 * mode bits against the user's uid and groups (the check may run as root
 * before the privilege drop, or as the user after it). */
#define _GNU_SOURCE 1   /* getgrouplist */
#include "check.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "daemon.h"
#include "tz_crypt.h"
#include "tz_blobcfg.h"
#include "tz_pg.h"
#include "tz_util.h"

struct who {
	uid_t uid;
	gid_t groups[256];
	int ngroups;
};

static void problem(GPtrArray *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_ptr_array_add(out, g_strdup_vprintf(fmt, ap));
	va_end(ap);
}

/* want: 4 read, 2 write, 1 search/execute. */
static bool may(const struct who *w, const struct stat *sb, unsigned want)
{
	unsigned bits;

	if (w->uid == 0)
		return (want & 1) == 0 || S_ISDIR(sb->st_mode) || (sb->st_mode & 0111);
	if (sb->st_uid == w->uid) {
		bits = (sb->st_mode >> 6) & 7;
	} else {
		bits = sb->st_mode & 7;
		for (int i = 0; i < w->ngroups; i++)
			if (w->groups[i] == sb->st_gid)
				bits = (sb->st_mode >> 3) & 7;
	}
	return (bits & want) == want;
}

/* Every directory above path can be searched by the user. */
static bool reachable(const struct who *w, const char *path, GPtrArray *out, const char *key)
{
	char *dir = g_path_get_dirname(path);
	bool ok = true;

	while (ok) {
		struct stat sb;
		char *up;
		if (stat(dir, &sb) == 0 && !may(w, &sb, 1)) {
			problem(out, "%s: %s: directory %s cannot be entered by the daemon's user "
				"(uid %u)", key, path, dir, (unsigned)w->uid);
			ok = false;
		}
		up = g_path_get_dirname(dir);
		if (strcmp(up, dir) == 0) {
			g_free(up);
			break;
		}
		g_free(dir);
		dir = up;
	}
	g_free(dir);
	return ok;
}

static void check_key(const struct who *w, const char *key, const char *path, GPtrArray *out)
{
	struct stat sb;
	unsigned char k[TZ_KEY_LEN];
	char why[TZ_ERRLEN];

	if (path == NULL || *path == '\0')
		return;
	if (lstat(path, &sb) < 0) {
		problem(out, "%s: %s: %s", key, path, strerror(errno));
		return;
	}
	if (!S_ISREG(sb.st_mode)) {
		problem(out, "%s: %s: not a regular file%s", key, path,
			S_ISLNK(sb.st_mode) ? " (a symbolic link)" : "");
		return;
	}
	if (sb.st_mode & 0027)
		problem(out, "%s: %s: mode %03o; a key file must not be group-writable or "
			"accessible by others (use root:GROUP 0640 or USER 0600)", key, path,
			(unsigned)(sb.st_mode & 0777));
	if (!may(w, &sb, 4))
		problem(out, "%s: %s: owner %u group %u mode %03o: not readable by the daemon's "
			"user (uid %u)", key, path, (unsigned)sb.st_uid, (unsigned)sb.st_gid,
			(unsigned)(sb.st_mode & 0777), (unsigned)w->uid);
	reachable(w, path, out, key);
	/* Length and format, read the way the daemon reads it (refuses the
	 * modes above as well, already reported). */
	if (!(sb.st_mode & 0027) && tz_key_load(path, k, why, sizeof(why)) < 0)
		problem(out, "%s: %s", key, why);
	OPENSSL_cleanse(k, sizeof(k));
}

/* dir must be a directory the user can write and enter; when missing,
 * start-up creates it (as root) or its parent must be writable. */
static void check_dir(const struct who *w, const char *key, const char *dir, bool as_root,
		      GPtrArray *out)
{
	struct stat sb;

	if (dir == NULL || *dir == '\0')
		return;
	if (stat(dir, &sb) < 0) {
		char *parent;
		if (errno != ENOENT) {
			problem(out, "%s: %s: %s", key, dir, strerror(errno));
			return;
		}
		if (as_root)
			return;   /* start-up creates it for the user */
		parent = g_path_get_dirname(dir);
		if (stat(parent, &sb) < 0 || !may(w, &sb, 3))
			problem(out, "%s: %s does not exist and %s is not writable by the daemon's "
				"user (uid %u)", key, dir, parent, (unsigned)w->uid);
		g_free(parent);
		return;
	}
	if (!S_ISDIR(sb.st_mode)) {
		problem(out, "%s: %s: not a directory", key, dir);
		return;
	}
	if (!may(w, &sb, 3))
		problem(out, "%s: %s: owner %u group %u mode %03o: not writable by the daemon's "
			"user (uid %u)", key, dir, (unsigned)sb.st_uid, (unsigned)sb.st_gid,
			(unsigned)(sb.st_mode & 0777), (unsigned)w->uid);
	else
		reachable(w, dir, out, key);
}

static void check_parent(const struct who *w, const char *key, const char *file, bool as_root,
			 GPtrArray *out)
{
	char *dir;
	struct stat sb;

	if (file == NULL || *file == '\0')
		return;
	dir = g_path_get_dirname(file);
	check_dir(w, key, dir, as_root, out);
	g_free(dir);
	/* an existing file must be writable too */
	if (stat(file, &sb) == 0 && !may(w, &sb, 6))
		problem(out, "%s: %s: owner %u mode %03o: not writable by the daemon's user (uid %u)",
			key, file, (unsigned)sb.st_uid, (unsigned)(sb.st_mode & 0777), (unsigned)w->uid);
}

static int who_from_config(const struct tz_config *cfg, struct who *w, GPtrArray *out)
{
	struct tzm_user u;
	char why[TZ_ERRLEN];

	memset(w, 0, sizeof(*w));
	if (cfg->user_id == NULL || getuid() != 0) {
		/* no UserID, or already running as the user (after the drop) */
		w->uid = geteuid();
		w->ngroups = getgroups((int)G_N_ELEMENTS(w->groups), w->groups);
		if (w->ngroups < 0)
			w->ngroups = 0;
		if (w->ngroups < (int)G_N_ELEMENTS(w->groups))
			w->groups[w->ngroups++] = getegid();
		return 0;
	}
	if (tzm_user_lookup(cfg->user_id, &u, why, sizeof(why)) < 0) {
		problem(out, "%s", why);
		return -1;
	}
	w->uid = u.uid;
	w->ngroups = (int)G_N_ELEMENTS(w->groups);
	if (getgrouplist(u.name, u.gid, w->groups, &w->ngroups) < 0)
		w->ngroups = (int)G_N_ELEMENTS(w->groups);
	/* the primary group of "user:group" is the one given */
	if (w->ngroups < (int)G_N_ELEMENTS(w->groups))
		w->groups[w->ngroups++] = u.gid;
	tzm_user_clear(&u);
	return 0;
}

int tzm_config_check(const struct tz_config *cfg, GPtrArray *problems)
{
	struct who w;
	bool as_root = getuid() == 0;
	guint before = problems->len;

	if (who_from_config(cfg, &w, problems) < 0)
		return (int)(problems->len - before);
	check_key(&w, "QuarantineKeyFile", cfg->quarantine_key_file, problems);
	check_key(&w, "AuditKeyFile", cfg->audit_key_file, problems);
	check_key(&w, "ReleaseKeyFile", cfg->release_key_file, problems);
	if (cfg->web_base_url)
		check_key(&w, "WebKeyFile", cfg->web_key_file, problems);
	check_dir(&w, "SpoolDir", cfg->spool_dir, as_root, problems);
	check_dir(&w, "QuarantineDir", cfg->quarantine_dir, as_root, problems);
	for (int i = 0; cfg->quarantine_dir && i < 3; i++) {
		static const char *const sub[] = { "tmp", "entries", "refs" };
		char *d = g_build_filename(cfg->quarantine_dir, sub[i], NULL);
		struct stat sb;
		if (stat(d, &sb) == 0)
			check_dir(&w, "QuarantineDir", d, as_root, problems);
		g_free(d);
	}
	check_dir(&w, "StateDir", cfg->state_dir, as_root, problems);
	check_parent(&w, "AuditLog", cfg->audit_log, as_root, problems);
	check_parent(&w, "ReportDatabase", cfg->report_database, as_root, problems);
	return (int)(problems->len - before);
}

int tzm_database_check(const struct tz_config *cfg, GPtrArray *problems)
{
	char err[TZ_ERRLEN];

	if (!tz_config_store_shared(cfg))
		return 0;
	if (tz_pg_check(cfg->database_url, err, sizeof(err)) < 0) {
		g_ptr_array_add(problems, g_strdup_printf("DatabaseURL: %s", err));
		return 1;
	}
	if (tz_blobcfg_check(cfg, err, sizeof(err)) < 0) {
		g_ptr_array_add(problems, g_strdup_printf("BlobStore: %s", err));
		return 1;
	}
	return 0;
}
