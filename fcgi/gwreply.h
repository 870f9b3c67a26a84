/* gwreply: the one translation of a gateway call's outcome (services/gwclient's enum
 * bw_gw_status) and of a gateway route's local failure into HTTP, shared by every handler that
 * talks to a gateway (reference: gRPC failure mapping). */
#ifndef BW_GWREPLY_H
#define BW_GWREPLY_H

#include <stdbool.h>

#include "fcgi/request.h"
#include "services/gwclient.h"

/* 503 GATEWAY_NOT_CONNECTED "Gateway '<name>' not connected.". */
void bw_reply_gw_not_connected(struct bw_req *req, const char *name);
/* The HTTP answer for a failed gateway call (r->st != BW_GW_OK). */
void bw_reply_gw(struct bw_req *req, const char *name, const struct bw_gw_result *r);
/* A local failure of a gateway route: an unregistered gateway is "not connected". */
void bw_reply_gw_local(struct bw_req *req, const char *name, enum bw_err rc);

/* The pin check of every write that would change a sandbox's policy (services/pins): true when
 * the write may go ahead; false after replying 423 with who pinned it and why (or a database
 * error). */
bool bw_reply_unless_pinned(struct bw_req *req, const char *gw, const char *sandbox);

#endif
