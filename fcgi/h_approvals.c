/* h_approvals: the approval routes under /api/gateways/{gw}/sandboxes/{name}/ — draft chunks
 * (view, pending, history, approve, reject, approve-all, edit, undo, clear), the approval
 * workflow of a sandbox and a chunk's vote tally. Parses and validates, calls
 * services/approvals and services/workflow, renders. Gateway failures map as in h_gwops.
 *
 * Pin guard: policy_guard() is called first in approve, approve-all, edit and undo — the routes
 * that change the policy or a proposal of it — and answers 423 while the sandbox is pinned. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/body.h"
#include "fcgi/gwreply.h"
#include "fcgi/request.h"
#include "fcgi/routes.h"
#include "lib/jsonu.h"
#include "sandbox.pb-c.h"
#include "services/approvals.h"
#include "services/pbjson.h"
#include "services/registry.h"
#include "services/workflow.h"

#define WAIT_LIMIT_S 30
#define REASON_MAX 1000

/* Where a request points: the gateway (checked by the auth guard), the sandbox and the chunk. */
struct target {
	struct bw_appr_where w;
	const char *chunk; /* NULL on routes without {chunk_id} */
};

/* The pin guard hook: see the header comment. True when the write may go ahead; false after a
 * response (423) was sent. */
static bool policy_guard(struct bw_req *req, const struct target *t)
{
	return bw_reply_unless_pinned(req, t->w.gw, t->w.sb);
}

static bool chunk_id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > BW_WF_CHUNK_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || c == ':'))
			return false;
	}
	return true;
}

/* Fills t from the path; false after replying 400. */
static bool target_of(struct bw_req *req, struct target *t)
{
	t->w.gw = bw_req_param(req, "gw");
	t->w.sb = bw_gwreply_name(req, "name", "sandbox");
	t->chunk = bw_req_param(req, "chunk_id");
	if (t->w.sb == NULL)
		return false;
	if (t->chunk != NULL && !chunk_id_ok(t->chunk)) {
		bw_reply_problem(req, 400, NULL,
				 "Invalid chunk id: 1..128 characters of [A-Za-z0-9._:-]");
		return false;
	}
	return true;
}

/* True when the call went through; otherwise replies (unregistered = not connected). */
static bool call_ok(struct bw_req *req, const struct target *t, enum bw_err rc,
		    const struct bw_gw_result *r)
{
	if (rc == BW_ENOTFOUND) {
		bw_reply_problem(req, 503, "GATEWAY_NOT_CONNECTED", "Gateway '%s' not connected.",
				 t->w.gw);
		return false;
	}
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return false;
	}
	if (r->st != BW_GW_OK) {
		bw_reply_gw(req, t->w.gw, r);
		return false;
	}
	return true;
}

/* A 422 on a query parameter. */
static void reply_bad_query(struct bw_req *req, const char *key, const char *msg)
{
	struct bw_verrs v;
	if (!bw_verrs_init(&v, req->arena)) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	bw_verrs_query(&v, "value_error", key, msg, NULL);
	bw_reply_invalid(req, v.list);
}

/* ?wait_loaded=bool and ?wait_timeout=1..30 (seconds, default 30); false after replying. */
static bool wait_params(struct bw_req *req, bool *wait, int *timeout_s)
{
	struct bw_verrs v;
	long long n = WAIT_LIMIT_S;
	*timeout_s = WAIT_LIMIT_S;
	if (!bw_verrs_init(&v, req->arena)) {
		bw_reply_err(req, BW_ENOMEM);
		return false;
	}
	bw_query_bool(req, &v, "wait_loaded", wait);
	bw_query_int(req, &v, "wait_timeout", 1, WAIT_LIMIT_S, &n);
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return false;
	}
	*timeout_s = (int)n;
	return true;
}

static struct json_object *version_json(const struct bw_appr_version *v)
{
	struct json_object *o = json_object_new_object();
	if (o != NULL) {
		json_object_object_add(o, "policy_version", json_object_new_int64(v->version));
		json_object_object_add(o, "policy_hash", json_object_new_string(v->hash));
	}
	return o;
}

