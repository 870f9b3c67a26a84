"""Cluster inference of a gateway (/api/gateways/{gw}/inference...) through nginx and the pool
against simulated gateways over real mTLS: get/set with the RPC names of the gateway's version
(Set/GetClusterInference below v0.0.88, Set/GetInferenceRoute from v0.0.88, the other name
once when the gateway answers UNIMPLEMENTED), validated endpoints as the gateway sends them,
the audit row and webhook event of a set, the resolved bundle (sandbox-only at the gateway),
bad input, roles and an unreachable gateway."""

import json
import uuid

import pytest

import bwtest
from bwtest import assert_problem, audit_rows, json_ok
from test_grpc_gateway import certs, probe, register, sims  # noqa: F401 (fixtures)
from test_providers import Recorder, assert_nowhere, gw  # noqa: F401 (fixture)


def inf(name, tail=""):
    return f"/api/gateways/{name}/inference{tail}"


def nvidia(api, name, unique_name, key):
    pname = unique_name("nim")
    json_ok(api.post_json(f"/api/gateways/{name}/providers",
                          {"name": pname, "type": "nvidia", "api_key": key}), 201)
    return pname


@pytest.mark.parametrize("version,set_rpc,get_rpc,other", [
    ("0.0.50", "SetClusterInference", "GetClusterInference", "SetInferenceRoute"),
    ("0.0.111", "SetInferenceRoute", "GetInferenceRoute", "SetClusterInference"),
])
def test_set_and_get_use_the_versions_rpc_names(api, db, gw, unique_name, version, set_rpc,
                                                get_rpc, other):
    sim, name = gw(version)
    probe(api, name)  # stores the version
    rec = Recorder(api)
    key = f"nvapi-SECRET-{uuid.uuid4().hex}"
    pname = nvidia(rec, name, unique_name, key)
    assert_problem(rec.get(inf(name)), 404, "NOT_FOUND")
    sim.ctl("POST", "/reset-calls")
    resp = rec.put_json(inf(name), {"provider_name": pname, "model_id": "meta/llama-3.1",
                                    "timeout_secs": 90})
    out = json_ok(resp)
    assert out["provider_name"] == pname and out["model_id"] == "meta/llama-3.1"
    assert out["version"] == 1 and out["timeout_secs"] == 90
    assert out["route_name"] == "inference.local"
    assert out["validation_performed"] is True
    assert out["validated_endpoints"] and set(out["validated_endpoints"][0]) == {"url", "protocol"}
    counts = sim.ctl("GET", "/calls")["counts"]
    assert counts.get(set_rpc) == 1 and other not in counts, counts
    last = sim.ctl("GET", "/calls")["last"][set_rpc]
    assert last.get("no_verify") in (None, False) and last.get("verify") is True, last
    got = json_ok(rec.get(inf(name)))
    assert got == {k: out[k] for k in ("provider_name", "model_id", "version", "route_name",
                                       "timeout_secs")}
    assert get_rpc in sim.ctl("GET", "/calls")["counts"]
    assert_problem(rec.get(inf(name, "?route_name=sandbox-system")), 404, "NOT_FOUND")
    rows = audit_rows(db, "inference.update", name)
    assert len(rows) == 1 and rows[0]["resource_type"] == "inference"
    assert json.loads(rows[0]["detail"]) == {"provider": pname, "model": "meta/llama-3.1",
                                             "route_name": "inference.local"}
    with db.cursor() as cur:
        cur.execute("SELECT payload FROM event_outbox WHERE event_type = 'inference.updated' "
                    "AND gateway_name = %s", (name,))
        events = cur.fetchall()
    assert len(events) == 1, events
    assert json.loads(events[0]["payload"])["model"] == "meta/llama-3.1" or \
        "meta/llama-3.1" in events[0]["payload"]
    # No verification: the gateway is told so, nothing is validated.
    out = json_ok(rec.put_json(inf(name), {"provider_name": pname, "model_id": "m2",
                                           "verify": False, "route_name": "sandbox-system"}))
    assert out["validation_performed"] is False and out["validated_endpoints"] == []
    assert out["route_name"] == "sandbox-system"
    assert sim.ctl("GET", "/calls")["last"][set_rpc]["no_verify"] is True
    assert_nowhere(key, rec.bodies, db)


