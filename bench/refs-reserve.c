/* bench/refs-reserve.c — what reserving a 参照番号 costs per message
 * (issue 18): N reservations in QuarantineDir/refs (the file registry)
 * and N in the shared database's table refs (StoreBackend postgresql),
 * alternating in blocks of 50 so both see the same machine load, one
 * thread as one milter worker would. Each is tz_refs_reserve as the store
 * calls it at the start of every entry (the draw, O_EXCL create or
 * INSERT ... ON CONFLICT DO NOTHING over the registry's open connection).
 *
 *   refs-reserve DIR DATABASEURL N
 * Prints "local median_us=.. p90_us=..  postgresql median_us=.. p90_us=..".
 * The database's schema must be current (textizectl db migrate); the rows
 * it adds are removed afterwards. Not installed; bench/refs-reserve-run
 * builds it against a build tree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <glib.h>
#include <libpq-fe.h>

#include "tz_ref.h"
#include "tz_util.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *name, double *t, unsigned n)
{
	qsort(t, n, sizeof(*t), cmp_d);
	printf("%s median_us=%.0f p90_us=%.0f  ", name, t[n / 2], t[n * 9 / 10]);
}

int main(int argc, char **argv)
{
	char err[TZ_ERRLEN], ref[TZ_REF_LEN], id[TZ_ID_LEN];
	struct tz_refs *reg[2];
	double *t[2];
	unsigned n, done[2] = { 0, 0 };
	int root;

	if (argc != 4 || (n = (unsigned)atoi(argv[3])) == 0)
		return fprintf(stderr, "usage: refs-reserve DIR DATABASEURL N\n"), 2;
	mkdir(argv[1], 0700);
	root = open(argv[1], O_RDONLY | O_DIRECTORY);
	if (root < 0)
		return perror(argv[1]), 1;
	reg[0] = tz_refs_dir_new(root);
	reg[1] = tz_refs_pg_new(argv[2]);
	t[0] = g_new(double, n);
	t[1] = g_new(double, n);
	/* one reservation first: the connection is opened on first use, as
	 * in a milter that has run for a while */
	tz_id_new(id);
	if (tz_refs_reserve(reg[1], id, time(NULL), ref, err, sizeof(err)) < 0)
		return fprintf(stderr, "refs-reserve: %s\n", err), 1;
	while (done[0] < n || done[1] < n) {
		for (int k = 0; k < 2; k++)
			for (unsigned i = 0; i < 50 && done[k] < n; i++) {
				double t0;
				tz_id_new(id);
				t0 = now_us();
				if (tz_refs_reserve(reg[k], id, time(NULL), ref, err, sizeof(err)) < 0)
					return fprintf(stderr, "refs-reserve: %s\n", err), 1;
				t[k][done[k]++] = now_us() - t0;
			}
	}
	report("local", t[0], n);
	report("postgresql", t[1], n);
	printf("(%u reservations each)\n", n);
	/* leave the table as it was: a purge of every day up to tomorrow */
	tz_refs_purge(reg[1], time(NULL) + 2 * 86400, err, sizeof(err));
	tz_refs_free(reg[0]);
	tz_refs_free(reg[1]);
	return 0;
}
