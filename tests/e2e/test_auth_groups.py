"""Groups, members and per-gateway roles (reference §6.1 rows 10-29) and how they change the
effective role: a group's global role only raises; per-gateway overrides never apply to the
global /api/gateway/{name} routes."""

import json

import pytest

import bwtest
from bwtest import assert_problem, audit_rows, json_ok

GROUPS = "/api/auth/groups"
GROUP_KEYS = {"id", "name", "role", "description", "created_at", "member_count"}
GWROLE_KEYS = {"gateway_name", "role", "user_id", "sp_id", "group_id"}


@pytest.fixture
def make_group(api, unique_name, db):
    made = []

    def make(role="viewer", **fields):
        body = {"name": unique_name("grp"), "role": role}
        body.update(fields)
        created = json_ok(api.post_json(GROUPS, body), 201)
        made.append(created["id"])
        return created

    yield make
    with db.cursor() as cur:
        for gid in made:
            cur.execute("DELETE FROM auth_groups WHERE id = %s", (gid,))


def test_group_lifecycle(api, make_group, db):
    g = make_group("operator", description="ops people")
    assert set(g) == GROUP_KEYS and g["member_count"] == 0 and g["role"] == "operator"
    assert g["description"] == "ops people"
    [audit] = audit_rows(db, "group.create", g["name"])
    assert json.loads(audit["detail"]) == {"role": "operator"}
    listed = [x for x in json_ok(api.get(GROUPS)) if x["id"] == g["id"]]
    assert listed == [g]
    got = json_ok(api.get(f"{GROUPS}/{g['id']}"))
    assert got["members"] == [] and got["member_count"] is None
    new_name = g["name"] + "-renamed"
    upd = json_ok(api.request("PUT", f"{GROUPS}/{g['id']}", json={"name": new_name,
                                                                  "role": "admin"}))
    assert upd["name"] == new_name and upd["role"] == "admin"
    assert upd["description"] is None, "an absent description clears it (as the reference)"
    assert len(audit_rows(db, "group.update", new_name)) == 1
    assert json_ok(api.delete(f"{GROUPS}/{g['id']}")) == {"ok": True}
    assert len(audit_rows(db, "group.delete", new_name)) == 1
    assert_problem(api.get(f"{GROUPS}/{g['id']}"), 404, detail="Group not found")
    assert_problem(api.delete(f"{GROUPS}/{g['id']}"), 404, detail="Group not found")
    assert_problem(api.request("PUT", f"{GROUPS}/{g['id']}", json={}), 404,
                   detail=f"Group {g['id']} not found")


def test_group_errors(api, make_group, rejected):
    g = make_group()
    rejected(lambda: api.post_json(GROUPS, {"name": g["name"]}), 409,
             detail="Group name already exists")
    rejected(lambda: api.post_json(GROUPS, {"name": "x", "role": "boss"}), 400,
             detail="Invalid role: 'boss'")
    rejected(lambda: api.post_json(GROUPS, {"name": "  "}), 400, detail="Name is required")
    rejected(lambda: api.post_json(GROUPS, {}),
             expect=lambda r: bwtest.assert_validation_422(r, ["body", "name"]))


def test_members(api, make_group, make_user, db):
    g = make_group()
    user = make_user()
    resp = api.post_json(f"{GROUPS}/{g['id']}/members", {"user_id": user["id"]})
    assert json_ok(resp, 201) == {"group_id": g["id"], "group_name": g["name"],
                                  "user_id": user["id"], "user_email": user["email"]}
    [audit] = audit_rows(db, "group.member.add", g["name"])
    assert json.loads(audit["detail"]) == {"user_id": user["id"], "user_email": user["email"]}
    assert_problem(api.post_json(f"{GROUPS}/{g['id']}/members", {"user_id": user["id"]}), 409,
                   detail="User is already a member")
    assert_problem(api.post_json(f"{GROUPS}/999999999/members", {"user_id": user["id"]}), 404,
                   detail="Group 999999999 not found")
    assert_problem(api.post_json(f"{GROUPS}/{g['id']}/members", {"user_id": 999999999}), 404,
                   detail="User 999999999 not found")
    bwtest.assert_validation_422(
        api.post_json(f"{GROUPS}/{g['id']}/members", {"user_id": "one"}), ["body", "user_id"])
    got = json_ok(api.get(f"{GROUPS}/{g['id']}"))
    assert got["members"] == [{"id": user["id"], "email": user["email"], "role": "viewer"}]
    assert [x for x in json_ok(api.get(GROUPS)) if x["id"] == g["id"]][0]["member_count"] == 1
    assert json_ok(api.delete(f"{GROUPS}/{g['id']}/members/{user['id']}")) == {"ok": True}
    assert_problem(api.delete(f"{GROUPS}/{g['id']}/members/{user['id']}"), 404,
                   detail="Membership not found")
    assert len(audit_rows(db, "group.member.remove", g["name"])) == 1


