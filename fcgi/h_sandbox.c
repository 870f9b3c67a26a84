/* h_sandbox: the sandbox routes (/api/gateways/{gw}/sandboxes...): list, get, PATCH metadata,
 * delete (synchronous), and the two that start operations — create and exec — which validate
 * everything here, store the request (environment maps sealed) and answer 202; the worker does
 * the rest (worker/opexec). Unlike the reference, {name} path segments are held to the sandbox
 * name rule too, so no hostile name ever reaches a gateway or an operation row. */
#include "config.h"

#include <string.h>

#include "fcgi/body.h"
#include "fcgi/gwreply.h"
#include "fcgi/lro.h"
#include "lib/jsonu.h"
#include "fcgi/request.h"
#include "fcgi/routes.h"
#include "lib/crypto.h"
#include "lib/utf8.h"
#include "services/catalog.h"
#include "services/operations.h"
#include "services/registry.h"
#include "services/sandboxes.h"
#include "services/shellsplit.h"
#include "services/validate.h"

#define MAX_IMAGE 512
#define MAX_LIST 20
#define MAX_ENV 100
#define MAX_ENV_KEY 256
#define MAX_ENV_VALUE 8192
#define MAX_WORKDIR 4096
#define MAX_TIMEOUT 3600

static size_t cps(const char *s)
{
	return bw_utf8_count(s, strlen(s));
}

/* The {name} segment; NULL after replying 400. */
static const char *sandbox_param(struct bw_req *req)
{
	return bw_gwreply_name(req, "name", "sandbox");
}

static bool labels_match(struct json_object *rec, char **keys, char **vals, size_t n)
{
	struct json_object *labels = NULL, *v = NULL;
	json_object_object_get_ex(rec, "labels", &labels);
	for (size_t i = 0; i < n; i++) {
		if (labels == NULL || !json_object_object_get_ex(labels, keys[i], &v) ||
		    strcmp(json_object_get_string(v), vals[i]) != 0)
			return false;
	}
	return true;
}

void bw_h_sandbox_list(struct bw_req *req)
{
	long long limit = 100, offset = 0;
	const char *gw = bw_req_param(req, "gw");
	struct bw_verrs v;
	if (!bw_verrs_init(&v, req->arena)) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	bw_query_int(req, &v, "limit", 1, 1000, &limit);
	bw_query_int(req, &v, "offset", 0, 4294967295LL, &offset);
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	char **keys = bw_arena_zalloc(req->arena, (req->nqp + 1) * sizeof(char *));
	char **vals = bw_arena_zalloc(req->arena, (req->nqp + 1) * sizeof(char *));
	size_t nf = 0;
	if (keys == NULL || vals == NULL) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	for (size_t i = 0; i < req->nqp; i++) {
		if (strcmp(req->qp[i].key, "label") != 0)
			continue;
		if (!bw_parse_label_filter(req->qp[i].value, req->arena, &keys[nf], &vals[nf])) {
			bw_reply_problem(req, 400, NULL,
					 "Invalid label filter '%s': expected key:value",
					 req->qp[i].value);
			return;
		}
		nf++;
	}
	struct json_object *items = NULL;
	struct bw_gw_result res;
	enum bw_err rc =
	    bw_sandbox_list(&req->svc, gw, (unsigned)limit, (unsigned)offset, &items, &res);
	if (rc != BW_OK || res.st != BW_GW_OK) {
		bw_lro_reply_gw(req, gw, rc, &res);
		return;
	}
	struct json_object *kept = json_object_new_array();
	for (size_t i = 0; kept != NULL && i < json_object_array_length(items); i++) {
		struct json_object *rec = json_object_array_get_idx(items, i);
		if (labels_match(rec, keys, vals, nf))
			json_object_array_add(kept, json_object_get(rec));
	}
	json_object_put(items);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "items", kept);
	json_object_object_add(o, "total", NULL);
	bw_reply_json_owned(req, 200, o);
}

