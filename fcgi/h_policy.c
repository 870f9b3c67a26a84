/* h_policy: the policy routes of a sandbox (/api/gateways/{gw}/sandboxes/{name}/policy...):
 * read, full and single-rule writes, GitOps export/apply, and pins. Parses and validates input,
 * checks the pin before every policy write (423), calls services/policy and services/pins, and
 * renders; gateway failures go through fcgi/gwreply. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fcgi/body.h"
#include "fcgi/gwreply.h"
#include "fcgi/request.h"
#include "fcgi/routes.h"
#include "services/audit.h"
#include "services/catalog.h"
#include "services/pins.h"
#include "services/polcore.h"
#include "services/policy.h"

/* Fills c from the path; false after replying 400. */
static bool ctx_init(struct bw_req *req, struct bw_polctx *c)
{
	memset(c, 0, sizeof(*c));
	c->svc = &req->svc;
	c->actor = &req->actor;
	c->gateway = bw_gwreply_name(req, "gw", "gateway");
	c->sandbox = c->gateway != NULL ? bw_gwreply_name(req, "name", "sandbox") : NULL;
	return c->sandbox != NULL;
}

/* The pin check of every policy write; false after replying. */
static bool unpinned(struct bw_req *req, const struct bw_polctx *c)
{
	return bw_reply_unless_pinned(req, c->gateway, c->sandbox);
}

/* A failed gateway call of a policy route: the gateway's own reason is kept for refusals of
 * the content (it tells the operator which rule of the sandbox was broken). */
static void reply_gw(struct bw_req *req, const struct bw_polctx *c)
{
	if (c->res.st == BW_GW_INVALID)
		bw_reply_problem(req, 400, "VALIDATION_ERROR", "gRPC error: %s", c->res.why);
	else if (c->res.st == BW_GW_CONFLICT)
		bw_reply_problem(req, 409, "CONFLICT", "gRPC error: %s", c->res.why);
	else
		bw_reply_gw(req, c->gateway, &c->res);
}

/* The reply of a service call that produced obj (owned). */
static void reply_result(struct bw_req *req, const struct bw_polctx *c, enum bw_err rc,
			 struct json_object *obj)
{
	if (rc == BW_OK && c->res.st != BW_GW_OK) {
		json_object_put(obj);
		reply_gw(req, c);
		return;
	}
	if (rc == BW_OK) {
		bw_reply_json_owned(req, 200, obj);
		return;
	}
	json_object_put(obj);
	if (rc == BW_EINVAL)
		bw_reply_problem(req, 400, c->no_policy ? "POLICY_ERROR" : "VALIDATION_ERROR", "%s",
				 c->why);
	else if (rc == BW_ECONFLICT)
		bw_reply_problem(req, 409, NULL, "%s", c->why);
	else
		bw_reply_gw_local(req, c->gateway, rc);
}

void bw_h_policy_get(struct bw_req *req)
{
	struct bw_polctx c;
	struct json_object *env = NULL;
	if (!ctx_init(req, &c))
		return;
	enum bw_err rc = bw_policy_get(&c, 0, &env, NULL);
	reply_result(req, &c, rc, env);
}

void bw_h_policy_effective(struct bw_req *req)
{
	struct bw_polctx c;
	struct json_object *env = NULL;
	if (!ctx_init(req, &c))
		return;
	enum bw_err rc = bw_policy_get(&c, 0, &env, NULL);
	if (env != NULL)
		json_object_object_add(env, "source", json_object_new_string("gateway_runtime"));
	reply_result(req, &c, rc, env);
}

void bw_h_policy_put(struct bw_req *req)
{
	struct bw_polctx c;
	struct json_object *env = NULL;
	struct bw_verrs v;
	if (!bw_body_require_object(req, &v) || !ctx_init(req, &c) || !unpinned(req, &c))
		return;
	enum bw_err rc = bw_policy_replace(&c, req->json, &env);
	reply_result(req, &c, rc, env);
}

/* The query integers keys[i] in [lo[i], hi[i]] into out[i] (kept when absent unless required);
 * false after replying 422 with every problem. */
