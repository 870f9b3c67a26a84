"""POST /api/gateway/register: defaults, every field, each validation rule at its boundary, the
order of the checks (422 before 400 before 409) and the duplicate-name conflict."""

import json
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import timezone

import pytest

from bwtest import (
    BASE64_DETAIL_PREFIX, CERT_FIELDS, DESCRIPTION_DETAIL, ENDPOINT, MAX_CERT_BYTES,
    MAX_METADATA_CHARS, METADATA_SIZE_DETAIL, NAME_DETAIL, TOO_MANY_LABELS_DETAIL,
    assert_gateway_shape, assert_problem, assert_recent, assert_rfc3339_utc,
    assert_validation_422, audit_rows, b64, cert_size_detail, conflict_detail, gateway_row,
    json_ok, label_key_detail, label_value_detail, metadata_len, metadata_of_size, new_session,
    pem_bytes,
    pem_for,
)

# 4 code points of 1, 2, 3 and 4 UTF-8 bytes (the last one is a surrogate pair once \u-escaped)
MIXED = "aé€😀"


def _row_json(value):
    return json.loads(value) if value else {}


def _utc(db_value):
    return db_value.replace(tzinfo=timezone.utc)


# --------------------------------------------------------------------------------------------
# Success


def test_register_minimal_uses_defaults(api, db, unique_name):
    name = unique_name()
    resp = api.register({"name": name, "endpoint": ENDPOINT})
    gw = json_ok(resp, 201)
    assert_gateway_shape(gw)
    assert gw["name"] == name
    assert gw["endpoint"] == ENDPOINT
    assert gw["scheme"] == "https"
    assert gw["auth_mode"] == "mtls"
    assert (gw["has_ca_cert"], gw["has_client_cert"], gw["has_client_key"]) == (False,) * 3
    assert gw["metadata"] == {}
    assert gw["labels"] == {}
    assert gw["description"] is None
    assert gw["runtime"] is None
    assert gw["last_seen"] is None
    registered_at = assert_rfc3339_utc(gw["registered_at"])
    assert_recent(registered_at)

    row = gateway_row(db, name)
    assert row is not None
    assert row["endpoint"] == ENDPOINT
    assert row["scheme"] == "https"
    assert row["auth_mode"] == "mtls"
    assert row["ca_cert"] is None and row["client_cert"] is None and row["client_key"] is None
    assert row["description"] is None
    assert _row_json(row["labels_json"]) == {}
    assert _row_json(row["metadata_json"]) == {}
    assert _utc(row["registered_at"]) == registered_at
    assert row["last_seen"] is None
    assert gw["last_status"] == row["last_status"]


def test_register_every_field(api, db, unique_name):
    name = unique_name()
    ca, cert, key = pem_bytes(900), pem_bytes(700), pem_bytes(500, "PRIVATE KEY")
    body = {
        "name": name,
        "endpoint": "core.prod.svc.cluster.local:8443",
        "scheme": "http",
        "auth_mode": "api_key",
        "ca_cert": b64(ca),
        "client_cert": b64(cert),
        "client_key": b64(key),
        "metadata": {"runtime": "Docker", "region": "eu-1",
                     "nested": {"list": [1, 2, {"deep": None}], "flag": True}},
        "description": "Primary gateway – ü " + MIXED,
        "labels": {"env": "prod", "team": "core", "empty": "", "colon": "a:b", "uni": "ß€"},
    }
    resp = api.register(body)
    gw = json_ok(resp, 201)
    assert_gateway_shape(gw)
    expected_metadata = dict(body["metadata"], runtime="docker")
    assert gw["endpoint"] == body["endpoint"]
    assert gw["scheme"] == "http"
    assert gw["auth_mode"] == "api_key"
    assert (gw["has_ca_cert"], gw["has_client_cert"], gw["has_client_key"]) == (True,) * 3
    assert gw["metadata"] == expected_metadata
    assert gw["runtime"] == "docker"
    assert gw["description"] == body["description"]
    assert gw["labels"] == body["labels"]

    row = gateway_row(db, name)
    assert row["endpoint"] == body["endpoint"]
    assert row["scheme"] == "http"
    assert row["auth_mode"] == "api_key"
    assert row["description"] == body["description"]
    assert _row_json(row["labels_json"]) == body["labels"]
    assert _row_json(row["metadata_json"]) == expected_metadata

    info = json_ok(api.info(name))
    assert_gateway_shape(info)
    for key in ("name", "endpoint", "scheme", "auth_mode", "has_ca_cert", "has_client_cert",
                "has_client_key", "metadata", "description", "labels", "registered_at",
                "runtime"):
        assert info[key] == gw[key], key


