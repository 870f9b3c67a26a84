/* gwops: gateway operations over gRPC — health probes (stored in the registry), gateway config
 * and global settings. Glues the registry (credentials, health columns, audit) to gwclient.
 * Every function returns a local error (BW_ENOTFOUND for an unregistered gateway, database,
 * crypto) as enum bw_err; when that is BW_OK, *res says how the gateway call went. */
#ifndef BW_GWOPS_H
#define BW_GWOPS_H

#include <stdbool.h>

#include <json-c/json.h>

#include "services/gwclient.h"
#include "services/svc.h"

struct bw_health {
	const char *status;  /* healthy/degraded/unhealthy/unspecified/unknown (arena or static) */
	const char *version; /* arena; "" when the gateway sent none */
	const char *compat;  /* bw_gwver_verdict */
	double latency_ms;
};

/* Calls Health, records the outcome in the gateways table (version, compat, last_status,
 * last_seen). reset: forget the reconnect backoff and the cached channel first. */
enum bw_err bw_gwops_health(struct bw_svc *svc, const char *name, bool reset, struct bw_health *out,
			    struct bw_gw_result *res);

/* GetGatewayConfig as {"settings": {key: value|null}, "settings_revision": n}; *out is owned
 * by the caller (json_object_put). */
enum bw_err bw_gwops_config(struct bw_svc *svc, const char *name, struct json_object **out,
			    struct bw_gw_result *res);

/* Sets (value is a JSON string, boolean or integer) or deletes (value NULL) a global setting
 * with UpdateConfig, then writes the audit row gateway.setting_update/_delete. */
enum bw_err bw_gwops_setting(struct bw_svc *svc, const struct bw_actor *actor, const char *name,
			     const char *key, struct json_object *value, long long *revision,
			     bool *deleted, struct bw_gw_result *res);

/* The lower-case name of an openshell.v1.ServiceStatus ("unknown" for other numbers). */
const char *bw_gwops_health_name(int status);

#endif
