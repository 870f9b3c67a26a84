/* inference: see inference.h. */
#include "config.h"

#include "inference.pb-c.h"
#include "services/gwcall.h"
#include "services/gwversion.h"
#include "services/inference.h"

#define RPC(m) "/openshell.inference.v1.Inference/" m

/* Whether gateway gw should get the v0.0.88 names, from the version of its last Health. */
static enum bw_err new_names(struct bw_svc *svc, const char *gw, bool *out)
{
	struct bw_gateway g;
	enum bw_err rc = bw_registry_get(svc, gw, &g);
	if (rc != BW_OK)
		return rc;
	struct bw_gwver v = bw_gwver_parse(g.version != NULL ? g.version : "");
	*out = !v.known || bw_gwver_inference_route_names(&v);
	return BW_OK;
}

/* Calls old_name or new_name as the version says; when the gateway answers UNIMPLEMENTED (its
 * version changed since the last Health), once more with the other name. The Cluster* and
 * *InferenceRoute messages share their field numbers, so one request and response descriptor
 * serve both (the newer workspace fields stay unknown fields). */
static enum bw_err call(struct bw_svc *svc, const char *gw, const char *old_name,
			const char *new_name, const ProtobufCMessage *req,
			const ProtobufCMessageDescriptor *desc, bool idempotent,
			ProtobufCMessage **resp, struct bw_gw_result *res)
{
	struct bw_gateway_creds creds;
	struct bw_gw_target t;
	bool fresh = true;
	*resp = NULL;
	enum bw_err rc = bw_gwcall_target(svc, gw, &creds, &t);
	if (rc == BW_OK)
		rc = new_names(svc, gw, &fresh);
	if (rc != BW_OK)
		return rc;
	*res = bw_gw_unary(&t, fresh ? new_name : old_name, req, desc, idempotent, resp);
	if (res->st == BW_GW_UNIMPLEMENTED)
		*res = bw_gw_unary(&t, fresh ? old_name : new_name, req, desc, idempotent, resp);
	return BW_OK;
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v != NULL ? v : ""));
}

static struct json_object *route_json(const char *provider, const char *model, uint64_t version,
				      const char *route, uint64_t timeout)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	add_str(o, "provider_name", provider);
	add_str(o, "model_id", model);
	json_object_object_add(o, "version", json_object_new_uint64(version));
	add_str(o, "route_name", route);
	json_object_object_add(o, "timeout_secs", json_object_new_uint64(timeout));
	return o;
}