def test_a_gateway_whose_version_changed_gets_the_other_name(api, gw, unique_name):
    sim, name = gw("0.0.111")
    probe(api, name)
    pname = nvidia(api, name, unique_name, "k")
    sim.ctl("POST", "/config", {"version": "0.0.50"})
    sim.ctl("POST", "/reset-calls")
    json_ok(api.put_json(inf(name), {"provider_name": pname, "model_id": "m"}))
    counts = sim.ctl("GET", "/calls")["counts"]
    assert counts.get("SetInferenceRoute") == 1 and counts.get("SetClusterInference") == 1, counts


def test_gateway_errors(api, gw, rejected, unique_name):
    sim, name = gw()
    pname = nvidia(api, name, unique_name, "k")
    rejected(lambda: api.put_json(inf(name), {"provider_name": "missing-prov", "model_id": "m"}),
             409, "CONFLICT", "gRPC error: FAILED_PRECONDITION")
    rejected(lambda: api.put_json(inf(name), {"provider_name": pname, "model_id": "m",
                                              "route_name": "elsewhere"}),
             400, "VALIDATION_ERROR", "gRPC error: INVALID_ARGUMENT")


def test_bad_input_is_422_before_the_gateway(api, gw, rejected):
    sim, name = gw()
    sim.ctl("POST", "/reset-calls")
    ok = {"provider_name": "p", "model_id": "m"}
    for body, loc in (({"model_id": "m"}, "provider_name"),
                      ({"provider_name": "p"}, "model_id"),
                      ({**ok, "provider_name": ""}, "provider_name"),
                      ({**ok, "provider_name": "a b"}, "provider_name"),
                      ({**ok, "model_id": "m" * 254}, "model_id"),
                      ({**ok, "model_id": "a\nb"}, "model_id"),
                      ({**ok, "timeout_secs": 3601}, "timeout_secs"),
                      ({**ok, "timeout_secs": -1}, "timeout_secs"),
                      ({**ok, "timeout_secs": "5"}, "timeout_secs"),
                      ({**ok, "verify": "yes"}, "verify"),
                      ({**ok, "route_name": "a b"}, "route_name"),
                      ({**ok, "route_name": 7}, "route_name")):
        body = rejected(lambda: api.put_json(inf(name), body), 422)
        assert ["body", loc] in [e["loc"] for e in body["errors"]], body
    rejected(lambda: api.send_bytes("PUT", inf(name), b"[1,"), 422)
    rejected(lambda: api.put_json(inf(name), ["x"]), 422)
    rejected(lambda: api.get(inf(name, "?route_name=%3Bx")), 422)
    rejected(lambda: api.get(inf("bad%20gw")), 400)
    counts = sim.ctl("GET", "/calls")["counts"]
    assert not any("Inference" in k for k in counts), counts


def test_bundle_is_sandbox_only_and_not_audited_when_refused(api, db, gw):
    sim, name = gw()
    body = assert_problem(api.get(inf(name, "/bundle")), 403, "PERMISSION_DENIED")
    assert "sandbox principals" in body["detail"]
    assert sim.ctl("GET", "/calls")["counts"].get("GetInferenceBundle") == 1
    assert audit_rows(db, "gateway.inference_bundle.viewed", name) == []


def test_roles_and_unreachable(api, gw, make_sp, rejected, unique_name, bw_env):
    sim, name = gw()
    pname = nvidia(api, name, unique_name, "k")
    json_ok(api.put_json(inf(name), {"provider_name": pname, "model_id": "m"}))
    viewer = bwtest.Api(bw_env["BW_URL"], bw_env["BW_TLS_CERT"], auth=False)
    viewer.session.headers["Authorization"] = f"Bearer {make_sp('viewer')['key']}"
    try:
        assert json_ok(viewer.get(inf(name)))["model_id"] == "m"
        resp = viewer.put_json(inf(name), {"provider_name": pname, "model_id": "x"})
        assert_problem(resp, 403, "PERMISSION_DENIED", "Requires operator role")
    finally:
        viewer.session.close()
    sim.stop()
    detail = f"Gateway '{name}' not connected."
    rejected(lambda: api.get(inf(name)), 503, "GATEWAY_NOT_CONNECTED", detail)
    rejected(lambda: api.put_json(inf(name), {"provider_name": pname, "model_id": "m"}), 503,
             "GATEWAY_NOT_CONNECTED", detail)
    rejected(lambda: api.get(inf(name, "/bundle")), 503, "GATEWAY_NOT_CONNECTED", detail)
