"""Start/stop helper for the simulated gateway, for use by any test suite.

    import sys; sys.path.insert(0, "<checkout>/tests/gateway-sim")
    from sim_harness import SimProcess, make_certs, P
    certs = make_certs("/tmp/x/certs")
    sim = SimProcess("/tmp/x/sim", certs, mode="mtls", version="0.0.50")
    stub = sim.stubs()[0]                       # OpenShellStub, InferenceStub
    stub.Health(P.os.HealthRequest(), timeout=5)
    sim.ctl("POST", "/fail", {"rpc": "Health", "code": "UNAVAILABLE"})
    sim.stop()

mode: "mtls" (client certs required), "tls" (server TLS only) or "plaintext".
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from sim_protos import load  # noqa: E402

P = load()
SIM = os.path.join(HERE, "gateway_sim.py")
CERTS_SH = os.path.join(HERE, "certs.sh")


def make_certs(directory):
    """Run certs.sh into directory; returns it."""
    subprocess.run(["sh", CERTS_SH, directory], check=True, stdout=subprocess.DEVNULL)
    return directory


class SimProcess:
    """One simulator process. Extra CLI flags go in `extra`; delays default to
    fast values suitable for tests (ready 0.3 s, policy load 0.2 s)."""

    def __init__(self, tmp, certs=None, mode="mtls", version="0.0.50", extra=(), state_file=None,
                 ready_delay=0.3, policy_load_delay=0.2, delete_delay=0.1, python=None):
        self.tmp = tmp
        self.certs = certs
        self.mode = mode
        os.makedirs(tmp, exist_ok=True)
        self.ready_file = os.path.join(tmp, "grpc.port")
        self.cport_file = os.path.join(tmp, "control.port")
        for f in (self.ready_file, self.cport_file):
            if os.path.exists(f):
                os.unlink(f)
        cmd = [python or sys.executable, SIM, "--listen", "127.0.0.1:0", "--version", version,
               "--ready-delay", str(ready_delay), "--policy-load-delay", str(policy_load_delay),
               "--delete-delay", str(delete_delay),
               "--control", "0", "--ready-file", self.ready_file, "--control-port-file", self.cport_file]
        if mode == "plaintext":
            cmd.append("--plaintext")
        else:
            cmd += ["--tls-cert", os.path.join(certs, "server.crt"), "--tls-key", os.path.join(certs, "server.key")]
            if mode == "mtls":
                cmd += ["--client-ca", os.path.join(certs, "ca.crt")]
        if state_file:
            cmd += ["--state-file", state_file]
        cmd += list(extra)
        self.log = open(os.path.join(tmp, "sim.log"), "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while not (os.path.exists(self.ready_file) and os.path.exists(self.cport_file)):
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                with open(os.path.join(tmp, "sim.log")) as f:
                    raise RuntimeError("simulator did not start:\n" + f.read())
            time.sleep(0.02)
        with open(self.ready_file) as f:
            self.ports = [int(x) for x in f.read().split()]
        self.port = self.ports[0]
        with open(self.cport_file) as f:
            self.cport = int(f.read())
        self.channels = []

    def channel(self, cert="client", key=None, ca=True):
        if self.mode == "plaintext":
            ch = grpc.insecure_channel("127.0.0.1:%d" % self.port)
        else:
            def rd(name):
                with open(os.path.join(self.certs, name), "rb") as f:
                    return f.read()
            creds = grpc.ssl_channel_credentials(
                root_certificates=rd("ca.crt") if ca else None,
                private_key=rd((key or cert) + ".key") if cert else None,
                certificate_chain=rd(cert + ".crt") if cert else None)
            ch = grpc.secure_channel("127.0.0.1:%d" % self.port, creds)
        self.channels.append(ch)
        return ch

    def stubs(self, **kw):
        ch = self.channel(**kw)
        return P.os_grpc.OpenShellStub(ch), P.inf_grpc.InferenceStub(ch)

    def ctl(self, method, path, body=None):
        """Control API call; returns the decoded JSON (raises HTTPError on 4xx)."""
        data = json.dumps(body).encode() if body is not None else (b"{}" if method == "POST" else None)
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.cport, path), data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def kill(self):
        """SIGKILL (a crash: no final state save)."""
        self.proc.kill()
        self.proc.wait(5)
        self.stop()

    def stop(self):
        for ch in getattr(self, "channels", []):
            ch.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
