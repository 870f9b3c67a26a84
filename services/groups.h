/* groups: owns auth_groups and group_members — named sets of users with a global role that can
 * only raise their members' roles (reference §3). Every write is audited in its transaction. */
#ifndef BW_GROUPS_H
#define BW_GROUPS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/err.h"
#include "services/authrules.h"
#include "services/svc.h"

struct bw_group {
	long long id;
	const char *name, *role, *description; /* description may be NULL */
	const char *created_at;
	long long member_count;
};

struct bw_member {
	long long id;
	const char *email, *role;
};

enum bw_err bw_groups_list(struct bw_svc *svc, struct bw_group **items, size_t *n);
/* One group with its members; BW_ENOTFOUND when unknown. */
enum bw_err bw_groups_get(struct bw_svc *svc, long long id, struct bw_group *out,
			  struct bw_member **members, size_t *n);
/* BW_ECONFLICT when the name is taken. */
enum bw_err bw_groups_create(struct bw_svc *svc, const struct bw_actor *actor, const char *name,
			     enum bw_rank role, const char *description, struct bw_group *out);

struct bw_group_update {
	const char *name;           /* NULL = unchanged */
	enum bw_rank role;          /* BW_RANK_NONE = unchanged */
	const char *description;    /* NULL clears it (as the reference) */
	struct json_object *detail; /* the audit detail (borrowed) */
};
/* BW_ENOTFOUND, BW_ECONFLICT. */
enum bw_err bw_groups_update(struct bw_svc *svc, const struct bw_actor *actor, long long id,
			     const struct bw_group_update *u, struct bw_group *out);
enum bw_err bw_groups_delete(struct bw_svc *svc, const struct bw_actor *actor, long long id);

enum bw_member_result {
	BW_MEM_OK,
	BW_MEM_NO_GROUP,
	BW_MEM_NO_USER,
	BW_MEM_EXISTS,
	BW_MEM_NOT_MEMBER
};
/* Adds user_id to the group; *email and *group_name describe them for the response. */
enum bw_err bw_groups_add_member(struct bw_svc *svc, const struct bw_actor *actor, long long id,
				 long long user_id, enum bw_member_result *result,
				 const char **group_name, const char **email);
enum bw_err bw_groups_remove_member(struct bw_svc *svc, const struct bw_actor *actor, long long id,
				    long long user_id, enum bw_member_result *result);

#endif
