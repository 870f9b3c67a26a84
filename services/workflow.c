/* workflow: see workflow.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/jsonu.h"
#include "lib/log.h"
#include "services/audit.h"
#include "services/events.h"
#include "services/workflow.h"

#define NARGS(a) (sizeof(a) / sizeof((a)[0]))
#define TS(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%s.%f+00:00')"

static const char sql_get[] =
    "SELECT id, required_approvals, required_roles_json, distinct_actors, "
    "COALESCE(escalation_timeout_minutes, 0), created_by, " TS("created_at") ", " TS(
	"updated_at") " FROM approval_workflows WHERE gateway_name = ? AND sandbox_name = ?";
static const char sql_get_shared[] =
    "SELECT id, required_approvals, required_roles_json, distinct_actors, "
    "COALESCE(escalation_timeout_minutes, 0), created_by, " TS("created_at") ", " TS(
	"updated_at") " FROM approval_workflows WHERE gateway_name = ? AND sandbox_name = ? "
		      "LOCK IN SHARE MODE";
static const char sql_upsert[] =
    "INSERT INTO approval_workflows (gateway_name, sandbox_name, required_approvals, "
    "required_roles_json, distinct_actors, escalation_timeout_minutes, created_by) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE "
    "required_approvals = VALUES(required_approvals), "
    "required_roles_json = VALUES(required_roles_json), "
    "distinct_actors = VALUES(distinct_actors), "
    "escalation_timeout_minutes = VALUES(escalation_timeout_minutes), "
    "updated_at = CURRENT_TIMESTAMP(6)";
static const char sql_delete[] =
    "DELETE FROM approval_workflows WHERE gateway_name = ? AND sandbox_name = ?";
static const char sql_chunk_ensure[] =
    "INSERT INTO approval_chunks (workflow_id, chunk_id) VALUES (?, ?) "
    "ON DUPLICATE KEY UPDATE id = id";
static const char sql_chunk_lock[] =
    "SELECT id, round, status, escalated_at IS NOT NULL FROM approval_chunks "
    "WHERE workflow_id = ? AND chunk_id = ? FOR UPDATE";
static const char sql_chunk_get[] =
    "SELECT id, round, status, escalated_at IS NOT NULL FROM approval_chunks "
    "WHERE workflow_id = ? AND chunk_id = ?";
static const char sql_new_round[] =
    "UPDATE approval_chunks SET round = round + 1, status = 'pending', first_vote_at = NULL, "
    "escalated_at = NULL, fired_by = NULL, fired_at = NULL, decided_at = NULL WHERE id = ?";
static const char sql_count[] =
    "SELECT COALESCE(SUM(decision = 'approve'), 0), COALESCE(SUM(decision = 'reject'), 0), "
    "COALESCE(SUM(actor = ?), 0) FROM approval_votes WHERE chunk_row = ? AND round = ?";
static const char sql_vote[] =
    "INSERT INTO approval_votes (chunk_row, round, actor, seq, role, decision, comment) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)";
static const char sql_first_vote[] =
    "UPDATE approval_chunks SET first_vote_at = COALESCE(first_vote_at, CURRENT_TIMESTAMP(6)) "
    "WHERE id = ?";
static const char sql_fire[] =
    "UPDATE approval_chunks SET status = 'firing', fired_by = ?, fired_at = CURRENT_TIMESTAMP(6) "
    "WHERE id = ?";
static const char sql_reject[] =
    "UPDATE approval_chunks SET status = 'rejected', decided_at = CURRENT_TIMESTAMP(6) "
    "WHERE id = ?";
static const char sql_settle_ok[] =
    "UPDATE approval_chunks SET status = 'approved', decided_at = CURRENT_TIMESTAMP(6) "
    "WHERE id = ? AND round = ? AND status = 'firing'";
static const char sql_settle_fail[] =
    "UPDATE approval_chunks SET status = 'pending', fired_by = NULL, fired_at = NULL "
    "WHERE id = ? AND round = ? AND status = 'firing'";
static const char sql_decisions[] = "SELECT actor, role, decision, comment, " TS(
    "created_at") " FROM approval_votes "
		  "WHERE chunk_row = ? AND round = ? ORDER BY created_at, id";
static const char sql_due[] =
    "SELECT c.id, c.round, w.gateway_name, w.sandbox_name, c.chunk_id, "
    "w.escalation_timeout_minutes FROM approval_chunks c "
    "JOIN approval_workflows w ON w.id = c.workflow_id "
    "WHERE c.status = 'pending' AND c.escalated_at IS NULL AND c.first_vote_at IS NOT NULL "
    "AND w.escalation_timeout_minutes IS NOT NULL "
    "AND c.first_vote_at <= CURRENT_TIMESTAMP(6) - INTERVAL w.escalation_timeout_minutes MINUTE "
    "LIMIT 100";
static const char sql_claim_escalation[] =
    "UPDATE approval_chunks SET escalated_at = CURRENT_TIMESTAMP(6) "
    "WHERE id = ? AND round = ? AND status = 'pending' AND escalated_at IS NULL";
static const char sql_escalation_row[] =
    "INSERT INTO approval_escalations (chunk_row, round, gateway_name, sandbox_name, chunk_id, "
    "timeout_minutes, votes) SELECT ?, ?, ?, ?, ?, ?, COUNT(*) FROM approval_votes "
    "WHERE chunk_row = ? AND round = ?";
static const char sql_release[] =
    "UPDATE approval_chunks SET status = 'pending', fired_by = NULL, fired_at = NULL "
    "WHERE status = 'firing' AND fired_at < CURRENT_TIMESTAMP(6) - INTERVAL ? SECOND";

static enum bw_err fill(const struct bw_dbres *r, struct bw_workflow *out)
{
	if (r->nrows == 0)
		return BW_ENOTFOUND;
	out->id = atoll(bw_db_cell(r, 0, 0));
	out->required_approvals = atoi(bw_db_cell(r, 0, 1));
	out->roles_json = bw_db_cell(r, 0, 2);
	out->distinct_actors = atoi(bw_db_cell(r, 0, 3)) != 0;
	out->escalation_minutes = atoi(bw_db_cell(r, 0, 4));
	out->created_by = bw_db_cell(r, 0, 5);
	out->created_at = bw_db_cell(r, 0, 6);
	out->updated_at = bw_db_cell(r, 0, 7);
	return BW_OK;
}

static enum bw_err get_with(struct bw_svc *svc, const char *sql, const char *gw, const char *sb,
			    struct bw_workflow *out)
{
	struct bw_dbres r;
	struct bw_dbarg args[] = {bw_dba_text(gw), bw_dba_text(sb)};
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql, args, NARGS(args), &r);
	return rc != BW_OK ? rc : fill(&r, out);
}

enum bw_err bw_wf_get(struct bw_svc *svc, const char *gw, const char *sb, struct bw_workflow *out)
{
	return get_with(svc, sql_get, gw, sb, out);
}

struct json_object *bw_wf_json(const char *gw, const char *sb, const struct bw_workflow *w)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	json_object_object_add(o, "gateway_name", json_object_new_string(gw));
	json_object_object_add(o, "sandbox_name", json_object_new_string(sb));
	json_object_object_add(o, "required_approvals", json_object_new_int(w->required_approvals));
	json_object_object_add(o, "required_roles", json_tokener_parse(w->roles_json));
	json_object_object_add(o, "distinct_actors", json_object_new_boolean(w->distinct_actors));
	json_object_object_add(
	    o, "escalation_timeout_minutes",
	    w->escalation_minutes > 0 ? json_object_new_int(w->escalation_minutes) : NULL);
	json_object_object_add(o, "created_by", json_object_new_string(w->created_by));
	json_object_object_add(o, "created_at", json_object_new_string(w->created_at));
	json_object_object_add(o, "updated_at", json_object_new_string(w->updated_at));
	return o;
}

/* Writes the audit row (last statement) and commits, or rolls back when rc is not BW_OK. */
static enum bw_err finish(struct bw_svc *svc, const struct bw_actor *actor,
			  const struct bw_audit *entry, enum bw_err rc)
{
	if (rc == BW_OK)
		rc = bw_audit_write(svc, actor, entry);
	return bw_db_end(svc->db, rc);
}

