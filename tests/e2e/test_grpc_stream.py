"""Server-streaming gateway calls (services/gwstream via gwclient's bw_gw_stream), driven through
`breakwaterctl gateway exec|watch` against simulated gateways over real mTLS. No REST route
streams yet (issue 5), so the CLI is the face under test: its output order, exit codes, the
command timeout, early stop, a gateway lost mid-stream, retries of the opening only, and both
wire layouts."""

import os
import subprocess
import time

import pytest

from bwtest import env
from test_grpc_gateway import certs, register, sims  # noqa: F401 (fixtures)
from sim_harness import P

READY = 2
GATEWAY_FAILED = 69


def ctl_env():
    environ = dict(os.environ)
    log_dir = os.path.join(env("BW_RUN_DIR"), "log")
    # Sanitizer reports land where suite_sanitizers counts them.
    environ["ASAN_OPTIONS"] = f"log_path={log_dir}/asan:detect_leaks=1:abort_on_error=0"
    environ["UBSAN_OPTIONS"] = f"print_stacktrace=1:log_path={log_dir}/ubsan"
    return environ


def ctl_argv(*args):
    return [os.path.join(env("BW_BUILD_DIR"), "breakwaterctl"), "--config",
            os.path.join(env("BW_RUN_DIR"), "conf", "breakwater.conf"), *args]


def ctl(*args, timeout=60, merge=False):
    return subprocess.run(ctl_argv(*args), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT if merge else subprocess.PIPE, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, env=ctl_env())


def phase_of(sandbox):
    return sandbox.status.phase or sandbox.phase


def ready_sandbox(sim, name):
    stub = sim.stubs()[0]
    stub.CreateSandbox(P.os.CreateSandboxRequest(name=name, spec=P.os.SandboxSpec()), timeout=5)
    deadline = time.monotonic() + 15
    while True:
        sb = stub.GetSandbox(P.os.GetSandboxRequest(name=name), timeout=5).sandbox
        if phase_of(sb) == READY:
            return sb
        assert time.monotonic() < deadline, "the sandbox never became ready"
        time.sleep(0.05)


@pytest.fixture
def live(sims, register):
    """``live(version)`` → (sim, gateway name, sandbox name) with a READY sandbox."""
    def make(version="0.0.50", extra=()):
        sim = sims(version=version, extra=["--ready-delay", "0.1", *extra])
        gw = register(sim.port)
        ready_sandbox(sim, "box")
        return sim, gw, "box"
    return make


def test_exec_streams_stdout_stderr_in_order_with_the_exit_code(live):
    sim, gw, box = live()
    script = "echo one; echo two >&2; echo three; exit 3"
    merged = ctl("gateway", "exec", gw, box, "--", "sh", "-c", script, merge=True)
    assert merged.returncode == 3, merged
    assert merged.stdout == "one\ntwo\nthree\n", merged.stdout
    split = ctl("gateway", "exec", gw, box, "--", "sh", "-c", script)
    assert (split.returncode, split.stdout, split.stderr) == (3, "one\nthree\n", "two\n"), split
    last = sim.ctl("GET", "/calls")["last"]["ExecSandbox"]
    assert last["command"] == ["sh", "-c", script], last
    ok = ctl("gateway", "exec", gw, box, "--", "echo", "hello world")
    assert (ok.returncode, ok.stdout) == (0, "hello world\n"), ok


