/* gwreply: the HTTP face of a gateway call for the gateway-scoped routes of providers,
 * inference and sandbox details — the one translation of enum bw_gw_status (and of a local
 * failure around the call) into the reference's statuses and codes, plus the name checks of
 * path segments these routes share. */
#ifndef BW_GWREPLY_H
#define BW_GWREPLY_H

#include <json-c/json.h>

#include "fcgi/body.h"
#include "fcgi/request.h"
#include "services/gwclient.h"

/* A name path segment (gateway, sandbox or provider): [a-zA-Z0-9][a-zA-Z0-9._-]{0,252}.
 * NULL after replying 400 naming what (e.g. "sandbox"). */
const char *bw_gwreply_name(struct bw_req *req, const char *param, const char *what);

/* A failed gateway call (r->st != BW_GW_OK) in the reference's wording. */
void bw_gwreply_fail(struct bw_req *req, const char *gw, const struct bw_gw_result *r);

/* A local failure around a gateway call: an unregistered gateway is "not connected". */
void bw_gwreply_local(struct bw_req *req, const char *gw, enum bw_err rc);

/* The outcome of a service call that returned rc and, when BW_OK, r; on success sends o with
 * status. Consumes o in every case. */
void bw_gwreply_done(struct bw_req *req, const char *gw, enum bw_err rc,
		     const struct bw_gw_result *r, int status, struct json_object *o);

/* Adds a request-validation error at loc ["query", name]. */
void bw_gwreply_query_error(struct bw_verrs *v, const char *type, const char *name,
			    const char *msg);

/* The integer query parameter name in [min, max] (def when absent); problems go to v. */
long long bw_gwreply_query_int(struct bw_req *req, struct bw_verrs *v, const char *name,
			       long long def, long long min, long long max);

/* Checks a JSON object of string values (credentials, config, material) in body field field:
 * at most max entries, keys 1..256 code points (env-var names when env_keys), values strings of
 * at most 8192 code points without NUL. Problems go to v (loc ["body", field]). */
void bw_gwreply_string_map(struct bw_verrs *v, const char *field, struct json_object *map,
			   size_t max, bool env_keys);

/* ^[A-Za-z_][A-Za-z0-9_]*$, at most 256 bytes. */
bool bw_gwreply_env_key(const char *s);

#endif
