/* registry: see registry.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/clock.h"
#include "lib/jsonu.h"
#include "lib/log.h"
#include "services/audit.h"
#include "services/events.h"
#include "services/registry.h"

#define TS(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%s.%f+00:00')"
#define SELECT_GATEWAY                                                                          \
	"SELECT id, name, endpoint, scheme, auth_mode, ca_cert IS NOT NULL,"                    \
	" client_cert IS NOT NULL, client_key IS NOT NULL, metadata_json, description,"         \
	" labels_json, " TS("registered_at") ", " TS(                                           \
	    "last_seen") ", last_status, version, compat,"                                      \
			 " " TS("last_health") ", last_health > UTC_TIMESTAMP(6) - INTERVAL ? " \
					       "SECOND FROM gateways"

static const char sql_get[] = SELECT_GATEWAY " WHERE name = ?";
static const char sql_creds[] =
    "SELECT endpoint, scheme, ca_cert, client_cert, client_key FROM gateways WHERE name = ?";
/* A probe that reached the gateway sets last_seen; version/compat are kept when it did not. */
static const char sql_health[] =
    "UPDATE gateways SET last_status = ?, last_health = UTC_TIMESTAMP(6),"
    " last_seen = IF(?, UTC_TIMESTAMP(6), last_seen), version = COALESCE(?, version),"
    " compat = COALESCE(?, compat), health_failures = IF(?, 0, health_failures + 1)"
    " WHERE name = ?";
static const char sql_list[] = SELECT_GATEWAY " ORDER BY name";
static const char sql_insert[] =
    "INSERT INTO gateways (name, endpoint, scheme, auth_mode, ca_cert, client_cert, client_key,"
    " metadata_json, description, labels_json, registered_at, updated_at, last_status)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), 'unknown')";
static const char sql_update_meta[] =
    "UPDATE gateways SET description = IF(?, ?, description), labels_json = IF(?, ?, labels_json),"
    " updated_at = UTC_TIMESTAMP(6) WHERE name = ?";
static const char sql_delete[] = "DELETE FROM gateways WHERE name = ?";
static const char sql_count[] = "SELECT COUNT(*) FROM gateways";
static const char sql_count_by_status[] =
    "SELECT last_status, COUNT(*) FROM gateways GROUP BY last_status ORDER BY last_status";
/* LAST_INSERT_ID(expr) hands the new value back to this connection without a second query. */
static const char sql_bump[] =
    "UPDATE registry_state SET generation = LAST_INSERT_ID(generation + 1) WHERE id = 1";
static const char sql_generation[] = "SELECT generation FROM registry_state WHERE id = 1";

/* Bumps the generation inside the caller's transaction; *gen is the new value. */
static enum bw_err bump(struct bw_svc *svc, uint64_t *gen)
{
	unsigned long long id = 0;
	enum bw_err rc = bw_db_exec(svc->db, sql_bump, NULL, 0, NULL, &id);
	*gen = id;
	return rc;
}

/* After a commit: local processes see the new generation without asking the database. */
static void publish(struct bw_svc *svc, uint64_t gen)
{
	if (svc->shared != NULL)
		bw_atomic_max_u64(&svc->shared->registry_gen, gen);
}

/* Starts a registry write: the generation row is locked first, so concurrent registry writers
 * queue on it instead of interleaving their row and index locks (which deadlocked). */
static enum bw_err begin_write(struct bw_svc *svc, uint64_t *gen)
{
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		return rc;
	rc = bump(svc, gen);
	if (rc != BW_OK)
		bw_db_rollback(svc->db);
	return rc;
}

/* Completes a write transaction whose statement ended with rc: adds the audit row, commits (or
 * rolls back after any failure) and publishes the new generation. */
static enum bw_err finish_write(struct bw_svc *svc, const struct bw_actor *actor,
				const struct bw_audit *entry, enum bw_err rc, uint64_t gen)
{
	if (rc == BW_OK)
		rc = bw_audit_write(svc, actor, entry);
	if (rc == BW_OK)
		rc = bw_db_commit(svc->db);
	else
		bw_db_rollback(svc->db);
	if (rc == BW_OK)
		publish(svc, gen);
	return rc;
}