def test_exec_output_arrives_while_the_command_runs(live):
    _, gw, box = live()
    start = time.monotonic()
    proc = subprocess.Popen(ctl_argv("gateway", "exec", gw, box, "--", "sh", "-c",
                                     "echo first; sleep 6; echo second"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, env=ctl_env())
    try:
        first = proc.stdout.readline()
        first_at = time.monotonic() - start
        assert first == "first\n", first
        assert proc.poll() is None, "the CLI ended before the command did"
        rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert first_at < 5.5, f"the first line took {first_at:.1f} s: output was held back"
    assert rest == "second\n" and proc.returncode == 0, (rest, err, proc.returncode)


def test_exec_command_timeout_is_exit_124(live):
    sim, gw, box = live()
    start = time.monotonic()
    res = ctl("gateway", "exec", gw, box, "--timeout", "1", "--", "sh", "-c",
              "echo before; sleep 20; echo after")
    took = time.monotonic() - start
    assert res.returncode == 124, res
    assert res.stdout == "before\n", res
    assert took < 8, took
    last = sim.ctl("GET", "/calls")["last"]["ExecSandbox"]
    assert last.get("timeout_seconds", last.get("timeoutSeconds")) == 1, last


def test_exec_errors_map_to_a_clear_message(live):
    sim, gw, box = live()
    res = ctl("gateway", "exec", gw, "no-such-box", "--", "true")
    assert res.returncode == GATEWAY_FAILED, res
    assert "NOT_FOUND" in res.stderr, res.stderr
    res = ctl("gateway", "exec", "no-such-gateway-anywhere", box, "--", "true")
    assert res.returncode == 1 and "no gateway" in res.stderr, res
    sim.ctl("POST", "/fail", {"rpc": "ExecSandbox", "code": "PERMISSION_DENIED", "count": 1,
                              "message": "not for you"})
    res = ctl("gateway", "exec", gw, box, "--", "true")
    assert res.returncode == GATEWAY_FAILED, res
    assert "PERMISSION_DENIED: not for you" in res.stderr, res.stderr
    usage = ctl("gateway", "exec", gw, box)
    assert usage.returncode == 64 and "Usage" in usage.stderr, usage


def test_opening_is_retried_before_the_first_message(live):
    """Watching is a read: a failed opening is retried (with backoff) until it succeeds."""
    sim, gw, box = live()
    sim.ctl("POST", "/reset-calls")
    sim.ctl("POST", "/fail", {"rpc": "WatchSandbox", "code": "UNAVAILABLE", "count": 2})
    res = ctl("gateway", "watch", gw, box, "--max-events", "1")
    assert res.returncode == 0, res
    assert sim.ctl("GET", "/calls")["counts"]["WatchSandbox"] == 3


def test_exec_is_never_retried(live):
    """A command the gateway may already have started must not run twice: a failed opening of
    ExecSandbox is reported, not repeated."""
    sim, gw, box = live()
    sim.ctl("POST", "/reset-calls")
    sim.ctl("POST", "/fail", {"rpc": "ExecSandbox", "code": "UNAVAILABLE", "count": 1})
    res = ctl("gateway", "exec", gw, box, "--", "echo", "once")
    assert res.returncode == GATEWAY_FAILED, res
    assert "UNAVAILABLE" in res.stderr or "not reachable" in res.stderr, res.stderr
    assert res.stdout == ""
    assert sim.ctl("GET", "/calls")["counts"]["ExecSandbox"] == 1


def test_gateway_lost_mid_stream_is_a_clear_error_and_not_replayed(live):
    sim, gw, box = live()
    proc = subprocess.Popen(ctl_argv("gateway", "exec", gw, box, "--", "sh", "-c",
                                     "echo started; sleep 60"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, env=ctl_env())
    try:
        assert proc.stdout.readline() == "started\n"
        sim.kill()
        lost = time.monotonic()
        rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert time.monotonic() - lost < 10
    assert proc.returncode == GATEWAY_FAILED, (proc.returncode, err)
    assert rest == "", rest
    assert "UNAVAILABLE" in err, err
    assert "retrying" not in err, err


@pytest.mark.parametrize("version", ["0.0.50", "0.0.111"])
def test_watch_stops_early_in_both_layouts(live, version):
    sim, gw, box = live(version)
    start = time.monotonic()
    res = ctl("gateway", "watch", gw, box, "--max-events", "1")
    assert res.returncode == 0, res
    assert res.stdout == "sandbox ready\n", res.stdout
    assert time.monotonic() - start < 10
    # The same through exec in this layout.
    res = ctl("gateway", "exec", gw, box, "--", "echo", version)
    assert (res.returncode, res.stdout) == (0, version + "\n"), res


def test_watch_follows_logs_until_the_deadline(live):
    sim, gw, box = live()
    ctl("gateway", "exec", gw, box, "--", "true")
    start = time.monotonic()
    res = ctl("gateway", "watch", gw, box, "--deadline", "2")
    took = time.monotonic() - start
    lines = res.stdout.splitlines()
    assert lines[0] == "sandbox ready", lines
    assert any(line.startswith("log ") and "ExecSandbox" in line for line in lines[1:]), lines
    assert res.returncode == GATEWAY_FAILED and "DEADLINE_EXCEEDED" in res.stderr, res
    assert 1.5 <= took < 8, took


def test_watch_of_a_missing_sandbox_is_not_found(live):
    sim, gw, _ = live()
    res = ctl("gateway", "watch", gw, "ghost", "--max-events", "1")
    assert res.returncode == GATEWAY_FAILED and "NOT_FOUND" in res.stderr, res
    assert sim.ctl("GET", "/calls")["counts"].get("WatchSandbox", 0) == 0


def test_help_lists_the_gateway_commands():
    out = subprocess.run([os.path.join(env("BW_BUILD_DIR"), "breakwaterctl"), "--help"],
                         capture_output=True, text=True, check=True, env=ctl_env()).stdout
    assert "gateway exec GATEWAY SANDBOX" in out and "gateway watch" in out, out
