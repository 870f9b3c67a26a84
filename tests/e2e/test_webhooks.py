"""Webhooks end to end: CRUD through nginx, events written by the registry in their own
transaction and fanned out by breakwater-worker, deliveries to receivers this test starts on
127.0.0.1 (the test stack sets webhook_allow_loopback = true, webhook_delivery_timeout = 5,
webhook_lease = 10; the retry schedule is the reference's 5, 30, 120 s).

Covered: the signature over the exact body bytes, retry on 500 then success, no retry on 400,
a delivery whose worker is killed with SIGKILL mid-request taken over after its lease and
delivered (the receiver, deduplicating by X-Shoreguard-Event-Id as receivers must, sees the
event once; the log records one success), SSRF refusals at creation and at delivery, the
secret absent from list/get/logs/audit, bad input (4xx, database unchanged), Slack/Discord
bodies, e-mail over SMTP, and the delivery metrics."""

import hashlib
import hmac
import http.server
import json
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

import bwtest

LEASE_S = 10
TIMEOUT_S = 5
PRIVATE_DETAIL = "URL must not point to a private/loopback address"


# --- receivers -------------------------------------------------------------------------------


class Receiver:
    """An HTTP server on 127.0.0.1 recording every POST: (path, headers, raw body, time).
    ``script[path]`` is a list of (status, delay_s) consumed one per request (then 200)."""

    def __init__(self):
        self.requests = []
        self.script = {}
        self.started = threading.Event()  # set when a request starts being served
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with receiver.lock:
                    receiver.requests.append((self.path, dict(self.headers), body,
                                              time.monotonic()))
                    steps = receiver.script.get(self.path, [])
                    status, delay = steps.pop(0) if steps else (200, 0)
                receiver.started.set()
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def on(self, path):
        with self.lock:
            return [r for r in self.requests if r[0] == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class SmtpReceiver:
    """A minimal SMTP server (EHLO/HELO, MAIL, RCPT, DATA, QUIT) keeping each message."""

    def __init__(self):
        self.messages = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn):
        f = conn.makefile("rb")
        msg = {"from": None, "rcpt": [], "data": b""}

        def say(line):
            conn.sendall(line.encode() + b"\r\n")
        try:
            say("220 test ESMTP")
            while True:
                line = f.readline()
                if not line:
                    return
                cmd = line.decode("ascii", "replace").strip()
                up = cmd.upper()
                if up.startswith(("EHLO", "HELO")):
                    say("250 test")
                elif up.startswith("MAIL FROM:"):
                    msg["from"] = cmd[10:].strip()
                    say("250 OK")
                elif up.startswith("RCPT TO:"):
                    msg["rcpt"].append(cmd[8:].strip())
                    say("250 OK")
                elif up == "DATA":
                    say("354 go on")
                    data = b""
                    while True:
                        chunk = f.readline()
                        if not chunk or chunk == b".\r\n":
                            break
                        data += chunk
                    msg["data"] = data
                    self.messages.append(dict(msg))
                    say("250 queued")
                elif up == "QUIT":
                    say("221 bye")
                    return
                else:
                    say("250 OK")
        finally:
            conn.close()

    def close(self):
        self.sock.close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def hooks(api, db):
    """``hooks(body)`` creates a webhook through the API (201 asserted) and returns its body;
    every one is deleted after the test."""
    made = []

    def make(body):
        resp = api.post_json("/api/webhooks", body)
        assert resp.status_code == 201, bwtest.describe(resp)
        made.append(resp.json()["id"])
        return resp.json()

    yield make
    with db.cursor() as cur:
        for hook_id in made:
            cur.execute("DELETE FROM webhooks WHERE id = %s", (hook_id,))


