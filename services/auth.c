/* auth: see auth.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/crypto.h"
#include "lib/jsonu.h"
#include "lib/log.h"
#include "services/auth.h"
#include "services/authcache.h"
#include "services/password.h"

#define RANK_OF(col) "FIELD(" col ", 'viewer', 'operator', 'admin')"

/* While no user exists (setup pending) no key authenticates, as the reference (§0.3).
 * The last column tells whether the "last used/seen" stamp is older than a second: only then is
 * it written, so a busy key or session costs a read per request, not a commit. */
static const char sql_by_key[] =
    "SELECT id, name, role, last_used IS NULL OR last_used < UTC_TIMESTAMP(6) - INTERVAL 1 SECOND,"
    " COALESCE(UNIX_TIMESTAMP(expires_at), 0)"
    " FROM service_principals WHERE key_hash = ?"
    " AND (expires_at IS NULL OR expires_at > UTC_TIMESTAMP(6)) AND EXISTS (SELECT 1 FROM users)";
static const char sql_key_used[] =
    "UPDATE service_principals SET last_used = UTC_TIMESTAMP(6) WHERE id = ?";
static const char sql_by_session[] =
    "SELECT s.id, u.id, u.email, u.role, s.last_seen < UTC_TIMESTAMP(6) - INTERVAL 1 SECOND,"
    " UNIX_TIMESTAMP(LEAST(s.expires_at, s.last_seen + INTERVAL ? SECOND))"
    " FROM sessions s JOIN users u ON u.id = s.user_id"
    " WHERE s.token_hash = ? AND s.expires_at > UTC_TIMESTAMP(6)"
    " AND s.last_seen > UTC_TIMESTAMP(6) - INTERVAL ? SECOND"
    " AND u.is_active = 1 AND u.invite_token_hash IS NULL";
static const char sql_session_seen[] =
    "UPDATE sessions SET last_seen = UTC_TIMESTAMP(6) WHERE id = ?";
static const char sql_user_roles[] = "SELECT (SELECT " RANK_OF(
    "r.role") " FROM user_gateway_roles r"
	      "  JOIN gateways g ON g.id = r.gateway_id WHERE r.user_id = ? AND g.name = ?),"
	      " (SELECT MAX(" RANK_OF(
		  "r.role") ") FROM group_gateway_roles r"
			    "  JOIN group_members m ON m.group_id = r.group_id JOIN gateways g ON "
			    "g.id = r.gateway_id"
			    "  WHERE m.user_id = ? AND g.name = ?),"
			    " (SELECT MAX(" RANK_OF(
				"gr.role") ") FROM auth_groups gr"
					   "  JOIN group_members m ON m.group_id = gr.id WHERE "
					   "m.user_id = ?)";
static const char sql_sp_roles[] =
    "SELECT " RANK_OF("r.role") " FROM sp_gateway_roles r"
				" JOIN gateways g ON g.id = r.gateway_id"
				" WHERE r.sp_id = ? AND g.name = ?";
static const char sql_count_users[] = "SELECT COUNT(*) FROM users";
static const char sql_count_users_locked[] = "SELECT COUNT(*) FROM users FOR UPDATE";
static const char sql_insert_admin[] =
    "INSERT INTO users (email, hashed_password, role, is_active, created_at)"
    " VALUES (?, ?, 'admin', 1, UTC_TIMESTAMP(6))";
static const char sql_insert_session[] =
    "INSERT INTO sessions (token_hash, user_id, created_at, last_seen, expires_at, client_ip,"
    " user_agent) VALUES (?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6),"
    " UTC_TIMESTAMP(6) + INTERVAL ? SECOND, ?, ?)";
static const char sql_login_user[] =
    "SELECT id, email, role, hashed_password, is_active = 1 AND invite_token_hash IS NULL"
    " FROM users WHERE email = ?";
static const char sql_session_owner[] =
    "SELECT u.email FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?";
static const char sql_delete_session[] = "DELETE FROM sessions WHERE token_hash = ?";

static enum bw_rank rank_cell(const char *cell)
{
	if (cell == NULL)
		return BW_RANK_NONE;
	long v = strtol(cell, NULL, 10);
	return v >= 1 && v <= 3 ? (enum bw_rank)(v - 1) : BW_RANK_NONE;
}

