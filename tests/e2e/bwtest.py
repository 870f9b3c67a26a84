"""Shared helpers of the Breakwater end-to-end tests (plain functions; fixtures live in conftest.py).

Everything here talks to the real stack: nginx over HTTPS (``requests`` for ordinary calls, a tiny
raw HTTP/1.1 client for requests that ``requests`` would normalise or refuse to send) and MariaDB
over its unix socket (``pymysql``).
"""

import base64
import hashlib
import http.cookiejar
import ipaddress
import json
import os
import random
import re
import secrets
import select
import socket
import ssl
import string
import subprocess
import tempfile
import urllib.parse
import warnings
from datetime import datetime, timedelta, timezone

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # libxcrypt: bcrypt hashes made outside Breakwater, as ShoreGuard's would be

import pymysql
import pymysql.cursors
import requests
from requests.structures import CaseInsensitiveDict

# --------------------------------------------------------------------------------------------
# Contract constants

# Not subject to the private-address (SSRF) check and never resolved through DNS, so it is valid
# whether or not the stack runs in local mode.
ENDPOINT = "gw.e2e.svc.cluster.local:30051"

MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_CERT_BYTES = 65536
MAX_METADATA_CHARS = 16384
MAX_DESCRIPTION = 1000
MAX_LABELS = 20
MAX_LABEL_KEY = 63
MAX_LABEL_VALUE = 253
MAX_NAME = 253

NAME_DETAIL = "Invalid gateway name: must match [a-zA-Z0-9][a-zA-Z0-9._-]* (max 253)"
DESCRIPTION_DETAIL = "description exceeds maximum length of 1000"
TOO_MANY_LABELS_DETAIL = "Too many labels (max 20)"
METADATA_SIZE_DETAIL = "metadata exceeds maximum size of 16384 bytes"
BASE64_DETAIL_PREFIX = "Invalid base64 in certificate field"
NO_FIELDS_DETAIL = "No fields to update"
RUNTIMES = ("docker", "kubernetes", "libkrun")
CERT_FIELDS = ("ca_cert", "client_cert", "client_key")


def label_key_detail(key):
    return (f"Invalid label key '{key}': must match [a-zA-Z0-9][a-zA-Z0-9._-]* "
            f"(max 63 chars)")


def label_value_detail(key):
    return f"Label value for '{key}' exceeds maximum length of 253"


def cert_size_detail(field):
    return f"{field} exceeds maximum size of 65536 bytes"


def not_found_detail(name):
    return f"Gateway '{name}' not found"


def conflict_detail(name):
    return f"Gateway '{name}' is already registered"


def label_filter_detail(item):
    return f"Invalid label filter '{item}': expected key:value"


def runtime_filter_detail(value):
    return f"runtime '{value}' is not recognised; known runtimes: docker, kubernetes, libkrun"


# The reference's 18 keys plus what Breakwater adds from the stored health: the compatibility
# verdict of the gateway's version and the time of the last health probe (list items also carry
# the version).
GATEWAY_KEYS = frozenset({
    "name", "endpoint", "scheme", "auth_mode", "has_ca_cert", "has_client_cert",
    "has_client_key", "metadata", "status", "last_status", "connected", "description",
    "labels", "registered_at", "last_seen", "configured", "version", "runtime",
    "compatibility", "last_health",
})
LIST_ITEM_KEYS = GATEWAY_KEYS - {"configured"}
GATEWAY_STATUSES = frozenset({"connected", "unreachable", "offline"})

PROBLEM_KEYS = frozenset({"type", "title", "status", "detail", "code", "request_id"})
DEFAULT_CODES = {
    400: "VALIDATION_ERROR", 401: "AUTHENTICATION_REQUIRED", 403: "PERMISSION_DENIED",
    404: "NOT_FOUND", 429: "RATE_LIMITED", 405: "METHOD_NOT_ALLOWED", 409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE", 422: "VALIDATION_ERROR",
    500: "INTERNAL_ERROR", 503: "SERVICE_UNAVAILABLE",
}
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
RFC3339_UTC_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?\+00:00$")


