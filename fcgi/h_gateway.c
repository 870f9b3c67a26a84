/* h_gateway: the gateway registry routes (/api/gateway/...): parse and validate the request,
 * call services/registry, render GatewayResponse. Validation order follows the reference:
 * body shape and typed-field problems (422) first, then the value rules (400). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fcgi/body.h"
#include "fcgi/request.h"
#include "fcgi/routes.h"
#include "lib/crypto.h"
#include "lib/jsonu.h"
#include "services/bundle.h"
#include "services/gwclient.h"
#include "services/registry.h"
#include "services/validate.h"

#define NAME_RULE "Invalid gateway name: must match [a-zA-Z0-9][a-zA-Z0-9._-]* (max 253)"

/* Connection state comes from the stored health (any responder or the health monitor may have
 * probed): connected = the last probe is recent and the gateway answered it. */
static bool stored_connected(const struct bw_gateway *g)
{
	return g->health_fresh && strcmp(g->last_status, "unreachable") != 0 &&
	       strcmp(g->last_status, "unknown") != 0;
}

static const char *derived_status(const struct bw_gateway *g, bool connected)
{
	if (connected)
		return "connected";
	if (strcmp(g->last_status, "healthy") == 0 || strcmp(g->last_status, "degraded") == 0)
		return "unreachable";
	return "offline";
}

enum render { RENDER_LIST, RENDER_FULL, RENDER_INFO };

static struct json_object *gateway_json(const struct bw_gateway *g, enum render how)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	bool connected = stored_connected(g);
	json_object_object_add(o, "name", json_object_new_string(g->name));
	json_object_object_add(o, "endpoint", json_object_new_string(g->endpoint));
	json_object_object_add(o, "scheme", json_object_new_string(g->scheme));
	json_object_object_add(o, "auth_mode", bw_json_str_or_null(g->auth_mode));
	json_object_object_add(o, "has_ca_cert", json_object_new_boolean(g->has_ca_cert));
	json_object_object_add(o, "has_client_cert", json_object_new_boolean(g->has_client_cert));
	json_object_object_add(o, "has_client_key", json_object_new_boolean(g->has_client_key));
	json_object_object_add(o, "metadata", json_object_get(g->metadata));
	if (how != RENDER_LIST) {
		json_object_object_add(o, "status",
				       json_object_new_string(derived_status(g, connected)));
		json_object_object_add(o, "last_status", json_object_new_string(g->last_status));
		json_object_object_add(o, "connected", json_object_new_boolean(connected));
	}
	json_object_object_add(o, "description", bw_json_str_or_null(g->description));
	json_object_object_add(o, "labels", json_object_get(g->labels));
	json_object_object_add(o, "registered_at", json_object_new_string(g->registered_at));
	json_object_object_add(o, "last_seen", bw_json_str_or_null(g->last_seen));
	if (how == RENDER_LIST) {
		json_object_object_add(o, "last_status", json_object_new_string(g->last_status));
		json_object_object_add(o, "runtime", bw_json_str_or_null(g->runtime));
		json_object_object_add(o, "connected", json_object_new_boolean(connected));
		json_object_object_add(o, "status",
				       json_object_new_string(derived_status(g, connected)));
		json_object_object_add(o, "version", bw_json_str_or_null(g->version));
	} else {
		json_object_object_add(o, "configured",
				       how == RENDER_INFO ? json_object_new_boolean(1) : NULL);
		json_object_object_add(o, "version", bw_json_str_or_null(g->version));
		json_object_object_add(o, "runtime", bw_json_str_or_null(g->runtime));
	}
	json_object_object_add(o, "compatibility", bw_json_str_or_null(g->compat));
	json_object_object_add(o, "last_health", bw_json_str_or_null(g->last_health));
	return o;
}

static void reply_gateway(struct bw_req *req, int status, const struct bw_gateway *g,
			  enum render how)
{
	struct json_object *o = gateway_json(g, how);
	if (o == NULL) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	bw_reply_json(req, status, o);
	json_object_put(o);
}

/* The {name} path segment, validated; NULL after replying 400. */
static const char *path_name(struct bw_req *req)
{
	const char *name = bw_req_param(req, "name");
	if (name == NULL || !bw_valid_gateway_name(name)) {
		bw_reply_problem(req, 400, NULL, NAME_RULE);
		return NULL;
	}
	return name;
}

static void reply_not_found(struct bw_req *req, enum bw_err rc, const char *name)
{
	if (rc == BW_ENOTFOUND)
		bw_reply_problem(req, 404, NULL, "Gateway '%s' not found", name);
	else
		bw_reply_err(req, rc);
}

