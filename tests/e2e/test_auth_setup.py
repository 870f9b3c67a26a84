"""First run: with no user at all only setup (and the public probes and check) work; setup
creates the first admin once; the bootstrap command is idempotent. The users table is emptied
for the setup-pending tests and restored afterwards (the suite itself authenticates with an API
key, which survives)."""

import os
import subprocess

import time

import pytest

import bwtest
from bwtest import assert_problem, json_ok, set_cookie_attrs

SETUP = "/api/auth/setup"


@pytest.fixture
def no_users(db):
    """Empties users for the test and puts the saved rows back afterwards."""
    with db.cursor() as cur:
        cur.execute("SELECT * FROM users ORDER BY id")
        saved = list(cur.fetchall())
        cur.execute("DELETE FROM users")
    time.sleep(bwtest.AUTH_CACHE_SECONDS)  # a change behind the API's back
    try:
        yield
    finally:
        with db.cursor() as cur:
            cur.execute("DELETE FROM users")
            for row in saved:
                names = ", ".join(row)
                marks = ", ".join(["%s"] * len(row))
                cur.execute(f"INSERT INTO users ({names}) VALUES ({marks})", list(row.values()))


def test_setup_pending_mode(no_users, anon, api, db):
    body = json_ok(anon.get("/api/auth/check"))
    assert body == {"authenticated": False, "auth_enabled": False, "role": None, "email": None,
                    "needs_setup": True, "registration_enabled": False, "local_mode": None,
                    "oidc_providers": None, "csrf_token": None}
    assert_problem(anon.post_json("/api/auth/login", {"email": "a@b", "password": "x"}), 400,
                   detail="Setup not complete — create an admin user first")
    assert_problem(anon.get("/api/gateway/list"), 401, detail=bwtest.MISSING_CREDENTIALS)
    # Even a valid API key does not authenticate before the first user exists.
    assert_problem(api.get("/api/gateway/list"), 401, detail=bwtest.MISSING_CREDENTIALS)
    json_ok(anon.get("/healthz"))


@pytest.mark.parametrize("body,detail", [
    ({"email": "   ", "password": "long-enough"}, "Email and password are required"),
    ({"email": "no-at-sign", "password": "long-enough"}, "Invalid email format"),
    ({"email": "a@b", "password": "short"}, "Password must be at least 8 characters"),
    ({"email": "a@b", "password": "x" * 73}, "Password must be at most 72 bytes"),
])
def test_setup_value_errors_are_400(no_users, anon, db, body, detail):
    assert_problem(anon.post_json(SETUP, body), 400, detail=detail)
    with db.cursor() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM users")
        assert cur.fetchone()["n"] == 0


def test_setup_long_password_is_422(no_users, anon):
    bwtest.assert_validation_422(anon.post_json(SETUP, {"email": "a@b", "password": "x" * 129}),
                                 ["body", "password"])


def test_setup_creates_the_first_admin_once(no_users, anon, db):
    resp = anon.post_json(SETUP, {"email": " First@E2E.test ", "password": "first-admin-pw"})
    body = json_ok(resp)
    assert body["ok"] is True and body["role"] == "admin" and body["email"] == "first@e2e.test"
    token = set_cookie_attrs(resp)["value"]
    with db.cursor() as cur:
        cur.execute("SELECT * FROM users")
        [row] = cur.fetchall()
    assert row["email"] == "first@e2e.test" and row["role"] == "admin"
    assert row["hashed_password"].startswith("$2b$12$") and len(row["hashed_password"]) == 60
    assert len(bwtest.audit_rows(db, "user.setup", "first@e2e.test")) >= 1
    # The new session works, with its CSRF token.
    b = bwtest.Browser(anon.base_url, anon.cafile)
    b.use(token, body["csrf_token"])
    assert json_ok(b.get("/api/auth/check"))["email"] == "first@e2e.test"
    b.session.close()
    assert_problem(anon.post_json(SETUP, {"email": "second@e2e.test",
                                          "password": "second-admin-pw"}),
                   400, detail="Setup already complete")
    # The password set up works for login.
    json_ok(anon.post_json("/api/auth/login", {"email": "first@e2e.test",
                                               "password": "first-admin-pw"}))


def test_bootstrap_admin_is_idempotent(db, admin_login):
    ctl = os.path.join(bwtest.env("BW_BUILD_DIR"), "breakwaterctl")
    config = os.path.join(bwtest.env("BW_RUN_DIR"), "conf", "breakwater.conf")
    with db.cursor() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM users")
        before = cur.fetchone()["n"]
    env = {**os.environ, "BREAKWATER_ADMIN_EMAIL": "other-admin@e2e.test",
           "BREAKWATER_ADMIN_PASSWORD": "another-password"}
    proc = subprocess.run([ctl, "--config", config, "bootstrap-admin"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "not created" in proc.stdout
    with db.cursor() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM users")
        assert cur.fetchone()["n"] == before
        cur.execute("SELECT role FROM users WHERE email = %s", (admin_login["email"],))
        assert cur.fetchone()["role"] == "admin"


def test_bootstrap_admin_creates_when_empty(no_users, db, anon):
    ctl = os.path.join(bwtest.env("BW_BUILD_DIR"), "breakwaterctl")
    config = os.path.join(bwtest.env("BW_RUN_DIR"), "conf", "breakwater.conf")
    env = {**os.environ, "BREAKWATER_ADMIN_EMAIL": "Boot@E2E.test",
           "BREAKWATER_ADMIN_PASSWORD": "bootstrap-password"}
    proc = subprocess.run([ctl, "--config", config, "bootstrap-admin"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "created" in proc.stdout
    body = json_ok(anon.post_json("/api/auth/login", {"email": "boot@e2e.test",
                                                      "password": "bootstrap-password"}))
    assert body["role"] == "admin"
