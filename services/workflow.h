/* workflow: owns approval_workflows, approval_chunks, approval_votes and approval_escalations
 * (sql/010_approvals.sql) — quorum voting on draft policy chunks. Every vote runs in one
 * transaction that locks the chunk's voting row, so votes on one chunk are serialised across
 * processes and hosts; the vote that reaches quorum moves the row to "firing" in that same
 * transaction, so exactly one request sends the upstream approve (bw_wf_settle records how it
 * went). Votes are never deleted on a decision: a reject ends the round, the next vote opens a
 * new one. No gateway I/O happens here. */
#ifndef BW_WORKFLOW_H
#define BW_WORKFLOW_H

#include <stdbool.h>

#include <json-c/json.h>

#include "lib/err.h"
#include "services/svc.h"

#define BW_WF_MAX_APPROVALS 20
#define BW_WF_MAX_ESCALATION_MINUTES 10080
#define BW_WF_CHUNK_ID_MAX 128

struct bw_workflow {
	long long id;
	int required_approvals;
	const char *roles_json; /* sorted JSON array of role names, "[]" = any role */
	bool distinct_actors;
	int escalation_minutes; /* 0 = no escalation */
	const char *created_by, *created_at, *updated_at;
};

/* The workflow of (gateway, sandbox); BW_ENOTFOUND when none. Strings in arena memory. */
enum bw_err bw_wf_get(struct bw_svc *svc, const char *gw, const char *sb, struct bw_workflow *out);

/* The API object of a workflow (caller owns it). */
struct json_object *bw_wf_json(const char *gw, const char *sb, const struct bw_workflow *w);

/* Creates or replaces (keeping created_by/created_at) the workflow from in's required_approvals,
 * roles_json (already validated and sorted), distinct_actors and escalation_minutes, with the
 * audit row approval.workflow.upsert; *out is the stored workflow. */
enum bw_err bw_wf_upsert(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
			 const char *sb, const struct bw_workflow *in, struct bw_workflow *out);

/* Deletes the workflow (its voting state cascades) with the audit row approval.workflow.delete.
 * BW_ENOTFOUND when none. */
enum bw_err bw_wf_delete(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
			 const char *sb);

enum bw_vote_verdict {
	BW_VOTE_RECORDED, /* counted; quorum not reached yet */
	BW_VOTE_QUORUM,   /* quorum reached: the caller sends the upstream approve, then settles */
	BW_VOTE_REJECTED, /* a reject ended the round: the caller forwards the reject */
	BW_VOTE_INELIGIBLE, /* the voter's role is not in required_roles (nothing written) */
	BW_VOTE_DUPLICATE,  /* this actor already voted in the round (nothing written) */
	BW_VOTE_BUSY,       /* another request is sending the upstream approve right now */
	BW_VOTE_DECIDED     /* the chunk was already approved under the workflow */
};

struct bw_vote {
	enum bw_vote_verdict verdict;
	long long chunk_row;
	int round;
	int votes;  /* approve votes of the round, this one included */
	int needed; /* required_approvals */
	bool escalated;
	struct json_object *decisions; /* the round's votes, oldest first (arena-owned) */
};

/* Records actor's decision ("approve" or "reject", comment may be NULL) on chunk under the
 * workflow of (gw, sb), with the event approval.vote_cast and the audit row approval.vote_cast
 * in the same transaction. BW_ENOTFOUND when there is no workflow. A chunk whose quorum was met
 * but whose upstream approve failed fires again on the next approve vote (no vote is lost). */
enum bw_err bw_wf_vote(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
		       const char *sb, const char *chunk, const char *decision, const char *comment,
		       struct bw_vote *out);

/* After BW_VOTE_QUORUM: inside the caller's transaction, marks the round approved (ok) or back
 * to pending with its votes kept (!ok, the upstream approve failed). */
enum bw_err bw_wf_settle(struct bw_svc *svc, long long chunk_row, int round, bool ok);

/* GET .../decisions: {status, votes, needed, decisions, round, escalated}; no workflow gives
 * {status: "no_workflow", votes: 0, needed: 0, decisions: []}. Caller owns *out. */
enum bw_err bw_wf_tally(struct bw_svc *svc, const char *gw, const char *sb, const char *chunk,
			struct json_object **out);

/* One escalation pass (breakwater-worker): every pending round whose first vote is older than
 * its workflow's escalation timeout and that was not escalated yet gets an approval_escalations
 * row, the event approval.escalated and the audit row approval.escalated (actor "system"), once,
 * whatever the number of workers. *count is how many were escalated. */
enum bw_err bw_wf_escalate_due(struct bw_svc *svc, int *count);

/* A "firing" row older than lease_s (its request died mid-call) goes back to pending, so the
 * next approve vote can fire it again. */
enum bw_err bw_wf_release_stale(struct bw_svc *svc, int lease_s);

#endif
