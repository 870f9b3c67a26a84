"""Measurements of bench/grpc.sh (see there); needs the stack's environment (BW_*)."""

import base64
import os
import statistics
import sys
import time

import pymysql

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "gateway-sim"))
from sim_harness import P, SimProcess  # noqa: E402
sys.path.insert(0, HERE)
from sandboxes_bench import admin_key, session  # noqa: E402

REQUESTS = int(os.environ.get("REQUESTS", "2000"))
SKIP_MONITOR = os.environ.get("SKIP_MONITOR") == "1"
GATEWAYS = int(os.environ.get("GATEWAYS", "1000"))


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def bundle(certs):
    def b64(name):
        with open(os.path.join(certs, name), "rb") as f:
            return base64.b64encode(f.read()).decode()
    return {"ca_cert": b64("ca.crt"), "client_cert": b64("client.crt"),
            "client_key": b64("client.key")}


def proxied_read(work, url, certs):
    sim = SimProcess(os.path.join(work, "sim-proxy"), certs, mode="mtls")
    try:
        s = session(admin_key())
        body = {"name": "bench-proxy", "endpoint": f"127.0.0.1:{sim.port}"}
        body.update(bundle(certs))
        s.post(f"{url}/api/gateway/register", json=body).raise_for_status()
        for _ in range(50):  # warm-up: every pool process opens its channel
            s.get(f"{url}/api/gateway/bench-proxy/config").raise_for_status()
        sim.ctl("POST", "/reset-calls")
        rest = []
        for _ in range(REQUESTS):
            t0 = time.perf_counter()
            r = s.get(f"{url}/api/gateway/bench-proxy/config")
            rest.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, r.text
        hs = sim.ctl("GET", "/handshakes")
        info = []  # the same stack path without gRPC, for scale
        for _ in range(REQUESTS):
            t0 = time.perf_counter()
            s.get(f"{url}/api/gateway/bench-proxy/info").raise_for_status()
            info.append((time.perf_counter() - t0) * 1000)
        stub = sim.stubs()[0]
        req = P.sb.GetGatewayConfigRequest()
        for _ in range(50):
            stub.GetGatewayConfig(req, timeout=5)
        direct = []
        for _ in range(REQUESTS):
            t0 = time.perf_counter()
            stub.GetGatewayConfig(req, timeout=5)
            direct.append((time.perf_counter() - t0) * 1000)
        print(f"proxied read, {REQUESTS} sequential requests each:")
        print(f"  REST  p50 {pct(rest, 50):.2f} ms  p99 {pct(rest, 99):.2f} ms")
        print(f"  gRPC  p50 {pct(direct, 50):.2f} ms  p99 {pct(direct, 99):.2f} ms")
        print(f"  (REST /info, no gRPC: p50 {pct(info, 50):.2f} ms  p99 {pct(info, 99):.2f} ms)")
        print(f"  added p50 {pct(rest, 50) - pct(direct, 50):.2f} ms  "
              f"p99 {pct(rest, 99) - pct(direct, 99):.2f} ms")
        print(f"  new TLS connections at the gateway during the REST run: {hs['handshakes']} "
              f"(pool processes keep theirs open; total since start {hs['total_connections']})")
        s.delete(f"{url}/api/gateway/bench-proxy")
    finally:
        sim.stop()


def monitor(work, url, certs):
    sim = SimProcess(os.path.join(work, "sim-many"), certs, mode="mtls",
                     extra=["--extra-listeners", str(GATEWAYS - 1)])
    db = pymysql.connect(unix_socket=os.environ["BW_DB_SOCKET"], user="root", password="",
                         database=os.environ["BW_DB_NAME"], autocommit=True)
    try:
        s = session(admin_key())
        creds = bundle(certs)
        t0 = time.perf_counter()
        for i, port in enumerate(sim.ports[:GATEWAYS]):
            body = {"name": f"bench-{i:04d}", "endpoint": f"127.0.0.1:{port}"}
            body.update(creds)
            s.post(f"{url}/api/gateway/register", json=body).raise_for_status()
        print(f"registered {GATEWAYS} gateways in {time.perf_counter() - t0:.1f} s")
        with db.cursor() as cur:
            # Wait for a quiet moment, then make every gateway due at once.
            time.sleep(3)
            cur.execute("UPDATE gateways SET next_probe_at = NULL, last_health = NULL"
                        " WHERE name LIKE 'bench-%'")
            t0 = time.perf_counter()
            while True:
                cur.execute("SELECT COUNT(*), SUM(last_status = 'healthy') FROM gateways"
                            " WHERE name LIKE 'bench-%' AND last_health IS NOT NULL")
                done, healthy = cur.fetchone()
                if done >= GATEWAYS or time.perf_counter() - t0 > 300:
                    break
                time.sleep(0.05)
        print(f"health monitor: {done} of {GATEWAYS} gateways probed in "
              f"{time.perf_counter() - t0:.2f} s ({int(healthy or 0)} healthy; one worker, "
              f"health_concurrency {os.environ.get('BW_HEALTH_CONCURRENCY', '64 (default)')})")
    finally:
        db.close()
        sim.stop()


def main():
    work = sys.argv[1]
    url = os.environ["BW_URL"]
    certs = os.environ["BW_SIM_CERTS"]
    proxied_read(work, url, certs)
    if not SKIP_MONITOR:
        monitor(work, url, certs)


if __name__ == "__main__":
    main()