/* Replies with o (owned) once the version is loaded when asked to wait; 504 / 409 otherwise. */
static void reply_after_wait(struct bw_req *req, const struct target *t, bool wait, int timeout_s,
			     long long version, struct json_object *o)
{
	if (!wait || version == 0) {
		bw_reply_json_owned(req, 200, o);
		return;
	}
	enum bw_load_outcome outcome;
	const char *why = NULL;
	struct bw_gw_result r;
	enum bw_err rc =
	    bw_appr_wait_loaded(&req->svc, &t->w, version, timeout_s, &outcome, &why, &r);
	if (!call_ok(req, t, rc, &r)) {
		json_object_put(o);
		return;
	}
	if (outcome == BW_LOAD_LOADED) {
		bw_reply_json_owned(req, 200, o);
		return;
	}
	json_object_put(o);
	if (outcome == BW_LOAD_FAILED)
		bw_reply_problem(req, 409, "CONFLICT", "Policy v%lld failed to load: %s", version,
				 why != NULL ? why : "");
	else
		bw_reply_problem(req, 504, "TIMEOUT",
				 "Policy v%lld did not reach 'loaded' state within %ds", version,
				 timeout_s);
}

/* ---- reads ------------------------------------------------------------------------------- */

void bw_h_appr_draft(struct bw_req *req)
{
	struct target t;
	struct bw_gw_result r;
	struct json_object *o = NULL;
	if (!target_of(req, &t))
		return;
	const char *filter = bw_req_query(req, "status_filter");
	if (filter == NULL)
		filter = "";
	if (filter[0] != '\0' && strcmp(filter, "pending") != 0 &&
	    strcmp(filter, "approved") != 0 && strcmp(filter, "rejected") != 0) {
		reply_bad_query(req, "status_filter",
				"Input should be 'pending', 'approved', 'rejected' or empty");
		return;
	}
	enum bw_err rc = bw_appr_draft(&req->svc, &t.w, filter, &o, &r);
	if (call_ok(req, &t, rc, &r))
		bw_reply_json_owned(req, 200, o);
}

void bw_h_appr_pending(struct bw_req *req)
{
	struct target t;
	struct bw_gw_result r;
	struct json_object *o = NULL;
	if (!target_of(req, &t))
		return;
	enum bw_err rc = bw_appr_pending(&req->svc, &t.w, &o, &r);
	if (call_ok(req, &t, rc, &r))
		bw_reply_json_owned(req, 200, o);
}

void bw_h_appr_history(struct bw_req *req)
{
	struct target t;
	struct bw_gw_result r;
	struct json_object *o = NULL;
	if (!target_of(req, &t))
		return;
	enum bw_err rc = bw_appr_history(&req->svc, &t.w, &o, &r);
	if (call_ok(req, &t, rc, &r))
		bw_reply_json_owned(req, 200, o);
}

void bw_h_appr_decisions(struct bw_req *req)
{
	struct target t;
	struct json_object *o = NULL;
	if (!target_of(req, &t))
		return;
	enum bw_err rc = bw_wf_tally(&req->svc, t.w.gw, t.w.sb, t.chunk, &o);
	if (rc != BW_OK)
		bw_reply_err(req, rc);
	else
		bw_reply_json_owned(req, 200, o);
}

/* ---- votes and decisions ----------------------------------------------------------------- */

/* Looks up the sandbox's workflow: *wf_found tells whether there is one. With one, also checks
 * that the gateway knows the chunk. False after a response was sent. */
static bool workflow_of(struct bw_req *req, const struct target *t, bool *wf_found)
{
	struct bw_workflow wf;
	enum bw_err rc = bw_wf_get(&req->svc, t->w.gw, t->w.sb, &wf);
	*wf_found = rc == BW_OK;
	if (rc != BW_OK && rc != BW_ENOTFOUND) {
		bw_reply_err(req, rc);
		return false;
	}
	if (!*wf_found || t->chunk == NULL)
		return true;
	bool found = false;
	struct bw_gw_result r;
	rc = bw_appr_chunk_exists(&req->svc, &t->w, t->chunk, &found, &r);
	if (!call_ok(req, t, rc, &r))
		return false;
	if (!found) {
		bw_reply_problem(req, 404, NULL, "Chunk '%s' not found in sandbox '%s'", t->chunk,
				 t->w.sb);
		return false;
	}
	return true;
}

