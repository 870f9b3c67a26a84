"""GET /api/gateway/list: envelope, item keys, order, the label and runtime filters."""

import urllib.parse

import pytest

from bwtest import (
    LIST_ITEM_KEYS, assert_gateway_shape, json_ok, label_filter_detail, runtime_filter_detail,
)


def _names(body):
    return [item["name"] for item in body["items"]]


def _query(api, params):
    body = json_ok(api.list(params))
    assert set(body) == {"items", "total"}, body
    assert body["total"] == len(body["items"]), body
    names = _names(body)
    assert names == sorted(names), names
    return names


def _raw_query(api, query):
    resp = api.raw("GET", "/api/gateway/list?" + query)
    body = json_ok(resp)
    assert body["total"] == len(body["items"]), body
    return _names(body)


def test_list_envelope_items_and_order(api, gateway):
    mine = [gateway(description="listed", labels={"l": "1"}, metadata={"runtime": "docker"}),
            gateway()]
    body = json_ok(api.list())
    assert set(body) == {"items", "total"}, body.keys()
    assert isinstance(body["items"], list) and body["total"] == len(body["items"])
    names = _names(body)
    assert names == sorted(names)
    assert len(set(names)) == len(names)
    for item in body["items"]:
        assert_gateway_shape(item, LIST_ITEM_KEYS)
    by_name = {item["name"]: item for item in body["items"]}
    for gw in mine:
        item = by_name[gw["name"]]
        # Health fields move whenever breakwater-worker probes the gateway.
        for key in LIST_ITEM_KEYS - {"status", "connected", "last_status", "last_seen",
                                     "last_health", "version", "compatibility"}:
            assert item[key] == gw[key], key


def test_list_is_sorted_by_name_bytewise(api, gateway, unique_name):
    key = unique_name("order")
    base = unique_name("o")
    for suffix in ("B", "a", "A", "_", "0", ".", "-", "b", "Z"):
        gateway(name=f"{base}{suffix}", labels={key: "x"})
    names = _query(api, {"label": f"{key}:x"})
    assert names == sorted(f"{base}{s}" for s in ("B", "a", "A", "_", "0", ".", "-", "b", "Z"))
    assert names[0].endswith("-") and names[-1].endswith("b")


@pytest.fixture
def labelled(gateway, unique_name):
    """Gateways sharing a label key used by nobody else; returns (key, {tag: name})."""
    key = unique_name("lk")
    values = {
        "a1": {key: "a", "env": "prod"},
        "a2": {key: "a"},
        "b": {key: "b"},
        "empty": {key: ""},
        "colon": {key: "b:c"},
        "upper": {key: "A"},
        "space": {key: "a b"},
        "plus": {key: "a+b"},
        "sql": {key: "' OR '1'='1"},
        "pct": {key: "100%"},
        "uni": {key: "ü€😀"},
        "none": None,
    }
    names = {}
    for tag, labels in values.items():
        gw = gateway(labels=labels) if labels is not None else gateway()
        names[tag] = gw["name"]
    return key, names


def test_label_filter_exact_match(api, labelled):
    key, n = labelled
    assert _query(api, {"label": f"{key}:a"}) == sorted([n["a1"], n["a2"]])
    assert _query(api, {"label": f"{key}:b"}) == [n["b"]]
    assert _query(api, {"label": f"{key}:A"}) == [n["upper"]]
    assert _query(api, {"label": f"{key}:ü€😀"}) == [n["uni"]]
    assert _query(api, {"label": f"{key}:100%"}) == [n["pct"]]
    assert _query(api, {"label": f"{key}:nothing"}) == []
    assert _query(api, {"label": f"{key}:a "}) == []


def test_label_filter_is_and_combined(api, labelled):
    key, n = labelled
    assert _query(api, [("label", f"{key}:a"), ("label", "env:prod")]) == [n["a1"]]
    assert _query(api, [("label", "env:prod"), ("label", f"{key}:a")]) == [n["a1"]]
    assert _query(api, [("label", f"{key}:b"), ("label", "env:prod")]) == []


def test_label_filter_repeated_key_keeps_last_value(api, labelled):
    key, n = labelled
    assert _query(api, [("label", f"{key}:a"), ("label", f"{key}:b")]) == [n["b"]]


def test_label_filter_empty_value(api, labelled):
    key, n = labelled
    assert _query(api, {"label": f"{key}:"}) == [n["empty"]]


