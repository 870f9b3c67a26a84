"""Policy pins through nginx: pin the active version (reason, optional expiry), read, unpin;
while pinned every policy write answers 423 naming who pinned it and why, with nothing sent to
the gateway; expired pins and removed pins stop blocking; bad expiry and bodies are refused."""

import datetime
import json
import time

import pytest

from bwtest import AUTH, assert_rfc3339_utc, audit_rows, json_ok
from policy_helpers import (LocalSim, base, delete_sandbox, outbox, problem, ready_sandbox, rule,
                            sim_policy, unchanged)


@pytest.fixture
def box(unique_name):
    sim = LocalSim()
    name = unique_name("pin")
    ready_sandbox(sim, name)
    yield sim, sim.name, name
    delete_sandbox(sim, name)


def pin_url(gw, name):
    return base(gw, name) + "/pin"


def iso(delta_s):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=delta_s)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def guarded_writes(api, gw, name, export_yaml):
    url = base(gw, name)
    return {
        "PUT policy": lambda: api.put_json(url, {"version": 1}),
        "add rule": lambda: api.post_json(url + "/network-rules", {"key": "x", "rule": rule("x.example.com")}),
        "delete rule": lambda: api.delete(url + "/network-rules/pypi"),
        "add path": lambda: api.post_json(url + "/filesystem", {"path": "/p", "access": "ro"}),
        "delete path": lambda: api.delete(url + "/filesystem?path=/tmp"),
        "process": lambda: api.put_json(url + "/process", {"run_as_user": "sandbox"}),
        "preset": lambda: api.post(url + "/presets/npm"),
        "preset unknown": lambda: api.post(url + "/presets/no-such"),
        "apply": lambda: api.post_json(url + "/apply", {"yaml": export_yaml}),
        "apply dry run": lambda: api.post_json(url + "/apply", {"yaml": export_yaml, "dry_run": True}),
    }


def test_pin_read_unpin(api, db, box):
    sim, gw, name = box
    problem(404, "No active pin for this sandbox")(api.get(pin_url(gw, name)))
    pin = json_ok(api.post_json(pin_url(gw, name), {"reason": "release freeze"}))
    env = json_ok(api.get(base(gw, name)))
    assert pin["pinned_version"] == env["active_version"]
    assert (pin["gateway_name"], pin["sandbox_name"], pin["pinned_by"], pin["reason"],
            pin["expires_at"]) == (gw, name, AUTH["actor"], "release freeze", None)
    assert_rfc3339_utc(pin["pinned_at"])
    assert json_ok(api.get(pin_url(gw, name))) == pin
    row = audit_rows(db, "policy.pinned", name)[-1]
    assert json.loads(row["detail"]) == {"pinned_version": pin["pinned_version"], "reason": "release freeze"}
    assert len(outbox(db, "policy.pinned", name)) == 1
    resp = api.delete(pin_url(gw, name))
    assert resp.status_code == 204 and resp.content == b""
    problem(404)(api.get(pin_url(gw, name)))
    problem(404, "No active pin")(api.delete(pin_url(gw, name)))
    assert len(audit_rows(db, "policy.unpinned", name)) == 1
    assert len(outbox(db, "policy.unpinned", name)) == 1


def test_pin_blocks_every_write_then_unpin_unblocks(api, db, box):
    sim, gw, name = box
    text = json_ok(api.get(base(gw, name) + "/export"))["yaml"]
    json_ok(api.post_json(pin_url(gw, name), {"reason": "audit week"}))
    sim.ctl("POST", "/reset-calls")
    for what, send in guarded_writes(api, gw, name, text).items():
        resp = unchanged(api, db, sim, name, send,
                         problem(423, f"by {AUTH['actor']}", "audit week", "Unpin first"))
        assert resp.json()["code"] == "LOCKED", what
    assert "UpdateConfig" not in sim.ctl("GET", "/calls")["counts"], "nothing reached the gateway"
    # Reads and exports stay open while pinned.
    json_ok(api.get(base(gw, name)))
    json_ok(api.get(base(gw, name) + "/export"))
    assert api.delete(pin_url(gw, name)).status_code == 204
    json_ok(api.post_json(base(gw, name) + "/network-rules", {"key": "x", "rule": rule("x.example.com")}))
    json_ok(api.post_json(base(gw, name) + "/filesystem", {"path": "/p", "access": "ro"}))
    assert "x" in sim_policy(sim, name).policy.network_policies


