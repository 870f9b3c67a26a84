"""Self-registration, which is off by default: the pool is restarted with
BREAKWATER_ALLOW_REGISTRATION=true for these tests and restarted with the default afterwards.
Marked ``restart`` (runs after every other test)."""

import os
import subprocess

import pytest

import bwtest
from bwtest import assert_problem, json_ok, set_cookie_attrs

pytestmark = pytest.mark.restart
REGISTER = "/api/auth/register"


def _restart(extra_env):
    env = {k: v for k, v in os.environ.items() if k != "BREAKWATER_ALLOW_REGISTRATION"}
    env.update(extra_env)
    proc = subprocess.run(["bash", bwtest.env("BW_STACK"), "restart-fcgi"], env=env,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.fixture(scope="module")
def registration_on():
    _restart({"BREAKWATER_ALLOW_REGISTRATION": "true"})
    yield
    _restart({})


def test_register_creates_a_viewer_with_a_session(registration_on, anon, db, unique_name):
    assert json_ok(anon.get("/api/auth/check"))["registration_enabled"] is True
    email = f"{unique_name('reg')}@e2e.test"
    resp = anon.post_json(REGISTER, {"email": " " + email.upper(), "password": "long-enough-1"})
    body = json_ok(resp, 201)
    assert body["ok"] is True and body["role"] == "viewer" and body["email"] == email
    b = bwtest.Browser(anon.base_url, anon.cafile)
    b.use(set_cookie_attrs(resp)["value"], body["csrf_token"])
    try:
        json_ok(b.get("/api/gateway/list"))
        assert_problem(b.get("/api/auth/users"), 403, detail="Requires admin role")
    finally:
        b.session.close()
    assert len(bwtest.audit_rows(db, "user.register", email)) == 1
    assert_problem(anon.post_json(REGISTER, {"email": email, "password": "long-enough-1"}), 409,
                   detail=f"An account with email '{email}' already exists")
    with db.cursor() as cur:
        cur.execute("DELETE FROM users WHERE email = %s", (email,))


@pytest.mark.parametrize("body,detail", [
    ({"email": "  ", "password": "long-enough-1"}, "Email and password are required"),
    ({"email": "nope", "password": "long-enough-1"}, "Invalid email format"),
    ({"email": "a@b", "password": "short"}, "Password must be at least 8 characters"),
])
def test_register_value_errors(registration_on, anon, body, detail):
    assert_problem(anon.post_json(REGISTER, body), 400, detail=detail)
