"""Draft policy chunks (approvals) through nginx and the pool against a simulated gateway over
real mTLS: draft view and filter, pending, history, approve (with wait_loaded), reject, approve-all,
edit, undo, clear, roles, bad input and gateway failures. Workflows are in test_workflows.py.

Each test starts its own simulator with a READY sandbox "box"; the simulator seeds three draft
chunks when it becomes ready: two clean ones and one security-flagged (10.0.0.5:5432)."""

import time

import pytest

import bwtest
from bwtest import assert_problem, describe, json_ok, quote_name
from test_grpc_gateway import certs, register, sims  # noqa: F401 (fixtures)
from test_grpc_stream import ready_sandbox

FLAGGED_RULE = "allow_10_0_0_5_5432"


class Box:
    """A registered simulated gateway with a READY sandbox and the base path of its routes."""

    def __init__(self, sim, gw, sb):
        self.sim, self.gw, self.sb = sim, gw, sb
        self.base = f"/api/gateways/{quote_name(gw)}/sandboxes/{sb}"

    def calls(self, rpc):
        return self.sim.ctl("GET", "/calls")["counts"].get(rpc, 0)

    def last(self, rpc):
        return self.sim.ctl("GET", "/calls")["last"].get(rpc)

    def chunks(self, api, status=None):
        q = f"?status_filter={status}" if status else ""
        return json_ok(api.get(f"{self.base}/approvals{q}"))["chunks"]

    def chunk(self, api, rule_name):
        return next(c for c in self.chunks(api) if c["rule_name"] == rule_name)

    def clean_ids(self, api):
        return [c["id"] for c in self.chunks(api, "pending") if not c["security_notes"]]


@pytest.fixture
def box(sims, register):
    """``box(extra=())`` → a Box (own simulator, gateway registered, sandbox "box" READY)."""
    def make(extra=()):
        sim = sims(extra=["--ready-delay", "0.1", *extra])
        gw = register(sim.port)
        ready_sandbox(sim, "box")
        return Box(sim, gw, "box")
    return make


@pytest.fixture
def as_role(make_sp, bw_env):
    """``as_role(role)`` → (client, actor) authenticated as a new service principal."""
    opened = []

    def make(role):
        sp = make_sp(role=role)
        client = bwtest.Api(bw_env["BW_URL"], bw_env["BW_TLS_CERT"], auth=False)
        client.session.headers.update(bwtest.bearer(sp["key"]))
        opened.append(client)
        return client, f"sp:{sp['name']}"
    yield make
    for c in opened:
        c.session.close()


def outbox(db, event_type, gateway):
    with db.cursor() as cur:
        cur.execute("SELECT payload FROM event_outbox WHERE event_type = %s AND gateway_name = %s "
                    "ORDER BY id", (event_type, gateway))
        return [r["payload"] for r in cur.fetchall()]


def audit(db, action, gateway):
    with db.cursor() as cur:
        cur.execute("SELECT actor, resource_type, resource_id, detail FROM audit_log "
                    "WHERE action = %s AND gateway_name = %s ORDER BY id", (action, gateway))
        return cur.fetchall()


# --------------------------------------------------------------------------------------------
# Reads


def test_draft_lists_chunks_and_filters_by_status(api, rejected, box):
    b = box()
    draft = json_ok(api.get(f"{b.base}/approvals"))
    assert set(draft) == {"chunks", "rolling_summary", "draft_version", "last_analyzed_at_ms"}
    assert len(draft["chunks"]) == 3 and draft["draft_version"] >= 1
    flagged = next(c for c in draft["chunks"] if c["rule_name"] == FLAGGED_RULE)
    assert flagged["security_notes"], flagged
    for c in draft["chunks"]:
        for key in ("id", "status", "rule_name", "rationale", "security_notes", "confidence",
                    "created_at_ms", "decided_at_ms", "stage", "hit_count", "first_seen_ms",
                    "last_seen_ms", "binary", "denial_summary_ids", "proposed_rule"):
            assert key in c, (key, c)
        assert c["status"] == "pending" and c["denial_context"] is None
        assert c["proposed_rule"]["name"] == c["rule_name"]
        assert c["proposed_rule"]["endpoints"][0]["host"]
        assert c["proposed_rule"]["binaries"][0]["path"].startswith("/usr/bin/")
    conf = {c["rule_name"]: c["confidence"] for c in draft["chunks"]}
    assert conf["allow_api_github_com_443"] == 0.92, conf  # a float rendered as typed
    assert len(b.chunks(api, "pending")) == 3
    assert b.chunks(api, "approved") == [] and b.chunks(api, "rejected") == []
    assert b.last("GetDraftPolicy")["status_filter"] == "rejected"
    rejected(lambda: api.get(f"{b.base}/approvals?status_filter=bogus"),
             expect=lambda r: bwtest.assert_validation_422(r, ["query", "status_filter"]))


