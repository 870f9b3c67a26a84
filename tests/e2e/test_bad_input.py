"""Hostile and broken input: malformed JSON, wrong or missing content type, missing body,
oversized bodies (Content-Length and chunked), invalid UTF-8, deep nesting, NUL characters, SQL
metacharacters and path traversal. Each must give the right 4xx envelope, leave the database
unchanged and leave the pool serving (the ``rejected`` fixture checks the last two)."""

import json

import pytest

from bwtest import (
    DESCRIPTION_DETAIL, ENDPOINT, MAX_BODY_BYTES, MAX_CERT_BYTES, MAX_METADATA_CHARS,
    assert_json_invalid_422, assert_problem, assert_validation_422, b64, describe, gateway_row,
    json_ok, media_type, metadata_of_size, nested_json, not_found_detail, pem_bytes, pem_for,
)

MALFORMED = [
    b"{",
    b'{"name": "x", ',
    b'{"name": "x",}',
    b"{'name': 'x'}",
    b'{"name": "x"} trailing',
    b'{"name": "x"}{"name": "y"}',
    b'{"name" "x"}',
    b'{name: "x"}',
    b'{"name": "unterminated}',
    b'{"name": "bad \\q escape"}',
    b'{"name": "\\u12"}',
    b'{"n": NaN}',
    b'{"n": 01}',
    b'{"n": .5}',
    b'{"n": tru}',
    b"]",
    b'{"name": "tab\tinside"}',  # raw control character inside a string
]


@pytest.mark.parametrize("payload", MALFORMED, ids=[repr(p[:16]) for p in MALFORMED])
def test_malformed_json_register_is_422(api, rejected, payload):
    rejected(lambda: api.register_raw(payload),
             expect=lambda r: assert_json_invalid_422(r, len(payload)))


@pytest.mark.parametrize("payload", MALFORMED[:6], ids=[repr(p[:16]) for p in MALFORMED[:6]])
def test_malformed_json_patch_is_422(api, rejected, gateway, payload):
    name = gateway(description="intact")["name"]
    rejected(lambda: api.send_bytes("PATCH", f"/api/gateway/{name}", payload),
             expect=lambda r: assert_json_invalid_422(r, len(payload)))
    assert json_ok(api.info(name))["description"] == "intact"


def test_malformed_json_wins_over_bad_name_and_unknown_gateway(api, rejected, unique_name):
    payload = b'{"description": '
    for path in ("/api/gateway/bad%20name", f"/api/gateway/{unique_name('absent')}"):
        rejected(lambda: api.send_bytes("PATCH", path, payload),
                 expect=lambda r: assert_json_invalid_422(r, len(payload)))


def test_json_invalid_offset_points_into_the_body(api):
    payload = b'{"name": "abc", "endpoint": }'
    body = assert_json_invalid_422(api.register_raw(payload), len(payload))
    offset = body["errors"][0]["loc"][1]
    assert 15 <= offset <= len(payload), body


@pytest.mark.parametrize("content_type", [None, "application/json"])
@pytest.mark.parametrize("method,path", [
    ("POST", "/api/gateway/register"),
    ("PATCH", "/api/gateway/{name}"),
])
def test_missing_body_is_422(api, rejected, gateway, method, path, content_type):
    if "{name}" in path:
        path = path.format(name=gateway()["name"])
    rejected(lambda: api.send_bytes(method, path, b"", content_type),
             expect=lambda r: assert_validation_422(r, ["body"], error_type="missing"))


BAD_CONTENT_TYPES = [
    None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    "application/xml", "text/json", "application/jsonx", "application/json-patch+json",
    "application/octet-stream",
]


@pytest.mark.parametrize("content_type", BAD_CONTENT_TYPES)
def test_register_wrong_content_type_is_415(api, rejected, unique_name, content_type):
    name = unique_name()
    data = json.dumps({"name": name, "endpoint": ENDPOINT}).encode()
    rejected(lambda: api.register_raw(data, content_type), 415, "UNSUPPORTED_MEDIA_TYPE")
    assert api.info(name).status_code == 404