void bw_h_sandbox_get(struct bw_req *req)
{
	const char *gw = bw_req_param(req, "gw"), *name = sandbox_param(req);
	struct json_object *rec = NULL;
	struct bw_gw_result res;
	if (name == NULL)
		return;
	enum bw_err rc = bw_sandbox_get(&req->svc, gw, name, &rec, NULL, &res);
	if (rc != BW_OK || res.st != BW_GW_OK) {
		bw_lro_reply_gw(req, gw, rc, &res);
		return;
	}
	bw_reply_json_owned(req, 200, rec);
}

/* description and labels of a create or PATCH body; false after replying. */
static bool meta_fields(struct bw_req *req, struct bw_verrs *v, const char **desc,
			struct json_object **labels)
{
	bool present = false, type_error = false;
	bw_body_string(req->json, "description", BW_NULLABLE, v, desc, &present);
	bw_body_object(req->json, "labels", BW_NULLABLE, v, labels, &present);
	if (bw_verrs_any(v)) {
		bw_reply_invalid(req, v->list);
		return false;
	}
	const char *msg = *desc ? bw_check_description(*desc, strlen(*desc)) : NULL;
	if (msg == NULL && *labels != NULL)
		msg = bw_check_labels(*labels, req->arena, &type_error);
	if (msg != NULL) {
		if (type_error)
			bw_verrs_add(v, "string_type", "labels", msg);
		if (type_error)
			bw_reply_invalid(req, v->list);
		else
			bw_reply_problem(req, 400, NULL, "%s", msg);
		return false;
	}
	return true;
}

void bw_h_sandbox_patch(struct bw_req *req)
{
	struct bw_verrs v;
	const char *desc = NULL;
	struct json_object *labels = NULL, *rec = NULL;
	struct bw_gw_result res;
	const char *gw = bw_req_param(req, "gw"), *name = sandbox_param(req);
	if (name == NULL || !bw_body_require_object(req, &v) ||
	    !meta_fields(req, &v, &desc, &labels))
		return;
	enum bw_err rc =
	    bw_sandbox_update_meta(&req->svc, &req->actor, gw, name, desc, labels, &rec, &res);
	if (rc != BW_OK || res.st != BW_GW_OK) {
		bw_lro_reply_gw(req, gw, rc, &res);
		return;
	}
	bw_reply_json_owned(req, 200, rec);
}

void bw_h_sandbox_delete(struct bw_req *req)
{
	bool deleted = false;
	struct bw_gw_result res;
	const char *gw = bw_req_param(req, "gw"), *name = sandbox_param(req);
	if (name == NULL)
		return;
	enum bw_err rc = bw_sandbox_delete(&req->svc, &req->actor, gw, name, &deleted, &res);
	if (rc != BW_OK || res.st != BW_GW_OK) {
		bw_lro_reply_gw(req, gw, rc, &res);
		return;
	}
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "deleted", json_object_new_boolean(deleted));
	bw_reply_json_owned(req, 200, o);
}

/* An array of at most max strings (each at most maxlen code points, 0 = any). */
static void string_list(struct bw_req *req, struct bw_verrs *v, const char *key, size_t max,
			size_t maxlen, struct json_object **out)
{
	struct json_object *a = NULL;
	*out = NULL;
	if (!json_object_object_get_ex(req->json, key, &a) || a == NULL)
		return;
	if (!json_object_is_type(a, json_type_array)) {
		bw_verrs_add(v, "list_type", key, "Input should be a valid list");
		return;
	}
	if (json_object_array_length(a) > max) {
		bw_verrs_add(v, "too_long", key, "List should have at most 20 items");
		return;
	}
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		if (!json_object_is_type(e, json_type_string) ||
		    (maxlen > 0 && cps(json_object_get_string(e)) > maxlen)) {
			bw_verrs_add(v, "string_type", key, "Items should be valid strings");
			return;
		}
	}
	*out = a;
}

