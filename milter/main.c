/* main.c — textize-milter: options, start-up order, signals.
 *
 * Start-up: load the config (-c FILE; when the default file is absent the
 * built-in defaults are used), bind the socket (and StatsSocket, see stats.h)
 * as the starting user, fix its mode/owner, create SpoolDir/QuarantineDir,
 * detach (Background), write the PidFile, drop to UserID, open the
 * quarantine store, start the stats thread, serve. Running as root
 * without UserID is refused, in the foreground (-f, what the systemd unit
 * uses) as well: a daemon parsing Internet mail must not keep root by
 * accident. "UserID root" is the explicit, logged way to keep it.
 *
 * Signals: libmilter's own signal thread treats SIGHUP as "stop", so
 * smfi_main runs in a second thread with HUP/TERM/INT blocked, and the main
 * thread keeps them unblocked with handlers that write to a self-pipe. Linux
 * hands a process-directed signal to the main thread when it does not block
 * it, so SIGHUP reloads: the new file is loaded and checked, a new runtime
 * (config + store) built and swapped in; connections in flight keep theirs;
 * a bad file is logged and the old one stays. SIGTERM/SIGINT call smfi_stop
 * (no new connections) and wait up to 60 s for connections in flight. */
#define _GNU_SOURCE 1   /* pthread_setattr_default_np */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>
#include <libmilter/mfapi.h>
#include "callbacks.h"
#include "check.h"
#include "daemon.h"
#include "policy_glue.h"
#include "runtime.h"
#include "stats.h"
#include "textize.h"
#include "tz_config.h"
#include "tz_engine.h"
#include "tz_log.h"

#define TZM_DRAIN_SECONDS 60

static int sigpipe_fds[2] = { -1, -1 };
static bool log_stderr, log_syslog;

/* Whether syslog's socket is there, looked at most once a second. Without
 * it glibc's syslog() tries socket+connect+close again for every line and
 * drops the line anyway (1.5 % of the milter's CPU on 5 KB mail in the
 * bench, which has no /dev/log; issue 16, seventh pass). */
static bool syslog_socket_there(void)
{
	static gint looked = -1, there;   /* the monotonic second of the last look */
	gint now = (gint)(g_get_monotonic_time() / G_USEC_PER_SEC);

	if (g_atomic_int_get(&looked) != now) {
		struct stat sb;   /* a socket there; whether we may write to it is connect's business */
		g_atomic_int_set(&there, stat(_PATH_LOG, &sb) == 0 && S_ISSOCK(sb.st_mode));
		g_atomic_int_set(&looked, now);
	}
	return g_atomic_int_get(&there) != 0;
}

static void log_sink(int prio, const char *line)
{
	if (log_syslog && syslog_socket_there())
		syslog(prio, "%s", line);
	if (log_stderr)
		fprintf(stderr, "textize-milter: %s\n", line);
}

static void on_signal(int sig)
{
	char c = (char)sig;
	int saved = errno;

	if (write(sigpipe_fds[1], &c, 1) < 0) {
		/* pipe full: a signal of this kind is already queued */
	}
	errno = saved;
}

static void *milter_thread(void *arg)
{
	char c = 'M';

	*(int *)arg = smfi_main();
	if (write(sigpipe_fds[1], &c, 1) < 0) {
		/* main notices through the drain anyway */
	}
	return NULL;
}

