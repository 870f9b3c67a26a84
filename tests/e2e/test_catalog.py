"""Policy presets (/api/policies/presets) and sandbox templates (/api/sandbox-templates) through
nginx: the lists, every bundled entry with the key facts of the reference (shoreguard-services
§3.17/§3.18, shoreguard-api §6.7), and unknown or hostile names (404/400, never 500)."""

import urllib.parse

import pytest

import bwtest
from bwtest import json_ok

PRESETS = ["discord", "docker", "huggingface", "jira", "npm", "openclaw", "outlook", "pypi",
           "slack", "telegram"]
TEMPLATES = ["data-science", "openclaw", "secure-coding", "web-dev"]

GP = [("GET", "/**"), ("POST", "/**")]
G = [("GET", "/**")]

# preset -> {rule key: {host: [(method, path)...]}} for the single-rule presets (all on 443, L7).
L7_PRESETS = {
    "discord": {"discord": {"discord.com": GP, "gateway.discord.gg": GP,
                            "cdn.discordapp.com": G}},
    "docker": {"docker_registries": {"registry-1.docker.io": GP, "auth.docker.io": GP,
                                     "nvcr.io": GP, "authn.nvidia.com": GP}},
    "huggingface": {"huggingface": {"huggingface.co": GP, "cdn-lfs.huggingface.co": G,
                                    "api-inference.huggingface.co": GP}},
    "jira": {"atlassian": {"*.atlassian.net": GP, "auth.atlassian.com": GP,
                           "api.atlassian.com": GP}},
    "npm": {"npm_yarn": {"registry.npmjs.org": G, "registry.yarnpkg.com": G}},
    "outlook": {"outlook_graph": {"graph.microsoft.com": GP, "login.microsoftonline.com": GP,
                                  "outlook.office365.com": GP, "outlook.office.com": GP}},
    "pypi": {"pypi": {"pypi.org": G, "files.pythonhosted.org": G}},
    "slack": {"slack": {"slack.com": GP, "api.slack.com": GP, "hooks.slack.com": GP}},
    "telegram": {"telegram_bot": {"api.telegram.org": [("GET", "/bot*/**"),
                                                       ("POST", "/bot*/**")]}},
}

TEMPLATE_FACTS = {
    "data-science": ("ml", "ghcr.io/nvidia/openshell-community/sandboxes/ollama:latest", True,
                     ["nvidia"], {"CUDA_VISIBLE_DEVICES": "all"},
                     ["pypi", "huggingface", "docker"]),
    "openclaw": ("agent", "ghcr.io/shoreguard/openclaw-sandbox:latest", False, [],
                 {"HOME": "/home/node", "TERM": "xterm-256color"}, ["openclaw"]),
    "secure-coding": ("security", "", False, [], {}, ["pypi", "docker"]),
    "web-dev": ("dev", "", False, [], {}, ["npm", "docker", "slack"]),
}


def preset(api, name):
    return api.get("/api/policies/presets/" + urllib.parse.quote(name, safe=""))


def template(api, name):
    return api.get("/api/sandbox-templates/" + urllib.parse.quote(name, safe=""))


def rules_of(endpoint):
    return [(r["allow"]["method"], r["allow"]["path"]) for r in endpoint["rules"]]


def endpoints_by_host(rule):
    return {ep["host"]: ep for ep in rule["endpoints"]}


# --- lists -------------------------------------------------------------------------------------


def test_preset_list(api):
    body = json_ok(api.get("/api/policies/presets"))
    assert isinstance(body, list), body
    assert [p["name"] for p in body] == PRESETS, body
    for item in body:
        assert set(item) == {"name", "description", "file"}, item
        assert item["file"] == item["name"] + ".yaml", item
        assert isinstance(item["description"], str) and len(item["description"]) > 10, item


def test_template_list(api):
    body = json_ok(api.get("/api/sandbox-templates"))
    assert isinstance(body, list), body
    assert [t["name"] for t in body] == TEMPLATES, body
    for item in body:
        assert set(item) == {"name", "description", "category", "file"}, item
        assert item["file"] == item["name"] + ".yaml", item
        assert item["category"] == TEMPLATE_FACTS[item["name"]][0], item
        assert isinstance(item["description"], str) and len(item["description"]) > 10, item


