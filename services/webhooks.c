/* webhooks: see webhooks.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lib/jsonu.h"
#include "services/audit.h"
#include "services/events.h"
#include "services/webhooks.h"

#define TS(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%s.%f+00:00')"
#define SELECT_HOOK                                                                          \
	"SELECT id, url, channel_type, event_types, extra_config, enabled, created_by, " TS( \
	    "created_at") ", " TS("updated_at") " FROM webhooks"

static const char sql_list[] = SELECT_HOOK " ORDER BY created_at DESC, id DESC";
static const char sql_get[] = SELECT_HOOK " WHERE id = ?";
static const char sql_insert[] =
    "INSERT INTO webhooks (url, channel_type, event_types, extra_config, secret_sealed,"
    " created_by, created_at, updated_at) VALUES (?, ?, ?, ?, '', ?, NOW(6), NOW(6))";
static const char sql_set_secrets[] =
    "UPDATE webhooks SET secret_sealed = ?, smtp_pass_sealed = ? WHERE id = ?";
static const char sql_lock[] = "SELECT enabled FROM webhooks WHERE id = ? FOR UPDATE";
static const char sql_update[] =
    "UPDATE webhooks SET url = COALESCE(?, url), channel_type = COALESCE(?, channel_type),"
    " event_types = COALESCE(?, event_types), extra_config = COALESCE(?, extra_config),"
    " enabled = COALESCE(?, enabled), smtp_pass_sealed = COALESCE(?, smtp_pass_sealed),"
    " updated_at = NOW(6) WHERE id = ?";
static const char sql_delete[] = "DELETE FROM webhooks WHERE id = ?";
static const char sql_last_id[] = "SELECT LAST_INSERT_ID()";
static const char sql_mark_dispatched[] =
    "UPDATE event_outbox SET dispatched_at = NOW(6) WHERE id = ?";
static const char sql_add_delivery[] =
    "INSERT IGNORE INTO webhook_deliveries (webhook_id, event_id, event_type, next_attempt_at,"
    " created_at, updated_at) VALUES (?, ?, ?, NOW(6), NOW(6), NOW(6))";
static const char sql_exists[] = "SELECT 1 FROM webhooks WHERE id = ?";
static const char sql_deliveries[] =
    "SELECT id, webhook_id, event_id, event_type, status, response_code, last_error, attempts, " TS(
	"created_at") ", " TS("delivered_at") ", " TS("next_attempt_at") " FROM webhook_deliveries"
									 " WHERE webhook_id = ?"
									 " ORDER BY created_at "
									 "DESC, "
									 "id DESC LIMIT ?";
static const char sql_count[] =
    "SELECT status, COUNT(*) FROM webhook_deliveries GROUP BY status ORDER BY status";
static const char sql_pending_events[] =
    "SELECT id, event_type FROM event_outbox WHERE dispatched_at IS NULL ORDER BY id LIMIT ?"
    " FOR UPDATE SKIP LOCKED";
static const char sql_enabled_hooks[] = "SELECT id, event_types FROM webhooks WHERE enabled = 1";
static const char sql_due[] =
    "SELECT id FROM webhook_deliveries WHERE status IN ('pending', 'retrying')"
    " AND next_attempt_at <= NOW(6) AND (lease_until IS NULL OR lease_until < NOW(6))"
    " ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED";
static const char sql_take[] = "UPDATE webhook_deliveries SET lease_owner = ?,"
			       " lease_until = NOW(6) + INTERVAL ? SECOND WHERE id = ?";
static const char sql_job[] =
    "SELECT d.id, d.webhook_id, d.event_id, d.attempts, d.event_type, e.payload, " TS(
	"e.created_at") ", w.url, w.channel_type, w.extra_config, w.secret_sealed,"
			" w.smtp_pass_sealed, w.enabled FROM webhook_deliveries d"
			" JOIN webhooks w ON w.id = d.webhook_id"
			" LEFT JOIN event_outbox e ON e.id = d.event_id WHERE d.id = ?";
/* "pending" postpones without counting an attempt (the webhook is paused). */
static const char sql_record[] =
    "UPDATE webhook_deliveries SET status = ?, attempts = attempts + IF(? = 'pending', 0, 1),"
    " response_code = ?, last_error = ?, next_attempt_at = NOW(6) + INTERVAL ? SECOND,"
    " delivered_at = IF(? = 'success', NOW(6), NULL), lease_owner = NULL, lease_until = NULL,"
    " updated_at = NOW(6) WHERE id = ? AND lease_owner = ? AND status IN ('pending', 'retrying')";
