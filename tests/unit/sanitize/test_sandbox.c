/* test_sandbox.c — the converter sandbox (sanitize/tz_sandbox.c) holds: a
 * program inside cannot open a network socket or reach a listener of the
 * host, cannot read files of the host (a key file made here, /etc/shadow),
 * cannot write anywhere but its output directory, cannot ptrace, mount or
 * make namespaces, inherits no descriptor of the worker, and is killed
 * whole (children included) at its time and CPU limits. The probes are
 * Python programs run by Debian's /usr/bin/python3 inside the sandbox; they
 * report what they managed to do in /out/result. Skipped when bwrap or
 * /usr/bin/python3 is not installed. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>
#include <glib.h>

#include "tz_sandbox.h"

#define PY "/usr/bin/python3"

struct fixture {
	char dir[64];        /* host temp dir: in/, out/, secret.key */
	char in[96], out[96], key[96];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	strcpy(f->dir, "/tmp/tz-sandbox-test-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->in, sizeof f->in, "%s/input.txt", f->dir);
	snprintf(f->out, sizeof f->out, "%s/out", f->dir);
	snprintf(f->key, sizeof f->key, "%s/secret.key", f->dir);
	mkdir(f->out, 0700);
	g_file_set_contents(f->in, "the input\n", -1, NULL);
	g_file_set_contents(f->key, "SECRET-KEY-MATERIAL\n", -1, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);

	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	g_free(cmd);
	free(f);
	return 0;
}

static void need_tools(void)
{
	if (access(TZ_SANDBOX_BWRAP, X_OK) != 0 || access(PY, X_OK) != 0)
		skip();
}

/* Run a Python probe with the fixture's input and output; return the exit
 * status (as tz_sandbox_run) and the probe's /out/result in *result. */
static int probe(struct fixture *f, const char *code, const char *arg,
		 const struct tz_sandbox_limits *lim, char **result, char *err, size_t errlen)
{
	char *argv[] = { PY, "-I", "-c", (char *)code, (char *)(arg ? arg : ""), NULL };
	struct tz_sandbox_job job = { .argv = argv, .input = f->in, .outdir = f->out };
	char *res = g_build_filename(f->out, "result", NULL);
	int rc;

	if (lim)
		job.lim = *lim;
	else
		tz_sandbox_limits_default(&job.lim);
	job.lim.wall_s = job.lim.wall_s ? job.lim.wall_s : 60;
	unlink(res);
	rc = tz_sandbox_run(&job, err, errlen);
	*result = NULL;
	g_file_get_contents(res, result, NULL, NULL);
	g_free(res);
	return rc;
}

static void test_no_network(void **state)
{
	struct fixture *f = *state;
	/* A listener of the host, on an abstract unix socket (it lives in the
	 * host's network namespace): the host can connect, the sandbox must not. */
	char name[64], err[256], *result;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int l = socket(AF_UNIX, SOCK_STREAM, 0), c = socket(AF_UNIX, SOCK_STREAM, 0);
	socklen_t salen;
	static const char code[] =
		"import socket, sys\n"
		"r = []\n"
		"for fam, typ in ((socket.AF_INET, socket.SOCK_STREAM), (socket.AF_INET6, socket.SOCK_DGRAM),\n"
		"                 (socket.AF_NETLINK, socket.SOCK_RAW), (socket.AF_PACKET, socket.SOCK_RAW)):\n"
		"    try:\n"
		"        socket.socket(fam, typ); r.append('opened')\n"
		"    except OSError:\n"
		"        r.append('denied')\n"
		"try:\n"
		"    u = socket.socket(socket.AF_UNIX); u.connect('\\0' + sys.argv[1]); r.append('reached-host')\n"
		"except OSError:\n"
		"    r.append('isolated')\n"
		"socket.socketpair(socket.AF_UNIX); r.append('unix-ok')\n"
		"open('/out/result', 'w').write(' '.join(r))\n";

	need_tools();
	snprintf(name, sizeof name, "tz-sandbox-test-%d", (int)getpid());
	memcpy(sa.sun_path + 1, name, strlen(name));
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	assert_int_equal(bind(l, (struct sockaddr *)&sa, salen), 0);
	assert_int_equal(listen(l, 4), 0);
	assert_int_equal(connect(c, (struct sockaddr *)&sa, salen), 0);   /* the host can */
	assert_int_equal(probe(f, code, name, NULL, &result, err, sizeof err), 0);
	assert_non_null(result);
	assert_string_equal(result, "denied denied denied denied isolated unix-ok");
	g_free(result);
	close(c);
	close(l);
}