def wait_for(check, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


def deliveries(db, hook_id):
    with db.cursor() as cur:
        cur.execute("SELECT * FROM webhook_deliveries WHERE webhook_id = %s ORDER BY id",
                    (hook_id,))
        return cur.fetchall()


def finished(db, hook_id, count=1):
    rows = deliveries(db, hook_id)
    done = [r for r in rows if r["status"] in ("success", "failed")]
    return rows if len(done) >= count else None


def send_test(api, hook_id):
    resp = api.post(f"/api/webhooks/{hook_id}/test")
    body = bwtest.json_ok(resp)
    assert body["status"] == "Test event sent"
    return body["event_id"]


def hooks_snapshot(db):
    with db.cursor() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM webhooks")
        n = cur.fetchone()["n"]
        cur.execute("CHECKSUM TABLE webhooks")
        c1 = cur.fetchone()["Checksum"]
        cur.execute("CHECKSUM TABLE webhook_deliveries")
        c2 = cur.fetchone()["Checksum"]
        cur.execute("SELECT COUNT(*) AS n FROM event_outbox WHERE event_type = 'webhook.test'")
        tests = cur.fetchone()["n"]
    return (n, c1, c2, tests)


def expected_signature(secret, body):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --- CRUD, secret, signature -------------------------------------------------------------------


def test_create_shows_the_secret_once_and_the_signature_verifies(api, db, hooks, receiver):
    # Subscribed to a type nothing emits: events of other tests still waiting for the fan-out
    # must not reach it.
    created = hooks({"url": receiver.url("/sig"), "event_types": ["e2e.never"]})
    secret = created["secret"]
    assert len(secret) == 64 and all(c in "0123456789abcdef" for c in secret)
    assert created["is_active"] is True and created["channel_type"] == "generic"
    assert created["event_types"] == ["e2e.never"]
    assert created["created_by"] == bwtest.AUTH["actor"]
    bwtest.assert_rfc3339_utc(created["created_at"])
    hook_id = created["id"]

    got = bwtest.json_ok(api.get(f"/api/webhooks/{hook_id}"))
    assert "secret" not in got and got["id"] == hook_id and got["extra_config"] is None
    listed = bwtest.json_ok(api.get("/api/webhooks"))
    assert listed["total"] == len(listed["items"])
    mine = [h for h in listed["items"] if h["id"] == hook_id]
    assert len(mine) == 1 and "secret" not in mine[0] and "extra_config" not in mine[0]
    assert secret not in json.dumps(listed) and secret not in json.dumps(got)

    event_id = send_test(api, hook_id)
    rows = wait_for(lambda: finished(db, hook_id), 20, "the test delivery")
    assert len(rows) == 1 and rows[0]["status"] == "success", rows
    assert rows[0]["attempts"] == 1 and rows[0]["response_code"] == 200
    assert rows[0]["event_id"] == event_id and rows[0]["delivered_at"] is not None
    (path, headers, body, _), = receiver.on("/sig")
    assert headers["X-Shoreguard-Signature"] == expected_signature(secret, body)
    assert headers["X-Shoreguard-Event-Id"] == str(event_id)
    assert headers["X-Shoreguard-Event"] == "webhook.test"
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["event"] == "webhook.test"
    assert payload["data"] == {"webhook_id": hook_id, "message": "Test event from Shoreguard"}
    bwtest.assert_rfc3339_utc(payload["timestamp"])
    # One byte more and the signature no longer matches: it covers the exact bytes.
    assert headers["X-Shoreguard-Signature"] != expected_signature(secret, body + b" ")

    # The delivery log through the API.
    log = bwtest.json_ok(api.get(f"/api/webhooks/{hook_id}/deliveries"))
    assert len(log) == 1
    d = log[0]
    assert d["webhook_id"] == hook_id and d["event_type"] == "webhook.test"
    assert d["status"] == "success" and d["response_code"] == 200 and d["attempt"] == 1
    assert d["error_message"] is None and d["delivered_at"] is not None

    # The secret is sealed at rest and appears in no audit row and no log.
    with db.cursor() as cur:
        cur.execute("SELECT secret_sealed FROM webhooks WHERE id = %s", (hook_id,))
        sealed = cur.fetchone()["secret_sealed"]
        assert secret.encode() not in sealed and len(sealed) == 64 + 31
        cur.execute("SELECT action, detail FROM audit_log WHERE resource_type = 'webhook'"
                    " AND resource_id = %s ORDER BY id", (str(hook_id),))
        audit = cur.fetchall()
    assert [a["action"] for a in audit] == ["webhook.create", "webhook.test"]
    create_detail = json.loads(audit[0]["detail"])
    assert create_detail == {"url": receiver.url("/sig"), "event_types": ["e2e.never"],
                             "channel_type": "generic"}
    assert all(secret not in (a["detail"] or "") for a in audit)
    log_dir = os.path.join(os.environ["BW_RUN_DIR"], "log")
    for name in os.listdir(log_dir):
        with open(os.path.join(log_dir, name), "rb") as f:
            assert secret.encode() not in f.read(), f"the secret is in {name}"


def test_registry_events_reach_subscribed_webhooks_only(api, db, hooks, receiver, gateway):
    sub = hooks({"url": receiver.url("/gw"),
                 "event_types": ["gateway.registered", "gateway.unregistered"]})
    other = hooks({"url": receiver.url("/other"), "event_types": ["sandbox.created"]})
    gw = gateway()
    name = gw["name"]
    resp = api.delete_gateway(name)
    assert resp.status_code in (200, 204), bwtest.describe(resp)
    api.created.remove(name)

    def mine():
        got = [json.loads(r[2]) for r in receiver.on("/gw")]
        got = [g for g in got if g["data"].get("gateway") == name]
        return got if len(got) >= 2 else None
    events = wait_for(mine, 20, "both registry events")
    by_type = {e["event"]: e["data"] for e in events}
    assert by_type["gateway.registered"] == {"gateway": name, "endpoint": gw["endpoint"],
                                             "actor": bwtest.AUTH["actor"]}
    assert by_type["gateway.unregistered"] == {"gateway": name, "actor": bwtest.AUTH["actor"]}
    time.sleep(1)
    assert receiver.on("/other") == []
    assert list(deliveries(db, other["id"])) == []
    # Each event once per webhook: the unique (webhook, event) key.
    with db.cursor() as cur:
        cur.execute("SELECT event_id, COUNT(*) AS n FROM webhook_deliveries WHERE webhook_id = %s"
                    " GROUP BY event_id HAVING n > 1", (sub["id"],))
        assert cur.fetchall() == ()


def test_retry_on_500_then_success(api, db, hooks, receiver):
    receiver.script["/flaky"] = [(500, 0)]
    hook = hooks({"url": receiver.url("/flaky"), "event_types": []})
    send_test(api, hook["id"])
    rows = wait_for(lambda: finished(db, hook["id"]), 30, "the retried delivery")
    assert rows[0]["status"] == "success" and rows[0]["attempts"] == 2, rows
    assert rows[0]["response_code"] == 200
    reqs = receiver.on("/flaky")
    assert len(reqs) == 2
    assert reqs[0][2] == reqs[1][2], "a retry sends the same bytes"
    assert reqs[0][1]["X-Shoreguard-Signature"] == reqs[1][1]["X-Shoreguard-Signature"]
    gap = reqs[1][3] - reqs[0][3]
    assert 4.5 <= gap <= 9, f"first retry after {gap:.1f} s (schedule: 5 s)"


def test_retrying_status_is_visible_between_attempts(api, db, hooks, receiver):
    receiver.script["/down"] = [(503, 0), (503, 0)]
    hook = hooks({"url": receiver.url("/down"), "event_types": []})
    send_test(api, hook["id"])
    wait_for(lambda: receiver.on("/down"), 15, "the first attempt")
    row = wait_for(lambda: (lambda r: r if r and r[0]["status"] == "retrying" else None)(
        deliveries(db, hook["id"])), 10, "the retrying state")[0]
    assert row["attempts"] == 1 and row["response_code"] == 503
    assert row["last_error"] == "HTTP 503"
    log = bwtest.json_ok(api.get(f"/api/webhooks/{hook['id']}/deliveries"))
    assert log[0]["status"] == "retrying" and log[0]["next_attempt_at"] is not None


def test_no_retry_on_400(api, db, hooks, receiver):
    receiver.script["/reject"] = [(400, 0), (200, 0)]
    hook = hooks({"url": receiver.url("/reject"), "event_types": []})
    send_test(api, hook["id"])
    rows = wait_for(lambda: finished(db, hook["id"]), 20, "the failed delivery")
    assert rows[0]["status"] == "failed" and rows[0]["attempts"] == 1, rows
    assert rows[0]["response_code"] == 400 and rows[0]["last_error"] == "HTTP 400"
    time.sleep(7)  # longer than the first retry delay
    assert len(receiver.on("/reject")) == 1
    assert deliveries(db, hook["id"])[0]["status"] == "failed"


def stack_worker_pid():
    with open(os.path.join(os.environ["BW_RUN_DIR"], "worker.pid")) as f:
        pid = int(f.read().split()[0])
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        assert b"breakwater-worker" in f.read(), "worker.pid is not a breakwater-worker"
    return pid


def restart_stack_worker():
    out = subprocess.run([os.environ["BW_STACK"], "restart-worker"], capture_output=True,
                         timeout=120, env=dict(os.environ))
    assert out.returncode == 0, out.stderr.decode(errors="replace")


def test_delivery_survives_worker_kill_9(api, db, hooks, receiver):
    # The first request is held 4 s (under the 5 s attempt timeout): the worker is killed
    # while it waits for the answer, so the attempt's outcome is never recorded.
    receiver.script["/slow"] = [(200, 4)]
    hook = hooks({"url": receiver.url("/slow"), "event_types": []})
    victim = stack_worker_pid()
    try:
        event_id = send_test(api, hook["id"])
        assert receiver.started.wait(15), "the worker never called the receiver"
        claimed = deliveries(db, hook["id"])[0]
        assert claimed["lease_owner"] and claimed["lease_owner"].endswith(f":{victim}"), claimed
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
    finally:
        restart_stack_worker()
    assert stack_worker_pid() != victim
    rows = wait_for(lambda: finished(db, hook["id"]), LEASE_S + 25, "the takeover")
    assert len(rows) == 1 and rows[0]["status"] == "success", rows
    assert rows[0]["event_id"] == event_id and rows[0]["lease_owner"] is None
    reqs = receiver.on("/slow")
    # The takeover waited for the lease: not before it expired.
    assert reqs[-1][3] - killed_at >= LEASE_S - 5, (reqs[-1][3] - killed_at)
    assert {r[1]["X-Shoreguard-Event-Id"] for r in reqs} == {str(event_id)}
    assert len({r[2] for r in reqs}) == 1, "the same bytes each time"
    # A receiver deduplicating by event id (as the header is meant for) sees the event once;
    # and the log records exactly one successful delivery of it.
    seen = {r[1]["X-Shoreguard-Event-Id"] for r in reqs}
    assert len(seen) == 1
    time.sleep(2)
    assert len(deliveries(db, hook["id"])) == 1
    assert len(receiver.on("/slow")) == len(reqs), "delivered again after success"


def test_two_workers_deliver_each_event_once(api, db, hooks, receiver):
    from test_grpc_monitor import start_worker
    # Each answer takes 0.4 s, so both workers are busy at once and must share the queue.
    receiver.script["/pair"] = [(200, 0.4)] * 12
    hook = hooks({"url": receiver.url("/pair"), "event_types": []})
    extra = start_worker()
    try:
        ids = [send_test(api, hook["id"]) for _ in range(12)]
        wait_for(lambda: finished(db, hook["id"], 12), 40, "twelve deliveries")
    finally:
        extra.send_signal(signal.SIGTERM)
        extra.wait(30)
    time.sleep(1)
    reqs = receiver.on("/pair")
    got = sorted(int(r[1]["X-Shoreguard-Event-Id"]) for r in reqs)
    assert got == sorted(ids), "each event exactly once across two workers"
    rows = deliveries(db, hook["id"])
    assert all(r["status"] == "success" and r["attempts"] == 1 for r in rows), rows
    # Both workers took part (each logs the deliveries it made).
    pids = set()
    log_dir = os.path.join(os.environ["BW_RUN_DIR"], "log")
    marks = {f'"delivery {r["id"]} (webhook {hook["id"]},' for r in rows}
    for name in ("worker.log", "worker-extra.log"):
        with open(os.path.join(log_dir, name), encoding="utf-8", errors="replace") as f:
            for line in f:
                if any(m in line for m in marks):
                    pids.add(json.loads(line)["pid"])
    assert extra.pid in pids and len(pids) == 2, pids


# --- SSRF ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "http://10.0.0.1/hook",
    "http://10.255.0.7:8080/x",
    "http://169.254.169.254/latest/meta-data/",
    "http://192.168.1.10/",
    "http://172.16.5.5/",
    "http://[fd00::1]/x",
    "http://[fe80::1]/x",
    "http://0.0.0.0/",
    "http://[::ffff:10.0.0.1]/",
])
def test_private_targets_refused_at_creation(api, db, rejected, url):
    before = hooks_snapshot(db)
    rejected(lambda: api.post_json("/api/webhooks", {"url": url, "event_types": ["*"]}),
             400, detail=PRIVATE_DETAIL)
    assert hooks_snapshot(db) == before


