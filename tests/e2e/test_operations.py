"""Long-running operations through nginx: records and list, ?wait long-poll, idempotency replay,
active uniqueness (409), cancel, the SSE stream read through nginx, the worker killed with
kill -9 mid-operation (resumed after restart, CreateSandbox reached the gateway exactly once),
retention-independent housekeeping, and the /metrics gauge."""

import json
import os
import signal
import subprocess
import time

import pytest
import requests

from bwtest import AUTH_HEADERS, assert_problem, assert_validation_422, describe, env, json_ok
from opshelp import (get_op, op_count, op_row, sandboxes_path, sim_ctl, start_create, wait_for,
                     wait_op, worker_pid)

SIM = os.environ.get("BW_SIM_NAME", "local-sim")
ALL_KEYS = {"id", "status", "resource_type", "progress", "created_at", "updated_at",
            "progress_message", "result", "error", "error_code", "completed_at", "gateway_name"}
SLOW = {"GATEWAY_SIM_READY_DELAY": "6"}


def cleanup(api, name):
    api.delete(sandboxes_path(SIM, name))


def test_record_list_and_wait(api, unique_name):
    name = unique_name("sb")
    op_id = start_create(api, SIM, {"name": name, "environment": SLOW}).json()["operation_id"]
    op = get_op(api, op_id)
    assert op["status"] in ("pending", "running")
    resp = api.get(f"/api/operations/{op_id}")
    assert resp.headers.get("Retry-After") == "2"
    # Sparse: absent keys omitted while active.
    assert "result" not in op and "error" not in op and "completed_at" not in op
    # Long-poll: returns within the wait while still active.
    t0 = time.monotonic()
    op = get_op(api, op_id, wait=2)
    assert 1.5 <= time.monotonic() - t0 < 8 and op["status"] == "running"
    assert op["progress"] == 30 and op["progress_message"] == "Waiting for ready state"
    done = wait_op(api, op_id)
    assert done["status"] == "succeeded" and done["completed_at"]
    assert "Retry-After" not in api.get(f"/api/operations/{op_id}").headers

    listing = json_ok(api.get("/api/operations", params={"resource_type": "sandbox",
                                                         "limit": 200}))
    assert listing["total"] >= 1
    mine = [o for o in listing["operations"] if o["id"] == op_id]
    assert len(mine) == 1 and set(mine[0]) == ALL_KEYS
    created = [o["created_at"] for o in listing["operations"]]
    assert created == sorted(created, reverse=True)
    page = json_ok(api.get("/api/operations", params={"status": "succeeded", "limit": 1}))
    assert len(page["operations"]) == 1 and page["operations"][0]["status"] == "succeeded"
    assert json_ok(api.get("/api/operations", params={"status": "nope"})) == {
        "operations": [], "total": 0}
    assert_validation_422(api.get("/api/operations", params={"limit": 201}), ["query", "limit"])
    assert_validation_422(api.get("/api/operations", params={"offset": -1}), ["query", "offset"])
    assert_validation_422(api.get(f"/api/operations/{op_id}", params={"wait": 61}),
                          ["query", "wait"])
    assert_problem(api.get("/api/operations/00000000-0000-4000-8000-000000000000"), 404,
                   "NOT_FOUND", "Operation not found")
    assert_problem(api.get("/api/operations/not-an-id"), 404, "NOT_FOUND")
    cleanup(api, name)


def test_idempotency_replay(api, db, unique_name):
    name = unique_name("sb")
    key = f"idem-{name}"
    first = start_create(api, SIM, {"name": name}, headers={"Idempotency-Key": key}).json()
    before = op_count(db)
    again = start_create(api, SIM, {"name": name}, headers={"Idempotency-Key": key})
    assert again.json()["operation_id"] == first["operation_id"]
    assert again.headers["Location"] == f"/api/operations/{first['operation_id']}"
    assert op_count(db) == before
    wait_op(api, first["operation_id"])
    replay = start_create(api, SIM, {"name": name}, headers={"Idempotency-Key": key}).json()
    assert replay == {"operation_id": first["operation_id"], "status": "succeeded",
                      "resource_type": "sandbox"}
    assert op_count(db) == before
    assert sim_ctl("GET", "/calls")["counts"].get("CreateSandbox", 0) >= 1
    cleanup(api, name)


def test_idempotency_keys_are_per_principal(api, db, make_sp, unique_name):
    name_a, name_b = unique_name("sb"), unique_name("sb")
    key = f"shared-{name_a}"
    first = start_create(api, SIM, {"name": name_a}, headers={"Idempotency-Key": key}).json()
    other = api.clone()
    other.session.headers["Authorization"] = f"Bearer {make_sp(role='operator')['key']}"
    second = other.post_json(sandboxes_path(SIM), {"name": name_b},
                             headers={"Idempotency-Key": key})
    assert second.status_code == 202, describe(second)
    assert second.json()["operation_id"] != first["operation_id"]
    for op_id in (first["operation_id"], second.json()["operation_id"]):
        assert wait_op(api, op_id)["status"] == "succeeded"
    assert_problem(api.post_json(sandboxes_path(SIM), {"name": "x"},
                                 headers={"Idempotency-Key": "k" * 254}), 400)
    other.session.close()
    cleanup(api, name_a)
    cleanup(api, name_b)


