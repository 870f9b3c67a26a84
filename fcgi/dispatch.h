/* dispatch: the one request pipeline. Everything a route declares (method, path, body kind and
 * limit, minimum role) is enforced here, in this order, before its handler runs:
 * path/query well-formed -> route (404/405) -> body size (413) -> media type (415) ->
 * JSON well-formed (422/400) -> {gw} name (400) -> credentials (401) -> CSRF (403) ->
 * effective role (503/403) -> handler (fcgi/auth.h). Public routes skip the last four; their
 * handlers identify the caller themselves when they care. */
#ifndef BW_DISPATCH_H
#define BW_DISPATCH_H

#include "fcgi/request.h"

/* Runs the pipeline for req against the route table; always leaves a response sent. */
void bw_dispatch(struct bw_req *req, long long global_max_body);

#endif
