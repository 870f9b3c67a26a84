/* h_groups: groups, their members, and the per-gateway role overrides of users, service
 * principals and groups (/api/auth/.../gateway-roles). Shapes, codes and texts follow the
 * reference's route table (§6.1 rows 10-29). */
#include "config.h"

#include <string.h>

#include "fcgi/body.h"
#include "fcgi/request.h"
#include "fcgi/routes.h"
#include "lib/jsonu.h"
#include "lib/utf8.h"
#include "services/groups.h"
#include "services/gwroles.h"
#include "services/validate.h"

#define MAX_GROUP_NAME 100

struct subject_face {
	const char *param;     /* path parameter of the subject's id */
	const char *not_found; /* 404 detail for an unknown subject */
	const char *id_key;    /* its key in GatewayRoleResponse */
	bool strict;           /* gateway-name rule and the long role message (users, SPs) */
};

static const struct subject_face faces[] = {
    [BW_SUBJ_USER] = {"user_id", "User not found", "user_id", true},
    [BW_SUBJ_SP] = {"sp_id", "Service principal not found", "sp_id", true},
    [BW_SUBJ_GROUP] = {"group_id", "Group not found", "group_id", false},
};

static void reply_ok(struct bw_req *req)
{
	static const char ok[] = "{\"ok\":true}";
	bw_reply(req, 200, "application/json", ok, sizeof(ok) - 1);
}

static void bad_role(struct bw_req *req, const char *role, bool strict)
{
	if (strict)
		bw_reply_problem(req, 400, NULL,
				 "Invalid role: '%s' (must be one of ('admin', 'operator', "
				 "'viewer'))",
				 role);
	else
		bw_reply_problem(req, 400, NULL, "Invalid role: '%s'", role);
}

static struct json_object *gw_role_json(enum bw_subject kind, long long id, const char *gw,
					const char *role)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	json_object_object_add(o, "gateway_name", json_object_new_string(gw));
	json_object_object_add(o, "role", json_object_new_string(role));
	for (int k = BW_SUBJ_USER; k <= BW_SUBJ_GROUP; k++)
		json_object_object_add(o, faces[k].id_key,
				       k == (int)kind ? json_object_new_int64(id) : NULL);
	return o;
}

static void gwroles_list(struct bw_req *req, enum bw_subject kind)
{
	long long id;
	struct bw_gw_role *items = NULL;
	size_t n = 0;
	if (!bw_path_int(req, faces[kind].param, &id))
		return;
	enum bw_err rc = bw_gwroles_list(&req->svc, kind, id, &items, &n);
	if (rc == BW_ENOTFOUND) {
		bw_reply_problem(req, 404, NULL, "%s", faces[kind].not_found);
		return;
	}
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; arr != NULL && i < n; i++)
		json_object_array_add(arr,
				      gw_role_json(kind, id, items[i].gateway_name, items[i].role));
	bw_reply_json_owned(req, 200, arr);
}

/* The {gw} of a gateway-role route; users and SPs get the name rule. NULL after a reply. */
static const char *role_gateway(struct bw_req *req, enum bw_subject kind)
{
	const char *gw = bw_req_param(req, "gw");
	if (gw == NULL || (faces[kind].strict && !bw_valid_gateway_name(gw))) {
		bw_reply_problem(req, 400, NULL, "Invalid gateway name");
		return NULL;
	}
	return gw;
}

static void reply_gwrole_result(struct bw_req *req, enum bw_subject kind, enum bw_gwrole_result res,
				const char *gw)
{
	if (res == BW_GWR_NO_SUBJECT)
		bw_reply_problem(req, 404, NULL, "%s", faces[kind].not_found);
	else if (res == BW_GWR_NO_GATEWAY)
		bw_reply_problem(req, 404, NULL, "Gateway '%s' not found", gw);
	else
		bw_reply_problem(req, 404, NULL, "Gateway role not found");
}

static void gwroles_put(struct bw_req *req, enum bw_subject kind)
{
	long long id;
	struct bw_verrs v;
	bool present;
	const char *role = NULL;
	enum bw_gwrole_result res;
	if (!bw_path_int(req, faces[kind].param, &id) || !bw_body_require_object(req, &v))
		return;
	bw_body_string(req->json, "role", BW_REQUIRED, &v, &role, &present);
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	const char *gw = role_gateway(req, kind);
	if (gw == NULL)
		return;
	enum bw_rank rank = bw_rank_parse(role);
	if (rank == BW_RANK_NONE) {
		bad_role(req, role, faces[kind].strict);
		return;
	}
	enum bw_err rc = bw_gwroles_set(&req->svc, &req->actor, kind, id, gw, rank, &res);
	if (rc != BW_OK)
		bw_reply_err(req, rc);
	else if (res != BW_GWR_OK)
		reply_gwrole_result(req, kind, res, gw);
	else
		bw_reply_json_owned(req, 200, gw_role_json(kind, id, gw, bw_rank_name(rank)));
}

