"""Fixtures of the Breakwater end-to-end suite.

The suite runs against a live stack (nginx + breakwater-fcgi + MariaDB) described by the
environment of docs/stack-contract.md: BW_URL, BW_TLS_CERT, BW_DB_SOCKET, BW_DB_NAME, BW_STACK,
BW_RUN_DIR, BW_ADMIN_EMAIL, BW_ADMIN_PASSWORD_FILE. Run it with
``/usr/bin/python3 -m pytest tests/e2e``.

Every client of the suite is authenticated: at session start the bootstrap admin logs in and
creates an admin service principal, whose bearer key ``bwtest.AUTH_HEADERS`` then carries on
every request (``api``, ``bwtest.new_session``, raw requests). Its audit actor is
``bwtest.AUTH["actor"]``.

Tests do not depend on each other, on their order or on an empty database: every name comes from
``unique_name`` and every gateway registered through ``api.register`` is unregistered after the
test. Tests marked ``restart`` (test_zz_restart.py) restart parts of the stack and always run
last.
"""

import itertools
import uuid

import pytest

import bwtest


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "restart: restarts the pool or MariaDB; always runs after every other test")


def pytest_collection_modifyitems(session, config, items):
    # Stable partition: the restart tests go last whatever the file order.
    items[:] = ([i for i in items if i.get_closest_marker("restart") is None]
                + [i for i in items if i.get_closest_marker("restart") is not None])


@pytest.fixture(scope="session")
def bw_env():
    try:
        return {name: bwtest.env(name) for name in
                ("BW_URL", "BW_TLS_CERT", "BW_DB_SOCKET", "BW_DB_NAME")}
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def admin_login(bw_env):
    """``{"email", "password"}`` of the stack's bootstrap admin."""
    try:
        path = bwtest.env("BW_ADMIN_PASSWORD_FILE")
        with open(path, encoding="ascii") as f:
            password = f.read().strip()
        return {"email": bwtest.env("BW_ADMIN_EMAIL"), "password": password}
    except (RuntimeError, OSError) as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def suite_credentials(bw_env, admin_login):
    """Logs the bootstrap admin in and creates the suite's admin service principal."""
    b = bwtest.Browser(bw_env["BW_URL"], bw_env["BW_TLS_CERT"])
    try:
        b.login(admin_login["email"], admin_login["password"])
        name = f"e2e-admin-{_RUN}"
        resp = b.post_json("/api/auth/service-principals", {"name": name, "role": "admin"})
        assert resp.status_code == 201, bwtest.describe(resp)
        key = resp.json()["key"]
        b.post_json("/api/auth/logout", None)
    finally:
        b.session.close()
    bwtest.AUTH_HEADERS.clear()
    bwtest.AUTH_HEADERS["Authorization"] = f"Bearer {key}"
    bwtest.AUTH["actor"] = f"sp:{name}"
    return {"name": name, "key": key}


@pytest.fixture(scope="session")
def api_session(bw_env, suite_credentials):
    client = bwtest.Api(bw_env["BW_URL"], bw_env["BW_TLS_CERT"])
    yield client
    client.session.close()


@pytest.fixture
def api(api_session):
    """The API client; gateways it registered during the test are unregistered afterwards."""
    api_session.created.clear()
    yield api_session
    for name in reversed(api_session.created):
        try:
            api_session.delete_gateway(name)
        except Exception:  # best effort: a broken DELETE is reported by its own tests
            pass
    api_session.created.clear()


@pytest.fixture
def db(bw_env, suite_credentials):
    """A fresh autocommit connection to the stack's database (root over the unix socket)."""
    conn = bwtest.connect_db(bw_env)
    yield conn
    try:
        conn.close()
    except Exception:
        pass


@pytest.fixture
def db_snapshot(db):
    """``db_snapshot()`` → counts and digests of gateways and audit_log; compare two for equality."""
    return lambda: bwtest.take_snapshot(db)


_RUN = uuid.uuid4().hex[:8]
_COUNTER = itertools.count(1)


