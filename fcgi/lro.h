/* lro (face): what the operation and sandbox routes share — the 202 reply of a started
 * operation and the one translation of a failed
 * gateway call into HTTP for these routes (reference §1.4), delegated to fcgi/gwreply. */
#ifndef BW_FCGI_LRO_H
#define BW_FCGI_LRO_H

#include <stdbool.h>

#include <json-c/json.h>

#include "fcgi/request.h"
#include "services/gwclient.h"
#include "services/operations.h"

/* 202 {operation_id, status, resource_type} with Location and Retry-After: 2. */
void bw_lro_reply_started(struct bw_req *req, const struct bw_op_ref *ref);

/* A failed gateway call (res->st != BW_GW_OK) or local error rc of gateway gw. */
void bw_lro_reply_gw(struct bw_req *req, const char *gw, enum bw_err rc,
		     const struct bw_gw_result *res);

/* The Idempotency-Key header, NULL when absent; false after replying 400 (too long, bad). */
bool bw_lro_idempotency_key(struct bw_req *req, const char **key);

#endif
