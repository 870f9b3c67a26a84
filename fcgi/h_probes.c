/* h_probes: liveness, readiness and version — public, cheap, never touching a gateway. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "fcgi/request.h"
#include "fcgi/routes.h"
#include "services/registry.h"
#include "version.h"

void bw_h_healthz(struct bw_req *req)
{
	static const char ok[] = "{\"status\":\"ok\"}";
	bw_reply(req, 200, "application/json", ok, sizeof(ok) - 1);
}

void bw_h_version(struct bw_req *req)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	const char *sha = getenv("BREAKWATER_GIT_SHA");
	json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(o, "git_sha",
			       json_object_new_string(sha != NULL ? sha : BW_GIT_SHA));
	json_object_object_add(o, "build_time", json_object_new_string(BW_BUILD_TIME));
	bw_reply_json(req, 200, o);
	json_object_put(o);
}

/* Ready means this responder can serve API requests: its database answers. Gateways being down
 * is reported (degraded) but does not make the control plane unready. */
void bw_h_readyz(struct bw_req *req)
{
	struct json_object *o = json_object_new_object();
	struct json_object *checks = json_object_new_object();
	double latency = 0;
	long long total = 0;
	if (o == NULL || checks == NULL) {
		json_object_put(o);
		json_object_put(checks);
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	enum bw_err rc = bw_db_ping(req->svc.db, &latency);
	if (rc == BW_OK)
		rc = bw_registry_count(&req->svc, &total);
	bool ready = rc == BW_OK;
	if (ready) {
		json_object_object_add(checks, "database", json_object_new_string("ok"));
		char text[32];
		snprintf(text, sizeof(text), "%.1f", latency);
		json_object_object_add(
		    checks, "database_latency_ms",
		    json_object_new_double_s(round(latency * 10.0) / 10.0, text));
		json_object_object_add(checks, "gateways_total", json_object_new_int64(total));
	} else {
		json_object_object_add(checks, "database", json_object_new_string(bw_strerror(rc)));
	}
	json_object_object_add(o, "status", json_object_new_string(ready ? "ready" : "not ready"));
	json_object_object_add(o, "checks", checks);
	bw_reply_json(req, ready ? 200 : 503, o);
	json_object_put(o);
}
