"""Sandbox sub-resources (/api/gateways/{gw}/sandboxes/{name}/...) through nginx and the pool
against simulated gateways over real mTLS, in both wire layouts: logs with their filters, SSH
sessions (every field of the gateway's answer checked against the proto's charset contract — a
bad answer is a 502 and is not passed on), the effective config, the provider environment
(values redacted; sandbox-only from v0.0.51), and the attached providers. Sandboxes are created
straight at the simulator over gRPC (ready_sandbox)."""

import uuid

import pytest

import bwtest
from bwtest import assert_problem, audit_rows, json_ok
from test_grpc_gateway import certs, register, sims  # noqa: F401 (fixtures)
from test_grpc_stream import ready_sandbox
from test_providers import Recorder, assert_nowhere, gw  # noqa: F401 (fixture)


@pytest.fixture
def box(gw):
    """``box(version)`` → (sim, gateway name, sandbox name, sandbox id) with a READY sandbox."""
    def make(version="0.0.50"):
        sim, name = gw(version)
        sb = ready_sandbox(sim, "box")
        return sim, name, "box", sb.metadata.id
    return make


def url(gw_name, sandbox, tail):
    return f"/api/gateways/{gw_name}/sandboxes/{sandbox}/{tail}"


@pytest.mark.parametrize("version", ["0.0.50", "0.0.111"])
def test_logs_with_filters(api, box, version):
    sim, name, sb, sid = box(version)
    logs = json_ok(api.get(url(name, sb, "logs")))
    assert logs and all(set(e) == {"timestamp_ms", "level", "message", "source", "target",
                                   "fields"} for e in logs), logs
    assert sim.ctl("GET", "/calls")["last"]["GetSandboxLogs"]["sandbox_id"] == sid
    assert sim.ctl("GET", "/calls")["last"]["GetSandboxLogs"]["lines"] == 200
    levels = {e["level"].upper() for e in logs}
    assert {"INFO", "DEBUG"} <= levels, levels
    errors = json_ok(api.get(url(name, sb, "logs?min_level=warn")))
    assert errors and {e["level"].upper() for e in errors} <= {"WARN", "ERROR"}, errors
    assert len(json_ok(api.get(url(name, sb, "logs?lines=1")))) <= 1
    only = json_ok(api.get(url(name, sb, "logs?sources=sandbox")))
    assert {e["source"] for e in only} <= {"sandbox"}
    req = sim.ctl("GET", "/calls")["last"]["GetSandboxLogs"]
    assert req["sources"] == ["sandbox"], req
    later = max(e["timestamp_ms"] for e in logs) + 1
    assert json_ok(api.get(url(name, sb, f"logs?since_ms={later}"))) == []


OCSF_LINES = [
    {"level": "OCSF", "message": "NET:OPEN [HIGH] DENIED /usr/bin/curl(42) -> 10.0.0.1:443 "
                                 "[engine:iptables]"},
    {"level": "INFO", "target": "ocsf", "message": "FINDING:BLOCKED [CRIT] nsenter attempt"},
    {"level": "OCSF", "message": "HTTP:GET [INFO] ALLOWED GET https://pypi.org/simple"},
    {"level": "TRACE", "message": "plain trace line"},
]