def test_pending_and_history(api, box):
    b = box()
    pending = json_ok(api.get(f"{b.base}/approvals/pending"))
    assert isinstance(pending, list) and len(pending) == 3
    assert b.last("GetDraftPolicy")["status_filter"] == "pending"
    first = pending[0]["id"]
    json_ok(api.post(f"{b.base}/approvals/{first}/approve"))
    assert len(json_ok(api.get(f"{b.base}/approvals/pending"))) == 2
    history = json_ok(api.get(f"{b.base}/approvals/history"))
    assert all(set(e) == {"timestamp_ms", "event_type", "description", "chunk_id"}
               for e in history), history
    kinds = [e["event_type"] for e in history]
    assert "approved" in kinds and kinds.index("approved") > 0, kinds
    assert [e["chunk_id"] for e in history if e["event_type"] == "approved"] == [first]


# --------------------------------------------------------------------------------------------
# Decisions without a workflow


def test_approve_merges_the_rule_and_records_it(api, db, rejected, box):
    b = box()
    chunk = b.chunk(api, "allow_api_github_com_443")
    resp = api.post(f"{b.base}/approvals/{chunk['id']}/approve")
    body = json_ok(resp)
    assert set(body) == {"policy_version", "policy_hash"}
    assert body["policy_version"] >= 2 and body["policy_hash"]
    assert b.calls("ApproveDraftChunk") == 1
    assert b.last("ApproveDraftChunk") == {"name": "box", "chunk_id": chunk["id"]}
    assert b.chunk(api, "allow_api_github_com_443")["status"] == "approved"
    rows = audit(db, "approval.approve", b.gw)
    assert len(rows) == 1 and rows[0]["resource_id"] == chunk["id"], rows
    assert rows[0]["actor"] == bwtest.AUTH["actor"] and rows[0]["resource_type"] == "approval"
    assert '"workflow":false' in rows[0]["detail"].replace(" ", "")
    events = outbox(db, "approval.approved", b.gw)
    assert len(events) == 1 and chunk["id"] in events[0]
    # Approving again: the gateway refuses (FAILED_PRECONDITION), nothing is recorded.
    rejected(lambda: api.post(f"{b.base}/approvals/{chunk['id']}/approve"), 409, "CONFLICT",
             "gRPC error: FAILED_PRECONDITION")
    rejected(lambda: api.post(f"{b.base}/approvals/no-such-chunk/approve"), 404, "NOT_FOUND")
    assert len(outbox(db, "approval.approved", b.gw)) == 1


def test_approve_wait_loaded(api, rejected, box):
    b = box()
    first, second, _ = [c["id"] for c in b.chunks(api)]
    body = json_ok(api.post(f"{b.base}/approvals/{first}/approve?wait_loaded=true"))
    status = b.sim.ctl("GET", "/state")
    assert body["policy_version"] >= 2, (body, status)
    assert b.calls("GetSandboxPolicyStatus") >= 1
    # The sandbox never loads the next version: 504 after the limit asked for.
    b.sim.ctl("POST", "/config", {"policy_load_delay": 120})
    start = time.monotonic()
    resp = api.post(f"{b.base}/approvals/{second}/approve?wait_loaded=true&wait_timeout=2")
    took = time.monotonic() - start
    problem = assert_problem(resp, 504, "TIMEOUT")
    assert problem["detail"].endswith("did not reach 'loaded' state within 2s"), problem
    assert problem["detail"].startswith("Policy v"), problem
    assert 1.9 <= took < 8, took
    # The approval itself went through (the wait is only about loading).
    assert b.chunk(api, b.chunks(api)[1]["rule_name"])["status"] in ("approved", "pending")
    for q in ("wait_loaded=maybe", "wait_loaded=true&wait_timeout=0",
              "wait_loaded=true&wait_timeout=31", "wait_loaded=true&wait_timeout=x"):
        rejected(lambda: api.post(f"{b.base}/approvals/{first}/approve?{q}"),
                 expect=lambda r: bwtest.assert_validation_422(r, loc_prefix=["query"]))
    # Both query problems are reported in one reply.
    both = rejected(lambda: api.post(
        f"{b.base}/approvals/{first}/approve?wait_loaded=sometimes&wait_timeout=99"), 422)
    assert sorted((e["type"], e["loc"][1]) for e in both["errors"]) == [
        ("bool_parsing", "wait_loaded"), ("less_than_equal", "wait_timeout")], both