@pytest.mark.parametrize("content_type", BAD_CONTENT_TYPES[:4])
def test_patch_wrong_content_type_is_415(api, rejected, gateway, content_type):
    name = gateway(description="intact")["name"]
    data = json.dumps({"description": "changed"}).encode()
    rejected(lambda: api.send_bytes("PATCH", f"/api/gateway/{name}", data, content_type),
             415, "UNSUPPORTED_MEDIA_TYPE")
    assert json_ok(api.info(name))["description"] == "intact"


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8",
                                          "application/json;charset=UTF-8"])
def test_json_content_type_with_parameters_is_accepted(api, unique_name, content_type):
    name = unique_name()
    data = json.dumps({"name": name, "endpoint": ENDPOINT}).encode()
    resp = api.register_raw(data, content_type)
    if resp.status_code == 201:
        api.created.append(name)
    json_ok(resp, 201)


# --------------------------------------------------------------------------------------------
# Body size


def _register_body_of_size(name, size):
    head = json.dumps({"name": name, "endpoint": ENDPOINT})[:-1] + ', "description": "'
    tail = '"}'
    fill = size - len(head) - len(tail)
    data = (head + "d" * fill + tail).encode()
    assert len(data) == size
    return data


def _400_or_413(resp):
    # A route may cap its body below the global 10 MiB (the pool sizes each route's cap to its
    # largest valid request); at exactly 10 MiB either that cap (413) or the description (400)
    # answers — never a 5xx, and nothing is stored.
    assert resp.status_code in (400, 413), describe(resp)
    if resp.status_code == 400:
        return assert_problem(resp, 400, "VALIDATION_ERROR", DESCRIPTION_DETAIL)
    return assert_problem(resp, 413, "PAYLOAD_TOO_LARGE")


def test_body_at_the_global_limit(api, rejected, unique_name):
    data = _register_body_of_size(unique_name(), MAX_BODY_BYTES)
    rejected(lambda: api.register_raw(data), expect=_400_or_413)


def test_chunked_body_at_the_global_limit(api, rejected, unique_name):
    data = _register_body_of_size(unique_name(), MAX_BODY_BYTES)
    rejected(lambda: api.raw("POST", "/api/gateway/register",
                             {"Content-Type": "application/json"}, data, chunked=True),
             expect=_400_or_413)


def _max_labels():
    # 20 labels, 63-character keys, 253 astral characters per value: each value is 3036 bytes
    # once \u-escaped as surrogate pairs (what json.dumps and requests send by default)
    return {f"{i:02d}" + "k" * 61: "😀" * 253 for i in range(20)}


def test_largest_valid_register_body_is_accepted(api, db, unique_name):
    def wrapped(field):
        text = b64(pem_for(field, MAX_CERT_BYTES))
        return "\n".join(text[i:i + 64] for i in range(0, len(text), 64)) + "\n"
    base = unique_name("m")
    name = base + "n" * (253 - len(base))
    body = {"name": name, "endpoint": ENDPOINT, "scheme": "https", "auth_mode": "mtls",
            "ca_cert": wrapped("ca_cert"), "client_cert": wrapped("client_cert"),
            "client_key": wrapped("client_key"),
            "description": "😀" * 1000, "labels": _max_labels(),
            "metadata": metadata_of_size(MAX_METADATA_CHARS, {"runtime": "docker"})}
    size = len(json.dumps(body).encode())
    assert size > 350_000, size
    gw = json_ok(api.register(body), 201)
    assert gw["labels"] == body["labels"] and gw["description"] == body["description"]
    assert gw["metadata"] == body["metadata"]
    assert (gw["has_ca_cert"], gw["has_client_cert"], gw["has_client_key"]) == (True,) * 3
    assert gateway_row(db, name) is not None


