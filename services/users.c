/* users: see users.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/crypto.h"
#include "services/authcache.h"
#include "services/audit.h"
#include "services/users.h"

#define TS(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%s.%f+00:00')"
#define SELECT_USER                                                              \
	"SELECT id, email, role, is_active, invite_token_hash IS NOT NULL, " TS( \
	    "created_at") ", oidc_provider FROM users"

static const char sql_user_get[] = SELECT_USER " WHERE id = ?";
static const char sql_user_list[] = SELECT_USER " ORDER BY created_at, id";
static const char sql_invite[] =
    "INSERT INTO users (email, role, is_active, invite_token_hash, invite_expires_at, created_at)"
    " VALUES (?, ?, 1, ?, UTC_TIMESTAMP(6) + INTERVAL ? SECOND, UTC_TIMESTAMP(6))";
static const char sql_invitee[] = "SELECT id, email, role FROM users WHERE invite_token_hash = ?"
				  " AND invite_expires_at > UTC_TIMESTAMP(6) FOR UPDATE";
static const char sql_accept[] =
    "UPDATE users SET hashed_password = ?, invite_token_hash = NULL, invite_expires_at = NULL"
    " WHERE id = ?";
static const char sql_register[] =
    "INSERT INTO users (email, hashed_password, role, is_active, created_at)"
    " VALUES (?, ?, 'viewer', 1, UTC_TIMESTAMP(6))";
static const char sql_target[] = "SELECT role, is_active FROM users WHERE id = ? FOR UPDATE";
static const char sql_other_admins[] =
    "SELECT COUNT(*) FROM users WHERE role = 'admin' AND is_active = 1 AND id <> ? FOR UPDATE";
static const char sql_user_delete[] = "DELETE FROM users WHERE id = ?";
static const char sql_user_exists[] = "SELECT 1 FROM users WHERE id = ?";
static const char sql_sessions[] = "SELECT id, " TS("created_at") ", " TS("last_seen") ", " TS(
    "expires_at") ", client_ip,"
		  " user_agent FROM sessions WHERE user_id = ? AND expires_at > UTC_TIMESTAMP(6)"
		  " AND last_seen > UTC_TIMESTAMP(6) - INTERVAL ? SECOND ORDER BY id";
static const char sql_revoke_all[] = "DELETE FROM sessions WHERE user_id = ?";
static const char sql_revoke_one[] = "DELETE FROM sessions WHERE user_id = ? AND id = ?";

static void row_to_user(const struct bw_dbres *r, size_t i, struct bw_user *u)
{
	u->id = atoll(bw_db_cell(r, i, 0));
	u->email = bw_db_cell(r, i, 1);
	u->role = bw_db_cell(r, i, 2);
	u->is_active = strcmp(bw_db_cell(r, i, 3), "1") == 0;
	u->pending_invite = strcmp(bw_db_cell(r, i, 4), "1") == 0;
	u->created_at = bw_db_cell(r, i, 5);
	u->oidc_provider = bw_db_cell(r, i, 6);
}

static enum bw_err get_user(struct bw_svc *svc, long long id, struct bw_user *out)
{
	struct bw_dbres r;
	struct bw_dbarg arg = bw_dba_int(id);
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_user_get, &arg, 1, &r);
	if (rc == BW_OK && r.nrows == 0)
		rc = BW_ENOTFOUND;
	if (rc == BW_OK)
		row_to_user(&r, 0, out);
	return rc;
}

/* Every write here changes who may authenticate as what. */
static enum bw_err finish(struct bw_svc *svc, enum bw_err rc)
{
	return bw_authcache_commit(svc, rc);
}

enum bw_err bw_users_invite(struct bw_svc *svc, const struct bw_actor *actor, const char *email,
			    enum bw_rank role, int max_age, struct bw_user *out, const char **token)
{
	char hex[65];
	unsigned long long id = 0;
	char *t = bw_token_new(svc->arena);
	if (t == NULL)
		return BW_ECRYPTO;
	bw_sha256_hex(t, strlen(t), hex);
	struct bw_dbarg args[] = {bw_dba_text(email), bw_dba_text(bw_rank_name(role)),
				  bw_dba_text(hex), bw_dba_int(max_age)};
	struct json_object *detail = json_object_new_object();
	if (detail == NULL)
		return BW_ENOMEM;
	json_object_object_add(detail, "role", json_object_new_string(bw_rank_name(role)));
	struct bw_audit entry = {"user.invite", "user", email, NULL, detail};
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc == BW_OK) {
		rc = bw_db_exec(svc->db, sql_invite, args, 4, NULL, &id);
		if (rc == BW_OK)
			rc = bw_audit_write(svc, actor, &entry);
		rc = finish(svc, rc);
	}
	json_object_put(detail);
	if (rc == BW_OK)
		rc = get_user(svc, (long long)id, out);
	if (rc == BW_OK)
		*token = t;
	return rc;
}