def test_wait_loaded_reports_a_failed_load(api, box):
    b = box()
    chunk = b.clean_ids(api)[0]
    b.sim.ctl("POST", "/config", {"policy_load_fail": True})
    resp = api.post(f"{b.base}/approvals/{chunk}/approve?wait_loaded=true&wait_timeout=10")
    problem = assert_problem(resp, 409, "CONFLICT")
    assert "failed to load" in problem["detail"], problem


def test_reject_with_reason(api, db, rejected, box):
    b = box()
    chunk = b.clean_ids(api)[0]
    resp = api.post_json(f"{b.base}/approvals/{chunk}/reject", {"reason": "not needed"})
    assert json_ok(resp) == {"status": "rejected"}
    assert b.last("RejectDraftChunk")["reason"] == "not needed"
    assert next(c for c in b.chunks(api) if c["id"] == chunk)["status"] == "rejected"
    rows = audit(db, "approval.reject", b.gw)
    assert len(rows) == 1 and "not needed" in rows[0]["detail"]
    assert len(outbox(db, "approval.rejected", b.gw)) == 1
    # Without a body the reason is empty.
    other = b.clean_ids(api)[0]
    assert json_ok(api.post(f"{b.base}/approvals/{other}/reject")) == {"status": "rejected"}
    assert b.calls("RejectDraftChunk") == 2
    third = [c["id"] for c in b.chunks(api, "pending")][0]
    for bad in ({"reason": "x" * 1001}, {"reason": 5}, [1]):
        rejected(lambda: api.post_json(f"{b.base}/approvals/{third}/reject", bad), 422,
                 "VALIDATION_ERROR")
    assert b.calls("RejectDraftChunk") == 2


def test_approve_all_skips_security_flagged_unless_asked(api, db, rejected, box):
    b = box()
    body = json_ok(api.post(f"{b.base}/approvals/approve-all"))
    assert body["chunks_approved"] == 2 and body["chunks_skipped"] == 1, body
    assert body["policy_version"] >= 2 and body["policy_hash"]
    assert b.last("ApproveAllDraftChunks") == {"name": "box"}
    assert [c["rule_name"] for c in b.chunks(api, "pending")] == [FLAGGED_RULE]
    rejected(lambda: api.post_json(f"{b.base}/approvals/approve-all",
                                   {"include_security_flagged": "yes"}), 422, "VALIDATION_ERROR")
    body = json_ok(api.post_json(f"{b.base}/approvals/approve-all",
                                 {"include_security_flagged": True}))
    assert body["chunks_approved"] == 1 and body["chunks_skipped"] == 0, body
    assert b.last("ApproveAllDraftChunks")["include_security_flagged"] is True
    rows = audit(db, "approval.approve_all", b.gw)
    assert len(rows) == 2 and rows[0]["resource_id"] == "box"
    assert len(outbox(db, "approval.approved", b.gw)) == 2
    # Nothing left: the gateway's FAILED_PRECONDITION is a 409.
    rejected(lambda: api.post(f"{b.base}/approvals/approve-all"), 409, "CONFLICT")


RULE = {"name": "allow_example", "endpoints": [
    {"host": "api.example.com", "port": 443, "protocol": "rest", "access": "read-only",
     "rules": [], "deny_rules": [{"method": "DELETE", "path": "/**",
                                   "query": {"force": {"any": ["1", "true"]}}}]}],
    "binaries": [{"path": "/usr/bin/curl"}]}


