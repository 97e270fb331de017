/* tz_config.c — the textize.conf key table and the loader (the generic
 * setters are in tz_config_set.c).
 * The table below is the single definition of every key: the defaults are
 * applied through the same setters as the file, so a default can never be a
 * value the parser would refuse. */
#include "tz_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include "tz_policy.h"
#include "tz_localtime.h"
#include "tz_queue.h"
#include "tz_tenant.h"
#include "tz_util.h"

#define OFF(field) offsetof(struct tz_config, field)
#define FIELD(cfg, key, type) ((type *)(void *)((char *)(cfg) + (key)->offset))

static int set_socket(struct tz_config *, const struct tz_config_key *, const char *, char *, size_t);
static int set_networks(struct tz_config *, const struct tz_config_key *, const char *, char *, size_t);
static int set_stats_socket(struct tz_config *, const struct tz_config_key *, const char *, char *, size_t);

/* The closed sets of values (the action keys use tz_action_names with a
 * mask of the actions each allows). The first name of a code is the one
 * an error offers; later ones are accepted aliases. */
static const struct tz_name_code log_levels[] = {
	{ "err", LOG_ERR }, { "error", LOG_ERR }, { "warning", LOG_WARNING },
	{ "notice", LOG_NOTICE }, { "info", LOG_INFO }, { "debug", LOG_DEBUG }, { NULL, 0 }
};
static const struct tz_name_code body_charsets[] = {
	{ "utf-8", TZ_BODY_UTF8 }, { "iso-2022-jp", TZ_BODY_ISO2022JP }, { NULL, 0 }
};
static const struct tz_name_code body_encodings[] = {
	{ "base64", TZ_ENC_BASE64 }, { "quoted-printable", TZ_ENC_QP }, { NULL, 0 }
};
static const struct tz_name_code notice_languages[] = {
	{ "ja", TZ_NOTICE_JA }, { "en", TZ_NOTICE_EN }, { NULL, 0 }
};
static const struct tz_name_code notice_details[] = {
	{ "staff", TZ_DETAILS_STAFF }, { "full", TZ_DETAILS_FULL }, { NULL, 0 }
};
static const struct tz_name_code sanitized_deliveries[] = {
	{ "off", TZ_SANITIZED_OFF }, { "auto", TZ_SANITIZED_AUTO },
	{ "approve", TZ_SANITIZED_APPROVE }, { NULL, 0 }
};
static const struct tz_name_code store_formats[] = {
	{ "directory", TZ_STORE_DIRECTORY }, { "segment", TZ_STORE_SEGMENT }, { NULL, 0 }
};
static const struct tz_name_code store_backends[] = {
	{ "local", TZ_STORE_LOCAL }, { "postgresql", TZ_STORE_POSTGRESQL }, { NULL, 0 }
};
static const struct tz_name_code blob_stores[] = {
	{ "local", TZ_BLOB_LOCAL }, { "s3", TZ_BLOB_S3 }, { "postgresql", TZ_BLOB_POSTGRESQL },
	{ NULL, 0 }
};
#define ON_ERROR_ACTIONS (TZ_ACTMASK(TZ_ACTION_TEMPFAIL) | TZ_ACTMASK(TZ_ACTION_REJECT))

/* tz_config_set_enum stores an int: every enum a row names must be one. */
G_STATIC_ASSERT(sizeof(enum tz_action) == sizeof(int));
G_STATIC_ASSERT(sizeof(enum tz_body_charset) == sizeof(int));
G_STATIC_ASSERT(sizeof(enum tz_body_encoding) == sizeof(int));
G_STATIC_ASSERT(sizeof(enum tz_notice_lang) == sizeof(int));
G_STATIC_ASSERT(sizeof(enum tz_notice_details) == sizeof(int));
G_STATIC_ASSERT(sizeof(enum tz_sanitized_delivery) == sizeof(int));
G_STATIC_ASSERT(sizeof(enum tz_store_format) == sizeof(int));
G_STATIC_ASSERT(sizeof(enum tz_store_backend) == sizeof(int));
G_STATIC_ASSERT(sizeof(enum tz_blob_store) == sizeof(int));

/* Every key, grouped by area. Areas append rows at the end of their block
 * (or a new block with a comment line). Columns: name, type, default (as
 * written in the file), doc, setter, field offset, names, max. */
