/* netaddr: the "private address" test that keeps gateway endpoints (and later webhook targets)
 * off loopback, private, link-local and reserved ranges (SSRF protection). */
#ifndef BW_NETADDR_H
#define BW_NETADDR_H

#include <stdbool.h>
#include <sys/socket.h>

/* True when the address is loopback, private, link-local, reserved, documentation, unspecified
 * or otherwise special-purpose (IPv4 and IPv6; IPv4-mapped IPv6 counts as private). */
bool bw_addr_is_private(const struct sockaddr *sa);

/* True when host is "localhost"/"localhost.localdomain", a private IP literal, or resolves
 * (first address) to a private one. A name that does not resolve is not private: the connect
 * path re-checks at use time. */
bool bw_host_is_private(const char *host);

#endif
