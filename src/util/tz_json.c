/* tz_json.c — a small streaming JSON writer; see tz_json.h. */
#include "tz_json.h"

#include <inttypes.h>
#include <string.h>

void tz_json_escape(GString *out, const char *s, size_t len)
{
	const char *p, *end;

	if (s == NULL) {
		g_string_append(out, "null");
		return;
	}
	if (len == (size_t)-1)
		len = strlen(s);
	p = s;
	end = s + len;
	g_string_append_c(out, '"');
	while (p < end) {
		unsigned char c = (unsigned char)*p;
		const gchar *next;

		if (c >= 0x80) {
			/* Copy one valid UTF-8 sequence, or replace one bad byte. */
			gunichar u = g_utf8_get_char_validated(p, end - p);
			if (u == (gunichar)-1 || u == (gunichar)-2) {
				g_string_append(out, "\\ufffd");
				p++;
				continue;
			}
			next = g_utf8_next_char(p);
			g_string_append_len(out, p, next - p);
			p = next;
			continue;
		}
		switch (c) {
		case '"': g_string_append(out, "\\\""); break;
		case '\\': g_string_append(out, "\\\\"); break;
		case '\n': g_string_append(out, "\\n"); break;
		case '\r': g_string_append(out, "\\r"); break;
		case '\t': g_string_append(out, "\\t"); break;
		default:
			if (c < 0x20 || c == 0x7f)
				g_string_append_printf(out, "\\u%04x", c);
			else
				g_string_append_c(out, (char)c);
		}
		p++;
	}
	g_string_append_c(out, '"');
}

struct tz_json *tz_json_new(void)
{
	struct tz_json *j = g_new0(struct tz_json, 1);

	j->out = g_string_new(NULL);
	j->first[0] = true;
	return j;
}

void tz_json_free(struct tz_json *j)
{
	if (j == NULL)
		return;
	g_string_free(j->out, TRUE);
	g_free(j);
}

char *tz_json_finish(struct tz_json *j)
{
	char *s = g_string_free(j->out, FALSE);

	g_free(j);
	return s;
}

/* Comma and "key": before a value at the current level. */
static void member(struct tz_json *j, const char *key)
{
	if (!j->first[j->depth])
		g_string_append_c(j->out, ',');
	j->first[j->depth] = false;
	if (key != NULL) {
		tz_json_escape(j->out, key, (size_t)-1);
		g_string_append_c(j->out, ':');
	}
}

static void json_open(struct tz_json *j, const char *key, char c)
{
	member(j, key);
	g_string_append_c(j->out, c);
	if (j->depth < TZ_JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

static void json_close(struct tz_json *j, char c)
{
	g_string_append_c(j->out, c);
	if (j->depth > 0)
		j->depth--;
}

void tz_json_begin_object(struct tz_json *j, const char *key) { json_open(j, key, '{'); }
void tz_json_end_object(struct tz_json *j) { json_close(j, '}'); }
void tz_json_begin_array(struct tz_json *j, const char *key) { json_open(j, key, '['); }
void tz_json_end_array(struct tz_json *j) { json_close(j, ']'); }

void tz_json_string(struct tz_json *j, const char *key, const char *value)
{
	member(j, key);
	tz_json_escape(j->out, value, (size_t)-1);
}

void tz_json_string_len(struct tz_json *j, const char *key, const char *value, size_t len)
{
	member(j, key);
	tz_json_escape(j->out, value, len);
}

void tz_json_int(struct tz_json *j, const char *key, int64_t v)
{
	member(j, key);
	g_string_append_printf(j->out, "%" PRId64, v);
}

void tz_json_uint(struct tz_json *j, const char *key, uint64_t v)
{
	member(j, key);
	g_string_append_printf(j->out, "%" PRIu64, v);
}

void tz_json_bool(struct tz_json *j, const char *key, bool v)
{
	member(j, key);
	g_string_append(j->out, v ? "true" : "false");
}

void tz_json_null(struct tz_json *j, const char *key)
{
	member(j, key);
	g_string_append(j->out, "null");
}
