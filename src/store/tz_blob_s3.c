/* tz_blob_s3.c — BlobStore s3: blobs as objects <bucket>/<id>/<name> of an
 * S3-compatible store (Ceph radosgw, AWS S3, ...), path-style URLs, every
 * request signed with AWS Signature Version 4 by libcurl
 * (CURLOPT_AWS_SIGV4), the payload's SHA-256 sent and signed
 * (x-amz-content-sha256) so the store refuses a body changed in flight.
 *
 * Bounded: each request has a connect and a total timeout; a request that
 * fails in transport or with 5xx is tried again at most `retries` times
 * (every request here is idempotent: PUT of the same bytes, GET, DELETE,
 * LIST), with 200 ms, 400 ms ... between; anything else is an error and
 * the store fails closed. A PUT is acknowledged by the store only when the
 * object is durable (S3's contract; radosgw writes it to its OSDs first). */
#include "tz_blob.h"
#include "tz_s3.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "tz_html.h"   /* tz_html_init: libxml2 set up before threads race to it */
#include "tz_util.h"

#define LIST_PAGE 1000        /* keys per LIST page (S3's own bound) */
#define LIST_MAX (8u << 20)   /* one LIST page's XML: 1000 keys of at most ~260 bytes, and slack */
#define ERR_BODY 300          /* of an error response, for the log */

struct blob_s3 {
	struct tz_blob b;
	char *endpoint, *bucket, *region, *key_id, *secret;
	unsigned timeout_ms, retries;
};

#define BS(b) ((struct blob_s3 *)(void *)(b))

int tz_s3_sign(CURL *h, const char *region, const char *service, const char *key_id,
	       const char *secret, char *err, size_t errlen)
{
	char *prov = g_strdup_printf("aws:amz:%s:%s", region, service);
	int bad = curl_easy_setopt(h, CURLOPT_AWS_SIGV4, prov) != CURLE_OK ||
		  curl_easy_setopt(h, CURLOPT_USERNAME, key_id) != CURLE_OK ||
		  curl_easy_setopt(h, CURLOPT_PASSWORD, secret) != CURLE_OK;

	g_free(prov);
	return bad ? tz_err(err, errlen, "S3: this libcurl cannot sign with AWS SigV4 (7.75 or later needed)")
		   : 0;
}

int tz_s3_load_keys(const char *path, char **key_id, char **secret, char *err, size_t errlen)
{
	gchar *text = NULL, **tok = NULL;
	struct stat sb;
	int rc = -1, fd = open(path ? path : "", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	guint n = 0;

	*key_id = *secret = NULL;
	if (fd < 0)
		return tz_err(err, errlen, "S3AccessKeyFile %s: %s", path ? path : "(not set)", strerror(errno));
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size > 4096) {
		tz_err(err, errlen, "S3AccessKeyFile %s: not a small regular file", path);
		goto out;
	}
	if (sb.st_mode & 0077) {   /* a secret others can read is no secret */
		tz_err(err, errlen, "S3AccessKeyFile %s: mode %03o, must be 0600 or 0400", path,
		       (unsigned)(sb.st_mode & 0777));
		goto out;
	}
	close(fd);
	fd = -1;
	if (!g_file_get_contents(path, &text, NULL, NULL)) {
		tz_err(err, errlen, "S3AccessKeyFile %s: cannot read", path);
		goto out;
	}
	tok = g_strsplit_set(g_strstrip(text), " \t\r\n", -1);
	for (guint i = 0; tok[i]; i++) {   /* the non-empty fields */
		if (*tok[i] == '\0')
			continue;
		if (n == 0)
			*key_id = g_strdup(tok[i]);
		else if (n == 1)
			*secret = g_strdup(tok[i]);
		n++;
	}
	if (n != 2) {
		tz_err(err, errlen, "S3AccessKeyFile %s: want the access key id and the secret", path);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0) {
		g_free(*key_id);
		if (*secret)
			memset(*secret, 0, strlen(*secret));
		g_free(*secret);
		*key_id = *secret = NULL;
	}
	for (guint i = 0; tok && tok[i]; i++)
		memset(tok[i], 0, strlen(tok[i]));
	g_strfreev(tok);
	if (text) {
		memset(text, 0, strlen(text));
		g_free(text);
	}
	return rc;
}

/* ---- one request ---- */

struct req {
	const char *method;        /* GET PUT DELETE */
	char *url;
	int infd;                  /* PUT: the body, from offset 0 */
	uint64_t insize, inpos;
	char sha[65];              /* of the body */
	int outfd;                 /* GET into a file (-1: into mem) */
	uint64_t max, got;
	GByteArray *mem;           /* GET into memory, and error bodies */
	long status;
};