def test_duplicate_create_conflicts(api, db, unique_name):
    name = unique_name("sb")
    op_id = start_create(api, SIM, {"name": name, "environment": SLOW}).json()["operation_id"]
    before = op_count(db)
    assert_problem(api.post_json(sandboxes_path(SIM), {"name": name}), 409, "CONFLICT",
                   f"sandbox '{name}' operation already in progress")
    assert op_count(db) == before
    assert wait_op(api, op_id)["status"] == "succeeded"
    # Once finished, a second create reaches the gateway, which refuses the existing name.
    again = wait_op(api, start_create(api, SIM, {"name": name}).json()["operation_id"])
    assert again["status"] == "failed" and again["error"] == "gRPC error: ALREADY_EXISTS"
    cleanup(api, name)


def test_cancel(api, db, unique_name):
    name = unique_name("sb")
    op_id = start_create(api, SIM, {"name": name, "environment": {
        "GATEWAY_SIM_READY_DELAY": "60"}}).json()["operation_id"]
    wait_for(lambda: get_op(api, op_id)["progress"] == 30, what="the ready wait")
    resp = api.post(f"/api/operations/{op_id}/cancel")
    body = json_ok(resp)
    assert set(body) == ALL_KEYS and body["status"] in ("cancelling", "failed")
    done = wait_op(api, op_id, timeout=20)
    assert done["status"] == "failed" and done["error_code"] == "cancelled"
    assert done["error"] == "Operation was cancelled"
    assert op_row(db, op_id)["active_key"] is None
    assert_problem(api.post(f"/api/operations/{op_id}/cancel"), 400, "VALIDATION_ERROR",
                   "Operation not found or not running")
    assert_problem(api.post("/api/operations/00000000-0000-4000-8000-000000000000/cancel"), 400)
    cleanup(api, name)


def sse_frames(resp):
    """Yields (data frame, arrival time) as the frames arrive."""
    buf = b""
    for chunk in resp.iter_content(chunk_size=None):
        buf += chunk
        while b"\n\n" in buf:
            block, buf = buf.split(b"\n\n", 1)
            for line in block.split(b"\n"):
                if line.startswith(b"data: "):
                    yield json.loads(line[6:]), time.monotonic()


def test_sse_stream_through_nginx(api, unique_name):
    name = unique_name("sb")
    pid = worker_pid()
    os.kill(pid, signal.SIGSTOP)  # nothing claims it: the first frame is pending
    try:
        op_id = start_create(api, SIM, {"name": name, "environment": {
            "GATEWAY_SIM_READY_DELAY": "3"}}).json()["operation_id"]
        resp = requests.get(api.url(f"/api/operations/{op_id}/stream"), headers=AUTH_HEADERS,
                            verify=env("BW_TLS_CERT"), stream=True, timeout=60)
        assert resp.status_code == 200, describe(resp)
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        assert "no-store" in resp.headers.get("Cache-Control", "")
        stream = sse_frames(resp)
        first, _ = next(stream)
        assert first["status"] == "pending" and first["id"] == op_id
    finally:
        os.kill(pid, signal.SIGCONT)
    frames, times = [], []
    for frame, when in stream:
        frames.append(frame)
        times.append(when)
        if frame["status"] in ("succeeded", "failed"):
            break
    resp.close()
    statuses = [first["status"]] + [f["status"] for f in frames]
    assert statuses[-1] == "succeeded" and "running" in statuses
    assert any(f.get("progress_message") == "Waiting for ready state" for f in frames)
    # Frames arrive as they happen (nginx does not buffer): the ready wait lies between them.
    running = [t for f, t in zip(frames, times) if f["status"] == "running"]
    assert times[-1] - running[0] >= 1.5
    assert_problem(api.get("/api/operations/00000000-0000-4000-8000-000000000000/stream"), 404)
    cleanup(api, name)


@pytest.mark.restart
def test_worker_killed_mid_operation_resumes_once(api, db, unique_name):
    name = unique_name("sb")
    sim_ctl("POST", "/reset-calls")
    op_id = start_create(api, SIM, {"name": name, "environment": SLOW}).json()["operation_id"]
    wait_for(lambda: get_op(api, op_id).get("progress_message") == "Waiting for ready state",
             what="the ready wait")
    os.kill(worker_pid(), signal.SIGKILL)
    time.sleep(0.5)
    subprocess.run([env("BW_STACK"), "restart-worker"], check=True, capture_output=True,
                   timeout=60)
    done = wait_op(api, op_id, timeout=90)
    assert done["status"] == "succeeded", done
    assert done["result"]["name"] == name and done["result"]["phase"] == "ready"
    assert op_row(db, op_id)["attempts"] == 2
    assert sim_ctl("GET", "/calls")["counts"]["CreateSandbox"] == 1
    cleanup(api, name)


def test_metrics_gauge(api, unique_name):
    text = api.get("/metrics").text
    assert "# TYPE breakwater_operations gauge" in text
    for st in ("pending", "running", "cancelling", "succeeded", "failed"):
        assert f'breakwater_operations{{status="{st}"}}' in text
