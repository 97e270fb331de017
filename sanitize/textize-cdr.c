/* textize-cdr — sanitize one file by hand: `textize-cdr [options] IN WORKDIR`
 * runs the converters of tz_cdr.h on IN using the empty directory WORKDIR
 * and prints one line: "sanitized KIND PATH PAGES" or "unsanitizable KIND
 * REASON" (a ZIP adds a line "members: N of M members sanitized[; not
 * sanitized: NAME (why), ...]"). --password opens an encrypted ZIP. Exit 0 decided, 1 machine error, 2 usage. For tests, the bench
 * and operators; the worker (textizectl queue sanitize) uses the library. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tz_cdr.h"

static void usage(void)
{
	fputs("usage: textize-cdr [--no-ocr] [--dpi N] [--max-pages N] [--max-pixels N]\n"
	      "                   [--timeout S] [--memory MB] [--lang L]\n"
	      "                   [--zip-members N] [--zip-ratio N] [--zip-total BYTES]\n"
	      "                   [--zip-depth N] [--password PW] IN WORKDIR\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "no-ocr", no_argument, NULL, 'n' },
		{ "dpi", required_argument, NULL, 'd' },
		{ "max-pages", required_argument, NULL, 'p' },
		{ "max-pixels", required_argument, NULL, 'x' },
		{ "timeout", required_argument, NULL, 't' },
		{ "memory", required_argument, NULL, 'm' },
		{ "lang", required_argument, NULL, 'l' },
		{ "zip-members", required_argument, NULL, 'M' },
		{ "zip-ratio", required_argument, NULL, 'R' },
		{ "zip-total", required_argument, NULL, 'T' },
		{ "zip-depth", required_argument, NULL, 'D' },
		{ "password", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	struct tz_cdr_opts o;
	struct tz_cdr_result r = { 0 };
	const char *password = NULL;
	char err[512];
	int c, rc;

	tz_cdr_opts_default(&o);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': o.ocr = false; break;
		case 'd': o.dpi = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'p': o.max_pages = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'x': o.max_pixels = strtoull(optarg, NULL, 10); break;
		case 't': o.timeout_s = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'm': o.mem_bytes = strtoull(optarg, NULL, 10) << 20; break;
		case 'l': o.ocr_languages = optarg; break;
		case 'M': o.zip_max_members = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'R': o.zip_max_ratio = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'T': o.zip_max_total = strtoull(optarg, NULL, 10); break;
		case 'D': o.zip_max_depth = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'P': password = optarg; break;
		default: usage();
		}
	}
	if (argc - optind != 2 || o.dpi == 0 || o.dpi > 600 || o.timeout_s == 0)
		usage();
	/* --password: the archive path of issue 19 (a ZIP only) */
	rc = password ? tz_cdr_zip(&o, argv[optind], password, 0, argv[optind + 1], &r, err,
				   sizeof err)
		      : tz_cdr_file(&o, argv[optind], argv[optind + 1], &r, err, sizeof err);
	if (rc != 0) {
		fprintf(stderr, "textize-cdr: %s\n", err);
		return 1;
	}
	if (r.sanitized)
		printf("sanitized %s %s %u%s%s\n", r.kind, r.out_path, r.pages,
		       r.members ? "\nmembers: " : "", r.members ? r.members : "");
	else
		printf("unsanitizable %s %s\n", r.kind, r.reason);
	tz_cdr_result_clear(&r);
	return 0;
}
