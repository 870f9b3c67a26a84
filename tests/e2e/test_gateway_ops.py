"""GET /api/gateway/{name}/info, PATCH /api/gateway/{name} and DELETE /api/gateway/{name}."""

import json

import pytest

from bwtest import (
    DESCRIPTION_DETAIL, GATEWAY_KEYS, NAME_DETAIL, NO_FIELDS_DETAIL,
    TOO_MANY_LABELS_DETAIL, assert_gateway_shape, assert_validation_422, b64, gateway_row,
    json_ok, label_key_detail, label_value_detail, not_found_detail, pem_bytes,
)

STABLE_KEYS = ("name", "endpoint", "scheme", "auth_mode", "has_ca_cert", "has_client_cert",
               "has_client_key", "metadata", "runtime", "registered_at")


def _labels(row):
    return json.loads(row["labels_json"]) if row["labels_json"] else {}


# --------------------------------------------------------------------------------------------
# info


def test_info_returns_the_full_record(api, gateway):
    gw = gateway(scheme="http", auth_mode="none", description="desc", labels={"a": "1"},
                 metadata={"runtime": "libkrun", "k": [1, "two"]},
                 client_key=b64(pem_bytes(300, "PRIVATE KEY")))
    info = json_ok(api.info(gw["name"]))
    assert_gateway_shape(info, GATEWAY_KEYS)
    assert info["configured"] is True
    for key in STABLE_KEYS + ("description", "labels"):
        assert info[key] == gw[key], key
    assert info["has_client_key"] is True and info["has_ca_cert"] is False
    assert info["runtime"] == "libkrun"


def test_info_unknown_gateway_is_404(api, rejected, unique_name):
    name = unique_name("absent")
    rejected(lambda: api.info(name), 404, "NOT_FOUND", not_found_detail(name))


def test_info_unknown_max_length_name_is_404(api, rejected, unique_name):
    base = unique_name("absent")
    name = base + "z" * (253 - len(base))
    rejected(lambda: api.info(name), 404, "NOT_FOUND", not_found_detail(name))


def test_info_is_case_sensitive(api, rejected, gateway):
    gw = gateway()
    upper = gw["name"].upper()
    rejected(lambda: api.info(upper), 404, "NOT_FOUND", not_found_detail(upper))


# Path segments the pool receives as one (invalid) name; nginx neither rejects nor re-routes them.
BAD_PATH_NAMES = [
    "bad%20name", "-dash", ".hidden", "_under", "%27%20OR%20%271%27%3D%271",
    "x%3BDROP%20TABLE%20gateways%3B--", "%C3%BCmlaut", "x%22y", "%25", "a%0Ab", "a%09b",
    "x%2A", "a" * 254, "b" * 4000, "%F0%9F%98%80",
]


@pytest.mark.parametrize("segment", BAD_PATH_NAMES, ids=[s[:24] for s in BAD_PATH_NAMES])
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_invalid_name_in_path_is_400(api, rejected, method, segment):
    if method == "GET":
        path, body = f"/api/gateway/{segment}/info", None
    else:
        path, body = f"/api/gateway/{segment}", ({"description": "x"} if method == "PATCH"
                                                 else None)
    rejected(lambda: api.request(method, path, json=body), 400, "VALIDATION_ERROR", NAME_DETAIL)


# --------------------------------------------------------------------------------------------
# PATCH


def test_patch_description_only(api, db, gateway):
    gw = gateway(description="before", labels={"keep": "me"})
    resp = api.patch_gateway(gw["name"], {"description": "after – ü😀"})
    out = json_ok(resp)
    assert_gateway_shape(out, GATEWAY_KEYS)
    assert out["description"] == "after – ü😀"
    assert out["labels"] == {"keep": "me"}
    for key in STABLE_KEYS:
        assert out[key] == gw[key], key
    row = gateway_row(db, gw["name"])
    assert row["description"] == "after – ü😀"
    assert _labels(row) == {"keep": "me"}
    assert json_ok(api.info(gw["name"]))["description"] == "after – ü😀"