enum bw_err bw_wf_upsert(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
			 const char *sb, const struct bw_workflow *in, struct bw_workflow *out)
{
	struct bw_dbarg args[] = {
	    bw_dba_text(gw),
	    bw_dba_text(sb),
	    bw_dba_int(in->required_approvals),
	    bw_dba_text(in->roles_json),
	    bw_dba_int(in->distinct_actors),
	    in->escalation_minutes > 0 ? bw_dba_int(in->escalation_minutes) : bw_dba_null(),
	    bw_dba_text(actor->name),
	};
	struct json_object *detail = json_object_new_object();
	if (detail == NULL)
		return BW_ENOMEM;
	json_object_object_add(detail, "required_approvals",
			       json_object_new_int(in->required_approvals));
	json_object_object_add(detail, "required_roles", json_tokener_parse(in->roles_json));
	json_object_object_add(detail, "distinct_actors",
			       json_object_new_boolean(in->distinct_actors));
	struct bw_audit entry = {"approval.workflow.upsert", "approval_workflow", sb, gw, detail};
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc == BW_OK) {
		rc = bw_db_exec(svc->db, sql_upsert, args, NARGS(args), NULL, NULL);
		if (rc == BW_OK)
			rc = get_with(svc, sql_get, gw, sb, out);
		rc = finish(svc, actor, &entry, rc);
	}
	json_object_put(detail);
	return rc;
}

