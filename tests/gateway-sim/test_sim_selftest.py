"""Self-test of the simulated OpenShell gateway (tests/gateway-sim).

Starts gateway_sim.py as a subprocess (mTLS with certificates from certs.sh,
and a few other configurations) and talks to it with a Python gRPC client
built from the same generated stubs.

    /usr/bin/python3 -m pytest -q tests/gateway-sim
"""

import os
import sys
import time

import grpc
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sim_harness import P, SimProcess, make_certs  # noqa: E402

READY = 2
PROVISIONING = 1


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    return make_certs(str(tmp_path_factory.mktemp("certs")))


@pytest.fixture(scope="module")
def sim(certs, tmp_path_factory):
    s = SimProcess(str(tmp_path_factory.mktemp("sim50")), certs, "mtls", "0.0.50")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def sim111(certs, tmp_path_factory):
    s = SimProcess(str(tmp_path_factory.mktemp("sim111")), certs, "mtls", "0.0.111")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def stub(sim):
    return sim.stubs()[0]


def phase_of(sandbox):
    return sandbox.status.phase or sandbox.phase


def create_ready(stub, name="", **spec_kw):
    resp = stub.CreateSandbox(P.os.CreateSandboxRequest(name=name, spec=P.os.SandboxSpec(**spec_kw)), timeout=5)
    name = resp.sandbox.metadata.name
    deadline = time.time() + 10
    while True:
        sb = stub.GetSandbox(P.os.GetSandboxRequest(name=name), timeout=5).sandbox
        if phase_of(sb) == READY:
            return sb
        assert time.time() < deadline, "sandbox never became ready"
        time.sleep(0.05)


def run_exec(stub, sid, command, **kw):
    out, err_, code = b"", b"", None
    for ev in stub.ExecSandbox(P.os.ExecSandboxRequest(sandbox_id=sid, command=command, **kw), timeout=15):
        kind = ev.WhichOneof("payload")
        if kind == "stdout":
            out += ev.stdout.data
        elif kind == "stderr":
            err_ += ev.stderr.data
        else:
            code = ev.exit.exit_code
    return out.decode(), err_.decode(), code


def code_of(fn, *a, **kw):
    with pytest.raises(grpc.RpcError) as ei:
        r = fn(*a, **kw)
        if hasattr(r, "__iter__") and not hasattr(r, "DESCRIPTOR"):
            list(r)
    return ei.value.code()


def status_or_ok(fn, *a, **kw):
    try:
        fn(*a, **kw)
        return grpc.StatusCode.OK
    except grpc.RpcError as e:
        return e.code()


def wait_for(fn, timeout=5.0):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        assert time.time() < deadline, "condition not reached"
        time.sleep(0.05)


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------

def test_health(stub):
    h = stub.Health(P.os.HealthRequest(), timeout=5)
    assert h.status == P.os.SERVICE_STATUS_HEALTHY
    assert h.version == "0.0.50"


def test_create_poll_ready_and_exec(sim, stub):
    resp = stub.CreateSandbox(P.os.CreateSandboxRequest(spec=P.os.SandboxSpec()), timeout=5)
    sb = resp.sandbox
    assert sb.metadata.name and sb.metadata.id          # name generated
    assert sb.phase == PROVISIONING and sb.status.phase == 0   # v0.0.50 layout
    ready = create_ready(stub, "exec-box")
    sid = ready.metadata.id
    assert ready.current_policy_version == 1

    assert run_exec(stub, sid, ["echo", "hello", "world"]) == ("hello world\n", "", 0)
    assert run_exec(stub, sid, ["sh", "-c", "echo x >&2; exit 3"]) == ("", "x\n", 3)
    assert run_exec(stub, sid, ["true"])[2] == 0
    assert run_exec(stub, sid, ["false"])[2] == 1
    assert run_exec(stub, sid, ["sh", "-c", "exit 42"])[2] == 42
    out, _, code = run_exec(stub, sid, ["sh", "-c", "echo $GREETING"], environment={"GREETING": "hi"})
    assert (out, code) == ("hi\n", 0)
    assert run_exec(stub, sid, ["cat"], stdin=b"data") == ("data", "", 0)
    t0 = time.time()
    assert run_exec(stub, sid, ["sleep", "10"], timeout_seconds=1)[2] == 124   # timeout -> exit 124
    assert time.time() - t0 < 5
    _, err_, code = run_exec(stub, sid, ["definitely-not-a-command"])
    assert code == 127 and "not found" in err_

    # exec needs the sandbox id, a command, a ready sandbox
    assert code_of(stub.ExecSandbox, P.os.ExecSandboxRequest(sandbox_id=sid), timeout=5) == \
        grpc.StatusCode.INVALID_ARGUMENT
    assert code_of(stub.ExecSandbox, P.os.ExecSandboxRequest(sandbox_id="nope", command=["true"]), timeout=5) == \
        grpc.StatusCode.NOT_FOUND
    assert code_of(stub.ExecSandbox, P.os.ExecSandboxRequest(sandbox_id=sid, command=["a\nb"]), timeout=5) == \
        grpc.StatusCode.INVALID_ARGUMENT
    prov = stub.CreateSandbox(P.os.CreateSandboxRequest(
        spec=P.os.SandboxSpec(environment={"GATEWAY_SIM_READY_DELAY": "30"})), timeout=5).sandbox
    assert code_of(stub.ExecSandbox, P.os.ExecSandboxRequest(sandbox_id=prov.metadata.id, command=["true"]),
                   timeout=5) == grpc.StatusCode.FAILED_PRECONDITION


