/* lro (face): see lro.h. */
#include "config.h"

#include <string.h>

#include "fcgi/gwreply.h"
#include "fcgi/lro.h"
#include "lib/utf8.h"

void bw_lro_reply_started(struct bw_req *req, const struct bw_op_ref *ref)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	json_object_object_add(o, "operation_id", json_object_new_string(ref->id));
	json_object_object_add(o, "status", json_object_new_string(ref->status));
	json_object_object_add(o, "resource_type", json_object_new_string(ref->resource_type));
	bw_req_header(req, "Location", bw_arena_printf(req->arena, "/api/operations/%s", ref->id));
	bw_req_header(req, "Retry-After", "2");
	bw_reply_json(req, 202, o);
	json_object_put(o);
}

void bw_lro_reply_gw(struct bw_req *req, const char *gw, enum bw_err rc,
		     const struct bw_gw_result *r)
{
	if (rc != BW_OK)
		bw_reply_gw_local(req, gw, rc);
	else
		bw_reply_gw(req, gw, r);
}

bool bw_lro_idempotency_key(struct bw_req *req, const char **key)
{
	const char *v = FCGX_GetParam("HTTP_IDEMPOTENCY_KEY", req->fcgx->envp);
	*key = NULL;
	if (v == NULL)
		return true;
	size_t n = strlen(v);
	if (n == 0 || !bw_utf8_valid(v, n) || bw_utf8_count(v, n) > BW_OP_IDEMPOTENCY_MAX) {
		bw_reply_problem(req, 400, NULL, "Idempotency-Key must be 1 to %d characters",
				 BW_OP_IDEMPOTENCY_MAX);
		return false;
	}
	*key = v;
	return true;
}
