/* tz_cdr_zip.c — ZIP archives: each member by the same rules as a part.
 *
 * The archive is read ONLY inside the sandbox: Python's zipfile lists it,
 * applies the limits (members, declared and real uncompressed bytes,
 * compression ratio), refuses encrypted archives unless a password is given
 * (staff give it on the console: it reaches the reader on its stdin through
 * a pipe, never in a file or argv). ZipCrypto members zipfile opens itself;
 * WinZip AES members (AE-1/AE-2, method 99), which zipfile cannot, are
 * checked against the password's verifier (PBKDF2, hashlib), copied alone
 * into a one-member ZIP whose name we choose and opened by 7-Zip (7zip's
 * 7zz, else p7zip's 7z) in the same sandbox, the password on its stdin.
 * It decodes member names (UTF-8 flag, else UTF-8 or
 * CP932/Shift_JIS as Japanese Windows writes them, else CP437) and writes
 * each member to /out/m/NNNNN — a name we choose, so a traversal name never
 * touches a path — plus a manifest of hex-encoded names. Here the manifest
 * is parsed as untrusted, every member goes through tz_cdr (its own sandbox
 * runs; a nested ZIP recurses up to SanitizeZipMaxDepth), and the sanitized
 * copies are packed into a new ZIP (our file names, our bytes) together with
 * 無害化の結果.txt, which lists what each member became or why it was not
 * sanitized. One ZIP in, one ZIP out: the part keeps one 参照番号. */
#include "tz_cdr_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>

#include "tz_header.h"
#include "tz_util.h"

#define PYTHON "/usr/bin/python3"
#define REPORT_NAME "無害化の結果.txt"

/* In the sandbox: argv IN OUT MAX_MEMBERS MAX_RATIO MAX_TOTAL MAX_MEMBER [pw]
 * ("pw": the password is on stdin; for an AES member it is handed on to
 * 7-Zip's stdin in turn).
 * Exit 3 not a readable ZIP, 5 encrypted (no password), 6 too many members,
 * 7 bomb (total or ratio), 8 wrong password. Manifest lines:
 * "INDEX STATUS SIZE HEXNAME" with STATUS ok|dir|link|big|bad. */