# Credentials every client of the suite sends (set once per session by conftest.py: a bearer key
# of an admin service principal) and the audit actor they produce.
# Responder processes cache resolved credentials for at most 1 s (services/authcache.h); a change
# made behind their back (straight in the database, as another host would) shows within that.
# Changes made through the API on this host show at once.
AUTH_CACHE_SECONDS = 1.1

AUTH_HEADERS = {}
AUTH = {"actor": None, "role": "admin"}


def env(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"environment variable {name} is not set (see docs/stack-contract.md)")
    return value


# --------------------------------------------------------------------------------------------
# Generated data


def b64(data):
    return base64.b64encode(data).decode("ascii")


_BUNDLE = None


def test_bundle():
    """The session's mTLS material: {"cert": PEM bytes, "key": PEM bytes}, made once with openssl.

    A self-signed EC P-256 certificate with CA:TRUE and its key, so any combination the tests
    send passes bundle validation: the certificate is also its own CA, and the key matches it.
    """
    global _BUNDLE
    if _BUNDLE is None:
        with tempfile.TemporaryDirectory() as tmp:
            key, cert = os.path.join(tmp, "k.pem"), os.path.join(tmp, "c.pem")
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:P-256", "-nodes", "-sha256", "-days", "30",
                 "-subj", "/CN=e2e-bundle", "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,digitalSignature,keyCertSign",
                 "-keyout", key, "-out", cert],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open(cert, "rb") as f:
                cert_pem = f.read()
            with open(key, "rb") as f:
                key_pem = f.read()
        _BUNDLE = {"cert": cert_pem, "key": key_pem}
    return _BUNDLE


def pem_bytes(size, tag="CERTIFICATE"):
    """A valid PEM document of exactly ``size`` bytes (fresh content each call).

    ``tag`` "CERTIFICATE" gives the session certificate (test_bundle), anything else its private
    key. Registration validates bundles, so the bytes must really parse: the PEM is padded in
    front with random comment lines, which OpenSSL's PEM reader skips. When ``size`` is smaller
    than the PEM itself, the unpadded PEM is returned (still fresh: a random comment line).
    """
    pem = test_bundle()["cert" if tag == "CERTIFICATE" else "key"]
    alphabet = string.ascii_letters + string.digits
    rng = random.SystemRandom()
    fill = size - len(pem)
    if fill <= 0:
        line = "".join(rng.choice(alphabet) for _ in range(16)) + "\n"
        return line.encode() + pem
    lines = []
    while fill > 0:
        n = min(fill, 64)
        lines.append("".join(rng.choice(alphabet) for _ in range(n - 1)) + "\n")
        fill -= n
    data = "".join(lines).encode() + pem
    assert len(data) == size
    return data


def pem_for(field, size):
    """pem_bytes of the right kind for a certificate field (client_key gets the key)."""
    return pem_bytes(size, "PRIVATE KEY" if field == "client_key" else "CERTIFICATE")


def metadata_len(metadata):
    """The reference's metadata size: Python json.dumps with default separators, ASCII-escaped."""
    return len(json.dumps(metadata))


def metadata_of_size(size, extra=None):
    """A metadata object whose reference size (metadata_len) is exactly ``size``."""
    base = dict(extra or {})
    base["blob"] = ""
    fill = size - metadata_len(base)
    if fill < 0:
        raise ValueError("size too small")
    base["blob"] = "x" * fill
    assert metadata_len(base) == size
    return base


def nested_json(depth):
    """A JSON text of ``depth`` nested objects: depth 1 is ``{"a": 0}``."""
    return '{"a": ' * depth + "0" + "}" * depth


# --------------------------------------------------------------------------------------------
# Response assertions


def title_of(code):
    return " ".join(word.capitalize() for word in code.split("_"))


def media_type(resp):
    return resp.headers.get("Content-Type", "").split(";")[0].strip().lower()


def describe(resp):
    return f"HTTP {resp.status_code} {resp.headers.get('Content-Type')!r}: {resp.text[:600]!r}"


