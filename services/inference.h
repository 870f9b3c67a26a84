/* inference: the cluster inference routes of a gateway (reference §6.4) over gRPC, with the
 * RPC names the gateway's version needs (Set/GetClusterInference below v0.0.88, Set/Get
 * InferenceRoute from v0.0.88; an unknown version tries the new names first) — and the
 * resolved bundle, rendered without its API keys. Local errors come back as enum bw_err; when
 * that is BW_OK, *res tells how the gateway call went. */
#ifndef BW_INFERENCE_H
#define BW_INFERENCE_H

#include <stdbool.h>

#include <json-c/json.h>

#include "services/gwclient.h"
#include "services/svc.h"

/* {provider_name, model_id, version, route_name, timeout_secs}; new object. */
enum bw_err bw_inference_get(struct bw_svc *svc, const char *gw, const char *route_name,
			     struct json_object **out, struct bw_gw_result *res);

struct bw_inference_in {
	const char *provider_name, *model_id, *route_name;
	bool verify;
	unsigned timeout_secs;
};
/* Sets the route; *out adds validation_performed and validated_endpoints [{url, protocol}].
 * Audit inference.update {provider, model, route_name} and webhook event inference.updated. */
enum bw_err bw_inference_set(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
			     const struct bw_inference_in *in, struct json_object **out,
			     struct bw_gw_result *res);

/* {revision, generated_at_ms, routes: [{name, base_url, protocols, model_id, provider_type,
 * timeout_secs, has_api_key}]}; audit gateway.inference_bundle.viewed. */
enum bw_err bw_inference_bundle(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
				struct json_object **out, struct bw_gw_result *res);

#endif