def test_a_group_role_raises_and_never_lowers(api, make_group, make_user, browser):
    admins, viewers = make_group("admin"), make_group("viewer")
    viewer = make_user("viewer")
    operator = make_user("operator")
    b = browser(viewer["email"], viewer["password"])
    assert_problem(b.get("/api/auth/users"), 403, detail="Requires admin role")
    json_ok(api.post_json(f"{GROUPS}/{admins['id']}/members", {"user_id": viewer["id"]}), 201)
    json_ok(b.get("/api/auth/users"))
    # /api/auth/check reports the plain role, without group elevation.
    assert json_ok(b.get("/api/auth/check"))["role"] == "viewer"
    json_ok(api.delete(f"{GROUPS}/{admins['id']}/members/{viewer['id']}"))
    assert_problem(b.get("/api/auth/users"), 403, detail="Requires admin role")
    # A viewer group does not lower an operator.
    json_ok(api.post_json(f"{GROUPS}/{viewers['id']}/members", {"user_id": operator["id"]}), 201)
    ob = browser(operator["email"], operator["password"])
    assert_problem(ob.get("/api/auth/users"), 403, detail="Requires admin role")


@pytest.mark.parametrize("kind", ["users", "service-principals", "groups"])
def test_gateway_roles(kind, api, gateway, make_user, make_sp, make_group, db):
    subject = {"users": lambda: make_user(), "service-principals": lambda: make_sp(),
               "groups": lambda: make_group()}[kind]()
    id_key = {"users": "user_id", "service-principals": "sp_id", "groups": "group_id"}[kind]
    base = f"/api/auth/{kind}/{subject['id']}/gateway-roles"
    gw_b, gw_a = gateway()["name"], gateway()["name"]
    for gw, role in ((gw_b, "operator"), (gw_a, "admin"), (gw_b, "viewer")):
        body = json_ok(api.request("PUT", f"{base}/{gw}", json={"role": role}))
        expect = {"gateway_name": gw, "role": role, "user_id": None, "sp_id": None,
                  "group_id": None}
        expect[id_key] = subject["id"]
        assert body == expect
    listed = json_ok(api.get(base))
    assert [(x["gateway_name"], x["role"]) for x in listed] == sorted(
        [(gw_a, "admin"), (gw_b, "viewer")])
    assert all(set(x) == GWROLE_KEYS for x in listed)
    action = {"users": "user", "service-principals": "sp", "groups": "group"}[kind]
    rows = audit_rows(db, f"{action}.gateway_role.set", str(subject["id"]))
    assert len(rows) == 3 and json.loads(rows[-1]["detail"]) == {"gateway": gw_b,
                                                                 "role": "viewer"}
    assert_problem(api.request("PUT", f"{base}/{gw_a}", json={"role": "chief"}), 400,
                   detail_prefix="Invalid role: 'chief'")
    assert_problem(api.request("PUT", f"{base}/absent-gw-{subject['id']}",
                               json={"role": "viewer"}), 404,
                   detail=f"Gateway 'absent-gw-{subject['id']}' not found")
    json_ok(api.delete(f"{base}/{gw_a}"))
    assert_problem(api.delete(f"{base}/{gw_a}"), 404, detail="Gateway role not found")
    assert len(audit_rows(db, f"{action}.gateway_role.remove", str(subject["id"]))) == 1
    # Deleting the gateway takes its roles with it.
    json_ok(api.delete_gateway(gw_b))
    assert json_ok(api.get(base)) == []
    assert_problem(api.get(f"/api/auth/{kind}/999999999/gateway-roles"), 404)


@pytest.mark.parametrize("kind", ["users", "service-principals"])
def test_user_and_sp_gateway_roles_check_the_name(kind, api, make_user, make_sp):
    subject = make_user() if kind == "users" else make_sp()
    resp = api.request("PUT", f"/api/auth/{kind}/{subject['id']}/gateway-roles/-bad",
                       json={"role": "viewer"})
    assert_problem(resp, 400, detail="Invalid gateway name")


def test_overrides_do_not_apply_to_global_gateway_routes(api, gateway, make_user, browser):
    gw = gateway()["name"]
    viewer = make_user("viewer")
    json_ok(api.request("PUT", f"/api/auth/users/{viewer['id']}/gateway-roles/{gw}",
                        json={"role": "admin"}))
    b = browser(viewer["email"], viewer["password"])
    assert_problem(b.delete(f"/api/gateway/{gw}"), 403, detail="Requires admin role")
    json_ok(b.get(f"/api/gateway/{gw}/info"))


def test_a_failed_role_lookup_is_503_never_a_fallback(make_user, browser, api, db):
    """With the group tables unreadable the guard cannot compute the effective role: it answers
    503 instead of falling back to the global role (which would be a 403 here, or worse, a pass
    for someone a group had elevated)."""
    viewer = make_user("viewer")
    b = browser(viewer["email"], viewer["password"])
    with db.cursor() as cur:
        cur.execute("RENAME TABLE group_members TO group_members_hidden")
    try:
        resp = b.get("/api/auth/users")
        assert_problem(resp, 503, "SERVICE_UNAVAILABLE",
                       "Group role lookup failed — try again later")
        # Viewer routes need no lookup, and neither does a service principal off gateway routes.
        json_ok(b.get("/api/gateway/list"))
        json_ok(api.get("/api/auth/users"))
    finally:
        with db.cursor() as cur:
            cur.execute("RENAME TABLE group_members_hidden TO group_members")
    assert_problem(b.get("/api/auth/users"), 403, detail="Requires admin role")
