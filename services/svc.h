/* svc: what every service call needs from its face — the caller's database connection, the
 * arena its results live in, the master key and the configuration. The face owns all four. */
#ifndef BW_SVC_H
#define BW_SVC_H

#include <stdint.h>

#include "lib/arena.h"
#include "lib/conf.h"
#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/shm.h"

struct bw_authcache;

struct bw_svc {
	struct bw_db *db;
	struct bw_arena *arena;
	const uint8_t *master_key; /* BW_KEY_BYTES */
	const struct bw_conf *conf;
	struct bw_shared *shared;       /* the pool's shared block; NULL outside the pool */
	struct bw_authcache *authcache; /* the worker's credential cache; NULL outside the pool */
};

/* Who is acting, for audit rows: name ("no-auth", an e-mail, "sp:<name>", "system"), effective
 * role, and the request's client IP and id (either may be NULL outside HTTP). */
struct bw_actor {
	const char *name;
	const char *role;
	const char *client_ip;
	const char *request_id;
};

#endif
