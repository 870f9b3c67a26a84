"""The data_dir setting end to end: the pool restarted on a private catalog directory full of
bad files serves only the valid ones, logs a warning for each skipped file and stays up; a
missing templates/ directory is an empty list. Marked ``restart`` (runs last); the pool is
restarted on the checkout's data again afterwards."""

import os
import subprocess

import pytest

from bwtest import assert_problem, env, json_ok

pytestmark = pytest.mark.restart

BOMB = ("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
        "f: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n")

BAD_FILES = {
    "broken.yaml": b"network_policies: [\n",
    "bomb.yaml": BOMB.encode(),
    "list.yaml": b"- network_policies\n",
    "deep.yaml": b"[" * 200 + b"]" * 200,
    "big.yaml": b"a: b\n" + b"#" * (300 * 1024) + b"\n",
    "utf8.yaml": b"preset: {name: x, description: \"\xff\xfe\"}\n",
    "twodocs.yaml": b"a: 1\n---\nb: 2\n",
    "tagged.yaml": b"a: !!python/object/apply:os.system [\"id\"]\n",
    "badmeta.yaml": b"preset: [1, 2]\nnetwork_policies: {}\n",
}

GOOD = (b"preset:\n  name: mine\n  description: A private preset\n"
        b"network_policies:\n  internal:\n    name: internal\n    endpoints:\n"
        b"      - {host: api.internal.example, port: 8443, protocol: rest, enforcement: enforce,"
        b" tls: terminate, rules: [{allow: {method: GET, path: \"/v2/**\"}}]}\n")


def _stack(command, extra_env=None):
    stack = env("BW_STACK")
    run_env = dict(os.environ)
    run_env.pop("BREAKWATER_DATA_DIR", None)
    run_env.update(extra_env or {})
    proc = subprocess.run(["bash", stack, command], env=run_env, capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, (
        f"{stack} {command} exited {proc.returncode}\n"
        f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}")


@pytest.fixture
def private_catalog(tmp_path):
    presets = tmp_path / "presets"
    presets.mkdir()
    (presets / "mine.yaml").write_bytes(GOOD)
    for name, data in BAD_FILES.items():
        (presets / name).write_bytes(data)
    (presets / "passwd.yaml").symlink_to("/etc/passwd")
    (presets / "Caps.yaml").write_bytes(GOOD)
    (presets / "notes.txt").write_bytes(GOOD)
    (presets / "sub.yaml").mkdir()
    os.chmod(tmp_path, 0o755)
    log = os.path.join(env("BW_RUN_DIR"), "log", "fcgi.log")
    offset = os.path.getsize(log)
    _stack("restart-fcgi", {"BREAKWATER_DATA_DIR": str(tmp_path)})
    try:
        yield str(presets), log, offset
    finally:
        _stack("restart-fcgi")


def test_bad_files_are_skipped_with_a_warning(api, private_catalog):
    presets_dir, log, offset = private_catalog
    body = json_ok(api.get("/api/policies/presets"))
    assert body == [{"name": "mine", "description": "A private preset", "file": "mine.yaml"}]
    item = json_ok(api.get("/api/policies/presets/mine"))
    ep = item["policy"]["network_policies"]["internal"]["endpoints"][0]
    assert (ep["host"], ep["port"], ep["rules"]) == (
        "api.internal.example", 8443, [{"allow": {"method": "GET", "path": "/v2/**"}}]), item
    for name in [n[:-5] for n in BAD_FILES] + ["passwd", "Caps", "notes", "sub"]:
        assert_problem(api.get(f"/api/policies/presets/{name}"), 404, "NOT_FOUND",
                       f"Preset '{name}' not found")
    # No templates/ directory: an empty catalog, not an error.
    assert json_ok(api.get("/api/sandbox-templates")) == []
    assert_problem(api.get("/api/sandbox-templates/web-dev"), 404, "NOT_FOUND",
                   "Template 'web-dev' not found")

    with open(log, "rb") as f:
        f.seek(offset)
        text = f.read().decode(errors="replace")
    for name in list(BAD_FILES) + ["passwd.yaml", "Caps.yaml", "sub.yaml"]:
        assert f"skipping {presets_dir}/{name}" in text, (name, text[-3000:])
    assert "notes.txt" not in text
    assert "presets loaded from " + presets_dir in text
    # Still serving after all that.
    assert json_ok(api.get("/healthz")) == {"status": "ok"}


def test_checkout_catalog_is_back(api):
    names = [p["name"] for p in json_ok(api.get("/api/policies/presets"))]
    assert "openclaw" in names and len(names) == 10, names