static bool query_ints(struct bw_req *req, size_t n, const char *const *keys, const long long *lo,
		       const long long *hi, bool required, long long *out)
{
	struct bw_verrs v;
	if (!bw_verrs_init(&v, req->arena)) {
		bw_reply_err(req, BW_ENOMEM);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (required && bw_req_query(req, keys[i]) == NULL)
			bw_verrs_query(&v, "missing", keys[i], "Field required", NULL);
		else
			bw_query_int(req, &v, keys[i], lo[i], hi[i], &out[i]);
	}
	if (!bw_verrs_any(&v))
		return true;
	bw_reply_invalid(req, v.list);
	return false;
}

void bw_h_policy_revisions(struct bw_req *req)
{
	struct bw_polctx c;
	struct json_object *out = NULL;
	static const char *const keys[] = {"limit", "offset"};
	static const long long lo[] = {1, 0}, hi[] = {1000, 1000000};
	long long page[] = {50, 0};
	if (!ctx_init(req, &c) || !query_ints(req, 2, keys, lo, hi, false, page))
		return;
	enum bw_err rc = bw_policy_revisions(&c, (unsigned)page[0], (unsigned)page[1], &out);
	reply_result(req, &c, rc, out);
}

static struct json_object *take(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;
	if (o != NULL && json_object_object_get_ex(o, k, &v))
		return json_object_get(v);
	return NULL;
}

void bw_h_policy_diff(struct bw_req *req)
{
	struct bw_polctx c;
	static const char *const keys[] = {"version_a", "version_b"};
	static const long long lo[] = {1, 1}, hi[] = {0xffffffffLL, 0xffffffffLL};
	long long ver[] = {0, 0};
	struct json_object *ea = NULL, *eb = NULL;
	if (!ctx_init(req, &c) || !query_ints(req, 2, keys, lo, hi, true, ver))
		return;
	long long va = ver[0], vb = ver[1];
	enum bw_err rc = bw_policy_get(&c, (unsigned)va, &ea, NULL);
	if (rc == BW_OK && c.res.st == BW_GW_OK)
		rc = bw_policy_get(&c, (unsigned)vb, &eb, NULL);
	struct json_object *o = NULL;
	if (rc == BW_OK && c.res.st == BW_GW_OK) {
		struct json_object *pa = take(ea, "policy"), *pb = take(eb, "policy");
		o = json_object_new_object();
		if (o != NULL) {
			json_object_object_add(o, "version_a", json_object_new_int64(va));
			json_object_object_add(o, "version_b", json_object_new_int64(vb));
			json_object_object_add(o, "diff", bw_pol_diff(pa, pb));
			json_object_object_add(o, "policy_a", pa);
			json_object_object_add(o, "policy_b", pb);
			json_object_object_add(o, "revision_a", take(ea, "revision"));
			json_object_object_add(o, "revision_b", take(eb, "revision"));
		} else {
			json_object_put(pa);
			json_object_put(pb);
			rc = BW_ENOMEM;
		}
	}
	json_object_put(ea);
	json_object_put(eb);
	reply_result(req, &c, rc, o);
}

void bw_h_policy_rule_add(struct bw_req *req)
{
	struct bw_polctx c;
	struct bw_verrs v;
	const char *key = NULL;
	struct json_object *rule = NULL, *env = NULL;
	bool present;
	if (!bw_body_require_object(req, &v))
		return;
	bw_body_string(req->json, "key", BW_REQUIRED, &v, &key, &present);
	bw_body_object(req->json, "rule", BW_REQUIRED, &v, &rule, &present);
	if (key != NULL && !bw_pol_rule_key_ok(key))
		bw_verrs_add(&v, "string_pattern_mismatch", "key",
			     "key must be 1-253 characters without control characters");
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	if (!ctx_init(req, &c) || !unpinned(req, &c))
		return;
	enum bw_err rc = bw_policy_rule_put(&c, key, rule, &env);
	reply_result(req, &c, rc, env);
}

void bw_h_policy_rule_delete(struct bw_req *req)
{
	struct bw_polctx c;
	struct json_object *env = NULL;
	const char *key = bw_req_param(req, "key");
	if (!ctx_init(req, &c))
		return;
	if (!bw_pol_rule_key_ok(key)) {
		bw_reply_problem(req, 400, NULL, "Invalid rule key");
		return;
	}
	if (!unpinned(req, &c))
		return;
	enum bw_err rc = bw_policy_rule_delete(&c, key, &env);
	reply_result(req, &c, rc, env);
}

