"""GET /api/audit/export: streamed CSV (RFC 4180, CRLF, compact-JSON detail, formula
neutralisation) and JSON, filters, optional limit, more rows than one page."""

import csv
import io
import json
import uuid

import pytest

from bwtest import ENDPOINT, assert_problem, assert_validation_422, json_ok
from test_audit_api import bulk_insert

CSV_HEADER = ["id", "timestamp", "actor", "actor_role", "action", "resource_type", "resource_id",
              "gateway", "detail", "client_ip", "request_id"]


def export(api, **params):
    resp = api.get("/api/audit/export", params=params, stream=False)
    assert resp.status_code == 200, resp.text[:500]
    return resp


def parse_csv(resp):
    assert resp.headers["Content-Type"].startswith("text/csv")
    assert resp.headers["Content-Disposition"] == 'attachment; filename="audit_log.csv"'
    text = resp.content.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == CSV_HEADER
    return text, rows[1:]


def test_csv_quotes_commas_quotes_and_newlines(api, unique_name):
    name = unique_name()
    desc = 'comma, "quoted" and a\nnewline'
    labels = {"team": "a,b", "q": 'say "hi"'}
    json_ok(api.register({"name": name, "endpoint": ENDPOINT, "description": desc,
                          "labels": labels}), 201)
    text, rows = parse_csv(export(api, format="csv", gateway=name))
    assert text.startswith(",".join(CSV_HEADER) + "\r\n")
    assert text.endswith("\r\n")
    assert len(rows) == 1
    row = dict(zip(CSV_HEADER, rows[0]))
    assert row["action"] == "gateway.register" and row["gateway"] == name
    detail = json.loads(row["detail"])  # compact JSON, not a Python repr
    assert detail["description"] == desc and detail["labels"] == labels
    assert ": " not in row["detail"] and "'" not in row["detail"]
    # The raw line: the detail field is quoted and its quotes doubled.
    assert '""description"":""comma, \\""quoted\\"" and a\\nnewline""' in text


def test_csv_raw_newlines_and_formulas(api, db):
    action = f"e2e.csv.{uuid.uuid4().hex[:8]}"
    actor = 'evil, "name"\r\nsecond line'
    with db.cursor() as cur:
        cur.execute("INSERT INTO audit_log (`timestamp`, actor, actor_role, action, resource_type,"
                    " resource_id, gateway_name, client_ip) VALUES"
                    " (UTC_TIMESTAMP(6), %s, 'admin', %s, '=HYPERLINK(\"x\")', '+1', '@SUM(A1)',"
                    " '-2')", (actor, action))
    text, rows = parse_csv(export(api, format="csv", action=action))
    assert len(rows) == 1
    row = dict(zip(CSV_HEADER, rows[0]))
    assert row["actor"] == actor  # a raw CR LF inside a quoted field
    assert row["resource_type"] == "'=HYPERLINK(\"x\")"
    assert row["resource_id"] == "'+1"
    assert row["gateway"] == "'@SUM(A1)"
    assert row["client_ip"] == "'-2"
    assert row["detail"] == ""
    assert '"evil, ""name""\r\nsecond line"' in text


def test_json_export(api, unique_name):
    name = unique_name()
    json_ok(api.register({"name": name, "endpoint": ENDPOINT, "labels": {"x": "1"}}), 201)
    json_ok(api.delete_gateway(name))
    resp = export(api, gateway=name)  # json is the default
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.headers["Content-Disposition"] == 'attachment; filename="audit_log.json"'
    body = json.loads(resp.content)
    assert [e["action"] for e in body] == ["gateway.unregister", "gateway.register"]
    listed = json_ok(api.get("/api/audit", params={"gateway": name}))["entries"]
    assert body == listed
    assert json.loads(export(api, format="json", gateway=name + "-none").content) == []


def test_empty_csv_is_the_header(api):
    text, rows = parse_csv(export(api, format="csv", actor=f"nobody-{uuid.uuid4().hex}"))
    assert rows == [] and text == ",".join(CSV_HEADER) + "\r\n"


def test_export_streams_more_rows_than_a_page(api, db):
    action = f"e2e.export.{uuid.uuid4().hex[:8]}"
    bulk_insert(db, action, 2500)
    resp = export(api, format="csv", action=action)
    assert "Content-Length" not in resp.headers  # streamed
    _, rows = parse_csv(resp)
    assert len(rows) == 2500
    ids = [int(r[0]) for r in rows]
    assert ids == sorted(ids, reverse=True)
    assert {json.loads(r[8])["n"] for r in rows} == set(range(1, 2501))
    body = json.loads(export(api, format="json", action=action).content)
    assert len(body) == 2500 and [e["id"] for e in body] == ids
    limited = json.loads(export(api, action=action, limit=7).content)
    assert [e["id"] for e in limited] == ids[:7]
    _, some = parse_csv(export(api, format="csv", action=action, limit=3))
    assert [int(r[0]) for r in some] == ids[:3]


@pytest.mark.parametrize("params, loc", [
    ({"format": "xml"}, ["query", "format"]),
    ({"format": "CSV"}, ["query", "format"]),
    ({"limit": "0"}, ["query", "limit"]),
    ({"limit": "x"}, ["query", "limit"]),
])
def test_bad_export_parameters_are_422(rejected, api, params, loc):
    rejected(lambda: api.get("/api/audit/export", params=params),
             expect=lambda r: assert_validation_422(r, loc))


def test_bad_export_timestamp_is_400(rejected, api):
    rejected(lambda: api.get("/api/audit/export", params={"format": "csv", "until": "soon"}),
             400)


def test_export_only_get(api):
    assert_problem(api.request("POST", "/api/audit/export"), 405)


def test_export_of_long_values(api, unique_name):
    """Values longer than the first fetch buffer (256 bytes) are fetched again in full."""
    name = unique_name()
    desc = "ü" * 400 + ', "end"'
    labels = {f"k{i:02d}": "v" * 200 for i in range(20)}
    json_ok(api.register({"name": name, "endpoint": ENDPOINT, "description": desc,
                          "labels": labels}), 201)
    json_ok(api.patch_gateway(name, {"description": "short"}))
    body = json.loads(export(api, gateway=name).content)
    assert [e["action"] for e in body] == ["gateway.update_metadata", "gateway.register"]
    assert body[1]["detail"]["description"] == desc
    assert body[1]["detail"]["labels"] == labels
    assert body[0]["detail"] == {"description": "short"}
    _, rows = parse_csv(export(api, format="csv", gateway=name))
    assert json.loads(rows[1][8])["description"] == desc
    assert json.loads(rows[0][8]) == {"description": "short"}