def test_sandbox_errors_and_list(stub):
    create_ready(stub, "dup-box")
    assert code_of(stub.CreateSandbox, P.os.CreateSandboxRequest(name="dup-box", spec=P.os.SandboxSpec()),
                   timeout=5) == grpc.StatusCode.ALREADY_EXISTS
    assert code_of(stub.CreateSandbox, P.os.CreateSandboxRequest(name="x"), timeout=5) == \
        grpc.StatusCode.INVALID_ARGUMENT
    assert code_of(stub.CreateSandbox, P.os.CreateSandboxRequest(name="y", spec=P.os.SandboxSpec(providers=["nope"])),
                   timeout=5) == grpc.StatusCode.FAILED_PRECONDITION
    assert code_of(stub.CreateSandbox, P.os.CreateSandboxRequest(name="z", spec=P.os.SandboxSpec(),
                                                                 labels={"bad key!": "v"}), timeout=5) == \
        grpc.StatusCode.INVALID_ARGUMENT
    assert code_of(stub.GetSandbox, P.os.GetSandboxRequest(name="missing"), timeout=5) == grpc.StatusCode.NOT_FOUND
    assert code_of(stub.GetSandbox, P.os.GetSandboxRequest(), timeout=5) == grpc.StatusCode.INVALID_ARGUMENT
    names = [s.metadata.name for s in stub.ListSandboxes(P.os.ListSandboxesRequest(), timeout=5).sandboxes]
    assert "dup-box" in names
    page = stub.ListSandboxes(P.os.ListSandboxesRequest(limit=1, offset=1), timeout=5).sandboxes
    assert len(page) == 1 and page[0].metadata.name == names[1]
    assert stub.DeleteSandbox(P.os.DeleteSandboxRequest(name="dup-box"), timeout=5).deleted
    wait_for(lambda: status_or_ok(stub.GetSandbox, P.os.GetSandboxRequest(name="dup-box"), timeout=5)
             == grpc.StatusCode.NOT_FOUND)
    assert code_of(stub.DeleteSandbox, P.os.DeleteSandboxRequest(name="dup-box"), timeout=5) == \
        grpc.StatusCode.NOT_FOUND


