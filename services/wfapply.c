/* wfapply: see wfapply.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crypto.h"
#include "services/audit.h"
#include "services/events.h"
#include "services/polcore.h"
#include "services/wfapply.h"
#include "services/workflow.h"

enum bw_err bw_wfapply_chunk_id(const struct bw_apply_wf *w, char *out)
{
	struct json_object *sorted = bw_pol_sorted(w->target);
	if (sorted == NULL)
		return BW_ENOMEM;
	const char *canon = json_object_to_json_string_ext(
	    sorted, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	enum bw_err rc = BW_ENOMEM;
	if (canon != NULL) {
		/* Unambiguous framing: the hash and version never hold a newline. */
		size_t n = strlen(canon) + strlen(w->current_hash) + 64;
		char *buf = malloc(n);
		if (buf != NULL) {
			int len = snprintf(buf, n, "%s\n%u\n%s\n%s", w->merge ? "merge" : "replace",
					   w->current_version, w->current_hash, canon);
			char hex[65];
			bw_sha256_hex(buf, (size_t)len, hex);
			snprintf(out, BW_WFAPPLY_CHUNK_LEN + 1, "gitops-%.24s", hex);
			free(buf);
			rc = BW_OK;
		}
	}
	json_object_put(sorted);
	return rc;
}

static struct json_object *voted_body(const struct bw_apply_wf *w, const struct bw_vote *v)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	json_object_object_add(o, "status", json_object_new_string("vote_recorded"));
	json_object_object_add(o, "current_hash", json_object_new_string(w->current_hash));
	json_object_object_add(o, "diff", json_object_get(w->diff));
	json_object_object_add(o, "votes_needed", json_object_new_int(v->needed));
	json_object_object_add(o, "votes_cast", json_object_new_int(v->votes));
	json_object_object_add(o, "chunk_id", json_object_new_string(w->chunk_id));
	return o;
}

/* The sandbox-level audit row of a vote that did not reach quorum (the vote itself has its
 * approval.vote_cast row from the workflow). */
static enum bw_err audit_voted(struct bw_polctx *c, const struct bw_apply_wf *w,
			       const struct bw_vote *v)
{
	struct json_object *detail = json_object_new_object();
	if (detail == NULL)
		return BW_ENOMEM;
	json_object_object_add(detail, "chunk_id", json_object_new_string(w->chunk_id));
	json_object_object_add(detail, "apply_mode",
			       json_object_new_string(w->merge ? "merge" : "replace"));
	json_object_object_add(detail, "current_hash", json_object_new_string(w->current_hash));
	json_object_object_add(detail, "votes_cast", json_object_new_int(v->votes));
	json_object_object_add(detail, "votes_needed", json_object_new_int(v->needed));
	json_object_object_add(detail, "round", json_object_new_int(v->round));
	struct bw_audit entry = {"policy.apply.voted", "sandbox", c->sandbox, c->gateway, detail};
	enum bw_err rc = bw_db_begin(c->svc->db);
	if (rc == BW_OK)
		rc = bw_audit_write(c->svc, c->actor, &entry);
	rc = bw_db_end(c->svc->db, rc);
	json_object_put(detail);
	return rc;
}

/* Maps a verdict that stops the apply to its answer; BW_OK with outcome DONE lets it go on. */
static enum bw_err verdict(struct bw_polctx *c, struct bw_apply_wf *w, const struct bw_vote *v)
{
	struct bw_workflow wf;
	switch (v->verdict) {
	case BW_VOTE_QUORUM:
		w->quorum_met = true;
		w->chunk_row = v->chunk_row;
		w->round = v->round;
		return BW_OK;
	case BW_VOTE_RECORDED:
		w->body = voted_body(w, v);
		if (w->body == NULL)
			return BW_ENOMEM;
		w->outcome = BW_APPLY_DEFERRED;
		return audit_voted(c, w, v);
	case BW_VOTE_INELIGIBLE:
		if (bw_wf_get(c->svc, c->gateway, c->sandbox, &wf) != BW_OK)
			wf.roles_json = "[]";
		snprintf(c->why, sizeof(c->why), "Role '%s' not permitted (required: %s)",
			 c->actor->role, wf.roles_json);
		w->outcome = BW_APPLY_FORBIDDEN;
		return BW_OK;
	case BW_VOTE_DUPLICATE:
		snprintf(c->why, sizeof(c->why), "Actor '%s' has already voted on chunk %s",
			 c->actor->name, w->chunk_id);
		return BW_ECONFLICT;
	case BW_VOTE_BUSY:
		snprintf(c->why, sizeof(c->why),
			 "Chunk %s is being applied by another request; try again", w->chunk_id);
		return BW_ECONFLICT;
	case BW_VOTE_DECIDED:
	case BW_VOTE_REJECTED:
		break;
	}
	/* Not reachable for an approve vote on a chunk named after its base revision: the
	 * revision it was decided on has been replaced by the apply itself. */
	snprintf(c->why, sizeof(c->why), "Chunk %s was already decided", w->chunk_id);
	return BW_ECONFLICT;
}

enum bw_err bw_wfapply_vote(struct bw_polctx *c, struct bw_apply_wf *w)
{
	struct bw_vote v;
	char id[BW_WFAPPLY_CHUNK_LEN + 1];
	w->outcome = BW_APPLY_DONE;
	enum bw_err rc = bw_wfapply_chunk_id(w, id);
	if (rc != BW_OK)
		return rc;
	const char *chunk = bw_arena_strdup(c->svc->arena, id);
	if (chunk == NULL)
		return BW_ENOMEM;
	rc = bw_wf_vote(c->svc, c->actor, c->gateway, c->sandbox, chunk, "approve", NULL, &v);
	if (rc == BW_ENOTFOUND)
		return BW_OK; /* no workflow: a plain apply */
	if (rc != BW_OK)
		return rc;
	w->chunk_id = chunk;
	return verdict(c, w, &v);
}

enum bw_err bw_wfapply_settle(struct bw_polctx *c, const struct bw_apply_wf *w, bool ok)
{
	enum bw_err rc = bw_wf_settle(c->svc, w->chunk_row, w->round, ok);
	if (rc != BW_OK || !ok)
		return rc;
	struct json_object *data = json_object_new_object();
	if (data == NULL)
		return BW_ENOMEM;
	json_object_object_add(data, "sandbox", json_object_new_string(c->sandbox));
	json_object_object_add(data, "gateway", json_object_new_string(c->gateway));
	json_object_object_add(data, "chunk_id", json_object_new_string(w->chunk_id));
	json_object_object_add(data, "actor", json_object_new_string(c->actor->name));
	json_object_object_add(data, "gitops", json_object_new_boolean(true));
	rc = bw_event_emit(c->svc, "approval.quorum_met", c->gateway, data);
	json_object_put(data);
	return rc;
}

void bw_wfapply_install(void)
{
	bw_policy_set_apply_workflow_hook(bw_wfapply_vote, bw_wfapply_settle);
}