enum bw_err bw_registry_generation(struct bw_svc *svc, uint64_t *gen)
{
	struct bw_shared *sh = svc->shared;
	int64_t now = bw_now_ms();
	if (sh != NULL && atomic_load(&sh->registry_gen) != 0 &&
	    now - atomic_load(&sh->registry_checked_ms) < BW_REGISTRY_RECHECK_MS) {
		*gen = atomic_load(&sh->registry_gen);
		return BW_OK;
	}
	struct bw_dbres r;
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_generation, NULL, 0, &r);
	if (rc != BW_OK)
		return rc;
	if (r.nrows != 1)
		return BW_EDB;
	*gen = strtoull(bw_db_cell(&r, 0, 0), NULL, 10);
	if (sh != NULL) {
		bw_atomic_max_u64(&sh->registry_gen, *gen);
		atomic_store(&sh->registry_checked_ms, now);
	}
	return BW_OK;
}
/* Leases: a row is claimed by one worker at a time (the UPDATE locks it), and only when its
 * next probe is due, so several workers probe each gateway once per interval between them. */
static const char sql_claim[] =
    "UPDATE gateways SET probe_owner = ?,"
    " probe_lease_until = UTC_TIMESTAMP(6) + INTERVAL ? SECOND"
    " WHERE (probe_lease_until IS NULL OR probe_lease_until < UTC_TIMESTAMP(6))"
    " AND (next_probe_at IS NULL OR next_probe_at <= UTC_TIMESTAMP(6))"
    " ORDER BY next_probe_at, name LIMIT ?";
static const char sql_claimed[] =
    "SELECT name FROM gateways WHERE probe_owner = ? AND probe_lease_until > UTC_TIMESTAMP(6)"
    " ORDER BY name";
/* After 10 consecutive failures the interval doubles per further failure, up to 300 s. */
static const char sql_probe_done[] =
    "UPDATE gateways SET probe_owner = NULL, probe_lease_until = NULL,"
    " next_probe_at = UTC_TIMESTAMP(6) + INTERVAL IF(health_failures >= 10,"
    " LEAST(? * POW(2, LEAST(health_failures - 9, 20)), GREATEST(?, 300)), ?) SECOND"
    " WHERE name = ? AND probe_owner = ?";
static const char sql_release[] =
    "UPDATE gateways SET probe_owner = NULL, probe_lease_until = NULL WHERE probe_owner = ?";

/* Parses stored JSON text into an object owned by the arena; bad or absent text gives {}. */
static struct json_object *stored_object(struct bw_arena *a, const char *text, size_t len)
{
	struct json_object *o = NULL;
	struct bw_json_error jerr;
	if (text != NULL && bw_json_parse(text, len, BW_JSON_MAX_DEPTH, &o, &jerr) != BW_JSON_OK)
		bw_log(BW_LOG_WARN, "registry", NULL, "stored JSON unreadable: %s", jerr.msg);
	if (o != NULL && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	if (o == NULL)
		o = json_object_new_object();
	if (o != NULL)
		bw_arena_defer(a, bw_json_release, o);
	return o;
}

static enum bw_err row_to_gateway(struct bw_arena *a, const struct bw_dbres *r, size_t i,
				  struct bw_gateway *g)
{
	memset(g, 0, sizeof(*g));
	g->id = atoll(bw_db_cell(r, i, 0));
	g->name = bw_db_cell(r, i, 1);
	g->endpoint = bw_db_cell(r, i, 2);
	g->scheme = bw_db_cell(r, i, 3);
	g->auth_mode = bw_db_cell(r, i, 4);
	g->has_ca_cert = strcmp(bw_db_cell(r, i, 5), "1") == 0;
	g->has_client_cert = strcmp(bw_db_cell(r, i, 6), "1") == 0;
	g->has_client_key = strcmp(bw_db_cell(r, i, 7), "1") == 0;
	g->metadata = stored_object(a, bw_db_cell(r, i, 8), bw_db_len(r, i, 8));
	g->description = bw_db_cell(r, i, 9);
	g->labels = stored_object(a, bw_db_cell(r, i, 10), bw_db_len(r, i, 10));
	g->registered_at = bw_db_cell(r, i, 11);
	g->last_seen = bw_db_cell(r, i, 12);
	g->last_status = bw_db_cell(r, i, 13);
	g->version = bw_db_cell(r, i, 14);
	g->compat = bw_db_cell(r, i, 15);
	g->last_health = bw_db_cell(r, i, 16);
	g->health_fresh = bw_db_cell(r, i, 17) != NULL && strcmp(bw_db_cell(r, i, 17), "1") == 0;
	if (g->metadata == NULL || g->labels == NULL)
		return BW_ENOMEM;
	struct json_object *rt = NULL;
	if (json_object_object_get_ex(g->metadata, "runtime", &rt) &&
	    json_object_is_type(rt, json_type_string) && json_object_get_string_len(rt) > 0)
		g->runtime = json_object_get_string(rt);
	return BW_OK;
}

enum bw_err bw_registry_get(struct bw_svc *svc, const char *name, struct bw_gateway *out)
{
	struct bw_dbres r;
	struct bw_dbarg args[] = {bw_dba_int(BW_HEALTH_FRESH_S), bw_dba_text(name)};
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_get, args, 2, &r);
	if (rc != BW_OK)
		return rc;
	if (r.nrows == 0)
		return BW_ENOTFOUND;
	return row_to_gateway(svc->arena, &r, 0, out);
}

