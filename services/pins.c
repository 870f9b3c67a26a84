/* pins: see pins.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "services/audit.h"
#include "services/events.h"
#include "services/pins.h"

#define TS(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%s.%f+00:00')"

static const char sql_get[] = "SELECT pinned_version, pinned_by, reason, " TS("pinned_at") ", " TS(
    "expires_at") " FROM policy_pins WHERE gateway_name = ? AND sandbox_name = ?"
		  " AND (expires_at IS NULL OR expires_at > UTC_TIMESTAMP(6))";

static const char sql_upsert[] =
    "INSERT INTO policy_pins (gateway_name, sandbox_name, pinned_version, pinned_by, reason,"
    " pinned_at, expires_at) VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(6), ?)"
    " ON DUPLICATE KEY UPDATE pinned_version = VALUES(pinned_version),"
    " pinned_by = VALUES(pinned_by), reason = VALUES(reason), pinned_at = VALUES(pinned_at),"
    " expires_at = VALUES(expires_at)";

/* The row goes whatever its expiry; only an unexpired one counts as "there was a pin". */
static const char sql_delete_live[] =
    "DELETE FROM policy_pins WHERE gateway_name = ? AND sandbox_name = ?"
    " AND (expires_at IS NULL OR expires_at > UTC_TIMESTAMP(6))";
static const char sql_delete_any[] =
    "DELETE FROM policy_pins WHERE gateway_name = ? AND sandbox_name = ?";

static enum bw_err read_pin(struct bw_svc *svc, const char *gateway, const char *sandbox,
			    bool *found, struct bw_pin *pin)
{
	struct bw_dbres r;
	struct bw_dbarg args[] = {bw_dba_text(gateway), bw_dba_text(sandbox)};
	*found = false;
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_get, args, 2, &r);
	if (rc != BW_OK || r.nrows == 0)
		return rc;
	*found = true;
	pin->gateway = gateway;
	pin->sandbox = sandbox;
	pin->version = strtoll(bw_db_cell(&r, 0, 0), NULL, 10);
	pin->pinned_by = bw_db_cell(&r, 0, 1);
	pin->reason = bw_db_cell(&r, 0, 2);
	pin->pinned_at = bw_db_cell(&r, 0, 3);
	pin->expires_at = bw_db_cell(&r, 0, 4);
	return BW_OK;
}

enum bw_err bw_pin_guard(struct bw_svc *svc, const char *gateway, const char *sandbox, bool *pinned,
			 struct bw_pin *pin)
{
	memset(pin, 0, sizeof(*pin));
	return read_pin(svc, gateway, sandbox, pinned, pin);
}

const char *bw_pin_locked_text(struct bw_svc *svc, const struct bw_pin *pin)
{
	if (pin->reason != NULL && pin->reason[0] != '\0')
		return bw_arena_printf(
		    svc->arena, "Policy is pinned at version %lld by %s (reason: %s). Unpin first.",
		    pin->version, pin->pinned_by, pin->reason);
	return bw_arena_printf(svc->arena, "Policy is pinned at version %lld by %s. Unpin first.",
			       pin->version, pin->pinned_by);
}

static enum bw_err finish(struct bw_svc *svc, const struct bw_actor *actor, const char *event,
			  struct json_object *data, const struct bw_audit *entry)
{
	enum bw_err rc = bw_event_emit(svc, event, entry->gateway_name, data);
	if (rc == BW_OK)
		rc = bw_audit_write(svc, actor, entry);
	return bw_db_end(svc->db, rc);
}

