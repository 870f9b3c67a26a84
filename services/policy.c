/* policy: see policy.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/jsonu.h"
#include "lib/log.h"
#include "openshell.pb-c.h"
#include "sandbox.pb-c.h"
#include "services/audit.h"
#include "services/events.h"
#include "services/gwcall.h"
#include "services/policy.h"
#include "services/polcore.h"
#include "services/polyaml.h"

#define RPC(m) "/openshell.v1.OpenShell/" m

typedef Openshell__Sandbox__V1__SandboxPolicy Policy;

/* Set once before request threads start, read-only afterwards. */
static bw_apply_vote_fn vote_hook;
static bw_apply_settle_fn settle_hook;

void bw_policy_set_apply_workflow_hook(bw_apply_vote_fn vote, bw_apply_settle_fn settle)
{
	vote_hook = vote;
	settle_hook = settle;
}

static void free_msg(void *m)
{
	protobuf_c_message_free_unpacked(m, NULL);
}

/* Calls method on the context's gateway; on BW_OK with c->res.st == BW_GW_OK, *resp is freed
 * with the request arena. */
static enum bw_err call(struct bw_polctx *c, const char *method, const ProtobufCMessage *req,
			const ProtobufCMessageDescriptor *rd, bool idempotent,
			ProtobufCMessage **resp)
{
	enum bw_err rc =
	    bw_gwcall_unary(c->svc, c->gateway, method, req, rd, idempotent, resp, &c->res);
	if (rc != BW_OK)
		return rc;
	if (c->res.st == BW_GW_OK && bw_arena_defer(c->svc->arena, free_msg, *resp) != 0) {
		free_msg(*resp);
		*resp = NULL;
		return BW_ENOMEM;
	}
	return BW_OK;
}

static bool gw_ok(const struct bw_polctx *c)
{
	return c->res.st == BW_GW_OK;
}

static const char *status_name(int st)
{
	static const char *const names[] = {"unspecified", "pending", "loaded", "failed",
					    "superseded"};
	return st >= 0 && st < 5 ? names[st] : "unknown";
}

static enum bw_err read_status(struct bw_polctx *c, unsigned version,
			       Openshell__V1__GetSandboxPolicyStatusResponse **out)
{
	Openshell__V1__GetSandboxPolicyStatusRequest req =
	    OPENSHELL__V1__GET_SANDBOX_POLICY_STATUS_REQUEST__INIT;
	req.name = (char *)c->sandbox;
	req.version = version;
	return call(c, RPC("GetSandboxPolicyStatus"), &req.base,
		    &openshell__v1__get_sandbox_policy_status_response__descriptor, true,
		    (ProtobufCMessage **)out);
}

static const char *hash_of(const Openshell__V1__GetSandboxPolicyStatusResponse *s)
{
	return s->revision != NULL && s->revision->policy_hash != NULL ? s->revision->policy_hash
								       : "";
}

static const Policy *policy_of(const Openshell__V1__GetSandboxPolicyStatusResponse *s)
{
	return s->revision != NULL ? s->revision->policy : NULL;
}

static struct json_object *revision_json(const Openshell__V1__SandboxPolicyRevision *r, bool err)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	json_object_object_add(o, "version", json_object_new_int64(r->version));
	json_object_object_add(o, "status", json_object_new_string(status_name(r->status)));
	json_object_object_add(o, "policy_hash",
			       json_object_new_string(r->policy_hash ? r->policy_hash : ""));
	json_object_object_add(o, "created_at_ms", json_object_new_int64(r->created_at_ms));
	json_object_object_add(o, "loaded_at_ms", json_object_new_int64(r->loaded_at_ms));
	if (err)
		json_object_object_add(o, "load_error",
				       json_object_new_string(r->load_error ? r->load_error : ""));
	return o;
}

static struct json_object *envelope(const Openshell__V1__GetSandboxPolicyStatusResponse *s)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	json_object_object_add(o, "active_version", json_object_new_int64(s->active_version));
	if (s->revision != NULL)
		json_object_object_add(o, "revision", revision_json(s->revision, false));
	if (policy_of(s) != NULL)
		json_object_object_add(o, "policy", bw_pol_to_json(&policy_of(s)->base));
	return o;
}

enum bw_err bw_policy_get(struct bw_polctx *c, unsigned version, struct json_object **env,
			  const char **hash)
{
	Openshell__V1__GetSandboxPolicyStatusResponse *s = NULL;
	*env = NULL;
	enum bw_err rc = read_status(c, version, &s);
	if (rc != BW_OK || !gw_ok(c))
		return rc;
	*env = envelope(s);
	if (hash != NULL)
		*hash = bw_arena_strdup(c->svc->arena, hash_of(s));
	return *env != NULL ? BW_OK : BW_ENOMEM;
}

