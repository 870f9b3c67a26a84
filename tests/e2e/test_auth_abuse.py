"""Account lockout and the login rate limiter. Their state is in MariaDB, so the counts hold
across the pool's worker processes: the attempts are sent in parallel and the pool's request
log shows that more than one process served them."""

import time
from concurrent.futures import ThreadPoolExecutor

import bwtest
from bwtest import assert_problem, json_ok

LOGIN = "/api/auth/login"
TOO_MANY = "Too many requests. Try again later."


def parallel_posts(api, path, bodies):
    def one(body):
        with bwtest.new_session(api.cafile, auth=False) as s:
            return s.post(api.url(path), json=body, timeout=120)
    with ThreadPoolExecutor(len(bodies)) as ex:
        return list(ex.map(one, bodies))


def served_by(resps):
    ids = [r.headers["X-Request-ID"] for r in resps]
    # The log line is written after the response; give the last ones a moment.
    for _ in range(50):
        pids = bwtest.request_pids(ids)
        if len(pids) == len(ids):
            break
        time.sleep(0.1)
    assert len(pids) == len(ids), (ids, pids)
    return set(pids.values())


def failures(db, email):
    with db.cursor() as cur:
        cur.execute("SELECT failures FROM login_failures WHERE email = %s", (email,))
        row = cur.fetchone()
        return row["failures"] if row else 0


def test_five_failures_lock_the_account_across_processes(anon, make_user, db):
    pw = bwtest.random_password()
    # A cost-12 hash keeps each attempt busy long enough for the parallel ones to overlap.
    user = make_user(password=pw, hashed_password=bwtest.bcrypt_hash(pw, 12))
    other = make_user()
    resps = parallel_posts(anon, LOGIN, [{"email": user["email"], "password": "wrong-pw"}] * 5)
    for resp in resps:
        assert_problem(resp, 401, detail="Invalid email or password")
    assert failures(db, user["email"]) == 5
    locked = anon.post_json(LOGIN, {"email": user["email"], "password": pw})
    assert_problem(locked, 429, "RATE_LIMITED", TOO_MANY)
    assert 880 <= int(locked.headers["Retry-After"]) <= 900, locked.headers["Retry-After"]
    assert "Set-Cookie" not in locked.headers
    assert len(served_by(resps + [locked])) >= 2, "all attempts went to one process"
    # Another account is not affected.
    json_ok(anon.post_json(LOGIN, {"email": other["email"], "password": other["password"]}))
    # The lock lasts 15 minutes after the last failure, then the right password works and
    # the counter is gone.
    with db.cursor() as cur:
        cur.execute("UPDATE login_failures SET last_failure = UTC_TIMESTAMP(6) - INTERVAL 901"
                    " SECOND WHERE email = %s", (user["email"],))
    json_ok(anon.post_json(LOGIN, {"email": user["email"], "password": pw}))
    assert failures(db, user["email"]) == 0


def test_a_success_clears_the_failures(anon, make_user, db):
    user = make_user()
    for _ in range(4):
        assert_problem(anon.post_json(LOGIN, {"email": user["email"], "password": "nope"}), 401)
    assert failures(db, user["email"]) == 4
    json_ok(anon.post_json(LOGIN, {"email": user["email"], "password": user["password"]}))
    assert failures(db, user["email"]) == 0


def test_unknown_emails_are_locked_too(anon, db):
    email = "ghost-lock@e2e.test"
    for _ in range(5):
        assert_problem(anon.post_json(LOGIN, {"email": email, "password": "x"}), 401)
    resp = anon.post_json(LOGIN, {"email": " GHOST-lock@e2e.test", "password": "x"})
    assert_problem(resp, 429, detail=TOO_MANY)


def test_login_rate_limit_per_ip_across_processes(anon, admin_login, db):
    resps = parallel_posts(anon, LOGIN, [admin_login] * 10)
    for resp in resps:
        json_ok(resp)  # successful logins count as well
    limited = anon.post_json(LOGIN, admin_login)
    assert_problem(limited, 429, "RATE_LIMITED", TOO_MANY)
    assert 1 <= int(limited.headers["Retry-After"]) <= 1200
    # Setup shares the bucket: limited before it could say "already complete".
    assert_problem(anon.post_json("/api/auth/setup", admin_login), 429, detail=TOO_MANY)
    with db.cursor() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM rate_hits WHERE bucket = 'login'"
                    " AND rkey = '127.0.0.1'")
        assert cur.fetchone()["n"] == 10, "refused attempts are not recorded"
    assert len(served_by(resps + [limited])) >= 2, "all attempts went to one process"
    # Once the window has passed, logins work again.
    with db.cursor() as cur:
        cur.execute("UPDATE rate_hits SET at = at - INTERVAL 301 SECOND WHERE bucket = 'login'")
    json_ok(anon.post_json(LOGIN, admin_login))
