"""The audit trail in MariaDB: append-only for the application user, a hash chain that
`breakwaterctl audit verify` checks, and an explicit, audited retention purge."""

import concurrent.futures
import json
import os
import subprocess

import pymysql
import pytest

from bwtest import ENDPOINT, Api, env, json_ok, one_audit_row


def ctl(*args, root=False):
    binary = os.path.join(env("BW_BUILD_DIR"), "breakwaterctl")
    conf = os.path.join(env("BW_RUN_DIR"), "conf", "breakwater.conf")
    environ = dict(os.environ)
    if root:
        environ.update(BREAKWATER_DB_USER="root", BREAKWATER_DB_PASSWORD="")
    return subprocess.run([binary, "--config", conf, *args], capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL, env=environ)


def app_credentials():
    conf = os.path.join(env("BW_RUN_DIR"), "conf", "breakwater.conf")
    values = {}
    with open(conf, encoding="utf-8") as f:
        for line in f:
            if "=" in line and not line.lstrip().startswith("#"):
                key, _, value = line.partition("=")
                values[key.strip()] = value.strip()
    return values["db_user"], values["db_password"]


@pytest.fixture
def app_db(bw_env):
    user, password = app_credentials()
    conn = pymysql.connect(unix_socket=bw_env["BW_DB_SOCKET"], user=user, password=password,
                           database=bw_env["BW_DB_NAME"], autocommit=True, charset="utf8mb4",
                           cursorclass=pymysql.cursors.DictCursor)
    yield conn
    conn.close()


def verify():
    proc = ctl("audit", "verify")
    return proc.returncode, proc.stdout + proc.stderr


def assert_intact():
    code, out = verify()
    assert code == 0 and "audit chain intact" in out, out


def row_of_new_gateway(api, db, unique_name):
    name = unique_name()
    # Non-ASCII text: the C verifier must hash the same bytes as the SQL trigger.
    json_ok(api.register({"name": name, "endpoint": ENDPOINT, "description": "original ü 日本",
                          "labels": {"k": "a,\"b\"\n"}}), 201)
    return one_audit_row(db, "gateway.register", name)


def denied(cur, sql, *params):
    with pytest.raises(pymysql.MySQLError) as exc:
        cur.execute(sql, params)
    return str(exc.value)


def test_app_user_cannot_update_or_delete(api, db, app_db, unique_name):
    row = row_of_new_gateway(api, db, unique_name)
    with app_db.cursor() as cur:
        # No UPDATE/DELETE privilege on the audit trail at all (granted by breakwaterctl
        # migrate as the schema owner), so forging the purge flag does not help either.
        assert "UPDATE command denied" in denied(
            cur, "UPDATE audit_log SET actor = 'mallory' WHERE id = %s", row["id"])
        assert "DELETE command denied" in denied(cur, "DELETE FROM audit_log WHERE id = %s",
                                                 row["id"])
        cur.execute("SET @bw_audit_purge = CONNECTION_ID()")
        assert "DELETE command denied" in denied(cur, "DELETE FROM audit_log")
        cur.execute("SET @bw_audit_purge = NULL")
        assert "denied" in denied(cur, "UPDATE audit_chain SET head_id = 0")
        # Nor can it remove the guards or change the schema.
        assert "denied" in denied(cur, "DROP TRIGGER audit_log_no_delete")
        assert "denied" in denied(cur, "ALTER TABLE audit_log DROP COLUMN row_hash")
        assert "denied" in denied(cur, "CREATE TABLE audit_shadow (id INT)")
        assert "denied" in denied(cur, "TRUNCATE TABLE audit_log")
        # The application user may still append and read.
        cur.execute("SELECT actor, detail FROM audit_log WHERE id = %s", (row["id"],))
        assert cur.fetchone() == {"actor": row["actor"], "detail": row["detail"]}
    # The triggers still hold for accounts that do have the privileges (root here).
    with db.cursor() as cur:
        assert "append-only" in denied(cur, "UPDATE audit_log SET detail = NULL WHERE id = %s",
                                       row["id"])
        assert "append-only" in denied(cur, "DELETE FROM audit_log WHERE id = %s", row["id"])
        cur.execute("SELECT COUNT(*) AS n FROM audit_log WHERE id = %s", (row["id"],))
        assert cur.fetchone()["n"] == 1


