/* ctl_qenv.c — shared setup and output for textizectl queue/audit/report. */
#include "ctl_qenv.h"

#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tz_blobcfg.h"
#include <openssl/crypto.h>

#include "ctl.h"
#include "ctl_args.h"
#include "tz_audit.h"
#include "tz_index.h"
#include "tz_localtime.h"
#include "tz_meta.h"
#include "tz_report.h"
#include "tz_store.h"
#include "tz_tenant.h"

int ctl_qenv_open(struct ctl_qenv *e, const char *conf, unsigned need)
{
	char err[TZ_ERRLEN];
	const struct tz_config *c;
	int code = EX_CONFIG;

	memset(e, 0, sizeof(*e));
	e->cfg = ctl_config_load(&conf, err, sizeof(err));
	if (e->cfg == NULL)
		goto fail;
	c = e->cfg;
	code = EX_IOERR;
	if ((need & CTL_NEED_STORE) &&
	    ((e->st = tz_store_open(c->quarantine_dir, c->quarantine_key_file, err, sizeof(err))) == NULL ||
	     tz_blobcfg_attach(c, e->st, err, sizeof(err)) < 0))
		goto fail;
	if ((need & CTL_NEED_AUDIT) &&
	    (e->audit = tz_audit_open(tz_config_audit_location(c), c->audit_key_file, err,
				      sizeof(err))) == NULL)
		goto fail;
	if ((need & CTL_NEED_INDEX) && tz_config_index_location(c) &&
	    (e->ix = tz_index_open(tz_config_index_location(c), 5000, err, sizeof(err))) == NULL)
		goto fail;
	code = EX_CONFIG;
	if ((need & CTL_NEED_INDEX_SET) && e->ix == NULL) {
		snprintf(err, sizeof(err), "ReportDatabase is not set in %s", conf ? conf : "the defaults");
		goto fail;
	}
	if (need & CTL_NEED_RELEASE_KEY) {
		if (c->release_key_file == NULL) {
			snprintf(err, sizeof(err), "ReleaseKeyFile is not set: released mail could not be marked");
			goto fail;
		}
		if (tz_key_load(c->release_key_file, e->release_key, err, sizeof(err)) < 0)
			goto fail;
		e->q.release_key = e->release_key;
	}
	e->q.st = e->st;
	e->q.audit = e->audit;
	e->q.ix = e->ix;
	tz_config_queue(c, &e->q);
	return 0;
fail:
	fprintf(stderr, "textizectl: %s\n", err);
	ctl_qenv_close(e);
	return code;
}

int ctl_qenv_tenant(struct ctl_qenv *e, const struct ctl_args *a)
{
	const char *name = a->opt[CTL_O_TENANT];

	if (name == NULL)
		name = getenv("TEXTIZE_TENANT");
	e->tenant = NULL;
	if (name == NULL || *name == '\0')
		return 0;
	e->tenant = tz_config_tenant_find(e->cfg, name);
	if (e->tenant == NULL)
		return ctl_fail(a, EX_CONFIG, "no Tenant %s in the configuration", name);
	tz_config_queue(e->tenant->cfg, &e->q);
	return 0;
}

int ctl_qenv_sees(const struct ctl_qenv *e, const char *tenant)
{
	return e->tenant == NULL || (tenant != NULL && strcmp(tenant, e->tenant->name) == 0);
}

void ctl_qenv_close(struct ctl_qenv *e)
{
	tz_index_free(e->ix);
	tz_audit_free(e->audit);
	tz_store_free(e->st);
	tz_config_unref(e->cfg);
	OPENSSL_cleanse(e->release_key, sizeof(e->release_key));
	memset(e, 0, sizeof(*e));
}

int ctl_format_parse(const char *s)
{
	if (s == NULL || strcmp(s, "table") == 0)
		return CTL_FMT_TABLE;
	if (strcmp(s, "csv") == 0)
		return CTL_FMT_CSV;
	if (strcmp(s, "json") == 0)
		return CTL_FMT_JSON;
	return -1;
}

