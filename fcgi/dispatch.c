/* dispatch: see dispatch.h. */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "fcgi/auth.h"
#include "fcgi/dispatch.h"
#include "fcgi/routes.h"
#include "lib/jsonu.h"
#include "lib/log.h"

static bool is_json_type(const char *ct)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;
	if (strncasecmp(ct, want, n) != 0)
		return false;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

static bool is_yaml_type(const char *ct)
{
	static const char *const types[] = {"application/yaml", "application/x-yaml", "text/yaml",
					    "text/x-yaml"};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t n = strlen(types[i]);
		if (strncasecmp(ct, types[i], n) == 0 &&
		    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
			return true;
	}
	return false;
}

static void reply_bad_json(struct bw_req *req, enum bw_json_status st,
			   const struct bw_json_error *err)
{
	if (st == BW_JSON_MALFORMED || st == BW_JSON_EMPTY) {
		struct json_object *errors = json_object_new_array();
		struct json_object *e = json_object_new_object();
		struct json_object *loc = json_object_new_array();
		json_object_array_add(loc, json_object_new_string("body"));
		if (st == BW_JSON_MALFORMED)
			json_object_array_add(loc, json_object_new_int64((int64_t)err->offset));
		json_object_object_add(
		    e, "type",
		    json_object_new_string(st == BW_JSON_EMPTY ? "missing" : "json_invalid"));
		json_object_object_add(e, "loc", loc);
		json_object_object_add(
		    e, "msg",
		    json_object_new_string(st == BW_JSON_EMPTY ? "Field required" : err->msg));
		json_object_array_add(errors, e);
		bw_reply_invalid(req, errors);
		json_object_put(errors);
		return;
	}
	bw_reply_problem(req, 400, NULL, "%s", err->msg);
}

/* Reads and parses the body the route accepts; returns false when a response was sent. */
static bool take_body(struct bw_req *req, long long max)
{
	const struct bw_route *r = req->route;
	if (req->content_length == -2) {
		bw_reply_problem(req, 400, NULL, "Invalid Content-Length header");
		return false;
	}
	if (r->body == BW_BODY_NONE)
		return true;
	if (req->content_length > max) {
		bw_req_read_body(req, 0); /* drains */
		bw_reply_problem(req, 413, NULL, "Request body too large (limit %lld bytes)", max);
		return false;
	}
	enum bw_err rc = bw_req_read_body(req, max);
	if (rc == BW_ETOOBIG) {
		bw_reply_problem(req, 413, NULL, "Request body too large (limit %lld bytes)", max);
		return false;
	}
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return false;
	}
	if (req->body_len == 0 && r->body == BW_BODY_JSON_OPTIONAL)
		return true;
	if (r->body == BW_BODY_JSON_OR_YAML && req->body_len > 0 && is_yaml_type(req->content_type))
		return true;
	if (req->body_len > 0 && !is_json_type(req->content_type)) {
		bw_reply_problem(req, 415, NULL, "Content-Type must be application/json");
		return false;
	}
	struct bw_json_error err;
	struct json_object *obj = NULL;
	enum bw_json_status st =
	    bw_json_parse(req->body, req->body_len, BW_JSON_MAX_DEPTH, &obj, &err);
	if (st != BW_JSON_OK) {
		reply_bad_json(req, st, &err);
		return false;
	}
	bw_arena_defer(req->arena, bw_json_release, obj);
	req->json = obj;
	return true;
}

void bw_dispatch(struct bw_req *req, long long global_max_body)
{
	struct bw_path path;
	unsigned allowed = 0;
	if (bw_path_split(req->uri, req->arena, &path) != 0) {
		bw_reply_problem(req, 400, NULL, "Malformed request path");
		return;
	}
	if (bw_req_parse_query(req) != 0) {
		bw_reply_problem(req, 400, NULL, "Malformed query string");
		return;
	}
	enum bw_match m = bw_route_match(bw_routes, bw_routes_count, bw_method_parse(req->method),
					 &path, &req->route, req->params, &allowed);
	if (m == BW_MATCH_NOT_FOUND) {
		bw_reply_problem(req, 404, NULL, "Not Found");
		return;
	}
	if (m == BW_MATCH_BAD_METHOD) {
		char allow[64];
		bw_req_header(req, "Allow", bw_methods_format(allowed, allow, sizeof(allow)));
		bw_reply_problem(req, 405, NULL, "Method Not Allowed");
		return;
	}
	long long max = req->route->max_body > 0 && req->route->max_body < global_max_body
			    ? req->route->max_body
			    : global_max_body;
	if (!take_body(req, max))
		return;
	req->svc.arena = req->arena;
	req->min_role =
	    bw_route_min_role(req->route, req->svc.conf != NULL &&
					      strcmp(req->svc.conf->metrics_access, "public") == 0);
	if (req->min_role == BW_ROLE_PUBLIC)
		bw_auth_public_actor(req);
	else if (!bw_auth_guard(req))
		return;
	req->route->handler(req);
	if (req->status == 0) {
		bw_log(BW_LOG_ERROR, "http", req->request_id, "handler for %s sent no response",
		       req->route->pattern);
		bw_reply_problem(req, 500, NULL, "Internal server error");
	}
}
