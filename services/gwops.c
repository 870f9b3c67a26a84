/* gwops: see gwops.h. */
#include "config.h"

#include <string.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "openshell.pb-c.h"
#include "sandbox.pb-c.h"
#include "services/audit.h"
#include "services/gwcall.h"
#include "services/gwops.h"
#include "services/gwversion.h"

#define RPC(m) "/openshell.v1.OpenShell/" m

const char *bw_gwops_health_name(int status)
{
	switch (status) {
	case OPENSHELL__V1__SERVICE_STATUS__SERVICE_STATUS_UNSPECIFIED:
		return "unspecified";
	case OPENSHELL__V1__SERVICE_STATUS__SERVICE_STATUS_HEALTHY:
		return "healthy";
	case OPENSHELL__V1__SERVICE_STATUS__SERVICE_STATUS_DEGRADED:
		return "degraded";
	case OPENSHELL__V1__SERVICE_STATUS__SERVICE_STATUS_UNHEALTHY:
		return "unhealthy";
	default:
		return "unknown";
	}
}

enum bw_err bw_gwops_health(struct bw_svc *svc, const char *name, bool reset, struct bw_health *out,
			    struct bw_gw_result *res)
{
	struct bw_gateway_creds creds;
	struct bw_gw_target t;
	ProtobufCMessage *resp = NULL;
	memset(out, 0, sizeof(*out));
	enum bw_err rc = bw_gwcall_target(svc, name, &creds, &t);
	if (rc != BW_OK)
		return rc;
	if (reset)
		bw_gw_reset(name);
	Openshell__V1__HealthRequest req = OPENSHELL__V1__HEALTH_REQUEST__INIT;
	double start = bw_mono_s();
	*res = bw_gw_unary(&t, RPC("Health"), &req.base,
			   &openshell__v1__health_response__descriptor, true, &resp);
	struct bw_health_note note = {"unreachable", NULL, NULL, false};
	if (res->st == BW_GW_OK) {
		Openshell__V1__HealthResponse *h = (Openshell__V1__HealthResponse *)resp;
		struct bw_gwver v = bw_gwver_parse(h->version);
		out->latency_ms = (bw_mono_s() - start) * 1e3;
		out->status = bw_gwops_health_name(h->status);
		out->version = bw_arena_strdup(svc->arena, h->version ? h->version : "");
		out->compat = bw_gwver_verdict(&v);
		protobuf_c_message_free_unpacked(resp, NULL);
		if (out->version == NULL)
			return BW_ENOMEM;
		note = (struct bw_health_note){out->status, out->version, out->compat, true};
	}
	/* Only reachability is recorded: a gateway that answered with an error status (e.g.
	 * PERMISSION_DENIED) is still up. */
	if (res->st != BW_GW_OK && res->st != BW_GW_NOT_CONNECTED && res->st != BW_GW_TIMEOUT)
		return BW_OK;
	enum bw_err wrc = bw_registry_set_health(svc, name, &note);
	if (wrc != BW_OK)
		bw_log(BW_LOG_WARN, "gwops", NULL, "gateway %s: health not recorded: %s", name,
		       bw_strerror(wrc));
	return BW_OK;
}

static struct json_object *setting_json(const Openshell__Sandbox__V1__SettingValue *v)
{
	if (v == NULL)
		return NULL;
	switch (v->value_case) {
	case OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_STRING_VALUE:
		return json_object_new_string(v->string_value ? v->string_value : "");
	case OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_BOOL_VALUE:
		return json_object_new_boolean(v->bool_value);
	case OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_INT_VALUE:
		return json_object_new_int64(v->int_value);
	case OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_BYTES_VALUE:
		return json_object_new_string_len((const char *)v->bytes_value.data,
						  (int)v->bytes_value.len);
	default:
		return NULL;
	}
}