static const char unpack_py[] =
	"import os, stat, struct, subprocess, sys, zipfile, zlib, hashlib\n"
	"src, out = sys.argv[1], sys.argv[2]\n"
	"maxm, ratio, maxt, maxone = (int(a) for a in sys.argv[3:7])\n"
	"pw = None\n"
	"def name_of(zi):\n"
	"    if zi.flag_bits & 0x800:\n"
	"        return zi.filename\n"
	"    raw = zi.filename.encode('cp437')\n"
	"    for enc in ('utf-8', 'cp932'):\n"
	"        try:\n"
	"            return raw.decode(enc)\n"
	"        except UnicodeDecodeError:\n"
	"            pass\n"
	"    return raw.decode('cp437')\n"
	"SEVEN = next((p for p in ('/usr/bin/7zz', '/usr/bin/7z') if os.path.exists(p)), None)\n"
	"def aes_strength(extra):\n"
	"    while len(extra) >= 4:\n"
	"        hid, ln = struct.unpack('<HH', extra[:4])\n"
	"        if hid == 0x9901 and ln >= 7:\n"
	"            return extra[8]\n"
	"        extra = extra[4 + ln:]\n"
	"    return None\n"
	"def aes(zi, dest):\n"
	"    # WinZip AES (AE-1/AE-2): the member alone in a one-member ZIP named\n"
	"    # by us, opened by 7-Zip, the password on its stdin\n"
	"    global done\n"
	"    s = aes_strength(zi.extra)\n"
	"    if s not in (1, 2, 3) or SEVEN is None or pw is None:\n"
	"        raise NotImplementedError('AES')\n"
	"    with open(src, 'rb') as f:\n"
	"        f.seek(zi.header_offset)\n"
	"        h = f.read(30)\n"
	"        if len(h) != 30 or h[:4] != b'PK\\x03\\x04':\n"
	"            raise zipfile.BadZipFile('local header')\n"
	"        nlen, xlen = struct.unpack('<HH', h[26:30])\n"
	"        f.seek(nlen, 1)\n"
	"        lx = f.read(xlen)\n"
	"        data = f.read(zi.compress_size)\n"
	"    salt = 4 + 4 * s\n"
	"    if len(data) != zi.compress_size or len(data) < salt + 12:\n"
	"        raise zipfile.BadZipFile('short')\n"
	"    key = hashlib.pbkdf2_hmac('sha1', pw, data[:salt], 1000, 2 * (8 + 8 * s) + 2)\n"
	"    if key[-2:] != data[salt:salt + 2]:\n"
	"        raise RuntimeError('password')\n"
	"    flags = zi.flag_bits & ~0x808\n"
	"    fields = h[4:6] + struct.pack('<H', flags) + h[8:14] + struct.pack('<III', zi.CRC, zi.compress_size, zi.file_size)\n"
	"    local = b'PK\\x03\\x04' + fields + struct.pack('<HH', 1, len(lx)) + b'm' + lx\n"
	"    cd = b'PK\\x01\\x02' + h[4:6] + fields + struct.pack('<HHHHHII', 1, len(zi.extra), 0, 0, 0, 0, 0) + b'm' + zi.extra\n"
	"    tmp = os.path.join(out, 'aes.zip')\n"
	"    with open(tmp, 'wb') as t:\n"
	"        t.write(local + data + cd + b'PK\\x05\\x06' + struct.pack('<HHHHIIH', 0, 0, 1, 1, len(cd), len(local) + len(data), 0))\n"
	"    p = subprocess.Popen([SEVEN, 'e', '-so', '-bd', '-tzip', tmp], stdin=subprocess.PIPE, stdout=subprocess.PIPE,\n"
	"                         stderr=subprocess.DEVNULL, env={'LANG': 'C.UTF-8', 'PATH': '/usr/bin'})\n"
	"    p.stdin.write(pw + b'\\n')\n"
	"    p.stdin.close()\n"
	"    with open(dest, 'wb') as o:\n"
	"        while True:\n"
	"            b = p.stdout.read(65536)\n"
	"            if not b:\n"
	"                break\n"
	"            done += len(b)\n"
	"            if done > maxt:\n"
	"                p.kill()\n"
	"                sys.exit(7)\n"
	"            o.write(b)\n"
	"    rc = p.wait()\n"
	"    os.unlink(tmp)\n"
	"    if rc != 0:\n"
	"        raise zipfile.BadZipFile('7-Zip: %d' % rc)\n"
	"try:\n"
	"    zf = zipfile.ZipFile(src)\n"
	"    infos = zf.infolist()\n"
	"except Exception:\n"
	"    sys.exit(3)\n"
	"if len(infos) > maxm:\n"
	"    sys.exit(6)\n"
	"if any(zi.flag_bits & 1 for zi in infos):\n"
	"    if len(sys.argv) < 8:\n"
	"        sys.exit(5)\n"
	"    pw = sys.stdin.buffer.read()\n"
	"    zf.setpassword(pw)\n"
	"if sum(zi.file_size for zi in infos) > maxt:\n"
	"    sys.exit(7)\n"
	"for zi in infos:\n"
	"    if zi.file_size > (1 << 20) and zi.file_size > ratio * max(zi.compress_size, 1):\n"
	"        sys.exit(7)\n"
	"done = 0\n"
	"man = open(os.path.join(out, 'manifest'), 'w')\n"
	"for i, zi in enumerate(infos):\n"
	"    mode = zi.external_attr >> 16\n"
	"    if zi.is_dir():\n"
	"        st = 'dir'\n"
	"    elif zi.create_system == 3 and stat.S_ISLNK(mode):\n"
	"        st = 'link'\n"
	"    elif zi.file_size > maxone:\n"
	"        st = 'big'\n"
	"    else:\n"
	"        st = 'ok'\n"
	"        try:\n"
	"            if zi.compress_type == 99:\n"
	"                aes(zi, os.path.join(out, 'm', '%05d' % i))\n"
	"            else:\n"
	"                with zf.open(zi) as f, open(os.path.join(out, 'm', '%05d' % i), 'wb') as o:\n"
	"                    while True:\n"
	"                        b = f.read(65536)\n"
	"                        if not b:\n"
	"                            break\n"
	"                        done += len(b)\n"
	"                        if done > maxt:\n"
	"                            sys.exit(7)\n"
	"                        o.write(b)\n"
	"        except RuntimeError:\n"
	"            sys.exit(8)\n"
	"        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError, OSError):\n"
	"            st = 'bad'\n"
	"    name = name_of(zi).encode('utf-8', 'replace').hex()\n"
	"    man.write('%d %s %d %s\\n' % (i, st, zi.file_size, name))\n"
	"man.close()\n";

