"""The per-actor write limit: every authenticated write counts against its actor, whichever
worker process serves it (the counts live in MariaDB); past the limit a write gets 429 with
Retry-After and changes nothing; reads are never limited; another actor is unaffected."""

import os
from concurrent.futures import ThreadPoolExecutor

import bwtest


def _limit():
    conf = os.path.join(bwtest.env("BW_RUN_DIR"), "conf", "breakwater.conf")
    with open(conf) as f:
        for line in f:
            key, _, value = line.partition("=")
            if key.strip() == "write_rate_limit_attempts":
                return int(value)
    return 120  # the default of lib/conf.c


def _patch_many(api, key, name, n, text="w"):
    def one(i):
        with bwtest.new_session(api.cafile, auth=False) as s:
            return s.patch(api.url(f"/api/gateway/{name}"), json={"description": f"{text}{i}"},
                           headers=bwtest.bearer(key), timeout=60)
    with ThreadPoolExecutor(8) as ex:
        return list(ex.map(one, range(n)))


def test_writes_per_actor_are_limited_across_processes(api, gateway, make_sp, db):
    limit = _limit()
    name = gateway()["name"]
    writer = make_sp(role="admin")
    other = make_sp(role="admin")
    resps = _patch_many(api, writer["key"], name, limit)
    assert [r.status_code for r in resps] == [200] * limit, [
        (r.status_code, r.text[:200]) for r in resps if r.status_code != 200][:3]
    pids = bwtest.request_pids([r.headers["X-Request-ID"] for r in resps])
    assert len(set(pids.values())) >= 2, "the writes were not spread over two worker processes"

    over = _patch_many(api, writer["key"], name, 1, text="refused")[0]
    bwtest.assert_problem(over, 429, "RATE_LIMITED", "Too many requests. Try again later.")
    assert int(over.headers["Retry-After"]) >= 1
    info = bwtest.json_ok(api.request("GET", f"/api/gateway/{name}/info"))
    assert info["description"] != "refused0", info
    # Reads by the limited actor still pass; another actor's writes are unaffected.
    with bwtest.new_session(api.cafile, auth=False) as s:
        r = s.get(api.url("/api/gateway/list"), headers=bwtest.bearer(writer["key"]), timeout=30)
        assert r.status_code == 200, r.text
    assert _patch_many(api, other["key"], name, 1)[0].status_code == 200
    with db.cursor() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM rate_hits WHERE bucket = 'write' AND rkey = %s",
                    ("sp:" + writer["name"],))
        assert cur.fetchone()["n"] == limit