const struct tz_config_key tz_config_keys[] = {
	/* ---- daemon: sockets, privileges, process ---- */
	{ "Socket", "socket", "local:/run/textize/textize.sock",
	  "milter socket: local:/path, inet:PORT@ADDR or inet6:PORT@ADDR",
	  set_socket, OFF(socket), NULL, 0 },
	{ "SocketMode", "octal", "0660",
	  "permissions of a local socket (octal)",
	  tz_config_set_octal, OFF(socket_mode), NULL, 07777 },
	{ "UserID", "string", "",
	  "user[:group] to switch to after binding the socket; empty = stay",
	  tz_config_set_string, OFF(user_id), NULL, 0 },
	{ "PidFile", "path", "",
	  "file to write the process id to; empty = none",
	  tz_config_set_path, OFF(pid_file), NULL, 0 },
	{ "Background", "bool", "no",
	  "detach from the terminal (the systemd unit runs in the foreground)",
	  tz_config_set_bool, OFF(background), NULL, 0 },
	{ "MilterTimeout", "duration", "600",
	  "seconds libmilter waits for the MTA before dropping a connection",
	  tz_config_set_seconds, OFF(milter_timeout), NULL, 86400 },
	{ "LogLevel", "level", "info",
	  "most verbose syslog priority logged: err|warning|notice|info|debug",
	  tz_config_set_enum, OFF(log_level), log_levels, 0 },
	{ "OnError", "action", "tempfail",
	  "what an internal error does to a message: tempfail (451 4.3.0) or reject (550 5.7.0)",
	  tz_config_set_enum, OFF(on_error), tz_action_names, ON_ERROR_ACTIONS },
	/* ---- spool: where message bodies wait for end of message ---- */
	{ "SpoolDir", "path", "/var/spool/textize/spool",
	  "directory for unlinked temporary files of messages over SpoolMemoryLimit",
	  tz_config_set_path, OFF(spool_dir), NULL, 0 },
	{ "SpoolMemoryLimit", "size", "1m",
	  "bytes of one message kept in memory before spooling to SpoolDir",
	  tz_config_set_size, OFF(spool_memory_limit), NULL, 0 },
	{ "SpoolMemoryTotal", "size", "8m",
	  "bytes of all messages together kept in memory before spooling; a message that would pass it goes to SpoolDir",
	  tz_config_set_size, OFF(spool_memory_total), NULL, 0 },
	{ "ConversionBudget", "size", "32m",
	  "bytes of messages (each plus 256 KiB) converted at once at end of message; a message that does not fit waits",
	  tz_config_set_size, OFF(conversion_budget), NULL, 0 },
	{ "ConversionWait", "duration", "2m",
	  "longest wait for ConversionBudget before the message is tempfailed (at most 5m)",
	  tz_config_set_millis, OFF(conversion_wait), NULL, 300000 },
	{ "MaxMessageSize", "size", "64m",
	  "hard limit on any message (header + body): larger is always rejected 552 5.3.4, SizeAction does not apply",
	  tz_config_set_size, OFF(max_message_size), NULL, 0 },
	/* ---- networks and domains: direction of a connection ---- */
	{ "InternalNetworks", "list", "",
	  "CIDR networks (IPv4/IPv6) whose clients send outbound mail",
	  set_networks, OFF(internal_networks), NULL, 0 },
	{ "LocalDomains", "list", "",
	  "domains this gateway receives mail for (.example.jp includes subdomains)",
	  tz_config_set_domains, OFF(local_domains), NULL, 0 },
	/* ---- engine: the text-ized message ---- */
	{ "BodyCharset", "choice", "UTF-8",
	  "charset of the new text body: UTF-8 or ISO-2022-JP",
	  tz_config_set_enum, OFF(body_charset), body_charsets, 0 },
	{ "BodyEncoding", "choice", "base64",
	  "transfer encoding of the new body: base64 or quoted-printable",
	  tz_config_set_enum, OFF(body_encoding), body_encodings, 0 },
	{ "SubjectPrefix", "string", "",
	  "text put before the Subject of text-ized mail; empty = none",
	  tz_config_set_string, OFF(subject_prefix), NULL, 0 },
	{ "NoticeTemplate", "path", "",
	  "template file for the notice at the top of the body; empty = built-in",
	  tz_config_set_path, OFF(notice_template), NULL, 0 },
	{ "NoticeLanguage", "choice", "ja",
	  "language of the built-in notice: ja or en",
	  tz_config_set_enum, OFF(notice_language), notice_languages, 0 },
	{ "NoticeDetails", "choice", "staff",
	  "what the notice shows of each removed file: staff (name, kind, size, reason) or full (also MIME types and SHA-256, for the security team's mailboxes)",
	  tz_config_set_enum, OFF(notice_details), notice_details, 0 },
	{ "NoticeContact", "string", "",
	  "whom staff ask for a removed file, as the notice names it; empty = the information security team",
	  tz_config_set_string, OFF(notice_contact), NULL, 0 },
	/* ---- limits: reaching one fails the conversion (OnError) ---- */
	{ "MaxMimeDepth", "integer", "32",
	  "deepest nesting of multiparts and attached messages",
	  tz_config_set_uint, OFF(limits.max_mime_depth), NULL, 1000 },
	{ "MaxParts", "integer", "1000",
	  "most MIME parts in one message",
	  tz_config_set_uint, OFF(limits.max_parts), NULL, 1000000 },
	{ "MaxHeaders", "integer", "1000",
	  "most header fields in one entity",
	  tz_config_set_uint, OFF(limits.max_headers), NULL, 1000000 },
	{ "MaxHeaderBytes", "size", "1m",
	  "largest header block of one entity",
	  tz_config_set_size, OFF(limits.max_header_bytes), NULL, 0 },
	{ "MaxHtmlDepth", "integer", "256",
	  "deepest HTML element nesting the renderer follows",
	  tz_config_set_uint, OFF(limits.max_html_depth), NULL, 100000 },
	{ "MaxHtmlNodes", "integer", "200000",
	  "most elements, attributes and comments one HTML part may build",
	  tz_config_set_uint, OFF(limits.max_html_nodes), NULL, 100000000 },
	{ "MaxOutputRatio", "integer", "3",
	  "body text at most this many times the message's size (plus 192 KiB)",
	  tz_config_set_uint, OFF(limits.max_output_ratio), NULL, 1000 },
	{ "MaxConversionMemory", "size", "256m",
	  "most memory one conversion's buffers may hold at once",
	  tz_config_set_size, OFF(limits.max_memory_bytes), NULL, 0 },
	{ "MaxOutputSize", "size", "16m",
	  "largest new text body",
	  tz_config_set_size, OFF(limits.max_output_bytes), NULL, 0 },
	{ "ConversionTimeLimit", "duration", "20s",
	  "wall time for converting one message (N, Nms, Ns, Nm; plain N = seconds)",
	  tz_config_set_millis, OFF(limits.time_budget_ms), NULL, 3600000 },
	/* ---- quarantine: the sanitization queue and the report index ---- */
	{ "QuarantineDir", "path", "/var/spool/textize/quarantine",
	  "sanitization queue: originals and stripped parts",
	  tz_config_set_path, OFF(quarantine_dir), NULL, 0 },
	{ "QuarantineKeyFile", "path", "",
	  "key file for encrypting the queue; empty = not encrypted",
	  tz_config_set_path, OFF(quarantine_key_file), NULL, 0 },
	{ "StoreFormat", "choice", "segment",
	  "how the milter writes new entries: segment (one record each in append-only segment files, group-committed; textizectl queue migrate moves older entries) or directory (one directory per entry)",
	  tz_config_set_enum, OFF(store_format), store_formats, 0 },
	{ "ReportDatabase", "path", "/var/lib/textize/report.db",
	  "SQLite index of text-ized messages for textizectl report",
	  tz_config_set_path, OFF(report_database), NULL, 0 },
	{ "AuditLog", "path", "/var/log/textize/audit.log",
	  "hash-chained audit log of every quarantine event (stored, scanned, released, ...)",
	  tz_config_set_path, OFF(audit_log), NULL, 0 },
	{ "AuditKeyFile", "path", "",
	  "key file (32 bytes raw or 64 hex digits) to HMAC the audit chain; empty = plain SHA-256",
	  tz_config_set_path, OFF(audit_key_file), NULL, 0 },
	{ "ScannerSocket", "string", "/run/clamav/clamd.ctl",
	  "clamd socket for textizectl queue scan: a unix socket path or HOST:PORT",
	  tz_config_set_string, OFF(scanner_socket), NULL, 0 },
	{ "ScannerTimeout", "duration", "60s",
	  "time limit for one clamd scan (connect, send, verdict)",
	  tz_config_set_seconds, OFF(scanner_timeout), NULL, 86400 },
	{ "SanitizerCommand", "string", "",
	  "CDR command run without a shell, %i = input file, %o = output file; empty = none",
	  tz_config_set_string, OFF(sanitizer_command), NULL, 0 },
	{ "SanitizerTimeout", "duration", "300s",
	  "time limit for one SanitizerCommand run; it is killed after that",
	  tz_config_set_seconds, OFF(sanitizer_timeout), NULL, 86400 },
	/* ---- the built-in sanitizer (issue 17, textizectl queue sanitize) ---- */
	{ "SanitizeMaxPages", "integer", "100",
	  "documents with more pages are left unsanitized (the reason says so)",
	  tz_config_set_uint, OFF(sanitize_max_pages), NULL, 10000 },
	{ "SanitizeResolution", "integer", "150",
	  "dots per inch at which pages are rendered to pixels",
	  tz_config_set_uint, OFF(sanitize_dpi), NULL, 600 },
	{ "SanitizeMaxPixels", "integer", "40000000",
	  "most pixels of one rendered page or one image",
	  tz_config_set_uint, OFF(sanitize_max_pixels), NULL, 400000000 },
	{ "SanitizeOCR", "bool", "yes",
	  "add an OCR text layer (tesseract) to sanitized PDFs",
	  tz_config_set_bool, OFF(sanitize_ocr), NULL, 0 },
	{ "SanitizeOCRLanguages", "string", "jpn+eng",
	  "tesseract languages for the OCR layer",
	  tz_config_set_string, OFF(sanitize_ocr_languages), NULL, 0 },
	{ "SanitizeTimeout", "duration", "120s",
	  "time (wall clock and CPU) for one converter run in the sandbox",
	  tz_config_set_seconds, OFF(sanitize_timeout), NULL, 86400 },
	{ "SanitizeMemoryLimit", "size", "3g",
	  "address space of one converter run in the sandbox",
	  tz_config_set_size, OFF(sanitize_memory), NULL, 0 },
	{ "SanitizeMaxInputSize", "size", "50m",
	  "larger parts are left unsanitized",
	  tz_config_set_size, OFF(sanitize_max_input), NULL, 0 },
	{ "SanitizeZipMaxMembers", "integer", "100",
	  "ZIP archives with more entries are left unsanitized",
	  tz_config_set_uint, OFF(sanitize_zip_max_members), NULL, 100000 },
	{ "SanitizeZipMaxRatio", "integer", "100",
	  "a ZIP member over 1 MiB that unpacks to more than this many times its packed size makes the archive a zip bomb",
	  tz_config_set_uint, OFF(sanitize_zip_max_ratio), NULL, 1000000 },
	{ "SanitizeZipMaxTotal", "size", "200m",
	  "most bytes unpacked from one ZIP archive, nested archives included",
	  tz_config_set_size, OFF(sanitize_zip_max_total), NULL, 0 },
	{ "SanitizeZipMaxDepth", "integer", "2",
	  "archives inside archives: how many levels are unpacked",
	  tz_config_set_uint, OFF(sanitize_zip_max_depth), NULL, 10 },
	{ "SanitizeWorkers", "integer", "1",
	  "conversions the sanitize worker runs at once, each in its own sandbox",
	  tz_config_set_uint, OFF(sanitize_workers), NULL, 64 },
	{ "SanitizedDelivery", "choice", "auto",
	  "auto: once every part of a mail is decided, its sanitized copies go to the original recipients as released mail, and the notice of the text-ized mail says so; approve, off: they wait for queue release",
	  tz_config_set_enum, OFF(sanitized_delivery), sanitized_deliveries, 0 },
	{ "ReleaseCommand", "string", "/usr/sbin/sendmail -oi -t",
	  "command (no shell) that receives a released mail on standard input",
	  tz_config_set_string, OFF(release_command), NULL, 0 },
	{ "ReleaseKeyFile", "path", "",
	  "key file for the X-Textize-Release marker the milter verifies; release needs it",
	  tz_config_set_path, OFF(release_key_file), NULL, 0 },
	{ "ReleaseFrom", "string", "",
	  "From address of released mail; empty = the original envelope sender",
	  tz_config_set_string, OFF(release_from), NULL, 0 },
	{ "ForceReleaseApprovals", "integer", "2",
	  "operators who must agree (the requester and queue approve) before a part the scanner "
	  "did not pass is released with --force; 1 = the requester alone",
	  tz_config_set_uint, OFF(force_release_approvals), NULL, 10 },
	{ "RetentionDays", "integer", "180",
	  "queue purge removes entries older than this many days unless told otherwise",
	  tz_config_set_uint, OFF(retention_days), NULL, 36500 },
	/* ---- policy ---- */
	{ "InternalDomains", "list", "",
	  "our own mail domains (.example.jp = with subdomains); empty = LocalDomains",
	  tz_config_set_domains, OFF(internal_domains), NULL, 0 },
	{ "RelayAction", "action", "reject",
	  "untrusted client naming a recipient outside LocalDomains: reject (550 5.7.1) or tempfail",
	  tz_config_set_enum, OFF(relay_action), tz_action_names, TZ_POLICY_RELAY_ACTIONS },
	{ "RelayRejectText", "text", TZ_RELAY_TEXT,
	  "reply text for a relay attempt (printable ASCII)",
	  tz_policy_set_text, OFF(relay_text), NULL, 0 },
	{ "SenderListFile", "path", "",
	  "sender block/allow list (block|allow ADDRESS|DOMAIN a line; the console writes it): a "
	  "blocked inbound sender is refused at MAIL (550 5.7.1); allow only undoes a block; "
	  "re-read when it changes; empty = none",
	  tz_config_set_path, OFF(sender_list_file), NULL, 0 },
	{ "MaxMessageSizeInbound", "size", "64m",
	  "largest inbound message, checked at MAIL (SIZE=) and while it streams",
	  tz_config_set_size, OFF(max_size_inbound), NULL, 0 },
	{ "MaxMessageSizeOutbound", "size", "64m",
	  "largest outbound message, checked at MAIL (SIZE=) and while it streams",
	  tz_config_set_size, OFF(max_size_outbound), NULL, 0 },
	{ "SizeAction", "action", "reject",
	  "message over its direction's size limit: reject (552 5.3.4)|tempfail|hold|tag|log",
	  tz_config_set_enum, OFF(size_action), tz_action_names, TZ_POLICY_ACTIONS },
	{ "SizeRejectText", "text", TZ_SIZE_TEXT,
	  "reply text for an oversized message",
	  tz_policy_set_text, OFF(size_text), NULL, 0 },
	{ "AutoForwardAction", "action", "reject",
	  "outbound mail forwarded automatically to an external address: reject (550 5.7.1)|tempfail|hold|tag|log",
	  tz_config_set_enum, OFF(autofwd_action), tz_action_names, TZ_POLICY_ACTIONS },
	{ "AutoForwardAllow", "list", "",
	  "approved automatic forwards, internal@domain>external@domain (either side may be @domain)",
	  tz_policy_set_allow, OFF(autofwd_allow), NULL, 0 },
	{ "AutoForwardRejectText", "text", TZ_AUTOFWD_TEXT,
	  "reply text for a refused automatic forward",
	  tz_policy_set_text, OFF(autofwd_text), NULL, 0 },
	{ "MaxVisibleRecipients", "integer", "10",
	  "most external addresses outbound To and Cc may show together; 0 = no limit",
	  tz_config_set_uint, OFF(max_visible_rcpts), NULL, 100000 },
	{ "RecipientVisibilityAction", "action", "reject",
	  "too many visible recipients: reject (550 5.7.1)|tempfail|hold|rewrite|tag|log",
	  tz_config_set_enum, OFF(visibility_action), tz_action_names, TZ_POLICY_VIS_ACTIONS },
	{ "RecipientVisibilityText", "text", TZ_VISIBILITY_TEXT,
	  "reply text telling the sender to use Bcc",
	  tz_policy_set_text, OFF(visibility_text), NULL, 0 },
	{ "SPFCheck", "bool", "yes",
	  "check SPF (libspf2) for inbound mail and add Received-SPF and Authentication-Results",
	  tz_config_set_bool, OFF(spf_check), NULL, 0 },
	{ "SPFFailAction", "action", "reject",
	  "SPF fail: reject (550 5.7.23)|tempfail|hold|tag|log",
	  tz_config_set_enum, OFF(spf_fail_action), tz_action_names, TZ_POLICY_ACTIONS },
	{ "SPFSoftfailAction", "action", "tag",
	  "SPF softfail: reject|tempfail|hold|tag|log",
	  tz_config_set_enum, OFF(spf_softfail_action), tz_action_names, TZ_POLICY_ACTIONS },
	{ "SPFNoneAction", "action", "tag",
	  "SPF none or neutral: reject|tempfail|hold|tag|log",
	  tz_config_set_enum, OFF(spf_none_action), tz_action_names, TZ_POLICY_ACTIONS },
	{ "SPFTempErrorAction", "action", "tempfail",
	  "SPF temperror (DNS failure or SPFTimeout): tempfail (451 4.7.24)|reject|hold|tag|log",
	  tz_config_set_enum, OFF(spf_temperror_action), tz_action_names, TZ_POLICY_ACTIONS },
	{ "SPFPermErrorAction", "action", "tag",
	  "SPF permerror (broken record): reject (550 5.7.24)|tempfail|hold|tag|log",
	  tz_config_set_enum, OFF(spf_permerror_action), tz_action_names, TZ_POLICY_ACTIONS },
	{ "SPFTimeout", "duration", "10s",
	  "wall time for one SPF evaluation (all its DNS queries); out of time = temperror",
	  tz_config_set_millis, OFF(spf_timeout_ms), NULL, 120000 },
	{ "SPFFailText", "text", TZ_SPF_FAIL_TEXT,
	  "reply text for SPF fail",
	  tz_policy_set_text, OFF(spf_fail_text), NULL, 0 },
	{ "SPFTempErrorText", "text", TZ_SPF_TEMPERROR_TEXT,
	  "reply text for SPF temperror",
	  tz_policy_set_text, OFF(spf_temperror_text), NULL, 0 },
	{ "AuthservID", "string", "",
	  "authserv-id of our Authentication-Results (RFC 8601); empty = the host name",
	  tz_config_set_string, OFF(authserv_id), NULL, 0 },
	{ "SpoofAction", "action", "reject",
	  "InternalDomains sender or From from an untrusted client: reject (550 5.7.1)|tempfail|hold|tag|log",
	  tz_config_set_enum, OFF(spoof_action), tz_action_names, TZ_POLICY_ACTIONS },
	{ "SpoofRejectText", "text", TZ_SPOOF_TEXT,
	  "reply text for a spoofed internal sender",
	  tz_policy_set_text, OFF(spoof_text), NULL, 0 },
	{ "OutboundRateLimit", "rate", "100/10m",
	  "outbound messages per sender (SMTP AUTH user, else client address) per window; 0 = off",
	  tz_policy_set_rate, OFF(outbound_rate), NULL, 0 },
	{ "RecipientRateLimit", "rate", "1000/1h",
	  "outbound recipients per sender per window; 0 = off",
	  tz_policy_set_rate, OFF(rcpt_rate), NULL, 0 },
	{ "BreakerTrip", "rate", "3/1h",
	  "this many senders over their limit within the window stop all outbound mail; 0 = never",
	  tz_policy_set_rate, OFF(breaker_trip), NULL, 0 },
	{ "OutboundGlobalLimit", "rate", "0",
	  "all outbound messages per window before the breaker trips (e.g. 5000/1h); 0 = off",
	  tz_policy_set_rate, OFF(global_rate), NULL, 0 },
	{ "BreakerText", "text", TZ_BREAKER_SENDER_TEXT,
	  "reply text (451 4.7.1) for mail stopped by the rate limits or the breaker",
	  tz_policy_set_text, OFF(breaker_text), NULL, 0 },
	{ "StateDir", "path", "/var/lib/textize",
	  "directory of breaker.state (tripped breaker, shown and reset by textizectl breaker)",
	  tz_config_set_path, OFF(state_dir), NULL, 0 },
	/* ---- shared state of several gateways (issue 18, docs/cluster.md) ---- */
	{ "StoreBackend", "choice", "local",
	  "where the index, audit chain, breaker and release claims live: local (SQLite and files) or postgresql (DatabaseURL)",
	  tz_config_set_enum, OFF(store_backend), store_backends, 0 },
	{ "DatabaseURL", "url", "",
	  "libpq connection URI of the shared database (postgresql://user@host:port/db); keep passwords in ~/.pgpass",
	  tz_config_set_string, OFF(database_url), NULL, 0 },
	{ "BlobStore", "choice", "local",
	  "where originals, stripped parts and sanitized files live: local (QuarantineDir), s3 (S3Endpoint) or postgresql (DatabaseURL); s3 and postgresql need StoreBackend postgresql",
	  tz_config_set_enum, OFF(blob_store), blob_stores, 0 },
	{ "S3Endpoint", "url", "",
	  "BlobStore s3: http(s)://host[:port] of the S3-compatible store (radosgw), path-style requests",
	  tz_config_set_string, OFF(s3_endpoint), NULL, 0 },
	{ "S3Bucket", "string", "",
	  "BlobStore s3: the bucket (created beforehand)",
	  tz_config_set_string, OFF(s3_bucket), NULL, 0 },
	{ "S3Region", "string", "us-east-1",
	  "BlobStore s3: the region named in the SigV4 signature (radosgw: its zonegroup, default us-east-1)",
	  tz_config_set_string, OFF(s3_region), NULL, 0 },
	{ "S3AccessKeyFile", "path", "",
	  "BlobStore s3: file with the access key id and the secret key, separated by white space; mode 0600",
	  tz_config_set_path, OFF(s3_access_key_file), NULL, 0 },
	{ "BlobPuts", "integer", "8",
	  "BlobStore s3|postgresql: how many blobs the committing thread puts at once (the batch's entries and each entry's files; meta.json after the rest); 1 = one after another",
	  tz_config_set_uint, OFF(blob_puts), NULL, 64 },
	/* ---- monitoring ---- */
	{ "StatsSocket", "socket", "",
	  "counters for textizectl stats and Prometheus (GET /metrics): local:/path or inet:PORT@ADDR; empty = off",
	  set_stats_socket, OFF(stats_socket), NULL, 0 },
	/* ---- the console textize-web (issue 19) ---- */
	{ "WebListen", "string", "127.0.0.1:8080",
	  "address and port textize-web listens on, ADDR:PORT or [ADDR6]:PORT (a reverse proxy in front, or WebTLSCertFile)",
	  tz_config_set_string, OFF(web_listen), NULL, 0 },
	{ "WebBaseURL", "string", "",
	  "URL staff reach the console under, e.g. https://textize.example.lg.jp; the notice carries a signed link only when set",
	  tz_config_set_string, OFF(web_base_url), NULL, 0 },
	{ "WebKeyFile", "path", "",
	  "key file (32 bytes raw or 64 hex digits) that signs staff links; read by the milter and textize-web; links need it",
	  tz_config_set_path, OFF(web_key_file), NULL, 0 },
	{ "WebLinkLifetime", "duration", "336h",
	  "how long a staff link from a notice stays valid",
	  tz_config_set_seconds, OFF(web_link_lifetime), NULL, 31536000 },
	{ "DigestTime", "HH:MM", "",
	  "local time HH:MM from which textizectl digest send mails each recipient the list of files "
	  "stripped from their mail the day before (with signed links under WebBaseURL); empty = no digest",
	  tz_config_set_clock, OFF(digest_time), NULL, 0 },
	{ "WebDatabase", "path", "/var/lib/textize/web.db",
	  "SQLite file of textize-web: staff requests, one per link (so a link cannot act twice)",
	  tz_config_set_path, OFF(web_database), NULL, 0 },
	{ "WebPAMService", "string", "textize-web",
	  "PAM service the security team's login is checked against (/etc/pam.d/NAME)",
	  tz_config_set_string, OFF(web_pam_service), NULL, 0 },
	{ "WebTeamGroup", "string", "textize-team",
	  "Unix group of the security team: view, release, reject, ask for forced release",
	  tz_config_set_string, OFF(web_team_group), NULL, 0 },
	{ "WebApproverGroup", "string", "textize-approver",
	  "Unix group whose members may also approve forced releases",
	  tz_config_set_string, OFF(web_approver_group), NULL, 0 },
	{ "WebAuditorGroup", "string", "textize-auditor",
	  "Unix group with read-only access (queue, report, audit log)",
	  tz_config_set_string, OFF(web_auditor_group), NULL, 0 },
	{ "WebSessionLifetime", "duration", "8h",
	  "a login session ends this long after login",
	  tz_config_set_seconds, OFF(web_session_lifetime), NULL, 604800 },
	{ "WebTLSCertFile", "path", "",
	  "PEM certificate for HTTPS served by textize-web itself (GnuTLS); empty = plain HTTP behind a proxy",
	  tz_config_set_path, OFF(web_tls_cert_file), NULL, 0 },
	{ "WebTLSKeyFile", "path", "",
	  "PEM private key for WebTLSCertFile",
	  tz_config_set_path, OFF(web_tls_key_file), NULL, 0 },
	{ "WebUser", "string", "textize-web",
	  "user[:group] textize-web's HTTP front drops to when started as root (no key, no store; the broker it asks runs as UserID)",
	  tz_config_set_string, OFF(web_user), NULL, 0 },
	{ NULL, NULL, NULL, NULL, NULL, 0, NULL, 0 }
};

