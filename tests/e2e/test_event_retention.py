"""Event outbox retention: breakwater-worker's webhook housekeeping deletes dispatched events
older than event_retention_days (7 on the dev/test stack, the default) when it starts and every
10 minutes; recent and undispatched events are never deleted."""

from opshelp import wait_for
from test_webhooks import restart_stack_worker


def rows(db, ids):
    with db.cursor() as cur:
        cur.execute("SELECT id, dispatched_at, dispatched_at > NOW(6) - INTERVAL 1 DAY AS fresh"
                    " FROM event_outbox WHERE id IN (%s, %s, %s)", ids)
        return {r["id"]: r for r in cur.fetchall()}


def insert(db, created_days, dispatched_days):
    with db.cursor() as cur:
        cur.execute("INSERT INTO event_outbox (event_type, gateway_name, payload, created_at,"
                    " dispatched_at) VALUES ('test.retention', NULL, '{}',"
                    " NOW(6) - INTERVAL %s DAY,"
                    " IF(%s IS NULL, NULL, NOW(6) - INTERVAL %s DAY))",
                    (created_days, dispatched_days, dispatched_days))
        return cur.lastrowid


def test_old_dispatched_events_are_purged_undispatched_never(db):
    old = insert(db, 30, 30)
    recent = insert(db, 30, 2)
    # Never dispatched although 30 days old: the purge runs before the fan-out of the worker's
    # first tick, so this row is seen undispatched by it and must survive (the fan-out then
    # dispatches it, now).
    pending = insert(db, 30, None)
    ids = (old, recent, pending)
    restart_stack_worker()  # the retention runs on the first tick, then every 10 minutes
    left = wait_for(lambda: (lambda r: r if old not in r else None)(rows(db, ids)), 20,
                    what="the purge")
    assert set(left) == {recent, pending}, left
    assert left[recent]["fresh"] == 0, "the recent dispatched row is untouched"
    fanned = wait_for(lambda: rows(db, ids)[pending]["dispatched_at"] is not None, 20,
                      what="the fan-out")
    assert fanned and rows(db, ids)[pending]["fresh"] == 1
