/* worker: one responder process — loads the master key, starts the request threads (each with
 * its own database connection and arena) and serves FastCGI requests until told to stop. Runs
 * only in a freshly forked child: nothing (DB, TLS, threads) is created before the fork. */
#ifndef BW_WORKER_H
#define BW_WORKER_H

#include "lib/conf.h"
#include "lib/shm.h"

/* Serves on listen_fd until SIGTERM; shared is the pool's block mapped before the fork.
 * Returns the process exit code. */
int bw_worker_main(const struct bw_conf *conf, int listen_fd, struct bw_shared *shared);

#endif