static size_t on_read(char *buf, size_t size, size_t n, void *ctx)
{
	struct req *r = ctx;
	size_t want = size * n;
	ssize_t got;

	if (want > r->insize - r->inpos)
		want = (size_t)(r->insize - r->inpos);
	if (want == 0)
		return 0;
	do
		got = pread(r->infd, buf, want, (off_t)r->inpos);
	while (got < 0 && errno == EINTR);
	if (got <= 0)
		return CURL_READFUNC_ABORT;
	r->inpos += (uint64_t)got;
	return (size_t)got;
}

static size_t on_write(char *buf, size_t size, size_t n, void *ctx)
{
	struct req *r = ctx;
	size_t len = size * n;

	r->got += len;
	if (r->got > r->max)
		return 0;   /* aborts the transfer */
	/* Only a 2xx body goes to the caller's file; others are kept short
	 * for the error message. */
	if (r->outfd >= 0 && r->status == 200)
		return tz_write_all(r->outfd, buf, len) == 0 ? len : 0;
	if (r->mem && r->mem->len < (r->outfd >= 0 ? ERR_BODY : r->max))
		g_byte_array_append(r->mem, (const guint8 *)buf, (guint)len);
	return len;
}

static size_t on_header(char *buf, size_t size, size_t n, void *ctx)
{
	struct req *r = ctx;
	int code;

	/* the status line of the final response (a 100 Continue comes first) */
	if (size * n > 12 && strncmp(buf, "HTTP/", 5) == 0 &&
	    sscanf(buf, "HTTP/%*s %d", &code) == 1)
		r->status = code;
	return size * n;
}

static void sha256_hex_fd(int fd, uint64_t size, char out[65])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char buf[65536], md[32];
	uint64_t at = 0;

	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	while (fd >= 0 && at < size) {
		ssize_t got = pread(fd, buf, size - at < sizeof(buf) ? (size_t)(size - at) : sizeof(buf),
				    (off_t)at);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;   /* short: the PUT's read then fails too */
		EVP_DigestUpdate(c, buf, (size_t)got);
		at += (uint64_t)got;
	}
	EVP_DigestFinal_ex(c, md, NULL);
	EVP_MD_CTX_free(c);
	tz_hex(md, sizeof(md), out);
}

static CURLcode perform(struct blob_s3 *s, struct req *r, char *err, size_t errlen)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hd = NULL;
	char line[128];
	CURLcode cc;

	if (h == NULL)
		return CURLE_OUT_OF_MEMORY;
	if (tz_s3_sign(h, s->region, "s3", s->key_id, s->secret, err, errlen) < 0) {
		curl_easy_cleanup(h);
		return CURLE_NOT_BUILT_IN;
	}
	snprintf(line, sizeof(line), "x-amz-content-sha256: %s", r->sha);
	/* Only headers that are sent: libcurl signs every header in this list,
	 * so an "Expect:" (a header removed) here breaks the signature. */
	hd = curl_slist_append(hd, line);
	curl_easy_setopt(h, CURLOPT_URL, r->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);   /* threads: no SIGALRM */
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(s->timeout_ms < 5000 ? s->timeout_ms : 5000));
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	if (strcmp(r->method, "PUT") == 0) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, r);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->insize);
	} else if (strcmp(r->method, "DELETE") == 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
	}
	cc = curl_easy_perform(h);
	curl_slist_free_all(hd);
	curl_easy_cleanup(h);
	return cc;
}

/* The request, tried again on transport errors and 5xx. The final HTTP
 * status, or -1 with err. ok_status: statuses that are not errors. */
static long run(struct blob_s3 *s, struct req *r, const char *what, char *err, size_t errlen)
{
	off_t out0 = r->outfd >= 0 ? lseek(r->outfd, 0, SEEK_CUR) : 0;
	char why[TZ_ERRLEN] = "";

	for (unsigned i = 0; i <= s->retries; i++) {
		CURLcode cc;
		if (i > 0) {
			g_usleep(200000UL << (i - 1));
			if (r->outfd >= 0 && (ftruncate(r->outfd, out0) < 0 || lseek(r->outfd, out0, SEEK_SET) < 0))
				return tz_err(err, errlen, "S3 %s: temporary file: %s", what, strerror(errno));
		}
		r->status = 0;
		r->inpos = r->got = 0;
		if (r->mem)
			g_byte_array_set_size(r->mem, 0);
		cc = perform(s, r, why, sizeof(why));
		if (cc == CURLE_NOT_BUILT_IN)
			return tz_err(err, errlen, "%s", why);
		if (cc == CURLE_WRITE_ERROR && r->got > r->max)
			return tz_err(err, errlen, "S3 %s: more than %" G_GUINT64_FORMAT " bytes", what, r->max);
		if (cc != CURLE_OK) {
			snprintf(why, sizeof(why), "%s", curl_easy_strerror(cc));
			continue;
		}
		if (r->status >= 500) {
			snprintf(why, sizeof(why), "HTTP %ld", r->status);
			continue;
		}
		return r->status;
	}
	return tz_err(err, errlen, "S3 %s %s: %s (after %u tries)", r->method, what, why, s->retries + 1);
}