enum bw_err bw_inference_get(struct bw_svc *svc, const char *gw, const char *route_name,
			     struct json_object **out, struct bw_gw_result *res)
{
	ProtobufCMessage *resp;
	Openshell__Inference__V1__GetClusterInferenceRequest req =
	    OPENSHELL__INFERENCE__V1__GET_CLUSTER_INFERENCE_REQUEST__INIT;
	req.route_name = (char *)route_name;
	*out = NULL;
	enum bw_err rc =
	    call(svc, gw, RPC("GetClusterInference"), RPC("GetInferenceRoute"), &req.base,
		 &openshell__inference__v1__get_cluster_inference_response__descriptor, true, &resp,
		 res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	const Openshell__Inference__V1__GetClusterInferenceResponse *r =
	    (const Openshell__Inference__V1__GetClusterInferenceResponse *)resp;
	*out =
	    route_json(r->provider_name, r->model_id, r->version, r->route_name, r->timeout_secs);
	protobuf_c_message_free_unpacked(resp, NULL);
	return *out != NULL ? BW_OK : BW_ENOMEM;
}

static enum bw_err set_audit(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
			     const struct bw_inference_in *in, struct json_object *out)
{
	struct json_object *detail = json_object_new_object(), *data = json_object_new_object();
	enum bw_err rc = BW_ENOMEM;
	if (detail != NULL && data != NULL) {
		add_str(detail, "provider", in->provider_name);
		add_str(detail, "model", in->model_id);
		json_object_object_add(detail, "route_name",
				       json_object_get(json_object_object_get(out, "route_name")));
		add_str(data, "gateway", gw);
		add_str(data, "provider", in->provider_name);
		add_str(data, "model", in->model_id);
		add_str(data, "actor", actor->name);
		struct bw_audit entry = {"inference.update", "inference", gw, gw, detail};
		rc = bw_gwcall_audit(svc, actor, &entry, "inference.updated", data);
	}
	json_object_put(detail);
	json_object_put(data);
	return rc;
}

enum bw_err bw_inference_set(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
			     const struct bw_inference_in *in, struct json_object **out,
			     struct bw_gw_result *res)
{
	ProtobufCMessage *resp;
	Openshell__Inference__V1__SetClusterInferenceRequest req =
	    OPENSHELL__INFERENCE__V1__SET_CLUSTER_INFERENCE_REQUEST__INIT;
	req.provider_name = (char *)in->provider_name;
	req.model_id = (char *)in->model_id;
	req.route_name = (char *)in->route_name;
	/* v0.0.50 reads only no_verify; send both so every version agrees. */
	req.verify = in->verify;
	req.no_verify = !in->verify;
	req.timeout_secs = in->timeout_secs;
	*out = NULL;
	enum bw_err rc =
	    call(svc, gw, RPC("SetClusterInference"), RPC("SetInferenceRoute"), &req.base,
		 &openshell__inference__v1__set_cluster_inference_response__descriptor, false,
		 &resp, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	const Openshell__Inference__V1__SetClusterInferenceResponse *r =
	    (const Openshell__Inference__V1__SetClusterInferenceResponse *)resp;
	struct json_object *o =
	    route_json(r->provider_name, r->model_id, r->version, r->route_name, r->timeout_secs);
	struct json_object *eps = json_object_new_array();
	for (size_t i = 0; eps != NULL && i < r->n_validated_endpoints; i++) {
		struct json_object *e = json_object_new_object();
		if (e == NULL)
			break;
		add_str(e, "url", r->validated_endpoints[i]->url);
		add_str(e, "protocol", r->validated_endpoints[i]->protocol);
		json_object_array_add(eps, e);
	}
	bool performed = r->validation_performed;
	protobuf_c_message_free_unpacked(resp, NULL);
	if (o == NULL || eps == NULL) {
		json_object_put(o);
		json_object_put(eps);
		return BW_ENOMEM;
	}
	json_object_object_add(o, "validation_performed", json_object_new_boolean(performed));
	json_object_object_add(o, "validated_endpoints", eps);
	rc = set_audit(svc, actor, gw, in, o);
	if (rc != BW_OK) {
		json_object_put(o);
		return rc;
	}
	*out = o;
	return BW_OK;
}

static struct json_object *resolved_json(const Openshell__Inference__V1__ResolvedRoute *r)
{
	struct json_object *o = json_object_new_object(), *protos = json_object_new_array();
	if (o == NULL || protos == NULL) {
		json_object_put(o);
		json_object_put(protos);
		return NULL;
	}
	add_str(o, "name", r->name);
	add_str(o, "base_url", r->base_url);
	for (size_t i = 0; i < r->n_protocols; i++)
		json_object_array_add(protos, json_object_new_string(r->protocols[i]));
	json_object_object_add(o, "protocols", protos);
	add_str(o, "model_id", r->model_id);
	add_str(o, "provider_type", r->provider_type);
	json_object_object_add(o, "timeout_secs", json_object_new_uint64(r->timeout_secs));
	/* The key itself never leaves this function. */
	json_object_object_add(
	    o, "has_api_key", json_object_new_boolean(r->api_key != NULL && r->api_key[0] != '\0'));
	return o;
}

enum bw_err bw_inference_bundle(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
				struct json_object **out, struct bw_gw_result *res)
{
	ProtobufCMessage *resp = NULL;
	*out = NULL;
	Openshell__Inference__V1__GetInferenceBundleRequest req =
	    OPENSHELL__INFERENCE__V1__GET_INFERENCE_BUNDLE_REQUEST__INIT;
	enum bw_err rc = bw_gwcall_unary(
	    svc, gw, RPC("GetInferenceBundle"), &req.base,
	    &openshell__inference__v1__get_inference_bundle_response__descriptor, true, &resp, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	const Openshell__Inference__V1__GetInferenceBundleResponse *b =
	    (const Openshell__Inference__V1__GetInferenceBundleResponse *)resp;
	struct json_object *o = json_object_new_object(), *routes = json_object_new_array();
	for (size_t i = 0; routes != NULL && i < b->n_routes; i++)
		json_object_array_add(routes, resolved_json(b->routes[i]));
	if (o != NULL) {
		add_str(o, "revision", b->revision);
		json_object_object_add(o, "generated_at_ms",
				       json_object_new_int64(b->generated_at_ms));
	}
	protobuf_c_message_free_unpacked(resp, NULL);
	if (o == NULL || routes == NULL) {
		json_object_put(o);
		json_object_put(routes);
		return BW_ENOMEM;
	}
	json_object_object_add(o, "routes", routes);
	struct bw_audit entry = {"gateway.inference_bundle.viewed", "inference_bundle", gw, gw,
				 NULL};
	rc = bw_gwcall_audit(svc, actor, &entry, NULL, NULL);
	if (rc != BW_OK) {
		json_object_put(o);
		return rc;
	}
	*out = o;
	return BW_OK;
}
