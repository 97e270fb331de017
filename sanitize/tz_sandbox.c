/* tz_sandbox.c — bubblewrap sandbox for converters of untrusted files.
 *
 * Layers, each of which alone would stop some attacks and together are the
 * point (dangerzone's picture, without a container runtime):
 *  - bwrap --unshare-all --unshare-user: no network (only a loopback that
 *    nobody listens on), own pid/ipc/uts/cgroup namespaces, uid 65534 inside;
 *  - a file system made of read-only system directories, a tmpfs /tmp, the
 *    one input file read-only and the one output directory: the quarantine,
 *    the keys in /etc/textize and every other file of the host are absent;
 *  - --cap-drop ALL, --new-session (no TIOCSTI on our terminal),
 *    --die-with-parent;
 *  - a seccomp filter (built here with libseccomp, handed over as BPF)
 *    refusing sockets other than AF_UNIX, ptrace, mount, keyctl, bpf, module
 *    loading, namespaces and the other calls a converter never needs;
 *  - rlimits set in the child before exec, so they bind bwrap and all it runs;
 *  - a wall-clock limit: bwrap is SIGKILLed, its pid namespace init dies with
 *    it (--die-with-parent) and the kernel kills every process left inside.
 * RLIMIT_NPROC counts the processes of the real uid and the kernel does not
 * enforce it for root; the pid namespace and the wall clock are what bound a
 * fork bomb when the worker runs as root (the packaged unit runs it as the
 * textize user). */
#define _GNU_SOURCE
#include "tz_sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <glib.h>

#include "tz_util.h"

void tz_sandbox_limits_default(struct tz_sandbox_limits *l)
{
	l->wall_s = 120;
	l->cpu_s = 120;
	l->mem_bytes = (uint64_t)1024 << 20;
	l->fsize_bytes = (uint64_t)512 << 20;
	l->nproc = 64;
	l->nofile = 256;
}

/* Calls a document converter has no use for; each is an attack surface or
 * a way out of the sandbox. */
static const char *const denied[] = {
	"ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2",
	"pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsmount",
	"fsconfig", "fspick", "keyctl", "add_key", "request_key", "bpf",
	"perf_event_open", "kexec_load", "kexec_file_load", "init_module",
	"finit_module", "delete_module", "unshare", "setns", "userfaultfd",
	"io_uring_setup", "io_uring_enter", "io_uring_register", "swapon",
	"swapoff", "reboot", "acct", "settimeofday", "clock_settime", "adjtimex",
	"clock_adjtime", "open_by_handle_at", "name_to_handle_at", "syslog",
	"uselib", "lookup_dcookie", "quotactl", "vhangup", "iopl", "ioperm",
	"sethostname", "setdomainname", "mbind", "migrate_pages", "move_pages",
	"fanotify_init", "nfsservctl", "pidfd_getfd",
};

int tz_sandbox_seccomp_fd(char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int fd = -1, rc = 0;

	if (ctx == NULL)
		return tz_err(err, errlen, "seccomp_init failed");
	for (size_t i = 0; i < G_N_ELEMENTS(denied) && rc == 0; i++) {
		int nr = seccomp_syscall_resolve_name(denied[i]);
		if (nr != __NR_SCMP_ERROR)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
	}
	/* Sockets: only AF_UNIX (fontconfig, LibreOffice's own pipes). */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
				      SCMP_A0(SCMP_CMP_NE, AF_UNIX));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socketpair), 1,
				      SCMP_A0(SCMP_CMP_NE, AF_UNIX));
	/* Typing into a terminal and new user namespaces through clone. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
				      SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
	/* clone3 passes its flags in memory a filter cannot read: make libc
	 * fall back to clone, which the rule above checks. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (rc != 0) {
		seccomp_release(ctx);
		return tz_err(err, errlen, "seccomp rule: %s", strerror(-rc));
	}
	fd = memfd_create("tz-seccomp", 0);
	if (fd < 0 || seccomp_export_bpf(ctx, fd) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
		if (fd >= 0)
			close(fd);
		seccomp_release(ctx);
		return tz_err(err, errlen, "seccomp export: %s", strerror(errno));
	}
	seccomp_release(ctx);
	return fd;
}

static void add(GPtrArray *a, const char *s)
{
	g_ptr_array_add(a, g_strdup(s));
}

static void add3(GPtrArray *a, const char *x, const char *y, const char *z)
{
	add(a, x);
	add(a, y);
	if (z)
		add(a, z);
}

/* The system part of the file system: /usr and the merged-/usr symlinks,
 * or real directories on an unmerged system; the few files of /etc that
 * programs need to load libraries and fonts. */
