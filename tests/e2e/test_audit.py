"""audit_log rows written by the registry: one per successful write, none for reads or for
rejected writes; actor = the suite's admin service principal, role "admin"."""

import json
import uuid

from bwtest import (
    ENDPOINT, assert_audit_row, audit_rows, b64, gateway_row, json_ok, one_audit_row, pem_bytes,
)


def _detail(row):
    assert row["detail"], row
    detail = json.loads(row["detail"])
    assert isinstance(detail, dict), row
    return detail


def test_register_audit_row(api, db, unique_name):
    name = unique_name()
    rid = f"e2e-{uuid.uuid4().hex}"
    cert = b64(pem_bytes(600))
    body = {"name": name, "endpoint": "audit.e2e.svc.cluster.local:443", "auth_mode": "none",
            "description": "audited – ü", "labels": {"env": "prod", "team": "core"},
            "metadata": {"runtime": "Kubernetes", "zone": "a"}, "ca_cert": cert}
    resp = api.register(body, headers={"X-Request-ID": rid})
    json_ok(resp, 201)
    assert resp.headers["X-Request-ID"] == rid
    row = one_audit_row(db, "gateway.register", name)
    assert_audit_row(row, resp, "gateway.register", name)
    assert row["request_id"] == rid
    assert _detail(row) == {
        "endpoint": "audit.e2e.svc.cluster.local:443",
        "auth_mode": "none",
        "description": "audited – ü",
        "labels": {"env": "prod", "team": "core"},
        "runtime": "kubernetes",
    }
    assert cert[20:60] not in row["detail"]
    assert row["gateway_id"] in (None, gateway_row(db, name)["id"])


def test_register_audit_row_with_defaults(api, db, unique_name):
    name = unique_name()
    resp = api.register({"name": name, "endpoint": ENDPOINT})
    json_ok(resp, 201)
    row = one_audit_row(db, "gateway.register", name)
    assert_audit_row(row, resp, "gateway.register", name)
    detail = _detail(row)
    assert set(detail) == {"endpoint", "auth_mode", "description", "labels", "runtime"}, detail
    assert detail["endpoint"] == ENDPOINT
    assert detail["auth_mode"] == "mtls"
    assert detail["description"] is None
    assert detail["runtime"] is None
    assert detail["labels"] in (None, {})


def test_generated_request_id_lands_in_the_audit_row(api, db, unique_name):
    name = unique_name()
    resp = api.register({"name": name, "endpoint": ENDPOINT})
    json_ok(resp, 201)
    row = one_audit_row(db, "gateway.register", name)
    assert row["request_id"] == resp.headers["X-Request-ID"]


def test_update_metadata_audit_row(api, db, gateway):
    name = gateway(description="old", labels={"a": "1"})["name"]
    rid = f"e2e-{uuid.uuid4().hex[:20]}"
    resp = api.patch_gateway(name, {"description": "new", "labels": {"b": "2"}},
                             headers={"X-Request-ID": rid})
    json_ok(resp)
    row = one_audit_row(db, "gateway.update_metadata", name)
    assert_audit_row(row, resp, "gateway.update_metadata", name)
    assert row["request_id"] == rid
    assert _detail(row) == {"description": "new", "labels": {"b": "2"}}


def test_update_metadata_audit_row_single_field(api, db, gateway):
    name = gateway(description="old", labels={"a": "1"})["name"]
    resp = api.patch_gateway(name, {"description": None})
    json_ok(resp)
    row = one_audit_row(db, "gateway.update_metadata", name)
    assert_audit_row(row, resp, "gateway.update_metadata", name)
    detail = _detail(row)
    assert "description" in detail and detail["description"] is None, detail


def test_unregister_audit_row(api, db, gateway):
    name = gateway()["name"]
    resp = api.delete_gateway(name)
    json_ok(resp)
    row = one_audit_row(db, "gateway.unregister", name)
    assert_audit_row(row, resp, "gateway.unregister", name)


def test_lifecycle_rows_in_order(api, db, unique_name):
    name = unique_name()
    responses = [
        api.register({"name": name, "endpoint": ENDPOINT}),
        api.patch_gateway(name, {"description": "x"}),
        api.patch_gateway(name, {"labels": {"k": "v"}}),
        api.delete_gateway(name),
    ]
    for resp, status in zip(responses, (201, 200, 200, 200)):
        json_ok(resp, status)
    rows = audit_rows(db, resource_id=name)
    assert [r["action"] for r in rows] == ["gateway.register", "gateway.update_metadata",
                                           "gateway.update_metadata", "gateway.unregister"]
    assert [r["request_id"] for r in rows] == [r.headers["X-Request-ID"] for r in responses]
    stamps = [r["timestamp"] for r in rows]
    assert stamps == sorted(stamps)


def test_reads_write_no_audit_rows(api, db_snapshot, gateway):
    name = gateway(labels={"r": "1"})["name"]
    before = db_snapshot()
    json_ok(api.info(name))
    json_ok(api.list())
    json_ok(api.list({"label": "r:1"}))
    json_ok(api.get("/readyz"))
    assert db_snapshot() == before


def test_failed_writes_write_no_audit_rows(api, db, gateway, unique_name):
    name = gateway(description="d")["name"]
    absent = unique_name("absent")
    attempts = [
        api.register({"name": name, "endpoint": ENDPOINT}),                      # 409
        api.register({"name": unique_name(), "endpoint": "bad"}),                 # 422
        api.register({"name": "bad name", "endpoint": ENDPOINT}),                 # 400
        api.patch_gateway(name, {}),                                              # 400
        api.patch_gateway(name, {"description": "x" * 1001}),                     # 400
        api.patch_gateway(absent, {"description": "x"}),                          # 404
        api.delete_gateway(absent),                                               # 404
        api.delete_gateway("bad name"),                                           # 400
        api.register_raw(b"{", "application/json"),                               # 422
        api.register_raw(b"{}", "text/plain"),                                    # 415
    ]
    assert [r.status_code for r in attempts] == [409, 422, 400, 400, 400, 404, 404, 400, 422, 415]
    for resp in attempts:
        assert audit_rows(db, request_id=resp.headers["X-Request-ID"]) == [], resp.text
    assert [r["action"] for r in audit_rows(db, resource_id=name)] == ["gateway.register"]
    assert audit_rows(db, resource_id=absent) == []
