/* tz_statsd.h — the small server behind StatsSocket, and its client
 * (textizectl stats).
 *
 * One thread accepts one connection at a time and reads one request:
 *   HTTP/1.0 or 1.1 "GET /metrics"     Prometheus text (scrape it directly)
 *   "GET /stats.json", "GET /stats"    JSON, table
 *   a line "stats [table|json|prometheus]\n"  the bare answer, no HTTP
 *                                      (for textizectl and socat on a unix
 *                                      socket; plain "stats" is the table)
 * Requests are bounded (TZ_STATSD_MAX_REQUEST bytes) and so is the time a
 * client may take to send one and read the answer (TZ_STATSD_TIMEOUT_MS);
 * a slow or hostile client only delays the next stats client, never mail:
 * the mail threads only bump atomic counters (tz_stats.h).
 *
 * Sockets: local:/path (unix:/path), inet:PORT[@ADDR], inet6:PORT[@ADDR].
 * ADDR defaults to the loopback address: the counters are not secret but
 * there is no authentication, so exposing them is an explicit choice. */
#ifndef TZ_STATSD_H
#define TZ_STATSD_H

#include <stddef.h>
#include <sys/types.h>

#define TZ_STATSD_MAX_REQUEST 4096
#define TZ_STATSD_TIMEOUT_MS 2000

enum tz_statsd_format {
	TZ_STATSD_TABLE = 0,
	TZ_STATSD_JSON,
	TZ_STATSD_PROMETHEUS,
};

/* Produce the answer in fmt; the server g_free()s it. NULL = 500 / error. */
typedef char *(*tz_statsd_render_fn)(enum tz_statsd_format fmt, void *arg);

struct tz_statsd;

/* Bind and listen on spec. A stale local socket file is replaced (only a
 * socket: anything else at the path is an error). For a local socket,
 * mode != 0 is chmod'ed and uid/gid != (uid_t)-1/(gid_t)-1 chown'ed, so
 * the server can bind as root before privileges are dropped. NULL + err. */
struct tz_statsd *tz_statsd_open(const char *spec, unsigned mode, uid_t uid, gid_t gid,
				 char *err, size_t errlen);
/* Start the serving thread (after any fork: threads do not survive it).
 * render/arg are used from that thread. 0, or -1 + err. */
int tz_statsd_start(struct tz_statsd *d, tz_statsd_render_fn render, void *arg,
		    char *err, size_t errlen);
/* Stop the thread, close the socket, unlink a local socket. NULL ok. */
void tz_statsd_free(struct tz_statsd *d);

/* Answer one request on a connected fd (the thread's loop body; tests use a
 * socketpair). Does not close fd. 0 when an answer was written, -1 when the
 * request timed out, was too long or the write failed. */
int tz_statsd_serve_fd(int fd, int timeout_ms, tz_statsd_render_fn render, void *arg);

/* Client: connect to spec, send request (e.g. "stats json\n"), return all
 * that comes back until the server closes (g_free()), or NULL + err. */
char *tz_statsd_query(const char *spec, const char *request, int timeout_ms,
		      char *err, size_t errlen);

#endif
