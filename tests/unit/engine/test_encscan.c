/* test_encscan.c — the encoded-file scanner (tz_encscan): for every kind a
 * block that a real tool produced (sharutils uuencode, macutils binhex,
 * coreutils base64/base32, xxd, openssl, gpg) is found, and its decoded
 * bytes equal the original; the loose forms a real decoder still accepts
 * are checked with that decoder first (uudecode must rebuild the file from
 * our variant, or the variant proves nothing); prose and look-alikes of
 * real mail are not blocks. A tool that is missing skips its test
 * (scripts/deps installs them all). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "tz_encscan.h"

static char *tmpdir;

static int setup(void **state)
{
	(void)state;
	tmpdir = g_dir_make_tmp("encscan-XXXXXX", NULL);
	return tmpdir ? 0 : -1;
}

static int teardown(void **state)
{
	char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);

	(void)state;
	if (system(cmd) != 0)
		return -1;
	g_free(cmd);
	g_free(tmpdir);
	return 0;
}

static void need(const char *tool)
{
	char *p = g_find_program_in_path(tool);

	if (!p) {
		print_message("%s not installed (scripts/deps): skipped\n", tool);
		skip();
	}
	g_free(p);
}

static char *path(const char *name)
{
	return g_build_filename(tmpdir, name, NULL);
}

static void put(const char *name, const void *buf, size_t len)
{
	char *p = path(name);

	assert_true(g_file_set_contents(p, buf, (gssize)len, NULL));
	g_free(p);
}

static GByteArray *get(const char *name)
{
	char *p = path(name), *buf;
	gsize len;

	assert_true(g_file_get_contents(p, &buf, &len, NULL));
	g_free(p);
	return g_byte_array_new_take((guint8 *)buf, len);
}

/* Run a shell command in the temp directory; it must succeed. */
static void sh(const char *fmt, ...)
{
	va_list ap;
	char *cmd, *full;

	va_start(ap, fmt);
	cmd = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	full = g_strdup_printf("cd '%s' && ( %s ) 2>/dev/null", tmpdir, cmd);
	if (system(full) != 0)
		fail_msg("command failed: %s", cmd);
	g_free(cmd);
	g_free(full);
}

/* A deterministic "file": a signature then pseudo-random bytes. */
static GByteArray *payload(const char *magic, size_t mlen, size_t len)
{
	GByteArray *a = g_byte_array_sized_new((guint)len);
	guint32 x = 2463534242u;

	g_byte_array_append(a, (const guint8 *)magic, (guint)mlen);
	while (a->len < len) {
		guint8 b;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b = (guint8)x;
		g_byte_array_append(a, &b, 1);
	}
	return a;
}

#define PE_MAGIC "MZ\x90\0\3\0\0\0\4\0\0\0\xff\xff\0\0"

static GPtrArray *scan(const GByteArray *text)
{
	GPtrArray *b = tz_encscan((const char *)text->data, text->len, NULL);

	/* the contract, on every scan: ordered, disjoint, inside the text */
	for (guint i = 0; i < b->len; i++) {
		struct tz_enc_block *x = b->pdata[i];

		assert_true(x->start < x->stop && x->stop <= text->len);
		assert_non_null(x->data);
		if (i > 0)
			assert_true(((struct tz_enc_block *)b->pdata[i - 1])->stop <= x->start);
	}
	return b;
}

static struct tz_enc_block *only(GPtrArray *b, enum tz_enc_kind kind)
{
	assert_int_equal(b->len, 1);
	assert_string_equal(tz_enc_kind_name(((struct tz_enc_block *)b->pdata[0])->kind),
			    tz_enc_kind_name(kind));
	return b->pdata[0];
}

static void assert_bytes(const GByteArray *a, const GByteArray *b)
{
	assert_int_equal(a->len, b->len);
	assert_memory_equal(a->data, b->data, a->len);
}

/* The text outside the blocks, for checks that prose stays. */
static char *rest(const GByteArray *text, GPtrArray *b)
{
	GString *s = g_string_new(NULL);
	size_t from = 0;

	for (guint i = 0; i < b->len; i++) {
		struct tz_enc_block *x = b->pdata[i];

		g_string_append_len(s, (const char *)text->data + from, (gssize)(x->start - from));
		from = x->stop;
	}
	g_string_append_len(s, (const char *)text->data + from, (gssize)(text->len - from));
	return g_string_free(s, FALSE);
}