static void test_no_host_files(void **state)
{
	struct fixture *f = *state;
	char err[256], *result, *paths;
	static const char code[] =
		"import sys\n"
		"r = []\n"
		"for p in sys.argv[1].split(','):\n"
		"    try:\n"
		"        open(p, 'rb').read(1); r.append('READ:' + p)\n"
		"    except OSError:\n"
		"        r.append('no')\n"
		"open('/out/result', 'w').write(' '.join(r))\n";

	need_tools();
	/* The host can read its key file; the sandbox sees none of these. */
	assert_true(g_file_test(f->key, G_FILE_TEST_EXISTS));
	paths = g_strdup_printf("%s,/etc/shadow,/etc/textize/textize.conf,/root/.bashrc,"
				"/var/spool/textize,/proc/1/root/etc/shadow,/home", f->key);
	assert_int_equal(probe(f, code, paths, NULL, &result, err, sizeof err), 0);
	assert_non_null(result);
	assert_string_equal(result, "no no no no no no no");
	g_free(result);
	g_free(paths);
}

/* A secret handed over on stdin (an archive's password) reaches the
 * converter and no file on the host; without stdin_data stdin is empty;
 * more than TZ_SANDBOX_STDIN_MAX is refused before anything runs. */
static void test_stdin_pipe(void **state)
{
	struct fixture *f = *state;
	static const char code[] =
		"import sys\n"
		"open('/out/result', 'w').write('[' + sys.stdin.read() + ']')\n";
	char *argv[] = { PY, "-I", "-c", (char *)code, NULL };
	struct tz_sandbox_job job = { .argv = argv, .input = f->in, .outdir = f->out,
				      .stdin_data = "pw-Himitsu-7", .stdin_len = 12 };
	char err[256], *res = g_build_filename(f->out, "result", NULL), *text = NULL, *big;
	char *grep = g_strdup_printf("grep -rqs pw-Himitsu-7 '%s/input.txt' '%s/secret.key' /tmp/tz-sandbox-*",
				     f->dir, f->dir);

	need_tools();
	tz_sandbox_limits_default(&job.lim);
	assert_int_equal(tz_sandbox_run(&job, err, sizeof err), 0);
	assert_true(g_file_get_contents(res, &text, NULL, NULL));
	assert_string_equal(text, "[pw-Himitsu-7]");
	g_free(text);
	unlink(res);
	assert_int_not_equal(system(grep), 0);   /* in no file but the probe's own output (removed) */
	job.stdin_data = NULL;
	job.stdin_len = 0;
	assert_int_equal(tz_sandbox_run(&job, err, sizeof err), 0);
	assert_true(g_file_get_contents(res, &text, NULL, NULL));
	assert_string_equal(text, "[]");
	g_free(text);
	big = g_malloc0(TZ_SANDBOX_STDIN_MAX + 1);
	memset(big, 'x', TZ_SANDBOX_STDIN_MAX + 1);
	job.stdin_data = big;
	job.stdin_len = TZ_SANDBOX_STDIN_MAX + 1;
	assert_int_equal(tz_sandbox_run(&job, err, sizeof err), -1);
	g_free(big);
	g_free(grep);
	g_free(res);
}

static void test_writes_only_to_output(void **state)
{
	struct fixture *f = *state;
	char err[256], *result, *before = NULL, *targets;
	static const char code[] =
		"import sys\n"
		"r = []\n"
		"for p in sys.argv[1].split(','):\n"
		"    try:\n"
		"        open(p, 'ab').write(b'x'); r.append('WROTE:' + p)\n"
		"    except OSError:\n"
		"        r.append('no')\n"
		"open('/out/ok', 'w').write('inside')\n"
		"open('/out/result', 'w').write(' '.join(r))\n";
	char *escape;
	GDir *d;
	const char *e;
	int entries = 0;

	need_tools();
	escape = g_strdup_printf("%s/escaped", f->dir);
	targets = g_strdup_printf("/in/input.txt,/in/new,/usr/x,/etc/x,%s,/out/../in/x",
				  escape);
	g_file_get_contents(f->in, &before, NULL, NULL);
	assert_int_equal(probe(f, code, targets, NULL, &result, err, sizeof err), 0);
	assert_non_null(result);
	/* inside, the host path of its own temp dir does not exist either */
	assert_string_equal(result, "no no no no no no");
	g_free(result);
	/* and outside nothing changed but out/ */
	g_free(result = NULL);
	assert_true(g_file_get_contents(f->in, &result, NULL, NULL));
	assert_string_equal(result, before);
	assert_false(g_file_test(escape, G_FILE_TEST_EXISTS));
	d = g_dir_open(f->dir, 0, NULL);
	while ((e = g_dir_read_name(d)) != NULL)
		entries++;
	g_dir_close(d);
	assert_int_equal(entries, 3);   /* input.txt, secret.key, out */
	g_free(result);
	result = g_build_filename(f->out, "ok", NULL);
	assert_true(g_file_test(result, G_FILE_TEST_IS_REGULAR));
	g_free(result);
	g_free(before);
	g_free(targets);
	g_free(escape);
}

