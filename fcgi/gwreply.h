/* gwreply: the one translation of a gateway call's outcome (services/gwclient's enum
 * bw_gw_status) and of a gateway route's local failure into HTTP, shared by every handler that
 * talks to a gateway (reference: gRPC failure mapping). */
#ifndef BW_GWREPLY_H
#define BW_GWREPLY_H

#include <stdbool.h>

#include <json-c/json.h>

#include "fcgi/body.h"
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

/* A name path segment (gateway, sandbox or provider): [a-zA-Z0-9][a-zA-Z0-9._-]{0,252}.
 * NULL after replying 400 naming what (e.g. "sandbox"). */
const char *bw_gwreply_name(struct bw_req *req, const char *param, const char *what);

/* The outcome of a service call that returned rc and, when BW_OK, r; on success sends o with
 * status. Consumes o in every case. */
void bw_gwreply_done(struct bw_req *req, const char *gw, enum bw_err rc,
		     const struct bw_gw_result *r, int status, struct json_object *o);

/* Checks a JSON object of string values (credentials, config, material) in body field field:
 * at most max entries, keys 1..256 code points (env-var names when env_keys), values strings of
 * at most 8192 code points without NUL. Problems go to v (loc ["body", field]). */
void bw_gwreply_string_map(struct bw_verrs *v, const char *field, struct json_object *map,
			   size_t max, bool env_keys);

/* ^[A-Za-z_][A-Za-z0-9_]*$, at most 256 bytes. */
bool bw_gwreply_env_key(const char *s);

#endif
