/* groups: see groups.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "services/audit.h"
#include "services/groups.h"

#define TS(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%s.%f+00:00')"
#define SELECT_GROUP                                                                           \
	"SELECT g.id, g.name, g.role, g.description, " TS(                                     \
	    "g.created_at") ","                                                                \
			    " (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) " \
			    "FROM auth_groups g"

static const char sql_list[] = SELECT_GROUP " ORDER BY g.name";
static const char sql_get[] = SELECT_GROUP " WHERE g.id = ?";
static const char sql_lock[] = "SELECT name FROM auth_groups WHERE id = ? FOR UPDATE";
static const char sql_members[] =
    "SELECT u.id, u.email, u.role FROM group_members m JOIN users u ON u.id = m.user_id"
    " WHERE m.group_id = ? ORDER BY u.email";
static const char sql_insert[] = "INSERT INTO auth_groups (name, role, description, created_at)"
				 " VALUES (?, ?, ?, UTC_TIMESTAMP(6))";
static const char sql_update[] =
    "UPDATE auth_groups SET name = COALESCE(?, name), role = COALESCE(?, role),"
    " description = ? WHERE id = ?";
static const char sql_delete[] = "DELETE FROM auth_groups WHERE id = ?";
static const char sql_user[] = "SELECT email FROM users WHERE id = ? FOR UPDATE";
static const char sql_add[] = "INSERT INTO group_members (group_id, user_id) VALUES (?, ?)";
static const char sql_remove[] = "DELETE FROM group_members WHERE group_id = ? AND user_id = ?";

static void row_to_group(const struct bw_dbres *r, size_t i, struct bw_group *g)
{
	g->id = atoll(bw_db_cell(r, i, 0));
	g->name = bw_db_cell(r, i, 1);
	g->role = bw_db_cell(r, i, 2);
	g->description = bw_db_cell(r, i, 3);
	g->created_at = bw_db_cell(r, i, 4);
	g->member_count = atoll(bw_db_cell(r, i, 5));
}

enum bw_err bw_groups_list(struct bw_svc *svc, struct bw_group **items, size_t *n)
{
	struct bw_dbres r;
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_list, NULL, 0, &r);
	if (rc != BW_OK)
		return rc;
	struct bw_group *list = bw_arena_alloc(svc->arena, sizeof(*list) * (r.nrows + 1));
	if (list == NULL)
		return BW_ENOMEM;
	for (size_t i = 0; i < r.nrows; i++)
		row_to_group(&r, i, &list[i]);
	*items = list;
	*n = r.nrows;
	return BW_OK;
}

static enum bw_err get_group(struct bw_svc *svc, long long id, struct bw_group *out)
{
	struct bw_dbres r;
	struct bw_dbarg arg = bw_dba_int(id);
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_get, &arg, 1, &r);
	if (rc == BW_OK && r.nrows == 0)
		rc = BW_ENOTFOUND;
	if (rc == BW_OK)
		row_to_group(&r, 0, out);
	return rc;
}

enum bw_err bw_groups_get(struct bw_svc *svc, long long id, struct bw_group *out,
			  struct bw_member **members, size_t *n)
{
	struct bw_dbres r;
	struct bw_dbarg arg = bw_dba_int(id);
	enum bw_err rc = get_group(svc, id, out);
	if (rc == BW_OK)
		rc = bw_db_query(svc->db, svc->arena, sql_members, &arg, 1, &r);
	if (rc != BW_OK)
		return rc;
	struct bw_member *list = bw_arena_alloc(svc->arena, sizeof(*list) * (r.nrows + 1));
	if (list == NULL)
		return BW_ENOMEM;
	for (size_t i = 0; i < r.nrows; i++) {
		list[i].id = atoll(bw_db_cell(&r, i, 0));
		list[i].email = bw_db_cell(&r, i, 1);
		list[i].role = bw_db_cell(&r, i, 2);
	}
	*members = list;
	*n = r.nrows;
	return BW_OK;
}

enum bw_err bw_groups_create(struct bw_svc *svc, const struct bw_actor *actor, const char *name,
			     enum bw_rank role, const char *description, struct bw_group *out)
{
	unsigned long long id = 0;
	struct bw_dbarg args[] = {bw_dba_text(name), bw_dba_text(bw_rank_name(role)),
				  bw_dba_text(description)};
	struct json_object *detail = json_object_new_object();
	if (detail == NULL)
		return BW_ENOMEM;
	json_object_object_add(detail, "role", json_object_new_string(bw_rank_name(role)));
	struct bw_audit entry = {"group.create", "group", name, NULL, detail};
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc == BW_OK) {
		rc = bw_db_exec(svc->db, sql_insert, args, 3, NULL, &id);
		if (rc == BW_OK)
			rc = bw_audit_write(svc, actor, &entry);
		rc = bw_db_end(svc->db, rc);
	}
	json_object_put(detail);
	if (rc == BW_OK)
		rc = get_group(svc, (long long)id, out);
	return rc;
}

/* Locks the group row; *name gets its current name. BW_ENOTFOUND when unknown. */
static enum bw_err lock_group(struct bw_svc *svc, long long id, const char **name)
{
	struct bw_dbres r;
	struct bw_dbarg arg = bw_dba_int(id);
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_lock, &arg, 1, &r);
	if (rc == BW_OK && r.nrows == 0)
		rc = BW_ENOTFOUND;
	if (rc == BW_OK)
		*name = bw_db_cell(&r, 0, 0);
	return rc;
}

