/* tz_meta.c — meta.json of a quarantine entry: build from the session and
 * engine result, serialise, parse back. The parser is a small strict JSON
 * reader (objects, arrays, strings, integers, literals) sufficient for the
 * documents this module writes; anything else is refused. */
#include "tz_meta.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tz_jread.h"
#include "tz_part.h"
#include "tz_util.h"

struct tz_meta_part *tz_meta_part_new(void)
{
	struct tz_meta_part *p = g_new0(struct tz_meta_part, 1);

	p->state = g_strdup(TZ_STATE_PENDING);
	p->file = g_strdup("");
	return p;
}

void tz_meta_part_free(struct tz_meta_part *p)
{
	if (p == NULL)
		return;
	g_free(p->file);
	g_free(p->mime_path);
	g_free(p->reason);
	g_free(p->filename);
	g_free(p->declared_type);
	g_free(p->detected_type);
	g_free(p->state);
	g_free(p->verdict);
	g_free(p->scanned_at);
	g_free(p->note);
	g_free(p->sanitized_file);
	g_free(p->released_at);
	g_free(p->released_by);
	g_free(p->force_requested_by);
	g_free(p->force_reason);
	g_free(p->force_approvers);
	g_free(p);
}

static void part_free_cb(gpointer p)
{
	tz_meta_part_free(p);
}

struct tz_meta *tz_meta_new(void)
{
	struct tz_meta *m = g_new0(struct tz_meta, 1);

	m->rcpts = g_ptr_array_new_with_free_func(g_free);
	m->parts = g_ptr_array_new_with_free_func(part_free_cb);
	m->sender = g_strdup("");
	m->direction = g_strdup("inbound");
	m->stored_at = g_strdup("");
	m->kind = g_strdup("unknown");
	return m;
}

void tz_meta_free(struct tz_meta *m)
{
	if (m == NULL)
		return;
	g_free(m->stored_at);
	g_free(m->ref);
	g_free(m->queue_id);
	g_free(m->client_addr);
	g_free(m->client_name);
	g_free(m->helo);
	g_free(m->auth_user);
	g_free(m->sender);
	g_ptr_array_unref(m->rcpts);
	g_free(m->direction);
	g_free(m->spf);
	g_free(m->tenant);
	g_free(m->kind);
	g_free(m->message_id);
	g_free(m->subject);
	g_free(m->from);
	g_free(m->date);
	g_ptr_array_unref(m->parts);
	g_free(m);
}