@pytest.mark.parametrize("url,detail", [
    ("ftp://example.com/x", "URL scheme must be http or https, got 'ftp'"),
    ("example.com/x", "URL scheme must be http or https, got ''"),
    ("http://user:pw@example.com/", "URL must not contain credentials"),
    ("http:///nohost", "URL must include a hostname"),
])
def test_url_rules(api, db, rejected, url, detail):
    before = hooks_snapshot(db)
    rejected(lambda: api.post_json("/api/webhooks", {"url": url, "event_types": []}),
             400, detail=detail)
    assert hooks_snapshot(db) == before


def test_private_target_refused_on_update(api, db, hooks, receiver, rejected):
    hook = hooks({"url": receiver.url("/u"), "event_types": []})
    before = hooks_snapshot(db)
    rejected(lambda: api.put_json(f"/api/webhooks/{hook['id']}",
                                  {"url": "http://169.254.169.254/"}), 400,
             detail=PRIVATE_DETAIL)
    assert hooks_snapshot(db) == before


def test_delivery_rechecks_the_target(api, db, hooks, receiver):
    """A target that became private after creation (here: edited in the database, as DNS
    could change) is refused at delivery, permanently, without a request."""
    hook = hooks({"url": receiver.url("/later"), "event_types": []})
    with db.cursor() as cur:
        cur.execute("UPDATE webhooks SET url = 'http://10.0.0.1:9/x' WHERE id = %s",
                    (hook["id"],))
    send_test(api, hook["id"])
    rows = wait_for(lambda: finished(db, hook["id"]), 20, "the refused delivery")
    assert rows[0]["status"] == "failed" and rows[0]["attempts"] == 1, rows
    assert rows[0]["last_error"] == "SSRF blocked: target resolves to a private address"
    assert rows[0]["response_code"] is None