def test_lists_repeat_identically(api):
    # Several workers and threads each load the catalog once; all answer the same bytes.
    first_p = api.get("/api/policies/presets").content
    first_t = api.get("/api/sandbox-templates").content
    for _ in range(12):
        assert api.get("/api/policies/presets").content == first_p
        assert api.get("/api/sandbox-templates").content == first_t


def test_list_descriptions_match_items(api):
    for item in json_ok(api.get("/api/policies/presets")):
        full = json_ok(preset(api, item["name"]))
        assert full["description"] == item["description"], (item, full)
    for item in json_ok(api.get("/api/sandbox-templates")):
        full = json_ok(template(api, item["name"]))
        assert (full["description"], full["category"]) == (item["description"],
                                                           item["category"])


# --- presets -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(L7_PRESETS))
def test_l7_preset(api, name):
    body = json_ok(preset(api, name))
    assert set(body) == {"name", "description", "policy"}, body
    assert body["name"] == name
    policy = body["policy"]
    assert "preset" not in policy, policy
    assert set(policy) == {"network_policies"}, policy
    want = L7_PRESETS[name]
    assert set(policy["network_policies"]) == set(want), policy
    for key, hosts in want.items():
        rule = policy["network_policies"][key]
        assert rule["name"] == key, rule
        assert "binaries" not in rule, rule
        eps = endpoints_by_host(rule)
        assert list(eps) == list(hosts), rule
        for host, rules in hosts.items():
            ep = eps[host]
            assert ep["port"] == 443 and type(ep["port"]) is int, ep
            assert (ep["protocol"], ep["enforcement"], ep["tls"]) == (
                "rest", "enforce", "terminate"), ep
            assert rules_of(ep) == rules, ep


def test_openclaw_preset(api):
    body = json_ok(preset(api, "openclaw"))
    policy = body["policy"]
    assert set(policy) == {"filesystem", "landlock", "process", "network_policies"}, policy
    fs = policy["filesystem"]
    assert fs["include_workdir"] is True, fs
    assert fs["read_only"] == ["/sandbox/.openclaw", "/usr", "/lib", "/etc", "/app", "/proc",
                               "/dev/urandom"], fs
    assert fs["read_write"] == ["/sandbox/.openclaw-data", "/tmp", "/dev/null", "/var/log"], fs
    assert policy["landlock"] == {"compatibility": "best_effort"}, policy
    assert policy["process"] == {"run_as_user": "node", "run_as_group": "node"}, policy

    net = policy["network_policies"]
    assert list(net) == ["inference", "openclaw_gateway", "github", "npm_registry",
                         "claude_code"], net

    def binaries(key):
        return [b["path"] for b in net[key]["binaries"]]

    inf = net["inference"]["endpoints"]
    assert [(e["host"], e["port"], e["tls"]) for e in inf] == [
        ("inference.local", 443, "passthrough")], inf
    assert rules_of(inf[0]) == [("POST", "/v1/**"), ("GET", "/v1/models")], inf
    assert binaries("inference") == ["node", "openclaw"]

    gw = net["openclaw_gateway"]["endpoints"]
    assert [(e["host"], e["port"], e["protocol"]) for e in gw] == [
        ("127.0.0.1", 18789, "rest")], gw
    assert "tls" not in gw[0], gw
    assert rules_of(gw[0]) == [("GET", "/healthz"), ("GET", "/readyz"),
                               ("GET", "/__openclaw__/**"), ("POST", "/__openclaw__/**")], gw
    assert binaries("openclaw_gateway") == ["node"]

    gh = net["github"]["endpoints"]
    assert [(e["host"], e["port"], e["access"]) for e in gh] == [
        ("github.com", 443, "full"), ("api.github.com", 443, "full")], gh
    assert all("rules" not in e for e in gh), gh
    assert binaries("github") == ["git", "gh"]

    npm = net["npm_registry"]["endpoints"]
    assert [(e["host"], e["access"]) for e in npm] == [("registry.npmjs.org", "full")], npm
    assert binaries("npm_registry") == ["npm", "node", "openclaw"]

    cc = net["claude_code"]["endpoints"]
    assert [e["host"] for e in cc] == ["api.anthropic.com", "statsig.anthropic.com"], cc
    for e in cc:
        assert rules_of(e) == GP, e
        assert (e["protocol"], e["enforcement"], e["tls"]) == ("rest", "enforce", "terminate")
    assert binaries("claude_code") == ["claude", "node"]