/* In the sandbox, on our own files: argv IN OUT; IN/list has "FILE\tNAME"
 * lines; writes OUT/sanitized.zip (names flagged UTF-8 by zipfile). */
static const char pack_py[] =
	"import os, sys, zipfile\n"
	"src, out = sys.argv[1], sys.argv[2]\n"
	"with zipfile.ZipFile(os.path.join(out, 'sanitized.zip'), 'w', zipfile.ZIP_DEFLATED) as z:\n"
	"    for line in open(os.path.join(src, 'list'), encoding='utf-8'):\n"
	"        f, name = line.rstrip('\\n').split('\\t', 1)\n"
	"        z.write(os.path.join(src, f), name)\n";

struct member {
	unsigned index;
	char status[8];
	uint64_t size;
	char *name;          /* cleaned relative path, UTF-8, g_free */
};

static void member_free(gpointer p)
{
	struct member *m = p;

	g_free(m->name);
	g_free(m);
}

/* One path component as staff may see it and Windows can store it: the
 * display-safe form (controls, bidi and slashes made visible), the
 * characters Windows refuses replaced, no trailing dots or spaces, at most
 * 120 bytes (on a character boundary). */
static char *clean_component(const char *c)
{
	char *safe = tz_header_display_safe(c), *p;
	size_t n;

	for (p = safe; *p; p++)
		if (strchr("<>:\"|?*", *p))
			*p = '_';
	n = strlen(safe);
	if (n > 120) {
		const char *cut = g_utf8_find_prev_char(safe, safe + 121);
		n = cut ? (size_t)(cut - safe) : 0;
		safe[n] = '\0';
	}
	while (n > 0 && (safe[n - 1] == '.' || safe[n - 1] == ' '))
		safe[--n] = '\0';
	return safe;
}

/* A sender-controlled member name as a relative path with no way out:
 * '\' is a separator too, empty, "." and ".." components and drive
 * letters are dropped. "" when nothing is left. g_free(). */
char *tz_cdr_zip_clean_name(const char *name)
{
	char *valid = g_utf8_make_valid(name, -1);
	char **parts;
	GString *o = g_string_new(NULL);

	g_strdelimit(valid, "\\", '/');
	parts = g_strsplit(valid, "/", -1);
	for (char **c = parts; *c; c++) {
		char *safe;
		if (**c == '\0' || strcmp(*c, ".") == 0 || strcmp(*c, "..") == 0 ||
		    (c == parts && g_ascii_isalpha((*c)[0]) && (*c)[1] == ':' && (*c)[2] == '\0'))
			continue;
		safe = clean_component(*c);
		if (*safe && strcmp(safe, ".") != 0 && strcmp(safe, "..") != 0)
			g_string_append_printf(o, "%s%s", o->len ? "/" : "", safe);
		g_free(safe);
	}
	g_strfreev(parts);
	g_free(valid);
	return g_string_free(o, FALSE);
}

/* The sandbox's manifest, parsed as untrusted: strict fields, indexes
 * below max, names hex of at most 4 KiB. NULL (reason in r) when it is
 * not in that form. */
