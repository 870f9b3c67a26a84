"""Measurements of bench/sandboxes.sh (see there); needs the stack's environment (BW_*)."""

import concurrent.futures
import json
import os
import subprocess
import threading
import time
import uuid

import requests

SANDBOXES = int(os.environ.get("SANDBOXES", "100"))
EXECS = int(os.environ.get("EXECS", "50"))
URL = os.environ["BW_URL"]
CA = os.environ["BW_TLS_CERT"]
GW = os.environ.get("BW_SIM_NAME", "local-sim")
RUN = os.environ["BW_RUN_DIR"]


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def admin_key():
    s = requests.Session()
    s.verify = CA
    with open(os.environ["BW_ADMIN_PASSWORD_FILE"], encoding="ascii") as f:
        pw = f.read().strip()
    r = s.post(f"{URL}/api/auth/login", json={"email": os.environ["BW_ADMIN_EMAIL"],
                                              "password": pw})
    r.raise_for_status()
    r = s.post(f"{URL}/api/auth/service-principals", headers={
        "X-CSRF-Token": r.json()["csrf_token"]}, json={"name": f"bench-{uuid.uuid4().hex[:8]}",
                                                       "role": "admin"})
    r.raise_for_status()
    return r.json()["key"]


def rss_kib(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def session(key):
    s = requests.Session()
    s.verify = CA
    s.headers["Authorization"] = f"Bearer {key}"
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=128)
    s.mount("https://", adapter)
    return s


def wait_done(s, op_id):
    while True:
        op = s.get(f"{URL}/api/operations/{op_id}", params={"wait": 30}).json()
        if op["status"] in ("succeeded", "failed"):
            return op


def creates(s, tag):
    with open(os.path.join(RUN, "worker.pid"), encoding="ascii") as f:
        wpid = int(f.read().strip())
    rss_before = rss_kib(wpid)
    peak = [rss_before]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_kib(wpid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample)
    sampler.start()
    names = [f"bench-{tag}-{i}" for i in range(SANDBOXES)]

    def one(name):
        r = s.post(f"{URL}/api/gateways/{GW}/sandboxes", json={"name": name})
        assert r.status_code == 202, r.text
        return wait_done(s, r.json()["operation_id"])

    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(SANDBOXES) as pool:
        ops = list(pool.map(one, names))
    total = time.perf_counter() - t0
    stop.set()
    sampler.join()
    ok = sum(1 for o in ops if o["status"] == "succeeded")
    print(f"creates: {SANDBOXES} concurrent, {ok} succeeded, total {total:.2f} s, "
          f"{SANDBOXES / total:.1f} ops/s")
    print(f"worker RSS: {rss_before / 1024:.1f} MiB before, {peak[0] / 1024:.1f} MiB peak")
    return names


def execs(s, name):
    api = []
    for _ in range(EXECS):
        t0 = time.perf_counter()
        r = s.post(f"{URL}/api/gateways/{GW}/sandboxes/{name}/exec",
                   json={"command": ["echo", "hi"]})
        assert r.status_code == 202, r.text
        op = wait_done(s, r.json()["operation_id"])
        api.append((time.perf_counter() - t0) * 1000)
        assert op["result"]["stdout"] == "hi\n", op
    ctl = os.path.join(os.environ["BW_BUILD_DIR"], "breakwaterctl")
    conf = os.path.join(RUN, "conf", "breakwater.conf")
    direct = []
    for _ in range(EXECS):
        t0 = time.perf_counter()
        out = subprocess.run([ctl, "--config", conf, "gateway", "exec", GW, name, "--", "echo",
                              "hi"], capture_output=True, text=True, check=True)
        direct.append((time.perf_counter() - t0) * 1000)
        assert out.stdout == "hi\n", out
    print(f"exec round trip via API (202 + long-poll): p50 {pct(api, 50):.1f} ms, "
          f"p99 {pct(api, 99):.1f} ms ({EXECS} runs)")
    print(f"exec direct gRPC (breakwaterctl gateway exec, incl. process start): "
          f"p50 {pct(direct, 50):.1f} ms, p99 {pct(direct, 99):.1f} ms")


def main():
    # One principal per phase: each stays under the per-actor write limit (120 a minute).
    tag = uuid.uuid4().hex[:6]
    names = creates(session(admin_key()), tag)
    execs(session(admin_key()), names[0])
    s = session(admin_key())
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda n: s.delete(f"{URL}/api/gateways/{GW}/sandboxes/{n}"), names))


if __name__ == "__main__":
    main()