/* glibc's malloc, set for a daemon whose large buffers come and go with
 * messages (issue 16). By default the mmap threshold is dynamic: after a
 * large mmapped buffer is freed it rises to that size (up to 32 MB), so
 * the next spool arrays, staging buffers and text bodies land in the
 * per-thread arenas, where freed memory stays resident (arenas 24.5 MB at
 * the peak of 200 concurrent 10 MB messages; test_big.sh's 20 MB message
 * grew the peak by 8.3 MiB). Fixed here: buffers of 1 MiB and more (a full
 * in-memory spool, a large message's parts) are always mmapped and go back
 * to the kernel when freed. The trim threshold is what ordinary mail pays
 * for: an arena that gives back its free top at 2 MiB (or at glibc's
 * dynamic default) faults the next message's buffers in again — 214 page
 * faults and 10.0 ms of milter CPU per 376 KB message at 20 msg/s
 * (bench/latency-probe, PROBE_PERF=stat), 66-79 faults and 7.2-8.4 ms with
 * glibc's defaults, 1.9 faults and 5.9 ms with 8 MiB; the peak at
 * 200 x 10 MB stays 45.7-52.6 MB either way (bench/rss). */
static void malloc_setup(void)
{
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
}

/* Stacks of the threads libmilter starts (one per MTA connection; it
 * passes no attributes, so the process default applies). With the 8 MiB
 * default glibc's cache of freed stacks (40 MiB) keeps five, so at 20
 * sessions most connections munmap a stack and mmap a fresh one, each a
 * cross-CPU TLB flush: mmap, munmap and their faults were 5.5 % of the
 * milter's CPU on 5 KB mail under bench/run's load (issue 16, seventh
 * pass). 1 MiB leaves 40 cached. The deepest conversion measured needs
 * 64-128 KiB (test_limits' 10,000 nested multiparts and 100,000 nested
 * HTML tables pass with `ulimit -s 128`, fail at 64); sanitizer builds,
 * whose frames are several times larger, keep the default. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TZM_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TZM_SANITIZED 1
#endif
#endif
#define TZM_THREAD_STACK (1024 * 1024)

static void thread_setup(void)
{
#ifndef TZM_SANITIZED
	pthread_attr_t a;

	if (pthread_attr_init(&a) != 0)
		return;
	if (pthread_attr_setstacksize(&a, TZM_THREAD_STACK) == 0)
		pthread_setattr_default_np(&a);
	pthread_attr_destroy(&a);
#endif
}

static void usage(FILE *f)
{
	fprintf(f, "usage: textize-milter [-f] [-n] [-c FILE] | -V\n"
		"  -c FILE  configuration (default %s)\n"
		"  -n       check the configuration and exit 0 (valid) or 1\n"
		"  -f       stay in the foreground and log to stderr too\n"
		"  -V       print the version\n", TZ_DEFAULT_CONF);
}

/* Load -c FILE, or the default file, or (default file absent) defaults. */
static struct tz_config *load_config(const char *path, bool explicit_path)
{
	char err[TZ_ERRLEN];
	struct tz_config *cfg;

	if (!explicit_path && access(path, F_OK) < 0 && errno == ENOENT) {
		tz_log(LOG_NOTICE, NULL, "%s not found, using built-in defaults", path);
		return tz_config_new_defaults();
	}
	cfg = tz_config_load(path, err, sizeof(err));
	if (cfg == NULL)
		tz_log(LOG_ERR, NULL, "config: %s", err);
	return cfg;
}

/* -n: every problem, each as "file:line: reason" (a file check names the
 * line of its key, "file: reason" when no line set it), all of them rather
 * than the first; the checks of the files the configuration names (the
 * ones start-up and SIGHUP run) once the file itself parses. */
static int check_config(const char *path, bool explicit_path)
{
	GPtrArray *problems = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
	struct tz_config *cfg;
	const char *name;
	int rc;

	if (!explicit_path && access(path, F_OK) < 0 && errno == ENOENT)
		cfg = load_config(path, false);     /* the built-in defaults, said so */
	else
		cfg = tz_config_load_all(path, problems);
	name = cfg && cfg->path ? cfg->path : cfg ? "(built-in defaults)" : path;
	if (cfg && problems->len == 0) {
		tzm_config_check(cfg, files);
		tzm_database_check(cfg, files);
	}
	for (guint i = 0; i < files->len; i++) {
		const char *p = files->pdata[i];
		char *key = g_strndup(p, strcspn(p, ":"));
		unsigned line = tz_config_key_line(cfg, key);
		if (line)
			g_ptr_array_add(problems, g_strdup_printf("%s:%u: %s", name, line, p));
		else
			g_ptr_array_add(problems, g_strdup_printf("%s: %s", name, p));
		g_free(key);
	}
	for (guint i = 0; i < problems->len; i++)
		fprintf(stderr, "%s\n", (char *)problems->pdata[i]);
	if (problems->len == 0)
		printf("%s: configuration OK\n", name);
	else
		fprintf(stderr, "%s: %u problem(s)\n", name, problems->len);
	rc = problems->len == 0 && cfg ? 0 : 1;
	g_ptr_array_unref(files);
	g_ptr_array_unref(problems);
	tz_config_unref(cfg);
	return rc;
}