void bw_auth_audit(struct bw_svc *svc, const struct bw_actor *actor, const struct bw_audit *e)
{
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc == BW_OK)
		rc = bw_audit_write(svc, actor, e);
	if (rc == BW_OK)
		rc = bw_db_commit(svc->db);
	else
		bw_db_rollback(svc->db);
	if (rc != BW_OK)
		bw_log(BW_LOG_ERROR, "auth", actor->request_id, "audit row %s not written: %s",
		       e->action, bw_strerror(rc));
}

enum bw_err bw_auth_by_key(struct bw_svc *svc, const char *key, struct bw_principal *out)
{
	char hex[65];
	struct bw_dbres r;
	bw_sha256_hex(key, strlen(key), hex);
	uint64_t epoch = bw_authcache_epoch(svc);
	if (svc->authcache != NULL &&
	    bw_authcache_get(svc->authcache, hex, epoch, time(NULL), svc->arena, out))
		return BW_OK;
	struct bw_dbarg arg = bw_dba_text(hex);
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_by_key, &arg, 1, &r);
	if (rc != BW_OK)
		return rc;
	if (r.nrows == 0)
		return BW_ENOTFOUND;
	memset(out, 0, sizeof(*out));
	out->kind = BW_PRINC_SP;
	out->id = atoll(bw_db_cell(&r, 0, 0));
	out->name = bw_db_cell(&r, 0, 1);
	out->role = bw_rank_parse(bw_db_cell(&r, 0, 2));
	out->actor = bw_arena_printf(svc->arena, "sp:%s", out->name);
	if (out->actor == NULL)
		return BW_ENOMEM;
	struct bw_dbarg id = bw_dba_int(out->id);
	if (strcmp(bw_db_cell(&r, 0, 3), "1") == 0 &&
	    bw_db_exec(svc->db, sql_key_used, &id, 1, NULL, NULL) != BW_OK)
		bw_log(BW_LOG_WARN, "auth", NULL, "last_used of %s not updated", out->actor);
	if (svc->authcache != NULL)
		bw_authcache_put(svc->authcache, hex, epoch, atoll(bw_db_cell(&r, 0, 4)), out);
	return BW_OK;
}

enum bw_err bw_auth_by_session(struct bw_svc *svc, const char *token, struct bw_principal *out)
{
	char hex[65];
	struct bw_dbres r;
	bw_sha256_hex(token, strlen(token), hex);
	uint64_t epoch = bw_authcache_epoch(svc);
	if (svc->authcache != NULL &&
	    bw_authcache_get(svc->authcache, hex, epoch, time(NULL), svc->arena, out)) {
		out->session = bw_arena_strdup(svc->arena, token);
		return out->session != NULL ? BW_OK : BW_ENOMEM;
	}
	struct bw_dbarg args[] = {bw_dba_int(svc->conf->session_idle_timeout), bw_dba_text(hex),
				  bw_dba_int(svc->conf->session_idle_timeout)};
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_by_session, args, 3, &r);
	if (rc != BW_OK)
		return rc;
	if (r.nrows == 0)
		return BW_ENOTFOUND;
	memset(out, 0, sizeof(*out));
	out->kind = BW_PRINC_USER;
	out->id = atoll(bw_db_cell(&r, 0, 1));
	out->email = bw_db_cell(&r, 0, 2);
	out->actor = out->email;
	out->role = bw_rank_parse(bw_db_cell(&r, 0, 3));
	out->session = bw_arena_strdup(svc->arena, token);
	if (out->session == NULL)
		return BW_ENOMEM;
	struct bw_dbarg id = bw_dba_int(atoll(bw_db_cell(&r, 0, 0)));
	if (strcmp(bw_db_cell(&r, 0, 4), "1") == 0 &&
	    bw_db_exec(svc->db, sql_session_seen, &id, 1, NULL, NULL) != BW_OK)
		bw_log(BW_LOG_WARN, "auth", NULL, "last_seen of a session not updated");
	if (svc->authcache != NULL)
		bw_authcache_put(svc->authcache, hex, epoch, atoll(bw_db_cell(&r, 0, 5)), out);
	return BW_OK;
}