/* ------------------------------------------------------------ setters */

/* The generic setters (tz_config_set_string ... _enum) are in tz_config_set.c. */


static int set_socket(struct tz_config *cfg, const struct tz_config_key *key,
		      const char *value, char *err, size_t errlen)
{
	static const char *const kinds[] = { "local:", "unix:", "inet:", "inet6:", NULL };
	const char *rest = NULL;

	for (int i = 0; kinds[i] && rest == NULL; i++)
		if (g_ascii_strncasecmp(value, kinds[i], strlen(kinds[i])) == 0)
			rest = value + strlen(kinds[i]);
	if (rest == NULL || *rest == '\0')
		return tz_err(err, errlen, "%s must be local:/path, inet:PORT@ADDR or inet6:PORT@ADDR: \"%s\"",
			      key->name, value);
	if (value[0] == 'l' || value[0] == 'u' || value[0] == 'L' || value[0] == 'U') {
		if (*rest != '/')
			return tz_err(err, errlen, "%s: local socket needs an absolute path: %s",
				      key->name, value);
	} else if (!isdigit((unsigned char)*rest)) {
		return tz_err(err, errlen, "%s: inet socket needs PORT[@ADDR]: %s", key->name, value);
	}
	return tz_config_set_string(cfg, key, value, err, errlen);
}