static const char sql_total[] = "UPDATE webhook_delivery_totals SET n = n + 1 WHERE status = ?";
static const char sql_totals[] = "SELECT status, n FROM webhook_delivery_totals ORDER BY status";
static const char sql_purge[] =
    "DELETE FROM webhook_deliveries WHERE status IN ('success', 'failed')"
    " AND created_at < NOW(6) - INTERVAL ? DAY LIMIT ?";
static const char sql_release[] = "UPDATE webhook_deliveries SET lease_owner = NULL,"
				  " lease_until = NULL WHERE lease_owner = ?";

static void row_to_hook(const struct bw_dbres *r, size_t i, struct bw_webhook *w)
{
	w->id = atoll(bw_db_cell(r, i, 0));
	w->url = bw_db_cell(r, i, 1);
	w->channel_type = bw_db_cell(r, i, 2);
	w->event_types = bw_db_cell(r, i, 3);
	w->extra_config = bw_db_cell(r, i, 4);
	w->enabled = atoi(bw_db_cell(r, i, 5)) != 0;
	w->created_by = bw_db_cell(r, i, 6);
	w->created_at = bw_db_cell(r, i, 7);
	w->updated_at = bw_db_cell(r, i, 8);
}

enum bw_err bw_webhooks_list(struct bw_svc *svc, struct bw_webhook **items, size_t *n)
{
	struct bw_dbres r;
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_list, NULL, 0, &r);
	if (rc != BW_OK)
		return rc;
	struct bw_webhook *list = bw_arena_alloc(svc->arena, sizeof(*list) * (r.nrows + 1));
	if (list == NULL)
		return BW_ENOMEM;
	for (size_t i = 0; i < r.nrows; i++)
		row_to_hook(&r, i, &list[i]);
	*items = list;
	*n = r.nrows;
	return BW_OK;
}

enum bw_err bw_webhooks_get(struct bw_svc *svc, long long id, struct bw_webhook *out)
{
	struct bw_dbres r;
	struct bw_dbarg arg = bw_dba_int(id);
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_get, &arg, 1, &r);
	if (rc == BW_OK && r.nrows == 0)
		rc = BW_ENOTFOUND;
	if (rc == BW_OK)
		row_to_hook(&r, 0, out);
	return rc;
}

static const char *aad(struct bw_svc *svc, long long id, const char *what)
{
	return bw_arena_printf(svc->arena, "webhook:%lld:%s", id, what);
}

/* Seals text under the webhook's AAD into *arg (SQL NULL for a NULL text). */
static enum bw_err seal_arg(struct bw_svc *svc, long long id, const char *what, const char *text,
			    struct bw_dbarg *arg)
{
	uint8_t *sealed = NULL;
	size_t len = 0;
	*arg = bw_dba_null();
	if (text == NULL)
		return BW_OK;
	const char *ad = aad(svc, id, what);
	if (ad == NULL)
		return BW_ENOMEM;
	enum bw_err rc =
	    bw_seal(svc->master_key, ad, text, strlen(text), svc->arena, &sealed, &len);
	if (rc == BW_OK)
		*arg = bw_dba_blob(sealed, len);
	return rc;
}

static enum bw_err new_secret(char secret[BW_WEBHOOK_SECRET_LEN])
{
	uint8_t raw[32];
	static const char hex[] = "0123456789abcdef";
	enum bw_err rc = bw_random(raw, sizeof(raw));
	if (rc != BW_OK)
		return rc;
	for (size_t i = 0; i < sizeof(raw); i++) {
		secret[2 * i] = hex[raw[i] >> 4];
		secret[2 * i + 1] = hex[raw[i] & 15];
	}
	secret[64] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	return BW_OK;
}

static const char *json_text(struct json_object *o)
{
	return o != NULL ? bw_json_str(o, NULL) : NULL;
}

static struct json_object *hook_detail(const char *url, struct json_object *event_types,
				       const char *channel, int enabled)
{
	struct json_object *d = json_object_new_object();
	if (d == NULL)
		return NULL;
	if (url != NULL)
		json_object_object_add(d, "url", json_object_new_string(url));
	if (event_types != NULL)
		json_object_object_add(d, "event_types", json_object_get(event_types));
	if (channel != NULL)
		json_object_object_add(d, "channel_type", json_object_new_string(channel));
	if (enabled >= 0)
		json_object_object_add(d, "is_active", json_object_new_boolean(enabled));
	return d;
}