def test_patch_labels_only_replaces_the_whole_set(api, db, gateway):
    gw = gateway(description="stays", labels={"old": "1", "both": "x"})
    out = json_ok(api.patch_gateway(gw["name"], {"labels": {"both": "y", "new": "2"}}))
    assert out["labels"] == {"both": "y", "new": "2"}
    assert out["description"] == "stays"
    row = gateway_row(db, gw["name"])
    assert _labels(row) == {"both": "y", "new": "2"}
    assert row["description"] == "stays"


def test_patch_both_fields(api, db, gateway):
    gw = gateway(description="d1", labels={"a": "1"})
    out = json_ok(api.patch_gateway(gw["name"], {"description": "d2", "labels": {"b": "2"}}))
    assert (out["description"], out["labels"]) == ("d2", {"b": "2"})
    row = gateway_row(db, gw["name"])
    assert (row["description"], _labels(row)) == ("d2", {"b": "2"})


def test_patch_null_description_clears_it(api, db, gateway):
    gw = gateway(description="will go", labels={"a": "1"})
    out = json_ok(api.patch_gateway(gw["name"], {"description": None}))
    assert out["description"] is None
    assert out["labels"] == {"a": "1"}
    row = gateway_row(db, gw["name"])
    assert row["description"] is None
    assert _labels(row) == {"a": "1"}


@pytest.mark.parametrize("cleared", [None, {}])
def test_patch_null_or_empty_labels_clears_them(api, db, gateway, cleared):
    gw = gateway(description="stays", labels={"a": "1", "b": "2"})
    out = json_ok(api.patch_gateway(gw["name"], {"labels": cleared}))
    assert out["labels"] == {}
    assert out["description"] == "stays"
    assert _labels(gateway_row(db, gw["name"])) == {}
    assert json_ok(api.info(gw["name"]))["labels"] == {}


def test_patch_leaves_everything_else_alone(api, db, gateway):
    gw = gateway(scheme="http", auth_mode="insecure", metadata={"runtime": "docker", "z": 1},
                 ca_cert=b64(pem_bytes(400)), client_cert=b64(pem_bytes(400)))
    before = gateway_row(db, gw["name"])
    out = json_ok(api.patch_gateway(gw["name"], {"description": "new"}))
    for key in STABLE_KEYS:
        assert out[key] == gw[key], key
    after = gateway_row(db, gw["name"])
    for column in ("id", "endpoint", "scheme", "auth_mode", "ca_cert", "client_cert",
                   "client_key", "metadata_json", "registered_at"):
        assert after[column] == before[column], column
    assert after["updated_at"] >= before["updated_at"]


def test_patch_empty_object_is_400(api, rejected, gateway):
    gw = gateway(description="d", labels={"a": "1"})
    rejected(lambda: api.patch_gateway(gw["name"], {}), 400, "VALIDATION_ERROR",
             NO_FIELDS_DETAIL)
    info = json_ok(api.info(gw["name"]))
    assert (info["description"], info["labels"]) == ("d", {"a": "1"})


def test_patch_unknown_gateway_is_404(api, rejected, unique_name):
    name = unique_name("absent")
    rejected(lambda: api.patch_gateway(name, {"description": "x"}), 404, "NOT_FOUND",
             not_found_detail(name))


def test_patch_description_limit(api, rejected, gateway):
    gw = gateway()
    at_limit = "é😀" * 500
    assert json_ok(api.patch_gateway(gw["name"], {"description": at_limit}))["description"] \
        == at_limit
    rejected(lambda: api.patch_gateway(gw["name"], {"description": at_limit + "x"}), 400,
             "VALIDATION_ERROR", DESCRIPTION_DETAIL)
    assert json_ok(api.info(gw["name"]))["description"] == at_limit


def test_patch_label_rules(api, rejected, gateway):
    gw = gateway(labels={"orig": "1"})
    name = gw["name"]
    twenty = {f"k{i}": "v" for i in range(20)}
    assert json_ok(api.patch_gateway(name, {"labels": twenty}))["labels"] == twenty
    rejected(lambda: api.patch_gateway(name, {"labels": dict(twenty, k20="v")}), 400,
             "VALIDATION_ERROR", TOO_MANY_LABELS_DETAIL)
    rejected(lambda: api.patch_gateway(name, {"labels": {"k" * 64: "v"}}), 400,
             "VALIDATION_ERROR", label_key_detail("k" * 64))
    rejected(lambda: api.patch_gateway(name, {"labels": {"k'--": "v"}}), 400,
             "VALIDATION_ERROR", label_key_detail("k'--"))
    rejected(lambda: api.patch_gateway(name, {"labels": {"k": "€" * 254}}), 400,
             "VALIDATION_ERROR", label_value_detail("k"))
    assert json_ok(api.info(name))["labels"] == twenty


