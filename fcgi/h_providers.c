/* h_providers: /api/gateways/{gw}/providers... — the provider routes (reference §6.13) and the
 * credential refresh routes. Parses, validates (422 before any gateway call, so bad input never
 * reaches the gateway), calls services/providers, renders; credential values are read from the
 * body and handed to the service, never echoed, logged or audited. */
#include "config.h"

#include <string.h>

#include "fcgi/gwreply.h"
#include "fcgi/routes.h"
#include "lib/utf8.h"
#include "services/providers.h"
#include "services/validate.h"

#define MAX_MAP_ENTRIES 50

static void reply_static(struct bw_req *req, struct json_object *o)
{
	if (o == NULL) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	bw_reply_json(req, 200, o);
	json_object_put(o);
}

void bw_h_provider_types(struct bw_req *req)
{
	reply_static(req, bw_providers_types_json());
}

void bw_h_provider_inference_types(struct bw_req *req)
{
	reply_static(req, bw_providers_inference_json());
}

void bw_h_providers_list(struct bw_req *req)
{
	struct bw_verrs v;
	struct json_object *o = NULL;
	struct bw_gw_result r;
	const char *gw = bw_gwreply_name(req, "gw", "gateway");
	if (gw == NULL)
		return;
	if (!bw_verrs_init(&v, req->arena)) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	long long limit = 100, offset = 0;
	bw_query_int(req, &v, "limit", 1, 1000, &limit);
	bw_query_int(req, &v, "offset", 0, 1000000000, &offset);
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	enum bw_err rc =
	    bw_providers_list(&req->svc, gw, (unsigned)limit, (unsigned)offset, &o, &r);
	bw_gwreply_done(req, gw, rc, &r, 200, o);
}

void bw_h_provider_get(struct bw_req *req)
{
	struct json_object *o = NULL;
	struct bw_gw_result r;
	const char *gw = bw_gwreply_name(req, "gw", "gateway");
	const char *name = gw != NULL ? bw_gwreply_name(req, "name", "provider") : NULL;
	if (name == NULL)
		return;
	enum bw_err rc = bw_providers_get(&req->svc, gw, name, &o, &r);
	bw_gwreply_done(req, gw, rc, &r, 200, o);
}

void bw_h_provider_env(struct bw_req *req)
{
	struct json_object *o = NULL;
	struct bw_gw_result r;
	const char *gw = bw_gwreply_name(req, "gw", "gateway");
	const char *name = gw != NULL ? bw_gwreply_name(req, "name", "provider") : NULL;
	if (name == NULL)
		return;
	enum bw_err rc = bw_providers_env(&req->svc, gw, name, &o, &r);
	bw_gwreply_done(req, gw, rc, &r, 200, o);
}

/* A string of at most max code points (min 1 when required); problems go to v. */
static const char *string_field(struct json_object *body, const char *key, unsigned flags,
				size_t max, struct bw_verrs *v)
{
	const char *s = NULL;
	bool present = false;
	bw_body_string(body, key, flags, v, &s, &present);
	if (s == NULL)
		return NULL;
	size_t n = strlen(s);
	if ((flags & BW_REQUIRED) && n == 0) {
		bw_verrs_add(v, "string_too_short", key, "String should have at least 1 character");
		return NULL;
	}
	if (bw_utf8_count(s, n) > max) {
		bw_verrs_add(v, "string_too_long", key, "String is too long");
		return NULL;
	}
	return s;
}

/* The known type (NULL + a 422 entry otherwise); "" allowed when allow_empty. */
static const char *type_field(struct json_object *body, unsigned flags, bool allow_empty,
			      struct bw_verrs *v)
{
	const char *type = string_field(body, "type", flags, 100, v);
	if (type == NULL || (allow_empty && type[0] == '\0'))
		return type;
	if (bw_provider_type_find(type) == NULL) {
		bw_verrs_add(v, "enum", "type",
			     "Unknown provider type (GET /api/gateways/{gw}/providers/types lists "
			     "the known types)");
		return NULL;
	}
	return type;
}

static void maps(struct json_object *body, struct bw_verrs *v, struct bw_provider_in *in)
{
	bool present;
	bw_body_object(body, "credentials", BW_OPTIONAL | BW_NULLABLE, v, &in->credentials,
		       &present);
	bw_body_object(body, "config", BW_OPTIONAL | BW_NULLABLE, v, &in->config, &present);
	bw_gwreply_string_map(v, "credentials", in->credentials, MAX_MAP_ENTRIES, true);
	bw_gwreply_string_map(v, "config", in->config, MAX_MAP_ENTRIES, false);
}