/* A string map within the environment limits. */
static void env_map(struct bw_req *req, struct bw_verrs *v, const char *key,
		    struct json_object **out)
{
	bool present = false;
	bw_body_object(req->json, key, BW_OPTIONAL, v, out, &present);
	if (*out == NULL)
		return;
	if (json_object_object_length(*out) > MAX_ENV) {
		bw_verrs_add(v, "too_long", key, "Dictionary should have at most 100 items");
		*out = NULL;
		return;
	}
	json_object_object_foreach(*out, k, val)
	{
		if (cps(k) > MAX_ENV_KEY || k[0] == '\0' ||
		    !json_object_is_type(val, json_type_string) ||
		    cps(json_object_get_string(val)) > MAX_ENV_VALUE) {
			bw_verrs_add(v, "value_error", key,
				     "Keys must be 1..256 characters, values strings of at most "
				     "8192 characters");
			*out = NULL;
			return;
		}
	}
}

static bool bool_field(struct bw_req *req, struct bw_verrs *v, const char *key)
{
	struct json_object *b = NULL;
	if (!json_object_object_get_ex(req->json, key, &b) || b == NULL)
		return false;
	if (!json_object_is_type(b, json_type_boolean)) {
		bw_verrs_add(v, "bool_type", key, "Input should be a valid boolean");
		return false;
	}
	return json_object_get_boolean(b);
}

/* Seals env (a JSON object) for the operation row; false after replying. */
static bool seal_env(struct bw_req *req, struct json_object *env, uint8_t **sealed, size_t *n)
{
	*sealed = NULL;
	*n = 0;
	if (env == NULL || json_object_object_length(env) == 0)
		return true;
	const char *text = json_object_to_json_string_ext(env, JSON_C_TO_STRING_PLAIN);
	enum bw_err rc =
	    bw_seal(req->svc.master_key, BW_OP_SEAL_AAD, text, strlen(text), req->arena, sealed, n);
	if (rc != BW_OK)
		bw_reply_err(req, rc);
	return rc == BW_OK;
}

static void start_op(struct bw_req *req, struct bw_op_new *op)
{
	struct bw_op_ref ref;
	struct bw_gateway g;
	bool replayed = false;
	/* Unregistered gateways are "not connected" (reference), before any row is written. */
	enum bw_err rc = bw_registry_get(&req->svc, op->gateway, &g);
	if (rc != BW_OK) {
		bw_reply_gw_local(req, op->gateway, rc);
		return;
	}
	rc = bw_op_create(&req->svc, &req->actor, op, &ref, &replayed);
	if (rc == BW_ECONFLICT) {
		bw_reply_problem(req, 409, NULL, "%s '%s' operation already in progress",
				 op->resource_type, op->resource_key);
		return;
	}
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	bw_lro_reply_started(req, &ref);
}

