/* routes: THE route table (routes.c) and the handlers it names. Adding an endpoint means one
 * row there: method, path, handler, minimum role, body kind and limit. */
#ifndef BW_ROUTES_H
#define BW_ROUTES_H

#include <stddef.h>

#include "fcgi/router.h"

extern const struct bw_route bw_routes[];
extern const size_t bw_routes_count;

/* h_probes.c */
void bw_h_healthz(struct bw_req *req);
void bw_h_readyz(struct bw_req *req);
void bw_h_version(struct bw_req *req);

/* h_gateway.c */
void bw_h_gateway_list(struct bw_req *req);
void bw_h_gateway_register(struct bw_req *req);
void bw_h_gateway_info(struct bw_req *req);
void bw_h_gateway_patch(struct bw_req *req);
void bw_h_gateway_delete(struct bw_req *req);

/* h_audit.c */
void bw_h_audit_list(struct bw_req *req);
void bw_h_audit_export(struct bw_req *req);

#endif
