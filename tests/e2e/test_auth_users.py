"""User administration: invites (token shown once, stored hashed, single use, expiring),
listing, deletion with the admin-safety guards, an admin's view and revocation of a user's
sessions, and self-registration being off by default."""

import json
from datetime import timedelta

import pytest

import bwtest
from bwtest import (MISSING_CREDENTIALS, TOKEN_RE, assert_problem, audit_rows, json_ok,
                    set_cookie_attrs, sha256_hex)

USERS = "/api/auth/users"
ACCEPT = "/api/auth/accept-invite"
USER_KEYS = {"id", "email", "role", "is_active", "pending_invite", "created_at",
             "oidc_provider"}
INVALID_INVITE = "Invalid or expired invite token"


@pytest.fixture
def invite(api, unique_name, db):
    """``invite(role="viewer")`` → the 201 body; the user is deleted after the test."""
    made = []

    def make(role="viewer", email=None):
        email = email or f"{unique_name('inv')}@e2e.test"
        resp = api.post_json(USERS, {"email": email, "role": role, "password": "ignored"})
        body = json_ok(resp, 201)
        made.append(body["id"])
        return body

    yield make
    with db.cursor() as cur:
        for user_id in made:
            cur.execute("DELETE FROM users WHERE id = %s", (user_id,))


def user_row(db, user_id):
    with db.cursor() as cur:
        cur.execute("SELECT * FROM users WHERE id = %s", (user_id,))
        return cur.fetchone()


def test_invite_shows_the_token_once_and_stores_its_hash(invite, db, api):
    body = invite("operator")
    assert set(body) == {"id", "email", "role", "created_at", "invite_token"}, body
    assert TOKEN_RE.match(body["invite_token"]) and body["role"] == "operator"
    row = user_row(db, body["id"])
    assert row["invite_token_hash"] == sha256_hex(body["invite_token"])
    assert row["hashed_password"] is None
    age = row["invite_expires_at"] - row["created_at"]
    assert timedelta(days=7) - timedelta(minutes=1) <= age <= timedelta(days=7), age
    [audit] = audit_rows(db, "user.invite", body["email"])
    assert audit["actor"] == bwtest.AUTH["actor"]
    assert json.loads(audit["detail"]) == {"role": "operator"}
    listed = [u for u in json_ok(api.get(USERS)) if u["id"] == body["id"]]
    assert listed and listed[0]["pending_invite"] is True
    assert body["invite_token"] not in json.dumps(json_ok(api.get(USERS)))


def test_a_pending_invite_cannot_log_in(invite, anon):
    body = invite()
    resp = anon.post_json("/api/auth/login", {"email": body["email"], "password": "anything1"})
    assert_problem(resp, 401, detail="Invalid email or password")


def test_accept_invite_sets_the_password_once(invite, anon, db):
    body = invite("operator")
    token = body["invite_token"]
    # The password policy is checked before the token.
    assert_problem(anon.post_json(ACCEPT, {"token": "bogus", "password": "short"}), 400,
                   detail="Password must be at least 8 characters")
    assert_problem(anon.post_json(ACCEPT, {"token": "bogus", "password": "long-enough-1"}),
                   400, detail=INVALID_INVITE)
    resp = anon.post_json(ACCEPT, {"token": token, "password": "my-new-password"})
    accepted = json_ok(resp)
    assert accepted["ok"] is True and accepted["role"] == "operator"
    assert accepted["email"] == body["email"] and TOKEN_RE.match(accepted["csrf_token"])
    assert bwtest.session_row(db, set_cookie_attrs(resp)["value"])["user_id"] == body["id"]
    row = user_row(db, body["id"])
    assert row["invite_token_hash"] is None and row["hashed_password"].startswith("$2b$12$")
    assert len(audit_rows(db, "user.invite.accept", body["email"])) == 1
    # Single use.
    assert_problem(anon.post_json(ACCEPT, {"token": token, "password": "another-password"}),
                   400, detail=INVALID_INVITE)
    json_ok(anon.post_json("/api/auth/login", {"email": body["email"],
                                               "password": "my-new-password"}))


def test_expired_invites_are_refused(invite, anon, db):
    body = invite()
    with db.cursor() as cur:
        cur.execute("UPDATE users SET invite_expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND"
                    " WHERE id = %s", (body["id"],))
    assert_problem(anon.post_json(ACCEPT, {"token": body["invite_token"],
                                           "password": "long-enough-1"}),
                   400, detail=INVALID_INVITE)
    assert user_row(db, body["id"])["hashed_password"] is None


@pytest.mark.parametrize("body,loc", [
    ({"password": "long-enough-1"}, ["body", "token"]),
    ({"token": "", "password": "long-enough-1"}, ["body", "token"]),
    ({"token": "x" * 513, "password": "long-enough-1"}, ["body", "token"]),
    ({"token": "x", "password": "x" * 129}, ["body", "password"]),
])
def test_accept_schema_errors(anon, body, loc):
    bwtest.assert_validation_422(anon.post_json(ACCEPT, body), loc)


@pytest.mark.parametrize("body,status,detail", [
    ({"email": "x@y", "role": "superuser"}, 400,
     "Invalid role: 'superuser' (must be one of ('admin', 'operator', 'viewer'))"),
    ({"email": "   "}, 400, "Email is required"),
    ({"email": "not-an-email"}, 400, "Invalid email format"),
])
def test_invite_value_errors(api, rejected, body, status, detail):
    rejected(lambda: api.post_json(USERS, body), status, detail=detail)