def test_edit_replaces_the_proposed_rule(api, db, rejected, box):
    b = box()
    chunk = b.clean_ids(api)[0]
    resp = api.post_json(f"{b.base}/approvals/{chunk}/edit", {"proposed_rule": RULE})
    assert json_ok(resp) == {"status": "edited"}
    edited = next(c for c in b.chunks(api) if c["id"] == chunk)["proposed_rule"]
    assert edited["endpoints"][0]["host"] == "api.example.com"
    assert edited["endpoints"][0]["deny_rules"][0]["query"] == {"force": {"any": ["1", "true"]}}
    assert edited["binaries"] == [{"path": "/usr/bin/curl"}]
    assert len(audit(db, "approval.edit", b.gw)) == 1
    calls = b.calls("EditDraftChunk")
    bad_bodies = [
        ({}, 422), ({"proposed_rule": "x"}, 422), ({"proposed_rule": None}, 422),
        ({"proposed_rule": {"nam": "x"}}, 400),
        ({"proposed_rule": {"endpoints": [{"port": "443"}]}}, 400),
        ({"proposed_rule": {"endpoints": [{"port": 70000}]}}, 400),
        ({"proposed_rule": {"endpoints": [{"port": -1}]}}, 400),
        ({"proposed_rule": {"endpoints": [{"host": "a.b", "ports": [443, 0]}]}}, 400),
        ({"proposed_rule": {"endpoints": {"host": "a"}}}, 400),
        ({"proposed_rule": {"endpoints": [None]}}, 400),
        ({"proposed_rule": {"binaries": [{"path": "/x", "harness": "no"}]}}, 400),
        ({"proposed_rule": {"endpoints": [{"host": "*.com", "port": 443}]}}, 400),
        ({"proposed_rule": {"endpoints": [{"host": "**.org", "port": 443}]}}, 400),
        ({"proposed_rule": {"endpoints": [{"rules": [{"allow": {"query": {"a": 1}}}]}]}}, 400),
    ]
    for bad, status in bad_bodies:
        rejected(lambda: api.post_json(f"{b.base}/approvals/{chunk}/edit", bad), status,
                 "VALIDATION_ERROR")
    rejected(lambda: api.send_bytes("POST", f"{b.base}/approvals/{chunk}/edit", b"{not json"),
             422, "VALIDATION_ERROR")
    assert b.calls("EditDraftChunk") == calls
    problem = bwtest.assert_problem(api.post_json(
        f"{b.base}/approvals/{chunk}/edit",
        {"proposed_rule": {"endpoints": [{"host": "*.com", "port": 443}]}}), 400)
    assert "TLD" in problem["detail"], problem
    # Only pending chunks can be edited: the gateway's 409 passes through.
    json_ok(api.post(f"{b.base}/approvals/{chunk}/approve"))
    rejected(lambda: api.post_json(f"{b.base}/approvals/{chunk}/edit", {"proposed_rule": RULE}),
             409, "CONFLICT")


def test_undo_takes_an_approval_back(api, db, rejected, box):
    b = box()
    chunk = b.clean_ids(api)[0]
    approved = json_ok(api.post(f"{b.base}/approvals/{chunk}/approve"))
    undone = json_ok(api.post(f"{b.base}/approvals/{chunk}/undo"))
    assert set(undone) == {"policy_version", "policy_hash"}
    assert undone["policy_version"] > approved["policy_version"]
    assert next(c for c in b.chunks(api) if c["id"] == chunk)["status"] == "pending"
    rows = audit(db, "approval.undo", b.gw)
    assert len(rows) == 1 and rows[0]["resource_id"] == chunk
    rejected(lambda: api.post(f"{b.base}/approvals/{chunk}/undo"), 409, "CONFLICT")


def test_clear_drops_pending_chunks(api, db, box):
    b = box()
    chunk = b.clean_ids(api)[0]
    json_ok(api.post(f"{b.base}/approvals/{chunk}/approve"))
    assert json_ok(api.post(f"{b.base}/approvals/clear")) == {"cleared": None,
                                                              "chunks_cleared": 2}
    assert [c["id"] for c in b.chunks(api)] == [chunk]
    assert json_ok(api.post(f"{b.base}/approvals/clear"))["chunks_cleared"] == 0
    rows = audit(db, "approval.clear", b.gw)
    assert len(rows) == 2 and rows[0]["resource_id"] == "box"


def test_seeded_chunks_from_the_control_api(api, box):
    b = box(extra=["--no-seed-chunks"])
    assert b.chunks(api) == []
    made = b.sim.ctl("POST", "/seed-chunks", {"sandbox": "box", "chunks": [
        {"rule_name": "allow_pypi", "proposed_rule": {
            "name": "allow_pypi", "endpoints": [{"host": "pypi.org", "port": 443}],
            "binaries": [{"path": "/usr/bin/pip"}]}, "security_notes": ""}]})
    [cid] = made["chunk_ids"]
    assert [c["id"] for c in json_ok(api.get(f"{b.base}/approvals/pending"))] == [cid]
    json_ok(api.post(f"{b.base}/approvals/{cid}/approve"))


