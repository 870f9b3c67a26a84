"""Authorization matrix: every route of ``breakwater-fcgi --routes`` × every kind of principal
(none, viewer/operator/admin users with sessions, viewer/operator/admin service principals).
Expectation from the declared minimum role only: no credentials → 401, a lower role → 403,
enough → anything but 401/403. New routes are covered as soon as they are in the table."""

import json
import os
import subprocess

import pytest

import bwtest

RANK = {"viewer": 0, "operator": 1, "admin": 2}
PLACEHOLDERS = {"name": "matrix-absent-gateway", "gw": "matrix-absent-gateway",
                "sp_id": "999999999", "user_id": "999999999", "session_id": "999999999",
                "group_id": "999999999"}


def load_routes():
    build = os.environ.get("BW_BUILD_DIR")
    if not build:
        return []
    out = subprocess.run([os.path.join(build, "breakwater-fcgi"), "--routes"],
                         capture_output=True, text=True, timeout=60, check=True,
                         env={**os.environ, "ASAN_OPTIONS": "detect_leaks=0"}).stdout
    return json.loads(out)


ROUTES = load_routes()


def concrete(pattern):
    parts = []
    for seg in pattern.split("/"):
        if seg.startswith("{") and seg.endswith("}"):
            seg = PLACEHOLDERS.get(seg[1:-1], "x")
        parts.append(seg)
    return "/".join(parts)


def call(client, route, headers=None):
    kwargs = {"headers": headers or {}}
    if route["method"] in ("POST", "PUT", "PATCH"):
        kwargs["json"] = {}
    return client.request(route["method"], concrete(route["pattern"]), **kwargs)


def test_the_route_table_is_readable():
    assert len(ROUTES) >= 40, ROUTES
    for r in ROUTES:
        assert set(r) == {"method", "pattern", "min_role"}, r
        assert r["min_role"] in ("public", "viewer", "operator", "admin"), r
    # Every API route except the auth entry points needs a role.
    public = {(r["method"], r["pattern"]) for r in ROUTES if r["min_role"] == "public"}
    assert public == {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/version"),
                      ("POST", "/api/auth/setup"), ("POST", "/api/auth/login"),
                      ("POST", "/api/auth/logout"), ("GET", "/api/auth/check"),
                      ("POST", "/api/auth/register"), ("POST", "/api/auth/accept-invite")}, public




@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r['method']} {r['pattern']}")
def test_route_without_credentials(anon, route):
    resp = call(anon, route)
    if route["min_role"] == "public":
        assert resp.status_code not in (401, 403), bwtest.describe(resp)
    else:
        bwtest.assert_problem(resp, 401, detail=bwtest.MISSING_CREDENTIALS)
        assert resp.headers.get("WWW-Authenticate") == "Bearer"


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
@pytest.mark.parametrize("kind", ["user", "sp", "group-member"])
def test_every_route_for_a_principal(kind, role, make_user, make_sp, browser, anon, api, db):
    """``group-member``: a viewer whose group has the global role ``role`` (groups only
    raise, so that is the role that counts)."""
    if kind == "user":
        user = make_user(role)
        client, headers = browser(user["email"], user["password"]), {}
    elif kind == "group-member":
        user = make_user("viewer")
        group = bwtest.json_ok(api.post_json("/api/auth/groups",
                                             {"name": f"matrix-{user['id']}", "role": role}),
                               201)
        with db.cursor() as cur:
            cur.execute("INSERT INTO group_members (group_id, user_id) VALUES (%s, %s)",
                        (group["id"], user["id"]))
        client, headers = browser(user["email"], user["password"]), {}
    else:
        client, headers = anon, bwtest.bearer(make_sp(role)["key"])
    checked = 0
    for route in ROUTES:
        if route["min_role"] == "public":
            continue  # covered without credentials; logout would end this very session
        resp = call(client, route, headers)
        where = f"{kind}/{role} {route['method']} {route['pattern']}: {bwtest.describe(resp)}"
        if RANK[role] < RANK[route["min_role"]]:
            assert resp.status_code == 403, where
            assert resp.json()["detail"] == f"Requires {route['min_role']} role", where
        else:
            assert resp.status_code not in (401, 403), where
        checked += 1
    assert checked == sum(1 for r in ROUTES if r["min_role"] != "public")
    if kind == "group-member":
        with db.cursor() as cur:
            cur.execute("DELETE FROM auth_groups WHERE id = %s", (group["id"],))


GW_SCOPED = "/api/gateways/{gw}"


@pytest.mark.parametrize("global_role,gw_role", [("admin", "viewer"), ("viewer", "admin"),
                                                 ("viewer", "operator")],
                         ids=["demoted", "promoted", "promoted-operator"])
@pytest.mark.parametrize("kind", ["user", "sp"])
def test_every_route_with_a_per_gateway_role(kind, global_role, gw_role, make_user, make_sp,
                                             browser, anon, api, gateway):
    """A principal whose role on one gateway differs from its global role: on routes under
    /api/gateways/{gw} (for that gateway) the override counts, everywhere else (including the
    global /api/gateway/{name} routes for the same gateway) the global role does."""
    gw = gateway()["name"]
    if kind == "user":
        user = make_user(global_role)
        subject = f"/api/auth/users/{user['id']}"
        client, headers = browser(user["email"], user["password"]), {}
    else:
        sp = make_sp(global_role)
        subject = f"/api/auth/service-principals/{sp['id']}"
        client, headers = anon, bwtest.bearer(sp["key"])
    bwtest.json_ok(api.request("PUT", f"{subject}/gateway-roles/{gw}", json={"role": gw_role}))
    placeholders = dict(PLACEHOLDERS, name=gw, gw=gw)
    for route in ROUTES:
        if route["min_role"] == "public":
            continue
        if route["method"] == "DELETE" and route["pattern"] == "/api/gateway/{name}":
            placeholders_here = dict(placeholders, name="matrix-absent-gateway")
        else:
            placeholders_here = placeholders
        path = "/".join(placeholders_here.get(s[1:-1], "x") if s.startswith("{") else s
                        for s in route["pattern"].split("/"))
        kwargs = {"headers": headers}
        if route["method"] in ("POST", "PUT", "PATCH"):
            kwargs["json"] = {}
        resp = client.request(route["method"], path, **kwargs)
        role = gw_role if route["pattern"].startswith(GW_SCOPED) else global_role
        where = f"{kind} {global_role}/{gw_role} {route['method']} {path}: {bwtest.describe(resp)}"
        if RANK[role] < RANK[route["min_role"]]:
            assert resp.status_code == 403, where
        else:
            assert resp.status_code not in (401, 403), where