def test_largest_valid_patch_body_is_accepted(api, gateway):
    name = gateway()["name"]
    body = {"description": "😀" * 1000, "labels": _max_labels()}
    size = len(json.dumps(body).encode())
    assert size > 70_000, size
    out = json_ok(api.patch_gateway(name, body))
    assert out["labels"] == body["labels"] and out["description"] == body["description"]
    info = json_ok(api.info(name))
    assert info["labels"] == body["labels"] and info["description"] == body["description"]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("method,path", [("POST", "/api/gateway/register"),
                                         ("PATCH", "/api/gateway/{name}")])
def test_body_over_the_limit_is_413(api, rejected, gateway, unique_name, chunked, method, path):
    if "{name}" in path:
        path = path.format(name=gateway()["name"])
    data = _register_body_of_size(unique_name(), MAX_BODY_BYTES + 1)
    rejected(lambda: api.raw(method, path, {"Content-Type": "application/json"}, data,
                             chunked=chunked),
             413, "PAYLOAD_TOO_LARGE")


def test_huge_declared_content_length_is_413(api, rejected):
    # Only the header is sent: the answer must not wait for 1 GiB that never comes.
    rejected(lambda: api.raw("POST", "/api/gateway/register",
                             {"Content-Type": "application/json",
                              "Content-Length": str(1 << 30)}, b"{", timeout=15),
             413, "PAYLOAD_TOO_LARGE")


# --------------------------------------------------------------------------------------------
# Encoding, nesting, NUL

INVALID_UTF8 = [
    b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80",
    b"\xed\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80", b"\xe2\x82", b"\x80",
    b"abc\xc3",
]


@pytest.mark.parametrize("bad", INVALID_UTF8, ids=[b.hex() for b in INVALID_UTF8])
def test_invalid_utf8_in_register_is_400(api, rejected, unique_name, bad):
    data = (b'{"name": "' + unique_name().encode() + b'", "endpoint": "' + ENDPOINT.encode()
            + b'", "description": "x' + bad + b'y"}')
    rejected(lambda: api.register_raw(data), 400, "VALIDATION_ERROR")


