/* tz_release.c — the release marker (see tz_release.h) and the mail that
 * carries released parts. */
#define _GNU_SOURCE 1   /* O_TMPFILE */
#include "tz_release.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "tz_hdrsafe.h"
#include "tz_header.h"
#include <openssl/rand.h>

#include "tz_meta.h"
#include "tz_store.h"
#include "tz_util.h"

struct tz_release_hash {
	EVP_MD_CTX *md;
	size_t pending_lf;      /* LFs held back: trailing ones are not hashed */
};

struct tz_release_hash *tz_release_hash_new(void)
{
	struct tz_release_hash *h = g_new0(struct tz_release_hash, 1);

	h->md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(h->md, EVP_sha256(), NULL);
	return h;
}

void tz_release_hash_update(struct tz_release_hash *h, const void *buf, size_t len)
{
	static const char lfs[64] = "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n"
				    "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n";
	const unsigned char *p = buf, *end = p + len, *run;

	while (p < end) {
		if (*p == '\r') {
			p++;
			continue;
		}
		if (*p == '\n') {
			h->pending_lf++;
			p++;
			continue;
		}
		while (h->pending_lf > 0) {
			size_t n = h->pending_lf > sizeof(lfs) ? sizeof(lfs) : h->pending_lf;
			EVP_DigestUpdate(h->md, lfs, n);
			h->pending_lf -= n;
		}
		for (run = p; p < end && *p != '\r' && *p != '\n'; p++)
			;
		EVP_DigestUpdate(h->md, run, (size_t)(p - run));
	}
}

void tz_release_hash_free(struct tz_release_hash *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->md);
	g_free(h);
}

void tz_release_hash_final(struct tz_release_hash *h, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	EVP_DigestFinal_ex(h->md, md, &n);
	tz_hex(md, n, out);
	tz_release_hash_free(h);
}

static void marker_mac(const unsigned char key[TZ_KEY_LEN], const char *id, const char *parts,
		       const char *body_sha256, char out[65])
{
	char *msg = g_strdup_printf("%s|%s|%s", id, parts, body_sha256);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	HMAC(EVP_sha256(), key, TZ_KEY_LEN, (const unsigned char *)msg, strlen(msg), md, &n);
	tz_hex(md, n, out);
	g_free(msg);
}

static int parts_valid(const char *parts)
{
	size_t n = strlen(parts);

	return n > 0 && n < 200 && strspn(parts, "0123456789,") == n &&
	       parts[0] != ',' && parts[n - 1] != ',' && strstr(parts, ",,") == NULL;
}

int tz_release_marker(const unsigned char key[TZ_KEY_LEN], const char *id, const char *parts,
		      const char body_sha256[65], char *out, size_t outlen)
{
	char mac[65];

	if (!tz_id_valid(id) || !parts_valid(parts))
		return -1;
	marker_mac(key, id, parts, body_sha256, mac);
	if ((size_t)snprintf(out, outlen, "%s %s %s", id, parts, mac) >= outlen)
		return -1;
	return 0;
}

int tz_release_check(const unsigned char key[TZ_KEY_LEN], const char *value,
		     const char body_sha256[65], char *err, size_t errlen)
{
	char **w = g_strsplit_set(value ? value : "", " \t\r\n", -1), *words[3];
	char mac[65];
	int n = 0, ok = 0;

	for (char **p = w; *p; p++)
		if (**p) {
			if (n == 3) {
				n = 4;
				break;
			}
			words[n++] = *p;
		}
	if (n != 3 || !tz_id_valid(words[0]) || !parts_valid(words[1]) || strlen(words[2]) != 64) {
		tz_err(err, errlen, "%s: malformed", TZ_RELEASE_HEADER);
		goto out;
	}
	marker_mac(key, words[0], words[1], body_sha256, mac);
	ok = CRYPTO_memcmp(mac, words[2], 64) == 0;
	if (!ok)
		tz_err(err, errlen, "%s: mac does not match (forged, or body changed)", TZ_RELEASE_HEADER);
out:
	g_strfreev(w);
	return ok;
}

