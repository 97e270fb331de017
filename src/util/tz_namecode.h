/* tz_namecode.h — name<->code tables for closed sets of words (Postfix's
 * NAME_CODE): a config value, an action name. A table is parsed once into
 * its code; an unknown name is an error the caller reports with the list
 * of valid names, never a silent default. */
#ifndef TZ_NAMECODE_H
#define TZ_NAMECODE_H

#include <stdbool.h>

/* One name and the code it stands for. A table ends with { NULL, 0 }.
 * Several names may share a code (aliases: "err" and "error"); the first
 * one is the code's canonical name. */
struct tz_name_code {
	const char *name;
	int code;
};

/* The code of name (matched case-insensitively) in t, limited to codes
 * whose bit (1u << code) is set in allowed, 0 = every code. True and *code
 * set when found; false (and *code untouched) otherwise. */
bool tz_name_code_find(const struct tz_name_code *t, unsigned allowed,
		       const char *name, int *code);

/* The canonical name of code in t; NULL when t has none. */
const char *tz_name_code_name(const struct tz_name_code *t, int code);

/* The canonical names allowed (as above), joined with '|': "a|b|c", for
 * an error naming the valid values. g_free(). */
char *tz_name_code_list(const struct tz_name_code *t, unsigned allowed);

#endif
