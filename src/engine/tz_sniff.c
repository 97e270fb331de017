/* tz_sniff.c — streaming inspection of stripped parts: hash, magic type and
 * risk flags. Everything here reads attacker-controlled bytes, so every
 * structure parsed (ZIP local headers) is bounds-checked and only the head
 * of the content (TZ_SNIFF_HEAD bytes) is ever kept. */
#define _GNU_SOURCE 1   /* memmem */
#include "tz_sniff.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <magic.h>
#include <openssl/evp.h>

#include "tz_util.h"

#define TZ_SNIFF_HEAD (64 * 1024)   /* what libmagic sees */
#define PAT_TAIL 40                 /* longest pattern - 1, carried across chunks */
#define ZIP_NAME_MAX 512

enum zip_state { ZIP_SCAN = 0, ZIP_HEADER, ZIP_NAME };

struct tz_sniff {
	EVP_MD_CTX *md;
	uint64_t size;
	unsigned char *head;        /* first TZ_SNIFF_HEAD bytes */
	size_t head_len;
	unsigned char tail[PAT_TAIL];
	size_t tail_len;
	unsigned risk;              /* found in the content so far */
	/* ZIP local header scanner (only when the content starts with PK\3\4) */
	bool zip, ooxml, odf;
	uint32_t window;
	enum zip_state zstate;
	unsigned char zhdr[26];
	size_t zgot, zname_len;
	char zname[ZIP_NAME_MAX + 1];
	bool ole, pdf;
	bool kinds_known;          /* zip/ole/pdf decided from the first bytes */
};

/* ------------------------------------------------------------ libmagic */

/* libmagic handles are not thread-safe, and every handle maps the whole
 * compiled database (magic.mgc, 8.3 MB here) and touches up to ~10 MB of
 * it once it has typed a few kinds of file. One handle per thread made
 * textize-milter's RSS grow with its libmilter worker threads: 17
 * handles, 93 MB of its 134 MB at 200 concurrent sessions
 * (docs/performance.md). One handle serves every thread: a call takes
 * 30-250 µs on a 64 KiB head (a text head 1.5 ms, but clean text never
 * reaches libmagic), short beside a conversion, while a second handle
 * (one per CPU until issue 16's seventh pass) kept up to ~10 MB more
 * resident against the milter's 64 MB bound at 200 x 10 MB. The pool
 * keeps the wait-for-a-handle logic should that change. Handles live
 * until the process ends. */
#define MAGIC_POOL_MAX 1

static pthread_mutex_t magic_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t magic_cv = PTHREAD_COND_INITIALIZER;
static magic_t magic_idle[MAGIC_POOL_MAX];
static unsigned magic_nidle, magic_nopen;

static magic_t magic_open_handle(void)
{
	/* No decompression: a zip bomb inside gzip must not be unpacked here. */
	magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR);

	if (m != NULL && magic_load(m, NULL) != 0) {
		magic_close(m);
		m = NULL;
	}
	return m;
}

/* An idle handle, a new one while fewer than MAGIC_POOL_MAX exist, else wait
 * for one. NULL when libmagic cannot load its database. */
static magic_t magic_get(void)
{
	magic_t m = NULL;

	pthread_mutex_lock(&magic_mu);
	for (;;) {
		if (magic_nidle > 0) {
			m = magic_idle[--magic_nidle];
			break;
		}
		if (magic_nopen < MAGIC_POOL_MAX) {
			magic_nopen++;
			pthread_mutex_unlock(&magic_mu);
			m = magic_open_handle();   /* loading takes a while: unlocked */
			pthread_mutex_lock(&magic_mu);
			if (m == NULL) {
				magic_nopen--;
				pthread_cond_signal(&magic_cv);   /* a waiter may try itself */
			}
			break;
		}
		pthread_cond_wait(&magic_cv, &magic_mu);
	}
	pthread_mutex_unlock(&magic_mu);
	return m;
}