enum bw_err bw_policy_revisions(struct bw_polctx *c, unsigned limit, unsigned offset,
				struct json_object **out)
{
	Openshell__V1__ListSandboxPoliciesRequest req =
	    OPENSHELL__V1__LIST_SANDBOX_POLICIES_REQUEST__INIT;
	Openshell__V1__ListSandboxPoliciesResponse *r = NULL;
	req.name = (char *)c->sandbox;
	req.limit = limit;
	req.offset = offset;
	*out = NULL;
	enum bw_err rc = call(c, RPC("ListSandboxPolicies"), &req.base,
			      &openshell__v1__list_sandbox_policies_response__descriptor, true,
			      (ProtobufCMessage **)&r);
	if (rc != BW_OK || !gw_ok(c))
		return rc;
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; arr != NULL && i < r->n_revisions; i++)
		json_object_array_add(arr, revision_json(r->revisions[i], true));
	*out = arr;
	return arr != NULL ? BW_OK : BW_ENOMEM;
}

/* ---- writing ------------------------------------------------------------------------------ */

/* The audit row (and webhook event) of a write that went through, in one transaction; wf, when
 * its quorum was met, is settled as approved in that same transaction. */
static enum bw_err record_wf(struct bw_polctx *c, const char *action, struct json_object *detail,
			     const char *event, struct json_object *event_extra,
			     const struct bw_apply_wf *wf)
{
	struct json_object *data = NULL;
	enum bw_err rc = bw_db_begin(c->svc->db);
	if (rc != BW_OK)
		return rc;
	if (wf != NULL && wf->quorum_met && settle_hook != NULL)
		rc = settle_hook(c, wf, true);
	if (rc == BW_OK && event != NULL) {
		data =
		    event_extra != NULL ? json_object_get(event_extra) : json_object_new_object();
		if (data == NULL) {
			bw_db_rollback(c->svc->db);
			return BW_ENOMEM;
		}
		json_object_object_add(data, "sandbox", json_object_new_string(c->sandbox));
		json_object_object_add(data, "gateway", json_object_new_string(c->gateway));
		json_object_object_add(data, "actor", json_object_new_string(c->actor->name));
		rc = bw_event_emit(c->svc, event, c->gateway, data);
		json_object_put(data);
	}
	struct bw_audit entry = {action, "sandbox", c->sandbox, c->gateway, detail};
	if (rc == BW_OK)
		rc = bw_audit_write(c->svc, c->actor, &entry);
	return bw_db_end(c->svc->db, rc);
}

static enum bw_err record(struct bw_polctx *c, const char *action, struct json_object *detail,
			  const char *event, struct json_object *event_extra)
{
	return record_wf(c, action, detail, event, event_extra, NULL);
}

/* The write of a quorum apply failed: its votes go back to pending for the next attempt. */
static void unsettle(struct bw_polctx *c, const struct bw_apply_wf *wf)
{
	if (!wf->quorum_met || settle_hook == NULL)
		return;
	enum bw_err rc = bw_db_begin(c->svc->db);
	if (rc == BW_OK)
		rc = settle_hook(c, wf, false);
	if (rc == BW_OK)
		rc = bw_db_commit(c->svc->db);
	if (rc != BW_OK) {
		bw_db_rollback(c->svc->db);
		bw_log(BW_LOG_ERROR, "policy", NULL,
		       "apply chunk %s left firing after a failed write: %s", wf->chunk_id,
		       bw_strerror(rc));
	}
}

/* Breakwater's own writers of one sandbox policy take turns: a MariaDB named lock (shared by
 * every process and host on the database) is held from the read of a read-modify-write to its
 * verification, and around every other policy write. Writers outside Breakwater are still
 * covered by the optimistic checks of rmw(). Names are hashed: a lock name is at most 64. */
#define LOCK_NAME "CONCAT('bw-policy:', LEFT(SHA2(?, 256), 48))"
static const char sql_lock[] = "SELECT GET_LOCK(" LOCK_NAME ", 15)";
static const char sql_unlock[] = "SELECT RELEASE_LOCK(" LOCK_NAME ")";

static const char *lock_key(struct bw_polctx *c)
{
	return bw_arena_printf(c->svc->arena, "%s\n%s", c->gateway, c->sandbox);
}

static enum bw_err lock_policy(struct bw_polctx *c)
{
	struct bw_dbres r;
	const char *key = lock_key(c);
	if (key == NULL)
		return BW_ENOMEM;
	struct bw_dbarg arg = bw_dba_text(key);
	enum bw_err rc = bw_db_query(c->svc->db, c->svc->arena, sql_lock, &arg, 1, &r);
	if (rc != BW_OK)
		return rc;
	if (r.nrows != 1 || bw_db_cell(&r, 0, 0) == NULL ||
	    strcmp(bw_db_cell(&r, 0, 0), "1") != 0) {
		snprintf(c->why, sizeof(c->why),
			 "Another policy update of sandbox %s is in progress; try again",
			 c->sandbox);
		return BW_ECONFLICT;
	}
	return BW_OK;
}

