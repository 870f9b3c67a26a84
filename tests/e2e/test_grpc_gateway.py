"""Gateway operations over real gRPC and real mTLS, through nginx and the pool.

Every test starts its own simulated gateways (tests/gateway-sim, sim_harness.SimProcess) on free
ports with certificates made once per session by tests/gateway-sim/certs.sh. The stack's
gateway deadline is grpc_timeout = 5 s (scripts/lib.sh), which the timing assertions rely on.
"""

import base64
import concurrent.futures
import os
import socket
import sys
import time

import pytest

from bwtest import assert_problem, audit_rows, describe, gateway_row, json_ok, quote_name

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gateway-sim"))
from sim_harness import SimProcess, make_certs  # noqa: E402

GRPC_TIMEOUT = 5  # grpc_timeout of the test stack
SLACK = 3  # seconds of scheduling slack on top of a deadline


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    return make_certs(str(tmp_path_factory.mktemp("grpc-certs")))


@pytest.fixture
def sims(tmp_path, certs):
    """``sims(version="0.0.50", mode="mtls", extra=())`` → a running SimProcess; all stopped
    after the test."""
    started = []

    def start(version="0.0.50", mode="mtls", extra=(), name=None, state_file=None):
        sim = SimProcess(str(tmp_path / (name or f"sim{len(started)}")), certs, mode=mode,
                         version=version, extra=list(extra), state_file=state_file)
        started.append(sim)
        return sim
    yield start
    for sim in started:
        try:
            sim.stop()
        except Exception:
            pass


def pem(certs, name):
    with open(os.path.join(certs, name), "rb") as f:
        return f.read()


def b64(data):
    return base64.b64encode(data).decode("ascii")


def bundle(certs, ca="ca.crt", cert="client.crt", key="client.key"):
    return {"ca_cert": b64(pem(certs, ca)), "client_cert": b64(pem(certs, cert)),
            "client_key": b64(pem(certs, key))}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def register(api, unique_name, certs):
    """``register(port, **overrides)`` registers a gateway at 127.0.0.1:port with the valid
    bundle; returns its name."""
    def make(port, **fields):
        body = {"name": unique_name("grpc"), "endpoint": f"127.0.0.1:{port}"}
        body.update(bundle(certs))
        body.update(fields)
        resp = api.register(body)
        assert resp.status_code == 201, describe(resp)
        return body["name"]
    return make


def probe(api, name):
    return json_ok(api.post(f"/api/gateway/{quote_name(name)}/test-connection"))


def get_config(api, name, path="config"):
    return api.get(f"/api/gateway/{quote_name(name)}/{path}")


def put_setting(api, name, key, value):
    return api.put_json(f"/api/gateway/{quote_name(name)}/settings/{key}", {"value": value})


def delete_setting(api, name, key):
    return api.delete(f"/api/gateway/{quote_name(name)}/settings/{key}")


def health(api, name):
    return api.get(f"/api/gateways/{quote_name(name)}/health")


# --------------------------------------------------------------------------------------------
# Positive path


def test_register_then_test_connection_health_and_info(api, db, sims, register):
    sim = sims()
    # Registration does not connect: even a gateway that takes 30 s to answer Health is
    # registered at once, with the status of its (empty) stored health.
    sim.ctl("POST", "/delay", {"rpc": "Health", "seconds": 30, "count": 1})
    t0 = time.monotonic()
    name = register(sim.port)
    assert time.monotonic() - t0 < 10  # far below the 30 s Health would take
    info = json_ok(api.info(name))
    assert info["status"] == "offline" and info["connected"] is False and info["version"] is None
    sim.ctl("POST", "/clear")

    body = probe(api, name)
    assert set(body) == {"success", "connected", "version", "health_status", "error",
                         "latency_ms"}, body
    assert body["success"] is True and body["connected"] is True, body
    assert body["version"] == "0.0.50" and body["health_status"] == "healthy", body
    assert body["error"] is None and body["latency_ms"] >= 0, body
    assert sim.ctl("GET", "/calls")["counts"]["Health"] >= 1

    h = json_ok(health(api, name))
    assert h == {"status": "healthy", "version": "0.0.50"}, h

    info = json_ok(api.info(name))
    assert info["connected"] is True and info["status"] == "connected", info
    assert info["version"] == "0.0.50" and info["compatibility"] == "compatible", info
    assert info["last_status"] == "healthy" and info["last_seen"] is not None, info
    listed = [g for g in json_ok(api.list())["items"] if g["name"] == name]
    assert listed and listed[0]["version"] == "0.0.50" and listed[0]["status"] == "connected"
    row = gateway_row(db, name)
    assert row["version"] == "0.0.50" and row["compat"] == "compatible", row
    assert row["last_status"] == "healthy" and row["last_health"] is not None, row