static void reply_list(struct bw_req *req, struct bw_label_filter *f);

void bw_h_gateway_list(struct bw_req *req)
{
	struct bw_label_filter f = {NULL, NULL, 0, NULL};
	f.keys = bw_arena_alloc(req->arena, sizeof(char *) * (req->nqp + 1));
	f.values = bw_arena_alloc(req->arena, sizeof(char *) * (req->nqp + 1));
	if (f.keys == NULL || f.values == NULL) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	for (size_t i = 0; i < req->nqp; i++) {
		if (strcmp(req->qp[i].key, "label") != 0)
			continue;
		char *k, *v;
		if (!bw_parse_label_filter(req->qp[i].value, req->arena, &k, &v)) {
			bw_reply_problem(req, 400, NULL,
					 "Invalid label filter '%s': expected key:value",
					 req->qp[i].value);
			return;
		}
		size_t j = 0; /* a repeated key keeps its last value */
		while (j < f.n && strcmp(f.keys[j], k) != 0)
			j++;
		f.keys[j] = k;
		f.values[j] = v;
		if (j == f.n)
			f.n++;
	}
	const char *runtime = bw_req_query(req, "runtime");
	if (runtime != NULL && !bw_valid_runtime(runtime, &f.runtime)) {
		bw_reply_problem(
		    req, 400, NULL,
		    "runtime '%s' is not recognised; known runtimes: docker, kubernetes, "
		    "libkrun",
		    runtime);
		return;
	}
	reply_list(req, &f);
}

/* The cache key of a filter: its pairs sorted by key, as JSON (unambiguous whatever the text). */
static const char *filter_key(struct bw_req *req, struct bw_label_filter *f)
{
	for (size_t i = 1; i < f->n; i++)
		for (size_t j = i; j > 0 && strcmp(f->keys[j - 1], f->keys[j]) > 0; j--) {
			const char *k = f->keys[j], *v = f->values[j];
			f->keys[j] = f->keys[j - 1];
			f->values[j] = f->values[j - 1];
			f->keys[j - 1] = k;
			f->values[j - 1] = v;
		}
	struct json_object *a = json_object_new_array();
	if (a == NULL)
		return NULL;
	bw_arena_defer(req->arena, bw_json_release, a);
	json_object_array_add(a, bw_json_str_or_null(f->runtime));
	for (size_t i = 0; i < f->n; i++) {
		json_object_array_add(a, json_object_new_string(f->keys[i]));
		json_object_array_add(a, json_object_new_string(f->values[i]));
	}
	return bw_json_str(a, NULL);
}

/* Lists gateways. The rendered body is cached per filter and registry generation: most list
 * calls (dashboards polling, automation) then cost no database query at all. */
static void reply_list(struct bw_req *req, struct bw_label_filter *f)
{
	uint64_t gen = 0;
	const char *key = req->cache != NULL ? filter_key(req, f) : NULL;
	bool cacheable = key != NULL && bw_registry_generation(&req->svc, &gen) == BW_OK;
	char *body = NULL;
	size_t len = 0;
	if (cacheable && bw_respcache_get(req->cache, key, gen, req->arena, &body, &len)) {
		bw_reply(req, 200, "application/json", body, len);
		return;
	}
	struct bw_gateway *items = NULL;
	size_t n = 0;
	enum bw_err rc = bw_registry_list(&req->svc, f, &items, &n);
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	if (o == NULL || arr == NULL) {
		json_object_put(o);
		json_object_put(arr);
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, gateway_json(&items[i], RENDER_LIST));
	json_object_object_add(o, "items", arr);
	json_object_object_add(o, "total", json_object_new_int64((int64_t)n));
	const char *text = bw_json_str(o, &len);
	if (cacheable)
		bw_respcache_put(req->cache, key, gen, text, len);
	bw_reply(req, 200, "application/json", text, len);
	json_object_put(o);
}

/* Checks the typed fields of a registration body (the 422 class). */
struct reg_fields {
	const char *name, *endpoint, *scheme, *auth_mode, *description;
	const char *certs[3];
	struct json_object *metadata, *labels;
};

/* Label values must be strings: a type problem (422), found before any value rule (400). */
static void check_label_types(struct json_object *labels, struct bw_verrs *v)
{
	if (labels == NULL)
		return;
	json_object_object_foreach(labels, k, val)
	{
		if (!json_object_is_type(val, json_type_string)) {
			bw_verrs_add(v, "string_type", "labels", "Label values must be strings");
			(void)k;
			return;
		}
	}
}