static void unlock_policy(struct bw_polctx *c)
{
	struct bw_dbres r;
	const char *key = lock_key(c);
	if (key == NULL)
		return;
	struct bw_dbarg arg = bw_dba_text(key);
	(void)bw_db_query(c->svc->db, c->svc->arena, sql_unlock, &arg, 1, &r);
}

static enum bw_err update(struct bw_polctx *c, Openshell__V1__UpdateConfigRequest *req,
			  Openshell__V1__UpdateConfigResponse **out)
{
	req->name = (char *)c->sandbox;
	enum bw_err rc = lock_policy(c);
	if (rc != BW_OK)
		return rc;
	rc = call(c, RPC("UpdateConfig"), &req->base,
		  &openshell__v1__update_config_response__descriptor, false,
		  (ProtobufCMessage **)out);
	unlock_policy(c);
	return rc;
}

/* After a successful write: the fresh envelope, then the audit row. */
static enum bw_err finish(struct bw_polctx *c, const char *action, struct json_object *detail,
			  struct json_object **env)
{
	enum bw_err rc = bw_policy_get(c, 0, env, NULL);
	if (rc != BW_OK || !gw_ok(c))
		return rc;
	return record(c, action, detail, "policy.updated", NULL);
}

enum bw_err bw_policy_replace(struct bw_polctx *c, struct json_object *policy,
			      struct json_object **env)
{
	Policy *p = NULL;
	Openshell__V1__UpdateConfigResponse *u = NULL;
	Openshell__V1__UpdateConfigRequest req = OPENSHELL__V1__UPDATE_CONFIG_REQUEST__INIT;
	*env = NULL;
	enum bw_err rc = bw_pol_from_json(policy, c->svc->arena, &p, c->why, sizeof(c->why));
	if (rc != BW_OK)
		return rc;
	req.policy = p;
	rc = update(c, &req, &u);
	if (rc != BW_OK || !gw_ok(c))
		return rc;
	return finish(c, "policy.update", NULL, env);
}

/* Sends merge operations given as [{type, rule_name, rule?}]. */
static enum bw_err send_ops(struct bw_polctx *c, struct json_object *ops)
{
	struct bw_arena *a = c->svc->arena;
	size_t n = json_object_array_length(ops);
	Openshell__V1__UpdateConfigRequest req = OPENSHELL__V1__UPDATE_CONFIG_REQUEST__INIT;
	Openshell__V1__UpdateConfigResponse *u = NULL;
	Openshell__V1__PolicyMergeOperation **arr = bw_arena_zalloc(a, (n ? n : 1) * sizeof(*arr));
	if (arr == NULL)
		return BW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(ops, i), *v = NULL;
		Openshell__V1__PolicyMergeOperation *m = bw_arena_zalloc(a, sizeof(*m));
		if (m == NULL || !json_object_object_get_ex(o, "rule_name", &v))
			return BW_ENOMEM;
		openshell__v1__policy_merge_operation__init(m);
		char *name = bw_arena_strdup(a, json_object_get_string(v));
		json_object_object_get_ex(o, "type", &v);
		if (name == NULL)
			return BW_ENOMEM;
		if (strcmp(json_object_get_string(v), "remove_rule") == 0) {
			Openshell__V1__RemoveNetworkRule *r = bw_arena_zalloc(a, sizeof(*r));
			if (r == NULL)
				return BW_ENOMEM;
			openshell__v1__remove_network_rule__init(r);
			r->rule_name = name;
			m->operation_case =
			    OPENSHELL__V1__POLICY_MERGE_OPERATION__OPERATION_REMOVE_RULE;
			m->remove_rule = r;
		} else {
			Openshell__V1__AddNetworkRule *r = bw_arena_zalloc(a, sizeof(*r));
			if (r == NULL)
				return BW_ENOMEM;
			openshell__v1__add_network_rule__init(r);
			r->rule_name = name;
			json_object_object_get_ex(o, "rule", &v);
			enum bw_err rc =
			    bw_pol_rule_from_json(v, name, a, &r->rule, c->why, sizeof(c->why));
			if (rc != BW_OK)
				return rc;
			m->operation_case =
			    OPENSHELL__V1__POLICY_MERGE_OPERATION__OPERATION_ADD_RULE;
			m->add_rule = r;
		}
		arr[i] = m;
	}
	if (n == 0)
		return BW_OK;
	req.n_merge_operations = n;
	req.merge_operations = arr;
	return update(c, &req, &u);
}

static struct json_object *rule_op(const char *type, const char *key, struct json_object *rule)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "rule_name", json_object_new_string(key));
	if (rule != NULL)
		json_object_object_add(o, "rule", json_object_get(rule));
	return o;
}

