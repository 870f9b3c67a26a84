"""GET /api/audit: filters, inclusive time bounds, newest-first order, pagination with the full
filtered total, and the 422/400 answers for bad parameters (never a 500)."""

import uuid

import pytest

import bwtest
from bwtest import ENDPOINT, assert_problem, assert_rfc3339_utc, assert_validation_422, json_ok

ENTRY_KEYS = {"id", "timestamp", "actor", "actor_role", "action", "resource_type", "resource_id",
              "gateway", "detail", "client_ip", "request_id"}


def audit(api, **params):
    return json_ok(api.get("/api/audit", params=params))


def bulk_insert(db, action, count, stamp="2025-01-02 03:04:05.000000", actor="e2e-bulk"):
    """Appends count rows as DB root (the chain trigger links them like any other row)."""
    with db.cursor() as cur:
        cur.execute(
            "INSERT INTO audit_log (`timestamp`, actor, actor_role, action, resource_type,"
            " resource_id, detail) SELECT %s, %s, 'admin', %s, 'bulk', CONCAT('r', seq),"
            " CONCAT('{\"n\":', seq, '}') FROM seq_1_to_" + str(int(count)),
            (stamp, actor, action))


def test_entries_of_a_gateway_lifecycle(api, unique_name):
    name = unique_name()
    rid = f"e2e-{uuid.uuid4().hex[:16]}"
    json_ok(api.register({"name": name, "endpoint": ENDPOINT, "description": "d"},
                         headers={"X-Request-ID": rid}), 201)
    json_ok(api.patch_gateway(name, {"labels": {"k": "v"}}))
    json_ok(api.delete_gateway(name))
    body = audit(api, gateway=name)
    assert set(body) == {"entries", "total"}
    assert body["total"] == 3
    entries = body["entries"]
    assert [e["action"] for e in entries] == [
        "gateway.unregister", "gateway.update_metadata", "gateway.register"]
    for e in entries:
        assert set(e) == ENTRY_KEYS, e
        assert isinstance(e["id"], int)
        assert_rfc3339_utc(e["timestamp"])
        assert e["actor"] == bwtest.AUTH["actor"] and e["actor_role"] == "admin"
        assert e["resource_type"] == "gateway" and e["resource_id"] == name
        assert e["gateway"] == name
        assert e["client_ip"]
    ids = [e["id"] for e in entries]
    assert ids == sorted(ids, reverse=True)
    reg = entries[2]
    assert reg["request_id"] == rid
    assert isinstance(reg["detail"], dict) and reg["detail"]["description"] == "d"
    assert entries[1]["detail"] == {"labels": {"k": "v"}}
    assert entries[0]["detail"] is None
    # Every combination picks its own index; the answers must agree.
    assert audit(api, gateway=name, action="gateway.register")["total"] == 1
    assert audit(api, action="gateway.update_metadata", gateway=name)["entries"][0]["id"] == \
        entries[1]["id"]
    assert audit(api, resource_type="gateway", gateway=name)["total"] == 3
    assert audit(api, actor=bwtest.AUTH["actor"], gateway=name, resource_type="gateway")["total"] == 3
    assert audit(api, actor=bwtest.AUTH["actor"], gateway=name, action="gateway.unregister",
                 resource_type="gateway", since=entries[2]["timestamp"],
                 until=entries[0]["timestamp"])["total"] == 1


def test_exact_match_filters_combine(api, db, unique_name):
    action = f"e2e.filter.{uuid.uuid4().hex[:8]}"
    bulk_insert(db, action, 3, actor="alice")
    bulk_insert(db, action, 2, actor="bob")
    assert audit(api, action=action)["total"] == 5
    assert audit(api, action=action, actor="alice")["total"] == 3
    assert audit(api, action=action, actor="bob", resource_type="bulk")["total"] == 2
    assert audit(api, action=action, resource_type="gateway")["total"] == 0
    assert audit(api, action=action, actor="Alice")["total"] == 0  # exact, case-sensitive
    assert audit(api, action=action, gateway="nope")["total"] == 0
    assert audit(api, action=action, actor="")["total"] == 5  # empty = no filter


