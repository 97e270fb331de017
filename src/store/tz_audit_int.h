/* tz_audit_int.h — the audit record format shared by the file log
 * (tz_audit.c) and the chain in the shared database (tz_pgaudit.c): both
 * hold the very same record text, so one verifier checks either. */
#ifndef TZ_AUDIT_INT_H
#define TZ_AUDIT_INT_H

#include <glib.h>
#include <libpq-fe.h>
#include "tz_audit.h"
#include "tz_crypt.h"

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define MAC_SEP ",\"mac\":\""

/* One record (ending in "\n") with its mac; key NULL = plain SHA-256. */
GString *tz_audit_format(const struct tz_audit_event *ev, unsigned long seq,
			 const char *prev, const unsigned char *key);

/* Check one record (len bytes, no "\n") against the expected seq and
 * prev; advances both. 0, or 1 with err naming lineno. */
int tz_audit_verify_line(const char *line, size_t len, unsigned long lineno, unsigned long *seq,
			 char prev[65], const unsigned char *key, char *err, size_t errlen);

/* Append n records to the database's chain in one transaction that holds
 * the chain head's row lock (SELECT ... FOR UPDATE), so writers on every
 * host serialise and the chain never forks. *conn is (re)connected to url
 * as needed and dropped after a failure. 0 or -1 with err (nothing added). */
int tz_pgaudit_append(PGconn **conn, const char *url, const struct tz_audit_event *ev, size_t n,
		      const unsigned char *key, char *err, size_t errlen);

/* tz_audit_verify() for the database's chain, in seq order; the head row
 * must name the last record (so cutting off the newest records shows). */
/* The newest n records of the database's chain, oldest first, a line
 * each; NULL with err. */
char *tz_pgaudit_newest(const char *url, unsigned n, char *err, size_t errlen);
int tz_pgaudit_verify(const char *url, const unsigned char *key, unsigned long *records,
		      unsigned long *bad_line, char *err, size_t errlen);

#endif