def test_invalid_utf8_in_key_is_400(api, rejected, unique_name):
    data = (b'{"name": "' + unique_name().encode() + b'", "endpoint": "' + ENDPOINT.encode()
            + b'", "labels": {"k\xff": "v"}}')
    rejected(lambda: api.register_raw(data), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("bad", INVALID_UTF8[:6], ids=[b.hex() for b in INVALID_UTF8[:6]])
def test_invalid_utf8_in_patch_is_400(api, rejected, gateway, bad):
    name = gateway(description="intact")["name"]
    data = b'{"description": "x' + bad + b'"}'
    rejected(lambda: api.send_bytes("PATCH", f"/api/gateway/{name}", data), 400,
             "VALIDATION_ERROR")
    assert json_ok(api.info(name))["description"] == "intact"


def test_lone_surrogate_escape_is_rejected(api, rejected, unique_name):
    # "\ud800" alone cannot become UTF-8: invalid text, whatever the layer that notices it.
    data = (b'{"name": "' + unique_name().encode() + b'", "endpoint": "' + ENDPOINT.encode()
            + b'", "description": "x\\ud800y"}')

    def expect(resp):
        assert resp.status_code in (400, 422), resp.text
        return assert_problem(resp, resp.status_code, "VALIDATION_ERROR")
    rejected(lambda: api.register_raw(data), expect=expect)


def test_nesting_within_the_limit_is_accepted(api, unique_name):
    # 31 levels in total (the body object and 30 in metadata): within 32 however one counts
    name = unique_name()
    data = (json.dumps({"name": name, "endpoint": ENDPOINT})[:-1]
            + ', "metadata": ' + nested_json(30) + "}").encode()
    resp = api.register_raw(data)
    if resp.status_code == 201:
        api.created.append(name)
    gw = json_ok(resp, 201)
    assert gw["metadata"] == json.loads(nested_json(30))


@pytest.mark.parametrize("levels", [33, 40, 1000])
def test_nesting_over_the_limit_is_400(api, rejected, unique_name, levels):
    # levels + 1 in total with the body object: more than 32 however one counts
    data = (json.dumps({"name": unique_name(), "endpoint": ENDPOINT})[:-1]
            + ', "metadata": ' + nested_json(levels) + "}").encode()
    rejected(lambda: api.register_raw(data), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("payload", [b"[" * 100000 + b"]" * 100000,
                                     b'{"a": ' * 50000 + b"1" + b"}" * 50000],
                         ids=["arrays", "objects"])
def test_pathological_nesting_is_400(api, rejected, payload):
    rejected(lambda: api.register_raw(payload), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("field", ["name", "endpoint", "description", "label_key",
                                   "label_value", "metadata_key", "metadata_value", "ca_cert"])
def test_nul_character_in_a_string_is_400(api, rejected, unique_name, field):
    body = {"name": unique_name(), "endpoint": ENDPOINT}
    nul = "x\u0000y"
    if field == "label_key":
        body["labels"] = {nul: "v"}
    elif field == "label_value":
        body["labels"] = {"k": nul}
    elif field == "metadata_key":
        body["metadata"] = {nul: 1}
    elif field == "metadata_value":
        body["metadata"] = {"k": nul}
    elif field == "ca_cert":
        body["ca_cert"] = "QUJD\u0000RA=="
    elif field == "description":
        body["description"] = nul
    else:  # name, endpoint
        body[field] += nul
    assert b"\\u0000" in json.dumps(body).encode()
    rejected(lambda: api.register(body), 400, "VALIDATION_ERROR")


def test_nul_character_in_patch_is_400(api, rejected, gateway):
    name = gateway(description="intact")["name"]
    rejected(lambda: api.patch_gateway(name, {"description": "a\u0000b"}), 400,
             "VALIDATION_ERROR")
    rejected(lambda: api.patch_gateway(name, {"labels": {"k": "a\u0000b"}}), 400,
             "VALIDATION_ERROR")
    assert json_ok(api.info(name))["description"] == "intact"


def test_raw_nul_byte_in_body_is_rejected(api, rejected, unique_name):
    data = (b'{"name": "' + unique_name().encode() + b'", "endpoint": "' + ENDPOINT.encode()
            + b'", "description": "a\x00b"}')

    def expect(resp):
        # a raw control character makes the JSON malformed (422); a NUL check before parsing
        # (400) is acceptable too
        assert resp.status_code in (400, 422), resp.text
        return assert_problem(resp, resp.status_code, "VALIDATION_ERROR")
    rejected(lambda: api.register_raw(data), expect=expect)


# --------------------------------------------------------------------------------------------
# SQL metacharacters are data


SQLISH = [
    "'", "\"", "`", "\\", "' OR '1'='1", "'; DROP TABLE gateways; --", "\\'; SELECT 1; #",
    "%", "_", "/* comment */", "0x27", "CHAR(39)", "a\\0b", "\u02bc", "\uff07",
]


def test_sql_metacharacters_in_values_are_stored_verbatim(api, db, unique_name):
    name = unique_name()
    labels = {f"k{i}": value for i, value in enumerate(SQLISH)}
    description = " | ".join(SQLISH)
    metadata = {"q": SQLISH, "'; DROP TABLE audit_log; --": "x"}
    resp = api.register({"name": name, "endpoint": ENDPOINT, "labels": labels,
                         "description": description, "metadata": metadata})
    gw = json_ok(resp, 201)
    assert (gw["labels"], gw["description"], gw["metadata"]) == (labels, description, metadata)
    row = gateway_row(db, name)
    assert json.loads(row["labels_json"]) == labels
    assert row["description"] == description
    assert json.loads(row["metadata_json"]) == metadata
    with db.cursor() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM audit_log")
        assert cur.fetchone()["n"] >= 1
    patched = json_ok(api.patch_gateway(name, {"description": "'; DELETE FROM gateways; --"}))
    assert patched["description"] == "'; DELETE FROM gateways; --"
    assert gateway_row(db, name)["description"] == "'; DELETE FROM gateways; --"
    assert json_ok(api.info(name))["labels"] == labels


# --------------------------------------------------------------------------------------------
# Path traversal


# Name segments that stay under /api/ whatever nginx makes of them (it decodes %2F and %2e and
# removes dot segments): the pool must answer with a problem document, 400 (invalid name) or 404
# (no such route or gateway).
TRAVERSAL_UNDER_API = [
    "%2e%2e", "..%2f", "%2e%2e%2f", "x%2F..%2F..%2Fy", "..%5C..%5Cx", "%2fetc%2fpasswd",
    "%2e%2e%2e", "...%2Fx",
]


@pytest.mark.parametrize("segment", TRAVERSAL_UNDER_API)
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_traversal_under_api_is_400_or_404(api, rejected, method, segment):
    target = f"/api/gateway/{segment}" + ("/info" if method == "GET" else "")
    body = b'{"description": "x"}' if method == "PATCH" else None
    headers = {"Content-Type": "application/json"} if body else {}

    def expect(resp):
        assert resp.status_code in (400, 404), resp.text
        return assert_problem(resp, resp.status_code)
    rejected(lambda: api.raw(method, target, headers, body), expect=expect)


# Targets nginx itself may refuse (NUL, escaping the root) or map outside /api/: never a 2xx,
# a 5xx or a file's content.
TRAVERSAL_ANYWHERE = [
    "/api/gateway/a%00b/info",
    "/api/gateway/%00/info",
    "/api/gateway/../../../etc/passwd",
    "/api/../../etc/passwd",
    "/api/gateway/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "/api/gateway/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/api/gateway/..%2F..%2Fetc%2Fpasswd/info",
]


@pytest.mark.parametrize("target", TRAVERSAL_ANYWHERE)
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_traversal_anywhere_is_refused(api, rejected, method, target):
    # nginx's static handler answers 405 to a DELETE that lands outside /api/
    allowed = (400, 404) if method == "GET" else (400, 404, 405)

    def expect(resp):
        assert resp.status_code in allowed, resp.text
        assert b"root:" not in resp.content
        if media_type(resp) == "application/problem+json":
            return assert_problem(resp, resp.status_code)
        return None
    rejected(lambda: api.raw(method, target), expect=expect)


@pytest.mark.parametrize("template", [
    "/api/gateway/x%2F..%2F{victim}",
    "/api/gateway/x%2f%2e%2e%2f{victim}",
    "/api/gateway/%2e%2e%2Fgateway%2F{victim}",
    "/api/gateway/.%2F{victim}",
])
def test_encoded_traversal_cannot_reach_another_gateway(api, db, rejected, gateway, template):
    victim = gateway(description="victim")["name"]
    target = template.format(victim=victim)

    def expect(resp):
        assert resp.status_code in (400, 404), resp.text
        return assert_problem(resp, resp.status_code)
    rejected(lambda: api.raw("DELETE", target), expect=expect)
    rejected(lambda: api.raw("PATCH", target, {"Content-Type": "application/json"},
                             b'{"description": "hijacked"}'), expect=expect)
    rejected(lambda: api.raw("GET", target + "/info"), expect=expect)
    assert gateway_row(db, victim)["description"] == "victim"


def test_unknown_gateway_named_like_a_route(api, rejected):
    # names that collide with fixed route words are just (unregistered) names
    for name in ("register", "list", "discover"):
        rejected(lambda: api.info(name), 404, "NOT_FOUND", not_found_detail(name))