static GPtrArray *read_manifest(const char *path, unsigned max, struct tz_cdr_result *r)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(member_free);
	gchar *text = NULL, **lines = NULL;

	/* a line per member: 4 short fields and at most 8 KiB of hex */
	if ((text = tz_cdr_read_output(path, (size_t)(max + 1) * 8256)) == NULL)
		goto bad;
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l; l++) {
		char **f;
		if (**l == '\0' && l[1] == NULL)
			break;     /* the last line's end */
		f = g_strsplit(*l, " ", -1);
		struct member *m;
		size_t hl;
		int ok = g_strv_length(f) == 4 && strspn(f[0], "0123456789") == strlen(f[0]) &&
			 strlen(f[0]) <= 6 && strspn(f[2], "0123456789") == strlen(f[2]) &&
			 strlen(f[2]) <= 19 && *f[0] && *f[2] && strlen(f[1]) < 8 &&
			 g_strv_contains((const char *[]){ "ok", "dir", "link", "big", "bad", NULL },
					 f[1]) && (hl = strlen(f[3])) % 2 == 0 && hl <= 8192;
		if (ok) {
			GString *raw = g_string_new(NULL);
			for (size_t i = 0; ok && i < hl; i += 2) {
				int hi = g_ascii_xdigit_value(f[3][i]), lo = g_ascii_xdigit_value(f[3][i + 1]);
				ok = hi >= 0 && lo >= 0 && (hi || lo);
				g_string_append_c(raw, (char)(hi * 16 + lo));
			}
			m = g_new0(struct member, 1);
			m->index = (unsigned)strtoul(f[0], NULL, 10);
			g_strlcpy(m->status, f[1], sizeof m->status);
			m->size = g_ascii_strtoull(f[2], NULL, 10);
			m->name = tz_cdr_zip_clean_name(raw->str);
			g_string_free(raw, TRUE);
			g_ptr_array_add(a, m);
			ok = ok && m->index < max && (a->len == 1 ||
			     m->index > ((struct member *)g_ptr_array_index(a, a->len - 2))->index);
		}
		g_strfreev(f);
		if (!ok)
			goto bad;
	}
	g_strfreev(lines);
	g_free(text);
	return a;
bad:
	tz_cdr_refuse(r, "zip", "the archive reader's output was not in the expected form");
	g_strfreev(lines);
	g_free(text);
	g_ptr_array_unref(a);
	return NULL;
}

/* The sandbox run that unpacks; 0 unpacked, 1 decided (reason in r), -1. */
static int unpack(const struct tz_cdr_opts *o, const char *input, const char *password,
		  const char *workdir, const char *outdir, struct tz_cdr_result *r,
		  char *err, size_t errlen)
{
	char *indir = tz_cdr_subdir(workdir, "zip-in", err, errlen), *arc = NULL;
	char *mdir = NULL, nm[16], rt[16], tot[24], one[24], why[256];
	int rc = -1;

	if (indir == NULL)
		return -1;
	arc = g_build_filename(indir, "archive.zip", NULL);
	mdir = tz_cdr_subdir(outdir, "m", err, errlen);
	/* the archive in a directory of its own: the sandbox sees it and
	 * nothing else of the work directory */
	if (mdir == NULL || tz_cdr_copy(input, arc, err, errlen) != 0)
		goto out;
	if (password && strlen(password) > TZ_CDR_PASSWORD_MAX) {
		tz_cdr_refuse(r, "encrypted-zip", "the password given is longer than %d bytes",
			      TZ_CDR_PASSWORD_MAX);
		r->wrong_password = true;
		rc = 1;
		goto out;
	}
	snprintf(nm, sizeof nm, "%u", o->zip_max_members);
	snprintf(rt, sizeof rt, "%u", o->zip_max_ratio);
	snprintf(tot, sizeof tot, "%llu", (unsigned long long)o->zip_max_total);
	snprintf(one, sizeof one, "%llu", (unsigned long long)o->max_input);
	{
		char *argv[] = { PYTHON, "-I", "-c", (char *)unpack_py, TZ_SANDBOX_IN "/zip-in/archive.zip",
				 TZ_SANDBOX_OUT, nm, rt, tot, one,
				 password ? "pw" : NULL, NULL };
		struct tz_sandbox_job job = { .argv = argv, .input = indir, .outdir = outdir,
					      .stdin_data = password,
					      .stdin_len = password ? strlen(password) : 0 };
		tz_cdr_limits(o, &job.lim);
		job.lim.fsize_bytes = o->max_input + 1;
		rc = tz_sandbox_run(&job, why, sizeof why);
	}
	if (rc == -1)
		tz_err(err, errlen, "%s", why);
	else if (rc == 5)
		tz_cdr_refuse(r, "encrypted-zip", "encrypted (the password is not known)");
	else if (rc == 8) {
		tz_cdr_refuse(r, "encrypted-zip", "encrypted, and the password given does not open it");
		r->wrong_password = true;
	}
	else if (rc == 6)
		tz_cdr_refuse(r, "zip", "more members than SanitizeZipMaxMembers leaves (%u, "
			      "archives nested in the same ZIP counted)", o->zip_max_members);
	else if (rc == 7)
		tz_cdr_refuse(r, "zip-bomb", "zip bomb: more than SanitizeZipMaxTotal bytes or a "
			      "compression ratio over SanitizeZipMaxRatio (%u)", o->zip_max_ratio);
	else if (rc == TZ_SANDBOX_KILLED)
		tz_cdr_refuse(r, "zip", "%s", why);
	else if (rc != 0)
		tz_cdr_refuse(r, "zip", "not a readable ZIP archive (damaged or unsupported)");
	rc = rc == 0 ? 0 : rc == -1 ? -1 : 1;
out:
	if (arc)
		unlink(arc);
	g_free(indir);
	g_free(arc);
	g_free(mdir);
	return rc;
}

