/* tz_digest.c — the daily digest mail per recipient (tz_digest.h). */
#include "tz_digest.h"

#include <string.h>
#include <time.h>
#include <openssl/rand.h>

#include "tz_hdrsafe.h"
#include "tz_header.h"
#include "tz_localtime.h"
#include "tz_meta.h"
#include "tz_notice.h"
#include "tz_release.h"
#include "tz_store.h"
#include "tz_util.h"
#include "tz_weblink.h"

static void metas_free(gpointer p)
{
	g_ptr_array_unref(p);
}

static gint by_time(gconstpointer a, gconstpointer b)
{
	const struct tz_meta *x = *(const struct tz_meta *const *)a, *y = *(const struct tz_meta *const *)b;

	return x->stored_time < y->stored_time ? -1 : x->stored_time > y->stored_time;
}

struct tz_digest *tz_digest_collect(struct tz_store *st, int64_t from, int64_t to,
				    char *err, size_t errlen)
{
	struct tz_digest *d;
	GPtrArray *ids;
	GHashTableIter it;
	gpointer v;

	if (tz_store_list(st, &ids, err, errlen) < 0)
		return NULL;
	d = g_new0(struct tz_digest, 1);
	d->all = g_ptr_array_new_with_free_func((GDestroyNotify)tz_meta_free);
	d->by_rcpt = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, metas_free);
	for (guint i = 0; i < ids->len; i++) {
		struct tz_meta *m = tz_store_meta_read(st, g_ptr_array_index(ids, i), NULL, 0);
		if (m == NULL) {
			d->bad++;
			continue;
		}
		if (m->stored_time < from || m->stored_time >= to || m->parts->len == 0 ||
		    strcmp(m->direction, "inbound") != 0) {
			tz_meta_free(m);
			continue;
		}
		g_ptr_array_add(d->all, m);
		for (guint r = 0; r < m->rcpts->len; r++) {
			char *key = g_ascii_strdown(g_ptr_array_index(m->rcpts, r), -1);
			GPtrArray *a = g_hash_table_lookup(d->by_rcpt, key);
			if (a == NULL) {
				a = g_ptr_array_new();
				g_hash_table_insert(d->by_rcpt, key, a);
			} else {
				g_free(key);
			}
			if (a->len == 0 || g_ptr_array_index(a, a->len - 1) != m)
				g_ptr_array_add(a, m);   /* a recipient named twice: once */
		}
	}
	g_ptr_array_unref(ids);
	g_hash_table_iter_init(&it, d->by_rcpt);
	while (g_hash_table_iter_next(&it, NULL, &v))
		g_ptr_array_sort(v, by_time);
	return d;
}

void tz_digest_free(struct tz_digest *d)
{
	if (d == NULL)
		return;
	g_hash_table_unref(d->by_rcpt);
	g_ptr_array_unref(d->all);
	g_free(d);
}

/* One line of sender-controlled text, made safe to show. */
static void safe(GString *b, const char *label, const char *s)
{
	char *x = tz_header_display_safe(s && *s ? s : "-");

	g_string_append_printf(b, "  %s: %s\r\n", label, x);
	g_free(x);
}

static void entry(GString *b, const struct tz_digest_opts *o, const char *rcpt,
		  const struct tz_meta *m)
{
	char when[40], *link = NULL;

	tz_local_time(m->stored_time, when);
	g_string_append_printf(b, "■ 参照番号 %s (%s)\r\n", m->ref ? m->ref : m->id, when);
	safe(b, "差出人", m->from ? m->from : m->sender);
	safe(b, "件名", m->subject);
	for (guint i = 0; i < m->parts->len; i++) {
		const struct tz_meta_part *p = g_ptr_array_index(m->parts, i);
		char *size = tz_notice_size(TZ_NOTICE_JA, p->size), *name;
		name = tz_header_display_safe(p->filename && *p->filename ? p->filename : "名前のないファイル");
		g_string_append_printf(b, "  #%u %s(%s、%s)\r\n", p->index, name,
				       tz_notice_kind(TZ_NOTICE_JA, p->detected_type, p->declared_type), size);
		g_free(name);
		g_free(size);
	}
	if (o->base_url && o->link_key) {
		struct tz_weblink l = { m->id, 0, rcpt, o->link_expiry };
		link = tz_weblink_url(o->link_key, o->base_url, &l);
	}
	if (link)
		g_string_append_printf(b, "  確認・依頼: %s\r\n", link);
	g_string_append(b, "\r\n");
	g_free(link);
}

