"""Sandboxes through nginx against the simulated gateways: create (202 operation, ready, presets,
labels), get, list (metadata merge, label filter), PATCH, exec (exit codes, stderr, timeout,
environment), delete; the newer wire layout (v0.0.111: phase in SandboxStatus); gateway errors;
and bad input that must be refused before any operation row exists."""

import json
import os
import urllib.parse

import pytest

from bwtest import assert_problem, audit_rows, describe, env, json_ok
from opshelp import (create_ready, op_count, op_row, run_exec, sandboxes_path, sim_ctl,
                     sim_sandbox, start_create, wait_op)
from test_grpc_gateway import certs, register, sims  # noqa: F401  (fixtures)

SIM = os.environ.get("BW_SIM_NAME", "local-sim")


def sandbox_name(unique_name):
    return unique_name("sb")


def test_create_poll_ready_exec_delete(api, db, unique_name):
    name = sandbox_name(unique_name)
    resp = start_create(api, SIM, {"name": name, "presets": ["pypi", "npm"],
                                   "labels": {"team": "blue"}, "description": "first",
                                   "environment": {"SECRET_TOKEN": "hunter2-env-value"}})
    body = resp.json()
    assert set(body) == {"operation_id", "status", "resource_type"}
    assert body["status"] == "pending" and body["resource_type"] == "sandbox"
    op_id = body["operation_id"]
    assert resp.headers["Location"] == f"/api/operations/{op_id}"
    assert resp.headers["Retry-After"] == "2"

    op = wait_op(api, op_id)
    assert op["status"] == "succeeded", op
    assert op["progress"] == 100 and op["gateway_name"] == SIM
    res = op["result"]
    assert res["name"] == name and res["phase"] == "ready" and res["status"] is None
    assert res["labels"] == {"team": "blue"} and res["description"] == "first"
    assert res["presets_applied"] == ["pypi", "npm"] and "presets_failed" not in res

    # At the gateway: created once, with the environment and both presets' rules.
    sb = sim_sandbox(name)
    assert sb is not None and sb["phase"].lower().endswith("ready")
    state = json.dumps(sb)
    assert "hunter2-env-value" in state
    assert "npm_yarn" in state and "pypi" in state
    # The environment value is not stored in clear in the operations table.
    row = op_row(db, op_id)
    assert b"hunter2" not in (row["request_sealed"] or b"")
    assert "hunter2" not in row["request_json"]
    assert row["attempts"] == 1 and row["active_key"] is None

    assert len(audit_rows(db, "sandbox.create", name)) == 1
    with db.cursor() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM event_outbox WHERE event_type = 'sandbox.created'"
                    " AND payload LIKE %s", (f"%{name}%",))
        assert cur.fetchone()["n"] == 1

    got = json_ok(api.get(sandboxes_path(SIM, name)))
    assert got["name"] == name and got["labels"] == {"team": "blue"}
    for key in ("id", "namespace", "phase", "phase_code", "created_at_ms", "image", "gpu",
                "current_policy_version", "status", "description", "labels"):
        assert key in got, key

    # exec: exit 0, non-zero with stderr, string command split like a shell, env, timeout.
    r = run_exec(api, SIM, name, {"command": ["echo", "hello"]})
    assert r == {"exit_code": 0, "stdout": "hello\n", "stderr": ""}
    r = run_exec(api, SIM, name, {"command": "sh -c 'echo out; echo oops >&2; exit 7'"})
    assert r == {"exit_code": 7, "stdout": "out\n", "stderr": "oops\n"}
    r = run_exec(api, SIM, name, {"command": "printenv GREETING", "env": {"GREETING": "hi there"},
                                  "workdir": "/tmp"})
    assert r["exit_code"] == 0 and r["stdout"] == "hi there\n"
    r = run_exec(api, SIM, name, {"command": "sleep 30", "timeout_seconds": 1})
    assert r["exit_code"] == 124
    # Keys and audit details cut at characters, never inside one (4-byte characters here).
    r = run_exec(api, SIM, name, {"command": "echo " + "\U0001F600" * 80})
    assert r["exit_code"] == 0 and r["stdout"] == "\U0001F600" * 80 + "\n"
    assert len(audit_rows(db, "sandbox.exec", name)) == 5

    resp = api.delete(sandboxes_path(SIM, name))
    assert json_ok(resp) == {"deleted": True}
    assert len(audit_rows(db, "sandbox.delete", name)) == 1
    with db.cursor() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM sandbox_meta WHERE sandbox_name = %s", (name,))
        assert cur.fetchone()["n"] == 0
    resp = api.get(sandboxes_path(SIM, name))
    assert resp.status_code in (404, 200), describe(resp)  # DELETING briefly, then gone