static enum bw_err ops_write(struct bw_polctx *c, struct json_object *ops, const char *action,
			     struct json_object *detail, struct json_object **env)
{
	*env = NULL;
	enum bw_err rc = ops != NULL ? send_ops(c, ops) : BW_ENOMEM;
	if (rc == BW_OK && gw_ok(c))
		rc = finish(c, action, detail, env);
	return rc;
}

enum bw_err bw_policy_rule_put(struct bw_polctx *c, const char *key, struct json_object *rule,
			       struct json_object **env)
{
	/* The rule is checked (hosts, fields) before anything is sent. */
	Openshell__Sandbox__V1__NetworkPolicyRule *probe = NULL;
	*env = NULL;
	enum bw_err rc =
	    bw_pol_rule_from_json(rule, key, c->svc->arena, &probe, c->why, sizeof(c->why));
	if (rc != BW_OK)
		return rc;
	struct json_object *ops = json_object_new_array(), *detail = json_object_new_object();
	if (ops != NULL && detail != NULL) {
		json_object_array_add(ops, rule_op("remove_rule", key, NULL));
		json_object_array_add(ops, rule_op("add_rule", key, rule));
		json_object_object_add(detail, "key", json_object_new_string(key));
		rc = ops_write(c, ops, "policy.network_rule.add", detail, env);
	} else {
		rc = BW_ENOMEM;
	}
	json_object_put(ops);
	json_object_put(detail);
	return rc;
}

enum bw_err bw_policy_rule_delete(struct bw_polctx *c, const char *key, struct json_object **env)
{
	struct json_object *ops = json_object_new_array(), *detail = json_object_new_object();
	enum bw_err rc = BW_ENOMEM;
	if (ops != NULL && detail != NULL) {
		json_object_array_add(ops, rule_op("remove_rule", key, NULL));
		json_object_object_add(detail, "key", json_object_new_string(key));
		rc = ops_write(c, ops, "policy.network_rule.delete", detail, env);
	}
	json_object_put(ops);
	json_object_put(detail);
	return rc;
}

enum bw_err bw_policy_preset(struct bw_polctx *c, const char *name, struct json_object *preset,
			     struct json_object **env)
{
	struct json_object *pol = NULL, *net = NULL;
	json_object_object_get_ex(preset, "policy", &pol);
	if (pol != NULL)
		json_object_object_get_ex(pol, "network_policies", &net);
	struct json_object *ops = json_object_new_array(), *detail = json_object_new_object();
	enum bw_err rc = ops != NULL && detail != NULL ? BW_OK : BW_ENOMEM;
	if (rc == BW_OK && net != NULL && json_object_is_type(net, json_type_object)) {
		json_object_object_foreach(net, k, v)
		{
			json_object_array_add(ops, rule_op("remove_rule", k, NULL));
			json_object_array_add(ops, rule_op("add_rule", k, v));
		}
	}
	if (rc == BW_OK) {
		json_object_object_add(detail, "preset", json_object_new_string(name));
		rc = ops_write(c, ops, "policy.preset.apply", detail, env);
	}
	json_object_put(ops);
	json_object_put(detail);
	return rc;
}

/* ---- optimistic read-modify-write of the static sections ----------------------------------- */

typedef enum bw_err (*edit_fn)(struct bw_arena *a, const Policy *cur, void *arg, Policy *next);

/* Our full write replaced revision theirs instead of base: someone changed the policy in
 * between. When only network rules differ between base and theirs (static sections cannot be
 * changed by anyone else on a live sandbox, except additions through other writers), their
 * changes are replayed as merge operations, which the gateway applies atomically to its latest
 * revision, so a further writer racing with this repair is not lost either. *restored says
 * whether that was possible. */
static enum bw_err restore_foreign(struct bw_polctx *c, const Policy *base, const Policy *theirs,
				   bool *restored)
{
	const char *section = NULL;
	struct json_object *bj = bw_pol_to_json(&base->base), *tj = bw_pol_to_json(&theirs->base);
	struct json_object *ops =
	    bj != NULL && tj != NULL ? bw_pol_merge_ops(bj, tj, &section) : NULL;
	enum bw_err rc = ops != NULL || section != NULL ? BW_OK : BW_ENOMEM;
	*restored = false;
	if (ops != NULL && json_object_array_length(ops) > 0) {
		rc = send_ops(c, ops);
		*restored = rc == BW_OK && gw_ok(c);
	}
	json_object_put(bj);
	json_object_put(tj);
	json_object_put(ops);
	return rc;
}

