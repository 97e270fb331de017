/* fake_mta.c — the fake MTA of fake_mta.h: every call is recorded in the
 * struct fake passed as ctx, so a test asserts what the core asked for;
 * and the runtime the core runs with (fake_runtime_install). */
#include "fake_mta.h"

#include "runtime.h"
#include "tz_util.h"

static const char *f_getsymval(void *ctx, const char *name)
{
	return g_hash_table_lookup(((struct fake *)ctx)->macros, name);
}

static int f_setreply(void *ctx, const char *r, const char *x, const char *t)
{
	struct fake *f = ctx;

	if (f->fail_setreply)
		return -1;
	g_strlcpy(f->rcode, r, sizeof(f->rcode));
	g_strlcpy(f->xcode, x, sizeof(f->xcode));
	g_strlcpy(f->text, t, sizeof(f->text));
	return 0;
}

static int f_chgheader(void *ctx, const char *name, int idx, const char *value)
{
	g_string_append_printf(((struct fake *)ctx)->calls, "chg %s %d [%s]\n", name, idx,
			       value ? value : "(delete)");
	return 0;
}

static int f_addheader(void *ctx, const char *name, const char *value)
{
	g_string_append_printf(((struct fake *)ctx)->calls, "add %s [%s]\n", name, value);
	return 0;
}

static int f_insheader(void *ctx, int idx, const char *name, const char *value)
{
	g_string_append_printf(((struct fake *)ctx)->calls, "ins %d %s [%s]\n", idx, name, value);
	return 0;
}

static int f_replacebody(void *ctx, const unsigned char *buf, int len)
{
	struct fake *f = ctx;

	if (f->fail_replacebody)
		return -1;
	f->replacebody_calls++;
	g_byte_array_append(f->body, buf, (guint)len);
	return 0;
}

static int f_quarantine(void *ctx, const char *reason)
{
	g_string_append_printf(((struct fake *)ctx)->calls, "quarantine %s\n", reason);
	return 0;
}

static int f_progress(void *ctx)
{
	return 0;
}

const struct tzm_ops fake_ops = {
	f_getsymval, f_setreply, f_chgheader, f_addheader, f_insheader,
	f_replacebody, f_quarantine, f_progress,
};

struct fake *fake_new(const char *qid)
{
	struct fake *f = g_new0(struct fake, 1);

	f->macros = g_hash_table_new(g_str_hash, g_str_equal);
	f->calls = g_string_new("");
	f->body = g_byte_array_new();
	if (qid)
		g_hash_table_insert(f->macros, "i", (gpointer)qid);
	return f;
}

void fake_free(struct fake *f)
{
	g_hash_table_destroy(f->macros);
	g_string_free(f->calls, TRUE);
	g_byte_array_unref(f->body);
	g_free(f);
}

int fake_runtime_install(const char *dir, const char *conf_text, char *err, size_t errlen)
{
	char *path = g_strdup_printf("%s/textize.conf", dir);
	struct tz_config *cfg = NULL;
	struct tzm_runtime *rt = NULL;

	if (!g_file_set_contents(path, conf_text, -1, NULL))
		tz_err(err, errlen, "cannot write %s", path);
	else if ((cfg = tz_config_load(path, err, errlen)) != NULL)
		rt = tzm_runtime_new(cfg, err, errlen);
	tz_config_unref(cfg);
	g_free(path);
	if (rt == NULL)
		return -1;
	tzm_runtime_set_current(rt);
	return 0;
}