def test_invite_of_an_existing_email_is_409(api, make_user, rejected):
    user = make_user()
    rejected(lambda: api.post_json(USERS, {"email": user["email"].upper()}), 409,
             detail=f"A user with email '{user['email']}' already exists")


def test_list_users(api, make_user, admin_login):
    user = make_user("operator")
    items = json_ok(api.get(USERS))
    for item in items:
        assert set(item) == USER_KEYS, item
    [mine] = [u for u in items if u["id"] == user["id"]]
    assert mine["email"] == user["email"] and mine["role"] == "operator"
    assert mine["is_active"] is True and mine["pending_invite"] is False
    assert any(u["email"] == admin_login["email"] for u in items)
    assert "$2b$" not in json.dumps(items)


def test_delete_user_revokes_its_sessions(api, make_user, browser, db):
    user = make_user()
    b = browser(user["email"], user["password"])
    json_ok(b.get("/api/gateway/list"))
    assert json_ok(api.delete(f"{USERS}/{user['id']}")) == {"ok": True}
    assert user_row(db, user["id"]) is None
    assert_problem(b.get("/api/gateway/list"), 401, detail=MISSING_CREDENTIALS)
    assert len(audit_rows(db, "user.delete", str(user["id"]))) == 1
    assert_problem(api.delete(f"{USERS}/{user['id']}"), 404, detail="User not found")
    bwtest.assert_validation_422(api.delete(f"{USERS}/abc"), ["path", "user_id"])


def test_an_admin_cannot_delete_themself(make_user, browser, db):
    admin = make_user("admin")
    b = browser(admin["email"], admin["password"])
    assert_problem(b.delete(f"{USERS}/{admin['id']}"), 400,
                   detail="Cannot delete your own account")
    assert user_row(db, admin["id"]) is not None


def test_the_last_active_admin_cannot_be_deleted(api, make_user, db):
    target = make_user("admin")
    inactive = make_user("admin", is_active=0)
    with db.cursor() as cur:
        cur.execute("SELECT id FROM users WHERE role = 'admin' AND is_active = 1 AND id <> %s",
                    (target["id"],))
        others = [r["id"] for r in cur.fetchall()]
        cur.execute("UPDATE users SET is_active = 0 WHERE id IN (%s)" %
                    ",".join(["%s"] * len(others)), others)
    try:
        # Inactive admins do not count.
        resp = api.delete(f"{USERS}/{target['id']}")
        assert_problem(resp, 400, detail="Cannot delete the last admin user")
        assert user_row(db, target["id"]) is not None
        json_ok(api.delete(f"{USERS}/{inactive['id']}"))
    finally:
        with db.cursor() as cur:
            cur.execute("UPDATE users SET is_active = 1 WHERE id IN (%s)" %
                        ",".join(["%s"] * len(others)), others)
    json_ok(api.delete(f"{USERS}/{target['id']}"))


def test_admin_lists_and_revokes_sessions(api, make_user, browser, db):
    user = make_user()
    first = browser(user["email"], user["password"])
    second = browser(user["email"], user["password"])
    sessions = json_ok(api.get(f"{USERS}/{user['id']}/sessions"))
    assert len(sessions) == 2
    for s in sessions:
        assert set(s) == {"id", "created_at", "last_seen", "expires_at", "client_ip",
                          "user_agent"}, s
        assert s["client_ip"]
    text = json.dumps(sessions)
    assert first.token not in text and sha256_hex(first.token) not in text
    first_id = bwtest.session_row(db, first.token)["id"]
    body = json_ok(api.delete(f"{USERS}/{user['id']}/sessions/{first_id}"))
    assert body == {"ok": True, "revoked": 1}
    assert_problem(first.get("/api/gateway/list"), 401, detail=MISSING_CREDENTIALS)
    json_ok(second.get("/api/gateway/list"))
    assert_problem(api.delete(f"{USERS}/{user['id']}/sessions/{first_id}"), 404,
                   detail="Session not found")
    body = json_ok(api.delete(f"{USERS}/{user['id']}/sessions"))
    assert body == {"ok": True, "revoked": 1}
    assert_problem(second.get("/api/gateway/list"), 401, detail=MISSING_CREDENTIALS)
    assert json_ok(api.get(f"{USERS}/{user['id']}/sessions")) == []
    assert len(audit_rows(db, "user.sessions.revoke", str(user["id"]))) == 2
    assert_problem(api.get(f"{USERS}/999999999/sessions"), 404, detail="User not found")


def test_registration_is_off_by_default(anon, rejected):
    rejected(lambda: anon.post_json("/api/auth/register", {"email": "new@e2e.test",
                                                           "password": "long-enough-1"}),
             403, detail="Registration is disabled")
    assert json_ok(anon.get("/api/auth/check"))["registration_enabled"] is False


def test_an_operator_cannot_administer_users(make_user, browser):
    op = make_user("operator")
    b = browser(op["email"], op["password"])
    assert_problem(b.get(USERS), 403, detail="Requires admin role")
    assert_problem(b.post_json(USERS, {"email": "x@y"}), 403, detail="Requires admin role")