@pytest.mark.parametrize("auth_mode", ["mtls", "api_key", "none", "insecure", None])
def test_register_auth_modes(api, db, unique_name, auth_mode):
    name = unique_name()
    gw = json_ok(api.register({"name": name, "endpoint": ENDPOINT, "auth_mode": auth_mode}), 201)
    assert gw["auth_mode"] == auth_mode
    assert gateway_row(db, name)["auth_mode"] == auth_mode
    assert json_ok(api.info(name))["auth_mode"] == auth_mode


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_register_schemes(api, db, unique_name, scheme):
    name = unique_name()
    gw = json_ok(api.register({"name": name, "endpoint": ENDPOINT, "scheme": scheme}), 201)
    assert gw["scheme"] == scheme
    assert gateway_row(db, name)["scheme"] == scheme


@pytest.mark.parametrize("given,stored", [
    ("docker", "docker"), ("Docker", "docker"), ("KUBERNETES", "kubernetes"),
    ("libkrun", "libkrun"), ("LibKrun", "libkrun"),
])
def test_register_runtime_is_lowercased(api, db, unique_name, given, stored):
    name = unique_name()
    body = {"name": name, "endpoint": ENDPOINT, "metadata": {"runtime": given, "x": 1}}
    gw = json_ok(api.register(body), 201)
    assert gw["runtime"] == stored
    assert gw["metadata"] == {"runtime": stored, "x": 1}
    assert _row_json(gateway_row(db, name)["metadata_json"]) == {"runtime": stored, "x": 1}


def test_register_explicit_empty_optionals(api, unique_name):
    body = {"name": unique_name(), "endpoint": ENDPOINT, "metadata": {}, "labels": {},
            "description": None}
    gw = json_ok(api.register(body), 201)
    assert gw["metadata"] == {} and gw["labels"] == {} and gw["description"] is None
    assert gw["runtime"] is None


def _fixed_name(api, name):
    # Fixed names cannot be made unique: clear a leftover of an interrupted earlier run.
    api.delete_gateway(name)
    return name


@pytest.mark.parametrize("kind", ["a", "Z", "7", "symbols", "max"])
def test_register_valid_name_boundaries(api, db, unique_name, kind):
    if kind in ("a", "Z", "7"):
        name = _fixed_name(api, kind)
    elif kind == "symbols":
        name = unique_name("x") + "._-A.b_C-9"
    else:
        base = unique_name("m")
        name = base + "n" * (253 - len(base))
        assert len(name) == 253
    gw = json_ok(api.register({"name": name, "endpoint": ENDPOINT}), 201)
    assert gw["name"] == name
    assert gateway_row(db, name) is not None
    assert json_ok(api.info(name))["name"] == name


def test_names_are_case_sensitive(api, unique_name):
    lower = unique_name("case")
    upper = lower.upper()
    json_ok(api.register({"name": lower, "endpoint": ENDPOINT, "description": "lower"}), 201)
    json_ok(api.register({"name": upper, "endpoint": ENDPOINT, "description": "upper"}), 201)
    assert json_ok(api.info(lower))["description"] == "lower"
    assert json_ok(api.info(upper))["description"] == "upper"
    names = api.list_names()
    assert lower in names and upper in names


@pytest.mark.parametrize("endpoint,stored", [
    ("a.svc.cluster.local:1", "a.svc.cluster.local:1"),
    ("b.svc.cluster.local:65535", "b.svc.cluster.local:65535"),
    ("GW.E2E.SVC.CLUSTER.LOCAL:8443", "GW.E2E.SVC.CLUSTER.LOCAL:8443"),
    ("under_score-dash.svc.cluster.local:30051", "under_score-dash.svc.cluster.local:30051"),
    ("  gw.e2e.svc.cluster.local:8443  ", "gw.e2e.svc.cluster.local:8443"),
])
def test_register_valid_endpoints(api, db, unique_name, endpoint, stored):
    name = unique_name()
    gw = json_ok(api.register({"name": name, "endpoint": endpoint}), 201)
    assert gw["endpoint"] == stored
    assert gateway_row(db, name)["endpoint"] == stored