static GByteArray *text_of(const char *s)
{
	GByteArray *a = g_byte_array_new();

	g_byte_array_append(a, (const guint8 *)s, (guint)strlen(s));
	return a;
}

/* Text of file `name` framed by prose. */
static GByteArray *framed(const char *name)
{
	GByteArray *a = text_of("Hello,\nplease see below.\n\n"), *f = get(name);

	g_byte_array_append(a, f->data, f->len);
	g_byte_array_append(a, (const guint8 *)"\nRegards,\nTaro\n", 15);
	g_byte_array_unref(f);
	return a;
}

static void expect_one(const char *textfile, enum tz_enc_kind kind, const GByteArray *orig,
		       const char *name)
{
	GByteArray *text = framed(textfile);
	GPtrArray *b = scan(text);
	struct tz_enc_block *x = only(b, kind);
	char *r = rest(text, b);

	assert_true(x->decoded);
	assert_bytes(x->data, orig);
	if (name)
		assert_string_equal(x->name, name);
	assert_non_null(strstr(r, "please see below."));
	assert_non_null(strstr(r, "Regards,\nTaro\n"));
	g_free(r);
	g_ptr_array_unref(b);
	g_byte_array_unref(text);
}

/* ---- uuencode ---------------------------------------------------------- */

static void test_uuencode_sharutils(void **state)
{
	GByteArray *f = payload(PE_MAGIC, 16, 3000);
	(void)state;

	need("uuencode");
	put("evil.bin", f->data, f->len);
	sh("uuencode evil.bin evil.exe > uu.txt && uuencode -m evil.bin evil.exe > uum.txt");
	expect_one("uu.txt", TZ_ENCBLK_UUENCODE, f, "evil.exe");
	expect_one("uum.txt", TZ_ENCBLK_UU_BASE64, f, "evil.exe");
	g_byte_array_unref(f);
}

/* Each variant is first decoded by GNU uudecode (it must still rebuild
 * the file), then scanned. */
static void uu_variant(const char *sed, const GByteArray *f, bool real_decoder_takes_it)
{
	need("uudecode");
	sh("sed %s uu.txt > v.txt", sed);
	if (real_decoder_takes_it) {
		GByteArray *d;

		sh("rm -f out.bin && sed 's/^begin[ \\t]*[0-7]*[ \\t]*.*/begin 644 out.bin/' v.txt | uudecode");
		d = get("out.bin");
		assert_bytes(d, f);
		g_byte_array_unref(d);
	}
	expect_one("v.txt", TZ_ENCBLK_UUENCODE, f, NULL);
}

static void test_uuencode_loose(void **state)
{
	GByteArray *f = payload(PE_MAGIC, 16, 700);
	(void)state;

	need("uuencode");
	put("evil.bin", f->data, f->len);
	sh("uuencode evil.bin evil.exe > uu.txt");
	/* sharutils takes these as they are */
	uu_variant("'s/^begin 644 /begin 000644 /'", f, true);
	uu_variant("'s/^begin 644 /begin\\t644\\t/'", f, true);
	uu_variant("'/^M/s/$/   trailing garbage/'", f, true);   /* after the counted groups */
	uu_variant("'/^end$/d'", f, false);                        /* no end line */
	uu_variant("'s/$/\\r/'", f, false);                         /* CR leftovers */
	/* quoting and indentation: what a reader strips before decoding */
	uu_variant("'s/^/> /'", f, false);
	uu_variant("'s/^/| /'", f, false);
	uu_variant("'s/^/    /'", f, false);
	uu_variant("'s/^/> > /'", f, false);
	g_byte_array_unref(f);
}

/* A line whose count character is '>' (30 bytes) under a "> " quote. */
static void test_uuencode_quoted_gt_line(void **state)
{
	GByteArray *f = payload(PE_MAGIC, 16, 30);
	(void)state;

	need("uuencode");
	put("evil.bin", f->data, f->len);
	sh("uuencode evil.bin e.exe | sed 's/^/> /' > uu.txt");
	expect_one("uu.txt", TZ_ENCBLK_UUENCODE, f, "e.exe");
	g_byte_array_unref(f);
}