static bool matches(const struct bw_gateway *g, const struct bw_label_filter *f)
{
	if (f == NULL)
		return true;
	if (f->runtime != NULL && (g->runtime == NULL || strcasecmp(g->runtime, f->runtime) != 0))
		return false;
	for (size_t i = 0; i < f->n; i++) {
		struct json_object *v = NULL;
		if (!json_object_object_get_ex(g->labels, f->keys[i], &v) ||
		    !json_object_is_type(v, json_type_string) ||
		    strcmp(json_object_get_string(v), f->values[i]) != 0)
			return false;
	}
	return true;
}

enum bw_err bw_registry_list(struct bw_svc *svc, const struct bw_label_filter *filter,
			     struct bw_gateway **items, size_t *n)
{
	struct bw_dbres r;
	struct bw_dbarg arg = bw_dba_int(BW_HEALTH_FRESH_S);
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_list, &arg, 1, &r);
	if (rc != BW_OK)
		return rc;
	struct bw_gateway *list = bw_arena_alloc(svc->arena, sizeof(*list) * (r.nrows + 1));
	if (list == NULL)
		return BW_ENOMEM;
	size_t count = 0;
	for (size_t i = 0; i < r.nrows; i++) {
		rc = row_to_gateway(svc->arena, &r, i, &list[count]);
		if (rc != BW_OK)
			return rc;
		if (matches(&list[count], filter))
			count++;
	}
	*items = list;
	*n = count;
	return BW_OK;
}

/* JSON text for a labels/metadata column: NULL for absent or empty objects. */
static const char *column_json(struct json_object *o)
{
	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    json_object_object_length(o) == 0)
		return NULL;
	return bw_json_str(o, NULL);
}

static enum bw_err seal_blob(struct bw_svc *svc, const char *name, const char *field,
			     const struct bw_blob *in, struct bw_dbarg *arg)
{
	*arg = bw_dba_null();
	if (in->p == NULL)
		return BW_OK;
	uint8_t *sealed = NULL;
	size_t len = 0;
	char *aad = bw_arena_printf(svc->arena, "gateway:%s:%s", name, field);
	if (aad == NULL)
		return BW_ENOMEM;
	enum bw_err rc = bw_seal(svc->master_key, aad, in->p, in->len, svc->arena, &sealed, &len);
	if (rc == BW_OK)
		*arg = bw_dba_blob(sealed, len);
	return rc;
}

static struct json_object *register_detail(const struct bw_gateway_new *in, const char *runtime)
{
	struct json_object *d = json_object_new_object();
	if (d == NULL)
		return NULL;
	json_object_object_add(d, "endpoint", json_object_new_string(in->endpoint));
	json_object_object_add(d, "auth_mode",
			       in->auth_mode ? json_object_new_string(in->auth_mode) : NULL);
	json_object_object_add(d, "description",
			       in->description ? json_object_new_string(in->description) : NULL);
	json_object_object_add(d, "labels",
			       in->labels ? json_object_get(in->labels) : json_object_new_object());
	json_object_object_add(d, "runtime", runtime ? json_object_new_string(runtime) : NULL);
	return d;
}

/* The webhook event of a registry write (reference §3.9 payloads), in its transaction, before
 * the audit row. */
static enum bw_err emit(struct bw_svc *svc, const struct bw_actor *actor, const char *type,
			const char *name, const char *endpoint)
{
	struct json_object *data = json_object_new_object();
	if (data == NULL)
		return BW_ENOMEM;
	json_object_object_add(data, "gateway", json_object_new_string(name));
	if (endpoint != NULL)
		json_object_object_add(data, "endpoint", json_object_new_string(endpoint));
	json_object_object_add(
	    data, "actor", json_object_new_string(actor->name != NULL ? actor->name : "system"));
	enum bw_err rc = bw_event_emit(svc, type, name, data);
	json_object_put(data);
	return rc;
}

