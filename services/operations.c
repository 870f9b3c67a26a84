/* operations: see operations.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crypto.h"
#include "lib/utf8.h"
#include "services/operations.h"

#define TS(c) "DATE_FORMAT(" c ", '%Y-%m-%dT%H:%i:%s.%f+00:00')"
#define OP_COLS                                                                             \
	"id, status, resource_type, " TS("created_at") ", " TS(                             \
	    "updated_at") ", progress,"                                                     \
			  " progress_message, result_json, error_message, error_code, " TS( \
			      "completed_at") ","                                           \
					      " gateway_name"
enum {
	C_ID,
	C_STATUS,
	C_TYPE,
	C_CREATED,
	C_UPDATED,
	C_PROGRESS,
	C_PMSG,
	C_RESULT,
	C_ERR,
	C_CODE,
	C_DONE,
	C_GW,
	C_NCOLS
};

static const char SQL_INSERT[] =
    "INSERT INTO operations (id, status, resource_type, resource_key, active_key,"
    " idempotency_key, actor, actor_role, gateway_name, request_json, request_sealed,"
    " created_at, updated_at) VALUES (?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?,"
    " UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))";
static const char SQL_BY_IDEM[] =
    "SELECT id, status, resource_type FROM operations WHERE actor = ? AND idempotency_key = ?";
static const char SQL_GET[] = "SELECT " OP_COLS " FROM operations WHERE id = ?";
static const char SQL_COUNT[] =
    "SELECT COUNT(*) FROM operations WHERE (? = '' OR status = ?) AND (? = '' OR resource_type = "
    "?) AND (? = '' OR gateway_name = ?) AND (? = '' OR actor = ?)";
static const char SQL_LIST[] =
    "SELECT " OP_COLS " FROM operations WHERE (? = '' OR status = ?) AND (? = '' OR "
    "resource_type = ?) AND (? = '' OR gateway_name = ?) AND (? = '' OR actor = ?)"
    " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?";
static const char SQL_CANCEL_PENDING[] =
    "UPDATE operations SET status = 'failed', error_code = 'cancelled',"
    " error_message = 'Operation was cancelled', active_key = NULL, lease_owner = NULL,"
    " lease_expires = NULL, completed_at = UTC_TIMESTAMP(6), updated_at = UTC_TIMESTAMP(6)"
    " WHERE id = ? AND status = 'pending'";
static const char SQL_CANCEL_RUNNING[] =
    "UPDATE operations SET status = 'cancelling', updated_at = UTC_TIMESTAMP(6)"
    " WHERE id = ? AND status = 'running'";
static const char SQL_COUNT_STATUS[] =
    "SELECT status, COUNT(*) FROM operations GROUP BY status ORDER BY status";
/* pending rows have no lease; active rows whose lease ran out belong to a dead worker. */
static const char SQL_CLAIM_PICK[] =
    "SELECT id FROM operations WHERE status = 'pending' OR (status IN ('running', 'cancelling')"
    " AND lease_expires < UTC_TIMESTAMP(6)) ORDER BY created_at, id LIMIT 1"
    " FOR UPDATE SKIP LOCKED";
static const char SQL_CLAIM_TAKE[] =
    "UPDATE operations SET status = IF(status = 'pending', 'running', status), lease_owner = ?,"
    " lease_expires = UTC_TIMESTAMP(6) + INTERVAL ? SECOND, attempts = attempts + 1,"
    " updated_at = UTC_TIMESTAMP(6) WHERE id = ?";
static const char SQL_CLAIM_READ[] =
    "SELECT id, resource_type, resource_key, gateway_name, actor, actor_role, request_json,"
    " request_sealed, attempts, status FROM operations WHERE id = ?";
static const char SQL_HEARTBEAT[] =
    "UPDATE operations SET lease_expires = UTC_TIMESTAMP(6) + INTERVAL ? SECOND"
    " WHERE lease_owner = ? AND status IN ('running', 'cancelling')";
static const char SQL_RELEASE[] =
    "UPDATE operations SET lease_expires = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND"
    " WHERE lease_owner = ? AND status IN ('running', 'cancelling')";
static const char SQL_OWNERS[] =
    "SELECT DISTINCT lease_owner FROM operations WHERE status IN ('running', 'cancelling')"
    " AND lease_owner IS NOT NULL";
