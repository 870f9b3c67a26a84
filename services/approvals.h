/* approvals: draft policy chunks of a sandbox over gRPC (GetDraftPolicy, Approve/Reject/
 * ApproveAll/Edit/Undo/ClearDraftChunks, GetDraftHistory) and the wait for a policy version to
 * be loaded (GetSandboxPolicyStatus). Each write sends the upstream call first and then records
 * its webhook events and audit row in one transaction; under an approval workflow the caller
 * votes through services/workflow first and hands the quorum here to be settled. Like gwops,
 * functions return a local error (BW_ENOTFOUND = gateway not registered) and report the gateway
 * call in *res when that is BW_OK. */
#ifndef BW_APPROVALS_H
#define BW_APPROVALS_H

#include <stdbool.h>

#include <json-c/json.h>

#include "services/gwclient.h"
#include "services/svc.h"
#include "services/workflow.h"

struct bw_appr_where {
	const char *gw, *sb;
};

struct bw_appr_version {
	long long version;
	const char *hash; /* arena */
};

/* {chunks, rolling_summary, draft_version, last_analyzed_at_ms}; status_filter "" = all.
 * *out is owned by the caller. */
enum bw_err bw_appr_draft(struct bw_svc *svc, const struct bw_appr_where *w,
			  const char *status_filter, struct json_object **out,
			  struct bw_gw_result *res);
/* The pending chunks as an array (caller owns it). */
enum bw_err bw_appr_pending(struct bw_svc *svc, const struct bw_appr_where *w,
			    struct json_object **out, struct bw_gw_result *res);
/* [{timestamp_ms, event_type, description, chunk_id}] oldest first (caller owns it). */
enum bw_err bw_appr_history(struct bw_svc *svc, const struct bw_appr_where *w,
			    struct json_object **out, struct bw_gw_result *res);
/* Whether the gateway knows chunk in this sandbox (votes are only taken on real chunks). */
enum bw_err bw_appr_chunk_exists(struct bw_svc *svc, const struct bw_appr_where *w,
				 const char *chunk, bool *found, struct bw_gw_result *res);

/* ApproveDraftChunk. quorum is the workflow vote that reached quorum (NULL without a workflow):
 * it is settled approved on success and back to pending, votes kept, on failure. Success writes
 * the events approval.approved (+ approval.quorum_met) and the audit row approval.approve. */
enum bw_err bw_appr_approve(struct bw_svc *svc, const struct bw_actor *actor,
			    const struct bw_appr_where *w, const char *chunk,
			    const struct bw_vote *quorum, struct bw_appr_version *out,
			    struct bw_gw_result *res);
/* RejectDraftChunk with reason (may be ""); event approval.rejected, audit approval.reject. */
enum bw_err bw_appr_reject(struct bw_svc *svc, const struct bw_actor *actor,
			   const struct bw_appr_where *w, const char *chunk, const char *reason,
			   bool workflow, struct bw_gw_result *res);

struct bw_appr_bulk {
	struct bw_appr_version v;
	long long approved, skipped;
};
/* ApproveAllDraftChunks; event approval.approved {bulk: true}, audit approval.approve_all. */
enum bw_err bw_appr_approve_all(struct bw_svc *svc, const struct bw_actor *actor,
				const struct bw_appr_where *w, bool include_flagged,
				struct bw_appr_bulk *out, struct bw_gw_result *res);
/* EditDraftChunk with rule (an openshell.sandbox.v1.NetworkPolicyRule); audit approval.edit. */
enum bw_err bw_appr_edit(struct bw_svc *svc, const struct bw_actor *actor,
			 const struct bw_appr_where *w, const char *chunk,
			 const ProtobufCMessage *rule, struct bw_gw_result *res);
/* UndoDraftChunk; audit approval.undo. */
enum bw_err bw_appr_undo(struct bw_svc *svc, const struct bw_actor *actor,
			 const struct bw_appr_where *w, const char *chunk,
			 struct bw_appr_version *out, struct bw_gw_result *res);
/* ClearDraftChunks; audit approval.clear. */
enum bw_err bw_appr_clear(struct bw_svc *svc, const struct bw_actor *actor,
			  const struct bw_appr_where *w, long long *cleared,
			  struct bw_gw_result *res);

enum bw_load_outcome { BW_LOAD_LOADED, BW_LOAD_TIMEOUT, BW_LOAD_FAILED };

/* Polls GetSandboxPolicyStatus until version is in force (its revision loaded, or superseded by
 * a newer loaded one), the revision failed to load (*load_error: the gateway's reason, arena),
 * or timeout_s passed. A failed poll ends the wait with that result in *res. */
enum bw_err bw_appr_wait_loaded(struct bw_svc *svc, const struct bw_appr_where *w,
				long long version, double timeout_s, enum bw_load_outcome *outcome,
				const char **load_error, struct bw_gw_result *res);

#endif
