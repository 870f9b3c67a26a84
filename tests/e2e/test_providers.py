"""Providers of a gateway (/api/gateways/{gw}/providers...) through nginx and the pool against
simulated gateways over real mTLS: CRUD with the credential key mapping by type, the known
types, the redacted env projection, credential refresh, role checks, bad input, an unreachable
gateway — and that a credential sent in never comes back out: not in any response, not in any
log file under $BW_RUN_DIR/log, not in the audit trail or the event outbox."""

import glob
import os
import uuid

import pytest

from bwtest import assert_problem, assert_validation_422, audit_rows, describe, env, json_ok
from test_grpc_gateway import certs, register, sims  # noqa: F401 (fixtures)

PROVIDER_KEYS = {"id", "name", "type", "credentials", "config", "credential_expires_at_ms"}


@pytest.fixture
def gw(sims, register):
    """``gw(version="0.0.50")`` → (sim, registered gateway name)."""
    def make(version="0.0.50", extra=()):
        sim = sims(version=version, extra=["--ready-delay", "0.1", *extra])
        return sim, register(sim.port)
    return make


def base(name):
    return f"/api/gateways/{name}/providers"


def secret():
    return f"sk-SECRET-{uuid.uuid4().hex}"


def sim_provider(sim, name):
    return next((p for p in sim.ctl("GET", "/state")["providers"] if p["name"] == name), None)


def sim_names(sim):
    return sorted(p["name"] for p in sim.ctl("GET", "/state")["providers"])


class Recorder:
    """Wraps the api client and keeps every response body, for the leak checks."""

    def __init__(self, api):
        self.api = api
        self.bodies = []

    def __getattr__(self, attr):
        fn = getattr(self.api, attr)

        def call(*args, **kwargs):
            resp = fn(*args, **kwargs)
            self.bodies.append(resp.text + repr(dict(resp.headers)))
            return resp
        return call


def assert_nowhere(value, responses, db):
    """value is in no response, no log file of the stack and no audit/outbox row."""
    for text in responses:
        assert value not in text, text
    for path in glob.glob(os.path.join(env("BW_RUN_DIR"), "log", "**"), recursive=True):
        if os.path.isfile(path):
            with open(path, "rb") as f:
                assert value.encode() not in f.read(), path
    with db.cursor() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM audit_log WHERE CONCAT_WS('|', action, actor, "
                    "resource_type, resource_id, gateway_name, detail, client_ip, request_id) "
                    "LIKE %s", (f"%{value}%",))
        assert cur.fetchone()["n"] == 0
        cur.execute("SELECT COUNT(*) AS n FROM event_outbox WHERE payload LIKE %s",
                    (f"%{value}%",))
        assert cur.fetchone()["n"] == 0


# --------------------------------------------------------------------------------------------
# Static lists


def test_known_types_and_inference_providers_need_no_gateway(api):
    types = json_ok(api.get(base("not-registered-anywhere") + "/types"))
    by_type = {t["type"]: t for t in types}
    assert list(by_type)[:3] == ["anthropic", "claude", "openai"]
    assert by_type["github"] == {"type": "github", "label": "GitHub", "cred_key": "GITHUB_TOKEN",
                                 "icon": "github"}
    assert by_type["generic"]["cred_key"] == "API_KEY" and len(types) == 11
    inf = json_ok(api.get(base("x") + "/inference-providers"))
    assert [i["name"] for i in inf] == ["nvidia", "anthropic", "openai"]
    assert {"name", "label", "placeholder", "env_var"} == set(inf[0])


# --------------------------------------------------------------------------------------------
# CRUD and the credential never leaving