def test_logs_ocsf_parsing_and_filters(api, box):
    sim, name, sb, _ = box()
    sim.ctl("POST", "/logs", {"sandbox": sb, "lines": OCSF_LINES})
    logs = json_ok(api.get(url(name, sb, "logs")))
    ocsf = [e for e in logs if "ocsf" in e]
    assert len(ocsf) == 3, logs
    net = ocsf[0]["ocsf"]
    assert net == {"class_prefix": "NET", "activity": "OPEN", "severity": "HIGH",
                   "disposition": "DENIED", "summary": "/usr/bin/curl(42) -> 10.0.0.1:443",
                   "bracket_fields": {"engine": "iptables"}, "fields": {},
                   "binary": "/usr/bin/curl"}, net
    assert all("ocsf" not in e for e in logs if e["level"] not in ("OCSF",)
               and e["target"] != "ocsf")
    # OCSF entries survive any level filter; the plain TRACE line does not.
    err = json_ok(api.get(url(name, sb, "logs?min_level=error")))
    assert len([e for e in err if "ocsf" in e]) == 3
    assert "plain trace line" not in [e["message"] for e in err]
    only = json_ok(api.get(url(name, sb, "logs?ocsf_only=true")))
    assert len(only) == 3 and all("ocsf" in e for e in only)
    # Every spelling of a boolean the reference's query validation takes, in any case.
    for yes in ("1", "YES", "On", "t", "y"):
        assert json_ok(api.get(url(name, sb, f"logs?ocsf_only={yes}"))) == only, yes
    for no in ("0", "False", "NO", "off", "f", "n"):
        assert json_ok(api.get(url(name, sb, f"logs?ocsf_only={no}"))) == logs, no
    denied = json_ok(api.get(url(name, sb, "logs?ocsf_disposition=denied,%20blocked")))
    assert [e["ocsf"]["class_prefix"] for e in denied] == ["NET", "FINDING"], denied
    crit = json_ok(api.get(url(name, sb, "logs?ocsf_severity=CRIT&ocsf_class=FINDING")))
    assert [e["ocsf"]["disposition"] for e in crit] == ["BLOCKED"], crit
    assert json_ok(api.get(url(name, sb, "logs?ocsf_class=SSH"))) == []


def test_logs_bad_query_is_422(api, box, rejected):
    sim, name, sb, _ = box()
    sim.ctl("POST", "/reset-calls")
    for q in ("lines=0", "lines=10001", "lines=x", "since_ms=-1", "min_level=loud",
              "sources=a;b", "sources=" + ",".join(["s"] * 9), "sources=%20",
              "ocsf_only=maybe", "ocsf_class=NETWORK", "ocsf_severity=SEVERE",
              "ocsf_disposition=ALLOWED,MAYBE"):
        body = rejected(lambda: api.get(url(name, sb, f"logs?{q}")), 422)
        assert body["errors"][0]["loc"][0] == "query", body
        if q.startswith("ocsf_only"):
            assert body["errors"] == [{
                "type": "bool_parsing", "loc": ["query", "ocsf_only"], "input": "maybe",
                "msg": "Input should be a valid boolean, unable to interpret input"}], body
    assert "GetSandboxLogs" not in sim.ctl("GET", "/calls")["counts"]


def test_hostile_sandbox_names_are_400(api, box, rejected):
    sim, name, _, _ = box()
    sim.ctl("POST", "/reset-calls")
    for hostile in (".hidden", "a%20b", "%24(id)", "-x", "x%0A", "%2E%2E%2Fetc"):
        for method, tail in (("GET", "logs"), ("GET", "config"), ("GET", "provider-env"),
                             ("GET", "providers"), ("POST", "ssh"),
                             ("POST", "providers/p"), ("DELETE", "providers/p")):
            rejected(lambda: api.request(method, url(name, hostile, tail)), 400)
    rejected(lambda: api.post(url(name, "box", "providers/%3Brm")), 400)
    assert sim.ctl("GET", "/calls")["counts"] == {} or \
        set(sim.ctl("GET", "/calls")["counts"]) <= {"Health"}


def test_unknown_sandbox_is_404(api, box):
    _, name, _, _ = box()
    for tail in ("logs", "config", "provider-env"):
        assert_problem(api.get(url(name, "nope", tail)), 404, "NOT_FOUND")
    assert_problem(api.post(url(name, "nope", "ssh")), 404, "NOT_FOUND")