# --- other channels ---------------------------------------------------------------------------


def test_slack_and_discord_bodies(api, db, hooks, receiver):
    slack = hooks({"url": receiver.url("/slack"), "event_types": [], "channel_type": "slack"})
    discord = hooks({"url": receiver.url("/discord"), "event_types": [],
                     "channel_type": "discord"})
    send_test(api, slack["id"])
    send_test(api, discord["id"])
    wait_for(lambda: finished(db, slack["id"]) and finished(db, discord["id"]), 20,
             "both deliveries")
    (_, sh, sb, _), = receiver.on("/slack")
    (_, dh, db_, _), = receiver.on("/discord")
    assert "X-Shoreguard-Signature" not in sh and "X-Shoreguard-Signature" not in dh
    s = json.loads(sb)
    att = s["attachments"][0]
    assert att["color"] == "#6C757D"
    assert att["blocks"][0]["text"]["text"] == ("*Test Event*\n*Message:* Test event from "
                                                "Shoreguard")
    assert att["blocks"][1]["elements"][0]["text"].startswith("ShoreGuard | ")
    d = json.loads(db_)["embeds"][0]
    assert d["title"] == "Test Event" and d["color"] == 0x6C757D
    assert d["footer"] == {"text": "ShoreGuard"}
    assert d["fields"] == [{"name": "Message", "value": "Test event from Shoreguard",
                            "inline": True}]