def json_ok(resp, status=200):
    """Assert a successful JSON response and return its parsed body."""
    assert resp.status_code == status, describe(resp)
    assert media_type(resp) == "application/json", describe(resp)
    rid = resp.headers.get("X-Request-ID")
    assert rid and REQUEST_ID_RE.match(rid), f"bad X-Request-ID {rid!r}"
    return resp.json()


def assert_problem(resp, status, code=None, detail=None, *, detail_prefix=None):
    """Assert the problem+json envelope of every Breakwater error; return the parsed body."""
    code = code or DEFAULT_CODES[status]
    assert resp.status_code == status, describe(resp)
    assert media_type(resp) == "application/problem+json", describe(resp)
    body = resp.json()
    assert isinstance(body, dict), body
    missing = PROBLEM_KEYS - body.keys()
    assert not missing, f"envelope lacks {sorted(missing)}: {body}"
    extra = body.keys() - PROBLEM_KEYS - {"errors"}
    assert not extra, f"unexpected envelope keys {sorted(extra)}: {body}"
    assert body["type"] == "about:blank", body
    assert type(body["status"]) is int and body["status"] == status, body
    assert body["code"] == code, body
    assert body["title"] == title_of(code), body
    assert isinstance(body["detail"], str) and body["detail"], body
    rid = body["request_id"]
    assert isinstance(rid, str) and REQUEST_ID_RE.match(rid), body
    assert resp.headers.get("X-Request-ID") == rid, (resp.headers.get("X-Request-ID"), rid)
    if detail is not None:
        assert body["detail"] == detail, body
    if detail_prefix is not None:
        assert body["detail"].startswith(detail_prefix), body
    return body


def assert_validation_422(resp, loc=None, *, loc_prefix=None, error_type=None):
    """Assert a request-validation 422 (detail "Validation error" plus an ``errors`` list)."""
    body = assert_problem(resp, 422, "VALIDATION_ERROR", "Validation error")
    errors = body.get("errors")
    assert isinstance(errors, list) and errors, body
    for err in errors:
        assert isinstance(err, dict), body
        assert isinstance(err.get("type"), str) and err["type"], body
        assert isinstance(err.get("loc"), list) and err["loc"], body
        assert isinstance(err.get("msg"), str), body
    if loc is not None:
        assert any(err["loc"] == loc for err in errors), f"no error at {loc}: {errors}"
    if loc_prefix is not None:
        n = len(loc_prefix)
        assert any(err["loc"][:n] == loc_prefix for err in errors), \
            f"no error under {loc_prefix}: {errors}"
    if error_type is not None:
        matching = [e for e in errors if loc is None or e["loc"] == loc]
        assert any(e["type"] == error_type for e in matching), errors
    return body


def assert_json_invalid_422(resp, body_len):
    body = assert_validation_422(resp)
    err = body["errors"][0]
    assert err["type"] == "json_invalid", body
    loc = err["loc"]
    assert len(loc) == 2 and loc[0] == "body", body
    assert type(loc[1]) is int and 0 <= loc[1] <= body_len, body
    return body


def assert_rfc3339_utc(value):
    assert isinstance(value, str) and RFC3339_UTC_RE.match(value), value
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() == timedelta(0)
    return parsed


def assert_recent(moment, slack=timedelta(minutes=10)):
    now = datetime.now(timezone.utc)
    assert now - slack <= moment <= now + slack, (moment, now)


def assert_gateway_shape(gw, keys=GATEWAY_KEYS):
    """Key set and value types of a GatewayResponse (or, with LIST_ITEM_KEYS, a list item)."""
    assert isinstance(gw, dict), gw
    assert set(gw) == set(keys), (sorted(set(gw) ^ set(keys)), gw)
    for key in ("name", "endpoint", "scheme"):
        assert isinstance(gw[key], str) and gw[key], gw
    assert gw["auth_mode"] is None or isinstance(gw["auth_mode"], str), gw
    for key in ("has_ca_cert", "has_client_cert", "has_client_key", "connected"):
        assert isinstance(gw[key], bool), gw
    assert isinstance(gw["metadata"], dict), gw
    assert isinstance(gw["labels"], dict), gw
    assert all(isinstance(v, str) for v in gw["labels"].values()), gw
    assert gw["description"] is None or isinstance(gw["description"], str), gw
    assert gw["status"] in GATEWAY_STATUSES, gw
    assert isinstance(gw["last_status"], str), gw
    assert gw["runtime"] is None or gw["runtime"] in RUNTIMES, gw
    assert_rfc3339_utc(gw["registered_at"])
    if gw["last_seen"] is not None:
        assert_rfc3339_utc(gw["last_seen"])
    if "version" in keys:
        assert gw["version"] is None or isinstance(gw["version"], str), gw
    assert gw["compatibility"] in (None, "compatible", "newer", "unsupported", "ambiguous",
                                   "unknown"), gw
    if gw["last_health"] is not None:
        assert_rfc3339_utc(gw["last_health"])
    for field in CERT_FIELDS:
        assert field not in gw, gw