static void magic_put(magic_t m)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&magic_mu);
	magic_idle[magic_nidle++] = m;
	pthread_cond_signal(&magic_cv);
	pthread_mutex_unlock(&magic_mu);
}

void tz_sniff_thread_init(void)
{
	magic_put(magic_get());
}

/* Valid UTF-8 (a sequence cut by the end of the head is fine) without the
 * control bytes that make libmagic call a buffer binary. */
static bool looks_clean_text(const unsigned char *p, size_t len)
{
	const char *end;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		if ((c < 0x20 && !(c >= 0x07 && c <= 0x0d) && c != 0x1b) || c == 0x7f)
			return false;
	}
	if (g_utf8_validate((const char *)p, (gssize)len, &end))
		return true;
	/* Only an incomplete last sequence may remain: a lead byte and at most
	 * two continuation bytes. */
	if (len - (size_t)((const unsigned char *)end - p) > 3 || (unsigned char)*end < 0xc2)
		return false;
	for (const unsigned char *q = (const unsigned char *)end + 1; q < p + len; q++)
		if ((*q & 0xc0) != 0x80)
			return false;
	return true;
}

/* libmagic 5.44 compiles the regex of every text rule it tries on each
 * call, so one text buffer costs 0.3-1.5 ms whatever its size — for the
 * HTML alternative of an ordinary mail, more than the whole rest of the
 * conversion (docs/performance.md). A head that starts with an HTML
 * document marker (after a BOM and blanks) and is clean UTF-8 text is what
 * libmagic answers text/html for (its sgml rules, checked against libmagic
 * itself in test_sniff); answer that without it. "%PDF-" in the first KiB
 * wins over HTML in libmagic's database (a search rule), so such a head
 * still goes to libmagic. Anything else goes to libmagic too. */