def test_update_config_setting_round_trip(stub):
    before = stub.GetGatewayConfig(P.sb.GetGatewayConfigRequest(), timeout=5)
    assert "ocsf_json_enabled" in before.settings
    assert before.settings["ocsf_json_enabled"].WhichOneof("value") is None     # registered, unset
    req = P.os.UpdateConfigRequest(setting_key="ocsf_json_enabled", setting_value=P.sb.SettingValue(bool_value=True))
    setattr(req, "global", True)
    resp = stub.UpdateConfig(req, timeout=5)
    assert resp.settings_revision == before.settings_revision + 1
    after = stub.GetGatewayConfig(P.sb.GetGatewayConfigRequest(), timeout=5)
    assert after.settings["ocsf_json_enabled"].bool_value is True
    assert after.settings_revision == resp.settings_revision
    # the same value again changes nothing
    assert stub.UpdateConfig(req, timeout=5).settings_revision == resp.settings_revision
    # wrong type / unknown key
    bad = P.os.UpdateConfigRequest(setting_key="ocsf_json_enabled", setting_value=P.sb.SettingValue(int_value=1))
    setattr(bad, "global", True)
    assert code_of(stub.UpdateConfig, bad, timeout=5) == grpc.StatusCode.INVALID_ARGUMENT
    unknown = P.os.UpdateConfigRequest(setting_key="no_such_key", setting_value=P.sb.SettingValue(bool_value=True))
    setattr(unknown, "global", True)
    assert code_of(stub.UpdateConfig, unknown, timeout=5) == grpc.StatusCode.INVALID_ARGUMENT
    # a sandbox cannot override a globally managed key
    sb = create_ready(stub, "settings-box")
    local = P.os.UpdateConfigRequest(name=sb.metadata.name, setting_key="ocsf_json_enabled",
                                     setting_value=P.sb.SettingValue(bool_value=False))
    assert code_of(stub.UpdateConfig, local, timeout=5) == grpc.StatusCode.FAILED_PRECONDITION
    cfg = stub.GetSandboxConfig(P.sb.GetSandboxConfigRequest(sandbox_id=sb.metadata.id), timeout=5)
    assert cfg.settings["ocsf_json_enabled"].scope == P.sb.SETTING_SCOPE_GLOBAL
    delete = P.os.UpdateConfigRequest(setting_key="ocsf_json_enabled", delete_setting=True)
    setattr(delete, "global", True)
    d = stub.UpdateConfig(delete, timeout=5)
    assert d.deleted and d.settings_revision == resp.settings_revision + 1
    assert stub.UpdateConfig(local, timeout=5).settings_revision == 1
    # exactly one mutation
    assert code_of(stub.UpdateConfig, P.os.UpdateConfigRequest(name=sb.metadata.name), timeout=5) == \
        grpc.StatusCode.INVALID_ARGUMENT


def test_policy_update_creates_revision(stub):
    sb = create_ready(stub, "policy-box")
    name = sb.metadata.name
    st = stub.GetSandboxPolicyStatus(P.os.GetSandboxPolicyStatusRequest(name=name), timeout=5)
    assert st.revision.version == 1 and st.revision.status == P.os.POLICY_STATUS_LOADED
    rule = P.sb.NetworkPolicyRule(name="example")
    rule.endpoints.add(host="api.example.com", port=443, protocol="rest", access="read-only")
    rule.binaries.add(path="/usr/bin/curl")
    op = P.os.PolicyMergeOperation(add_rule=P.os.AddNetworkRule(rule_name="example", rule=rule))
    resp = stub.UpdateConfig(P.os.UpdateConfigRequest(name=name, merge_operations=[op]), timeout=5)
    assert resp.version == 2 and len(resp.policy_hash) == 64
    st = stub.GetSandboxPolicyStatus(P.os.GetSandboxPolicyStatusRequest(name=name), timeout=5)
    assert st.revision.version == 2 and "example" in st.revision.policy.network_policies
    assert st.revision.status == P.os.POLICY_STATUS_PENDING and st.active_version == 1
    wait_for(lambda: stub.GetSandboxPolicyStatus(P.os.GetSandboxPolicyStatusRequest(name=name), timeout=5)
             .revision.status == P.os.POLICY_STATUS_LOADED)
    assert stub.GetSandbox(P.os.GetSandboxRequest(name=name), timeout=5).sandbox.current_policy_version == 2
    revs = stub.ListSandboxPolicies(P.os.ListSandboxPoliciesRequest(name=name), timeout=5).revisions
    assert [r.version for r in revs] == [2, 1]
    assert revs[1].status == P.os.POLICY_STATUS_SUPERSEDED and not revs[0].HasField("policy")
    # the same merge again is a no-op (same hash, same version)
    assert stub.UpdateConfig(P.os.UpdateConfigRequest(name=name, merge_operations=[op]), timeout=5).version == 2
    # add_allow_rules on the L7 endpoint; add_deny_rules on an unknown endpoint fails
    allow = P.os.PolicyMergeOperation(add_allow_rules=P.os.AddAllowRules(
        host="api.example.com", port=443, rules=[P.sb.L7Rule(allow=P.sb.L7Allow(method="POST", path="/v1/**"))]))
    assert stub.UpdateConfig(P.os.UpdateConfigRequest(name=name, merge_operations=[allow]), timeout=5).version == 3
    deny = P.os.PolicyMergeOperation(add_deny_rules=P.os.AddDenyRules(
        host="nowhere.example", port=443, deny_rules=[P.sb.L7DenyRule(method="DELETE", path="/**")]))
    assert code_of(stub.UpdateConfig, P.os.UpdateConfigRequest(name=name, merge_operations=[deny]), timeout=5) == \
        grpc.StatusCode.FAILED_PRECONDITION
    # full policy replacement may not touch static sections
    cur = stub.GetSandboxPolicyStatus(P.os.GetSandboxPolicyStatusRequest(name=name), timeout=5).revision.policy
    cur.process.run_as_user = "root"
    assert code_of(stub.UpdateConfig, P.os.UpdateConfigRequest(name=name, policy=cur), timeout=5) == \
        grpc.StatusCode.INVALID_ARGUMENT
    # TLD wildcard is unsafe
    tld = P.sb.NetworkPolicyRule(name="tld")
    tld.endpoints.add(host="*.com", port=443)
    bad = P.os.PolicyMergeOperation(add_rule=P.os.AddNetworkRule(rule_name="tld", rule=tld))
    assert code_of(stub.UpdateConfig, P.os.UpdateConfigRequest(name=name, merge_operations=[bad]), timeout=5) == \
        grpc.StatusCode.INVALID_ARGUMENT
    assert code_of(stub.GetSandboxPolicyStatus, P.os.GetSandboxPolicyStatusRequest(name=name, version=99),
                   timeout=5) == grpc.StatusCode.NOT_FOUND


