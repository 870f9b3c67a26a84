"""Approval workflows (quorum voting on draft chunks) through nginx against a simulated gateway:
workflow CRUD and its validation, a 2-of-3 quorum that fires the gateway's approve exactly once
(also under concurrent votes), repeated voters, terminal rejects that open a new round, role
restrictions, approve-all under a workflow, votes kept when the upstream approve fails, and
escalation recorded by breakwater-worker without any further vote."""

import concurrent.futures
import json
import signal
import time

import pytest

import bwtest
from bwtest import assert_problem, json_ok, quote_name
from test_approvals import as_role, audit, box, outbox  # noqa: F401 (fixtures)
from test_grpc_gateway import certs, register, sims  # noqa: F401 (fixtures)
from test_grpc_monitor import start_worker

FLOW = "approval-workflow"


def put_flow(api, b, **fields):
    return api.put_json(f"{b.base}/{FLOW}", fields)


def approve(client, b, chunk, query=""):
    return client.post(f"{b.base}/approvals/{chunk}/approve{query}")


def decisions(api, b, chunk):
    return json_ok(api.get(f"{b.base}/approvals/{chunk}/decisions"))


def table_counts(db):
    with db.cursor() as cur:
        out = {}
        for t in ("approval_workflows", "approval_chunks", "approval_votes",
                  "approval_escalations", "event_outbox"):
            cur.execute(f"SELECT COUNT(*) AS n FROM {t}")
            out[t] = cur.fetchone()["n"]
        return out


@pytest.fixture
def voters(as_role):
    """``voters(n, role="operator")`` → n (client, actor) pairs."""
    return lambda n, role="operator": [as_role(role) for _ in range(n)]


# --------------------------------------------------------------------------------------------
# CRUD


def test_workflow_crud(api, db, rejected, box):
    b = box()
    assert json_ok(api.get(f"{b.base}/{FLOW}")) == {}
    wf = json_ok(put_flow(api, b))
    assert set(wf) == {"gateway_name", "sandbox_name", "required_approvals", "required_roles",
                       "distinct_actors", "escalation_timeout_minutes", "created_by",
                       "created_at", "updated_at"}
    assert (wf["gateway_name"], wf["sandbox_name"]) == (b.gw, "box")
    assert wf["required_approvals"] == 2 and wf["required_roles"] == []
    assert wf["distinct_actors"] is True and wf["escalation_timeout_minutes"] is None
    assert wf["created_by"] == bwtest.AUTH["actor"]
    bwtest.assert_rfc3339_utc(wf["created_at"])
    time.sleep(0.01)
    wf2 = json_ok(put_flow(api, b, required_approvals=3,
                           required_roles=["operator", "admin", "operator"],
                           distinct_actors=False, escalation_timeout_minutes=60))
    assert wf2["required_approvals"] == 3 and wf2["required_roles"] == ["admin", "operator"]
    assert wf2["distinct_actors"] is False and wf2["escalation_timeout_minutes"] == 60
    assert wf2["created_at"] == wf["created_at"] and wf2["updated_at"] > wf["updated_at"]
    assert json_ok(api.get(f"{b.base}/{FLOW}")) == wf2
    rows = audit(db, "approval.workflow.upsert", b.gw)
    assert len(rows) == 2 and rows[0]["resource_type"] == "approval_workflow"
    assert rows[0]["resource_id"] == "box"
    assert json_ok(api.delete(f"{b.base}/{FLOW}")) == {"status": "deleted"}
    assert json_ok(api.get(f"{b.base}/{FLOW}")) == {}
    assert len(audit(db, "approval.workflow.delete", b.gw)) == 1
    rejected(lambda: api.delete(f"{b.base}/{FLOW}"), 404, "NOT_FOUND", "No workflow configured")


