/* gwcall: see gwcall.h. */
#include "config.h"

#include <stdio.h>

#include "openshell.pb-c.h"
#include "services/events.h"
#include "services/gwcall.h"

enum bw_err bw_gwcall_target(struct bw_svc *svc, const char *gw, struct bw_gateway_creds *creds,
			     struct bw_gw_target *t)
{
	t->name = gw;
	t->creds = creds;
	return bw_registry_creds(svc, gw, creds);
}

enum bw_err bw_gwcall_unary(struct bw_svc *svc, const char *gw, const char *method,
			    const ProtobufCMessage *req, const ProtobufCMessageDescriptor *desc,
			    bool idempotent, ProtobufCMessage **resp, struct bw_gw_result *res)
{
	struct bw_gateway_creds creds;
	struct bw_gw_target t;
	*resp = NULL;
	enum bw_err rc = bw_gwcall_target(svc, gw, &creds, &t);
	if (rc != BW_OK)
		return rc;
	*res = bw_gw_unary(&t, method, req, desc, idempotent, resp);
	return BW_OK;
}

enum bw_err bw_gwcall_sandbox_id(struct bw_svc *svc, const char *gw, const char *sandbox,
				 struct bw_gateway_creds *creds, struct bw_gw_target *t,
				 const char **id, struct bw_gw_result *res)
{
	ProtobufCMessage *resp = NULL;
	Openshell__V1__GetSandboxRequest req = OPENSHELL__V1__GET_SANDBOX_REQUEST__INIT;
	req.name = (char *)sandbox;
	*id = NULL;
	enum bw_err rc = bw_gwcall_target(svc, gw, creds, t);
	if (rc != BW_OK)
		return rc;
	*res = bw_gw_unary(t, "/openshell.v1.OpenShell/GetSandbox", &req.base,
			   &openshell__v1__sandbox_response__descriptor, true, &resp);
	if (res->st != BW_GW_OK)
		return BW_OK;
	Openshell__V1__SandboxResponse *sr = (Openshell__V1__SandboxResponse *)resp;
	const char *found =
	    sr->sandbox != NULL && sr->sandbox->metadata != NULL ? sr->sandbox->metadata->id : NULL;
	if (found == NULL || found[0] == '\0') {
		res->st = BW_GW_FAILED;
		snprintf(res->why, sizeof(res->why), "%s", "the gateway sent a sandbox without id");
	} else if ((*id = bw_arena_strdup(svc->arena, found)) == NULL) {
		rc = BW_ENOMEM;
	}
	protobuf_c_message_free_unpacked(resp, NULL);
	return rc;
}

enum bw_err bw_gwcall_audit(struct bw_svc *svc, const struct bw_actor *actor,
			    const struct bw_audit *entry, const char *event_type,
			    struct json_object *event_data)
{
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		return rc;
	if (event_type != NULL)
		rc = bw_event_emit(svc, event_type, entry->gateway_name, event_data);
	if (rc == BW_OK)
		rc = bw_audit_write(svc, actor, entry);
	return bw_db_end(svc->db, rc);
}
