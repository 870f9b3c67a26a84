"""Restart the FastCGI pool and then MariaDB mid-suite: the data persists and the next requests
succeed. Marked ``restart`` so these run after every other test (conftest also reorders)."""

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from bwtest import (
    ENDPOINT, GATEWAY_KEYS, assert_gateway_shape, assert_problem, audit_rows, b64, connect_db,
    env, gateway_row, json_ok, new_session, pem_bytes,
)

pytestmark = pytest.mark.restart

STABLE_KEYS = ("name", "endpoint", "scheme", "auth_mode", "has_ca_cert", "has_client_cert",
               "has_client_key", "metadata", "runtime", "registered_at", "description", "labels")
SEALED_COLUMNS = ("ca_cert", "client_cert", "client_key")


def _stack(command):
    stack = env("BW_STACK")
    proc = subprocess.run(["bash", stack, command], env=dict(os.environ), capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, (
        f"{stack} {command} exited {proc.returncode}\n"
        f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}")


def _rich_gateway(gateway):
    return gateway(scheme="http", auth_mode="mtls", description="survivor – ü😀",
                   labels={"restart": "yes", "tier": "gold"},
                   metadata={"runtime": "docker", "n": [1, 2]},
                   ca_cert=b64(pem_bytes(2000)), client_cert=b64(pem_bytes(1500)),
                   client_key=b64(pem_bytes(1200, "PRIVATE KEY")))


def _assert_same_record(before, after):
    assert_gateway_shape(after, GATEWAY_KEYS)
    for key in STABLE_KEYS:
        assert after[key] == before[key], key


def _burst(api, names, rounds=6, threads=8):
    """Many reads in parallel (several workers and threads, each with its own DB connection);
    every one must succeed."""
    def one(i):
        with new_session(api.cafile) as session:
            out = []
            for j in range(rounds):
                if (i + j) % 3 == 0:
                    resp = session.get(api.url("/api/gateway/list"), timeout=30)
                elif (i + j) % 3 == 1:
                    resp = session.get(api.url("/readyz"), timeout=30)
                else:
                    name = names[(i + j) % len(names)]
                    resp = session.get(api.url(f"/api/gateway/{name}/info"), timeout=30)
                out.append((resp.request.method, resp.request.url, resp.status_code,
                            resp.text[:300]))
            return out
    _assert_all_ok(_run(one, threads))


def _write_burst(api, unique_name, rounds=3, threads=8):
    """Writes first, in parallel: a pool thread whose first statement after a database restart
    is a write must reconnect too. Every request must succeed."""
    names = [[unique_name("burst") for _ in range(rounds)] for _ in range(threads)]

    def one(i):
        out = []
        with new_session(api.cafile) as session:
            for name in names[i]:
                path = api.url(f"/api/gateway/{name}")
                for resp, want in (
                    (session.post(api.url("/api/gateway/register"),
                                  json={"name": name, "endpoint": ENDPOINT}, timeout=30), 201),
                    (session.patch(path, json={"labels": {"burst": "1"}}, timeout=30), 200),
                    (session.delete(path, timeout=30), 200),
                ):
                    out.append((resp.request.method, resp.request.url,
                                200 if resp.status_code == want else resp.status_code,
                                resp.text[:300]))
        return out
    try:
        _assert_all_ok(_run(one, threads))
    finally:
        for batch in names:  # leave nothing behind if something failed
            for name in batch:
                api.delete_gateway(name)


def _run(one, threads):
    with ThreadPoolExecutor(threads) as pool:
        return [r for chunk in pool.map(one, range(threads)) for r in chunk]


def _assert_all_ok(results):
    failures = [r for r in results if r[2] != 200]
    assert not failures, f"{len(failures)} of {len(results)} requests failed: {failures[:10]}"


def _write_cycle(api, db, unique_name):
    """Register, patch, list, delete: writes and their audit rows work."""
    name = unique_name("after")
    resp = api.register({"name": name, "endpoint": ENDPOINT, "labels": {"after": "restart"}})
    json_ok(resp, 201)
    assert gateway_row(db, name) is not None
    assert audit_rows(db, "gateway.register", name)[0]["request_id"] == \
        resp.headers["X-Request-ID"]
    assert json_ok(api.patch_gateway(name, {"description": "patched"}))["description"] == \
        "patched"
    assert name in api.list_names({"label": "after:restart"})
    assert json_ok(api.delete_gateway(name)) == {"success": True, "name": name}
    assert gateway_row(db, name) is None


def _sealed(row):
    return {column: bytes(row[column]) for column in SEALED_COLUMNS}


def test_data_survives_a_pool_restart(api, bw_env, gateway, unique_name):
    gw = _rich_gateway(gateway)
    other = gateway(description="second")
    db = connect_db(bw_env)
    sealed_before = _sealed(gateway_row(db, gw["name"]))
    db.close()

    _stack("restart-fcgi")

    info = json_ok(api.info(gw["name"]))
    _assert_same_record(gw, info)
    assert json_ok(api.info(other["name"]))["description"] == "second"
    assert gw["name"] in api.list_names({"label": "restart:yes"})
    _write_burst(api, unique_name)
    _burst(api, [gw["name"], other["name"]])
    db = connect_db(bw_env)
    try:
        assert _sealed(gateway_row(db, gw["name"])) == sealed_before
        _write_cycle(api, db, unique_name)
    finally:
        db.close()
    for name in (gw["name"], other["name"]):
        assert json_ok(api.delete_gateway(name)) == {"success": True, "name": name}


def test_data_survives_a_database_restart(api, bw_env, gateway, unique_name):
    gw = _rich_gateway(gateway)
    db = connect_db(bw_env)
    sealed_before = _sealed(gateway_row(db, gw["name"]))
    db.close()

    _stack("restart-db")

    # The very first request may meet the reconnect: one 503 is tolerated, once.
    first = api.info(gw["name"])
    if first.status_code == 503:
        assert_problem(first, 503, "SERVICE_UNAVAILABLE")
        first = api.info(gw["name"])
    _assert_same_record(gw, json_ok(first))

    _write_burst(api, unique_name)
    ready = json_ok(api.get("/readyz"))
    assert ready["status"] == "ready" and ready["checks"]["database"] == "ok", ready
    _burst(api, [gw["name"]])
    db = connect_db(bw_env)
    try:
        assert _sealed(gateway_row(db, gw["name"])) == sealed_before
        _write_cycle(api, db, unique_name)
    finally:
        db.close()
    _assert_same_record(gw, json_ok(api.info(gw["name"])))
    assert json_ok(api.delete_gateway(gw["name"])) == {"success": True, "name": gw["name"]}
