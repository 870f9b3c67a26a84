"""Sandbox policy routes through nginx against simulated gateways over real mTLS: read, full
replacement, revisions, diff, single-rule edits (merge operations for network rules and
presets, optimistic read-modify-write for filesystem/process), host validation before anything
is sent, roles, audit rows and webhook events, concurrent edits, both wire layouts."""

import concurrent.futures
import json
import time

import pytest

from bwtest import audit_rows, json_ok, quote_name
from policy_helpers import (LocalSim, base, delete_sandbox, get_policy, outbox, problem,
                            ready_sandbox, rule, sim_policy, sim_state, unchanged)
from sim_harness import P
from test_grpc_gateway import certs, register, sims  # noqa: F401 (fixtures)


@pytest.fixture
def box(unique_name):
    """(sim, gateway, sandbox): a READY sandbox at the stack's local-sim."""
    sim = LocalSim()
    name = unique_name("pol")
    ready_sandbox(sim, name)
    yield sim, sim.name, name
    delete_sandbox(sim, name)


def rules_at(sim, name):
    return set(sim_policy(sim, name).policy.network_policies.keys())


def test_get_and_effective(api, box):
    sim, gw, name = box
    env = get_policy(api, gw, name)
    assert env["active_version"] >= 1
    rev = sim_policy(sim, name)
    assert env["revision"]["version"] == rev.version
    assert env["revision"]["policy_hash"] == rev.policy_hash
    assert set(env["revision"]) == {"version", "status", "policy_hash", "created_at_ms", "loaded_at_ms"}
    pol = env["policy"]
    assert pol["filesystem"]["include_workdir"] is True and "/usr" in pol["filesystem"]["read_only"]
    assert pol["process"] == {"run_as_user": "sandbox", "run_as_group": "sandbox"}
    assert pol["landlock"] == {"compatibility": "best_effort"}
    ep = pol["network_policies"]["pypi"]["endpoints"][0]
    assert ep["host"] == "pypi.org" and ep["port"] == 443 and ep["access"] == "read-only"
    eff = json_ok(api.get(base(gw, name) + "/effective"))
    assert eff["source"] == "gateway_runtime" and eff["policy"] == pol


def test_read_errors(api, box, unique_name):
    sim, gw, name = box
    problem(404)(api.get(base(gw, unique_name("nobox"))))
    problem(503, "not connected")(api.get(base(unique_name("nogw"), name)))
    problem(400, "Invalid sandbox name")(api.get(f"/api/gateways/{gw}/sandboxes/-bad/policy"))
    problem(400, "Invalid gateway name")(api.get(f"/api/gateways/-bad/sandboxes/{name}/policy"))


def test_replace_full_policy(api, db, box):
    sim, gw, name = box
    pol = get_policy(api, gw, name)["policy"]
    pol["network_policies"]["gh"] = rule("api.github.com", name="gh")
    env = json_ok(api.put_json(base(gw, name), pol))
    assert "gh" in env["policy"]["network_policies"]
    assert "gh" in rules_at(sim, name)
    assert env["revision"]["policy_hash"] == sim_policy(sim, name).policy_hash
    assert len(audit_rows(db, "policy.update", name)) == 1
    ev = outbox(db, "policy.updated", name)
    assert len(ev) == 1 and ev[0]["gateway_name"] == gw


def test_replace_refusals_change_nothing(api, db, box):
    sim, gw, name = box
    pol = get_policy(api, gw, name)["policy"]
    url = base(gw, name)
    tld = dict(pol, network_policies={"x": rule("*.com")})
    unchanged(api, db, sim, name, lambda: api.put_json(url, tld),
              problem(400, "host pattern '*.com' wildcards at the TLD level"))
    unchanged(api, db, sim, name, lambda: api.put_json(url, dict(pol, bogus=1)),
              problem(400, "unknown field 'bogus'"))
    unchanged(api, db, sim, name, lambda: api.put_json(url, [1, 2]), problem(422))
    unchanged(api, db, sim, name, lambda: api.put_json(url, dict(pol, version="1")),
              problem(400, "'version' must be an integer"))
    bad_ep = dict(pol, network_policies={"x": {"endpoints": [{"host": "a.example.com", "port": 1 << 40}]}})
    unchanged(api, db, sim, name, lambda: api.put_json(url, bad_ep), problem(400, "out of range"))
    # The gateway's own refusal (process is fixed on a live sandbox) passes its reason on.
    root = dict(pol, process={"run_as_user": "root", "run_as_group": "root"})
    unchanged(api, db, sim, name, lambda: api.put_json(url, root),
              problem(400, "INVALID_ARGUMENT"))


