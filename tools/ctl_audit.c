/* ctl_audit.c — `textizectl audit verify [-c CONF] [FILE]`: check the hash
 * chain of the audit log; exit 0 when intact, 1 with the line of the first
 * altered, removed or reordered record, 2 when it cannot be checked. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "ctl_qenv.h"
#include "tz_audit.h"

static void usage(FILE *f)
{
	fputs("usage: textizectl audit verify [-c CONF] [FILE]\n"
	      "  FILE defaults to AuditLog; AuditKeyFile from CONF keys the check.\n", f);
}

int ctl_audit(int argc, char **argv)
{
	const char *conf = NULL, *file = NULL;
	struct ctl_qenv e;
	unsigned long records, bad;
	char err[TZ_ERRLEN];
	int rc;

	if (argc < 2 || strcmp(argv[1], "verify") != 0) {
		usage(argc >= 2 && strcmp(argv[1], "help") == 0 ? stdout : stderr);
		return argc >= 2 && strcmp(argv[1], "help") == 0 ? 0 : 2;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			conf = argv[++i];
		} else if (argv[i][0] != '-' && file == NULL) {
			file = argv[i];
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (ctl_qenv_open(&e, conf, 0) < 0)
		return 2;
	rc = tz_audit_verify(file ? file : e.cfg->audit_log, e.cfg->audit_key_file, &records, &bad,
			     err, sizeof(err));
	if (rc == 0)
		printf("audit log intact: %lu records%s\n", records,
		       e.cfg->audit_key_file ? " (HMAC)" : "");
	else if (rc == 1)
		printf("audit log BROKEN at line %lu: %s (%lu records verified before it)\n",
		       bad, err, records);
	else
		fprintf(stderr, "textizectl: %s\n", err);
	ctl_qenv_close(&e);
	return rc == 0 ? 0 : rc == 1 ? 1 : 2;
}
