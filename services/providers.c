/* providers: see providers.h. */
#include "config.h"

#include <string.h>

#include "datamodel.pb-c.h"
#include "openshell.pb-c.h"
#include "services/gwcall.h"
#include "services/providers.h"

#define RPC(m) "/openshell.v1.OpenShell/" m

const struct bw_provider_type bw_provider_types[] = {
    {"anthropic", "Anthropic", "ANTHROPIC_API_KEY", "terminal"},
    {"claude", "Claude (Anthropic)", "ANTHROPIC_API_KEY", "terminal"},
    {"openai", "OpenAI", "OPENAI_API_KEY", "stars"},
    {"nvidia", "NVIDIA NIM", "NVIDIA_API_KEY", "gpu-card"},
    {"github", "GitHub", "GITHUB_TOKEN", "github"},
    {"gitlab", "GitLab", "GITLAB_TOKEN", "git"},
    {"copilot", "GitHub Copilot", "GITHUB_TOKEN", "code-square"},
    {"codex", "Codex", "OPENAI_API_KEY", "code"},
    {"opencode", "OpenCode", "OPENAI_API_KEY", "code-slash"},
    {"outlook", "Outlook", "OUTLOOK_TOKEN", "envelope"},
    {"generic", "Generic", "API_KEY", "gear"},
};
const size_t bw_provider_types_count = sizeof(bw_provider_types) / sizeof(bw_provider_types[0]);

const struct bw_provider_type *bw_provider_type_find(const char *type)
{
	for (size_t i = 0; type != NULL && i < bw_provider_types_count; i++)
		if (strcmp(bw_provider_types[i].type, type) == 0)
			return &bw_provider_types[i];
	return NULL;
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v != NULL ? v : ""));
}

struct json_object *bw_providers_types_json(void)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; a != NULL && i < bw_provider_types_count; i++) {
		struct json_object *o = json_object_new_object();
		if (o == NULL)
			break;
		add_str(o, "type", bw_provider_types[i].type);
		add_str(o, "label", bw_provider_types[i].label);
		add_str(o, "cred_key", bw_provider_types[i].cred_key);
		add_str(o, "icon", bw_provider_types[i].icon);
		json_object_array_add(a, o);
	}
	return a;
}

struct json_object *bw_providers_inference_json(void)
{
	static const char *const rows[][4] = {
	    {"nvidia", "NVIDIA NIM", "nvapi-...", "NVIDIA_API_KEY"},
	    {"anthropic", "Anthropic", "sk-ant-...", "ANTHROPIC_API_KEY"},
	    {"openai", "OpenAI", "sk-...", "OPENAI_API_KEY"},
	};
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; a != NULL && i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct json_object *o = json_object_new_object();
		if (o == NULL)
			break;
		add_str(o, "name", rows[i][0]);
		add_str(o, "label", rows[i][1]);
		add_str(o, "placeholder", rows[i][2]);
		add_str(o, "env_var", rows[i][3]);
		json_object_array_add(a, o);
	}
	return a;
}

static const char *const strategies[] = {
    "unspecified",
    "static",
    "external",
    "oauth2_refresh_token",
    "oauth2_client_credentials",
    "google_service_account_jwt",
    "aws_sts_assume_role",
};

int bw_providers_strategy(const char *name)
{
	for (size_t i = 1; name != NULL && i < sizeof(strategies) / sizeof(strategies[0]); i++)
		if (strcmp(strategies[i], name) == 0)
			return (int)i;
	return -1;
}

static const char *strategy_name(int s)
{
	if (s < 0 || (size_t)s >= sizeof(strategies) / sizeof(strategies[0]))
		return "unknown";
	return strategies[s];
}

/* Every generated map<string,string> entry has this layout. */
struct str_entry {
	ProtobufCMessage base;
	char *key;
	char *value;
};

/* Arena array of map entries for the string map obj (plus one extra pair when key != NULL and
 * obj has no such key): what a map<string,string> field of a request points at. */