static bool obvious_html(const unsigned char *p, size_t len)
{
	static const char *const markers[] = { "<!doctype", "<html" };
	const unsigned char *q = p, *e = p + len;

	if (len >= 3 && memcmp(q, "\xef\xbb\xbf", 3) == 0)
		q += 3;
	while (q < e && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
		q++;
	for (size_t k = 0; k < G_N_ELEMENTS(markers); k++) {
		size_t n = strlen(markers[k]);
		const unsigned char *r = q + n;

		if ((size_t)(e - q) <= n || g_ascii_strncasecmp((const char *)q, markers[k], n) != 0)
			continue;
		if (k == 0) {   /* <!doctype html: blanks, then "html" */
			if (!g_ascii_isspace(*r))
				continue;
			while (r < e && g_ascii_isspace(*r))
				r++;
			if ((size_t)(e - r) < 5 || g_ascii_strncasecmp((const char *)r, "html", 4) != 0)
				continue;
			r += 4;
		}
		if (r < e && (*r == '>' || g_ascii_isspace(*r)))
			return !memmem(p, MIN(len, (size_t)1024), "%PDF-", 5) && looks_clean_text(p, len);
	}
	return false;
}

char *tz_sniff_magic_type(const void *buf, size_t len)
{
	magic_t m;
	const char *t = NULL;
	char *r;

	if (len == 0)
		return g_strdup("application/x-empty");
	if (obvious_html(buf, len))
		return g_strdup("text/html");
	m = magic_get();
	if (m != NULL)
		t = magic_buffer(m, buf, len);
	if (t == NULL || *t == '\0' || strchr(t, '/') == NULL)
		t = "application/octet-stream";
	r = g_ascii_strdown(t, -1);   /* t lives in the handle: copy before giving it back */
	magic_put(m);
	return r;
}

/* ------------------------------------------------------------ scanner */

struct tz_sniff *tz_sniff_new(void)
{
	struct tz_sniff *s = g_new0(struct tz_sniff, 1);

	s->md = EVP_MD_CTX_new();
	if (s->md == NULL || EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1) {
		tz_sniff_free(s);
		return NULL;
	}
	s->head = g_malloc(TZ_SNIFF_HEAD);
	return s;
}

void tz_sniff_free(struct tz_sniff *s)
{
	if (s == NULL)
		return;
	EVP_MD_CTX_free(s->md);
	g_free(s->head);
	g_free(s);
}

static bool has_suffix_ci(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && g_ascii_strcasecmp(s + n - m, suffix) == 0;
}

static bool is_exec_ext(const char *ext);

/* One complete ZIP local header (name in s->zname). */
static void zip_entry(struct tz_sniff *s)
{
	unsigned flags = s->zhdr[2] | (s->zhdr[3] << 8);
	const char *dot;

	if (flags & 1)
		s->risk |= TZ_RISK_ENCRYPTED_ZIP;
	if (strcmp(s->zname, "[Content_Types].xml") == 0)
		s->ooxml = true;
	if (strcmp(s->zname, "mimetype") == 0)
		s->odf = true;
	if (has_suffix_ci(s->zname, "vbaProject.bin") || has_suffix_ci(s->zname, "vbaProjectSignature.bin"))
		s->risk |= TZ_RISK_MACRO;
	if (s->odf && g_str_has_prefix(s->zname, "Basic/") && has_suffix_ci(s->zname, ".xml")
	    && !has_suffix_ci(s->zname, "script-lc.xml"))
		s->risk |= TZ_RISK_MACRO;
	dot = strrchr(s->zname, '.');
	if (dot != NULL && strchr(dot, '/') == NULL && is_exec_ext(dot + 1))
		s->risk |= TZ_RISK_EXECUTABLE;
}

/* State machine over the whole content: finds every local header
 * signature, then collects its fixed part and name across chunk borders.
 * Between headers (nearly all of the bytes) memmem finds the next
 * signature; only the first bytes after a chunk border or a header go
 * through the byte window, for a signature split across the border. */
static void zip_scan(struct tz_sniff *s, const unsigned char *p, size_t len)
{
	size_t from = 0;   /* where the current ZIP_SCAN run began in this chunk */

	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];

		switch (s->zstate) {
		case ZIP_SCAN:
			if (i >= from + 3) {
				/* Signatures ending before i were seen by the window. */
				const unsigned char *hit = memmem(p + i - 3, len - (i - 3), "PK\3\4", 4);

				if (hit == NULL) {
					s->window = ((uint32_t)p[len - 3] << 16) | ((uint32_t)p[len - 2] << 8)
						    | p[len - 1];
					return;
				}
				i = (size_t)(hit - p) + 3;
				s->window = 0x504b0304u;
				s->zstate = ZIP_HEADER;
				s->zgot = 0;
				break;
			}
			s->window = (s->window << 8) | c;
			if (s->window == 0x504b0304u) {
				s->zstate = ZIP_HEADER;
				s->zgot = 0;
			}
			break;
		case ZIP_HEADER:
			s->zhdr[s->zgot++] = c;
			if (s->zgot == sizeof(s->zhdr)) {
				s->zname_len = s->zhdr[22] | (s->zhdr[23] << 8);
				s->zgot = 0;
				/* Implausible headers are data that happened to contain the signature. */
				if (s->zname_len == 0 || s->zname_len > 4096 || s->zhdr[0] > 100) {
					s->zstate = ZIP_SCAN;
					s->window = 0;
					from = i + 1;
				} else {
					s->zstate = ZIP_NAME;
				}
			}
			break;
		case ZIP_NAME:
			if (s->zgot < ZIP_NAME_MAX)
				s->zname[s->zgot] = (char)c;
			s->zgot++;
			if (s->zgot == s->zname_len) {
				s->zname[MIN(s->zgot, (size_t)ZIP_NAME_MAX)] = '\0';
				zip_entry(s);
				s->zstate = ZIP_SCAN;
				s->window = 0;
				from = i + 1;
			}
			break;
		}
	}
}

