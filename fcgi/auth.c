/* auth (face): see auth.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fcgi/auth.h"
#include "services/ratelimit.h"
#include "lib/log.h"
#include "services/auth.h"
#include "services/validate.h"

#define GW_PREFIX "/api/gateways/{gw}"
#define MAX_KEY_LEN 512

static const char *fcgi_param(const struct bw_req *req, const char *name)
{
	const char *v = FCGX_GetParam(name, req->fcgx->envp);
	return v != NULL ? v : "";
}

/* The first sg_session cookie value of token shape, or NULL. */
static const char *session_cookie(struct bw_req *req)
{
	const char *p = fcgi_param(req, "HTTP_COOKIE");
	const size_t nlen = sizeof(BW_SESSION_COOKIE) - 1;
	while (*p != '\0') {
		while (*p == ' ' || *p == ';')
			p++;
		size_t len = strcspn(p, ";");
		if (len > nlen && strncmp(p, BW_SESSION_COOKIE "=", nlen + 1) == 0) {
			char *v = bw_arena_strndup(req->arena, p + nlen + 1, len - nlen - 1);
			size_t vl = v != NULL ? strlen(v) : 0;
			while (vl > 0 && v[vl - 1] == ' ')
				v[--vl] = '\0';
			if (v != NULL && bw_token_shape(v))
				return v;
		}
		p += len;
	}
	return NULL;
}

enum bw_err bw_auth_identify(struct bw_req *req)
{
	memset(&req->who, 0, sizeof(req->who));
	req->svc.arena = req->arena;
	const char *authz = fcgi_param(req, "HTTP_AUTHORIZATION");
	if (strncasecmp(authz, "bearer ", 7) == 0 && authz[7] != '\0' &&
	    strlen(authz + 7) <= MAX_KEY_LEN) {
		enum bw_err rc = bw_auth_by_key(&req->svc, authz + 7, &req->who);
		if (rc == BW_OK)
			return BW_OK;
		memset(&req->who, 0, sizeof(req->who));
		if (rc != BW_ENOTFOUND)
			return rc;
	}
	const char *token = session_cookie(req);
	if (token == NULL)
		return BW_OK;
	enum bw_err rc = bw_auth_by_session(&req->svc, token, &req->who);
	if (rc != BW_OK)
		memset(&req->who, 0, sizeof(req->who));
	return rc == BW_ENOTFOUND ? BW_OK : rc;
}

bool bw_auth_csrf_ok(struct bw_req *req)
{
	if (req->who.session == NULL)
		return false;
	const char *sent = fcgi_param(req, "HTTP_X_CSRF_TOKEN");
	const char *want = bw_csrf_for(req->arena, req->who.session);
	return want != NULL && sent[0] != '\0' && bw_secure_streq(sent, want);
}

static void set_actor(struct bw_req *req, const char *name, const char *role)
{
	req->actor.name = name;
	req->actor.role = role;
	req->actor.client_ip = req->client_ip[0] != '\0' ? req->client_ip : NULL;
	req->actor.request_id = req->request_id;
}

void bw_auth_public_actor(struct bw_req *req)
{
	req->role = BW_ROLE_PUBLIC;
	set_actor(req, "unknown", "unknown");
}

static bool unsafe_method(const char *m)
{
	return strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0;
}

static void forbid(struct bw_req *req, enum bw_rank have, enum bw_rank need)
{
	struct json_object *d = json_object_new_object();
	if (d != NULL) {
		json_object_object_add(d, "actor_role", json_object_new_string(bw_rank_name(have)));
		json_object_object_add(d, "required_role",
				       json_object_new_string(bw_rank_name(need)));
	}
	struct bw_audit entry = {"auth.forbidden", "role", bw_rank_name(need), NULL, d};
	bw_auth_audit(&req->svc, &req->actor, &entry);
	json_object_put(d);
	bw_reply_problem(req, 403, NULL, "Requires %s role", bw_rank_name(need));
}