static void test_uuencode_headerless(void **state)
{
	GByteArray *f = payload(PE_MAGIC, 16, 45 * 5), *text;
	GPtrArray *b;
	(void)state;

	need("uuencode");
	put("evil.bin", f->data, f->len);
	sh("uuencode evil.bin e.exe | sed -e '/^begin/d' -e '/^end/d' > uu.txt");
	text = framed("uu.txt");
	b = scan(text);
	assert_int_equal(only(b, TZ_ENCBLK_UUENCODE)->data->len, f->len);
	assert_bytes(((struct tz_enc_block *)b->pdata[0])->data, f);
	g_ptr_array_unref(b);
	g_byte_array_unref(text);
	g_byte_array_unref(f);
}

/* xxencode (uudeview/xxdecode): the uuencode frame with the alphabet
 * "+-0-9A-Za-z"; encoded here by its definition. */
static void test_xxencode(void **state)
{
	static const char xx[] = "+-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	GByteArray *f = payload(PE_MAGIC, 16, 100), *text = text_of("hi\nbegin 644 evil.exe\n");
	GPtrArray *b;
	struct tz_enc_block *x;
	(void)state;

	for (guint off = 0; off < f->len; off += 45) {
		guint n = MIN(45, f->len - off);

		g_byte_array_append(text, (const guint8 *)&xx[n], 1);
		for (guint i = 0; i < n; i += 3) {
			guint8 a = f->data[off + i], c1 = i + 1 < n ? f->data[off + i + 1] : 0;
			guint8 c2 = i + 2 < n ? f->data[off + i + 2] : 0;
			char q[4] = { xx[a >> 2], xx[(a << 4 | c1 >> 4) & 63], xx[(c1 << 2 | c2 >> 6) & 63],
				      xx[c2 & 63] };

			g_byte_array_append(text, (const guint8 *)q, 4);
		}
		g_byte_array_append(text, (const guint8 *)"\n", 1);
	}
	g_byte_array_append(text, (const guint8 *)"+\nend\nbye\n", 10);
	b = scan(text);
	x = only(b, TZ_ENCBLK_UUENCODE);
	assert_string_equal(x->name, "evil.exe");
	assert_bytes(x->data, f);
	assert_int_equal(x->stop, text->len - 4);
	g_ptr_array_unref(b);
	g_byte_array_unref(text);
	g_byte_array_unref(f);
}

static void test_uuencode_prose(void **state)
{
	const char *prose[] = {
		"begin 644 the meeting with everyone\nSee you there at ten.\n",
		"Let us begin 2 things today.\nFirst the budget.\n",
		"begin 600 x\n\nend\n",
		"MEETING NOTES FOR THE WEEK OF THE FIFTEENTH AND SIXTEENTH OF MAY\n",
	};
	(void)state;

	for (size_t i = 0; i < G_N_ELEMENTS(prose); i++) {
		GByteArray *t = text_of(prose[i]);
		GPtrArray *b = scan(t);

		assert_int_equal(b->len, 0);
		g_ptr_array_unref(b);
		g_byte_array_unref(t);
	}
}

/* ---- BinHex, yEnc, armor --------------------------------------------- */

static void test_binhex(void **state)
{
	GByteArray *f = payload(PE_MAGIC, 16, 1500);
	(void)state;

	need("binhex");
	need("hexbin");
	put("evil.exe", f->data, f->len);
	sh("binhex -d evil.exe > e.hqx && mkdir -p hb && cd hb && hexbin -d ../e.hqx");
	/* the real decoder rebuilds the file from this text */
	{
		GByteArray *d = get("hb/evil.exe.data");

		assert_bytes(d, f);
		g_byte_array_unref(d);
	}
	expect_one("e.hqx", TZ_ENCBLK_BINHEX, f, "evil.exe");
	sh("sed -e '/^(This file/d' e.hqx > e2.hqx");   /* without the header line */
	expect_one("e2.hqx", TZ_ENCBLK_BINHEX, f, "evil.exe");
	g_byte_array_unref(f);
}

