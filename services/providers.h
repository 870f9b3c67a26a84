/* providers: the provider resources of a gateway (reference §6.13, services §3.6) — CRUD over
 * gRPC with the credential key mapping by provider type, the known types, the redacted env
 * projection, and credential refresh (configure, status, rotate, delete). Credential values go
 * to the gateway and nowhere else: every rendered provider has its credential values replaced
 * by "[REDACTED]" whatever the gateway sent, and neither audit rows nor log lines carry them.
 * Local errors come back as enum bw_err; when that is BW_OK, *res tells how the gateway call
 * went. Input is validated by the face before it gets here. */
#ifndef BW_PROVIDERS_H
#define BW_PROVIDERS_H

#include <stdbool.h>

#include <json-c/json.h>

#include "services/gwclient.h"
#include "services/svc.h"

/* The known provider types (the reference's table, in its order). */
struct bw_provider_type {
	const char *type, *label, *cred_key, *icon;
};
extern const struct bw_provider_type bw_provider_types[];
extern const size_t bw_provider_types_count;

/* The type's entry, or NULL when the type is not known (case-sensitive). */
const struct bw_provider_type *bw_provider_type_find(const char *type);

/* [{type, label, cred_key, icon}] and [{name, label, placeholder, env_var}]; new objects. */
struct json_object *bw_providers_types_json(void);
struct json_object *bw_providers_inference_json(void);

/* Results are new JSON objects the caller puts (NULL unless res->st == BW_GW_OK). */
enum bw_err bw_providers_list(struct bw_svc *svc, const char *gw, unsigned limit, unsigned offset,
			      struct json_object **out, struct bw_gw_result *res);
enum bw_err bw_providers_get(struct bw_svc *svc, const char *gw, const char *name,
			     struct json_object **out, struct bw_gw_result *res);
/* {provider, type, env: [{key, source, redacted_value}]}. */
enum bw_err bw_providers_env(struct bw_svc *svc, const char *gw, const char *name,
			     struct json_object **out, struct bw_gw_result *res);

struct bw_provider_in {
	const char *name, *type;                  /* update: type "" keeps it */
	const char *api_key;                      /* create only; "" = none */
	struct json_object *credentials, *config; /* string maps; may be NULL */
};
/* Create: credentials = {cred_key of type: api_key} (when api_key is not empty) under the
 * explicit credentials; audit provider.create {type}. */
enum bw_err bw_providers_create(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
				const struct bw_provider_in *in, struct json_object **out,
				struct bw_gw_result *res);
/* Update (merge semantics of the gateway); audit provider.update {type, credential_keys,
 * config_keys}. */
enum bw_err bw_providers_update(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
				const struct bw_provider_in *in, struct json_object **out,
				struct bw_gw_result *res);
/* Delete; audit provider.delete only when the gateway deleted it. */
enum bw_err bw_providers_delete(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
				const char *name, bool *deleted, struct bw_gw_result *res);

/* Credential refresh strategies by their lower-case names ("oauth2_refresh_token", ...);
 * -1 when unknown. */
int bw_providers_strategy(const char *name);

/* {credentials: [status]} for one key ("" = every key). */
enum bw_err bw_providers_refresh_status(struct bw_svc *svc, const char *gw, const char *name,
					const char *key, struct json_object **out,
					struct bw_gw_result *res);
struct bw_refresh_in {
	const char *name, *key;
	int strategy;
	struct json_object *material;    /* string map (secret values); may be NULL */
	struct json_object *secret_keys; /* array of strings; may be NULL */
	bool has_expires;
	long long expires_at_ms;
};
/* Status after configuring; audit provider.refresh.configure {credential_key, strategy}. */
enum bw_err bw_providers_refresh_configure(struct bw_svc *svc, const struct bw_actor *actor,
					   const char *gw, const struct bw_refresh_in *in,
					   struct json_object **out, struct bw_gw_result *res);
/* Status after rotating; audit provider.refresh.rotate {credential_key}. */
enum bw_err bw_providers_refresh_rotate(struct bw_svc *svc, const struct bw_actor *actor,
					const char *gw, const char *name, const char *key,
					struct json_object **out, struct bw_gw_result *res);
/* Audit provider.refresh.delete only when something was deleted. */
enum bw_err bw_providers_refresh_delete(struct bw_svc *svc, const struct bw_actor *actor,
					const char *gw, const char *name, const char *key,
					bool *deleted, struct bw_gw_result *res);

/* Renders a gateway Provider with every credential value redacted; new object. */
struct json_object *bw_provider_json(const ProtobufCMessage *provider);

#endif