void bw_h_provider_create(struct bw_req *req)
{
	struct bw_verrs v;
	struct bw_provider_in in = {0};
	struct json_object *o = NULL;
	struct bw_gw_result r;
	const char *gw = bw_gwreply_name(req, "gw", "gateway");
	if (gw == NULL || !bw_body_require_object(req, &v))
		return;
	in.name = string_field(req->json, "name", BW_REQUIRED, BW_MAX_NAME, &v);
	if (in.name != NULL && !bw_valid_gateway_name(in.name)) {
		bw_verrs_add(&v, "string_pattern_mismatch", "name",
			     "String should match pattern '^[a-zA-Z0-9][a-zA-Z0-9._-]*$'");
		in.name = NULL;
	}
	in.type = type_field(req->json, BW_REQUIRED, false, &v);
	in.api_key = string_field(req->json, "api_key", BW_OPTIONAL, 512, &v);
	maps(req->json, &v, &in);
	if (!bw_verrs_any(&v) && (in.api_key == NULL || in.api_key[0] == '\0') &&
	    (in.credentials == NULL || json_object_object_length(in.credentials) == 0))
		bw_verrs_add(&v, "missing", "api_key",
			     "A credential is required: api_key or credentials");
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	enum bw_err rc = bw_providers_create(&req->svc, &req->actor, gw, &in, &o, &r);
	bw_gwreply_done(req, gw, rc, &r, 201, o);
}

void bw_h_provider_update(struct bw_req *req)
{
	struct bw_verrs v;
	struct bw_provider_in in = {0};
	struct json_object *o = NULL;
	struct bw_gw_result r;
	const char *gw = bw_gwreply_name(req, "gw", "gateway");
	in.name = gw != NULL ? bw_gwreply_name(req, "name", "provider") : NULL;
	if (in.name == NULL || !bw_body_require_object(req, &v))
		return;
	in.type = type_field(req->json, BW_OPTIONAL, true, &v);
	maps(req->json, &v, &in);
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	enum bw_err rc = bw_providers_update(&req->svc, &req->actor, gw, &in, &o, &r);
	bw_gwreply_done(req, gw, rc, &r, 200, o);
}

static struct json_object *bool_object(const char *key, bool value)
{
	struct json_object *o = json_object_new_object();
	if (o != NULL)
		json_object_object_add(o, key, json_object_new_boolean(value));
	return o;
}

void bw_h_provider_delete(struct bw_req *req)
{
	struct bw_gw_result r;
	bool deleted = false;
	const char *gw = bw_gwreply_name(req, "gw", "gateway");
	const char *name = gw != NULL ? bw_gwreply_name(req, "name", "provider") : NULL;
	if (name == NULL)
		return;
	enum bw_err rc = bw_providers_delete(&req->svc, &req->actor, gw, name, &deleted, &r);
	bw_gwreply_done(req, gw, rc, &r, 200,
			rc == BW_OK && r.st == BW_GW_OK ? bool_object("deleted", deleted) : NULL);
}

/* The {key} path segment of the refresh routes: an env-var name; NULL after replying 400. */
static const char *key_param(struct bw_req *req)
{
	const char *key = bw_req_param(req, "key");
	if (key == NULL || !bw_gwreply_env_key(key)) {
		bw_reply_problem(
		    req, 400, NULL,
		    "Invalid credential key: must match [A-Za-z_][A-Za-z0-9_]* (max 256)");
		return NULL;
	}
	return key;
}

void bw_h_provider_refresh_status(struct bw_req *req)
{
	struct json_object *o = NULL;
	struct bw_gw_result r;
	const char *gw = bw_gwreply_name(req, "gw", "gateway");
	const char *name = gw != NULL ? bw_gwreply_name(req, "name", "provider") : NULL;
	if (name == NULL)
		return;
	const char *key = bw_req_query(req, "credential_key");
	if (key != NULL && key[0] != '\0' && !bw_gwreply_env_key(key)) {
		struct bw_verrs v;
		if (!bw_verrs_init(&v, req->arena)) {
			bw_reply_err(req, BW_ENOMEM);
			return;
		}
		bw_verrs_query(&v, "string_pattern_mismatch", "credential_key",
			       "String should match pattern '^[A-Za-z_][A-Za-z0-9_]*$'", NULL);
		bw_reply_invalid(req, v.list);
		return;
	}
	enum bw_err rc =
	    bw_providers_refresh_status(&req->svc, gw, name, key != NULL ? key : "", &o, &r);
	bw_gwreply_done(req, gw, rc, &r, 200, o);
}