static void test_syscalls_denied(void **state)
{
	struct fixture *f = *state;
	char err[256], *result;
	/* x86-64 and aarch64 share none of these numbers, so ask libc by name. */
	static const char code[] =
		"import ctypes, os\n"
		"libc = ctypes.CDLL(None, use_errno=True)\n"
		"r = []\n"
		"def t(name, rc):\n"
		"    r.append(name + ('=ok' if rc == 0 else '=denied'))\n"
		"t('ptrace', libc.ptrace(0, 0, None, None))\n"
		"t('mount', libc.mount(b'none', b'/tmp', b'tmpfs', 0, None))\n"
		"t('unshare', libc.unshare(0x10000000))\n"
		"t('chroot', libc.chroot(b'/tmp'))\n"
		"open('/out/result', 'w').write(' '.join(r))\n";

	need_tools();
	assert_int_equal(probe(f, code, NULL, NULL, &result, err, sizeof err), 0);
	assert_non_null(result);
	assert_string_equal(result, "ptrace=denied mount=denied unshare=denied chroot=denied");
	g_free(result);
}

static void test_no_inherited_descriptors(void **state)
{
	struct fixture *f = *state;
	char err[256], *result;
	int fd = open(f->key, O_RDONLY);   /* not close-on-exec, on purpose */
	static const char code[] =
		"import os\n"
		"r = []\n"
		"for n in os.listdir('/proc/self/fd'):\n"
		"    try:\n"
		"        r.append(os.readlink('/proc/self/fd/' + n))\n"
		"    except OSError:\n"
		"        pass\n"
		"open('/out/result', 'w').write('\\n'.join(r))\n";

	need_tools();
	assert_true(fd > 2);
	assert_int_equal(probe(f, code, NULL, NULL, &result, err, sizeof err), 0);
	assert_non_null(result);
	assert_null(strstr(result, "secret.key"));
	g_free(result);
	close(fd);
}

/* True when some process still has marker in its command line. */
static int marker_alive(const char *marker)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;

	while (d && (e = readdir(d)) != NULL && !found) {
		char path[300], *cmd = NULL;
		gsize len = 0;
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
		if (g_file_get_contents(path, &cmd, &len, NULL)) {
			for (gsize i = 0; i + 1 < len; i++)
				if (cmd[i] == '\0')
					cmd[i] = ' ';
			found = strstr(cmd, marker) != NULL;
			g_free(cmd);
		}
	}
	if (d)
		closedir(d);
	return found;
}

static void test_wall_clock_kills_everything(void **state)
{
	struct fixture *f = *state;
	struct tz_sandbox_limits lim;
	char err[256], *result, marker[64];
	static const char code[] =
		"import os, time\n"
		"if os.fork() == 0:\n"
		"    os.setsid()\n"
		"    time.sleep(1000)\n"
		"time.sleep(1000)\n";

	need_tools();
	snprintf(marker, sizeof marker, "tz-sleeper-%d", (int)getpid());
	tz_sandbox_limits_default(&lim);
	lim.wall_s = 1;
	assert_int_equal(probe(f, code, marker, &lim, &result, err, sizeof err), TZ_SANDBOX_KILLED);
	assert_non_null(strstr(err, "time limit"));
	/* The kernel reaps the pid namespace asynchronously: wait for it,
	 * bounded, and assert on the state, not on the time taken. */
	for (int i = 0; i < 3000 && marker_alive(marker); i++)   /* up to 30 s: slow under load */
		usleep(10000);
	assert_false(marker_alive(marker));
	g_free(result);
}

static void test_cpu_and_memory_limits(void **state)
{
	struct fixture *f = *state;
	struct tz_sandbox_limits lim;
	char err[256], *result;
	static const char spin[] = "while True:\n    pass\n";
	static const char hog[] =
		"try:\n"
		"    b = bytearray(1 << 30)\n"
		"    open('/out/result', 'w').write('allocated')\n"
		"except MemoryError:\n"
		"    open('/out/result', 'w').write('refused')\n";

	need_tools();
	tz_sandbox_limits_default(&lim);
	lim.cpu_s = 1;
	lim.wall_s = 60;
	assert_int_equal(probe(f, spin, NULL, &lim, &result, err, sizeof err), TZ_SANDBOX_KILLED);
	if (strstr(err, "CPU") == NULL)
		fail_msg("not the CPU limit: %s", err);
	g_free(result);
	tz_sandbox_limits_default(&lim);
	lim.mem_bytes = 256u << 20;
	assert_int_equal(probe(f, hog, NULL, &lim, &result, err, sizeof err), 0);
	assert_non_null(result);
	assert_string_equal(result, "refused");
	g_free(result);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_network, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_host_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writes_only_to_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stdin_pipe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syscalls_denied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_inherited_descriptors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wall_clock_kills_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpu_and_memory_limits, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