def test_patch_description_invalid_with_valid_labels_changes_nothing(api, rejected, gateway):
    gw = gateway(description="d", labels={"a": "1"})
    body = {"description": "x" * 1001, "labels": {"b": "2"}}
    rejected(lambda: api.patch_gateway(gw["name"], body), 400, "VALIDATION_ERROR",
             DESCRIPTION_DETAIL)
    info = json_ok(api.info(gw["name"]))
    assert (info["description"], info["labels"]) == ("d", {"a": "1"})


@pytest.mark.parametrize("body,field", [
    ({"description": 5}, "description"),
    ({"description": ["x"]}, "description"),
    ({"labels": []}, "labels"),
    ({"labels": "a:b"}, "labels"),
    ({"labels": {"k": 1}}, "labels"),
    ({"labels": {"k": None}}, "labels"),
])
def test_patch_wrong_type_is_422(api, rejected, gateway, body, field):
    gw = gateway()
    rejected(lambda: api.patch_gateway(gw["name"], body),
             expect=lambda r: assert_validation_422(r, loc_prefix=["body", field]))


def test_patch_type_error_wins_over_bad_name(api, rejected):
    rejected(lambda: api.patch_gateway("bad name", {"description": 5}),
             expect=lambda r: assert_validation_422(r, loc_prefix=["body", "description"]))


@pytest.mark.parametrize("payload", ["[]", '"description"', "7", "null"])
def test_patch_body_not_an_object_is_422(api, rejected, gateway, payload):
    gw = gateway()
    rejected(lambda: api.send_bytes("PATCH", f"/api/gateway/{gw['name']}", payload.encode()),
             expect=lambda r: assert_validation_422(r, loc_prefix=["body"]))


# --------------------------------------------------------------------------------------------
# DELETE


def test_delete_then_everything_is_404(api, db, rejected, gateway):
    gw = gateway(labels={"x": "y"}, ca_cert=b64(pem_bytes(200)))
    name = gw["name"]
    assert json_ok(api.delete_gateway(name)) == {"success": True, "name": name}
    assert gateway_row(db, name) is None
    rejected(lambda: api.info(name), 404, "NOT_FOUND", not_found_detail(name))
    rejected(lambda: api.delete_gateway(name), 404, "NOT_FOUND", not_found_detail(name))
    rejected(lambda: api.patch_gateway(name, {"description": "x"}), 404, "NOT_FOUND",
             not_found_detail(name))
    assert name not in api.list_names()


def test_delete_unknown_gateway_is_404(api, rejected, unique_name):
    name = unique_name("absent")
    rejected(lambda: api.delete_gateway(name), 404, "NOT_FOUND", not_found_detail(name))


def test_delete_touches_only_its_gateway(api, db, gateway):
    keep, drop = gateway(description="keep"), gateway(description="drop")
    # The health monitor (breakwater-worker) writes these at any time, leases included.
    health = ("last_seen", "last_status", "version", "compat", "last_health", "health_failures",
              "next_probe_at", "probe_owner", "probe_lease_until")
    keep_row = {k: v for k, v in gateway_row(db, keep["name"]).items() if k not in health}
    assert json_ok(api.delete_gateway(drop["name"]))["success"] is True
    after = {k: v for k, v in gateway_row(db, keep["name"]).items() if k not in health}
    assert after == keep_row
    assert json_ok(api.info(keep["name"]))["description"] == "keep"


def test_delete_is_case_sensitive(api, rejected, gateway):
    gw = gateway()
    upper = gw["name"].upper()
    rejected(lambda: api.delete_gateway(upper), 404, "NOT_FOUND", not_found_detail(upper))
    assert json_ok(api.info(gw["name"]))["name"] == gw["name"]
