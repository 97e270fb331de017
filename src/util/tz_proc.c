/* tz_proc.c — external commands without a shell, with a time limit. */
#include "tz_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <glib.h>

#include "tz_util.h"

char **tz_proc_argv(const char *cmd, const char *in, const char *out, char *err, size_t errlen)
{
	char **argv = NULL;
	GError *ge = NULL;

	if (cmd == NULL || !g_shell_parse_argv(cmd, NULL, &argv, &ge)) {
		tz_err(err, errlen, "command \"%s\": %s", cmd ? cmd : "",
		       ge ? ge->message : "empty");
		g_clear_error(&ge);
		return NULL;
	}
	for (char **a = argv; *a; a++) {
		GString *s = g_string_new(NULL);
		for (const char *p = *a; *p; p++) {
			if (p[0] == '%' && p[1] == 'i' && in) {
				g_string_append(s, in);
				p++;
			} else if (p[0] == '%' && p[1] == 'o' && out) {
				g_string_append(s, out);
				p++;
			} else {
				g_string_append_c(s, *p);
			}
		}
		g_free(*a);
		*a = g_string_free(s, FALSE);
	}
	return argv;
}

static void child(char **argv, int stdin_fd)
{
	int null = open("/dev/null", O_RDWR);

	setpgid(0, 0);
	dup2(stdin_fd >= 0 ? stdin_fd : null, 0);
	dup2(null, 1);
	dup2(null, 2);
	signal(SIGPIPE, SIG_DFL);
	execv(argv[0], argv);
	_exit(127);
}

int tz_proc_run(char **argv, int stdin_fd, unsigned timeout_s, char *err, size_t errlen)
{
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	time_t deadline = timeout_s ? time(NULL) + (time_t)timeout_s : 0;
	pid_t pid, w;
	int status;

	if (argv == NULL || argv[0] == NULL || argv[0][0] != '/')
		return tz_err(err, errlen, "command must be an absolute path: %s",
			      argv && argv[0] ? argv[0] : "(none)");
	pid = fork();
	if (pid < 0)
		return tz_err(err, errlen, "fork: %s", strerror(errno));
	if (pid == 0)
		child(argv, stdin_fd);
	setpgid(pid, pid);
	for (;;) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return tz_err(err, errlen, "waitpid: %s", strerror(errno));
		if (deadline && time(NULL) >= deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return tz_err(err, errlen, "%s: killed after %us", argv[0], timeout_s);
		}
		nanosleep(&nap, NULL);
	}
	if (WIFSIGNALED(status))
		return tz_err(err, errlen, "%s: killed by signal %d", argv[0], WTERMSIG(status));
	if (WEXITSTATUS(status) == 127)
		return tz_err(err, errlen, "%s: could not be executed", argv[0]);
	return WEXITSTATUS(status);
}
