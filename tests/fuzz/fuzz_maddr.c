/* fuzz_maddr.c — libFuzzer harness for the policy's address parsing
 * (tz_maddr): a raw header value parsed into mailboxes, then every address
 * helper on what came out. fuzz_policy drives the rules above it; this one
 * checks the parser's own contract:
 *   - the list is never NULL and every mailbox has an address string;
 *   - a domain is lower case, has no '@' and no trailing dot;
 *   - a normalised address is lower case and matches the address it came
 *     from (tz_maddr_matches), and so does "@domain";
 *   - the domain is listed under ".domain" (the LocalDomains convention);
 *   - an input with an '@' outside quotes and comments never parses to a
 *     list without any address (the policy must not be bypassed by
 *     unparsable syntax: unparsed is set instead). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <gmime/gmime.h>

#include "tz_maddr.h"

static void check_domain(const char *addr)
{
	char *d = tz_maddr_domain(addr);
	char *n = tz_maddr_norm(addr);
	GPtrArray *list = g_ptr_array_new_with_free_func(g_free);

	for (const char *p = n; *p; p++)
		if (g_ascii_isupper(*p))
			abort();
	if (*n && *n != '@' && !tz_maddr_matches(n, addr))
		abort();
	if (d != NULL) {
		size_t len = strlen(d);
		if (len == 0 || strchr(d, '@') || d[len - 1] == '.')
			abort();
		for (const char *p = d; *p; p++)
			if (g_ascii_isupper(*p))
				abort();
		char *at = g_strconcat("@", d, NULL);
		if (!tz_maddr_matches(at, addr))
			abort();
		g_free(at);
		g_ptr_array_add(list, g_strconcat(".", d, NULL));
		if (!tz_maddr_listed(addr, list))
			abort();
	}
	g_ptr_array_free(list, TRUE);
	g_free(n);
	g_free(d);
}

/* An '@' outside quoted strings and comments, scanned the simple way. */
static bool bare_at(const char *s)
{
	int comment = 0;
	bool quoted = false;

	for (const char *p = s; *p; p++) {
		if (*p == '\\' && (quoted || comment) && p[1])
			p++;
		else if (quoted)
			quoted = *p != '"';
		else if (*p == '"' && !comment)
			quoted = true;
		else if (*p == '(')
			comment++;
		else if (*p == ')' && comment)
			comment--;
		else if (*p == '@' && !comment)
			return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *raw = g_strndup((const char *)data, size);
	bool unparsed = false;
	GPtrArray *boxes = tz_maddr_parse(raw, &unparsed);
	bool any_at = false;

	if (boxes == NULL)
		abort();
	for (guint i = 0; i < boxes->len; i++) {
		const struct tz_mailbox *m = g_ptr_array_index(boxes, i);
		if (m == NULL || m->addr == NULL)
			abort();
		any_at |= strchr(m->addr, '@') != NULL;
		check_domain(m->addr);
	}
	if (bare_at(raw) && !any_at && !unparsed)
		abort();
	check_domain(raw);
	g_ptr_array_free(boxes, TRUE);
	g_free(raw);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	g_mime_init();
	return 0;
}