static void gwroles_delete(struct bw_req *req, enum bw_subject kind)
{
	long long id;
	enum bw_gwrole_result res;
	if (!bw_path_int(req, faces[kind].param, &id))
		return;
	const char *gw = role_gateway(req, kind);
	if (gw == NULL)
		return;
	enum bw_err rc = bw_gwroles_remove(&req->svc, &req->actor, kind, id, gw, &res);
	if (rc != BW_OK)
		bw_reply_err(req, rc);
	else if (res != BW_GWR_OK)
		reply_gwrole_result(req, kind, res, gw);
	else
		reply_ok(req);
}

void bw_h_user_gwroles_list(struct bw_req *req)
{
	gwroles_list(req, BW_SUBJ_USER);
}
void bw_h_user_gwroles_put(struct bw_req *req)
{
	gwroles_put(req, BW_SUBJ_USER);
}
void bw_h_user_gwroles_delete(struct bw_req *req)
{
	gwroles_delete(req, BW_SUBJ_USER);
}
void bw_h_sp_gwroles_list(struct bw_req *req)
{
	gwroles_list(req, BW_SUBJ_SP);
}
void bw_h_sp_gwroles_put(struct bw_req *req)
{
	gwroles_put(req, BW_SUBJ_SP);
}
void bw_h_sp_gwroles_delete(struct bw_req *req)
{
	gwroles_delete(req, BW_SUBJ_SP);
}
void bw_h_group_gwroles_list(struct bw_req *req)
{
	gwroles_list(req, BW_SUBJ_GROUP);
}
void bw_h_group_gwroles_put(struct bw_req *req)
{
	gwroles_put(req, BW_SUBJ_GROUP);
}
void bw_h_group_gwroles_delete(struct bw_req *req)
{
	gwroles_delete(req, BW_SUBJ_GROUP);
}

/* --- groups and members ------------------------------------------------------------------ */

/* GroupResponse; member_count NULL when with_count is false (single-group answers). */
static struct json_object *group_json(const struct bw_group *g, bool with_count)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	json_object_object_add(o, "id", json_object_new_int64(g->id));
	json_object_object_add(o, "name", json_object_new_string(g->name));
	json_object_object_add(o, "role", json_object_new_string(g->role));
	json_object_object_add(o, "description", bw_json_str_or_null(g->description));
	json_object_object_add(o, "created_at", json_object_new_string(g->created_at));
	json_object_object_add(o, "member_count",
			       with_count ? json_object_new_int64(g->member_count) : NULL);
	return o;
}

void bw_h_groups_list(struct bw_req *req)
{
	struct bw_group *items = NULL;
	size_t n = 0;
	enum bw_err rc = bw_groups_list(&req->svc, &items, &n);
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; arr != NULL && i < n; i++)
		json_object_array_add(arr, group_json(&items[i], true));
	bw_reply_json_owned(req, 200, arr);
}