/* err = the store's answer: status and its <Code>, printable. -1. */
static int refused(struct req *r, const char *what, char *err, size_t errlen)
{
	char *body = r->mem ? tz_printable((const char *)r->mem->data, r->mem->len < ERR_BODY ?
					   r->mem->len : ERR_BODY) : NULL;
	const char *code = body ? strstr(body, "<Code>") : NULL;

	tz_err(err, errlen, "S3 %s %s: HTTP %ld%s%.*s", r->method, what, r->status, code ? " " : "",
	       code ? (int)strcspn(code + 6, "<") : 0, code ? code + 6 : "");
	g_free(body);
	return -1;
}

static char *object_url(struct blob_s3 *s, const char *id, const char *name)
{
	return g_strdup_printf("%s/%s/%s/%s", s->endpoint, s->bucket, id, name);
}

#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static int s3_put(struct tz_blob *b, const char *id, const char *name, int fd, uint64_t size,
		  char *err, size_t errlen)
{
	struct blob_s3 *s = BS(b);
	struct req r = { "PUT", object_url(s, id, name), fd, size, 0, "", -1, 1u << 20, 0,
			 g_byte_array_new(), 0 };
	long st;

	sha256_hex_fd(fd, size, r.sha);
	st = run(s, &r, r.url + strlen(s->endpoint), err, errlen);
	if (st >= 0 && st != 200)
		refused(&r, r.url + strlen(s->endpoint), err, errlen);
	g_free(r.url);
	g_byte_array_unref(r.mem);
	return st == 200 ? 0 : -1;
}

static int s3_get(struct tz_blob *b, const char *id, const char *name, int outfd, uint64_t max,
		  char *err, size_t errlen)
{
	struct blob_s3 *s = BS(b);
	struct req r = { "GET", object_url(s, id, name), -1, 0, 0, EMPTY_SHA, outfd, max, 0,
			 g_byte_array_new(), 0 };
	long st = run(s, &r, r.url + strlen(s->endpoint), err, errlen);
	int rc = st == 200 ? 0 : st == 404 ? TZ_BLOB_ABSENT : -1;

	if (st >= 0 && rc < 0)
		refused(&r, r.url + strlen(s->endpoint), err, errlen);
	g_free(r.url);
	g_byte_array_unref(r.mem);
	return rc;
}

static int s3_del(struct tz_blob *b, const char *id, const char *name, char *err, size_t errlen)
{
	struct blob_s3 *s = BS(b);
	struct req r = { "DELETE", object_url(s, id, name), -1, 0, 0, EMPTY_SHA, -1, 1u << 20, 0,
			 g_byte_array_new(), 0 };
	long st = run(s, &r, r.url + strlen(s->endpoint), err, errlen);
	int rc = st == 204 || st == 200 || st == 404 ? 0 : -1;

	if (st >= 0 && rc < 0)
		refused(&r, r.url + strlen(s->endpoint), err, errlen);
	g_free(r.url);
	g_byte_array_unref(r.mem);
	return rc;
}

/* One ListObjectsV2 page: its <Key>s into keys; *next = the continuation
 * token (g_free) or NULL at the end. */