/* Like Socket, but empty (the default) turns the stats server off. */
static int set_stats_socket(struct tz_config *cfg, const struct tz_config_key *key,
			    const char *value, char *err, size_t errlen)
{
	if (*value == '\0')
		return tz_config_set_string(cfg, key, value, err, errlen);
	return set_socket(cfg, key, value, err, errlen);
}

/* InternalNetworks: keep the strings (for logs and textizectl) and the
 * parsed list (for matching); both replaced together or not at all. */
static int set_networks(struct tz_config *cfg, const struct tz_config_key *key,
			const char *value, char *err, size_t errlen)
{
	GPtrArray *a = tz_config_split_list(value);
	struct tz_netlist *l = tz_netlist_new();
	char why[TZ_ERRLEN];

	for (guint i = 0; i < a->len; i++) {
		if (tz_netlist_add(l, a->pdata[i], why, sizeof(why)) < 0) {
			tz_err(err, errlen, "%s: %s", key->name, why);
			tz_netlist_free(l);
			g_ptr_array_unref(a);
			return -1;
		}
	}
	if (cfg->internal_networks)
		g_ptr_array_unref(cfg->internal_networks);
	tz_netlist_free(cfg->internal_nets);
	cfg->internal_networks = a;
	cfg->internal_nets = l;
	return 0;
}

