/* ctl_digest.c — `textizectl digest send [--date YYYY-MM-DD] [--force]`:
 * the daily digest (DigestTime, tz_digest.h). Without --date it mails the
 * digest of yesterday (local), and only once the clock has passed today's
 * DigestTime: the systemd timer runs it every 15 minutes and it does the
 * day's work once. Idempotent per day and recipient: after ReleaseCommand
 * took a recipient's mail, QUEUE/digest/DAY/<SHA-256 of the address> is
 * created, and a recipient with a marker is skipped (a crash between the
 * two sends that one mail twice, never none); QUEUE/digest/DAY/done ends
 * the day. Each mail sent is audited (digest_sent). --date sends the named
 * day at once (catch-up, tests); --force sends again to recipients already
 * served. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <glib.h>
#include <openssl/crypto.h>

#include "ctl.h"
#include "ctl_args.h"
#include "ctl_qenv.h"
#include "tz_audit.h"
#include "tz_digest.h"
#include "tz_localtime.h"
#include "tz_proc.h"
#include "tz_store.h"
#include "tz_util.h"

/* The day to send (YYYY-MM-DD) and its bounds; 1 = not yet (before
 * DigestTime), 0, or an exit code. */
static int pick_day(const struct ctl_args *a, const struct tz_config *c, char day[11],
		    int64_t *from, int64_t *to)
{
	const char *date = a->opt[CTL_O_DATE];
	time_t now = time(NULL), y;
	struct tm tm;
	int at = tz_local_hhmm(c->digest_time);

	if (c->digest_time == NULL || *c->digest_time == '\0')
		return ctl_fail(a, EX_CONFIG, "DigestTime is not set: no digest");
	if (at < 0)
		return ctl_fail(a, EX_CONFIG, "DigestTime: '%s' is not HH:MM", c->digest_time);
	if (date == NULL) {
		localtime_r(&now, &tm);
		if (tm.tm_hour * 60 + tm.tm_min < at)
			return 1;
		tm.tm_mday -= 1;      /* yesterday; mktime normalises */
		tm.tm_hour = 12;      /* clear of DST edges */
		tm.tm_isdst = -1;
		y = mktime(&tm);
		localtime_r(&y, &tm);
		strftime(day, 11, "%Y-%m-%d", &tm);
	} else {
		g_strlcpy(day, date, 11);
	}
	if (strlen(day) != 10 || tz_local_date_parse(day, 0, from) < 0 ||
	    tz_local_date_parse(day, 1, to) < 0)
		return ctl_fail(a, EX_USAGE, "--date: bad date '%s' (YYYY-MM-DD)", day);
	return 0;
}

static char *marker(const char *dir, const char *rcpt)
{
	char *h = g_compute_checksum_for_string(G_CHECKSUM_SHA256, rcpt, -1);
	char *p = g_build_filename(dir, h, NULL);

	g_free(h);
	return p;
}

/* Pipe mail to ReleaseCommand; 0, or -1 with err. */
static int send_mail(const struct ctl_qenv *e, const char *mail, char *err, size_t errlen)
{
	char *tmpdir = g_build_filename(tz_store_dir(e->st), "tmp", NULL), **argv = NULL;
	int fd = open(tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600), rc = -1, st;

	if (fd < 0 || tz_write_all(fd, mail, strlen(mail)) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		tz_err(err, errlen, "%s: %s", tmpdir, strerror(errno));
	} else if ((argv = tz_proc_argv(e->cfg->release_command, NULL, NULL, err, errlen)) != NULL) {
		st = tz_proc_run(argv, fd, 300, err, errlen);
		if (st > 0)
			tz_err(err, errlen, "%s exited with status %d", argv[0], st);
		rc = st == 0 ? 0 : -1;
	}
	if (fd >= 0)
		close(fd);
	g_strfreev(argv);
	g_free(tmpdir);
	return rc;
}

/* One recipient: 1 sent, 0 already served, -1 with err. */
static int one(const struct ctl_qenv *e, const struct tz_digest_opts *o, const char *dir,
	       const char *rcpt, const GPtrArray *metas, int force, char *err, size_t errlen)
{
	char *mk = marker(dir, rcpt), *mail = NULL, *detail = NULL;
	struct tz_audit_event ev = { "digest_sent", "digest", NULL, 0, NULL, NULL };
	int rc = -1, fd;

	if (!force && access(mk, F_OK) == 0) {
		g_free(mk);
		return 0;
	}
	mail = tz_digest_mail(o, rcpt, metas, err, errlen);
	if (mail == NULL || send_mail(e, mail, err, errlen) < 0)
		goto out;
	fd = open(mk, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		tz_err(err, errlen, "%s: %s (the mail went out)", mk, strerror(errno));
		goto out;
	}
	close(fd);
	detail = g_strdup_printf("day=%s rcpt=%s entries=%u", o->date, rcpt, metas->len);
	ev.detail = detail;
	rc = tz_audit_append(e->audit, &ev, err, errlen) < 0 ? -1 : 1;
out:
	g_free(mk);
	g_free(mail);
	g_free(detail);
	return rc;
}