def test_revisions_and_diff(api, box):
    sim, gw, name = box
    url = base(gw, name)
    json_ok(api.post_json(url + "/network-rules", {"key": "a", "rule": rule("a.example.com")}))
    json_ok(api.post_json(url + "/network-rules", {"key": "b", "rule": rule("b.example.com")}))
    revs = json_ok(api.get(url + "/revisions"))
    assert [r["version"] for r in revs] == [3, 2, 1]
    assert set(revs[0]) == {"version", "status", "policy_hash", "created_at_ms", "loaded_at_ms",
                            "load_error"}
    page = json_ok(api.get(url + "/revisions?limit=1&offset=1"))
    assert [r["version"] for r in page] == [2]
    for q in ("limit=0", "limit=1001", "limit=x", "offset=-1"):
        problem(422)(api.get(url + "/revisions?" + q))
    d = json_ok(api.get(url + "/diff?version_a=1&version_b=3"))
    assert d["diff"]["network_policies"] == {"added": ["a", "b"], "removed": [], "changed": []}
    assert d["revision_a"]["version"] == 1 and d["revision_b"]["version"] == 3
    assert "a" in d["policy_b"]["network_policies"] and "a" not in d["policy_a"]["network_policies"]
    problem(422)(api.get(url + "/diff?version_a=1"))
    problem(422)(api.get(url + "/diff?version_a=0&version_b=1"))
    problem(404)(api.get(url + "/diff?version_a=1&version_b=99"))


def test_network_rule_add_replace_delete(api, db, box):
    sim, gw, name = box
    url = base(gw, name) + "/network-rules"
    env = json_ok(api.post_json(url, {"key": "gh", "rule": rule("api.github.com")}))
    assert env["policy"]["network_policies"]["gh"]["endpoints"][0]["host"] == "api.github.com"
    json_ok(api.post_json(url, {"key": "gh", "rule": rule("uploads.github.com", port=8443)}))
    hosts = [e.host for e in sim_policy(sim, name).policy.network_policies["gh"].endpoints]
    assert hosts == ["uploads.github.com"], "a replaced rule keeps only the new endpoints"
    assert "pypi" in rules_at(sim, name), "other rules are untouched"
    env = json_ok(api.delete(url + "/gh"))
    assert "gh" not in env["policy"]["network_policies"] and "gh" not in rules_at(sim, name)
    json_ok(api.delete(url + "/never-there"))
    assert [json.loads(r["detail"]) for r in audit_rows(db, "policy.network_rule.add", name)] == [
        {"key": "gh"}, {"key": "gh"}]
    assert len(audit_rows(db, "policy.network_rule.delete", name)) == 2
    last = sim.ctl("GET", "/calls")["last"]["UpdateConfig"]
    assert last["merge_operations"] == [{"remove_rule": {"rule_name": "never-there"}}]


def test_network_rule_refusals(api, db, box):
    sim, gw, name = box
    url = base(gw, name) + "/network-rules"
    cases = [
        ({"key": "x", "rule": rule("*.com")}, problem(400, "network rule 'x': host pattern '*.com'")),
        ({"key": "x", "rule": rule("**.io")}, problem(400, "TLD level")),
        ({"key": "x", "rule": rule("*")}, problem(400, "matches every host")),
        ({"key": "x", "rule": rule("bad host.example.com")}, problem(400, "contains the character")),
        ({"key": "x", "rule": {"endpoints": [{"host": "a.example.com", "evil": 1}]}},
         problem(400, "unknown field 'rule.endpoints[0].evil'")),
        ({"key": "k" * 254, "rule": rule("a.example.com")}, problem(422)),
        ({"key": "a\u0001b", "rule": rule("a.example.com")}, problem(422)),
        ({"key": "x"}, problem(422)),
        ({"key": "x", "rule": "nope"}, problem(422)),
        ({"rule": rule("a.example.com")}, problem(422)),
    ]
    for body, expect in cases:
        unchanged(api, db, sim, name, lambda: api.post_json(url, body), expect)
    # An endpoint-less rule is the gateway's refusal.
    unchanged(api, db, sim, name, lambda: api.post_json(url, {"key": "x", "rule": {"endpoints": []}}),
              problem(400, "at least one endpoint"))