static enum bw_err audit_hook(struct bw_svc *svc, const struct bw_actor *actor, const char *action,
			      long long id, struct json_object *detail)
{
	const char *rid = bw_arena_printf(svc->arena, "%lld", id);
	if (rid == NULL)
		return BW_ENOMEM;
	struct bw_audit entry = {action, "webhook", rid, NULL, detail};
	return bw_audit_write(svc, actor, &entry);
}

enum bw_err bw_webhooks_create(struct bw_svc *svc, const struct bw_actor *actor,
			       const struct bw_webhook_new *in, struct bw_webhook *out,
			       char secret[BW_WEBHOOK_SECRET_LEN])
{
	unsigned long long id = 0;
	struct bw_dbarg sargs[3];
	struct json_object *detail = hook_detail(in->url, in->event_types, in->channel_type, -1);
	if (detail == NULL)
		return BW_ENOMEM;
	enum bw_err rc = new_secret(secret);
	if (rc != BW_OK)
		goto out;
	struct bw_dbarg args[] = {bw_dba_text(in->url), bw_dba_text(in->channel_type),
				  bw_dba_text(json_text(in->event_types)),
				  bw_dba_text(json_text(in->extra_config)),
				  bw_dba_text(actor->name)};
	rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		goto out;
	rc = bw_db_exec(svc->db, sql_insert, args, 5, NULL, &id);
	/* The AAD names the row, so the id must exist before the secrets are sealed. */
	if (rc == BW_OK)
		rc = seal_arg(svc, (long long)id, "secret", secret, &sargs[0]);
	if (rc == BW_OK)
		rc = seal_arg(svc, (long long)id, "smtp_pass", in->smtp_pass, &sargs[1]);
	if (rc == BW_OK) {
		sargs[2] = bw_dba_int((long long)id);
		rc = bw_db_exec(svc->db, sql_set_secrets, sargs, 3, NULL, NULL);
	}
	if (rc == BW_OK)
		rc = audit_hook(svc, actor, "webhook.create", (long long)id, detail);
	rc = bw_db_end(svc->db, rc);
	if (rc == BW_OK)
		rc = bw_webhooks_get(svc, (long long)id, out);
out:
	if (rc != BW_OK)
		OPENSSL_cleanse(secret, BW_WEBHOOK_SECRET_LEN);
	json_object_put(detail);
	return rc;
}

/* Locks the webhook row; *enabled gets its state. BW_ENOTFOUND when unknown. */
static enum bw_err lock_hook(struct bw_svc *svc, long long id, bool *enabled)
{
	struct bw_dbres r;
	struct bw_dbarg arg = bw_dba_int(id);
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_lock, &arg, 1, &r);
	if (rc == BW_OK && r.nrows == 0)
		rc = BW_ENOTFOUND;
	if (rc == BW_OK && enabled != NULL)
		*enabled = atoi(bw_db_cell(&r, 0, 0)) != 0;
	return rc;
}

enum bw_err bw_webhooks_update(struct bw_svc *svc, const struct bw_actor *actor, long long id,
			       const struct bw_webhook_patch *p, struct bw_webhook *out)
{
	struct bw_dbarg args[7];
	struct json_object *detail =
	    hook_detail(p->url, p->event_types, p->channel_type, p->enabled);
	if (detail == NULL)
		return BW_ENOMEM;
	args[0] = bw_dba_text(p->url);
	args[1] = bw_dba_text(p->channel_type);
	args[2] = bw_dba_text(json_text(p->event_types));
	args[3] = bw_dba_text(json_text(p->extra_config));
	args[4] = p->enabled >= 0 ? bw_dba_int(p->enabled) : bw_dba_null();
	args[6] = bw_dba_int(id);
	enum bw_err rc = seal_arg(svc, id, "smtp_pass", p->smtp_pass, &args[5]);
	if (rc == BW_OK)
		rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		goto out;
	rc = lock_hook(svc, id, NULL);
	if (rc == BW_OK)
		rc = bw_db_exec(svc->db, sql_update, args, 7, NULL, NULL);
	if (rc == BW_OK)
		rc = audit_hook(svc, actor, "webhook.update", id, detail);
	rc = bw_db_end(svc->db, rc);
	if (rc == BW_OK)
		rc = bw_webhooks_get(svc, id, out);
out:
	json_object_put(detail);
	return rc;
}

