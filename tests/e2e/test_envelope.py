"""Cross-cutting behaviour of every /api answer: the problem+json envelope for router errors,
X-Request-ID handling and the security headers."""

import pytest

from bwtest import REQUEST_ID_RE, assert_problem, json_ok

UNKNOWN_API_PATHS = [
    "/api/",
    "/api/nope",
    "/api/v1/gateway/list",
    "/api/gateway/list/extra",
    "/api/gateway/some-name/info/extra",
    "/api/gateway/some-name/unknown-action",
]


@pytest.mark.parametrize("path", UNKNOWN_API_PATHS)
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_unknown_api_path_is_404_envelope(rejected, api, method, path):
    rejected(lambda: api.request(method, path), 404, "NOT_FOUND")


def _allow(resp):
    return {m.strip().upper() for m in resp.headers.get("Allow", "").split(",") if m.strip()}


@pytest.mark.parametrize("method,path,allowed", [
    ("GET", "/api/gateway/register", {"POST"}),
    ("PUT", "/api/gateway/register", {"POST"}),
    ("POST", "/api/gateway/list", {"GET"}),
    ("PUT", "/api/gateway/list", {"GET"}),
    ("POST", "/api/gateway/some-name/info", {"GET"}),
    ("DELETE", "/api/gateway/some-name/info", {"GET"}),
    ("PATCH", "/api/gateway/some-name/info", {"GET"}),
    ("GET", "/api/gateway/some-name", {"PATCH", "DELETE"}),
    ("PUT", "/api/gateway/some-name", {"PATCH", "DELETE"}),
    ("POST", "/api/gateway/some-name", {"PATCH", "DELETE"}),
    ("POST", "/healthz", {"GET"}),
    ("DELETE", "/readyz", {"GET"}),
    ("PUT", "/version", {"GET"}),
])
def test_wrong_method_is_405_with_allow(rejected, api, method, path, allowed):
    def expect(resp):
        body = assert_problem(resp, 405, "METHOD_NOT_ALLOWED")
        allow = _allow(resp)
        assert allowed <= allow, (resp.headers.get("Allow"), allowed)
        assert method not in allow, resp.headers.get("Allow")
        return body
    rejected(lambda: api.request(method, path), expect=expect)


@pytest.mark.parametrize("rid", ["abc-123", "A.b_c-9", "x" * 64])
def test_valid_client_request_id_is_echoed(api, rid):
    resp = api.list(headers={"X-Request-ID": rid})
    json_ok(resp)
    assert resp.headers["X-Request-ID"] == rid

    resp = api.get("/api/nope", headers={"X-Request-ID": rid})
    body = assert_problem(resp, 404, "NOT_FOUND")
    assert body["request_id"] == rid


@pytest.mark.parametrize("rid", ["has space", "x" * 65, "a/b", "<script>", "a;b", "a:b", "é"])
def test_malformed_client_request_id_is_replaced(api, rid):
    headers = {"X-Request-ID": rid.encode("utf-8")}
    resp = api.list(headers=headers)
    json_ok(resp)
    assert resp.headers["X-Request-ID"] != rid
    assert REQUEST_ID_RE.match(resp.headers["X-Request-ID"])

    resp = api.get("/api/nope", headers=headers)
    body = assert_problem(resp, 404, "NOT_FOUND")
    assert body["request_id"] != rid


def test_generated_request_ids_differ(api):
    ids = set()
    for _ in range(5):
        resp = api.list()
        json_ok(resp)
        ids.add(resp.headers["X-Request-ID"])
        ids.add(assert_problem(api.get("/api/nope"), 404)["request_id"])
    assert len(ids) == 10, ids


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


@pytest.mark.parametrize("path,status", [
    ("/api/gateway/list", 200),
    ("/api/nope", 404),
    ("/api/gateway/bad%20name/info", 400),
    ("/healthz", 200),
])
def test_security_headers_on_success_and_error(api, path, status):
    resp = api.get(path)
    assert resp.status_code == status, resp.text
    for header, value in SECURITY_HEADERS.items():
        assert resp.headers.get(header) == value, (header, resp.headers)