enum bw_err bw_registry_register(struct bw_svc *svc, const struct bw_actor *actor,
				 const struct bw_gateway_new *in, struct bw_gateway *out)
{
	struct bw_dbarg args[10];
	struct json_object *detail = NULL;
	enum bw_err rc;
	args[0] = bw_dba_text(in->name);
	args[1] = bw_dba_text(in->endpoint);
	args[2] = bw_dba_text(in->scheme);
	args[3] = bw_dba_text(in->auth_mode);
	if ((rc = seal_blob(svc, in->name, "ca_cert", &in->ca_cert, &args[4])) != BW_OK ||
	    (rc = seal_blob(svc, in->name, "client_cert", &in->client_cert, &args[5])) != BW_OK ||
	    (rc = seal_blob(svc, in->name, "client_key", &in->client_key, &args[6])) != BW_OK)
		return rc;
	args[7] = bw_dba_text(column_json(in->metadata));
	args[8] = bw_dba_text(in->description);
	args[9] = bw_dba_text(column_json(in->labels));

	const char *runtime = NULL;
	struct json_object *rt = NULL;
	if (in->metadata != NULL && json_object_object_get_ex(in->metadata, "runtime", &rt) &&
	    json_object_is_type(rt, json_type_string))
		runtime = json_object_get_string(rt);
	detail = register_detail(in, runtime);
	if (detail == NULL)
		return BW_ENOMEM;
	struct bw_audit entry = {"gateway.register", "gateway", in->name, in->name, detail};

	uint64_t gen = 0;
	rc = begin_write(svc, &gen);
	if (rc != BW_OK)
		goto out;
	rc = bw_db_exec(svc->db, sql_insert, args, 10, NULL, NULL);
	if (rc == BW_OK)
		rc = emit(svc, actor, "gateway.registered", in->name, in->endpoint);
	rc = finish_write(svc, actor, &entry, rc, gen);
	if (rc == BW_OK)
		rc = bw_registry_get(svc, in->name, out);
out:
	json_object_put(detail);
	return rc;
}

enum bw_err bw_registry_update_meta(struct bw_svc *svc, const struct bw_actor *actor,
				    const char *name, const struct bw_gateway_patch *patch,
				    struct bw_gateway *out)
{
	unsigned long long matched = 0;
	struct bw_dbarg args[] = {
	    bw_dba_int(patch->set_description),
	    bw_dba_text(patch->set_description ? patch->description : NULL),
	    bw_dba_int(patch->set_labels),
	    bw_dba_text(patch->set_labels ? column_json(patch->labels) : NULL),
	    bw_dba_text(name),
	};
	struct json_object *detail = json_object_new_object();
	if (detail == NULL)
		return BW_ENOMEM;
	if (patch->set_description)
		json_object_object_add(
		    detail, "description",
		    patch->description ? json_object_new_string(patch->description) : NULL);
	if (patch->set_labels)
		json_object_object_add(detail, "labels",
				       patch->labels ? json_object_get(patch->labels) : NULL);
	struct bw_audit entry = {"gateway.update_metadata", "gateway", name, name, detail};

	uint64_t gen = 0;
	enum bw_err rc = begin_write(svc, &gen);
	if (rc != BW_OK)
		goto out;
	rc = bw_db_exec(svc->db, sql_update_meta, args, 5, &matched, NULL);
	if (rc == BW_OK && matched == 0)
		rc = BW_ENOTFOUND;
	rc = finish_write(svc, actor, &entry, rc, gen);
	if (rc == BW_OK)
		rc = bw_registry_get(svc, name, out);
out:
	json_object_put(detail);
	return rc;
}

enum bw_err bw_registry_delete(struct bw_svc *svc, const struct bw_actor *actor, const char *name)
{
	unsigned long long deleted = 0;
	struct bw_dbarg arg = bw_dba_text(name);
	struct bw_audit entry = {"gateway.unregister", "gateway", name, name, NULL};
	uint64_t gen = 0;
	enum bw_err rc = begin_write(svc, &gen);
	if (rc != BW_OK)
		return rc;
	rc = bw_db_exec(svc->db, sql_delete, &arg, 1, &deleted, NULL);
	if (rc == BW_OK && deleted == 0)
		rc = BW_ENOTFOUND;
	if (rc == BW_OK)
		rc = emit(svc, actor, "gateway.unregistered", name, NULL);
	return finish_write(svc, actor, &entry, rc, gen);
}

enum bw_err bw_registry_count(struct bw_svc *svc, long long *count)
{
	struct bw_dbres r;
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_count, NULL, 0, &r);
	if (rc == BW_OK)
		*count = r.nrows == 1 ? atoll(bw_db_cell(&r, 0, 0)) : 0;
	return rc;
}