struct pattern {
	const char *bytes;
	size_t len;
	unsigned risk;
	bool ole;      /* only in OLE compound files, else only in PDF */
};

static const struct pattern patterns[] = {
	{ "_\0V\0B\0A\0_\0P\0R\0O\0J\0E\0C\0T\0", 24, TZ_RISK_MACRO, true },
	{ "E\0n\0c\0r\0y\0p\0t\0e\0d\0P\0a\0c\0k\0a\0g\0e\0", 32, TZ_RISK_ENCRYPTED_ZIP, true },
	{ "/JavaScript", 11, TZ_RISK_SCRIPT, false },
	{ "/JS", 3, TZ_RISK_SCRIPT, false },
	{ "/Launch", 7, TZ_RISK_SCRIPT, false },
};

/* Any of the PDF (non-OLE) patterns, all names starting with '/': one
 * memchr pass instead of one memmem per pattern (random-looking stream
 * data makes memmem with a 3-byte needle slow). */
static bool pdf_has_action(const unsigned char *p, size_t len)
{
	const unsigned char *q = p, *e = p + len;

	while ((q = memchr(q, '/', (size_t)(e - q))) != NULL) {
		for (size_t k = 0; k < G_N_ELEMENTS(patterns); k++) {
			const struct pattern *pt = &patterns[k];
			if (!pt->ole && (size_t)(e - q) >= pt->len && memcmp(q, pt->bytes, pt->len) == 0)
				return true;
		}
		q++;
	}
	return false;
}

/* Search the patterns in (carried tail + this chunk) without copying the
 * chunk: the border region is searched in a small scratch buffer. */
static void pattern_scan(struct tz_sniff *s, const unsigned char *p, size_t len)
{
	unsigned char border[2 * PAT_TAIL];
	size_t blen, take = MIN(len, (size_t)PAT_TAIL);

	memcpy(border, s->tail, s->tail_len);
	memcpy(border + s->tail_len, p, take);
	blen = s->tail_len + take;
	if (s->pdf && !(s->risk & TZ_RISK_SCRIPT) && (pdf_has_action(border, blen) || pdf_has_action(p, len)))
		s->risk |= TZ_RISK_SCRIPT;
	for (size_t k = 0; k < G_N_ELEMENTS(patterns) && s->ole; k++) {
		const struct pattern *pt = &patterns[k];
		if (!pt->ole || (s->risk & pt->risk))
			continue;
		if (memmem(border, blen, pt->bytes, pt->len) || memmem(p, len, pt->bytes, pt->len))
			s->risk |= pt->risk;
	}
	if (len >= PAT_TAIL) {
		memcpy(s->tail, p + len - PAT_TAIL, PAT_TAIL);
		s->tail_len = PAT_TAIL;
	} else {
		/* Keep the last PAT_TAIL bytes of old tail + p. */
		size_t keep = MIN(blen, (size_t)PAT_TAIL);
		memmove(s->tail, border + blen - keep, keep);
		s->tail_len = keep;
	}
}

/* Decide the container kind from the first bytes, then run the scanners
 * over everything seen so far (all of it is still in the head). */
static void decide_kinds(struct tz_sniff *s)
{
	s->kinds_known = true;
	s->zip = s->head_len >= 4 && memcmp(s->head, "PK\3\4", 4) == 0;
	s->ole = s->head_len >= 8 && memcmp(s->head, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8) == 0;
	s->pdf = s->head_len >= 5 && memcmp(s->head, "%PDF-", 5) == 0;
	if (s->zip)
		zip_scan(s, s->head, s->head_len);
	if (s->ole || s->pdf)
		pattern_scan(s, s->head, s->head_len);
}