static enum bw_err rmw_locked(struct bw_polctx *c, edit_fn edit, void *arg, const char *action,
			      struct json_object *detail, struct json_object **env)
{
	unsigned base_version = 0;
	const char *expect_prev = NULL;
	*env = NULL;
	for (int attempt = 0; attempt < BW_POLICY_RMW_ATTEMPTS; attempt++) {
		Openshell__V1__GetSandboxPolicyStatusResponse *s = NULL, *check = NULL;
		Openshell__V1__UpdateConfigResponse *u = NULL;
		/* A writer outside Breakwater busy merging rules would win every race against an
		 * immediate re-read: back off (5 ms doubling to 320 ms, ±50%) to let it finish. */
		if (attempt > 0)
			bw_sleep_s(bw_backoff_s(attempt, 0.005, 0.32, 0.5));
		enum bw_err rc = read_status(c, base_version, &s);
		if (rc != BW_OK || !gw_ok(c))
			return rc;
		if (policy_of(s) == NULL) {
			c->no_policy = true;
			snprintf(c->why, sizeof(c->why),
				 "Could not read current policy for sandbox %s", c->sandbox);
			return BW_EINVAL;
		}
		if (expect_prev == NULL)
			expect_prev = bw_arena_strdup(c->svc->arena, hash_of(s));
		Policy next = *policy_of(s);
		rc = edit(c->svc->arena, policy_of(s), arg, &next);
		if (rc != BW_OK)
			return rc;
		if (base_version == 0) {
			/* Cheap early check: the latest revision is still the one we edited. */
			rc = read_status(c, 0, &check);
			if (rc != BW_OK || !gw_ok(c))
				return rc;
			if (strcmp(hash_of(check), expect_prev) != 0) {
				expect_prev = NULL;
				continue;
			}
		}
		Openshell__V1__UpdateConfigRequest req = OPENSHELL__V1__UPDATE_CONFIG_REQUEST__INIT;
		req.name = (char *)c->sandbox;
		req.policy = &next;
		rc = call(c, RPC("UpdateConfig"), &req.base,
			  &openshell__v1__update_config_response__descriptor, false,
			  (ProtobufCMessage **)&u);
		if (rc != BW_OK || !gw_ok(c))
			return rc;
		const char *mine = u->policy_hash != NULL ? u->policy_hash : "";
		if (strcmp(mine, expect_prev) == 0 || u->version <= 1)
			return finish(c, action, detail, env);
		/* The revision our write replaced must be the one we edited. */
		rc = read_status(c, u->version - 1, &check);
		if (rc != BW_OK)
			return rc;
		if (gw_ok(c) && strcmp(hash_of(check), expect_prev) == 0)
			return finish(c, action, detail, env);
		bool restored = false;
		if (gw_ok(c) && policy_of(check) != NULL) {
			rc = restore_foreign(c, policy_of(s), policy_of(check), &restored);
			if (rc != BW_OK || !gw_ok(c))
				return rc;
		}
		if (restored)
			return finish(c, action, detail, env);
		/* Another write slipped in and ours replaced it: redo the edit on top of it. */
		base_version = u->version - 1;
		expect_prev = bw_arena_strdup(c->svc->arena, mine);
	}
	snprintf(c->why, sizeof(c->why),
		 "The policy of sandbox %s kept changing during the update; try again", c->sandbox);
	return BW_ECONFLICT;
}

static enum bw_err rmw(struct bw_polctx *c, edit_fn edit, void *arg, const char *action,
		       struct json_object *detail, struct json_object **env)
{
	*env = NULL;
	enum bw_err rc = lock_policy(c);
	if (rc != BW_OK)
		return rc;
	rc = rmw_locked(c, edit, arg, action, detail, env);
	unlock_policy(c);
	return rc;
}

static Openshell__Sandbox__V1__FilesystemPolicy *fs_copy(struct bw_arena *a, const Policy *cur)
{
	Openshell__Sandbox__V1__FilesystemPolicy *fs = bw_arena_zalloc(a, sizeof(*fs));
	if (fs == NULL)
		return NULL;
	if (cur->filesystem != NULL)
		*fs = *cur->filesystem;
	else
		openshell__sandbox__v1__filesystem_policy__init(fs);
	return fs;
}

/* list without path, plus path when add; arena copy. */
static char **filtered(struct bw_arena *a, char **list, size_t n, const char *path, bool add,
		       size_t *outn)
{
	char **out = bw_arena_zalloc(a, (n + 1) * sizeof(*out));
	size_t k = 0;
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], path) != 0)
			out[k++] = list[i];
	if (add)
		out[k++] = (char *)path;
	*outn = k;
	return out;
}

struct fs_arg {
	const char *path;
	bool add, rw;
};