const char *ctl_operator(const struct ctl_args *a, const char *dflt)
{
	const char *given = a->opt[CTL_O_OPERATOR] ? a->opt[CTL_O_OPERATOR] : dflt;

	if (given == NULL || *given == '\0') {
		ctl_fail(a, EX_USAGE, "--operator NAME is required (who acts, for the audit log)");
		return NULL;
	}
	if (strlen(given) > 64 || !g_utf8_validate(given, -1, NULL) || strchr(given, ',')) {
		ctl_fail(a, EX_USAGE, "--operator: bad name (1 to 64 printable characters, no comma)");
		return NULL;
	}
	for (const char *p = given; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			ctl_fail(a, EX_USAGE, "--operator: bad name (1 to 64 printable characters, no comma)");
			return NULL;
		}
	return given;
}

int ctl_out_check(const struct ctl_args *a, const char *path)
{
	struct stat sb;

	if (path == NULL || lstat(path, &sb) != 0)
		return 0;
	if (a->opt[CTL_O_FORCE] == NULL || !S_ISREG(sb.st_mode))
		return ctl_fail(a, EX_CANTCREAT, "%s exists (--force replaces a regular file)", path);
	return 0;
}

int ctl_out_write(const struct ctl_args *a, const char *path, const char *text)
{
	char *tmp;
	int fd, rc = 0;

	if (path == NULL)
		return fputs(text, stdout) < 0 ? ctl_fail(a, EX_IOERR, "stdout: %s", strerror(errno)) : 0;
	tmp = g_strdup_printf("%s.tmp-%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		rc = ctl_fail(a, EX_CANTCREAT, "%s: %s", tmp, strerror(errno));
	else if (tz_write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0)
		rc = ctl_fail(a, EX_IOERR, "%s: %s", tmp, strerror(errno));
	else if ((a->opt[CTL_O_FORCE] ? rename(tmp, path) : link(tmp, path)) < 0)
		rc = ctl_fail(a, errno == EEXIST ? EX_CANTCREAT : EX_IOERR, "%s: %s", path,
			      strerror(errno));
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	g_free(tmp);
	return rc;
}

void ctl_local_time(int64_t t, char out[40])
{
	tz_local_time(t, out);
}

/* ---- tables ---- */

struct ctl_table {
	guint ncols;
	char **cols;
	gboolean *numeric;  /* per column: a JSON number, not a string */
	GPtrArray *rows;    /* char** (g_strfreev) */
};

static void row_free(gpointer p)
{
	g_strfreev(p);
}

struct ctl_table *ctl_table_new(const char *const *cols)
{
	struct ctl_table *t = g_new0(struct ctl_table, 1);

	t->cols = g_strdupv((char **)cols);
	t->ncols = g_strv_length(t->cols);
	t->numeric = g_new0(gboolean, t->ncols + 1);
	t->rows = g_ptr_array_new_with_free_func(row_free);
	return t;
}

void ctl_table_numeric(struct ctl_table *t, const char *col)
{
	for (guint i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i], col) == 0)
			t->numeric[i] = TRUE;
}

/* A numeric column's value as JSON: the digits, or null when empty or not
 * a plain non-negative integer (never a string that a reader must parse). */
static void json_number(GString *s, const char *v)
{
	if (v[0] != '\0' && strspn(v, "0123456789") == strlen(v) && strlen(v) < 20)
		g_string_append(s, v);
	else
		g_string_append(s, "null");
}

void ctl_table_add(struct ctl_table *t, const char *const *values)
{
	char **row = g_new0(char *, t->ncols + 1);

	for (guint i = 0; i < t->ncols; i++)
		row[i] = g_strdup(values[i] ? values[i] : "");
	g_ptr_array_add(t->rows, row);
}

void ctl_table_free(struct ctl_table *t)
{
	if (t == NULL)
		return;
	g_strfreev(t->cols);
	g_free(t->numeric);
	g_ptr_array_unref(t->rows);
	g_free(t);
}