/* The name a sanitized member gets: its cleaned path with the extension of
 * what it now is, unique (case-insensitively, as Windows sees it) among the
 * names already used: "a (2).pdf". g_free(). */
static char *output_name(const struct member *m, const char *ext, GHashTable *used)
{
	const char *base = *m->name ? m->name : "file";
	const char *slash = strrchr(base, '/'), *dot = strrchr(slash ? slash : base, '.');
	char *stem = dot && dot != (slash ? slash + 1 : base) ? g_strndup(base, (gsize)(dot - base))
		     : g_strdup(base);
	char *name = g_strconcat(stem, ext, NULL), *folded = g_utf8_casefold(name, -1);

	for (unsigned n = 2; g_hash_table_contains(used, folded); n++) {
		g_free(name);
		g_free(folded);
		name = g_strdup_printf("%s (%u)%s", stem, n, ext);
		folded = g_utf8_casefold(name, -1);
	}
	g_hash_table_add(used, folded);
	g_free(stem);
	return name;
}

/* Why a member that did not unpack is not in the output. */
static const char *status_reason(const char *st)
{
	return strcmp(st, "link") == 0 ? "a symbolic link"
	     : strcmp(st, "big") == 0 ? "larger than SanitizeMaxInputSize"
	     : "damaged in the archive";
}

struct pack {
	GString *list;       /* "FILE\tNAME" lines for pack_py */
	GString *done;       /* report lines, sanitized members */
	GString *held;       /* report lines, the others */
	GString *note;       /* "; not sanitized: a (why), b (why)" for the part's note */
	GHashTable *used;
	unsigned n_ok, n_held, pages;
};

static void held(struct pack *p, const struct member *m, const char *why)
{
	const char *name = *m->name ? m->name : "(名前なし / no name)";

	g_string_append_printf(p->held, "  %s — %s\r\n", name, why);
	if (p->note->len < 600)
		g_string_append_printf(p->note, "%s%s (%s)", p->note->len ? ", " : "; not sanitized: ",
				       name, why);
	p->n_held++;
}

/* A nested archive that was sanitized without some of its members: they
 * are listed under its name, so the part's note names them too. */
static void nested_held(struct pack *p, const char *name, const char *members)
{
	const char *list = strstr(members, "; not sanitized: ") + strlen("; not sanitized: ");

	g_string_append_printf(p->held, "  %s の中 / in %s: %s\r\n", name, name, list);
	if (p->note->len < 600)
		g_string_append_printf(p->note, "%s%s: %s", p->note->len ? ", " : "; not sanitized: ",
				       name, list);
}

/* One unpacked member through tz_cdr (nested at depth + 1); its copy moved
 * into packdir. -1 only for a machine error. */
static int one_member(const struct tz_cdr_opts *o, unsigned depth, const struct member *m,
		      const char *outdir, const char *workdir, const char *packdir,
		      struct pack *p, char *err, size_t errlen)
{
	char file[16], *in, *mwd, *dst = NULL, *name;
	struct tz_cdr_result mr = { 0 };
	struct stat st;
	int rc;