enum bw_err bw_webhooks_delete(struct bw_svc *svc, const struct bw_actor *actor, long long id)
{
	unsigned long long deleted = 0;
	struct bw_dbarg arg = bw_dba_int(id);
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		return rc;
	rc = bw_db_exec(svc->db, sql_delete, &arg, 1, &deleted, NULL);
	if (rc == BW_OK && deleted == 0)
		rc = BW_ENOTFOUND;
	if (rc == BW_OK)
		rc = audit_hook(svc, actor, "webhook.delete", id, NULL);
	return bw_db_end(svc->db, rc);
}

static enum bw_err last_insert_id(struct bw_svc *svc, long long *id)
{
	struct bw_dbres r;
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_last_id, NULL, 0, &r);
	if (rc == BW_OK && (r.nrows != 1 || bw_db_cell(&r, 0, 0) == NULL))
		rc = BW_EDB;
	if (rc == BW_OK)
		*id = atoll(bw_db_cell(&r, 0, 0));
	return rc;
}

/* The test event goes through the outbox like any other, but is born dispatched with its one
 * delivery, so the fan-out never offers it to the other webhooks. */
static enum bw_err enqueue_test(struct bw_svc *svc, long long id, long long *event_id)
{
	struct json_object *data = json_object_new_object();
	if (data == NULL)
		return BW_ENOMEM;
	json_object_object_add(data, "webhook_id", json_object_new_int64(id));
	json_object_object_add(data, "message",
			       json_object_new_string("Test event from Shoreguard"));
	enum bw_err rc = bw_event_emit(svc, "webhook.test", NULL, data);
	json_object_put(data);
	if (rc == BW_OK)
		rc = last_insert_id(svc, event_id);
	struct bw_dbarg ev = bw_dba_int(*event_id);
	struct bw_dbarg dargs[] = {bw_dba_int(id), bw_dba_int(*event_id),
				   bw_dba_text("webhook.test")};
	if (rc == BW_OK)
		rc = bw_db_exec(svc->db, sql_mark_dispatched, &ev, 1, NULL, NULL);
	if (rc == BW_OK)
		rc = bw_db_exec(svc->db, sql_add_delivery, dargs, 3, NULL, NULL);
	return rc;
}

enum bw_err bw_webhooks_test(struct bw_svc *svc, const struct bw_actor *actor, long long id,
			     long long *event_id)
{
	bool enabled = false;
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		return rc;
	rc = lock_hook(svc, id, &enabled);
	if (rc == BW_OK && !enabled)
		rc = BW_ECONFLICT;
	if (rc == BW_OK)
		rc = enqueue_test(svc, id, event_id);
	if (rc == BW_OK)
		rc = audit_hook(svc, actor, "webhook.test", id, NULL);
	return bw_db_end(svc->db, rc);
}

static const char *cell_or_null(const struct bw_dbres *r, size_t i, size_t c)
{
	return bw_db_cell(r, i, c);
}

enum bw_err bw_webhooks_deliveries(struct bw_svc *svc, long long id, long long limit,
				   struct bw_delivery **items, size_t *n)
{
	struct bw_dbres r;
	struct bw_dbarg args[] = {bw_dba_int(id), bw_dba_int(limit)};
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_exists, args, 1, &r);
	if (rc == BW_OK && r.nrows == 0)
		rc = BW_ENOTFOUND;
	if (rc == BW_OK)
		rc = bw_db_query(svc->db, svc->arena, sql_deliveries, args, 2, &r);
	if (rc != BW_OK)
		return rc;
	struct bw_delivery *list = bw_arena_alloc(svc->arena, sizeof(*list) * (r.nrows + 1));
	if (list == NULL)
		return BW_ENOMEM;
	for (size_t i = 0; i < r.nrows; i++) {
		struct bw_delivery *d = &list[i];
		d->id = atoll(bw_db_cell(&r, i, 0));
		d->webhook_id = atoll(bw_db_cell(&r, i, 1));
		d->event_id = atoll(bw_db_cell(&r, i, 2));
		d->event_type = bw_db_cell(&r, i, 3);
		d->status = bw_db_cell(&r, i, 4);
		d->response_code = bw_db_cell(&r, i, 5) ? atoll(bw_db_cell(&r, i, 5)) : -1;
		d->error = cell_or_null(&r, i, 6);
		d->attempts = atoi(bw_db_cell(&r, i, 7));
		d->created_at = bw_db_cell(&r, i, 8);
		d->delivered_at = cell_or_null(&r, i, 9);
		d->next_attempt_at = cell_or_null(&r, i, 10);
	}
	*items = list;
	*n = r.nrows;
	return BW_OK;
}