int tz_release_verify(const unsigned char key[TZ_KEY_LEN], const char *value,
		      GMimeStream *msg, char *err, size_t errlen)
{
	struct tz_release_hash *h = tz_release_hash_new();
	char buf[8192], sha[65];
	int state = 1;   /* 1: at line start in header, 0: inside a header line, 2: body */
	ssize_t n;

	while ((n = g_mime_stream_read(msg, buf, sizeof(buf))) > 0) {
		ssize_t i = 0;
		for (; state != 2 && i < n; i++) {
			if (buf[i] == '\r')
				continue;
			if (buf[i] == '\n')
				state = state == 1 ? 2 : 1;
			else
				state = 0;
		}
		if (state == 2)
			tz_release_hash_update(h, buf + i, (size_t)(n - i));
	}
	if (n < 0) {
		tz_release_hash_free(h);
		return tz_err(err, errlen, "reading the message failed");
	}
	tz_release_hash_final(h, sha);
	return tz_release_check(key, value, sha, err, errlen);
}

/* ---- the release mail ---- */

struct mail_out {
	int fd;
	struct tz_release_hash *h;
	int b64_state, b64_save;
	EVP_MD_CTX *md;          /* SHA-256 of the attachment, checked against meta */
	int failed;
};

static int put(struct mail_out *o, const void *p, size_t len)
{
	tz_release_hash_update(o->h, p, len);
	if (tz_write_all(o->fd, p, len) < 0)
		o->failed = 1;
	return o->failed ? -1 : 0;
}

static int puts_(struct mail_out *o, const char *s)
{
	return put(o, s, strlen(s));
}

static int b64_chunk(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	struct mail_out *o = ctx;
	char *enc = g_malloc(len / 3 * 4 + len / 40 + 16);
	size_t n;

	EVP_DigestUpdate(o->md, buf, len);
	n = g_base64_encode_step(buf, len, TRUE, enc, &o->b64_state, &o->b64_save);
	put(o, enc, n);
	g_free(enc);
	return o->failed ? tz_err(err, errlen, "writing the release mail: %s", strerror(errno)) : 0;
}

/* Only token characters of a MIME type survive; anything else is generic. */
static const char *safe_type(const char *t)
{
	if (t == NULL || strchr(t, '/') == NULL || strlen(t) > 100 ||
	    strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789!#$&^_.+-/") != strlen(t))
		return "application/octet-stream";
	return t;
}

/* A sanitized copy is another file than the original (見積書.xlsx became a
 * PDF): its type and extension come from the copy's stored name
 * ("part-002.sanitized-TAG.pdf", made by the sanitizer), never from the
 * sender. NULL when p has no copy of a known kind. */
static const struct { const char *ext, *type; } copy_kinds[] = {
	{ ".pdf", "application/pdf" },
	{ ".png", "image/png" },
	{ ".txt", "text/plain; charset=UTF-8" },
	{ ".csv", "text/csv; charset=UTF-8" },
};

static int copy_kind(const struct tz_meta_part *p)
{
	const char *dot = p->sanitized_file ? strrchr(p->sanitized_file, '.') : NULL;

	for (size_t i = 0; dot && i < G_N_ELEMENTS(copy_kinds); i++)
		if (strcmp(dot, copy_kinds[i].ext) == 0)
			return (int)i;
	return -1;
}

/* RFC 2231 filename*=UTF-8''... ; a sanitized copy keeps the name with
 * its extension replaced. */
char *tz_release_filename_param(const struct tz_meta_part *p)
{
	GString *s = g_string_new("UTF-8''");
	char *fallback = g_strdup_printf("part-%03u.bin", p->index), *renamed = NULL;
	const unsigned char *c = (const unsigned char *)(p->filename && *p->filename ? p->filename : fallback);
	int k = copy_kind(p);

	if (k >= 0) {
		const char *dot = strrchr((const char *)c, '.');
		size_t keep = dot && dot != (const char *)c ? (size_t)(dot - (const char *)c)
							     : strlen((const char *)c);
		renamed = g_strdup_printf("%.*s%s", (int)keep, (const char *)c, copy_kinds[k].ext);
		c = (const unsigned char *)renamed;
	}

	for (; *c; c++) {
		if (g_ascii_isalnum(*c) || strchr("!#$&+-.^_`|~", *c))
			g_string_append_c(s, (char)*c);
		else
			g_string_append_printf(s, "%%%02X", *c);
	}
	g_free(fallback);
	g_free(renamed);
	return g_string_free(s, FALSE);
}

static int write_attachment(struct mail_out *o, struct tz_store *st, const struct tz_meta *m,
			    const struct tz_meta_part *p, const char *boundary, char *err, size_t errlen)
{
	const char *file = p->sanitized_file ? p->sanitized_file : p->file;
	const char *want = p->sanitized_file ? p->sanitized_sha256 : p->sha256;
	char *fn = tz_release_filename_param(p), *hdr, tail[8], sha[65];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	size_t n;
	int rc = -1;

	hdr = g_strdup_printf("--%s\nContent-Type: %s\nContent-Transfer-Encoding: base64\n"
			      "Content-Disposition: attachment; filename*=%s\n\n",
			      boundary, copy_kind(p) >= 0 ? copy_kinds[copy_kind(p)].type
			      : safe_type(p->detected_type), fn);
	puts_(o, hdr);
	o->b64_state = o->b64_save = 0;
	EVP_DigestInit_ex(o->md, EVP_sha256(), NULL);
	if (tz_store_file_read(st, m->id, file, b64_chunk, o, err, errlen) < 0)
		goto out;
	n = g_base64_encode_close(TRUE, tail, &o->b64_state, &o->b64_save);
	put(o, tail, n);
	EVP_DigestFinal_ex(o->md, md, &mdlen);
	tz_hex(md, mdlen, sha);
	/* What goes out must be what was scanned. */
	if (strcmp(sha, want) != 0) {
		tz_err(err, errlen, "%s part %u: content does not match its recorded SHA-256", m->id, p->index);
		goto out;
	}
	rc = o->failed ? tz_err(err, errlen, "writing the release mail failed") : 0;
out:
	g_free(fn);
	g_free(hdr);
	return rc;
}

/* True when every listed part goes out as a sanitized copy: the delivery
 * the sanitizer makes by itself (SanitizedDelivery auto). */
static int all_sanitized(const struct tz_meta *m, const unsigned *parts, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const struct tz_meta_part *p = tz_meta_part_get(m, parts[i]);
		if (p == NULL || p->sanitized_file == NULL)
			return 0;
	}
	return n > 0;
}

