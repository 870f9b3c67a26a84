"""GitOps apply under an approval workflow, through nginx against a private simulated gateway:
an apply is an approve vote on a synthetic chunk named after the transition (mode, base revision,
canonical target), so distinct operators applying the same YAML reach one quorum and the
policy is written exactly once; repeated voters, ineligible roles, dry runs, pins and a failed
write (votes kept) are covered too."""

import json

import pytest
import yaml

from bwtest import json_ok
from policy_helpers import rule
from test_approvals import as_role, audit, box, outbox  # noqa: F401 (fixtures)
from test_grpc_gateway import certs, register, sims  # noqa: F401 (fixtures)

FLOW = "approval-workflow"


def pol(b):
    return f"{b.base}/policy"


def export_yaml(api, b):
    return json_ok(api.get(pol(b) + "/export"))["yaml"]


def with_rule(text, key, host):
    doc = yaml.safe_load(text)
    doc["policy"]["network_policies"][key] = rule(host, name=key)
    return yaml.safe_dump(doc)


def apply(client, b, text, **opts):
    return client.post_json(pol(b) + "/apply", dict(opts, yaml=text))


def votes(db, gw):
    """[(chunk_id, round, actor, decision)] of every vote under gw's workflows, oldest first."""
    with db.cursor() as cur:
        cur.execute("SELECT c.chunk_id, v.round, v.actor, v.decision FROM approval_votes v "
                    "JOIN approval_chunks c ON c.id = v.chunk_row "
                    "JOIN approval_workflows w ON w.id = c.workflow_id "
                    "WHERE w.gateway_name = %s ORDER BY v.id", (gw,))
        return [(r["chunk_id"], r["round"], r["actor"], r["decision"]) for r in cur.fetchall()]


def problem(resp, status, fragment):
    assert resp.status_code == status, (resp.status_code, resp.text)
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    assert fragment in resp.json()["detail"], resp.json()


@pytest.fixture
def flow(api, box):
    """``flow(**workflow)`` → a Box whose sandbox has the workflow (2 approvals by default)."""
    def make(**fields):
        b = box()
        json_ok(api.put_json(f"{b.base}/{FLOW}", dict({"required_approvals": 2}, **fields)))
        return b
    return make


def test_two_operators_reach_quorum_and_the_policy_is_written_once(api, db, flow, as_role):
    b = flow()
    (op1, a1), (op2, a2), (op3, _) = as_role("operator"), as_role("operator"), as_role("operator")
    text = with_rule(export_yaml(api, b), "gh", "api.github.com")
    writes = b.calls("UpdateConfig")

    r = apply(op1, b, text)
    assert r.status_code == 202, r.text
    body = r.json()
    assert set(body) == {"status", "current_hash", "diff", "votes_needed", "votes_cast",
                         "chunk_id"}
    assert body["status"] == "vote_recorded"
    assert (body["votes_needed"], body["votes_cast"]) == (2, 1)
    assert body["diff"]["network_policies"]["added"] == ["gh"]
    chunk = body["chunk_id"]
    assert chunk.startswith("gitops-") and len(chunk) == 31
    assert b.calls("UpdateConfig") == writes, "nothing is written below quorum"
    assert votes(db, b.gw) == [(chunk, 1, a1, "approve")]
    assert len(audit(db, "policy.apply.voted", b.gw)) == 1

    problem(apply(op1, b, text), 409, "has already voted")
    assert votes(db, b.gw) == [(chunk, 1, a1, "approve")]

    r = apply(op2, b, text)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "applied" and done["current_hash"] == body["current_hash"]
    assert b.calls("UpdateConfig") == writes + 1, "quorum writes the policy exactly once"
    assert "gh" in json_ok(api.get(pol(b)))["policy"]["network_policies"]
    assert votes(db, b.gw) == [(chunk, 1, a1, "approve"), (chunk, 1, a2, "approve")]
    applied = audit(db, "policy.applied", b.gw)
    assert len(applied) == 1 and applied[0]["actor"] == a2
    detail = json.loads(applied[0]["detail"])
    assert detail["via_workflow"] is True and detail["chunk_id"] == chunk
    tally = json_ok(api.get(f"{b.base}/approvals/{chunk}/decisions"))
    assert tally["status"] == "approved" and tally["votes"] == 2
    assert len(outbox(db, "approval.quorum_met", b.gw)) == 1
    assert len(outbox(db, "policy.applied", b.gw)) == 1

    # The YAML's metadata.policy_hash is stale now (409, no vote); a fresh export of the
    # target is up_to_date and casts no vote either.
    r = apply(op3, b, text)
    assert r.status_code == 409 and r.json()["status"] == "version_mismatch", r.text
    r = apply(op3, b, export_yaml(api, b))
    assert r.status_code == 200 and r.json()["status"] == "up_to_date", r.text
    assert len(votes(db, b.gw)) == 2 and b.calls("UpdateConfig") == writes + 1


