"""Health-monitor leases survive a crashed worker: a breakwater-worker killed with SIGKILL while
it holds a probe lease keeps the gateway for nobody until the lease expires (lease =
2 * grpc_timeout + 30 s = 40 s on the test stack), then the stack's own worker takes it over and
probes it once per interval again."""

import os
import signal
import time

from bwtest import gateway_row
from test_grpc_gateway import certs, register, sims  # noqa: F401 (fixtures)
from test_grpc_monitor import INTERVAL, start_worker, wait_for

LEASE_S = 2 * 5 + 30


def lease(db, name):
    with db.cursor() as cur:
        cur.execute("SELECT probe_owner, probe_lease_until, last_health,"
                    " UTC_TIMESTAMP(6) AS now FROM gateways WHERE name = %s", (name,))
        return cur.fetchone()


def stack_worker_pid():
    """The pid of this test stack's own breakwater-worker (from its run dir)."""
    with open(os.path.join(os.environ["BW_RUN_DIR"], "worker.pid")) as f:
        pid = int(f.read().split()[0])
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        assert b"breakwater-worker" in f.read(), "worker.pid is not a breakwater-worker"
    return pid


def test_killed_workers_lease_is_taken_over_after_it_expires(db, sims, register):
    sim = sims()
    # Each Health answer takes 4 s (under the 5 s deadline): the claimer holds the lease that
    # long, so the extra worker can be caught holding it.
    sim.ctl("POST", "/delay", {"rpc": "Health", "seconds": 4, "count": 0})
    # The stack's worker is paused until the extra one has claimed: no race for the claim.
    survivor = stack_worker_pid()
    os.kill(survivor, signal.SIGSTOP)
    try:
        extra = start_worker()
        dead = f":{extra.pid}"
        try:
            name = register(sim.port)
            held = wait_for(lambda: (lambda r: r if (r["probe_owner"] or "").endswith(dead)
                                     else None)(lease(db, name)), 30,
                            "the extra worker's lease")
        finally:
            extra.kill()
            extra.wait(10)
    finally:
        os.kill(survivor, signal.SIGCONT)
    assert held["probe_owner"].endswith(dead), held
    sim.ctl("POST", "/clear")
    sim.ctl("POST", "/reset-calls")
    until = held["probe_lease_until"]
    remaining = (until - held["now"]).total_seconds()
    assert LEASE_S - 6 <= remaining <= LEASE_S, held

    # Not before: the lease holds while it has more than a second left.
    while True:
        row = lease(db, name)
        if (until - row["now"]).total_seconds() < 1:
            break
        assert row["probe_owner"] == held["probe_owner"], ("taken over early", row)
        assert row["probe_lease_until"] == until, row
        assert sim.ctl("GET", "/calls")["counts"].get("Health", 0) == 0, row
        time.sleep(0.5)

    # After: the surviving worker claims it within an interval or two and probes it.
    row = wait_for(lambda: (lambda r: r if r["last_health"] is not None
                            and r["last_health"] > until
                            and not (r["probe_owner"] or "").endswith(dead) else None)(
        gateway_row(db, name)), 4 * INTERVAL + 10, "the takeover")
    assert row["last_status"] == "healthy", row
    taken_after = (row["last_health"] - until).total_seconds()
    assert 0 <= taken_after <= 3 * INTERVAL + 6, taken_after

    # And then once per interval, as before the crash.
    sim.ctl("POST", "/reset-calls")
    window = 5 * INTERVAL
    time.sleep(window)
    count = sim.ctl("GET", "/calls")["counts"].get("Health", 0)
    assert window // INTERVAL - 2 <= count <= window // INTERVAL + 1, count