/* An absolute path without '..' components or control characters, 1..4096 bytes; NULL when
 * fine, else the reason. */
static const char *path_problem(const char *p)
{
	size_t n = strlen(p);
	if (n == 0 || n > 4096)
		return "path must be 1-4096 characters";
	if (p[0] != '/')
		return "path must be absolute (start with '/')";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return "path contains a control character";
	const char *s = p;
	while ((s = strstr(s, "..")) != NULL) {
		if (s[-1] == '/' && (s[2] == '/' || s[2] == '\0'))
			return "path contains a '..' component";
		s += 2;
	}
	return NULL;
}

void bw_h_policy_fs_add(struct bw_req *req)
{
	struct bw_polctx c;
	struct bw_verrs v;
	const char *path = NULL, *access = NULL;
	struct json_object *env = NULL;
	bool present;
	if (!bw_body_require_object(req, &v))
		return;
	bw_body_string(req->json, "path", BW_REQUIRED, &v, &path, &present);
	bw_body_string(req->json, "access", BW_REQUIRED, &v, &access, &present);
	if (access != NULL && strcmp(access, "ro") != 0 && strcmp(access, "rw") != 0)
		bw_verrs_add(&v, "literal_error", "access", "Input should be 'ro' or 'rw'");
	if (path != NULL && (path[0] == '\0' || strlen(path) > 4096))
		bw_verrs_add(&v, "string_too_long", "path", "path must be 1-4096 characters");
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	const char *why = path_problem(path);
	if (why != NULL) {
		bw_reply_problem(req, 400, NULL, "%s", why);
		return;
	}
	if (!ctx_init(req, &c) || !unpinned(req, &c))
		return;
	enum bw_err rc = bw_policy_fs_add(&c, path, strcmp(access, "rw") == 0, &env);
	reply_result(req, &c, rc, env);
}

void bw_h_policy_fs_delete(struct bw_req *req)
{
	struct bw_polctx c;
	struct json_object *env = NULL;
	const char *path = bw_req_query(req, "path");
	if (path == NULL) {
		static const char *const keys[] = {"path"};
		static const long long zero[] = {0};
		long long dummy[] = {0};
		query_ints(req, 1, keys, zero, zero, true, dummy); /* the 422 for a missing one */
		return;
	}
	const char *why = path_problem(path);
	if (why != NULL) {
		bw_reply_problem(req, 400, NULL, "%s", why);
		return;
	}
	if (!ctx_init(req, &c) || !unpinned(req, &c))
		return;
	enum bw_err rc = bw_policy_fs_delete(&c, path, &env);
	reply_result(req, &c, rc, env);
}

void bw_h_policy_process(struct bw_req *req)
{
	struct bw_polctx c;
	struct bw_verrs v;
	const char *user = NULL, *group = NULL, *ll = NULL;
	struct json_object *env = NULL;
	bool present;
	if (!bw_body_require_object(req, &v))
		return;
	bw_body_string(req->json, "run_as_user", BW_NULLABLE, &v, &user, &present);
	bw_body_string(req->json, "run_as_group", BW_NULLABLE, &v, &group, &present);
	bw_body_string(req->json, "landlock_compatibility", BW_NULLABLE, &v, &ll, &present);
	if ((user != NULL && strlen(user) > 256) || (group != NULL && strlen(group) > 256))
		bw_verrs_add(&v, "string_too_long", NULL,
			     "user and group are at most 256 characters");
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	if (ll != NULL && strcmp(ll, "best_effort") != 0 && strcmp(ll, "hard_requirement") != 0) {
		bw_reply_problem(
		    req, 400, NULL,
		    "landlock_compatibility must be 'best_effort' or 'hard_requirement'");
		return;
	}
	if (!ctx_init(req, &c) || !unpinned(req, &c))
		return;
	enum bw_err rc = bw_policy_process(&c, user, group, ll, &env);
	reply_result(req, &c, rc, env);
}

