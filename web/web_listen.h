/* web_listen.h — WebListen "ADDR:PORT" / "[ADDR6]:PORT" to a socket address. */
#ifndef TZ_WEB_LISTEN_H
#define TZ_WEB_LISTEN_H

#include <stddef.h>
#include <sys/socket.h>

/* 0, or -1 with err. Only numeric addresses (no DNS at start-up). */
int web_listen_parse(const char *spec, struct sockaddr_storage *ss, char *err, size_t errlen);

#endif
