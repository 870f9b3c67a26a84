/* lro (face): see lro.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

static void query_error(struct json_object *errors, const char *type, const char *name,
			const char *msg, const char *input)
{
	struct json_object *e = json_object_new_object();
	struct json_object *loc = json_object_new_array();
	json_object_array_add(loc, json_object_new_string("query"));
	json_object_array_add(loc, json_object_new_string(name));
	json_object_object_add(e, "type", json_object_new_string(type));
	json_object_object_add(e, "loc", loc);
	json_object_object_add(e, "msg", json_object_new_string(msg));
	json_object_object_add(e, "input", json_object_new_string(input));
	json_object_array_add(errors, e);
}

void bw_lro_query_int(struct bw_req *req, struct json_object *errors, const char *name,
		      long long min, long long max, long long *out)
{
	const char *v = bw_req_query(req, name);
	char *end = NULL, msg[96];
	if (v == NULL)
		return;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (v[0] == '\0' || errno != 0 || *end != '\0') {
		query_error(errors, "int_parsing", name,
			    "Input should be a valid integer, unable to parse string as an integer",
			    v);
		return;
	}
	if (n < min) {
		snprintf(msg, sizeof(msg), "Input should be greater than or equal to %lld", min);
		query_error(errors, "greater_than_equal", name, msg, v);
		return;
	}
	if (max >= 0 && n > max) {
		snprintf(msg, sizeof(msg), "Input should be less than or equal to %lld", max);
		query_error(errors, "less_than_equal", name, msg, v);
		return;
	}
	*out = n;
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