def _local_mode():
    """local_mode of the running pool: its config file, then the environment override."""
    value = os.environ.get("BREAKWATER_LOCAL_MODE")
    run_dir = os.environ.get("BW_RUN_DIR")
    if value is None and run_dir:
        try:
            with open(os.path.join(run_dir, "conf", "breakwater.conf"), encoding="utf-8") as f:
                for line in f:
                    key, sep, val = line.split("#", 1)[0].partition("=")
                    if sep and key.strip() == "local_mode":
                        value = val.strip()
        except OSError:
            pass
    return (value or "false").strip().lower() in ("1", "true", "yes", "on")


@pytest.mark.parametrize("endpoint", [
    "127.0.0.1:50051", "localhost:8443", "LOCALHOST:8443", "localhost.localdomain:443",
    "10.0.0.5:8443", "172.16.3.4:443", "192.168.1.10:443", "169.254.169.254:80",
    "0.0.0.0:443",
])
def test_register_private_endpoint_follows_local_mode(api, rejected, unique_name, endpoint):
    body = {"name": unique_name(), "endpoint": endpoint}
    if _local_mode():
        gw = json_ok(api.register(body), 201)
        assert gw["endpoint"] == endpoint
    else:
        rejected(lambda: api.register(body),
                 expect=lambda r: assert_validation_422(r, ["body", "endpoint"]))


# --------------------------------------------------------------------------------------------
# 422: request validation (types, required fields, endpoint, scheme, auth_mode, runtime)


@pytest.mark.parametrize("missing", ["name", "endpoint"])
def test_register_missing_required_field(api, rejected, unique_name, missing):
    body = {"name": unique_name(), "endpoint": ENDPOINT}
    del body[missing]
    rejected(lambda: api.register(body),
             expect=lambda r: assert_validation_422(r, ["body", missing], error_type="missing"))


@pytest.mark.parametrize("field,value", [
    ("name", 123), ("name", None), ("name", ["a"]),
    ("endpoint", 443), ("endpoint", None), ("endpoint", {"host": "x"}),
    ("scheme", 1), ("scheme", None),
    ("auth_mode", 1), ("auth_mode", True),
    ("description", 5), ("description", ["x"]),
    ("labels", []), ("labels", "env:prod"), ("labels", {"k": 1}), ("labels", {"k": None}),
    ("labels", {"k": ["v"]}), ("labels", {"k": {"v": "w"}}),
    ("metadata", []), ("metadata", "runtime=docker"), ("metadata", 7),
    ("ca_cert", 123), ("client_cert", ["QUJD"]), ("client_key", {"pem": "QUJD"}),
])
def test_register_wrong_json_type_is_422(api, rejected, unique_name, field, value):
    body = {"name": unique_name(), "endpoint": ENDPOINT, field: value}
    rejected(lambda: api.register(body),
             expect=lambda r: assert_validation_422(r, loc_prefix=["body", field]))


@pytest.mark.parametrize("value", ["ftp", "", "grpc", "https ", "tcp"])
def test_register_bad_scheme_is_422(api, rejected, unique_name, value):
    body = {"name": unique_name(), "endpoint": ENDPOINT, "scheme": value}
    rejected(lambda: api.register(body),
             expect=lambda r: assert_validation_422(r, loc_prefix=["body", "scheme"]))


@pytest.mark.parametrize("value", ["token", "", "tls", "mtls "])
def test_register_bad_auth_mode_is_422(api, rejected, unique_name, value):
    body = {"name": unique_name(), "endpoint": ENDPOINT, "auth_mode": value}
    rejected(lambda: api.register(body),
             expect=lambda r: assert_validation_422(r, loc_prefix=["body", "auth_mode"]))