	snprintf(file, sizeof file, "%05u", m->index);
	in = g_build_filename(outdir, "m", file, NULL);
	mwd = g_build_filename(workdir, "member", NULL);
	if (mkdir(mwd, 0700) != 0) {
		rc = tz_err(err, errlen, "mkdir %s: %s", mwd, strerror(errno));
		goto out;
	}
	/* the reader wrote it; anything but a regular file (it never makes
	 * one) is the archive's fault, not the machine's */
	if (lstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
		held(p, m, "not unpacked");
		rc = 0;
		goto out;
	}
	if (o->scan) {
		char sig[200], why[240];
		rc = o->scan(o->scan_ctx, in, sig, sizeof sig, err, errlen);
		if (rc != 0) {
			unlink(in);
			if (rc > 0) {
				snprintf(why, sizeof why, "infected: %s", sig);
				held(p, m, why);
			}
			rc = rc > 0 ? 0 : -1;
			goto out;
		}
	}
	rc = tz_cdr_file_at(o, in, depth + 1, mwd, &mr, err, errlen);
	unlink(in);
	if (rc == 0 && mr.sanitized) {
		dst = g_build_filename(packdir, file, NULL);
		if (rename(mr.out_path, dst) != 0) {
			rc = tz_err(err, errlen, "rename %s: %s", dst, strerror(errno));
			goto out;
		}
		name = output_name(m, mr.out_ext, p->used);
		g_string_append_printf(p->list, "%s\t%s\n", file, name);
		g_string_append_printf(p->done, "  %s ← %s (%s%s%s)\r\n", name,
				       *m->name ? m->name : "-", mr.kind, mr.members ? ": " : "",
				       mr.members ? mr.members : "");
		if (mr.members && strstr(mr.members, "; not sanitized: "))
			nested_held(p, name, mr.members);
		g_free(name);
		p->n_ok++;
		p->pages += mr.pages;
	} else if (rc == 0) {
		char why[300];
		snprintf(why, sizeof why, "%s: %s", mr.kind ? mr.kind : "unknown", mr.reason);
		held(p, m, why);
	}
out:
	tz_cdr_rm_tree(mwd);
	tz_cdr_result_clear(&mr);
	g_free(in);
	g_free(mwd);
	g_free(dst);
	return rc;
}

/* Write 無害化の結果.txt and run pack_py; 0 made (r filled), -1. */
static int pack_up(const struct tz_cdr_opts *o, const char *workdir, const char *packdir,
		   struct pack *p, struct tz_cdr_result *r, char *err, size_t errlen)
{
	char *rep = g_build_filename(packdir, "report", NULL), *lst = NULL;
	char *outdir = tz_cdr_subdir(workdir, "zip-new", err, errlen);
	GString *t = g_string_new("\xEF\xBB\xBF");   /* BOM: Notepad reads UTF-8 */
	int rc = -1;

	g_string_append(t, "この ZIP ファイルの中身を無害化した結果です。\r\n"
			"This ZIP holds sanitized copies of the members of the original archive.\r\n\r\n"
			"無害化したファイル / sanitized (copy ← original member):\r\n");
	g_string_append(t, p->done->str);
	if (p->held->len)
		g_string_append_printf(t, "\r\n無害化できなかったファイル / not sanitized:\r\n%s\r\n"
				       "元のファイルが必要なときは、参照番号を添えて情報セキュリティ担当へ"
				       "お問い合わせください。\r\n", p->held->str);
	g_string_append_printf(p->list, "report\t%s\n", REPORT_NAME);
	lst = g_build_filename(packdir, "list", NULL);
	if (outdir == NULL || !g_file_set_contents(rep, t->str, (gssize)t->len, NULL) ||
	    !g_file_set_contents(lst, p->list->str, (gssize)p->list->len, NULL)) {
		if (outdir)
			tz_err(err, errlen, "%s: cannot write", packdir);
		goto out;
	}
	{
		char *argv[] = { PYTHON, "-I", "-c", (char *)pack_py, TZ_SANDBOX_IN "/zip-pack",
				 TZ_SANDBOX_OUT, NULL };
		struct tz_sandbox_job job = { .argv = argv, .input = packdir, .outdir = outdir };
		tz_cdr_limits(o, &job.lim);
		job.lim.fsize_bytes = o->zip_max_total + (64u << 20);
		rc = tz_cdr_run(&job, r, "zip", err, errlen);
	}
	if (rc == 0) {
		r->sanitized = true;
		r->kind = "zip";
		r->out_path = g_build_filename(outdir, "sanitized.zip", NULL);
		r->out_ext = ".zip";
		r->out_type = "application/zip";
		r->pages = p->pages;
		r->members = g_strdup_printf("%u of %u members sanitized%s", p->n_ok,
					     p->n_ok + p->n_held, p->note->str);
	}
out:
	g_string_free(t, TRUE);
	g_free(rep);
	g_free(lst);
	g_free(outdir);
	return rc < 0 ? -1 : 0;
}