enum bw_err bw_webhooks_count_by_status(struct bw_svc *svc, struct bw_dbres *out)
{
	return bw_db_query(svc->db, svc->arena, sql_count, NULL, 0, out);
}

/* --- worker side ---------------------------------------------------------------------------- */

/* An event type list matches when it holds the exact type or "*"; unreadable lists never do. */
static bool subscribed(const char *types_json, const char *event)
{
	struct json_object *arr = NULL;
	struct bw_json_error jerr;
	bool hit = false;
	if (types_json == NULL ||
	    bw_json_parse(types_json, strlen(types_json), 4, &arr, &jerr) != BW_JSON_OK)
		return false;
	if (json_object_is_type(arr, json_type_array)) {
		for (size_t i = 0; !hit && i < json_object_array_length(arr); i++) {
			const char *t = json_object_get_string(json_object_array_get_idx(arr, i));
			hit = t != NULL && (strcmp(t, event) == 0 || strcmp(t, "*") == 0);
		}
	}
	json_object_put(arr);
	return hit;
}

static enum bw_err fan_one(struct bw_svc *svc, const struct bw_dbres *hooks, const char *event_id,
			   const char *type)
{
	enum bw_err rc = BW_OK;
	for (size_t h = 0; rc == BW_OK && h < hooks->nrows; h++) {
		if (!subscribed(bw_db_cell(hooks, h, 1), type))
			continue;
		struct bw_dbarg args[] = {bw_dba_int(atoll(bw_db_cell(hooks, h, 0))),
					  bw_dba_int(atoll(event_id)), bw_dba_text(type)};
		rc = bw_db_exec(svc->db, sql_add_delivery, args, 3, NULL, NULL);
	}
	struct bw_dbarg ev = bw_dba_int(atoll(event_id));
	if (rc == BW_OK)
		rc = bw_db_exec(svc->db, sql_mark_dispatched, &ev, 1, NULL, NULL);
	return rc;
}

enum bw_err bw_webhooks_fanout(struct bw_svc *svc, int max, size_t *events)
{
	struct bw_dbres ev, hooks;
	struct bw_dbarg lim = bw_dba_int(max);
	*events = 0;
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		return rc;
	rc = bw_db_query(svc->db, svc->arena, sql_pending_events, &lim, 1, &ev);
	if (rc == BW_OK && ev.nrows > 0)
		rc = bw_db_query(svc->db, svc->arena, sql_enabled_hooks, NULL, 0, &hooks);
	for (size_t i = 0; rc == BW_OK && i < ev.nrows; i++)
		rc = fan_one(svc, &hooks, bw_db_cell(&ev, i, 0), bw_db_cell(&ev, i, 1));
	rc = bw_db_end(svc->db, rc);
	if (rc == BW_OK)
		*events = ev.nrows;
	return rc;
}

/* Opens a sealed column of the job's webhook; NULL when absent or unopenable. */
static const char *open_secret(struct bw_svc *svc, const struct bw_dbres *r, size_t col,
			       long long hook, const char *what)
{
	uint8_t *pt = NULL;
	size_t len = 0;
	const char *ad = aad(svc, hook, what);
	if (bw_db_cell(r, 0, col) == NULL || ad == NULL)
		return NULL;
	if (bw_open(svc->master_key, ad, bw_db_cell(r, 0, col), bw_db_len(r, 0, col), svc->arena,
		    &pt, &len) != BW_OK)
		return NULL;
	return (const char *)pt;
}