@pytest.mark.parametrize("endpoint", [
    "", "   ", "gateway", "gateway:", ":443", "https://gw.e2e.svc.cluster.local:443",
    "gw.e2e.svc.cluster.local:0", "gw.e2e.svc.cluster.local:65536",
    "gw.e2e.svc.cluster.local:123456", "[::1]:443", "::1:443", "gw.e2e.svc.cluster.local:443/x",
    "a:b:443", "gw host.svc.cluster.local:443", "gw.e2e.svc.cluster.local:44a",
    "gw.e2e.svc.cluster.local:-1", "gw@e2e.svc.cluster.local:443", "gw.e2e.svc.cluster.local: 443",
    "gw'--.svc.cluster.local:443", "gw\u00e9.svc.cluster.local:443",
])
def test_register_bad_endpoint_is_422(api, rejected, unique_name, endpoint):
    body = {"name": unique_name(), "endpoint": endpoint}
    rejected(lambda: api.register(body),
             expect=lambda r: assert_validation_422(r, ["body", "endpoint"]))


@pytest.mark.parametrize("runtime", ["podman", "", 5, None, ["docker"], {"name": "docker"}])
def test_register_bad_runtime_is_422(api, rejected, unique_name, runtime):
    body = {"name": unique_name(), "endpoint": ENDPOINT, "metadata": {"runtime": runtime}}
    rejected(lambda: api.register(body),
             expect=lambda r: assert_validation_422(r, loc_prefix=["body", "metadata"]))


@pytest.mark.parametrize("payload", ["[]", '"gateway"', "5", "null", "true"])
def test_register_body_not_an_object_is_422(api, rejected, payload):
    rejected(lambda: api.register_raw(payload.encode()),
             expect=lambda r: assert_validation_422(r, loc_prefix=["body"]))


# --------------------------------------------------------------------------------------------
# 400: handler validation (name, base64, cert size, description, labels, metadata size)

BAD_NAMES = [
    "", "-leading-dash", ".leading-dot", "_leading-underscore", "has space", "slash/inside",
    "back\\slash", "colon:inside", "ümlaut", "emoji😀", "semi;colon", "x'; DROP TABLE gateways; --",
    '"quoted"', "percent%41", "trailing-newline\n", "tab\there", "star*", "a" * 254,
    "b" * 1000,
]


@pytest.mark.parametrize("name", BAD_NAMES, ids=[repr(n[:20]) for n in BAD_NAMES])
def test_register_bad_name_is_400(api, rejected, name):
    body = {"name": name, "endpoint": ENDPOINT}
    rejected(lambda: api.register(body), 400, "VALIDATION_ERROR",
             detail_prefix="Invalid gateway name")


def test_register_description_limit_in_code_points(api, rejected, unique_name):
    at_limit = MIXED * 250
    assert len(at_limit) == 1000 and len(at_limit.encode("utf-8")) == 2500
    for send in (api.register, api.register_utf8):
        name = unique_name()
        gw = json_ok(send({"name": name, "endpoint": ENDPOINT, "description": at_limit}), 201)
        assert gw["description"] == at_limit
        assert json_ok(api.info(name))["description"] == at_limit

        body = {"name": unique_name(), "endpoint": ENDPOINT, "description": at_limit + "😀"}
        rejected(lambda: send(body), 400, "VALIDATION_ERROR", DESCRIPTION_DETAIL)


def test_register_description_ascii_boundary(api, rejected, unique_name):
    json_ok(api.register({"name": unique_name(), "endpoint": ENDPOINT,
                          "description": "d" * 1000}), 201)
    body = {"name": unique_name(), "endpoint": ENDPOINT, "description": "d" * 1001}
    rejected(lambda: api.register(body), 400, "VALIDATION_ERROR", DESCRIPTION_DETAIL)


def test_register_label_count_boundary(api, rejected, unique_name):
    labels = {f"k{i}": f"v{i}" for i in range(20)}
    gw = json_ok(api.register({"name": unique_name(), "endpoint": ENDPOINT,
                               "labels": labels}), 201)
    assert gw["labels"] == labels
    # 21 labels: the count is checked before the keys (one of them is invalid here).
    too_many = dict(labels, **{"-bad-key": "x"})
    body = {"name": unique_name(), "endpoint": ENDPOINT, "labels": too_many}
    rejected(lambda: api.register(body), 400, "VALIDATION_ERROR", TOO_MANY_LABELS_DETAIL)