void bw_h_sandbox_create(struct bw_req *req)
{
	struct bw_verrs v;
	bool present = false;
	const char *gw = bw_req_param(req, "gw"), *name = NULL, *image = NULL, *ll = NULL,
		   *desc = NULL, *idem = NULL;
	struct json_object *providers = NULL, *presets = NULL, *env = NULL, *labels = NULL;
	if (!bw_body_require_object(req, &v))
		return;
	bw_body_string(req->json, "name", BW_OPTIONAL, &v, &name, &present);
	bw_body_string(req->json, "image", BW_OPTIONAL, &v, &image, &present);
	bw_body_string(req->json, "log_level", BW_OPTIONAL, &v, &ll, &present);
	string_list(req, &v, "providers", MAX_LIST, 253, &providers);
	string_list(req, &v, "presets", MAX_LIST, BW_CATALOG_MAX_NAME, &presets);
	env_map(req, &v, "environment", &env);
	bool gpu = bool_field(req, &v, "gpu");
	bool skip_hooks = bool_field(req, &v, "skip_hooks");
	if (name != NULL && cps(name) > BW_MAX_NAME)
		bw_verrs_add(&v, "string_too_long", "name",
			     "String should have at most 253 characters");
	if (image != NULL && cps(image) > MAX_IMAGE)
		bw_verrs_add(&v, "string_too_long", "image",
			     "String should have at most 512 characters");
	if (ll != NULL && ll[0] != '\0' && strcmp(ll, "debug") != 0 && strcmp(ll, "info") != 0 &&
	    strcmp(ll, "warn") != 0 && strcmp(ll, "error") != 0)
		bw_verrs_add(&v, "literal_error", "log_level",
			     "Input should be '', 'debug', 'info', 'warn' or 'error'");
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	if (name != NULL && name[0] != '\0' && !bw_valid_gateway_name(name)) {
		bw_reply_problem(
		    req, 400, NULL,
		    "Invalid sandbox name: must match [a-zA-Z0-9][a-zA-Z0-9._-]* (max 253)");
		return;
	}
	if (!meta_fields(req, &v, &desc, &labels))
		return;
	if (skip_hooks && req->role < BW_ROLE_ADMIN) {
		bw_reply_problem(req, 403, NULL, "skip_hooks requires admin role");
		return;
	}
	const struct bw_catalog *cat = bw_catalog_get(req->svc.conf, BW_CATALOG_PRESETS);
	for (size_t i = 0; presets != NULL && i < json_object_array_length(presets); i++) {
		const char *p = json_object_get_string(json_object_array_get_idx(presets, i));
		if (cat == NULL || bw_catalog_item_json(cat, p, &(size_t){0}) == NULL) {
			bw_reply_problem(req, 400, NULL, "Unknown preset '%s'", p);
			return;
		}
	}
	if (!bw_lro_idempotency_key(req, &idem))
		return;
	struct json_object *stored = json_object_new_object();
	if (stored == NULL) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	bw_arena_defer(req->arena, bw_json_release, stored);
	json_object_object_add(stored, "name", json_object_new_string(name ? name : ""));
	json_object_object_add(stored, "image", json_object_new_string(image ? image : ""));
	json_object_object_add(stored, "log_level", json_object_new_string(ll ? ll : ""));
	json_object_object_add(stored, "gpu", json_object_new_boolean(gpu));
	json_object_object_add(stored, "providers",
			       providers ? json_object_get(providers) : json_object_new_array());
	json_object_object_add(stored, "presets",
			       presets ? json_object_get(presets) : json_object_new_array());
	if (desc != NULL)
		json_object_object_add(stored, "description", json_object_new_string(desc));
	if (labels != NULL)
		json_object_object_add(stored, "labels", json_object_get(labels));
	uint8_t *sealed = NULL;
	size_t sealed_len = 0;
	if (!seal_env(req, env, &sealed, &sealed_len))
		return;
	struct bw_op_new op = {
	    "sandbox", name && name[0] ? name : "unnamed",
	    true,      gw,
	    idem,      json_object_to_json_string_ext(stored, JSON_C_TO_STRING_PLAIN),
	    sealed,    sealed_len};
	start_op(req, &op);
}

/* The command as argv: a list of strings, or a string split like a shell; NULL after
 * replying. *shown is the command as one string (for the key and the audit row). */