def test_health_reports_degraded(api, sims, register):
    sim = sims()
    name = register(sim.port)
    sim.ctl("POST", "/config", {"health_status": "DEGRADED"})
    assert json_ok(health(api, name)) == {"status": "degraded", "version": "0.0.50"}
    assert json_ok(api.info(name))["last_status"] == "degraded"


def test_settings_round_trip_reaches_the_gateway(api, db, sims, register):
    sim = sims(extra=["--dev-settings"])
    name = register(sim.port)
    cfg = json_ok(get_config(api, name))
    assert set(cfg) == {"settings", "settings_revision"}, cfg
    assert cfg["settings"]["ocsf_json_enabled"] is None, cfg
    start_rev = cfg["settings_revision"]

    resp = put_setting(api, name, "ocsf_json_enabled", True)
    body = json_ok(resp)
    assert body == {"settings_revision": start_rev + 1, "deleted": False}, body
    # Asserted at the gateway itself, not only through our API.
    state = sim.ctl("GET", "/state")
    assert state["settings"]["ocsf_json_enabled"] == {"kind": "bool", "value": True}, state
    assert sim.ctl("GET", "/calls")["last"]["UpdateConfig"]["global"] is True
    row = audit_rows(db, "gateway.setting_update", name)
    assert len(row) == 1 and row[0]["request_id"] == resp.headers["X-Request-ID"], row
    assert '"key"' in row[0]["detail"] and "ocsf_json_enabled" in row[0]["detail"], row

    json_ok(put_setting(api, name, "dummy_int", 42))
    assert sim.ctl("GET", "/state")["settings"]["dummy_int"] == {"kind": "int", "value": 42}

    for path in ("config", "settings"):
        cfg = json_ok(get_config(api, name, path))
        assert cfg["settings"]["ocsf_json_enabled"] is True, cfg
        assert cfg["settings"]["dummy_int"] == 42, cfg
        assert cfg["settings_revision"] == start_rev + 2, cfg

    resp = delete_setting(api, name, "ocsf_json_enabled")
    assert json_ok(resp) == {"settings_revision": start_rev + 3, "deleted": True}
    assert "ocsf_json_enabled" not in sim.ctl("GET", "/state")["settings"]
    assert len(audit_rows(db, "gateway.setting_delete", name)) == 1
    # Deleting again changes nothing at the gateway.
    assert json_ok(delete_setting(api, name, "ocsf_json_enabled"))["deleted"] is False


def test_setting_errors(api, rejected, sims, register):
    sim = sims()
    name = register(sim.port)
    # An unknown key is the gateway's INVALID_ARGUMENT → 400.
    rejected(lambda: put_setting(api, name, "no_such_key", True), 400, "VALIDATION_ERROR",
             "gRPC error: INVALID_ARGUMENT")
    # A wrong type for a registered key, too.
    rejected(lambda: put_setting(api, name, "ocsf_json_enabled", "yes"), 400,
             "VALIDATION_ERROR", "gRPC error: INVALID_ARGUMENT")
    for body in ({}, {"value": 1.5}, {"value": None}, {"value": [1]}):
        resp = api.put_json(f"/api/gateway/{name}/settings/ocsf_json_enabled", body)
        assert_problem(resp, 422, "VALIDATION_ERROR", "Validation error")
    # Only the two well-formed requests reached the gateway; the 422s stopped at the pool.
    assert sim.ctl("GET", "/calls")["counts"]["UpdateConfig"] == 2