# --------------------------------------------------------------------------------------------
# Raw HTTP/1.1 over TLS (for targets requests would normalise, early 413s, chunked uploads)


class RawResponse:
    """Just enough of requests.Response for the assertion helpers."""

    def __init__(self, status_code, headers, content):
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def text(self):
        return self.content.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.content.decode("utf-8"))


def _decode_chunked(data):
    out = b""
    while True:
        line, sep, rest = data.partition(b"\r\n")
        if not sep:
            raise ValueError("truncated chunked body")
        size = int(line.split(b";")[0].strip(), 16)
        if size == 0:
            return out
        out += rest[:size]
        data = rest[size + 2:]


def _parse_head(data, method="", target=""):
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        raise AssertionError(f"no HTTP response to {method} {target}: {data[:200]!r}")
    head_lines = head.split(b"\r\n")
    status = int(head_lines[0].split()[1])
    hdrs = CaseInsensitiveDict()
    for line in head_lines[1:]:
        key, _, value = line.decode("latin-1").partition(":")
        key, value = key.strip(), value.strip()
        hdrs[key] = f"{hdrs[key]}, {value}" if key in hdrs else value
    return status, hdrs, rest


def _response_complete(data):
    """Whether ``data`` holds a whole response (so a lingering server need not be waited for)."""
    if b"\r\n\r\n" not in data:
        return False
    _, hdrs, rest = _parse_head(data)
    if "chunked" in hdrs.get("Transfer-Encoding", "").lower():
        try:
            _decode_chunked(rest)
            return True
        except (ValueError, IndexError):
            return False
    if "Content-Length" in hdrs:
        return len(rest) >= int(hdrs["Content-Length"])
    return False


def raw_request(base_url, cafile, method, target, headers=None, body=None, *, chunked=False,
                piece_size=65536, timeout=60, auth=True):
    """Send one request on a fresh TLS connection (``Connection: close``) and read the answer.

    ``target`` is sent byte for byte (no normalisation, no quoting). ``body`` is bytes or an
    iterable of bytes. If the server answers before the whole body is sent (an early 413), the
    upload stops and the answer is read.
    """
    url = urllib.parse.urlsplit(base_url)
    host, port = url.hostname, url.port or 443
    ctx = ssl.create_default_context(cafile=cafile)
    sock = socket.create_connection((host, port), timeout=timeout)
    tls = ctx.wrap_socket(sock, server_hostname=host)
    try:
        if body is None:
            pieces = []
        elif isinstance(body, (bytes, bytearray)):
            pieces = [bytes(body[i:i + piece_size]) for i in range(0, len(body), piece_size)]
        else:
            pieces = body
        lines = [f"{method} {target} HTTP/1.1".encode("utf-8"),
                 f"Host: {url.netloc}".encode("ascii"), b"Connection: close"]
        headers = dict(headers or {})
        if auth:
            for k, v in AUTH_HEADERS.items():
                if k.lower() not in {h.lower() for h in headers}:
                    headers[k] = v
        names = {k.lower() for k in headers}
        for k, v in headers.items():
            lines.append(f"{k}: {v}".encode("latin-1"))
        if chunked:
            lines.append(b"Transfer-Encoding: chunked")
        elif body is not None and "content-length" not in names:
            lines.append(f"Content-Length: {len(body)}".encode("ascii"))
        tls.sendall(b"\r\n".join(lines) + b"\r\n\r\n")

        received = []

        def server_spoke():
            # Readable may only mean TLS housekeeping (e.g. TLS 1.3 session tickets): it counts
            # only when application data (or the end of the stream) actually arrives.
            readable, _, _ = select.select([tls], [], [], 0)
            if not readable and not tls.pending():
                return False
            tls.setblocking(False)
            try:
                chunk = tls.recv(65536)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                return False
            except (ConnectionResetError, ssl.SSLError):
                return True
            finally:
                tls.setblocking(True)
                tls.settimeout(timeout)
            received.append(chunk)
            return True

        try:
            finished = True
            for piece in pieces:
                if server_spoke():
                    finished = False
                    break
                if chunked:
                    if piece:
                        tls.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
                else:
                    tls.sendall(piece)
            if finished and chunked:
                tls.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError, socket.timeout, ssl.SSLError):
            pass  # the server stopped reading the body; its answer is what counts

        data = b"".join(received)
        while (not received or received[-1]) and not _response_complete(data):
            try:
                chunk = tls.recv(65536)
            except (ConnectionResetError, ssl.SSLError):
                break
            if not chunk:
                break
            data += chunk
    finally:
        tls.close()

    status, hdrs, rest = _parse_head(data, method, target)
    if "chunked" in hdrs.get("Transfer-Encoding", "").lower():
        content = _decode_chunked(rest)
    elif "Content-Length" in hdrs:
        content = rest[:int(hdrs["Content-Length"])]
    else:
        content = rest
    return RawResponse(status, hdrs, content)