/* Replies for the verdicts that end a vote without a decision; false when it did not. */
static bool reply_vote_refusal(struct bw_req *req, const struct target *t, const struct bw_vote *v)
{
	struct bw_workflow wf;
	switch (v->verdict) {
	case BW_VOTE_INELIGIBLE:
		if (bw_wf_get(&req->svc, t->w.gw, t->w.sb, &wf) != BW_OK)
			wf.roles_json = "[]";
		bw_reply_problem(req, 403, NULL, "Role '%s' not permitted (required: %s)",
				 req->actor.role, wf.roles_json);
		return true;
	case BW_VOTE_DUPLICATE:
		bw_reply_problem(req, 409, NULL, "Actor '%s' has already voted on chunk %s",
				 req->actor.name, t->chunk);
		return true;
	case BW_VOTE_BUSY:
		bw_reply_problem(req, 409, NULL,
				 "Chunk %s is being approved by another request; try again",
				 t->chunk);
		return true;
	case BW_VOTE_DECIDED:
		bw_reply_problem(req, 409, NULL, "Chunk %s was already approved by quorum",
				 t->chunk);
		return true;
	default:
		return false;
	}
}

/* 202, plain JSON (not a problem): the vote counted, quorum not reached. */
static void reply_pending(struct bw_req *req, const struct bw_vote *v)
{
	struct json_object *o = json_object_new_object();
	if (o != NULL) {
		json_object_object_add(o, "status", json_object_new_string("pending"));
		json_object_object_add(o, "votes", json_object_new_int(v->votes));
		json_object_object_add(o, "needed", json_object_new_int(v->needed));
		json_object_object_add(o, "decisions", json_object_get(v->decisions));
		json_object_object_add(o, "escalated", json_object_new_boolean(v->escalated));
	}
	bw_reply_json_owned(req, 202, o);
}

void bw_h_appr_approve(struct bw_req *req)
{
	struct target t;
	struct bw_vote v;
	struct bw_gw_result r;
	struct bw_appr_version ver = {0, ""};
	bool wait = false, has_wf = false;
	int timeout_s = WAIT_LIMIT_S;
	if (!target_of(req, &t) || !policy_guard(req, &t) || !wait_params(req, &wait, &timeout_s))
		return;
	if (!workflow_of(req, &t, &has_wf))
		return;
	const struct bw_vote *quorum = NULL;
	if (has_wf) {
		enum bw_err rc = bw_wf_vote(&req->svc, &req->actor, t.w.gw, t.w.sb, t.chunk,
					    "approve", NULL, &v);
		if (rc == BW_ENOTFOUND) /* deleted since: decide without it */
			has_wf = false;
		else if (rc != BW_OK) {
			bw_reply_err(req, rc);
			return;
		} else if (reply_vote_refusal(req, &t, &v)) {
			return;
		} else if (v.verdict == BW_VOTE_RECORDED) {
			reply_pending(req, &v);
			return;
		} else {
			quorum = &v;
		}
	}
	enum bw_err rc = bw_appr_approve(&req->svc, &req->actor, &t.w, t.chunk, quorum, &ver, &r);
	if (!call_ok(req, &t, rc, &r))
		return;
	reply_after_wait(req, &t, wait, timeout_s, ver.version, version_json(&ver));
}

/* Optional body {reason: str <= 1000}; false after replying 422. */
static bool reject_reason(struct bw_req *req, const char **reason)
{
	struct bw_verrs v;
	bool present = false;
	*reason = "";
	if (req->json == NULL)
		return true;
	if (!bw_body_require_object(req, &v))
		return false;
	bw_body_string(req->json, "reason", BW_NULLABLE, &v, reason, &present);
	if (*reason == NULL)
		*reason = "";
	if (!bw_verrs_any(&v) && strlen(*reason) > REASON_MAX * 4)
		bw_verrs_add(&v, "string_too_long", "reason",
			     "String should have at most 1000 characters");
	if (!bw_verrs_any(&v)) {
		size_t chars = 0;
		for (const char *p = *reason; *p; p++)
			chars += ((unsigned char)*p & 0xC0) != 0x80;
		if (chars > REASON_MAX)
			bw_verrs_add(&v, "string_too_long", "reason",
				     "String should have at most 1000 characters");
	}
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return false;
	}
	return true;
}

