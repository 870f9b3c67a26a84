"""The gateway list is served from per-worker caches of rendered responses. These tests warm
every worker's cache first, then check that a write is visible on every following request,
whichever worker answers, and that a write made by "another host" (straight into the database,
bumping the registry generation as every Breakwater write does) shows within the documented
one-second bound."""

import time
from concurrent.futures import ThreadPoolExecutor

from bwtest import json_ok, new_session


def _lists(api, n=24, params=None):
    """n list calls, each on a new connection (so both workers and all threads answer)."""
    def one(_):
        with new_session(api.cafile) as session:
            resp = session.get(api.url("/api/gateway/list"), params=params, timeout=30)
            return json_ok(resp)
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(n)))


def _item(body, name):
    return next((i for i in body["items"] if i["name"] == name), None)


def test_writes_are_visible_on_every_worker_at_once(api, gateway, unique_name):
    _lists(api)  # warm every cache
    _lists(api, params={"label": "cache:probe"})
    gw = gateway(labels={"cache": "probe"})
    name = gw["name"]
    for body in _lists(api):
        assert _item(body, name) is not None, "a cached list missed a registration"
    for body in _lists(api, params={"label": "cache:probe"}):
        assert [i["name"] for i in body["items"]] == [name]

    json_ok(api.request("PATCH", f"/api/gateway/{name}", json={"labels": {"cache": "moved"}}))
    for body in _lists(api):
        assert _item(body, name)["labels"] == {"cache": "moved"}
    for body in _lists(api, params={"label": "cache:probe"}):
        assert body["items"] == [], "a filtered cached list kept a changed gateway"

    json_ok(api.request("DELETE", f"/api/gateway/{name}"))
    for body in _lists(api):
        assert _item(body, name) is None, "a cached list kept a deleted gateway"


def test_a_write_from_another_host_shows_within_the_bound(api, gateway, db):
    gw = gateway(description="before")
    name = gw["name"]
    _lists(api)
    with db.cursor() as cur:
        cur.execute("UPDATE gateways SET description = 'from elsewhere' WHERE name = %s", (name,))
        cur.execute("UPDATE registry_state SET generation = generation + 1 WHERE id = 1")
    deadline = time.monotonic() + 1.5  # the 1 s recheck bound plus request time
    while True:
        bodies = _lists(api, n=8)
        if all(_item(b, name)["description"] == "from elsewhere" for b in bodies):
            break
        assert time.monotonic() < deadline, "another host's write was not visible within 1.5 s"
        time.sleep(0.1)
