/* bundle: checks a gateway's mTLS bundle (CA certificate, client certificate, client key) when
 * it is registered, so a broken bundle is refused with a precise message instead of surfacing
 * later as an opaque TLS handshake failure. Parts may be absent; what is given is checked. */
#ifndef BW_BUNDLE_H
#define BW_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

struct bw_pem {
	const uint8_t *p; /* NULL when absent */
	size_t len;
};

/* Each given PEM parses; the key matches the client certificate; the certificate is within its
 * validity window and chains to the CA. BW_EINVAL with a message naming the failed check in msg;
 * BW_ENOMEM on allocation failure. */
enum bw_err bw_bundle_check(struct bw_pem ca, struct bw_pem cert, struct bw_pem key, char *msg,
			    size_t msglen);

#endif
