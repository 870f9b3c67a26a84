"""Responder processes cache resolved credentials (services/authcache.h). These tests first warm
that cache in every worker process, then revoke through the API and check that the very next
requests — on new connections, whichever worker answers — are refused: a revocation made on
this host must never wait for the cache to age out."""

from concurrent.futures import ThreadPoolExecutor

import bwtest
from bwtest import MISSING_CREDENTIALS, assert_problem, bearer, json_ok

LIST = "/api/gateway/list"


def _many(api, headers, n=24, threads=8):
    """n GETs on new connections in parallel; returns the responses."""
    def one(_):
        with bwtest.new_session(api.cafile, auth=False) as s:
            return s.get(api.url(LIST), headers=headers, timeout=30)
    with ThreadPoolExecutor(threads) as ex:
        return list(ex.map(one, range(n)))


def _warm(api, headers):
    """Until at least two worker processes have served (and so cached) the credential."""
    pids = set()
    for _ in range(20):
        resps = _many(api, headers, n=64, threads=16)
        assert all(r.status_code == 200 for r in resps), [r.text[:200] for r in resps][:3]
        pids |= set(bwtest.request_pids([r.headers["X-Request-ID"] for r in resps]).values())
        if len(pids) >= 2:
            return
    raise AssertionError("the warm-up never reached two worker processes")


def _all_refused(api, headers):
    for r in _many(api, headers):
        assert_problem(r, 401, detail=MISSING_CREDENTIALS)


def test_a_deleted_key_is_refused_at_once_by_every_worker(api, make_sp):
    sp = make_sp(role="viewer")
    _warm(api, bearer(sp["key"]))
    resp = api.request("DELETE", f"/api/auth/service-principals/{sp['id']}")
    assert resp.status_code == 200, resp.text
    _all_refused(api, bearer(sp["key"]))


def test_a_rotated_key_is_refused_at_once_and_the_new_one_works(api, make_sp):
    sp = make_sp(role="viewer")
    _warm(api, bearer(sp["key"]))
    rotated = json_ok(api.post(f"/api/auth/service-principals/{sp['id']}/rotate"))
    _all_refused(api, bearer(sp["key"]))
    assert all(r.status_code == 200 for r in _many(api, bearer(rotated["key"])))


def test_a_logged_out_session_is_refused_at_once_by_every_worker(browser, make_user):
    user = make_user()
    b = browser(user["email"], user["password"])
    cookie = {"Cookie": f"{bwtest.SESSION_COOKIE}={b.token}"}
    _warm(b, cookie)
    json_ok(b.post_json("/api/auth/logout", None))
    _all_refused(b, cookie)