/* First lines of the text of a forced release: the recipient must know
 * before opening anything that the scanner did not pass it. */
#define FORCED_WARNING \
	"【注意】このメールの添付ファイルは、ウイルス検査で問題が見つかったもの、または\n" \
	"検査を終えていないものです。業務に必要との申し出を受け、情報セキュリティ担当が\n" \
	"理由を記録したうえで、例外としてお届けしています。開く前に、本当に必要かどうかを\n" \
	"%sにご確認ください。\n\n"
#define FORCED_WARNING_EN \
	"Forced release: the scanner did not pass these attachments. Ask before\n" \
	"you open them.\n\n"

/* A sender-controlled value (file name, subject, sender) as staff may see
 * it in the note: controls, line breaks and bidi overrides replaced, so it
 * can neither add lines to a mail staff trust nor disguise an extension.
 * g_free(). */
static char *shown(const char *v)
{
	return tz_header_display_safe(v ? v : "");
}

/* The 参照番号 staff quote: the short one ("1124-7QK2") when the entry
 * has one, else the entry id. */
static const char *ref_of(const struct tz_meta *m)
{
	return m->ref && *m->ref ? m->ref : m->id;
}

/* NoticeDetails full: the file's type and SHA-256 for the security team's
 * mailbox; staff get neither. */
static void note_details(GString *s, const struct tz_meta_part *p, const struct tz_release_words *w)
{
	int k;

	if (p == NULL || w == NULL || !w->details)
		return;
	k = copy_kind(p);
	g_string_append_printf(s, "        MIME: %s\n        SHA-256: %s\n",
			       k >= 0 ? copy_kinds[k].type : safe_type(p->detected_type),
			       p->sanitized_file ? p->sanitized_sha256 : p->sha256);
}