static const char *const cert_fields[3] = {"ca_cert", "client_cert", "client_key"};

static void read_register(struct bw_req *req, struct bw_verrs *v, struct reg_fields *f)
{
	struct json_object *b = req->json;
	bool present;
	bw_body_string(b, "name", BW_REQUIRED, v, &f->name, &present);
	bw_body_string(b, "endpoint", BW_REQUIRED, v, &f->endpoint, &present);
	bw_body_string(b, "scheme", 0, v, &f->scheme, &present);
	if (f->scheme == NULL)
		f->scheme = "https";
	else if (strcmp(f->scheme, "https") != 0 && strcmp(f->scheme, "http") != 0)
		bw_verrs_add(v, "literal_error", "scheme", "Input should be 'http' or 'https'");
	bw_body_string(b, "auth_mode", BW_NULLABLE, v, &f->auth_mode, &present);
	if (!present)
		f->auth_mode = "mtls";
	else if (f->auth_mode != NULL && strcmp(f->auth_mode, "mtls") != 0 &&
		 strcmp(f->auth_mode, "api_key") != 0 && strcmp(f->auth_mode, "none") != 0 &&
		 strcmp(f->auth_mode, "insecure") != 0)
		bw_verrs_add(v, "literal_error", "auth_mode",
			     "Input should be 'mtls', 'api_key', 'none' or 'insecure'");
	for (int i = 0; i < 3; i++)
		bw_body_string(b, cert_fields[i], BW_NULLABLE, v, &f->certs[i], &present);
	bw_body_string(b, "description", BW_NULLABLE, v, &f->description, &present);
	bw_body_object(b, "metadata", BW_NULLABLE, v, &f->metadata, &present);
	bw_body_object(b, "labels", BW_NULLABLE, v, &f->labels, &present);
	if (f->endpoint != NULL) {
		char *norm = NULL;
		const char *msg =
		    bw_check_endpoint(f->endpoint, req->svc.conf->local_mode, req->arena, &norm);
		if (msg != NULL)
			bw_verrs_add(v, "value_error", "endpoint", msg);
		f->endpoint = norm;
	}
	struct json_object *rt = NULL;
	if (f->metadata != NULL && json_object_object_get_ex(f->metadata, "runtime", &rt)) {
		const char *lower = NULL;
		if (!json_object_is_type(rt, json_type_string) ||
		    !bw_valid_runtime(json_object_get_string(rt), &lower))
			bw_verrs_add(
			    v, "value_error", "metadata",
			    "metadata.runtime must be one of: docker, kubernetes, libkrun");
		else
			json_object_object_add(f->metadata, "runtime",
					       json_object_new_string(lower));
	}
	check_label_types(f->labels, v);
}

/* The value rules (the 400 class), in the reference's order; false after replying. */
static bool check_register(struct bw_req *req, struct reg_fields *f, struct bw_gateway_new *in)
{
	if (!bw_valid_gateway_name(f->name)) {
		bw_reply_problem(req, 400, NULL, NAME_RULE);
		return false;
	}
	struct bw_blob *blobs[3] = {&in->ca_cert, &in->client_cert, &in->client_key};
	for (int i = 0; i < 3; i++) {
		if (f->certs[i] == NULL)
			continue;
		uint8_t *raw = NULL;
		size_t len = 0;
		if (bw_base64_decode_lenient(f->certs[i], strlen(f->certs[i]), req->arena, &raw,
					     &len) != BW_OK) {
			bw_reply_problem(
			    req, 400, NULL,
			    "Invalid base64 in certificate field: %s: incorrect padding",
			    cert_fields[i]);
			return false;
		}
		if (len > BW_MAX_CERT_BYTES) {
			bw_reply_problem(req, 400, NULL, "%s exceeds maximum size of %d bytes",
					 cert_fields[i], BW_MAX_CERT_BYTES);
			return false;
		}
		blobs[i]->p = raw;
		blobs[i]->len = len;
	}
	const char *msg = NULL;
	bool type_error;
	char why[256];
	if (f->description != NULL)
		msg = bw_check_description(f->description, strlen(f->description));
	if (msg == NULL && f->labels != NULL)
		msg = bw_check_labels(f->labels, req->arena, &type_error);
	if (msg == NULL && f->metadata != NULL &&
	    bw_json_pylen(f->metadata) > BW_MAX_METADATA_BYTES)
		msg = "metadata exceeds maximum size of 16384 bytes";
	if (msg == NULL && bw_bundle_check((struct bw_pem){in->ca_cert.p, in->ca_cert.len},
					   (struct bw_pem){in->client_cert.p, in->client_cert.len},
					   (struct bw_pem){in->client_key.p, in->client_key.len},
					   why, sizeof(why)) != BW_OK)
		msg = why[0] != '\0' ? why : "certificate bundle could not be checked";
	if (msg != NULL) {
		bw_reply_problem(req, 400, NULL, "%s", msg);
		return false;
	}
	in->name = f->name;
	in->endpoint = f->endpoint;
	in->scheme = f->scheme;
	in->auth_mode = f->auth_mode;
	in->description = f->description;
	in->metadata = f->metadata;
	in->labels = f->labels;
	return true;
}

