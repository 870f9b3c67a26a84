"""Service principals (API keys): create (key shown once), list, rotate, delete, expiry,
last_used, the sp:<name> actor, and the precedence of Bearer over the session cookie."""

import time
import json
from datetime import datetime, timedelta, timezone

import pytest

import bwtest
from bwtest import (MISSING_CREDENTIALS, SP_KEY_RE, assert_problem, audit_rows, bearer,
                    json_ok, sha256_hex, sp_row)

SPS = "/api/auth/service-principals"
LIST = "/api/gateway/list"
SP_KEYS = {"id", "name", "role", "key_prefix", "created_at", "created_by", "last_used",
           "expires_at"}


def test_create_shows_the_key_once_and_stores_its_hash(api, make_sp, db):
    sp = make_sp("operator")
    assert set(sp) == SP_KEYS | {"key"}, sp
    assert SP_KEY_RE.match(sp["key"]), sp
    assert sp["key_prefix"] == sp["key"][:12]
    assert sp["role"] == "operator" and sp["last_used"] is None and sp["expires_at"] is None
    bwtest.assert_rfc3339_utc(sp["created_at"])
    row = sp_row(db, sp["id"])
    assert row["key_hash"] == sha256_hex(sp["key"])
    assert sp["key"] not in json.dumps({k: str(v) for k, v in row.items()})
    [audit] = audit_rows(db, "sp.create", sp["name"])
    assert audit["actor"] == bwtest.AUTH["actor"] and audit["resource_type"] == "service_principal"
    assert json.loads(audit["detail"]) == {"role": "operator"}


def test_created_by_is_the_logged_in_admin(browser, make_user, db):
    admin = make_user("admin")
    b = browser(admin["email"], admin["password"])
    resp = b.post_json(SPS, {"name": f"by-{admin['id']}"})
    sp = json_ok(resp, 201)
    try:
        assert sp["created_by"] == admin["id"] and sp["role"] == "viewer"
    finally:
        json_ok(b.delete(f"{SPS}/{sp['id']}"))


def test_list_never_shows_keys_or_hashes(api, make_sp):
    sp = make_sp()
    items = json_ok(api.get(SPS))
    assert isinstance(items, list)
    [mine] = [i for i in items if i["id"] == sp["id"]]
    assert set(mine) == SP_KEYS, mine
    assert mine["key_prefix"] == sp["key_prefix"]
    text = json.dumps(items)
    assert sp["key"] not in text and sha256_hex(sp["key"]) not in text


def test_a_key_authenticates_and_acts_as_sp_name(anon, make_sp, db, unique_name, api):
    sp = make_sp("admin")
    json_ok(anon.get(LIST, headers=bearer(sp["key"])))
    assert sp_row(db, sp["id"])["last_used"] is not None, "last_used is updated on use"
    name = unique_name()
    resp = anon.post_json("/api/gateway/register", {"name": name, "endpoint": bwtest.ENDPOINT},
                          headers=bearer(sp["key"]))
    api.created.append(name)
    json_ok(resp, 201)
    row = bwtest.one_audit_row(db, "gateway.register", name)
    assert row["actor"] == f"sp:{sp['name']}" and row["actor_role"] == "admin"


def test_bearer_scheme_is_case_insensitive(anon, make_sp):
    sp = make_sp()
    json_ok(anon.get(LIST, headers={"Authorization": f"bEaReR {sp['key']}"}))


def test_rotate_kills_the_old_key_at_once(anon, api, make_sp, db):
    sp = make_sp("operator", expires_at="2099-01-01T00:00:00Z")
    resp = api.post_json(f"{SPS}/{sp['id']}/rotate", None)
    new = json_ok(resp)
    assert SP_KEY_RE.match(new["key"]) and new["key"] != sp["key"]
    assert new["key_prefix"] == new["key"][:12]
    assert new["role"] == "operator" and new["name"] == sp["name"] and new["id"] == sp["id"]
    assert new["expires_at"] == sp["expires_at"], "rotation keeps the expiry"
    assert_problem(anon.get(LIST, headers=bearer(sp["key"])), 401, detail=MISSING_CREDENTIALS)
    json_ok(anon.get(LIST, headers=bearer(new["key"])))
    assert sp_row(db, sp["id"])["key_hash"] == sha256_hex(new["key"])
    assert len(audit_rows(db, "sp.rotate", str(sp["id"]))) == 1