def test_register_label_key_length_boundary(api, rejected, unique_name):
    key63 = "K" + "k" * 61 + "9"
    assert len(key63) == 63
    gw = json_ok(api.register({"name": unique_name(), "endpoint": ENDPOINT,
                               "labels": {key63: "v"}}), 201)
    assert gw["labels"] == {key63: "v"}
    key64 = key63 + "x"
    body = {"name": unique_name(), "endpoint": ENDPOINT, "labels": {key64: "v"}}
    rejected(lambda: api.register(body), 400, "VALIDATION_ERROR", label_key_detail(key64))


@pytest.mark.parametrize("key", [
    "", "-dash", ".dot", "_under", "has space", "ü", "k:v", "k/v", "k';--", "k\"", "k=v",
    "k\n",
])
def test_register_bad_label_key_is_400(api, rejected, unique_name, key):
    body = {"name": unique_name(), "endpoint": ENDPOINT, "labels": {"ok": "v", key: "v"}}
    rejected(lambda: api.register(body), 400, "VALIDATION_ERROR", label_key_detail(key))


@pytest.mark.parametrize("unit", ["v", "€", "😀"])
def test_register_label_value_length_boundary(api, rejected, unique_name, unit):
    value = unit * 253
    for send in (api.register, api.register_utf8):
        gw = json_ok(send({"name": unique_name(), "endpoint": ENDPOINT,
                           "labels": {"k": value}}), 201)
        assert gw["labels"] == {"k": value}
        body = {"name": unique_name(), "endpoint": ENDPOINT, "labels": {"k": value + unit}}
        rejected(lambda: send(body), 400, "VALIDATION_ERROR", label_value_detail("k"))


def test_register_label_checks_run_in_insertion_order(api, rejected, unique_name):
    # value of the first entry is checked before the key of the second ...
    body = {"name": unique_name(), "endpoint": ENDPOINT,
            "labels": {"first": "x" * 254, "-second": "v"}}
    rejected(lambda: api.register(body), 400, "VALIDATION_ERROR", label_value_detail("first"))
    # ... and the key of the first before the value of the second.
    body = {"name": unique_name(), "endpoint": ENDPOINT,
            "labels": {"-first": "v", "second": "x" * 254}}
    rejected(lambda: api.register(body), 400, "VALIDATION_ERROR", label_key_detail("-first"))


def test_register_twenty_labels_at_every_limit(api, db, unique_name):
    labels = {f"{i:02d}" + "k" * 61: "€" * 253 for i in range(20)}
    assert all(len(k) == 63 for k in labels)
    name = unique_name()
    gw = json_ok(api.register({"name": name, "endpoint": ENDPOINT, "labels": labels}), 201)
    assert gw["labels"] == labels
    assert json_ok(api.info(name))["labels"] == labels
    assert _row_json(gateway_row(db, name)["labels_json"]) == labels


def test_register_metadata_size_boundary(api, db, rejected, unique_name):
    name = unique_name()
    metadata = metadata_of_size(MAX_METADATA_CHARS, {"runtime": "docker", "list": [1, 2, 3]})
    gw = json_ok(api.register({"name": name, "endpoint": ENDPOINT, "metadata": metadata}), 201)
    assert gw["metadata"] == metadata
    assert _row_json(gateway_row(db, name)["metadata_json"]) == metadata

    over = metadata_of_size(MAX_METADATA_CHARS + 1, {"runtime": "docker", "list": [1, 2, 3]})
    body = {"name": unique_name(), "endpoint": ENDPOINT, "metadata": over}
    rejected(lambda: api.register(body), 400, "VALIDATION_ERROR", METADATA_SIZE_DETAIL)


def test_register_metadata_size_counts_ascii_escapes(api, rejected, unique_name):
    # The size is that of the ASCII-escaped serialisation: "é" counts 6 (\u00e9), not 1 or 2.
    fits = {"blob": "é" * 2728 + "xxxx"}
    assert metadata_len(fits) == MAX_METADATA_CHARS
    gw = json_ok(api.register({"name": unique_name(), "endpoint": ENDPOINT,
                               "metadata": fits}), 201)
    assert gw["metadata"] == fits

    over = {"blob": "é" * 2728 + "xxxxx"}
    assert metadata_len(over) == MAX_METADATA_CHARS + 1
    assert len(json.dumps(over, ensure_ascii=False).encode("utf-8")) < MAX_METADATA_CHARS
    body = {"name": unique_name(), "endpoint": ENDPOINT, "metadata": over}
    for send in (api.register, api.register_utf8):
        rejected(lambda: send(body), 400, "VALIDATION_ERROR", METADATA_SIZE_DETAIL)


