/*
 * listen.c — the [server] listen address ("127.0.0.1:8443", "[::1]:8443",
 * ":8443" for all IPv4 addresses, "localhost:8443") and whether it is a
 * loopback address, which is the only place plain HTTP is allowed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "crtokend.h"

static int parse_port(const char *s, unsigned short *port)
{
	char *end;
	long v;

	if (*s == '\0')
		return -1;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < 1 || v > 65535)
		return -1;
	*port = (unsigned short)v;
	return 0;
}

int listen_parse(const char *spec, struct listen_addr *out)
{
	char host[64];
	const char *colon, *port_s;
	unsigned short port;
	size_t hl;

	memset(out, 0, sizeof(*out));
	if (spec == NULL || strlen(spec) >= sizeof(out->text))
		return -1;
	snprintf(out->text, sizeof(out->text), "%s", spec);
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (close == NULL || close[1] != ':')
			return -1;
		hl = (size_t)(close - spec - 1);
		port_s = close + 2;
		if (hl == 0 || hl >= sizeof(host))
			return -1;
		memcpy(host, spec + 1, hl);
		host[hl] = '\0';
		if (parse_port(port_s, &port) != 0)
			return -1;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return -1;
		out->socklen = sizeof(*s6);
		out->ipv6 = 1;
		out->loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
		return 0;
	}
	if ((colon = strrchr(spec, ':')) == NULL)
		return -1;
	hl = (size_t)(colon - spec);
	if (hl >= sizeof(host))
		return -1;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	if (parse_port(colon + 1, &port) != 0)
		return -1;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	if (hl == 0)
		s4->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (strcmp(host, "localhost") == 0)
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
		return -1;
	out->socklen = sizeof(*s4);
	out->loopback = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	return 0;
}
