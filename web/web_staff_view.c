/* web_staff_view.c — what a staff member sees of their mail: subject,
 * sender and time, and each removed file of the link (name, kind, size,
 * whether it is being checked, was found dangerous, or has a sanitized
 * copy to download). Hashes and scanner names stay on the team's pages.
 * The download of a sanitized copy is audited ("downloaded_by_staff") and
 * checked against its SHA-256 before a byte is sent. */
#include <string.h>
#include <microhttpd.h>

#include "tz_audit.h"
#include "tz_cdr_queue.h"
#include "tz_localtime.h"
#include "tz_meta.h"
#include "tz_notice.h"
#include "tz_queue.h"
#include "tz_config.h"
#include "tz_release.h"
#include "tz_store.h"
#include "tz_util.h"
#include "tz_tenant.h"
#include "web.h"
#include "web_html.h"
#include "web_staff.h"

#define DOWNLOAD_MAX (64u * 1024 * 1024)

const char *web_staff_status_ja(const char *status)
{
	if (strcmp(status, "open") == 0)
		return "情報セキュリティ担当が確認中です";
	if (strcmp(status, "released") == 0)
		return "お届けしました";
	if (strcmp(status, "declined") == 0)
		return "お届けできません(詳しくは情報セキュリティ担当へ)";
	return status;
}

static const char *part_state_ja(const struct tz_meta_part *p)
{
	if (tz_cdr_ppap_waiting(p))
		return "パスワード付き ZIP(まだ開いていません)";
	static const struct { const char *state, *ja; } t[] = {
		{ TZ_STATE_PENDING, "安全確認の待ち" },
		{ TZ_STATE_CLEAN, "安全確認済み(依頼があればお届けできます)" },
		{ TZ_STATE_SANITIZED, "無害化した複製があります" },
		{ TZ_STATE_INFECTED, "危険なファイルと判定されました" },
		{ TZ_STATE_FAILED, "自動では確認できませんでした" },
		{ TZ_STATE_RELEASED, "お届け済み" },
		{ TZ_STATE_REJECTED, "お届けしません" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(t); i++)
		if (strcmp(p->state, t[i].state) == 0)
			return t[i].ja;
	return p->state;
}

/* SanitizedDelivery of the entry's tenant (docs/tenants.md) */
static bool sanitized_auto(const struct web_req *r, const struct tz_meta *m)
{
	return tz_tenant_sanitized_auto(m->tenant, r->app->cfg);
}

static void link_query(GString *b, const struct web_staff_link *l)
{
	char *rc = g_uri_escape_string(l->rcpt, NULL, FALSE);

	web_html_printf(b, "e=%s&amp;p=%u&amp;r=%s&amp;x=%lld&amp;m=%s", l->meta->id, l->part, rc,
			(long long)l->expiry, l->mac);
	g_free(rc);
}

void web_staff_redirect(struct web_req *r, const struct web_staff_link *l)
{
	char *rc = g_uri_escape_string(l->rcpt, NULL, FALSE);

	web_redirect(r, "/s?e=%s&p=%u&r=%s&x=%lld&m=%s", l->meta->id, l->part, rc, (long long)l->expiry, l->mac);
	g_free(rc);
}

void web_staff_summary(struct web_req *r, const struct web_staff_link *l)
{
	const struct tz_meta *m = l->meta;
	GString *b = r->body;
	char when[40];

	tz_local_time(m->stored_time, when);
	g_string_append(b, "<table id=\"message\">");
	web_html_printf(b, "<tr><th>参照番号</th><td>%s</td></tr><tr><th>件名</th><td>%s</td></tr>"
			"<tr><th>差出人</th><td>%s</td></tr><tr><th>受信</th><td>%s</td></tr>"
			"<tr><th>宛先(あなた)</th><td>%s</td></tr></table>",
			m->ref ? m->ref : m->id, m->subject, m->from ? m->from : m->sender, when, l->rcpt);
	g_string_append(b, "<h2>取り除いたファイル</h2><table id=\"parts\"><tr><th>#</th><th>ファイル名</th>"
			   "<th>種類</th><th>サイズ</th><th>状態</th><th></th></tr>");
	for (guint i = 0; i < m->parts->len; i++) {
		const struct tz_meta_part *p = g_ptr_array_index(m->parts, i);
		char *size;
		if (l->part && p->index != l->part)
			continue;
		size = tz_notice_size(TZ_NOTICE_JA, p->size);
		web_html_printf(b, "<tr><td>%u</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>",
				p->index, p->filename ? p->filename : "名前のないファイル",
				tz_notice_kind(TZ_NOTICE_JA, p->detected_type, p->declared_type), size,
				part_state_ja(p));
		if (tz_queue_copy_for_staff(p, sanitized_auto(r, m))) {
			g_string_append_printf(b, "<a id=\"download-%u\" href=\"/s/download?", p->index);
			link_query(b, l);
			g_string_append_printf(b, "&amp;f=%u\">無害化した複製をダウンロード</a>", p->index);
		}
		g_string_append(b, "</td></tr>\n");
		g_free(size);
	}
	g_string_append(b, "</table>");
}

static int to_mem(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	GByteArray *a = ctx;

	if (a->len + len > DOWNLOAD_MAX)
		return tz_err(err, errlen, "too large");
	g_byte_array_append(a, buf, (guint)len);
	return 0;
}

static int read_copy(struct web_req *r, const struct web_staff_link *l, const struct tz_meta_part *p)
{
	GByteArray *a = g_byte_array_new();
	char err[TZ_ERRLEN], *op = g_strconcat("staff:", l->rcpt, NULL);
	struct tz_audit_event ev = { "downloaded_by_staff", op, l->meta->id, p->index, p->sanitized_sha256,
				     "sanitized copy" };
	int rc = -1;

	pthread_mutex_lock(&r->app->lock);
	if (tz_store_file_read(r->app->st, l->meta->id, p->sanitized_file, to_mem, a, err, sizeof(err)) == 0) {
		char *sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, a->data, a->len);
		if (strcmp(sha, p->sanitized_sha256) == 0 &&
		    tz_audit_append(r->app->audit, &ev, err, sizeof(err)) == 0)
			rc = 0;
		g_free(sha);
	}
	pthread_mutex_unlock(&r->app->lock);
	if (rc == 0) {
		g_string_truncate(r->body, 0);
		g_string_append_len(r->body, (const char *)a->data, a->len);
		r->content_type = "application/octet-stream";
		r->download_name = tz_release_filename_param(p);
	}
	g_byte_array_unref(a);
	g_free(op);
	return rc;
}

void web_staff_download(struct web_req *r)
{
	struct web_staff_link l;
	enum web_staff_check c = web_staff_open(r, &l);
	const struct tz_meta_part *p;
	const char *f = web_arg(r, "f");
	unsigned idx;

	if (c != WEB_STAFF_OK) {
		web_staff_refuse(r, c);
		return;
	}
	idx = f ? (unsigned)g_ascii_strtoull(f, NULL, 10) : 0;
	p = idx ? tz_meta_part_get(l.meta, idx) : NULL;
	if (p == NULL || (l.part && l.part != idx) || !tz_queue_copy_for_staff(p, sanitized_auto(r, l.meta)))
		web_error_page(r, MHD_HTTP_NOT_FOUND, "このファイルの無害化した複製はありません。");
	else if (read_copy(r, &l, p) < 0)
		web_error_page(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "複製を読み出せませんでした。");
	web_staff_close(&l);
}