/* Keys read only at start-up: warn when a reload changes them. */
static void warn_restart_keys(const struct tz_config *old, const struct tz_config *new)
{
	if (g_strcmp0(old->socket, new->socket) || g_strcmp0(old->user_id, new->user_id) ||
	    g_strcmp0(old->pid_file, new->pid_file) || old->background != new->background ||
	    old->socket_mode != new->socket_mode || old->milter_timeout != new->milter_timeout ||
	    g_strcmp0(old->stats_socket, new->stats_socket))
		tz_log(LOG_WARNING, NULL, "reload: Socket, SocketMode, UserID, PidFile, Background, "
		       "MilterTimeout and StatsSocket take effect only after a restart");
}

static void reload(const char *path)
{
	struct tzm_runtime *old = tzm_runtime_current();
	char err[TZ_ERRLEN];

	if (tzm_runtime_reload(path, err, sizeof(err)) < 0) {
		tz_log(LOG_ERR, NULL, "reload refused, keeping the running configuration: %s", err);
	} else {
		struct tzm_runtime *rt = tzm_runtime_current();

		if (old && rt)
			warn_restart_keys(old->cfg, rt->cfg);
		tz_log(LOG_INFO, NULL, "configuration reloaded from %s (generation %u)", path,
		       rt ? rt->generation : 0);
		tzm_runtime_unref(rt);
	}
	tzm_runtime_unref(old);
}

/* tzm_config_check: every problem logged, the count in err. */
static int check_or_explain(const struct tz_config *cfg, char *err, size_t errlen)
{
	GPtrArray *problems = g_ptr_array_new_with_free_func(g_free);
	int n = tzm_config_check(cfg, problems);

	for (guint i = 0; i < problems->len; i++)
		tz_log(LOG_ERR, NULL, "%s", (char *)g_ptr_array_index(problems, i));
	g_ptr_array_unref(problems);
	if (n > 0)
		return tz_err(err, errlen, "%d problem(s) with the files the configuration names "
			      "(logged above; textize-milter -n lists them)", n);
	return 0;
}