static void test_binhex_prose(void **state)
{
	GByteArray *t = text_of("Note: see (attached) list\n:-) thanks\n:\n(This is fine.)\n");
	GPtrArray *b = scan(t);
	(void)state;

	assert_int_equal(b->len, 0);
	g_ptr_array_unref(b);
	g_byte_array_unref(t);
}

/* yEnc by its specification (no encoder in Debian): c + 42, escaping
 * NUL, LF, CR and '=' as '=' (c + 64). Only bytes that stay one UTF-8
 * byte after the charset step are used. */
static void test_yenc(void **state)
{
	GByteArray *f = g_byte_array_new(), *text = text_of("Hi\n=ybegin line=128 size=300 name=evil.exe\n");
	GPtrArray *b;
	struct tz_enc_block *x;
	(void)state;

	for (int i = 0; i < 300; i++) {
		guint8 c = (guint8)(i % 80), e = (guint8)(c + 42);

		g_byte_array_append(f, &c, 1);
		if (e == 0 || e == '\n' || e == '\r' || e == '=') {
			guint8 esc[2] = { '=', (guint8)(e + 64) };

			g_byte_array_append(text, esc, 2);
		} else
			g_byte_array_append(text, &e, 1);
		if (i % 100 == 99)
			g_byte_array_append(text, (const guint8 *)"\n", 1);
	}
	g_byte_array_append(text, (const guint8 *)"=yend size=300\nbye\n", 19);
	b = scan(text);
	x = only(b, TZ_ENCBLK_YENC);
	assert_string_equal(x->name, "evil.exe");
	assert_bytes(x->data, f);
	assert_int_equal(x->stop, text->len - 4);
	g_ptr_array_unref(b);
	g_byte_array_unref(text);
	g_byte_array_unref(f);
}

static void test_armor_openssl(void **state)
{
	GByteArray *der;
	(void)state;

	need("openssl");
	sh("openssl genpkey -algorithm ed25519 -out k.pem && "
	   "openssl req -x509 -key k.pem -out c.pem -subj /CN=x -days 1 && "
	   "openssl x509 -in c.pem -outform der -out c.der && "
	   "openssl pkey -in k.pem -outform der -out k.der && sed 's/^/> /' k.pem > kq.pem");
	der = get("c.der");
	expect_one("c.pem", TZ_ENCBLK_ARMOR, der, NULL);
	g_byte_array_unref(der);
	der = get("k.der");
	expect_one("kq.pem", TZ_ENCBLK_ARMOR, der, NULL);
	g_byte_array_unref(der);
}

static void test_armor_gpg(void **state)
{
	GByteArray *f = payload(PE_MAGIC, 16, 2000);
	(void)state;

	need("gpg");
	put("evil.exe", f->data, f->len);
	sh("mkdir -p -m 700 gh && GNUPGHOME=$PWD/gh gpg --batch --enarmor < evil.exe > e.asc && "
	   "GNUPGHOME=$PWD/gh gpg --batch --dearmor < e.asc > back.bin && cmp back.bin evil.exe");
	expect_one("e.asc", TZ_ENCBLK_ARMOR, f, NULL);
	g_byte_array_unref(f);
}

/* A clear-signed message keeps its text; only the signature is a block. */
static void test_armor_signed_message(void **state)
{
	GByteArray *t = text_of("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nHello\n"
				"Meeting at ten.\n-----BEGIN PGP SIGNATURE-----\n\n"
				"iHUEARYIAB0WIQTqRnC3+ksXyZ1x3ZmwZbWMZ1tBxQUCZQ3bAAAKCRCwZbWMZ1tB\n"
				"=abcd\n-----END PGP SIGNATURE-----\n"
				"-----BEGIN forwarded message-----\nFrom: a\n\nhi there\n");
	GPtrArray *b = scan(t);
	char *r = rest(t, b);
	(void)state;

	assert_int_equal(only(b, TZ_ENCBLK_ARMOR)->start, strstr((char *)t->data, "-----BEGIN PGP SIGNATURE") - (char *)t->data);
	assert_non_null(strstr(r, "Hello\nMeeting at ten.\n"));
	assert_non_null(strstr(r, "hi there"));
	g_free(r);
	g_ptr_array_unref(b);
	g_byte_array_unref(t);
}