void bw_h_appr_reject(struct bw_req *req)
{
	struct target t;
	struct bw_vote v;
	struct bw_gw_result r;
	const char *reason = "";
	bool has_wf = false;
	if (!target_of(req, &t) || !reject_reason(req, &reason) || !workflow_of(req, &t, &has_wf))
		return;
	if (has_wf) {
		enum bw_err rc = bw_wf_vote(&req->svc, &req->actor, t.w.gw, t.w.sb, t.chunk,
					    "reject", reason[0] != '\0' ? reason : NULL, &v);
		if (rc == BW_ENOTFOUND)
			has_wf = false;
		else if (rc != BW_OK) {
			bw_reply_err(req, rc);
			return;
		} else if (reply_vote_refusal(req, &t, &v)) {
			return;
		}
	}
	enum bw_err rc = bw_appr_reject(&req->svc, &req->actor, &t.w, t.chunk, reason, has_wf, &r);
	if (!call_ok(req, &t, rc, &r))
		return;
	struct json_object *o = json_object_new_object();
	if (o != NULL)
		json_object_object_add(o, "status", json_object_new_string("rejected"));
	bw_reply_json_owned(req, 200, o);
}

void bw_h_appr_approve_all(struct bw_req *req)
{
	struct target t;
	struct bw_verrs v;
	struct bw_gw_result r;
	struct bw_appr_bulk bulk = {{0, ""}, 0, 0};
	bool wait = false, has_wf = false, present = false;
	struct json_object *flag = NULL;
	int timeout_s = WAIT_LIMIT_S;
	if (!target_of(req, &t) || !policy_guard(req, &t) || !wait_params(req, &wait, &timeout_s))
		return;
	if (req->json != NULL) {
		if (!bw_body_require_object(req, &v))
			return;
		present = bw_json_member(req->json, "include_security_flagged", &flag);
		if (present && !json_object_is_type(flag, json_type_boolean)) {
			bw_verrs_add(&v, "bool_type", "include_security_flagged",
				     "Input should be a valid boolean");
			bw_reply_invalid(req, v.list);
			return;
		}
	}
	if (!workflow_of(req, &t, &has_wf))
		return;
	if (has_wf && req->role < BW_ROLE_ADMIN) {
		bw_reply_problem(req, 403, NULL,
				 "Bulk approve-all is disabled under an active approval workflow; "
				 "admin role required to override.");
		return;
	}
	bool include = present && json_object_get_boolean(flag);
	enum bw_err rc = bw_appr_approve_all(&req->svc, &req->actor, &t.w, include, &bulk, &r);
	if (!call_ok(req, &t, rc, &r))
		return;
	struct json_object *o = version_json(&bulk.v);
	if (o != NULL) {
		json_object_object_add(o, "chunks_approved", json_object_new_int64(bulk.approved));
		json_object_object_add(o, "chunks_skipped", json_object_new_int64(bulk.skipped));
	}
	reply_after_wait(req, &t, wait, timeout_s, bulk.v.version, o);
}

/* What is wrong with a proposed rule beyond its types, or NULL: a port outside 0..65535, or a
 * host "*.<label>" / "**.<label>" that would open a whole top-level domain. */
static const char *rule_problem(struct bw_req *req,
				const Openshell__Sandbox__V1__NetworkPolicyRule *rule)
{
	for (size_t i = 0; i < rule->n_endpoints; i++) {
		const Openshell__Sandbox__V1__NetworkEndpoint *e = rule->endpoints[i];
		bool bad_port = e->port > 65535;
		for (size_t j = 0; j < e->n_ports; j++)
			bad_port = bad_port || e->ports[j] == 0 || e->ports[j] > 65535;
		if (bad_port)
			return "Invalid proposed_rule: ports must be in 1..65535";
		const char *h = e->host;
		if (h == NULL)
			continue;
		const char *rest = strncmp(h, "**.", 3) == 0  ? h + 3
				   : strncmp(h, "*.", 2) == 0 ? h + 2
							      : NULL;
		if (rest != NULL && strchr(rest, '.') == NULL)
			return bw_arena_printf(
			    req->arena,
			    "host pattern '%s' wildcards at the TLD level; use a "
			    "more specific suffix like '*.example.com'",
			    h);
	}
	return NULL;
}