void tz_sniff_update(struct tz_sniff *s, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (len == 0)
		return;
	EVP_DigestUpdate(s->md, buf, len);
	s->size += len;
	if (s->head_len < TZ_SNIFF_HEAD) {
		size_t n = MIN(len, TZ_SNIFF_HEAD - s->head_len);
		memcpy(s->head + s->head_len, p, n);
		s->head_len += n;
		if (!s->kinds_known) {
			if (s->head_len >= 8)
				decide_kinds(s);   /* scans all of p that is in the head */
			if (n == len)
				return;
			p += n;
			len -= n;
			if (!s->kinds_known)
				return;
		}
	}
	if (s->zip)
		zip_scan(s, p, len);
	if (s->ole || s->pdf)
		pattern_scan(s, p, len);
}

/* ------------------------------------------------------------ names */

static bool in_list(const char *ext, const char *const *list)
{
	for (; *list; list++)
		if (g_ascii_strcasecmp(ext, *list) == 0)
			return true;
	return false;
}

static const char *const exec_exts[] = {
	"exe", "scr", "com", "pif", "bat", "cmd", "js", "jse", "vbs", "vbe", "vb",
	"wsf", "wsh", "wsc", "hta", "lnk", "msi", "msp", "mst", "dll", "cpl", "ocx",
	"ps1", "psm1", "psd1", "jar", "reg", "scf", "inf", "sct", "chm", "application",
	"gadget", "msc", "url", "iqy", "slk", "appref-ms", "xll", "settingcontent-ms",
	"one", "sys", "drv", "elf", "sh", "app", "apk", "dmg", "pkg", "deb", "rpm", NULL,
};
static const char *const archive_exts[] = {
	"zip", "rar", "7z", "gz", "tgz", "bz2", "tbz", "xz", "txz", "lzh", "lha", "iso",
	"img", "vhd", "vhdx", "cab", "tar", "arj", "z", "ace", "zst", "zipx", "uue", NULL,
};
static const char *const macro_exts[] = {
	"docm", "dotm", "xlsm", "xltm", "xlam", "pptm", "potm", "ppsm", "ppam", "sldm", NULL,
};
static const char *const script_exts[] = {
	"html", "htm", "xhtml", "shtml", "svg", "mht", "mhtml", "xht", NULL,
};

static bool is_exec_ext(const char *ext)
{
	return in_list(ext, exec_exts);
}

/* The extension Windows would act on: after the last dot, with trailing
 * dots and spaces removed (Explorer ignores them). Lower-case, g_free(). */
static char *name_ext(const char *name, char **stem_out)
{
	char *n = g_strdup(name), *dot, *ext;
	size_t len = strlen(n);

	while (len > 0 && (n[len - 1] == '.' || n[len - 1] == ' '))
		n[--len] = '\0';
	dot = strrchr(n, '.');
	if (dot == NULL || dot[1] == '\0' || strlen(dot + 1) > 20) {
		g_free(n);
		return NULL;
	}
	ext = g_ascii_strdown(dot + 1, -1);
	*dot = '\0';
	if (stem_out != NULL)
		*stem_out = n;
	else
		g_free(n);
	return ext;
}

/* bidi overrides/isolates/marks, C0, DEL, C1 */
static bool has_control(const char *s)
{
	const char *p = s;

	while (*p) {
		gunichar u = g_utf8_get_char_validated(p, -1);
		if (u == (gunichar)-1 || u == (gunichar)-2)
			return true;
		if (u < 0x20 || (u >= 0x7f && u <= 0x9f) || (u >= 0x202a && u <= 0x202e)
		    || (u >= 0x2066 && u <= 0x2069) || u == 0x200e || u == 0x200f || u == 0x061c)
			return true;
		p = g_utf8_next_char(p);
	}
	return false;
}