static enum bw_err str_map(struct bw_svc *svc, const ProtobufCMessageDescriptor *desc,
			   struct json_object *obj, const char *key, const char *value,
			   size_t *n_out, void ***out)
{
	size_t n = obj != NULL ? (size_t)json_object_object_length(obj) : 0;
	bool extra = key != NULL && (obj == NULL || !json_object_object_get_ex(obj, key, NULL));
	struct str_entry **arr = bw_arena_alloc(svc->arena, (n + 1) * sizeof(*arr));
	struct str_entry *ents = bw_arena_alloc(svc->arena, (n + 1) * sizeof(*ents));
	if (arr == NULL || ents == NULL)
		return BW_ENOMEM;
	size_t i = 0;
	if (obj != NULL) {
		json_object_object_foreach(obj, k, v)
		{
			protobuf_c_message_init(desc, &ents[i]);
			ents[i].key = k;
			ents[i].value = (char *)json_object_get_string(v);
			arr[i] = &ents[i];
			i++;
		}
	}
	if (extra) {
		protobuf_c_message_init(desc, &ents[i]);
		ents[i].key = (char *)key;
		ents[i].value = (char *)value;
		arr[i] = &ents[i];
		i++;
	}
	*n_out = i;
	*out = (void **)arr;
	return BW_OK;
}

struct json_object *bw_provider_json(const ProtobufCMessage *msg)
{
	const Openshell__Datamodel__V1__Provider *p =
	    (const Openshell__Datamodel__V1__Provider *)msg;
	struct json_object *o = json_object_new_object();
	struct json_object *creds = json_object_new_object(), *config = json_object_new_object();
	struct json_object *exp = json_object_new_object();
	if (o == NULL || creds == NULL || config == NULL || exp == NULL) {
		json_object_put(o);
		json_object_put(creds);
		json_object_put(config);
		json_object_put(exp);
		return NULL;
	}
	const Openshell__Datamodel__V1__ObjectMeta *m = p != NULL ? p->metadata : NULL;
	add_str(o, "id", m != NULL ? m->id : "");
	add_str(o, "name", m != NULL ? m->name : "");
	add_str(o, "type", p != NULL ? p->type : "");
	/* The gateway redacts too, but what leaves Breakwater must not depend on that. */
	for (size_t i = 0; p != NULL && i < p->n_credentials; i++)
		add_str(creds, p->credentials[i]->key, BW_REDACTED);
	for (size_t i = 0; p != NULL && i < p->n_config; i++)
		add_str(config, p->config[i]->key, p->config[i]->value);
	for (size_t i = 0; p != NULL && i < p->n_credential_expires_at_ms; i++)
		json_object_object_add(
		    exp, p->credential_expires_at_ms[i]->key,
		    json_object_new_int64(p->credential_expires_at_ms[i]->value));
	json_object_object_add(o, "credentials", creds);
	json_object_object_add(o, "config", config);
	json_object_object_add(o, "credential_expires_at_ms", exp);
	return o;
}

/* *out = the rendered provider of a ProviderResponse (freed here). */
static enum bw_err provider_out(ProtobufCMessage *resp, struct json_object **out)
{
	Openshell__V1__ProviderResponse *pr = (Openshell__V1__ProviderResponse *)resp;
	*out = bw_provider_json(pr->provider != NULL ? &pr->provider->base : NULL);
	protobuf_c_message_free_unpacked(resp, NULL);
	return *out != NULL ? BW_OK : BW_ENOMEM;
}

