/* tz_config.h — textize.conf: `Key Value` lines, one table defining every
 * key (type, default, documentation). A loaded config is an immutable,
 * reference-counted snapshot: the milter swaps it on SIGHUP while messages in
 * flight keep the one they started with.
 *
 * File syntax: one `Key Value` per line; the key is matched
 * case-insensitively; the value is the rest of the line with surrounding
 * blanks removed. A line whose first non-blank character is `#` is a
 * comment (a `#` later in a line is part of the value, so SubjectPrefix can
 * hold one). A key given twice: the last one wins. An unknown key or a bad
 * value is an error "file:line: reason".
 *
 * Adding a key: add the field to struct tz_config (in your area's block) and
 * one row to tz_config_keys[] in tz_config.c (in your area's block), with a
 * setter from the list below, the default as it would be written in the
 * file, and a one-line doc; then the same key, at its default, with a
 * comment, in conf/textize.conf (test_config checks both).
 *
 * Parsed once: a key with a closed set of values is a tz_config_set_enum
 * row naming a struct tz_name_code table, and its field holds the enum;
 * nothing reads a config value as a string again. An unknown value is an
 * error naming the valid ones, never a silent default. */
#ifndef TZ_CONFIG_H
#define TZ_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>
#include "tz_engine.h"
#include "tz_breaker.h"   /* struct tz_rate */
#include "tz_namecode.h"
#include "tz_netaddr.h"
#include "tz_verdict.h"   /* enum tz_action */

/* The config file textize-milter and textizectl read by default, so both
 * read the same file under any --prefix (TZ_SYSCONFDIR: configure's
 * sysconfdir, defined by the programs' Makefile.am). */
#define TZ_DEFAULT_CONF TZ_SYSCONFDIR "/textize.conf"

struct tz_config;

/* NoticeDetails: what a notice (and a release mail) shows of a part. */
enum tz_notice_details { TZ_DETAILS_STAFF = 0, TZ_DETAILS_FULL };
/* SanitizedDelivery: what becomes of a part's sanitized copy. */
enum tz_sanitized_delivery { TZ_SANITIZED_OFF = 0, TZ_SANITIZED_AUTO, TZ_SANITIZED_APPROVE };
/* StoreFormat: the quarantine's on-disk layout (docs/quarantine.md). */
enum tz_store_format { TZ_STORE_DIRECTORY = 0, TZ_STORE_SEGMENT };
/* StoreBackend: where the shared state lives (docs/cluster.md). */
enum tz_store_backend { TZ_STORE_LOCAL = 0, TZ_STORE_POSTGRESQL };
/* BlobStore: where originals and parts live (docs/cluster.md "Shared blobs"). */
enum tz_blob_store { TZ_BLOB_LOCAL = 0, TZ_BLOB_S3, TZ_BLOB_POSTGRESQL };

/* One row of the key table (tz_config_keys[]): the single definition of a
 * key, used by the parser, the sample config and the man-page test. */
struct tz_config_key {
	const char *name;        /* CamelCase, matched case-insensitively */
	const char *type;        /* "string", "path", "bool", "size", "integer", "list", "action", ... */
	const char *default_str; /* default as written in textize.conf, "" for none */
	const char *doc;         /* one-line meaning */
	/* parser: store value into cfg; return -1 with err on a bad value */
	int (*set)(struct tz_config *cfg, const struct tz_config_key *key,
		   const char *value, char *err, size_t errlen);
	size_t offset;           /* field offset in struct tz_config used by set() */
	const struct tz_name_code *names; /* tz_config_set_enum: the closed set of values */
	uint64_t max;            /* tz_config_set_uint/size/duration: upper bound, 0 = type's max;
				  * tz_config_set_enum: the codes allowed (bit 1u << code), 0 = all */
};

