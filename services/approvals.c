/* approvals: see approvals.h. */
#include "config.h"

#include <string.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "openshell.pb-c.h"
#include "sandbox.pb-c.h"
#include "services/approvals.h"
#include "services/audit.h"
#include "services/events.h"
#include "services/gwcall.h"
#include "services/pbjson.h"

#define RPC(m) "/openshell.v1.OpenShell/" m
#define POLL_MS 200

/* One record of a write: up to two events, then the audit row, in one transaction. */
struct record {
	const char *action, *resource_id;
	struct json_object *detail;
	const char *event[2];
	struct json_object *data;
};

static enum bw_err write_record(struct bw_svc *svc, const struct bw_actor *actor,
				const struct bw_appr_where *w, const struct record *r,
				const struct bw_vote *quorum)
{
	struct bw_audit entry = {r->action, "approval", r->resource_id, w->gw, r->detail};
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		return rc;
	if (quorum != NULL)
		rc = bw_wf_settle(svc, quorum->chunk_row, quorum->round, true);
	for (int i = 0; i < 2 && rc == BW_OK && r->event[i] != NULL; i++)
		rc = bw_event_emit(svc, r->event[i], w->gw, r->data);
	if (rc == BW_OK)
		rc = bw_audit_write(svc, actor, &entry);
	return bw_db_end(svc->db, rc);
}

/* A detail/data object {sandbox, ...}; NULL when out of memory. */
static struct json_object *obj_with_sandbox(const struct bw_appr_where *w)
{
	struct json_object *o = json_object_new_object();
	if (o != NULL)
		json_object_object_add(o, "sandbox", json_object_new_string(w->sb));
	return o;
}

static struct json_object *chunks_json(Openshell__V1__PolicyChunk **chunks, size_t n)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; a != NULL && i < n; i++) {
		struct json_object *c = bw_pbjson_from(&chunks[i]->base, BW_PBJSON_ALL_FIELDS);
		/* The reference's key for the denials behind a chunk; no denial cache here yet. */
		if (c != NULL)
			json_object_object_add(c, "denial_context", NULL);
		json_object_array_add(a, c);
	}
	return a;
}

static enum bw_err get_draft(struct bw_svc *svc, const struct bw_appr_where *w, const char *filter,
			     Openshell__V1__GetDraftPolicyResponse **out, struct bw_gw_result *res)
{
	Openshell__V1__GetDraftPolicyRequest req = OPENSHELL__V1__GET_DRAFT_POLICY_REQUEST__INIT;
	req.name = (char *)w->sb;
	req.status_filter = (char *)filter;
	return bw_gwcall_unary(svc, w->gw, RPC("GetDraftPolicy"), &req.base,
			       &openshell__v1__get_draft_policy_response__descriptor, true,
			       (ProtobufCMessage **)out, res);
}