void bw_h_policy_preset(struct bw_req *req)
{
	struct bw_polctx c;
	struct json_object *env = NULL;
	const char *name = bw_req_param(req, "preset");
	if (!ctx_init(req, &c) || !unpinned(req, &c))
		return;
	const struct bw_catalog *cat = bw_catalog_get(req->svc.conf, BW_CATALOG_PRESETS);
	struct json_object *preset =
	    cat != NULL && bw_catalog_name_ok(name) ? bw_catalog_item(cat, name) : NULL;
	if (preset == NULL) {
		bw_reply_problem(req, 404, NULL, "Preset '%s' not found", name);
		return;
	}
	enum bw_err rc = bw_policy_preset(&c, name, preset, &env);
	json_object_put(preset);
	reply_result(req, &c, rc, env);
}

void bw_h_policy_export(struct bw_req *req)
{
	struct bw_polctx c;
	struct json_object *out = NULL;
	if (!ctx_init(req, &c))
		return;
	enum bw_err rc = bw_policy_export(&c, &out);
	reply_result(req, &c, rc, out);
}

/* The apply request from a JSON body ({yaml, dry_run, expected_version, mode}) or a raw YAML
 * body with the same options as query parameters; false after replying. */
static bool apply_request(struct bw_req *req, struct bw_apply_req *r)
{
	struct bw_verrs v;
	const char *mode = NULL;
	bool present;
	memset(r, 0, sizeof(*r));
	/* The dispatcher leaves json NULL with a non-empty body only for a YAML media type. */
	if (req->json == NULL && req->body_len > 0) {
		r->yaml = req->body;
		r->yaml_len = req->body_len;
		r->expected = bw_req_query(req, "expected_version");
		mode = bw_req_query(req, "mode");
		if (!bw_verrs_init(&v, req->arena)) {
			bw_reply_err(req, BW_ENOMEM);
			return false;
		}
		if (!bw_query_bool(req, &v, "dry_run", &r->dry_run)) {
			bw_reply_invalid(req, v.list);
			return false;
		}
	} else {
		if (!bw_body_require_object(req, &v))
			return false;
		struct json_object *dry = NULL;
		bw_body_string(req->json, "yaml", BW_REQUIRED, &v, &r->yaml, &present);
		bw_body_string(req->json, "expected_version", BW_NULLABLE, &v, &r->expected,
			       &present);
		bw_body_string(req->json, "mode", BW_OPTIONAL, &v, &mode, &present);
		if (json_object_object_get_ex(req->json, "dry_run", &dry)) {
			if (!json_object_is_type(dry, json_type_boolean))
				bw_verrs_add(&v, "bool_type", "dry_run",
					     "Input should be a valid boolean");
			else
				r->dry_run = json_object_get_boolean(dry);
		}
		if (bw_verrs_any(&v)) {
			bw_reply_invalid(req, v.list);
			return false;
		}
		r->yaml_len = strlen(r->yaml);
	}
	if (mode != NULL && strcmp(mode, "replace") != 0 && strcmp(mode, "merge") != 0) {
		bw_reply_problem(req, 422, NULL, "mode must be 'replace' or 'merge'");
		return false;
	}
	r->merge = mode != NULL && strcmp(mode, "merge") == 0;
	if (r->expected != NULL && strlen(r->expected) > 128) {
		bw_reply_problem(req, 422, NULL, "expected_version is at most 128 characters");
		return false;
	}
	return true;
}

void bw_h_policy_apply(struct bw_req *req)
{
	struct bw_polctx c;
	struct bw_apply_req r;
	struct json_object *out = NULL;
	enum bw_apply_outcome outcome;
	if (!apply_request(req, &r) || !ctx_init(req, &c) || !unpinned(req, &c))
		return;
	enum bw_err rc = bw_policy_apply(&c, &r, &outcome, &out);
	if (rc != BW_OK || c.res.st != BW_GW_OK) {
		reply_result(req, &c, rc, out);
		return;
	}
	switch (outcome) {
	case BW_APPLY_BAD_YAML:
		bw_reply_problem(req, 400, NULL, "%s", c.why);
		return;
	case BW_APPLY_MERGE_BAD:
		bw_reply_problem(req, 400, "POLICY_ERROR", "%s", c.why);
		return;
	case BW_APPLY_MISMATCH:
		bw_reply_json_owned(req, 409, out);
		return;
	case BW_APPLY_DEFERRED:
		bw_reply_json_owned(req, 202, out);
		return;
	case BW_APPLY_FORBIDDEN:
		bw_reply_problem(req, 403, NULL, "%s", c.why);
		return;
	case BW_APPLY_DONE:
		bw_reply_json_owned(req, 200, out);
		return;
	}
}