static const char SQL_PROGRESS[] =
    "UPDATE operations SET progress = ?, progress_message = ?, updated_at = UTC_TIMESTAMP(6)"
    " WHERE id = ? AND lease_owner = ? AND status IN ('running', 'cancelling')";
static const char SQL_OWNED_STATUS[] =
    "SELECT status FROM operations WHERE id = ? AND lease_owner = ?";
static const char SQL_SUCCEED[] =
    "UPDATE operations SET status = 'succeeded', progress = 100, result_json = ?,"
    " active_key = NULL, lease_owner = NULL, lease_expires = NULL,"
    " completed_at = UTC_TIMESTAMP(6), updated_at = UTC_TIMESTAMP(6)"
    " WHERE id = ? AND lease_owner = ? AND status IN ('running', 'cancelling')";
static const char SQL_FAIL[] =
    "UPDATE operations SET status = 'failed', error_message = ?, error_code = ?,"
    " active_key = NULL, lease_owner = NULL, lease_expires = NULL,"
    " completed_at = UTC_TIMESTAMP(6), updated_at = UTC_TIMESTAMP(6)"
    " WHERE id = ? AND lease_owner = ? AND status IN ('running', 'cancelling')";
static const char SQL_CLEANUP[] =
    "DELETE FROM operations WHERE status IN ('succeeded', 'failed')"
    " AND completed_at < UTC_TIMESTAMP(6) - INTERVAL ? DAY LIMIT 10000";

bool bw_op_state_active(const char *status)
{
	return status != NULL &&
	       (strcmp(status, "pending") == 0 || strcmp(status, "running") == 0 ||
		strcmp(status, "cancelling") == 0);
}

enum bw_err bw_op_new_id(char out[BW_OP_ID_LEN + 1])
{
	unsigned char b[16];
	enum bw_err rc = bw_random(b, sizeof(b));
	if (rc != BW_OK)
		return rc;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, BW_OP_ID_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
	return BW_OK;
}

static enum bw_err by_idempotency(struct bw_svc *svc, const char *actor, const char *key,
				  struct bw_op_ref *out, bool *found)
{
	struct bw_dbres r;
	struct bw_dbarg a[] = {bw_dba_text(actor), bw_dba_text(key)};
	*found = false;
	enum bw_err rc = bw_db_query(svc->db, svc->arena, SQL_BY_IDEM, a, 2, &r);
	if (rc != BW_OK || r.nrows == 0)
		return rc;
	*found = true;
	out->id = bw_db_cell(&r, 0, 0);
	out->status = bw_db_cell(&r, 0, 1);
	out->resource_type = bw_db_cell(&r, 0, 2);
	return BW_OK;
}

enum bw_err bw_op_create(struct bw_svc *svc, const struct bw_actor *actor,
			 const struct bw_op_new *op, struct bw_op_ref *out, bool *replayed)
{
	char id[BW_OP_ID_LEN + 1];
	bool found = false;
	*replayed = false;
	enum bw_err rc = bw_op_new_id(id);
	if (rc != BW_OK)
		return rc;
	const char *idem = op->idempotency_key;
	if (idem != NULL) {
		rc = by_idempotency(svc, actor->name, idem, out, &found);
		if (rc != BW_OK || found) {
			*replayed = found;
			return rc;
		}
	}
	const char *active = op->unique
				 ? bw_arena_printf(svc->arena, "%s:%s/%s", op->resource_type,
						   op->gateway ? op->gateway : "", op->resource_key)
				 : NULL;
	if (op->unique && active == NULL)
		return BW_ENOMEM;
	struct bw_dbarg a[] = {bw_dba_text(id),
			       bw_dba_text(op->resource_type),
			       bw_dba_text(op->resource_key),
			       bw_dba_text(active),
			       bw_dba_text(idem),
			       bw_dba_text(actor->name),
			       bw_dba_text(actor->role ? actor->role : ""),
			       bw_dba_text(op->gateway),
			       bw_dba_text(op->request_json),
			       bw_dba_blob(op->sealed, op->sealed_len)};
	rc = bw_db_exec(svc->db, SQL_INSERT, a, sizeof(a) / sizeof(a[0]), NULL, NULL);
	if (rc == BW_ECONFLICT && idem != NULL) {
		/* Either a racing request with the same key won (replay it) or the resource is
		 * busy (409): the key decides, as the reference checks it first. */
		enum bw_err rc2 = by_idempotency(svc, actor->name, idem, out, &found);
		if (rc2 != BW_OK)
			return rc2;
		*replayed = found;
		return found ? BW_OK : BW_ECONFLICT;
	}
	if (rc != BW_OK)
		return rc;
	out->id = bw_arena_strdup(svc->arena, id);
	out->status = "pending";
	out->resource_type = op->resource_type;
	return out->id != NULL ? BW_OK : BW_ENOMEM;
}

