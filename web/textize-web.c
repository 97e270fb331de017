/* textize-web.c — the console: options, start-up, signals.
 *
 * textize-web [-f] [-n] [-c FILE] reads the same textize.conf as the
 * milter and textizectl, opens the queue through the same library
 * (tz_queue: release, approve, reject with the workflow's rules), its own
 * WebDatabase, and serves WebListen with libmicrohttpd (a small thread
 * pool; GnuTLS when WebTLSCertFile is set) in two processes
 * (web_privsep.h): started as root, the parent becomes UserID and keeps
 * the queue (the broker), the child listens, drops to WebUser and only
 * parses HTTP (the front). -n checks the
 * configuration and the files it names, like textize-milter -n. SIGTERM
 * and SIGINT stop it. */
#define _GNU_SOURCE 1   /* ppoll */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <microhttpd.h>
#include <openssl/crypto.h>

#include "textize.h"
#include "tz_audit.h"
#include "tz_blobcfg.h"
#include "tz_config.h"
#include "tz_index.h"
#include "tz_log.h"
#include "tz_store.h"
#include "tz_util.h"
#include "tz_tenant.h"
#include "web.h"
#include "web_broker.h"
#include "web_pool.h"
#include "web_privsep.h"
#include "web_http.h"
#include "web_listen.h"
#include "web_session.h"
#include "web_state.h"

#define WEB_THREADS 4
#define WEB_CONN_TIMEOUT 30
#define WEB_MAX_CONNS 200

static int log_stderr;
static volatile sig_atomic_t stop_signal;

static void log_sink(int prio, const char *line)
{
	syslog(prio, "%s", line);
	if (log_stderr)
		fprintf(stderr, "textize-web: %s\n", line);
}

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: textize-web [-f] [-n] [-c FILE] | -V\n"
		"  -c FILE  configuration (default %s)\n"
		"  -n       check the configuration and exit 0 (valid) or 1\n"
		"  -f       stay in the foreground and log to stderr too\n"
		"  -V       print the version\n", TZ_DEFAULT_CONF);
}

int web_app_open(struct web_app *a, struct tz_config *cfg, char *err, size_t errlen)
{
	char why[TZ_ERRLEN];

	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->lock, NULL);
	a->cfg = cfg;
	a->secure_cookies = cfg->web_base_url && g_str_has_prefix(cfg->web_base_url, "https:");
	if ((a->st = tz_store_open(cfg->quarantine_dir, cfg->quarantine_key_file, why, sizeof(why))) == NULL ||
	    tz_blobcfg_attach(cfg, a->st, why, sizeof(why)) < 0 ||
	    (a->audit = tz_audit_open(tz_config_audit_location(cfg), cfg->audit_key_file, why,
				      sizeof(why))) == NULL ||
	    (tz_config_index_location(cfg) &&
	     (a->ix = tz_index_open(tz_config_index_location(cfg), 5000, why, sizeof(why))) == NULL) ||
	    (a->state = web_state_open(cfg->web_database, why, sizeof(why))) == NULL)
		return tz_err(err, errlen, "%s", why);
	if (cfg->release_key_file &&
	    tz_key_load(cfg->release_key_file, a->release_key, why, sizeof(why)) < 0)
		return tz_err(err, errlen, "ReleaseKeyFile: %s", why);
	if (cfg->web_key_file) {
		if (tz_key_load(cfg->web_key_file, a->link_key, why, sizeof(why)) < 0)
			return tz_err(err, errlen, "WebKeyFile: %s", why);
		a->have_link_key = 1;
	}
	a->pool = web_pool_new(tz_config_index_location(cfg), cfg->web_database, a->ix, a->state);
	a->sessions = web_sessions_new();
	a->q.st = a->st;
	a->q.audit = a->audit;
	a->q.ix = a->ix;
	tz_config_queue(cfg, &a->q);
	a->q.release_key = cfg->release_key_file ? a->release_key : NULL;
	a->cdr.st = a->st;
	a->cdr.audit = a->audit;
	a->cdr.ix = a->ix;
	a->cdr.workers = 1;
	tz_cdr_opts_from_config(&a->cdr.opts, cfg);
	if (cfg->scanner_socket) {
		a->clamd.socket = cfg->scanner_socket;
		a->clamd.timeout_s = cfg->scanner_timeout;
		a->cdr.opts.scan = tz_cdr_clamd_scan;
		a->cdr.opts.scan_ctx = &a->clamd;
	}
	/* each entry by its tenant's SanitizedDelivery (docs/tenants.md) */
	a->cdr.deliver_for = tz_tenant_sanitized_auto;
	a->cdr.deliver_ctx = cfg;
	if (tz_config_any_sanitized_auto(cfg) && a->q.release_key)
		a->cdr.deliver = &a->q;
	return 0;
}

