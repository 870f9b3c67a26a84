/* gwreply: see gwreply.h. */
#include "config.h"

#include "fcgi/gwreply.h"
#include "services/pins.h"

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
