"""Accounts and sessions through nginx: login, check, logout, session expiry and revocation,
CSRF on cookie-authenticated writes, 401/403 envelopes and the auth.forbidden audit row."""

import json
import time

import pytest

import bwtest
from bwtest import (CSRF_DETAIL, MISSING_CREDENTIALS, assert_problem, audit_rows, json_ok,
                    session_row, set_cookie_attrs, sha256_hex)

LOGIN = "/api/auth/login"
LIST = "/api/gateway/list"


def test_check_without_credentials(anon):
    body = json_ok(anon.get("/api/auth/check"))
    assert body["authenticated"] is False
    assert body["auth_enabled"] is True
    assert body["needs_setup"] is False
    assert body["role"] is None and body["email"] is None and body["csrf_token"] is None
    assert body["registration_enabled"] is False
    assert isinstance(body["local_mode"], bool)
    assert body["oidc_providers"] == []


def test_no_credentials_is_401_with_bearer_challenge(anon):
    resp = anon.get(LIST)
    assert_problem(resp, 401, "AUTHENTICATION_REQUIRED", MISSING_CREDENTIALS)
    assert resp.headers.get("WWW-Authenticate") == "Bearer"


@pytest.mark.parametrize("headers", [
    {"Authorization": "Bearer bw_" + "A" * 43},
    {"Authorization": "Bearer "},
    {"Authorization": "Basic YWRtaW46YWRtaW4="},
    {"Cookie": "sg_session=" + "A" * 43},
    {"Cookie": "sg_session=short"},
    {"Cookie": "other=1"},
])
def test_bad_credentials_are_401(anon, headers):
    assert_problem(anon.get(LIST, headers=headers), 401, "AUTHENTICATION_REQUIRED",
                   MISSING_CREDENTIALS)


def test_login_sets_a_server_side_session(anon, make_user, db):
    user = make_user("operator")
    resp = anon.post_json(LOGIN, {"email": user["email"], "password": user["password"]},
                          headers={"User-Agent": "e2e-agent/1.0"})
    body = json_ok(resp)
    assert body["ok"] is True and body["role"] == "operator" and body["email"] == user["email"]
    assert bwtest.TOKEN_RE.match(body["csrf_token"]), body
    cookie = set_cookie_attrs(resp)
    assert bwtest.TOKEN_RE.match(cookie["value"]), cookie
    assert cookie["path"] == "/" and cookie["httponly"] is True and cookie["secure"] is True
    assert cookie["samesite"].lower() == "lax"
    assert int(cookie["max-age"]) > 0
    assert cookie["value"] != body["csrf_token"]
    row = session_row(db, cookie["value"])
    assert row is not None and row["user_id"] == user["id"]
    assert row["user_agent"] == "e2e-agent/1.0" and row["client_ip"]
    assert row["expires_at"] > row["created_at"]
    # Only the hash is stored: the token appears nowhere in the table.
    with db.cursor() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM sessions WHERE token_hash = %s",
                    (cookie["value"],))
        assert cur.fetchone()["n"] == 0
    [audit] = [r for r in audit_rows(db, "user.login", user["email"])]
    assert audit["actor"] == user["email"] and audit["actor_role"] == "operator"
    assert audit["request_id"] == resp.headers["X-Request-ID"]


def test_login_email_is_trimmed_and_case_insensitive(anon, make_user):
    user = make_user()
    resp = anon.post_json(LOGIN, {"email": "  " + user["email"].upper() + " ",
                                  "password": user["password"]})
    assert json_ok(resp)["email"] == user["email"]


def test_wrong_password_and_unknown_email_look_the_same(anon, make_user, db):
    user = make_user()
    before = db_count(db, "sessions")
    wrong = anon.post_json(LOGIN, {"email": user["email"], "password": "not-the-password"})
    unknown = anon.post_json(LOGIN, {"email": "Nobody-" + user["email"], "password": "x"})
    for resp in (wrong, unknown):
        assert_problem(resp, 401, "AUTHENTICATION_REQUIRED", "Invalid email or password")
        assert "Set-Cookie" not in resp.headers
    assert db_count(db, "sessions") == before
    [row] = audit_rows(db, "user.login_failed", user["email"])
    assert row["actor"] == user["email"] and row["actor_role"] == "unknown"
    typed = "Nobody-" + user["email"]
    [row] = audit_rows(db, "user.login_failed", typed)
    assert row["actor"] == typed, "the failed-login actor is the e-mail as typed"


def test_ineligible_accounts_cannot_log_in(anon, make_user):
    inactive = make_user(is_active=0)
    invited = make_user(invite_token_hash=sha256_hex("pending-" + inactive["email"]))
    for user in (inactive, invited):
        resp = anon.post_json(LOGIN, {"email": user["email"], "password": user["password"]})
        assert_problem(resp, 401, detail="Invalid email or password", code=None)


