/* h_gwops: the routes that talk to a gateway over gRPC — test-connection, health, gateway
 * config and global settings. Parses and validates, calls services/gwops, renders; the client
 * layer's error enum becomes HTTP here (reference: gRPC failure mapping). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fcgi/body.h"
#include "fcgi/request.h"
#include "fcgi/routes.h"
#include "fcgi/gwreply.h"
#include "services/gwops.h"
#include "services/validate.h"

#define NAME_RULE "Invalid gateway name: must match [a-zA-Z0-9][a-zA-Z0-9._-]* (max 253)"

/* The gateway name path segment ({name} or {gw}); NULL after replying 400. */
static const char *gateway_param(struct bw_req *req, const char *param)
{
	const char *name = bw_req_param(req, param);
	if (name == NULL || !bw_valid_gateway_name(name)) {
		bw_reply_problem(req, 400, NULL, NAME_RULE);
		return NULL;
	}
	return name;
}

/* What test-connection reports for a failure, in the reference's wording. */
static const char *failure_text(struct bw_req *req, const char *name, const struct bw_gw_result *r)
{
	switch (r->st) {
	case BW_GW_NOT_CONNECTED:
		return bw_arena_printf(req->arena, "Gateway '%s' not connected.", name);
	case BW_GW_UNIMPLEMENTED:
		return "Not supported by the current gateway version.";
	case BW_GW_PERMISSION:
		return "Permission denied by the gateway.";
	case BW_GW_UNAUTHENTICATED:
		return "Authentication required. Check gateway credentials.";
	default:
		return bw_arena_printf(req->arena, "gRPC error: %s", r->code_name);
	}
}

void bw_h_gateway_test_connection(struct bw_req *req)
{
	struct bw_health h;
	struct bw_gw_result r;
	const char *name = gateway_param(req, "name");
	if (name == NULL)
		return;
	enum bw_err rc = bw_gwops_health(&req->svc, name, true, &h, &r);
	if (rc == BW_ENOTFOUND) {
		bw_reply_problem(req, 404, NULL, "Gateway '%s' not registered", name);
		return;
	}
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	struct json_object *o = json_object_new_object();
	if (o == NULL) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	bool ok = r.st == BW_GW_OK;
	const char *err = ok ? NULL : failure_text(req, name, &r);
	json_object_object_add(o, "success", json_object_new_boolean(ok));
	json_object_object_add(o, "connected", json_object_new_boolean(ok));
	json_object_object_add(o, "version", ok ? json_object_new_string(h.version) : NULL);
	json_object_object_add(o, "health_status", ok ? json_object_new_string(h.status) : NULL);
	json_object_object_add(o, "error", err != NULL ? json_object_new_string(err) : NULL);
	char ms[32];
	snprintf(ms, sizeof(ms), "%.1f", h.latency_ms);
	json_object_object_add(o, "latency_ms",
			       ok ? json_object_new_double_s(h.latency_ms, ms) : NULL);
	bw_reply_json_owned(req, 200, o);
}

void bw_h_gateway_health(struct bw_req *req)
{
	struct bw_health h;
	struct bw_gw_result r;
	const char *name = gateway_param(req, "gw");
	if (name == NULL)
		return;
	enum bw_err rc = bw_gwops_health(&req->svc, name, false, &h, &r);
	if (rc != BW_OK && rc != BW_ENOTFOUND) {
		bw_reply_err(req, rc);
		return;
	}
	if (rc == BW_ENOTFOUND || r.st == BW_GW_NOT_CONNECTED) {
		/* Plain JSON, not the problem envelope (reference). */
		struct json_object *o = json_object_new_object();
		if (o != NULL) {
			json_object_object_add(o, "status", json_object_new_string("disconnected"));
			json_object_object_add(
			    o, "detail",
			    json_object_new_string(
				bw_arena_printf(req->arena, "Gateway '%s' not connected", name)));
		}
		bw_reply_json_owned(req, 503, o);
		return;
	}
	if (r.st != BW_GW_OK) {
		bw_reply_gw(req, name, &r);
		return;
	}
	struct json_object *o = json_object_new_object();
	if (o != NULL) {
		json_object_object_add(o, "status", json_object_new_string(h.status));
		json_object_object_add(o, "version", json_object_new_string(h.version));
	}
	bw_reply_json_owned(req, 200, o);
}

void bw_h_gateway_config(struct bw_req *req)
{
	struct json_object *o = NULL;
	struct bw_gw_result r;
	const char *name = gateway_param(req, "name");
	if (name == NULL)
		return;
	enum bw_err rc = bw_gwops_config(&req->svc, name, &o, &r);
	if (rc != BW_OK)
		bw_reply_gw_local(req, name, rc);
	else if (r.st != BW_GW_OK)
		bw_reply_gw(req, name, &r);
	else
		bw_reply_json_owned(req, 200, o);
}

static void reply_setting(struct bw_req *req, const char *name, const char *key,
			  struct json_object *value)
{
	long long revision = 0;
	bool deleted = false;
	struct bw_gw_result r;
	enum bw_err rc =
	    bw_gwops_setting(&req->svc, &req->actor, name, key, value, &revision, &deleted, &r);
	if (rc != BW_OK) {
		bw_reply_gw_local(req, name, rc);
		return;
	}
	if (r.st != BW_GW_OK) {
		bw_reply_gw(req, name, &r);
		return;
	}
	struct json_object *o = json_object_new_object();
	if (o != NULL) {
		json_object_object_add(o, "settings_revision", json_object_new_int64(revision));
		json_object_object_add(o, "deleted", json_object_new_boolean(deleted));
	}
	bw_reply_json_owned(req, 200, o);
}

/* {value: string|boolean|integer}: anything else is a 422 on body.value. */
static struct json_object *setting_value(struct bw_req *req)
{
	struct bw_verrs v;
	struct json_object *value = NULL;
	if (!bw_verrs_init(&v, req->arena)) {
		bw_reply_err(req, BW_ENOMEM);
		return NULL;
	}
	if (!json_object_is_type(req->json, json_type_object))
		bw_verrs_add(&v, "model_attributes_type", NULL,
			     "Input should be a valid dictionary");
	else if (!json_object_object_get_ex(req->json, "value", &value))
		bw_verrs_add(&v, "missing", "value", "Field required");
	else if (!json_object_is_type(value, json_type_string) &&
		 !json_object_is_type(value, json_type_boolean) &&
		 !json_object_is_type(value, json_type_int))
		bw_verrs_add(&v, "type_error", "value",
			     "Input should be a valid string, boolean or integer");
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return NULL;
	}
	return value;
}

void bw_h_gateway_setting_put(struct bw_req *req)
{
	struct json_object *value = setting_value(req);
	if (value == NULL)
		return;
	const char *name = gateway_param(req, "name");
	if (name == NULL)
		return;
	reply_setting(req, name, bw_req_param(req, "key"), value);
}

void bw_h_gateway_setting_delete(struct bw_req *req)
{
	const char *name = gateway_param(req, "name");
	if (name == NULL)
		return;
	reply_setting(req, name, bw_req_param(req, "key"), NULL);
}