void bw_h_appr_edit(struct bw_req *req)
{
	struct target t;
	struct bw_verrs v;
	struct bw_gw_result r;
	struct json_object *rule_json = NULL;
	bool present = false;
	const char *why = NULL;
	if (!target_of(req, &t) || !policy_guard(req, &t) || !bw_body_require_object(req, &v))
		return;
	bw_body_object(req->json, "proposed_rule", BW_REQUIRED, &v, &rule_json, &present);
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	ProtobufCMessage *rule = bw_pbjson_to(
	    &openshell__sandbox__v1__network_policy_rule__descriptor, rule_json, req->arena, &why);
	if (rule == NULL) {
		bw_reply_problem(req, 400, NULL, "Invalid proposed_rule: %s", why);
		return;
	}
	const char *bad =
	    rule_problem(req, (const Openshell__Sandbox__V1__NetworkPolicyRule *)rule);
	if (bad != NULL) {
		bw_reply_problem(req, 400, NULL, "%s", bad);
		return;
	}
	enum bw_err rc = bw_appr_edit(&req->svc, &req->actor, &t.w, t.chunk, rule, &r);
	if (!call_ok(req, &t, rc, &r))
		return;
	struct json_object *o = json_object_new_object();
	if (o != NULL)
		json_object_object_add(o, "status", json_object_new_string("edited"));
	bw_reply_json_owned(req, 200, o);
}

void bw_h_appr_undo(struct bw_req *req)
{
	struct target t;
	struct bw_gw_result r;
	struct bw_appr_version ver = {0, ""};
	if (!target_of(req, &t) || !policy_guard(req, &t))
		return;
	enum bw_err rc = bw_appr_undo(&req->svc, &req->actor, &t.w, t.chunk, &ver, &r);
	if (call_ok(req, &t, rc, &r))
		bw_reply_json_owned(req, 200, version_json(&ver));
}

void bw_h_appr_clear(struct bw_req *req)
{
	struct target t;
	struct bw_gw_result r;
	long long cleared = 0;
	if (!target_of(req, &t))
		return;
	enum bw_err rc = bw_appr_clear(&req->svc, &req->actor, &t.w, &cleared, &r);
	if (!call_ok(req, &t, rc, &r))
		return;
	struct json_object *o = json_object_new_object();
	if (o != NULL) {
		json_object_object_add(o, "cleared", NULL);
		json_object_object_add(o, "chunks_cleared", json_object_new_int64(cleared));
	}
	bw_reply_json_owned(req, 200, o);
}

/* ---- workflow CRUD ----------------------------------------------------------------------- */

