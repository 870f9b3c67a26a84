"""GitOps export/apply of a sandbox policy through nginx against the simulated gateway:
deterministic YAML, apply of the same YAML is up_to_date, dry runs, the optimistic lock
(expected_version / metadata.policy_hash), replace and merge modes, raw YAML bodies, and
hostile documents refused with nothing changed."""

import json

import pytest
import yaml

from bwtest import audit_rows, json_ok
from policy_helpers import (LocalSim, base, delete_sandbox, outbox, problem, ready_sandbox, rule,
                            sim_policy, sim_state, unchanged)


@pytest.fixture
def box(unique_name):
    sim = LocalSim()
    name = unique_name("git")
    ready_sandbox(sim, name)
    yield sim, sim.name, name
    delete_sandbox(sim, name)


def export(api, gw, name):
    return json_ok(api.get(base(gw, name) + "/export"))


def apply(api, gw, name, text, **opts):
    return api.post_json(base(gw, name) + "/apply", dict(opts, yaml=text))


def apply_raw(api, gw, name, text, params=""):
    return api.send_bytes("POST", base(gw, name) + "/apply" + params, text.encode(),
                          content_type="application/yaml")


def edited(text, change):
    doc = yaml.safe_load(text)
    change(doc["policy"])
    return yaml.safe_dump(doc)


def test_export_is_deterministic(api, db, box):
    sim, gw, name = box
    a, b = export(api, gw, name), export(api, gw, name)
    assert a["yaml"] == b["yaml"], "the same policy gives byte-identical YAML"
    rev = sim_policy(sim, name)
    assert (a["gateway"], a["sandbox"], a["version"], a["policy_hash"]) == (gw, name, rev.version, rev.policy_hash)
    assert a["yaml"].startswith("# managed-by: shoreguard-gitops\n")
    doc = yaml.safe_load(a["yaml"])
    assert doc["metadata"] == {"gateway": gw, "sandbox": name, "version": rev.version,
                               "policy_hash": rev.policy_hash}
    assert doc["policy"] == json_ok(api.get(base(gw, name)))["policy"]
    keys = [line.split(":")[0] for line in a["yaml"].splitlines() if line and line[0] not in " #-"]
    assert keys == sorted(keys) == ["metadata", "policy"]
    assert len(audit_rows(db, "policy.exported", name)) == 2


def test_export_then_apply_is_up_to_date(api, db, box):
    sim, gw, name = box
    text = export(api, gw, name)["yaml"]
    before = sim_state(sim, name)
    body = json_ok(apply(api, gw, name, text))
    assert body["status"] == "up_to_date" and body["applied_version"] is None
    assert body["current_hash"] == before[1]
    assert body["diff"]["network_policies"] == {"added": [], "removed": [], "changed": []}
    assert sim_state(sim, name) == before
    assert len(audit_rows(db, "policy.apply.noop", name)) == 1
    body = json_ok(apply(api, gw, name, text, mode="merge"))
    assert body["status"] == "up_to_date"


def test_dry_run_then_apply(api, db, box):
    sim, gw, name = box
    text = edited(export(api, gw, name)["yaml"],
                  lambda p: p["network_policies"].update(gh=rule("api.github.com", name="gh")))
    before = sim_state(sim, name)
    dry = json_ok(apply(api, gw, name, text, dry_run=True))
    assert dry["status"] == "dry_run" and dry["diff"]["network_policies"]["added"] == ["gh"]
    assert sim_state(sim, name) == before, "a dry run writes nothing"
    assert len(audit_rows(db, "policy.apply.dry_run", name)) == 1
    done = json_ok(apply(api, gw, name, text))
    assert done["status"] == "applied" and done["current_hash"] == before[1]
    after = sim_policy(sim, name)
    assert "gh" in after.policy.network_policies and done["applied_version"] == after.policy_hash
    row = audit_rows(db, "policy.applied", name)[-1]
    detail = json.loads(row["detail"])
    assert detail["apply_mode"] == "replace" and detail["diff_summary"]["total"] == 1
    assert detail["via_workflow"] is False
    ev = outbox(db, "policy.applied", name)
    assert len(ev) == 1 and json.loads(ev[0]["payload"])["applied_version"] == after.policy_hash
    # The new export applies as up_to_date again.
    assert json_ok(apply(api, gw, name, export(api, gw, name)["yaml"]))["status"] == "up_to_date"


