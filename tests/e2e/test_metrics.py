"""GET /metrics through nginx: the Prometheus text format parses, counters live in the pool's
shared block (so they add up over every responder process and survive a killed worker),
histograms are cumulative and agree with _count/_sum, gRPC calls and gateway gauges are counted,
and the endpoint needs an admin under the default metrics_access."""

import json
import os
import re
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import bwtest
from bwtest import describe, env, new_session, quote_name

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gateway-sim"))
from sim_harness import SimProcess, make_certs  # noqa: E402

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
SAMPLE = re.compile(rf"^({NAME})(?:\{{(.*)\}})? (\S+)$")
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)')
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def unescape(value):
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def parse(text):
    """The exposition text as ``({(name, frozenset(labels)): value}, {family: type})``; any line
    that is not a comment, a sample or blank fails the test."""
    samples, types = {}, {}
    for line in text.split("\n"):
        if line == "":
            continue
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split(" ", 3)
            assert re.fullmatch(NAME, family) and kind in TYPES, line
            assert family not in types, f"TYPE twice: {line}"
            types[family] = kind
            continue
        if line.startswith("# HELP "):
            assert re.fullmatch(NAME, line.split(" ", 3)[2]), line
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels, rest = {}, m.group(2) or ""
        while rest:
            lm = LABEL.match(rest)
            assert lm, f"bad labels in {line!r}"
            labels[lm.group(1)] = unescape(lm.group(2))
            rest = rest[lm.end():]
        key = (m.group(1), frozenset(labels.items()))
        assert key not in samples, f"duplicate series: {line}"
        samples[key] = float(m.group(3))
    return samples, types


def family_of(name, types):
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and types.get(name[: -len(suffix)]) == "histogram":
            return name[: -len(suffix)]
    return name


def scrape(api):
    resp = api.get("/metrics")
    assert resp.status_code == 200, describe(resp)
    return parse(resp.text)[0]


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def select(samples, name, **labels):
    """{labels dict as frozenset: value} of the series of name that carry the given labels."""
    want = set(labels.items())
    return {lbl: v for (n, lbl), v in samples.items() if n == name and want <= set(lbl)}


def log_offset():
    return os.path.getsize(os.path.join(env("BW_RUN_DIR"), "log", "fcgi.log"))


def request_lines(offset, path):
    with open(os.path.join(env("BW_RUN_DIR"), "log", "fcgi.log"), errors="replace") as f:
        f.seek(offset)
        lines = [json.loads(x) for x in f.read().splitlines() if x.startswith("{")]
    return [x for x in lines if x.get("msg") == "request" and x.get("path") == path]