static void row_to_op(const struct bw_dbres *r, size_t i, struct bw_op *o)
{
	o->id = bw_db_cell(r, i, C_ID);
	o->status = bw_db_cell(r, i, C_STATUS);
	o->resource_type = bw_db_cell(r, i, C_TYPE);
	o->created_at = bw_db_cell(r, i, C_CREATED);
	o->updated_at = bw_db_cell(r, i, C_UPDATED);
	o->progress = atoi(bw_db_cell(r, i, C_PROGRESS));
	o->progress_message = bw_db_cell(r, i, C_PMSG);
	o->result_json = bw_db_cell(r, i, C_RESULT);
	o->error = bw_db_cell(r, i, C_ERR);
	o->error_code = bw_db_cell(r, i, C_CODE);
	o->completed_at = bw_db_cell(r, i, C_DONE);
	o->gateway_name = bw_db_cell(r, i, C_GW);
}

enum bw_err bw_op_get(struct bw_svc *svc, const char *id, struct bw_op *out)
{
	struct bw_dbres r;
	struct bw_dbarg a[] = {bw_dba_text(id)};
	enum bw_err rc = bw_db_query(svc->db, svc->arena, SQL_GET, a, 1, &r);
	if (rc != BW_OK)
		return rc;
	if (r.nrows == 0)
		return BW_ENOTFOUND;
	row_to_op(&r, 0, out);
	return BW_OK;
}

static void put_str(struct json_object *o, const char *key, const char *v, bool sparse)
{
	if (v != NULL)
		json_object_object_add(o, key, json_object_new_string(v));
	else if (!sparse)
		json_object_object_add(o, key, NULL);
}

struct json_object *bw_op_json(const struct bw_op *op, bool sparse)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	json_object_object_add(o, "id", json_object_new_string(op->id));
	json_object_object_add(o, "status", json_object_new_string(op->status));
	json_object_object_add(o, "resource_type", json_object_new_string(op->resource_type));
	json_object_object_add(o, "progress", json_object_new_int(op->progress));
	json_object_object_add(o, "created_at", json_object_new_string(op->created_at));
	json_object_object_add(o, "updated_at", json_object_new_string(op->updated_at));
	put_str(o, "progress_message", op->progress_message, sparse);
	if (op->result_json != NULL) {
		struct json_object *res = json_tokener_parse(op->result_json);
		json_object_object_add(o, "result", res); /* corrupt JSON: null */
	} else if (!sparse) {
		json_object_object_add(o, "result", NULL);
	}
	put_str(o, "error", op->error, sparse);
	put_str(o, "error_code", op->error_code, sparse);
	put_str(o, "completed_at", op->completed_at, sparse);
	put_str(o, "gateway_name", op->gateway_name, sparse);
	return o;
}

static const char *or_empty(const char *s)
{
	return s != NULL ? s : "";
}

enum bw_err bw_op_list(struct bw_svc *svc, const struct bw_op_filter *f, long long limit,
		       long long offset, struct bw_op **items, size_t *n, long long *total)
{
	struct bw_dbres r;
	const char *st = or_empty(f->status), *ty = or_empty(f->resource_type),
		   *gw = or_empty(f->gateway), *ac = or_empty(f->actor);
	struct bw_dbarg a[] = {bw_dba_text(st),   bw_dba_text(st), bw_dba_text(ty),
			       bw_dba_text(ty),   bw_dba_text(gw), bw_dba_text(gw),
			       bw_dba_text(ac),   bw_dba_text(ac), bw_dba_int(limit),
			       bw_dba_int(offset)};
	*items = NULL;
	*n = 0;
	enum bw_err rc = bw_db_query(svc->db, svc->arena, SQL_COUNT, a, 8, &r);
	if (rc != BW_OK)
		return rc;
	*total = r.nrows > 0 ? atoll(bw_db_cell(&r, 0, 0)) : 0;
	rc = bw_db_query(svc->db, svc->arena, SQL_LIST, a, 10, &r);
	if (rc != BW_OK)
		return rc;
	if (r.nrows == 0)
		return BW_OK;
	*items = bw_arena_zalloc(svc->arena, r.nrows * sizeof(**items));
	if (*items == NULL)
		return BW_ENOMEM;
	for (size_t i = 0; i < r.nrows; i++)
		row_to_op(&r, i, &(*items)[i]);
	*n = r.nrows;
	return BW_OK;
}