def test_crud_maps_the_credential_key_and_never_returns_it(api, db, gw, unique_name):
    sim, name = gw()
    rec = Recorder(api)
    key, extra = secret(), secret()
    pname = unique_name("prov")
    resp = rec.post_json(base(name), {"name": pname, "type": "github", "api_key": key,
                                      "credentials": {"EXTRA_TOKEN": extra},
                                      "config": {"org": "acme"}})
    created = json_ok(resp, 201)
    assert set(created) == PROVIDER_KEYS, created
    assert created["name"] == pname and created["type"] == "github" and created["id"]
    assert created["credentials"] == {"GITHUB_TOKEN": "[REDACTED]", "EXTRA_TOKEN": "[REDACTED]"}
    assert created["config"] == {"org": "acme"}
    # The gateway got the real values under the type's key (metadata.name, v0.0.50 layout).
    stored = sim_provider(sim, pname)
    assert stored["credentials"] == {"GITHUB_TOKEN": key, "EXTRA_TOKEN": extra}, stored
    last = sim.ctl("GET", "/calls")["last"]["CreateProvider"]["provider"]
    assert last["metadata"]["name"] == pname and last["type"] == "github"

    got = json_ok(rec.get(f"{base(name)}/{pname}"))
    assert got == created
    listed = json_ok(rec.get(base(name)))
    assert listed["total"] is None and pname in [p["name"] for p in listed["items"]]
    envp = json_ok(rec.get(f"{base(name)}/{pname}/env"))
    assert envp == {"provider": pname, "type": "github", "env": [
        {"key": "GITHUB_TOKEN", "source": "credential", "redacted_value": "[REDACTED]"},
        {"key": "EXTRA_TOKEN", "source": "credential", "redacted_value": "[REDACTED]"},
        {"key": "org", "source": "config", "redacted_value": "[REDACTED]"}]} or \
        sorted(e["key"] for e in envp["env"]) == ["EXTRA_TOKEN", "GITHUB_TOKEN", "org"]

    rotated = secret()
    upd = json_ok(rec.put_json(f"{base(name)}/{pname}",
                               {"credentials": {"GITHUB_TOKEN": rotated}, "config": {"team": "x"}}))
    assert upd["credentials"]["GITHUB_TOKEN"] == "[REDACTED]"
    assert upd["config"] == {"org": "acme", "team": "x"}
    assert sim_provider(sim, pname)["credentials"]["GITHUB_TOKEN"] == rotated

    assert json_ok(rec.delete(f"{base(name)}/{pname}")) == {"deleted": True}
    assert sim_provider(sim, pname) is None
    assert json_ok(rec.delete(f"{base(name)}/{pname}")) == {"deleted": False}
    assert_problem(rec.get(f"{base(name)}/{pname}"), 404, "NOT_FOUND")

    rows = {r["action"]: r for r in audit_rows(db, resource_id=pname)}
    assert set(rows) == {"provider.create", "provider.update", "provider.delete"}, rows
    for r in rows.values():
        assert r["resource_type"] == "provider" and r["gateway_name"] == name
    assert '"type": "github"' in rows["provider.create"]["detail"] or \
        '"type":"github"' in rows["provider.create"]["detail"]
    assert len(audit_rows(db, "provider.delete", pname)) == 1  # not for deleted: false
    for value in (key, extra, rotated):
        assert_nowhere(value, rec.bodies, db)


def test_unknown_type_default_key_and_generic(api, gw, unique_name):
    sim, name = gw()
    pname = unique_name("prov")
    json_ok(api.post_json(base(name), {"name": pname, "type": "generic", "api_key": secret()}), 201)
    assert list(sim_provider(sim, pname)["credentials"]) == ["API_KEY"]


def test_duplicate_create_is_409_and_audited_once(api, db, gw, unique_name):
    sim, name = gw()
    pname = unique_name("prov")
    body = {"name": pname, "type": "openai", "api_key": secret()}
    json_ok(api.post_json(base(name), body), 201)
    assert_problem(api.post_json(base(name), body), 409, "CONFLICT", "gRPC error: ALREADY_EXISTS")
    assert len(audit_rows(db, "provider.create", pname)) == 1


# --------------------------------------------------------------------------------------------
# Bad input: 4xx, nothing at the gateway, database unchanged