/* ---- pins ---------------------------------------------------------------------------------- */

void bw_h_pin_get(struct bw_req *req)
{
	struct bw_polctx c;
	struct bw_pin pin;
	bool pinned = false;
	if (!ctx_init(req, &c))
		return;
	enum bw_err rc = bw_pin_guard(&req->svc, c.gateway, c.sandbox, &pinned, &pin);
	if (rc != BW_OK)
		bw_reply_err(req, rc);
	else if (!pinned)
		bw_reply_problem(req, 404, NULL, "No active pin for this sandbox");
	else
		bw_reply_json_owned(req, 200, bw_pin_json(&pin));
}

/* The expiry as stored ("YYYY-MM-DD HH:MM:SS.ffffff" UTC) or NULL; false after replying 400. */
static bool pin_expiry(struct bw_req *req, const char *text, const char **out)
{
	char norm[BW_AUDIT_TIME_LEN], now[BW_AUDIT_TIME_LEN];
	*out = NULL;
	if (text == NULL)
		return true;
	if (!bw_audit_parse_time(text, norm)) {
		bw_reply_problem(req, 400, NULL,
				 "Invalid expires_at: expected an ISO-8601 time such as "
				 "2026-04-20T12:00:00Z");
		return false;
	}
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%d %H:%M:%S.000000", &tm);
	if (strcmp(norm, now) <= 0) {
		bw_reply_problem(req, 400, NULL, "Invalid expires_at: the time is in the past");
		return false;
	}
	*out = bw_arena_strdup(req->arena, norm);
	if (*out == NULL) {
		bw_reply_err(req, BW_ENOMEM);
		return false;
	}
	return true;
}

void bw_h_pin_set(struct bw_req *req)
{
	struct bw_polctx c;
	struct bw_verrs v;
	const char *reason = NULL, *expires = NULL, *norm = NULL;
	bool present;
	if (!bw_verrs_init(&v, req->arena)) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	if (req->json != NULL) {
		if (!json_object_is_type(req->json, json_type_object)) {
			bw_verrs_add(&v, "model_attributes_type", NULL,
				     "Input should be a valid dictionary");
		} else {
			bw_body_string(req->json, "reason", BW_NULLABLE, &v, &reason, &present);
			bw_body_string(req->json, "expires_at", BW_NULLABLE, &v, &expires,
				       &present);
			if (reason != NULL && strlen(reason) > BW_PIN_MAX_REASON)
				bw_verrs_add(&v, "string_too_long", "reason",
					     "reason is at most 1000 characters");
		}
	}
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	if (!ctx_init(req, &c) || !pin_expiry(req, expires, &norm))
		return;
	struct json_object *env = NULL, *av = NULL;
	enum bw_err rc = bw_policy_get(&c, 0, &env, NULL);
	if (rc != BW_OK || c.res.st != BW_GW_OK) {
		reply_result(req, &c, rc, env);
		return;
	}
	long long version = 0;
	if (json_object_object_get_ex(env, "active_version", &av))
		version = json_object_get_int64(av);
	json_object_put(env);
	if (version <= 0) {
		bw_reply_problem(req, 400, NULL, "Could not read active policy version");
		return;
	}
	struct bw_pin pin;
	rc = bw_pin_set(&req->svc, &req->actor, c.gateway, c.sandbox, version, reason, norm, &pin);
	if (rc != BW_OK)
		bw_reply_err(req, rc);
	else
		bw_reply_json_owned(req, 200, bw_pin_json(&pin));
}

void bw_h_pin_delete(struct bw_req *req)
{
	struct bw_polctx c;
	if (!ctx_init(req, &c))
		return;
	enum bw_err rc = bw_pin_delete(&req->svc, &req->actor, c.gateway, c.sandbox);
	if (rc == BW_ENOTFOUND)
		bw_reply_problem(req, 404, NULL, "No active pin for this sandbox");
	else if (rc != BW_OK)
		bw_reply_err(req, rc);
	else
		bw_reply(req, 204, "text/plain", "", 0);
}
