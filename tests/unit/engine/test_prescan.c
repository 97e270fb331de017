/* test_prescan.c — the MIME-part pre-scan (tz_prescan.c) is a security
 * check: it bounds how many parts GMime will build. Its fast scan (16-byte
 * masks, events found from their last byte) must take every event the
 * byte-at-a-time scan took, in the same order, so it is compared here with
 * that scan, kept below as the reference: boundaries collected, lines
 * opening a part, "--" lines, and the error on random buffers, on
 * adversarial ones and with every event placed across the seams between
 * the 64 KiB windows the scan reads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>
#include <gmime/gmime.h>

#include "tz_engine_int.h"

/* ------------------------------------------------ the reference scan */
/* The scan of main f3e626c, unchanged but for the names (its word loop
 * skipping only exact event-free bytes was already proven equal to the
 * plain byte loop it replaced, so the plain byte loop is kept here). */

#define WINDOW 65536
#define LOOK 1024
#define KEY 64
#define DASH_FACTOR 16

struct ref {
	GHashTable *bounds;
	unsigned max_parts, opens, dashes;
	bool at_line_start;
	char err[256];
};

static bool ref_lwsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int ref_fail(struct ref *s, const char *what)
{
	snprintf(s->err, sizeof(s->err), what, s->max_parts);
	return -1;
}

static int ref_boundary(struct ref *s, const char *p, const char *end)
{
	char key[KEY + 1];
	size_t n = 0;

	while (p < end && (*p == '*' || g_ascii_isdigit(*p)))
		p++;
	while (p < end && ref_lwsp(*p))
		p++;
	if (p >= end || *p != '=')
		return 0;
	for (p++; p < end && ref_lwsp(*p); p++)
		;
	if (p < end && *p == '"') {
		for (p++; p < end && *p != '"' && n < KEY; p++) {
			if (*p == '\\' && p + 1 < end)
				p++;
			key[n++] = *p;
		}
	} else {
		for (; p < end && !ref_lwsp(*p) && *p != ';' && *p != '"' && n < KEY; p++)
			key[n++] = *p;
	}
	if (n == 0)
		return 0;
	key[n] = '\0';
	if (g_hash_table_contains(s->bounds, key))
		return 0;
	if (g_hash_table_size(s->bounds) >= 4 * s->max_parts + 16)
		return ref_fail(s, "more than %u MIME parts (boundaries)");
	g_hash_table_add(s->bounds, g_strdup(key));
	return 0;
}

