"""breakwaterctl migrate against the stack's database: idempotent, and refusing a schema newer
than the binary knows (a rolled-back deployment must not run on a migrated database)."""

import os
import subprocess

from bwtest import env


def _ctl(*args, conf_name="migrate.conf"):
    """breakwaterctl with the schema owner's configuration (the stack's migrate.conf)."""
    ctl = os.path.join(env("BW_BUILD_DIR"), "breakwaterctl")
    conf = os.path.join(env("BW_RUN_DIR"), "conf", conf_name)
    return subprocess.run([ctl, "--config", conf, *args], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)


def _versions(db):
    with db.cursor() as cur:
        cur.execute("SELECT version FROM schema_migrations ORDER BY version")
        return [r["version"] for r in cur.fetchall()]


def _shipped():
    """The versions of the checkout's sql/NNN_*.sql files (numbers are pre-assigned per branch,
    so there may be gaps)."""
    sql = os.path.join(os.path.dirname(__file__), "..", "..", "sql")
    return sorted(int(n[:3]) for n in os.listdir(sql) if n[:3].isdigit() and n.endswith(".sql"))


def test_migrate_again_applies_nothing(db):
    before = _versions(db)
    assert before and before == _shipped(), before
    proc = _ctl("migrate")
    assert proc.returncode == 0, proc.stderr
    assert "migrations applied: 0" in proc.stdout
    assert "(audit trail append-only)" in proc.stdout, proc.stdout
    assert _versions(db) == before


def test_the_application_account_cannot_migrate(db):
    """The pool's account has row access only: migrating with it fails, changing nothing."""
    before = _versions(db)
    proc = _ctl("migrate", conf_name="breakwater.conf")
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "denied" in proc.stderr, proc.stderr
    assert _versions(db) == before


def test_a_newer_schema_is_refused(db):
    with db.cursor() as cur:
        cur.execute("INSERT INTO schema_migrations (version, name, applied_at)"
                    " VALUES (9999, '9999_from_the_future', UTC_TIMESTAMP(6))")
    try:
        proc = _ctl("migrate")
        assert proc.returncode == 3, (proc.returncode, proc.stdout, proc.stderr)
        assert "newer than this binary" in proc.stderr
        proc = _ctl("schema-version")
        assert proc.returncode == 0 and "database 9999" in proc.stdout, proc.stdout
    finally:
        with db.cursor() as cur:
            cur.execute("DELETE FROM schema_migrations WHERE version = 9999")