struct tz_config {
	int refs;                     /* atomic (g_atomic_int) */
	char *path;                   /* file it was loaded from, NULL for defaults */
	GHashTable *key_lines;        /* canonical key name -> line it was set on (GUINT_TO_POINTER) */
	/* daemon */
	char *socket;                 /* Socket: local:/path | inet:PORT@ADDR | inet6:PORT@ADDR */
	unsigned socket_mode;         /* SocketMode (octal) */
	char *user_id;                /* UserID user[:group], NULL = do not change */
	char *pid_file;               /* PidFile, NULL = none */
	bool background;              /* Background */
	char *spool_dir;              /* SpoolDir */
	size_t spool_memory_limit;    /* SpoolMemoryLimit */
	size_t spool_memory_total;    /* SpoolMemoryTotal: all messages' spools in memory together */
	size_t conversion_budget;     /* ConversionBudget: bytes of messages converted at once */
	unsigned conversion_wait;     /* ConversionWait, ms a message may wait for the budget */
	unsigned milter_timeout;      /* MilterTimeout, seconds */
	int log_level;                /* LogLevel (syslog priority, LOG_INFO default) */
	enum tz_action on_error;      /* OnError: TEMPFAIL | REJECT */
	size_t max_message_size;      /* MaxMessageSize, bytes of header+body the milter accepts */
	/* networks and domains */
	GPtrArray *internal_networks; /* InternalNetworks, char* CIDR strings as written */
	struct tz_netlist *internal_nets; /* the same, parsed */
	GPtrArray *local_domains;     /* LocalDomains, char* lower-case */
	/* engine */
	enum tz_body_charset body_charset;   /* BodyCharset */
	enum tz_body_encoding body_encoding; /* BodyEncoding */
	char *subject_prefix;         /* SubjectPrefix, NULL = none */
	char *notice_template;        /* NoticeTemplate path, NULL = built-in */
	enum tz_notice_lang notice_language;   /* NoticeLanguage */
	enum tz_notice_details notice_details; /* NoticeDetails */
	char *notice_contact;         /* NoticeContact, NULL = built-in wording */
	struct tz_limits limits;      /* MaxMimeDepth, MaxParts, ... */
	/* quarantine */
	char *quarantine_dir;         /* QuarantineDir */
	char *quarantine_key_file;    /* QuarantineKeyFile, NULL = no encryption */
	enum tz_store_format store_format;   /* StoreFormat */
	char *report_database;        /* ReportDatabase */
	/* Areas add their fields below this line. */
	/* quarantine (issue 9) */
	char *audit_log;              /* AuditLog */
	char *audit_key_file;         /* AuditKeyFile, NULL = plain SHA-256 chain */
	char *scanner_socket;         /* ScannerSocket: /path or host:port */
	unsigned scanner_timeout;     /* ScannerTimeout, seconds */
	char *sanitizer_command;      /* SanitizerCommand, NULL = none */
	unsigned sanitizer_timeout;   /* SanitizerTimeout, seconds */
	char *release_command;        /* ReleaseCommand */
	char *release_key_file;       /* ReleaseKeyFile */
	char *release_from;           /* ReleaseFrom, NULL = original envelope sender */
	unsigned force_release_approvals; /* ForceReleaseApprovals: operators per forced release */
	unsigned retention_days;      /* RetentionDays */
	/* the built-in sanitizer (issue 17) */
	unsigned sanitize_max_pages;  /* SanitizeMaxPages */
	unsigned sanitize_dpi;        /* SanitizeResolution */
	unsigned sanitize_max_pixels; /* SanitizeMaxPixels */
	bool sanitize_ocr;            /* SanitizeOCR */
	char *sanitize_ocr_languages; /* SanitizeOCRLanguages */
	unsigned sanitize_timeout;    /* SanitizeTimeout, seconds */
	size_t sanitize_memory;       /* SanitizeMemoryLimit */
	size_t sanitize_max_input;    /* SanitizeMaxInputSize */
	unsigned sanitize_zip_max_members; /* SanitizeZipMaxMembers */
	unsigned sanitize_zip_max_ratio;   /* SanitizeZipMaxRatio */
	size_t sanitize_zip_max_total;     /* SanitizeZipMaxTotal */
	unsigned sanitize_zip_max_depth;   /* SanitizeZipMaxDepth */
	unsigned sanitize_workers;         /* SanitizeWorkers */
	enum tz_sanitized_delivery sanitized_delivery; /* SanitizedDelivery */
	/* policy (issue 4): see tz_policy.h */
	GPtrArray *internal_domains;  /* InternalDomains, lower-case; empty = LocalDomains */
	enum tz_action relay_action;   /* RelayAction: REJECT | TEMPFAIL */
	char *sender_list_file;       /* SenderListFile, NULL = none */
	char *relay_text;             /* RelayRejectText */
	size_t max_size_inbound;      /* MaxMessageSizeInbound */
	size_t max_size_outbound;     /* MaxMessageSizeOutbound */
	enum tz_action size_action;    /* SizeAction */
	char *size_text;              /* SizeRejectText */
	enum tz_action autofwd_action; /* AutoForwardAction */
	GPtrArray *autofwd_allow;     /* AutoForwardAllow: "internal>external" */
	char *autofwd_text;           /* AutoForwardRejectText */
	unsigned max_visible_rcpts;   /* MaxVisibleRecipients, 0 = off */
	enum tz_action visibility_action; /* RecipientVisibilityAction */
	char *visibility_text;        /* RecipientVisibilityText */
	bool spf_check;               /* SPFCheck */
	enum tz_action spf_fail_action; /* SPFFailAction */
	enum tz_action spf_softfail_action; /* SPFSoftfailAction */
	enum tz_action spf_none_action; /* SPFNoneAction (none and neutral) */
	enum tz_action spf_temperror_action; /* SPFTempErrorAction */
	enum tz_action spf_permerror_action; /* SPFPermErrorAction */
	unsigned spf_timeout_ms;      /* SPFTimeout */
	char *spf_fail_text;          /* SPFFailText */
	char *spf_temperror_text;     /* SPFTempErrorText */
	char *authserv_id;            /* AuthservID, NULL = host name */
	enum tz_action spoof_action;   /* SpoofAction */
	char *spoof_text;             /* SpoofRejectText */
	struct tz_rate outbound_rate; /* OutboundRateLimit */
	struct tz_rate rcpt_rate;     /* RecipientRateLimit */
	struct tz_rate breaker_trip;  /* BreakerTrip */
	struct tz_rate global_rate;   /* OutboundGlobalLimit */
	char *breaker_text;           /* BreakerText */
	char *state_dir;              /* StateDir */
	/* shared state of a gateway cluster (issue 18) */
	enum tz_store_backend store_backend;   /* StoreBackend */
	char *database_url;           /* DatabaseURL (libpq URI), NULL = none */
	enum tz_blob_store blob_store;   /* BlobStore */
	char *s3_endpoint;            /* S3Endpoint */
	char *s3_bucket;              /* S3Bucket */
	char *s3_region;              /* S3Region */
	char *s3_access_key_file;     /* S3AccessKeyFile */
	unsigned blob_puts;           /* BlobPuts: puts one commit runs at once */
	/* monitoring */
	char *stats_socket;           /* StatsSocket, NULL = no stats server */
	/* the console (issue 19) */
	char *web_listen;             /* WebListen ADDR:PORT */
	char *web_base_url;           /* WebBaseURL, NULL = no staff links */
	char *web_key_file;           /* WebKeyFile, NULL = no staff links */
	unsigned web_link_lifetime;   /* WebLinkLifetime, seconds */
	char *digest_time;            /* DigestTime "HH:MM", NULL = no digest */
	char *web_database;           /* WebDatabase */
	char *web_pam_service;        /* WebPAMService */
	char *web_team_group;         /* WebTeamGroup */
	char *web_approver_group;     /* WebApproverGroup */
	char *web_auditor_group;      /* WebAuditorGroup */
	unsigned web_session_lifetime; /* WebSessionLifetime, seconds */
	char *web_tls_cert_file;      /* WebTLSCertFile, NULL = plain HTTP */
	char *web_tls_key_file;       /* WebTLSKeyFile */
	char *web_user;               /* WebUser, the HTTP front's user */
	/* per-municipality sections (issue 18, tz_tenant.h) */
	GPtrArray *tenants;           /* struct tz_tenant*, NULL = no Tenant section */
	char *tenant_name;            /* a tenant's own config: its name; NULL in the global one */
};

