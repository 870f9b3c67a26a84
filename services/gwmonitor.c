/* gwmonitor: see gwmonitor.h. */
#include "config.h"

#include <string.h>

#include "lib/log.h"
#include "services/gwclient.h"
#include "services/gwmonitor.h"
#include "services/gwops.h"
#include "services/gwversion.h"
#include "services/registry.h"

static void record(struct bw_svc *svc, const struct bw_monitor_conf *mc, struct bw_gw_probe *p)
{
	struct bw_health_note note = {"unreachable", NULL, NULL, false};
	struct bw_gwver v;
	if (p->res.st == BW_GW_OK) {
		v = bw_gwver_parse(p->version);
		note = (struct bw_health_note){bw_gwops_health_name(p->health), p->version,
					       bw_gwver_verdict(&v), true};
	}
	enum bw_err rc = bw_registry_set_health(svc, p->t.name, &note);
	if (rc == BW_OK)
		rc = bw_registry_probe_done(svc, mc->owner, p->t.name, mc->interval_s);
	if (rc != BW_OK)
		bw_log(BW_LOG_WARN, "monitor", NULL, "gateway %s: outcome not recorded: %s",
		       p->t.name, bw_strerror(rc));
}

enum bw_err bw_monitor_round(struct bw_svc *svc, const struct bw_monitor_conf *mc, size_t *probed)
{
	const char **names = NULL;
	size_t n = 0, used = 0;
	*probed = 0;
	enum bw_err rc =
	    bw_registry_claim_probes(svc, mc->owner, mc->lease_s, mc->batch, &names, &n);
	if (rc != BW_OK || n == 0)
		return rc;
	struct bw_gw_probe *probes = bw_arena_alloc(svc->arena, sizeof(*probes) * n);
	struct bw_gateway_creds *creds = bw_arena_alloc(svc->arena, sizeof(*creds) * n);
	if (probes == NULL || creds == NULL)
		return BW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		rc = bw_registry_creds(svc, names[i], &creds[used]);
		if (rc == BW_ENOTFOUND)
			continue; /* unregistered meanwhile */
		if (rc != BW_OK && rc != BW_ECRYPTO)
			return rc;
		memset(&probes[used], 0, sizeof(probes[used]));
		probes[used].t.name = names[i];
		probes[used].t.creds = &creds[used];
		if (rc == BW_ECRYPTO) {
			/* Unusable credentials: recorded as unreachable, like the gateway is. */
			probes[used].res.st = BW_GW_NOT_CONNECTED;
			record(svc, mc, &probes[used]);
			continue;
		}
		used++;
	}
	bw_gw_probe_many(probes, used, mc->concurrency);
	for (size_t i = 0; i < used; i++)
		record(svc, mc, &probes[i]);
	*probed = used;
	return BW_OK;
}