/* ------------------------------------------------------- life cycle */

const struct tz_config_key *tz_config_key_find(const char *name)
{
	for (const struct tz_config_key *k = tz_config_keys; k->name; k++)
		if (g_ascii_strcasecmp(k->name, name) == 0)
			return k;
	return NULL;
}

int tz_config_set(struct tz_config *cfg, const char *key, const char *value,
		  char *err, size_t errlen)
{
	const struct tz_config_key *k = tz_config_key_find(key);

	if (k == NULL)
		return tz_err(err, errlen, "unknown key \"%s\"", key);
	return k->set(cfg, k, value, err, errlen);
}

/* Free whatever the setters allocated, by the kind of setter: areas that add
 * a setter storing heap memory add a clause here. */
static void config_free_fields(struct tz_config *cfg)
{
	for (const struct tz_config_key *k = tz_config_keys; k->name; k++) {
		if (k->set == tz_config_set_string || k->set == tz_config_set_path ||
		    k->set == set_socket ||
		    k->set == tz_policy_set_text || k->set == set_stats_socket) {
			char **f = FIELD(cfg, k, char *);
			g_free(*f);
			*f = NULL;
		} else if (k->set == tz_config_set_list || k->set == tz_config_set_domains ||
			   k->set == set_networks || k->set == tz_policy_set_allow) {
			GPtrArray **f = FIELD(cfg, k, GPtrArray *);
			if (*f)
				g_ptr_array_unref(*f);
			*f = NULL;
		}
	}
	tz_netlist_free(cfg->internal_nets);
	cfg->internal_nets = NULL;
	if (cfg->tenants)
		g_ptr_array_unref(cfg->tenants);
	cfg->tenants = NULL;
	g_free(cfg->tenant_name);
	cfg->tenant_name = NULL;
}

