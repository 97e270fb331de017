/* web_http.h — the libmicrohttpd callbacks of textize-web (web_http.c). */
#ifndef TZ_WEB_HTTP_H
#define TZ_WEB_HTTP_H

#include <stddef.h>
#include <microhttpd.h>

/* MHD_AccessHandlerCallback; cls is the struct web_app. */
enum MHD_Result web_http_access(void *cls, struct MHD_Connection *connection, const char *url,
				const char *method, const char *version, const char *upload_data,
				size_t *upload_data_size, void **con_cls);
/* MHD_RequestCompletedCallback: frees what web_http_access kept. */
void web_http_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
			enum MHD_RequestTerminationCode toe);

#endif