def test_delete_kills_the_key_at_once(anon, api, make_sp, db):
    sp = make_sp()
    json_ok(anon.get(LIST, headers=bearer(sp["key"])))
    assert json_ok(api.delete(f"{SPS}/{sp['id']}")) == {"ok": True}
    assert_problem(anon.get(LIST, headers=bearer(sp["key"])), 401, detail=MISSING_CREDENTIALS)
    assert sp_row(db, sp["id"]) is None
    assert len(audit_rows(db, "sp.delete", str(sp["id"]))) == 1
    assert_problem(api.delete(f"{SPS}/{sp['id']}"), 404, detail="Service principal not found")
    assert_problem(api.post_json(f"{SPS}/{sp['id']}/rotate", None), 404,
                   detail="Service principal not found")


@pytest.mark.parametrize("bad", ["abc", "-1", "1.5", "9" * 30])
def test_non_integer_ids_are_422(api, bad):
    bwtest.assert_validation_422(api.delete(f"{SPS}/{bad}"), ["path", "sp_id"])


def test_expired_keys_are_unknown(anon, make_sp, db):
    past = (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat()
    expired = make_sp(expires_at=past)
    assert_problem(anon.get(LIST, headers=bearer(expired["key"])), 401,
                   detail=MISSING_CREDENTIALS)
    future = make_sp(expires_at="2099-06-01T12:00:00+02:00")
    assert future["expires_at"] == "2099-06-01T10:00:00.000000+00:00"
    json_ok(anon.get(LIST, headers=bearer(future["key"])))
    with db.cursor() as cur:
        cur.execute("UPDATE service_principals SET expires_at = UTC_TIMESTAMP(6)"
                    " WHERE id = %s", (future["id"],))
    time.sleep(bwtest.AUTH_CACHE_SECONDS)  # a change behind the API's back
    assert_problem(anon.get(LIST, headers=bearer(future["key"])), 401,
                   detail=MISSING_CREDENTIALS)


@pytest.mark.parametrize("body,status,detail", [
    ({"name": "x", "role": "root"}, 400,
     "Invalid role: 'root' (must be one of ('admin', 'operator', 'viewer'))"),
    ({"name": "   "}, 400, "Name is required"),
    ({"name": "n" * 101}, 400, "Name must be at most 100 characters"),
])
def test_create_value_errors(api, rejected, body, status, detail):
    rejected(lambda: api.post_json(SPS, body), status, detail=detail)


@pytest.mark.parametrize("body,loc", [
    ({}, ["body", "name"]),
    ({"name": 5}, ["body", "name"]),
    ({"name": "x", "expires_at": "soon"}, ["body", "expires_at"]),
    ({"name": "x", "expires_at": 12}, ["body", "expires_at"]),
])
def test_create_schema_errors(api, rejected, body, loc):
    rejected(lambda: api.post_json(SPS, body),
             expect=lambda resp: bwtest.assert_validation_422(resp, loc))


def test_duplicate_name_is_409(api, make_sp, rejected):
    sp = make_sp()
    rejected(lambda: api.post_json(SPS, {"name": sp["name"]}), 409,
             detail=f"A service principal named '{sp['name']}' already exists")


def test_bearer_wins_over_the_cookie(browser, make_user, make_sp, unique_name):
    admin = make_user("admin")
    b = browser(admin["email"], admin["password"])
    viewer_sp = make_sp("viewer")
    # A valid key decides, even next to an admin's cookie.
    resp = b.delete(f"/api/gateway/{unique_name()}", headers=bearer(viewer_sp["key"]))
    assert_problem(resp, 403, detail="Requires admin role")
    # An unknown key falls through to the cookie.
    resp = b.delete(f"/api/gateway/{unique_name()}", headers=bearer("bw_" + "Z" * 43))
    assert_problem(resp, 404)
    body = json_ok(b.get("/api/auth/check", headers=bearer(viewer_sp["key"])))
    assert body["role"] == "viewer" and body["email"] is None


def test_bearer_writes_need_no_csrf_token(anon, make_sp, unique_name):
    sp = make_sp("admin")
    resp = anon.delete(f"/api/gateway/{unique_name()}", headers=bearer(sp["key"]))
    assert_problem(resp, 404)


def test_a_viewer_key_is_403_on_admin_routes_and_audited(anon, make_sp, db):
    sp = make_sp("viewer")
    resp = anon.get(SPS, headers=bearer(sp["key"]))
    assert_problem(resp, 403, "PERMISSION_DENIED", "Requires admin role")
    [row] = audit_rows(db, "auth.forbidden", "admin", resp.headers["X-Request-ID"])
    assert row["actor"] == f"sp:{sp['name']}" and row["actor_role"] == "viewer"