static bool ref_plain_dashes(const char *p, const char *end)
{
	const char *q = p + 2;

	if (q >= end || *q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
		return true;
	while (q < end && *q == '-')
		q++;
	while (q < end && (*q == ' ' || *q == '\t' || *q == '\r'))
		q++;
	return q >= end || *q == '\n';
}

static int ref_dashes(struct ref *s, const char *p, const char *end)
{
	char key[KEY + 1];
	size_t n = 0;

	if (!ref_plain_dashes(p, end) && ++s->dashes > DASH_FACTOR * s->max_parts)
		return ref_fail(s, "more than %u MIME parts (delimiter lines)");
	for (p += 2; p < end && *p != '\n' && n < KEY; p++)
		key[n++] = *p;
	if (n < KEY)
		while (n > 0 && ref_lwsp(key[n - 1]))
			n--;
	key[n] = '\0';
	if (n == 0 || !g_hash_table_contains(s->bounds, key))
		return 0;
	if (++s->opens > s->max_parts)
		return ref_fail(s, "more than %u MIME parts");
	return 0;
}

static int ref_scan(struct ref *s, const char *buf, size_t stop, size_t len)
{
	const char *end = buf + len;

	for (size_t i = 0; i < stop; i++) {
		char c = buf[i];

		if (s->at_line_start && c == '-' && i + 1 < len && buf[i + 1] == '-'
		    && ref_dashes(s, buf + i, end) != 0)
			return -1;
		s->at_line_start = c == '\n';
		if ((c | 0x20) == 'b' && len - i >= 8 && g_ascii_strncasecmp(buf + i, "boundary", 8) == 0
		    && ref_boundary(s, buf + i + 8, end) != 0)
			return -1;
	}
	return 0;
}

/* The reference over msg[0, len) with the same windows as tz_prescan. */
static int ref_count(const char *msg, size_t len, unsigned max_parts, struct tz_prescan_counts *out,
		     char *err, size_t errlen)
{
	struct ref s = { .max_parts = max_parts, .at_line_start = true };
	char *buf = g_malloc(WINDOW + LOOK);
	size_t have = 0, at = 0;
	int rc;

	s.bounds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (;;) {
		size_t n = MIN(WINDOW, len - at);

		memcpy(buf + have, msg + at, n);
		at += n;
		have += n;
		if (n == 0) {
			rc = ref_scan(&s, buf, have, have);
			break;
		}
		if (have <= LOOK)
			continue;
		if ((rc = ref_scan(&s, buf, have - LOOK, have)) != 0)
			break;
		memmove(buf, buf + have - LOOK, LOOK);
		have = LOOK;
	}
	out->opens = s.opens;
	out->dashes = s.dashes;
	out->bounds = g_hash_table_size(s.bounds);
	g_strlcpy(err, rc ? s.err : "", errlen);
	g_hash_table_destroy(s.bounds);
	g_free(buf);
	return rc;
}

/* ------------------------------------------------ comparing */

static unsigned compared, refused;

/* Both scans over msg with max_parts; everything they report must agree. */
static void same(const char *msg, size_t len, unsigned max_parts)
{
	struct tz_prescan_counts a = { 0 }, b = { 0 };
	char ea[256] = "", eb[256] = "";
	GMimeStream *in = g_mime_stream_mem_new_with_buffer(msg, len);
	int ra = tz_prescan_count(in, max_parts, &a, ea, sizeof(ea));
	int rb = ref_count(msg, len, max_parts, &b, eb, sizeof(eb));

	g_object_unref(in);
	if (ra != rb || a.opens != b.opens || a.dashes != b.dashes || a.bounds != b.bounds
	    || (rb != 0 && strcmp(ea, eb) != 0)) {
		char *f = g_strdup("/tmp/test_prescan.fail");

		g_file_set_contents(f, msg, (gssize)len, NULL);
		print_error("differ (max_parts %u, %zu bytes, saved in %s): new rc %d opens %u dashes %u bounds %u \"%s\"; "
			    "reference rc %d opens %u dashes %u bounds %u \"%s\"\n", max_parts, len, f,
			    ra, a.opens, a.dashes, a.bounds, ea, rb, b.opens, b.dashes, b.bounds, eb);
		g_free(f);
		fail();
	}
	compared++;
	refused += rb != 0;
}

/* ------------------------------------------------ generating */

static const char *const keys[] = { "a", "K1", "=_part_0", "x y", "----=_NextPart_000" };

static void put_word(GString *g, GRand *r)
{
	static const char word[] = "boundary";

	for (size_t i = 0; i < 8; i++)
		g_string_append_c(g, g_rand_boolean(r) ? word[i] : g_ascii_toupper(word[i]));
}

static void put_lwsp(GString *g, GRand *r, int max)
{
	static const char lw[] = " \t\r\n";

	for (int n = g_rand_int_range(r, 0, max + 1); n > 0; n--)
		g_string_append_c(g, lw[g_rand_int_range(r, 0, 4)]);
}

/* One declaration, as take_boundary reads them and as it does not. */
static void put_decl(GString *g, GRand *r)
{
	const char *k = keys[g_rand_int_range(r, 0, G_N_ELEMENTS(keys))];

	put_word(g, r);
	switch (g_rand_int_range(r, 0, 5)) {
	case 0: g_string_append(g, "*"); break;
	case 1: g_string_append_printf(g, "*%d*", g_rand_int_range(r, 0, 12)); break;
	case 2: g_string_append_printf(g, "%d", g_rand_int_range(r, 0, 100)); break;
	default: break;
	}
	put_lwsp(g, r, 2);
	if (g_rand_int_range(r, 0, 8) != 0)
		g_string_append_c(g, '=');
	put_lwsp(g, r, 2);
	if (g_rand_boolean(r))
		g_string_append_printf(g, "\"%s\"", k);
	else
		g_string_append_printf(g, "%s%s", k, g_rand_boolean(r) ? ";" : "");
	if (g_rand_int_range(r, 0, 4) == 0)   /* a fresh one: the table grows */
		g_string_append_printf(g, "%u", g_rand_int(r) % 5000);
}

static void put_delim(GString *g, GRand *r)
{
	const char *k = keys[g_rand_int_range(r, 0, G_N_ELEMENTS(keys))];

	g_string_append(g, g_rand_boolean(r) ? "\r\n--" : "\n--");
	switch (g_rand_int_range(r, 0, 6)) {
	case 0: break;                                   /* bare "--" */
	case 1: g_string_append(g, " sig"); break;
	case 2: g_string_append(g, "------"); break;
	case 3: g_string_append_printf(g, "%s--", k); break;
	default: g_string_append(g, k); break;
	}
	put_lwsp(g, r, 2);
}

static void put_noise(GString *g, GRand *r, int n)
{
	static const char al[] = "ABCyYbB0123456789+/=*-\n\r\t \"';boundaryBOUNDARY";

	for (; n > 0; n--)
		g_string_append_c(g, al[g_rand_int_range(r, 0, sizeof(al) - 1)]);
}

static void put_base64(GString *g, GRand *r, int lines)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (; lines > 0; lines--) {
		for (int i = 0; i < 76; i++)
			g_string_append_c(g, b64[g_rand_int_range(r, 0, 64)]);
		g_string_append(g, g_rand_boolean(r) ? "\n" : "\r\n");
	}
}