@pytest.mark.parametrize("body,loc", [
    ({"required_approvals": 0}, "required_approvals"),
    ({"required_approvals": 21}, "required_approvals"),
    ({"required_approvals": "2"}, "required_approvals"),
    ({"required_approvals": True}, "required_approvals"),
    ({"required_approvals": None}, "required_approvals"),
    ({"escalation_timeout_minutes": 0}, "escalation_timeout_minutes"),
    ({"escalation_timeout_minutes": 10081}, "escalation_timeout_minutes"),
    ({"escalation_timeout_minutes": 1.5}, "escalation_timeout_minutes"),
    ({"required_roles": ["boss"]}, "required_roles"),
    ({"required_roles": "admin"}, "required_roles"),
    ({"required_roles": [1]}, "required_roles"),
    ({"distinct_actors": "yes"}, "distinct_actors"),
])
def test_workflow_bad_bodies_are_422(api, db, rejected, box, body, loc):
    b = box()
    before = table_counts(db)
    rejected(lambda: put_flow(api, b, **body),
             expect=lambda r: bwtest.assert_validation_422(r, ["body", loc]))
    assert table_counts(db) == before


def test_workflow_needs_a_registered_gateway_and_valid_names(api, db, rejected, box):
    b = box()
    before = table_counts(db)
    rejected(lambda: api.put_json(f"/api/gateways/nowhere-{b.gw}/sandboxes/box/{FLOW}", {}), 404,
             "NOT_FOUND")
    rejected(lambda: api.put_json(f"/api/gateways/{quote_name(b.gw)}/sandboxes/-x/{FLOW}", {}),
             400, "VALIDATION_ERROR")
    rejected(lambda: api.send_bytes("PUT", f"{b.base}/{FLOW}", b"[1,"), 422)
    rejected(lambda: api.send_bytes("PUT", f"{b.base}/{FLOW}", b"[]"), 422)
    assert table_counts(db) == before
    tally = decisions(api, b, "some-chunk")
    assert tally == {"status": "no_workflow", "votes": 0, "needed": 0, "decisions": []}


# --------------------------------------------------------------------------------------------
# Voting


def test_two_of_three_fires_the_gateway_approve_exactly_once(api, db, box, voters):
    b = box()
    json_ok(put_flow(api, b, required_approvals=2))
    chunk = b.clean_ids(api)[0]
    (a, actor_a), (bb, actor_b), (c, _) = voters(3)
    resp = approve(a, b, chunk)
    assert resp.status_code == 202, bwtest.describe(resp)
    assert resp.headers["Content-Type"].startswith("application/json")
    body = resp.json()
    assert body["status"] == "pending" and body["votes"] == 1 and body["needed"] == 2
    assert [(d["actor"], d["role"], d["decision"]) for d in body["decisions"]] == [
        (actor_a, "operator", "approve")]
    bwtest.assert_rfc3339_utc(body["decisions"][0]["created_at"])
    assert b.calls("ApproveDraftChunk") == 0
    # The same actor again: 409, nothing counted.
    again = approve(a, b, chunk)
    assert_problem(again, 409, "CONFLICT", f"Actor '{actor_a}' has already voted on chunk {chunk}")
    tally = decisions(api, b, chunk)
    assert (tally["status"], tally["votes"], tally["needed"]) == ("pending", 1, 2)
    # A second distinct actor reaches quorum: the gateway approve fires once.
    fired = json_ok(approve(bb, b, chunk))
    assert set(fired) == {"policy_version", "policy_hash"} and fired["policy_version"] >= 2
    assert b.calls("ApproveDraftChunk") == 1
    assert b.chunk(api, b.chunks(api, "approved")[0]["rule_name"])["id"] == chunk
    # A third vote after quorum never fires again.
    late = approve(c, b, chunk)
    assert_problem(late, 409, "CONFLICT", f"Chunk {chunk} was already approved by quorum")
    assert b.calls("ApproveDraftChunk") == 1
    tally = decisions(api, b, chunk)
    assert tally["status"] == "approved" and tally["votes"] == 2
    assert [d["actor"] for d in tally["decisions"]] == [actor_a, actor_b]
    votes = outbox(db, "approval.vote_cast", b.gw)
    assert len(votes) == 2 and all(json.loads(v)["chunk_id"] == chunk for v in votes)
    assert len(outbox(db, "approval.approved", b.gw)) == 1
    assert len(outbox(db, "approval.quorum_met", b.gw)) == 1
    assert [r["actor"] for r in audit(db, "approval.vote_cast", b.gw)] == [actor_a, actor_b]
    [row] = audit(db, "approval.approve", b.gw)
    assert row["actor"] == actor_b and '"workflow":true' in row["detail"].replace(" ", "")