def test_list_merge_filter_patch(api, db, unique_name):
    a, b = sandbox_name(unique_name), sandbox_name(unique_name)
    create_ready(api, SIM, a, labels={"tier": "gold"})
    create_ready(api, SIM, b, labels={"tier": "silver"}, description="bee")
    items = json_ok(api.get(sandboxes_path(SIM), params={"limit": 1000}))
    assert items["total"] is None
    names = {s["name"]: s for s in items["items"]}
    assert names[a]["labels"] == {"tier": "gold"} and names[b]["description"] == "bee"
    gold = json_ok(api.get(sandboxes_path(SIM), params={"label": "tier:gold", "limit": 1000}))
    assert a in [s["name"] for s in gold["items"]]
    assert b not in [s["name"] for s in gold["items"]]
    assert_problem(api.get(sandboxes_path(SIM), params={"label": "nocolon"}), 400,
                   "VALIDATION_ERROR", "Invalid label filter 'nocolon': expected key:value")

    patched = json_ok(api.patch_json(sandboxes_path(SIM, a), {"description": "changed"}))
    assert patched["description"] == "changed" and patched["labels"] == {"tier": "gold"}
    patched = json_ok(api.patch_json(sandboxes_path(SIM, a), {"labels": {}}))
    assert patched["labels"] == {} and patched["description"] == "changed"
    assert len(audit_rows(db, "sandbox.metadata.update", a)) == 2
    assert_problem(api.patch_json(sandboxes_path(SIM, a), {"labels": {"-bad": "x"}}), 400)
    assert_problem(api.patch_json(sandboxes_path(SIM, "no-such-sandbox-x"), {"description": "x"}),
                   404, "NOT_FOUND")
    for n in (a, b):
        assert json_ok(api.delete(sandboxes_path(SIM, n)))["deleted"] is True


def test_newer_wire_layout(api, sims, register, unique_name):
    sim = sims(version="0.0.111")
    gw = register(sim.port)
    name = sandbox_name(unique_name)
    op = create_ready(api, gw, name, presets=["pypi"])
    assert op["result"]["phase"] == "ready" and op["result"]["phase_code"] == 2
    assert op["result"]["presets_applied"] == ["pypi"]
    r = run_exec(api, gw, name, {"command": "sh -c 'echo new; exit 3'"})
    assert r == {"exit_code": 3, "stdout": "new\n", "stderr": ""}
    assert sim.ctl("GET", "/calls")["counts"]["CreateSandbox"] == 1
    assert json_ok(api.delete(sandboxes_path(gw, name)))["deleted"] is True


def test_error_phase_fails_the_operation(api, unique_name):
    name = sandbox_name(unique_name)
    op_id = start_create(api, SIM, {"name": name, "environment": {
        "GATEWAY_SIM_FAIL": "provision"}}).json()["operation_id"]
    op = wait_op(api, op_id)
    assert op["status"] == "failed" and op["error"] == "Sandbox entered error state", op
    assert op["error_code"] == "internal"
    api.delete(sandboxes_path(SIM, name))