enum bw_err bw_groups_update(struct bw_svc *svc, const struct bw_actor *actor, long long id,
			     const struct bw_group_update *u, struct bw_group *out)
{
	const char *old = NULL;
	struct bw_dbarg args[] = {bw_dba_text(u->name),
				  u->role != BW_RANK_NONE ? bw_dba_text(bw_rank_name(u->role))
							  : bw_dba_null(),
				  bw_dba_text(u->description), bw_dba_int(id)};
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		return rc;
	rc = lock_group(svc, id, &old);
	struct bw_audit entry = {"group.update", "group", u->name != NULL ? u->name : old, NULL,
				 u->detail};
	if (rc == BW_OK)
		rc = bw_db_exec(svc->db, sql_update, args, 4, NULL, NULL);
	if (rc == BW_OK)
		rc = bw_audit_write(svc, actor, &entry);
	rc = bw_db_end(svc->db, rc);
	if (rc == BW_OK)
		rc = get_group(svc, id, out);
	return rc;
}

enum bw_err bw_groups_delete(struct bw_svc *svc, const struct bw_actor *actor, long long id)
{
	const char *name = NULL;
	struct bw_dbarg arg = bw_dba_int(id);
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		return rc;
	rc = lock_group(svc, id, &name);
	struct bw_audit entry = {"group.delete", "group", name, NULL, NULL};
	if (rc == BW_OK)
		rc = bw_db_exec(svc->db, sql_delete, &arg, 1, NULL, NULL);
	if (rc == BW_OK)
		rc = bw_audit_write(svc, actor, &entry);
	return bw_db_end(svc->db, rc);
}

enum bw_err bw_groups_add_member(struct bw_svc *svc, const struct bw_actor *actor, long long id,
				 long long user_id, enum bw_member_result *result,
				 const char **group_name, const char **email)
{
	struct bw_dbres r;
	struct bw_dbarg uid = bw_dba_int(user_id);
	struct bw_dbarg args[] = {bw_dba_int(id), bw_dba_int(user_id)};
	struct json_object *detail = json_object_new_object();
	if (detail == NULL)
		return BW_ENOMEM;
	*result = BW_MEM_OK;
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		goto out;
	rc = lock_group(svc, id, group_name);
	if (rc == BW_ENOTFOUND) {
		*result = BW_MEM_NO_GROUP;
		rc = BW_OK;
	}
	if (rc == BW_OK && *result == BW_MEM_OK) {
		rc = bw_db_query(svc->db, svc->arena, sql_user, &uid, 1, &r);
		if (rc == BW_OK && r.nrows == 0)
			*result = BW_MEM_NO_USER;
		else if (rc == BW_OK)
			*email = bw_db_cell(&r, 0, 0);
	}
	if (rc == BW_OK && *result == BW_MEM_OK) {
		rc = bw_db_exec(svc->db, sql_add, args, 2, NULL, NULL);
		if (rc == BW_ECONFLICT) {
			*result = BW_MEM_EXISTS;
			rc = BW_OK;
		}
	}
	if (rc == BW_OK && *result == BW_MEM_OK) {
		json_object_object_add(detail, "user_id", json_object_new_int64(user_id));
		json_object_object_add(detail, "user_email", json_object_new_string(*email));
		struct bw_audit entry = {"group.member.add", "group", *group_name, NULL, detail};
		rc = bw_audit_write(svc, actor, &entry);
	}
	if (rc == BW_OK && *result == BW_MEM_OK)
		rc = bw_db_commit(svc->db);
	else
		bw_db_rollback(svc->db);
out:
	json_object_put(detail);
	return rc;
}

enum bw_err bw_groups_remove_member(struct bw_svc *svc, const struct bw_actor *actor, long long id,
				    long long user_id, enum bw_member_result *result)
{
	const char *name = NULL;
	unsigned long long removed = 0;
	struct bw_dbarg args[] = {bw_dba_int(id), bw_dba_int(user_id)};
	struct json_object *detail = json_object_new_object();
	if (detail == NULL)
		return BW_ENOMEM;
	json_object_object_add(detail, "user_id", json_object_new_int64(user_id));
	*result = BW_MEM_OK;
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		goto out;
	rc = lock_group(svc, id, &name);
	if (rc == BW_ENOTFOUND) {
		*result = BW_MEM_NO_GROUP;
		rc = BW_OK;
	}
	if (rc == BW_OK && *result == BW_MEM_OK)
		rc = bw_db_exec(svc->db, sql_remove, args, 2, &removed, NULL);
	if (rc == BW_OK && *result == BW_MEM_OK && removed == 0)
		*result = BW_MEM_NOT_MEMBER;
	if (rc == BW_OK && *result == BW_MEM_OK) {
		struct bw_audit entry = {"group.member.remove", "group", name, NULL, detail};
		rc = bw_audit_write(svc, actor, &entry);
	}
	if (rc == BW_OK && *result == BW_MEM_OK)
		rc = bw_db_commit(svc->db);
	else
		bw_db_rollback(svc->db);
out:
	json_object_put(detail);
	return rc;
}
