#!/usr/bin/python3
"""gateway-sim: a stateful, simulated OpenShell gateway for Breakwater's tests.

Serves the gRPC services declared in ../../proto (openshell.v1.OpenShell and
openshell.inference.v1.Inference) with the server rules described in
shared/reference/openshell-grpc.md, answering in the wire layout of the
gateway version given with --version.  Nothing is ever executed for real:
exec runs a tiny built-in interpreter (sim_shell.py).

A plain-HTTP JSON control API (--control PORT, 127.0.0.1 only) lets tests
count calls, inject failures and delays, and inspect state; see README.md.

    /usr/bin/python3 tests/gateway-sim/gateway_sim.py --listen 127.0.0.1:0 \
        --tls-cert server.crt --tls-key server.key --client-ca ca.crt \
        --version 0.0.50 --control 0 --ready-file /tmp/gw.port
"""

import argparse
import base64
import hashlib
import hmac
import http.server
import json
import os
import queue
import random
import re
import signal
import sys
import threading
import time
import traceback
import uuid
from concurrent import futures

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import grpc  # noqa: E402
from google.protobuf import json_format  # noqa: E402

import sim_policy as pol  # noqa: E402
import sim_shell  # noqa: E402
from sim_policy import SimError, invalid, precondition  # noqa: E402
from sim_protos import load as load_protos  # noqa: E402

P = load_protos()

NEWEST_CHECKED = (0, 0, 111)
DEFAULT_IMAGE = "ghcr.io/nvidia/openshell-community/sandboxes/base:latest"

# Phases (openshell.v1.SandboxPhase)
PH_UNSPECIFIED, PH_PROVISIONING, PH_READY, PH_ERROR, PH_DELETING, PH_UNKNOWN = 0, 1, 2, 3, 4, 5
PHASE_NAMES = {0: "unspecified", 1: "provisioning", 2: "ready", 3: "error", 4: "deleting",
               5: "unknown", 6: "stopping", 7: "stopped", 8: "starting"}
POLICY_STATUS = {"pending": 1, "loaded": 2, "failed": 3, "superseded": 4}

# Limits of the v0.0.50 gateway (crates/openshell-server/src/grpc/mod.rs)
MAX_NAME_LEN = 253
MAX_PROVIDERS = 32
MAX_LOG_LEVEL_LEN = 32
MAX_ENV_ENTRIES = 128
MAX_MAP_KEY_LEN = 256
MAX_MAP_VALUE_LEN = 8192
MAX_TEMPLATE_STRING_LEN = 1024
MAX_TEMPLATE_MAP_ENTRIES = 128
MAX_TEMPLATE_STRUCT_SIZE = 65536
MAX_POLICY_SIZE = 262144
MAX_PROVIDER_TYPE_LEN = 64
MAX_PROVIDER_CREDENTIALS = 32
MAX_PROVIDER_CONFIG = 64
MAX_PAGE = 1000
MAX_EXEC_ARGS = 1024
MAX_EXEC_ARG_LEN = 32 * 1024
MAX_EXEC_WORKDIR_LEN = 4096
MAX_COMMAND_STRING_LEN = 256 * 1024
LOG_BUFFER = 2000
SSH_TTL_MS = 86400 * 1000
TOKEN_TTL_S = 3600

# Methods a sandbox principal may call (router allowlist).
SANDBOX_CALLABLE = {"IssueSandboxToken", "RefreshSandboxToken", "GetSandboxConfig",
                    "GetSandboxProviderEnvironment", "UpdateConfig", "SubmitPolicyAnalysis",
                    "GetDraftPolicy", "GetInferenceBundle"}
# Sandbox-only for users from v0.0.51 (router annotation).
SANDBOX_ONLY_FROM_51 = {"GetSandboxProviderEnvironment", "SubmitPolicyAnalysis"}
# RPCs after which the state file is written synchronously (others: by the ticker).
MUTATING_PREFIXES = ("Create", "Delete", "Update", "Attach", "Detach", "Approve", "Reject", "Edit", "Undo",
                     "Clear", "Submit", "Set", "Configure", "Rotate", "Revoke", "Expose", "Import")
OLD_INFERENCE = {"SetClusterInference", "GetClusterInference"}
NEW_INFERENCE = {"SetInferenceRoute", "GetInferenceRoute", "DeleteInferenceRoute"}

ENV_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
KEBAB_RE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*\Z")

ADJECTIVES = ("able", "amber", "brave", "bright", "calm", "clever", "cosmic", "crisp", "eager",
              "fancy", "gentle", "golden", "happy", "humble", "jolly", "keen", "lucid", "merry",
              "nimble", "noble", "proud", "quiet", "rapid", "shiny", "silent", "sunny", "swift",
              "tidy", "vivid", "witty")
NOUNS = ("badger", "beacon", "cedar", "comet", "falcon", "fjord", "garnet", "harbor", "heron",
         "island", "lagoon", "lynx", "maple", "meadow", "nebula", "otter", "panda", "pebble",
         "quartz", "raven", "river", "sparrow", "summit", "tiger", "tulip", "walrus", "willow",
         "yak", "zebra", "zephyr")


def now_ms():
    return int(time.time() * 1000)


def clamp_limit(raw, default, maximum=MAX_PAGE):
    return default if raw == 0 else min(raw, maximum)


def to_dict(msg):
    return json_format.MessageToDict(msg, preserving_proto_field_name=True)


def from_dict(cls, data):
    return json_format.ParseDict(data or {}, cls(), ignore_unknown_fields=True)


def err(code, msg):
    return SimError(code, msg)


# ---------------------------------------------------------------------------
# Gateway versions
# ---------------------------------------------------------------------------

VERSION_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-dev\.(\d+)(?:\+g[0-9A-Fa-f]+)?)?$")


def behaviour_version(reported, behave_as=None):
    """Version tuple whose rules the simulator applies.

    X.Y.Z -> (X,Y,Z); X.Y.Z-dev.N+gSHA (N commits after tag Z-1) -> (X,Y,Z-1);
    0.0.0 or unparsable -> the newest checked version (0.0.111)."""
    text = behave_as or reported
    m = VERSION_RE.match(text.strip())
    if not m:
        return NEWEST_CHECKED
    x, y, z = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if (x, y, z) == (0, 0, 0):
        return NEWEST_CHECKED
    if m.group(4) is not None and z > 0:
        z -= 1
    return (x, y, z)


class Behaviour:
    def __init__(self, reported, behave_as=None):
        self.reported = reported
        self.v = behaviour_version(reported, behave_as)

    def ge(self, z, y=0, x=0):
        return self.v >= (x, y, z)

    @property
    def status_layout(self):          # phase in SandboxStatus (v0.0.53)
        return self.ge(53)

    @property
    def spec9_message(self):          # ResourceRequirements (v0.0.69)
        return self.ge(69)

    @property
    def has_gpu_device(self):         # SandboxSpec.gpu_device removed in v0.0.61
        return not self.ge(61)

    @property
    def new_inference(self):          # renamed RPCs (v0.0.88)
        return self.ge(88)


# ---------------------------------------------------------------------------
# Protobuf wire helpers (SandboxSpec field 9)
# ---------------------------------------------------------------------------

def _read_varint(buf, i):
    shift = 0
    val = 0
    while True:
        if i >= len(buf):
            raise ValueError("truncated varint")
        b = buf[i]
        i += 1
        val |= (b & 0x7F) << shift
        if not b & 0x80:
            return val, i
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def wire_fields(buf):
    """Yield (field_number, wire_type, raw_value) for a serialized message."""
    i = 0
    while i < len(buf):
        key, i = _read_varint(buf, i)
        fn, wt = key >> 3, key & 7
        if wt == 0:
            val, i = _read_varint(buf, i)
        elif wt == 1:
            val, i = buf[i:i + 8], i + 8
        elif wt == 2:
            ln, i = _read_varint(buf, i)
            val, i = buf[i:i + ln], i + ln
        elif wt == 5:
            val, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("unsupported wire type %d" % wt)
        yield fn, wt, val


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def strip_field(msg_cls, data, field_no):
    """Re-serialize data without one field number (keeps everything else)."""
    out = bytearray()
    for fn, wt, val in wire_fields(data):
        if fn == field_no:
            continue
        out += _varint((fn << 3) | wt)
        if wt == 0:
            out += _varint(val)
        elif wt == 2:
            out += _varint(len(val)) + val
        else:
            out += val
    return msg_cls.FromString(bytes(out))


# ---------------------------------------------------------------------------
# Sandbox JWTs (simplified: HMAC-SHA256 signed, kid "gateway-sim")
# ---------------------------------------------------------------------------