extern const struct tz_config_key tz_config_keys[];   /* terminated by {NULL} */

/* Setters for table rows. Each parses `value` and stores it at key->offset.
 * Empty value: strings/paths become NULL, lists become empty. */
int tz_config_set_string(struct tz_config *, const struct tz_config_key *, const char *, char *, size_t);
int tz_config_set_path(struct tz_config *, const struct tz_config_key *, const char *, char *, size_t);    /* absolute path or empty */
int tz_config_set_clock(struct tz_config *, const struct tz_config_key *, const char *, char *, size_t);   /* "HH:MM" or empty -> string */
int tz_config_set_bool(struct tz_config *, const struct tz_config_key *, const char *, char *, size_t);    /* yes/no true/false on/off 1/0 -> bool */
int tz_config_set_uint(struct tz_config *, const struct tz_config_key *, const char *, char *, size_t);    /* decimal -> unsigned */
int tz_config_set_octal(struct tz_config *, const struct tz_config_key *, const char *, char *, size_t);   /* octal -> unsigned */
int tz_config_set_size(struct tz_config *, const struct tz_config_key *, const char *, char *, size_t);    /* N[k|m|g] (1024-based) -> size_t */
int tz_config_set_seconds(struct tz_config *, const struct tz_config_key *, const char *, char *, size_t); /* N[ms|s|m|h] -> unsigned seconds */
int tz_config_set_millis(struct tz_config *, const struct tz_config_key *, const char *, char *, size_t);  /* N[ms|s|m|h] (plain N = s) -> unsigned ms */
int tz_config_set_list(struct tz_config *, const struct tz_config_key *, const char *, char *, size_t);    /* comma/blank separated -> GPtrArray of char* */
int tz_config_set_domains(struct tz_config *, const struct tz_config_key *, const char *, char *, size_t); /* list, lower-cased, checked */
int tz_config_set_enum(struct tz_config *, const struct tz_config_key *, const char *, char *, size_t);
/* Split on commas and blanks into a new array of non-empty items. */
GPtrArray *tz_config_split_list(const char *value);    /* a name of key->names (masked by key->max) -> its code, an int-sized enum */