void bw_h_wf_get(struct bw_req *req)
{
	struct target t;
	struct bw_workflow wf;
	if (!target_of(req, &t))
		return;
	enum bw_err rc = bw_wf_get(&req->svc, t.w.gw, t.w.sb, &wf);
	if (rc == BW_ENOTFOUND)
		bw_reply_json_owned(req, 200, json_object_new_object());
	else if (rc != BW_OK)
		bw_reply_err(req, rc);
	else
		bw_reply_json_owned(req, 200, bw_wf_json(t.w.gw, t.w.sb, &wf));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* required_roles: a list of role names, deduplicated and sorted into *json; errors go to v. */
static void roles_field(struct bw_req *req, struct bw_verrs *v, const char **json)
{
	struct json_object *roles = NULL;
	*json = "[]";
	if (!bw_json_member(req->json, "required_roles", &roles) || roles == NULL)
		return;
	if (!json_object_is_type(roles, json_type_array) || json_object_array_length(roles) > 3) {
		bw_verrs_add(v, "list_type", "required_roles",
			     "Input should be a list of at most 3 roles");
		return;
	}
	const char *names[3] = {NULL, NULL, NULL};
	size_t n = 0;
	for (size_t i = 0; i < json_object_array_length(roles); i++) {
		struct json_object *r = json_object_array_get_idx(roles, i);
		const char *s =
		    json_object_is_type(r, json_type_string) ? json_object_get_string(r) : NULL;
		if (s == NULL || bw_rank_parse(s) == BW_RANK_NONE) {
			bw_verrs_add(v, "enum", "required_roles",
				     "Input should be 'viewer', 'operator' or 'admin'");
			return;
		}
		bool dup = false;
		for (size_t j = 0; j < n; j++)
			dup = dup || strcmp(names[j], s) == 0;
		if (!dup)
			names[n++] = s;
	}
	qsort(names, n, sizeof(names[0]), cmp_str);
	struct json_object *sorted = json_object_new_array();
	for (size_t i = 0; sorted != NULL && i < n; i++)
		json_object_array_add(sorted, json_object_new_string(names[i]));
	const char *s =
	    sorted != NULL ? json_object_to_json_string_ext(sorted, JSON_C_TO_STRING_PLAIN) : NULL;
	*json = s != NULL ? bw_arena_strdup(req->arena, s) : NULL;
	json_object_put(sorted);
	if (*json == NULL)
		*json = "[]";
}

static void int_field(struct bw_req *req, struct bw_verrs *v, const char *key, long long lo,
		      long long hi, bool nullable, long long *out)
{
	struct json_object *x = NULL;
	if (!bw_json_member(req->json, key, &x))
		return;
	if (x == NULL && nullable) {
		*out = 0;
		return;
	}
	if (x == NULL || !json_object_is_type(x, json_type_int) || json_object_get_int64(x) < lo ||
	    json_object_get_int64(x) > hi) {
		bw_verrs_add(v, "int_range", key,
			     bw_arena_printf(req->arena,
					     "Input should be an integer from %lld to %lld%s", lo,
					     hi, nullable ? " or null" : ""));
		return;
	}
	*out = json_object_get_int64(x);
}

void bw_h_wf_put(struct bw_req *req)
{
	struct target t;
	struct bw_verrs v;
	struct bw_gateway gw;
	struct bw_workflow in = {0}, out;
	long long approvals = 2, minutes = 0;
	struct json_object *distinct = NULL;
	if (!target_of(req, &t) || !bw_body_require_object(req, &v))
		return;
	int_field(req, &v, "required_approvals", 1, BW_WF_MAX_APPROVALS, false, &approvals);
	int_field(req, &v, "escalation_timeout_minutes", 1, BW_WF_MAX_ESCALATION_MINUTES, true,
		  &minutes);
	roles_field(req, &v, &in.roles_json);
	in.distinct_actors = true;
	if (bw_json_member(req->json, "distinct_actors", &distinct)) {
		if (!json_object_is_type(distinct, json_type_boolean))
			bw_verrs_add(&v, "bool_type", "distinct_actors",
				     "Input should be a valid boolean");
		else
			in.distinct_actors = json_object_get_boolean(distinct);
	}
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	enum bw_err rc = bw_registry_get(&req->svc, t.w.gw, &gw);
	if (rc == BW_ENOTFOUND) {
		bw_reply_problem(req, 404, NULL, "Gateway '%s' not found", t.w.gw);
		return;
	}
	in.required_approvals = (int)approvals;
	in.escalation_minutes = (int)minutes;
	if (rc == BW_OK)
		rc = bw_wf_upsert(&req->svc, &req->actor, t.w.gw, t.w.sb, &in, &out);
	if (rc != BW_OK)
		bw_reply_err(req, rc);
	else
		bw_reply_json_owned(req, 200, bw_wf_json(t.w.gw, t.w.sb, &out));
}

void bw_h_wf_delete(struct bw_req *req)
{
	struct target t;
	if (!target_of(req, &t))
		return;
	enum bw_err rc = bw_wf_delete(&req->svc, &req->actor, t.w.gw, t.w.sb);
	if (rc == BW_ENOTFOUND) {
		bw_reply_problem(req, 404, NULL, "No workflow configured");
		return;
	}
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	struct json_object *o = json_object_new_object();
	if (o != NULL)
		json_object_object_add(o, "status", json_object_new_string("deleted"));
	bw_reply_json_owned(req, 200, o);
}