void web_app_close(struct web_app *a)
{
	web_sessions_free(a->sessions);
	if (a->pool)
		web_pool_free(a->pool);   /* it owns ix and state */
	else {
		web_state_free(a->state);
		tz_index_free(a->ix);
	}
	tz_audit_free(a->audit);
	tz_store_free(a->st);
	OPENSSL_cleanse(a->release_key, sizeof(a->release_key));
	OPENSSL_cleanse(a->link_key, sizeof(a->link_key));
	pthread_mutex_destroy(&a->lock);
}

/* What -n and start-up check beyond the key table. */
static int check_config(const struct tz_config *cfg, struct sockaddr_storage *ss, char *err, size_t errlen)
{
	if (web_listen_parse(cfg->web_listen, ss, err, errlen) < 0)
		return -1;
	if (cfg->web_base_url && !g_str_has_prefix(cfg->web_base_url, "https://") &&
	    !g_str_has_prefix(cfg->web_base_url, "http://"))
		return tz_err(err, errlen, "WebBaseURL must start with https:// or http://");
	if (cfg->web_base_url && g_str_has_suffix(cfg->web_base_url, "/"))
		return tz_err(err, errlen, "WebBaseURL must not end with /");
	if (cfg->web_base_url && cfg->web_key_file == NULL)
		return tz_err(err, errlen, "WebBaseURL needs WebKeyFile (the key that signs staff links)");
	if ((cfg->web_tls_cert_file == NULL) != (cfg->web_tls_key_file == NULL))
		return tz_err(err, errlen, "WebTLSCertFile and WebTLSKeyFile go together");
	return 0;
}

/* The listening socket, made before the front drops root (a port below
 * 1024 stays possible). -1 with err. */
static int listen_on(const struct sockaddr_storage *ss, const char *name, char *err, size_t errlen)
{
	socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), on = 1;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    bind(fd, (const struct sockaddr *)ss, len) < 0 || listen(fd, 128) < 0) {
		tz_err(err, errlen, "cannot listen on %s: %s", name, g_strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static struct MHD_Daemon *start(struct web_front *front, const struct tz_config *cfg, int lfd,
				gchar *cert, gchar *key, char *err, size_t errlen)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	struct MHD_Daemon *d;

	if (cert)
		flags |= MHD_USE_TLS;
	d = MHD_start_daemon(flags, 0, NULL, NULL, web_http_access, front,
			     MHD_OPTION_LISTEN_SOCKET, lfd,
			     MHD_OPTION_THREAD_POOL_SIZE, (unsigned)WEB_THREADS,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WEB_CONN_TIMEOUT,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)WEB_MAX_CONNS,
			     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)50,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
			     MHD_OPTION_NOTIFY_COMPLETED, web_http_completed, NULL,
			     cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
			     MHD_OPTION_HTTPS_MEM_KEY, key,
			     MHD_OPTION_END);
	if (d == NULL)
		tz_err(err, errlen, "cannot serve on %s", cfg->web_listen);
	return d;
}

/* The front (the child): listen and read the TLS files while it may,
 * drop to WebUser with no groups, then only parse HTTP and ask the
 * broker over ctl. Exit status for _exit. */
static int front_main(const struct tz_config *cfg, const struct sockaddr_storage *ss, int ctl,
		      pid_t broker)
{
	struct web_front front = { ctl };
	gchar *cert = NULL, *key = NULL;
	sigset_t waiting;
	struct pollfd p = { .fd = ctl, .events = POLLIN };
	struct MHD_Daemon *d = NULL;
	char err[TZ_ERRLEN];
	int lfd, rc = 1;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != broker)   /* it died before the line above */
		return 1;
	if ((lfd = listen_on(ss, cfg->web_listen, err, sizeof(err))) < 0)
		goto out;
	if (cfg->web_tls_cert_file &&
	    (!g_file_get_contents(cfg->web_tls_cert_file, &cert, NULL, NULL) ||
	     !g_file_get_contents(cfg->web_tls_key_file, &key, NULL, NULL))) {
		tz_err(err, sizeof(err), "cannot read WebTLSCertFile or WebTLSKeyFile");
		goto out;
	}
	if (getuid() == 0 && web_drop_front(cfg->web_user, err, sizeof(err)) < 0)
		goto out;
	/* again: the kernel clears the parent-death signal when the
	 * credentials change */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != broker) {
		tz_err(err, sizeof(err), "the broker is gone");
		goto out;
	}
	if ((d = start(&front, cfg, lfd, cert, key, err, sizeof(err))) == NULL)
		goto out;
	tz_log(LOG_INFO, NULL, "textize-web %s listening on %s (front, uid %u)", TZ_VERSION,
	       cfg->web_listen, (unsigned)getuid());
	/* blocked in every thread since serve(): let in only in this ppoll,
	 * not in an MHD thread (the broker's death comes as SIGTERM too:
	 * PDEATHSIG) */
	/* ...or the broker closes the control socket: it cannot signal us
	 * (another user), so its going is this end's EOF */
	pthread_sigmask(SIG_BLOCK, NULL, &waiting);
	sigdelset(&waiting, SIGTERM);
	sigdelset(&waiting, SIGINT);
	while (!stop_signal && ppoll(&p, 1, NULL, &waiting) <= 0)
		;
	rc = 0;