/* One line per delivered file, with the 参照番号 staff quoted (REF#n). */
static void note_files(GString *s, const struct tz_meta *m, const unsigned *parts, unsigned n,
		       const struct tz_release_words *w, bool en)
{
	for (unsigned i = 0; i < n; i++) {
		const struct tz_meta_part *p = tz_meta_part_get(m, parts[i]);
		char *name = shown(p && p->filename && *p->filename ? p->filename
				   : en ? "unnamed file" : "名前のないファイル");

		/* a sanitized ZIP without some of its members: the sanitizer's
		 * note lists them (sanitize/tz_cdr_zip.c) */
		const char *left = p && p->sanitized_file && p->note
				   ? strstr(p->note, "; not sanitized: ") : NULL;
		char *members = left ? shown(left + strlen("; not sanitized: ")) : NULL;

		if (en)
			g_string_append_printf(s, "    - %s (reference: %s#%u%s)\n", name, ref_of(m), parts[i],
					       p && p->sanitized_file ? ", sanitized" : "");
		else
			g_string_append_printf(s, "    ・%s(参照番号: %s#%u%s)\n", name, ref_of(m), parts[i],
					       p && p->sanitized_file ? "、無害化済み" : "");
		if (members)
			g_string_append_printf(s, en ? "      not in it (not sanitized): %s\n"
					       : "      (中の無害化できなかったファイル: %s)\n", members);
		g_free(members);
		note_details(s, p, w);
		g_free(name);
	}
}

/* Why a file of the mail is not in a delivery of sanitized copies, in
 * words staff use; the sanitizer's own note goes in the English part. */
static const char *held_why_ja(const char *state)
{
	if (strcmp(state, TZ_STATE_INFECTED) == 0)
		return "ウイルスを検出";
	if (strcmp(state, "unsanitizable") == 0)    /* TZ_STATE_UNSANITIZABLE, sanitize/ */
		return "無害化できない形式";
	if (strcmp(state, TZ_STATE_REJECTED) == 0 || strcmp(state, TZ_STATE_FAILED) == 0)
		return "お届けできません";
	return "確認中";
}

/* The files of the mail that a delivery of sanitized copies leaves behind
 * (neither in it nor released before); how many. */
static unsigned note_held(GString *s, const struct tz_meta *m, const unsigned *parts, unsigned n,
			  bool en)
{
	unsigned held = 0;

	for (guint i = 0; i < m->parts->len; i++) {
		const struct tz_meta_part *p = g_ptr_array_index(m->parts, i);
		char *name, *note;
		int listed = 0;

		for (unsigned k = 0; k < n; k++)
			listed |= parts[k] == p->index;
		if (listed || strcmp(p->state, TZ_STATE_RELEASED) == 0)
			continue;
		if (held++ == 0)
			g_string_append(s, en ? "  Not delivered:\n"
					: "  お届けしていないファイル:\n");
		name = shown(p->filename && *p->filename ? p->filename
			     : en ? "unnamed file" : "名前のないファイル");
		note = shown(p->note);
		if (en)
			g_string_append_printf(s, "    - %s (reference: %s#%u, %s%s%s)\n", name, ref_of(m),
					       p->index, p->state, *note ? ": " : "", note);
		else
			g_string_append_printf(s, "    ・%s(参照番号: %s#%u、%s)\n", name, ref_of(m), p->index,
					       held_why_ja(p->state));
		g_free(name);
		g_free(note);
	}
	return held;
}

/* Whom staff ask (NoticeContact), as the notice names it. */
static const char *contact_of(const struct tz_release_words *w)
{
	return w && w->contact && *w->contact ? w->contact : "情報セキュリティ担当";
}

/* The text part staff read first: what this mail is and which files it
 * brings, in Japanese, then the same in English. A delivery of sanitized
 * copies says so and names the files it leaves behind; both end with whom
 * to ask (NoticeContact); a forced release starts with the warning. */