static enum bw_err fs_edit(struct bw_arena *a, const Policy *cur, void *arg, Policy *next)
{
	const struct fs_arg *f = arg;
	if (!f->add && cur->filesystem == NULL)
		return BW_OK;
	Openshell__Sandbox__V1__FilesystemPolicy *fs = fs_copy(a, cur);
	if (fs == NULL)
		return BW_ENOMEM;
	fs->read_only = filtered(a, fs->read_only, fs->n_read_only, f->path, f->add && !f->rw,
				 &fs->n_read_only);
	fs->read_write = filtered(a, fs->read_write, fs->n_read_write, f->path, f->add && f->rw,
				  &fs->n_read_write);
	if (fs->read_only == NULL || fs->read_write == NULL)
		return BW_ENOMEM;
	next->filesystem = fs;
	return BW_OK;
}

enum bw_err bw_policy_fs_add(struct bw_polctx *c, const char *path, bool rw,
			     struct json_object **env)
{
	struct fs_arg f = {path, true, rw};
	struct json_object *detail = json_object_new_object();
	if (detail == NULL)
		return BW_ENOMEM;
	json_object_object_add(detail, "path", json_object_new_string(path));
	json_object_object_add(detail, "access", json_object_new_string(rw ? "rw" : "ro"));
	enum bw_err rc = rmw(c, fs_edit, &f, "policy.filesystem.add", detail, env);
	json_object_put(detail);
	return rc;
}

enum bw_err bw_policy_fs_delete(struct bw_polctx *c, const char *path, struct json_object **env)
{
	struct fs_arg f = {path, false, false};
	struct json_object *detail = json_object_new_object();
	if (detail == NULL)
		return BW_ENOMEM;
	json_object_object_add(detail, "path", json_object_new_string(path));
	enum bw_err rc = rmw(c, fs_edit, &f, "policy.filesystem.delete", detail, env);
	json_object_put(detail);
	return rc;
}

struct proc_arg {
	const char *user, *group, *landlock;
};

static enum bw_err proc_edit(struct bw_arena *a, const Policy *cur, void *arg, Policy *next)
{
	const struct proc_arg *p = arg;
	Openshell__Sandbox__V1__ProcessPolicy *pr = bw_arena_zalloc(a, sizeof(*pr));
	if (pr == NULL)
		return BW_ENOMEM;
	if (cur->process != NULL)
		*pr = *cur->process;
	else
		openshell__sandbox__v1__process_policy__init(pr);
	if (p->user != NULL)
		pr->run_as_user = (char *)p->user;
	if (p->group != NULL)
		pr->run_as_group = (char *)p->group;
	next->process = pr;
	if (p->landlock != NULL) {
		Openshell__Sandbox__V1__LandlockPolicy *l = bw_arena_zalloc(a, sizeof(*l));
		if (l == NULL)
			return BW_ENOMEM;
		if (cur->landlock != NULL)
			*l = *cur->landlock;
		else
			openshell__sandbox__v1__landlock_policy__init(l);
		l->compatibility = (char *)p->landlock;
		next->landlock = l;
	}
	return BW_OK;
}

enum bw_err bw_policy_process(struct bw_polctx *c, const char *user, const char *group,
			      const char *landlock, struct json_object **env)
{
	struct proc_arg p = {user, group, landlock};
	struct json_object *detail = json_object_new_object();
	if (detail == NULL)
		return BW_ENOMEM;
	if (user != NULL)
		json_object_object_add(detail, "run_as_user", json_object_new_string(user));
	if (group != NULL)
		json_object_object_add(detail, "run_as_group", json_object_new_string(group));
	if (landlock != NULL)
		json_object_object_add(detail, "landlock_compatibility",
				       json_object_new_string(landlock));
	enum bw_err rc = rmw(c, proc_edit, &p, "policy.process.update", detail, env);
	json_object_put(detail);
	return rc;
}

/* ---- GitOps ------------------------------------------------------------------------------- */

struct current {
	struct json_object *policy; /* normalised JSON, {} when the gateway has none */
	const char *hash;
	unsigned version;
};

static enum bw_err read_current(struct bw_polctx *c, struct current *cur)
{
	Openshell__V1__GetSandboxPolicyStatusResponse *s = NULL;
	cur->policy = NULL;
	enum bw_err rc = read_status(c, 0, &s);
	if (rc != BW_OK || !gw_ok(c))
		return rc;
	cur->hash = bw_arena_strdup(c->svc->arena, hash_of(s));
	cur->version = s->revision != NULL ? s->revision->version : 0;
	cur->policy =
	    policy_of(s) != NULL ? bw_pol_to_json(&policy_of(s)->base) : json_object_new_object();
	if (cur->policy == NULL || cur->hash == NULL)
		return BW_ENOMEM;
	bw_arena_defer(c->svc->arena, bw_json_release, cur->policy);
	return BW_OK;
}