def test_raw_yaml_body(api, box):
    sim, gw, name = box
    text = edited(export(api, gw, name)["yaml"],
                  lambda p: p["network_policies"].update(raw=rule("raw.example.com")))
    dry = json_ok(apply_raw(api, gw, name, text, "?dry_run=true"))
    assert dry["status"] == "dry_run"
    again = json_ok(apply_raw(api, gw, name, text, "?dry_run=1"))
    assert again["status"] == "dry_run", again
    done = json_ok(apply_raw(api, gw, name, text, "?mode=merge"))
    assert done["status"] == "applied" and "raw" in sim_policy(sim, name).policy.network_policies
    resp = apply_raw(api, gw, name, text, "?dry_run=maybe")
    problem(422)(resp)
    bad = resp.json()
    assert [(e["type"], e["loc"]) for e in bad["errors"]] == [
        ("bool_parsing", ["query", "dry_run"])], bad
    problem(422)(apply_raw(api, gw, name, text, "?mode=sideways"))
    problem(415)(api.send_bytes("POST", base(gw, name) + "/apply", text.encode(), content_type="text/plain"))


def test_stale_expected_version_is_409(api, db, box):
    sim, gw, name = box
    old = export(api, gw, name)
    json_ok(api.post_json(base(gw, name) + "/network-rules", {"key": "x", "rule": rule("x.example.com")}))
    current = sim_policy(sim, name).policy_hash
    text = edited(old["yaml"], lambda p: p["network_policies"].update(y=rule("y.example.com")))
    for opts in ({}, {"dry_run": True}, {"expected_version": old["policy_hash"]}):
        # metadata.policy_hash of the old export is the expected version when none is given
        resp = unchanged(api, db, sim, name, lambda: apply(api, gw, name, text, **opts),
                         lambda r: r.status_code == 409 or pytest.fail(r.text))
        assert resp.json() == {"status": "version_mismatch", "current_hash": current,
                               "expected_version": old["policy_hash"]}
    body = json_ok(apply(api, gw, name, text, expected_version=current))
    assert body["status"] == "applied"
    pol = sim_policy(sim, name).policy
    assert "y" in pol.network_policies and "x" not in pol.network_policies, "replace mode"


def test_merge_mode(api, db, box):
    sim, gw, name = box
    json_ok(api.post_json(base(gw, name) + "/network-rules", {"key": "keep", "rule": rule("k.example.com")}))
    text = export(api, gw, name)["yaml"]

    def change(p):
        del p["network_policies"]["pypi"]
        p["network_policies"]["new"] = rule("n.example.com")
        p["network_policies"]["keep"]["endpoints"][0]["port"] = 8443
    merged = json_ok(apply(api, gw, name, edited(text, change), mode="merge"))
    assert merged["status"] == "applied"
    assert merged["diff"]["network_policies"] == {"added": ["new"], "removed": ["pypi"], "changed": ["keep"]}
    ops = sim.ctl("GET", "/calls")["last"]["UpdateConfig"]["merge_operations"]
    assert [list(op)[0] + ":" + list(op.values())[0]["rule_name"] for op in ops] == [
        "remove_rule:pypi", "remove_rule:keep", "add_rule:keep", "add_rule:new"]
    pol = sim_policy(sim, name).policy
    assert set(pol.network_policies) == {"keep", "new"}
    assert json.loads(audit_rows(db, "policy.applied", name)[-1]["detail"])["merge_operation_count"] == 4
    text = export(api, gw, name)["yaml"]
    for section, change in (
            ("filesystem", lambda p: p["filesystem"]["read_only"].append("/extra")),
            ("process", lambda p: p["process"].update(run_as_user="other")),
            ("landlock", lambda p: p["landlock"].update(compatibility="hard_requirement"))):
        for dry in (False, True):
            # Refused before a dry run answers (or a workflow vote would be cast).
            unchanged(api, db, sim, name,
                      lambda: apply(api, gw, name, edited(text, change), mode="merge", dry_run=dry),
                      problem(400, f"mode=merge cannot express changes to the '{section}' section"))