enum bw_err bw_providers_list(struct bw_svc *svc, const char *gw, unsigned limit, unsigned offset,
			      struct json_object **out, struct bw_gw_result *res)
{
	ProtobufCMessage *resp;
	Openshell__V1__ListProvidersRequest req = OPENSHELL__V1__LIST_PROVIDERS_REQUEST__INIT;
	req.limit = limit;
	req.offset = offset;
	*out = NULL;
	enum bw_err rc =
	    bw_gwcall_unary(svc, gw, RPC("ListProviders"), &req.base,
			    &openshell__v1__list_providers_response__descriptor, true, &resp, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	Openshell__V1__ListProvidersResponse *l = (Openshell__V1__ListProvidersResponse *)resp;
	struct json_object *o = json_object_new_object(), *items = json_object_new_array();
	rc = o != NULL && items != NULL ? BW_OK : BW_ENOMEM;
	for (size_t i = 0; rc == BW_OK && i < l->n_providers; i++) {
		struct json_object *p = bw_provider_json(&l->providers[i]->base);
		if (p == NULL)
			rc = BW_ENOMEM;
		json_object_array_add(items, p);
	}
	protobuf_c_message_free_unpacked(resp, NULL);
	if (rc != BW_OK) {
		json_object_put(o);
		json_object_put(items);
		return rc;
	}
	json_object_object_add(o, "items", items);
	json_object_object_add(o, "total", NULL);
	*out = o;
	return BW_OK;
}

static enum bw_err get_provider(struct bw_svc *svc, const char *gw, const char *name,
				ProtobufCMessage **resp, struct bw_gw_result *res)
{
	Openshell__V1__GetProviderRequest req = OPENSHELL__V1__GET_PROVIDER_REQUEST__INIT;
	req.name = (char *)name;
	return bw_gwcall_unary(svc, gw, RPC("GetProvider"), &req.base,
			       &openshell__v1__provider_response__descriptor, true, resp, res);
}

enum bw_err bw_providers_get(struct bw_svc *svc, const char *gw, const char *name,
			     struct json_object **out, struct bw_gw_result *res)
{
	ProtobufCMessage *resp;
	*out = NULL;
	enum bw_err rc = get_provider(svc, gw, name, &resp, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	return provider_out(resp, out);
}

static void env_row(struct json_object *env, struct json_object *seen, const char *key,
		    const char *source)
{
	if (json_object_object_get_ex(seen, key, NULL))
		return;
	json_object_object_add(seen, key, NULL);
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return;
	add_str(o, "key", key);
	add_str(o, "source", source);
	add_str(o, "redacted_value", BW_REDACTED);
	json_object_array_add(env, o);
}

enum bw_err bw_providers_env(struct bw_svc *svc, const char *gw, const char *name,
			     struct json_object **out, struct bw_gw_result *res)
{
	ProtobufCMessage *resp;
	*out = NULL;
	enum bw_err rc = get_provider(svc, gw, name, &resp, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	const Openshell__Datamodel__V1__Provider *p =
	    ((Openshell__V1__ProviderResponse *)resp)->provider;
	struct json_object *o = json_object_new_object(), *env = json_object_new_array();
	struct json_object *seen = json_object_new_object();
	if (o == NULL || env == NULL || seen == NULL) {
		json_object_put(o);
		json_object_put(env);
		json_object_put(seen);
		protobuf_c_message_free_unpacked(resp, NULL);
		return BW_ENOMEM;
	}
	for (size_t i = 0; p != NULL && i < p->n_credentials; i++)
		env_row(env, seen, p->credentials[i]->key, "credential");
	for (size_t i = 0; p != NULL && i < p->n_config; i++)
		env_row(env, seen, p->config[i]->key, "config");
	const struct bw_provider_type *ty = bw_provider_type_find(p != NULL ? p->type : NULL);
	if (ty != NULL)
		env_row(env, seen, ty->cred_key, "type_default");
	add_str(o, "provider", p != NULL && p->metadata != NULL ? p->metadata->name : name);
	add_str(o, "type", p != NULL ? p->type : "");
	json_object_object_add(o, "env", env);
	json_object_put(seen);
	protobuf_c_message_free_unpacked(resp, NULL);
	*out = o;
	return BW_OK;
}

/* The keys of a string map as a JSON array (names only: never the values). */
static struct json_object *keys_of(struct json_object *map)
{
	struct json_object *a = json_object_new_array();
	if (a != NULL && map != NULL) {
		json_object_object_foreach(map, k, v)
		{
			(void)v;
			json_object_array_add(a, json_object_new_string(k));
		}
	}
	return a;
}

static enum bw_err audit(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
			 const char *action, const char *name, struct json_object *detail)
{
	struct bw_audit entry = {action, "provider", name, gw, detail};
	enum bw_err rc =
	    detail != NULL ? bw_gwcall_audit(svc, actor, &entry, NULL, NULL) : BW_ENOMEM;
	json_object_put(detail);
	return rc;
}

static enum bw_err write_provider(struct bw_svc *svc, const char *gw, const char *method,
				  const struct bw_provider_in *in,
				  Openshell__Datamodel__V1__Provider *p, const char *type,
				  ProtobufCMessage **resp, struct bw_gw_result *res)
{
	/* Arena memory: p (the caller's) keeps pointing at it after this returns. */
	Openshell__Datamodel__V1__ObjectMeta *meta = bw_arena_alloc(svc->arena, sizeof(*meta));
	if (meta == NULL)
		return BW_ENOMEM;
	*meta = (Openshell__Datamodel__V1__ObjectMeta)OPENSHELL__DATAMODEL__V1__OBJECT_META__INIT;
	meta->name = (char *)in->name;
	p->metadata = meta;
	p->type = (char *)type;
	const struct bw_provider_type *ty = bw_provider_type_find(type);
	const char *api_key = in->api_key != NULL && in->api_key[0] != '\0' ? in->api_key : NULL;
	enum bw_err rc = str_map(
	    svc, &openshell__datamodel__v1__provider__credentials_entry__descriptor,
	    in->credentials, api_key != NULL ? (ty != NULL ? ty->cred_key : "API_KEY") : NULL,
	    api_key, &p->n_credentials, (void ***)&p->credentials);
	if (rc == BW_OK)
		rc = str_map(svc, &openshell__datamodel__v1__provider__config_entry__descriptor,
			     in->config, NULL, NULL, &p->n_config, (void ***)&p->config);
	if (rc != BW_OK)
		return rc;
	if (strcmp(method, RPC("CreateProvider")) == 0) {
		Openshell__V1__CreateProviderRequest req =
		    OPENSHELL__V1__CREATE_PROVIDER_REQUEST__INIT;
		req.provider = p;
		return bw_gwcall_unary(svc, gw, method, &req.base,
				       &openshell__v1__provider_response__descriptor, false, resp,
				       res);
	}
	Openshell__V1__UpdateProviderRequest req = OPENSHELL__V1__UPDATE_PROVIDER_REQUEST__INIT;
	req.provider = p;
	return bw_gwcall_unary(svc, gw, method, &req.base,
			       &openshell__v1__provider_response__descriptor, false, resp, res);
}

enum bw_err bw_providers_create(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
				const struct bw_provider_in *in, struct json_object **out,
				struct bw_gw_result *res)
{
	ProtobufCMessage *resp;
	Openshell__Datamodel__V1__Provider p = OPENSHELL__DATAMODEL__V1__PROVIDER__INIT;
	*out = NULL;
	enum bw_err rc =
	    write_provider(svc, gw, RPC("CreateProvider"), in, &p, in->type, &resp, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	rc = provider_out(resp, out);
	if (rc != BW_OK)
		return rc;
	struct json_object *detail = json_object_new_object();
	if (detail != NULL) {
		add_str(detail, "type", in->type);
		json_object_object_add(detail, "credential_keys",
				       json_object_object_get(*out, "credentials") != NULL
					   ? keys_of(json_object_object_get(*out, "credentials"))
					   : NULL);
	}
	rc = audit(svc, actor, gw, "provider.create", in->name, detail);
	if (rc != BW_OK) {
		json_object_put(*out);
		*out = NULL;
	}
	return rc;
}

enum bw_err bw_providers_update(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
				const struct bw_provider_in *in, struct json_object **out,
				struct bw_gw_result *res)
{
	ProtobufCMessage *resp;
	Openshell__Datamodel__V1__Provider p = OPENSHELL__DATAMODEL__V1__PROVIDER__INIT;
	struct bw_provider_in u = *in;
	u.api_key = NULL;
	*out = NULL;
	enum bw_err rc = write_provider(svc, gw, RPC("UpdateProvider"), &u, &p,
					in->type != NULL ? in->type : "", &resp, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	rc = provider_out(resp, out);
	if (rc != BW_OK)
		return rc;
	struct json_object *detail = json_object_new_object();
	if (detail != NULL) {
		add_str(detail, "type",
			json_object_get_string(json_object_object_get(*out, "type")));
		json_object_object_add(detail, "credential_keys", keys_of(in->credentials));
		json_object_object_add(detail, "config_keys", keys_of(in->config));
	}
	rc = audit(svc, actor, gw, "provider.update", in->name, detail);
	if (rc != BW_OK) {
		json_object_put(*out);
		*out = NULL;
	}
	return rc;
}

enum bw_err bw_providers_delete(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
				const char *name, bool *deleted, struct bw_gw_result *res)
{
	ProtobufCMessage *resp;
	Openshell__V1__DeleteProviderRequest req = OPENSHELL__V1__DELETE_PROVIDER_REQUEST__INIT;
	req.name = (char *)name;
	*deleted = false;
	enum bw_err rc = bw_gwcall_unary(svc, gw, RPC("DeleteProvider"), &req.base,
					 &openshell__v1__delete_provider_response__descriptor,
					 false, &resp, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	*deleted = ((Openshell__V1__DeleteProviderResponse *)resp)->deleted;
	protobuf_c_message_free_unpacked(resp, NULL);
	if (!*deleted)
		return BW_OK;
	return audit(svc, actor, gw, "provider.delete", name, json_object_new_object());
}

static struct json_object *status_json(const Openshell__V1__ProviderCredentialRefreshStatus *s)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL || s == NULL)
		return o;
	add_str(o, "provider_name", s->provider_name);
	add_str(o, "provider_id", s->provider_id);
	add_str(o, "credential_key", s->credential_key);
	add_str(o, "strategy", strategy_name((int)s->strategy));
	add_str(o, "status", s->status);
	json_object_object_add(o, "expires_at_ms", json_object_new_int64(s->expires_at_ms));
	json_object_object_add(o, "next_refresh_at_ms",
			       json_object_new_int64(s->next_refresh_at_ms));
	json_object_object_add(o, "last_refresh_at_ms",
			       json_object_new_int64(s->last_refresh_at_ms));
	add_str(o, "last_error", s->last_error);
	return o;
}

enum bw_err bw_providers_refresh_status(struct bw_svc *svc, const char *gw, const char *name,
					const char *key, struct json_object **out,
					struct bw_gw_result *res)
{
	ProtobufCMessage *resp;
	Openshell__V1__GetProviderRefreshStatusRequest req =
	    OPENSHELL__V1__GET_PROVIDER_REFRESH_STATUS_REQUEST__INIT;
	req.provider = (char *)name;
	req.credential_key = (char *)key;
	*out = NULL;
	enum bw_err rc = bw_gwcall_unary(
	    svc, gw, RPC("GetProviderRefreshStatus"), &req.base,
	    &openshell__v1__get_provider_refresh_status_response__descriptor, true, &resp, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	Openshell__V1__GetProviderRefreshStatusResponse *r =
	    (Openshell__V1__GetProviderRefreshStatusResponse *)resp;
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	for (size_t i = 0; a != NULL && i < r->n_credentials; i++)
		json_object_array_add(a, status_json(r->credentials[i]));
	protobuf_c_message_free_unpacked(resp, NULL);
	if (o == NULL || a == NULL) {
		json_object_put(o);
		json_object_put(a);
		return BW_ENOMEM;
	}
	json_object_object_add(o, "credentials", a);
	*out = o;
	return BW_OK;
}

static enum bw_err refresh_audit(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
				 const char *action, const char *name, const char *key,
				 const char *strategy)
{
	struct json_object *detail = json_object_new_object();
	if (detail != NULL) {
		add_str(detail, "credential_key", key);
		if (strategy != NULL)
			add_str(detail, "strategy", strategy);
	}
	return audit(svc, actor, gw, action, name, detail);
}

/* *out = the status of a Configure/RotateProviderCredentialResponse (same layout), then the
 * audit row; resp is freed here. */
static enum bw_err refresh_done(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
				const char *action, const char *name, const char *key,
				const char *strategy, ProtobufCMessage *resp,
				struct json_object **out)
{
	const Openshell__V1__ConfigureProviderRefreshResponse *r =
	    (const Openshell__V1__ConfigureProviderRefreshResponse *)resp;
	*out = status_json(r->status);
	protobuf_c_message_free_unpacked(resp, NULL);
	if (*out == NULL)
		return BW_ENOMEM;
	enum bw_err rc = refresh_audit(svc, actor, gw, action, name, key, strategy);
	if (rc != BW_OK) {
		json_object_put(*out);
		*out = NULL;
	}
	return rc;
}

enum bw_err bw_providers_refresh_configure(struct bw_svc *svc, const struct bw_actor *actor,
					   const char *gw, const struct bw_refresh_in *in,
					   struct json_object **out, struct bw_gw_result *res)
{
	ProtobufCMessage *resp;
	Openshell__V1__ConfigureProviderRefreshRequest req =
	    OPENSHELL__V1__CONFIGURE_PROVIDER_REFRESH_REQUEST__INIT;
	req.provider = (char *)in->name;
	req.credential_key = (char *)in->key;
	req.strategy = (Openshell__V1__ProviderCredentialRefreshStrategy)in->strategy;
	*out = NULL;
	enum bw_err rc = str_map(
	    svc, &openshell__v1__configure_provider_refresh_request__material_entry__descriptor,
	    in->material, NULL, NULL, &req.n_material, (void ***)&req.material);
	if (rc != BW_OK)
		return rc;
	size_t nk = in->secret_keys != NULL ? json_object_array_length(in->secret_keys) : 0;
	req.secret_material_keys = bw_arena_alloc(svc->arena, (nk + 1) * sizeof(char *));
	if (req.secret_material_keys == NULL)
		return BW_ENOMEM;
	for (size_t i = 0; i < nk; i++)
		req.secret_material_keys[i] =
		    (char *)json_object_get_string(json_object_array_get_idx(in->secret_keys, i));
	req.n_secret_material_keys = nk;
	if (in->has_expires) {
		req.opt_expires_at_ms_case =
		    OPENSHELL__V1__CONFIGURE_PROVIDER_REFRESH_REQUEST__OPT_EXPIRES_AT_MS_EXPIRES_AT_MS;
		req.expires_at_ms = in->expires_at_ms;
	}
	rc = bw_gwcall_unary(svc, gw, RPC("ConfigureProviderRefresh"), &req.base,
			     &openshell__v1__configure_provider_refresh_response__descriptor, false,
			     &resp, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	return refresh_done(svc, actor, gw, "provider.refresh.configure", in->name, in->key,
			    strategy_name(in->strategy), resp, out);
}

enum bw_err bw_providers_refresh_rotate(struct bw_svc *svc, const struct bw_actor *actor,
					const char *gw, const char *name, const char *key,
					struct json_object **out, struct bw_gw_result *res)
{
	ProtobufCMessage *resp;
	Openshell__V1__RotateProviderCredentialRequest req =
	    OPENSHELL__V1__ROTATE_PROVIDER_CREDENTIAL_REQUEST__INIT;
	req.provider = (char *)name;
	req.credential_key = (char *)key;
	*out = NULL;
	enum bw_err rc = bw_gwcall_unary(
	    svc, gw, RPC("RotateProviderCredential"), &req.base,
	    &openshell__v1__rotate_provider_credential_response__descriptor, false, &resp, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	return refresh_done(svc, actor, gw, "provider.refresh.rotate", name, key, NULL, resp, out);
}

enum bw_err bw_providers_refresh_delete(struct bw_svc *svc, const struct bw_actor *actor,
					const char *gw, const char *name, const char *key,
					bool *deleted, struct bw_gw_result *res)
{
	ProtobufCMessage *resp;
	Openshell__V1__DeleteProviderRefreshRequest req =
	    OPENSHELL__V1__DELETE_PROVIDER_REFRESH_REQUEST__INIT;
	req.provider = (char *)name;
	req.credential_key = (char *)key;
	*deleted = false;
	enum bw_err rc = bw_gwcall_unary(
	    svc, gw, RPC("DeleteProviderRefresh"), &req.base,
	    &openshell__v1__delete_provider_refresh_response__descriptor, false, &resp, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	*deleted = ((Openshell__V1__DeleteProviderRefreshResponse *)resp)->deleted;
	protobuf_c_message_free_unpacked(resp, NULL);
	if (!*deleted)
		return BW_OK;
	return refresh_audit(svc, actor, gw, "provider.refresh.delete", name, key, NULL);
}
