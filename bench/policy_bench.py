"""Measurements of bench/policy.sh (see there); needs the stack's environment (BW_*)."""

import concurrent.futures
import os
import sys
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
sys.path.insert(0, HERE)
from policy_helpers import P, LocalSim, base, delete_sandbox, ready_sandbox, sim_policy  # noqa: E402
from sandboxes_bench import URL, admin_key, pct, session  # noqa: E402

EDITS = int(os.environ.get("EDITS", "100"))
RATE = float(os.environ.get("RATE", "20"))  # outside merges per second


def edits(s, url, tag, n):
    """n filesystem path additions one after the other: (latencies, conflicts)."""
    lat, conflicts = [], 0
    for i in range(n):
        t0 = time.monotonic()
        r = s.post(f"{URL}{url}/filesystem", json={"path": f"/{tag}{i}", "access": "ro"})
        lat.append(time.monotonic() - t0)
        if r.status_code == 409:
            conflicts += 1
        elif r.status_code != 200:
            raise SystemExit(f"edit {i}: HTTP {r.status_code} {r.text}")
    return lat, conflicts


def outside_writer(stub, name, stop):
    """Another writer at the gateway, RATE merges a second until stopped: it adds one of ten
    rules and removes it again, so the policy keeps its size while revisions keep coming (a
    growing policy would measure the simulator). Returns how many merges, and the rules it
    left in place."""
    n, present = 0, set()
    while not stop.wait(1 / RATE):
        key = f"ext{n % 10}"
        if key in present:
            op = P.os.PolicyMergeOperation(remove_rule=P.os.RemoveNetworkRule(rule_name=key))
            present.discard(key)
        else:
            op = P.os.PolicyMergeOperation(add_rule=P.os.AddNetworkRule(
                rule_name=key, rule=P.sb.NetworkPolicyRule(
                    name=key, endpoints=[P.sb.NetworkEndpoint(host=f"{key}.example.com",
                                                              port=443)])))
            present.add(key)
        stub.UpdateConfig(P.os.UpdateConfigRequest(name=name, merge_operations=[op]), timeout=5)
        n += 1
    return n, present


def report(label, lat, conflicts, wall):
    ms = [x * 1000 for x in lat]
    print(f"{label:<44} {len(lat) / wall:7.1f} edits/s  p50 {pct(ms, 50):6.1f} ms  "
          f"p99 {pct(ms, 99):7.1f} ms  409s {conflicts}")


def fresh_sandbox(sim):
    """A READY sandbox per phase: a gateway takes at most 256 filesystem paths a policy."""
    name = f"bench-pol-{uuid.uuid4().hex[:6]}"
    ready_sandbox(sim, name)
    return name


def alone(sim, s, name):
    t0 = time.monotonic()
    lat, c = edits(s, base(sim.name, name), "a", EDITS)
    report("alone (baseline)", lat, c, time.monotonic() - t0)


def contended(sim, s, name):
    stop = threading.Event()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        writer = pool.submit(outside_writer, sim.stubs()[0], name, stop)
        t0 = time.monotonic()
        try:
            lat, c = edits(s, base(sim.name, name), "b", EDITS)
        finally:
            stop.set()
        wall = time.monotonic() - t0
        merged, present = writer.result()
    report(f"with an outside writer ({RATE:g} merges/s)", lat, c, wall)
    pol = sim_policy(sim, name).policy
    ext = {k for k in pol.network_policies if k.startswith("ext")}
    wrong = present ^ ext
    have = set(pol.filesystem.read_only)
    missing = [p for p in (f"/b{i}" for i in range(EDITS)) if p not in have]
    print(f"  outside writer: {merged} merges ({merged / wall:.1f}/s); after the run "
          f"{len(wrong)} of its rules wrong (lost or resurrected), {len(missing)} "
          f"paths missing (expected 0, and at most the 409s)")


def parallel(sim, s, name):
    key = s.headers["Authorization"][7:]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        t0 = time.monotonic()
        futs = [pool.submit(edits, session(key), base(sim.name, name), f"c{k}-", EDITS // 4)
                for k in range(4)]
        res = [f.result() for f in futs]
        wall = time.monotonic() - t0
    report("4 Breakwater clients at once", [x for r in res for x in r[0]],
           sum(r[1] for r in res), wall)


def main():
    if not 1 <= EDITS <= 250:
        raise SystemExit("EDITS must be 1..250 (a policy holds at most 256 paths)")
    sim = LocalSim()
    s = session(admin_key())
    for phase in (alone, contended, parallel):
        name = fresh_sandbox(sim)
        try:
            phase(sim, s, name)
        finally:
            delete_sandbox(sim, name)


if __name__ == "__main__":
    main()
