/* wfapply: GitOps apply under an approval workflow. An apply on a sandbox with a workflow is an
 * approve vote on a synthetic chunk named after what it would do — "gitops-" and a prefix of
 * the SHA-256 of the mode, the revision it starts from (version and policy hash) and the
 * canonical target policy — so the same YAML applied by distinct operators against the same
 * policy counts toward one quorum, and a re-apply after the policy moved on starts afresh. The
 * votes themselves are services/workflow.c's (rounds, one firing request, kept on failure). */
#ifndef BW_WFAPPLY_H
#define BW_WFAPPLY_H

#include "services/policy.h"

/* "gitops-" + 24 hex digits */
#define BW_WFAPPLY_CHUNK_LEN (7 + 24)

/* The chunk id of w's transition into out (BW_WFAPPLY_CHUNK_LEN + 1 bytes). BW_ENOMEM when the
 * target cannot be serialised. */
enum bw_err bw_wfapply_chunk_id(const struct bw_apply_wf *w, char *out);

/* The policy hook (bw_policy_set_apply_workflow_hook): votes, and answers 202/403/409. */
enum bw_err bw_wfapply_vote(struct bw_polctx *c, struct bw_apply_wf *w);
/* Settles a quorum round inside the caller's transaction; ok also emits approval.quorum_met. */
enum bw_err bw_wfapply_settle(struct bw_polctx *c, const struct bw_apply_wf *w, bool ok);

/* Installs both hooks; call once per process before request threads start. */
void bw_wfapply_install(void);

#endif