/* Terminal columns of a UTF-8 string (East Asian wide = 2); controls and
 * invalid bytes are shown as '?'. Returns a printable copy in *out. */
static int display(const char *s, int maxw, char **out)
{
	GString *o = g_string_new(NULL);
	int w = 0;

	for (const char *p = s; *p;) {
		gunichar c = g_utf8_get_char_validated(p, -1);
		int cw;
		if (c == (gunichar)-1 || c == (gunichar)-2 || c < 0x20 || c == 0x7f ||
		    (c >= 0x80 && c < 0xa0) || c == 0x202e || c == 0x202d) {
			c = '?';
			p++;
		} else {
			p = g_utf8_next_char(p);
		}
		cw = g_unichar_iswide(c) ? 2 : 1;
		if (maxw && w + cw > maxw - 1 && *p) {
			g_string_append(o, "…");
			w++;
			break;
		}
		g_string_append_unichar(o, c);
		w += cw;
	}
	*out = g_string_free(o, FALSE);
	return w;
}

static void print_table(const struct ctl_table *t, FILE *f)
{
	int *w = g_new0(int, t->ncols);
	char *d;

	for (guint c = 0; c < t->ncols; c++)
		w[c] = (int)strlen(t->cols[c]);
	for (guint r = 0; r < t->rows->len; r++)
		for (guint c = 0; c < t->ncols; c++) {
			int n = display(((char **)g_ptr_array_index(t->rows, r))[c], 48, &d);
			w[c] = MAX(w[c], n);
			g_free(d);
		}
	for (guint c = 0; c < t->ncols; c++)
		fprintf(f, "%-*s%s", w[c], t->cols[c], c + 1 < t->ncols ? "  " : "\n");
	for (guint r = 0; r < t->rows->len; r++)
		for (guint c = 0; c < t->ncols; c++) {
			int n = display(((char **)g_ptr_array_index(t->rows, r))[c], 48, &d);
			fprintf(f, "%s%*s%s", d, c + 1 < t->ncols ? w[c] - n : 0, "", c + 1 < t->ncols ? "  " : "\n");
			g_free(d);
		}
	g_free(w);
}

void ctl_table_print(const struct ctl_table *t, enum ctl_format fmt, FILE *f)
{
	GString *s = g_string_new(NULL);

	if (fmt == CTL_FMT_TABLE) {
		print_table(t, f);
		g_string_free(s, TRUE);
		return;
	}
	if (fmt == CTL_FMT_CSV) {
		/* BOM + CRLF: what Excel in Japan needs to open UTF-8 CSV. */
		g_string_append(s, "\xEF\xBB\xBF");
		for (guint c = 0; c < t->ncols; c++) {
			tz_report_csv_field(s, t->cols[c]);
			g_string_append(s, c + 1 < t->ncols ? "," : "\r\n");
		}
		for (guint r = 0; r < t->rows->len; r++)
			for (guint c = 0; c < t->ncols; c++) {
				tz_report_csv_cell(s, ((char **)g_ptr_array_index(t->rows, r))[c]);
				g_string_append(s, c + 1 < t->ncols ? "," : "\r\n");
			}
	} else {
		g_string_append(s, "[");
		for (guint r = 0; r < t->rows->len; r++) {
			g_string_append(s, r ? ",\n{" : "\n{");
			for (guint c = 0; c < t->ncols; c++) {
				if (c)
					g_string_append_c(s, ',');
				tz_meta_json_str(s, t->cols[c]);
				g_string_append_c(s, ':');
				if (t->numeric[c])
					json_number(s, ((char **)g_ptr_array_index(t->rows, r))[c]);
				else
					tz_meta_json_str(s, ((char **)g_ptr_array_index(t->rows, r))[c]);
			}
			g_string_append(s, "}");
		}
		g_string_append(s, "\n]\n");
	}
	fwrite(s->str, 1, s->len, f);
	g_string_free(s, TRUE);
}
