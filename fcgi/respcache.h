/* respcache: a small per-process cache of rendered response bodies, each stamped with the
 * generation of the data it was rendered from. A hit requires the caller's current generation,
 * so an entry can never be served after the data changed. Shared by the threads of a worker
 * (one mutex); owned by the worker. */
#ifndef BW_RESPCACHE_H
#define BW_RESPCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/arena.h"

struct bw_respcache;

/* A cache of at most max_entries bodies of at most max_body bytes each, each served for at most
 * max_age_ms (renderings that depend on the clock, like "fresh within 120 s", stay right to
 * within that). Caller frees with bw_respcache_free. NULL when out of memory. */
struct bw_respcache *bw_respcache_new(size_t max_entries, size_t max_body, int64_t max_age_ms);
void bw_respcache_free(struct bw_respcache *c);

/* On a hit for (key, gen) copies the body into arena memory and returns true. */
bool bw_respcache_get(struct bw_respcache *c, const char *key, uint64_t gen, struct bw_arena *a,
		      char **body, size_t *len);
/* Stores a copy of body under (key, gen), replacing an older entry for key (or the oldest entry
 * when full). Bodies over the size limit and failures to allocate are silently not cached. */
void bw_respcache_put(struct bw_respcache *c, const char *key, uint64_t gen, const char *body,
		      size_t len);

#endif