@pytest.mark.parametrize("version", ["0.0.50", "0.0.111"])
def test_ssh_session_create_and_revoke(api, db, box, version):
    sim, name, sb, sid = box(version)
    rec = Recorder(api)
    resp = rec.post(url(name, sb, "ssh"))
    s = json_ok(resp, 201)
    assert set(s) == {"sandbox_id", "token", "gateway_host", "gateway_port", "gateway_scheme",
                      "host_key_fingerprint", "expires_at_ms"}, s
    assert s["sandbox_id"] == sid and s["gateway_scheme"] == "https"
    assert s["gateway_port"] == sim.port and s["expires_at_ms"] > 0
    token = s["token"]
    assert sim.ctl("GET", "/calls")["last"]["CreateSshSession"]["sandbox_id"] == sid
    row = audit_rows(db, "sandbox.ssh.create", sb)[-1]
    assert row["gateway_name"] == name and row["resource_type"] == "sandbox"
    assert token not in (row["detail"] or "")
    assert json_ok(api.delete(url(name, sb, "ssh"), json={"token": token})) == {"revoked": True}
    assert json_ok(api.delete(url(name, sb, "ssh"),
                              json={"token": str(uuid.uuid4())})) == {"revoked": False}
    assert len(audit_rows(db, "sandbox.ssh.revoke", sb)) >= 2
    # The token is the caller's to use; it goes nowhere else.
    assert_nowhere(token, [], db)


BAD_ANSWERS = [
    ("token", "abc; rm -rf /"),
    ("token", "tok\n"),
    ("token", ""),
    ("token", "x" * 4097),
    ("gateway_host", "evil.example`id`"),
    ("gateway_host", "a b"),
    ("gateway_port", 0),
    ("gateway_scheme", "ssh"),
    ("host_key_fingerprint", "SHA256:abc def"),
    ("sandbox_id", "../x"),
    ("sandbox_id", "00000000-0000-4000-8000-000000000000"),
]


@pytest.mark.parametrize("field,value", BAD_ANSWERS)
def test_ssh_answer_breaking_the_charset_contract_is_502(api, db, box, rejected, field, value):
    sim, name, sb, _ = box()
    sim.ctl("POST", "/config", {"ssh_override": {field: value}})
    body = rejected(lambda: api.post(url(name, sb, "ssh")), 502, "BAD_GATEWAY")
    assert f"field={field}" in body["detail"], body
    if isinstance(value, str) and len(value) > 3:
        assert value not in body["detail"]
    sim.ctl("POST", "/config", {"ssh_override": {}})
    json_ok(api.post(url(name, sb, "ssh")), 201)


def test_ssh_revoke_bad_body_is_422(api, box, rejected):
    sim, name, sb, _ = box()
    for body in ({}, {"token": ""}, {"token": 5}, {"token": "a b"}, {"token": "x" * 4097}):
        rejected(lambda: api.delete(url(name, sb, "ssh"), json=body), 422)
    rejected(lambda: api.send_bytes("DELETE", url(name, sb, "ssh"), b"{"), 422)
    assert "RevokeSshSession" not in sim.ctl("GET", "/calls")["counts"]


@pytest.mark.parametrize("version", ["0.0.50", "0.0.111"])
def test_config(api, box, version):
    sim, name, sb, sid = box(version)
    cfg = json_ok(api.get(url(name, sb, "config")))
    assert {"policy", "version", "policy_hash", "settings", "config_revision", "policy_source",
            "global_policy_version"} <= set(cfg), cfg
    assert cfg["version"] >= 1 and cfg["policy_hash"] and cfg["policy_source"] == 1
    assert "pypi" in cfg["policy"]["network_policies"], cfg["policy"]
    assert cfg["settings"]["ocsf_json_enabled"] == {"value": None, "scope": 0}
    assert sim.ctl("GET", "/calls")["last"]["GetSandboxConfig"]["sandbox_id"] == sid