/* text as base64 lines into a new string, its release hash into sha. */
static GString *base64_lines(const GString *text, char sha[65])
{
	char *b64 = g_base64_encode((const guchar *)text->str, text->len);
	size_t n = strlen(b64);
	GString *out = g_string_new(NULL);
	struct tz_release_hash *h = tz_release_hash_new();

	for (size_t i = 0; i < n; i += 76) {
		g_string_append_len(out, b64 + i, (gssize)MIN(76, n - i));
		g_string_append(out, "\r\n");
	}
	tz_release_hash_update(h, out->str, out->len);
	tz_release_hash_final(h, sha);
	g_free(b64);
	return out;
}

char *tz_digest_mail(const struct tz_digest_opts *o, const char *rcpt, const GPtrArray *metas,
		     char *err, size_t errlen)
{
	GString *body = g_string_new(NULL), *msg = g_string_new(NULL), *enc;
	char *subject, *subj_raw, date[64], mid[33], sha[65], id[TZ_ID_LEN], marker[200];
	unsigned char rnd[16];
	time_t now = (time_t)o->now;
	struct tm tm;
	guint n = metas->len;

	if (rcpt == NULL || *rcpt == '\0' || strpbrk(rcpt, "\r\n<>\",;") || strlen(rcpt) > 254 ||
	    o->from == NULL || strpbrk(o->from, "\r\n") || o->release_key == NULL) {
		g_string_free(body, TRUE);
		g_string_free(msg, TRUE);
		tz_err(err, errlen, "not a usable address for a digest");
		return NULL;
	}
	g_string_append_printf(body, "%s 宛てのメールから %s に取り除いたファイルの一覧です(%u 通)。\r\n"
			       "本文はテキストにして届けています。ファイルが業務に必要なときは、下のリンクから"
			       "依頼するか、参照番号を添えて%sへお問い合わせください。\r\n\r\n",
			       rcpt, o->date, n, o->contact && *o->contact ? o->contact : "情報セキュリティ担当");
	for (guint i = 0; i < n && i < TZ_DIGEST_MAX_ENTRIES; i++)
		entry(body, o, rcpt, g_ptr_array_index(metas, i));
	if (n > TZ_DIGEST_MAX_ENTRIES)
		g_string_append_printf(body, "ほか %u 通(一覧は情報セキュリティ担当へ)\r\n",
				       n - TZ_DIGEST_MAX_ENTRIES);
	subj_raw = g_strdup_printf("取り除いたファイルの一覧 %s(%u 通)", o->date, n);
	subject = tz_hdrsafe_encode("Subject", subj_raw);
	localtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", &tm);
	if (RAND_bytes(rnd, sizeof rnd) != 1)
		memset(rnd, 0, sizeof rnd);
	tz_hex(rnd, sizeof rnd, mid);
	enc = base64_lines(body, sha);
	tz_id_new(id);
	if (tz_release_marker(o->release_key, id, "0", sha, marker, sizeof marker) < 0)
		g_strlcpy(marker, "-", sizeof marker);   /* cannot happen: a fresh id is valid */
	g_string_append_printf(msg, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n"
			       "Message-ID: <digest.%s@textize>\r\nMIME-Version: 1.0\r\n"
			       "Content-Type: text/plain; charset=UTF-8\r\n"
			       "Content-Transfer-Encoding: base64\r\nAuto-Submitted: auto-generated\r\n"
			       "X-Textize-Digest: %s\r\n%s: %s\r\n\r\n", o->from, rcpt,
			       subject ? subject : "digest", date, mid, o->date, TZ_RELEASE_HEADER, marker);
	g_string_append_len(msg, enc->str, (gssize)enc->len);
	g_string_free(enc, TRUE);
	g_free(subj_raw);
	g_free(subject);
	g_string_free(body, TRUE);
	return g_string_free(msg, FALSE);
}