static bool body_is_object(struct bw_req *req)
{
	if (json_object_is_type(req->json, json_type_object))
		return true;
	struct bw_verrs v;
	if (bw_verrs_init(&v, req->arena)) {
		bw_verrs_add(&v, "model_attributes_type", NULL,
			     "Input should be a valid dictionary");
		bw_reply_invalid(req, v.list);
	} else {
		bw_reply_err(req, BW_ENOMEM);
	}
	return false;
}

void bw_h_gateway_register(struct bw_req *req)
{
	struct bw_verrs v;
	struct reg_fields f;
	struct bw_gateway_new in;
	struct bw_gateway out;
	memset(&f, 0, sizeof(f));
	memset(&in, 0, sizeof(in));
	if (!body_is_object(req))
		return;
	if (!bw_verrs_init(&v, req->arena)) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	read_register(req, &v, &f);
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	if (!check_register(req, &f, &in))
		return;
	enum bw_err rc = bw_registry_register(&req->svc, &req->actor, &in, &out);
	if (rc == BW_ECONFLICT) {
		bw_reply_problem(req, 409, NULL, "Gateway '%s' is already registered", in.name);
		return;
	}
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	reply_gateway(req, 201, &out, RENDER_FULL);
}

void bw_h_gateway_info(struct bw_req *req)
{
	struct bw_gateway g;
	const char *name = path_name(req);
	if (name == NULL)
		return;
	enum bw_err rc = bw_registry_get(&req->svc, name, &g);
	if (rc != BW_OK) {
		reply_not_found(req, rc, name);
		return;
	}
	reply_gateway(req, 200, &g, RENDER_INFO);
}

void bw_h_gateway_patch(struct bw_req *req)
{
	struct bw_verrs v;
	struct bw_gateway_patch p;
	struct bw_gateway g;
	memset(&p, 0, sizeof(p));
	if (!body_is_object(req))
		return;
	if (!bw_verrs_init(&v, req->arena)) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	bw_body_string(req->json, "description", BW_NULLABLE, &v, &p.description,
		       &p.set_description);
	bw_body_object(req->json, "labels", BW_NULLABLE, &v, &p.labels, &p.set_labels);
	bool type_error = false;
	const char *msg = NULL;
	check_label_types(p.labels, &v);
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	const char *name = path_name(req);
	if (name == NULL)
		return;
	if (!p.set_description && !p.set_labels) {
		bw_reply_problem(req, 400, NULL, "No fields to update");
		return;
	}
	if (p.description != NULL)
		msg = bw_check_description(p.description, strlen(p.description));
	if (msg == NULL && p.labels != NULL)
		msg = bw_check_labels(p.labels, req->arena, &type_error);
	if (msg != NULL) {
		bw_reply_problem(req, 400, NULL, "%s", msg);
		return;
	}
	enum bw_err rc = bw_registry_update_meta(&req->svc, &req->actor, name, &p, &g);
	if (rc != BW_OK) {
		reply_not_found(req, rc, name);
		return;
	}
	reply_gateway(req, 200, &g, RENDER_FULL);
}

void bw_h_gateway_delete(struct bw_req *req)
{
	const char *name = path_name(req);
	if (name == NULL)
		return;
	enum bw_err rc = bw_registry_delete(&req->svc, &req->actor, name);
	if (rc != BW_OK) {
		reply_not_found(req, rc, name);
		return;
	}
	bw_gw_forget(name);
	struct json_object *o = json_object_new_object();
	if (o == NULL) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	json_object_object_add(o, "success", json_object_new_boolean(1));
	json_object_object_add(o, "name", json_object_new_string(name));
	bw_reply_json(req, 200, o);
	json_object_put(o);
}