def test_register_certs_at_size_limit(api, db, unique_name):
    name = unique_name()
    body = {"name": name, "endpoint": ENDPOINT}
    for field in CERT_FIELDS:
        body[field] = b64(pem_for(field, MAX_CERT_BYTES))
    gw = json_ok(api.register(body), 201)
    assert (gw["has_ca_cert"], gw["has_client_cert"], gw["has_client_key"]) == (True,) * 3
    row = gateway_row(db, name)
    for field in CERT_FIELDS:
        assert row[field] is not None and len(row[field]) > MAX_CERT_BYTES, field


@pytest.mark.parametrize("field", CERT_FIELDS)
def test_register_cert_over_size_limit(api, rejected, unique_name, field):
    body = {"name": unique_name(), "endpoint": ENDPOINT,
            field: b64(pem_bytes(MAX_CERT_BYTES + 1))}
    rejected(lambda: api.register(body), 400, "VALIDATION_ERROR", cert_size_detail(field))


def test_register_cert_size_is_counted_decoded(api, unique_name):
    # 65536 bytes wrapped at 64 columns: the text is far longer than 65536, the data is not.
    text = b64(pem_bytes(MAX_CERT_BYTES))
    wrapped = "\n".join(text[i:i + 64] for i in range(0, len(text), 64)) + "\n"
    gw = json_ok(api.register({"name": unique_name(), "endpoint": ENDPOINT,
                               "ca_cert": wrapped}), 201)
    assert gw["has_ca_cert"] is True


# Noise outside the base64 alphabet inside a valid certificate's base64 text (bundles are
# validated, so the decoded bytes must still be a certificate).
@pytest.mark.parametrize("noise", [lambda t: t + "\n", lambda t: t[:4] + "\n" + t[4:],
                                   lambda t: " " + t[:4] + " " + t[4:] + " ",
                                   lambda t: t[:4] + "!!" + t[4:],
                                   lambda t: t[:4] + "\r\n" + t[4:]],
                         ids=["trailing-newline", "newline", "spaces", "bangs", "crlf"])
def test_register_base64_is_lenient_outside_the_alphabet(api, unique_name, noise):
    value = noise(b64(pem_bytes(0)))
    gw = json_ok(api.register({"name": unique_name(), "endpoint": ENDPOINT,
                               "client_cert": value}), 201)
    assert gw["has_client_cert"] is True


@pytest.mark.parametrize("field", CERT_FIELDS)
@pytest.mark.parametrize("value", ["QUJDRA", "QUJDR", "QUJDRA=", "Q"])
def test_register_bad_base64_padding_is_400(api, rejected, unique_name, field, value):
    body = {"name": unique_name(), "endpoint": ENDPOINT, field: value}
    rejected(lambda: api.register(body), 400, "VALIDATION_ERROR",
             detail_prefix=BASE64_DETAIL_PREFIX)


# --------------------------------------------------------------------------------------------
# Order of the checks: 422 (types, endpoint, scheme, auth_mode, runtime) → 400 name → 400 base64
# → 400 cert size → 400 description → 400 labels → 400 metadata size → 409 duplicate


@pytest.mark.parametrize("override,loc", [
    ({"endpoint": "not an endpoint"}, ["body", "endpoint"]),
    ({"scheme": "ftp"}, ["body", "scheme"]),
    ({"auth_mode": "token"}, ["body", "auth_mode"]),
    ({"metadata": {"runtime": "podman"}}, ["body", "metadata"]),
    ({"labels": ["not", "a", "dict"]}, ["body", "labels"]),
    ({"description": 42}, ["body", "description"]),
])
def test_422_wins_over_every_400(api, rejected, override, loc):
    body = {
        "name": "-invalid name-",
        "endpoint": ENDPOINT,
        "ca_cert": "QUJDRA",
        "description": "d" * 1001,
        "labels": {f"k{i}": "v" for i in range(21)},
        "metadata": metadata_of_size(MAX_METADATA_CHARS + 10),
    }
    body.update(override)
    rejected(lambda: api.register(body),
             expect=lambda r: assert_validation_422(r, loc_prefix=loc))