enum bw_err bw_auth_role_inputs(struct bw_svc *svc, const struct bw_principal *p, const char *gw,
				struct bw_role_inputs *out)
{
	struct bw_dbres r;
	enum bw_err rc;
	out->is_sp = p->kind == BW_PRINC_SP;
	out->global = p->role;
	out->gw_override = out->group_gw_max = out->group_max = BW_RANK_NONE;
	if (p->kind == BW_PRINC_SP) {
		if (gw == NULL)
			return BW_OK;
		struct bw_dbarg args[] = {bw_dba_int(p->id), bw_dba_text(gw)};
		rc = bw_db_query(svc->db, svc->arena, sql_sp_roles, args, 2, &r);
		if (rc == BW_OK && r.nrows > 0)
			out->gw_override = rank_cell(bw_db_cell(&r, 0, 0));
		return rc;
	}
	if (p->kind != BW_PRINC_USER)
		return BW_OK;
	struct bw_dbarg args[] = {bw_dba_int(p->id), bw_dba_text(gw), bw_dba_int(p->id),
				  bw_dba_text(gw), bw_dba_int(p->id)};
	rc = bw_db_query(svc->db, svc->arena, sql_user_roles, args, 5, &r);
	if (rc != BW_OK)
		return rc;
	if (r.nrows == 1) {
		out->gw_override = rank_cell(bw_db_cell(&r, 0, 0));
		out->group_gw_max = rank_cell(bw_db_cell(&r, 0, 1));
		out->group_max = rank_cell(bw_db_cell(&r, 0, 2));
	}
	return BW_OK;
}

enum bw_err bw_auth_user_count(struct bw_svc *svc, long long *n)
{
	struct bw_dbres r;
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_count_users, NULL, 0, &r);
	if (rc == BW_OK)
		*n = r.nrows == 1 ? atoll(bw_db_cell(&r, 0, 0)) : 0;
	return rc;
}

/* Only printable ASCII of the User-Agent is kept: the column must never reject a login. */
static const char *clean_agent(struct bw_arena *a, const char *ua)
{
	if (ua == NULL)
		return NULL;
	char *out = bw_arena_alloc(a, 256);
	size_t n = 0;
	for (const char *p = ua; out != NULL && *p != '\0' && n < 255; p++)
		if (*p >= 0x20 && *p <= 0x7e)
			out[n++] = *p;
	if (out != NULL)
		out[n] = '\0';
	return out;
}

enum bw_err bw_auth_session_new(struct bw_svc *svc, long long user_id,
				const struct bw_client *client, const char **token)
{
	char hex[65];
	char *t = bw_token_new(svc->arena);
	if (t == NULL)
		return BW_ECRYPTO;
	bw_sha256_hex(t, strlen(t), hex);
	struct bw_dbarg args[] = {
	    bw_dba_text(hex),
	    bw_dba_int(user_id),
	    bw_dba_int(svc->conf->session_max_age),
	    bw_dba_text(client->ip != NULL && client->ip[0] != '\0' ? client->ip : NULL),
	    bw_dba_text(clean_agent(svc->arena, client->user_agent)),
	};
	enum bw_err rc = bw_db_exec(svc->db, sql_insert_session, args, 5, NULL, NULL);
	if (rc == BW_OK)
		*token = t;
	return rc;
}

static enum bw_err count_in_tx(struct bw_svc *svc, long long *n)
{
	struct bw_dbres r;
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_count_users_locked, NULL, 0, &r);
	if (rc == BW_OK)
		*n = r.nrows == 1 ? atoll(bw_db_cell(&r, 0, 0)) : 0;
	return rc;
}

enum bw_err bw_auth_setup(struct bw_svc *svc, const struct bw_actor *actor, const char *email,
			  const char *hash, const struct bw_client *client,
			  struct bw_principal *out, const char **token)
{
	long long users = 0;
	unsigned long long id = 0;
	struct bw_dbarg args[] = {bw_dba_text(email), bw_dba_text(hash)};
	struct bw_actor who = *actor;
	who.name = email;
	who.role = "admin";
	struct bw_audit entry = {"user.setup", "user", email, NULL, NULL};
	/* The locking count serializes two concurrent first set-ups: the second sees one user. */
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		return rc;
	rc = count_in_tx(svc, &users);
	if (rc == BW_OK && users > 0)
		rc = BW_ECONFLICT;
	if (rc == BW_OK)
		rc = bw_db_exec(svc->db, sql_insert_admin, args, 2, NULL, &id);
	if (rc == BW_OK)
		rc = bw_auth_session_new(svc, (long long)id, client, token);
	if (rc == BW_OK)
		rc = bw_audit_write(svc, &who, &entry);
	if (rc == BW_OK)
		rc = bw_db_commit(svc->db);
	else
		bw_db_rollback(svc->db);
	if (rc != BW_OK)
		return rc;
	memset(out, 0, sizeof(*out));
	out->kind = BW_PRINC_USER;
	out->id = (long long)id;
	out->email = email;
	out->actor = email;
	out->role = BW_RANK_ADMIN;
	out->session = *token;
	return BW_OK;
}