void tz_meta_iso_time(int64_t t, char *out, size_t outlen)
{
	struct tm tm;
	time_t tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

char *tz_meta_domain(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	return g_ascii_strdown(at ? at + 1 : "", -1);
}

struct tz_meta_part *tz_meta_part_get(const struct tz_meta *m, unsigned index)
{
	for (guint i = 0; i < m->parts->len; i++) {
		struct tz_meta_part *p = g_ptr_array_index(m->parts, i);
		if (p->index == index)
			return p;
	}
	return NULL;
}

static void set_str(char **dst, const char *v)
{
	g_free(*dst);
	*dst = v ? g_strdup(v) : NULL;
}

void tz_meta_fill(struct tz_meta *m, const char *id, const struct tz_envelope *env,
		  const struct tz_result *res)
{
	static const char *const kinds[] = { "text", "encrypted", "report" };
	char ts[32];

	g_strlcpy(m->id, id, sizeof(m->id));
	m->stored_time = (int64_t)time(NULL);
	tz_meta_iso_time(m->stored_time, ts, sizeof(ts));
	set_str(&m->stored_at, ts);
	if (env) {
		set_str(&m->queue_id, env->queue_id);
		set_str(&m->client_addr, env->client_addr);
		set_str(&m->client_name, env->client_name);
		set_str(&m->helo, env->helo);
		set_str(&m->auth_user, env->auth_user);
		set_str(&m->sender, env->sender ? env->sender : "");
		for (guint i = 0; env->rcpts && i < env->rcpts->len; i++)
			g_ptr_array_add(m->rcpts, g_strdup(g_ptr_array_index(env->rcpts, i)));
		set_str(&m->direction, env->direction == TZ_DIR_OUTBOUND ? "outbound" : "inbound");
		set_str(&m->spf, env->spf_result);
		set_str(&m->tenant, env->tenant);
	}
	if (res == NULL)
		return;
	if ((unsigned)res->kind < G_N_ELEMENTS(kinds))
		set_str(&m->kind, kinds[res->kind]);
	set_str(&m->message_id, res->message_id);
	set_str(&m->subject, res->subject);
	set_str(&m->from, res->from);
	set_str(&m->date, res->date);
	for (guint i = 0; res->parts && i < res->parts->len; i++) {
		const struct tz_part *tp = g_ptr_array_index(res->parts, i);
		struct tz_meta_part *p = tz_meta_part_new();
		p->index = tp->index;
		set_str(&p->mime_path, tp->mime_path);
		set_str(&p->reason, tz_part_reason_name(tp->reason));
		set_str(&p->filename, tp->filename);
		set_str(&p->declared_type, tp->declared_type);
		set_str(&p->detected_type, tp->detected_type);
		p->size = tp->size;
		g_strlcpy(p->sha256, tp->sha256, sizeof(p->sha256));
		p->risk = tp->risk;
		g_ptr_array_add(m->parts, p);
	}
}

/* ---- writer ---- */

void tz_meta_json_str(GString *s, const char *v)
{
	const char *p = v, *end = v + strlen(v);

	g_string_append_c(s, '"');
	while (p < end) {
		gunichar c = g_utf8_get_char_validated(p, end - p);
		if (c == (gunichar)-1 || c == (gunichar)-2) {
			g_string_append(s, "\\ufffd");
			p++;
			continue;
		}
		if (c == '"' || c == '\\')
			g_string_append_printf(s, "\\%c", (char)c);
		else if (c < 0x20 || c == 0x7f || c == 0x2028 || c == 0x2029)
			g_string_append_printf(s, "\\u%04x", (unsigned)c);
		else
			g_string_append_len(s, p, g_utf8_next_char(p) - p);
		p = g_utf8_next_char(p);
	}
	g_string_append_c(s, '"');
}

static void kv_str(GString *s, const char *key, const char *v, int *first)
{
	g_string_append_printf(s, "%s\"%s\":", *first ? "" : ",", key);
	*first = 0;
	if (v)
		tz_meta_json_str(s, v);
	else
		g_string_append(s, "null");
}

static void kv_num(GString *s, const char *key, uint64_t v, int *first)
{
	g_string_append_printf(s, "%s\"%s\":%" G_GUINT64_FORMAT, *first ? "" : ",", key, v);
	*first = 0;
}

static void part_to_json(GString *s, const struct tz_meta_part *p)
{
	int first = 1;

	g_string_append(s, "{");
	kv_num(s, "index", p->index, &first);
	kv_str(s, "file", p->file, &first);
	kv_str(s, "mime_path", p->mime_path, &first);
	kv_str(s, "reason", p->reason, &first);
	kv_str(s, "filename", p->filename, &first);
	kv_str(s, "declared_type", p->declared_type, &first);
	kv_str(s, "detected_type", p->detected_type, &first);
	kv_num(s, "size", p->size, &first);
	kv_str(s, "sha256", p->sha256, &first);
	kv_num(s, "risk", p->risk, &first);
	g_string_append(s, ",\"risk_flags\":[");
	for (unsigned b = 0, n = 0; b < TZ_RISK_COUNT; b++)
		if (p->risk & (1u << b))
			g_string_append_printf(s, "%s\"%s\"", n++ ? "," : "", tz_risk_name(1u << b));
	g_string_append(s, "]");
	kv_str(s, "state", p->state, &first);
	kv_str(s, "verdict", p->verdict, &first);
	kv_str(s, "scanned_at", p->scanned_at, &first);
	kv_str(s, "note", p->note, &first);
	kv_str(s, "sanitized_file", p->sanitized_file, &first);
	kv_num(s, "sanitized_size", p->sanitized_size, &first);
	kv_str(s, "sanitized_sha256", p->sanitized_sha256, &first);
	kv_str(s, "released_at", p->released_at, &first);
	kv_str(s, "released_by", p->released_by, &first);
	if (p->force_requested_by) {
		kv_str(s, "force_requested_by", p->force_requested_by, &first);
		kv_str(s, "force_reason", p->force_reason, &first);
		kv_str(s, "force_approvers", p->force_approvers, &first);
	}
	g_string_append(s, "}");
}

char *tz_meta_to_json(const struct tz_meta *m)
{
	GString *s = g_string_new("{");
	int first = 1;

	kv_num(s, "version", 1, &first);
	kv_str(s, "id", m->id, &first);
	if (m->ref)
		kv_str(s, "ref", m->ref, &first);
	kv_str(s, "stored_at", m->stored_at, &first);
	kv_num(s, "stored_time", (uint64_t)m->stored_time, &first);
	g_string_append(s, ",\"envelope\":{");
	first = 1;
	kv_str(s, "queue_id", m->queue_id, &first);
	kv_str(s, "client_addr", m->client_addr, &first);
	kv_str(s, "client_name", m->client_name, &first);
	kv_str(s, "helo", m->helo, &first);
	kv_str(s, "auth_user", m->auth_user, &first);
	kv_str(s, "sender", m->sender, &first);
	g_string_append(s, ",\"rcpts\":[");
	for (guint i = 0; i < m->rcpts->len; i++) {
		if (i)
			g_string_append_c(s, ',');
		tz_meta_json_str(s, g_ptr_array_index(m->rcpts, i));
	}
	g_string_append(s, "]");
	kv_str(s, "direction", m->direction, &first);
	kv_str(s, "spf", m->spf, &first);
	kv_str(s, "tenant", m->tenant, &first);
	g_string_append(s, "},\"message\":{");
	first = 1;
	kv_str(s, "kind", m->kind, &first);
	kv_str(s, "message_id", m->message_id, &first);
	kv_str(s, "subject", m->subject, &first);
	kv_str(s, "from", m->from, &first);
	kv_str(s, "date", m->date, &first);
	g_string_append(s, "},\"original\":{");
	first = 1;
	kv_str(s, "file", "original.eml", &first);
	kv_num(s, "size", m->original_size, &first);
	kv_str(s, "sha256", m->original_sha256, &first);
	g_string_append(s, "},\"parts\":[");
	for (guint i = 0; i < m->parts->len; i++) {
		if (i)
			g_string_append_c(s, ',');
		part_to_json(s, g_ptr_array_index(m->parts, i));
	}
	g_string_append(s, "]}\n");
	return g_string_free(s, FALSE);
}

/* ---- parser ---- */

static char *dup_str(const struct tz_jv *obj, const char *key)
{
	const char *v = tz_jv_str(obj, key);

	return v ? g_strdup(v) : NULL;
}

static void copy_hex(char dst[65], const struct tz_jv *obj, const char *key)
{
	const char *v = tz_jv_str(obj, key);

	dst[0] = '\0';
	if (v && strlen(v) == 64)
		g_strlcpy(dst, v, 65);
}

static struct tz_meta_part *part_parse(const struct tz_jv *o, char *err, size_t errlen)
{
	struct tz_meta_part *p;
	const char *file = tz_jv_str(o, "file"), *state = tz_jv_str(o, "state");
	int64_t index = tz_jv_int(o, "index", 0);

	/* The file name is used to open files: accept only what the store
	 * itself writes. */
	if (index <= 0 || index > 1000000 || file == NULL || state == NULL ||
	    strncmp(file, "part-", 5) != 0 || strchr(file, '/') || file[0] == '.') {
		tz_err(err, errlen, "meta: bad part record");
		return NULL;
	}
	p = tz_meta_part_new();
	p->index = (unsigned)index;
	set_str(&p->file, file);
	set_str(&p->state, state);
	p->mime_path = dup_str(o, "mime_path");
	p->reason = dup_str(o, "reason");
	p->filename = dup_str(o, "filename");
	p->declared_type = dup_str(o, "declared_type");
	p->detected_type = dup_str(o, "detected_type");
	p->size = (uint64_t)tz_jv_int(o, "size", 0);
	copy_hex(p->sha256, o, "sha256");
	p->risk = (unsigned)tz_jv_int(o, "risk", 0);
	p->verdict = dup_str(o, "verdict");
	p->scanned_at = dup_str(o, "scanned_at");
	p->note = dup_str(o, "note");
	p->sanitized_file = dup_str(o, "sanitized_file");
	if (p->sanitized_file && (strncmp(p->sanitized_file, "part-", 5) != 0 ||
				  strchr(p->sanitized_file, '/'))) {
		tz_meta_part_free(p);
		tz_err(err, errlen, "meta: bad sanitized file name");
		return NULL;
	}
	p->sanitized_size = (uint64_t)tz_jv_int(o, "sanitized_size", 0);
	copy_hex(p->sanitized_sha256, o, "sanitized_sha256");
	p->released_at = dup_str(o, "released_at");
	p->released_by = dup_str(o, "released_by");
	p->force_requested_by = dup_str(o, "force_requested_by");
	p->force_reason = dup_str(o, "force_reason");
	p->force_approvers = dup_str(o, "force_approvers");
	return p;
}

static int envelope_parse(struct tz_meta *m, const struct tz_jv *env)
{
	const struct tz_jv *rc = tz_jv_get(env, "rcpts");

	if (env == NULL || rc == NULL || rc->type != TZ_J_ARR)
		return -1;
	m->queue_id = dup_str(env, "queue_id");
	m->client_addr = dup_str(env, "client_addr");
	m->client_name = dup_str(env, "client_name");
	m->helo = dup_str(env, "helo");
	m->auth_user = dup_str(env, "auth_user");
	set_str(&m->sender, tz_jv_str(env, "sender") ? tz_jv_str(env, "sender") : "");
	set_str(&m->direction, tz_jv_str(env, "direction") ? tz_jv_str(env, "direction") : "inbound");
	m->spf = dup_str(env, "spf");
	m->tenant = dup_str(env, "tenant");
	for (guint i = 0; i < rc->items->len; i++) {
		const struct tz_jv *a = g_ptr_array_index(rc->items, i);
		if (a->type == TZ_J_STR)
			g_ptr_array_add(m->rcpts, g_strdup(a->s));
	}
	return 0;
}

struct tz_meta *tz_meta_parse(const char *json, size_t len, char *err, size_t errlen)
{
	struct tz_jv *root = tz_jv_parse(json, len, err, errlen);
	const struct tz_jv *msg, *orig, *parts;
	struct tz_meta *m = NULL;
	const char *id;

	if (root == NULL)
		return NULL;
	id = tz_jv_str(root, "id");
	msg = tz_jv_get(root, "message");
	orig = tz_jv_get(root, "original");
	parts = tz_jv_get(root, "parts");
	if (tz_jv_int(root, "version", 0) != 1 || !tz_id_valid(id) || parts == NULL ||
	    parts->type != TZ_J_ARR) {
		tz_err(err, errlen, "meta: not a version 1 entry document");
		goto out;
	}
	m = tz_meta_new();
	g_strlcpy(m->id, id, sizeof(m->id));
	set_str(&m->stored_at, tz_jv_str(root, "stored_at") ? tz_jv_str(root, "stored_at") : "");
	m->stored_time = tz_jv_int(root, "stored_time", 0);
	m->ref = dup_str(root, "ref");
	if (envelope_parse(m, tz_jv_get(root, "envelope")) < 0) {
		tz_err(err, errlen, "meta: bad envelope");
		goto fail;
	}
	set_str(&m->kind, tz_jv_str(msg, "kind") ? tz_jv_str(msg, "kind") : "unknown");
	m->message_id = dup_str(msg, "message_id");
	m->subject = dup_str(msg, "subject");
	m->from = dup_str(msg, "from");
	m->date = dup_str(msg, "date");
	m->original_size = (uint64_t)tz_jv_int(orig, "size", 0);
	copy_hex(m->original_sha256, orig, "sha256");
	for (guint i = 0; i < parts->items->len; i++) {
		struct tz_meta_part *p = part_parse(g_ptr_array_index(parts->items, i), err, errlen);
		if (p == NULL)
			goto fail;
		g_ptr_array_add(m->parts, p);
	}
	goto out;
fail:
	tz_meta_free(m);
	m = NULL;
out:
	tz_jv_free(root);
	return m;
}