static struct json_object *command_argv(struct bw_req *req, struct bw_verrs *v, const char **shown)
{
	struct json_object *c = NULL;
	if (!json_object_object_get_ex(req->json, "command", &c) || c == NULL) {
		bw_verrs_add(v, "missing", "command", "Field required");
		return NULL;
	}
	struct json_object *argv = json_object_new_array();
	bw_arena_defer(req->arena, bw_json_release, argv);
	if (json_object_is_type(c, json_type_string)) {
		char **words = NULL;
		size_t n = 0;
		*shown = json_object_get_string(c);
		const char *err = bw_shell_split(*shown, req->arena, &words, &n);
		if (err != NULL) {
			bw_reply_problem(req, 400, NULL, "Invalid command syntax: %s", err);
			return NULL;
		}
		for (size_t i = 0; i < n; i++)
			json_object_array_add(argv, json_object_new_string(words[i]));
	} else if (json_object_is_type(c, json_type_array) && json_object_array_length(c) <= 1024) {
		for (size_t i = 0; i < json_object_array_length(c); i++) {
			struct json_object *e = json_object_array_get_idx(c, i);
			if (!json_object_is_type(e, json_type_string)) {
				bw_verrs_add(v, "string_type", "command",
					     "Input should be a string or a list of strings");
				return NULL;
			}
			json_object_array_add(argv, json_object_get(e));
		}
		*shown = bw_arena_strdup(req->arena, "");
		for (size_t i = 0; *shown != NULL && i < json_object_array_length(c); i++)
			*shown = bw_arena_printf(
			    req->arena, "%s%s%s", *shown, i ? " " : "",
			    json_object_get_string(json_object_array_get_idx(c, i)));
	} else {
		bw_verrs_add(v, "string_type", "command",
			     "Input should be a string or a list of strings");
		return NULL;
	}
	if (json_object_array_length(argv) == 0) {
		bw_reply_problem(req, 400, NULL, "Invalid command syntax: empty command");
		return NULL;
	}
	return argv;
}

void bw_h_sandbox_exec(struct bw_req *req)
{
	struct bw_verrs v;
	bool present = false;
	long long timeout = 0;
	const char *gw = bw_req_param(req, "gw"), *name = sandbox_param(req), *workdir = NULL,
		   *shown = "", *idem = NULL;
	struct json_object *env = NULL;
	if (name == NULL || !bw_body_require_object(req, &v))
		return;
	bw_body_string(req->json, "workdir", BW_OPTIONAL, &v, &workdir, &present);
	bw_body_int(req->json, "timeout_seconds", BW_OPTIONAL, &v, &timeout, &present);
	env_map(req, &v, "env", &env);
	bool tty = bool_field(req, &v, "tty");
	if (workdir != NULL && cps(workdir) > MAX_WORKDIR)
		bw_verrs_add(&v, "string_too_long", "workdir",
			     "String should have at most 4096 characters");
	if (timeout < 0 || timeout > MAX_TIMEOUT)
		bw_verrs_add(&v, "less_than_equal", "timeout_seconds",
			     "Input should be between 0 and 3600");
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	struct json_object *argv = command_argv(req, &v, &shown);
	if (argv == NULL) {
		if (req->status == 0)
			bw_reply_invalid(req, v.list);
		return;
	}
	if (!bw_lro_idempotency_key(req, &idem))
		return;
	struct json_object *stored = json_object_new_object();
	bw_arena_defer(req->arena, bw_json_release, stored);
	json_object_object_add(stored, "sandbox", json_object_new_string(name));
	json_object_object_add(stored, "argv", json_object_get(argv));
	json_object_object_add(stored, "command",
			       json_object_new_string_len(shown, (int)bw_utf8_prefix(shown, 200)));
	json_object_object_add(stored, "workdir", json_object_new_string(workdir ? workdir : ""));
	json_object_object_add(stored, "timeout_seconds", json_object_new_int64(timeout));
	json_object_object_add(stored, "tty", json_object_new_boolean(tty));
	uint8_t *sealed = NULL;
	size_t sealed_len = 0;
	if (!seal_env(req, env, &sealed, &sealed_len))
		return;
	const char *key =
	    bw_arena_printf(req->arena, "%s:%.*s", name, (int)bw_utf8_prefix(shown, 60), shown);
	struct bw_op_new op = {
	    "exec", key ? key : name,
	    false,  gw,
	    idem,   json_object_to_json_string_ext(stored, JSON_C_TO_STRING_PLAIN),
	    sealed, sealed_len};
	start_op(req, &op);
}