enum bw_err bw_op_cancel(struct bw_svc *svc, const char *id, struct bw_op *out)
{
	unsigned long long affected = 0;
	struct bw_dbarg a[] = {bw_dba_text(id)};
	enum bw_err rc = bw_db_exec(svc->db, SQL_CANCEL_PENDING, a, 1, &affected, NULL);
	if (rc != BW_OK)
		return rc;
	if (affected == 0) {
		rc = bw_db_exec(svc->db, SQL_CANCEL_RUNNING, a, 1, &affected, NULL);
		if (rc != BW_OK)
			return rc;
	}
	if (affected == 0)
		return BW_ENOTFOUND;
	return bw_op_get(svc, id, out);
}

enum bw_err bw_op_count_by_status(struct bw_svc *svc, struct bw_dbres *out)
{
	return bw_db_query(svc->db, svc->arena, SQL_COUNT_STATUS, NULL, 0, out);
}

static enum bw_err claim_read(struct bw_svc *svc, const char *id, struct bw_op_claim *out)
{
	struct bw_dbres r;
	struct bw_dbarg a[] = {bw_dba_text(id)};
	enum bw_err rc = bw_db_query(svc->db, svc->arena, SQL_CLAIM_READ, a, 1, &r);
	if (rc != BW_OK)
		return rc;
	if (r.nrows == 0)
		return BW_ENOTFOUND;
	out->id = bw_db_cell(&r, 0, 0);
	out->resource_type = bw_db_cell(&r, 0, 1);
	out->resource_key = bw_db_cell(&r, 0, 2);
	out->gateway = bw_db_cell(&r, 0, 3);
	out->actor = bw_db_cell(&r, 0, 4);
	out->actor_role = bw_db_cell(&r, 0, 5);
	out->request_json = bw_db_cell(&r, 0, 6);
	out->sealed = (const uint8_t *)bw_db_cell(&r, 0, 7);
	out->sealed_len = out->sealed != NULL ? bw_db_len(&r, 0, 7) : 0;
	out->attempts = (unsigned)atoi(bw_db_cell(&r, 0, 8));
	out->cancelling = strcmp(bw_db_cell(&r, 0, 9), "cancelling") == 0;
	return BW_OK;
}

enum bw_err bw_op_claim(struct bw_svc *svc, const char *owner, int lease_s, struct bw_op_claim *out,
			bool *got)
{
	struct bw_dbres r;
	*got = false;
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		return rc;
	rc = bw_db_query(svc->db, svc->arena, SQL_CLAIM_PICK, NULL, 0, &r);
	if (rc != BW_OK || r.nrows == 0)
		goto out;
	const char *id = bw_db_cell(&r, 0, 0);
	struct bw_dbarg a[] = {bw_dba_text(owner), bw_dba_int(lease_s), bw_dba_text(id)};
	rc = bw_db_exec(svc->db, SQL_CLAIM_TAKE, a, 3, NULL, NULL);
	if (rc != BW_OK)
		goto out;
	rc = claim_read(svc, id, out);
	if (rc != BW_OK)
		goto out;
	rc = bw_db_commit(svc->db);
	*got = rc == BW_OK;
	return rc;
out:
	bw_db_rollback(svc->db);
	return rc;
}

enum bw_err bw_op_heartbeat(struct bw_svc *svc, const char *owner, int lease_s)
{
	struct bw_dbarg a[] = {bw_dba_int(lease_s), bw_dba_text(owner)};
	return bw_db_exec(svc->db, SQL_HEARTBEAT, a, 2, NULL, NULL);
}

enum bw_err bw_op_release_owner(struct bw_svc *svc, const char *owner)
{
	struct bw_dbarg a[] = {bw_dba_text(owner)};
	return bw_db_exec(svc->db, SQL_RELEASE, a, 1, NULL, NULL);
}

enum bw_err bw_op_lease_owners(struct bw_svc *svc, struct bw_dbres *out)
{
	return bw_db_query(svc->db, svc->arena, SQL_OWNERS, NULL, 0, out);
}

