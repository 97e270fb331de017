/* null_milter.c — the cheapest milter that still sees every message: it
 * asks for every protocol step textize-milter uses (connect, HELO, MAIL,
 * RCPT, each header, end of headers, the body) and accepts at the end,
 * changing nothing. bench/run puts it next to textize-milter so the Postfix
 * table separates what the milter protocol itself costs (round trips
 * between smtpd and libmilter, threads) from what textize does with the
 * message.
 *
 * usage: null-milter SOCKET   (e.g. local:/tmp/x.sock; runs in the foreground) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <libmilter/mfapi.h>

static sfsistat nm_continue(SMFICTX *ctx) { return SMFIS_CONTINUE; }
static sfsistat nm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr) { return SMFIS_CONTINUE; }
static sfsistat nm_helo(SMFICTX *ctx, char *helo) { return SMFIS_CONTINUE; }
static sfsistat nm_env(SMFICTX *ctx, char **argv) { return SMFIS_CONTINUE; }
static sfsistat nm_header(SMFICTX *ctx, char *name, char *value) { return SMFIS_CONTINUE; }
static sfsistat nm_body(SMFICTX *ctx, unsigned char *buf, size_t len) { return SMFIS_CONTINUE; }
static sfsistat nm_eom(SMFICTX *ctx) { return SMFIS_ACCEPT; }

int main(int argc, char **argv)
{
	struct smfiDesc d;

	if (argc != 2) {
		fprintf(stderr, "usage: null-milter SOCKET\n");
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
	d.xxfi_envfrom = nm_env;
	d.xxfi_envrcpt = nm_env;
	d.xxfi_header = nm_header;
	d.xxfi_eoh = nm_continue;
	d.xxfi_body = nm_body;
	d.xxfi_eom = nm_eom;
	d.xxfi_abort = nm_continue;
	umask(0);   /* Postfix connects as user postfix */
	if (smfi_setconn(argv[1]) == MI_FAILURE || smfi_register(d) == MI_FAILURE ||
	    smfi_opensocket(1) == MI_FAILURE) {
		fprintf(stderr, "null-milter: cannot listen on %s\n", argv[1]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