def test_email_channel_over_smtp(api, db, hooks):
    smtp = SmtpReceiver()
    try:
        hook = hooks({"url": "mailto:ops@example.com", "event_types": [],
                      "channel_type": "email",
                      "extra_config": {"smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                                       "to_addrs": ["ops@example.com", "dev@example.com"],
                                       "from_addr": "bw@example.com"}})
        assert hook["extra_config"]["smtp_port"] == smtp.port
        event_id = send_test(api, hook["id"])
        rows = wait_for(lambda: finished(db, hook["id"]), 20, "the e-mail delivery")
        assert rows[0]["status"] == "success", rows
        (msg,) = smtp.messages
        assert msg["from"] == "<bw@example.com>"
        assert msg["rcpt"] == ["<ops@example.com>", "<dev@example.com>"]
        text = msg["data"].decode()
        import base64
        subject = "ShoreGuard \u2014 Test Event"
        enc = base64.b64encode(subject.encode()).decode()
        assert f"Subject: =?UTF-8?B?{enc}?=" in text
        assert f"X-Shoreguard-Event-Id: {event_id}" in text
        assert f"{subject}\r\nTime: " in text
        assert "Message: Test event from Shoreguard" in text
    finally:
        smtp.close()


def test_email_smtp_password_is_never_shown(api, db, hooks):
    hook = hooks({"url": "mailto:ops@example.com", "event_types": [], "channel_type": "email",
                  "extra_config": {"smtp_host": "127.0.0.1", "to_addrs": ["ops@example.com"],
                                   "smtp_user": "u", "smtp_pass": "hunter2-smtp-secret"}})
    assert "smtp_pass" not in hook["extra_config"]
    got = api.get(f"/api/webhooks/{hook['id']}").text
    assert "hunter2-smtp-secret" not in got and "hunter2-smtp-secret" not in api.get(
        "/api/webhooks").text
    with db.cursor() as cur:
        cur.execute("SELECT extra_config, smtp_pass_sealed FROM webhooks WHERE id = %s",
                    (hook["id"],))
        row = cur.fetchone()
        assert "hunter2" not in row["extra_config"]
        assert row["smtp_pass_sealed"] and b"hunter2" not in row["smtp_pass_sealed"]
        cur.execute("SELECT COUNT(*) AS n FROM audit_log WHERE detail LIKE '%hunter2%'")
        assert cur.fetchone()["n"] == 0


