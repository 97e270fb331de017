/* web_broker.h — the privileged half of textize-web (web_broker.c). */
#ifndef TZ_WEB_BROKER_H
#define TZ_WEB_BROKER_H

#include <signal.h>

struct web_app;

/* Serve request streams from the front over ctl until *stop is set or the
 * front goes (1). */
int web_broker_run(struct web_app *app, int ctl, volatile sig_atomic_t *stop);

#endif