def test_chunk_ids_follow_the_target_not_the_text(api, db, flow, as_role):
    b = flow(required_approvals=3)
    op1, op2 = as_role("operator")[0], as_role("operator")[0]
    base_text = export_yaml(api, b)
    a = with_rule(base_text, "gh", "api.github.com")
    other = with_rule(base_text, "gl", "gitlab.com")
    ra, rb = apply(op1, b, a), apply(op1, b, other)
    assert ra.status_code == 202 and rb.status_code == 202, (ra.text, rb.text)
    assert ra.json()["chunk_id"] != rb.json()["chunk_id"]
    assert rb.json()["votes_cast"] == 1
    # The same policy written differently (flow style, raw YAML body) is the same chunk.
    same = yaml.safe_dump(yaml.safe_load(a), default_flow_style=True)
    assert same != a
    rs = op2.send_bytes("POST", pol(b) + "/apply", same.encode(),
                        content_type="application/yaml")
    assert rs.status_code == 202, rs.text
    assert rs.json()["chunk_id"] == ra.json()["chunk_id"] and rs.json()["votes_cast"] == 2
    # The mode is part of the transition.
    rm = apply(op2, b, a, mode="merge")
    assert rm.status_code == 202 and rm.json()["chunk_id"] != ra.json()["chunk_id"]
    assert rm.json()["votes_cast"] == 1


def test_dry_run_under_a_workflow_does_not_vote(api, db, flow, as_role):
    b = flow()
    op = as_role("operator")[0]
    text = with_rule(export_yaml(api, b), "gh", "api.github.com")
    writes = b.calls("UpdateConfig")
    r = apply(op, b, text, dry_run=True)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "dry_run"
    assert r.json()["diff"]["network_policies"]["added"] == ["gh"]
    assert votes(db, b.gw) == [] and b.calls("UpdateConfig") == writes


def test_viewer_and_ineligible_roles_are_refused_without_a_vote(api, db, flow, as_role):
    b = flow(required_roles=["admin"])
    viewer, op = as_role("viewer")[0], as_role("operator")[0]
    text = with_rule(export_yaml(api, b), "gh", "api.github.com")
    writes = b.calls("UpdateConfig")
    problem(apply(viewer, b, text), 403, "")
    problem(apply(op, b, text), 403, "Role 'operator' not permitted (required: [\"admin\"])")
    assert votes(db, b.gw) == [] and b.calls("UpdateConfig") == writes
    # The admin's vote counts (1 of 2).
    r = apply(api, b, text)
    assert r.status_code == 202 and r.json()["votes_cast"] == 1, r.text


def test_pinned_policy_answers_423_before_any_vote(api, db, flow, as_role):
    b = flow()
    op = as_role("operator")[0]
    text = with_rule(export_yaml(api, b), "gh", "api.github.com")
    pin = api.post_json(pol(b) + "/pin", {"reason": "freeze"})
    assert pin.status_code == 200, pin.text
    problem(apply(op, b, text), 423, "pinned")
    problem(apply(op, b, text, dry_run=True), 423, "pinned")
    assert votes(db, b.gw) == []
    with db.cursor() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM approval_chunks c JOIN approval_workflows w "
                    "ON w.id = c.workflow_id WHERE w.gateway_name = %s", (b.gw,))
        assert cur.fetchone()["n"] == 0
    assert api.delete(pol(b) + "/pin").status_code == 204
    assert apply(op, b, text).status_code == 202


def test_a_failed_write_keeps_the_votes(api, db, flow, as_role):
    b = flow()
    (op1, a1), (op2, a2) = as_role("operator"), as_role("operator")
    text = with_rule(export_yaml(api, b), "gh", "api.github.com")
    chunk = apply(op1, b, text).json()["chunk_id"]
    b.sim.ctl("POST", "/fail", {"rpc": "UpdateConfig", "code": "INVALID_ARGUMENT", "count": 1,
                                "message": "refused for the test"})
    r = apply(op2, b, text)
    assert r.status_code == 400 and "refused for the test" in r.json()["detail"], r.text
    tally = json_ok(api.get(f"{b.base}/approvals/{chunk}/decisions"))
    assert tally["status"] == "pending" and tally["votes"] == 2
    assert len(audit(db, "policy.applied", b.gw)) == 0
    # Quorum stands: the next apply of the same target (even by a voter) writes it, no new vote.
    r = apply(op1, b, text)
    assert r.status_code == 200 and r.json()["status"] == "applied", r.text
    assert votes(db, b.gw) == [(chunk, 1, a1, "approve"), (chunk, 1, a2, "approve")]
    assert json_ok(api.get(f"{b.base}/approvals/{chunk}/decisions"))["status"] == "approved"


def test_without_a_workflow_apply_is_immediate(api, db, box, as_role):
    b = box()
    op = as_role("operator")[0]
    text = with_rule(export_yaml(api, b), "gh", "api.github.com")
    r = apply(op, b, text)
    assert r.status_code == 200 and r.json()["status"] == "applied", r.text
    detail = json.loads(audit(db, "policy.applied", b.gw)[0]["detail"])
    assert detail["via_workflow"] is False and detail["chunk_id"] is None
    assert votes(db, b.gw) == []