int tz_cdr_zip(const struct tz_cdr_opts *o, const char *input, const char *password,
	       unsigned depth, const char *workdir, struct tz_cdr_result *r,
	       char *err, size_t errlen)
{
	char *outdir = NULL, *packdir = NULL, *man = NULL;
	struct pack p = { g_string_new(NULL), g_string_new(NULL), g_string_new(NULL),
			  g_string_new(NULL), g_hash_table_new_full(g_str_hash, g_str_equal,
								    g_free, NULL), 0, 0, 0 };
	struct tz_cdr_zip_budget top = { o->zip_max_total, o->zip_max_members };
	struct tz_cdr_zip_budget *budget = o->zip_budget ? o->zip_budget : &top;
	struct tz_cdr_opts inner = *o;
	GPtrArray *members = NULL;
	uint64_t unpacked = 0;
	int rc = -1;

	r->kind = "zip";
	if (*r->detected == '\0')
		g_strlcpy(r->detected, "application/zip", sizeof r->detected);
	if (depth >= o->zip_max_depth) {
		rc = tz_cdr_refuse(r, "zip", "an archive nested deeper than SanitizeZipMaxDepth (%u)",
				   o->zip_max_depth);
		goto out;
	}
	/* this archive may use what the outermost one has left */
	inner.zip_max_total = budget->bytes;
	inner.zip_max_members = budget->members;
	inner.zip_budget = budget;
	outdir = tz_cdr_subdir(workdir, "zip-out", err, errlen);
	packdir = outdir ? tz_cdr_subdir(workdir, "zip-pack", err, errlen) : NULL;
	if (packdir == NULL ||
	    (rc = unpack(&inner, input, password, workdir, outdir, r, err, errlen)) != 0)
		goto out;
	man = g_build_filename(outdir, "manifest", NULL);
	members = read_manifest(man, inner.zip_max_members, r);
	rc = 0;
	if (members == NULL)
		goto out;
	g_hash_table_add(p.used, g_utf8_casefold(REPORT_NAME, -1));
	for (guint i = 0; i < members->len; i++) {
		const struct member *m = g_ptr_array_index(members, i);
		if (strcmp(m->status, "ok") == 0)
			unpacked += m->size;
	}
	/* what this archive unpacked is gone for every archive after it */
	budget->bytes -= MIN(unpacked, budget->bytes);
	budget->members -= MIN(members->len, budget->members);
	for (guint i = 0; i < members->len && rc == 0; i++) {
		const struct member *m = g_ptr_array_index(members, i);
		if (strcmp(m->status, "dir") == 0)
			continue;
		if (strcmp(m->status, "ok") != 0)
			held(&p, m, status_reason(m->status));
		else
			rc = one_member(&inner, depth, m, outdir, workdir, packdir, &p, err, errlen);
	}
	if (rc != 0)
		goto out;
	if (p.n_ok == 0) {
		rc = tz_cdr_refuse(r, "zip", "no member could be sanitized (%u member%s%s)", p.n_held,
				   p.n_held == 1 ? "" : "s", p.note->str);
		goto out;
	}
	rc = pack_up(o, workdir, packdir, &p, r, err, errlen);
out:
	if (members)
		g_ptr_array_unref(members);
	g_string_free(p.list, TRUE);
	g_string_free(p.done, TRUE);
	g_string_free(p.held, TRUE);
	g_string_free(p.note, TRUE);
	g_hash_table_unref(p.used);
	g_free(outdir);
	g_free(packdir);
	g_free(man);
	return rc < 0 ? -1 : 0;
}