def test_400_checks_run_in_reference_order(api, rejected, unique_name):
    body = {
        "name": "-invalid name-",
        "endpoint": ENDPOINT,
        "ca_cert": "QUJDRA",
        "description": "d" * 1001,
        "labels": {"-bad": "v"},
        "metadata": metadata_of_size(MAX_METADATA_CHARS + 1),
    }
    # Each step fixes the field just reported; the next check in line must answer next.
    rejected(lambda: api.register(body), 400, "VALIDATION_ERROR",
             detail_prefix="Invalid gateway name")
    body["name"] = unique_name()
    rejected(lambda: api.register(body), 400, "VALIDATION_ERROR",
             detail_prefix=BASE64_DETAIL_PREFIX)
    body["ca_cert"] = b64(pem_bytes(MAX_CERT_BYTES + 1))
    rejected(lambda: api.register(body), 400, "VALIDATION_ERROR", cert_size_detail("ca_cert"))
    del body["ca_cert"]
    rejected(lambda: api.register(body), 400, "VALIDATION_ERROR", DESCRIPTION_DETAIL)
    del body["description"]
    rejected(lambda: api.register(body), 400, "VALIDATION_ERROR", label_key_detail("-bad"))
    del body["labels"]
    rejected(lambda: api.register(body), 400, "VALIDATION_ERROR", METADATA_SIZE_DETAIL)
    del body["metadata"]
    json_ok(api.register(body), 201)


def test_name_check_uses_reference_detail(api, rejected):
    rejected(lambda: api.register({"name": "bad name", "endpoint": ENDPOINT}), 400,
             "VALIDATION_ERROR", NAME_DETAIL)


# --------------------------------------------------------------------------------------------
# 409


def test_duplicate_name_is_409_and_changes_nothing(api, db, rejected, unique_name):
    name = unique_name()
    first = json_ok(api.register({"name": name, "endpoint": ENDPOINT, "description": "one"}), 201)
    again = {"name": name, "endpoint": "other.svc.cluster.local:1", "description": "two",
             "labels": {"x": "y"}}
    rejected(lambda: api.register(again), 409, "CONFLICT", conflict_detail(name))
    info = json_ok(api.info(name))
    assert info["description"] == "one" and info["endpoint"] == ENDPOINT and info["labels"] == {}
    assert info["registered_at"] == first["registered_at"]
    assert gateway_row(db, name)["description"] == "one"


def test_concurrent_registrations_of_one_name(api, db, unique_name):
    # Several workers race for one name: exactly one wins, the others get a clean 409.
    name = unique_name("race")
    body = {"name": name, "endpoint": ENDPOINT}

    def attempt(_):
        with new_session(api.cafile) as session:
            return session.post(api.url("/api/gateway/register"), json=body, timeout=60)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(attempt, range(8)))
    statuses = sorted(r.status_code for r in answers)
    if 201 in statuses:
        api.created.append(name)
    assert statuses == [201] + [409] * 7, statuses
    for resp in answers:
        if resp.status_code == 409:
            assert_problem(resp, 409, "CONFLICT", conflict_detail(name))
    assert len(audit_rows(db, "gateway.register", name)) == 1
    with db.cursor() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM gateways WHERE name = %s", (name,))
        assert cur.fetchone()["n"] == 1


def test_invalid_duplicate_reports_400_not_409(api, rejected, unique_name):
    name = unique_name()
    json_ok(api.register({"name": name, "endpoint": ENDPOINT}), 201)
    body = {"name": name, "endpoint": ENDPOINT, "description": "d" * 1001}
    rejected(lambda: api.register(body), 400, "VALIDATION_ERROR", DESCRIPTION_DETAIL)
    body = {"name": name, "endpoint": "bad endpoint"}
    rejected(lambda: api.register(body),
             expect=lambda r: assert_validation_422(r, ["body", "endpoint"]))


def test_register_again_after_unregister(api, unique_name):
    name = unique_name()
    json_ok(api.register({"name": name, "endpoint": ENDPOINT, "description": "old"}), 201)
    assert json_ok(api.delete_gateway(name)) == {"success": True, "name": name}
    gw = json_ok(api.register({"name": name, "endpoint": ENDPOINT}), 201)
    assert gw["description"] is None
