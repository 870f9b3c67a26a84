/* opexec: the long-running operations executor of breakwater-worker. Owns a pool of
 * ops_concurrency threads (each with its own database connection) that claim operations from
 * MariaDB (services/operations) and run them — sandbox create (create, wait for ready, apply
 * presets, re-read) and exec — plus one housekeeping thread that renews this process's leases,
 * frees the leases of dead workers on this host at once and deletes finished operations after
 * operation_retention_days. Execution is idempotent across takeovers: a sandbox create resumed
 * after its worker died first looks for the sandbox its predecessor created (by the operation
 * label), and an interrupted exec is failed rather than run twice. */
#ifndef BW_OPEXEC_H
#define BW_OPEXEC_H

#include <stdint.h>

#include "lib/conf.h"

struct bw_opexec;

/* Starts the threads; owner is "host:pid". NULL when nothing could be started (logged). */
struct bw_opexec *bw_opexec_start(const struct bw_conf *conf, const uint8_t *master_key,
				  const char *owner);
/* Asks the threads to stop, waits for operations in progress to reach a step boundary, frees. */
void bw_opexec_stop(struct bw_opexec *x);

#endif