def test_bad_input_is_rejected_before_the_gateway(api, gw, rejected, unique_name):
    sim, name = gw()
    ok = {"name": unique_name("prov"), "type": "openai", "api_key": secret()}
    sim.ctl("POST", "/reset-calls")

    def bad(body, loc):
        resp = rejected(lambda: api.post_json(base(name), body), 422)
        assert any(e["loc"] == loc for e in resp["errors"]), resp

    bad({**ok, "type": "no-such-type"}, ["body", "type"])
    bad({k: v for k, v in ok.items() if k != "type"}, ["body", "type"])
    bad({k: v for k, v in ok.items() if k != "name"}, ["body", "name"])
    bad({**ok, "api_key": ""}, ["body", "api_key"])  # no credential at all
    bad({**ok, "name": "../etc/passwd"}, ["body", "name"])
    bad({**ok, "name": "a b"}, ["body", "name"])
    bad({**ok, "name": "x" * 254}, ["body", "name"])
    bad({**ok, "api_key": "k" * 513}, ["body", "api_key"])
    bad({**ok, "credentials": {f"K{i}": "v" for i in range(51)}}, ["body", "credentials"])
    bad({**ok, "credentials": {"K": "v" * 8193}}, ["body", "credentials"])
    bad({**ok, "credentials": {"not an env key": "v"}}, ["body", "credentials"])
    bad({**ok, "credentials": {"K": 5}}, ["body", "credentials"])
    bad({**ok, "config": {f"c{i}": "v" for i in range(51)}}, ["body", "config"])
    bad({**ok, "credentials": ["x"]}, ["body", "credentials"])
    rejected(lambda: api.post_json(base(name), [ok]), 422)
    rejected(lambda: api.send_bytes("POST", base(name), b'{"name": "x",'), 422)
    # Hostile names in the path: 400 before anything reaches the gateway.
    for hostile in ("..%2F..%2Fetc", "a%20b", "%3Bls", "-lead"):
        rejected(lambda: api.get(f"{base(name)}/{hostile}"), 400)
        rejected(lambda: api.put_json(f"{base(name)}/{hostile}", {}), 400)
        rejected(lambda: api.delete(f"{base(name)}/{hostile}"), 400)
    rejected(lambda: api.put_json(f"{base(name)}/p", {"type": "nope"}), 422)
    rejected(lambda: api.put_json(f"{base(name)}/p", {"config": {"k": ["v"]}}), 422)
    rejected(lambda: api.get(base(name) + "?limit=0"), 422)
    rejected(lambda: api.get(base(name) + "?limit=1001"), 422)
    rejected(lambda: api.get(base(name) + "?offset=-1"), 422)
    rejected(lambda: api.get(base("bad%20gw")), 400)
    counts = sim.ctl("GET", "/calls")["counts"]
    assert not {k for k in counts if "Provider" in k}, counts
    assert sim_names(sim) == []


def test_oversized_body_is_413(api, gw, rejected):
    _, name = gw()
    big = {"name": "p", "type": "openai", "api_key": "k", "credentials": {"K": "v" * (3 << 20)}}
    rejected(lambda: api.post_json(base(name), big), 413)


# --------------------------------------------------------------------------------------------
# Roles, gateway errors


def test_viewer_reads_but_cannot_write(api, gw, make_sp, rejected, unique_name, bw_env):
    import bwtest
    sim, name = gw()
    pname = unique_name("prov")
    json_ok(api.post_json(base(name), {"name": pname, "type": "nvidia", "api_key": secret()}), 201)
    viewer = bwtest.Api(bw_env["BW_URL"], bw_env["BW_TLS_CERT"], auth=False)
    viewer.session.headers["Authorization"] = f"Bearer {make_sp('viewer')['key']}"
    operator = bwtest.Api(bw_env["BW_URL"], bw_env["BW_TLS_CERT"], auth=False)
    operator.session.headers["Authorization"] = f"Bearer {make_sp('operator')['key']}"
    try:
        json_ok(viewer.get(f"{base(name)}/{pname}"))
        json_ok(viewer.get(f"{base(name)}/{pname}/env"))
        json_ok(viewer.get(f"{base(name)}/{pname}/refresh"))
        for send in (lambda: viewer.post_json(base(name), {"name": "v", "type": "nvidia",
                                                           "api_key": "k"}),
                     lambda: viewer.put_json(f"{base(name)}/{pname}", {"config": {"a": "b"}}),
                     lambda: viewer.delete(f"{base(name)}/{pname}"),
                     lambda: viewer.put_json(f"{base(name)}/{pname}/refresh/NVIDIA_API_KEY",
                                             {"strategy": "oauth2_refresh_token"}),
                     lambda: viewer.post(f"{base(name)}/{pname}/refresh/NVIDIA_API_KEY/rotate"),
                     lambda: viewer.delete(f"{base(name)}/{pname}/refresh/NVIDIA_API_KEY")):
            resp = send()
            assert_problem(resp, 403, "PERMISSION_DENIED", "Requires operator role")
        assert sim_provider(sim, pname) is not None
        json_ok(operator.put_json(f"{base(name)}/{pname}", {"config": {"a": "b"}}))
        json_ok(operator.delete(f"{base(name)}/{pname}"))
    finally:
        viewer.session.close()
        operator.session.close()


def test_unreachable_gateway_is_503(api, gw, rejected, unique_name):
    sim, name = gw()
    sim.stop()
    detail = f"Gateway '{name}' not connected."
    rejected(lambda: api.get(base(name)), 503, "GATEWAY_NOT_CONNECTED", detail)
    rejected(lambda: api.post_json(base(name), {"name": unique_name("p"), "type": "openai",
                                                "api_key": secret()}),
             503, "GATEWAY_NOT_CONNECTED", detail)
    rejected(lambda: api.get(base("never-registered-gw")), 503, "GATEWAY_NOT_CONNECTED")