def test_concurrent_quorum_votes_fire_once(api, box, voters):
    b = box()
    json_ok(put_flow(api, b, required_approvals=2))
    chunk = b.clean_ids(api)[0]
    first, *rest = voters(5)
    assert approve(first[0], b, chunk).status_code == 202
    # The gateway answers slowly: every other vote arrives while the approve is in flight.
    b.sim.ctl("POST", "/delay", {"rpc": "ApproveDraftChunk", "seconds": 1.0, "count": 0})
    with concurrent.futures.ThreadPoolExecutor(len(rest)) as pool:
        results = list(pool.map(lambda v: approve(v[0], b, chunk), rest))
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409, 409, 409], [bwtest.describe(r) for r in results]
    for r in results:
        if r.status_code == 409:
            detail = r.json()["detail"]
            assert "being approved" in detail or "already approved" in detail, detail
    assert b.calls("ApproveDraftChunk") == 1


def test_one_reject_is_terminal_and_the_next_vote_opens_a_new_round(api, db, box, voters):
    b = box()
    json_ok(put_flow(api, b, required_approvals=3))
    chunk = b.clean_ids(api)[0]
    (a, actor_a), (r, actor_r), (c, _) = voters(3)
    assert approve(a, b, chunk).status_code == 202
    assert approve(c, b, chunk).status_code == 202
    resp = r.post_json(f"{b.base}/approvals/{chunk}/reject", {"reason": "too broad"})
    assert json_ok(resp) == {"status": "rejected"}
    assert b.calls("RejectDraftChunk") == 1 and b.calls("ApproveDraftChunk") == 0
    assert b.last("RejectDraftChunk")["reason"] == "too broad"
    tally = decisions(api, b, chunk)
    assert tally["status"] == "rejected" and tally["votes"] == 2
    assert tally["decisions"][-1]["actor"] == actor_r
    assert tally["decisions"][-1]["comment"] == "too broad"
    assert len(outbox(db, "approval.rejected", b.gw)) == 1
    # The earlier approvals do not carry over: a new round starts from zero.
    again = approve(a, b, chunk)
    assert again.status_code == 202, bwtest.describe(again)
    assert again.json()["votes"] == 1
    tally = decisions(api, b, chunk)
    assert (tally["status"], tally["round"], tally["votes"]) == ("pending", 2, 1)
    assert [d["actor"] for d in tally["decisions"]] == [actor_a]


def test_ineligible_role_is_403(api, db, rejected, box, voters):
    b = box()
    json_ok(put_flow(api, b, required_approvals=1, required_roles=["admin"]))
    chunk = b.clean_ids(api)[0]
    [(op, _)] = voters(1)
    before = table_counts(db)
    rejected(lambda: approve(op, b, chunk), 403, "PERMISSION_DENIED",
             "Role 'operator' not permitted (required: [\"admin\"])")
    rejected(lambda: op.post(f"{b.base}/approvals/{chunk}/reject"), 403, "PERMISSION_DENIED")
    after = table_counts(db)
    assert after["approval_votes"] == before["approval_votes"]
    assert after["event_outbox"] == before["event_outbox"]
    assert b.calls("ApproveDraftChunk") == 0 and b.calls("RejectDraftChunk") == 0
    # An admin is eligible; required_approvals 1 fires at once.
    json_ok(approve(api, b, chunk))
    assert b.calls("ApproveDraftChunk") == 1


def test_approve_all_under_a_workflow_is_admin_only(api, rejected, box, voters):
    b = box()
    json_ok(put_flow(api, b))
    [(op, _)] = voters(1)
    rejected(lambda: op.post(f"{b.base}/approvals/approve-all"), 403, "PERMISSION_DENIED",
             detail_prefix="Bulk approve-all is disabled under an active approval workflow")
    assert b.calls("ApproveAllDraftChunks") == 0
    body = json_ok(api.post(f"{b.base}/approvals/approve-all"))
    assert body["chunks_approved"] == 2
    # Without the workflow an operator may bulk-approve again.
    json_ok(api.delete(f"{b.base}/{FLOW}"))
    resp = op.post_json(f"{b.base}/approvals/approve-all", {"include_security_flagged": True})
    assert json_ok(resp)["chunks_approved"] == 1