enum bw_err bw_wf_delete(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
			 const char *sb)
{
	unsigned long long n = 0;
	struct bw_dbarg args[] = {bw_dba_text(gw), bw_dba_text(sb)};
	struct bw_audit entry = {"approval.workflow.delete", "approval_workflow", sb, gw, NULL};
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		return rc;
	rc = bw_db_exec(svc->db, sql_delete, args, NARGS(args), &n, NULL);
	if (rc == BW_OK && n == 0)
		rc = BW_ENOTFOUND;
	return finish(svc, actor, &entry, rc);
}

static bool role_allowed(const char *roles_json, const char *role)
{
	struct json_object *roles = json_tokener_parse(roles_json);
	bool ok = roles == NULL || !json_object_is_type(roles, json_type_array) ||
		  json_object_array_length(roles) == 0;
	for (size_t i = 0; !ok && i < json_object_array_length(roles); i++)
		ok = strcmp(json_object_get_string(json_object_array_get_idx(roles, i)), role) == 0;
	json_object_put(roles);
	return ok;
}

static enum bw_err decisions_of(struct bw_svc *svc, long long row, int round,
				struct json_object **out)
{
	struct bw_dbres r;
	struct bw_dbarg args[] = {bw_dba_int(row), bw_dba_int(round)};
	*out = NULL;
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_decisions, args, NARGS(args), &r);
	if (rc != BW_OK)
		return rc;
	struct json_object *list = json_object_new_array();
	if (list == NULL || bw_arena_defer(svc->arena, bw_json_release, list) != 0)
		return BW_ENOMEM;
	for (size_t i = 0; i < r.nrows; i++) {
		struct json_object *d = json_object_new_object();
		if (d == NULL)
			return BW_ENOMEM;
		const char *comment = bw_db_cell(&r, i, 3);
		json_object_object_add(d, "actor", json_object_new_string(bw_db_cell(&r, i, 0)));
		json_object_object_add(d, "role", json_object_new_string(bw_db_cell(&r, i, 1)));
		json_object_object_add(d, "decision", json_object_new_string(bw_db_cell(&r, i, 2)));
		json_object_object_add(d, "comment",
				       comment != NULL ? json_object_new_string(comment) : NULL);
		json_object_object_add(d, "created_at",
				       json_object_new_string(bw_db_cell(&r, i, 4)));
		json_object_array_add(list, d);
	}
	*out = list;
	return BW_OK;
}

struct chunk_state {
	long long row;
	int round;
	const char *status;
	bool escalated;
};