def test_label_filter_splits_at_first_colon(api, labelled):
    key, n = labelled
    assert _query(api, {"label": f"{key}:b:c"}) == [n["colon"]]


def test_label_filter_query_decoding(api, labelled):
    key, n = labelled
    qkey = urllib.parse.quote(key)
    # requests sends a space as "+" (form encoding); %20 is a space too; %2B is a plus.
    assert _query(api, {"label": f"{key}:a b"}) == [n["space"]]
    assert _raw_query(api, f"label={qkey}:a%20b") == [n["space"]]
    assert _raw_query(api, f"label={qkey}:a+b") == [n["space"]]
    assert _raw_query(api, f"label={qkey}%3Aa%2Bb") == [n["plus"]]
    assert _raw_query(api, f"label={qkey}:a") == sorted([n["a1"], n["a2"]])


def test_label_filter_sql_metacharacters(api, db_snapshot, labelled):
    key, n = labelled
    before = db_snapshot()
    assert _query(api, {"label": f"{key}:' OR '1'='1"}) == [n["sql"]]
    assert _query(api, {"label": f"{key}:a' OR 1=1 --"}) == []
    assert _query(api, {"label": "x' OR '1'='1:y"}) == []
    assert _query(api, {"label": f"{key}:a'; DROP TABLE gateways; --"}) == []
    assert _query(api, {"label": f"{key}:%"}) == []
    assert _query(api, {"label": f"{key}:_"}) == []
    assert _query(api, {"label": f"{key}:a\\"}) == []
    assert db_snapshot() == before
    assert _query(api, {"label": f"{key}:a"}) == sorted([n["a1"], n["a2"]])


def test_gateway_without_labels_never_matches(api, labelled):
    key, n = labelled
    for value in ("", "a", "b"):
        assert n["none"] not in _query(api, {"label": f"{key}:{value}"})


@pytest.mark.parametrize("item", ["nocolon", ":value", ":", "", "::"])
def test_bad_label_filter_is_400(api, rejected, item):
    rejected(lambda: api.list({"label": item}), 400, "VALIDATION_ERROR",
             label_filter_detail(item))


def test_one_bad_label_filter_among_good_ones_is_400(api, rejected):
    params = [("label", "env:prod"), ("label", "broken")]
    rejected(lambda: api.list(params), 400, "VALIDATION_ERROR", label_filter_detail("broken"))


@pytest.fixture
def runtimes(gateway, unique_name):
    key = unique_name("rt")
    names = {}
    for runtime in ("docker", "kubernetes", "libkrun", None):
        metadata = {"runtime": runtime} if runtime else {"other": "x"}
        names[runtime] = gateway(labels={key: "v"}, metadata=metadata)["name"]
    return key, names


@pytest.mark.parametrize("given,expected", [
    ("docker", "docker"), ("DOCKER", "docker"), ("Kubernetes", "kubernetes"),
    ("libkrun", "libkrun"), ("LIBKRUN", "libkrun"),
])
def test_runtime_filter(api, runtimes, given, expected):
    key, names = runtimes
    assert _query(api, [("runtime", given), ("label", f"{key}:v")]) == [names[expected]]


def test_runtime_filter_alone(api, runtimes):
    key, names = runtimes
    body = json_ok(api.list({"runtime": "kubernetes"}))
    assert all(item["runtime"] == "kubernetes" for item in body["items"]), body
    assert names["kubernetes"] in _names(body)
    assert names["docker"] not in _names(body)
    assert _query(api, {"label": f"{key}:v"}) == sorted(names.values())


@pytest.mark.parametrize("value", ["podman", "docker2", "' OR '1'='1"])
def test_unknown_runtime_filter_is_400(api, rejected, value):
    rejected(lambda: api.list({"runtime": value}), 400, "VALIDATION_ERROR",
             runtime_filter_detail(value))


def test_list_reflects_patch_and_delete(api, gateway, unique_name):
    key = unique_name("lk")
    gw = gateway(labels={key: "one"})
    assert _query(api, {"label": f"{key}:one"}) == [gw["name"]]
    json_ok(api.patch_gateway(gw["name"], {"labels": {key: "two"}}))
    assert _query(api, {"label": f"{key}:one"}) == []
    assert _query(api, {"label": f"{key}:two"}) == [gw["name"]]
    json_ok(api.delete_gateway(gw["name"]))
    assert _query(api, {"label": f"{key}:two"}) == []
