/* metrics: recording into the shared block's counters (lib/shm.h). Every function is lock-free
 * and NULL-safe on the block, so code outside the pool (unit tests, the worker daemon) can call
 * them without one. Rendering lives in fcgi/h_metrics.c. */
#ifndef BW_METRICS_H
#define BW_METRICS_H

#include <stddef.h>

#include "lib/shm.h"

/* Upper bounds (seconds) of the latency histogram's finite buckets. */
extern const double bw_metrics_bounds[BW_METRICS_BUCKETS];

/* Counts one HTTP request: route is its row in the route table, or BW_METRICS_ROUTES when no
 * route matched. */
void bw_metrics_http(struct bw_shared *sh, size_t route, int status, double seconds);

/* Counts one gRPC call; a label set that finds no slot is counted in grpc_other. */
void bw_metrics_grpc(struct bw_shared *sh, const char *gateway, const char *method,
		     const char *code);

/* Claims this process's DB usage slot (taking over one of a dead process); NULL when none is
 * free. */
struct bw_metric_proc *bw_metrics_proc_claim(struct bw_shared *sh);

/* True when pid names a live process. */
int bw_metrics_pid_alive(int pid);

#endif