enum bw_err bw_registry_count_by_status(struct bw_svc *svc, struct bw_dbres *out)
{
	return bw_db_query(svc->db, svc->arena, sql_count_by_status, NULL, 0, out);
}

static enum bw_err open_blob(struct bw_svc *svc, const char *name, const char *field,
			     const struct bw_dbres *r, size_t col, struct bw_blob *out)
{
	out->p = NULL;
	out->len = 0;
	if (bw_db_cell(r, 0, col) == NULL)
		return BW_OK;
	char *aad = bw_arena_printf(svc->arena, "gateway:%s:%s", name, field);
	uint8_t *pt = NULL;
	if (aad == NULL)
		return BW_ENOMEM;
	enum bw_err rc = bw_open(svc->master_key, aad, bw_db_cell(r, 0, col), bw_db_len(r, 0, col),
				 svc->arena, &pt, &out->len);
	if (rc == BW_OK)
		out->p = pt;
	return rc;
}

enum bw_err bw_registry_creds(struct bw_svc *svc, const char *name, struct bw_gateway_creds *out)
{
	struct bw_dbres r;
	struct bw_dbarg arg = bw_dba_text(name);
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_creds, &arg, 1, &r);
	if (rc != BW_OK)
		return rc;
	if (r.nrows == 0)
		return BW_ENOTFOUND;
	memset(out, 0, sizeof(*out));
	out->endpoint = bw_db_cell(&r, 0, 0);
	out->scheme = bw_db_cell(&r, 0, 1);
	if ((rc = open_blob(svc, name, "ca_cert", &r, 2, &out->ca_cert)) != BW_OK ||
	    (rc = open_blob(svc, name, "client_cert", &r, 3, &out->client_cert)) != BW_OK ||
	    (rc = open_blob(svc, name, "client_key", &r, 4, &out->client_key)) != BW_OK)
		bw_log(BW_LOG_ERROR, "registry", NULL, "gateway %s: stored credentials unreadable",
		       name);
	return rc;
}

enum bw_err bw_registry_set_health(struct bw_svc *svc, const char *name,
				   const struct bw_health_note *h)
{
	struct bw_dbarg args[] = {
	    bw_dba_text(h->status), bw_dba_int(h->reached), bw_dba_text(h->version),
	    bw_dba_text(h->compat), bw_dba_int(h->reached), bw_dba_text(name),
	};
	/* Health is part of every rendered list, so it moves the registry generation too. */
	uint64_t gen = 0;
	enum bw_err rc = begin_write(svc, &gen);
	if (rc != BW_OK)
		return rc;
	rc = bw_db_exec(svc->db, sql_health, args, 6, NULL, NULL);
	if (rc == BW_OK)
		rc = bw_db_commit(svc->db);
	else
		bw_db_rollback(svc->db);
	if (rc == BW_OK)
		publish(svc, gen);
	return rc;
}

enum bw_err bw_registry_claim_probes(struct bw_svc *svc, const char *owner, int lease_s, int max,
				     const char ***names, size_t *n)
{
	struct bw_dbarg args[] = {bw_dba_text(owner), bw_dba_int(lease_s), bw_dba_int(max)};
	struct bw_dbres r;
	*n = 0;
	enum bw_err rc = bw_db_exec(svc->db, sql_claim, args, 3, NULL, NULL);
	if (rc == BW_OK)
		rc = bw_db_query(svc->db, svc->arena, sql_claimed, args, 1, &r);
	if (rc != BW_OK)
		return rc;
	const char **list = bw_arena_alloc(svc->arena, sizeof(char *) * (r.nrows + 1));
	if (list == NULL)
		return BW_ENOMEM;
	for (size_t i = 0; i < r.nrows; i++)
		list[i] = bw_db_cell(&r, i, 0);
	*names = list;
	*n = r.nrows;
	return BW_OK;
}

enum bw_err bw_registry_probe_done(struct bw_svc *svc, const char *owner, const char *name,
				   int interval_s)
{
	struct bw_dbarg args[] = {bw_dba_int(interval_s), bw_dba_int(interval_s),
				  bw_dba_int(interval_s), bw_dba_text(name), bw_dba_text(owner)};
	return bw_db_exec(svc->db, sql_probe_done, args, 5, NULL, NULL);
}

enum bw_err bw_registry_release_probes(struct bw_svc *svc, const char *owner)
{
	struct bw_dbarg arg = bw_dba_text(owner);
	return bw_db_exec(svc->db, sql_release, &arg, 1, NULL, NULL);
}
