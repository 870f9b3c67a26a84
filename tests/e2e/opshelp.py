"""Helpers of the operation and sandbox end-to-end suites (test_operations.py,
test_sandboxes.py): starting operations, waiting for them, the simulator's control API and the
operations table."""

import json
import os
import time
import urllib.request

from bwtest import describe, env, quote_name

TERMINAL = ("succeeded", "failed")


def sandboxes_path(gw, name=None, tail=""):
    base = f"/api/gateways/{quote_name(gw)}/sandboxes"
    return base + (f"/{quote_name(name)}" if name is not None else "") + tail


def start_create(api, gw, body, headers=None):
    resp = api.post_json(sandboxes_path(gw), body, headers=headers or {})
    assert resp.status_code == 202, describe(resp)
    return resp


def start_exec(api, gw, name, body, headers=None):
    resp = api.post_json(sandboxes_path(gw, name, "/exec"), body, headers=headers or {})
    assert resp.status_code == 202, describe(resp)
    return resp.json()["operation_id"]


def get_op(api, op_id, wait=None):
    resp = api.get(f"/api/operations/{op_id}", params={"wait": wait} if wait else None)
    assert resp.status_code == 200, describe(resp)
    return resp.json()


def wait_op(api, op_id, timeout=60):
    """Long-polls until the operation is terminal; returns its record."""
    deadline = time.monotonic() + timeout
    while True:
        op = get_op(api, op_id, wait=10)
        if op["status"] in TERMINAL:
            return op
        assert time.monotonic() < deadline, f"operation {op_id} still {op['status']}: {op}"


def wait_for(pred, timeout=30, interval=0.2, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(interval)


def create_ready(api, gw, name, **fields):
    """Creates sandbox name and waits for the operation; returns the succeeded op."""
    body = {"name": name}
    body.update(fields)
    op_id = start_create(api, gw, body).json()["operation_id"]
    op = wait_op(api, op_id)
    assert op["status"] == "succeeded", op
    return op


def run_exec(api, gw, name, body):
    op = wait_op(api, start_exec(api, gw, name, body))
    assert op["status"] == "succeeded", op
    return op["result"]


def sim_ctl(method, path, body=None, base=None):
    base = base or env("BW_SIM_CONTROL")
    data = json.dumps(body).encode() if body is not None else (b"{}" if method == "POST" else None)
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def sim_sandbox(name, base=None):
    for sb in sim_ctl("GET", "/state", base=base)["sandboxes"]:
        if sb["name"] == name:
            return sb
    return None


def op_row(db, op_id):
    with db.cursor() as cur:
        cur.execute("SELECT * FROM operations WHERE id = %s", (op_id,))
        return cur.fetchone()


def op_count(db):
    with db.cursor() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM operations")
        return cur.fetchone()["n"]


def worker_pid():
    with open(os.path.join(env("BW_RUN_DIR"), "worker.pid"), encoding="ascii") as f:
        return int(f.read().strip())