struct tz_config *tz_config_new_defaults(void)
{
	struct tz_config *cfg = g_new0(struct tz_config, 1);
	char err[TZ_ERRLEN];

	cfg->refs = 1;
	for (const struct tz_config_key *k = tz_config_keys; k->name; k++) {
		/* A default the setter refuses is a bug in the table; the
		 * unit test applies every default, so this cannot ship. */
		if (k->set(cfg, k, k->default_str, err, sizeof(err)) < 0)
			g_error("tz_config: bad default for %s: %s", k->name, err);
	}
	return cfg;
}

struct tz_config *tz_config_ref(struct tz_config *cfg)
{
	if (cfg)
		g_atomic_int_inc(&cfg->refs);
	return cfg;
}

void tz_config_unref(struct tz_config *cfg)
{
	if (cfg == NULL || !g_atomic_int_dec_and_test(&cfg->refs))
		return;
	config_free_fields(cfg);
	if (cfg->key_lines)
		g_hash_table_unref(cfg->key_lines);
	g_free(cfg->path);
	g_free(cfg);
}

/* Checks that involve more than one key, or that no single setter can do. */
static int config_validate(const struct tz_config *cfg, char *err, size_t errlen)
{
	if (cfg->socket == NULL)
		return tz_err(err, errlen, "Socket must be set");
	if (cfg->spool_dir == NULL)
		return tz_err(err, errlen, "SpoolDir must be set");
	if (cfg->quarantine_dir == NULL)
		return tz_err(err, errlen, "QuarantineDir must be set");
	if (tz_config_store_shared(cfg) && cfg->database_url == NULL)
		return tz_err(err, errlen, "StoreBackend postgresql needs DatabaseURL");
	/* shared blobs with a per-host index would hide each gateway's
	 * entries from the others' lists: one queue means both shared */
	if (cfg->blob_store != TZ_BLOB_LOCAL && !tz_config_store_shared(cfg))
		return tz_err(err, errlen, "BlobStore %s needs StoreBackend postgresql",
			      cfg->blob_store == TZ_BLOB_S3 ? "s3" : "postgresql");
	if (cfg->blob_store == TZ_BLOB_S3 &&
	    (!cfg->s3_endpoint || !cfg->s3_bucket || !cfg->s3_access_key_file))
		return tz_err(err, errlen, "BlobStore s3 needs S3Endpoint, S3Bucket and S3AccessKeyFile");
	return 0;
}