static enum bw_err chunk_state(struct bw_svc *svc, const char *sql, long long wf, const char *chunk,
			       struct chunk_state *st)
{
	struct bw_dbres r;
	struct bw_dbarg args[] = {bw_dba_int(wf), bw_dba_text(chunk)};
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql, args, NARGS(args), &r);
	if (rc != BW_OK)
		return rc;
	if (r.nrows == 0)
		return BW_ENOTFOUND;
	st->row = atoll(bw_db_cell(&r, 0, 0));
	st->round = atoi(bw_db_cell(&r, 0, 1));
	st->status = bw_db_cell(&r, 0, 2);
	st->escalated = atoi(bw_db_cell(&r, 0, 3)) != 0;
	return BW_OK;
}

struct counts {
	int approve, reject, mine;
};

static enum bw_err count_votes(struct bw_svc *svc, long long row, int round, const char *actor,
			       struct counts *c)
{
	struct bw_dbres r;
	struct bw_dbarg args[] = {bw_dba_text(actor), bw_dba_int(row), bw_dba_int(round)};
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_count, args, NARGS(args), &r);
	if (rc != BW_OK)
		return rc;
	c->approve = atoi(bw_db_cell(&r, 0, 0));
	c->reject = atoi(bw_db_cell(&r, 0, 1));
	c->mine = atoi(bw_db_cell(&r, 0, 2));
	return BW_OK;
}

static enum bw_err exec1(struct bw_svc *svc, const char *sql, long long row)
{
	struct bw_dbarg args[] = {bw_dba_int(row)};
	return bw_db_exec(svc->db, sql, args, NARGS(args), NULL, NULL);
}

/* The locked part of a vote; returns with the transaction still open. *write tells whether the
 * caller must emit, audit and commit (else it rolls back). */
static enum bw_err vote_locked(struct bw_svc *svc, const struct bw_actor *actor,
			       const struct bw_workflow *wf, const char *chunk,
			       const char *decision, const char *comment, struct bw_vote *out,
			       bool *write)
{
	struct chunk_state st;
	struct counts c;
	struct bw_dbarg ens[] = {bw_dba_int(wf->id), bw_dba_text(chunk)};
	*write = false;
	enum bw_err rc = bw_db_exec(svc->db, sql_chunk_ensure, ens, NARGS(ens), NULL, NULL);
	if (rc == BW_OK)
		rc = chunk_state(svc, sql_chunk_lock, wf->id, chunk, &st);
	if (rc != BW_OK)
		return rc;
	out->needed = wf->required_approvals;
	if (strcmp(st.status, "firing") == 0) {
		out->verdict = BW_VOTE_BUSY;
		return BW_OK;
	}
	bool approve = strcmp(decision, "approve") == 0;
	if (strcmp(st.status, "approved") == 0 && approve) {
		out->verdict = BW_VOTE_DECIDED;
		return BW_OK;
	}
	if (!role_allowed(wf->roles_json, actor->role)) {
		out->verdict = BW_VOTE_INELIGIBLE;
		return BW_OK;
	}
	if (strcmp(st.status, "pending") != 0) {
		/* The last round ended (a reject, or an approval now being revoked): this vote
		 * opens the next one. */
		rc = exec1(svc, sql_new_round, st.row);
		st.round++;
		st.escalated = false;
		if (rc != BW_OK)
			return rc;
	}
	out->chunk_row = st.row;
	out->round = st.round;
	out->escalated = st.escalated;
	rc = count_votes(svc, st.row, st.round, actor->name, &c);
	if (rc != BW_OK)
		return rc;
	if (approve && c.reject == 0 && c.approve >= wf->required_approvals) {
		/* Quorum was met before but the upstream approve failed: fire again, no new vote.
		 */
		out->votes = c.approve;
		out->verdict = BW_VOTE_QUORUM;
	} else if (wf->distinct_actors && c.mine > 0) {
		out->verdict = BW_VOTE_DUPLICATE;
		return BW_OK;
	} else {
		struct bw_dbarg v[] = {bw_dba_int(st.row),       bw_dba_int(st.round),
				       bw_dba_text(actor->name), bw_dba_int(c.mine),
				       bw_dba_text(actor->role), bw_dba_text(decision),
				       bw_dba_text(comment)};
		rc = bw_db_exec(svc->db, sql_vote, v, NARGS(v), NULL, NULL);
		if (rc == BW_ECONFLICT) { /* the unique key is the last word on distinct actors */
			out->verdict = BW_VOTE_DUPLICATE;
			return BW_OK;
		}
		if (rc == BW_OK)
			rc = exec1(svc, sql_first_vote, st.row);
		if (rc != BW_OK)
			return rc;
		out->votes = c.approve + (approve ? 1 : 0);
		if (!approve)
			out->verdict = BW_VOTE_REJECTED;
		else if (out->votes >= wf->required_approvals)
			out->verdict = BW_VOTE_QUORUM;
		else
			out->verdict = BW_VOTE_RECORDED;
	}
	if (out->verdict == BW_VOTE_REJECTED) {
		rc = exec1(svc, sql_reject, st.row);
	} else if (out->verdict == BW_VOTE_QUORUM) {
		/* Recorded before the upstream call, in the vote's transaction: a concurrent vote
		 * waits for this row lock and then sees "firing", never a second quorum. */
		struct bw_dbarg f[] = {bw_dba_text(actor->name), bw_dba_int(st.row)};
		rc = bw_db_exec(svc->db, sql_fire, f, NARGS(f), NULL, NULL);
	}
	if (rc == BW_OK)
		rc = decisions_of(svc, st.row, st.round, &out->decisions);
	*write = rc == BW_OK;
	return rc;
}

