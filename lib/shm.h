/* shm: the small block of memory the pool master maps before forking and every worker shares.
 * It holds values that must agree across the processes of one host — today the newest registry
 * generation seen; later the metrics counters. Only lock-free atomics live here, so a worker
 * that dies mid-update cannot leave a lock held. */
#ifndef BW_SHM_H
#define BW_SHM_H

#include <stdatomic.h>
#include <stdint.h>

struct bw_shared {
	_Atomic uint64_t registry_gen;       /* newest registry generation any process saw */
	_Atomic int64_t registry_checked_ms; /* when it was last read from the database */
	_Atomic uint64_t auth_epoch;         /* moves with every committed auth change here */
};

/* Maps a zeroed shared block (MAP_SHARED|MAP_ANONYMOUS): call before fork. NULL on failure.
 * Release with bw_shared_destroy (NULL-safe). */
struct bw_shared *bw_shared_create(void);
void bw_shared_destroy(struct bw_shared *sh);

/* Raises *p to v unless it already holds a larger value. */
void bw_atomic_max_u64(_Atomic uint64_t *p, uint64_t v);

/* Monotonic clock in milliseconds (comparable across the processes of one host). */
int64_t bw_now_ms(void);

#endif