def test_unknown_email_costs_a_bcrypt_verification(anon):
    t0 = time.monotonic()
    resp = anon.post_json(LOGIN, {"email": "ghost@e2e.test", "password": "whatever-pw"})
    elapsed = time.monotonic() - t0
    assert resp.status_code == 401
    # A cost-12 bcrypt run takes well over 20 ms; an early return would take ~1 ms.
    assert elapsed > 0.02, elapsed


@pytest.mark.parametrize("body,loc", [
    ({"email": "a@b"}, ["body", "password"]),
    ({"password": "x"}, ["body", "email"]),
    ({"email": "a@b", "password": ""}, ["body", "password"]),
    ({"email": "a@b", "password": "x" * 129}, ["body", "password"]),
    ({"email": "a@b", "password": 5}, ["body", "password"]),
    ({"email": "x" * 250 + "@b.cd", "password": "x"}, ["body", "email"]),
])
def test_login_schema_errors_are_422(anon, rejected, body, loc):
    rejected(lambda: anon.post_json(LOGIN, body),
             expect=lambda resp: bwtest.assert_validation_422(resp, loc))


def test_login_body_must_be_an_object(anon):
    bwtest.assert_validation_422(anon.post_json(LOGIN, ["a", "b"]))


def test_setup_is_refused_once_a_user_exists(anon, db):
    before = db_count(db, "users")
    resp = anon.post_json("/api/auth/setup", {"email": "second@e2e.test",
                                              "password": "long-enough-pw"})
    assert_problem(resp, 400, detail="Setup already complete")
    assert db_count(db, "users") == before


def test_check_with_a_session(browser, make_user):
    user = make_user("admin")
    b = browser(user["email"], user["password"])
    body = json_ok(b.get("/api/auth/check"))
    assert body["authenticated"] is True and body["role"] == "admin"
    assert body["email"] == user["email"] and body["csrf_token"] == b.csrf


def test_check_with_a_bearer_key_has_no_email(api):
    body = json_ok(api.get("/api/auth/check"))
    assert body["authenticated"] is True and body["role"] == "admin"
    assert body["email"] is None and body["csrf_token"] is None


def test_logout_revokes_the_session_at_once(browser, make_user, db, anon):
    user = make_user()
    b = browser(user["email"], user["password"])
    json_ok(b.get(LIST))
    resp = b.post_json("/api/auth/logout", None)
    assert json_ok(resp) == {"ok": True}
    cookie = set_cookie_attrs(resp)
    assert cookie["value"] == "" and cookie["max-age"] == "0" and cookie["path"] == "/"
    assert session_row(db, b.token) is None
    assert_problem(b.get(LIST), 401, detail=MISSING_CREDENTIALS)
    [row] = audit_rows(db, "user.logout", user["email"])
    assert row["actor"] == user["email"]


def test_logout_needs_the_csrf_token(browser, make_user, db):
    user = make_user()
    b = browser(user["email"], user["password"])
    resp = b.post_json("/api/auth/logout", None, headers={"X-CSRF-Token": ""})
    assert_problem(resp, 403, "PERMISSION_DENIED", CSRF_DETAIL)
    assert session_row(db, b.token) is not None
    json_ok(b.get(LIST))


def test_logout_without_a_session_is_ok(anon):
    resp = anon.post_json("/api/auth/logout", None)
    assert json_ok(resp) == {"ok": True}
    assert set_cookie_attrs(resp)["max-age"] == "0"


def test_absolute_expiry_ends_the_session(browser, make_user, db):
    user = make_user()
    b = browser(user["email"], user["password"])
    json_ok(b.get(LIST))
    with db.cursor() as cur:
        cur.execute("UPDATE sessions SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND"
                    " WHERE token_hash = %s", (sha256_hex(b.token),))
    time.sleep(bwtest.AUTH_CACHE_SECONDS)  # a change behind the API's back
    assert_problem(b.get(LIST), 401, detail=MISSING_CREDENTIALS)


def test_idle_timeout_ends_the_session(browser, make_user, db):
    user = make_user()
    b = browser(user["email"], user["password"])
    with db.cursor() as cur:
        cur.execute("UPDATE sessions SET last_seen = UTC_TIMESTAMP(6) - INTERVAL 1 DAY"
                    " WHERE token_hash = %s", (sha256_hex(b.token),))
    assert_problem(b.get(LIST), 401, detail=MISSING_CREDENTIALS)