static void fill_principal(struct bw_principal *p, long long id, const char *email,
			   const char *role, const char *session)
{
	memset(p, 0, sizeof(*p));
	p->kind = BW_PRINC_USER;
	p->id = id;
	p->email = email;
	p->actor = email;
	p->role = bw_rank_parse(role);
	p->session = session;
}

enum bw_err bw_users_accept(struct bw_svc *svc, const struct bw_actor *actor, const char *token,
			    const char *hash, const struct bw_client *client,
			    struct bw_principal *out, const char **session)
{
	char hex[65];
	struct bw_dbres r;
	bw_sha256_hex(token, strlen(token), hex);
	struct bw_dbarg arg = bw_dba_text(hex);
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		return rc;
	/* The row lock makes the token single-use even when two accepts race. */
	rc = bw_db_query(svc->db, svc->arena, sql_invitee, &arg, 1, &r);
	if (rc == BW_OK && r.nrows == 0)
		rc = BW_ENOTFOUND;
	if (rc != BW_OK) {
		bw_db_rollback(svc->db);
		return rc;
	}
	long long id = atoll(bw_db_cell(&r, 0, 0));
	const char *email = bw_db_cell(&r, 0, 1), *role = bw_db_cell(&r, 0, 2);
	struct bw_dbarg args[] = {bw_dba_text(hash), bw_dba_int(id)};
	struct bw_actor who = *actor;
	who.name = email;
	who.role = role;
	struct bw_audit entry = {"user.invite.accept", "user", email, NULL, NULL};
	rc = bw_db_exec(svc->db, sql_accept, args, 2, NULL, NULL);
	if (rc == BW_OK)
		rc = bw_auth_session_new(svc, id, client, session);
	if (rc == BW_OK)
		rc = bw_audit_write(svc, &who, &entry);
	rc = finish(svc, rc);
	if (rc == BW_OK)
		fill_principal(out, id, email, role, *session);
	return rc;
}

enum bw_err bw_users_register(struct bw_svc *svc, const struct bw_actor *actor, const char *email,
			      const char *hash, const struct bw_client *client,
			      struct bw_principal *out, const char **session)
{
	unsigned long long id = 0;
	struct bw_dbarg args[] = {bw_dba_text(email), bw_dba_text(hash)};
	struct bw_actor who = *actor;
	who.name = email;
	who.role = "viewer";
	struct bw_audit entry = {"user.register", "user", email, NULL, NULL};
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		return rc;
	rc = bw_db_exec(svc->db, sql_register, args, 2, NULL, &id);
	if (rc == BW_OK)
		rc = bw_auth_session_new(svc, (long long)id, client, session);
	if (rc == BW_OK)
		rc = bw_audit_write(svc, &who, &entry);
	rc = finish(svc, rc);
	if (rc == BW_OK)
		fill_principal(out, (long long)id, email, "viewer", *session);
	return rc;
}

enum bw_err bw_users_list(struct bw_svc *svc, struct bw_user **items, size_t *n)
{
	struct bw_dbres r;
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_user_list, NULL, 0, &r);
	if (rc != BW_OK)
		return rc;
	struct bw_user *list = bw_arena_alloc(svc->arena, sizeof(*list) * (r.nrows + 1));
	if (list == NULL)
		return BW_ENOMEM;
	for (size_t i = 0; i < r.nrows; i++)
		row_to_user(&r, i, &list[i]);
	*items = list;
	*n = r.nrows;
	return BW_OK;
}