def test_unregistered_gateway_is_not_connected(api, unique_name):
    name = unique_name("ghost")
    resp = health(api, name)
    assert resp.status_code == 503, describe(resp)
    assert resp.json() == {"status": "disconnected", "detail": f"Gateway '{name}' not connected"}
    assert_problem(get_config(api, name), 503, "GATEWAY_NOT_CONNECTED",
                   f"Gateway '{name}' not connected.")
    assert_problem(put_setting(api, name, "ocsf_json_enabled", True), 503,
                   "GATEWAY_NOT_CONNECTED")
    assert_problem(api.post(f"/api/gateway/{name}/test-connection"), 404, "NOT_FOUND",
                   f"Gateway '{name}' not registered")
    assert_problem(get_config(api, "-bad"), 400, "VALIDATION_ERROR")


# --------------------------------------------------------------------------------------------
# Bundle validation at registration


@pytest.mark.parametrize("case,parts,detail", [
    ("rogue-ca", {"cert": "rogue-client.crt", "key": "rogue-client.key"},
     "client_cert does not chain to ca_cert"),
    ("rogue-ca-given", {"ca": "rogue-ca.crt"}, "client_cert does not chain to ca_cert"),
    ("expired", {"cert": "expired-client.crt", "key": "expired-client.key"},
     "client_cert has expired"),
    ("not-yet-valid", {"cert": "future-client.crt", "key": "future-client.key"},
     "client_cert is not yet valid"),
    ("key-mismatch", {"key": "mismatched.key"}, "client_key does not match client_cert"),
    ("garbage-cert", {"cert": "garbage.pem"}, "client_cert is not a valid PEM certificate"),
    ("garbage-ca", {"ca": "garbage.pem"}, "ca_cert is not a valid PEM certificate"),
    ("garbage-key", {"key": "garbage.pem"}, "client_key is not a valid"),
    ("empty-key", {"key": "empty.pem"}, "client_key is not a valid"),
    ("cert-as-key", {"key": "client.crt"}, "client_key is not a valid"),
])
def test_bad_bundle_is_400(api, rejected, unique_name, certs, case, parts, detail):
    body = {"name": unique_name("bad"), "endpoint": "127.0.0.1:1"}
    body.update(bundle(certs, **parts))
    problem = rejected(lambda: api.register(body), 400, "VALIDATION_ERROR",
                       detail_prefix=detail)
    assert "PRIVATE KEY" not in problem["detail"]


# --------------------------------------------------------------------------------------------
# Failures: down, restarted, slow


def test_gateway_down_is_503_within_the_deadline(api, register):
    name = register(free_port())  # nothing listens there
    for send in (lambda: get_config(api, name),
                 lambda: put_setting(api, name, "ocsf_json_enabled", True)):
        t0 = time.monotonic()
        resp = send()
        assert time.monotonic() - t0 < GRPC_TIMEOUT + SLACK
        assert_problem(resp, 503, "GATEWAY_NOT_CONNECTED", f"Gateway '{name}' not connected.")
    resp = health(api, name)
    assert resp.status_code == 503 and resp.json()["status"] == "disconnected", describe(resp)
    t0 = time.monotonic()
    body = probe(api, name)
    assert time.monotonic() - t0 < GRPC_TIMEOUT + SLACK
    assert body == {"success": False, "connected": False, "version": None,
                    "health_status": None, "error": f"Gateway '{name}' not connected.",
                    "latency_ms": None}, body
    info = json_ok(api.info(name))
    assert info["last_status"] == "unreachable" and info["status"] == "offline", info


def test_gateway_restart_recovers_without_pool_restart(api, sims, register, tmp_path):
    state = str(tmp_path / "state.json")
    sim = sims(name="first", state_file=state)
    port = sim.port
    name = register(port)
    json_ok(put_setting(api, name, "ocsf_json_enabled", True))
    sim.stop()
    assert_problem(get_config(api, name), 503, "GATEWAY_NOT_CONNECTED")
    sim2 = sims(name="second", state_file=state, extra=["--listen", f"127.0.0.1:{port}"])
    assert sim2.port == port
    # Without test-connection: calls come back once the reconnect backoff (5 s) has passed.
    deadline = time.monotonic() + 30
    while True:
        resp = get_config(api, name)
        if resp.status_code == 200 or time.monotonic() > deadline:
            break
        assert_problem(resp, 503, "GATEWAY_NOT_CONNECTED")
        time.sleep(0.5)
    cfg = json_ok(resp)
    assert cfg["settings"]["ocsf_json_enabled"] is True, cfg
    assert probe(api, name)["success"] is True