out:
	if (key)
		OPENSSL_cleanse(key, strlen(key));
	g_free(cert);
	g_free(key);
	if (rc)
		tz_log(LOG_ERR, NULL, "front: %s", err);
	if (d)
		MHD_stop_daemon(d);
	return rc;
}

static struct tz_config *load(const char *path, int explicit_path)
{
	char err[TZ_ERRLEN];
	struct tz_config *cfg;

	if (!explicit_path && access(path, F_OK) < 0 && errno == ENOENT)
		return tz_config_new_defaults();
	if ((cfg = tz_config_load(path, err, sizeof(err))) == NULL)
		tz_log(LOG_ERR, NULL, "config: %s", err);
	return cfg;
}

/* The broker (the parent, the unit's main process): become UserID, open
 * the queue, the keys and the sessions, answer the front's requests. */
static int broker_main(struct tz_config *cfg, int ctl, pid_t front)
{
	struct web_app app;
	char err[TZ_ERRLEN];
	int rc = 1;

	/* as textize-milter: root without UserID refuses; "UserID root" is on purpose */
	if (getuid() == 0 && cfg->user_id == NULL) {
		tz_log(LOG_ERR, NULL, "start-up: started as root without UserID (the queue's user)");
		goto out;
	}
	if (getuid() == 0 && web_drop_broker(cfg->user_id, err, sizeof(err)) < 0) {
		tz_log(LOG_ERR, NULL, "start-up: %s", err);
		goto out;
	}
	if (getuid() == 0)
		tz_log(LOG_WARNING, NULL, "UserID root: the broker keeps root");
	if (web_app_open(&app, cfg, err, sizeof(err)) < 0) {
		tz_log(LOG_ERR, NULL, "start-up: %s", err);
		web_app_close(&app);
		goto out;
	}
	rc = web_broker_run(&app, ctl, &stop_signal);
	if (stop_signal)
		tz_log(LOG_INFO, NULL, "stopping (signal %d)", (int)stop_signal);
	web_app_close(&app);
out:
	close(ctl);   /* the front's EOF: a broker of another user cannot signal it */
	kill(front, SIGTERM);
	waitpid(front, NULL, 0);
	return rc;
}

static int serve(struct tz_config *cfg, const struct sockaddr_storage *ss, int foreground)
{
	struct sigaction sa;
	int sp[2];
	pid_t pid, broker;
	sigset_t stops;

	if (!foreground && daemon(0, 0) < 0) {
		tz_log(LOG_ERR, NULL, "cannot detach: %s", g_strerror(errno));
		return 1;
	}
	if (getuid() != 0)
		tz_log(LOG_WARNING, NULL, "not started as root: the front and the broker share uid %u "
		       "(textize-web(8))", (unsigned)getuid());
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;   /* no SA_RESTART: the broker's ppoll returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* blocked from here on in every thread of both halves; the broker
	 * lets them in only in its ppoll, the front takes them by sigwait */
	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	sigprocmask(SIG_BLOCK, &stops, NULL);
	broker = getpid();
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0 || (pid = fork()) < 0) {
		tz_log(LOG_ERR, NULL, "cannot start the front: %s", g_strerror(errno));
		return 1;
	}
	if (pid == 0) {
		close(sp[0]);
		_exit(front_main(cfg, ss, sp[1], broker));
	}
	close(sp[1]);
	return broker_main(cfg, sp[0], pid);
}

int main(int argc, char **argv)
{
	const char *conf_path = TZ_DEFAULT_CONF;
	int explicit_path = 0, check_only = 0, foreground = 0, opt, rc;
	struct sockaddr_storage ss;
	struct tz_config *cfg;
	char err[TZ_ERRLEN];

	while ((opt = getopt(argc, argv, "c:nfVh")) != -1) {
		switch (opt) {
		case 'c': conf_path = optarg; explicit_path = 1; break;
		case 'n': check_only = 1; break;
		case 'f': foreground = 1; break;
		case 'V': printf("textize-web %s\n", TZ_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	log_stderr = foreground || check_only;
	openlog("textize-web", LOG_PID, LOG_MAIL);
	tz_log_set_sink(log_sink);
	if ((cfg = load(conf_path, explicit_path)) == NULL)
		return 1;
	tz_log_set_level(cfg->log_level);
	if (check_config(cfg, &ss, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", cfg->path ? cfg->path : "(built-in defaults)", err);
		tz_config_unref(cfg);
		return 1;
	}
	if (check_only) {
		printf("%s: configuration OK\n", cfg->path ? cfg->path : "(built-in defaults)");
		tz_config_unref(cfg);
		return 0;
	}
	g_mime_init();
	rc = serve(cfg, &ss, foreground);
	tz_config_unref(cfg);
	return rc;
}
