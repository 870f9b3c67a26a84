/* policy: a sandbox's policy on its gateway — read (envelope, revisions, two revisions side by
 * side), full replacement, single-rule edits and GitOps export/apply. Network rule edits and
 * presets go out as UpdateConfig merge operations, which the gateway applies atomically to its
 * latest revision, so editors of different rules never overwrite each other. Edits of the
 * static sections (filesystem, process, landlock) need a read-modify-write of the whole policy:
 * that is optimistic — the write is based on a policy hash that is re-checked just before
 * sending, and afterwards the revision our write replaced must be the one we read; otherwise
 * the edit is redone on top of the revision that slipped in (bounded, then BW_ECONFLICT).
 * Every successful write re-reads the envelope and records its audit row (and webhook event)
 * in one transaction. Return values: a local error as enum bw_err; when BW_OK, *res says how
 * the gateway call went (an unregistered gateway is BW_ENOTFOUND). */
#ifndef BW_POLICY_H
#define BW_POLICY_H

#include <stdbool.h>

#include <json-c/json.h>

#include "services/gwclient.h"
#include "services/svc.h"

/* Bounded retries of an optimistic read-modify-write before BW_ECONFLICT (with a jittered
 * exponential pause between them: under 1 s in all). */
#define BW_POLICY_RMW_ATTEMPTS 8

/* What a policy route works on. why receives a sentence for BW_EINVAL (bad policy input,
 * e.g. a TLD wildcard) and for the "no current policy" case. */
struct bw_polctx {
	struct bw_svc *svc;
	const struct bw_actor *actor;
	const char *gateway, *sandbox;
	struct bw_gw_result res;
	char why[512];
	bool no_policy; /* BW_EINVAL because the gateway returned no policy to edit */
};

/* The reference's envelope {active_version, revision{...}, policy?} of revision version (0 =
 * latest). *env is a new object (json_object_put); *hash (arena) the revision's policy hash. */
enum bw_err bw_policy_get(struct bw_polctx *c, unsigned version, struct json_object **env,
			  const char **hash);

/* [{version, status, policy_hash, created_at_ms, loaded_at_ms, load_error}], newest first. */
enum bw_err bw_policy_revisions(struct bw_polctx *c, unsigned limit, unsigned offset,
				struct json_object **out);

/* Full replacement with a JSON policy; audit policy.update, event policy.updated. */
enum bw_err bw_policy_replace(struct bw_polctx *c, struct json_object *policy,
			      struct json_object **env);

/* Network rule key := rule (insert or replace: remove_rule + add_rule in one UpdateConfig). */
enum bw_err bw_policy_rule_put(struct bw_polctx *c, const char *key, struct json_object *rule,
			       struct json_object **env);
/* Removes network rule key (absent: nothing changes, still audited). */
enum bw_err bw_policy_rule_delete(struct bw_polctx *c, const char *key, struct json_object **env);
/* Merges the preset's network_policies (key-wise replace). preset is the catalog item. */
enum bw_err bw_policy_preset(struct bw_polctx *c, const char *name, struct json_object *preset,
			     struct json_object **env);

/* Filesystem path: add with access "ro"/"rw" (removed from both lists first), or delete. */
enum bw_err bw_policy_fs_add(struct bw_polctx *c, const char *path, bool rw,
			     struct json_object **env);
enum bw_err bw_policy_fs_delete(struct bw_polctx *c, const char *path, struct json_object **env);
/* Process and landlock settings; NULL fields stay as they are. */
enum bw_err bw_policy_process(struct bw_polctx *c, const char *user, const char *group,
			      const char *landlock, struct json_object **env);

/* GitOps export: {yaml, gateway, sandbox, version, policy_hash}; audit policy.exported. */
enum bw_err bw_policy_export(struct bw_polctx *c, struct json_object **out);

/* GitOps apply. */
struct bw_apply_req {
	const char *yaml;
	size_t yaml_len;
	bool dry_run;
	const char *expected; /* NULL/"" = none (then metadata.policy_hash, if any) */
	bool merge;           /* mode=merge */
};
enum bw_apply_outcome {
	BW_APPLY_DONE,     /* *out is the 200 body */
	BW_APPLY_MISMATCH, /* 409 body {status: version_mismatch, current_hash, expected_version} */
	BW_APPLY_MERGE_BAD, /* 400: c->why says which section merge mode cannot change */
	BW_APPLY_BAD_YAML,  /* 400: c->why is the parse problem */
	BW_APPLY_DEFERRED,  /* the workflow hook took over: *out is its (202) body */
	BW_APPLY_FORBIDDEN  /* 403: c->why (the caller's role may not vote under the workflow) */
};
enum bw_err bw_policy_apply(struct bw_polctx *c, const struct bw_apply_req *r,
			    enum bw_apply_outcome *outcome, struct json_object **out);

/* The approval-workflow hooks of apply (services/wfapply.c owns GitOps votes). vote is called
 * after the diff is known and non-empty (merge mode checked), before anything is written; dry
 * runs, up_to_date answers and 409 mismatches never reach it. It fills the out part: outcome
 * DONE lets the apply go on (no workflow, or quorum met: then quorum_met and chunk_row/round
 * are set and the write's outcome is reported to settle), DEFERRED stops it with body as the
 * 202 answer, FORBIDDEN stops it with c->why as the 403 detail; a returned BW_ECONFLICT is a
 * 409 with c->why. settle runs inside a transaction the caller commits (before its audit row):
 * ok when the write went through, else the votes must stay for the next attempt. */
struct bw_apply_wf {
	/* in */
	const char *yaml;
	size_t yaml_len;
	bool merge;
	struct json_object *target; /* the normalised target policy */
	const char *current_hash;
	unsigned current_version;
	struct json_object *diff;
	/* out */
	enum bw_apply_outcome outcome;
	struct json_object *body; /* DEFERRED: new object, the 202 answer */
	const char *chunk_id;     /* arena string; NULL when no workflow applies */
	bool quorum_met;
	long long chunk_row;
	int round;
};
typedef enum bw_err (*bw_apply_vote_fn)(struct bw_polctx *c, struct bw_apply_wf *w);
typedef enum bw_err (*bw_apply_settle_fn)(struct bw_polctx *c, const struct bw_apply_wf *w,
					  bool ok);
/* Installs the hooks (once, at process start, before request threads run). Default: none. */
void bw_policy_set_apply_workflow_hook(bw_apply_vote_fn vote, bw_apply_settle_fn settle);

#endif
