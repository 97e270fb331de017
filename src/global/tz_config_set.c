/* tz_config_set.c — the generic setters of the textize.conf key table:
 * how one value string becomes a typed field (string, path, HH:MM, bool,
 * numbers with units, durations, lists, domains, enums), with the error an
 * admin reads when it cannot. The table and the loader are in tz_config.c. */
#include "tz_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tz_localtime.h"
#include "tz_util.h"

#define FIELD(cfg, key, type) ((type *)(void *)((char *)(cfg) + (key)->offset))

static char *trimmed_dup(const char *v)
{
	return *v ? g_strdup(v) : NULL;
}

int tz_config_set_string(struct tz_config *cfg, const struct tz_config_key *key,
			 const char *value, char *err, size_t errlen)
{
	char **f = FIELD(cfg, key, char *);

	g_free(*f);
	*f = trimmed_dup(value);
	return 0;
}

int tz_config_set_path(struct tz_config *cfg, const struct tz_config_key *key,
		       const char *value, char *err, size_t errlen)
{
	if (*value && *value != '/')
		return tz_err(err, errlen, "%s must be an absolute path: %s", key->name, value);
	return tz_config_set_string(cfg, key, value, err, errlen);
}

int tz_config_set_clock(struct tz_config *cfg, const struct tz_config_key *key,
			const char *value, char *err, size_t errlen)
{
	if (*value && tz_local_hhmm(value) < 0)
		return tz_err(err, errlen, "%s must be a local time HH:MM (00:00-23:59): %s", key->name, value);
	return tz_config_set_string(cfg, key, value, err, errlen);
}

int tz_config_set_bool(struct tz_config *cfg, const struct tz_config_key *key,
		       const char *value, char *err, size_t errlen)
{
	static const char *const yes[] = { "yes", "true", "on", "1", NULL };
	static const char *const no[] = { "no", "false", "off", "0", NULL };
	bool *f = FIELD(cfg, key, bool);

	for (int i = 0; yes[i]; i++) {
		if (g_ascii_strcasecmp(value, yes[i]) == 0) {
			*f = true;
			return 0;
		}
		if (g_ascii_strcasecmp(value, no[i]) == 0) {
			*f = false;
			return 0;
		}
	}
	return tz_err(err, errlen, "%s must be yes or no: %s", key->name, value);
}

/* Parse a decimal number with an optional suffix from `units` (each with
 * its multiplier); base 8 for octal. Refuses signs, blanks, overflow. */
struct unit { const char *suffix; uint64_t mult; };

static int parse_number(const struct tz_config_key *key, const char *value, int base,
			const struct unit *units, uint64_t *out, char *err, size_t errlen)
{
	uint64_t max = key->max ? key->max : UINT32_MAX;
	unsigned long long n;
	uint64_t mult = 1;
	char *end;

	if (!isdigit((unsigned char)*value))
		return tz_err(err, errlen, "%s needs a number: \"%s\"", key->name, value);
	errno = 0;
	n = strtoull(value, &end, base);
	if (errno != 0)
		return tz_err(err, errlen, "%s: number out of range: %s", key->name, value);
	if (*end != '\0') {
		const struct unit *u = units;

		while (u && u->suffix && g_ascii_strcasecmp(end, u->suffix) != 0)
			u++;
		if (u == NULL || u->suffix == NULL)
			return tz_err(err, errlen, "%s: bad number or unit: \"%s\"", key->name, value);
		mult = u->mult;
	}
	if (n > max / mult || n * mult > max)
		return tz_err(err, errlen, "%s: %s is larger than %llu", key->name, value,
			      (unsigned long long)max);
	*out = (uint64_t)n * mult;
	return 0;
}

int tz_config_set_uint(struct tz_config *cfg, const struct tz_config_key *key,
		       const char *value, char *err, size_t errlen)
{
	uint64_t n;

	if (parse_number(key, value, 10, NULL, &n, err, errlen) < 0)
		return -1;
	*FIELD(cfg, key, unsigned) = (unsigned)n;
	return 0;
}

int tz_config_set_octal(struct tz_config *cfg, const struct tz_config_key *key,
			const char *value, char *err, size_t errlen)
{
	uint64_t n;

	if (strspn(value, "01234567") != strlen(value))
		return tz_err(err, errlen, "%s needs an octal number: \"%s\"", key->name, value);
	if (parse_number(key, value, 8, NULL, &n, err, errlen) < 0)
		return -1;
	*FIELD(cfg, key, unsigned) = (unsigned)n;
	return 0;
}