def test_filesystem_edits(api, db, box):
    sim, gw, name = box
    url = base(gw, name) + "/filesystem"
    env = json_ok(api.post_json(url, {"path": "/data", "access": "rw"}))
    assert "/data" in env["policy"]["filesystem"]["read_write"]
    fs = sim_policy(sim, name).policy.filesystem
    assert "/data" in fs.read_write and "/data" not in fs.read_only
    json_ok(api.post_json(url, {"path": "/opt/tools", "access": "ro"}))
    assert "/opt/tools" in sim_policy(sim, name).policy.filesystem.read_only
    env = json_ok(api.delete(url + "?path=/data"))
    assert "/data" not in env["policy"]["filesystem"]["read_write"]
    assert "pypi" in rules_at(sim, name), "the network rules survive a filesystem edit"
    assert [len(audit_rows(db, a, name)) for a in ("policy.filesystem.add", "policy.filesystem.delete")] == [2, 1]
    for body, expect in [({"path": "data", "access": "rw"}, problem(400, "absolute")),
                         ({"path": "/a/../etc", "access": "rw"}, problem(400, "'..'")),
                         ({"path": "/a", "access": "rx"}, problem(422)),
                         ({"path": "", "access": "ro"}, problem(422)),
                         ({"access": "ro"}, problem(422))]:
        unchanged(api, db, sim, name, lambda: api.post_json(url, body), expect)
    unchanged(api, db, sim, name, lambda: api.delete(url), problem(422))
    unchanged(api, db, sim, name, lambda: api.delete(url + "?path=rel"), problem(400, "absolute"))
    # The sandbox was created with /usr read-only: the gateway refuses to drop it live.
    unchanged(api, db, sim, name, lambda: api.delete(url + "?path=/usr"),
              problem(400, "cannot be removed on a live sandbox"))


def test_process_and_landlock(api, db, box):
    sim, gw, name = box
    url = base(gw, name) + "/process"
    env = json_ok(api.put_json(url, {"run_as_user": "sandbox", "run_as_group": None,
                                     "landlock_compatibility": "best_effort"}))
    assert env["policy"]["process"]["run_as_user"] == "sandbox"
    assert len(audit_rows(db, "policy.process.update", name)) == 1
    unchanged(api, db, sim, name, lambda: api.put_json(url, {"landlock_compatibility": "maybe"}),
              problem(400, "landlock_compatibility"))
    unchanged(api, db, sim, name, lambda: api.put_json(url, {"run_as_user": 5}), problem(422))
    unchanged(api, db, sim, name, lambda: api.put_json(url, {"run_as_user": "root"}),
              problem(400, "process policy cannot be changed"))


def test_preset_apply(api, db, box):
    sim, gw, name = box
    env = json_ok(api.post(base(gw, name) + "/presets/npm"))
    assert "npm" in env["policy"]["network_policies"] or len(rules_at(sim, name)) > 1
    assert len(audit_rows(db, "policy.preset.apply", name)) == 1
    unchanged(api, db, sim, name, lambda: api.post(base(gw, name) + "/presets/no-such"),
              problem(404, "Preset 'no-such' not found"))
    unchanged(api, db, sim, name, lambda: api.post(base(gw, name) + "/presets/..%2Fetc"),
              lambda r: r.status_code in (400, 404))


def test_concurrent_edits_all_survive(api, box):
    """Network rules go out as merge operations and filesystem edits as a verified optimistic
    read-modify-write: two operators editing at once never lose each other's change."""
    sim, gw, name = box
    url = base(gw, name)

    def rules(prefix):
        client = api.clone()
        for i in range(6):
            json_ok(client.post_json(url + "/network-rules",
                                     {"key": f"{prefix}{i}", "rule": rule(f"{prefix}{i}.example.com")}))

    def paths():
        client = api.clone()
        for i in range(6):
            json_ok(client.post_json(url + "/filesystem", {"path": f"/fs{i}", "access": "ro"}))

    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        for f in [pool.submit(rules, "a"), pool.submit(rules, "b"), pool.submit(paths)]:
            f.result()
    pol = sim_policy(sim, name).policy
    for p in ("a", "b"):
        for i in range(6):
            assert f"{p}{i}" in pol.network_policies, f"rule {p}{i} was lost"
    for i in range(6):
        assert f"/fs{i}" in pol.filesystem.read_only, f"path /fs{i} was lost"


def test_roles(api, box, make_sp):
    sim, gw, name = box
    viewer = api.clone()
    viewer.session.headers["Authorization"] = "Bearer " + make_sp("viewer")["key"]
    json_ok(viewer.get(base(gw, name)))
    json_ok(viewer.get(base(gw, name) + "/export"))
    before = sim_state(sim, name)
    for send in (lambda: viewer.put_json(base(gw, name), {}),
                 lambda: viewer.post_json(base(gw, name) + "/network-rules",
                                          {"key": "x", "rule": rule("a.example.com")}),
                 lambda: viewer.post(base(gw, name) + "/presets/npm"),
                 lambda: viewer.post_json(base(gw, name) + "/pin", {})):
        problem(403, "operator")(send())
    assert sim_state(sim, name) == before
    operator = api.clone()
    operator.session.headers["Authorization"] = "Bearer " + make_sp("operator")["key"]
    json_ok(operator.post_json(base(gw, name) + "/network-rules",
                               {"key": "op", "rule": rule("op.example.com")}))
    problem(401)(api.clone().get(base(gw, name), headers={"Authorization": "Bearer nope"}))