/* Bind, set up directories, detach, drop privileges, open the store. */
static int start_up(struct tz_config *cfg, bool foreground)
{
	struct tzm_user user = { 0 };
	struct tzm_runtime *rt;
	char err[TZ_ERRLEN];
	int rc = -1;

	if (cfg->user_id && tzm_user_lookup(cfg->user_id, &user, err, sizeof(err)) < 0)
		goto fail;
	if (getuid() == 0 && !user.set) {
		snprintf(err, sizeof(err), "refusing to run as root without UserID "
			 "(set UserID; \"UserID root\" keeps root on purpose)");
		goto fail;
	}
	if (user.set && user.uid == 0)
		tz_log(LOG_WARNING, NULL, "UserID %s: running as root, parsing Internet mail "
		       "with full privileges", cfg->user_id);
	/* Before anything is bound or created: a file the daemon would
	 * refuse later stops it now, with every problem named. */
	if (check_or_explain(cfg, err, sizeof(err)) < 0)
		goto fail;
	if (smfi_register(tzm_filter) == MI_FAILURE || smfi_setconn(cfg->socket) == MI_FAILURE ||
	    smfi_settimeout((int)cfg->milter_timeout) == MI_FAILURE) {
		snprintf(err, sizeof(err), "libmilter set-up failed for %s", cfg->socket);
		goto fail;
	}
	if (smfi_opensocket(1) == MI_FAILURE) {
		snprintf(err, sizeof(err), "cannot open socket %s", cfg->socket);
		goto fail;
	}
	if (tzm_socket_prepare(cfg, &user, err, sizeof(err)) < 0 ||
	    tzm_dirs_prepare(cfg, &user, err, sizeof(err)) < 0)
		goto fail;
	tzm_stats_open(cfg, &user);   /* bound as the starting user, like Socket */
	if (cfg->background && !foreground && tzm_daemonize(err, sizeof(err)) < 0)
		goto fail;
	if (tzm_pidfile_write(cfg->pid_file, err, sizeof(err)) < 0 ||
	    tzm_privileges_drop(&user, err, sizeof(err)) < 0)
		goto fail;
	rt = tzm_runtime_new(cfg, err, sizeof(err));
	if (rt == NULL)
		goto fail;
	tzm_runtime_set_current(rt);
	tzm_stats_start();   /* detached and unprivileged by now */
	rc = 0;
fail:
	if (rc < 0)
		tz_log(LOG_ERR, NULL, "start-up: %s", err);
	tzm_user_clear(&user);
	return rc;
}

/* Wait for signals until stopped; then let connections in flight finish. */
static int serve(const char *conf_path)
{
	struct sigaction sa;
	sigset_t block, old;
	pthread_t thread;
	int milter_rc = 0;
	bool stopping = false;

	if (pipe(sigpipe_fds) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	if (pthread_create(&thread, NULL, milter_thread, &milter_rc) != 0)
		return -1;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	tz_log(LOG_INFO, NULL, "textize-milter %s started", TZ_VERSION);
	while (!stopping) {
		char c;
		ssize_t n = read(sigpipe_fds[0], &c, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == 'M') {
			stopping = true;          /* smfi_main returned by itself */
		} else if (c == SIGHUP) {
			reload(conf_path);
		} else {
			tz_log(LOG_INFO, NULL, "stopping: no new connections");
			smfi_stop();
			stopping = true;
		}
	}
	pthread_join(thread, NULL);
	for (int i = 0; i < TZM_DRAIN_SECONDS * 10 && tzm_active_connections() > 0; i++)
		usleep(100000);
	tz_log(LOG_INFO, NULL, "stopped (%d connections left)", tzm_active_connections());
	return milter_rc == MI_SUCCESS ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *conf_path = TZ_DEFAULT_CONF;
	bool explicit_path = false, check_only = false, foreground = false;
	struct tz_config *cfg;
	int opt, rc;

	while ((opt = getopt(argc, argv, "c:nfVh")) != -1) {
		switch (opt) {
		case 'c': conf_path = optarg; explicit_path = true; break;
		case 'n': check_only = true; break;
		case 'f': foreground = true; break;
		case 'V': printf("textize-milter %s\n", TZ_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	malloc_setup();
	thread_setup();
	log_stderr = foreground || check_only;
	log_syslog = !check_only;
	if (log_syslog)
		openlog("textize-milter", LOG_PID, LOG_MAIL);
	tz_log_set_sink(log_sink);
	if (check_only)
		return check_config(conf_path, explicit_path);
	cfg = load_config(conf_path, explicit_path);
	if (cfg == NULL)
		return 1;
	tz_log_set_level(cfg->log_level);
	tz_engine_global_init();
	tzm_policy_global_init(cfg);   /* before any thread: RES_OPTIONS */
	rc = start_up(cfg, foreground);
	if (rc == 0)
		rc = serve(conf_path);
	tzm_stats_stop();
	tzm_runtime_current_clear();
	tzm_pidfile_remove(cfg->pid_file);
	tz_config_unref(cfg);
	return rc == 0 ? 0 : 1;
}