static char *trimmed(struct bw_arena *a, const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	size_t n = strlen(s);
	while (n > 0 &&
	       (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	return bw_arena_strndup(a, s, n);
}

/* A group name, trimmed and checked; NULL after a reply. */
static const char *group_name(struct bw_req *req, const char *raw)
{
	char *name = trimmed(req->arena, raw);
	if (name == NULL) {
		bw_reply_err(req, BW_ENOMEM);
		return NULL;
	}
	if (name[0] == '\0') {
		bw_reply_problem(req, 400, NULL, "Name is required");
		return NULL;
	}
	if (bw_utf8_count(name, strlen(name)) > MAX_GROUP_NAME) {
		bw_reply_problem(req, 400, NULL, "Name must be at most %d characters",
				 MAX_GROUP_NAME);
		return NULL;
	}
	return name;
}

void bw_h_groups_create(struct bw_req *req)
{
	struct bw_verrs v;
	bool present;
	const char *raw = NULL, *role = NULL, *description = NULL;
	if (!bw_body_require_object(req, &v))
		return;
	bw_body_string(req->json, "name", BW_REQUIRED, &v, &raw, &present);
	bw_body_string(req->json, "role", 0, &v, &role, &present);
	bw_body_string(req->json, "description", BW_NULLABLE, &v, &description, &present);
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	enum bw_rank rank = role != NULL ? bw_rank_parse(role) : BW_RANK_VIEWER;
	if (rank == BW_RANK_NONE) {
		bad_role(req, role, false);
		return;
	}
	const char *name = group_name(req, raw);
	if (name == NULL)
		return;
	struct bw_group g;
	enum bw_err rc = bw_groups_create(&req->svc, &req->actor, name, rank, description, &g);
	if (rc == BW_ECONFLICT)
		bw_reply_problem(req, 409, NULL, "Group name already exists");
	else if (rc != BW_OK)
		bw_reply_err(req, rc);
	else
		bw_reply_json_owned(req, 201, group_json(&g, true));
}

void bw_h_groups_get(struct bw_req *req)
{
	long long id;
	struct bw_group g;
	struct bw_member *members = NULL;
	size_t n = 0;
	if (!bw_path_int(req, "group_id", &id))
		return;
	enum bw_err rc = bw_groups_get(&req->svc, id, &g, &members, &n);
	if (rc == BW_ENOTFOUND) {
		bw_reply_problem(req, 404, NULL, "Group not found");
		return;
	}
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	struct json_object *o = group_json(&g, false), *arr = json_object_new_array();
	for (size_t i = 0; arr != NULL && i < n; i++) {
		struct json_object *m = json_object_new_object();
		if (m == NULL)
			continue;
		json_object_object_add(m, "id", json_object_new_int64(members[i].id));
		json_object_object_add(m, "email", json_object_new_string(members[i].email));
		json_object_object_add(m, "role", json_object_new_string(members[i].role));
		json_object_array_add(arr, m);
	}
	if (o != NULL)
		json_object_object_add(o, "members", arr);
	else
		json_object_put(arr);
	bw_reply_json_owned(req, 200, o);
}

void bw_h_groups_update(struct bw_req *req)
{
	long long id;
	struct bw_verrs v;
	bool present;
	const char *raw = NULL, *role = NULL, *description = NULL;
	if (!bw_path_int(req, "group_id", &id) || !bw_body_require_object(req, &v))
		return;
	bw_body_string(req->json, "name", BW_NULLABLE, &v, &raw, &present);
	bw_body_string(req->json, "role", BW_NULLABLE, &v, &role, &present);
	bw_body_string(req->json, "description", BW_NULLABLE, &v, &description, &present);
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	struct bw_group_update u = {NULL, BW_RANK_NONE, description, json_object_new_object()};
	if (u.detail == NULL) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	bw_arena_defer(req->arena, bw_json_release, u.detail);
	if (role != NULL && (u.role = bw_rank_parse(role)) == BW_RANK_NONE) {
		bad_role(req, role, false);
		return;
	}
	if (raw != NULL && (u.name = group_name(req, raw)) == NULL)
		return;
	if (u.name != NULL)
		json_object_object_add(u.detail, "name", json_object_new_string(u.name));
	if (role != NULL)
		json_object_object_add(u.detail, "role", json_object_new_string(role));
	if (description != NULL)
		json_object_object_add(u.detail, "description",
				       json_object_new_string(description));
	struct bw_group g;
	enum bw_err rc = bw_groups_update(&req->svc, &req->actor, id, &u, &g);
	if (rc == BW_ENOTFOUND)
		bw_reply_problem(req, 404, NULL, "Group %lld not found", id);
	else if (rc == BW_ECONFLICT)
		bw_reply_problem(req, 409, NULL, "Group name already exists");
	else if (rc != BW_OK)
		bw_reply_err(req, rc);
	else
		bw_reply_json_owned(req, 200, group_json(&g, false));
}

void bw_h_groups_delete(struct bw_req *req)
{
	long long id;
	if (!bw_path_int(req, "group_id", &id))
		return;
	enum bw_err rc = bw_groups_delete(&req->svc, &req->actor, id);
	if (rc == BW_ENOTFOUND)
		bw_reply_problem(req, 404, NULL, "Group not found");
	else if (rc != BW_OK)
		bw_reply_err(req, rc);
	else
		reply_ok(req);
}

void bw_h_group_members_add(struct bw_req *req)
{
	long long id, user_id = 0;
	struct bw_verrs v;
	bool present;
	enum bw_member_result res;
	const char *gname = NULL, *email = NULL;
	if (!bw_path_int(req, "group_id", &id) || !bw_body_require_object(req, &v))
		return;
	bw_body_int(req->json, "user_id", BW_REQUIRED, &v, &user_id, &present);
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	enum bw_err rc =
	    bw_groups_add_member(&req->svc, &req->actor, id, user_id, &res, &gname, &email);
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	if (res == BW_MEM_NO_GROUP) {
		bw_reply_problem(req, 404, NULL, "Group %lld not found", id);
		return;
	}
	if (res == BW_MEM_NO_USER) {
		bw_reply_problem(req, 404, NULL, "User %lld not found", user_id);
		return;
	}
	if (res == BW_MEM_EXISTS) {
		bw_reply_problem(req, 409, NULL, "User is already a member");
		return;
	}
	struct json_object *o = json_object_new_object();
	if (o != NULL) {
		json_object_object_add(o, "group_id", json_object_new_int64(id));
		json_object_object_add(o, "group_name", json_object_new_string(gname));
		json_object_object_add(o, "user_id", json_object_new_int64(user_id));
		json_object_object_add(o, "user_email", json_object_new_string(email));
	}
	bw_reply_json_owned(req, 201, o);
}

void bw_h_group_members_remove(struct bw_req *req)
{
	long long id, user_id;
	enum bw_member_result res;
	if (!bw_path_int(req, "group_id", &id) || !bw_path_int(req, "user_id", &user_id))
		return;
	enum bw_err rc = bw_groups_remove_member(&req->svc, &req->actor, id, user_id, &res);
	if (rc != BW_OK)
		bw_reply_err(req, rc);
	else if (res == BW_MEM_NO_GROUP)
		bw_reply_problem(req, 404, NULL, "Group not found");
	else if (res == BW_MEM_NOT_MEMBER)
		bw_reply_problem(req, 404, NULL, "Membership not found");
	else
		reply_ok(req);
}