/* ---- runs ------------------------------------------------------------- */

static void test_base64_runs(void **state)
{
	GByteArray *f = payload(PE_MAGIC, 16, 200), *big = payload("\x01\x02", 2, 2000);
	(void)state;

	need("base64");
	put("evil.exe", f->data, f->len);
	put("big.bin", big->data, big->len);
	sh("base64 evil.exe > w.txt && base64 -w0 evil.exe > t.txt && "
	   "base64 -w0 evil.exe | tr '+/' '-_' | tr -d = > u.txt && "
	   "base64 evil.exe | sed 's/^/> /' > q.txt && base64 -w64 big.bin > big.txt");
	expect_one("w.txt", TZ_ENCBLK_BASE64, f, NULL);
	expect_one("t.txt", TZ_ENCBLK_BASE64, f, NULL);
	expect_one("u.txt", TZ_ENCBLK_BASE64, f, NULL);   /* base64url, no padding */
	expect_one("q.txt", TZ_ENCBLK_BASE64, f, NULL);
	/* in groups of four (Python's b64decode and CyberChef skip the spaces) */
	sh("base64 -w64 evil.exe | sed 's/\\(....\\)/\\1 /g; s/ $//' > g.txt");
	expect_one("g.txt", TZ_ENCBLK_BASE64, f, NULL);
	expect_one("big.txt", TZ_ENCBLK_BASE64, big, NULL);   /* no signature: length */
	g_byte_array_unref(f);
	g_byte_array_unref(big);
}

/* One junk character before the run does not hide the signature. */
static void test_base64_alignment(void **state)
{
	GByteArray *f = payload("\x7f" "ELF\2\1\1", 7, 100), *text;
	GPtrArray *b;
	struct tz_enc_block *x;
	char *enc = g_base64_encode(f->data, f->len), *s;
	(void)state;

	s = g_strdup_printf("here: x%s done\n", enc);
	text = text_of(s);
	b = scan(text);
	x = only(b, TZ_ENCBLK_BASE64);
	assert_string_equal(x->reason, "ELF");
	assert_bytes(x->data, f);
	g_ptr_array_unref(b);
	g_byte_array_unref(text);
	g_free(s);
	g_free(enc);
	g_byte_array_unref(f);
}

/* A short first line is prose unless the file starts there: an attacker's
 * short first line does not hide the signature, a word before the lines
 * does not shift the decoding. */
static void test_base64_short_first_line(void **state)
{
	GByteArray *f = payload(PE_MAGIC, 16, 300), *text;
	char *enc = g_base64_encode(f->data, f->len), *s;
	GPtrArray *b;
	struct tz_enc_block *x;
	(void)state;

	s = g_strdup_printf("attached:\n%.8s\n%.76s\n%.76s\n%s\nbye\n", enc, enc + 8, enc + 84,
			    enc + 160);
	text = text_of(s);
	b = scan(text);
	x = only(b, TZ_ENCBLK_BASE64);
	assert_bytes(x->data, f);
	assert_int_equal(x->start, strlen("attached:\n"));
	g_ptr_array_unref(b);
	g_byte_array_unref(text);
	g_free(s);
	s = g_strdup_printf("see below\n%.76s\n%.76s\n%s\nbye\n", enc, enc + 76, enc + 152);
	text = text_of(s);
	b = scan(text);
	x = only(b, TZ_ENCBLK_BASE64);
	assert_bytes(x->data, f);
	assert_int_equal(x->start, strlen("see below\n"));
	g_ptr_array_unref(b);
	g_byte_array_unref(text);
	g_free(s);
	g_free(enc);
	g_byte_array_unref(f);
}