enum bw_err bw_users_delete(struct bw_svc *svc, const struct bw_actor *actor, long long id,
			    enum bw_users_delete_result *result)
{
	struct bw_dbres r;
	struct bw_dbarg arg = bw_dba_int(id);
	char *rid = bw_arena_printf(svc->arena, "%lld", id);
	if (rid == NULL)
		return BW_ENOMEM;
	struct bw_audit entry = {"user.delete", "user", rid, NULL, NULL};
	*result = BW_UDEL_OK;
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		return rc;
	rc = bw_db_query(svc->db, svc->arena, sql_target, &arg, 1, &r);
	if (rc == BW_OK && r.nrows == 0)
		*result = BW_UDEL_NOT_FOUND;
	if (rc == BW_OK && *result == BW_UDEL_OK && strcmp(bw_db_cell(&r, 0, 0), "admin") == 0 &&
	    strcmp(bw_db_cell(&r, 0, 1), "1") == 0) {
		/* Only active admins other than the target count; locked so two concurrent
		 * deletions cannot remove the last two admins. */
		struct bw_dbres c;
		rc = bw_db_query(svc->db, svc->arena, sql_other_admins, &arg, 1, &c);
		if (rc == BW_OK && atoll(bw_db_cell(&c, 0, 0)) == 0)
			*result = BW_UDEL_LAST_ADMIN;
	}
	if (rc == BW_OK && *result == BW_UDEL_OK)
		rc = bw_db_exec(svc->db, sql_user_delete, &arg, 1, NULL, NULL);
	if (rc == BW_OK && *result == BW_UDEL_OK)
		rc = bw_audit_write(svc, actor, &entry);
	if (rc == BW_OK && *result != BW_UDEL_OK) {
		bw_db_rollback(svc->db);
		return BW_OK;
	}
	return finish(svc, rc);
}

static enum bw_err user_exists(struct bw_svc *svc, long long id)
{
	struct bw_dbres r;
	struct bw_dbarg arg = bw_dba_int(id);
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_user_exists, &arg, 1, &r);
	return rc == BW_OK && r.nrows == 0 ? BW_ENOTFOUND : rc;
}

enum bw_err bw_users_sessions(struct bw_svc *svc, long long user_id, struct bw_session_info **items,
			      size_t *n)
{
	struct bw_dbres r;
	enum bw_err rc = user_exists(svc, user_id);
	if (rc != BW_OK)
		return rc;
	struct bw_dbarg args[] = {bw_dba_int(user_id), bw_dba_int(svc->conf->session_idle_timeout)};
	rc = bw_db_query(svc->db, svc->arena, sql_sessions, args, 2, &r);
	if (rc != BW_OK)
		return rc;
	struct bw_session_info *list = bw_arena_alloc(svc->arena, sizeof(*list) * (r.nrows + 1));
	if (list == NULL)
		return BW_ENOMEM;
	for (size_t i = 0; i < r.nrows; i++) {
		list[i].id = atoll(bw_db_cell(&r, i, 0));
		list[i].created_at = bw_db_cell(&r, i, 1);
		list[i].last_seen = bw_db_cell(&r, i, 2);
		list[i].expires_at = bw_db_cell(&r, i, 3);
		list[i].client_ip = bw_db_cell(&r, i, 4);
		list[i].user_agent = bw_db_cell(&r, i, 5);
	}
	*items = list;
	*n = r.nrows;
	return BW_OK;
}

enum bw_err bw_users_revoke(struct bw_svc *svc, const struct bw_actor *actor, long long user_id,
			    long long session_id, unsigned long long *revoked)
{
	char *rid = bw_arena_printf(svc->arena, "%lld", user_id);
	struct json_object *detail = json_object_new_object();
	if (rid == NULL || detail == NULL) {
		json_object_put(detail);
		return BW_ENOMEM;
	}
	struct bw_audit entry = {"user.sessions.revoke", "user", rid, NULL, detail};
	struct bw_dbarg args[] = {bw_dba_int(user_id), bw_dba_int(session_id)};
	*revoked = 0;
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		goto out;
	rc = user_exists(svc, user_id);
	if (rc == BW_OK)
		rc = bw_db_exec(svc->db, session_id > 0 ? sql_revoke_one : sql_revoke_all, args,
				session_id > 0 ? 2 : 1, revoked, NULL);
	if (rc == BW_OK && session_id > 0 && *revoked == 0)
		rc = BW_ENOTFOUND;
	if (rc == BW_OK) {
		if (session_id > 0)
			json_object_object_add(detail, "session_id",
					       json_object_new_int64(session_id));
		json_object_object_add(detail, "revoked", json_object_new_int64((int64_t)*revoked));
		rc = bw_audit_write(svc, actor, &entry);
	}
	rc = finish(svc, rc);
out:
	json_object_put(detail);
	return rc;
}