def fire(api, path, n, threads=12):
    """n GETs of path from `threads` connections at once; returns their status codes."""
    def run(count):
        with new_session(api.cafile) as s:
            return [s.get(api.url(path), timeout=30).status_code for _ in range(count)]
    share = [n // threads + (1 if i < n % threads else 0) for i in range(threads)]
    with ThreadPoolExecutor(threads) as pool:
        return [c for part in pool.map(run, share) for c in part]


HEALTHZ = {"method": "GET", "route": "/healthz", "status": "2xx"}


def test_format_parses_and_every_sample_has_a_declared_type(api):
    resp = api.get("/metrics")
    assert resp.status_code == 200, describe(resp)
    ctype = resp.headers["Content-Type"]
    assert ctype.startswith("text/plain") and "version=0.0.4" in ctype, ctype
    samples, types = parse(resp.text)
    for name, _ in samples:
        assert family_of(name, types) in types, name
    for family in ("breakwater_info", "shoreguard_info", "breakwater_http_requests_total",
                   "breakwater_http_request_duration_seconds",
                   "shoreguard_http_request_duration_seconds", "breakwater_grpc_calls_total",
                   "breakwater_db_connections", "breakwater_gateways",
                   "shoreguard_gateways_total", "breakwater_responder_processes"):
        assert family in types, family
    version = api.get("/version").json()
    info = select(samples, "breakwater_info")
    assert len(info) == 1, info
    labels = dict(next(iter(info)))
    assert labels["version"] == version["version"] and labels["git_sha"] == version["git_sha"]
    assert value(samples, "breakwater_metrics_db_up") == 1
    # The scrape that is rendering is itself a busy handle; every thread holds one.
    assert value(samples, "breakwater_db_connections", state="busy") >= 1
    assert value(samples, "breakwater_db_connections", state="open") >= \
        value(samples, "breakwater_responder_processes") >= 2


def test_counters_add_up_over_both_responder_processes(api):
    before = scrape(api)
    offset = log_offset()
    total = 0
    pids = {}
    # Enough parallel connections that both workers take some; retried in case the scheduler
    # happened to favour one process.
    for _ in range(25):
        codes = fire(api, "/healthz", 240)
        assert codes == [200] * 240
        total += 240
        time.sleep(0.2)
        lines = request_lines(offset, "/healthz")
        pids = {}
        for line in lines:
            pids[line["pid"]] = pids.get(line["pid"], 0) + 1
        if len(pids) >= 2:
            break
    assert len(pids) >= 2, f"one process served everything: {pids}"
    assert sum(pids.values()) == total, pids
    after = scrape(api)
    delta = value(after, "breakwater_http_requests_total", **HEALTHZ) - \
        value(before, "breakwater_http_requests_total", **HEALTHZ)
    assert delta == total, (delta, pids)
    hist = {"method": "GET", "route": "/healthz"}
    assert value(after, "breakwater_http_request_duration_seconds_count", **hist) - \
        value(before, "breakwater_http_request_duration_seconds_count", **hist) == total
    # Any process answers a scrape with the same totals: scrape from many connections at once.
    counts = set()

    def one(_):
        with new_session(api.cafile) as s:
            resp = s.get(api.url("/metrics"), timeout=30)
            assert resp.status_code == 200
            return value(parse(resp.text)[0], "breakwater_http_requests_total", **HEALTHZ)
    with ThreadPoolExecutor(8) as pool:
        counts.update(pool.map(one, range(16)))
    assert counts == {value(after, "breakwater_http_requests_total", **HEALTHZ)}, counts


def test_unmatched_paths_share_one_label_value(api):
    before = scrape(api)
    for i in range(3):
        assert api.get(f"/api/no-such-thing-{i}").status_code == 404
    after = scrape(api)
    key = {"method": "other", "route": "unmatched", "status": "4xx"}
    assert value(after, "breakwater_http_requests_total", **key) - \
        value(before, "breakwater_http_requests_total", **key) == 3
    for (name, labels), _ in after.items():
        if name == "breakwater_http_requests_total":
            assert "no-such-thing" not in dict(labels)["route"]


def test_histograms_are_cumulative_and_match_count_and_sum(api):
    fire(api, "/version", 30, threads=3)
    samples = scrape(api)
    for family, route_label in (("breakwater_http_request_duration_seconds", "route"),
                                ("shoreguard_http_request_duration_seconds", "path_template")):
        counts = select(samples, family + "_count")
        assert counts, family
        for labels, count in counts.items():
            ident = dict(labels)
            buckets = sorted(((float(dict(lbl)["le"]), v) for lbl, v in
                              select(samples, family + "_bucket", **ident).items()))
            assert len(buckets) == 11 and buckets[-1][0] == float("inf"), buckets
            assert [b for b, _ in buckets[:-1]] == [.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10]
            values = [v for _, v in buckets]
            assert values == sorted(values), (ident, buckets)
            assert values[-1] == count, (ident, buckets, count)
            total = value(samples, family + "_sum", **ident)
            assert 0 <= total <= count * 60, (ident, total)
            if route_label == "route" and ident["route"] not in ("/metrics",):
                by_status = sum(select(samples, "breakwater_http_requests_total",
                                       **ident).values())
                assert by_status == count, (ident, by_status, count)
    ident = {"method": "GET", "route": "/version"}
    assert value(samples, "breakwater_http_request_duration_seconds_count", **ident) >= 30
    assert value(samples, "shoreguard_http_request_duration_seconds_count", method="GET",
                 path_template="/version") == \
        value(samples, "breakwater_http_request_duration_seconds_count", **ident)


def test_access_needs_an_admin_by_default(anon, make_sp):
    bwtest.assert_problem(anon.get("/metrics"), 401, detail=bwtest.MISSING_CREDENTIALS)
    for role in ("viewer", "operator"):
        resp = anon.get("/metrics", headers=bwtest.bearer(make_sp(role)["key"]))
        bwtest.assert_problem(resp, 403)
    resp = anon.get("/metrics", headers=bwtest.bearer(make_sp("admin")["key"]))
    assert resp.status_code == 200, describe(resp)
    parse(resp.text)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certs(str(tmp_path_factory.mktemp("metrics-certs")))


def bundle(certs):
    def pem(name):
        with open(os.path.join(certs, name), "rb") as f:
            return bwtest.b64(f.read())
    return {"ca_cert": pem("ca.crt"), "client_cert": pem("client.crt"),
            "client_key": pem("client.key")}


def test_gateway_gauges_match_the_database(api, db, unique_name, certs):
    # Registration does not connect, so a closed port is fine: the row says "offline".
    resp = api.register({"name": unique_name("metrics"), "endpoint": "127.0.0.1:9",
                         **bundle(certs)})
    assert resp.status_code == 201, describe(resp)
    # breakwater-worker rewrites last_status every few seconds: compare a scrape with the
    # database only when the database read the same before and after it.
    def counts():
        db.commit()
        with db.cursor() as cur:
            cur.execute("SELECT last_status AS s, COUNT(*) AS n FROM gateways GROUP BY last_status")
            return {row["s"]: float(row["n"]) for row in cur.fetchall()}
    for _ in range(20):
        want = counts()
        samples = scrape(api)
        if counts() == want:
            break
    assert want
    for family in ("breakwater_gateways", "shoreguard_gateways_total"):
        got = {dict(lbl)["status"]: v for lbl, v in select(samples, family).items()}
        assert got == want, (family, got, want)


def test_grpc_calls_are_counted_by_gateway_method_and_code(api, unique_name, certs, tmp_path):
    sim = SimProcess(str(tmp_path / "sim"), certs, mode="mtls", version="0.0.50", extra=[],
                     state_file=None)
    try:
        name = unique_name("grpcm")
        resp = api.register({"name": name, "endpoint": f"127.0.0.1:{sim.port}", **bundle(certs)})
        assert resp.status_code == 201, describe(resp)
        before = scrape(api)
        for _ in range(3):
            resp = api.get(f"/api/gateways/{quote_name(name)}/health")
            assert resp.status_code == 200, describe(resp)
        after = scrape(api)
    finally:
        sim.stop()
    series = {lbl: v for lbl, v in select(after, "breakwater_grpc_calls_total",
                                          gateway=name, code="OK").items()
              if dict(lbl)["method"].endswith("/Health")}
    assert len(series) == 1, series
    labels, count = next(iter(series.items()))
    assert count - before.get(("breakwater_grpc_calls_total", labels), 0.0) == 3, count


def _master_pid():
    with open(os.path.join(env("BW_RUN_DIR"), "fcgi.pid")) as f:
        return int(f.read().strip())


def _workers(master):
    kids = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master and fields[0] != "Z":
            kids.add(int(entry))
    return kids


@pytest.mark.restart
def test_a_killed_worker_does_not_reset_the_counters(api):
    fire(api, "/healthz", 40, threads=4)
    before = scrape(api)
    master = _master_pid()
    workers = _workers(master)
    assert len(workers) >= 2, workers
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        now = _workers(master)
        if len(now) == len(workers) and victim not in now:
            break
        time.sleep(0.05)
    assert victim not in _workers(master)
    # The replacement claims its slot in the shared block as it starts.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and \
            value(scrape(api), "breakwater_responder_processes") != len(workers):
        time.sleep(0.1)
    # Scrape through several connections so the replacement worker answers some of them.
    for after in (scrape(new_api) for new_api in [api.clone() for _ in range(6)]):
        for (name, labels), v in before.items():
            if name.endswith("_total") or name.endswith("_count") or name.endswith("_bucket"):
                assert after.get((name, labels), 0.0) >= v, (name, dict(labels), v)
        assert value(after, "breakwater_http_requests_total", **HEALTHZ) >= \
            value(before, "breakwater_http_requests_total", **HEALTHZ) >= 40
        assert value(after, "breakwater_responder_processes") == len(workers)


def _until(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.mark.restart
def test_public_access_by_configuration_and_counts_survive_sighup(api, anon):
    """metrics_access = public takes effect on a SIGHUP reload (no credentials: 200), and the new
    generation of workers renders the old generation's counts (the block is the master's)."""
    fire(api, "/healthz", 20, threads=4)
    before = value(scrape(api), "breakwater_http_requests_total", **HEALTHZ)
    conf = os.path.join(env("BW_RUN_DIR"), "conf", "breakwater.conf")
    with open(conf) as f:
        original = f.read()
    master = _master_pid()

    def answers(code):
        # Several in a row, so no worker of the old generation is still answering.
        return all(anon.get("/metrics").status_code == code for _ in range(8))
    try:
        with open(conf, "a") as f:
            f.write("\nmetrics_access = public\n")
        os.kill(master, signal.SIGHUP)
        assert _until(lambda: answers(200)), "metrics_access = public did not take effect"
        resp = anon.get("/metrics")
        assert resp.status_code == 200, describe(resp)
        after = value(parse(resp.text)[0], "breakwater_http_requests_total", **HEALTHZ)
        assert after >= before >= 20, (before, after)
        # Only /metrics changes: other admin routes still need credentials.
        assert anon.get("/api/auth/users").status_code == 401
    finally:
        with open(conf, "w") as f:
            f.write(original)
        os.kill(master, signal.SIGHUP)
    assert _until(lambda: answers(401)), "metrics_access back to admin did not take effect"