enum bw_err bw_policy_export(struct bw_polctx *c, struct json_object **out)
{
	struct current cur;
	*out = NULL;
	enum bw_err rc = read_current(c, &cur);
	if (rc != BW_OK || !gw_ok(c))
		return rc;
	struct json_object *doc = json_object_new_object(), *meta = json_object_new_object();
	struct json_object *o = json_object_new_object();
	char *yaml = NULL;
	size_t len = 0;
	if (doc == NULL || meta == NULL || o == NULL) {
		rc = BW_ENOMEM;
		goto out;
	}
	json_object_object_add(meta, "gateway", json_object_new_string(c->gateway));
	json_object_object_add(meta, "sandbox", json_object_new_string(c->sandbox));
	json_object_object_add(meta, "version", json_object_new_int64(cur.version));
	if (cur.hash[0] != '\0')
		json_object_object_add(meta, "policy_hash", json_object_new_string(cur.hash));
	json_object_object_add(doc, "metadata", json_object_get(meta));
	json_object_object_add(doc, "policy", json_object_get(cur.policy));
	yaml = bw_polyaml_render(doc, &len);
	if (yaml == NULL) {
		rc = BW_ENOMEM;
		goto out;
	}
	json_object_object_add(o, "yaml", json_object_new_string_len(yaml, (int)len));
	json_object_object_add(o, "gateway", json_object_new_string(c->gateway));
	json_object_object_add(o, "sandbox", json_object_new_string(c->sandbox));
	json_object_object_add(o, "version", json_object_new_int64(cur.version));
	json_object_object_add(o, "policy_hash", json_object_new_string(cur.hash));
	rc = record(c, "policy.exported", meta, NULL, NULL);
	if (rc == BW_OK) {
		*out = o;
		o = NULL;
	}
out:
	free(yaml);
	json_object_put(doc);
	json_object_put(meta);
	json_object_put(o);
	return rc;
}

static struct json_object *apply_body(const char *status, const char *current_hash,
				      struct json_object *diff, const char *applied)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	json_object_object_add(o, "status", json_object_new_string(status));
	json_object_object_add(o, "current_hash", json_object_new_string(current_hash));
	json_object_object_add(o, "diff", json_object_get(diff));
	json_object_object_add(o, "applied_version",
			       applied != NULL ? json_object_new_string(applied) : NULL);
	json_object_object_add(o, "votes_needed", NULL);
	json_object_object_add(o, "votes_cast", NULL);
	return o;
}

static const char *expected_of(const struct bw_apply_req *r, struct json_object *meta)
{
	struct json_object *v = NULL;
	if (r->expected != NULL && r->expected[0] != '\0')
		return r->expected;
	if (meta != NULL && json_object_object_get_ex(meta, "policy_hash", &v) && v != NULL &&
	    json_object_is_type(v, json_type_string) && json_object_get_string_len(v) > 0)
		return json_object_get_string(v);
	return NULL;
}

/* Merge mode's operations, computed before anything else happens (dry run, workflow vote):
 * a change merge mode cannot express is refused up front. NULL with *outcome MERGE_BAD. */
static struct json_object *merge_plan(struct bw_polctx *c, struct current *cur,
				      struct json_object *target_json,
				      enum bw_apply_outcome *outcome)
{
	const char *section = NULL;
	struct json_object *ops = bw_pol_merge_ops(cur->policy, target_json, &section);
	if (ops == NULL && section != NULL) {
		*outcome = BW_APPLY_MERGE_BAD;
		snprintf(c->why, sizeof(c->why),
			 "mode=merge cannot express changes to the '%s' section; retry with "
			 "mode=replace for changes outside network_policies",
			 section);
	}
	return ops;
}

/* The apply's write (ops for merge mode, else the whole target); *applied is the new hash. */
static enum bw_err apply_write(struct bw_polctx *c, Policy *target, struct json_object *ops,
			       const char **applied)
{
	Openshell__V1__UpdateConfigRequest req = OPENSHELL__V1__UPDATE_CONFIG_REQUEST__INIT;
	Openshell__V1__UpdateConfigResponse *u = NULL;
	enum bw_err rc;
	if (ops != NULL) {
		rc = send_ops(c, ops);
	} else {
		req.policy = target;
		rc = update(c, &req, &u);
	}
	if (rc != BW_OK || !gw_ok(c))
		return rc;
	struct current after;
	rc = read_current(c, &after);
	if (rc == BW_OK && gw_ok(c))
		*applied = after.hash;
	return rc;
}

