"""Helpers shared by the policy, GitOps and pin suites: READY sandboxes made directly at a
simulated gateway over gRPC (the stack's local-sim, or a private simulator), and short-hands
for the policy routes of a sandbox."""

import os
import sys
import time
import urllib.parse
import urllib.request
import json

import grpc

from bwtest import env, json_ok, quote_name

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gateway-sim"))
from sim_harness import P  # noqa: E402

READY = 2


class LocalSim:
    """The stack's registered simulator (BW_SIM_*), with SimProcess's stubs()/ctl()."""

    def __init__(self):
        self.name = env("BW_SIM_NAME")
        self.endpoint = env("BW_SIM_ENDPOINT")
        self.certs = env("BW_SIM_CERTS")
        self.control = env("BW_SIM_CONTROL")
        self._stub = None

    def stubs(self):
        if self._stub is None:
            def rd(name):
                with open(os.path.join(self.certs, name), "rb") as f:
                    return f.read()
            creds = grpc.ssl_channel_credentials(root_certificates=rd("ca.crt"),
                                                 private_key=rd("client.key"),
                                                 certificate_chain=rd("client.crt"))
            self._stub = P.os_grpc.OpenShellStub(grpc.secure_channel(self.endpoint, creds))
        return self._stub, None

    def ctl(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else (b"{}" if method == "POST" else None)
        req = urllib.request.Request(self.control + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())


def phase_of(sandbox):
    return sandbox.status.phase or sandbox.phase


def ready_sandbox(sim, name, policy=None):
    """Creates sandbox name at sim (optionally with a policy) and waits until READY."""
    stub = sim.stubs()[0]
    spec = P.os.SandboxSpec(environment={"GATEWAY_SIM_READY_DELAY": "0.05"})
    if policy is not None:
        spec.policy.CopyFrom(policy)
    stub.CreateSandbox(P.os.CreateSandboxRequest(name=name, spec=spec), timeout=5)
    deadline = time.monotonic() + 15
    while True:
        sb = stub.GetSandbox(P.os.GetSandboxRequest(name=name), timeout=5).sandbox
        if phase_of(sb) == READY:
            break
        assert time.monotonic() < deadline, "the sandbox never became ready"
        time.sleep(0.05)
    # Revision 1 is stored when the sandbox becomes ready.
    while True:
        try:
            stub.GetSandboxPolicyStatus(P.os.GetSandboxPolicyStatusRequest(name=name), timeout=5)
            return sb
        except grpc.RpcError:
            assert time.monotonic() < deadline, "no policy revision"
            time.sleep(0.05)


def sim_policy(sim, name):
    """The latest policy revision as the gateway stores it (protobuf)."""
    stub = sim.stubs()[0]
    return stub.GetSandboxPolicyStatus(P.os.GetSandboxPolicyStatusRequest(name=name),
                                       timeout=5).revision


def base(gw, sandbox):
    return f"/api/gateways/{quote_name(gw)}/sandboxes/{quote_name(sandbox)}/policy"


def get_policy(api, gw, sandbox):
    return json_ok(api.get(base(gw, sandbox)))


def rule(host, port=443, name=None, binary="/usr/bin/curl"):
    r = {"endpoints": [{"host": host, "port": port}], "binaries": [{"path": binary}]}
    if name is not None:
        r["name"] = name
    return r


def query(params):
    return "?" + urllib.parse.urlencode(params)


def sim_state(sim, name):
    """(latest revision version, its hash) at the simulator."""
    rev = sim_policy(sim, name)
    return rev.version, rev.policy_hash


def db_state(db):
    """What a rejected policy request must leave alone: gateways and audit (bwtest's snapshot),
    pins and the event outbox."""
    import bwtest
    snap = bwtest.take_snapshot(db)
    with db.cursor() as cur:
        cur.execute("SELECT COUNT(*) AS n, COALESCE(MAX(id), 0) AS m FROM event_outbox")
        snap["outbox"] = cur.fetchone()
        cur.execute("CHECKSUM TABLE policy_pins")
        snap["pins"] = cur.fetchone()["Checksum"]
    return snap


def unchanged(api, db, sim, name, send, expect):
    """Sends a request that must be refused and checks that nothing moved: database and the
    sandbox's policy at the gateway. expect(resp) asserts the answer; returns resp."""
    before = (db_state(db), sim_state(sim, name))
    resp = send()
    expect(resp)
    assert (db_state(db), sim_state(sim, name)) == before, "a refused request changed something"
    json_ok(api.get("/api/gateway/list"))
    return resp


def problem(status, *fragments):
    """expect() for a problem+json answer with status whose detail holds every fragment."""
    def check(resp):
        assert resp.status_code == status, (resp.status_code, resp.text)
        if status != 422:
            body = resp.json()
            assert resp.headers["Content-Type"].startswith("application/problem+json")
            for f in fragments:
                assert f in body["detail"], (f, body)
    return check


def delete_sandbox(sim, name):
    try:
        sim.stubs()[0].DeleteSandbox(P.os.DeleteSandboxRequest(name=name), timeout=5)
    except grpc.RpcError:
        pass


def outbox(db, event_type, sandbox):
    with db.cursor() as cur:
        cur.execute("SELECT * FROM event_outbox WHERE event_type = %s ORDER BY id", (event_type,))
        rows = cur.fetchall()
    return [r for r in rows if json.loads(r["payload"]).get("sandbox") == sandbox]