def test_time_bounds_are_inclusive(api, db):
    action = f"e2e.time.{uuid.uuid4().hex[:8]}"
    bulk_insert(db, action, 1, stamp="2024-05-01 10:00:00.000000")
    bulk_insert(db, action, 1, stamp="2024-05-02 10:00:00.000000")
    bulk_insert(db, action, 1, stamp="2024-05-03 10:00:00.000000")
    q = dict(action=action)
    assert audit(api, **q, since="2024-05-02T10:00:00Z")["total"] == 2
    assert audit(api, **q, until="2024-05-02T10:00:00+00:00")["total"] == 2
    both = audit(api, **q, since="2024-05-02T10:00:00", until="2024-05-02T10:00:00.000000Z")
    assert both["total"] == 1
    assert both["entries"][0]["timestamp"] == "2024-05-02T10:00:00.000000+00:00"
    # An offset is converted to UTC: 12:00+02:00 is 10:00Z.
    assert audit(api, **q, since="2024-05-02T12:00:00+02:00")["total"] == 2
    assert audit(api, **q, since="2024-05-02T12:00:01+02:00")["total"] == 1
    assert audit(api, **q, since="2024-05-02", until="2024-05-02")["total"] == 0
    assert audit(api, **q, since="2024-05-01", until="2024-05-03")["total"] == 2
    assert audit(api, **q, since="2024-05-04")["total"] == 0


def test_pagination_total_and_order(api, db):
    action = f"e2e.page.{uuid.uuid4().hex[:8]}"
    bulk_insert(db, action, 25)  # same timestamp: ties go by id, highest first
    first = audit(api, action=action, limit=10)
    assert first["total"] == 25 and len(first["entries"]) == 10
    ids = [e["id"] for e in first["entries"]]
    assert ids == sorted(ids, reverse=True)
    second = audit(api, action=action, limit=10, offset=10)
    last = audit(api, action=action, limit=10, offset=20)
    beyond = audit(api, action=action, limit=10, offset=25)
    assert second["total"] == last["total"] == beyond["total"] == 25
    assert len(last["entries"]) == 5 and beyond["entries"] == []
    every = ids + [e["id"] for e in second["entries"]] + [e["id"] for e in last["entries"]]
    assert every == sorted(set(every), reverse=True) and len(every) == 25
    assert last["entries"][-1]["resource_id"] == "r1"
    assert last["entries"][-1]["detail"] == {"n": 1}
    default = audit(api, action=action)
    assert len(default["entries"]) == 25


def test_default_limit_is_100_and_max_is_1000(api, db):
    action = f"e2e.limit.{uuid.uuid4().hex[:8]}"
    bulk_insert(db, action, 1005)
    assert len(audit(api, action=action)["entries"]) == 100
    big = audit(api, action=action, limit=1000)
    assert len(big["entries"]) == 1000 and big["total"] == 1005


@pytest.mark.parametrize("params, loc, error_type", [
    ({"limit": "0"}, ["query", "limit"], "greater_than_equal"),
    ({"limit": "1001"}, ["query", "limit"], "less_than_equal"),
    ({"limit": "-5"}, ["query", "limit"], "greater_than_equal"),
    ({"limit": "ten"}, ["query", "limit"], "int_parsing"),
    ({"limit": ""}, ["query", "limit"], "int_parsing"),
    ({"offset": "-1"}, ["query", "offset"], "greater_than_equal"),
    ({"offset": "1.5"}, ["query", "offset"], "int_parsing"),
    ({"limit": "99999999999999999999"}, ["query", "limit"], "int_parsing"),
])
def test_bad_paging_is_422(rejected, api, params, loc, error_type):
    body = rejected(lambda: api.get("/api/audit", params=params),
                    expect=lambda r: assert_validation_422(r, loc, error_type=error_type))
    assert body["errors"][0]["input"] == list(params.values())[0]


@pytest.mark.parametrize("key", ["since", "until"])
@pytest.mark.parametrize("value", [
    "yesterday", "2026-13-01", "2026-02-30T00:00:00", "2026-01-01T25:00:00",
    "2026-01-01T00:00:00+99:00", "1700000000", "2026-01-01T00:00:00 UTC", "'; DROP TABLE x; --",
])
def test_bad_timestamps_are_400(rejected, api, key, value):
    body = rejected(lambda: api.get("/api/audit", params={key: value}), 400)
    assert f"'{key}'" in body["detail"] and "ISO-8601" in body["detail"], body


def test_limit_422_comes_before_timestamp_400(api):
    resp = api.get("/api/audit", params={"limit": "0", "since": "garbage"})
    assert_validation_422(resp, ["query", "limit"])


def test_unfiltered_total_is_the_row_count(api, db):
    with db.cursor() as cur:
        cur.execute("SELECT COUNT(*) AS n, MAX(id) AS top FROM audit_log")
        row = cur.fetchone()
    body = audit(api, limit=1)
    assert body["total"] == row["n"]
    assert body["entries"] == [] if row["n"] == 0 else body["entries"][0]["id"] <= row["top"]


def test_audit_reads_are_not_audited(api, db_snapshot):
    before = db_snapshot()
    audit(api)
    json_ok(api.get("/api/audit", params={"actor": "x", "limit": 1}))
    assert db_snapshot() == before


def test_only_get(api):
    resp = api.delete("/api/audit")
    assert_problem(resp, 405)