static void test_base32_hex(void **state)
{
	GByteArray *f = payload("PK\3\4\x14\0\0\0", 8, 300);
	(void)state;

	need("base32");
	need("xxd");
	put("a.zip", f->data, f->len);
	sh("base32 a.zip > b32.txt && xxd -p a.zip > hx.txt && xxd a.zip > dump.txt && "
	   "xxd -r dump.txt > back.zip && cmp back.zip a.zip && "
	   "xxd -i a.zip | sed -n '2,/}/p' | sed 's/}.*//' > carr.txt && "
	   "xxd -p a.zip | tr -d '\\n' | sed 's/\\(..\\)/\\\\x\\1/g' > esc.txt && "
	   "xxd -p -c1 a.zip | tr '\\n' ' ' > sp.txt");
	expect_one("b32.txt", TZ_ENCBLK_BASE32, f, NULL);
	expect_one("hx.txt", TZ_ENCBLK_HEX, f, NULL);
	expect_one("dump.txt", TZ_ENCBLK_HEX, f, NULL);
	expect_one("carr.txt", TZ_ENCBLK_HEX, f, NULL);
	expect_one("esc.txt", TZ_ENCBLK_HEX, f, NULL);
	expect_one("sp.txt", TZ_ENCBLK_HEX, f, NULL);
	g_byte_array_unref(f);
}

/* ASCII85 in Adobe framing and quoted-printable with every byte escaped,
 * both written by Python's standard library. */
static void test_ascii85_qp(void **state)
{
	GByteArray *f = payload(PE_MAGIC, 16, 301);
	(void)state;

	need("/usr/bin/python3");
	put("evil.exe", f->data, f->len);
	sh("/usr/bin/python3 -c 'import base64,sys; d=open(\"evil.exe\",\"rb\").read(); "
	   "open(\"a85.txt\",\"w\").write(\"<~\"+base64.a85encode(d,wrapcol=72).decode()+\"~>\\n\"); "
	   "s=\"\".join(\"=%%02X\" %% c for c in d); "
	   "open(\"qp.txt\",\"w\").write(\"\\n\".join(s[i:i+72]+\"=\" for i in range(0,len(s),72))+\"\\n\"); "
	   "import quopri; assert quopri.decodestring(open(\"qp.txt\",\"rb\").read())==d'");
	expect_one("a85.txt", TZ_ENCBLK_ASCII85, f, NULL);
	expect_one("qp.txt", TZ_ENCBLK_HEX, f, NULL);
	g_byte_array_unref(f);
}

static void test_data_urls(void **state)
{
	const char *urls[] = {
		"<data:application/octet-stream;base64,TVqQAAMAAAAEAAAA>",
		"see DATA :application/x-msdownload;BASE64,TVqQAAMAAAAEAAAA there",
		"data:;base64,TVqQAAMAAAAEAAAA",
		"x (data:text/html,%3Cscript%3Ealert(1)%3C/script%3E) y",
		"data:,hello",
		"clickdata:text/html;base64,PHNjcmlwdD4=",   /* glued to a word */
	};
	(void)state;

	for (size_t i = 0; i < G_N_ELEMENTS(urls); i++) {
		GByteArray *t = text_of(urls[i]);
		GPtrArray *b = scan(t);
		struct tz_enc_block *x = only(b, TZ_ENCBLK_DATA_URL);

		assert_true(g_ascii_strncasecmp((char *)t->data + x->start, "data", 4) == 0);
		if (i < 3)
			assert_memory_equal(x->data->data, "MZ\x90\0\3\0", 6);
		if (i == 3 || i == 5)
			assert_memory_equal(x->data->data, "<script>", 8);
		g_ptr_array_unref(b);
		g_byte_array_unref(t);
	}
}