static void write_note(struct mail_out *o, const struct tz_meta *m, const unsigned *parts,
		       unsigned n, int forced, const struct tz_release_words *w)
{
	char *sender = shown(*m->sender ? m->sender : "<>"), *subject = shown(m->subject);
	const char *contact = contact_of(w);   /* the admin's words (one config line), not a sender's */
	bool sanitized = all_sanitized(m, parts, n);
	GString *s = g_string_new(NULL);
	char *text, *b64;
	size_t len;

	if (forced)
		g_string_append_printf(s, FORCED_WARNING, contact);
	if (sanitized)
		g_string_append(s,
			"このメールは、インターネットから届いたメールの添付ファイルを、安全のため\n"
			"無害化(画像化・再変換)してお届けするものです。マクロ、スクリプト、リンクなどは\n"
			"取り除いています。\n\n");
	else
		g_string_append(s,
			"このメールは、安全のためお預かりしていた添付ファイルを、情報セキュリティ担当が\n"
			"確認したうえでお届けするものです。\n\n");
	g_string_append_printf(s, "  元のメールの差出人: %s\n  元のメールの件名: %s\n  お届けするファイル:\n",
			       sender, subject);
	note_files(s, m, parts, n, w, false);
	if (sanitized && note_held(s, m, parts, n, false) > 0)
		g_string_append_printf(s, "\n元のファイルが業務で必要なときは、参照番号を添えて%sへ\n"
				       "お問い合わせください。\n", contact);
	else
		g_string_append_printf(s, "\nご不明な点は、参照番号を添えて%sへお問い合わせください。\n",
				       contact);
	g_string_append(s, "\n--\n");
	if (forced)
		g_string_append(s, FORCED_WARNING_EN);
	if (sanitized)
		g_string_append(s,
			"This message delivers sanitized copies (rendered to images or re-encoded)\n"
			"of the attachments of a message from the Internet. Macros, scripts and links\n"
			"have been removed.\n\n");
	else
		g_string_append(s,
			"This message delivers file(s) from a message that was held for safety,\n"
			"after the security team checked them.\n\n");
	g_string_append_printf(s, "  Sender: %s\n  Subject: %s\n  Files:\n", sender, subject);
	note_files(s, m, parts, n, w, true);
	if (sanitized && note_held(s, m, parts, n, true) > 0)
		g_string_append(s, "\nIf you need an original file for your work, ask the contact above,\n"
				"quoting its reference.\n");
	g_free(sender);
	g_free(subject);
	text = g_string_free(s, FALSE);
	b64 = g_base64_encode((const guchar *)text, strlen(text));
	len = strlen(b64);

	for (size_t i = 0; i < len; i += 76) {
		put(o, b64 + i, MIN((size_t)76, len - i));
		puts_(o, "\n");
	}
	g_free(b64);
	g_free(text);
}

/* The body (everything after the header) into o, hashing as it goes. */
static int write_body(struct mail_out *o, struct tz_store *st, const struct tz_meta *m,
		      const unsigned *parts, unsigned n, const char *boundary,
		      int forced, const struct tz_release_words *w, char *err, size_t errlen)
{
	char *h = g_strdup_printf("This is a MIME message.\n\n--%s\nContent-Type: text/plain; charset=UTF-8\n"
				  "Content-Transfer-Encoding: base64\n\n", boundary);

	puts_(o, h);
	g_free(h);
	write_note(o, m, parts, n, forced, w);
	for (unsigned i = 0; i < n; i++) {
		const struct tz_meta_part *p = tz_meta_part_get(m, parts[i]);
		if (p == NULL)
			return tz_err(err, errlen, "%s has no part %u", m->id, parts[i]);
		if (write_attachment(o, st, m, p, boundary, err, errlen) < 0)
			return -1;
	}
	h = g_strdup_printf("--%s--\n", boundary);
	puts_(o, h);
	g_free(h);
	return o->failed ? tz_err(err, errlen, "writing the release mail failed") : 0;
}

/* Header text from stored data: no line breaks or controls can get in. */
static char *hsafe(const char *v)
{
	char *s = g_strdup(v ? v : "");

	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return s;
}