# --------------------------------------------------------------------------------------------
# Roles, names, gateway failures


def test_minimum_roles(rejected, as_role, box, api):
    b = box()
    chunk = b.clean_ids(api)[0]
    viewer, _ = as_role("viewer")
    operator, _ = as_role("operator")
    for path in ("approvals", "approvals/pending", "approvals/history",
                 f"approvals/{chunk}/decisions"):
        json_ok(viewer.get(f"{b.base}/{path}"))
    writes = [("POST", f"approvals/{chunk}/approve"), ("POST", f"approvals/{chunk}/reject"),
              ("POST", f"approvals/{chunk}/undo"), ("POST", "approvals/approve-all"),
              ("POST", "approvals/clear"), ("GET", "approval-workflow")]
    for method, path in writes:
        resp = viewer.request(method, f"{b.base}/{path}")
        assert_problem(resp, 403, "PERMISSION_DENIED", "Requires operator role")
    resp = viewer.post_json(f"{b.base}/approvals/{chunk}/edit", {"proposed_rule": RULE})
    assert_problem(resp, 403, "PERMISSION_DENIED", "Requires operator role")
    for method in ("PUT", "DELETE"):
        resp = operator.request(method, f"{b.base}/approval-workflow", json={})
        assert_problem(resp, 403, "PERMISSION_DENIED", "Requires admin role")
    assert b.calls("ApproveDraftChunk") == 0 and b.calls("ClearDraftChunks") == 0
    assert json_ok(operator.get(f"{b.base}/approval-workflow")) == {}
    json_ok(operator.post(f"{b.base}/approvals/{chunk}/approve"))


def test_bad_names_and_unknown_targets(api, rejected, box, anon):
    b = box()
    gw = quote_name(b.gw)
    for sb in ("-box", "a%20b", "x" * 254, "%C3%A9t%C3%A9"):
        rejected(lambda: api.get(f"/api/gateways/{gw}/sandboxes/{sb}/approvals"), 400,
                 "VALIDATION_ERROR",
                 "Invalid sandbox name: must match [a-zA-Z0-9][a-zA-Z0-9._-]* (max 253)")
    for chunk in ("a%20b", "x" * 129, "a%2Fb", "%27%3B--"):
        rejected(lambda: api.post(f"{b.base}/approvals/{chunk}/approve"), 400,
                 "VALIDATION_ERROR", detail_prefix="Invalid chunk id")
    rejected(lambda: api.get("/api/gateways/-bad/sandboxes/box/approvals"), 400)
    rejected(lambda: anon.get(f"{b.base}/approvals"), 401, "AUTHENTICATION_REQUIRED")
    rejected(lambda: api.get(f"/api/gateways/nowhere-{b.gw}/sandboxes/box/approvals"), 503,
             "GATEWAY_NOT_CONNECTED")
    rejected(lambda: api.get(f"/api/gateways/{gw}/sandboxes/nobox/approvals"), 404, "NOT_FOUND")
    rejected(lambda: api.post(f"/api/gateways/{gw}/sandboxes/nobox/approvals/clear"), 404,
             "NOT_FOUND")
    assert b.calls("ClearDraftChunks") == 1


@pytest.mark.parametrize("code,status,api_code", [
    ("UNAVAILABLE", 503, "GATEWAY_NOT_CONNECTED"), ("PERMISSION_DENIED", 403, "PERMISSION_DENIED"),
    ("DEADLINE_EXCEEDED", 504, "TIMEOUT"), ("INTERNAL", 500, "INTERNAL_ERROR")])
def test_gateway_failures_map_to_http(api, db, rejected, box, code, status, api_code):
    b = box()
    chunk = b.clean_ids(api)[0]
    b.sim.ctl("POST", "/fail", {"rpc": "ApproveDraftChunk", "code": code, "count": 1})
    rejected(lambda: api.post(f"{b.base}/approvals/{chunk}/approve"), status, api_code)
    assert outbox(db, "approval.approved", b.gw) == []
    # An unreachable gateway is left alone for a while; test-connection ends that.
    json_ok(api.post(f"/api/gateway/{quote_name(b.gw)}/test-connection"))
    json_ok(api.post(f"{b.base}/approvals/{chunk}/approve"))