def test_draft_chunk_approval(stub):
    sb = create_ready(stub, "draft-box")
    name = sb.metadata.name
    draft = stub.GetDraftPolicy(P.os.GetDraftPolicyRequest(name=name, status_filter="pending"), timeout=5)
    assert len(draft.chunks) == 3
    flagged = [c for c in draft.chunks if c.security_notes]
    clean = [c for c in draft.chunks if not c.security_notes]
    assert len(flagged) == 1 and all(0 < c.confidence <= 1 and c.rationale for c in draft.chunks)
    chunk = clean[0]
    resp = stub.ApproveDraftChunk(P.os.ApproveDraftChunkRequest(name=name, chunk_id=chunk.id), timeout=5)
    assert resp.policy_version == 2
    policy = stub.GetSandboxPolicyStatus(P.os.GetSandboxPolicyStatusRequest(name=name), timeout=5).revision.policy
    assert chunk.rule_name in policy.network_policies
    assert code_of(stub.ApproveDraftChunk, P.os.ApproveDraftChunkRequest(name=name, chunk_id=chunk.id),
                   timeout=5) == grpc.StatusCode.FAILED_PRECONDITION
    assert code_of(stub.ApproveDraftChunk, P.os.ApproveDraftChunkRequest(name=name, chunk_id="nope"),
                   timeout=5) == grpc.StatusCode.NOT_FOUND
    # approve-all skips the security-flagged chunk by default
    allr = stub.ApproveAllDraftChunks(P.os.ApproveAllDraftChunksRequest(name=name), timeout=5)
    assert (allr.chunks_approved, allr.chunks_skipped, allr.policy_version) == (1, 1, 3)
    # undo, reject with a reason, history
    undo = stub.UndoDraftChunk(P.os.UndoDraftChunkRequest(name=name, chunk_id=chunk.id), timeout=5)
    assert undo.policy_version == 4
    stub.RejectDraftChunk(P.os.RejectDraftChunkRequest(name=name, chunk_id=flagged[0].id, reason="internal"),
                          timeout=5)
    rejected = stub.GetDraftPolicy(P.os.GetDraftPolicyRequest(name=name, status_filter="rejected"), timeout=5)
    assert [c.rejection_reason for c in rejected.chunks] == ["internal"]
    kinds = [e.event_type for e in stub.GetDraftHistory(P.os.GetDraftHistoryRequest(name=name), timeout=5).entries]
    assert {"proposed", "approved", "undone", "rejected"} <= set(kinds)
    assert stub.ClearDraftChunks(P.os.ClearDraftChunksRequest(name=name), timeout=5).chunks_cleared == 1