/* Look a key up by name (case-insensitive); NULL when unknown. */
const struct tz_config_key *tz_config_key_find(const char *name);

struct tz_config *tz_config_new_defaults(void);         /* refs = 1 */
/* Load a file over the defaults; NULL with "file:line: reason" in err (the
 * first problem, and how many more there are). */
struct tz_config *tz_config_load(const char *path, char *err, size_t errlen);
/* The same, reporting every problem (g_strdup'd "file:line: reason", or
 * "file: reason" for what no single line causes) into problems and going
 * on after a bad line; NULL only when the file cannot be read. A config
 * returned with problems is not fit to run with. */
struct tz_config *tz_config_load_all(const char *path, GPtrArray *problems);
/* The line of the file that set key (canonical name), 0 when the default. */
unsigned tz_config_key_line(const struct tz_config *cfg, const char *key);
/* Apply one "Key Value" pair (used by the loader and by tests). */
int tz_config_set(struct tz_config *cfg, const char *key, const char *value,
		  char *err, size_t errlen);
struct tz_config *tz_config_ref(struct tz_config *cfg);
void tz_config_unref(struct tz_config *cfg);            /* NULL is a no-op */

/* Engine options taken from the config (pointers into cfg, valid while the
 * caller holds a reference). */
void tz_config_engine_options(const struct tz_config *cfg, struct tz_engine_options *o);

struct tz_queue;
/* The queue's settings from the config (scanner, sanitizer, release
 * command and sender, approvals, NoticeContact/NoticeDetails for the
 * release mail): every tool that works the queue sets it up the same way.
 * The caller sets the store, audit, index and release key. */
void tz_config_queue(const struct tz_config *cfg, struct tz_queue *q);

/* True when the client is internal: inside InternalNetworks. addr is a
 * textual IPv4/IPv6 address (NULL = false). */
/* Where the queue index and the audit chain live: DatabaseURL with
 * StoreBackend postgresql, else ReportDatabase / AuditLog (tz_index_open
 * and tz_audit_open take either). NULL when not set. */
const char *tz_config_index_location(const struct tz_config *cfg);
const char *tz_config_audit_location(const struct tz_config *cfg);
bool tz_config_store_shared(const struct tz_config *cfg);   /* StoreBackend postgresql */

bool tz_config_is_internal(const struct tz_config *cfg, const char *addr);
/* True when domain (or the domain part of an address) is in LocalDomains
 * (exact, case-insensitive; ".example.jp" in the list also matches
 * subdomains). */
bool tz_config_is_local_domain(const struct tz_config *cfg, const char *addr_or_domain);

#endif
