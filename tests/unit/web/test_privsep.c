/* test_privsep.c — textize-web's front/broker transport (web_privsep.c):
 * a request crosses through a stream passed over the control socket and
 * the answer comes back; the broker side refuses frames that are not a
 * request in GVariant normal form (garbage, the wrong type, a length over
 * the limit, a short read) instead of reading them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <glib.h>

#include "web_privsep.h"

static GVariant *request(const char *path)
{
	GVariantBuilder q, f;

	g_variant_builder_init(&q, G_VARIANT_TYPE("a(ayay)"));
	g_variant_builder_add(&q, "(@ay@ay)", g_variant_new_bytestring("id"),
			      g_variant_new_bytestring("1203-ABCD"));
	g_variant_builder_init(&f, G_VARIANT_TYPE("a(ayay)"));
	g_variant_builder_add(&f, "(@ay@ay)", g_variant_new_bytestring("reason"),
			      g_variant_new_bytestring("\xff not UTF-8"));   /* forms may be anything */
	return g_variant_ref_sink(g_variant_new("(@ay@ay@ay@ay@a(ayay)@a(ayay)bb)",
						g_variant_new_bytestring("GET"), g_variant_new_bytestring(path),
						g_variant_new_bytestring("127.0.0.1"),
						g_variant_new_bytestring(""), g_variant_builder_end(&q),
						g_variant_builder_end(&f), FALSE, FALSE));
}

/* The broker's side of one request: echo the path as the body. */
static void *broker(void *arg)
{
	int ctl = *(int *)arg, fd = web_broker_next(ctl);
	GVariant *in, *out;
	const char *path;

	if (fd <= 0)
		return NULL;
	in = web_wire_recv(fd, G_VARIANT_TYPE(WEB_WIRE_REQ), WEB_WIRE_MAX_REQ);
	if (in) {
		g_variant_get_child(in, 1, "^&ay", &path);
		out = g_variant_ref_sink(g_variant_new("(u@ay@ay@ay@ay@ay)", 200u,
						       g_variant_new_bytestring(""), g_variant_new_bytestring(""),
						       g_variant_new_bytestring(""), g_variant_new_bytestring(""),
						       g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, path,
										 strlen(path), 1)));
		web_wire_send(fd, out);
		g_variant_unref(out);
		g_variant_unref(in);
	}
	close(fd);
	return NULL;
}

static void test_round_trip(void **state)
{
	int ctl[2];
	pthread_t t;
	GVariant *req = request("/team/entry"), *resp, *bv;
	const char *body;
	gsize len;
	guint32 status;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, ctl), 0);
	pthread_create(&t, NULL, broker, &ctl[1]);
	resp = web_broker_ask(ctl[0], req, 10);
	pthread_join(t, NULL);
	assert_non_null(resp);
	g_variant_get_child(resp, 0, "u", &status);
	assert_int_equal(status, 200);
	bv = g_variant_get_child_value(resp, 5);
	body = g_variant_get_fixed_array(bv, &len, 1);
	assert_int_equal(len, strlen("/team/entry"));
	assert_memory_equal(body, "/team/entry", len);
	g_variant_unref(bv);
	g_variant_unref(resp);
	/* the control socket closed: the broker learns the front is gone */
	close(ctl[0]);
	assert_int_equal(web_broker_next(ctl[1]), 0);
	close(ctl[1]);
	g_variant_unref(req);
}

/* Write a raw frame: the length field as given, then len bytes of data. */
static void raw_frame(int fd, uint32_t declared, const void *data, size_t len)
{
	uint32_t be = htonl(declared);

	assert_int_equal(write(fd, &be, 4), 4);
	if (len)
		assert_int_equal(write(fd, data, len), (ssize_t)len);
}

static GVariant *recv_from(const void *data, size_t len, uint32_t declared)
{
	int sp[2];
	GVariant *v;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	raw_frame(sp[0], declared, data, len);
	close(sp[0]);
	v = web_wire_recv(sp[1], G_VARIANT_TYPE(WEB_WIRE_REQ), WEB_WIRE_MAX_REQ);
	close(sp[1]);
	return v;
}

static void test_refuses_bad_frames(void **state)
{
	GVariant *req = request("/s"), *other;
	gsize n = g_variant_get_size(req);
	guchar *good = g_malloc(n), junk[64];

	(void)state;
	g_variant_store(req, good);
	/* the same bytes read back: accepted */
	other = recv_from(good, n, (uint32_t)n);
	assert_non_null(other);
	assert_true(g_variant_equal(other, req));
	g_variant_unref(other);
	/* garbage of some length: not a request in normal form */
	memset(junk, 0xff, sizeof(junk));
	assert_null(recv_from(junk, sizeof(junk), sizeof(junk)));
	/* a frame cut short: nothing is read as a request */
	assert_null(recv_from(good, n / 2, (uint32_t)n));
	/* a length over the limit: refused before anything is allocated */
	assert_null(recv_from(good, n, WEB_WIRE_MAX_REQ + 1));
	/* a message of another type (the answer's) is not a request */
	other = g_variant_ref_sink(g_variant_new("(u@ay@ay@ay@ay@ay)", 200u, g_variant_new_bytestring(""),
						 g_variant_new_bytestring(""), g_variant_new_bytestring(""),
						 g_variant_new_bytestring(""), g_variant_new_bytestring("x")));
	{
		gsize m = g_variant_get_size(other);
		guchar *b = g_malloc(m);

		g_variant_store(other, b);
		assert_null(recv_from(b, m, (uint32_t)m));
		g_free(b);
	}
	g_variant_unref(other);
	g_free(good);
	g_variant_unref(req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refuses_bad_frames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
