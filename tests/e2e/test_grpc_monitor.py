"""The health monitor (breakwater-worker) against simulated gateways, seen through the API and
the database. The test stack probes every health_interval = 2 s (scripts/lib.sh)."""

import os
import signal
import subprocess
import time

import pytest

from bwtest import gateway_row, json_ok
from test_grpc_gateway import certs, free_port, register, sims  # noqa: F401 (fixtures)

INTERVAL = 2


def wait_for(check, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.3)


def info_when(api, name, pred):
    def check():
        info = json_ok(api.info(name))
        return info if pred(info) else None
    return check


def test_status_transitions_healthy_unreachable_healthy(api, sims, register, tmp_path):
    state = str(tmp_path / "state.json")
    sim = sims(name="first", state_file=state)
    port = sim.port
    name = register(port)
    # No test-connection: only the worker probes.
    info = wait_for(info_when(api, name, lambda i: i["last_status"] == "healthy"), 15,
                    "the first probe")
    assert info["connected"] is True and info["status"] == "connected", info
    assert info["version"] == "0.0.50" and info["compatibility"] == "compatible", info
    assert sim.ctl("GET", "/calls")["counts"]["Health"] >= 1

    sim.stop()
    info = wait_for(info_when(api, name, lambda i: i["last_status"] == "unreachable"), 15,
                    "unreachable")
    assert info["connected"] is False and info["status"] == "offline", info
    assert info["version"] == "0.0.50", info  # the last known version stays
    listed = [g for g in json_ok(api.list())["items"] if g["name"] == name][0]
    assert listed["last_status"] == "unreachable" and listed["connected"] is False, listed

    sims(name="second", state_file=state, extra=["--listen", f"127.0.0.1:{port}"])
    info = wait_for(info_when(api, name, lambda i: i["last_status"] == "healthy"), 40,
                    "healthy again")
    assert info["connected"] is True and info["status"] == "connected", info


def test_degraded_is_recorded(api, sims, register):
    sim = sims()
    name = register(sim.port)
    sim.ctl("POST", "/config", {"health_status": "DEGRADED", "version": "0.0.111"})
    info = wait_for(info_when(api, name, lambda i: i["last_status"] == "degraded"), 15,
                    "degraded")
    assert info["version"] == "0.0.111" and info["status"] == "connected", info


def test_failing_gateway_backs_off_to_300_s(api, db, register):
    name = register(free_port())  # nothing listens there
    wait_for(lambda: gateway_row(db, name)["last_status"] == "unreachable", 15, "a failure")
    with db.cursor() as cur:
        cur.execute("UPDATE gateways SET health_failures = 30, next_probe_at = NULL"
                    " WHERE name = %s", (name,))
    before = gateway_row(db, name)["last_health"]
    row = wait_for(lambda: (lambda r: r if r["last_health"] != before
                            and r["probe_owner"] is None else None)(gateway_row(db, name)),
                   15, "the next probe")
    assert row["health_failures"] == 31, row
    gap = (row["next_probe_at"] - row["last_health"]).total_seconds()
    assert 299 <= gap <= 301, (gap, row)

    with db.cursor() as cur:
        cur.execute("UPDATE gateways SET health_failures = 9, next_probe_at = NULL"
                    " WHERE name = %s", (name,))
    before = gateway_row(db, name)["last_health"]
    row = wait_for(lambda: (lambda r: r if r["last_health"] != before
                            and r["probe_owner"] is None else None)(gateway_row(db, name)),
                   15, "the next probe")
    assert row["health_failures"] == 10, row
    gap = (row["next_probe_at"] - row["last_health"]).total_seconds()
    assert 2 * INTERVAL - 1 <= gap <= 2 * INTERVAL + 1, (gap, row)


def start_worker():
    run = os.environ["BW_RUN_DIR"]
    build = os.environ["BW_BUILD_DIR"]
    env = dict(os.environ)
    log_dir = os.path.join(run, "log")
    env["ASAN_OPTIONS"] = f"log_path={log_dir}/asan:detect_leaks=1:abort_on_error=0"
    env["UBSAN_OPTIONS"] = f"print_stacktrace=1:log_path={log_dir}/ubsan"
    log = open(os.path.join(log_dir, "worker-extra.log"), "ab")
    proc = subprocess.Popen([os.path.join(build, "breakwater-worker"), "--config",
                             os.path.join(run, "conf", "breakwater.conf")],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    log.close()
    return proc


def test_two_workers_probe_each_gateway_once_per_interval(api, db, sims, register):
    extra = start_worker()
    try:
        sim = sims()
        name = register(sim.port)
        wait_for(info_when(api, name, lambda i: i["last_status"] == "healthy"), 15,
                 "the first probe")
        sim.ctl("POST", "/reset-calls")
        window = 5 * INTERVAL
        time.sleep(window)
        count = sim.ctl("GET", "/calls")["counts"].get("Health", 0)
        # One probe per interval between both workers (about 5), not one per worker (10).
        assert window // INTERVAL - 2 <= count <= window // INTERVAL + 1, count
    finally:
        extra.send_signal(signal.SIGTERM)
        try:
            rc = extra.wait(timeout=15)
        except subprocess.TimeoutExpired:
            extra.kill()
            pytest.fail("breakwater-worker did not stop within 15 s of SIGTERM")
    assert rc == 0, rc
    with db.cursor() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM gateways WHERE probe_owner LIKE %s",
                    (f"%:{extra.pid}",))
        assert cur.fetchone()["n"] == 0, "the stopped worker kept its leases"


def test_worker_help_lists_the_monitor_settings():
    out = subprocess.run([os.path.join(os.environ["BW_BUILD_DIR"], "breakwater-worker"),
                          "--help"], capture_output=True, text=True, check=True).stdout
    for key in ("health_interval", "health_concurrency", "grpc_timeout", "require_mtls"):
        assert key in out, out