def test_wire_layouts(sim, sim111):
    """0.0.50 answers phase in Sandbox fields 4/5, 0.0.111 in SandboxStatus 6/7."""
    s50 = sim.stubs()[0]
    s111 = sim111.stubs()[0]
    assert s111.Health(P.os.HealthRequest(), timeout=5).version == "0.0.111"
    old = create_ready(s50, "layout-box")
    new = create_ready(s111, "layout-box")
    assert old.phase == READY and old.status.phase == 0
    assert old.current_policy_version == 1 and old.status.current_policy_version == 0
    assert new.phase == 0 and new.status.phase == READY
    assert new.current_policy_version == 0 and new.status.current_policy_version == 1
    # SandboxSpec field 9: varint below 0.0.69, ResourceRequirements from 0.0.69
    gpu_old = P.os.SandboxSpec()
    gpu_old.MergeFromString(bytes([0x48, 0x01]))
    r = s50.CreateSandbox(P.os.CreateSandboxRequest(name="gpu-box", spec=gpu_old), timeout=5).sandbox
    assert P.os.SandboxSpecField9V50.FromString(r.spec.SerializeToString()).gpu is True
    assert code_of(s111.CreateSandbox, P.os.CreateSandboxRequest(name="gpu-box", spec=gpu_old), timeout=5) == \
        grpc.StatusCode.INTERNAL
    gpu_new = P.os.SandboxSpec()
    view = P.os.SandboxSpecField9V69()
    view.resource_requirements.gpu.count = 2
    gpu_new.MergeFromString(view.SerializeToString())
    r = s111.CreateSandbox(P.os.CreateSandboxRequest(name="gpu-box", spec=gpu_new), timeout=5).sandbox
    back = P.os.SandboxSpecField9V69.FromString(r.spec.SerializeToString())
    assert back.resource_requirements.gpu.count == 2
    assert code_of(s50.CreateSandbox, P.os.CreateSandboxRequest(name="gpu-box2", spec=gpu_new), timeout=5) == \
        grpc.StatusCode.INTERNAL
    assert sim.ctl("GET", "/state")["layout"] == "sandbox"
    assert sim111.ctl("GET", "/state")["layout"] == "status"


def test_inference_names_by_version(sim, sim111):
    for s, old_ok in ((sim, True), (sim111, False)):
        stub, inf = s.stubs()
        stub.CreateProvider(P.os.CreateProviderRequest(provider=P.dm.Provider(
            metadata=P.dm.ObjectMeta(name="nv"), type="nvidia", credentials={"NVIDIA_API_KEY": "secret-1"})),
            timeout=5)
        old = dict(provider_name="nv", model_id="meta/llama", no_verify=False)
        if old_ok:
            r = inf.SetClusterInference(P.inf.SetClusterInferenceRequest(**old), timeout=5)
            assert r.version == 1 and r.validation_performed
            assert inf.GetClusterInference(P.inf.GetClusterInferenceRequest(), timeout=5).model_id == "meta/llama"
            assert code_of(inf.GetInferenceRoute, P.inf.GetInferenceRouteRequest(), timeout=5) == \
                grpc.StatusCode.UNIMPLEMENTED
        else:
            assert code_of(inf.SetClusterInference, P.inf.SetClusterInferenceRequest(**old), timeout=5) == \
                grpc.StatusCode.UNIMPLEMENTED
            r = inf.SetInferenceRoute(P.inf.SetInferenceRouteRequest(**old), timeout=5)
            assert r.version == 1 and r.workspace == "default"
            assert inf.DeleteInferenceRoute(P.inf.DeleteInferenceRouteRequest(), timeout=5).deleted
            assert code_of(inf.GetInferenceRoute, P.inf.GetInferenceRouteRequest(), timeout=5) == \
                grpc.StatusCode.NOT_FOUND
        # the bundle is for sandbox principals only
        assert code_of(inf.GetInferenceBundle, P.inf.GetInferenceBundleRequest(), timeout=5) == \
            grpc.StatusCode.PERMISSION_DENIED