static int send_all(const struct ctl_qenv *e, const struct tz_digest *d,
		    const struct tz_digest_opts *o, const char *dir, int force, unsigned *sent)
{
	GHashTableIter it;
	gpointer k, v;
	char err[TZ_ERRLEN];
	int failed = 0, rc;

	g_hash_table_iter_init(&it, d->by_rcpt);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		rc = one(e, o, dir, k, v, force, err, sizeof err);
		if (rc < 0) {
			fprintf(stderr, "textizectl: digest for %s: %s\n", (const char *)k, err);
			failed = 1;
		}
		*sent += rc > 0;
	}
	return failed;
}

int ctl_digest_send(const struct ctl_args *a)
{
	struct ctl_qenv e;
	struct tz_digest *d = NULL;
	struct tz_digest_opts o = { 0 };
	unsigned char link_key[TZ_KEY_LEN];
	char day[11], err[TZ_ERRLEN], *dir = NULL, *done = NULL;
	int64_t from = 0, to = 0;
	unsigned sent = 0;
	int rc = ctl_qenv_open(&e, a->opt[CTL_O_CONF], CTL_NEED_STORE | CTL_NEED_AUDIT), force = a->opt[CTL_O_FORCE] != NULL;

	if (rc != 0)
		return rc;
	if ((rc = pick_day(a, e.cfg, day, &from, &to)) != 0) {
		if (rc == 1)
			printf("digest: not yet (DigestTime %s)\n", e.cfg->digest_time);
		ctl_qenv_close(&e);
		return rc == 1 ? 0 : rc;
	}
	if (e.cfg->release_command == NULL || e.cfg->release_from == NULL || e.cfg->release_key_file == NULL) {
		ctl_qenv_close(&e);
		return ctl_fail(a, EX_CONFIG, "the digest goes out like a release: set ReleaseCommand, "
				"ReleaseFrom and ReleaseKeyFile");
	}
	if (tz_key_load(e.cfg->release_key_file, e.release_key, err, sizeof err) < 0) {
		ctl_qenv_close(&e);
		return ctl_fail(a, EX_CONFIG, "ReleaseKeyFile: %s", err);
	}
	dir = g_build_filename(tz_store_dir(e.st), "digest", day, NULL);
	done = g_build_filename(dir, "done", NULL);
	if (!force && a->opt[CTL_O_DATE] == NULL && access(done, F_OK) == 0) {
		printf("digest %s: already sent\n", day);
		goto out;
	}
	if (g_mkdir_with_parents(dir, 0700) != 0) {
		rc = ctl_fail(a, EX_IOERR, "%s: %s", dir, g_strerror(errno));
		goto out;
	}
	o = (struct tz_digest_opts){ e.cfg->release_from, e.cfg->notice_contact, day, NULL, NULL,
				     (int64_t)time(NULL) + e.cfg->web_link_lifetime, (int64_t)time(NULL),
				     e.release_key };
	if (e.cfg->web_base_url && e.cfg->web_key_file) {
		if (tz_key_load(e.cfg->web_key_file, link_key, err, sizeof err) < 0) {
			rc = ctl_fail(a, EX_CONFIG, "WebKeyFile: %s", err);
			goto out;
		}
		o.base_url = e.cfg->web_base_url;
		o.link_key = link_key;
	}
	if ((d = tz_digest_collect(e.st, from, to, err, sizeof err)) == NULL) {
		rc = ctl_fail(a, EX_IOERR, "%s", err);
		goto out;
	}
	rc = send_all(&e, d, &o, dir, force, &sent) ? EX_TEMPFAIL : 0;
	if (rc == 0)
		g_file_set_contents(done, "", 0, NULL);
	printf("digest %s: %u mails sent, %u recipients%s\n", day, sent, g_hash_table_size(d->by_rcpt),
	       rc ? " (some failed: run again)" : "");
	if (d->bad)
		fprintf(stderr, "textizectl: %u entries could not be read\n", d->bad);
out:
	OPENSSL_cleanse(link_key, sizeof link_key);
	tz_digest_free(d);
	g_free(dir);
	g_free(done);
	ctl_qenv_close(&e);
	return rc;
}
