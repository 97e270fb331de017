/* ctl_audit.c — `textizectl audit verify [FILE]`: check the hash chain of
 * the audit log; exit 0 when intact, 1 with the line of the first altered,
 * removed or reordered record, EX_NOINPUT (66) when it cannot be read. */
#include <stdio.h>

#include "ctl.h"
#include "ctl_args.h"
#include "ctl_qenv.h"
#include "tz_audit.h"

int ctl_audit_verify(const struct ctl_args *a)
{
	const char *file = ctl_arg(a, 0);
	struct ctl_qenv e;
	unsigned long records, bad;
	char err[TZ_ERRLEN];
	int rc = ctl_qenv_open(&e, a->opt[CTL_O_CONF], 0);

	if (rc)
		return rc;
	rc = tz_audit_verify(file ? file : tz_config_audit_location(e.cfg), e.cfg->audit_key_file, &records, &bad,
			     err, sizeof(err));
	if (rc == 0)
		printf("audit log intact: %lu records%s\n", records,
		       e.cfg->audit_key_file ? " (HMAC)" : "");
	else if (rc == 1)
		printf("audit log BROKEN at line %lu: %s (%lu records verified before it)\n",
		       bad, err, records);
	else
		ctl_fail(a, EX_NOINPUT, "%s", err);
	ctl_qenv_close(&e);
	return rc == 0 ? 0 : rc == 1 ? 1 : EX_NOINPUT;
}