def test_providers_and_sandbox_token(sim, stub):
    p = stub.CreateProvider(P.os.CreateProviderRequest(provider=P.dm.Provider(
        metadata=P.dm.ObjectMeta(name="gh"), type="github", credentials={"GITHUB_TOKEN": "ghp_secret"},
        config={"org": "acme"})), timeout=5).provider
    assert p.credentials["GITHUB_TOKEN"] == "REDACTED" and p.metadata.resource_version == 1
    assert code_of(stub.CreateProvider, P.os.CreateProviderRequest(provider=P.dm.Provider(
        metadata=P.dm.ObjectMeta(name="gh"), type="github", credentials={"A": "b"})), timeout=5) == \
        grpc.StatusCode.ALREADY_EXISTS
    upd = stub.UpdateProvider(P.os.UpdateProviderRequest(provider=P.dm.Provider(
        metadata=P.dm.ObjectMeta(name="gh"), config={"org": "", "team": "core"})), timeout=5).provider
    assert dict(upd.config) == {"team": "core"} and upd.metadata.resource_version == 2
    sb = create_ready(stub, "token-box", providers=["gh"])
    att = stub.ListSandboxProviders(P.os.ListSandboxProvidersRequest(sandbox_name="token-box"), timeout=5)
    assert [x.metadata.name for x in att.providers] == ["gh"]
    assert code_of(stub.DeleteProvider, P.os.DeleteProviderRequest(name="gh"), timeout=5) == \
        grpc.StatusCode.FAILED_PRECONDITION
    # v0.0.50 lets users read the provider environment
    env = stub.GetSandboxProviderEnvironment(
        P.os.GetSandboxProviderEnvironmentRequest(sandbox_id=sb.metadata.id), timeout=5)
    assert env.environment["GITHUB_TOKEN"] == "ghp_secret"
    # sandbox principal via the token minted at create (exposed by /state)
    token = next(s["sandbox_token"] for s in sim.ctl("GET", "/state")["sandboxes"] if s["name"] == "token-box")
    md = (("authorization", "Bearer " + token),)
    cfg = stub.GetSandboxConfig(P.sb.GetSandboxConfigRequest(sandbox_id=sb.metadata.id), metadata=md, timeout=5)
    assert cfg.version == 1
    assert code_of(stub.ListSandboxes, P.os.ListSandboxesRequest(), metadata=md, timeout=5) == \
        grpc.StatusCode.PERMISSION_DENIED
    refreshed = stub.RefreshSandboxToken(P.os.RefreshSandboxTokenRequest(), metadata=md, timeout=5)
    assert refreshed.token and refreshed.expires_at_ms > time.time() * 1000
    assert code_of(stub.RefreshSandboxToken, P.os.RefreshSandboxTokenRequest(), timeout=5) == \
        grpc.StatusCode.PERMISSION_DENIED
    # SSH session fields
    ssh = stub.CreateSshSession(P.os.CreateSshSessionRequest(sandbox_id=sb.metadata.id), timeout=5)
    assert ssh.gateway_scheme == "https" and ssh.gateway_port == sim.port and ssh.gateway_host == "127.0.0.1"
    assert stub.RevokeSshSession(P.os.RevokeSshSessionRequest(token=ssh.token), timeout=5).revoked
    assert not stub.RevokeSshSession(P.os.RevokeSshSessionRequest(token="unknown"), timeout=5).revoked


def test_watch_and_logs(stub):
    sb = create_ready(stub, "watch-box")
    logs = stub.GetSandboxLogs(P.os.GetSandboxLogsRequest(sandbox_id=sb.metadata.id), timeout=5).logs
    assert {l.source for l in logs} == {"gateway", "sandbox"} and {"INFO", "WARN"} <= {l.level for l in logs}
    warn = stub.GetSandboxLogs(P.os.GetSandboxLogsRequest(sandbox_id=sb.metadata.id, min_level="WARN"),
                               timeout=5).logs
    assert warn and all(l.level in ("WARN", "ERROR") for l in warn)
    fresh = stub.CreateSandbox(P.os.CreateSandboxRequest(name="watch-box-2", spec=P.os.SandboxSpec()), timeout=5)
    events = list(stub.WatchSandbox(P.os.WatchSandboxRequest(id=fresh.sandbox.metadata.id, follow_status=True,
                                                              stop_on_terminal=True), timeout=10))
    assert phase_of(events[0].sandbox) == PROVISIONING and phase_of(events[-1].sandbox) == READY