enum bw_err bw_wf_vote(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
		       const char *sb, const char *chunk, const char *decision, const char *comment,
		       struct bw_vote *out)
{
	struct bw_workflow wf;
	bool write = false;
	memset(out, 0, sizeof(*out));
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		return rc;
	/* Shared lock: the workflow cannot change or vanish while the vote is counted. */
	rc = get_with(svc, sql_get_shared, gw, sb, &wf);
	if (rc == BW_OK)
		rc = vote_locked(svc, actor, &wf, chunk, decision, comment, out, &write);
	if (rc != BW_OK || !write) {
		bw_db_rollback(svc->db);
		return rc;
	}
	struct json_object *data = json_object_new_object();
	struct json_object *detail = json_object_new_object();
	if (data == NULL || detail == NULL) {
		json_object_put(data);
		json_object_put(detail);
		bw_db_rollback(svc->db);
		return BW_ENOMEM;
	}
	json_object_object_add(data, "sandbox", json_object_new_string(sb));
	json_object_object_add(data, "chunk_id", json_object_new_string(chunk));
	json_object_object_add(data, "actor", json_object_new_string(actor->name));
	json_object_object_add(data, "gateway", json_object_new_string(gw));
	json_object_object_add(data, "decision", json_object_new_string(decision));
	json_object_object_add(data, "votes", json_object_new_int(out->votes));
	json_object_object_add(data, "needed", json_object_new_int(out->needed));
	json_object_object_add(detail, "sandbox", json_object_new_string(sb));
	json_object_object_add(detail, "decision", json_object_new_string(decision));
	json_object_object_add(detail, "round", json_object_new_int(out->round));
	struct bw_audit entry = {"approval.vote_cast", "approval", chunk, gw, detail};
	rc = bw_event_emit(svc, "approval.vote_cast", gw, data);
	rc = finish(svc, actor, &entry, rc);
	json_object_put(data);
	json_object_put(detail);
	return rc;
}

enum bw_err bw_wf_settle(struct bw_svc *svc, long long chunk_row, int round, bool ok)
{
	struct bw_dbarg args[] = {bw_dba_int(chunk_row), bw_dba_int(round)};
	return bw_db_exec(svc->db, ok ? sql_settle_ok : sql_settle_fail, args, NARGS(args), NULL,
			  NULL);
}