def test_test_connection_resets_the_backoff(api, sims, register, tmp_path):
    sim = sims(name="first")
    port = sim.port
    name = register(port)
    assert probe(api, name)["success"] is True
    sim.stop()
    assert probe(api, name)["success"] is False
    sims(name="second", extra=["--listen", f"127.0.0.1:{port}"])
    # Inside the 5 s backoff, but test-connection forgets it and connects at once.
    body = probe(api, name)
    assert body["success"] is True and body["health_status"] == "healthy", body


def test_slow_gateway_times_out_and_responders_keep_serving(api, sims, register):
    sim = sims()
    name = register(sim.port)
    fast = sims(name="fast")
    fast_name = register(fast.port)
    sim.ctl("POST", "/delay", {"rpc": "GetGatewayConfig", "seconds": 30, "count": 0})
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
            t0 = time.monotonic()
            slow = [pool.submit(get_config, api.clone(), name) for _ in range(2)]
            time.sleep(0.5)
            # Meanwhile other requests, including gRPC to another gateway, answer promptly.
            for _ in range(5):
                t1 = time.monotonic()
                json_ok(get_config(api, fast_name))
                json_ok(api.list())
                assert time.monotonic() - t1 < GRPC_TIMEOUT - 1  # not queued behind the slow ones
            for fut in slow:
                resp = fut.result(timeout=GRPC_TIMEOUT + 30)
                assert_problem(resp, 504, "TIMEOUT", "gRPC error: DEADLINE_EXCEEDED")
            assert time.monotonic() - t0 < GRPC_TIMEOUT + SLACK
    finally:
        sim.ctl("POST", "/clear")
    json_ok(get_config(api, name))


def test_injected_grpc_errors_map_to_http(api, sims, register):
    sim = sims()
    name = register(sim.port)
    cases = [("NOT_FOUND", 404, "NOT_FOUND", "gRPC error: NOT_FOUND"),
             ("PERMISSION_DENIED", 403, "PERMISSION_DENIED", "Permission denied by the gateway."),
             ("UNAUTHENTICATED", 401, "AUTHENTICATION_REQUIRED",
              "Authentication required. Check gateway credentials."),
             ("FAILED_PRECONDITION", 409, "CONFLICT", "gRPC error: FAILED_PRECONDITION"),
             ("UNIMPLEMENTED", 500, "INTERNAL_ERROR",
              "Not supported by the current gateway version."),
             ("INTERNAL", 500, "INTERNAL_ERROR", "gRPC error: INTERNAL")]
    for code, status, pcode, detail in cases:
        sim.ctl("POST", "/fail", {"rpc": "GetGatewayConfig", "code": code, "count": 1})
        assert_problem(get_config(api, name), status, pcode, detail)
    # Retried reads: two UNAVAILABLE answers are absorbed by the retries.
    sim.ctl("POST", "/reset-calls")
    sim.ctl("POST", "/fail", {"rpc": "GetGatewayConfig", "code": "UNAVAILABLE", "count": 2})
    json_ok(get_config(api, name))
    assert sim.ctl("GET", "/calls")["counts"]["GetGatewayConfig"] == 3
    # Writes are not retried.
    sim.ctl("POST", "/reset-calls")
    sim.ctl("POST", "/fail", {"rpc": "UpdateConfig", "code": "ABORTED", "count": 1})
    assert_problem(put_setting(api, name, "ocsf_json_enabled", True), 409, "CONFLICT",
                   "gRPC error: ABORTED")
    assert sim.ctl("GET", "/calls")["counts"]["UpdateConfig"] == 1


# --------------------------------------------------------------------------------------------
# Channels, versions


