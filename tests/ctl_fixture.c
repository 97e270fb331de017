/* ctl_fixture.c — a check program for tests/ctl_grammar.sh: stores one
 * message into the quarantine of a config the way textize-milter's end of
 * message does (original, engine with the store's part sink, commit with
 * an envelope), so textizectl can be driven against real entries without
 * an MTA. Usage: ctl_fixture CONF MESSAGE SENDER RCPT; prints the long id
 * and the 参照番号. */
#include <fcntl.h>
#include <stdio.h>
#include <gmime/gmime.h>

#include "tz_audit.h"
#include "tz_config.h"
#include "tz_engine.h"
#include "tz_envelope.h"
#include "tz_store.h"
#include "tz_store_link.h"

int main(int argc, char **argv)
{
	char err[TZ_ERRLEN], id[TZ_ID_LEN];
	struct tz_config *cfg;
	struct tz_store *st;
	struct tz_audit *audit;
	struct tz_store_entry *e;
	struct tz_engine_options opt;
	struct tz_result *res = NULL;
	struct tz_envelope env = { 0 };
	GMimeStream *orig, *in;
	const char *ref;

	if (argc != 5) {
		fprintf(stderr, "usage: ctl_fixture CONF MESSAGE SENDER RCPT\n");
		return 64;
	}
	tz_engine_global_init();
	if ((cfg = tz_config_load(argv[1], err, sizeof(err))) == NULL ||
	    (st = tz_store_open(cfg->quarantine_dir, cfg->quarantine_key_file, err, sizeof(err))) == NULL ||
	    (audit = tz_audit_open(cfg->audit_log, cfg->audit_key_file, err, sizeof(err))) == NULL ||
	    (e = tz_store_entry_begin((tz_store_set_audit(st, audit), st), err, sizeof(err))) == NULL) {
		fprintf(stderr, "ctl_fixture: %s\n", err);
		return 1;
	}
	if (cfg->report_database)
		tz_store_set_index(st, cfg->report_database);
	tz_config_engine_options(cfg, &opt);
	g_strlcpy(id, tz_store_entry_id(e), sizeof(id));
	ref = tz_store_entry_ref(e);
	opt.display_ref = ref;
	env.queue_id = "4ABC123DEF";
	env.client_addr = "127.0.0.1";
	env.sender = argv[3];
	env.rcpts = g_ptr_array_new();
	g_ptr_array_add(env.rcpts, argv[4]);
	orig = g_mime_stream_fs_open(argv[2], O_RDONLY, 0, NULL);
	in = orig ? g_mime_stream_fs_open(argv[2], O_RDONLY, 0, NULL) : NULL;
	if (in == NULL || tz_store_entry_put_original(e, orig, err, sizeof(err)) < 0 ||
	    tz_engine_convert(&opt, in, id, tz_store_entry_sink(e), &res, err, sizeof(err)) < 0 ||
	    (printf("%s %s\n", id, ref), tz_store_entry_commit(e, &env, res, err, sizeof(err))) < 0) {
		fprintf(stderr, "ctl_fixture: %s\n", err);
		return 1;
	}
	tz_result_free(res);
	g_object_unref(in);
	g_object_unref(orig);
	g_ptr_array_unref(env.rcpts);
	tz_store_free(st);
	tz_audit_free(audit);
	tz_config_unref(cfg);
	return 0;
}
