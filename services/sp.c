/* sp: see sp.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/crypto.h"
#include "services/authcache.h"
#include "services/audit.h"
#include "services/sp.h"

#define TS(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%s.%f+00:00')"
#define SELECT_SP                                                                   \
	"SELECT id, name, role, key_prefix, created_by, " TS("created_at") ", " TS( \
	    "last_used") ", " TS("expires_at") " FROM service_principals"

static const char sql_get[] = SELECT_SP " WHERE id = ?";
static const char sql_list[] = SELECT_SP " ORDER BY id";
static const char sql_insert[] =
    "INSERT INTO service_principals (name, key_hash, key_prefix, role, created_by, created_at,"
    " expires_at) VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(6), ?)";
static const char sql_delete[] = "DELETE FROM service_principals WHERE id = ?";
static const char sql_rotate[] =
    "UPDATE service_principals SET key_hash = ?, key_prefix = ? WHERE id = ?";

static void row_to_sp(const struct bw_dbres *r, size_t i, struct bw_sp *sp)
{
	sp->id = atoll(bw_db_cell(r, i, 0));
	sp->name = bw_db_cell(r, i, 1);
	sp->role = bw_db_cell(r, i, 2);
	sp->key_prefix = bw_db_cell(r, i, 3);
	sp->created_by = bw_db_cell(r, i, 4) != NULL ? atoll(bw_db_cell(r, i, 4)) : 0;
	sp->created_at = bw_db_cell(r, i, 5);
	sp->last_used = bw_db_cell(r, i, 6);
	sp->expires_at = bw_db_cell(r, i, 7);
}

static enum bw_err get_sp(struct bw_svc *svc, long long id, struct bw_sp *out)
{
	struct bw_dbres r;
	struct bw_dbarg arg = bw_dba_int(id);
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_get, &arg, 1, &r);
	if (rc != BW_OK)
		return rc;
	if (r.nrows == 0)
		return BW_ENOTFOUND;
	row_to_sp(&r, 0, out);
	return BW_OK;
}

/* A new key, its hash and display prefix (arena / caller buffers). */
static enum bw_err new_key(struct bw_svc *svc, const char **key, char hex[65],
			   char prefix[BW_SP_KEY_PREFIX_CHARS + 1])
{
	char *k = bw_sp_key_new(svc->arena);
	if (k == NULL)
		return BW_ECRYPTO;
	bw_sha256_hex(k, strlen(k), hex);
	memcpy(prefix, k, BW_SP_KEY_PREFIX_CHARS);
	prefix[BW_SP_KEY_PREFIX_CHARS] = '\0';
	*key = k;
	return BW_OK;
}

/* Every write here changes who may authenticate as what. */
static enum bw_err finish(struct bw_svc *svc, enum bw_err rc)
{
	return bw_authcache_commit(svc, rc);
}

enum bw_err bw_sp_create(struct bw_svc *svc, const struct bw_actor *actor, const char *name,
			 enum bw_rank role, const char *expires_at, long long created_by,
			 struct bw_sp *out, const char **key)
{
	char hex[65], prefix[BW_SP_KEY_PREFIX_CHARS + 1];
	unsigned long long id = 0;
	enum bw_err rc = new_key(svc, key, hex, prefix);
	if (rc != BW_OK)
		return rc;
	struct bw_dbarg args[] = {
	    bw_dba_text(name),
	    bw_dba_text(hex),
	    bw_dba_text(prefix),
	    bw_dba_text(bw_rank_name(role)),
	    created_by > 0 ? bw_dba_int(created_by) : bw_dba_null(),
	    bw_dba_text(expires_at),
	};
	struct json_object *detail = json_object_new_object();
	if (detail == NULL)
		return BW_ENOMEM;
	json_object_object_add(detail, "role", json_object_new_string(bw_rank_name(role)));
	struct bw_audit entry = {"sp.create", "service_principal", name, NULL, detail};
	rc = bw_db_begin(svc->db);
	if (rc == BW_OK) {
		rc = bw_db_exec(svc->db, sql_insert, args, 6, NULL, &id);
		if (rc == BW_OK)
			rc = bw_audit_write(svc, actor, &entry);
		rc = finish(svc, rc);
	}
	json_object_put(detail);
	if (rc == BW_OK)
		rc = get_sp(svc, (long long)id, out);
	return rc;
}

enum bw_err bw_sp_list(struct bw_svc *svc, struct bw_sp **items, size_t *n)
{
	struct bw_dbres r;
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_list, NULL, 0, &r);
	if (rc != BW_OK)
		return rc;
	struct bw_sp *list = bw_arena_alloc(svc->arena, sizeof(*list) * (r.nrows + 1));
	if (list == NULL)
		return BW_ENOMEM;
	for (size_t i = 0; i < r.nrows; i++)
		row_to_sp(&r, i, &list[i]);
	*items = list;
	*n = r.nrows;
	return BW_OK;
}

enum bw_err bw_sp_delete(struct bw_svc *svc, const struct bw_actor *actor, long long id)
{
	unsigned long long deleted = 0;
	struct bw_dbarg arg = bw_dba_int(id);
	char *rid = bw_arena_printf(svc->arena, "%lld", id);
	if (rid == NULL)
		return BW_ENOMEM;
	struct bw_audit entry = {"sp.delete", "service_principal", rid, NULL, NULL};
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		return rc;
	rc = bw_db_exec(svc->db, sql_delete, &arg, 1, &deleted, NULL);
	if (rc == BW_OK && deleted == 0)
		rc = BW_ENOTFOUND;
	if (rc == BW_OK)
		rc = bw_audit_write(svc, actor, &entry);
	return finish(svc, rc);
}

enum bw_err bw_sp_rotate(struct bw_svc *svc, const struct bw_actor *actor, long long id,
			 struct bw_sp *out, const char **key)
{
	char hex[65], prefix[BW_SP_KEY_PREFIX_CHARS + 1];
	unsigned long long matched = 0;
	enum bw_err rc = new_key(svc, key, hex, prefix);
	if (rc != BW_OK)
		return rc;
	char *rid = bw_arena_printf(svc->arena, "%lld", id);
	if (rid == NULL)
		return BW_ENOMEM;
	struct bw_dbarg args[] = {bw_dba_text(hex), bw_dba_text(prefix), bw_dba_int(id)};
	struct bw_audit entry = {"sp.rotate", "service_principal", rid, NULL, NULL};
	rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		return rc;
	rc = bw_db_exec(svc->db, sql_rotate, args, 3, &matched, NULL);
	if (rc == BW_OK && matched == 0)
		rc = BW_ENOTFOUND;
	if (rc == BW_OK)
		rc = bw_audit_write(svc, actor, &entry);
	rc = finish(svc, rc);
	if (rc == BW_OK)
		rc = get_sp(svc, id, out);
	return rc;
}