def test_email_rules(api, db, rejected):
    before = hooks_snapshot(db)
    rejected(lambda: api.post_json("/api/webhooks", {"url": "mailto:a@b.c", "event_types": [],
                                                     "channel_type": "email"}), 400,
             detail="Email channel requires extra_config with smtp_host and to_addrs")
    rejected(lambda: api.post_json("/api/webhooks", {
        "url": "mailto:a@b.c", "event_types": [], "channel_type": "email",
        "extra_config": {"smtp_host": "127.0.0.1"}}), 400,
        detail="Email extra_config must include smtp_host and to_addrs")
    rejected(lambda: api.post_json("/api/webhooks", {
        "url": "mailto:a@b.c", "event_types": [], "channel_type": "email",
        "extra_config": {"smtp_host": "10.1.1.1", "to_addrs": ["a@b.c"]}}), 400,
        detail="SMTP host must not point to a private/loopback address")
    rejected(lambda: api.post_json("/api/webhooks", {
        "url": "mailto:a@b.c", "event_types": [], "channel_type": "email",
        "extra_config": {"smtp_host": "127.0.0.1", "to_addrs": ["a@b.c\r\nBcc: x@y.z"]}}),
        400, detail_prefix="Email extra_config needs")
    assert hooks_snapshot(db) == before


# --- updates, pause, delete, roles, bad input --------------------------------------------------