def test_pin_expires(api, db, box):
    sim, gw, name = box
    pin = json_ok(api.post_json(pin_url(gw, name), {"expires_at": iso(2)}))
    assert pin["expires_at"] is not None and pin["reason"] is None
    add = lambda: api.post_json(base(gw, name) + "/network-rules", {"key": "x", "rule": rule("x.example.com")})  # noqa: E731
    problem(423, "Policy is pinned at version")(add())
    time.sleep(2.5)
    problem(404)(api.get(pin_url(gw, name)))
    json_ok(add())
    # An expired pin is "no pin" for unpin too (and the stale row goes).
    problem(404)(api.delete(pin_url(gw, name)))
    with db.cursor() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM policy_pins WHERE sandbox_name = %s", (name,))
        assert cur.fetchone()["n"] == 0


def test_repin_replaces_and_clears_expiry(api, box):
    sim, gw, name = box
    json_ok(api.post_json(pin_url(gw, name), {"reason": "one", "expires_at": iso(3600)}))
    json_ok(api.post_json(base(gw, name) + "/pin", None))  # no body at all is allowed
    pin = json_ok(api.get(pin_url(gw, name)))
    assert pin["reason"] is None and pin["expires_at"] is None


@pytest.mark.parametrize("body, expect", [
    ({"expires_at": "tomorrow"}, problem(400, "Invalid expires_at")),
    ({"expires_at": "2026-13-01T00:00:00Z"}, problem(400, "Invalid expires_at")),
    ({"expires_at": "2001-01-01T00:00:00Z"}, problem(400, "in the past")),
    ({"expires_at": 5}, problem(422)),
    ({"reason": "x" * 1001}, problem(422)),
    ({"reason": ["a"]}, problem(422)),
    ([1], problem(422)),
])
def test_bad_pin_requests_change_nothing(api, db, box, body, expect):
    sim, gw, name = box
    unchanged(api, db, sim, name, lambda: api.post_json(pin_url(gw, name), body), expect)


def test_pin_needs_a_reachable_gateway_but_read_and_unpin_do_not(api, db, unique_name):
    gw, name = unique_name("nogw"), unique_name("sb")
    problem(503, "not connected")(api.post_json(pin_url(gw, name), {}))
    problem(404)(api.get(pin_url(gw, name)))
    problem(404)(api.delete(pin_url(gw, name)))


def test_pins_are_per_sandbox(api, box, unique_name):
    sim, gw, name = box
    other = unique_name("pin")
    ready_sandbox(sim, other)
    try:
        json_ok(api.post_json(pin_url(gw, name), {"reason": "only this one"}))
        json_ok(api.post_json(base(gw, other) + "/network-rules",
                              {"key": "x", "rule": rule("x.example.com")}))
    finally:
        api.delete(pin_url(gw, name))
        delete_sandbox(sim, other)


def test_viewer_cannot_pin_or_unpin(api, box, make_sp):
    sim, gw, name = box
    viewer = api.clone()
    viewer.session.headers["Authorization"] = "Bearer " + make_sp("viewer")["key"]
    problem(403)(viewer.post_json(pin_url(gw, name), {}))
    json_ok(api.post_json(pin_url(gw, name), {}))
    problem(403)(viewer.delete(pin_url(gw, name)))
    json_ok(viewer.get(pin_url(gw, name)))
    assert api.delete(pin_url(gw, name)).status_code == 204
