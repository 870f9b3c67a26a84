/* sp: owns the service_principals table — API keys for automation. A key is shown exactly once
 * (on create and on rotate); only its SHA-256 and its first 12 characters (for display) are
 * kept. Every write is audited in the same transaction. */
#ifndef BW_SP_H
#define BW_SP_H

#include <stddef.h>

#include "lib/err.h"
#include "services/authrules.h"
#include "services/svc.h"

struct bw_sp {
	long long id;
	const char *name, *role, *key_prefix;
	long long created_by;   /* 0 = none */
	const char *created_at; /* RFC 3339 UTC */
	const char *last_used;  /* may be NULL */
	const char *expires_at; /* may be NULL */
};

/* Creates a principal. expires_at is "YYYY-MM-DD HH:MM:SS.ffffff" UTC or NULL; created_by 0
 * for none. *key is the new key (arena). BW_ECONFLICT when the name is taken. */
enum bw_err bw_sp_create(struct bw_svc *svc, const struct bw_actor *actor, const char *name,
			 enum bw_rank role, const char *expires_at, long long created_by,
			 struct bw_sp *out, const char **key);

/* All principals, by id; *items is an arena array. */
enum bw_err bw_sp_list(struct bw_svc *svc, struct bw_sp **items, size_t *n);

/* Deletes one; BW_ENOTFOUND when unknown. Its key stops working at once. */
enum bw_err bw_sp_delete(struct bw_svc *svc, const struct bw_actor *actor, long long id);

/* Replaces the key (role and expiry kept); the old key stops working at once. */
enum bw_err bw_sp_rotate(struct bw_svc *svc, const struct bw_actor *actor, long long id,
			 struct bw_sp *out, const char **key);

#endif