unsigned tz_sniff_name_risk(const char *name)
{
	unsigned risk = 0;
	char *stem = NULL, *ext, *ext2;

	if (name == NULL || *name == '\0')
		return 0;
	if (has_control(name))
		risk |= TZ_RISK_NAME_CONTROL;
	ext = name_ext(name, &stem);
	if (ext == NULL)
		return risk;
	if (in_list(ext, exec_exts))
		risk |= TZ_RISK_EXECUTABLE;
	if (in_list(ext, archive_exts))
		risk |= TZ_RISK_ARCHIVE;
	if (in_list(ext, macro_exts))
		risk |= TZ_RISK_MACRO;
	if (in_list(ext, script_exts))
		risk |= TZ_RISK_SCRIPT;
	/* "invoice.pdf.exe", "photo.jpg      .scr": a second extension in
	 * front of a dangerous one is there to mislead the reader. */
	ext2 = name_ext(stem, NULL);
	if (ext2 != NULL && (risk & (TZ_RISK_EXECUTABLE | TZ_RISK_SCRIPT))
	    && strspn(ext2, "abcdefghijklmnopqrstuvwxyz0123456789") == strlen(ext2) && strlen(ext2) <= 5)
		risk |= TZ_RISK_DOUBLE_EXT;
	else if (risk & TZ_RISK_EXECUTABLE && strstr(stem, "   ") != NULL)
		risk |= TZ_RISK_DOUBLE_EXT;
	g_free(ext2);
	g_free(ext);
	g_free(stem);
	return risk;
}

/* ------------------------------------------------------------ types */

/* Broad family of a MIME type for the declared/detected comparison; NULL
 * when the type says nothing (octet-stream, unknown). */
static const char *type_class(const char *t)
{
	static const char *const exe[] = {
		"application/x-dosexec", "application/x-executable", "application/x-sharedlib",
		"application/x-pie-executable", "application/x-mach-binary",
		"application/vnd.microsoft.portable-executable", "application/x-msdownload",
		"application/x-msdos-program", "application/x-ms-shortcut", "application/x-ms-installer",
		"application/x-msi", NULL };
	static const char *const archive[] = {
		"application/zip", "application/x-zip-compressed", "application/x-rar",
		"application/vnd.rar", "application/x-rar-compressed", "application/x-7z-compressed",
		"application/gzip", "application/x-gzip", "application/x-bzip2", "application/x-xz",
		"application/x-lzh-compressed", "application/x-lha", "application/x-iso9660-image",
		"application/x-tar", "application/vnd.ms-cab-compressed", "application/x-arj",
		"application/zstd", "application/java-archive", NULL };
	static const char *const script[] = {
		"text/html", "application/xhtml+xml", "image/svg+xml", "text/javascript",
		"application/javascript", "application/x-javascript", "text/x-shellscript",
		"application/x-shellscript", "text/x-python", "text/x-perl", "text/x-php",
		"text/x-msdos-batch", "application/hta", "text/vbscript", NULL };
	static const char *const ole[] = {
		"application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
		"application/x-ole-storage", "application/cdfv2", "application/vnd.ms-outlook",
		"application/vnd.ms-office", NULL };

	if (t == NULL)
		return NULL;
	if (in_list(t, exe))
		return "exe";
	if (in_list(t, script))
		return "script";
	if (in_list(t, archive) || g_str_has_prefix(t, "application/vnd.openxmlformats")
	    || g_str_has_prefix(t, "application/vnd.oasis.opendocument")
	    || strcmp(t, "application/epub+zip") == 0)
		return "zip";
	if (in_list(t, ole) || g_str_has_prefix(t, "application/vnd.ms-"))
		return "ole";
	if (strcmp(t, "application/pdf") == 0)
		return "pdf";
	if (g_str_has_prefix(t, "text/"))
		return "text";
	if (g_str_has_prefix(t, "image/"))
		return "image";
	if (g_str_has_prefix(t, "audio/"))
		return "audio";
	if (g_str_has_prefix(t, "video/"))
		return "video";
	return NULL;
}

