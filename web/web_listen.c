/* web_listen.c — parse WebListen. */
#include "web_listen.h"

#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <glib.h>
#include "tz_util.h"

int web_listen_parse(const char *spec, struct sockaddr_storage *ss, char *err, size_t errlen)
{
	const char *colon;
	char host[64], *end;
	unsigned long port;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (spec == NULL || (colon = strrchr(spec, ':')) == NULL)
		return tz_err(err, errlen, "WebListen must be ADDR:PORT: %s", spec ? spec : "(empty)");
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end || port == 0 || port > 65535)
		return tz_err(err, errlen, "WebListen: bad port in %s", spec);
	hl = (size_t)(colon - spec);
	if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		if (hl - 2 >= sizeof(host))
			return tz_err(err, errlen, "WebListen: bad address in %s", spec);
		memcpy(host, spec + 1, hl - 2);
		host[hl - 2] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return tz_err(err, errlen, "WebListen: bad IPv6 address in %s", spec);
		return 0;
	}
	if (hl == 0 || hl >= sizeof(host))
		return tz_err(err, errlen, "WebListen: bad address in %s", spec);
	memcpy(host, spec, hl);
	host[hl] = '\0';
	((struct sockaddr_in *)ss)->sin_family = AF_INET;
	((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) != 1)
		return tz_err(err, errlen, "WebListen: bad IPv4 address in %s (numeric only)", spec);
	return 0;
}
