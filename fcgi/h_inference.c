/* h_inference: /api/gateways/{gw}/inference... — get/set the cluster inference route and the
 * resolved bundle (reference §6.4). Parses and validates (422 before any gateway call), calls
 * services/inference, renders. */
#include "config.h"

#include <string.h>

#include "fcgi/gwreply.h"
#include "fcgi/routes.h"
#include "lib/utf8.h"
#include "services/inference.h"
#include "services/validate.h"

/* A route name: empty (the default route) or [A-Za-z0-9._-]{1,253}. */
static bool route_name_ok(const char *s)
{
	return s[0] == '\0' || bw_valid_gateway_name(s);
}

#define ROUTE_RULE "String should be empty or match '^[a-zA-Z0-9][a-zA-Z0-9._-]*$' (max 253)"

void bw_h_inference_get(struct bw_req *req)
{
	struct json_object *o = NULL;
	struct bw_gw_result r;
	const char *gw = bw_gwreply_name(req, "gw", "gateway");
	if (gw == NULL)
		return;
	const char *route = bw_req_query(req, "route_name");
	if (route == NULL)
		route = "";
	if (!route_name_ok(route)) {
		struct bw_verrs v;
		if (!bw_verrs_init(&v, req->arena)) {
			bw_reply_err(req, BW_ENOMEM);
			return;
		}
		bw_verrs_query(&v, "string_pattern_mismatch", "route_name", ROUTE_RULE, NULL);
		bw_reply_invalid(req, v.list);
		return;
	}
	enum bw_err rc = bw_inference_get(&req->svc, gw, route, &o, &r);
	bw_gwreply_done(req, gw, rc, &r, 200, o);
}

/* A required 1..253 string without control characters. */
static const char *text_field(struct json_object *body, const char *key, struct bw_verrs *v)
{
	const char *s = NULL;
	bool present = false;
	bw_body_string(body, key, BW_REQUIRED, v, &s, &present);
	if (s == NULL)
		return NULL;
	size_t n = strlen(s);
	bool ctl = false;
	for (size_t i = 0; i < n; i++)
		ctl |= (unsigned char)s[i] < 0x20 || s[i] == 0x7f;
	if (n == 0 || bw_utf8_count(s, n) > 253 || ctl ||
	    n != (size_t)json_object_get_string_len(json_object_object_get(body, key))) {
		bw_verrs_add(v, "string_pattern_mismatch", key,
			     "String should have 1 to 253 characters and no control characters");
		return NULL;
	}
	return s;
}

void bw_h_inference_set(struct bw_req *req)
{
	struct bw_verrs v;
	struct bw_inference_in in = {.verify = true, .route_name = ""};
	struct json_object *o = NULL, *val = NULL;
	struct bw_gw_result r;
	bool present = false;
	const char *gw = bw_gwreply_name(req, "gw", "gateway");
	if (gw == NULL || !bw_body_require_object(req, &v))
		return;
	in.provider_name = text_field(req->json, "provider_name", &v);
	if (in.provider_name != NULL && !bw_valid_gateway_name(in.provider_name))
		bw_verrs_add(&v, "string_pattern_mismatch", "provider_name",
			     "String should match pattern '^[a-zA-Z0-9][a-zA-Z0-9._-]*$'");
	in.model_id = text_field(req->json, "model_id", &v);
	if (json_object_object_get_ex(req->json, "verify", &val)) {
		if (!json_object_is_type(val, json_type_boolean))
			bw_verrs_add(&v, "bool_type", "verify", "Input should be a valid boolean");
		else
			in.verify = json_object_get_boolean(val);
	}
	long long timeout = 0;
	bw_body_int(req->json, "timeout_secs", BW_OPTIONAL, &v, &timeout, &present);
	if (timeout < 0 || timeout > 3600)
		bw_verrs_add(&v, "less_than_equal", "timeout_secs",
			     "Input should be between 0 and 3600");
	in.timeout_secs = (unsigned)(timeout >= 0 && timeout <= 3600 ? timeout : 0);
	const char *route = NULL;
	bw_body_string(req->json, "route_name", BW_OPTIONAL, &v, &route, &present);
	if (route != NULL && !route_name_ok(route))
		bw_verrs_add(&v, "string_pattern_mismatch", "route_name", ROUTE_RULE);
	else if (route != NULL)
		in.route_name = route;
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	enum bw_err rc = bw_inference_set(&req->svc, &req->actor, gw, &in, &o, &r);
	bw_gwreply_done(req, gw, rc, &r, 200, o);
}

void bw_h_inference_bundle(struct bw_req *req)
{
	struct json_object *o = NULL;
	struct bw_gw_result r;
	const char *gw = bw_gwreply_name(req, "gw", "gateway");
	if (gw == NULL)
		return;
	enum bw_err rc = bw_inference_bundle(&req->svc, &req->actor, gw, &o, &r);
	if (rc == BW_OK && r.st == BW_GW_PERMISSION) {
		/* Every gateway serves the bundle to sandbox principals only; say so. */
		bw_reply_problem(req, 403, "PERMISSION_DENIED",
				 "Permission denied by the gateway: it serves the inference bundle "
				 "to sandbox principals only.");
		return;
	}
	bw_gwreply_done(req, gw, rc, &r, 200, o);
}