enum bw_err bw_op_progress(struct bw_svc *svc, const char *id, const char *owner, int pct,
			   const char *msg, bool *cancel)
{
	struct bw_dbres r;
	*cancel = false;
	if (pct > 100)
		pct = 100;
	if (pct >= 0) { /* negative: only look at the status */
		struct bw_dbarg a[] = {bw_dba_int(pct), bw_dba_text(msg), bw_dba_text(id),
				       bw_dba_text(owner)};
		enum bw_err rc = bw_db_exec(svc->db, SQL_PROGRESS, a, 4, NULL, NULL);
		if (rc != BW_OK)
			return rc;
	}
	struct bw_dbarg b[] = {bw_dba_text(id), bw_dba_text(owner)};
	enum bw_err rc = bw_db_query(svc->db, svc->arena, SQL_OWNED_STATUS, b, 2, &r);
	if (rc != BW_OK)
		return rc;
	if (r.nrows == 0 || !bw_op_state_active(bw_db_cell(&r, 0, 0)))
		return BW_ECONFLICT;
	*cancel = strcmp(bw_db_cell(&r, 0, 0), "cancelling") == 0;
	return BW_OK;
}

enum bw_err bw_op_finish_tx(struct bw_svc *svc, const char *id, const char *owner,
			    const char *result_json, const char *error, const char *error_code)
{
	unsigned long long affected = 0;
	enum bw_err rc;
	if (error == NULL) {
		struct bw_dbarg a[] = {bw_dba_text(result_json ? result_json : "{}"),
				       bw_dba_text(id), bw_dba_text(owner)};
		rc = bw_db_exec(svc->db, SQL_SUCCEED, a, 3, &affected, NULL);
	} else {
		size_t n = bw_utf8_prefix(error, BW_OP_ERROR_MAX);
		struct bw_dbarg a[] = {bw_dba_textn(error, n),
				       bw_dba_text(error_code ? error_code : "internal"),
				       bw_dba_text(id), bw_dba_text(owner)};
		rc = bw_db_exec(svc->db, SQL_FAIL, a, 4, &affected, NULL);
	}
	if (rc != BW_OK)
		return rc;
	return affected == 1 ? BW_OK : BW_ECONFLICT;
}

enum bw_err bw_op_finish(struct bw_svc *svc, const char *id, const char *owner,
			 const char *result_json, const char *error, const char *error_code)
{
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		return rc;
	rc = bw_op_finish_tx(svc, id, owner, result_json, error, error_code);
	return bw_db_end(svc->db, rc);
}

enum bw_err bw_op_cleanup(struct bw_svc *svc, int days, long long *deleted)
{
	unsigned long long affected = 0;
	struct bw_dbarg a[] = {bw_dba_int(days)};
	enum bw_err rc = bw_db_exec(svc->db, SQL_CLEANUP, a, 1, &affected, NULL);
	*deleted = (long long)affected;
	return rc;
}

/* Cuts a string member to its first 8000 code points; true when it was cut. */
static bool cut_member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return false;
	const char *s = json_object_get_string(v);
	size_t n = bw_utf8_prefix(s, 8000);
	if (n >= (size_t)json_object_get_string_len(v))
		return false;
	json_object_object_add(o, key, json_object_new_string_len(s, (int)n));
	return true;
}

static const char *dup_if_fits(struct json_object *o, struct bw_arena *a, bool *fits)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	*fits = s != NULL && strlen(s) <= BW_OP_RESULT_MAX;
	return *fits ? bw_arena_strdup(a, s) : NULL;
}

const char *bw_op_fit_result(struct json_object *result, struct bw_arena *a)
{
	static const char *const cut[] = {"stdout", "stderr", "output", "logs"};
	bool fits = false;
	if (result == NULL)
		return bw_arena_strdup(a, "{}");
	const char *s = dup_if_fits(result, a, &fits);
	if (fits || !json_object_is_type(result, json_type_object))
		return fits ? s
			    : bw_arena_strdup(a, "{\"truncated\":true,\"error\":\"Result too "
						 "large to store\"}");
	json_object_object_add(result, "truncated", json_object_new_boolean(1));
	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		if (!cut_member(result, cut[i]))
			continue;
		s = dup_if_fits(result, a, &fits);
		if (fits)
			return s;
	}
	return bw_arena_strdup(a, "{\"truncated\":true,\"error\":\"Result too large to store\"}");
}