def test_update_pause_and_delete(api, db, hooks, receiver):
    hook = hooks({"url": receiver.url("/p"), "event_types": ["a.b"]})
    hid = hook["id"]
    resp = api.put_json(f"/api/webhooks/{hid}", {"is_active": False, "event_types": ["*"],
                                                 "extra_config": {}})
    body = bwtest.json_ok(resp)
    assert body["is_active"] is False and body["event_types"] == ["*"]
    assert body["url"] == receiver.url("/p") and "secret" not in body
    before = hooks_snapshot(db)
    resp = api.post(f"/api/webhooks/{hid}/test")
    bwtest.assert_problem(resp, 409, detail="Webhook is paused \u2014 resume it before sending "
                                            "a test event")
    assert hooks_snapshot(db) == before
    bwtest.json_ok(api.put_json(f"/api/webhooks/{hid}", {"is_active": True}))
    resp = api.delete(f"/api/webhooks/{hid}")
    assert resp.status_code == 204 and resp.content == b""
    bwtest.assert_problem(api.get(f"/api/webhooks/{hid}"), 404, detail="Webhook not found")
    bwtest.assert_problem(api.delete(f"/api/webhooks/{hid}"), 404, detail="Webhook not found")
    with db.cursor() as cur:
        cur.execute("SELECT action, detail FROM audit_log WHERE resource_type = 'webhook'"
                    " AND resource_id = %s ORDER BY id", (str(hid),))
        actions = [(r["action"], json.loads(r["detail"]) if r["detail"] else None)
                   for r in cur.fetchall()]
    assert actions == [
        ("webhook.create", {"url": receiver.url("/p"), "event_types": ["a.b"],
                            "channel_type": "generic"}),
        ("webhook.update", {"event_types": ["*"], "is_active": False}),
        ("webhook.update", {"is_active": True}),
        ("webhook.delete", None),
    ]


def test_non_admins_are_refused(make_sp, bw_env, receiver):
    for role in ("viewer", "operator"):
        sp = make_sp(role=role)
        client = bwtest.Api(bw_env["BW_URL"], bw_env["BW_TLS_CERT"], auth=False)
        client.session.headers["Authorization"] = f"Bearer {sp['key']}"
        try:
            bwtest.assert_problem(client.get("/api/webhooks"), 403)
            bwtest.assert_problem(client.post_json("/api/webhooks", {
                "url": receiver.url("/x"), "event_types": []}), 403)
        finally:
            client.session.close()


@pytest.mark.parametrize("body,loc", [
    ({"event_types": []}, "url"),
    ({"url": "http://127.0.0.1:9/"}, "event_types"),
    ({"url": 5, "event_types": []}, "url"),
    ({"url": "http://127.0.0.1:9/", "event_types": "gateway.registered"}, "event_types"),
    ({"url": "http://127.0.0.1:9/", "event_types": [" "]}, "event_types"),
    ({"url": "http://127.0.0.1:9/", "event_types": ["x" * 101]}, "event_types"),
    ({"url": "http://127.0.0.1:9/", "event_types": [f"e{i}" for i in range(51)]},
     "event_types"),
    ({"url": "http://127.0.0.1:9/", "event_types": [1]}, "event_types"),
    ({"url": "http://127.0.0.1:9/", "event_types": [], "channel_type": "fax"}, "channel_type"),
    ({"url": "http://127.0.0.1:9/", "event_types": [], "extra_config": [1]}, "extra_config"),
    ({"url": "http://127.0.0.1:9/" + "a" * 2048, "event_types": []}, "url"),
])
def test_bad_bodies_are_422(api, db, rejected, body, loc):
    before = hooks_snapshot(db)
    rejected(lambda: api.post_json("/api/webhooks", body),
             expect=lambda r: bwtest.assert_validation_422(r, ["body", loc]))
    assert hooks_snapshot(db) == before


