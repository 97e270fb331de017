/* tz_config.h — textize.conf: `Key Value` lines, one table defining every
 * key (type, default, documentation). A loaded config is an immutable,
 * reference-counted snapshot: the milter swaps it on SIGHUP while messages in
 * flight keep the one they started with. */
#ifndef TZ_CONFIG_H
#define TZ_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>
#include "tz_engine.h"

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
};

struct tz_config {
	int refs;
	char *path;                   /* file it was loaded from, NULL for defaults */
	/* daemon */
	char *socket;                 /* Socket: local:/path | inet:PORT@ADDR | inet6:PORT@ADDR */
	unsigned socket_mode;         /* SocketMode (octal) */
	char *user_id;                /* UserID user[:group], NULL = do not change */
	char *pid_file;               /* PidFile */
	bool background;              /* Background */
	char *spool_dir;              /* SpoolDir */
	size_t spool_memory_limit;    /* SpoolMemoryLimit */
	unsigned milter_timeout;      /* MilterTimeout, seconds */
	int log_level;                /* LogLevel (syslog priority, LOG_INFO default) */
	char *on_error;               /* OnError: "tempfail" | "reject" */
	/* networks and domains */
	GPtrArray *internal_networks; /* InternalNetworks, char* CIDR strings */
	GPtrArray *local_domains;     /* LocalDomains, char* lower-case */
	/* engine */
	char *body_charset;           /* BodyCharset: UTF-8 | ISO-2022-JP */
	char *body_encoding;          /* BodyEncoding: base64 | quoted-printable */
	char *subject_prefix;         /* SubjectPrefix */
	char *notice_template;        /* NoticeTemplate path */
	char *notice_language;        /* NoticeLanguage: ja | en */
	struct tz_limits limits;      /* MaxMimeDepth, MaxParts, ... */
	/* quarantine */
	char *quarantine_dir;         /* QuarantineDir */
	char *quarantine_key_file;    /* QuarantineKeyFile, NULL = no encryption */
	char *report_database;        /* ReportDatabase */
	/* Areas add their fields below this line. */
};

extern const struct tz_config_key tz_config_keys[];   /* terminated by {NULL} */

struct tz_config *tz_config_new_defaults(void);         /* refs = 1 */
/* Load a file over the defaults; NULL with "file:line: reason" in err. */
struct tz_config *tz_config_load(const char *path, char *err, size_t errlen);
struct tz_config *tz_config_ref(struct tz_config *cfg);
void tz_config_unref(struct tz_config *cfg);            /* NULL is a no-op */

/* Engine options taken from the config (pointers into cfg, valid while the
 * caller holds a reference). */
void tz_config_engine_options(const struct tz_config *cfg, struct tz_engine_options *o);

#endif