enum bw_err bw_pin_set(struct bw_svc *svc, const struct bw_actor *actor, const char *gateway,
		       const char *sandbox, long long version, const char *reason,
		       const char *expires_at, struct bw_pin *out)
{
	struct bw_dbarg args[] = {
	    bw_dba_text(gateway), bw_dba_text(sandbox),
	    bw_dba_int(version),  bw_dba_text(actor->name),
	    bw_dba_text(reason),  expires_at != NULL ? bw_dba_text(expires_at) : bw_dba_null()};
	struct json_object *data = json_object_new_object(), *detail = json_object_new_object();
	enum bw_err rc = data != NULL && detail != NULL ? bw_db_begin(svc->db) : BW_ENOMEM;
	if (rc != BW_OK)
		goto out;
	rc = bw_db_exec(svc->db, sql_upsert, args, sizeof(args) / sizeof(args[0]), NULL, NULL);
	if (rc != BW_OK) {
		bw_db_rollback(svc->db);
		goto out;
	}
	json_object_object_add(data, "sandbox", json_object_new_string(sandbox));
	json_object_object_add(data, "gateway", json_object_new_string(gateway));
	json_object_object_add(data, "version", json_object_new_int64(version));
	json_object_object_add(data, "actor", json_object_new_string(actor->name));
	json_object_object_add(detail, "pinned_version", json_object_new_int64(version));
	json_object_object_add(detail, "reason",
			       reason != NULL ? json_object_new_string(reason) : NULL);
	struct bw_audit entry = {"policy.pinned", "sandbox", sandbox, gateway, detail};
	rc = finish(svc, actor, "policy.pinned", data, &entry);
	if (rc != BW_OK)
		goto out;
	bool found = false;
	rc = bw_pin_guard(svc, gateway, sandbox, &found, out);
	if (rc == BW_OK && !found)
		rc = BW_ENOTFOUND; /* it expired already, or was removed at once by someone else */
out:
	json_object_put(data);
	json_object_put(detail);
	return rc;
}

enum bw_err bw_pin_delete(struct bw_svc *svc, const struct bw_actor *actor, const char *gateway,
			  const char *sandbox)
{
	struct bw_dbarg args[] = {bw_dba_text(gateway), bw_dba_text(sandbox)};
	unsigned long long n = 0;
	struct json_object *data = json_object_new_object();
	enum bw_err rc = data != NULL ? bw_db_begin(svc->db) : BW_ENOMEM;
	if (rc != BW_OK)
		goto out;
	rc = bw_db_exec(svc->db, sql_delete_live, args, 2, &n, NULL);
	if (rc == BW_OK && n == 0) {
		/* Clear a stale expired row anyway, but report that nothing was pinned. */
		rc = bw_db_exec(svc->db, sql_delete_any, args, 2, NULL, NULL);
		rc = bw_db_end(svc->db, rc);
		rc = rc == BW_OK ? BW_ENOTFOUND : rc;
		goto out;
	}
	if (rc != BW_OK) {
		bw_db_rollback(svc->db);
		goto out;
	}
	json_object_object_add(data, "sandbox", json_object_new_string(sandbox));
	json_object_object_add(data, "gateway", json_object_new_string(gateway));
	json_object_object_add(data, "actor", json_object_new_string(actor->name));
	struct bw_audit entry = {"policy.unpinned", "sandbox", sandbox, gateway, NULL};
	rc = finish(svc, actor, "policy.unpinned", data, &entry);
out:
	json_object_put(data);
	return rc;
}

struct json_object *bw_pin_json(const struct bw_pin *pin)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	json_object_object_add(o, "gateway_name", json_object_new_string(pin->gateway));
	json_object_object_add(o, "sandbox_name", json_object_new_string(pin->sandbox));
	json_object_object_add(o, "pinned_version", json_object_new_int64(pin->version));
	json_object_object_add(o, "pinned_by", json_object_new_string(pin->pinned_by));
	json_object_object_add(o, "reason",
			       pin->reason != NULL ? json_object_new_string(pin->reason) : NULL);
	json_object_object_add(o, "pinned_at", json_object_new_string(pin->pinned_at));
	json_object_object_add(o, "expires_at",
			       pin->expires_at != NULL ? json_object_new_string(pin->expires_at)
						       : NULL);
	return o;
}