/* What real mail holds and must stay text. */
static void test_not_files(void **state)
{
	GString *s = g_string_new(NULL);
	GByteArray *t;
	GPtrArray *b;
	(void)state;

	g_string_append(s, "SHA-256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
			   "digest bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
			   "Fingerprint: 1C82 1A6C 0DC1 4F4B 3E6D  9C2A 4B5D 7E21 C0FF EE00\n"
			   "id 550e8400-e29b-41d4-a716-446655440000, mac 00:1a:2b:3c:4d:5e\n"
			   "metadata: a/b, c and Data: input/output, processed daily\n"
			   "日本語の本文です。会議は十時からです。よろしくお願いします。\n"
			   "> quoted reply line one\n> Thanks\n> Bob\n");
	/* a long tracking URL */
	g_string_append(s, "https://click.example.com/t?u=");
	for (int i = 0; i < 300; i++)
		g_string_append(s, "AbCd3fGh");
	g_string_append(s, "&x=1\n");
	/* a table of numbers, 2 KB */
	for (int i = 0; i < 200; i++)
		g_string_append_printf(s, "%04d %02d %02d %06d\n", 2000 + i, i % 12 + 1, i % 28 + 1, i * 37);
	/* a separator */
	for (int i = 0; i < 30; i++)
		g_string_append(s, "------------------------------------------------------------\n");
	t = text_of(s->str);
	b = scan(t);
	for (guint i = 0; i < b->len; i++) {
		struct tz_enc_block *x = b->pdata[i];

		print_message("unexpected %s %s at %zu: %.60s\n", tz_enc_kind_name(x->kind),
			      x->reason, x->start, s->str + x->start);
	}
	assert_int_equal(b->len, 0);
	g_ptr_array_unref(b);
	g_byte_array_unref(t);
	g_string_free(s, TRUE);
}

/* Past max_blocks the last block runs to the end of the text. */
static void test_block_cap(void **state)
{
	GByteArray *t = text_of("data:,a data:,b data:,c data:,d data:,e tail text\n");
	struct tz_encscan_limits l;
	GPtrArray *b;
	(void)state;

	tz_encscan_limits_init(&l);
	l.max_blocks = 3;
	b = tz_encscan((const char *)t->data, t->len, &l);
	assert_int_equal(b->len, 3);
	assert_int_equal(((struct tz_enc_block *)b->pdata[2])->stop, t->len);
	assert_false(((struct tz_enc_block *)b->pdata[2])->decoded);
	g_ptr_array_unref(b);
	g_byte_array_unref(t);
	assert_string_equal(tz_enc_kind_name(TZ_ENCBLK_UU_BASE64), "uu-base64");
	assert_string_equal(tz_enc_kind_name(TZ_ENCBLK_COUNT), "unknown");
	tz_enc_block_free(NULL);
}

/* The cap counts each pass's blocks, not the total: after the line pass
 * has found max_blocks armor blocks, the data: URL pass still runs in the
 * gap before them, and the cap then keeps the first blocks by position
 * (the URL, then the first armor block running to the end). A scan that
 * counted every pass's blocks together would stop before the URL. */
static void test_block_cap_per_pass(void **state)
{
	static const char armor[] = "-----BEGIN PGP MESSAGE-----\n\nhQEMA0xyz1234abcd\n-----END PGP MESSAGE-----\n";
	GByteArray *t = text_of("see data:,a here\n");
	struct tz_encscan_limits l;
	struct tz_enc_block *x;
	GPtrArray *b;
	(void)state;

	g_byte_array_append(t, (const guint8 *)armor, sizeof armor - 1);
	g_byte_array_append(t, (const guint8 *)armor, sizeof armor - 1);
	g_byte_array_append(t, (const guint8 *)"tail\n", 5);
	tz_encscan_limits_init(&l);
	b = tz_encscan((const char *)t->data, t->len, &l);
	assert_int_equal(b->len, 3);   /* uncapped: the URL and both armor blocks */
	g_ptr_array_unref(b);
	l.max_blocks = 2;
	b = tz_encscan((const char *)t->data, t->len, &l);
	assert_int_equal(b->len, 2);
	x = b->pdata[0];
	assert_int_equal(x->kind, TZ_ENCBLK_DATA_URL);
	assert_int_equal(x->start, 4);
	x = b->pdata[1];
	assert_int_equal(x->kind, TZ_ENCBLK_ARMOR);
	assert_int_equal(x->start, 17);
	assert_int_equal(x->stop, t->len);
	g_ptr_array_unref(b);
	g_byte_array_unref(t);
}

/* Japanese text is skipped 16 bytes at a time where no scanner can start:
 * a data: URL, a base64 line and a hex line right after k characters of
 * it (3k bytes: every phase of the 16- and 8-byte steps), glued to it or
 * on the next line, are each found where they start, and the decoded
 * bytes are the file's. Fails when a skip steps over a byte it must
 * stop at. */
