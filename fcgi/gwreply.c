/* gwreply: see gwreply.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/gwreply.h"
#include "lib/utf8.h"
#include "services/pins.h"
#include "services/validate.h"

void bw_reply_gw_not_connected(struct bw_req *req, const char *name)
{
	bw_reply_problem(req, 503, "GATEWAY_NOT_CONNECTED", "Gateway '%s' not connected.", name);
}

/* The one translation of a failed gateway call into HTTP. */
void bw_reply_gw(struct bw_req *req, const char *name, const struct bw_gw_result *r)
{
	switch (r->st) {
	case BW_GW_OK:
		bw_reply_err(req, BW_EIO); /* not reached: callers reply on success */
		return;
	case BW_GW_NOT_CONNECTED:
		bw_reply_gw_not_connected(req, name);
		return;
	case BW_GW_INVALID:
		bw_reply_problem(req, 400, "VALIDATION_ERROR", "gRPC error: %s", r->code_name);
		return;
	case BW_GW_NOT_FOUND:
		bw_reply_problem(req, 404, "NOT_FOUND", "gRPC error: NOT_FOUND");
		return;
	case BW_GW_CONFLICT:
		bw_reply_problem(req, 409, "CONFLICT", "gRPC error: %s", r->code_name);
		return;
	case BW_GW_PERMISSION:
		bw_reply_problem(req, 403, "PERMISSION_DENIED",
				 "Permission denied by the gateway.");
		return;
	case BW_GW_UNAUTHENTICATED:
		bw_reply_problem(req, 401, "AUTHENTICATION_REQUIRED",
				 "Authentication required. Check gateway credentials.");
		return;
	case BW_GW_EXHAUSTED:
		bw_reply_problem(req, 429, "CONFLICT", "gRPC error: RESOURCE_EXHAUSTED");
		return;
	case BW_GW_TIMEOUT:
		bw_reply_problem(req, 504, "TIMEOUT", "gRPC error: DEADLINE_EXCEEDED");
		return;
	case BW_GW_UNIMPLEMENTED:
		bw_reply_problem(req, 500, "INTERNAL_ERROR",
				 "Not supported by the current gateway version.");
		return;
	case BW_GW_FAILED:
		bw_reply_problem(req, 500, "INTERNAL_ERROR", "gRPC error: %s",
				 r->code_name[0] ? r->code_name : "UNKNOWN");
		return;
	}
}

/* Local failures of a gateway route: an unregistered gateway is "not connected" (reference). */
void bw_reply_gw_local(struct bw_req *req, const char *name, enum bw_err rc)
{
	if (rc == BW_ENOTFOUND)
		bw_reply_gw_not_connected(req, name);
	else
		bw_reply_err(req, rc);
}

bool bw_reply_unless_pinned(struct bw_req *req, const char *gw, const char *sandbox)
{
	struct bw_pin pin;
	bool pinned = false;
	enum bw_err rc = bw_pin_guard(&req->svc, gw, sandbox, &pinned, &pin);
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return false;
	}
	if (pinned)
		bw_reply_problem(req, 423, NULL, "%s", bw_pin_locked_text(&req->svc, &pin));
	return !pinned;
}

const char *bw_gwreply_name(struct bw_req *req, const char *param, const char *what)
{
	const char *name = bw_req_param(req, param);
	if (name == NULL || !bw_valid_gateway_name(name)) {
		bw_reply_problem(req, 400, NULL,
				 "Invalid %s name: must match [a-zA-Z0-9][a-zA-Z0-9._-]* (max 253)",
				 what);
		return NULL;
	}
	return name;
}

void bw_gwreply_done(struct bw_req *req, const char *gw, enum bw_err rc,
		     const struct bw_gw_result *r, int status, struct json_object *o)
{
	if (rc != BW_OK)
		bw_reply_gw_local(req, gw, rc);
	else if (r->st != BW_GW_OK)
		bw_reply_gw(req, gw, r);
	else if (o == NULL)
		bw_reply_err(req, BW_ENOMEM);
	else
		bw_reply_json(req, status, o);
	json_object_put(o);
}

bool bw_gwreply_env_key(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 256 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
	}
	return true;
}

void bw_gwreply_string_map(struct bw_verrs *v, const char *field, struct json_object *map,
			   size_t max, bool env_keys)
{
	if (map == NULL)
		return;
	if ((size_t)json_object_object_length(map) > max) {
		char msg[80];
		snprintf(msg, sizeof(msg), "Dictionary should have at most %zu items", max);
		bw_verrs_add(v, "too_long", field, msg);
		return;
	}
	json_object_object_foreach(map, k, val)
	{
		size_t kn = strlen(k);
		if (kn == 0 || bw_utf8_count(k, kn) > 256 || (env_keys && !bw_gwreply_env_key(k))) {
			bw_verrs_add(v, "key_error", field,
				     env_keys ? "Keys must be environment variable names "
						"([A-Za-z_][A-Za-z0-9_]*, at most 256)"
					      : "Keys must be 1 to 256 characters");
			return;
		}
		if (!json_object_is_type(val, json_type_string)) {
			bw_verrs_add(v, "string_type", field, "Values should be valid strings");
			return;
		}
		const char *s = json_object_get_string(val);
		size_t n = (size_t)json_object_get_string_len(val);
		if (strlen(s) != n || bw_utf8_count(s, n) > 8192) {
			bw_verrs_add(v, "string_too_long", field,
				     "Values must be at most 8192 characters without NUL");
			return;
		}
	}
}