/* Family implied by a file extension, NULL when unknown. */
static const char *ext_class(const char *name)
{
	static const struct { const char *ext, *cls; } map[] = {
		{ "pdf", "pdf" }, { "txt", "text" }, { "csv", "text" }, { "jpg", "image" },
		{ "jpeg", "image" }, { "png", "image" }, { "gif", "image" }, { "bmp", "image" },
		{ "doc", "ole" }, { "xls", "ole" }, { "ppt", "ole" }, { "docx", "zip" },
		{ "xlsx", "zip" }, { "pptx", "zip" }, { "zip", "zip" }, { "odt", "zip" },
		{ "ods", "zip" }, { "exe", "exe" }, { "html", "script" }, { "htm", "script" },
	};
	char *ext = name != NULL ? name_ext(name, NULL) : NULL;
	const char *cls = NULL;

	if (ext == NULL)
		return NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(map); i++)
		if (strcmp(ext, map[i].ext) == 0)
			cls = map[i].cls;
	g_free(ext);
	return cls;
}

/* Disagreement worth telling the security team about. Office documents
 * labelled with the wrong Office type (CSV sent as vnd.ms-excel, DOCX as
 * msword) are everyday mislabelling, not a sign of attack. */
static bool classes_conflict(const char *a, const char *b)
{
	if (a == NULL || b == NULL || strcmp(a, b) == 0)
		return false;
	if ((strcmp(a, "ole") == 0 && (strcmp(b, "text") == 0 || strcmp(b, "zip") == 0))
	    || (strcmp(b, "ole") == 0 && (strcmp(a, "text") == 0 || strcmp(a, "zip") == 0)))
		return false;
	return true;
}

static unsigned type_risk(const char *declared, const char *detected, const char *name)
{
	const char *dc = type_class(detected);
	unsigned risk = 0;

	if (dc != NULL && strcmp(dc, "exe") == 0)
		risk |= TZ_RISK_EXECUTABLE;
	if (dc != NULL && strcmp(dc, "script") == 0)
		risk |= TZ_RISK_SCRIPT;
	if (type_class(declared) != NULL && strcmp(type_class(declared), "exe") == 0)
		risk |= TZ_RISK_EXECUTABLE;
	if (type_class(declared) != NULL && strcmp(type_class(declared), "script") == 0)
		risk |= TZ_RISK_SCRIPT;
	if (classes_conflict(type_class(declared), dc) || classes_conflict(ext_class(name), dc))
		risk |= TZ_RISK_TYPE_MISMATCH;
	return risk;
}

int tz_sniff_finish(struct tz_sniff *s, struct tz_part *p, const char *raw_name,
		    char *err, size_t errlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	const char *t;

	if (!s->kinds_known)
		decide_kinds(s);
	if (EVP_DigestFinal_ex(s->md, md, &mdlen) != 1 || mdlen != 32)
		return tz_err(err, errlen, "SHA-256 failed");
	tz_hex(md, 32, p->sha256);
	p->size = s->size;
	g_free(p->detected_type);
	p->detected_type = tz_sniff_magic_type(s->head, s->head_len);
	t = p->detected_type;
	p->risk |= s->risk;
	p->risk |= tz_sniff_name_risk(p->filename);
	if (raw_name != NULL && has_control(raw_name))
		p->risk |= TZ_RISK_NAME_CONTROL;
	p->risk |= type_risk(p->declared_type, t, p->filename);
	if (s->zip && !s->ooxml && !s->odf)
		p->risk |= TZ_RISK_ARCHIVE;
	if (!s->zip && type_class(t) != NULL && strcmp(type_class(t), "zip") == 0
	    && !g_str_has_prefix(t, "application/vnd.") && strcmp(t, "application/epub+zip") != 0)
		p->risk |= TZ_RISK_ARCHIVE;   /* rar, 7z, gzip, lzh, iso, cab ... */
	return 0;
}
