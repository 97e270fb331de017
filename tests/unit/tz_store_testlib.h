/* tz_store_testlib.h — helpers shared by the quarantine unit tests: temp
 * directories, key files, and a fake engine result, so the tests do not
 * need the engine. Header-only (static) to stay out of the library. */
#ifndef TZ_STORE_TESTLIB_H
#define TZ_STORE_TESTLIB_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>
#include <openssl/evp.h>

#include "tz_engine.h"
#include "tz_envelope.h"
#include "tz_part.h"
#include "tz_util.h"

static inline char *tl_tmpdir(void)
{
	char *t = g_strdup("/tmp/tz-test-XXXXXX");

	if (mkdtemp(t) == NULL)
		abort();
	return t;
}

static inline void tl_rmrf(const char *dir)
{
	char *cmd = g_strdup_printf("rm -rf '%s'", dir);

	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
	g_free(cmd);
}

/* Write a hex key file (mode 0600) into dir; returns its path. */
static inline char *tl_keyfile(const char *dir, const char *name, unsigned char fill)
{
	char *path = g_build_filename(dir, name, NULL);
	FILE *f = fopen(path, "w");

	for (int i = 0; i < 32; i++)
		fprintf(f, "%02x", (unsigned)(fill + i) & 0xff);
	fprintf(f, "\n");
	fclose(f);
	chmod(path, 0600);
	return path;
}

static inline void tl_sha256(const void *buf, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned n = 0;

	EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL);
	tz_hex(md, 32, out);
}

/* A part record as the engine would fill it for content buf. */
static inline struct tz_part *tl_part(unsigned index, const char *name, const void *buf, size_t len,
				      unsigned risk)
{
	struct tz_part *p = g_new0(struct tz_part, 1);

	p->index = index;
	p->mime_path = g_strdup_printf("1.%u", index + 1);
	p->reason = TZ_REASON_ATTACHMENT;
	p->filename = g_strdup(name);
	p->declared_type = g_strdup("application/octet-stream");
	p->detected_type = g_strdup("application/pdf");
	p->size = len;
	tl_sha256(buf, len, p->sha256);
	p->risk = risk;
	return p;
}

static inline void tl_part_free(gpointer pp)
{
	struct tz_part *p = pp;

	g_free(p->mime_path);
	g_free(p->filename);
	g_free(p->declared_type);
	g_free(p->detected_type);
	g_free(p);
}

static inline struct tz_result *tl_result(void)
{
	struct tz_result *r = g_new0(struct tz_result, 1);

	r->parts = g_ptr_array_new_with_free_func(tl_part_free);
	r->subject = g_strdup("見積書の送付 \"quoted\"");
	r->message_id = g_strdup("<abc@example.jp>");
	r->from = g_strdup("Sender <sender@example.jp>");
	r->date = g_strdup("Tue, 24 Nov 2026 08:00:00 +0900");
	return r;
}

static inline void tl_result_free(struct tz_result *r)
{
	g_ptr_array_unref(r->parts);
	g_free(r->subject);
	g_free(r->message_id);
	g_free(r->from);
	g_free(r->date);
	g_free(r);
}

static inline struct tz_envelope *tl_envelope(const char *sender, const char *rcpt)
{
	struct tz_envelope *e = g_new0(struct tz_envelope, 1);

	e->queue_id = g_strdup("4ABCD123");
	e->client_addr = g_strdup("192.0.2.10");
	e->client_name = g_strdup("mx.example.jp");
	e->sender = g_strdup(sender);
	e->rcpts = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(e->rcpts, g_strdup(rcpt));
	e->spf_result = g_strdup("pass");
	return e;
}

static inline void tl_envelope_free(struct tz_envelope *e)
{
	g_free(e->queue_id);
	g_free(e->client_addr);
	g_free(e->client_name);
	g_free(e->sender);
	g_ptr_array_unref(e->rcpts);
	g_free(e->spf_result);
	g_free(e);
}

static inline int tl_collect(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	g_byte_array_append(ctx, buf, (guint)len);
	return 0;
}

#endif
