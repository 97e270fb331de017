/* stats.h — the milter's monitoring glue: each message is counted once
 * (tzm_stats_message, called where its summary line is logged) in the
 * process-wide counters of src/global/tz_stats.c, and the optional StatsSocket
 * (src/global/tz_statsd.c) serves them to textizectl stats and Prometheus.
 *
 * Start-up order (main.c): tzm_stats_open binds StatsSocket as the starting
 * user, like the milter socket, so it may live in a root-owned directory
 * such as /run/textize; a local socket gets SocketMode and UserID's
 * ownership. tzm_stats_start runs the server thread after detaching and
 * after privileges are dropped (a thread does not survive fork, and it
 * must never run as root). StatsSocket is read only at start-up.
 *
 * Failures here never touch mail: counting cannot fail, and a StatsSocket
 * that cannot be opened is logged and the milter runs without it. */
#ifndef TZM_STATS_H
#define TZM_STATS_H

#include <stddef.h>
#include "daemon.h"
#include "session.h"

/* Count the current message of c (no-op when none). Lock-free. */
void tzm_stats_message(const struct tzm_conn *c);

/* Bind cfg->stats_socket when set; logs and goes on when it cannot. */
void tzm_stats_open(const struct tz_config *cfg, const struct tzm_user *u);
/* Start serving (no-op when nothing was opened). */
void tzm_stats_start(void);
/* Stop serving and remove a local socket. */
void tzm_stats_stop(void);

#endif