def test_gateway_errors(api, sims, register, unique_name):
    assert_problem(api.get(sandboxes_path("not-registered-gw")), 503, "GATEWAY_NOT_CONNECTED",
                   "Gateway 'not-registered-gw' not connected.")
    assert_problem(api.post_json(sandboxes_path("not-registered-gw"), {"name": "x"}), 503,
                   "GATEWAY_NOT_CONNECTED")
    assert_problem(api.get(sandboxes_path(SIM, "no-such-sandbox-x")), 404, "NOT_FOUND",
                   "gRPC error: NOT_FOUND")
    assert_problem(api.delete(sandboxes_path(SIM, "no-such-sandbox-x")), 404, "NOT_FOUND")
    sim = sims(version="0.0.50")
    gw = register(sim.port)
    sim.stop()
    assert_problem(api.get(sandboxes_path(gw)), 503, "GATEWAY_NOT_CONNECTED")


HOSTILE = ["../etc", "a b", "-lead", "x;rm", "a\nb", "é", "x" * 254]


@pytest.mark.parametrize("bad", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_sandbox_names(api, db, bad):
    before = op_count(db)
    resp = api.post_json(sandboxes_path(SIM), {"name": bad})
    assert resp.status_code in (400, 422), describe(resp)
    assert_problem(resp, resp.status_code, "VALIDATION_ERROR")
    quoted = urllib.parse.quote(bad, safe="")
    resp = api.post_json(f"/api/gateways/{SIM}/sandboxes/{quoted}/exec", {"command": "true"})
    assert 400 <= resp.status_code < 500, describe(resp)
    assert op_count(db) == before


def _bad_bodies():
    big_env = {f"K{i}": "v" for i in range(101)}
    return [
        ({"name": "x", "presets": ["no-such-preset"]}, 400, "Unknown preset 'no-such-preset'"),
        ({"name": "x", "environment": big_env}, 422, None),
        ({"name": "x", "environment": {"K": "v" * 8193}}, 422, None),
        ({"name": "x", "environment": {"K": 5}}, 422, None),
        ({"name": "x", "log_level": "loud"}, 422, None),
        ({"name": "x", "image": "i" * 513}, 422, None),
        ({"name": "x", "providers": "p"}, 422, None),
        ({"name": "x", "presets": [f"p{i}" for i in range(21)]}, 422, None),
        ({"name": "x", "labels": {"-k": "v"}}, 400, None),
        ({"name": "x", "description": "d" * 1001}, 400,
         "description exceeds maximum length of 1000"),
        ([1, 2], 422, None),
    ]


@pytest.mark.parametrize("case", _bad_bodies(), ids=range(len(_bad_bodies())))
def test_bad_create_bodies(api, db, case):
    body, status, detail = case
    before = op_count(db)
    assert_problem(api.post_json(sandboxes_path(SIM), body), status, None, detail)
    assert op_count(db) == before


def test_bad_json_and_exec_input(api, db):
    before = op_count(db)
    resp = api.send_bytes("POST", sandboxes_path(SIM), b'{"name": ')
    assert resp.status_code == 422, describe(resp)
    ex = sandboxes_path(SIM, "whatever", "/exec")
    assert_problem(api.post_json(ex, {"command": "echo 'open"}), 400, "VALIDATION_ERROR",
                   "Invalid command syntax: No closing quotation")
    assert_problem(api.post_json(ex, {"command": ""}), 400, "VALIDATION_ERROR")
    assert_problem(api.post_json(ex, {}), 422)
    assert_problem(api.post_json(ex, {"command": "true", "timeout_seconds": 3601}), 422)
    assert_problem(api.post_json(ex, {"command": "true", "timeout_seconds": -1}), 422)
    assert_problem(api.post_json(ex, {"command": [1]}), 422)
    assert_problem(api.post_json(ex, {"command": "true", "env": {f"K{i}": "v" for i in
                                                               range(101)}}), 422)
    assert op_count(db) == before
