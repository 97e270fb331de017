/* tz_localtime.c — local times shown and typed (see tz_localtime.h). */
#include "tz_localtime.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <glib.h>

void tz_local_time(int64_t t, char out[40])
{
	time_t tt = (time_t)t;
	struct tm tm;
	char z[8];

	localtime_r(&tt, &tm);
	strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(z, sizeof(z), "%z", &tm);           /* +0900 -> +09:00 */
	if (strlen(z) == 5)
		g_strlcat(out, (char[]){ z[0], z[1], z[2], ':', z[3], z[4], '\0' }, 40);
}

int tz_local_date_parse(const char *s, int end_of_day, int64_t *out)
{
	struct tm tm = { 0 };
	int n = 0;

	*out = 0;
	if (s == NULL || *s == '\0')
		return 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) == 6 && s[n] == '\0') {
		end_of_day = 0;
	} else if (!(sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) == 3 &&
		     s[n] == '\0')) {
		return -1;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60)
		return -1;
	{
		/* mktime moves 2026-02-31 to March 3: a day the month lacks is
		 * refused, not read as another day */
		struct tm check = tm;
		check.tm_isdst = -1;
		if (mktime(&check) == (time_t)-1 || check.tm_mday != tm.tm_mday || check.tm_mon != tm.tm_mon)
			return -1;
	}
	tm.tm_mday += end_of_day;
	tm.tm_isdst = -1;
	*out = (int64_t)mktime(&tm);
	return 0;
}

int tz_local_hhmm(const char *s)
{
	unsigned h, m;
	int n = 0;

	if (s == NULL || sscanf(s, "%2u:%2u%n", &h, &m, &n) != 2 || s[n] != '\0' || h > 23 || m > 59)
		return -1;
	return (int)(h * 60 + m);
}