def test_use_moves_last_seen(browser, make_user, db):
    user = make_user()
    b = browser(user["email"], user["password"])
    with db.cursor() as cur:
        cur.execute("UPDATE sessions SET last_seen = UTC_TIMESTAMP(6) - INTERVAL 1 HOUR"
                    " WHERE token_hash = %s", (sha256_hex(b.token),))
    json_ok(b.get(LIST))
    row = session_row(db, b.token)
    with db.cursor() as cur:
        cur.execute("SELECT TIMESTAMPDIFF(SECOND, %s, UTC_TIMESTAMP(6)) AS age",
                    (row["last_seen"],))
        assert cur.fetchone()["age"] < 60


def test_deleting_or_deactivating_a_user_revokes_at_once(browser, make_user, db):
    gone, off = make_user(), make_user()
    b_gone = browser(gone["email"], gone["password"])
    b_off = browser(off["email"], off["password"])
    with db.cursor() as cur:
        cur.execute("DELETE FROM users WHERE id = %s", (gone["id"],))
        cur.execute("UPDATE users SET is_active = 0 WHERE id = %s", (off["id"],))
    assert session_row(db, b_gone.token) is None, "sessions cascade with their user"
    assert_problem(b_gone.get(LIST), 401, detail=MISSING_CREDENTIALS)
    assert_problem(b_off.get(LIST), 401, detail=MISSING_CREDENTIALS)


def test_role_comes_from_the_database_on_every_request(browser, make_user, db, unique_name):
    user = make_user("admin")
    b = browser(user["email"], user["password"])
    with db.cursor() as cur:
        cur.execute("UPDATE users SET role = 'viewer' WHERE id = %s", (user["id"],))
    resp = b.delete(f"/api/gateway/{unique_name()}")
    assert_problem(resp, 403, "PERMISSION_DENIED", "Requires admin role")


# --- CSRF -------------------------------------------------------------------------------------


def test_cookie_write_without_or_with_a_wrong_csrf_token_is_403(browser, make_user, rejected,
                                                                unique_name):
    user = make_user("admin")
    b = browser(user["email"], user["password"])
    body = {"name": unique_name(), "endpoint": bwtest.ENDPOINT}
    for token in ("", "x", b.csrf[:-1] + ("A" if b.csrf[-1] != "A" else "B"), b.token):
        rejected(lambda: b.post_json("/api/gateway/register", body,
                                     headers={"X-CSRF-Token": token}),
                 403, "PERMISSION_DENIED", CSRF_DETAIL)
    no_header = bwtest.Browser(b.base_url, b.cafile)
    no_header.use(b.token, b.csrf)
    del no_header.session.headers["X-CSRF-Token"]
    rejected(lambda: no_header.delete(f"/api/gateway/{body['name']}"), 403, "PERMISSION_DENIED",
             CSRF_DETAIL)
    # Reads need no token.
    json_ok(no_header.get(LIST))
    no_header.session.close()


def test_cookie_write_with_the_csrf_token_succeeds(browser, make_user, db, unique_name, api):
    user = make_user("admin")
    b = browser(user["email"], user["password"])
    name = unique_name()
    resp = b.post_json("/api/gateway/register", {"name": name, "endpoint": bwtest.ENDPOINT})
    api.created.append(name)
    json_ok(resp, 201)
    row = bwtest.one_audit_row(db, "gateway.register", name)
    assert row["actor"] == user["email"] and row["actor_role"] == "admin"
    json_ok(b.delete(f"/api/gateway/{name}"))


def test_another_sessions_csrf_token_does_not_work(browser, make_user, rejected, unique_name):
    user = make_user("admin")
    first = browser(user["email"], user["password"])
    second = browser(user["email"], user["password"])
    assert first.csrf != second.csrf
    rejected(lambda: first.post_json("/api/gateway/register",
                                     {"name": unique_name(), "endpoint": bwtest.ENDPOINT},
                                     headers={"X-CSRF-Token": second.csrf}),
             403, "PERMISSION_DENIED", CSRF_DETAIL)


# --- 403 --------------------------------------------------------------------------------------


def test_too_low_a_role_is_403_and_audited(browser, make_user, db, unique_name):
    user = make_user("viewer")
    b = browser(user["email"], user["password"])
    json_ok(b.get(LIST))
    resp = b.delete(f"/api/gateway/{unique_name()}")
    assert_problem(resp, 403, "PERMISSION_DENIED", "Requires admin role")
    rows = [r for r in audit_rows(db, "auth.forbidden", "admin", resp.headers["X-Request-ID"])]
    assert len(rows) == 1, rows
    row = rows[0]
    assert row["actor"] == user["email"] and row["actor_role"] == "viewer"
    assert row["resource_type"] == "role" and row["client_ip"]
    assert json.loads(row["detail"]) == {"actor_role": "viewer", "required_role": "admin"}


def db_count(db, table):
    with db.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) AS n FROM {table}")
        return cur.fetchone()["n"]