int tz_config_set_size(struct tz_config *cfg, const struct tz_config_key *key,
		       const char *value, char *err, size_t errlen)
{
	static const struct unit units[] = {
		{ "k", 1024 }, { "m", 1024 * 1024 }, { "g", 1024ull * 1024 * 1024 },
		{ "kb", 1024 }, { "mb", 1024 * 1024 }, { "gb", 1024ull * 1024 * 1024 },
		{ NULL, 0 }
	};
	struct tz_config_key k = *key;
	uint64_t n;

	if (k.max == 0)
		k.max = SIZE_MAX < UINT64_MAX ? SIZE_MAX : UINT64_MAX / 2;
	if (parse_number(&k, value, 10, units, &n, err, errlen) < 0)
		return -1;
	if (n == 0)
		return tz_err(err, errlen, "%s must not be 0", key->name);
	*FIELD(cfg, key, size_t) = (size_t)n;
	return 0;
}

static const struct unit duration_units_ms[] = {
	{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { NULL, 0 }
};

/* A duration in milliseconds: N with ms|s|m|h, a plain N meaning seconds. */
static int parse_duration_ms(const struct tz_config_key *key, const char *value,
			     uint64_t *out, char *err, size_t errlen)
{
	struct tz_config_key k = *key;
	size_t len = strlen(value);

	k.max = UINT32_MAX;
	if (parse_number(&k, value, 10, duration_units_ms, out, err, errlen) < 0)
		return -1;
	if (len > 0 && isdigit((unsigned char)value[len - 1])) {
		if (*out > UINT32_MAX / 1000)
			return tz_err(err, errlen, "%s out of range: %s", key->name, value);
		*out *= 1000;
	}
	if (*out == 0)
		return tz_err(err, errlen, "%s must not be 0", key->name);
	return 0;
}

int tz_config_set_millis(struct tz_config *cfg, const struct tz_config_key *key,
			 const char *value, char *err, size_t errlen)
{
	uint64_t ms;

	if (parse_duration_ms(key, value, &ms, err, errlen) < 0)
		return -1;
	if (key->max && ms > key->max)
		return tz_err(err, errlen, "%s out of range: %s", key->name, value);
	*FIELD(cfg, key, unsigned) = (unsigned)ms;
	return 0;
}

int tz_config_set_seconds(struct tz_config *cfg, const struct tz_config_key *key,
			  const char *value, char *err, size_t errlen)
{
	uint64_t ms;

	if (parse_duration_ms(key, value, &ms, err, errlen) < 0)
		return -1;
	if (ms % 1000 != 0)
		return tz_err(err, errlen, "%s is in whole seconds: %s", key->name, value);
	if (key->max && ms / 1000 > key->max)
		return tz_err(err, errlen, "%s out of range: %s", key->name, value);
	*FIELD(cfg, key, unsigned) = (unsigned)(ms / 1000);
	return 0;
}

GPtrArray *tz_config_split_list(const char *value)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
	char **items = g_strsplit_set(value, ", \t", -1);

	for (char **p = items; *p; p++)
		if (**p)
			g_ptr_array_add(a, g_strdup(*p));
	g_strfreev(items);
	return a;
}

int tz_config_set_list(struct tz_config *cfg, const struct tz_config_key *key,
		       const char *value, char *err, size_t errlen)
{
	GPtrArray **f = FIELD(cfg, key, GPtrArray *);

	if (*f)
		g_ptr_array_unref(*f);
	*f = tz_config_split_list(value);
	return 0;
}

int tz_config_set_domains(struct tz_config *cfg, const struct tz_config_key *key,
			  const char *value, char *err, size_t errlen)
{
	GPtrArray **f = FIELD(cfg, key, GPtrArray *);
	GPtrArray *a = tz_config_split_list(value);

	for (guint i = 0; i < a->len; i++) {
		char *d = a->pdata[i];

		for (char *c = d; *c; c++) {
			*c = g_ascii_tolower(*c);
			if (!(g_ascii_isalnum(*c) || *c == '-' || *c == '.' || *c == '_')) {
				tz_err(err, errlen, "%s: bad domain name: %s", key->name, d);
				g_ptr_array_unref(a);
				return -1;
			}
		}
	}
	if (*f)
		g_ptr_array_unref(*f);
	*f = a;
	return 0;
}

int tz_config_set_enum(struct tz_config *cfg, const struct tz_config_key *key,
		       const char *value, char *err, size_t errlen)
{
	int code;
	char *valid;

	if (tz_name_code_find(key->names, (unsigned)key->max, value, &code)) {
		*FIELD(cfg, key, int) = code;
		return 0;
	}
	valid = tz_name_code_list(key->names, (unsigned)key->max);
	tz_err(err, errlen, "%s must be one of %s: \"%s\"", key->name, valid, value);
	g_free(valid);
	return -1;
}