static void test_after_japanese(void **state)
{
	GByteArray *f = payload(PE_MAGIC, 16, 60);
	char *b64 = g_base64_encode(f->data, f->len);
	GString *hex = g_string_new(NULL);
	(void)state;

	for (guint i = 0; i < f->len; i++)
		g_string_append_printf(hex, "%02x", f->data[i]);
	for (int k = 0; k <= 40; k++) {
		for (int form = 0; form < 3; form++) {
			GString *t = g_string_new(NULL);
			size_t at;
			GPtrArray *b;
			struct tz_enc_block *x;

			for (int i = 0; i < k; i++)
				g_string_append(t, "\xe3\x81\x82");   /* あ */
			g_string_append(t, form == 0 ? " " : "\n");
			at = t->len;
			g_string_append(t, form == 0 ? "data:,MZ" : form == 1 ? b64 : hex->str);
			g_string_append(t, "\n\xe3\x81\x84\xe3\x81\x84\xe3\x81\x84\xe3\x81\x84\xe3\x81\x84\xe3\x81\x84\n");
			b = tz_encscan(t->str, t->len, NULL);
			if (b->len != 1)
				fail_msg("k %d form %d: %u blocks", k, form, b->len);
			x = b->pdata[0];
			assert_int_equal(x->kind, form == 0 ? TZ_ENCBLK_DATA_URL : form == 1 ? TZ_ENCBLK_BASE64 : TZ_ENCBLK_HEX);
			assert_int_equal(x->start, at);
			if (form > 0)
				assert_bytes(x->data, f);
			g_ptr_array_unref(b);
			g_string_free(t, TRUE);
		}
	}
	g_string_free(hex, TRUE);
	g_free(b64);
	g_byte_array_unref(f);
}

/* Several kinds in one text: each found, in order, none overlapping. */
static void test_mixed(void **state)
{
	GByteArray *f = payload(PE_MAGIC, 16, 120), *text;
	GPtrArray *b;
	(void)state;

	need("uuencode");
	put("e.bin", f->data, f->len);
	sh("{ echo 'first'; uuencode e.bin a.exe; echo 'middle data:;base64,TVqQAAMAAAAE x'; "
	   "base64 e.bin; echo; xxd -p e.bin; echo last; } > mix.txt");
	text = get("mix.txt");
	b = scan(text);
	assert_int_equal(b->len, 4);
	assert_int_equal(((struct tz_enc_block *)b->pdata[0])->kind, TZ_ENCBLK_UUENCODE);
	assert_int_equal(((struct tz_enc_block *)b->pdata[1])->kind, TZ_ENCBLK_DATA_URL);
	assert_int_equal(((struct tz_enc_block *)b->pdata[2])->kind, TZ_ENCBLK_BASE64);
	assert_int_equal(((struct tz_enc_block *)b->pdata[3])->kind, TZ_ENCBLK_HEX);
	for (guint i = 0; i < b->len; i++)
		if (i != 1)
			assert_bytes(((struct tz_enc_block *)b->pdata[i])->data, f);
	g_ptr_array_unref(b);
	g_byte_array_unref(text);
	g_byte_array_unref(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uuencode_sharutils),
		cmocka_unit_test(test_uuencode_loose),
		cmocka_unit_test(test_uuencode_quoted_gt_line),
		cmocka_unit_test(test_uuencode_headerless),
		cmocka_unit_test(test_xxencode),
		cmocka_unit_test(test_uuencode_prose),
		cmocka_unit_test(test_binhex),
		cmocka_unit_test(test_binhex_prose),
		cmocka_unit_test(test_yenc),
		cmocka_unit_test(test_armor_openssl),
		cmocka_unit_test(test_armor_gpg),
		cmocka_unit_test(test_armor_signed_message),
		cmocka_unit_test(test_base64_runs),
		cmocka_unit_test(test_base64_alignment),
		cmocka_unit_test(test_base64_short_first_line),
		cmocka_unit_test(test_base32_hex),
		cmocka_unit_test(test_ascii85_qp),
		cmocka_unit_test(test_data_urls),
		cmocka_unit_test(test_not_files),
		cmocka_unit_test(test_block_cap),
		cmocka_unit_test(test_block_cap_per_pass),
		cmocka_unit_test(test_after_japanese),
		cmocka_unit_test(test_mixed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
