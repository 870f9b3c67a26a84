/* gwmonitor: one round of the health monitor (breakwater-worker). Claims the gateways that are
 * due under a lease in MariaDB, probes them concurrently with Health, records each outcome
 * (last_status, last_seen, version, compat) and schedules the next probe. Several workers on
 * several hosts can run rounds against one database: a gateway is probed once per interval. */
#ifndef BW_GWMONITOR_H
#define BW_GWMONITOR_H

#include <stddef.h>

#include "lib/err.h"
#include "services/svc.h"

struct bw_monitor_conf {
	const char *owner; /* unique per worker process, e.g. "host:pid" */
	int interval_s;    /* probe interval of a healthy gateway */
	int concurrency;   /* Health calls in flight at most */
	int lease_s;       /* how long a claim holds if the worker dies mid-round */
	int batch;         /* gateways claimed per round at most */
};

/* Runs one round; *probed is how many gateways were probed. */
enum bw_err bw_monitor_round(struct bw_svc *svc, const struct bw_monitor_conf *mc, size_t *probed);

#endif
