/* tz_maddr.h — mail address helpers for the policy rules: the domain of an
 * address, domain-list membership, and header address lists parsed with
 * GMime (group syntax, RFC 2047 display names, quoted local parts) into a
 * flat list of mailboxes. Inputs are attacker-controlled; nothing here
 * trusts them to be well-formed. */
#ifndef TZ_MADDR_H
#define TZ_MADDR_H

#include <stdbool.h>
#include <glib.h>

/* Lower-case domain of an address (after the last '@', trailing dot and
 * surrounding <>/space removed), or NULL when there is none. g_free(). */
char *tz_maddr_domain(const char *addr);

/* Normalised address for comparisons: <> and space trimmed, lower-case.
 * g_free(). */
char *tz_maddr_norm(const char *addr);

/* True when domain equals an entry of `domains` (char*, case-insensitive),
 * or the entry is ".example.jp" and domain is example.jp or any subdomain
 * of it — the same convention as LocalDomains in textize.conf. NULL
 * domain or list: false. */
bool tz_domain_listed(const char *domain, const GPtrArray *domains);

/* tz_domain_listed on the address's domain. */
bool tz_maddr_listed(const char *addr, const GPtrArray *domains);

/* True when pattern ("user@domain", compared after normalisation, or
 * "@domain") matches addr. */
bool tz_maddr_matches(const char *pattern, const char *addr);

/* True when addr (normalised) appears in list (char*, compared after
 * normalisation), or list has "@domain" matching addr's domain. */
bool tz_maddr_in_list(const char *addr, const GPtrArray *list);

struct tz_mailbox {
	char *name;   /* decoded display name (UTF-8), NULL when none */
	char *addr;   /* addr-spec as parsed; may lack '@' when malformed */
};

/* Parse a raw header value (To, Cc, From...) into mailboxes, groups
 * flattened (an empty group such as "undisclosed-recipients:;" yields
 * nothing). Returns a GPtrArray of struct tz_mailbox* that frees its
 * elements; never NULL. *unparsed is set when the value has '@' characters
 * GMime could not account for, so callers can fail safe. Needs g_mime_init. */
GPtrArray *tz_maddr_parse(const char *raw, bool *unparsed);

/* tz_maddr_parse, plus the mailboxes of the value read by a parser that
 * knows no charset (ISO-2022-JP's two-byte text as ASCII, controls as
 * blanks) when that reading differs: for checks that must see every
 * address somebody could be shown (header hygiene shows both readings'
 * addresses when they disagree), not for counting. *readers (may be NULL)
 * receives how many of the mailboxes, those first, are tz_maddr_parse's. */
GPtrArray *tz_maddr_parse_any(const char *raw, guint *readers);

#endif
