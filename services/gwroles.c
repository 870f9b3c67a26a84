/* gwroles: see gwroles.h. */
#include "config.h"

#include "services/audit.h"
#include "services/gwroles.h"

struct subject_sql {
	const char *exists, *list, *set, *remove;
	const char *audit_set, *audit_remove, *resource_type;
};

static const struct subject_sql subjects[] = {
    [BW_SUBJ_USER] = {"SELECT 1 FROM users WHERE id = ?",
		      "SELECT g.name, r.role FROM user_gateway_roles r JOIN gateways g"
		      " ON g.id = r.gateway_id WHERE r.user_id = ? ORDER BY g.name",
		      "INSERT INTO user_gateway_roles (user_id, gateway_id, role)"
		      " SELECT ?, g.id, ? FROM gateways g WHERE g.name = ?"
		      " ON DUPLICATE KEY UPDATE role = VALUES(role)",
		      "DELETE r FROM user_gateway_roles r JOIN gateways g ON g.id = r.gateway_id"
		      " WHERE r.user_id = ? AND g.name = ?",
		      "user.gateway_role.set", "user.gateway_role.remove", "user"},
    [BW_SUBJ_SP] = {"SELECT 1 FROM service_principals WHERE id = ?",
		    "SELECT g.name, r.role FROM sp_gateway_roles r JOIN gateways g"
		    " ON g.id = r.gateway_id WHERE r.sp_id = ? ORDER BY g.name",
		    "INSERT INTO sp_gateway_roles (sp_id, gateway_id, role)"
		    " SELECT ?, g.id, ? FROM gateways g WHERE g.name = ?"
		    " ON DUPLICATE KEY UPDATE role = VALUES(role)",
		    "DELETE r FROM sp_gateway_roles r JOIN gateways g ON g.id = r.gateway_id"
		    " WHERE r.sp_id = ? AND g.name = ?",
		    "sp.gateway_role.set", "sp.gateway_role.remove", "service_principal"},
    [BW_SUBJ_GROUP] = {"SELECT 1 FROM auth_groups WHERE id = ?",
		       "SELECT g.name, r.role FROM group_gateway_roles r JOIN gateways g"
		       " ON g.id = r.gateway_id WHERE r.group_id = ? ORDER BY g.name",
		       "INSERT INTO group_gateway_roles (group_id, gateway_id, role)"
		       " SELECT ?, g.id, ? FROM gateways g WHERE g.name = ?"
		       " ON DUPLICATE KEY UPDATE role = VALUES(role)",
		       "DELETE r FROM group_gateway_roles r JOIN gateways g ON g.id = r.gateway_id"
		       " WHERE r.group_id = ? AND g.name = ?",
		       "group.gateway_role.set", "group.gateway_role.remove", "group"},
};

/* Locks the subject row for the transaction (so a concurrent delete cannot race the write). */
static enum bw_err subject_exists(struct bw_svc *svc, enum bw_subject kind, long long id,
				  bool *exists)
{
	struct bw_dbres r;
	struct bw_dbarg arg = bw_dba_int(id);
	enum bw_err rc = bw_db_query(svc->db, svc->arena, subjects[kind].exists, &arg, 1, &r);
	*exists = rc == BW_OK && r.nrows > 0;
	return rc;
}

enum bw_err bw_gwroles_list(struct bw_svc *svc, enum bw_subject kind, long long id,
			    struct bw_gw_role **items, size_t *n)
{
	bool exists = false;
	struct bw_dbres r;
	enum bw_err rc = subject_exists(svc, kind, id, &exists);
	if (rc != BW_OK)
		return rc;
	if (!exists)
		return BW_ENOTFOUND;
	struct bw_dbarg arg = bw_dba_int(id);
	rc = bw_db_query(svc->db, svc->arena, subjects[kind].list, &arg, 1, &r);
	if (rc != BW_OK)
		return rc;
	struct bw_gw_role *list = bw_arena_alloc(svc->arena, sizeof(*list) * (r.nrows + 1));
	if (list == NULL)
		return BW_ENOMEM;
	for (size_t i = 0; i < r.nrows; i++) {
		list[i].gateway_name = bw_db_cell(&r, i, 0);
		list[i].role = bw_db_cell(&r, i, 1);
	}
	*items = list;
	*n = r.nrows;
	return BW_OK;
}

static enum bw_err write_role(struct bw_svc *svc, const struct bw_actor *actor,
			      enum bw_subject kind, long long id, const char *gw, enum bw_rank role,
			      bool set, enum bw_gwrole_result *result)
{
	bool exists = false;
	unsigned long long affected = 0;
	char *rid = bw_arena_printf(svc->arena, "%lld", id);
	struct json_object *detail = json_object_new_object();
	if (rid == NULL || detail == NULL) {
		json_object_put(detail);
		return BW_ENOMEM;
	}
	json_object_object_add(detail, "gateway", json_object_new_string(gw));
	if (set)
		json_object_object_add(detail, "role", json_object_new_string(bw_rank_name(role)));
	const struct subject_sql *q = &subjects[kind];
	struct bw_audit entry = {set ? q->audit_set : q->audit_remove, q->resource_type, rid, NULL,
				 detail};
	struct bw_dbarg set_args[] = {bw_dba_int(id), bw_dba_text(bw_rank_name(role)),
				      bw_dba_text(gw)};
	struct bw_dbarg rm_args[] = {bw_dba_int(id), bw_dba_text(gw)};
	*result = BW_GWR_OK;
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		goto out;
	rc = subject_exists(svc, kind, id, &exists);
	if (rc == BW_OK && !exists)
		*result = BW_GWR_NO_SUBJECT;
	if (rc == BW_OK && exists)
		rc = set ? bw_db_exec(svc->db, q->set, set_args, 3, &affected, NULL)
			 : bw_db_exec(svc->db, q->remove, rm_args, 2, &affected, NULL);
	if (rc == BW_OK && exists && affected == 0)
		*result = set ? BW_GWR_NO_GATEWAY : BW_GWR_NO_ROLE;
	if (rc == BW_OK && *result == BW_GWR_OK)
		rc = bw_audit_write(svc, actor, &entry);
	if (rc == BW_OK && *result == BW_GWR_OK)
		rc = bw_db_commit(svc->db);
	else
		bw_db_rollback(svc->db);
out:
	json_object_put(detail);
	return rc;
}

enum bw_err bw_gwroles_set(struct bw_svc *svc, const struct bw_actor *actor, enum bw_subject kind,
			   long long id, const char *gw, enum bw_rank role,
			   enum bw_gwrole_result *result)
{
	return write_role(svc, actor, kind, id, gw, role, true, result);
}

enum bw_err bw_gwroles_remove(struct bw_svc *svc, const struct bw_actor *actor,
			      enum bw_subject kind, long long id, const char *gw,
			      enum bw_gwrole_result *result)
{
	return write_role(svc, actor, kind, id, gw, BW_RANK_NONE, false, result);
}