def provider(api, name, unique_name, key):
    pname = unique_name("prov")
    json_ok(api.post_json(f"/api/gateways/{name}/providers",
                          {"name": pname, "type": "anthropic", "api_key": key}), 201)
    return pname


def test_attach_list_provider_env_detach(api, db, box, unique_name):
    sim, name, sb, sid = box("0.0.50")
    rec = Recorder(api)
    key = f"sk-ant-SECRET-{uuid.uuid4().hex}"
    pname = provider(rec, name, unique_name, key)
    assert json_ok(rec.get(url(name, sb, "providers"))) == {"items": []}
    assert json_ok(rec.post(url(name, sb, f"providers/{pname}"))) == {"attached": True}
    assert json_ok(rec.post(url(name, sb, f"providers/{pname}"))) == {"attached": False}
    items = json_ok(rec.get(url(name, sb, "providers")))["items"]
    assert [p["name"] for p in items] == [pname]
    assert items[0]["credentials"] == {"ANTHROPIC_API_KEY": "[REDACTED]"}
    env = json_ok(rec.get(url(name, sb, "provider-env")))
    assert env["env"] == {"ANTHROPIC_API_KEY": "[REDACTED]"}, env
    assert sim.ctl("GET", "/calls")["last"]["GetSandboxProviderEnvironment"]["sandbox_id"] == sid
    # Attached providers cannot be deleted (gateway FAILED_PRECONDITION → 409).
    assert_problem(rec.delete(f"/api/gateways/{name}/providers/{pname}"), 409, "CONFLICT")
    assert json_ok(rec.delete(url(name, sb, f"providers/{pname}"))) == {"detached": True}
    assert json_ok(rec.delete(url(name, sb, f"providers/{pname}"))) == {"detached": False}
    assert_problem(rec.post(url(name, sb, "providers/not-there")), 409, "CONFLICT")
    actions = [r["action"] for r in audit_rows(db, resource_id=sb)
               if r["gateway_name"] == name]
    assert actions.count("sandbox.provider.attach") == 2, actions
    assert actions.count("sandbox.provider.detach") == 2, actions
    assert_nowhere(key, rec.bodies, db)


def test_provider_env_is_sandbox_only_from_v0_0_51(api, box, unique_name):
    sim, name, sb, _ = box("0.0.111")
    pname = provider(api, name, unique_name, "k-" + uuid.uuid4().hex)
    json_ok(api.post(url(name, sb, f"providers/{pname}")))
    body = assert_problem(api.get(url(name, sb, "provider-env")), 403, "PERMISSION_DENIED")
    assert "sandbox principals only" in body["detail"]


def test_roles_and_unreachable(api, box, make_sp, rejected, bw_env):
    sim, name, sb, _ = box()
    viewer = bwtest.Api(bw_env["BW_URL"], bw_env["BW_TLS_CERT"], auth=False)
    viewer.session.headers["Authorization"] = f"Bearer {make_sp('viewer')['key']}"
    try:
        json_ok(viewer.get(url(name, sb, "logs")))
        json_ok(viewer.get(url(name, sb, "config")))
        json_ok(viewer.get(url(name, sb, "providers")))
        for method, tail, body in (("POST", "ssh", None), ("DELETE", "ssh", {"token": "abc"}),
                                   ("POST", "providers/p", None),
                                   ("DELETE", "providers/p", None)):
            resp = viewer.request(method, url(name, sb, tail), json=body)
            assert_problem(resp, 403, "PERMISSION_DENIED", "Requires operator role")
    finally:
        viewer.session.close()
    assert "CreateSshSession" not in sim.ctl("GET", "/calls")["counts"]
    sim.stop()
    for method, tail in (("GET", "logs"), ("GET", "config"), ("POST", "ssh"),
                         ("POST", "providers/p"), ("GET", "provider-env")):
        rejected(lambda: api.request(method, url(name, sb, tail)), 503,
                 "GATEWAY_NOT_CONNECTED", f"Gateway '{name}' not connected.")