def test_landlock_only_change_is_not_up_to_date(api, db, box):
    """The reference ignores landlock in the diff (a landlock-only apply said up_to_date); here
    it is a change, and the gateway's refusal (static on a live sandbox) is reported."""
    sim, gw, name = box
    text = edited(export(api, gw, name)["yaml"],
                  lambda p: p["landlock"].update(compatibility="hard_requirement"))
    dry = json_ok(apply(api, gw, name, text, dry_run=True))
    assert dry["diff"]["landlock"] == {"compatibility_changed": ["best_effort", "hard_requirement"]}
    unchanged(api, db, sim, name, lambda: apply(api, gw, name, text), problem(400, "landlock"))


def deep(n):
    return "policy:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(n)) + "  " * (n + 1) + "x: 1\n"


@pytest.mark.parametrize("text, expect", [
    ("policy: [1, 2", problem(400, "Malformed YAML: line 2, column 1")),
    ("policy:\n  a: 1\n b: 2\n", problem(400, "Malformed YAML: line")),
    ("- 1\n- 2\n", problem(400, "Top-level YAML must be a mapping")),
    ("metadata: {}\n", problem(400, "Missing required 'policy' key")),
    ("policy: 3\n", problem(400, "'policy' must be a mapping")),
    ("policy: {}\nmetadata: [1]\n", problem(400, "'metadata' must be a mapping")),
    ("policy: {a: &x [1], b: *x}\n", problem(400, "anchors are not allowed")),
    ("policy: {}\npolicy: {}\n", problem(400, "duplicate key")),
    ("policy: !!python/object:os.system {}\n", problem(400, "not supported")),
    ("policy:\n  network_policies:\n    \"\\x01evil\": {endpoints: [{host: a.example.com, port: 1}]}\n",
     problem(400, "keys must be")),
    ("policy:\n  network_policies:\n    " + "k" * 300 + ": {endpoints: [{host: a.example.com, port: 1}]}\n",
     problem(400, "keys must be")),
    ("policy:\n  network_policies:\n    x: {endpoints: [{host: '*.com', port: 1}]}\n",
     problem(400, "wildcards at the TLD level")),
    ("policy:\n  __proto__: {}\n", problem(400, "unknown field '__proto__'")),
    ("policy:\n  filesystem: {read_only: [1]}\n", problem(400, "must be a string")),
    (deep(40), lambda r: r.status_code in (400, 413) or pytest.fail(r.text)),
    ("policy:\n  network_policies:\n" + "".join(
        f"    r{i}: {{endpoints: [{{host: h{i}.example.com, port: 443}}], binaries: [{{path: /usr/bin/{'x' * 40}}}]}}\n"
        for i in range(4000)), lambda r: r.status_code in (400, 413) or pytest.fail(r.text)),
    ("", problem(400, "Malformed YAML")),
])
def test_hostile_documents_change_nothing(api, db, box, text, expect):
    sim, gw, name = box
    unchanged(api, db, sim, name, lambda: apply(api, gw, name, text), expect)


def test_bad_apply_bodies(api, db, box):
    sim, gw, name = box
    url = base(gw, name) + "/apply"
    for body in ({}, {"yaml": 5}, {"yaml": "policy: {}", "mode": "sideways"},
                 {"yaml": "policy: {}", "dry_run": "yes"}, [1], {"yaml": "policy: {}", "expected_version": 3}):
        unchanged(api, db, sim, name, lambda: api.post_json(url, body), problem(422))
    big = "policy: {}\n#" + "x" * (700 * 1024)
    unchanged(api, db, sim, name, lambda: apply(api, gw, name, big), problem(413))