static void put_random(GString *g, GRand *r, size_t want)
{
	while (g->len < want) {
		switch (g_rand_int_range(r, 0, 6)) {
		case 0: put_decl(g, r); break;
		case 1: put_delim(g, r); break;
		case 2: put_noise(g, r, g_rand_int_range(r, 1, 40)); break;
		case 3: put_lwsp(g, r, 3); break;
		default: put_base64(g, r, g_rand_int_range(r, 0, 40)); break;
		}
	}
}

/* ------------------------------------------------ tests */

static void check_limits(const GString *g)
{
	same(g->str, g->len, 100000);
	same(g->str, g->len, 3);
	same(g->str, g->len, 30);
}

static void test_random(void **state)
{
	GRand *r = g_rand_new_with_seed(16);

	(void)state;
	for (int i = 0; i < 600; i++) {
		GString *g = g_string_new(NULL);

		put_random(g, r, i < 400 ? (size_t)g_rand_int_range(r, 0, 3000) : (size_t)g_rand_int_range(r, 60000, 200000));
		check_limits(g);
		g_string_free(g, TRUE);
	}
	g_rand_free(r);
}

/* Events that begin, end or sit on each side of a window seam: at absolute
 * offset 64512 + k * 65536 the first scan stops and the next begins. */
static void test_seams(void **state)
{
	static const char *const events[] = {
		"\n--a\n", "\r\n--K1  \r\n", "\n--\n", "\n-- x\n", "\n----\n",
		"boundary=a;", "BOUNDARY = \"K1\"", "bOuNdArY*0*=x y", "boundary\r\n =\r\n \"a\"",
		"boundary*=a", "boundary77=K1", "--a--\n", "\n--x y\n", "yboundaryy=a",
	};
	GRand *r = g_rand_new_with_seed(2026);
	GString *head = g_string_new(NULL);

	(void)state;
	/* a head that declares every key, so that delimiter lines count */
	for (size_t k = 0; k < G_N_ELEMENTS(keys); k++)
		g_string_append_printf(head, "Content-Type: multipart/mixed; boundary=\"%s\"\n", keys[k]);
	for (size_t e = 0; e < G_N_ELEMENTS(events); e++) {
		for (int shift = -40; shift <= 40; shift++) {
			GString *g = g_string_new(head->str);
			size_t seam = 64512 + (size_t)g_rand_int_range(r, 0, 2) * 65536;

			while (g->len < seam + 200000)
				put_base64(g, r, 1);
			memcpy(g->str + seam + shift, events[e], strlen(events[e]));
			/* and at the scan's lookahead edge */
			memcpy(g->str + seam + LOOK + shift - 8, events[e], strlen(events[e]));
			/* and at the very end */
			g_string_truncate(g, seam + 70000 + (size_t)g_rand_int_range(r, 0, 20));
			g_string_append(g, events[e]);
			g_string_truncate(g, g->len - (size_t)g_rand_int_range(r, 0, (int)strlen(events[e])));
			check_limits(g);
			g_string_free(g, TRUE);
		}
	}
	g_string_free(head, TRUE);
	g_rand_free(r);
}

/* Dense events everywhere, "--" at window starts, line starts carried
 * over a seam, and declarations cut by the end of the message. */
static void test_adversarial(void **state)
{
	GRand *r = g_rand_new_with_seed(7);

	(void)state;
	for (int i = 0; i < 40; i++) {
		GString *g = g_string_new("Content-Type: multipart/mixed; boundary=a\n\n");

		while (g->len < 140000) {
			if (g_rand_boolean(r))
				put_delim(g, r);
			else
				put_decl(g, r);
		}
		/* '\n' as the last byte of the first window, "--a" after it */
		memcpy(g->str + 64512 - 1, "\n--a\n", 5);
		memcpy(g->str + 64512 + 65536 - 2, "\n\n--K1\n", 7);
		check_limits(g);
		g_string_free(g, TRUE);
	}
	for (size_t n = 0; n < 40; n++) {   /* short messages, cut anywhere */
		GString *g = g_string_new("--a\nboundary=a\n--a\r\n--a--\nBoUnDaRy*0=K1\n--K1\nboundary");

		g_string_truncate(g, MIN(n * 2, g->len));
		check_limits(g);
		g_string_free(g, TRUE);
	}
	g_rand_free(r);
}

static void test_counted(void **state)
{
	(void)state;
	/* the comparison compared something, and refusals among it */
	assert_true(compared > 5000);
	assert_true(refused > 100);
	assert_true(compared - refused > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_seams),
		cmocka_unit_test(test_adversarial),
		cmocka_unit_test(test_counted),
	};

	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
