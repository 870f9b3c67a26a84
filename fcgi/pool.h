/* pool: the master process. Binds the FastCGI socket, forks the workers before anything else
 * is initialised, restarts a worker that dies, replaces the workers with ones running the
 * re-read configuration on SIGHUP, and stops them gracefully on SIGTERM/SIGINT. */
#ifndef BW_POOL_H
#define BW_POOL_H

#include "lib/conf.h"

/* Runs the master loop; config_path (may be NULL) is re-read on SIGHUP. Returns the exit code. */
int bw_pool_run(const char *config_path, struct bw_conf *conf);

#endif