@pytest.fixture
def unique_name():
    """``unique_name(prefix="e2e")`` → a valid gateway name (also a valid label key) never used
    before, e.g. ``e2e-1a2b3c4d-17``."""
    def make(prefix="e2e"):
        return f"{prefix}-{_RUN}-{next(_COUNTER)}"
    return make


@pytest.fixture
def gateway(api, unique_name):
    """``gateway(**fields)`` registers a gateway (name and endpoint defaulted) and returns the
    201 body; it is unregistered after the test."""
    def make(**fields):
        body = {"name": unique_name(), "endpoint": bwtest.ENDPOINT}
        body.update(fields)
        resp = api.register(body)
        assert resp.status_code == 201, bwtest.describe(resp)
        return resp.json()
    return make


@pytest.fixture
def rejected(api, db_snapshot):
    """``rejected(send, status, code=None, detail=None, detail_prefix=None, expect=None)`` calls
    ``send()``, asserts the problem envelope (or runs ``expect(resp)`` instead), that the
    database did not change and that the pool still serves a normal request afterwards; returns
    the parsed problem body."""
    def check(send, status=None, code=None, detail=None, *, detail_prefix=None, expect=None):
        before = db_snapshot()
        resp = send()
        if expect is not None:
            body = expect(resp)
        else:
            body = bwtest.assert_problem(resp, status, code, detail, detail_prefix=detail_prefix)
        assert db_snapshot() == before, "the database changed on a rejected request"
        bwtest.assert_serving(api)
        return body
    return check


# --- authentication fixtures --------------------------------------------------------------------


@pytest.fixture(autouse=True)
def fresh_abuse_counters(bw_env, suite_credentials):
    """Every test starts with empty login limiter and lockout counters: all tests log in from
    127.0.0.1, and the limiter's default (10 per 5 minutes) would otherwise carry over."""
    conn = bwtest.connect_db(bw_env)
    try:
        with conn.cursor() as cur:
            cur.execute("DELETE FROM rate_hits")
            cur.execute("DELETE FROM login_failures")
    finally:
        conn.close()


@pytest.fixture
def anon(bw_env, suite_credentials):
    """An API client that sends no credentials."""
    client = bwtest.Api(bw_env["BW_URL"], bw_env["BW_TLS_CERT"], auth=False)
    yield client
    client.session.close()


@pytest.fixture
def make_user(db, unique_name):
    """``make_user(role="viewer", password=None, **columns)`` inserts a user straight into the
    database (bcrypt hash made by Python's crypt, i.e. not by Breakwater) and returns
    ``{"id", "email", "password", "role"}``; every such user is deleted after the test."""
    made = []

    def make(role="viewer", password=None, **columns):
        email = f"{unique_name('user')}@e2e.test"
        password = password or bwtest.random_password()
        user_id = bwtest.insert_user(db, email, password, role, **columns)
        made.append(user_id)
        return {"id": user_id, "email": email, "password": password, "role": role}

    yield make
    with db.cursor() as cur:
        for user_id in made:
            cur.execute("DELETE FROM users WHERE id = %s", (user_id,))


@pytest.fixture
def browser(bw_env, suite_credentials):
    """``browser(email, password)`` → a logged-in cookie client (``bwtest.Browser``) whose
    requests carry the session's X-CSRF-Token; all are closed after the test."""
    opened = []

    def login(email, password):
        b = bwtest.Browser(bw_env["BW_URL"], bw_env["BW_TLS_CERT"])
        b.login(email, password)
        opened.append(b)
        return b

    yield login
    for b in opened:
        b.session.close()


@pytest.fixture
def make_sp(api, unique_name, db):
    """``make_sp(role="viewer", **fields)`` creates a service principal through the API and
    returns its 201 body (with ``key``); all are deleted after the test."""
    made = []

    def make(role="viewer", **fields):
        body = {"name": unique_name("sp"), "role": role}
        body.update(fields)
        resp = api.post_json("/api/auth/service-principals", body)
        assert resp.status_code == 201, bwtest.describe(resp)
        made.append(resp.json()["id"])
        return resp.json()

    yield make
    with db.cursor() as cur:
        for sp_id in made:
            cur.execute("DELETE FROM service_principals WHERE id = %s", (sp_id,))
