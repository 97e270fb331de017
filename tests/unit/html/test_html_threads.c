/* test_html_threads.c — the first HTML parses of a process may come on many
 * threads at once (a milter restarted into a burst of HTML mail). libxml2
 * 2.9 makes its global locks lazily; threads racing to make them could
 * leave the dictionary's lock counted as held, and every later parse in the
 * process waited forever (measured without tz_html_init: 46 of 200 fresh
 * processes with 16 threads hung). Each round here is a fresh process whose
 * threads meet at a barrier and then render: a round that has not finished
 * within 10 s has hung. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib.h>

#include "tz_html.h"

#define ROUNDS 40
#define THREADS 16

static pthread_barrier_t start;

static void *render_after_barrier(void *arg)
{
	static const char html[] = "<html><body><p>市民課の<b>お知らせ</b></p></body></html>";
	GString *out = g_string_new(NULL);
	char err[256];
	intptr_t ok;

	(void)arg;
	pthread_barrier_wait(&start);
	ok = tz_html_render(html, sizeof html - 1, NULL, out, NULL, NULL, err, sizeof err) == 0 &&
	     strstr(out->str, "お知らせ") != NULL;
	g_string_free(out, TRUE);
	return (void *)ok;
}

/* One fresh process: 0 when every thread rendered, else 1. */
static int one_round(void)
{
	pthread_t t[THREADS];
	int bad = 0;

	pthread_barrier_init(&start, NULL, THREADS);
	for (int i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, render_after_barrier, NULL) != 0)
			return 1;
	for (int i = 0; i < THREADS; i++) {
		void *ok;

		pthread_join(t[i], &ok);
		bad |= ok == NULL;
	}
	return bad;
}

static void test_first_parses_on_many_threads(void **state)
{
	unsigned hung = 0, failed = 0;

	(void)state;
	for (int r = 0; r < ROUNDS; r++) {
		pid_t pid = fork();
		int st = 0, done = 0;

		assert_true(pid >= 0);
		if (pid == 0)
			_exit(one_round());
		for (int ms = 0; ms < 10000 && !done; ms += 10) {
			done = waitpid(pid, &st, WNOHANG) == pid;
			if (!done)
				usleep(10000);
		}
		if (!done) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			hung++;
		} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			failed++;
		}
	}
	if (hung || failed)
		print_error("%u of %d processes hung, %u failed\n", hung, ROUNDS, failed);
	assert_int_equal(hung, 0);
	assert_int_equal(failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_parses_on_many_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