def _b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64u_dec(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenIssuer:
    KID = "gateway-sim"

    def __init__(self, key):
        self.key = key

    def mint(self, sandbox_id, ttl=TOKEN_TTL_S):
        now = int(time.time())
        header = {"alg": "HS256", "typ": "JWT", "kid": self.KID}
        claims = {"iss": "openshell-gateway:openshell", "aud": "openshell-gateway:openshell",
                  "sub": "spiffe://openshell/sandbox/" + sandbox_id, "sandbox_id": sandbox_id,
                  "iat": now, "exp": now + ttl, "jti": uuid.uuid4().hex}
        signing = _b64u(json.dumps(header, separators=(",", ":")).encode()) + "." + \
            _b64u(json.dumps(claims, separators=(",", ":")).encode())
        sig = hmac.new(self.key, signing.encode(), hashlib.sha256).digest()
        return signing + "." + _b64u(sig), (now + ttl) * 1000

    def verify(self, token):
        """None if the token is not ours; else (sandbox_id) or raises SimError."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        try:
            header = json.loads(_b64u_dec(parts[0]))
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(header, dict) or header.get("kid") != self.KID:
            return None
        sig = hmac.new(self.key, (parts[0] + "." + parts[1]).encode(), hashlib.sha256).digest()
        try:
            given = _b64u_dec(parts[2])
        except ValueError:
            given = b""
        if not hmac.compare_digest(sig, given):
            raise err("UNAUTHENTICATED", "invalid token: signature verification failed")
        claims = json.loads(_b64u_dec(parts[1]))
        if claims.get("exp", 0) <= time.time():
            raise err("UNAUTHENTICATED", "invalid token: token expired")
        if claims.get("aud") != "openshell-gateway:openshell":
            raise err("UNAUTHENTICATED", "invalid token: audience mismatch")
        return claims.get("sandbox_id", "")


class Principal:
    def __init__(self, kind, subject, sandbox_id="", source=""):
        self.kind = kind          # "user" | "sandbox"
        self.subject = subject
        self.sandbox_id = sandbox_id
        self.source = source      # mtls | dev | jwt | k8s

    def __repr__(self):
        return "Principal(%s,%s,%s)" % (self.kind, self.subject, self.source)


# ---------------------------------------------------------------------------
# Validation helpers (Kubernetes labels, maps, exec)
# ---------------------------------------------------------------------------

def _alnum(c):
    return c.isalnum()


def validate_label_key(key):
    if not key:
        raise invalid("label key cannot be empty")
    if len(key) > 253:
        raise invalid("label key exceeds 253 characters: '%s'" % key)
    prefix, name = (key.split("/", 1) if "/" in key else (None, key))
    if not name:
        raise invalid("label key name segment cannot be empty: '%s'" % key)
    if len(name) > 63:
        raise invalid("label key name segment exceeds 63 characters: '%s'" % key)
    if not all(_alnum(c) or c in "-_." for c in name):
        raise invalid("label key name segment contains invalid characters (must be alphanumeric, "
                      "'-', '_', or '.'): '%s'" % key)
    if not _alnum(name[0]):
        raise invalid("label key name segment must start with alphanumeric character: '%s'" % key)
    if not _alnum(name[-1]):
        raise invalid("label key name segment must end with alphanumeric character: '%s'" % key)
    if prefix is not None:
        if not prefix:
            raise invalid("label key prefix cannot be empty when '/' is present: '%s'" % key)
        if not all(c.islower() or c.isdigit() or c in "-." for c in prefix) or not prefix.isascii():
            raise invalid("label key prefix must be a DNS subdomain (lowercase alphanumeric, '-', "
                          "'.'): '%s'" % key)
        if prefix[0] in "-." or prefix[-1] in "-.":
            raise invalid("label key prefix cannot start or end with '-' or '.': '%s'" % key)
        if ".." in prefix:
            raise invalid("label key prefix cannot contain consecutive dots: '%s'" % key)


def validate_label_value(value):
    if not value:
        return
    if len(value) > 63:
        raise invalid("label value exceeds 63 characters: '%s'" % value)
    if not all(_alnum(c) or c in "-_." for c in value):
        raise invalid("label value contains invalid characters (must be alphanumeric, '-', '_', "
                      "or '.'): '%s'" % value)
    if not _alnum(value[0]):
        raise invalid("label value must start with alphanumeric character: '%s'" % value)
    if not _alnum(value[-1]):
        raise invalid("label value must end with alphanumeric character: '%s'" % value)


def parse_label_selector(selector):
    pairs = []
    if not selector.strip():
        return pairs
    for pair in selector.split(","):
        pair = pair.strip()
        if not pair:
            continue
        if "=" not in pair:
            raise invalid("invalid label selector: expected 'key=value', got '%s'" % pair)
        k, v = pair.split("=", 1)
        k, v = k.strip(), v.strip()
        if not k:
            raise invalid("invalid label selector: key cannot be empty in '%s'" % pair)
        validate_label_key(k)
        validate_label_value(v)
        pairs.append((k, v))
    return pairs


def validate_string_map(m, max_entries, field):
    if len(m) > max_entries:
        raise invalid("%s exceeds maximum entries (%d > %d)" % (field, len(m), max_entries))
    for k, v in m.items():
        if len(k.encode()) > MAX_MAP_KEY_LEN:
            raise invalid("%s key exceeds maximum length (%d > %d)" % (field, len(k.encode()), MAX_MAP_KEY_LEN))
        if len(v.encode()) > MAX_MAP_VALUE_LEN:
            raise invalid("%s value exceeds maximum length (%d > %d)" % (field, len(v.encode()), MAX_MAP_VALUE_LEN))


def reject_control_chars(value, field):
    if "\0" in value:
        raise invalid("%s contains null bytes" % field)
    if "\n" in value or "\r" in value:
        raise invalid("%s contains newline or carriage return characters" % field)


def validate_exec_request(req):
    if not req.sandbox_id:
        raise invalid("sandbox_id is required")
    if len(req.command) == 0:
        raise invalid("command is required")
    if any(not ENV_KEY_RE.match(k) for k in req.environment):
        raise invalid("environment keys must match ^[A-Za-z_][A-Za-z0-9_]*$")
    if len(req.command) > MAX_EXEC_ARGS:
        raise invalid("command array exceeds %d argument limit" % MAX_EXEC_ARGS)
    for i, arg in enumerate(req.command):
        if len(arg.encode()) > MAX_EXEC_ARG_LEN:
            raise invalid("command argument %d exceeds %d byte limit" % (i, MAX_EXEC_ARG_LEN))
        reject_control_chars(arg, "command argument %d" % i)
    for k, v in req.environment.items():
        if len(v.encode()) > MAX_EXEC_ARG_LEN:
            raise invalid("environment value for '%s' exceeds %d byte limit" % (k, MAX_EXEC_ARG_LEN))
        reject_control_chars(v, "environment value for '%s'" % k)
    if req.workdir:
        if len(req.workdir.encode()) > MAX_EXEC_WORKDIR_LEN:
            raise invalid("workdir exceeds %d byte limit" % MAX_EXEC_WORKDIR_LEN)
        reject_control_chars(req.workdir, "workdir")
    total = sum(len(a.encode()) + 3 for a in req.command) + \
        sum(len(k) + len(v.encode()) + 4 for k, v in req.environment.items()) + len(req.workdir) + 8
    if total > MAX_COMMAND_STRING_LEN:
        raise invalid("command construction failed: assembled command string exceeds %d byte limit"
                      % MAX_COMMAND_STRING_LEN)


LEVELS = {"ERROR": 0, "WARN": 1, "INFO": 2, "OCSF": 2, "DEBUG": 3, "TRACE": 4}


def level_matches(level, min_level):
    if not min_level:
        return True
    return LEVELS.get(level.upper(), 5) <= LEVELS.get(min_level.upper(), 5)


def source_matches(source, sources):
    return (source or "gateway") in sources


# ---------------------------------------------------------------------------
# Built-in provider profiles (a small catalogue written for the simulator)
# ---------------------------------------------------------------------------

def builtin_profiles():
    def prof(pid, name, desc, cat, creds, endpoints, binaries, inference=False):
        p = P.os.ProviderProfile(id=pid, display_name=name, description=desc, category=cat,
                                 inference_capable=inference)
        for cname, envs, style, header in creds:
            c = p.credentials.add(name=cname, description=cname.replace("_", " "), required=True,
                                  auth_style=style, header_name=header)
            c.env_vars.extend(envs)
            p.discovery.credentials.append(cname)
        for host, proto, access in endpoints:
            p.endpoints.add(host=host, port=443, protocol=proto, access=access, enforcement="enforce")
        for b in binaries:
            p.binaries.add(path=b)
        return p

    return [
        prof("claude-code", "Claude Code", "Claude Code CLI", 3,
             [("api_key", ["ANTHROPIC_API_KEY", "CLAUDE_API_KEY"], "header", "x-api-key")],
             [("api.anthropic.com", "rest", "read-write")], ["/usr/bin/claude", "/usr/local/bin/claude"], True),
        prof("github", "GitHub", "GitHub API and Git operations", 4,
             [("api_token", ["GITHUB_TOKEN", "GH_TOKEN"], "bearer", "authorization")],
             [("api.github.com", "rest", "read-only"), ("github.com", "rest", "read-only")],
             ["/usr/bin/gh", "/usr/bin/git"]),
        prof("nvidia", "NVIDIA", "NVIDIA inference endpoints", 2,
             [("api_key", ["NVIDIA_API_KEY"], "bearer", "authorization")],
             [("integrate.api.nvidia.com", "rest", "read-write")], ["/usr/bin/curl"], True),
    ]


INFERENCE_PROFILES = {
    "openai": ("https://api.openai.com/v1", ["OPENAI_API_KEY"], ["OPENAI_BASE_URL"],
               ["openai_chat_completions", "openai_completions", "openai_responses", "model_discovery"]),
    "anthropic": ("https://api.anthropic.com/v1", ["ANTHROPIC_API_KEY"], ["ANTHROPIC_BASE_URL"],
                  ["anthropic_messages", "model_discovery"]),
    "nvidia": ("https://integrate.api.nvidia.com/v1", ["NVIDIA_API_KEY"], ["NVIDIA_BASE_URL"],
               ["openai_chat_completions", "openai_completions", "openai_responses", "model_discovery"]),
}
MINTABLE = {3: "oauth2_refresh_token", 4: "oauth2_client_credentials", 5: "google_service_account_jwt"}


# ---------------------------------------------------------------------------
# State records
# ---------------------------------------------------------------------------

class SandboxRec:
    def __init__(self):
        self.id = ""
        self.name = ""
        self.created_at_ms = 0
        self.labels = {}
        self.rv = 1
        self.spec = P.os.SandboxSpec()
        self.gpu = None                 # None or {"count": int|None}
        self.phase = PH_PROVISIONING
        self.ready_at = 0.0
        self.delete_at = None
        self.cpv = 0
        self.revisions = []             # dicts, oldest first
        self.settings = {}              # key -> {"kind", "value"}
        self.settings_revision = 0
        self.logs = []
        self.events = []
        self.log_seq = 0                # total log lines ever appended
        self.event_seq = 0
        self.status_seq = 0
        self.chunks = []                # dicts, creation order
        self.draft_version = 0
        self.draft_seq = 0
        self.last_draft = {}
        self.history = []
        self.token = ""
        self.token_exp = 0
        self.error_message = ""

    def to_json(self):
        d = dict(self.__dict__)
        d["spec"] = base64.b64encode(self.spec.SerializeToString()).decode()
        d["revisions"] = [revision_json(r) for r in self.revisions]
        d["chunks"] = [dict(c, proposed_rule=to_dict(c["proposed_rule"]) if c["proposed_rule"] is not None
                            else None) for c in self.chunks]
        d["logs"] = self.logs[-500:]
        d["events"] = self.events[-200:]
        return d

    @classmethod
    def from_json(cls, d):
        r = cls()
        for k, v in d.items():
            setattr(r, k, v)
        r.spec = P.os.SandboxSpec.FromString(base64.b64decode(d["spec"]))
        r.revisions = [dict(x, policy=from_dict(P.sb.SandboxPolicy, x["policy"])) for x in d["revisions"]]
        r.chunks = [dict(c, proposed_rule=from_dict(P.sb.NetworkPolicyRule, c["proposed_rule"])
                         if c["proposed_rule"] is not None else None) for c in d["chunks"]]
        return r


def revision_json(r):
    """A revision as saved in the state file. A stored revision's policy never changes, so its
    dict is made once: converting every revision on each save (5 times a second) made a sandbox
    with a few hundred revisions hold the lock for most of the time."""
    cached = r.get("_policy_json")
    if cached is None or cached[0] is not r["policy"]:
        cached = (r["policy"], to_dict(r["policy"]))
        r["_policy_json"] = cached
    d = {k: v for k, v in r.items() if k != "_policy_json"}
    d["policy"] = cached[1]
    return d


def revision_dict(version, policy, status="pending", load_delay=0.0):
    return {"version": version, "hash": pol.policy_hash(policy), "status": status, "load_error": "",
            "created_at_ms": now_ms(), "loaded_at_ms": now_ms() if status == "loaded" else 0,
            "policy": policy, "load_at": time.time() + load_delay}


def setting_to_proto(s):
    v = P.sb.SettingValue()
    if s is None:
        return v
    kind, val = s["kind"], s["value"]
    if kind == "bool":
        v.bool_value = bool(val)
    elif kind == "int":
        v.int_value = int(val)
    elif kind == "string":
        v.string_value = val
    elif kind == "bytes":
        v.bytes_value = bytes.fromhex(val)
    return v


class Rule:
    def __init__(self, rpc, code=None, seconds=0.0, count=1, message=""):
        self.rpc = rpc
        self.code = code
        self.seconds = seconds
        self.count = count            # <= 0: until /clear
        self.message = message

    def matches(self, name):
        return self.rpc in ("*", name)

    def as_dict(self):
        return {k: v for k, v in self.__dict__.items() if v not in (None, "")}


class CallCtx:
    """Per-call information handed to the RPC implementations."""

    def __init__(self, name, context, principal, metadata):
        self.name = name
        self.context = context
        self.principal = principal
        self.metadata = metadata

    def active(self):
        return self.context.is_active()


# ---------------------------------------------------------------------------
# The simulator
# ---------------------------------------------------------------------------

class Sim:
    def __init__(self, args):
        self.args = args
        self.B = Behaviour(args.version, args.behave_as)
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.ready_delay = args.ready_delay
        self.policy_load_delay = args.policy_load_delay
        self.delete_delay = args.delete_delay
        self.health_status = 1
        self.policy_load_fail = False
        self.seed_chunks = not args.no_seed_chunks
        self.ssh_override = {}
        self.listen_host = "127.0.0.1"
        self.listen_port = 0
        self.tls = False
        self.mtls = False
        # hooks / accounting
        self.hook_lock = threading.Lock()
        self.calls = {}
        self.last_requests = {}
        self.fail_rules = []
        self.delay_rules = []
        self.peers_all = set()
        self.peers_new = 0
        self.dirty = False
        self.stopping = threading.Event()
        # state
        self.sandboxes = {}             # name -> SandboxRec
        self.providers = {}             # name -> dict
        self.profiles = {}              # custom profiles: id -> ProviderProfile
        self.global_settings = {}       # key -> {"kind","value"}; "policy" holds hex bytes
        self.global_settings_revision = 0
        self.global_revisions = []
        self.routes = {}                # route name -> dict
        self.ssh_sessions = {}          # token -> dict
        self.services = {}              # "sandbox/service" -> dict
        self.jwt_key = os.urandom(32)
        if args.state_file and os.path.exists(args.state_file):
            self.load_state(args.state_file)
        self.issuer = TokenIssuer(self.jwt_key)

    # -- persistence -------------------------------------------------------

    def state_json(self):
        return {
            "format": 1,
            "jwt_key": self.jwt_key.hex(),
            "sandboxes": [s.to_json() for s in self.sandboxes.values()],
            "providers": list(self.providers.values()),
            "profiles": {k: to_dict(v) for k, v in self.profiles.items()},
            "global_settings": self.global_settings,
            "global_settings_revision": self.global_settings_revision,
            "global_revisions": [revision_json(r) for r in self.global_revisions],
            "routes": self.routes,
            "ssh_sessions": self.ssh_sessions,
            "services": self.services,
        }

    def save_state(self):
        path = self.args.state_file
        if not path:
            self.dirty = False
            return
        with self.lock:
            data = json.dumps(self.state_json(), separators=(",", ":"))
            self.dirty = False
        tmp = path + ".tmp%d" % os.getpid()
        with open(tmp, "w") as f:
            f.write(data)
        os.replace(tmp, path)

    def load_state(self, path):
        with open(path) as f:
            d = json.load(f)
        self.jwt_key = bytes.fromhex(d.get("jwt_key", os.urandom(32).hex()))
        for s in d.get("sandboxes", []):
            rec = SandboxRec.from_json(s)
            self.sandboxes[rec.name] = rec
        self.providers = {p["name"]: p for p in d.get("providers", [])}
        self.profiles = {k: from_dict(P.os.ProviderProfile, v) for k, v in d.get("profiles", {}).items()}
        self.global_settings = d.get("global_settings", {})
        self.global_settings_revision = d.get("global_settings_revision", 0)
        self.global_revisions = [dict(r, policy=from_dict(P.sb.SandboxPolicy, r["policy"]))
                                 for r in d.get("global_revisions", [])]
        self.routes = d.get("routes", {})
        self.ssh_sessions = d.get("ssh_sessions", {})
        self.services = d.get("services", {})

    def mark(self):
        self.dirty = True
        with self.cond:
            self.cond.notify_all()

    # -- background ticker ---------------------------------------------------

    def ticker(self):
        last_save = time.time()
        while not self.stopping.wait(0.05):
            try:
                with self.lock:
                    self.tick()
                if self.dirty and time.time() - last_save > 0.2:
                    self.save_state()
                    last_save = time.time()
            except Exception:  # keep ticking whatever happens
                traceback.print_exc()

    def tick(self):
        now = time.time()
        for sb in list(self.sandboxes.values()):
            if sb.phase == PH_PROVISIONING and now >= sb.ready_at:
                self.become_ready(sb)
            if sb.phase == PH_DELETING and sb.delete_at is not None and now >= sb.delete_at:
                self.remove_sandbox(sb)
                continue
            for rev in sb.revisions:
                if rev["status"] == "pending" and now >= rev["load_at"] and sb.phase == PH_READY:
                    self.finish_policy_load(sb, rev)

    # -- logs and events ------------------------------------------------------

    def add_log(self, sb, level, message, source="gateway", target=None, fields=None):
        sb.logs.append({"timestamp_ms": now_ms(), "level": level, "message": message,
                        "source": source,
                        "target": target or ("openshell_server" if source == "gateway" else "openshell_sandbox"),
                        "fields": {k: str(v) for k, v in (fields or {}).items()}})
        sb.log_seq += 1
        if len(sb.logs) > LOG_BUFFER:
            del sb.logs[:len(sb.logs) - LOG_BUFFER]
        self.mark()

    def add_event(self, sb, type_, reason, message, source="docker"):
        sb.events.append({"timestamp_ms": now_ms(), "source": source, "type": type_, "reason": reason,
                          "message": message, "metadata": {"sandbox": sb.name}})
        sb.event_seq += 1
        if len(sb.events) > 500:
            del sb.events[:len(sb.events) - 500]
        self.mark()

    def touch(self, sb, bump_rv=True):
        if bump_rv:
            sb.rv += 1
        sb.status_seq += 1
        self.mark()

    # -- lifecycle ----------------------------------------------------------

    def become_ready(self, sb):
        env = dict(sb.spec.environment)
        if env.get("GATEWAY_SIM_FAIL") == "provision":
            sb.phase = PH_ERROR
            sb.error_message = "simulated provisioning failure (GATEWAY_SIM_FAIL=provision)"
            self.add_event(sb, "Warning", "Failed", sb.error_message)
            self.add_log(sb, "ERROR", "sandbox provisioning failed", fields={"sandbox_name": sb.name})
            self.touch(sb)
            return
        sb.phase = PH_READY
        self.add_event(sb, "Normal", "Pulled", "Successfully pulled image %s" % sb.spec.template.image)
        self.add_event(sb, "Normal", "Started", "Started sandbox container")
        self.add_log(sb, "INFO", "supervisor session established", fields={"sandbox_id": sb.id})
        self.add_log(sb, "INFO", "openshell-sandbox supervisor starting", source="sandbox")
        self.add_log(sb, "DEBUG", "landlock ruleset applied", source="sandbox",
                     fields={"compatibility": "best_effort"})
        self.ensure_policy_backfill(sb, backfill_spec=True)
        sb.cpv = max(sb.cpv, 1)
        self.add_log(sb, "INFO", "loaded policy from gateway", source="sandbox",
                     fields={"version": sb.cpv})
        self.add_log(sb, "INFO", "SSH server listening on 0.0.0.0:2222", source="sandbox")
        self.add_log(sb, "WARN", "network connection denied by policy", source="sandbox",
                     target="openshell_sandbox::proxy",
                     fields={"dst_host": "registry.npmjs.org", "dst_port": 443, "binary": "/usr/bin/npm",
                             "action": "deny"})
        if self.seed_chunks and env.get("GATEWAY_SIM_SEED_CHUNKS", "1") != "0":
            self.seed_default_chunks(sb)
        self.touch(sb)

    def remove_sandbox(self, sb):
        self.sandboxes.pop(sb.name, None)
        for tok, s in list(self.ssh_sessions.items()):
            if s["sandbox_id"] == sb.id:
                del self.ssh_sessions[tok]
        for key, s in list(self.services.items()):
            if s["sandbox_id"] == sb.id:
                del self.services[key]
        sb.status_seq += 1
        self.mark()

    def ensure_policy_backfill(self, sb, backfill_spec=False):
        """Revision 1 from spec.policy (what GetSandboxConfig backfills); when
        the sandbox was created without a policy, the supervisor reports its
        image default policy, which is backfilled into spec.policy."""
        if sb.revisions:
            return
        if not sb.spec.HasField("policy"):
            if not backfill_spec:
                return
            sb.spec.policy.CopyFrom(pol.default_image_policy(P.sb))
        policy = P.sb.SandboxPolicy()
        policy.CopyFrom(sb.spec.policy)
        sb.revisions.append(revision_dict(1, policy, status="loaded"))
        self.mark()

    def finish_policy_load(self, sb, rev):
        if self.policy_load_fail:
            rev["status"] = "failed"
            rev["load_error"] = "simulated policy load failure"
            self.add_log(sb, "ERROR", "failed to load policy version %d" % rev["version"], source="sandbox",
                         fields={"version": rev["version"], "error": rev["load_error"]})
            self.touch(sb, bump_rv=False)
            return
        rev["status"] = "loaded"
        rev["loaded_at_ms"] = now_ms()
        sb.cpv = rev["version"]
        self.add_log(sb, "INFO", "policy reloaded", source="sandbox",
                     fields={"version": rev["version"], "policy_hash": rev["hash"][:12]})
        self.touch(sb)

    # -- lookups -------------------------------------------------------------

    def sandbox_by_name(self, name, field="name"):
        if not name:
            raise invalid("%s is required" % field)
        sb = self.sandboxes.get(name)
        if sb is None:
            raise err("NOT_FOUND", "sandbox not found")
        return sb

    def sandbox_by_id(self, sid):
        for sb in self.sandboxes.values():
            if sb.id == sid:
                return sb
        return None

    def require_sandbox_id(self, sid, field="sandbox_id"):
        if not sid:
            raise invalid("%s is required" % field)
        sb = self.sandbox_by_id(sid)
        if sb is None:
            raise err("NOT_FOUND", "sandbox not found")
        return sb

    def ensure_scope(self, call, sandbox_id):
        p = call.principal
        if p is None:
            raise err("UNAUTHENTICATED", "missing principal")
        if p.kind == "sandbox" and p.sandbox_id != sandbox_id:
            raise err("PERMISSION_DENIED", "cross-sandbox access denied: principal does not own this sandbox")

    def sandbox_for_principal(self, call, name):
        p = call.principal
        sb = self.sandboxes.get(name)
        if p is not None and p.kind == "sandbox":
            if sb is None or sb.id != p.sandbox_id:
                raise err("PERMISSION_DENIED", "sandbox not found or not owned by caller")
            return sb
        if sb is None:
            raise err("NOT_FOUND", "sandbox not found")
        return sb

    def latest_revision(self, sb):
        return sb.revisions[-1] if sb.revisions else None

    def global_policy(self):
        s = self.global_settings.get("policy")
        if not s:
            return None
        return P.sb.SandboxPolicy.FromString(bytes.fromhex(s["value"]))

    # -- rendering -----------------------------------------------------------

    def render_spec(self, sb):
        B = self.B
        spec = P.os.SandboxSpec()
        spec.CopyFrom(sb.spec)
        if not B.has_gpu_device:
            spec.ClearField("gpu_device")
        if not B.ge(111):
            spec.ClearField("command")
            spec.ClearField("tty")
        if spec.HasField("template"):
            if B.ge(74):
                spec.template.ClearField("volume_claim_templates")
            if not B.ge(58):
                spec.template.ClearField("driver_config")
        if sb.gpu is not None:
            if B.spec9_message:
                rr = P.os.ResourceRequirements()
                rr.gpu.SetInParent()
                if sb.gpu.get("count") is not None:
                    rr.gpu.count = sb.gpu["count"]
                body = rr.SerializeToString()
                spec.MergeFromString(bytes([0x4A]) + _varint(len(body)) + body)
            else:
                spec.MergeFromString(bytes([0x48, 0x01]))
        return spec

    def render_sandbox(self, sb):
        s = P.os.Sandbox()
        m = s.metadata
        m.id = sb.id
        m.name = sb.name
        m.created_at_ms = sb.created_at_ms
        m.labels.update(sb.labels)
        m.resource_version = sb.rv
        s.spec.CopyFrom(self.render_spec(sb))
        st = s.status
        st.sandbox_name = "openshell-" + sb.name
        st.agent_pod = "openshell-" + sb.name
        cond = st.conditions.add(type="Ready", last_transition_time=time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(sb.created_at_ms / 1000)))
        if sb.phase == PH_READY:
            cond.status, cond.reason, cond.message = "True", "SandboxReady", "sandbox is ready"
        elif sb.phase == PH_ERROR:
            cond.status, cond.reason, cond.message = "False", "ProvisioningFailed", sb.error_message
        elif sb.phase == PH_DELETING:
            cond.status, cond.reason, cond.message = "False", "Deleting", "sandbox is being deleted"
        else:
            cond.status, cond.reason, cond.message = "False", "Provisioning", "sandbox is starting"
        if self.B.status_layout:
            st.phase = sb.phase
            st.current_policy_version = sb.cpv
        else:
            s.phase = sb.phase
            s.current_policy_version = sb.cpv
        return s

    def render_provider(self, p, redact=True):
        out = P.dm.Provider(type=p["type"])
        out.metadata.id = p["id"]
        out.metadata.name = p["name"]
        out.metadata.created_at_ms = p["created_at_ms"]
        out.metadata.labels.update(p.get("labels", {}))
        out.metadata.resource_version = p["rv"]
        out.credentials.update({k: ("REDACTED" if redact else v) for k, v in p["credentials"].items()})
        out.config.update(p["config"])
        out.credential_expires_at_ms.update({k: int(v) for k, v in p["expires"].items()})
        return out

    def render_revision(self, rev, include_policy):
        r = P.os.SandboxPolicyRevision(version=rev["version"], policy_hash=rev["hash"],
                                       status=POLICY_STATUS.get(rev["status"], 0),
                                       load_error=rev["load_error"], created_at_ms=rev["created_at_ms"],
                                       loaded_at_ms=rev["loaded_at_ms"])
        if include_policy:
            r.policy.CopyFrom(rev["policy"])
        return r

    def render_chunk(self, c):
        ch = P.os.PolicyChunk(id=c["id"], status=c["status"], rule_name=c["rule_name"],
                              rationale=c["rationale"], security_notes=c["security_notes"],
                              confidence=c["confidence"], created_at_ms=c["created_at_ms"],
                              decided_at_ms=c["decided_at_ms"], stage=c["stage"],
                              supersedes_chunk_id=c["supersedes_chunk_id"], hit_count=c["hit_count"],
                              first_seen_ms=c["first_seen_ms"], last_seen_ms=c["last_seen_ms"],
                              binary=c["binary"], validation_result=c["validation_result"],
                              rejection_reason=c["rejection_reason"])
        ch.denial_summary_ids.extend(c["denial_summary_ids"])
        if c["proposed_rule"] is not None:
            ch.proposed_rule.CopyFrom(c["proposed_rule"])
        return ch

    # -- settings ----------------------------------------------------------

    def registered_settings(self):
        reg = {"providers_v2_enabled": "bool", "ocsf_json_enabled": "bool",
               "agent_policy_proposals_enabled": "bool"}
        if self.B.ge(53):
            reg["proposal_approval_mode"] = "string"
        if self.args.dev_settings:
            reg["dummy_int"] = "int"
            reg["dummy_bool"] = "bool"
        return reg

    def validate_setting_key(self, key):
        reg = self.registered_settings()
        if key not in reg:
            raise invalid("unknown setting key '%s'. Allowed keys: %s" % (key, ", ".join(reg)))
        return reg[key]

    def proto_setting_to_stored(self, key, value):
        kind = self.validate_setting_key(key)
        which = value.WhichOneof("value")
        if which is None:
            raise invalid("setting_value.value is required")
        if which == "bytes_value":
            raise invalid("setting '%s' expects %s value; bytes are not supported for this key" % (key, kind))
        if which != {"bool": "bool_value", "int": "int_value", "string": "string_value"}[kind]:
            raise invalid("setting '%s' expects %s value" % (key, kind))
        val = getattr(value, which)
        if key == "proposal_approval_mode" and val not in ("manual", "auto"):
            raise invalid("setting '%s' must be one of: manual, auto" % key)
        return {"kind": kind, "value": val}

    # -- draft chunks ------------------------------------------------------

    def new_chunk(self, sb, rule_name, rule, rationale="", confidence=0.0, hit_count=1,
                  first_seen_ms=0, last_seen_ms=0, stage="initial", denial_ids=None,
                  status="pending", security_notes=None):
        host, port = "", 0
        if len(rule.endpoints):
            host = rule.endpoints[0].host.lower()
            port = rule.endpoints[0].port or (rule.endpoints[0].ports[0] if len(rule.endpoints[0].ports) else 0)
        binary = rule.binaries[0].path if len(rule.binaries) else ""
        t = now_ms()
        c = {"id": str(uuid.uuid4()), "status": status, "rule_name": rule_name, "proposed_rule": rule,
             "rationale": rationale,
             "security_notes": pol.security_notes(host, port) if security_notes is None else security_notes,
             "confidence": max(0.0, min(1.0, float(confidence))), "denial_summary_ids": list(denial_ids or []),
             "created_at_ms": t, "decided_at_ms": 0, "stage": stage, "supersedes_chunk_id": "",
             "hit_count": max(1, min(100, int(hit_count or 1))),
             "first_seen_ms": first_seen_ms or t, "last_seen_ms": last_seen_ms or t, "binary": binary,
             "validation_result": "", "rejection_reason": "", "host": host, "port": port}
        sb.chunks.append(c)
        sb.history.append({"timestamp_ms": t, "event_type": "proposed",
                           "description": "Rule '%s' proposed (confidence: %d%%)" % (rule_name, round(c["confidence"] * 100)),
                           "chunk_id": c["id"]})
        return c

    def draft_updated(self, sb, new_chunks, summary):
        sb.draft_version += 1
        sb.draft_seq += 1
        sb.last_draft = {"draft_version": sb.draft_version, "new_chunks": new_chunks,
                         "total_pending": sum(1 for c in sb.chunks if c["status"] == "pending"),
                         "summary": summary}
        self.mark()

    def seed_default_chunks(self, sb, specs=None):
        if specs is None:
            specs = [
                ("allow_api_github_com_443", "api.github.com", 443, "rest", "read-only", "/usr/bin/git",
                 "git fetch to api.github.com:443 was denied 4 times", 0.92, 4),
                ("allow_registry_npmjs_org_443", "registry.npmjs.org", 443, "rest", "read-only", "/usr/bin/npm",
                 "npm install contacted registry.npmjs.org:443", 0.85, 7),
                ("allow_10_0_0_5_5432", "10.0.0.5", 5432, "", "", "/usr/bin/psql",
                 "psql connected to an internal database host", 0.40, 2),
            ]
        made = []
        for rule_name, host, port, proto, access, binary, why, conf, hits in specs:
            rule = P.sb.NetworkPolicyRule(name=rule_name)
            ep = rule.endpoints.add(host=host, port=port, protocol=proto, access=access,
                                    enforcement="enforce" if proto else "")
            ep.ports.append(port)
            rule.binaries.add(path=binary)
            made.append(self.new_chunk(sb, rule_name, rule, rationale=why, confidence=conf, hit_count=hits,
                                       denial_ids=[str(uuid.uuid4())]))
        sb.history.append({"timestamp_ms": now_ms(), "event_type": "analysis_cycle",
                           "description": "analysis cycle proposed %d chunk(s)" % len(made), "chunk_id": ""})
        self.draft_updated(sb, len(made), "%d new proposal(s)" % len(made))
        return made

    # -- policy revisions ----------------------------------------------------

    def store_revision(self, sb, policy):
        """Persist a new sandbox revision (pending) unless the hash is unchanged.
        Returns (version, hash)."""
        latest = self.latest_revision(sb)
        h = pol.policy_hash(policy)
        if latest is not None and latest["hash"] == h:
            return latest["version"], h
        version = latest["version"] + 1 if latest else 1
        for r in sb.revisions:
            if r["status"] in ("pending", "loaded"):
                r["status"] = "superseded"
        stored = P.sb.SandboxPolicy()
        stored.CopyFrom(policy)
        sb.revisions.append(revision_dict(version, stored, "pending", self.policy_load_delay))
        self.add_log(sb, "INFO", "new policy revision stored", fields={"version": version, "policy_hash": h[:12]})
        self.touch(sb, bump_rv=False)
        return version, h

    def merge_into_sandbox(self, sb, parsed_ops, baseline=None):
        latest = self.latest_revision(sb)
        if latest is not None:
            current = latest["policy"]
        elif baseline is not None:
            current = baseline
        else:
            current = P.sb.SandboxPolicy()
        merged, changed = pol.apply_merge_operations(P.sb, current, parsed_ops)
        h = pol.policy_hash(merged)
        if baseline is not None:
            pol.validate_static_fields_unchanged(baseline, merged)
        pol.validate_policy_safety(merged)
        if latest is not None and latest["hash"] == h:
            return latest["version"], h
        if latest is None and not changed:
            return 0, h
        return self.store_revision(sb, merged)

    def require_no_global_policy(self):
        if "policy" in self.global_settings:
            raise precondition("cannot approve rules while a global policy is active; delete the "
                               "global policy to manage per-sandbox rules")

    def find_chunk(self, sb, chunk_id):
        for c in sb.chunks:
            if c["id"] == chunk_id:
                return c
        for other in self.sandboxes.values():
            if other is not sb and any(c["id"] == chunk_id for c in other.chunks):
                break
        raise err("NOT_FOUND", "chunk not found")

    # =======================================================================
    # RPCs: openshell.v1.OpenShell
    # =======================================================================

    def Health(self, req, call):
        return P.os.HealthResponse(status=self.health_status, version=self.B.reported)

    # -- sandboxes -----------------------------------------------------------

    def _spec_field9(self, spec):
        """Returns the gpu request from SandboxSpec field 9 or raises the
        decode error prost would report for the wrong wire type."""
        gpu = None
        for fn, wt, val in wire_fields(spec.SerializeToString()):
            if fn != 9:
                continue
            if self.B.spec9_message:
                if wt != 2:
                    raise err("INTERNAL", "failed to decode Protobuf message: SandboxSpec.resource_requirements: "
                                          "invalid wire type: Varint (expected LengthDelimited): "
                                          "CreateSandboxRequest.spec")
                rr = P.os.ResourceRequirements.FromString(val)
                if rr.HasField("gpu"):
                    gpu = {"count": rr.gpu.count if rr.gpu.HasField("count") else None}
                else:
                    gpu = None
            else:
                if wt != 0:
                    raise err("INTERNAL", "failed to decode Protobuf message: SandboxSpec.gpu: invalid wire "
                                          "type: LengthDelimited (expected Varint): CreateSandboxRequest.spec")
                gpu = {"count": None} if val else None
        return gpu

    def _validate_spec(self, name, spec):
        if len(name.encode()) > MAX_NAME_LEN:
            raise invalid("name exceeds maximum length (%d > %d)" % (len(name.encode()), MAX_NAME_LEN))
        if name and (re.search(r"[\x00-\x1f\x7f/\\\s]", name)):
            raise invalid("sandbox name '%s' contains characters the compute driver cannot use"
                          % name.encode("unicode_escape").decode())
        if len(spec.providers) > MAX_PROVIDERS:
            raise invalid("providers list exceeds maximum (%d > %d)" % (len(spec.providers), MAX_PROVIDERS))
        if len(spec.log_level) > MAX_LOG_LEVEL_LEN:
            raise invalid("log_level exceeds maximum length (%d > %d)" % (len(spec.log_level), MAX_LOG_LEVEL_LEN))
        validate_string_map(spec.environment, MAX_ENV_ENTRIES, "spec.environment")
        if spec.HasField("template"):
            t = spec.template
            for field in ("image", "runtime_class_name", "agent_socket"):
                v = getattr(t, field)
                if len(v.encode()) > MAX_TEMPLATE_STRING_LEN:
                    raise invalid("template.%s exceeds maximum length (%d > %d)"
                                  % (field, len(v.encode()), MAX_TEMPLATE_STRING_LEN))
            for field in ("labels", "annotations", "environment"):
                validate_string_map(getattr(t, field), MAX_TEMPLATE_MAP_ENTRIES, "template." + field)
            for field in ("resources", "volume_claim_templates"):
                if t.HasField(field):
                    size = getattr(t, field).ByteSize()
                    if size > MAX_TEMPLATE_STRUCT_SIZE:
                        raise invalid("template.%s serialized size exceeds maximum (%d > %d)"
                                      % (field, size, MAX_TEMPLATE_STRUCT_SIZE))
        if spec.HasField("policy"):
            size = spec.policy.ByteSize()
            if size > MAX_POLICY_SIZE:
                raise invalid("policy serialized size exceeds maximum (%d > %d)" % (size, MAX_POLICY_SIZE))

    def _provider_env_keys_unique(self, names, candidate=None):
        seen = {}
        t = now_ms()
        for name in names:
            p = candidate if candidate is not None and candidate["name"] == name else self.providers.get(name)
            if p is None:
                raise precondition("provider '%s' not found" % name)
            for key in p["credentials"]:
                if not ENV_KEY_RE.match(key):
                    continue
                exp = int(p["expires"].get(key, 0))
                if 0 < exp <= t:
                    continue
                first = seen.get(key)
                if first is not None and first != name:
                    raise precondition("credential env key '%s' is provided by both provider '%s' and provider "
                                       "'%s'; use provider-specific env names" % (key, first, name))
                seen.setdefault(key, name)

    def _petname(self):
        rnd = random.Random()
        for _ in range(1000):
            name = "%s-%s" % (rnd.choice(ADJECTIVES), rnd.choice(NOUNS))
            if name not in self.sandboxes:
                return name
        return "sandbox-" + uuid.uuid4().hex[:8]

    def CreateSandbox(self, req, call):
        if not req.HasField("spec"):
            raise invalid("spec is required")
        gpu = self._spec_field9(req.spec)
        spec = strip_field(P.os.SandboxSpec, req.spec.SerializeToString(), 9)
        if not self.B.has_gpu_device:
            spec.ClearField("gpu_device")
        if not self.B.ge(111):
            spec.ClearField("command")
            spec.ClearField("tty")
        if spec.HasField("template"):
            if self.B.ge(74):
                spec.template.ClearField("volume_claim_templates")
            if not self.B.ge(58):
                spec.template.ClearField("driver_config")
        self._validate_spec(req.name, spec)
        for k, v in req.labels.items():
            validate_label_key(k)
            validate_label_value(v)
        with self.lock:
            for pname in spec.providers:
                if pname not in self.providers:
                    raise precondition("provider '%s' not found" % pname)
            self._provider_env_keys_unique(list(spec.providers))
            if not spec.template.image:
                spec.template.image = DEFAULT_IMAGE
            if spec.HasField("policy"):
                pol.ensure_process_identity(spec.policy)
                pol.validate_policy_safety(spec.policy)
            name = req.name or self._petname()
            if name in self.sandboxes:
                raise err("ALREADY_EXISTS", "sandbox '%s' already exists" % name)
            sb = SandboxRec()
            sb.id = str(uuid.uuid4())
            sb.name = name
            sb.created_at_ms = now_ms()
            sb.labels = dict(req.labels)
            sb.spec = spec
            sb.gpu = gpu
            delay = self.ready_delay
            try:
                delay = float(spec.environment.get("GATEWAY_SIM_READY_DELAY", delay))
            except ValueError:
                pass
            sb.ready_at = time.time() + delay
            sb.token, sb.token_exp = self.issuer.mint(sb.id)
            self.sandboxes[name] = sb
            self.add_event(sb, "Normal", "Scheduled", "Sandbox %s scheduled" % name)
            self.add_event(sb, "Normal", "Pulling", "Pulling image %s" % spec.template.image)
            self.add_log(sb, "INFO", "minted sandbox JWT", fields={"sandbox_id": sb.id})
            self.add_log(sb, "INFO", "CreateSandbox request completed successfully",
                         fields={"sandbox_id": sb.id, "sandbox_name": name})
            self.touch(sb, bump_rv=False)
            return P.os.SandboxResponse(sandbox=self.render_sandbox(sb))

    def GetSandbox(self, req, call):
        with self.lock:
            sb = self.sandbox_by_name(req.name)
            return P.os.SandboxResponse(sandbox=self.render_sandbox(sb))

    def ListSandboxes(self, req, call):
        limit = clamp_limit(req.limit, 100)
        selector = parse_label_selector(req.label_selector) if req.label_selector else []
        with self.lock:
            items = sorted(self.sandboxes.values(), key=lambda s: (s.created_at_ms, s.name))
            items = [s for s in items if all(s.labels.get(k) == v for k, v in selector)]
            page = items[req.offset:req.offset + limit]
            return P.os.ListSandboxesResponse(sandboxes=[self.render_sandbox(s) for s in page])

    def ListSandboxProviders(self, req, call):
        with self.lock:
            sb = self.sandbox_by_name(req.sandbox_name, "sandbox_name")
            out = []
            for pname in sb.spec.providers:
                p = self.providers.get(pname)
                if p is None:
                    raise precondition("provider '%s' not found" % pname)
                out.append(self.render_provider(p))
            return P.os.ListSandboxProvidersResponse(providers=out)

    def _cas(self, sb, expected, operation):
        if expected and expected != sb.rv:
            raise err("ABORTED", "%s failed due to concurrent modification (current resource_version: %d)"
                      % (operation, sb.rv))

    def AttachSandboxProvider(self, req, call):
        if not req.provider_name:
            raise invalid("provider_name is required")
        if len(req.provider_name.encode()) > MAX_NAME_LEN:
            raise invalid("provider_name exceeds maximum length (%d > %d)" % (len(req.provider_name.encode()), MAX_NAME_LEN))
        with self.lock:
            if req.provider_name not in self.providers:
                raise precondition("provider '%s' not found" % req.provider_name)
            sb = self.sandbox_by_name(req.sandbox_name, "sandbox_name")
            names = list(dict.fromkeys(sb.spec.providers))
            if len(names) >= MAX_PROVIDERS and req.provider_name not in names:
                raise invalid("providers list exceeds maximum (%d)" % MAX_PROVIDERS)
            candidate = names + ([req.provider_name] if req.provider_name not in names else [])
            self._provider_env_keys_unique(candidate)
            self._cas(sb, req.expected_resource_version, "attach sandbox provider")
            attached = req.provider_name not in names
            del sb.spec.providers[:]
            sb.spec.providers.extend(candidate)
            if attached:
                self.add_log(sb, "INFO", "AttachSandboxProvider request completed successfully",
                             fields={"provider_name": req.provider_name})
            self.touch(sb)
            return P.os.AttachSandboxProviderResponse(sandbox=self.render_sandbox(sb), attached=attached)

    def DetachSandboxProvider(self, req, call):
        if not req.provider_name:
            raise invalid("provider_name is required")
        if len(req.provider_name.encode()) > MAX_NAME_LEN:
            raise invalid("provider_name exceeds maximum length (%d > %d)" % (len(req.provider_name.encode()), MAX_NAME_LEN))
        with self.lock:
            sb = self.sandbox_by_name(req.sandbox_name, "sandbox_name")
            self._cas(sb, req.expected_resource_version, "detach sandbox provider")
            names = list(dict.fromkeys(sb.spec.providers))
            detached = req.provider_name in names
            del sb.spec.providers[:]
            sb.spec.providers.extend([n for n in names if n != req.provider_name])
            self.touch(sb)
            return P.os.DetachSandboxProviderResponse(sandbox=self.render_sandbox(sb), detached=detached)

    def DeleteSandbox(self, req, call):
        if not req.name:
            raise invalid("name is required")
        with self.lock:
            sb = self.sandboxes.get(req.name)
            if sb is None:
                raise err("NOT_FOUND", "sandbox not found")
            if sb.phase != PH_DELETING:
                sb.phase = PH_DELETING
                sb.delete_at = time.time() + self.delete_delay
                self.add_event(sb, "Normal", "Killing", "Stopping sandbox container")
                self.add_log(sb, "INFO", "DeleteSandbox request completed successfully",
                             fields={"sandbox_name": sb.name})
                self.touch(sb)
                if self.delete_delay <= 0:
                    self.remove_sandbox(sb)
            return P.os.DeleteSandboxResponse(deleted=True)

    # -- SSH sessions and services ---------------------------------------------

    def CreateSshSession(self, req, call):
        if not req.sandbox_id:
            raise invalid("sandbox_id is required")
        with self.lock:
            sb = self.require_sandbox_id(req.sandbox_id)
            if sb.phase != PH_READY:
                raise precondition("sandbox is not ready")
            token = str(uuid.uuid4())
            expires = now_ms() + SSH_TTL_MS
            self.ssh_sessions[token] = {"sandbox_id": sb.id, "token": token, "expires_at_ms": expires,
                                        "revoked": False, "created_at_ms": now_ms()}
            self.add_log(sb, "INFO", "SSH session created", fields={"sandbox_id": sb.id})
            resp = P.os.CreateSshSessionResponse(
                sandbox_id=sb.id, token=token, gateway_host=self.listen_host, gateway_port=self.listen_port,
                gateway_scheme="https" if self.tls else "http", host_key_fingerprint="",
                expires_at_ms=expires)
            for k, v in self.ssh_override.items():
                setattr(resp, k, v)
            self.mark()
            return resp

    def RevokeSshSession(self, req, call):
        if not req.token:
            raise invalid("token is required")
        with self.lock:
            s = self.ssh_sessions.get(req.token)
            if s is None:
                return P.os.RevokeSshSessionResponse(revoked=False)
            s["revoked"] = True
            self.mark()
            return P.os.RevokeSshSessionResponse(revoked=True)

    def _service_resp(self, s):
        ep = P.os.ServiceEndpoint(sandbox_id=s["sandbox_id"], sandbox_name=s["sandbox_name"],
                                  service_name=s["service_name"], target_port=s["target_port"],
                                  domain=s["domain"])
        ep.metadata.id = s["id"]
        ep.metadata.name = s["name"]
        ep.metadata.created_at_ms = s["created_at_ms"]
        ep.metadata.resource_version = 1
        scheme = "https" if self.tls else "http"
        host = "%s--%s" % (s["service_name"], s["sandbox_name"]) if s["service_name"] else s["sandbox_name"]
        url = "%s://%s.openshell.localhost:%d/" % (scheme, host, self.listen_port)
        return P.os.ServiceEndpointResponse(endpoint=ep, url=url)

    def ExposeService(self, req, call):
        if not req.sandbox:
            raise invalid("sandbox is required")
        if not 1 <= req.target_port <= 65535:
            raise invalid("target_port must be between 1 and 65535")
        if req.service and not KEBAB_RE.match(req.service):
            raise invalid("service name must be lowercase alphanumeric with '-'")
        with self.lock:
            sb = self.sandbox_by_name(req.sandbox, "sandbox")
            key = "%s/%s" % (sb.name, req.service)
            s = self.services.get(key) or {"id": str(uuid.uuid4()), "created_at_ms": now_ms()}
            s.update({"name": key.replace("/", "--").rstrip("-"), "sandbox_id": sb.id, "sandbox_name": sb.name,
                      "service_name": req.service, "target_port": req.target_port, "domain": req.domain})
            self.services[key] = s
            self.mark()
            return self._service_resp(s)

    def GetService(self, req, call):
        if not req.sandbox:
            raise invalid("sandbox is required")
        with self.lock:
            s = self.services.get("%s/%s" % (req.sandbox, req.service))
            if s is None:
                raise err("NOT_FOUND", "service not found")
            return self._service_resp(s)

    def ListServices(self, req, call):
        limit = clamp_limit(req.limit, 100)
        with self.lock:
            items = sorted((s for s in self.services.values() if not req.sandbox or s["sandbox_name"] == req.sandbox),
                           key=lambda s: (s["created_at_ms"], s["name"]))
            return P.os.ListServicesResponse(services=[self._service_resp(s) for s in items[req.offset:req.offset + limit]])

    def DeleteService(self, req, call):
        if not req.sandbox:
            raise invalid("sandbox is required")
        with self.lock:
            deleted = self.services.pop("%s/%s" % (req.sandbox, req.service), None) is not None
            self.mark()
            return P.os.DeleteServiceResponse(deleted=deleted)

    # -- exec ------------------------------------------------------------------

    def _exec_env(self, sb, cwd, tty):
        env = {"HOME": "/sandbox", "USER": "sandbox", "LOGNAME": "sandbox", "SHELL": "/bin/sh",
               "PATH": "/usr/local/bin:/usr/bin:/bin", "HOSTNAME": sb.name, "PWD": cwd,
               "OPENSHELL_SANDBOX_ID": sb.id, "OPENSHELL_SANDBOX_NAME": sb.name}
        if tty:
            env["TERM"] = "xterm-256color"
        env.update(sb.spec.template.environment)
        env.update(sb.spec.environment)
        return env

    def _run_exec(self, req, sb_id, sb_name, env, call, stdin):
        cwd = req.workdir or "/sandbox"
        if not cwd.startswith("/"):
            cwd = "/sandbox/" + cwd
        env["PWD"] = cwd
        deadline = time.monotonic() + req.timeout_seconds if req.timeout_seconds else None
        ctx = sim_shell.ExecContext(env, cwd, sb_name, stdin=stdin, deadline=deadline,
                                    cancelled=lambda: not call.active() or self.stopping.is_set())
        gen = sim_shell.run(list(req.command), ctx, dict(req.environment))

        def event(kind, data):
            ev = P.os.ExecSandboxEvent()
            if req.tty:
                data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
                ev.stdout.data = data
            elif kind == "stdout":
                ev.stdout.data = data
            else:
                ev.stderr.data = data
            return ev

        code = None
        try:
            while True:
                try:
                    kind, data = next(gen)
                except StopIteration as stop:
                    code = stop.value
                    break
                yield event(kind, data)
        except sim_shell.ExecTimeout:
            code = 124
        except sim_shell.ExecCancelled:
            if self.stopping.is_set():
                raise err("UNAVAILABLE", "gateway is shutting down")
            return
        yield P.os.ExecSandboxEvent(exit=P.os.ExecSandboxExit(exit_code=code if code is not None else 1))
        with self.lock:
            sb = self.sandbox_by_id(sb_id)
            if sb is not None:
                self.add_log(sb, "INFO", "ExecSandbox command finished", fields={"exit_code": code})

    def _exec_prepare(self, req, call):
        validate_exec_request(req)
        with self.lock:
            sb = self.require_sandbox_id(req.sandbox_id)
            if sb.phase != PH_READY:
                raise precondition("sandbox is not ready")
            self.add_log(sb, "INFO", "ExecSandbox (relay): command started",
                         fields={"command_len": sum(len(a) for a in req.command), "tty": req.tty})
            return sb.id, sb.name, self._exec_env(sb, req.workdir or "/sandbox", req.tty)

    def ExecSandbox(self, req, call):
        sb_id, sb_name, env = self._exec_prepare(req, call)
        return self._run_exec(req, sb_id, sb_name, env, call, sim_shell.BytesStdin(req.stdin))

    def ExecSandboxInteractive(self, req_iter, call):
        try:
            first = next(req_iter)
        except StopIteration:
            raise invalid("empty stream: expected start message")
        call.record(first)
        if first.WhichOneof("payload") != "start":
            raise invalid("first message must be a start payload")
        req = first.start
        sb_id, sb_name, env = self._exec_prepare(req, call)
        q = queue.Queue()
        if req.stdin:
            q.put(bytes(req.stdin))

        def pump():
            try:
                for msg in req_iter:
                    kind = msg.WhichOneof("payload")
                    if kind == "stdin":
                        q.put(bytes(msg.stdin))
            except Exception:
                pass
            q.put(None)

        threading.Thread(target=pump, daemon=True).start()
        return self._run_exec(req, sb_id, sb_name, env, call, sim_shell.StreamStdin(q))

    # -- logs and watch ----------------------------------------------------------

    @staticmethod
    def _log_proto(sb_id, line):
        lg = P.os.SandboxLogLine(sandbox_id=sb_id, timestamp_ms=line["timestamp_ms"], level=line["level"],
                                 target=line["target"], message=line["message"], source=line["source"])
        lg.fields.update(line["fields"])
        return lg

    @staticmethod
    def _event_proto(ev):
        pe = P.os.PlatformEvent(timestamp_ms=ev["timestamp_ms"], source=ev["source"], type=ev["type"],
                                reason=ev["reason"], message=ev["message"])
        pe.metadata.update(ev["metadata"])
        return pe

    def GetSandboxLogs(self, req, call):
        if not req.sandbox_id:
            raise invalid("sandbox_id is required")
        lines = req.lines or 2000
        with self.lock:
            sb = self.sandbox_by_id(req.sandbox_id)
            tail = list(sb.logs[-lines:]) if sb is not None else []
            out = [self._log_proto(req.sandbox_id, ln) for ln in tail
                   if not (req.since_ms > 0 and ln["timestamp_ms"] < req.since_ms)
                   and (not req.sources or source_matches(ln["source"], req.sources))
                   and level_matches(ln["level"], req.min_level)]
            return P.os.GetSandboxLogsResponse(logs=out, buffer_total=len(tail))

    def WatchSandbox(self, req, call):
        if not req.id:
            raise invalid("id is required")
        with self.lock:
            sb = self.sandbox_by_id(req.id)
            if sb is None:
                raise err("NOT_FOUND", "sandbox not found")
        return self._watch(req, call)

    def _watch(self, req, call):
        sid = req.id
        log_tail = req.log_tail_lines or 200

        def log_ok(ln, since=True):
            if since and req.log_since_ms > 0 and ln["timestamp_ms"] < req.log_since_ms:
                return False
            if req.log_sources and not source_matches(ln["source"], req.log_sources):
                return False
            return level_matches(ln["level"], req.log_min_level)

        with self.lock:
            sb = self.sandbox_by_id(sid)
            if sb is None:
                return
            snapshot = self.render_sandbox(sb)
            phase = sb.phase
            status_seen, log_seen, event_seen, draft_seen = sb.status_seq, sb.log_seq, sb.event_seq, sb.draft_seq
            logs = [self._log_proto(sid, ln) for ln in sb.logs[-log_tail:] if log_ok(ln)] if req.follow_logs else []
            events = [self._event_proto(e) for e in (sb.events[-req.event_tail:] if req.event_tail else [])] \
                if req.follow_events else []
        yield P.os.SandboxStreamEvent(sandbox=snapshot)
        if req.stop_on_terminal and phase in (PH_READY, PH_ERROR):
            return
        for lg in logs:
            yield P.os.SandboxStreamEvent(log=lg)
        for ev in events:
            yield P.os.SandboxStreamEvent(event=ev)
        while call.active() and not self.stopping.is_set():
            out = []
            terminal = False
            with self.cond:
                sb = self.sandbox_by_id(sid)
                if sb is None:
                    return
                if (sb.status_seq == status_seen and sb.log_seq == log_seen and sb.event_seq == event_seen
                        and sb.draft_seq == draft_seen):
                    self.cond.wait(0.25)
                    sb = self.sandbox_by_id(sid)
                    if sb is None:
                        return
                if req.follow_logs and sb.log_seq != log_seen:
                    n = min(sb.log_seq - log_seen, len(sb.logs))
                    out += [P.os.SandboxStreamEvent(log=self._log_proto(sid, ln))
                            for ln in sb.logs[len(sb.logs) - n:] if log_ok(ln, since=False)]
                log_seen = sb.log_seq
                if req.follow_events and sb.event_seq != event_seen:
                    n = min(sb.event_seq - event_seen, len(sb.events))
                    out += [P.os.SandboxStreamEvent(event=self._event_proto(e)) for e in sb.events[len(sb.events) - n:]]
                event_seen = sb.event_seq
                if req.follow_status and sb.status_seq != status_seen:
                    out.append(P.os.SandboxStreamEvent(sandbox=self.render_sandbox(sb)))
                    terminal = req.stop_on_terminal and sb.phase in (PH_READY, PH_ERROR)
                status_seen = sb.status_seq
                if req.follow_status and sb.draft_seq != draft_seen and sb.last_draft and not terminal:
                    out.append(P.os.SandboxStreamEvent(draft_policy_update=P.os.DraftPolicyUpdate(**sb.last_draft)))
                draft_seen = sb.draft_seq
            for ev in out:
                yield ev
            if terminal:
                return
        if self.stopping.is_set():
            raise err("UNAVAILABLE", "gateway is shutting down")

    # -- providers ----------------------------------------------------------

    def _validate_provider_fields(self, name, ptype, creds, config, expires):
        if len(name.encode()) > MAX_NAME_LEN:
            raise invalid("provider.name exceeds maximum length (%d > %d)" % (len(name.encode()), MAX_NAME_LEN))
        if len(ptype.encode()) > MAX_PROVIDER_TYPE_LEN:
            raise invalid("provider.type exceeds maximum length (%d > %d)" % (len(ptype.encode()), MAX_PROVIDER_TYPE_LEN))
        validate_string_map(creds, MAX_PROVIDER_CREDENTIALS, "provider.credentials")
        validate_string_map(config, MAX_PROVIDER_CONFIG, "provider.config")
        if len(expires) > MAX_PROVIDER_CREDENTIALS:
            raise invalid("provider.credential_expires_at_ms exceeds maximum entries (%d > %d)"
                          % (len(expires), MAX_PROVIDER_CREDENTIALS))
        for k, v in expires.items():
            if len(k.encode()) > MAX_MAP_KEY_LEN:
                raise invalid("provider.credential_expires_at_ms key exceeds maximum length (%d > %d)"
                              % (len(k.encode()), MAX_MAP_KEY_LEN))
            if int(v) < 0:
                raise invalid("provider.credential_expires_at_ms value must be greater than or equal to 0")

    def _get_provider(self, name):
        if not name:
            raise invalid("name is required")
        p = self.providers.get(name)
        if p is None:
            raise err("NOT_FOUND", "provider not found")
        return p

    def CreateProvider(self, req, call):
        if not req.HasField("provider"):
            raise invalid("provider is required")
        pr = req.provider
        name = pr.metadata.name or "%s-%s" % (random.choice(ADJECTIVES), random.choice(NOUNS))
        for k, v in pr.metadata.labels.items():
            validate_label_key(k)
            validate_label_value(v)
        if not pr.type.strip():
            raise invalid("provider.type is required")
        if not len(pr.credentials):
            raise invalid("provider.credentials must not be empty")
        self._validate_provider_fields(name, pr.type, pr.credentials, pr.config, pr.credential_expires_at_ms)
        with self.lock:
            if name in self.providers:
                raise err("ALREADY_EXISTS", "provider already exists")
            p = {"id": str(uuid.uuid4()), "name": name, "type": pr.type, "created_at_ms": now_ms(),
                 "labels": dict(pr.metadata.labels), "rv": 1, "credentials": dict(pr.credentials),
                 "config": dict(pr.config),
                 "expires": {k: int(v) for k, v in pr.credential_expires_at_ms.items() if v > 0},
                 "refresh": {}}
            self.providers[name] = p
            self.mark()
            return P.os.ProviderResponse(provider=self.render_provider(p))

    def GetProvider(self, req, call):
        with self.lock:
            return P.os.ProviderResponse(provider=self.render_provider(self._get_provider(req.name)))

    def ListProviders(self, req, call):
        limit = clamp_limit(req.limit, 100)
        with self.lock:
            items = sorted(self.providers.values(), key=lambda p: (p["created_at_ms"], p["name"]))
            return P.os.ListProvidersResponse(
                providers=[self.render_provider(p) for p in items[req.offset:req.offset + limit]])

    @staticmethod
    def _merge_map(existing, incoming, drop):
        out = dict(existing)
        for k, v in incoming.items():
            if drop(v):
                out.pop(k, None)
            else:
                out[k] = v
        return out

    def _update_provider(self, name, ptype="", creds=None, config=None, expires=None, expected_rv=0):
        if not name:
            raise invalid("provider.name is required")
        p = self.providers.get(name)
        if p is None:
            raise err("NOT_FOUND", "provider not found")
        if ptype.strip() and ptype.strip().lower() != p["type"].strip().lower():
            raise invalid("provider type cannot be changed; delete and recreate the provider")
        if expected_rv and expected_rv != p["rv"]:
            raise err("ABORTED", "provider was modified concurrently (current resource_version: %d)" % p["rv"])
        cand = dict(p)
        cand["credentials"] = self._merge_map(p["credentials"], dict(creds or {}), lambda v: v == "")
        cand["config"] = self._merge_map(p["config"], dict(config or {}), lambda v: v == "")
        cand["expires"] = self._merge_map(p["expires"], {k: int(v) for k, v in (expires or {}).items()},
                                          lambda v: v <= 0)
        self._validate_provider_fields(name, cand["type"], cand["credentials"], cand["config"], cand["expires"])
        for sb in self.sandboxes.values():
            if name in sb.spec.providers:
                try:
                    self._provider_env_keys_unique(list(sb.spec.providers), candidate=cand)
                except SimError as e:
                    raise precondition("provider update would create credential env key conflict on sandbox "
                                       "'%s': %s" % (sb.name, e.message))
        cand["rv"] = p["rv"] + 1
        self.providers[name] = cand
        self.mark()
        return cand

    def UpdateProvider(self, req, call):
        if not req.HasField("provider"):
            raise invalid("provider is required")
        pr = req.provider
        expires = dict(pr.credential_expires_at_ms)
        expires.update(req.credential_expires_at_ms)
        with self.lock:
            p = self._update_provider(pr.metadata.name, pr.type, pr.credentials, pr.config, expires,
                                      pr.metadata.resource_version)
            return P.os.ProviderResponse(provider=self.render_provider(p))

    def DeleteProvider(self, req, call):
        if not req.name:
            raise invalid("name is required")
        with self.lock:
            if req.name not in self.providers:
                return P.os.DeleteProviderResponse(deleted=False)
            users = sorted(sb.name for sb in self.sandboxes.values() if req.name in sb.spec.providers)
            if users:
                raise precondition("provider '%s' is attached to sandbox(es): %s" % (req.name, ", ".join(users)))
            del self.providers[req.name]
            self.mark()
            return P.os.DeleteProviderResponse(deleted=True)

    # -- provider profiles ---------------------------------------------------

    def _all_profiles(self):
        profs = {p.id: p for p in builtin_profiles()}
        profs.update(self.profiles)
        return profs

    @staticmethod
    def _normalize_profile_id(pid):
        if not pid.strip():
            raise invalid("id is required")
        pid = pid.strip()
        if not KEBAB_RE.match(pid):
            raise invalid("id must be lowercase kebab-case using only a-z, 0-9, and '-'")
        return pid

    def ListProviderProfiles(self, req, call):
        limit = clamp_limit(req.limit, 100)
        with self.lock:
            profs = sorted(self._all_profiles().values(), key=lambda p: p.id)
            return P.os.ListProviderProfilesResponse(profiles=profs[req.offset:req.offset + limit])

    def GetProviderProfile(self, req, call):
        pid = self._normalize_profile_id(req.id)
        with self.lock:
            p = self._all_profiles().get(pid)
            if p is None:
                raise err("NOT_FOUND", "provider profile not found")
            return P.os.ProviderProfileResponse(profile=p)

    def _lint_profiles(self, items):
        diags = []
        builtin = {p.id for p in builtin_profiles()}
        seen = set()

        def diag(src, pid, field, msg, sev="error"):
            diags.append(P.os.ProviderProfileDiagnostic(source=src, profile_id=pid, field=field, message=msg,
                                                         severity=sev))

        if not items:
            diag("", "", "profiles", "no provider profiles were provided")
        for item in items:
            pr = item.profile
            src = item.source
            if not pr.id or not KEBAB_RE.match(pr.id):
                diag(src, pr.id, "id", "id must be lowercase kebab-case using only a-z, 0-9, and '-'")
            elif pr.id in builtin:
                diag(src, pr.id, "id", "profile id '%s' conflicts with a built-in profile" % pr.id)
            elif pr.id in seen:
                diag(src, pr.id, "id", "duplicate profile id '%s'" % pr.id)
            seen.add(pr.id)
            if not pr.display_name.strip():
                diag(src, pr.id, "display_name", "display_name is required")
            for i, c in enumerate(pr.credentials):
                if not c.name:
                    diag(src, pr.id, "credentials[%d].name" % i, "credential name is required")
                for env in c.env_vars:
                    if not ENV_KEY_RE.match(env):
                        diag(src, pr.id, "credentials[%d].env_vars" % i, "invalid env var name '%s'" % env)
            for i, ep in enumerate(pr.endpoints):
                if not ep.host:
                    diag(src, pr.id, "endpoints[%d].host" % i, "endpoint host is required")
        return diags

    def ImportProviderProfiles(self, req, call):
        with self.lock:
            diags = self._lint_profiles(list(req.profiles))
            ok = not any(d.severity == "error" for d in diags)
            imported = []
            if ok:
                for item in req.profiles:
                    p = P.os.ProviderProfile()
                    p.CopyFrom(item.profile)
                    self.profiles[p.id] = p
                    imported.append(p)
                self.mark()
            return P.os.ImportProviderProfilesResponse(diagnostics=diags, profiles=imported, imported=ok)

    def LintProviderProfiles(self, req, call):
        diags = self._lint_profiles(list(req.profiles))
        return P.os.LintProviderProfilesResponse(diagnostics=diags,
                                                 valid=not any(d.severity == "error" for d in diags))

    def DeleteProviderProfile(self, req, call):
        pid = self._normalize_profile_id(req.id)
        with self.lock:
            if pid in {p.id for p in builtin_profiles()}:
                raise precondition("built-in provider profile '%s' cannot be deleted" % pid)
            if pid not in self.profiles:
                raise err("NOT_FOUND", "provider profile not found")
            users = sorted(p["name"] for p in self.providers.values() if p["type"] == pid)
            if users:
                raise precondition("provider profile '%s' is used by provider(s): %s" % (pid, ", ".join(users)))
            del self.profiles[pid]
            self.mark()
            return P.os.DeleteProviderProfileResponse(deleted=True)

    # -- credential refresh ---------------------------------------------------

    def _refresh_status(self, p, st):
        return P.os.ProviderCredentialRefreshStatus(
            provider_name=p["name"], provider_id=p["id"], credential_key=st["credential_key"],
            strategy=st["strategy"], status=st["status"], expires_at_ms=st["expires_at_ms"],
            next_refresh_at_ms=st["next_refresh_at_ms"], last_refresh_at_ms=st["last_refresh_at_ms"],
            last_error=st["last_error"])

    @staticmethod
    def _next_refresh(expires_at_ms, before_s):
        before_s = before_s if before_s > 0 else 300
        return expires_at_ms - before_s * 1000 if expires_at_ms > 0 else 0

    def GetProviderRefreshStatus(self, req, call):
        if not req.provider.strip():
            raise invalid("provider is required")
        with self.lock:
            p = self.providers.get(req.provider)
            if p is None:
                raise err("NOT_FOUND", "provider not found")
            key = req.credential_key.strip()
            states = [st for k, st in sorted(p["refresh"].items()) if not key or k == key]
            return P.os.GetProviderRefreshStatusResponse(credentials=[self._refresh_status(p, s) for s in states])

    def ConfigureProviderRefresh(self, req, call):
        name, key = req.provider.strip(), req.credential_key.strip()
        if not name:
            raise invalid("provider is required")
        if not key:
            raise invalid("credential_key is required")
        if not ENV_KEY_RE.match(key):
            raise invalid("credential_key must be a valid environment variable name")
        strategy = req.strategy
        mintable = dict(MINTABLE)
        if self.B.ge(86):
            mintable[6] = "aws_sts_assume_role"
        names = {1: "static", 2: "external"}
        names.update(mintable)
        if strategy not in names:
            raise invalid("refresh strategy is required")
        if strategy not in mintable:
            raise invalid("refresh strategy '%s' is not gateway-mintable; update current credentials with "
                          "provider update instead" % names[strategy])
        if len(req.material) > MAX_PROVIDER_CONFIG:
            raise invalid("material exceeds maximum entries (%d > %d)" % (len(req.material), MAX_PROVIDER_CONFIG))
        for k, v in req.material.items():
            if len(k.encode()) > MAX_MAP_KEY_LEN:
                raise invalid("material key exceeds maximum length (%d > %d)" % (len(k.encode()), MAX_MAP_KEY_LEN))
            if len(v.encode()) > MAX_MAP_VALUE_LEN:
                raise invalid("material value exceeds maximum length (%d > %d)" % (len(v.encode()), MAX_MAP_VALUE_LEN))
        if len(req.secret_material_keys) > MAX_PROVIDER_CONFIG:
            raise invalid("secret_material_keys exceeds maximum entries (%d > %d)"
                          % (len(req.secret_material_keys), MAX_PROVIDER_CONFIG))
        if req.material.get("token_url", "").strip() or req.material.get("token_uri", "").strip():
            raise invalid("refresh token endpoints must be defined by the provider profile, not material")
        has_exp = req.HasField("expires_at_ms")
        if has_exp and req.expires_at_ms < 0:
            raise invalid("expires_at_ms must be greater than or equal to 0")

        def num(field):
            raw = req.material.get(field)
            if raw is None:
                return 0
            try:
                return int(raw)
            except ValueError:
                raise invalid("%s material must be a signed integer" % field)

        before, lifetime = num("refresh_before_seconds"), num("max_lifetime_seconds")
        if before < 0:
            raise invalid("refresh_before_seconds material must be greater than or equal to 0")
        if lifetime < 0:
            raise invalid("max_lifetime_seconds material must be greater than or equal to 0")
        with self.lock:
            p = self.providers.get(name)
            if p is None:
                raise err("NOT_FOUND", "provider not found")
            old = p["refresh"].get(key)
            expires = req.expires_at_ms if has_exp else (old["expires_at_ms"] if old else 0)
            st = {"credential_key": key, "strategy": strategy, "status": "configured",
                  "material": dict(req.material), "secret_material_keys": list(req.secret_material_keys),
                  "expires_at_ms": expires, "next_refresh_at_ms": self._next_refresh(expires, before),
                  "last_refresh_at_ms": old["last_refresh_at_ms"] if old else 0, "last_error": "",
                  "refresh_before_seconds": before, "max_lifetime_seconds": lifetime}
            p["refresh"][key] = st
            if has_exp:
                self._update_provider(name, expires={key: req.expires_at_ms})
                p = self.providers[name]
                p["refresh"][key] = st
            self.mark()
            return P.os.ConfigureProviderRefreshResponse(status=self._refresh_status(p, st))

    def RotateProviderCredential(self, req, call):
        name, key = req.provider.strip(), req.credential_key.strip()
        if not name:
            raise invalid("provider is required")
        if not key:
            raise invalid("credential_key is required")
        with self.lock:
            p = self.providers.get(name)
            if p is None:
                raise err("NOT_FOUND", "provider not found")
            st = p["refresh"].get(key)
            if st is None:
                raise err("NOT_FOUND", "provider refresh state not found")
            t = now_ms()
            if st["material"].get("sim_fail", "").lower() in ("1", "true", "yes"):
                st["status"] = "error"
                st["last_error"] = "token endpoint returned HTTP 400 (simulated)"
                st["next_refresh_at_ms"] = t + 60000
                self.mark()
                raise precondition("token endpoint returned HTTP 400 (simulated)")
            lifetime = st["max_lifetime_seconds"] or 3600
            expires = t + lifetime * 1000
            new_value = "sim-%s-%s" % (MINTABLE.get(st["strategy"], "token"), uuid.uuid4().hex)
            p = self._update_provider(name, creds={key: new_value}, expires={key: expires})
            p["refresh"][key] = st
            st.update({"status": "refreshed", "last_error": "", "expires_at_ms": expires, "last_refresh_at_ms": t,
                       "next_refresh_at_ms": self._next_refresh(expires, st["refresh_before_seconds"])})
            self.mark()
            return P.os.RotateProviderCredentialResponse(status=self._refresh_status(p, st))

    def DeleteProviderRefresh(self, req, call):
        name, key = req.provider.strip(), req.credential_key.strip()
        if not name:
            raise invalid("provider is required")
        if not key:
            raise invalid("credential_key is required")
        with self.lock:
            p = self.providers.get(name)
            if p is None:
                raise err("NOT_FOUND", "provider not found")
            st = p["refresh"].pop(key, None)
            if st is not None and st["expires_at_ms"] > 0 and int(p["expires"].get(key, 0)) == st["expires_at_ms"]:
                self._update_provider(name, expires={key: 0})
            self.mark()
            return P.os.DeleteProviderRefreshResponse(deleted=st is not None)

    def GetSandboxProviderEnvironment(self, req, call):
        with self.lock:
            self.ensure_scope(call, req.sandbox_id)
            sb = self.require_sandbox_id(req.sandbox_id)
            names = list(sb.spec.providers)
            self._provider_env_keys_unique(names)
            env, expires = {}, {}
            t = now_ms()
            for n in names:
                p = self.providers[n]
                for k, v in p["credentials"].items():
                    if not ENV_KEY_RE.match(k):
                        continue
                    exp = int(p["expires"].get(k, 0))
                    if 0 < exp <= t:
                        continue
                    if exp > 0:
                        expires.setdefault(k, exp)
                    env.setdefault(k, v)
            return P.os.GetSandboxProviderEnvironmentResponse(
                environment=env, provider_env_revision=self._provider_env_revision(names),
                credential_expires_at_ms=expires)

    def _provider_env_revision(self, names):
        parts = []
        for n in sorted(names):
            p = self.providers.get(n)
            if p is None:
                continue
            parts.append(n)
            parts.append(p["type"])
            for k in sorted(p["credentials"]):
                parts.append("%s=%s" % (k, hashlib.sha256(p["credentials"][k].encode()).hexdigest()))
            for k in sorted(p["expires"]):
                parts.append("%s@%s" % (k, p["expires"][k]))
        return pol.fingerprint64(*parts) if parts else 0

    # -- configuration -------------------------------------------------------

    def GetSandboxConfig(self, req, call):
        with self.lock:
            self.ensure_scope(call, req.sandbox_id)
            sb = self.require_sandbox_id(req.sandbox_id)
            self.ensure_policy_backfill(sb)
            latest = self.latest_revision(sb)
            resp = P.sb.GetSandboxConfigResponse()
            source = 1
            policy = None
            version, phash = 0, ""
            if latest is not None:
                policy, version, phash = latest["policy"], latest["version"], latest["hash"]
            gp = self.global_policy()
            if gp is not None:
                policy, phash, source = gp, pol.policy_hash(gp), 2
                version = version or 1
                resp.global_policy_version = self.global_revisions[-1]["version"] if self.global_revisions else 0
            if policy is not None:
                resp.policy.CopyFrom(policy)
            resp.version = version
            resp.policy_hash = phash
            resp.policy_source = source
            reg = self.registered_settings()
            for key in reg:
                resp.settings[key].SetInParent()
            for key, val in sb.settings.items():
                if key in reg:
                    resp.settings[key].value.CopyFrom(setting_to_proto(val))
                    resp.settings[key].scope = 1
            for key, val in self.global_settings.items():
                if key in reg:
                    resp.settings[key].value.CopyFrom(setting_to_proto(val))
                    resp.settings[key].scope = 2
            parts = [str(source), phash]
            for key in sorted(resp.settings):
                parts.append(key + ":" + resp.settings[key].SerializeToString(deterministic=True).hex())
            resp.config_revision = pol.fingerprint64(*parts)
            resp.provider_env_revision = self._provider_env_revision(list(sb.spec.providers))
            return resp

    def GetGatewayConfig(self, req, call):
        with self.lock:
            resp = P.sb.GetGatewayConfigResponse(settings_revision=self.global_settings_revision)
            for key in self.registered_settings():
                resp.settings[key].SetInParent()
            for key, val in self.global_settings.items():
                if key != "policy":
                    resp.settings[key].CopyFrom(setting_to_proto(val))
            return resp

    def UpdateConfig(self, req, call):
        is_global = getattr(req, "global")
        principal = call.principal
        key = req.setting_key.strip()
        has_policy = req.HasField("policy")
        has_setting = bool(key)
        has_merge = len(req.merge_operations) > 0
        with self.lock:
            if principal is not None and principal.kind == "sandbox":
                if is_global:
                    raise err("PERMISSION_DENIED", "sandbox principals cannot perform global config updates")
                if has_setting or req.delete_setting:
                    raise err("PERMISSION_DENIED", "sandbox principals cannot change settings")
                if has_merge:
                    raise err("PERMISSION_DENIED", "sandbox principals may only sync full policies")
                self.sandbox_for_principal(call, req.name)
            count = int(has_policy) + int(has_setting) + int(has_merge)
            if count > 1:
                raise invalid("policy, setting_key, and merge_operations are mutually exclusive")
            if count == 0:
                raise invalid("one of policy, setting_key, or merge_operations must be provided")
            if is_global:
                return self._update_global(req, key, has_policy, has_merge)
            if not req.name:
                raise invalid("name is required for sandbox-scoped updates")
            sb = self.sandbox_by_name(req.name)
            self._cas(sb, req.expected_resource_version, "update config")
            if has_setting:
                return self._update_sandbox_setting(sb, req, key)
            if "policy" in self.global_settings:
                raise precondition("policy is managed globally; delete global policy before sandbox policy update")
            if has_merge:
                ops = pol.parse_merge_operations(req.merge_operations)
                baseline = sb.spec.policy if sb.spec.HasField("policy") else None
                version, h = self.merge_into_sandbox(sb, ops, baseline)
                self.add_log(sb, "INFO", "UpdateConfig: merged incremental policy operations",
                             fields={"version": version, "operation_count": len(ops)})
                return P.os.UpdateConfigResponse(version=version, policy_hash=h)
            new_policy = P.sb.SandboxPolicy()
            new_policy.CopyFrom(req.policy)
            pol.ensure_process_identity(new_policy)
            if sb.spec.HasField("policy"):
                pol.validate_static_fields_unchanged(sb.spec.policy, new_policy)
                pol.validate_policy_safety(new_policy)
            else:
                sb.spec.policy.CopyFrom(new_policy)
                self.touch(sb)
            version, h = self.store_revision(sb, new_policy)
            return P.os.UpdateConfigResponse(version=version, policy_hash=h)

    def _update_global(self, req, key, has_policy, has_merge):
        if has_merge:
            raise invalid("merge_operations are not supported for global policy updates")
        if has_policy:
            if req.delete_setting:
                raise invalid("delete_setting cannot be combined with policy payload")
            new_policy = P.sb.SandboxPolicy()
            new_policy.CopyFrom(req.policy)
            pol.ensure_process_identity(new_policy)
            pol.validate_policy_safety(new_policy)
            h = pol.policy_hash(new_policy)
            latest = self.global_revisions[-1] if self.global_revisions else None
            stored = {"kind": "bytes", "value": new_policy.SerializeToString(deterministic=True).hex()}
            if latest is not None and latest["hash"] == h and latest["status"] == "loaded":
                version = latest["version"]
            else:
                version = latest["version"] + 1 if latest else 1
                for r in self.global_revisions:
                    if r["status"] in ("pending", "loaded"):
                        r["status"] = "superseded"
                self.global_revisions.append(revision_dict(version, new_policy, "loaded"))
            if self.global_settings.get("policy") != stored:
                self.global_settings["policy"] = stored
                self.global_settings_revision += 1
            self._notify_all_sandboxes()
            return P.os.UpdateConfigResponse(version=version, policy_hash=h,
                                             settings_revision=self.global_settings_revision)
        if key == "policy" and not req.delete_setting:
            raise invalid("reserved key 'policy' must be set via the policy field")
        if key != "policy":
            self.validate_setting_key(key)
        if req.delete_setting:
            changed = self.global_settings.pop(key, None) is not None
            if changed and key == "policy":
                for r in self.global_revisions:
                    if r["status"] in ("pending", "loaded"):
                        r["status"] = "superseded"
        else:
            if not req.HasField("setting_value"):
                raise invalid("setting_value is required")
            stored = self.proto_setting_to_stored(key, req.setting_value)
            changed = self.global_settings.get(key) != stored
            if changed:
                self.global_settings[key] = stored
        if changed:
            self.global_settings_revision += 1
            self._notify_all_sandboxes()
        return P.os.UpdateConfigResponse(settings_revision=self.global_settings_revision,
                                         deleted=req.delete_setting and changed)

    def _notify_all_sandboxes(self):
        for sb in self.sandboxes.values():
            sb.status_seq += 1
        self.mark()

    def _update_sandbox_setting(self, sb, req, key):
        if key == "policy":
            raise invalid("reserved key 'policy' must be set via policy commands")
        managed = key in self.global_settings
        if req.delete_setting:
            if managed:
                raise precondition("setting '%s' is managed globally; delete the global setting first" % key)
            removed = sb.settings.pop(key, None) is not None
            if removed:
                sb.settings_revision += 1
                self.touch(sb, bump_rv=False)
            return P.os.UpdateConfigResponse(settings_revision=sb.settings_revision, deleted=removed)
        if managed:
            raise precondition("setting '%s' is managed globally; delete the global setting before sandbox "
                               "update" % key)
        if not req.HasField("setting_value"):
            raise invalid("setting_value is required")
        stored = self.proto_setting_to_stored(key, req.setting_value)
        if sb.settings.get(key) != stored:
            sb.settings[key] = stored
            sb.settings_revision += 1
            self.touch(sb, bump_rv=False)
        return P.os.UpdateConfigResponse(settings_revision=sb.settings_revision)

    def GetSandboxPolicyStatus(self, req, call):
        with self.lock:
            if getattr(req, "global"):
                revs, active, nf = self.global_revisions, 0, "no global policy revision found"
            else:
                sb = self.sandbox_by_name(req.name)
                revs, active, nf = sb.revisions, sb.cpv, "no policy revision found for this sandbox"
            if req.version == 0:
                rev = revs[-1] if revs else None
            else:
                rev = next((r for r in revs if r["version"] == req.version), None)
            if rev is None:
                raise err("NOT_FOUND", nf)
            return P.os.GetSandboxPolicyStatusResponse(revision=self.render_revision(rev, True),
                                                       active_version=active)

    def ListSandboxPolicies(self, req, call):
        limit = clamp_limit(req.limit, 50)
        with self.lock:
            if getattr(req, "global"):
                revs = self.global_revisions
            else:
                revs = self.sandbox_by_name(req.name).revisions
            ordered = sorted(revs, key=lambda r: -r["version"])[req.offset:req.offset + limit]
            return P.os.ListSandboxPoliciesResponse(revisions=[self.render_revision(r, False) for r in ordered])

    # -- draft policy ----------------------------------------------------------

    def SubmitPolicyAnalysis(self, req, call):
        if not req.name:
            raise invalid("name is required")
        with self.lock:
            sb = self.sandbox_for_principal(call, req.name)
            accepted, rejected, reasons, ids = 0, 0, [], []
            for ch in req.proposed_chunks:
                if not ch.rule_name:
                    rejected += 1
                    reasons.append("chunk missing rule_name")
                    continue
                if not ch.HasField("proposed_rule"):
                    rejected += 1
                    reasons.append("chunk '%s' missing proposed_rule" % ch.rule_name)
                    continue
                rule = P.sb.NetworkPolicyRule()
                rule.CopyFrom(ch.proposed_rule)
                host = rule.endpoints[0].host.lower() if len(rule.endpoints) else ""
                port = rule.endpoints[0].port if len(rule.endpoints) else 0
                binary = rule.binaries[0].path if len(rule.binaries) else ""
                existing = None
                if req.analysis_mode == "mechanistic":
                    existing = next((c for c in sb.chunks if c["status"] == "pending" and c["host"] == host
                                     and c["port"] == port and c["binary"] == binary), None)
                if existing is not None:
                    existing["hit_count"] = min(100, existing["hit_count"] + max(1, ch.hit_count))
                    existing["last_seen_ms"] = ch.last_seen_ms or now_ms()
                    ids.append(existing["id"])
                else:
                    c = self.new_chunk(sb, ch.rule_name, rule, rationale=ch.rationale, confidence=ch.confidence,
                                       hit_count=ch.hit_count, first_seen_ms=ch.first_seen_ms,
                                       last_seen_ms=ch.last_seen_ms, stage=ch.stage or "initial",
                                       denial_ids=list(ch.denial_summary_ids))
                    c["supersedes_chunk_id"] = ch.supersedes_chunk_id
                    ids.append(c["id"])
                accepted += 1
            sb.history.append({"timestamp_ms": now_ms(), "event_type": "analysis_cycle",
                               "description": "analysis submitted: %d accepted, %d rejected, %d denial summaries"
                                              % (accepted, rejected, len(req.summaries)), "chunk_id": ""})
            self.draft_updated(sb, accepted, "%d new proposal(s)" % accepted)
            return P.os.SubmitPolicyAnalysisResponse(accepted_chunks=accepted, rejected_chunks=rejected,
                                                     rejection_reasons=reasons, accepted_chunk_ids=ids)

    def GetDraftPolicy(self, req, call):
        if not req.name:
            raise invalid("name is required")
        with self.lock:
            sb = self.sandbox_for_principal(call, req.name)
            chunks = [c for c in reversed(sb.chunks) if not req.status_filter or c["status"] == req.status_filter]
            rendered = [self.render_chunk(c) for c in chunks]
            return P.os.GetDraftPolicyResponse(
                chunks=rendered, rolling_summary="", draft_version=sb.draft_version,
                last_analyzed_at_ms=max((c.created_at_ms for c in rendered), default=0))

    def _history(self, sb, kind, chunk, desc):
        sb.history.append({"timestamp_ms": now_ms(), "event_type": kind, "description": desc,
                           "chunk_id": chunk["id"] if chunk else ""})

    def _chunk_args(self, req):
        if not req.name:
            raise invalid("name is required")
        if not req.chunk_id:
            raise invalid("chunk_id is required")

    def _add_rule_op(self, chunk):
        op = P.os.PolicyMergeOperation()
        op.add_rule.rule_name = chunk["rule_name"]
        op.add_rule.rule.CopyFrom(chunk["proposed_rule"])
        return pol.parse_merge_operations([op])

    def _remove_binary_op(self, chunk):
        op = P.os.PolicyMergeOperation()
        op.remove_binary.rule_name = chunk["rule_name"]
        op.remove_binary.binary_path = chunk["binary"] or "-"
        return [("remove_binary", op.remove_binary)]

    def ApproveDraftChunk(self, req, call):
        self._chunk_args(req)
        with self.lock:
            self.require_no_global_policy()
            sb = self.sandbox_by_name(req.name)
            c = self.find_chunk(sb, req.chunk_id)
            if c["status"] not in ("pending", "rejected"):
                raise precondition("chunk status is '%s', expected 'pending' or 'rejected'" % c["status"])
            version, h = self.merge_into_sandbox(sb, self._add_rule_op(c))
            c["status"], c["decided_at_ms"], c["rejection_reason"] = "approved", now_ms(), ""
            self._history(sb, "approved", c, "Rule '%s' approved" % c["rule_name"])
            self.draft_updated(sb, 0, "chunk approved")
            return P.os.ApproveDraftChunkResponse(policy_version=version, policy_hash=h)

    def RejectDraftChunk(self, req, call):
        self._chunk_args(req)
        with self.lock:
            sb = self.sandbox_by_name(req.name)
            c = self.find_chunk(sb, req.chunk_id)
            if c["status"] not in ("pending", "approved"):
                raise precondition("chunk status is '%s', expected 'pending' or 'approved'" % c["status"])
            if c["status"] == "approved":
                self.require_no_global_policy()
                self.merge_into_sandbox(sb, self._remove_binary_op(c))
            c["status"], c["decided_at_ms"] = "rejected", now_ms()
            if req.reason:
                c["rejection_reason"] = req.reason
            self._history(sb, "rejected", c, "Rule '%s' rejected%s" % (c["rule_name"],
                                                                      (": " + req.reason) if req.reason else ""))
            self.draft_updated(sb, 0, "chunk rejected")
            return P.os.RejectDraftChunkResponse()

    def ApproveAllDraftChunks(self, req, call):
        if not req.name:
            raise invalid("name is required")
        with self.lock:
            self.require_no_global_policy()
            sb = self.sandbox_by_name(req.name)
            pending = [c for c in reversed(sb.chunks) if c["status"] == "pending"]
            if not pending:
                raise precondition("no pending chunks to approve")
            approved = skipped = 0
            version, h = 0, ""
            for c in pending:
                if not req.include_security_flagged and c["security_notes"]:
                    skipped += 1
                    continue
                version, h = self.merge_into_sandbox(sb, self._add_rule_op(c))
                c["status"], c["decided_at_ms"] = "approved", now_ms()
                self._history(sb, "approved", c, "Rule '%s' approved" % c["rule_name"])
                approved += 1
            self.draft_updated(sb, 0, "bulk approval")
            return P.os.ApproveAllDraftChunksResponse(policy_version=version, policy_hash=h,
                                                      chunks_approved=approved, chunks_skipped=skipped)

    def EditDraftChunk(self, req, call):
        self._chunk_args(req)
        if not req.HasField("proposed_rule"):
            raise invalid("proposed_rule is required")
        with self.lock:
            sb = self.sandbox_by_name(req.name)
            c = self.find_chunk(sb, req.chunk_id)
            if c["status"] != "pending":
                raise precondition("chunk status is '%s', expected 'pending'" % c["status"])
            rule = P.sb.NetworkPolicyRule()
            rule.CopyFrom(req.proposed_rule)
            c["proposed_rule"] = rule
            self._history(sb, "edited", c, "Rule '%s' edited" % c["rule_name"])
            self.mark()
            return P.os.EditDraftChunkResponse()

    def UndoDraftChunk(self, req, call):
        self._chunk_args(req)
        with self.lock:
            sb = self.sandbox_by_name(req.name)
            c = self.find_chunk(sb, req.chunk_id)
            if c["status"] != "approved":
                raise precondition("chunk status is '%s', expected 'approved'" % c["status"])
            version, h = self.merge_into_sandbox(sb, self._remove_binary_op(c))
            c["status"], c["decided_at_ms"], c["rejection_reason"] = "pending", 0, ""
            self._history(sb, "undone", c, "Rule '%s' approval undone" % c["rule_name"])
            self.draft_updated(sb, 0, "approval undone")
            return P.os.UndoDraftChunkResponse(policy_version=version, policy_hash=h)

    def ClearDraftChunks(self, req, call):
        if not req.name:
            raise invalid("name is required")
        with self.lock:
            sb = self.sandbox_by_name(req.name)
            before = len(sb.chunks)
            sb.chunks = [c for c in sb.chunks if c["status"] != "pending"]
            cleared = before - len(sb.chunks)
            sb.history.append({"timestamp_ms": now_ms(), "event_type": "cleared",
                               "description": "%d pending chunk(s) cleared" % cleared, "chunk_id": ""})
            self.draft_updated(sb, 0, "pending chunks cleared")
            return P.os.ClearDraftChunksResponse(chunks_cleared=cleared)

    def GetDraftHistory(self, req, call):
        if not req.name:
            raise invalid("name is required")
        with self.lock:
            sb = self.sandbox_by_name(req.name)
            entries = sorted(sb.history, key=lambda e: e["timestamp_ms"])
            return P.os.GetDraftHistoryResponse(entries=[P.os.DraftHistoryEntry(**e) for e in entries])

    # -- sandbox tokens --------------------------------------------------------

    def IssueSandboxToken(self, req, call):
        p = call.principal
        if p is None:
            raise err("UNAUTHENTICATED", "missing principal")
        if p.kind != "sandbox":
            raise err("PERMISSION_DENIED", "IssueSandboxToken requires a sandbox principal")
        if p.source != "k8s":
            raise err("PERMISSION_DENIED", "this principal cannot mint a sandbox token; use RefreshSandboxToken")
        with self.lock:
            self.require_sandbox_id(p.sandbox_id)
        token, exp = self.issuer.mint(p.sandbox_id)
        return P.os.IssueSandboxTokenResponse(token=token, expires_at_ms=exp)

    def RefreshSandboxToken(self, req, call):
        p = call.principal
        if p is None:
            raise err("UNAUTHENTICATED", "missing principal")
        if p.kind != "sandbox":
            raise err("PERMISSION_DENIED", "RefreshSandboxToken requires a sandbox principal")
        if p.source != "jwt":
            raise err("PERMISSION_DENIED", "this principal cannot refresh; use IssueSandboxToken for bootstrap")
        with self.lock:
            self.require_sandbox_id(p.sandbox_id)
        token, exp = self.issuer.mint(p.sandbox_id)
        return P.os.RefreshSandboxTokenResponse(token=token, expires_at_ms=exp)

    # =======================================================================
    # RPCs: openshell.inference.v1.Inference
    # =======================================================================

    @staticmethod
    def _route_name(name):
        n = name.strip()
        if n in ("", "inference.local"):
            return "inference.local"
        if n == "sandbox-system":
            return "sandbox-system"
        raise invalid("unknown route_name '%s'; expected 'inference.local' or 'sandbox-system'" % n)

    def _resolve_provider_route(self, p):
        ptype = p["type"].strip().lower()
        prof = INFERENCE_PROFILES.get(ptype)
        if prof is None:
            raise invalid("provider '%s' has unsupported type '%s' for cluster inference (supported: openai, "
                          "anthropic, nvidia)" % (p["name"], ptype))
        default_url, key_names, url_keys, protocols = prof
        api_key = next((p["credentials"][k] for k in key_names if p["credentials"].get(k, "").strip()), None)
        if api_key is None:
            api_key = next((p["credentials"][k] for k in sorted(p["credentials"]) if p["credentials"][k].strip()),
                           None)
        if api_key is None:
            raise invalid("provider '%s' has no usable API key credential" % p["name"])
        base = next((p["config"][k] for k in url_keys if p["config"].get(k, "").strip()), default_url).strip()
        return ptype, base, api_key, protocols

    def _set_route(self, req):
        route = self._route_name(req.route_name)
        if not req.provider_name.strip():
            raise invalid("provider_name is required")
        if not req.model_id.strip():
            raise invalid("model_id is required")
        with self.lock:
            p = self.providers.get(req.provider_name)
            if p is None:
                raise precondition("provider '%s' not found" % req.provider_name)
            ptype, base, _key, protocols = self._resolve_provider_route(p)
            validated = []
            if not req.no_verify:
                if p["config"].get("sim_verify", "") == "fail":
                    raise precondition(
                        "failed to verify inference endpoint for provider '%s' and model '%s' at '%s': upstream "
                        "returned HTTP 401 (simulated). Next steps: verify the provider API key and any required "
                        "auth headers, or retry with '--no-verify' if you want to skip verification"
                        % (req.provider_name, req.model_id, base))
                path = "/messages" if protocols[0] == "anthropic_messages" else "/chat/completions"
                validated.append(P.inf.ValidatedEndpoint(url=base.rstrip("/") + path, protocol=protocols[0]))
            old = self.routes.get(route)
            r = {"id": old["id"] if old else str(uuid.uuid4()), "route_name": route,
                 "provider_name": req.provider_name, "model_id": req.model_id, "timeout_secs": req.timeout_secs,
                 "version": (old["version"] + 1) if old else 1,
                 "created_at_ms": old["created_at_ms"] if old else now_ms()}
            self.routes[route] = r
            self.mark()
            return r, validated

    def _get_route(self, route_name):
        route = self._route_name(route_name)
        with self.lock:
            r = self.routes.get(route)
            if r is None:
                raise err("NOT_FOUND", "inference route '%s' is not configured; run 'openshell inference set "
                                       "--provider <name> --model <id>'" % route)
            return r

    def SetClusterInference(self, req, call):
        r, validated = self._set_route(req)
        return P.inf.SetClusterInferenceResponse(
            provider_name=r["provider_name"], model_id=r["model_id"], version=r["version"],
            route_name=r["route_name"], validation_performed=bool(validated), validated_endpoints=validated,
            timeout_secs=r["timeout_secs"])

    def GetClusterInference(self, req, call):
        r = self._get_route(req.route_name)
        return P.inf.GetClusterInferenceResponse(provider_name=r["provider_name"], model_id=r["model_id"],
                                                 version=r["version"], route_name=r["route_name"],
                                                 timeout_secs=r["timeout_secs"])

    def SetInferenceRoute(self, req, call):
        r, validated = self._set_route(req)
        return P.inf.SetInferenceRouteResponse(
            provider_name=r["provider_name"], model_id=r["model_id"], version=r["version"],
            route_name=r["route_name"], validation_performed=bool(validated), validated_endpoints=validated,
            timeout_secs=r["timeout_secs"], workspace=req.workspace or "default")

    def GetInferenceRoute(self, req, call):
        r = self._get_route(req.route_name)
        return P.inf.GetInferenceRouteResponse(provider_name=r["provider_name"], model_id=r["model_id"],
                                               version=r["version"], route_name=r["route_name"],
                                               timeout_secs=r["timeout_secs"], workspace=req.workspace or "default")

    def DeleteInferenceRoute(self, req, call):
        route = self._route_name(req.route_name)
        with self.lock:
            deleted = self.routes.pop(route, None) is not None
            self.mark()
            return P.inf.DeleteInferenceRouteResponse(deleted=deleted)

    def GetInferenceBundle(self, req, call):
        p = call.principal
        if p is None:
            raise err("UNAUTHENTICATED", "GetInferenceBundle requires an authenticated sandbox principal")
        if p.kind != "sandbox":
            raise err("PERMISSION_DENIED", "GetInferenceBundle requires a sandbox principal")
        with self.lock:
            routes = []
            for name in ("inference.local", "sandbox-system"):
                r = self.routes.get(name)
                if r is None:
                    continue
                prov = self.providers.get(r["provider_name"])
                if prov is None:
                    raise precondition("configured provider '%s' was not found" % r["provider_name"])
                ptype, base, key, protocols = self._resolve_provider_route(prov)
                routes.append(P.inf.ResolvedRoute(name=name, base_url=base, protocols=protocols, api_key=key,
                                                  model_id=r["model_id"], provider_type=ptype,
                                                  timeout_secs=r["timeout_secs"]))
            rev = hashlib.sha256(b"".join(x.SerializeToString(deterministic=True) for x in routes)).hexdigest()[:16]
            return P.inf.GetInferenceBundleResponse(routes=routes, revision=rev, generated_at_ms=now_ms())

    # =======================================================================
    # Test hooks, accounting and authentication (called for every RPC)
    # =======================================================================

    def note_call(self, name, context, request):
        peer = context.peer() or "unknown"
        with self.hook_lock:
            if peer not in self.peers_all:
                self.peers_all.add(peer)
                self.peers_new += 1
            self.calls[name] = self.calls.get(name, 0) + 1
        if request is not None:
            self.record(name, request)

    def record(self, name, request):
        try:
            d = to_dict(request)
        except Exception:
            d = {"_unprintable": True}
        with self.hook_lock:
            self.last_requests[name] = d

    def apply_hooks(self, name, context):
        delay = None
        fail = None
        with self.hook_lock:
            for r in self.delay_rules:
                if r.matches(name):
                    delay = r
                    break
            if delay is not None and delay.count > 0:
                delay.count -= 1
                if delay.count == 0:
                    self.delay_rules.remove(delay)
            for r in self.fail_rules:
                if r.matches(name):
                    fail = r
                    break
            if fail is not None and fail.count > 0:
                fail.count -= 1
                if fail.count == 0:
                    self.fail_rules.remove(fail)
        if delay is not None:
            end = time.monotonic() + delay.seconds
            while time.monotonic() < end and context.is_active() and not self.stopping.is_set():
                time.sleep(min(0.02, max(0.0, end - time.monotonic())))
        if fail is not None:
            raise err(fail.code, fail.message or "simulated failure (%s)" % fail.code)

    def authenticate(self, name, context):
        if name == "Health":
            return None
        md = {}
        for k, v in context.invocation_metadata() or ():
            md[k.lower()] = v
        auth = md.get("authorization", "")
        if isinstance(auth, bytes):
            auth = auth.decode(errors="replace")
        if auth.startswith("Bearer "):
            token = auth[7:].strip()
            if name == "IssueSandboxToken" and token.startswith("k8s-sa."):
                sid = token[len("k8s-sa."):]
                return Principal("sandbox", "system:serviceaccount:openshell:" + sid, sid, "k8s")
            sid = self.issuer.verify(token)
            if sid is not None:
                return Principal("sandbox", "spiffe://openshell/sandbox/" + sid, sid, "jwt")
        if self.mtls and context.peer_identities():
            cn = context.auth_context().get("x509_common_name", [b"unknown"])
            cn = cn[0].decode(errors="replace") if cn else "unknown"
            return Principal("user", cn, source="mtls")
        if self.args.anonymous == "dev-user":
            return Principal("user", "unauthenticated-local-dev", source="dev")
        raise err("UNAUTHENTICATED", "missing authorization header")

    def authorize(self, name, principal):
        if principal is None:
            return
        if principal.kind == "sandbox" and name not in SANDBOX_CALLABLE:
            raise err("PERMISSION_DENIED", "sandbox principals may not call this method")
        if principal.kind == "user" and name in SANDBOX_ONLY_FROM_51 and self.B.ge(51):
            raise err("PERMISSION_DENIED", "this method requires a sandbox principal")

    def version_gate(self, name):
        if name in OLD_INFERENCE and self.B.new_inference:
            raise err("UNIMPLEMENTED", "")
        if name in NEW_INFERENCE and not self.B.new_inference:
            raise err("UNIMPLEMENTED", "")

    def snapshot(self):
        """JSON view of the state for GET /state."""
        with self.lock:
            sbs = []
            for sb in sorted(self.sandboxes.values(), key=lambda s: (s.created_at_ms, s.name)):
                latest = self.latest_revision(sb)
                sbs.append({
                    "id": sb.id, "name": sb.name, "phase": PHASE_NAMES.get(sb.phase, str(sb.phase)),
                    "phase_code": sb.phase, "labels": sb.labels, "resource_version": sb.rv,
                    "created_at_ms": sb.created_at_ms, "current_policy_version": sb.cpv,
                    "providers": list(sb.spec.providers), "gpu": sb.gpu, "spec": to_dict(sb.spec),
                    "policy": to_dict(latest["policy"]) if latest else None,
                    "policy_hash": latest["hash"] if latest else "",
                    "revisions": [{"version": r["version"], "status": r["status"], "policy_hash": r["hash"],
                                   "load_error": r["load_error"]} for r in sb.revisions],
                    "settings": sb.settings, "settings_revision": sb.settings_revision,
                    "chunks": [{"id": c["id"], "status": c["status"], "rule_name": c["rule_name"],
                                "security_notes": c["security_notes"], "confidence": c["confidence"],
                                "binary": c["binary"], "host": c["host"], "port": c["port"],
                                "rejection_reason": c["rejection_reason"]} for c in sb.chunks],
                    "draft_version": sb.draft_version, "sandbox_token": sb.token, "log_lines": len(sb.logs),
                })
            return {
                "version": self.B.reported, "behaviour_version": ".".join(map(str, self.B.v)),
                "layout": "status" if self.B.status_layout else "sandbox",
                "health_status": self.health_status,
                "sandboxes": sbs,
                "providers": [{"id": p["id"], "name": p["name"], "type": p["type"], "resource_version": p["rv"],
                               "credentials": p["credentials"], "config": p["config"], "expires": p["expires"],
                               "refresh": {k: {kk: vv for kk, vv in v.items() if kk != "material"}
                                           for k, v in p["refresh"].items()}}
                              for p in sorted(self.providers.values(), key=lambda p: p["created_at_ms"])],
                "settings": {k: v for k, v in self.global_settings.items() if k != "policy"},
                "settings_revision": self.global_settings_revision,
                "global_policy": to_dict(self.global_policy()) if self.global_policy() is not None else None,
                "global_revisions": [{"version": r["version"], "status": r["status"], "policy_hash": r["hash"]}
                                     for r in self.global_revisions],
                "inference_routes": self.routes,
                "ssh_sessions": list(self.ssh_sessions.values()),
                "services": list(self.services.values()),
                "profiles": sorted(self.profiles),
            }


# ---------------------------------------------------------------------------
# gRPC wiring
# ---------------------------------------------------------------------------

def _message_classes():
    classes = {}
    for mod in (P.dm, P.sb, P.os, P.inf):
        for name, desc in mod.DESCRIPTOR.message_types_by_name.items():
            classes[desc.full_name] = getattr(mod, name)
    return classes


def build_handlers(sim):
    classes = _message_classes()
    handlers = []
    for mod, svc_name in ((P.os, "OpenShell"), (P.inf, "Inference")):
        svc = mod.DESCRIPTOR.services_by_name[svc_name]
        table = {}
        for m in svc.methods:
            table[m.name] = _method_handler(sim, m, classes[m.input_type.full_name],
                                            classes[m.output_type.full_name])
        handlers.append(grpc.method_handlers_generic_handler(svc.full_name, table))
    return handlers


def _abort(context, e):
    code = getattr(grpc.StatusCode, e.code, grpc.StatusCode.UNKNOWN)
    context.abort(code, e.message)


def _method_handler(sim, mdesc, req_cls, resp_cls):
    name = mdesc.name
    impl = getattr(sim, name)
    cstream, sstream = mdesc.client_streaming, mdesc.server_streaming

    def prologue(request, context):
        sim.note_call(name, context, request)
        sim.apply_hooks(name, context)
        sim.version_gate(name)
        principal = sim.authenticate(name, context)
        sim.authorize(name, principal)
        call = CallCtx(name, context, principal, None)
        call.record = lambda msg: sim.record(name, msg)
        return call

    mutating = name.startswith(MUTATING_PREFIXES)

    def after():
        if mutating and sim.dirty and sim.args.state_file:
            try:
                sim.save_state()
            except OSError:
                traceback.print_exc()

    def fail_internal(context):
        traceback.print_exc()
        context.abort(grpc.StatusCode.INTERNAL, "gateway-sim internal error (see simulator stderr)")

    if not cstream and not sstream:
        def unary(request, context):
            try:
                call = prologue(request, context)
                return impl(request, call)
            except SimError as e:
                _abort(context, e)
            except Exception:
                fail_internal(context)
            finally:
                after()
        return grpc.unary_unary_rpc_method_handler(unary, request_deserializer=req_cls.FromString,
                                                   response_serializer=resp_cls.SerializeToString)

    def streaming(request, context):
        try:
            call = prologue(None if cstream else request, context)
            for item in impl(request, call):
                if not context.is_active():
                    return
                yield item
        except SimError as e:
            _abort(context, e)
        except Exception:
            fail_internal(context)
        finally:
            after()

    if cstream and sstream:
        return grpc.stream_stream_rpc_method_handler(streaming, request_deserializer=req_cls.FromString,
                                                     response_serializer=resp_cls.SerializeToString)
    if sstream:
        return grpc.unary_stream_rpc_method_handler(streaming, request_deserializer=req_cls.FromString,
                                                    response_serializer=resp_cls.SerializeToString)
    return grpc.stream_unary_rpc_method_handler(
        lambda it, ctx: next(streaming(it, ctx)), request_deserializer=req_cls.FromString,
        response_serializer=resp_cls.SerializeToString)


# ---------------------------------------------------------------------------
# Control API (plain HTTP + JSON on 127.0.0.1)
# ---------------------------------------------------------------------------

CONTROL_HELP = {
    "GET /calls": "per-RPC call counts and the last request of each (JSON)",
    "GET /handshakes": "new client connections (distinct peers) since start / last reset-calls",
    "POST /reset-calls": "zero the counters and forget the last requests",
    "POST /fail": '{"rpc": "Name"|"*", "code": "UNAVAILABLE", "count": 1, "message": "..."}',
    "POST /delay": '{"rpc": "Name"|"*", "seconds": 2.5, "count": 0}',
    "POST /clear": "remove all failure and delay rules",
    "GET /state": "sandboxes, providers, settings, policies, routes, sessions",
    "POST /seed-chunks": '{"sandbox": "name", "chunks": [PolicyChunk JSON...]} (omit chunks for the default set)',
    "POST /config": '{"version", "ready_delay", "policy_load_delay", "delete_delay", "health_status", '
                    '"policy_load_fail", "seed_chunks", "ssh_override": {...}}',
    "POST /phase": '{"sandbox": "name", "phase": "error"|"ready"|"provisioning"|..., "message": "..."}',
    "POST /logs": '{"sandbox": "name", "lines": [{"level", "message", "source"?, "target"?, "fields"?}]}',
}

STATUS_NAMES = {"UNSPECIFIED": 0, "HEALTHY": 1, "DEGRADED": 2, "UNHEALTHY": 3}


class ControlHandler(http.server.BaseHTTPRequestHandler):
    sim = None
    server_version = "gateway-sim-control/1"

    def log_message(self, fmt, *args):
        if self.sim.args.verbose:
            sys.stderr.write("control: " + (fmt % args) + "\n")

    def _send(self, code, obj):
        body = (json.dumps(obj, indent=1, sort_keys=True, default=str) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if not n:
            return {}
        data = json.loads(self.rfile.read(n).decode() or "{}")
        if not isinstance(data, dict):
            raise ValueError("body must be a JSON object")
        return data

    def do_GET(self):
        sim = self.sim
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        if path == "/calls":
            with sim.hook_lock:
                self._send(200, {"counts": dict(sim.calls), "last": dict(sim.last_requests),
                                 "total": sum(sim.calls.values())})
        elif path == "/handshakes":
            with sim.hook_lock:
                self._send(200, {"handshakes": sim.peers_new, "connections": sim.peers_new,
                                 "total_connections": len(sim.peers_all)})
        elif path == "/state":
            self._send(200, sim.snapshot())
        elif path == "/":
            self._send(200, {"endpoints": CONTROL_HELP, "listen": "%s:%d" % (sim.listen_host, sim.listen_port)})
        elif path == "/rules":
            with sim.hook_lock:
                self._send(200, {"fail": [r.as_dict() for r in sim.fail_rules],
                                 "delay": [r.as_dict() for r in sim.delay_rules]})
        else:
            self._send(404, {"error": "unknown endpoint", "endpoints": CONTROL_HELP})

    def do_POST(self):
        sim = self.sim
        path = self.path.split("?", 1)[0].rstrip("/")
        try:
            body = self._body()
            if path == "/reset-calls":
                with sim.hook_lock:
                    sim.calls.clear()
                    sim.last_requests.clear()
                    sim.peers_new = 0
                self._send(200, {"ok": True})
            elif path == "/fail":
                code = str(body.get("code", "UNAVAILABLE")).upper()
                if code not in grpc.StatusCode.__members__ or code == "OK":
                    raise ValueError("unknown gRPC status code %r" % code)
                rule = Rule(body.get("rpc", "*"), code=code, count=int(body.get("count", 1)),
                            message=str(body.get("message", "")))
                with sim.hook_lock:
                    sim.fail_rules.append(rule)
                self._send(200, {"ok": True, "rule": rule.as_dict()})
            elif path == "/delay":
                rule = Rule(body.get("rpc", "*"), seconds=float(body.get("seconds", 1.0)),
                            count=int(body.get("count", 0)))
                with sim.hook_lock:
                    sim.delay_rules.append(rule)
                self._send(200, {"ok": True, "rule": rule.as_dict()})
            elif path == "/clear":
                with sim.hook_lock:
                    sim.fail_rules.clear()
                    sim.delay_rules.clear()
                self._send(200, {"ok": True})
            elif path == "/seed-chunks":
                self._send(200, self._seed(body))
            elif path == "/config":
                self._send(200, self._config(body))
            elif path == "/phase":
                self._send(200, self._phase(body))
            elif path == "/logs":
                self._send(200, self._logs(body))
            else:
                self._send(404, {"error": "unknown endpoint", "endpoints": CONTROL_HELP})
        except LookupError as e:
            self._send(404, {"error": e.args[0] if e.args else str(e)})
        except (ValueError, TypeError, json_format.ParseError) as e:
            self._send(400, {"error": str(e)})

    def _logs(self, body):
        """Appends log lines to a sandbox: {"sandbox": name, "lines": [{level, message, source?,
        target?, fields?}]} (e.g. OCSF shorthand lines, which the simulator never makes)."""
        sim = self.sim
        with sim.lock:
            sb = sim.sandboxes.get(body.get("sandbox", ""))
            if sb is None:
                raise LookupError("unknown sandbox %r" % body.get("sandbox"))
            for ln in body.get("lines", []):
                sim.add_log(sb, str(ln["level"]), str(ln["message"]), source=ln.get("source", "sandbox"),
                            target=ln.get("target"), fields=ln.get("fields"))
            return {"logs": len(sb.logs)}

    def _seed(self, body):
        sim = self.sim
        with sim.lock:
            sb = sim.sandboxes.get(body.get("sandbox", ""))
            if sb is None:
                raise LookupError("unknown sandbox %r" % body.get("sandbox"))
            if "chunks" not in body:
                made = sim.seed_default_chunks(sb)
            else:
                made = []
                for cd in body["chunks"]:
                    ch = json_format.ParseDict(cd, P.os.PolicyChunk(), ignore_unknown_fields=False)
                    if not ch.rule_name:
                        raise ValueError("chunk needs rule_name")
                    rule = P.sb.NetworkPolicyRule()
                    rule.CopyFrom(ch.proposed_rule)
                    c = sim.new_chunk(sb, ch.rule_name, rule, rationale=ch.rationale, confidence=ch.confidence,
                                      hit_count=ch.hit_count, first_seen_ms=ch.first_seen_ms,
                                      last_seen_ms=ch.last_seen_ms, stage=ch.stage or "initial",
                                      denial_ids=list(ch.denial_summary_ids), status=ch.status or "pending",
                                      security_notes=ch.security_notes if "security_notes" in cd else None)
                    if ch.id:
                        c["id"] = ch.id
                    made.append(c)
                sim.draft_updated(sb, len(made), "%d seeded proposal(s)" % len(made))
            return {"ok": True, "chunk_ids": [c["id"] for c in made], "draft_version": sb.draft_version}

    def _config(self, body):
        sim = self.sim
        unknown = set(body) - {"version", "behave_as", "ready_delay", "policy_load_delay", "delete_delay",
                               "health_status", "policy_load_fail", "seed_chunks", "ssh_override"}
        if unknown:
            raise ValueError("unknown config keys: %s" % ", ".join(sorted(unknown)))
        hs = body.get("health_status")
        if isinstance(hs, str) and hs.upper() not in STATUS_NAMES:
            raise ValueError("health_status must be one of %s" % ", ".join(STATUS_NAMES))
        fields = P.os.CreateSshSessionResponse.DESCRIPTOR.fields_by_name
        probe = P.os.CreateSshSessionResponse()
        for k, v in (body.get("ssh_override") or {}).items():
            if k not in fields:
                raise ValueError("unknown CreateSshSessionResponse field %r" % k)
            setattr(probe, k, v)        # TypeError/ValueError on a wrong type
        for key in ("ready_delay", "policy_load_delay", "delete_delay"):
            if key in body:
                float(body[key])
        with sim.lock:
            if "version" in body or "behave_as" in body:
                sim.args.version = body.get("version", sim.args.version)
                sim.args.behave_as = body.get("behave_as", sim.args.behave_as)
                sim.B = Behaviour(sim.args.version, sim.args.behave_as)
            for key in ("ready_delay", "policy_load_delay", "delete_delay"):
                if key in body:
                    setattr(sim, key, float(body[key]))
            if "health_status" in body:
                hs = body["health_status"]
                sim.health_status = STATUS_NAMES[hs.upper()] if isinstance(hs, str) else int(hs)
            if "policy_load_fail" in body:
                sim.policy_load_fail = bool(body["policy_load_fail"])
            if "seed_chunks" in body:
                sim.seed_chunks = bool(body["seed_chunks"])
            if "ssh_override" in body:
                sim.ssh_override = dict(body["ssh_override"] or {})
            return {"ok": True, "version": sim.B.reported, "behaviour_version": ".".join(map(str, sim.B.v)),
                    "ready_delay": sim.ready_delay, "policy_load_delay": sim.policy_load_delay,
                    "delete_delay": sim.delete_delay, "health_status": sim.health_status,
                    "policy_load_fail": sim.policy_load_fail, "seed_chunks": sim.seed_chunks,
                    "ssh_override": sim.ssh_override}

    def _phase(self, body):
        sim = self.sim
        names = {v: k for k, v in PHASE_NAMES.items()}
        with sim.lock:
            sb = sim.sandboxes.get(body.get("sandbox", ""))
            if sb is None:
                raise LookupError("unknown sandbox %r" % body.get("sandbox"))
            phase = body.get("phase", "error")
            if isinstance(phase, str) and phase.lower() not in names:
                raise ValueError("phase must be one of %s" % ", ".join(sorted(names)))
            code = names[phase.lower()] if isinstance(phase, str) else int(phase)
            if code == PH_READY and sb.phase == PH_PROVISIONING:
                sb.ready_at = 0
                sim.tick()
            else:
                sb.phase = code
                sb.error_message = body.get("message", "simulated failure" if code == PH_ERROR else "")
                if code == PH_ERROR:
                    sim.add_event(sb, "Warning", "Failed", sb.error_message)
                if code == PH_DELETING:
                    sb.delete_at = time.time() + sim.delete_delay
                sim.touch(sb)
            return {"ok": True, "phase": PHASE_NAMES.get(sb.phase, str(sb.phase))}


def start_control(sim, port):
    handler = type("BoundControlHandler", (ControlHandler,), {"sim": sim})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    httpd.daemon_threads = True
    t = threading.Thread(target=httpd.serve_forever, name="control", daemon=True)
    t.start()
    return httpd


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="Simulated OpenShell gateway for Breakwater tests")
    ap.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT for gRPC (port 0 = pick one)")
    ap.add_argument("--tls-cert", help="server certificate (PEM)")
    ap.add_argument("--tls-key", help="server private key (PEM)")
    ap.add_argument("--client-ca", help="require client certificates signed by this CA (mTLS)")
    ap.add_argument("--plaintext", action="store_true", help="serve without TLS")
    ap.add_argument("--version", default="0.0.50", help="version reported by Health; selects the wire rules")
    ap.add_argument("--behave-as", default=None, help="apply the rules of this version instead (e.g. for "
                                                      "-dev or 0.0.0 versions)")
    ap.add_argument("--state-file", help="JSON file to persist state across restarts")
    ap.add_argument("--ready-delay", type=float, default=1.0, help="seconds from provisioning to ready")
    ap.add_argument("--policy-load-delay", type=float, default=0.3,
                    help="seconds before a new policy revision goes from pending to loaded")
    ap.add_argument("--delete-delay", type=float, default=0.2,
                    help="seconds a deleted sandbox stays in phase DELETING")
    ap.add_argument("--control", type=int, default=None, help="control API port on 127.0.0.1 (0 = pick one)")
    ap.add_argument("--extra-listeners", type=int, default=0, metavar="N",
                    help="also serve the same gateway on N more ephemeral ports of the same host "
                         "(e.g. to probe many 'gateways' with one process)")
    ap.add_argument("--ready-file", help="write the bound gRPC port here once serving (extra listener ports "
                                         "follow, one per line)")
    ap.add_argument("--control-port-file", help="write the bound control port here once serving")
    ap.add_argument("--anonymous", choices=("dev-user", "reject"), default="dev-user",
                    help="callers without client cert or sandbox token: local dev user (default) or "
                         "UNAUTHENTICATED")
    ap.add_argument("--dev-settings", action="store_true", help="also register dummy_int / dummy_bool")
    ap.add_argument("--no-seed-chunks", action="store_true", help="do not seed draft chunks on ready")
    ap.add_argument("--workers", type=int, default=128, help="gRPC worker threads")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    if not args.plaintext and not (args.tls_cert and args.tls_key):
        ap.error("--tls-cert and --tls-key are required unless --plaintext")
    if args.plaintext and args.client_ca:
        ap.error("--client-ca cannot be combined with --plaintext")
    return args


def _write_file(path, text):
    tmp = path + ".tmp%d" % os.getpid()
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv=None):
    args = parse_args(argv)
    sim = Sim(args)
    host, _, port = args.listen.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=args.workers, thread_name_prefix="rpc"),
        handlers=build_handlers(sim),
        options=[("grpc.so_reuseport", 0),
                 ("grpc.max_receive_message_length", 1024 * 1024),
                 ("grpc.max_send_message_length", 16 * 1024 * 1024)])
    hostpart = "[%s]" % host if ":" in host else host
    address = "%s:%s" % (hostpart, port or "0")
    creds = None
    if not args.plaintext:
        with open(args.tls_key, "rb") as f:
            key = f.read()
        with open(args.tls_cert, "rb") as f:
            cert = f.read()
        ca = None
        if args.client_ca:
            with open(args.client_ca, "rb") as f:
                ca = f.read()
        creds = grpc.ssl_server_credentials([(key, cert)], root_certificates=ca, require_client_auth=ca is not None)
        sim.tls = True
        sim.mtls = ca is not None

    def listen(addr):
        try:
            return server.add_insecure_port(addr) if creds is None else server.add_secure_port(addr, creds)
        except RuntimeError:
            return 0

    bound = listen(address)
    if not bound:
        print("gateway-sim: cannot listen on %s" % address, file=sys.stderr)
        return 2
    extra = []
    for _ in range(max(0, args.extra_listeners)):
        p = listen(hostpart + ":0")
        if not p:
            print("gateway-sim: cannot open extra listener %d" % (len(extra) + 1), file=sys.stderr)
            return 2
        extra.append(p)
    sim.listen_host = host
    sim.listen_port = bound
    server.start()
    ticker = threading.Thread(target=sim.ticker, name="ticker", daemon=True)
    ticker.start()
    control = None
    if args.control is not None:
        control = start_control(sim, args.control)
        cport = control.server_address[1]
        print("gateway-sim control on 127.0.0.1:%d" % cport, file=sys.stderr, flush=True)
        if args.control_port_file:
            _write_file(args.control_port_file, "%d\n" % cport)
    mode = "plaintext" if args.plaintext else ("mtls" if sim.mtls else "tls")
    if extra:
        print("gateway-sim extra listeners: %s" % ",".join(str(p) for p in extra), file=sys.stderr, flush=True)
    print("gateway-sim listening on %s:%d" % (host, bound), flush=True)
    if args.verbose:
        print("gateway-sim version %s (rules of %s), %s" % (sim.B.reported, ".".join(map(str, sim.B.v)), mode),
              file=sys.stderr, flush=True)
    if args.ready_file:
        _write_file(args.ready_file, "".join("%d\n" % p for p in [bound] + extra))

    done = threading.Event()

    def on_signal(signum, frame):
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not done.wait(0.5):
        pass
    sim.stopping.set()
    with sim.lock:
        sim.cond.notify_all()
    server.stop(grace=1.0).wait(3)
    if control is not None:
        control.shutdown()
        control.server_close()
    if args.state_file:
        sim.save_state()
    for path in (args.ready_file, args.control_port_file):
        if path:
            try:
                os.unlink(path)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    rc = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Do not wait for gRPC worker threads that may still be parked in a
    # handler (delay hooks, streams): everything worth keeping is saved.
    os._exit(rc)
