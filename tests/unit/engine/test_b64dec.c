/* test_b64dec.c — tz_b64dec must decode exactly as GMime does: every call
 * of tz_b64_decode_step is compared with g_mime_encoding_base64_decode_step
 * (output bytes, state, save) from random states over random, garbage and
 * '='-riddled input; and a part read through tz_b64_filter in a filter
 * stream gives the bytes GMimeFilterBasic gives, for every read size. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>
#include <gmime/gmime.h>

#include "tz_b64dec.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Input of one kind: clean base64 lines, with '=' sprinkled, or garbage. */
static GByteArray *make_input(GRand *r, size_t len)
{
	GByteArray *a = g_byte_array_sized_new((guint)len);
	int kind = g_rand_int_range(r, 0, 4);

	for (size_t i = 0; i < len; i++) {
		guint8 c;
		int roll = g_rand_int_range(r, 0, 100);

		if (kind == 3 || roll < (kind == 2 ? 30 : 2))
			c = (guint8)g_rand_int_range(r, 0, 256);            /* anything */
		else if (roll < (kind == 1 ? 25 : 4))
			c = '=';
		else if (i % 77 == 76)
			c = '\n';
		else
			c = (guint8)b64[g_rand_int_range(r, 0, 64)];
		g_byte_array_append(a, &c, 1);
	}
	return a;
}

/* Every step from the same (state, save) gives the same out, state, save. */
static void test_step_matches_gmime(void **st)
{
	GRand *r = g_rand_new_with_seed(64);
	unsigned steps = 0, padded = 0;

	(void)st;
	for (int t = 0; t < 4000; t++) {
		GByteArray *in = make_input(r, (size_t)g_rand_int_range(r, 0, t < 3000 ? 40 : 4096));
		int s1, s2;
		guint32 v1, v2;
		size_t n1, n2, at = 0;

		/* a state a previous call could leave: n -1..3 (-1: ended),
		 * saved bits for n > 0; and, rarely, garbage GMime would take */
		s1 = s2 = g_rand_int_range(r, -1, 4);
		v1 = v2 = s1 > 0 ? g_rand_int(r) >> (32 - 6 * s1) : 0;
		if (g_rand_int_range(r, 0, 20) == 0)
			v1 = v2 = g_rand_int(r);
		while (at <= in->len) {   /* the input in random pieces */
			size_t want = (size_t)g_rand_int_range(r, 0, 300);   /* MIN() evaluates twice */
			size_t k = MIN(want, in->len - at);
			/* exactly the room the contract promises (ASan checks it) */
			unsigned char *o1 = g_malloc(k + 3), *o2 = g_malloc(k + 3);

			n1 = tz_b64_decode_step(in->data + at, k, o1, &s1, &v1);
			n2 = g_mime_encoding_base64_decode_step(in->data + at, k, o2, &s2, &v2);
			assert_int_equal(n1, n2);
			assert_memory_equal(o1, o2, n1);
			assert_int_equal(s1, s2);
			assert_int_equal(v1, v2);
			steps++;
			padded += s1 == -1;
			at += k ? k : 1;
			g_free(o1);
			g_free(o2);
		}
		g_byte_array_free(in, TRUE);
	}
	assert_true(steps > 10000);
	assert_true(padded > 1000);   /* the end of the data by '=' was reached */
	g_rand_free(r);
}

/* Each byte value alone, after each partial quartet. */
static void test_every_byte(void **st)
{
	unsigned char o1[16], o2[16];

	(void)st;
	for (unsigned c = 0; c < 256; c++) {
		for (int pre = 0; pre < 4; pre++) {
			unsigned char in[8] = "QUJD";
			int s1 = 0, s2 = 0;
			guint32 v1 = 0, v2 = 0;
			size_t n1, n2;

			in[pre] = (unsigned char)c;
			n1 = tz_b64_decode_step(in, 4, o1, &s1, &v1);
			n2 = g_mime_encoding_base64_decode_step(in, 4, o2, &s2, &v2);
			assert_int_equal(n1, n2);
			assert_memory_equal(o1, o2, n1);
			assert_int_equal(s1, s2);
			assert_int_equal(v1, v2);
		}
	}
}

static GByteArray *read_all(GMimeStream *raw, GMimeFilter *f, size_t chunk)
{
	GMimeStream *s = g_mime_stream_filter_new(raw);
	GByteArray *a = g_byte_array_new();
	char buf[70000];
	ssize_t n;

	g_mime_stream_filter_add(GMIME_STREAM_FILTER(s), f);
	g_object_unref(f);
	for (;;) {
		n = g_mime_stream_read(s, buf, chunk);
		if (n > 0)
			g_byte_array_append(a, (guint8 *)buf, (guint)n);
		else if (n < 0 || g_mime_stream_eos(s))
			break;
	}
	g_object_unref(s);
	return a;
}

/* Through a filter stream, as tz_conv reads parts. */
static void test_filter_stream(void **st)
{
	GRand *r = g_rand_new_with_seed(3);
	static const size_t chunks[] = { 1, 3, 4096, 16384, 65536 };

	(void)st;
	for (int t = 0; t < 60; t++) {
		GByteArray *in = make_input(r, (size_t)g_rand_int_range(r, 0, 200000));

		for (size_t k = 0; k < G_N_ELEMENTS(chunks); k++) {
			GMimeStream *m1 = g_mime_stream_mem_new_with_buffer((char *)in->data, in->len);
			GMimeStream *m2 = g_mime_stream_mem_new_with_buffer((char *)in->data, in->len);
			GByteArray *a, *b;

			if (chunks[k] < 4096 && in->len > 20000)
				g_byte_array_set_size(in, 20000);   /* keep byte-wise reads short */
			a = read_all(m1, tz_b64_filter_new(), chunks[k]);
			b = read_all(m2, g_mime_filter_basic_new(GMIME_CONTENT_ENCODING_BASE64, FALSE), chunks[k]);
			assert_int_equal(a->len, b->len);
			assert_memory_equal(a->data, b->data, a->len);
			g_byte_array_free(a, TRUE);
			g_byte_array_free(b, TRUE);
			g_object_unref(m1);
			g_object_unref(m2);
		}
		g_byte_array_free(in, TRUE);
	}
	g_rand_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_step_matches_gmime),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_filter_stream),
	};

	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