/* Split one line into key and value in place; returns false for blank and
 * comment lines. */
static bool split_line(char *line, char **key, char **value)
{
	char *p = line, *end;

	while (*p == ' ' || *p == '\t')
		p++;
	end = p + strlen(p);
	while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	if (*p == '\0' || *p == '#')
		return false;
	*key = p;
	while (*p && *p != ' ' && *p != '\t')
		p++;
	if (*p)
		*p++ = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	*value = p;
	return true;
}

struct tz_config *tz_config_load_all(const char *path, GPtrArray *problems)
{
	struct tz_config *cfg;
	struct tz_tenant_parse *tp;
	char why[TZ_ERRLEN];
	char *line = NULL, *key, *value;
	size_t cap = 0;
	unsigned lineno = 0;
	ssize_t n;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL) {
		g_ptr_array_add(problems, g_strdup_printf("%s: %s", path, strerror(errno)));
		return NULL;
	}
	cfg = tz_config_new_defaults();
	cfg->path = g_strdup(path);
	cfg->key_lines = g_hash_table_new(g_str_hash, g_str_equal);
	tp = tz_tenant_parse_new(path);
	while ((n = getline(&line, &cap, f)) > 0) {
		const struct tz_config_key *k;
		char *l = line;

		lineno++;
		if (strlen(line) != (size_t)n) {
			g_ptr_array_add(problems, g_strdup_printf("%s:%u: NUL byte in line", path, lineno));
			continue;
		}
		if (lineno == 1 && strncmp(l, "\xef\xbb\xbf", 3) == 0)
			l += 3;   /* a UTF-8 BOM left by a Windows editor */
		if (!split_line(l, &key, &value) ||
		    tz_tenant_parse_line(tp, lineno, key, value, problems))
			continue;   /* blank, comment, or a Tenant section's line */
		if (tz_config_set(cfg, key, value, why, sizeof(why)) < 0)
			g_ptr_array_add(problems, g_strdup_printf("%s:%u: %s", path, lineno, why));
		else if ((k = tz_config_key_find(key)) != NULL)
			g_hash_table_insert(cfg->key_lines, (gpointer)k->name, GUINT_TO_POINTER(lineno));
	}
	tz_tenant_parse_finish(tp, cfg, problems);
	if (ferror(f))
		g_ptr_array_add(problems, g_strdup_printf("%s: read error: %s", path, strerror(errno)));
	else if (config_validate(cfg, why, sizeof(why)) < 0)
		g_ptr_array_add(problems, g_strdup_printf("%s: %s", path, why));
	free(line);
	fclose(f);
	return cfg;
}