static char *header_block(const struct tz_meta *m, const char *from, const char *to,
			  const char *boundary, const char *marker, int sanitized)
{
	GString *s = g_string_new(NULL);
	char *subj_raw = g_strdup_printf("%s%s", sanitized ? "【添付ファイルの送付(無害化済み)】"
					 : "【添付ファイルの送付】", m->subject ? m->subject : "");
	/* the sender's Subject as hygiene writes one: controls and bidi
	 * controls blanked, a nested encoded word encoded (tz_hdrsafe) */
	char *subj = tz_hdrsafe_encode("Subject", subj_raw);
	char date[64], rnd[8], hex[17];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	RAND_bytes((unsigned char *)rnd, sizeof(rnd));
	tz_hex((unsigned char *)rnd, sizeof(rnd), hex);
	char *v = hsafe(from && *from ? from : (*m->sender ? m->sender : "MAILER-DAEMON"));

	g_string_append_printf(s, "From: %s\n", v);
	g_free(v);
	if (to && *to) {
		v = hsafe(to);
		g_string_append_printf(s, "To: %s\n", v);
		g_free(v);
	} else {
		g_string_append(s, "To: ");
		for (guint i = 0; i < m->rcpts->len; i++) {
			v = hsafe(g_ptr_array_index(m->rcpts, i));
			g_string_append_printf(s, "%s%s", i ? ",\n " : "", v);
			g_free(v);
		}
		g_string_append_c(s, '\n');
	}
	if (subj == NULL)   /* nothing to write, or a run too long to fold */
		subj = g_strdup("=?UTF-8?B?44CQ5re75LuY44OV44Kh44Kk44Or44Gu6YCB5LuY44CR?=");   /* 【添付ファイルの送付】 */
	for (char *p = subj; (p = strstr(p, "\r\n")) != NULL;)
		memmove(p, p + 1, strlen(p));   /* this message's lines end in LF */
	g_string_append_printf(s, "Subject: %s\nDate: %s\nMessage-ID: <%s.%s@textize.release>\n"
			       "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"%s\"\n"
			       "%s: %s\n\n", subj, date, m->id, hex, boundary, TZ_RELEASE_HEADER, marker);
	g_free(subj);
	g_free(subj_raw);
	return g_string_free(s, FALSE);
}

static int copy_fd(int from, int to)
{
	char buf[65536];
	ssize_t n;

	if (lseek(from, 0, SEEK_SET) < 0)
		return -1;
	while ((n = read(from, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || tz_write_all(to, buf, (size_t)n) < 0)
			return -1;
	}
	return 0;
}

int tz_release_write_mail(struct tz_store *st, const struct tz_meta *m, const unsigned *parts,
			  unsigned n, const char *from, const char *to,
			  const unsigned char key[TZ_KEY_LEN], int forced,
			  const struct tz_release_words *w, int outfd, char *err, size_t errlen)
{
	struct mail_out o = { -1, tz_release_hash_new(), 0, 0, EVP_MD_CTX_new(), 0 };
	GString *plist = g_string_new(NULL);
	char *tmpdir = g_build_filename(tz_store_dir(st), "tmp", NULL), *hdr = NULL;
	char boundary[64], rnd[8], hex[17], sha[65], marker[200];
	int rc = -1;

	for (unsigned i = 0; i < n; i++)
		g_string_append_printf(plist, "%s%u", i ? "," : "", parts[i]);
	RAND_bytes((unsigned char *)rnd, sizeof(rnd));
	tz_hex((unsigned char *)rnd, sizeof(rnd), hex);
	snprintf(boundary, sizeof(boundary), "=_textize_release_%s", hex);
	/* The body is built first (its hash goes into the header), in an
	 * unnamed file inside the queue: plaintext never gets a name on disk. */
	o.fd = open(tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (o.fd < 0) {
		tz_err(err, errlen, "%s: %s", tmpdir, strerror(errno));
		goto out;
	}
	if (write_body(&o, st, m, parts, n, boundary, forced, w, err, errlen) < 0)
		goto out;
	tz_release_hash_final(o.h, sha);
	o.h = NULL;
	if (tz_release_marker(key, m->id, plist->str, sha, marker, sizeof(marker)) < 0) {
		tz_err(err, errlen, "cannot make the release marker");
		goto out;
	}
	hdr = header_block(m, from, to, boundary, marker, all_sanitized(m, parts, n));
	if (tz_write_all(outfd, hdr, strlen(hdr)) < 0 || copy_fd(o.fd, outfd) < 0) {
		tz_err(err, errlen, "writing the release mail: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (o.fd >= 0)
		close(o.fd);
	tz_release_hash_free(o.h);
	EVP_MD_CTX_free(o.md);
	g_string_free(plist, TRUE);
	g_free(tmpdir);
	g_free(hdr);
	return rc;
}