/* Writes per actor (every authenticated POST/PUT/PATCH/DELETE, whichever route): the counts
 * live in MariaDB, so the limit holds across processes and hosts. A refused write is not
 * counted. True after a response (429 or an error) was sent. */
static bool write_limited(struct bw_req *req)
{
	if (!unsafe_method(req->method))
		return false;
	const struct bw_conf *c = req->svc.conf;
	struct bw_window w = {c->write_rate_limit_attempts, c->write_rate_limit_window,
			      c->write_rate_limit_lockout};
	int retry = 0;
	enum bw_err rc = bw_rate_hit(&req->svc, "write", req->actor.name, &w, &retry);
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return true;
	}
	if (retry == 0)
		return false;
	char v[16];
	snprintf(v, sizeof(v), "%d", retry);
	bw_req_header(req, "Retry-After", v);
	bw_reply_problem(req, 429, NULL, "Too many requests. Try again later.");
	return true;
}

bool bw_auth_guard(struct bw_req *req)
{
	const char *gw = NULL;
	if (strncmp(req->route->pattern, GW_PREFIX, sizeof(GW_PREFIX) - 1) == 0) {
		gw = bw_req_param(req, "gw");
		if (gw == NULL || !bw_valid_gateway_name(gw)) {
			bw_reply_problem(
			    req, 400, NULL,
			    "Invalid gateway name: must match [a-zA-Z0-9][a-zA-Z0-9._-]*");
			return false;
		}
	}
	bw_auth_public_actor(req);
	enum bw_err rc = bw_auth_identify(req);
	if (rc != BW_OK) {
		bw_log(BW_LOG_ERROR, "auth", req->request_id, "credential lookup failed: %s",
		       bw_strerror(rc));
		bw_reply_problem(req, 503, NULL, "Authentication unavailable — try again later");
		return false;
	}
	if (req->who.kind == BW_PRINC_NONE || req->who.role == BW_RANK_NONE) {
		bw_req_header(req, "WWW-Authenticate", "Bearer");
		bw_reply_problem(req, 401, NULL, "Invalid or missing credentials");
		return false;
	}
	set_actor(req, req->who.actor, bw_rank_name(req->who.role));
	/* Browsers attach the cookie to cross-site requests; a header they cannot forge is what
	 * proves the page that sent a write is ours. Bearer keys are never attached implicitly. */
	if (req->who.session != NULL && unsafe_method(req->method) && !bw_auth_csrf_ok(req)) {
		bw_reply_problem(req, 403, NULL, "CSRF token missing or invalid");
		return false;
	}
	enum bw_rank need = (enum bw_rank)(req->min_role - BW_ROLE_VIEWER);
	enum bw_rank have = req->who.role;
	/* Overrides can never take a principal below viewer, so viewer routes need no lookup. */
	if (need > BW_RANK_VIEWER) {
		struct bw_role_inputs in;
		rc = bw_auth_role_inputs(&req->svc, &req->who, gw, &in);
		if (rc != BW_OK) {
			bw_log(BW_LOG_ERROR, "auth", req->request_id, "role lookup failed: %s",
			       bw_strerror(rc));
			bw_reply_problem(req, 503, NULL, "%s role lookup failed — try again later",
					 gw != NULL ? "Gateway" : "Group");
			return false;
		}
		have = bw_role_effective(&in);
	}
	set_actor(req, req->who.actor, bw_rank_name(have));
	if (have < need) {
		forbid(req, have, need);
		return false;
	}
	req->role = (enum bw_role)(have + BW_ROLE_VIEWER);
	return !write_limited(req);
}

const char *bw_auth_cookie(struct bw_req *req, const char *token, int max_age)
{
	if (token == NULL)
		return BW_SESSION_COOKIE "=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax";
	return bw_arena_printf(req->arena,
			       BW_SESSION_COOKIE "=%s; Path=/; Max-Age=%d; HttpOnly; Secure; "
						 "SameSite=Lax",
			       token, max_age);
}
