/* web_http.h — the libmicrohttpd callbacks of textize-web (web_http.c). */
#ifndef TZ_WEB_HTTP_H
#define TZ_WEB_HTTP_H

#include <stddef.h>
#include <microhttpd.h>

struct web_req;

/* The front's state (the HTTP process): the broker's control socket. */
struct web_front {
	int ctl;
};
/* How long the front waits for the broker's answer: a PPAP try or a
 * release can take a minute. */
#define WEB_BROKER_TIMEOUT 300

/* MHD_AccessHandlerCallback; cls is the struct web_front. */
enum MHD_Result web_http_access(void *cls, struct MHD_Connection *connection, const char *url,
				const char *method, const char *version, const char *upload_data,
				size_t *upload_data_size, void **con_cls);
/* MHD_RequestCompletedCallback: frees what web_http_access kept. */
void web_http_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
			enum MHD_RequestTerminationCode toe);

/* In the broker: answer one request (the session is already looked up):
 * refuse an oversized upload or a name given twice, else route it. */
void web_dispatch(struct web_req *r, int too_big, int duplicate);

#endif