def test_every_listed_preset_round_trips(api):
    for item in json_ok(api.get("/api/policies/presets")):
        body = json_ok(preset(api, item["name"]))
        assert body["name"] == item["name"]
        assert isinstance(body["policy"]["network_policies"], dict) and body["policy"][
            "network_policies"], body


# --- templates ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TEMPLATES)
def test_template(api, name):
    category, image, gpu, providers, environment, presets = TEMPLATE_FACTS[name]
    body = json_ok(template(api, name))
    assert set(body) == {"name", "description", "category", "sandbox"}, body
    assert (body["name"], body["category"]) == (name, category), body
    sb = body["sandbox"]
    assert sb == {"image": image, "gpu": gpu, "providers": providers,
                  "environment": environment, "presets": presets}, sb
    assert type(sb["gpu"]) is bool, sb


def test_template_presets_exist(api):
    listed = {p["name"] for p in json_ok(api.get("/api/policies/presets"))}
    for name in TEMPLATES:
        for p in json_ok(template(api, name))["sandbox"]["presets"]:
            assert p in listed, (name, p)


# --- unknown and hostile names -----------------------------------------------------------------


def echoed(name):
    """The name as the 404 detail shows it: up to 200 UTF-8 bytes, cut on a character."""
    raw = name.encode()
    if len(raw) <= 200:
        return name
    return raw[:200].decode(errors="ignore") + "..."


# Names with a '/' are sent %2F-encoded; nginx resolves '..' against the decoded path, so they
# are chosen to stay under /api/ and reach the responder.
@pytest.mark.parametrize("name", ["nope", "Discord", "discord.yaml", "discord ", "a" * 64,
                                  "a" * 200, "a" * 201, "a" * 2000, "\u00e9" * 300,
                                  "../etc/passwd", "..%2F..", "presets", "caf\u00e9",
                                  ".hidden", "-", "%00x", "x\ny"])
def test_unknown_preset_is_404(api, rejected, name):
    rejected(lambda: preset(api, name), 404, "NOT_FOUND", f"Preset '{echoed(name)}' not found")


@pytest.mark.parametrize("name", ["nope", "OPENCLAW", "web-dev.yaml", "../web-dev",
                                  "b" * 3000, "openclaw/"])
def test_unknown_template_is_404(api, rejected, name):
    rejected(lambda: template(api, name), 404, "NOT_FOUND",
             f"Template '{echoed(name)}' not found")


def _not_found_or_bad(resp):
    assert resp.status_code in (400, 404), bwtest.describe(resp)
    if bwtest.media_type(resp) == "application/problem+json":
        bwtest.assert_problem(resp, resp.status_code)
    return None


@pytest.mark.parametrize("base", ["/api/policies/presets/", "/api/sandbox-templates/"])
@pytest.mark.parametrize("tail", ["../etc/passwd", "..%2Fetc%2Fpasswd", "%2e%2e",
                                  "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..", "%2E%2E/x",
                                  "x%00", "%ff%fe", "x/../../etc/passwd", "a" * 4000])
def test_hostile_raw_paths(api, rejected, base, tail):
    # Sent byte for byte (no client-side normalisation): nginx or the router may refuse it
    # (400) or it names nothing (404); never a 500 and never a file.
    body = rejected(lambda: api.raw("GET", base + tail), expect=_not_found_or_bad)
    assert body is None


def test_dot_dot_segment_is_400(api, rejected):
    rejected(lambda: api.raw("GET", "/api/policies/presets/%2e%2e"), 400, "VALIDATION_ERROR",
             "Malformed request path")


def test_encoded_slash_traversal_is_reference_404(api, rejected):
    rejected(lambda: api.raw("GET", "/api/policies/presets/..%2F..%2Fetc%2Fpasswd"), 404,
             "NOT_FOUND", "Preset '../../etc/passwd' not found")
    rejected(lambda: api.raw("GET", "/api/sandbox-templates/..%2Fpresets%2Fdiscord"), 404,
             "NOT_FOUND", "Template '../presets/discord' not found")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_read_only_routes(api, rejected, method):
    for path in ("/api/policies/presets", "/api/policies/presets/pypi",
                 "/api/sandbox-templates", "/api/sandbox-templates/web-dev"):
        rejected(lambda: api.request(method, path), 405, "METHOD_NOT_ALLOWED")