static int parse_list(const GByteArray *xml, GPtrArray *keys, char **next, char *err, size_t errlen)
{
	xmlDocPtr doc;
	xmlNodePtr root;
	int truncated = 0;

	tz_html_init();
	doc = xmlReadMemory((const char *)xml->data, (int)xml->len, "list.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	root = doc ? xmlDocGetRootElement(doc) : NULL;

	*next = NULL;
	if (root == NULL) {
		if (doc)
			xmlFreeDoc(doc);
		return tz_err(err, errlen, "S3 list: not an XML answer");
	}
	for (xmlNodePtr n = root->children; n; n = n->next) {
		xmlChar *v;
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrcmp(n->name, BAD_CAST "Contents") == 0) {
			for (xmlNodePtr k = n->children; k; k = k->next)
				if (k->type == XML_ELEMENT_NODE && xmlStrcmp(k->name, BAD_CAST "Key") == 0 &&
				    (v = xmlNodeGetContent(k)) != NULL) {
					g_ptr_array_add(keys, g_strdup((const char *)v));
					xmlFree(v);
				}
		} else if (xmlStrcmp(n->name, BAD_CAST "IsTruncated") == 0 &&
			   (v = xmlNodeGetContent(n)) != NULL) {
			truncated = xmlStrcmp(v, BAD_CAST "true") == 0;
			xmlFree(v);
		} else if (xmlStrcmp(n->name, BAD_CAST "NextContinuationToken") == 0 &&
			   (v = xmlNodeGetContent(n)) != NULL) {
			g_free(*next);
			*next = g_strdup((const char *)v);
			xmlFree(v);
		}
	}
	xmlFreeDoc(doc);
	if (!truncated) {
		g_free(*next);
		*next = NULL;
	} else if (*next == NULL) {
		return tz_err(err, errlen, "S3 list: truncated without a continuation token");
	}
	return 0;
}

/* ListObjectsV2, page after page (LIST_PAGE keys each, the store's
 * continuation token from one to the next) until a page is not truncated:
 * memory per request stays bounded whatever the bucket holds. */
static int s3_list(struct tz_blob *b, const char *id, GPtrArray *keys, char *err, size_t errlen)
{
	struct blob_s3 *s = BS(b);
	char *token = NULL;
	int rc = 0;

	do {
		char *tok = token ? curl_easy_escape(NULL, token, 0) : NULL;
		struct req r = { "GET", NULL, -1, 0, 0, EMPTY_SHA, -1, LIST_MAX, 0, g_byte_array_new(), 0 };
		long st;
		GString *u = g_string_new(NULL);
		/* query parameters in sorted order, as the canonical request has them */
		g_string_printf(u, "%s/%s?", s->endpoint, s->bucket);
		if (tok)
			g_string_append_printf(u, "continuation-token=%s&", tok);
		g_string_append_printf(u, "list-type=2&max-keys=%u", LIST_PAGE);
		if (id)
			g_string_append_printf(u, "&prefix=%s%%2F", id);
		r.url = g_string_free(u, FALSE);
		curl_free(tok);
		g_free(token);
		token = NULL;
		st = run(s, &r, "list", err, errlen);
		if (st >= 0 && st != 200)
			rc = refused(&r, "list", err, errlen);
		else if (st < 0)
			rc = -1;
		else
			rc = parse_list(r.mem, keys, &token, err, errlen);
		g_free(r.url);
		g_byte_array_unref(r.mem);
	} while (rc == 0 && token);
	g_free(token);
	return rc;
}

static void s3_free(struct tz_blob *b)
{
	struct blob_s3 *s = BS(b);

	g_free(s->endpoint);
	g_free(s->bucket);
	g_free(s->region);
	g_free(s->key_id);
	if (s->secret) {
		memset(s->secret, 0, strlen(s->secret));
		g_free(s->secret);
	}
	g_free(s);
}

static const struct tz_blob_ops s3_ops = {
	"s3", s3_put, s3_get, s3_del, s3_list, s3_free,
};

struct tz_blob *tz_blob_s3_new(const struct tz_s3_conf *c, char *err, size_t errlen)
{
	struct blob_s3 *s;
	size_t n;

	if (c->endpoint == NULL || (strncmp(c->endpoint, "http://", 7) != 0 &&
				    strncmp(c->endpoint, "https://", 8) != 0)) {
		tz_err(err, errlen, "S3Endpoint must be an http:// or https:// URL");
		return NULL;
	}
	if (c->bucket == NULL || !tz_blob_name_ok(c->bucket) || c->region == NULL || !*c->region) {
		tz_err(err, errlen, "BlobStore s3 needs S3Bucket (a plain bucket name) and S3Region");
		return NULL;
	}
	/* once, before any thread makes a request */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		tz_err(err, errlen, "S3: libcurl did not initialise");
		return NULL;
	}
	s = g_new0(struct blob_s3, 1);
	s->b.ops = &s3_ops;
	if (tz_s3_load_keys(c->key_file, &s->key_id, &s->secret, err, errlen) < 0) {
		s3_free(&s->b);
		return NULL;
	}
	s->endpoint = g_strdup(c->endpoint);
	n = strlen(s->endpoint);
	while (n > 8 && s->endpoint[n - 1] == '/')
		s->endpoint[--n] = '\0';
	s->bucket = g_strdup(c->bucket);
	s->region = g_strdup(c->region);
	s->timeout_ms = c->timeout_ms ? c->timeout_ms : 30000;
	s->retries = c->retries ? c->retries : 2;
	return &s->b;
}
