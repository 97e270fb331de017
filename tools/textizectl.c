/* textizectl.c — the operator and security-team command. Its whole grammar
 * is the table below (commands, operands, options, formats); ctl_args.c
 * parses argv against it and the run functions in tools/ctl_*.c do the
 * work. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "textize.h"
#include "ctl.h"
#include "ctl_args.h"
#include "tz_config.h"

#define O(x) CTL_OPT(CTL_O_##x)
#define ENTRY_HELP "ID is the 参照番号 from the notice (1202-4F7K; 1202-4F7K#2 names part 2) or the long id.\n"

static const struct ctl_command commands[] = {
	{ "convert", NULL, "[FILE|-]", 0, 1, O(JSON) | O(PARTS), "mail,json",
	  "text-ize one message to stdout (or a JSON summary)", NULL, ctl_convert },
	{ "queue", "list", "", 0, 0, O(SINCE) | O(UNTIL) | O(FROM) | O(RCPT) | O(FLAG) | O(STATE),
	  "table,csv,json", "the parts in the sanitization queue, oldest first", NULL, ctl_queue_list },
	{ "queue", "show", "ID", 1, 1, 0, "table,json", "one entry: envelope and parts", ENTRY_HELP,
	  ctl_queue_show },
	{ "queue", "export", "ID PART|original", 1, 2, O(OUT) | O(FORCE), NULL,
	  "write a part (or the original message) to --out FILE; needs --operator", ENTRY_HELP,
	  ctl_queue_export },
	{ "queue", "release", "ID [PART...]", 1, CTL_ANY, O(TO) | O(AGAIN) | O(FORCE) | O(REASON) | O(RECLAIM), NULL,
	  "mail clean or sanitized parts to the recipients; needs --operator", ENTRY_HELP
	  "Without PART: every clean or sanitized part. --force --reason: a part that is not\n"
	  "clean, sent once another operator approves (queue approve).\n", ctl_queue_release },
	{ "queue", "approve", "ID PART", 1, 2, 0, NULL,
	  "approve another operator's forced release; needs --operator", ENTRY_HELP, ctl_queue_approve },
	{ "queue", "reject", "ID [PART]", 1, 2, O(REASON), NULL,
	  "mark parts rejected (never released); needs --operator", ENTRY_HELP, ctl_queue_reject },
	{ "queue", "purge", "", 0, 0, O(OLDER_THAN), NULL,
	  "remove entries past retention (operator 'retention' unless --operator)", NULL, ctl_queue_purge },
	{ "queue", "scan", "[ID]", 0, 1, O(WATCH) | O(INTERVAL), NULL,
	  "scan pending parts with clamd (ScannerSocket)", ENTRY_HELP, ctl_queue_scan },
	{ "queue", "sanitize", "[ID]", 0, 1, O(WATCH) | O(INTERVAL), NULL,
	  "run the built-in sanitizer over scanned parts", ENTRY_HELP, ctl_queue_sanitize },
	{ "queue", "reindex", "", 0, 0, 0, NULL, "rebuild ReportDatabase from the quarantine", NULL,
	  ctl_queue_reindex },
	{ "queue", "migrate", "", 0, 0, O(DRY_RUN) | O(TO_BLOBS) | O(REMOVE_LOCAL), NULL,
	  "move entries of the directory layout into the segment store (resumable)",
	  "--to-blobs: every entry of QuarantineDir (either layout) into the BlobStore instead,\n"
	  "indexed and audited; the local copies stay unless --remove-local. Stop this host's\n"
	  "milter first. Resumable; entries already in the store are only compared.\n",
	  ctl_queue_migrate },
	{ "audit", "verify", "[FILE]", 0, 1, 0, NULL,
	  "check the hash chain of the audit log (FILE defaults to AuditLog)", NULL, ctl_audit_verify },
	{ "report", "daily", "", 0, 0, O(DATE) | O(OUT) | O(FORCE), "html,csv,json",
	  "the day's report of the sanitization queue", NULL, ctl_report_daily },
	{ "breaker", "status", "", 0, 0, O(STATE_DIR), NULL,
	  "whether outbound mail is stopped, why, since when", NULL, ctl_breaker },
	{ "breaker", "reset", "", 0, 0, O(STATE_DIR), NULL,
	  "let outbound mail flow again after a trip", NULL, ctl_breaker },
	{ "stats", NULL, "", 0, 0, O(SOCKET), "table,json,prometheus",
	  "the running milter's counters from StatsSocket", NULL, ctl_stats },
	{ "sender", "block", "PATTERN", 1, 1, O(REASON), NULL,
	  "refuse inbound mail from an address or a domain; needs --operator",
	  "Written to the shared database on StoreBackend postgresql (every gateway, within 5 s),\n"
	  "else to SenderListFile; audited as sender_blocked.\n", ctl_sender },
	{ "sender", "allow", "PATTERN", 1, 1, O(REASON), NULL,
	  "undo a block for an address or a domain; needs --operator", NULL, ctl_sender },
	{ "sender", "list", "", 0, 0, 0, NULL, "the sender block/allow list", NULL, ctl_sender },
	{ "db", "status", "", 0, 0, 0, NULL,
	  "the shared database's schema version (StoreBackend postgresql)", NULL, ctl_db },
	{ "db", "migrate", "[VERSION]", 0, 1, 0, NULL,
	  "apply the missing schema migrations to DatabaseURL (up to VERSION)", NULL, ctl_db },
	{ "digest", "send", "", 0, 0, O(DATE) | O(FORCE), NULL,
	  "mail each recipient the files stripped from their mail (DigestTime; yesterday by default)",
	  "Without --date: yesterday's digest, once the clock is past DigestTime, once a day\n"
	  "(the timer runs it every 15 minutes). --date DAY sends that day now; --force sends\n"
	  "again to recipients already served.\n", ctl_digest_send },
	/* Areas add their commands here. */
	{ NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL },
};

struct tz_config *ctl_config_load(const char **conf, char *err, size_t errlen)
{
	if (*conf == NULL && access(TZ_DEFAULT_CONF, R_OK) == 0)
		*conf = TZ_DEFAULT_CONF;
	return *conf ? tz_config_load(*conf, err, errlen) : tz_config_new_defaults();
}

int main(int argc, char **argv)
{
	struct ctl_args a;
	int rc = ctl_args_parse(commands, argc, argv, &a);

	if (rc < 0)
		rc = a.cmd->run(&a);
	ctl_args_free(&a);
	return rc;
}
