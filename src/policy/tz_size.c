/* tz_size.c — the message size rule. */
#include "tz_size.h"

#include <string.h>
#include <glib.h>

void tz_size_options_init(struct tz_size_options *o)
{
	memset(o, 0, sizeof(*o));
	o->act.action = TZ_ACTION_REJECT;
}

int64_t tz_size_param(char *const *esmtp_args)
{
	for (char *const *a = esmtp_args; a && *a; a++) {
		const char *s = *a;
		int64_t n = 0;

		if (g_ascii_strncasecmp(s, "SIZE=", 5) != 0)
			continue;
		s += 5;
		if (*s == '\0')
			return -1;
		for (; *s; s++) {
			if (*s < '0' || *s > '9' || n > (INT64_MAX - 9) / 10)
				return -1;
			n = n * 10 + (*s - '0');
		}
		return n;
	}
	return -1;
}

static uint64_t limit_for(const struct tz_size_options *o, enum tz_direction dir)
{
	return dir == TZ_DIR_OUTBOUND ? o->max_outbound : o->max_inbound;
}

void tz_size_check_declared(const struct tz_size_options *o, enum tz_direction dir,
			    int64_t declared, struct tz_verdict *v)
{
	uint64_t lim = limit_for(o, dir);

	if (lim == 0 || declared < 0 || (uint64_t)declared <= lim)
		return;
	tz_verdict_hit(v, TZ_RULE_SIZE, o->act.action, "552", "5.3.4",
		       o->act.text ? o->act.text : TZ_SIZE_TEXT,
		       "%s SIZE=%lld exceeds %llu", dir == TZ_DIR_OUTBOUND ? "outbound" : "inbound",
		       (long long)declared, (unsigned long long)lim);
}

bool tz_size_check_stream(const struct tz_size_options *o, enum tz_direction dir,
			  uint64_t bytes, struct tz_verdict *v)
{
	uint64_t lim = limit_for(o, dir);

	if (lim == 0 || bytes <= lim)
		return false;
	tz_verdict_hit(v, TZ_RULE_SIZE, o->act.action, "552", "5.3.4",
		       o->act.text ? o->act.text : TZ_SIZE_TEXT,
		       "%s message passed %llu bytes", dir == TZ_DIR_OUTBOUND ? "outbound" : "inbound",
		       (unsigned long long)lim);
	return true;
}