def test_repeat_votes_count_without_distinct_actors(api, box, voters):
    b = box()
    json_ok(put_flow(api, b, required_approvals=2, distinct_actors=False))
    chunk = b.clean_ids(api)[0]
    [(a, actor)] = voters(1)
    assert approve(a, b, chunk).status_code == 202
    json_ok(approve(a, b, chunk))
    assert b.calls("ApproveDraftChunk") == 1
    assert [d["actor"] for d in decisions(api, b, chunk)["decisions"]] == [actor, actor]


def test_votes_survive_a_failed_upstream_approve(api, db, box, voters):
    b = box()
    json_ok(put_flow(api, b, required_approvals=2))
    chunk = b.clean_ids(api)[0]
    (a, _), (bb, _), (c, _) = voters(3)
    assert approve(a, b, chunk).status_code == 202
    b.sim.ctl("POST", "/fail", {"rpc": "ApproveDraftChunk", "code": "ABORTED", "count": 1})
    assert_problem(approve(bb, b, chunk), 409, "CONFLICT", "gRPC error: ABORTED")
    tally = decisions(api, b, chunk)
    assert (tally["status"], tally["votes"]) == ("pending", 2)
    assert outbox(db, "approval.approved", b.gw) == []
    # Quorum stands: the next approve fires it without needing a new vote.
    json_ok(approve(c, b, chunk))
    assert b.calls("ApproveDraftChunk") == 2
    assert decisions(api, b, chunk)["status"] == "approved"
    assert len(outbox(db, "approval.quorum_met", b.gw)) == 1


def test_votes_only_on_chunks_the_gateway_knows(api, db, rejected, box, voters):
    b = box()
    json_ok(put_flow(api, b))
    before = table_counts(db)
    rejected(lambda: approve(api, b, "no-such-chunk"), 404, "NOT_FOUND",
             "Chunk 'no-such-chunk' not found in sandbox 'box'")
    rejected(lambda: api.post(f"{b.base}/approvals/no-such-chunk/reject"), 404, "NOT_FOUND")
    assert table_counts(db) == before


def test_escalation_is_recorded_by_the_worker_without_another_vote(api, db, box, voters):
    b = box()
    json_ok(put_flow(api, b, required_approvals=2, escalation_timeout_minutes=1))
    chunk = b.clean_ids(api)[0]
    [(a, _)] = voters(1)
    assert approve(a, b, chunk).status_code == 202
    assert decisions(api, b, chunk)["escalated"] is False
    time.sleep(3)  # a few worker passes: not due yet
    with db.cursor() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM approval_escalations WHERE gateway_name = %s",
                    (b.gw,))
        assert cur.fetchone()["n"] == 0
        # The first vote is made older than the timeout (waiting a real minute is too slow).
        cur.execute("UPDATE approval_chunks c JOIN approval_workflows w ON w.id = c.workflow_id "
                    "SET c.first_vote_at = c.first_vote_at - INTERVAL 61 SECOND "
                    "WHERE w.gateway_name = %s AND c.chunk_id = %s", (b.gw, chunk))
    deadline = time.monotonic() + 15
    rows = []
    while time.monotonic() < deadline:
        with db.cursor() as cur:
            cur.execute("SELECT chunk_id, sandbox_name, timeout_minutes, votes, round "
                        "FROM approval_escalations WHERE gateway_name = %s", (b.gw,))
            rows = cur.fetchall()
        if rows:
            break
        time.sleep(0.3)
    assert rows == [{"chunk_id": chunk, "sandbox_name": "box", "timeout_minutes": 1, "votes": 1,
                     "round": 1}]
    [row] = audit(db, "approval.escalated", b.gw)
    assert row["actor"] == "system" and row["resource_id"] == chunk
    [event] = outbox(db, "approval.escalated", b.gw)
    assert json.loads(event)["timeout_minutes"] == 1
    assert decisions(api, b, chunk)["escalated"] is True
    time.sleep(3)  # once per round, however many passes run
    assert len(outbox(db, "approval.escalated", b.gw)) == 1
    assert b.calls("ApproveDraftChunk") == 0