enum bw_err bw_appr_draft(struct bw_svc *svc, const struct bw_appr_where *w,
			  const char *status_filter, struct json_object **out,
			  struct bw_gw_result *res)
{
	Openshell__V1__GetDraftPolicyResponse *d = NULL;
	*out = NULL;
	enum bw_err rc = get_draft(svc, w, status_filter, &d, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	struct json_object *o = json_object_new_object();
	if (o != NULL) {
		json_object_object_add(o, "chunks", chunks_json(d->chunks, d->n_chunks));
		json_object_object_add(o, "rolling_summary",
				       json_object_new_string(d->rolling_summary));
		json_object_object_add(o, "draft_version",
				       json_object_new_uint64(d->draft_version));
		json_object_object_add(o, "last_analyzed_at_ms",
				       json_object_new_int64(d->last_analyzed_at_ms));
	}
	protobuf_c_message_free_unpacked(&d->base, NULL);
	*out = o;
	return o != NULL ? BW_OK : BW_ENOMEM;
}

enum bw_err bw_appr_pending(struct bw_svc *svc, const struct bw_appr_where *w,
			    struct json_object **out, struct bw_gw_result *res)
{
	Openshell__V1__GetDraftPolicyResponse *d = NULL;
	*out = NULL;
	enum bw_err rc = get_draft(svc, w, "pending", &d, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	*out = chunks_json(d->chunks, d->n_chunks);
	protobuf_c_message_free_unpacked(&d->base, NULL);
	return *out != NULL ? BW_OK : BW_ENOMEM;
}

enum bw_err bw_appr_chunk_exists(struct bw_svc *svc, const struct bw_appr_where *w,
				 const char *chunk, bool *found, struct bw_gw_result *res)
{
	Openshell__V1__GetDraftPolicyResponse *d = NULL;
	*found = false;
	enum bw_err rc = get_draft(svc, w, "", &d, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	for (size_t i = 0; i < d->n_chunks && !*found; i++)
		*found = d->chunks[i]->id != NULL && strcmp(d->chunks[i]->id, chunk) == 0;
	protobuf_c_message_free_unpacked(&d->base, NULL);
	return BW_OK;
}

enum bw_err bw_appr_history(struct bw_svc *svc, const struct bw_appr_where *w,
			    struct json_object **out, struct bw_gw_result *res)
{
	Openshell__V1__GetDraftHistoryRequest req = OPENSHELL__V1__GET_DRAFT_HISTORY_REQUEST__INIT;
	Openshell__V1__GetDraftHistoryResponse *h = NULL;
	*out = NULL;
	req.name = (char *)w->sb;
	enum bw_err rc = bw_gwcall_unary(svc, w->gw, RPC("GetDraftHistory"), &req.base,
					 &openshell__v1__get_draft_history_response__descriptor,
					 true, (ProtobufCMessage **)&h, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; a != NULL && i < h->n_entries; i++)
		json_object_array_add(a,
				      bw_pbjson_from(&h->entries[i]->base, BW_PBJSON_ALL_FIELDS));
	protobuf_c_message_free_unpacked(&h->base, NULL);
	*out = a;
	return a != NULL ? BW_OK : BW_ENOMEM;
}

static bool keep_version(struct bw_svc *svc, struct bw_appr_version *out, uint32_t v,
			 const char *hash)
{
	out->version = v;
	out->hash = bw_arena_strdup(svc->arena, hash != NULL ? hash : "");
	return out->hash != NULL;
}

/* The upstream approve failed: the quorum's votes stay and the next approve fires again. */
static void unfire(struct bw_svc *svc, const struct bw_vote *quorum)
{
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc == BW_OK)
		rc = bw_wf_settle(svc, quorum->chunk_row, quorum->round, false);
	if (rc == BW_OK)
		rc = bw_db_commit(svc->db);
	if (rc != BW_OK) {
		bw_db_rollback(svc->db);
		bw_log(BW_LOG_ERROR, "approvals", NULL,
		       "chunk row %lld left firing after a failed approve: %s", quorum->chunk_row,
		       bw_strerror(rc));
	}
}

enum bw_err bw_appr_approve(struct bw_svc *svc, const struct bw_actor *actor,
			    const struct bw_appr_where *w, const char *chunk,
			    const struct bw_vote *quorum, struct bw_appr_version *out,
			    struct bw_gw_result *res)
{
	Openshell__V1__ApproveDraftChunkRequest req =
	    OPENSHELL__V1__APPROVE_DRAFT_CHUNK_REQUEST__INIT;
	Openshell__V1__ApproveDraftChunkResponse *a = NULL;
	req.name = (char *)w->sb;
	req.chunk_id = (char *)chunk;
	enum bw_err rc = bw_gwcall_unary(svc, w->gw, RPC("ApproveDraftChunk"), &req.base,
					 &openshell__v1__approve_draft_chunk_response__descriptor,
					 false, (ProtobufCMessage **)&a, res);
	if (rc != BW_OK || res->st != BW_GW_OK) {
		if (quorum != NULL)
			unfire(svc, quorum);
		return rc;
	}
	bool kept = keep_version(svc, out, a->policy_version, a->policy_hash);
	protobuf_c_message_free_unpacked(&a->base, NULL);
	struct json_object *detail = obj_with_sandbox(w), *data = obj_with_sandbox(w);
	if (!kept || detail == NULL || data == NULL) {
		rc = BW_ENOMEM;
		goto out;
	}
	json_object_object_add(detail, "workflow", json_object_new_boolean(quorum != NULL));
	json_object_object_add(detail, "policy_version", json_object_new_int64(out->version));
	json_object_object_add(data, "chunk_id", json_object_new_string(chunk));
	json_object_object_add(data, "gateway", json_object_new_string(w->gw));
	json_object_object_add(data, "actor", json_object_new_string(actor->name));
	json_object_object_add(data, "policy_version", json_object_new_int64(out->version));
	if (quorum != NULL)
		json_object_object_add(data, "votes_needed", json_object_new_int(quorum->needed));
	struct record r = {"approval.approve",
			   chunk,
			   detail,
			   {"approval.approved", quorum != NULL ? "approval.quorum_met" : NULL},
			   data};
	rc = write_record(svc, actor, w, &r, quorum);
out:
	json_object_put(detail);
	json_object_put(data);
	return rc;
}

enum bw_err bw_appr_reject(struct bw_svc *svc, const struct bw_actor *actor,
			   const struct bw_appr_where *w, const char *chunk, const char *reason,
			   bool workflow, struct bw_gw_result *res)
{
	Openshell__V1__RejectDraftChunkRequest req =
	    OPENSHELL__V1__REJECT_DRAFT_CHUNK_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	req.name = (char *)w->sb;
	req.chunk_id = (char *)chunk;
	req.reason = (char *)reason;
	enum bw_err rc = bw_gwcall_unary(svc, w->gw, RPC("RejectDraftChunk"), &req.base,
					 &openshell__v1__reject_draft_chunk_response__descriptor,
					 false, &resp, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	protobuf_c_message_free_unpacked(resp, NULL);
	struct json_object *detail = obj_with_sandbox(w), *data = obj_with_sandbox(w);
	if (detail == NULL || data == NULL) {
		rc = BW_ENOMEM;
		goto out;
	}
	json_object_object_add(detail, "reason", json_object_new_string(reason));
	json_object_object_add(detail, "workflow", json_object_new_boolean(workflow));
	json_object_object_add(data, "chunk_id", json_object_new_string(chunk));
	json_object_object_add(data, "reason", json_object_new_string(reason));
	json_object_object_add(data, "actor", json_object_new_string(actor->name));
	json_object_object_add(data, "gateway", json_object_new_string(w->gw));
	struct record r = {"approval.reject", chunk, detail, {"approval.rejected", NULL}, data};
	rc = write_record(svc, actor, w, &r, NULL);
out:
	json_object_put(detail);
	json_object_put(data);
	return rc;
}

enum bw_err bw_appr_approve_all(struct bw_svc *svc, const struct bw_actor *actor,
				const struct bw_appr_where *w, bool include_flagged,
				struct bw_appr_bulk *out, struct bw_gw_result *res)
{
	Openshell__V1__ApproveAllDraftChunksRequest req =
	    OPENSHELL__V1__APPROVE_ALL_DRAFT_CHUNKS_REQUEST__INIT;
	Openshell__V1__ApproveAllDraftChunksResponse *a = NULL;
	req.name = (char *)w->sb;
	req.include_security_flagged = include_flagged;
	enum bw_err rc =
	    bw_gwcall_unary(svc, w->gw, RPC("ApproveAllDraftChunks"), &req.base,
			    &openshell__v1__approve_all_draft_chunks_response__descriptor, false,
			    (ProtobufCMessage **)&a, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	bool kept = keep_version(svc, &out->v, a->policy_version, a->policy_hash);
	out->approved = a->chunks_approved;
	out->skipped = a->chunks_skipped;
	protobuf_c_message_free_unpacked(&a->base, NULL);
	struct json_object *detail = obj_with_sandbox(w), *data = obj_with_sandbox(w);
	if (!kept || detail == NULL || data == NULL) {
		rc = BW_ENOMEM;
		goto out;
	}
	json_object_object_add(detail, "include_security_flagged",
			       json_object_new_boolean(include_flagged));
	json_object_object_add(detail, "chunks_approved", json_object_new_int64(out->approved));
	json_object_object_add(data, "bulk", json_object_new_boolean(true));
	json_object_object_add(data, "gateway", json_object_new_string(w->gw));
	json_object_object_add(data, "actor", json_object_new_string(actor->name));
	json_object_object_add(data, "chunks_approved", json_object_new_int64(out->approved));
	json_object_object_add(data, "policy_version", json_object_new_int64(out->v.version));
	struct record r = {
	    "approval.approve_all", w->sb, detail, {"approval.approved", NULL}, data};
	rc = write_record(svc, actor, w, &r, NULL);
out:
	json_object_put(detail);
	json_object_put(data);
	return rc;
}

/* The audit-only record of edit, undo and clear. */
static enum bw_err audit_only(struct bw_svc *svc, const struct bw_actor *actor,
			      const struct bw_appr_where *w, const char *action,
			      const char *resource, struct json_object *detail)
{
	struct record r = {action, resource, detail, {NULL, NULL}, NULL};
	return write_record(svc, actor, w, &r, NULL);
}

enum bw_err bw_appr_edit(struct bw_svc *svc, const struct bw_actor *actor,
			 const struct bw_appr_where *w, const char *chunk,
			 const ProtobufCMessage *rule, struct bw_gw_result *res)
{
	Openshell__V1__EditDraftChunkRequest req = OPENSHELL__V1__EDIT_DRAFT_CHUNK_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	req.name = (char *)w->sb;
	req.chunk_id = (char *)chunk;
	req.proposed_rule = (Openshell__Sandbox__V1__NetworkPolicyRule *)rule;
	enum bw_err rc = bw_gwcall_unary(svc, w->gw, RPC("EditDraftChunk"), &req.base,
					 &openshell__v1__edit_draft_chunk_response__descriptor,
					 false, &resp, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	protobuf_c_message_free_unpacked(resp, NULL);
	struct json_object *detail = obj_with_sandbox(w);
	if (detail == NULL)
		return BW_ENOMEM;
	json_object_object_add(detail, "proposed_rule", bw_pbjson_from(rule, 0));
	rc = audit_only(svc, actor, w, "approval.edit", chunk, detail);
	json_object_put(detail);
	return rc;
}

enum bw_err bw_appr_undo(struct bw_svc *svc, const struct bw_actor *actor,
			 const struct bw_appr_where *w, const char *chunk,
			 struct bw_appr_version *out, struct bw_gw_result *res)
{
	Openshell__V1__UndoDraftChunkRequest req = OPENSHELL__V1__UNDO_DRAFT_CHUNK_REQUEST__INIT;
	Openshell__V1__UndoDraftChunkResponse *u = NULL;
	req.name = (char *)w->sb;
	req.chunk_id = (char *)chunk;
	enum bw_err rc = bw_gwcall_unary(svc, w->gw, RPC("UndoDraftChunk"), &req.base,
					 &openshell__v1__undo_draft_chunk_response__descriptor,
					 false, (ProtobufCMessage **)&u, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	bool kept = keep_version(svc, out, u->policy_version, u->policy_hash);
	protobuf_c_message_free_unpacked(&u->base, NULL);
	struct json_object *detail = obj_with_sandbox(w);
	if (!kept || detail == NULL) {
		json_object_put(detail);
		return BW_ENOMEM;
	}
	json_object_object_add(detail, "policy_version", json_object_new_int64(out->version));
	rc = audit_only(svc, actor, w, "approval.undo", chunk, detail);
	json_object_put(detail);
	return rc;
}

enum bw_err bw_appr_clear(struct bw_svc *svc, const struct bw_actor *actor,
			  const struct bw_appr_where *w, long long *cleared,
			  struct bw_gw_result *res)
{
	Openshell__V1__ClearDraftChunksRequest req =
	    OPENSHELL__V1__CLEAR_DRAFT_CHUNKS_REQUEST__INIT;
	Openshell__V1__ClearDraftChunksResponse *c = NULL;
	req.name = (char *)w->sb;
	enum bw_err rc = bw_gwcall_unary(svc, w->gw, RPC("ClearDraftChunks"), &req.base,
					 &openshell__v1__clear_draft_chunks_response__descriptor,
					 false, (ProtobufCMessage **)&c, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	*cleared = c->chunks_cleared;
	protobuf_c_message_free_unpacked(&c->base, NULL);
	struct json_object *detail = obj_with_sandbox(w);
	if (detail == NULL)
		return BW_ENOMEM;
	json_object_object_add(detail, "chunks_cleared", json_object_new_int64(*cleared));
	rc = audit_only(svc, actor, w, "approval.clear", w->sb, detail);
	json_object_put(detail);
	return rc;
}

/* One poll: *done when the version is in force or failed. */
static enum bw_err poll_once(struct bw_svc *svc, const struct bw_appr_where *w, long long version,
			     bool *done, enum bw_load_outcome *outcome, const char **load_error,
			     struct bw_gw_result *res)
{
	Openshell__V1__GetSandboxPolicyStatusRequest req =
	    OPENSHELL__V1__GET_SANDBOX_POLICY_STATUS_REQUEST__INIT;
	Openshell__V1__GetSandboxPolicyStatusResponse *s = NULL;
	req.name = (char *)w->sb;
	req.version = (uint32_t)version;
	*done = false;
	enum bw_err rc =
	    bw_gwcall_unary(svc, w->gw, RPC("GetSandboxPolicyStatus"), &req.base,
			    &openshell__v1__get_sandbox_policy_status_response__descriptor, true,
			    (ProtobufCMessage **)&s, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	int st = s->revision != NULL ? (int)s->revision->status : 0;
	if (st == OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_LOADED ||
	    (st == OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_SUPERSEDED &&
	     s->active_version >= version)) {
		*done = true;
		*outcome = BW_LOAD_LOADED;
	} else if (st == OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_FAILED) {
		*done = true;
		*outcome = BW_LOAD_FAILED;
		*load_error = bw_arena_strdup(
		    svc->arena, s->revision->load_error != NULL ? s->revision->load_error : "");
	}
	protobuf_c_message_free_unpacked(&s->base, NULL);
	return BW_OK;
}

enum bw_err bw_appr_wait_loaded(struct bw_svc *svc, const struct bw_appr_where *w,
				long long version, double timeout_s, enum bw_load_outcome *outcome,
				const char **load_error, struct bw_gw_result *res)
{
	double deadline = bw_mono_s() + timeout_s;
	*outcome = BW_LOAD_TIMEOUT;
	*load_error = NULL;
	for (;;) {
		bool done = false;
		enum bw_err rc = poll_once(svc, w, version, &done, outcome, load_error, res);
		if (rc != BW_OK || res->st != BW_GW_OK || done)
			return rc;
		double left = deadline - bw_mono_s();
		if (left <= 0) {
			*outcome = BW_LOAD_TIMEOUT;
			return BW_OK;
		}
		bw_sleep_s(left < POLL_MS / 1e3 ? left : POLL_MS / 1e3);
	}
}