enum bw_err bw_policy_apply(struct bw_polctx *c, const struct bw_apply_req *r,
			    enum bw_apply_outcome *outcome, struct json_object **out)
{
	struct json_object *doc = NULL, *pol = NULL, *meta = NULL, *target_json = NULL;
	struct json_object *diff = NULL, *summary = NULL, *detail = NULL, *ops = NULL;
	Policy *target = NULL;
	struct current cur;
	*out = NULL;
	*outcome = BW_APPLY_DONE;
	enum bw_err rc =
	    bw_polyaml_parse(r->yaml, r->yaml_len, &doc, &pol, &meta, c->why, sizeof(c->why));
	if (rc == BW_EINVAL || rc == BW_ETOOBIG) {
		*outcome = BW_APPLY_BAD_YAML;
		return BW_OK;
	}
	if (rc != BW_OK)
		return rc;
	rc = bw_pol_from_json(pol, c->svc->arena, &target, c->why, sizeof(c->why));
	if (rc != BW_OK)
		goto out;
	target_json = bw_pol_to_json(&target->base);
	const char *expected = expected_of(r, meta);
	rc = target_json != NULL ? read_current(c, &cur) : BW_ENOMEM;
	if (rc != BW_OK || !gw_ok(c))
		goto out;
	if (expected != NULL && strcmp(expected, cur.hash) != 0) {
		*outcome = BW_APPLY_MISMATCH;
		*out = json_object_new_object();
		if (*out == NULL) {
			rc = BW_ENOMEM;
			goto out;
		}
		json_object_object_add(*out, "status", json_object_new_string("version_mismatch"));
		json_object_object_add(*out, "current_hash", json_object_new_string(cur.hash));
		json_object_object_add(*out, "expected_version", json_object_new_string(expected));
		goto out;
	}
	diff = bw_pol_diff(cur.policy, target_json);
	summary = diff != NULL ? bw_pol_diff_summary(diff) : NULL;
	detail = json_object_new_object();
	if (summary == NULL || detail == NULL) {
		rc = BW_ENOMEM;
		goto out;
	}
	json_object_object_add(detail, "diff_summary", json_object_get(summary));
	if (r->merge && !bw_pol_diff_empty(diff)) {
		ops = merge_plan(c, &cur, target_json, outcome);
		if (ops == NULL) {
			rc = *outcome == BW_APPLY_MERGE_BAD ? BW_OK : BW_ENOMEM;
			goto out;
		}
	}
	if (r->dry_run || bw_pol_diff_empty(diff)) {
		bool dry = r->dry_run;
		if (dry)
			json_object_object_add(detail, "drift",
					       json_object_new_boolean(!bw_pol_diff_empty(diff)));
		*out = apply_body(dry ? "dry_run" : "up_to_date", cur.hash, diff, NULL);
		rc = *out != NULL ? record(c, dry ? "policy.apply.dry_run" : "policy.apply.noop",
					   detail, NULL, NULL)
				  : BW_ENOMEM;
		goto out;
	}
	struct bw_apply_wf wf = {.yaml = r->yaml,
				 .yaml_len = r->yaml_len,
				 .merge = r->merge,
				 .target = target_json,
				 .current_hash = cur.hash,
				 .current_version = cur.version,
				 .diff = diff,
				 .outcome = BW_APPLY_DONE};
	if (vote_hook != NULL) {
		rc = vote_hook(c, &wf);
		if (rc != BW_OK || wf.outcome != BW_APPLY_DONE) {
			*outcome = rc == BW_OK ? wf.outcome : BW_APPLY_DONE;
			*out = rc == BW_OK ? wf.body : NULL;
			if (rc != BW_OK)
				json_object_put(wf.body);
			goto out;
		}
	}
	size_t nops = ops != NULL ? json_object_array_length(ops) : 0;
	const char *applied = NULL;
	rc = apply_write(c, target, ops, &applied);
	if (rc != BW_OK || !gw_ok(c)) {
		unsettle(c, &wf);
		goto out;
	}
	*out = apply_body("applied", cur.hash, diff, applied);
	json_object_object_add(detail, "expected_version",
			       expected != NULL ? json_object_new_string(expected) : NULL);
	json_object_object_add(detail, "applied_version", json_object_new_string(applied));
	json_object_object_add(detail, "via_workflow", json_object_new_boolean(wf.quorum_met));
	json_object_object_add(detail, "chunk_id",
			       wf.chunk_id != NULL ? json_object_new_string(wf.chunk_id) : NULL);
	json_object_object_add(detail, "apply_mode",
			       json_object_new_string(r->merge ? "merge" : "replace"));
	json_object_object_add(detail, "merge_operation_count",
			       json_object_new_int64((int64_t)nops));
	struct json_object *ev = json_object_new_object();
	if (ev != NULL) {
		json_object_object_add(ev, "applied_version", json_object_new_string(applied));
		json_object_object_add(ev, "diff_summary", json_object_get(summary));
	}
	rc = *out != NULL && ev != NULL
		 ? record_wf(c, "policy.applied", detail, "policy.applied", ev, &wf)
		 : BW_ENOMEM;
	json_object_put(ev);
out:
	if (rc != BW_OK || *outcome == BW_APPLY_MERGE_BAD || *outcome == BW_APPLY_FORBIDDEN) {
		json_object_put(*out);
		*out = NULL;
	}
	json_object_put(doc);
	json_object_put(target_json);
	json_object_put(diff);
	json_object_put(summary);
	json_object_put(detail);
	json_object_put(ops);
	return rc;
}