def test_votes_use_the_effective_gateway_role(api, db, rejected, box, make_sp, bw_env):
    """A per-gateway role replaces the global one, for the route guard and for eligibility."""
    b = box()
    json_ok(put_flow(api, b, required_approvals=1, required_roles=["operator"]))
    chunk = b.clean_ids(api)[0]
    clients = []
    for global_role, gw_role in (("viewer", "operator"), ("admin", "viewer")):
        sp = make_sp(role=global_role)
        json_ok(api.request("PUT", f"/api/auth/service-principals/{sp['id']}/gateway-roles/"
                            f"{quote_name(b.gw)}", json={"role": gw_role}))
        client = bwtest.Api(bw_env["BW_URL"], bw_env["BW_TLS_CERT"], auth=False)
        client.session.headers.update(bwtest.bearer(sp["key"]))
        clients.append((client, f"sp:{sp['name']}"))
    (promoted, promoted_actor), (demoted, _) = clients
    try:
        # The role guard's 403 writes its auth.forbidden row; nothing else changes.
        before = table_counts(db)
        assert_problem(approve(demoted, b, chunk), 403, "PERMISSION_DENIED",
                       "Requires operator role")
        assert table_counts(db) == before
        json_ok(approve(promoted, b, chunk))
        assert b.calls("ApproveDraftChunk") == 1
        with db.cursor() as cur:
            cur.execute("SELECT actor_role FROM audit_log WHERE action = 'approval.vote_cast' "
                        "AND gateway_name = %s", (b.gw,))
            assert [r["actor_role"] for r in cur.fetchall()] == ["operator"]
        [vote] = decisions(api, b, chunk)["decisions"]
        assert (vote["actor"], vote["role"]) == (promoted_actor, "operator")
    finally:
        for client, _ in clients:
            client.session.close()


def wait_rows(db, sql, args, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        with db.cursor() as cur:
            cur.execute(sql, args)
            rows = cur.fetchall()
        if rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.3)


def test_several_workers_escalate_a_round_once(api, db, box, voters):
    b = box()
    json_ok(put_flow(api, b, required_approvals=3, escalation_timeout_minutes=5))
    chunks = b.clean_ids(api)
    [(a, _)] = voters(1)
    for chunk in chunks:
        assert approve(a, b, chunk).status_code == 202
    extra = [start_worker(), start_worker()]
    try:
        time.sleep(1)
        with db.cursor() as cur:
            cur.execute("UPDATE approval_chunks c JOIN approval_workflows w "
                        "ON w.id = c.workflow_id SET c.first_vote_at = c.first_vote_at - "
                        "INTERVAL 301 SECOND WHERE w.gateway_name = %s", (b.gw,))
        rows = wait_rows(db, "SELECT COUNT(*) AS n FROM approval_escalations "
                         "WHERE gateway_name = %s HAVING n >= %s", (b.gw, len(chunks)))
        time.sleep(3)  # every worker has run a few more passes
    finally:
        for proc in extra:
            proc.send_signal(signal.SIGTERM)
        for proc in extra:
            assert proc.wait(15) == 0
    assert rows, "no escalation"
    with db.cursor() as cur:
        cur.execute("SELECT chunk_id FROM approval_escalations WHERE gateway_name = %s", (b.gw,))
        assert sorted(r["chunk_id"] for r in cur.fetchall()) == sorted(chunks)
    assert len(outbox(db, "approval.escalated", b.gw)) == len(chunks)
    assert len(audit(db, "approval.escalated", b.gw)) == len(chunks)


def test_an_approval_left_firing_by_a_dead_request_is_released(api, db, box, voters):
    b = box()
    json_ok(put_flow(api, b, required_approvals=2))
    chunk = b.clean_ids(api)[0]
    (a, _), (c, _) = voters(2)
    assert approve(a, b, chunk).status_code == 202
    # As if the request that reached quorum died between its vote and the gateway's answer.
    with db.cursor() as cur:
        cur.execute("UPDATE approval_chunks c JOIN approval_workflows w ON w.id = c.workflow_id "
                    "SET c.status = 'firing', c.fired_at = NOW(6) - INTERVAL 1 HOUR "
                    "WHERE w.gateway_name = %s", (b.gw,))
    assert_problem(approve(c, b, chunk), 409, "CONFLICT", detail_prefix=f"Chunk {chunk} is being")
    deadline = time.monotonic() + 15
    while decisions(api, b, chunk)["status"] != "pending":
        assert time.monotonic() < deadline, "the worker never released the firing round"
        time.sleep(0.3)
    json_ok(approve(c, b, chunk))
    assert b.calls("ApproveDraftChunk") == 1