enum bw_err bw_gwops_config(struct bw_svc *svc, const char *name, struct json_object **out,
			    struct bw_gw_result *res)
{
	struct bw_gateway_creds creds;
	struct bw_gw_target t;
	ProtobufCMessage *resp = NULL;
	*out = NULL;
	enum bw_err rc = bw_gwcall_target(svc, name, &creds, &t);
	if (rc != BW_OK)
		return rc;
	Openshell__Sandbox__V1__GetGatewayConfigRequest req =
	    OPENSHELL__SANDBOX__V1__GET_GATEWAY_CONFIG_REQUEST__INIT;
	*res = bw_gw_unary(&t, RPC("GetGatewayConfig"), &req.base,
			   &openshell__sandbox__v1__get_gateway_config_response__descriptor, true,
			   &resp);
	if (res->st != BW_GW_OK)
		return BW_OK;
	Openshell__Sandbox__V1__GetGatewayConfigResponse *cfg =
	    (Openshell__Sandbox__V1__GetGatewayConfigResponse *)resp;
	struct json_object *o = json_object_new_object(), *settings = json_object_new_object();
	if (o == NULL || settings == NULL) {
		json_object_put(o);
		json_object_put(settings);
		protobuf_c_message_free_unpacked(resp, NULL);
		return BW_ENOMEM;
	}
	for (size_t i = 0; i < cfg->n_settings; i++)
		json_object_object_add(settings, cfg->settings[i]->key ? cfg->settings[i]->key : "",
				       setting_json(cfg->settings[i]->value));
	json_object_object_add(o, "settings", settings);
	json_object_object_add(o, "settings_revision",
			       json_object_new_int64((int64_t)cfg->settings_revision));
	protobuf_c_message_free_unpacked(resp, NULL);
	*out = o;
	return BW_OK;
}

static enum bw_err audit_setting(struct bw_svc *svc, const struct bw_actor *actor, const char *name,
				 const char *key, struct json_object *value)
{
	struct json_object *detail = json_object_new_object();
	if (detail == NULL)
		return BW_ENOMEM;
	json_object_object_add(detail, "key", json_object_new_string(key));
	if (value != NULL)
		json_object_object_add(detail, "value", json_object_get(value));
	struct bw_audit entry = {value != NULL ? "gateway.setting_update"
					       : "gateway.setting_delete",
				 "gateway", name, name, detail};
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc == BW_OK) {
		rc = bw_audit_write(svc, actor, &entry);
		if (rc == BW_OK)
			rc = bw_db_commit(svc->db);
		else
			bw_db_rollback(svc->db);
	}
	json_object_put(detail);
	return rc;
}

enum bw_err bw_gwops_setting(struct bw_svc *svc, const struct bw_actor *actor, const char *name,
			     const char *key, struct json_object *value, long long *revision,
			     bool *deleted, struct bw_gw_result *res)
{
	struct bw_gateway_creds creds;
	struct bw_gw_target t;
	ProtobufCMessage *resp = NULL;
	enum bw_err rc = bw_gwcall_target(svc, name, &creds, &t);
	if (rc != BW_OK)
		return rc;
	Openshell__V1__UpdateConfigRequest req = OPENSHELL__V1__UPDATE_CONFIG_REQUEST__INIT;
	Openshell__Sandbox__V1__SettingValue sv = OPENSHELL__SANDBOX__V1__SETTING_VALUE__INIT;
	req.setting_key = (char *)key;
	req.global = 1;
	if (value == NULL) {
		req.delete_setting = 1;
	} else if (json_object_is_type(value, json_type_boolean)) {
		sv.value_case = OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_BOOL_VALUE;
		sv.bool_value = json_object_get_boolean(value);
		req.setting_value = &sv;
	} else if (json_object_is_type(value, json_type_int)) {
		sv.value_case = OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_INT_VALUE;
		sv.int_value = json_object_get_int64(value);
		req.setting_value = &sv;
	} else {
		sv.value_case = OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_STRING_VALUE;
		sv.string_value = (char *)json_object_get_string(value);
		req.setting_value = &sv;
	}
	*res = bw_gw_unary(&t, RPC("UpdateConfig"), &req.base,
			   &openshell__v1__update_config_response__descriptor, false, &resp);
	if (res->st != BW_GW_OK)
		return BW_OK;
	Openshell__V1__UpdateConfigResponse *u = (Openshell__V1__UpdateConfigResponse *)resp;
	*revision = (long long)u->settings_revision;
	*deleted = u->deleted;
	protobuf_c_message_free_unpacked(resp, NULL);
	return audit_setting(svc, actor, name, key, value);
}
