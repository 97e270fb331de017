/* null_milter.c — the cheapest milter that still sees every message: it
 * asks for every protocol step textize-milter uses (connect, HELO, MAIL,
 * RCPT, each header, end of headers, the body) and accepts at the end,
 * changing nothing. bench/run puts it next to textize-milter so the Postfix
 * table separates what the milter protocol itself costs (round trips
 * between smtpd and libmilter, threads) from what textize does with the
 * message.
 *
 * With -n it is the true ceiling (issue 16): it negotiates the protocol's
 * no-reply flags (SMFIP_NR_CONN/HELO/MAIL/RCPT/HDR/EOH/BODY) so that the MTA
 * sends each step and goes on without waiting for an answer; only end of
 * message is answered. (DATA and unknown commands it never asks for:
 * libmilter sets SMFIP_NODATA/NOUNKNOWN for callbacks that are not set.)
 *
 * usage: null-milter [-n] SOCKET   (e.g. local:/tmp/x.sock; foreground) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#define NR_ALL (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | \
		SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)

/* The no-reply flags this connection's MTA agreed to (-n); a callback for
 * such a step must return SMFIS_NOREPLY. Kept per connection (smfi_setpriv):
 * every MTA connection negotiates on its own. */
static int no_reply;

static sfsistat step(SMFICTX *ctx, unsigned long flag)
{
	unsigned long *nr = smfi_getpriv(ctx);

	return nr && (*nr & flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			     unsigned long f2, unsigned long f3, unsigned long *pf0,
			     unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	unsigned long *nr = malloc(sizeof(*nr));

	if (nr == NULL)
		return SMFIS_REJECT;
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY);
	*pf1 = f1 & (NR_ALL | SMFIP_NODATA | SMFIP_NOUNKNOWN);
	*pf2 = *pf3 = 0;
	*nr = *pf1 & NR_ALL;
	free(smfi_getpriv(ctx));
	smfi_setpriv(ctx, nr);
	return SMFIS_CONTINUE;
}

static sfsistat nm_close(SMFICTX *ctx)
{
	free(smfi_getpriv(ctx));
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

static sfsistat nm_continue(SMFICTX *ctx) { return SMFIS_CONTINUE; }
static sfsistat nm_eoh(SMFICTX *ctx) { return step(ctx, SMFIP_NR_EOH); }
static sfsistat nm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr) { return step(ctx, SMFIP_NR_CONN); }
static sfsistat nm_helo(SMFICTX *ctx, char *helo) { return step(ctx, SMFIP_NR_HELO); }
static sfsistat nm_mail(SMFICTX *ctx, char **argv) { return step(ctx, SMFIP_NR_MAIL); }
static sfsistat nm_rcpt(SMFICTX *ctx, char **argv) { return step(ctx, SMFIP_NR_RCPT); }
static sfsistat nm_header(SMFICTX *ctx, char *name, char *value) { return step(ctx, SMFIP_NR_HDR); }
static sfsistat nm_body(SMFICTX *ctx, unsigned char *buf, size_t len) { return step(ctx, SMFIP_NR_BODY); }
static sfsistat nm_eom(SMFICTX *ctx) { return SMFIS_ACCEPT; }

int main(int argc, char **argv)
{
	struct smfiDesc d;

	if (argc == 3 && strcmp(argv[1], "-n") == 0) {
		no_reply = 1;
		argv++;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: null-milter [-n] SOCKET\n");
		return 2;
	}
	memset(&d, 0, sizeof(d));
	d.xxfi_name = "null-milter";
	d.xxfi_version = SMFI_VERSION;
	/* The same modification rights textize-milter registers, so Postfix
	 * prepares for edits the same way. */
	d.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY;
	d.xxfi_connect = nm_connect;
	d.xxfi_helo = nm_helo;
	d.xxfi_envfrom = nm_mail;
	d.xxfi_envrcpt = nm_rcpt;
	d.xxfi_header = nm_header;
	d.xxfi_eoh = nm_eoh;
	d.xxfi_body = nm_body;
	d.xxfi_eom = nm_eom;
	d.xxfi_abort = nm_continue;
	if (no_reply) {
		d.xxfi_name = "null-milter-noreply";
		d.xxfi_negotiate = nm_negotiate;
		d.xxfi_close = nm_close;
	}
	umask(0);   /* Postfix connects as user postfix */
	if (smfi_setconn(argv[1]) == MI_FAILURE || smfi_register(d) == MI_FAILURE ||
	    smfi_opensocket(1) == MI_FAILURE) {
		fprintf(stderr, "null-milter: cannot listen on %s\n", argv[1]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