/* secret_material_keys: at most 50 strings of 1..256 characters. */
static struct json_object *secret_keys(struct json_object *body, struct bw_verrs *v)
{
	struct json_object *a = NULL;
	if (!json_object_object_get_ex(body, "secret_material_keys", &a) || a == NULL)
		return NULL;
	if (!json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) > MAX_MAP_ENTRIES) {
		bw_verrs_add(v, "list_type", "secret_material_keys",
			     "Input should be a list of at most 50 strings");
		return NULL;
	}
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *s = json_object_array_get_idx(a, i);
		size_t n = s != NULL ? (size_t)json_object_get_string_len(s) : 0;
		if (!json_object_is_type(s, json_type_string) || n == 0 || n > 256 ||
		    strlen(json_object_get_string(s)) != n) {
			bw_verrs_add(v, "string_type", "secret_material_keys",
				     "Items should be strings of 1 to 256 characters");
			return NULL;
		}
	}
	return a;
}

void bw_h_provider_refresh_configure(struct bw_req *req)
{
	struct bw_verrs v;
	struct bw_refresh_in in = {0};
	struct json_object *o = NULL;
	struct bw_gw_result r;
	bool present = false;
	const char *gw = bw_gwreply_name(req, "gw", "gateway");
	in.name = gw != NULL ? bw_gwreply_name(req, "name", "provider") : NULL;
	in.key = in.name != NULL ? key_param(req) : NULL;
	if (in.key == NULL || !bw_body_require_object(req, &v))
		return;
	const char *strategy = string_field(req->json, "strategy", BW_REQUIRED, 64, &v);
	in.strategy = strategy != NULL ? bw_providers_strategy(strategy) : 0;
	if (strategy != NULL && in.strategy < 0)
		bw_verrs_add(&v, "enum", "strategy",
			     "Input should be 'static', 'external', 'oauth2_refresh_token', "
			     "'oauth2_client_credentials', 'google_service_account_jwt' or "
			     "'aws_sts_assume_role'");
	bw_body_object(req->json, "material", BW_OPTIONAL | BW_NULLABLE, &v, &in.material,
		       &present);
	bw_gwreply_string_map(&v, "material", in.material, MAX_MAP_ENTRIES, false);
	in.secret_keys = secret_keys(req->json, &v);
	bw_body_int(req->json, "expires_at_ms", BW_OPTIONAL, &v, &in.expires_at_ms,
		    &in.has_expires);
	if (in.has_expires && in.expires_at_ms < 0)
		bw_verrs_add(&v, "greater_than_equal", "expires_at_ms",
			     "Input should be greater than or equal to 0");
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	enum bw_err rc = bw_providers_refresh_configure(&req->svc, &req->actor, gw, &in, &o, &r);
	bw_gwreply_done(req, gw, rc, &r, 200, o);
}

void bw_h_provider_refresh_rotate(struct bw_req *req)
{
	struct json_object *o = NULL;
	struct bw_gw_result r;
	const char *gw = bw_gwreply_name(req, "gw", "gateway");
	const char *name = gw != NULL ? bw_gwreply_name(req, "name", "provider") : NULL;
	const char *key = name != NULL ? key_param(req) : NULL;
	if (key == NULL)
		return;
	enum bw_err rc = bw_providers_refresh_rotate(&req->svc, &req->actor, gw, name, key, &o, &r);
	bw_gwreply_done(req, gw, rc, &r, 200, o);
}

void bw_h_provider_refresh_delete(struct bw_req *req)
{
	struct bw_gw_result r;
	bool deleted = false;
	const char *gw = bw_gwreply_name(req, "gw", "gateway");
	const char *name = gw != NULL ? bw_gwreply_name(req, "name", "provider") : NULL;
	const char *key = name != NULL ? key_param(req) : NULL;
	if (key == NULL)
		return;
	enum bw_err rc =
	    bw_providers_refresh_delete(&req->svc, &req->actor, gw, name, key, &deleted, &r);
	bw_gwreply_done(req, gw, rc, &r, 200,
			rc == BW_OK && r.st == BW_GW_OK ? bool_object("deleted", deleted) : NULL);
}