static void add_system(GPtrArray *a)
{
	static const char *const top[] = { "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32" };
	static const char *const etc[] = {
		"/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/fonts",
		"/etc/alternatives", "/etc/libreoffice", "/etc/ImageMagick-6",
		"/etc/localtime",
	};
	char target[256];

	add3(a, "--ro-bind", "/usr", "/usr");
	for (size_t i = 0; i < G_N_ELEMENTS(top); i++) {
		ssize_t n = readlink(top[i], target, sizeof target - 1);
		if (n > 0) {
			target[n] = '\0';
			add3(a, "--symlink", target, top[i]);
		} else {
			add3(a, "--ro-bind-try", top[i], top[i]);
		}
	}
	for (size_t i = 0; i < G_N_ELEMENTS(etc); i++)
		add3(a, "--ro-bind-try", etc[i], etc[i]);
}

static char **bwrap_argv(const struct tz_sandbox_job *job, int seccomp_fd)
{
	GPtrArray *a = g_ptr_array_new();
	char fdbuf[16];

	add(a, TZ_SANDBOX_BWRAP);
	add(a, "--unshare-all");
	add(a, "--unshare-user");
	add3(a, "--uid", "65534", NULL);
	add3(a, "--gid", "65534", NULL);
	add(a, "--die-with-parent");
	add(a, "--new-session");
	add3(a, "--cap-drop", "ALL", NULL);
	add3(a, "--hostname", "sandbox", NULL);
	add_system(a);
	add3(a, "--proc", "/proc", NULL);
	add3(a, "--dev", "/dev", NULL);
	add3(a, "--tmpfs", "/tmp", NULL);
	add3(a, "--dir", "/in", NULL);
	if (job->input) {
		char *base = g_path_get_basename(job->input);
		char *in = g_strconcat(TZ_SANDBOX_IN "/", base, NULL);
		add3(a, "--ro-bind", job->input, in);
		g_free(in);
		g_free(base);
	}
	add3(a, "--bind", job->outdir, TZ_SANDBOX_OUT);
	/* the sandbox's own root holds only mount points: read-only, so the
	 * output directory and /tmp are the only places it can write */
	add3(a, "--remount-ro", "/", NULL);
	add3(a, "--chdir", TZ_SANDBOX_OUT, NULL);
	add(a, "--clearenv");
	add3(a, "--setenv", "PATH", "/usr/bin:/bin");
	add3(a, "--setenv", "HOME", "/tmp");
	add3(a, "--setenv", "TMPDIR", "/tmp");
	add3(a, "--setenv", "LANG", "C.UTF-8");
	add3(a, "--setenv", "OMP_THREAD_LIMIT", "1");   /* tesseract: one core per job */
	snprintf(fdbuf, sizeof fdbuf, "%d", seccomp_fd);
	add3(a, "--seccomp", fdbuf, NULL);
	add(a, "--");
	for (char *const *p = job->argv; *p; p++)
		add(a, *p);
	g_ptr_array_add(a, NULL);
	return (char **)g_ptr_array_free(a, FALSE);
}

static void set_limit(int res, uint64_t v, uint64_t hard)
{
	struct rlimit r = { (rlim_t)v, (rlim_t)hard };

	if (setrlimit(res, &r) != 0)
		_exit(126);
}

/* In the child: only async-signal-safe calls until execv. */
static void child(char **argv, const struct tz_sandbox_limits *l, int seccomp_fd, int outfd,
		  int errfd, int infd)
{
	int null = open("/dev/null", O_RDWR);

	setpgid(0, 0);
	if (null < 0 || dup2(infd >= 0 ? infd : null, 0) < 0 || dup2(outfd >= 0 ? outfd : null, 1) < 0 ||
	    dup2(errfd >= 0 ? errfd : null, 2) < 0)
		_exit(126);
	/* The seccomp fd keeps its number (argv names it); every other
	 * descriptor of the worker (index, audit log, keys) is closed, however
	 * high its number. */
	if (seccomp_fd > 3) {
		if (close_range(3, (unsigned)seccomp_fd - 1, 0) != 0)
			_exit(126);
	}
	if (close_range((unsigned)seccomp_fd + 1, ~0U, 0) != 0)
		_exit(126);
	/* CPU: SIGXCPU at the soft limit (reported as such), SIGKILL a
	 * second later for a converter that catches it */
	set_limit(RLIMIT_CPU, l->cpu_s, l->cpu_s + 1);
	set_limit(RLIMIT_AS, l->mem_bytes, l->mem_bytes);
	set_limit(RLIMIT_FSIZE, l->fsize_bytes, l->fsize_bytes);
	set_limit(RLIMIT_NPROC, l->nproc, l->nproc);
	set_limit(RLIMIT_NOFILE, l->nofile, l->nofile);
	set_limit(RLIMIT_CORE, 0, 0);
	signal(SIGPIPE, SIG_DFL);
	execv(argv[0], argv);
	_exit(127);
}

