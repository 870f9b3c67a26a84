/* shm: the small block of memory the pool master maps before forking and every worker shares.
 * It holds values that must agree across the processes of one host — today the newest registry
 * generation seen; later the metrics counters. Only lock-free atomics live here, so a worker
 * that dies mid-update cannot leave a lock held. */
#ifndef BW_SHM_H
#define BW_SHM_H

#include <stdatomic.h>
#include <stdint.h>

/* Metrics (lib/metrics.h records, fcgi/h_metrics.c renders). Sizes are compile-time so the
 * block never grows: routes are indexed by their row in fcgi/routes.c (a static assert there
 * keeps the table within BW_METRICS_ROUTES), the extra row counts unmatched paths. */
#define BW_METRICS_ROUTES 255
#define BW_METRICS_CLASSES 5 /* 1xx .. 5xx */
#define BW_METRICS_BUCKETS 10
/* (gateway, method, code) label sets: gateways x RPCs in use x codes seen; ~200 bytes each. */
#define BW_METRICS_GRPC_SLOTS 4096
#define BW_METRICS_PROCS 512 /* workers may be 256, twice that during a SIGHUP overlap */

struct bw_metric_route {
	_Atomic uint64_t by_class[BW_METRICS_CLASSES];
	_Atomic uint64_t bucket[BW_METRICS_BUCKETS + 1]; /* per bucket, not cumulative; +Inf last */
	_Atomic uint64_t sum_us;
};

/* One gRPC label set. state: 0 free, 1 being claimed, 2 labels written and readable. */
struct bw_metric_grpc {
	_Atomic uint32_t state;
	char gateway[64];
	char method[96];
	char code[24];
	_Atomic uint64_t count;
};

/* One responder process's DB handle use; pid 0 = free. A dead process's slot is ignored at
 * scrape time and taken over by the next process that starts. */
struct bw_metric_proc {
	_Atomic int32_t pid;
	_Atomic int32_t open;
	_Atomic int32_t busy;
};

struct bw_metrics {
	struct bw_metric_route http[BW_METRICS_ROUTES + 1];
	struct bw_metric_grpc grpc[BW_METRICS_GRPC_SLOTS];
	_Atomic uint64_t grpc_other; /* calls whose label set found no free slot */
	struct bw_metric_proc procs[BW_METRICS_PROCS];
};

struct bw_shared {
	_Atomic uint64_t registry_gen;       /* newest registry generation any process saw */
	_Atomic int64_t registry_checked_ms; /* when it was last read from the database */
	_Atomic uint64_t auth_epoch;         /* moves with every committed auth change here */
	struct bw_metrics metrics;
};

/* Maps a zeroed shared block (MAP_SHARED|MAP_ANONYMOUS): call before fork. NULL on failure.
 * Release with bw_shared_destroy (NULL-safe). */
struct bw_shared *bw_shared_create(void);
void bw_shared_destroy(struct bw_shared *sh);

/* Raises *p to v unless it already holds a larger value. */
void bw_atomic_max_u64(_Atomic uint64_t *p, uint64_t v);

#endif