struct tz_config *tz_config_load(const char *path, char *err, size_t errlen)
{
	GPtrArray *problems = g_ptr_array_new_with_free_func(g_free);
	struct tz_config *cfg = tz_config_load_all(path, problems);

	if (problems->len > 0) {
		if (problems->len > 1)
			tz_err(err, errlen, "%s (and %u more problems: textize-milter -n lists them)",
			       (char *)problems->pdata[0], problems->len - 1);
		else
			tz_err(err, errlen, "%s", (char *)problems->pdata[0]);
		tz_config_unref(cfg);
		cfg = NULL;
	}
	g_ptr_array_unref(problems);
	return cfg;
}

unsigned tz_config_key_line(const struct tz_config *cfg, const char *key)
{
	return cfg->key_lines ? GPOINTER_TO_UINT(g_hash_table_lookup(cfg->key_lines, key)) : 0;
}

/* ------------------------------------------------------- queries */

void tz_config_engine_options(const struct tz_config *cfg, struct tz_engine_options *o)
{
	memset(o, 0, sizeof(*o));
	o->body_charset = cfg->body_charset;
	o->body_encoding = cfg->body_encoding;
	o->subject_prefix = cfg->subject_prefix;
	o->notice_template = cfg->notice_template;
	o->notice_lang = cfg->notice_language;
	o->notice_details = cfg->notice_details == TZ_DETAILS_FULL;
	o->notice_contact = cfg->notice_contact;
	o->limits = cfg->limits;
	o->sanitized_follow = cfg->sanitized_delivery == TZ_SANITIZED_AUTO;
}

void tz_config_queue(const struct tz_config *cfg, struct tz_queue *q)
{
	q->scanner_socket = cfg->scanner_socket;
	q->scanner_timeout = cfg->scanner_timeout;
	q->sanitizer_command = cfg->sanitizer_command;
	q->sanitizer_timeout = cfg->sanitizer_timeout;
	q->release_command = cfg->release_command;
	q->release_from = cfg->release_from;
	q->force_approvals = cfg->force_release_approvals;
	q->notice_contact = cfg->notice_contact;
	q->notice_details = cfg->notice_details == TZ_DETAILS_FULL;
	q->claims_url = tz_config_store_shared(cfg) ? cfg->database_url : NULL;
	q->tenant_contact = tz_tenant_contact;   /* an entry's tenant's contact line */
	q->tenant_ctx = cfg;
}

bool tz_config_store_shared(const struct tz_config *cfg)
{
	return cfg->store_backend == TZ_STORE_POSTGRESQL;
}

const char *tz_config_index_location(const struct tz_config *cfg)
{
	return tz_config_store_shared(cfg) ? cfg->database_url : cfg->report_database;
}

const char *tz_config_audit_location(const struct tz_config *cfg)
{
	return tz_config_store_shared(cfg) ? cfg->database_url : cfg->audit_log;
}

bool tz_config_is_internal(const struct tz_config *cfg, const char *addr)
{
	return tz_netlist_match(cfg->internal_nets, addr);
}

bool tz_config_is_local_domain(const struct tz_config *cfg, const char *addr_or_domain)
{
	const char *d;
	size_t dl;

	if (addr_or_domain == NULL || cfg->local_domains == NULL)
		return false;
	d = strrchr(addr_or_domain, '@');
	d = d ? d + 1 : addr_or_domain;
	dl = strlen(d);
	if (dl > 0 && d[dl - 1] == '>')
		dl--;
	for (guint i = 0; i < cfg->local_domains->len; i++) {
		const char *ld = cfg->local_domains->pdata[i];
		size_t ll = strlen(ld);

		if (ld[0] == '.') {
			/* ".example.jp": example.jp itself and any subdomain */
			if ((dl == ll - 1 && g_ascii_strncasecmp(d, ld + 1, dl) == 0) ||
			    (dl > ll && g_ascii_strncasecmp(d + dl - ll, ld, ll) == 0))
				return true;
		} else if (dl == ll && g_ascii_strncasecmp(d, ld, dl) == 0) {
			return true;
		}
	}
	return false;
}