static int wait_limited(pid_t pid, unsigned wall_s, int *status)
{
	struct timespec nap = { 0, 10 * 1000 * 1000 }, start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);
		if (w == pid)
			return 0;
		if (w < 0 && errno != EINTR)
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (wall_s && now.tv_sec - start.tv_sec >= (time_t)wall_s) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			return 1;
		}
		nanosleep(&nap, NULL);
	}
}

static int open_capture(const char *path, int *fd, char *err, size_t errlen)
{
	if (path == NULL)
		return 0;
	*fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0)
		return tz_err(err, errlen, "sandbox: %s: %s", path, strerror(errno));
	return 0;
}

/* The converter's stdin: a pipe already holding the job's bytes and
 * closed for writing (they fit the pipe's buffer), so nothing waits on
 * the reader. 0 (*rfd the read end, or -1 without stdin_data), -1. */
static int open_stdin(const struct tz_sandbox_job *job, int *rfd, char *err, size_t errlen)
{
	int p[2];

	*rfd = -1;
	if (job->stdin_data == NULL)
		return 0;
	if (job->stdin_len > TZ_SANDBOX_STDIN_MAX)
		return tz_err(err, errlen, "sandbox: stdin over %d bytes", TZ_SANDBOX_STDIN_MAX);
	if (pipe2(p, O_CLOEXEC) != 0)
		return tz_err(err, errlen, "sandbox: pipe: %s", strerror(errno));
	if (tz_write_all(p[1], job->stdin_data, job->stdin_len) < 0) {
		close(p[0]);
		close(p[1]);
		return tz_err(err, errlen, "sandbox: pipe: %s", strerror(errno));
	}
	close(p[1]);
	*rfd = p[0];
	return 0;
}

int tz_sandbox_run(const struct tz_sandbox_job *job, char *err, size_t errlen)
{
	char **argv = NULL;
	int sfd = -1, outfd = -1, errfd = -1, infd = -1, status = 0, rc = -1, w;
	pid_t pid;

	if (job->argv == NULL || job->argv[0] == NULL || job->argv[0][0] != '/' ||
	    job->outdir == NULL)
		return tz_err(err, errlen, "sandbox: bad job");
	if (access(TZ_SANDBOX_BWRAP, X_OK) != 0)
		return tz_err(err, errlen, "sandbox: %s missing (install bubblewrap)",
			      TZ_SANDBOX_BWRAP);
	sfd = tz_sandbox_seccomp_fd(err, errlen);
	if (sfd < 0)
		return -1;
	if (sfd < 3) {   /* a worker started with 0-2 closed: keep clear of them */
		int high = fcntl(sfd, F_DUPFD, 3);
		close(sfd);
		if (high < 0)
			return tz_err(err, errlen, "sandbox: fcntl: %s", strerror(errno));
		sfd = high;
	}
	if (open_capture(job->stdout_path, &outfd, err, errlen) != 0 ||
	    open_capture(job->stderr_path, &errfd, err, errlen) != 0 ||
	    open_stdin(job, &infd, err, errlen) != 0)
		goto out;
	argv = bwrap_argv(job, sfd);
	pid = fork();
	if (pid < 0) {
		tz_err(err, errlen, "sandbox: fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(argv, &job->lim, sfd, outfd, errfd, infd);
	setpgid(pid, pid);
	w = wait_limited(pid, job->lim.wall_s, &status);
	if (w < 0) {
		tz_err(err, errlen, "sandbox: waitpid: %s", strerror(errno));
	} else if (w > 0) {
		tz_err(err, errlen, "%s: killed after %us (time limit)", job->argv[0],
		       job->lim.wall_s);
		rc = TZ_SANDBOX_KILLED;
	} else if (WIFSIGNALED(status) || WEXITSTATUS(status) >= 128) {
		/* bwrap reports a converter killed by signal S as exit 128+S */
		int sig = WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status) - 128;
		tz_err(err, errlen, "%s: killed by signal %d%s", job->argv[0], sig,
		       sig == SIGXCPU ? " (CPU time limit)" : sig == SIGXFSZ
		       ? " (file size limit)" : "");
		rc = TZ_SANDBOX_KILLED;
	} else if (WEXITSTATUS(status) == 126 || WEXITSTATUS(status) == 127) {
		tz_err(err, errlen, "sandbox: could not start %s (status %d)", job->argv[0],
		       WEXITSTATUS(status));
	} else {
		rc = WEXITSTATUS(status);
	}
out:
	g_strfreev(argv);
	if (errfd >= 0)
		close(errfd);
	if (outfd >= 0)
		close(outfd);
	if (infd >= 0)
		close(infd);
	close(sfd);
	return rc;
}