def test_bad_ids_and_limits(api, db, hooks, receiver, rejected):
    hook = hooks({"url": receiver.url("/l"), "event_types": []})
    before = hooks_snapshot(db)
    rejected(lambda: api.get("/api/webhooks/abc"), expect=lambda r: bwtest.assert_validation_422(
        r, ["path", "id"]))
    rejected(lambda: api.get("/api/webhooks/999999999"), 404, detail="Webhook not found")
    rejected(lambda: api.post("/api/webhooks/999999999/test"), 404, detail="Webhook not found")
    rejected(lambda: api.put_json("/api/webhooks/999999999", {"is_active": False}), 404,
             detail="Webhook not found")
    rejected(lambda: api.get("/api/webhooks/999999999/deliveries"), 404,
             detail="Webhook not found")
    for bad in ("0", "501", "x", ""):
        rejected(lambda: api.get(f"/api/webhooks/{hook['id']}/deliveries?limit={bad}"),
                 expect=lambda r: bwtest.assert_validation_422(r, ["query", "limit"]))
    rejected(lambda: api.put_json(f"/api/webhooks/{hook['id']}", {"is_active": "yes"}),
             expect=lambda r: bwtest.assert_validation_422(r, ["body", "is_active"]))
    rejected(lambda: api.send_bytes("POST", "/api/webhooks", b"{not json"),
             expect=lambda r: bwtest.assert_validation_422(r))
    assert hooks_snapshot(db) == before


def test_deliveries_are_paginated_newest_first(api, db, hooks, receiver):
    hook = hooks({"url": receiver.url("/many"), "event_types": []})
    ids = [send_test(api, hook["id"]) for _ in range(3)]
    wait_for(lambda: finished(db, hook["id"], 3), 30, "three deliveries")
    log = bwtest.json_ok(api.get(f"/api/webhooks/{hook['id']}/deliveries?limit=2"))
    assert [d["event_id"] for d in log] == [ids[2], ids[1]]
    full = bwtest.json_ok(api.get(f"/api/webhooks/{hook['id']}/deliveries"))
    assert [d["event_id"] for d in full] == list(reversed(ids))


def test_metrics_count_deliveries_by_outcome(api, db, hooks, receiver):
    def scrape():
        text = api.get("/metrics").text
        out = {}
        for line in text.splitlines():
            if line.startswith("shoreguard_webhook_deliveries_total{"):
                status = line.split('status="')[1].split('"')[0]
                out[status] = int(line.rsplit(" ", 1)[1])
        return out
    before = scrape()
    assert set(before) == {"success", "failed"}
    receiver.script["/m-bad"] = [(404, 0)]
    ok_hook = hooks({"url": receiver.url("/m-ok"), "event_types": []})
    bad_hook = hooks({"url": receiver.url("/m-bad"), "event_types": []})
    send_test(api, ok_hook["id"])
    send_test(api, bad_hook["id"])
    wait_for(lambda: finished(db, ok_hook["id"]) and finished(db, bad_hook["id"]), 20,
             "both outcomes")
    after = scrape()
    assert after["success"] >= before["success"] + 1
    assert after["failed"] >= before["failed"] + 1
    text = api.get("/metrics").text
    assert "# TYPE breakwater_webhook_deliveries gauge" in text


def test_old_finished_deliveries_are_purged_counters_stay(api, db, hooks, receiver):
    hook = hooks({"url": receiver.url("/old"), "event_types": []})
    with db.cursor() as cur:
        for event_id, status in ((910000001, "success"), (910000002, "failed"),
                                 (910000003, "retrying"), (910000004, "success")):
            age = 1 if event_id == 910000004 else 8
            cur.execute("INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, status,"
                        " next_attempt_at, created_at, updated_at) VALUES (%s, %s, 'x.y', %s,"
                        " NOW(6) + INTERVAL 1 DAY, NOW(6) - INTERVAL %s DAY, NOW(6))",
                        (hook["id"], event_id, status, age))
        cur.execute("SELECT status, n FROM webhook_delivery_totals")
        totals = {r["status"]: r["n"] for r in cur.fetchall()}
    restart_stack_worker()  # the retention runs on the first tick, then every 10 minutes
    wait_for(lambda: len(deliveries(db, hook["id"])) == 2, 20, "the purge")
    left = {r["event_id"]: r["status"] for r in deliveries(db, hook["id"])}
    assert left == {910000003: "retrying", 910000004: "success"}
    with db.cursor() as cur:
        cur.execute("SELECT status, n FROM webhook_delivery_totals")
        assert {r["status"]: r["n"] for r in cur.fetchall()} == totals