def test_one_connection_per_worker_not_per_request(api, sims, register):
    sim = sims()
    name = register(sim.port)
    json_ok(get_config(api, name))
    sim.ctl("POST", "/reset-calls")
    for _ in range(30):
        json_ok(get_config(api, name))
    hs = sim.ctl("GET", "/handshakes")
    # workers = 2 in the test stack, plus the health monitor: at most one new connection each.
    assert hs["handshakes"] <= 3, hs
    assert sim.ctl("GET", "/calls")["counts"]["GetGatewayConfig"] == 30


def test_new_certificates_get_a_new_channel(api, sims, register, certs):
    sim = sims()
    name = register(sim.port)
    assert probe(api, name)["success"] is True
    json_ok(api.delete_gateway(name))
    # Same name, same endpoint, a bundle that cannot work: the old channel must not be reused.
    body = {"name": name, "endpoint": f"127.0.0.1:{sim.port}"}
    body.update(bundle(certs, ca="rogue-ca.crt", cert="rogue-client.crt",
                       key="rogue-client.key"))
    resp = api.register(body)
    assert resp.status_code == 201, describe(resp)
    for _ in range(4):
        assert_problem(get_config(api, name), 503, "GATEWAY_NOT_CONNECTED")
        assert probe(api, name)["success"] is False


@pytest.mark.parametrize("version", ["0.0.50", "0.0.111"])
def test_both_wire_layouts_give_the_same_answers(api, sims, register, version):
    sim = sims(version=version)
    name = register(sim.port)
    body = probe(api, name)
    assert body["success"] is True and body["version"] == version, body
    assert json_ok(health(api, name)) == {"status": "healthy", "version": version}
    cfg = json_ok(get_config(api, name))
    assert {"providers_v2_enabled", "ocsf_json_enabled",
            "agent_policy_proposals_enabled"} <= set(cfg["settings"]), cfg
    assert json_ok(put_setting(api, name, "agent_policy_proposals_enabled", False)) == \
        {"settings_revision": cfg["settings_revision"] + 1, "deleted": False}
    info = json_ok(api.info(name))
    assert info["version"] == version and info["compatibility"] == "compatible", info


@pytest.mark.parametrize("reported,verdict", [
    ("0.0.120", "newer"), ("0.0.40", "unsupported"), ("0.0.0", "unknown"),
    ("0.0.53-dev.3+gabc123", "ambiguous"), ("0.0.60-dev.1+gabc123", "compatible"),
])
def test_compatibility_verdict(api, sims, register, reported, verdict):
    sim = sims()
    name = register(sim.port)
    sim.ctl("POST", "/config", {"version": reported})
    body = probe(api, name)
    assert body["version"] == reported, body
    info = json_ok(api.info(name))
    assert info["version"] == reported and info["compatibility"] == verdict, info


def test_stack_simulator_is_registered_and_live(api):
    name = os.environ.get("BW_SIM_NAME")
    if not name:
        pytest.skip("the stack has no simulated gateway (BW_SIM_NAME unset)")
    body = probe(api, name)
    assert body["success"] is True, body
    assert os.environ["BW_SIM_CONTROL"].startswith("http://127.0.0.1:")


def test_plaintext_gateway_refused_by_default(api, sims, unique_name):
    sim = sims(mode="plaintext")
    name = unique_name("plain")
    resp = api.register({"name": name, "endpoint": f"127.0.0.1:{sim.port}", "scheme": "http",
                         "auth_mode": "none"})
    assert resp.status_code == 201, describe(resp)
    # allow_plaintext_gateways is off in the stack: no connection is even attempted.
    assert_problem(get_config(api, name), 503, "GATEWAY_NOT_CONNECTED")
    assert probe(api, name)["success"] is False
    assert sim.ctl("GET", "/calls")["total"] == 0


def test_incomplete_bundle_refused_under_require_mtls(api, sims, unique_name, certs):
    sim = sims(mode="tls")  # would accept a TLS client without a certificate
    name = unique_name("nocert")
    resp = api.register({"name": name, "endpoint": f"127.0.0.1:{sim.port}",
                         "ca_cert": b64(pem(certs, "ca.crt"))})
    assert resp.status_code == 201, describe(resp)
    assert_problem(get_config(api, name), 503, "GATEWAY_NOT_CONNECTED")
    assert probe(api, name)["success"] is False
    assert sim.ctl("GET", "/calls")["total"] == 0