def test_interactive_exec(stub):
    sb = create_ready(stub, "tty-box")

    def frames():
        yield P.os.ExecSandboxInput(start=P.os.ExecSandboxRequest(sandbox_id=sb.metadata.id, command=["cat"]))
        yield P.os.ExecSandboxInput(stdin=b"one ")
        yield P.os.ExecSandboxInput(stdin=b"two")

    out, code = b"", None
    for ev in stub.ExecSandboxInteractive(frames(), timeout=10):
        if ev.WhichOneof("payload") == "stdout":
            out += ev.stdout.data
        elif ev.WhichOneof("payload") == "exit":
            code = ev.exit.exit_code
    assert (out, code) == (b"one two", 0)
    bad = iter([P.os.ExecSandboxInput(stdin=b"x")])
    assert code_of(stub.ExecSandboxInteractive, bad, timeout=5) == grpc.StatusCode.INVALID_ARGUMENT


def test_client_without_cert_is_refused(sim):
    for kw in ({"cert": None}, {"cert": "rogue-client"}, {"cert": "expired-client"}):
        stub = sim.stubs(**kw)[0]
        assert code_of(stub.Health, P.os.HealthRequest(), timeout=5) == grpc.StatusCode.UNAVAILABLE, kw


def test_fail_and_delay_hooks(sim, stub):
    sim.ctl("POST", "/reset-calls")
    sim.ctl("POST", "/fail", {"rpc": "Health", "code": "UNAVAILABLE", "count": 1})
    with pytest.raises(grpc.RpcError) as ei:
        stub.Health(P.os.HealthRequest(), timeout=5)
    assert ei.value.code() == grpc.StatusCode.UNAVAILABLE
    assert stub.Health(P.os.HealthRequest(), timeout=5).status == P.os.SERVICE_STATUS_HEALTHY
    sim.ctl("POST", "/fail", {"rpc": "*", "code": "RESOURCE_EXHAUSTED", "count": 2})
    assert code_of(stub.ListSandboxes, P.os.ListSandboxesRequest(), timeout=5) == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert code_of(stub.GetGatewayConfig, P.sb.GetGatewayConfigRequest(), timeout=5) == \
        grpc.StatusCode.RESOURCE_EXHAUSTED
    stub.ListSandboxes(P.os.ListSandboxesRequest(), timeout=5)
    sim.ctl("POST", "/delay", {"rpc": "Health", "seconds": 2})
    assert code_of(stub.Health, P.os.HealthRequest(), timeout=0.5) == grpc.StatusCode.DEADLINE_EXCEEDED
    sim.ctl("POST", "/clear")
    stub.Health(P.os.HealthRequest(), timeout=5)
    calls = sim.ctl("GET", "/calls")
    assert calls["counts"]["Health"] == 4 and calls["counts"]["ListSandboxes"] == 2
    assert calls["last"]["ListSandboxes"] == {}


def test_handshakes_count_connections(sim):
    sim.ctl("POST", "/reset-calls")
    a = sim.stubs()[0]
    for _ in range(5):
        a.Health(P.os.HealthRequest(), timeout=5)
    assert sim.ctl("GET", "/handshakes")["handshakes"] == 1
    sim.stubs()[0].Health(P.os.HealthRequest(), timeout=5)
    assert sim.ctl("GET", "/handshakes")["handshakes"] == 2


def test_state_file_survives_restart(certs, tmp_path):
    state = str(tmp_path / "state.json")
    s = SimProcess(str(tmp_path / "a"), mode="plaintext", version="0.0.60", state_file=state)
    try:
        stub = s.stubs()[0]
        sb = create_ready(stub, "persist-box")
        op = P.os.PolicyMergeOperation(remove_rule=P.os.RemoveNetworkRule(rule_name="pypi"))
        assert stub.UpdateConfig(P.os.UpdateConfigRequest(name="persist-box", merge_operations=[op]),
                                 timeout=5).version == 2
    finally:
        s.stop()
    s = SimProcess(str(tmp_path / "b"), mode="plaintext", version="0.0.60", state_file=state)
    try:
        stub = s.stubs()[0]
        again = stub.GetSandbox(P.os.GetSandboxRequest(name="persist-box"), timeout=5).sandbox
        assert again.metadata.id == sb.metadata.id and phase_of(again) == READY
        revs = stub.ListSandboxPolicies(P.os.ListSandboxPoliciesRequest(name="persist-box"), timeout=5).revisions
        assert [r.version for r in revs] == [2, 1]
        assert run_exec(stub, sb.metadata.id, ["echo", "back"]) == ("back\n", "", 0)
    finally:
        s.stop()
