/* tz_sandbox.h — run one converter on untrusted bytes inside a bubblewrap
 * sandbox: every namespace unshared (no network), a read-only /usr, a private
 * tmpfs, no capabilities, a seccomp filter, rlimits set before exec and a
 * wall-clock limit after which the whole sandbox is killed. The converter
 * sees exactly one input (a file or a directory, read-only, /in/NAME) and one output
 * directory (/out, writable); nothing else of the host that is not part of
 * the installed system (/usr, fonts, the loader cache). */
#ifndef TZ_SANDBOX_H
#define TZ_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

/* Where bwrap is: Debian's bubblewrap. */
#define TZ_SANDBOX_BWRAP "/usr/bin/bwrap"

/* The input is bound at TZ_SANDBOX_IN "/" + its host base name; the output
 * directory at TZ_SANDBOX_OUT. */
#define TZ_SANDBOX_IN  "/in"
#define TZ_SANDBOX_OUT "/out"

struct tz_sandbox_limits {
	unsigned wall_s;        /* wall clock; 0 = none (tests only) */
	unsigned cpu_s;         /* RLIMIT_CPU */
	uint64_t mem_bytes;     /* RLIMIT_AS */
	uint64_t fsize_bytes;   /* RLIMIT_FSIZE: largest file it may write */
	unsigned nproc;         /* RLIMIT_NPROC (see tz_sandbox.c on root) */
	unsigned nofile;        /* RLIMIT_NOFILE */
};

/* Limits that suit poppler/tesseract on one document; LibreOffice needs
 * more memory and processes (callers raise them). */
void tz_sandbox_limits_default(struct tz_sandbox_limits *l);

struct tz_sandbox_job {
	char *const *argv;      /* argv[0]: absolute path of a system program */
	const char *input;      /* host file or directory bound read-only at
				 * /in/BASENAME; NULL = none */
	const char *outdir;     /* host directory bound writable at /out; required */
	struct tz_sandbox_limits lim;
	/* Host file that receives the converter's stderr (truncated to
	 * fsize_bytes by RLIMIT_FSIZE); NULL = /dev/null. */
	const char *stderr_path;
	const char *stdout_path;   /* the same for stdout */
	/* Bytes the converter reads on its stdin through a pipe (at most
	 * TZ_SANDBOX_STDIN_MAX: written whole before the wait), so that a
	 * secret such as an archive's password never lies in a file; NULL =
	 * stdin is /dev/null. */
	const char *stdin_data;
	size_t stdin_len;
};
#define TZ_SANDBOX_STDIN_MAX 4096

/* Run the job and wait for it. Returns the converter's exit status (0..255);
 * TZ_SANDBOX_KILLED with err when it was killed by a signal (CPU or memory
 * limit included) or outlived wall_s (then every process of the sandbox has
 * been killed before this returns): the file's fault; -1 with err when the
 * sandbox could not be set up: the machine's fault. */
#define TZ_SANDBOX_KILLED (-2)
int tz_sandbox_run(const struct tz_sandbox_job *job, char *err, size_t errlen);

/* The seccomp filter as a BPF program in a fresh memfd at offset 0 (not
 * close-on-exec), for bwrap --seccomp. -1 with err on failure. Exposed for
 * the sandbox test. */
int tz_sandbox_seccomp_fd(char *err, size_t errlen);

#endif