enum bw_err bw_wf_tally(struct bw_svc *svc, const char *gw, const char *sb, const char *chunk,
			struct json_object **out)
{
	struct bw_workflow wf;
	struct chunk_state st = {0, 0, "pending", false};
	struct json_object *decisions = NULL;
	*out = NULL;
	enum bw_err rc = bw_wf_get(svc, gw, sb, &wf);
	if (rc != BW_OK && rc != BW_ENOTFOUND)
		return rc;
	bool none = rc == BW_ENOTFOUND;
	int votes = 0;
	if (!none) {
		rc = chunk_state(svc, sql_chunk_get, wf.id, chunk, &st);
		if (rc == BW_OK) {
			struct counts c;
			rc = count_votes(svc, st.row, st.round, "", &c);
			votes = c.approve;
			if (rc == BW_OK)
				rc = decisions_of(svc, st.row, st.round, &decisions);
		} else if (rc == BW_ENOTFOUND) {
			rc = BW_OK;
		}
		if (rc != BW_OK)
			return rc;
	}
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return BW_ENOMEM;
	json_object_object_add(o, "status",
			       json_object_new_string(none ? "no_workflow" : st.status));
	json_object_object_add(o, "votes", json_object_new_int(votes));
	json_object_object_add(o, "needed", json_object_new_int(none ? 0 : wf.required_approvals));
	json_object_object_add(o, "decisions",
			       decisions != NULL ? json_object_get(decisions)
						 : json_object_new_array());
	if (!none) {
		json_object_object_add(o, "round",
				       json_object_new_int(st.round > 0 ? st.round : 1));
		json_object_object_add(o, "escalated", json_object_new_boolean(st.escalated));
	}
	*out = o;
	return BW_OK;
}

/* Escalates one due round in its own transaction; *done tells whether this call did it. */
static enum bw_err escalate_one(struct bw_svc *svc, const struct bw_dbres *r, size_t i, bool *done)
{
	static const struct bw_actor system = {"system", "system", NULL, NULL};
	long long row = atoll(bw_db_cell(r, i, 0));
	int round = atoi(bw_db_cell(r, i, 1));
	const char *gw = bw_db_cell(r, i, 2), *sb = bw_db_cell(r, i, 3),
		   *chunk = bw_db_cell(r, i, 4);
	int minutes = atoi(bw_db_cell(r, i, 5));
	unsigned long long n = 0;
	*done = false;
	enum bw_err rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		return rc;
	struct bw_dbarg claim[] = {bw_dba_int(row), bw_dba_int(round)};
	rc = bw_db_exec(svc->db, sql_claim_escalation, claim, NARGS(claim), &n, NULL);
	if (rc != BW_OK || n == 0) { /* another worker was first, or the round moved on */
		bw_db_rollback(svc->db);
		return rc;
	}
	struct bw_dbarg ins[] = {bw_dba_int(row), bw_dba_int(round),  bw_dba_text(gw),
				 bw_dba_text(sb), bw_dba_text(chunk), bw_dba_int(minutes),
				 bw_dba_int(row), bw_dba_int(round)};
	rc = bw_db_exec(svc->db, sql_escalation_row, ins, NARGS(ins), NULL, NULL);
	struct json_object *data = json_object_new_object();
	if (data == NULL)
		rc = BW_ENOMEM;
	if (rc == BW_OK) {
		json_object_object_add(data, "sandbox", json_object_new_string(sb));
		json_object_object_add(data, "chunk_id", json_object_new_string(chunk));
		json_object_object_add(data, "gateway", json_object_new_string(gw));
		json_object_object_add(data, "timeout_minutes", json_object_new_int(minutes));
		json_object_object_add(data, "round", json_object_new_int(round));
		rc = bw_event_emit(svc, "approval.escalated", gw, data);
	}
	struct bw_audit entry = {"approval.escalated", "approval", chunk, gw, data};
	rc = finish(svc, &system, &entry, rc);
	json_object_put(data);
	*done = rc == BW_OK;
	return rc;
}

enum bw_err bw_wf_escalate_due(struct bw_svc *svc, int *count)
{
	struct bw_dbres r;
	*count = 0;
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_due, NULL, 0, &r);
	for (size_t i = 0; rc == BW_OK && i < r.nrows; i++) {
		bool done = false;
		rc = escalate_one(svc, &r, i, &done);
		*count += done ? 1 : 0;
	}
	return rc;
}

enum bw_err bw_wf_release_stale(struct bw_svc *svc, int lease_s)
{
	unsigned long long n = 0;
	struct bw_dbarg args[] = {bw_dba_int(lease_s)};
	enum bw_err rc = bw_db_exec(svc->db, sql_release, args, NARGS(args), &n, NULL);
	if (rc == BW_OK && n > 0)
		bw_log(BW_LOG_WARN, "workflow", NULL,
		       "%llu approval(s) left firing by a dead request are pending again", n);
	return rc;
}
