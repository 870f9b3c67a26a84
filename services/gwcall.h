/* gwcall: what the gateway-scoped services (providers, inference, sandbox details, policy,
 * approvals) share around one gateway call — the target from the registry, one unary call on
 * it, the sandbox name → id lookup that the id-keyed RPCs need, and the audit transaction of a
 * write whose effect lives on the gateway (optional webhook event first, the audit row last). */
#ifndef BW_GWCALL_H
#define BW_GWCALL_H

#include <json-c/json.h>

#include "services/audit.h"
#include "services/gwclient.h"
#include "services/registry.h"
#include "services/svc.h"

/* Loads gateway gw's connection material into *creds and points *t at it. BW_ENOTFOUND for an
 * unregistered gateway. */
enum bw_err bw_gwcall_target(struct bw_svc *svc, const char *gw, struct bw_gateway_creds *creds,
			     struct bw_gw_target *t);

/* One unary call on gateway gw with its stored credentials (bw_gw_unary's arguments);
 * BW_ENOTFOUND for an unregistered gateway, else BW_OK with res->st telling how the call went and
 * *resp (the caller frees it) when BW_GW_OK. */
enum bw_err bw_gwcall_unary(struct bw_svc *svc, const char *gw, const char *method,
			    const ProtobufCMessage *req, const ProtobufCMessageDescriptor *desc,
			    bool idempotent, ProtobufCMessage **resp, struct bw_gw_result *res);

/* The id-keyed RPCs' first step: gateway gw's target into *t (as bw_gwcall_target), then
 * GetSandbox(sandbox) → *id (arena). BW_OK with res->st telling how the call went; a sandbox
 * without an id is BW_GW_FAILED. *id is NULL unless both worked. */
enum bw_err bw_gwcall_sandbox_id(struct bw_svc *svc, const char *gw, const char *sandbox,
				 struct bw_gateway_creds *creds, struct bw_gw_target *t,
				 const char **id, struct bw_gw_result *res);

/* Commits entry (and, when event_type is not NULL, the webhook event with event_data) in one
 * transaction. */
enum bw_err bw_gwcall_audit(struct bw_svc *svc, const struct bw_actor *actor,
			    const struct bw_audit *entry, const char *event_type,
			    struct json_object *event_data);

/* The literal every secret value is replaced with. */
#define BW_REDACTED "[REDACTED]"

#endif