def test_rows_are_chained(api, db, unique_name):
    a = row_of_new_gateway(api, db, unique_name)
    b = row_of_new_gateway(api, db, unique_name)
    assert len(a["row_hash"]) == 64 and b["id"] > a["id"]
    with db.cursor() as cur:
        cur.execute("SELECT row_hash FROM audit_log WHERE id < %s ORDER BY id DESC LIMIT 1",
                    (b["id"],))
        assert b["prev_hash"] == cur.fetchone()["row_hash"]
    assert_intact()


def _trigger_sql(cur, name):
    cur.execute(f"SHOW CREATE TRIGGER {name}")
    return cur.fetchone()["SQL Original Statement"]


def test_verify_names_an_edited_row(api, db, unique_name):
    row = row_of_new_gateway(api, db, unique_name)
    later = row_of_new_gateway(api, db, unique_name)
    assert_intact()
    with db.cursor() as cur:
        create = _trigger_sql(cur, "audit_log_no_update")
        cur.execute("DROP TRIGGER audit_log_no_update")
        try:
            tampered = row["detail"].replace("original", "rewritten")
            cur.execute("UPDATE audit_log SET detail = %s WHERE id = %s", (tampered, row["id"]))
            code, out = verify()
            assert code == 2, out
            assert f"BROKEN at id {row['id']}:" in out, out
            # Put it back: the chain verifies again.
            cur.execute("UPDATE audit_log SET detail = %s WHERE id = %s",
                        (row["detail"], row["id"]))
        finally:
            cur.execute(create)
    assert_intact()
    assert later["prev_hash"]  # unchanged link


def test_purge_is_explicit_audited_and_heals_nothing_silently(api, db, app_db, unique_name):
    doomed = row_of_new_gateway(api, db, unique_name)
    after = row_of_new_gateway(api, db, unique_name)
    # A row removed behind the trigger's back (as root, forging the purge flag) breaks the link
    # of the row after it.
    with db.cursor() as cur:
        cur.execute("SET @bw_audit_purge = CONNECTION_ID()")
        cur.execute("DELETE FROM audit_log WHERE id = %s", (doomed["id"],))
        cur.execute("SET @bw_audit_purge = NULL")
    code, out = verify()
    assert code == 2 and f"BROKEN at id {after['id']}:" in out, out

    with db.cursor() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM audit_log")
        present = cur.fetchone()["n"]
    proc = ctl("audit", "purge", "--older-than", "0", root=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"audit rows purged: {present} " in proc.stdout, proc.stdout
    with db.cursor() as cur:
        cur.execute("SELECT * FROM audit_log ORDER BY id")
        rows = cur.fetchall()
    purged = [r for r in rows if r["action"] == "audit.purged"]
    assert len(purged) == 1 and purged[0]["id"] > after["id"], rows
    assert all(r["id"] > after["id"] for r in rows)
    detail = json.loads(purged[0]["detail"])
    assert detail["count"] == present and detail["older_than_days"] == 0
    assert purged[0]["actor"] == "system:breakwaterctl"
    assert_intact()  # the anchor recorded by the purge starts the chain now

    # Nothing recent goes with a 30-day retention; the run itself is audited.
    proc = ctl("audit", "purge", "--older-than", "30", root=True)
    assert proc.returncode == 0 and "audit rows purged: 0 " in proc.stdout, proc.stdout
    json_ok(api.get("/api/audit", params={"action": "audit.purged", "limit": 1}))
    assert_intact()
    # The application user still cannot delete directly.
    with app_db.cursor() as cur:
        with pytest.raises(pymysql.MySQLError):
            cur.execute("DELETE FROM audit_log")


def test_concurrent_writers_keep_one_chain(api, unique_name):
    """Writers in several responder processes append to one chain (the head row serialises
    them); each thread has its own connection."""
    names = [unique_name() for _ in range(24)]

    def reg(name):
        client = Api(api.base_url, api.cafile)
        try:
            return client.register({"name": name, "endpoint": ENDPOINT}).status_code
        finally:
            client.session.close()

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(reg, names))
    api.created.extend(names)
    assert set(codes) == {201}, codes
    assert_intact()


@pytest.mark.parametrize("args", [["audit"], ["audit", "purge"],
                                  ["audit", "purge", "--older-than", "x"],
                                  ["audit", "purge", "--older-than", "-1"]])
def test_ctl_usage_errors(args):
    proc = ctl(*args)
    assert proc.returncode == 64, proc.stdout + proc.stderr


