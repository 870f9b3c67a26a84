/* authcache: a per-process cache of resolved credentials (API keys and session tokens, by their
 * SHA-256), so an authenticated request does not need a database round trip every time.
 *
 * An entry is served only while all of these hold: it is younger than BW_AUTHCACHE_MAX_AGE_MS
 * (the bound on how long a change made on another host can go unseen), the credential has not
 * expired (the expiry is cached with it), and the host's auth epoch is the one it was filled
 * under. Every committed change to users, sessions or service principals on this host moves the
 * epoch (lib/shm.h), so a logout, revocation, rotation or deletion takes effect on every worker
 * of the host at once. Owned by the worker; shared by its threads (one mutex). */
#ifndef BW_AUTHCACHE_H
#define BW_AUTHCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/arena.h"
#include "services/svc.h"

#define BW_AUTHCACHE_MAX_AGE_MS 1000

struct bw_principal;
struct bw_authcache;

/* A cache of at most slots entries; caller frees with bw_authcache_free. NULL on ENOMEM. */
struct bw_authcache *bw_authcache_new(size_t slots);
void bw_authcache_free(struct bw_authcache *c);

/* The host's auth epoch now (0 without a shared block). Read it BEFORE the database lookup
 * whose result is then stored under it, so a change racing with the lookup is never hidden. */
uint64_t bw_authcache_epoch(const struct bw_svc *svc);
/* Moves the host's auth epoch: call after committing any change to users, sessions or service
 * principals. */
void bw_authcache_invalidate(struct bw_svc *svc);

/* Ends an auth write transaction: commits when rc is BW_OK (then invalidates the host's cached
 * credentials), else rolls back. Returns the outcome. */
enum bw_err bw_authcache_commit(struct bw_svc *svc, enum bw_err rc);

/* On a hit fills *out with arena copies (out->session is left NULL) and returns true. */
bool bw_authcache_get(struct bw_authcache *c, const char *hash, uint64_t epoch, int64_t now_unix,
		      struct bw_arena *a, struct bw_principal *out);
/* Stores p under hash; expires_unix (0 = never) is when the credential stops being valid. */
void bw_authcache_put(struct bw_authcache *c, const char *hash, uint64_t epoch,
		      int64_t expires_unix, const struct bw_principal *p);

#endif