static enum bw_err load_job(struct bw_svc *svc, long long id, struct bw_hook_job *job,
			    bool *enabled)
{
	struct bw_dbres r;
	struct bw_dbarg arg = bw_dba_int(id);
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_job, &arg, 1, &r);
	if (rc == BW_OK && r.nrows == 0)
		rc = BW_ENOTFOUND;
	if (rc != BW_OK)
		return rc;
	memset(job, 0, sizeof(*job));
	job->id = id;
	job->webhook_id = atoll(bw_db_cell(&r, 0, 1));
	job->event_id = atoll(bw_db_cell(&r, 0, 2));
	job->attempts = atoi(bw_db_cell(&r, 0, 3));
	job->event_type = bw_db_cell(&r, 0, 4);
	job->payload = bw_db_cell(&r, 0, 5);
	job->event_ts = bw_db_cell(&r, 0, 6);
	job->url = bw_db_cell(&r, 0, 7);
	job->channel_type = bw_db_cell(&r, 0, 8);
	job->extra_config = bw_db_cell(&r, 0, 9);
	job->secret = open_secret(svc, &r, 10, job->webhook_id, "secret");
	job->smtp_pass = open_secret(svc, &r, 11, job->webhook_id, "smtp_pass");
	*enabled = atoi(bw_db_cell(&r, 0, 12)) != 0;
	return BW_OK;
}

enum bw_err bw_webhooks_claim(struct bw_svc *svc, const char *owner, int lease_s,
			      struct bw_hook_job *job, bool *got)
{
	/* A paused webhook's deliveries are postponed; a few of them must not starve the rest. */
	for (int tries = 0; tries < 8; tries++) {
		struct bw_dbres r;
		bool enabled = false;
		*got = false;
		enum bw_err rc = bw_db_begin(svc->db);
		if (rc != BW_OK)
			return rc;
		rc = bw_db_query(svc->db, svc->arena, sql_due, NULL, 0, &r);
		if (rc != BW_OK || r.nrows == 0) {
			bw_db_rollback(svc->db);
			return rc;
		}
		long long id = atoll(bw_db_cell(&r, 0, 0));
		struct bw_dbarg args[] = {bw_dba_text(owner), bw_dba_int(lease_s), bw_dba_int(id)};
		rc = bw_db_end(svc->db, bw_db_exec(svc->db, sql_take, args, 3, NULL, NULL));
		if (rc == BW_OK)
			rc = load_job(svc, id, job, &enabled);
		if (rc == BW_ENOTFOUND)
			continue; /* its webhook was deleted meanwhile */
		if (rc != BW_OK)
			return rc;
		if (enabled) {
			*got = true;
			return BW_OK;
		}
		struct bw_hook_outcome later = {"pending", 0, "webhook is paused", 60};
		rc = bw_webhooks_record(svc, owner, id, &later);
		if (rc != BW_OK && rc != BW_ECONFLICT)
			return rc;
	}
	return BW_OK;
}

enum bw_err bw_webhooks_record(struct bw_svc *svc, const char *owner, long long id,
			       const struct bw_hook_outcome *o)
{
	unsigned long long n = 0;
	char err[512];
	const char *error = NULL;
	if (o->error != NULL) {
		snprintf(err, sizeof(err), "%s", o->error);
		error = err;
	}
	struct bw_dbarg args[] = {bw_dba_text(o->status),
				  bw_dba_text(o->status),
				  o->code > 0 ? bw_dba_int(o->code) : bw_dba_null(),
				  bw_dba_text(error),
				  bw_dba_int(o->retry_in),
				  bw_dba_text(o->status),
				  bw_dba_int(id),
				  bw_dba_text(owner)};
	struct bw_dbarg status = bw_dba_text(o->status);
	bool final = strcmp(o->status, "success") == 0 || strcmp(o->status, "failed") == 0;
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		return rc;
	rc = bw_db_exec(svc->db, sql_record, args, 8, &n, NULL);
	if (rc == BW_OK && n == 0)
		rc = BW_ECONFLICT;
	if (rc == BW_OK && final)
		rc = bw_db_exec(svc->db, sql_total, &status, 1, NULL, NULL);
	return bw_db_end(svc->db, rc);
}

enum bw_err bw_webhooks_totals(struct bw_svc *svc, struct bw_dbres *out)
{
	return bw_db_query(svc->db, svc->arena, sql_totals, NULL, 0, out);
}

enum bw_err bw_webhooks_purge(struct bw_svc *svc, int days, int max, unsigned long long *deleted)
{
	struct bw_dbarg args[] = {bw_dba_int(days), bw_dba_int(max)};
	*deleted = 0;
	return bw_db_exec(svc->db, sql_purge, args, 2, deleted, NULL);
}

enum bw_err bw_webhooks_release(struct bw_svc *svc, const char *owner)
{
	struct bw_dbarg arg = bw_dba_text(owner);
	return bw_db_exec(svc->db, sql_release, &arg, 1, NULL, NULL);
}