def test_gateway_errors_map_to_the_reference_statuses(api, gw, rejected, unique_name):
    sim, name = gw()
    pname = unique_name("prov")
    json_ok(api.post_json(base(name), {"name": pname, "type": "openai", "api_key": secret()}), 201)
    # Type is immutable at the gateway: INVALID_ARGUMENT → 400.
    rejected(lambda: api.put_json(f"{base(name)}/{pname}", {"type": "github"}), 400,
             "VALIDATION_ERROR", "gRPC error: INVALID_ARGUMENT")
    sim.ctl("POST", "/fail", {"rpc": "GetProvider", "code": "DEADLINE_EXCEEDED", "count": 5})
    rejected(lambda: api.get(f"{base(name)}/{pname}"), 504, "TIMEOUT")
    sim.ctl("POST", "/clear")
    sim.ctl("POST", "/fail", {"rpc": "DeleteProvider", "code": "PERMISSION_DENIED", "count": 1})
    rejected(lambda: api.delete(f"{base(name)}/{pname}"), 403, "PERMISSION_DENIED")


# --------------------------------------------------------------------------------------------
# Credential refresh


def test_refresh_configure_status_rotate_delete(api, db, gw, unique_name):
    sim, name = gw()
    rec = Recorder(api)
    pname = unique_name("prov")
    client_secret = secret()
    json_ok(rec.post_json(base(name), {"name": pname, "type": "github", "api_key": secret()}), 201)
    url = f"{base(name)}/{pname}/refresh"
    assert json_ok(rec.get(url)) == {"credentials": []}
    st = json_ok(rec.put_json(f"{url}/GITHUB_TOKEN", {
        "strategy": "oauth2_client_credentials",
        "material": {"client_id": "cid", "client_secret": client_secret,
                     "max_lifetime_seconds": "600"},
        "secret_material_keys": ["client_secret"], "expires_at_ms": 0}))
    assert st["provider_name"] == pname and st["credential_key"] == "GITHUB_TOKEN"
    assert st["strategy"] == "oauth2_client_credentials" and st["status"] == "configured"
    last = sim.ctl("GET", "/calls")["last"]["ConfigureProviderRefresh"]
    assert last["material"]["client_secret"] == client_secret, last
    assert last["secret_material_keys"] == ["client_secret"] and last["strategy"] in (
        4, "PROVIDER_CREDENTIAL_REFRESH_STRATEGY_OAUTH2_CLIENT_CREDENTIALS"), last
    listed = json_ok(rec.get(url + "?credential_key=GITHUB_TOKEN"))["credentials"]
    assert [s["credential_key"] for s in listed] == ["GITHUB_TOKEN"]
    rot = json_ok(rec.post(f"{url}/GITHUB_TOKEN/rotate"))
    assert rot["status"] == "refreshed" and rot["expires_at_ms"] > 0
    minted = sim_provider(sim, pname)["credentials"]["GITHUB_TOKEN"]
    assert minted.startswith("sim-")
    assert json_ok(rec.delete(f"{url}/GITHUB_TOKEN")) == {"deleted": True}
    assert json_ok(rec.delete(f"{url}/GITHUB_TOKEN")) == {"deleted": False}
    assert_problem(rec.post(f"{url}/GITHUB_TOKEN/rotate"), 404, "NOT_FOUND")
    actions = [r["action"] for r in audit_rows(db, resource_id=pname)]
    assert actions == ["provider.create", "provider.refresh.configure",
                       "provider.refresh.rotate", "provider.refresh.delete"], actions
    for value in (client_secret, minted):
        assert_nowhere(value, rec.bodies, db)


def test_refresh_bad_input(api, gw, rejected, unique_name):
    sim, name = gw()
    url = f"{base(name)}/p/refresh"
    rejected(lambda: api.put_json(f"{url}/GITHUB_TOKEN", {"strategy": "magic"}), 422)
    rejected(lambda: api.put_json(f"{url}/GITHUB_TOKEN", {}), 422)
    rejected(lambda: api.put_json(f"{url}/GITHUB_TOKEN", {"strategy": "static",
                                                           "expires_at_ms": -1}), 422)
    rejected(lambda: api.put_json(f"{url}/GITHUB_TOKEN", {"strategy": "static",
                                                           "secret_material_keys": "x"}), 422)
    rejected(lambda: api.put_json(f"{url}/BAD-KEY", {"strategy": "static"}), 400)
    rejected(lambda: api.post(f"{url}/1BAD/rotate"), 400)
    rejected(lambda: api.get(f"{url}?credential_key=a%20b"), 422)
    assert "ConfigureProviderRefresh" not in sim.ctl("GET", "/calls")["counts"]