@pytest.mark.parametrize("version", ["0.0.50", "0.0.111"])
def test_both_wire_layouts(api, sims, register, version):
    """Phase and policy version sit in different fields before and after v0.0.53; the policy
    RPCs read the same either way."""
    sim = sims(version=version, extra=["--ready-delay", "0.05"])
    gw = register(sim.port)
    ready_sandbox(sim, "box")
    env = get_policy(api, gw, "box")
    assert env["revision"]["version"] == 1 and "pypi" in env["policy"]["network_policies"]
    json_ok(api.post_json(base(gw, "box") + "/network-rules",
                          {"key": "gh", "rule": rule("api.github.com")}))
    json_ok(api.post_json(base(gw, "box") + "/filesystem", {"path": "/w", "access": "rw"}))
    pol = sim_policy(sim, "box").policy
    assert "gh" in pol.network_policies and "/w" in pol.filesystem.read_write
    assert "gateway: " + gw in json_ok(api.get(base(gw, "box") + "/export"))["yaml"]


def test_gateway_failures_map(api, sims, register):
    sim = sims(extra=["--ready-delay", "0.05"])
    gw = register(sim.port)
    ready_sandbox(sim, "box")
    sim.ctl("POST", "/fail", {"rpc": "UpdateConfig", "code": "PERMISSION_DENIED", "count": 1})
    problem(403, "Permission denied by the gateway")(
        api.post_json(base(gw, "box") + "/network-rules", {"key": "x", "rule": rule("a.example.com")}))
    sim.ctl("POST", "/fail", {"rpc": "GetSandboxPolicyStatus", "code": "UNAVAILABLE", "count": 0})
    problem(503)(api.get(base(gw, "box")))
    sim.ctl("POST", "/clear")
    json_ok(api.post(f"/api/gateway/{quote_name(gw)}/test-connection"))  # ends the backoff
    json_ok(api.get(base(gw, "box")))


def test_filesystem_edits_survive_a_writer_outside_breakwater(api, box):
    """Rules merged straight at the gateway (another control plane, a draft approval) while
    Breakwater rewrites the whole policy for filesystem edits: the optimistic check finds the
    revision its write replaced and replays what it would have lost."""
    sim, gw, name = box
    url = base(gw, name)
    stub = sim.stubs()[0]

    def outside():
        for i in range(12):
            op = P.os.PolicyMergeOperation(add_rule=P.os.AddNetworkRule(
                rule_name=f"ext{i}", rule=P.sb.NetworkPolicyRule(
                    name=f"ext{i}", endpoints=[P.sb.NetworkEndpoint(host=f"e{i}.example.com", port=443)])))
            stub.UpdateConfig(P.os.UpdateConfigRequest(name=name, merge_operations=[op]), timeout=5)

    def paths():
        client = api.clone()
        for i in range(8):
            json_ok(client.post_json(url + "/filesystem", {"path": f"/o{i}", "access": "ro"}))

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        for f in [pool.submit(outside), pool.submit(paths)]:
            f.result()
    pol = sim_policy(sim, name).policy
    assert all(f"ext{i}" in pol.network_policies for i in range(12)), sorted(pol.network_policies)
    assert all(f"/o{i}" in pol.filesystem.read_only for i in range(8))


def ext_rule_op(key):
    return P.os.PolicyMergeOperation(add_rule=P.os.AddNetworkRule(
        rule_name=key, rule=P.sb.NetworkPolicyRule(
            name=key, endpoints=[P.sb.NetworkEndpoint(host=f"{key}.example.com", port=443)])))


def test_a_write_that_slips_in_before_ours_is_replayed(api, box):
    """Deterministic race: Breakwater's full-policy write of a filesystem edit is held at the
    gateway while another writer merges a rule; the write then replaces that revision, and the
    check after it (the revision replaced must be the one edited) replays the lost rule."""
    sim, gw, name = box
    stub = sim.stubs()[0]
    sim.ctl("POST", "/delay", {"rpc": "UpdateConfig", "seconds": 1.0, "count": 1})
    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            edit = pool.submit(lambda: api.clone().post_json(base(gw, name) + "/filesystem",
                                                             {"path": "/race", "access": "ro"}))
            time.sleep(0.4)  # Breakwater's UpdateConfig is now waiting at the gateway
            stub.UpdateConfig(P.os.UpdateConfigRequest(name=name, merge_operations=[ext_rule_op("slipped")]),
                              timeout=5)
            json_ok(edit.result())
    finally:
        sim.ctl("POST", "/clear")
    pol = sim_policy(sim, name).policy
    assert "/race" in pol.filesystem.read_only
    assert "slipped" in pol.network_policies, "the rule merged in between was lost"