enum bw_err bw_auth_login(struct bw_svc *svc, const struct bw_actor *actor, const char *email,
			  const char *typed, const char *password, const struct bw_client *client,
			  struct bw_principal *out, const char **token)
{
	struct bw_dbres r;
	struct bw_dbarg arg = bw_dba_text(email);
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_login_user, &arg, 1, &r);
	if (rc != BW_OK)
		return rc;
	bool eligible = r.nrows == 1 && strcmp(bw_db_cell(&r, 0, 4), "1") == 0;
	/* Ineligible accounts are checked against the dummy hash: same cost, same answer. */
	bool ok = bw_password_verify(password, eligible ? bw_db_cell(&r, 0, 3) : NULL);
	struct bw_actor who = *actor;
	if (!ok) {
		who.name = typed;
		who.role = "unknown";
		struct bw_audit failed = {"user.login_failed", "user", typed, NULL, NULL};
		bw_auth_audit(svc, &who, &failed);
		return BW_ENOTFOUND;
	}
	memset(out, 0, sizeof(*out));
	out->kind = BW_PRINC_USER;
	out->id = atoll(bw_db_cell(&r, 0, 0));
	out->email = bw_db_cell(&r, 0, 1);
	out->actor = out->email;
	out->role = bw_rank_parse(bw_db_cell(&r, 0, 2));
	who.name = out->email;
	who.role = bw_rank_name(out->role);
	struct bw_audit entry = {"user.login", "user", out->email, NULL, NULL};
	rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		return rc;
	rc = bw_auth_session_new(svc, out->id, client, token);
	if (rc == BW_OK)
		rc = bw_audit_write(svc, &who, &entry);
	if (rc == BW_OK)
		rc = bw_db_commit(svc->db);
	else
		bw_db_rollback(svc->db);
	if (rc == BW_OK)
		out->session = *token;
	return rc;
}

enum bw_err bw_auth_logout(struct bw_svc *svc, const struct bw_actor *actor, const char *token)
{
	char hex[65];
	struct bw_dbres r;
	bw_sha256_hex(token, strlen(token), hex);
	struct bw_dbarg arg = bw_dba_text(hex);
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		return rc;
	rc = bw_db_query(svc->db, svc->arena, sql_session_owner, &arg, 1, &r);
	const char *who = rc == BW_OK && r.nrows == 1 ? bw_db_cell(&r, 0, 0) : "unknown";
	struct bw_audit entry = {"user.logout", "user", who, NULL, NULL};
	if (rc == BW_OK)
		rc = bw_db_exec(svc->db, sql_delete_session, &arg, 1, NULL, NULL);
	if (rc == BW_OK)
		rc = bw_audit_write(svc, actor, &entry);
	return bw_authcache_commit(svc, rc);
}

enum bw_err bw_auth_bootstrap_admin(struct bw_svc *svc, const char *email, const char *password,
				    bool *created)
{
	long long users = 0;
	const char *hash = NULL;
	unsigned long long id = 0;
	struct bw_actor system = {"system", "admin", NULL, NULL};
	struct bw_audit entry = {"user.bootstrap", "user", email, NULL, NULL};
	*created = false;
	enum bw_err rc = bw_password_hash(password, svc->arena, &hash);
	if (rc != BW_OK)
		return rc;
	struct bw_dbarg args[] = {bw_dba_text(email), bw_dba_text(hash)};
	rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		return rc;
	rc = count_in_tx(svc, &users);
	if (rc != BW_OK || users > 0) {
		bw_db_rollback(svc->db);
		return rc;
	}
	rc = bw_db_exec(svc->db, sql_insert_admin, args, 2, NULL, &id);
	if (rc == BW_OK)
		rc = bw_audit_write(svc, &system, &entry);
	if (rc == BW_OK)
		rc = bw_db_commit(svc->db);
	else
		bw_db_rollback(svc->db);
	*created = rc == BW_OK;
	return rc;
}
