/* netaddr: see netaddr.h. */
#include "config.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "services/netaddr.h"

struct net4 {
	uint32_t net;
	int bits;
};

/* The IANA special-purpose ranges (what Python's ipaddress calls private/reserved). */
static const struct net4 private4[] = {
    {0x00000000, 8},  {0x0a000000, 8},  {0x7f000000, 8},  {0xa9fe0000, 16}, {0xac100000, 12},
    {0xc0000000, 24}, {0xc00000aa, 31}, {0xc0000200, 24}, {0xc0a80000, 16}, {0xc6120000, 15},
    {0xc6336400, 24}, {0xcb007100, 24}, {0xf0000000, 4},  {0xffffffff, 32},
};

static bool v4_private(uint32_t a)
{
	/* 192.0.0.9 and 192.0.0.10 are globally reachable anycast services. */
	if (a == 0xc0000009 || a == 0xc000000a)
		return false;
	for (size_t i = 0; i < sizeof(private4) / sizeof(private4[0]); i++) {
		uint32_t mask = private4[i].bits == 0 ? 0 : 0xffffffffu << (32 - private4[i].bits);
		if ((a & mask) == private4[i].net)
			return true;
	}
	return false;
}

static bool prefix6(const uint8_t *a, const uint8_t *p, int bits)
{
	int full = bits / 8, rest = bits % 8;
	if (memcmp(a, p, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (p[full] & mask);
}

struct net6 {
	uint8_t p[16];
	int bits;
};

/* Python ipaddress's is_private for IPv6, plus its reserved blocks and the deprecated site-local
 * range. */
static const struct net6 private6[] = {
    {{0}, 8},                                   /* ::/8 reserved, with ::, ::1, IPv4-mapped */
    {{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48}, /* 64:ff9b:1::/48 */
    {{0x01, 0x00}, 8},                          /* 100::/8 (discard-only 100::/64 inside) */
    {{0x02}, 7},                                /* reserved */
    {{0x04}, 6},
    {{0x08}, 5},
    {{0x10}, 4},
    {{0x20, 0x01, 0x00, 0x00}, 23}, /* IETF protocol assignments */
    {{0x20, 0x01, 0x0d, 0xb8}, 32}, /* documentation */
    {{0x20, 0x02}, 16},             /* 6to4 */
    {{0x3f, 0xff, 0x00}, 20},       /* documentation (RFC 9637) */
    {{0x40}, 3},
    {{0x60}, 3},
    {{0x80}, 3},
    {{0xa0}, 3},
    {{0xc0}, 3},
    {{0xe0}, 4},
    {{0xf0}, 5},
    {{0xf8}, 6},
    {{0xfc}, 7},        /* unique local */
    {{0xfe, 0x00}, 9},  /* reserved */
    {{0xfe, 0x80}, 10}, /* link-local */
    {{0xfe, 0xc0}, 10}, /* site-local (deprecated) */
};

/* Globally reachable services inside 2001::/23. */
static const struct net6 public6[] = {
    {{0x20, 0x01, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01}, 128},
    {{0x20, 0x01, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02}, 128},
    {{0x20, 0x01, 0x00, 0x03}, 32},
    {{0x20, 0x01, 0x00, 0x04, 0x01, 0x12}, 48},
    {{0x20, 0x01, 0x00, 0x20}, 28},
    {{0x20, 0x01, 0x00, 0x30}, 28},
};

static bool in_list(const uint8_t *a, const struct net6 *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (prefix6(a, list[i].p, list[i].bits))
			return true;
	return false;
}

static bool v6_private(const uint8_t *a)
{
	if (in_list(a, public6, sizeof(public6) / sizeof(public6[0])))
		return false;
	return in_list(a, private6, sizeof(private6) / sizeof(private6[0]));
}

bool bw_addr_is_private(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		return v4_private(ntohl(in->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		return v6_private(in6->sin6_addr.s6_addr);
	}
	return true; /* anything else is not a routable internet address */
}

bool bw_host_is_private(const char *host)
{
	if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.localdomain") == 0)
		return true;
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL)
		return false;
	bool priv = bw_addr_is_private(res->ai_addr);
	freeaddrinfo(res);
	return priv;
}
