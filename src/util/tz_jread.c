/* tz_jread.c — strict recursive-descent JSON reader (see tz_jread.h). */
#include "tz_jread.h"

#include <string.h>

#include "tz_util.h"

#define MAX_DEPTH 32

struct jp {
	const char *p, *end;
	char *err;
	size_t errlen;
	int failed;
};

static struct tz_jv *parse_value(struct jp *j, int depth);

static void fail(struct jp *j, const char *what)
{
	if (!j->failed)
		tz_err(j->err, j->errlen, "JSON: %s at offset %ld", what, (long)(j->end - j->p));
	j->failed = 1;
}

static void skip_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

void tz_jv_free(struct tz_jv *v)
{
	if (v == NULL)
		return;
	g_free(v->s);
	if (v->items)
		g_ptr_array_unref(v->items);
	g_free(v);
}

static void jv_free_cb(gpointer p)
{
	tz_jv_free(p);
}

static struct tz_jv *jv_new(enum tz_jtype t)
{
	struct tz_jv *v = g_new0(struct tz_jv, 1);

	v->type = t;
	if (t == TZ_J_ARR || t == TZ_J_OBJ)
		v->items = g_ptr_array_new_with_free_func(jv_free_cb);
	return v;
}

static int hex4(struct jp *j, unsigned *out)
{
	unsigned v = 0;

	if (j->end - j->p < 4)
		return -1;
	for (int k = 0; k < 4; k++) {
		char c = *j->p++;
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* \uXXXX, with surrogate pairs; lone surrogates become U+FFFD. */
static int parse_uescape(struct jp *j, GString *s)
{
	unsigned u, lo;

	if (hex4(j, &u) < 0)
		return -1;
	if (u >= 0xd800 && u < 0xdc00 && j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u') {
		j->p += 2;
		if (hex4(j, &lo) < 0)
			return -1;
		if (lo >= 0xdc00 && lo < 0xe000)
			u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
		else
			u = 0xfffd;
	} else if (u >= 0xd800 && u < 0xe000) {
		u = 0xfffd;
	}
	g_string_append_unichar(s, u);
	return 0;
}

static char *parse_string(struct jp *j)
{
	GString *s = g_string_new(NULL);

	j->p++;   /* opening quote */
	while (j->p < j->end && *j->p != '"') {
		unsigned char c = (unsigned char)*j->p;
		if (c < 0x20)
			goto bad;
		if (c != '\\') {
			g_string_append_c(s, (char)c);
			j->p++;
			continue;
		}
		if (++j->p >= j->end)
			goto bad;
		c = (unsigned char)*j->p++;
		switch (c) {
		case '"': case '\\': case '/': g_string_append_c(s, (char)c); break;
		case 'b': g_string_append_c(s, '\b'); break;
		case 'f': g_string_append_c(s, '\f'); break;
		case 'n': g_string_append_c(s, '\n'); break;
		case 'r': g_string_append_c(s, '\r'); break;
		case 't': g_string_append_c(s, '\t'); break;
		case 'u':
			if (parse_uescape(j, s) < 0)
				goto bad;
			break;
		default:
			goto bad;
		}
	}
	if (j->p >= j->end || !g_utf8_validate(s->str, (gssize)s->len, NULL))
		goto bad;
	j->p++;
	return g_string_free(s, FALSE);
bad:
	fail(j, "bad string");
	g_string_free(s, TRUE);
	return NULL;
}

static struct tz_jv *parse_number(struct jp *j)
{
	int neg = 0;
	uint64_t v = 0;
	struct tz_jv *r;

	if (*j->p == '-') {
		neg = 1;
		j->p++;
	}
	if (j->p >= j->end || *j->p < '0' || *j->p > '9') {
		fail(j, "bad number");
		return NULL;
	}
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
		if (v > (UINT64_C(1) << 62)) {
			fail(j, "number out of range");
			return NULL;
		}
		v = v * 10 + (uint64_t)(*j->p++ - '0');
	}
	if (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E')) {
		fail(j, "fractions are not used here");
		return NULL;
	}
	r = jv_new(TZ_J_INT);
	r->i = neg ? -(int64_t)v : (int64_t)v;
	return r;
}

static struct tz_jv *parse_container(struct jp *j, int depth, int obj)
{
	struct tz_jv *v = jv_new(obj ? TZ_J_OBJ : TZ_J_ARR), *item;
	char close = obj ? '}' : ']';

	j->p++;
	skip_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return v;
	}
	for (;;) {
		skip_ws(j);
		if (obj) {
			if (j->p >= j->end || *j->p != '"')
				goto bad;
			item = jv_new(TZ_J_STR);
			item->s = parse_string(j);
			g_ptr_array_add(v->items, item);
			if (item->s == NULL)
				goto bad;
			skip_ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				goto bad;
		}
		item = parse_value(j, depth + 1);
		if (item == NULL)
			goto bad;
		g_ptr_array_add(v->items, item);
		skip_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == close) {
			j->p++;
			return v;
		}
		goto bad;
	}
bad:
	fail(j, obj ? "bad object" : "bad array");
	tz_jv_free(v);
	return NULL;
}

static struct tz_jv *parse_literal(struct jp *j, const char *word, enum tz_jtype t, int64_t i)
{
	size_t n = strlen(word);
	struct tz_jv *v;

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0) {
		fail(j, "unexpected character");
		return NULL;
	}
	j->p += n;
	v = jv_new(t);
	v->i = i;
	return v;
}

static struct tz_jv *parse_value(struct jp *j, int depth)
{
	struct tz_jv *v;

	if (depth > MAX_DEPTH) {
		fail(j, "nesting too deep");
		return NULL;
	}
	skip_ws(j);
	if (j->p >= j->end) {
		fail(j, "unexpected end");
		return NULL;
	}
	switch (*j->p) {
	case '{': return parse_container(j, depth, 1);
	case '[': return parse_container(j, depth, 0);
	case '"':
		v = jv_new(TZ_J_STR);
		v->s = parse_string(j);
		if (v->s == NULL) {
			tz_jv_free(v);
			return NULL;
		}
		return v;
	case 't': return parse_literal(j, "true", TZ_J_BOOL, 1);
	case 'f': return parse_literal(j, "false", TZ_J_BOOL, 0);
	case 'n': return parse_literal(j, "null", TZ_J_NULL, 0);
	default: return parse_number(j);
	}
}

struct tz_jv *tz_jv_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct jp j = { text, text + len, err, errlen, 0 };
	struct tz_jv *v = parse_value(&j, 0);

	if (v == NULL)
		return NULL;
	skip_ws(&j);
	if (j.p != j.end) {
		fail(&j, "trailing data");
		tz_jv_free(v);
		return NULL;
	}
	return v;
}

const struct tz_jv *tz_jv_get(const struct tz_jv *v, const char *key)
{
	if (v == NULL || v->type != TZ_J_OBJ)
		return NULL;
	for (guint i = 0; i + 1 < v->items->len; i += 2) {
		const struct tz_jv *k = g_ptr_array_index(v->items, i);
		if (strcmp(k->s, key) == 0)
			return g_ptr_array_index(v->items, i + 1);
	}
	return NULL;
}

const char *tz_jv_str(const struct tz_jv *obj, const char *key)
{
	const struct tz_jv *v = tz_jv_get(obj, key);

	return v && v->type == TZ_J_STR ? v->s : NULL;
}

int64_t tz_jv_int(const struct tz_jv *obj, const char *key, int64_t def)
{
	const struct tz_jv *v = tz_jv_get(obj, key);

	return v && (v->type == TZ_J_INT || v->type == TZ_J_BOOL) ? v->i : def;
}
