"""GET /healthz, /readyz and /version through nginx."""

from bwtest import json_ok


def test_healthz(api):
    assert json_ok(api.get("/healthz")) == {"status": "ok"}


def test_readyz_reports_the_database(api):
    body = json_ok(api.get("/readyz"))
    assert body["status"] == "ready", body
    checks = body["checks"]
    assert isinstance(checks, dict), body
    assert checks["database"] == "ok", body
    latency = checks["database_latency_ms"]
    assert isinstance(latency, (int, float)) and not isinstance(latency, bool), body
    assert 0 <= latency < 10000, body


def test_version_has_exactly_three_string_keys(api):
    body = json_ok(api.get("/version"))
    assert set(body) == {"version", "git_sha", "build_time"}, body
    for key, value in body.items():
        assert isinstance(value, str) and value, (key, body)


def test_probes_repeat(api):
    # Several requests in a row (keep-alive, likely more than one worker thread) all answer.
    for _ in range(10):
        assert json_ok(api.get("/healthz")) == {"status": "ok"}
        assert json_ok(api.get("/readyz"))["status"] == "ready"