# --------------------------------------------------------------------------------------------
# API client


def quote_name(name):
    return urllib.parse.quote(name, safe="")


def new_session(cafile, auth=True):
    """A requests session that trusts only the stack's certificate and ignores the environment
    (REQUESTS_CA_BUNDLE would otherwise override ``verify``; proxies must not be used). With
    ``auth`` it sends the suite's credentials (AUTH_HEADERS) on every request."""
    session = requests.Session()
    session.trust_env = False
    session.verify = cafile
    # Cookies are always sent explicitly (bwtest.Browser): a jar would make clients stateful.
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    if auth:
        session.headers.update(AUTH_HEADERS)
    return session


class Api:
    """A small client for the stack behind nginx (keep-alive session, CA = the stack's cert)."""

    def __init__(self, base_url, cafile, auth=True):
        self.base_url = base_url.rstrip("/")
        self.cafile = cafile
        self.auth = auth
        self.session = new_session(cafile, auth)
        self.created = []  # names registered through register(); removed after each test

    def url(self, path):
        return self.base_url + path

    def request(self, method, path, **kwargs):
        kwargs.setdefault("timeout", 60)
        kwargs.setdefault("verify", self.cafile)
        return self.session.request(method, self.url(path), **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post_json(self, path, obj, **kwargs):
        return self.request("POST", path, json=obj, **kwargs)

    def patch_json(self, path, obj, **kwargs):
        return self.request("PATCH", path, json=obj, **kwargs)

    def put_json(self, path, obj, **kwargs):
        return self.request("PUT", path, json=obj, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def clone(self):
        """Another client on its own connection (requests sessions are not thread-safe)."""
        return Api(self.base_url, self.cafile)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def send_bytes(self, method, path, data, content_type="application/json", headers=None):
        hdrs = dict(headers or {})
        if content_type is not None:
            hdrs["Content-Type"] = content_type
        return self.request(method, path, data=data, headers=hdrs)

    def raw(self, method, target, headers=None, body=None, **kwargs):
        kwargs.setdefault("auth", self.auth)
        return raw_request(self.base_url, self.cafile, method, target, headers, body, **kwargs)

    # --- registry shortcuts ---

    def register(self, body, **kwargs):
        resp = self.post_json("/api/gateway/register", body, **kwargs)
        if resp.status_code == 201 and isinstance(body, dict) and "name" in body:
            self.created.append(body["name"])
        return resp

    def register_raw(self, data, content_type="application/json", headers=None):
        return self.send_bytes("POST", "/api/gateway/register", data, content_type, headers)

    def register_utf8(self, body):
        """Register with the JSON sent as raw UTF-8 (non-ASCII characters not \\u-escaped)."""
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        resp = self.register_raw(data)
        if resp.status_code == 201:
            self.created.append(body["name"])
        return resp

    def info(self, name, **kwargs):
        return self.get(f"/api/gateway/{quote_name(name)}/info", **kwargs)

    def patch_gateway(self, name, body, **kwargs):
        return self.patch_json(f"/api/gateway/{quote_name(name)}", body, **kwargs)

    def delete_gateway(self, name, **kwargs):
        return self.delete(f"/api/gateway/{quote_name(name)}", **kwargs)

    def list(self, params=None, **kwargs):
        return self.get("/api/gateway/list", params=params, **kwargs)

    def list_names(self, params=None):
        body = json_ok(self.list(params))
        return [item["name"] for item in body["items"]]


def assert_serving(api):
    """The pool still answers a normal request that reaches the database."""
    body = json_ok(api.list())
    assert isinstance(body["items"], list) and body["total"] == len(body["items"])


# --------------------------------------------------------------------------------------------
# Database helpers


def connect_db(bw_env):
    """A new autocommit connection as root over the stack's MariaDB socket (dict rows)."""
    conn = pymysql.connect(unix_socket=bw_env["BW_DB_SOCKET"], user="root", password="",
                           database=bw_env["BW_DB_NAME"], autocommit=True, charset="utf8mb4",
                           cursorclass=pymysql.cursors.DictCursor, connect_timeout=10)
    with conn.cursor() as cur:
        cur.execute("SET time_zone = '+00:00'")
    return conn


def gateway_row(db, name):
    with db.cursor() as cur:
        cur.execute("SELECT * FROM gateways WHERE name = %s", (name,))
        return cur.fetchone()


def audit_rows(db, action=None, resource_id=None, request_id=None):
    sql = "SELECT * FROM audit_log WHERE 1=1"
    args = []
    if action is not None:
        sql += " AND action = %s"
        args.append(action)
    if resource_id is not None:
        sql += " AND resource_id = %s"
        args.append(resource_id)
    if request_id is not None:
        sql += " AND request_id = %s"
        args.append(request_id)
    with db.cursor() as cur:
        cur.execute(sql + " ORDER BY id", args)
        return list(cur.fetchall())


def one_audit_row(db, action, resource_id):
    rows = audit_rows(db, action, resource_id)
    assert len(rows) == 1, f"expected one {action} row for {resource_id!r}, got {rows}"
    return rows[0]


def assert_audit_row(row, resp, action, name):
    """The fields every gateway audit row carries (the suite acts as AUTH["actor"], an admin)."""
    assert row["action"] == action, row
    assert row["actor"] == AUTH["actor"], row
    assert row["actor_role"] == AUTH["role"], row
    assert row["resource_type"] == "gateway", row
    assert row["resource_id"] == name, row
    assert row["gateway_name"] == name, row
    assert row["client_ip"], row
    ipaddress.ip_address(row["client_ip"])
    assert row["request_id"] == resp.headers.get("X-Request-ID"), \
        (row["request_id"], resp.headers.get("X-Request-ID"))
    stamp = row["timestamp"].replace(tzinfo=timezone.utc)
    assert_recent(stamp)


# Columns a later health monitor may update on its own are left out of the gateways digest.
_GATEWAY_SNAPSHOT_SQL = (
    "SELECT id, name, endpoint, scheme, auth_mode, SHA2(ca_cert, 256) AS ca, "
    "SHA2(client_cert, 256) AS cc, SHA2(client_key, 256) AS ck, metadata_json, description, "
    "labels_json, registered_at, updated_at FROM gateways ORDER BY id")


def take_snapshot(db):
    """Counts and digests of the gateways and audit_log tables ("database unchanged" checks)."""
    with db.cursor() as cur:
        cur.execute(_GATEWAY_SNAPSHOT_SQL)
        rows = cur.fetchall()
        digest = hashlib.sha256(repr([sorted(r.items()) for r in rows]).encode()).hexdigest()
        cur.execute("SELECT COUNT(*) AS n, COALESCE(MAX(id), 0) AS max_id FROM audit_log")
        audit = cur.fetchone()
        cur.execute("CHECKSUM TABLE audit_log")
        audit_checksum = cur.fetchone()["Checksum"]
    return {
        "gateways_count": len(rows),
        "gateways_digest": digest,
        "audit_count": audit["n"],
        "audit_max_id": audit["max_id"],
        "audit_checksum": audit_checksum,
    }


# --------------------------------------------------------------------------------------------
# Authentication helpers

SESSION_COOKIE = "sg_session"
SP_KEY_RE = re.compile(r"^bw_[A-Za-z0-9_-]{43}$")
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
MISSING_CREDENTIALS = "Invalid or missing credentials"
CSRF_DETAIL = "CSRF token missing or invalid"


def random_password():
    return "Pw1-" + secrets.token_urlsafe(12)


def bcrypt_hash(password, cost=4):
    """A $2b$ hash made by libxcrypt through Python (cost 4 keeps the tests fast)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=2 ** cost))


def sha256_hex(text):
    return hashlib.sha256(text.encode()).hexdigest()


def insert_user(db, email, password, role="viewer", **columns):
    cols = {"email": email, "hashed_password": bcrypt_hash(password) if password else None,
            "role": role, "is_active": 1}
    cols.update(columns)
    names = ", ".join(cols)
    marks = ", ".join(["%s"] * len(cols))
    with db.cursor() as cur:
        cur.execute(f"INSERT INTO users ({names}, created_at) VALUES ({marks}, UTC_TIMESTAMP(6))",
                    list(cols.values()))
        return cur.lastrowid


def session_row(db, token):
    with db.cursor() as cur:
        cur.execute("SELECT * FROM sessions WHERE token_hash = %s", (sha256_hex(token),))
        return cur.fetchone()


def sp_row(db, sp_id):
    with db.cursor() as cur:
        cur.execute("SELECT * FROM service_principals WHERE id = %s", (sp_id,))
        return cur.fetchone()


def set_cookie_attrs(resp):
    """The attributes of the sg_session Set-Cookie header: {"value", "path", "httponly", ...}."""
    raw = resp.headers.get("Set-Cookie", "")
    parts = [p.strip() for p in raw.split(";")]
    name, _, value = parts[0].partition("=")
    assert name == SESSION_COOKIE, raw
    attrs = {"value": value}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        attrs[k.lower()] = v if v else True
    return attrs


class Browser(Api):
    """A cookie client: logs in, then sends the cookie (by hand: no cookie-jar host rules) and
    the session's X-CSRF-Token on every request."""

    def __init__(self, base_url, cafile):
        super().__init__(base_url, cafile, auth=False)
        self.token = None
        self.csrf = None

    def login(self, email, password):
        resp = self.post_json("/api/auth/login", {"email": email, "password": password})
        assert resp.status_code == 200, describe(resp)
        self.use(set_cookie_attrs(resp)["value"], resp.json()["csrf_token"])
        return resp

    def use(self, token, csrf):
        self.token, self.csrf = token, csrf
        self.session.headers["Cookie"] = f"{SESSION_COOKIE}={token}"
        self.session.headers["X-CSRF-Token"] = csrf

    def raw(self, method, target, headers=None, body=None, **kwargs):
        hdrs = {"Cookie": f"{SESSION_COOKIE}={self.token}", "X-CSRF-Token": self.csrf}
        hdrs.update(headers or {})
        return super().raw(method, target, hdrs, body, **kwargs)


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def request_pids(request_ids):
    """The pids of the responder processes that served the given request ids (from the pool's
    request log, $BW_RUN_DIR/log/fcgi.log)."""
    wanted, pids = set(request_ids), {}
    with open(os.path.join(env("BW_RUN_DIR"), "log", "fcgi.log"), encoding="utf-8",
              errors="replace") as f:
        for line in f:
            if '"request_id"' not in line:
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("msg") == "request" and rec.get("request_id") in wanted:
                pids[rec["request_id"]] = rec["pid"]
    return pids
