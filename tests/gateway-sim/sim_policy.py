"""Policy helpers for the simulated gateway: hashing, safety validation,
static-field checks and the incremental merge operations of UpdateConfig.

All functions work on openshell.sandbox.v1 protobuf messages.  Errors are
raised as SimError(code_name, message) and turned into gRPC statuses by the
server.  Written for the simulator from the behaviour described in
shared/reference/openshell-grpc.md (§1.3.14-§1.3.17).
"""

import hashlib
import ipaddress
import struct


class SimError(Exception):
    """A gRPC error to return: code is a grpc.StatusCode name."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def invalid(msg):
    return SimError("INVALID_ARGUMENT", msg)


def precondition(msg):
    return SimError("FAILED_PRECONDITION", msg)


# ---------------------------------------------------------------------------
# Hashes / fingerprints
# ---------------------------------------------------------------------------

def _ser(msg):
    return msg.SerializeToString(deterministic=True)


def policy_hash(policy):
    h = hashlib.sha256()
    h.update(struct.pack("<I", policy.version & 0xFFFFFFFF))
    if policy.HasField("filesystem"):
        h.update(_ser(policy.filesystem))
    if policy.HasField("landlock"):
        h.update(_ser(policy.landlock))
    if policy.HasField("process"):
        h.update(_ser(policy.process))
    for key in sorted(policy.network_policies):
        h.update(key.encode())
        h.update(_ser(policy.network_policies[key]))
    return h.hexdigest()


def fingerprint64(*parts):
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, str):
            p = p.encode()
        h.update(p)
        h.update(b"\0")
    return struct.unpack("<Q", h.digest()[:8])[0]


# ---------------------------------------------------------------------------
# Defaults and validation
# ---------------------------------------------------------------------------

def default_image_policy(sb):
    """Policy a sandbox reports when it was created without one (what a
    typical community image ships): restrictive filesystem, one PyPI rule."""
    p = sb.SandboxPolicy(version=1)
    p.filesystem.include_workdir = True
    p.filesystem.read_only.extend(["/usr", "/lib", "/proc", "/dev/urandom", "/app", "/etc", "/var/log"])
    p.filesystem.read_write.extend(["/sandbox", "/tmp", "/dev/null"])
    p.landlock.compatibility = "best_effort"
    p.process.run_as_user = "sandbox"
    p.process.run_as_group = "sandbox"
    rule = p.network_policies["pypi"]
    rule.name = "pypi"
    ep = rule.endpoints.add(host="pypi.org", port=443, protocol="rest",
                            access="read-only", enforcement="enforce")
    ep.ports.append(443)
    ep2 = rule.endpoints.add(host="files.pythonhosted.org", port=443)
    ep2.ports.append(443)
    rule.binaries.add(path="/usr/bin/pip")
    rule.binaries.add(path="/usr/local/bin/pip")
    return p


def ensure_process_identity(policy):
    if not policy.process.run_as_user:
        policy.process.run_as_user = "sandbox"
    if not policy.process.run_as_group:
        policy.process.run_as_group = "sandbox"


def validate_policy_safety(policy):
    problems = []
    if policy.HasField("process"):
        if policy.process.run_as_user != "sandbox":
            problems.append("run_as_user must be 'sandbox', got '%s'" % policy.process.run_as_user)
        if policy.process.run_as_group != "sandbox":
            problems.append("run_as_group must be 'sandbox', got '%s'" % policy.process.run_as_group)
    if policy.HasField("filesystem"):
        fs = policy.filesystem
        paths = list(fs.read_only) + list(fs.read_write)
        if len(paths) > 256:
            problems.append("too many filesystem paths (%d > 256)" % len(paths))
        for path in paths:
            if len(path) > 4096:
                problems.append("path exceeds maximum length (%d > 4096): %s..." % (len(path), path[:77]))
                continue
            if not path.startswith("/"):
                problems.append("path must be absolute (start with '/'): %s" % path)
            if ".." in path.split("/"):
                problems.append("path contains '..' traversal component: %s" % path)
        for path in fs.read_write:
            if path.rstrip("/") == "":
                problems.append("read-write path is overly broad: %s" % path)
    for key, rule in policy.network_policies.items():
        name = rule.name or key
        for ep in rule.endpoints:
            if "*" in ep.host and (ep.host.startswith("*.") or ep.host.startswith("**.")):
                if len(ep.host.split(".")) <= 2:
                    problems.append(
                        "network policy '%s': TLD wildcard '%s' is not allowed; use subdomain "
                        "wildcards like '*.example.com' instead" % (name, ep.host))
    if problems:
        raise invalid("policy contains unsafe content: " + "; ".join(problems))


def validate_static_fields_unchanged(baseline, new):
    bfs = baseline.filesystem if baseline.HasField("filesystem") else None
    nfs = new.filesystem if new.HasField("filesystem") else None
    if bfs is not None:
        if nfs is None:
            raise invalid("filesystem policy cannot be removed on a live sandbox")
        if bfs.include_workdir != nfs.include_workdir:
            raise invalid("filesystem include_workdir cannot be changed on a live sandbox")
        for p in bfs.read_only:
            if p not in nfs.read_only:
                raise invalid("filesystem read_only path '%s' cannot be removed on a live sandbox" % p)
        for p in bfs.read_write:
            if p not in nfs.read_write:
                raise invalid("filesystem read_write path '%s' cannot be removed on a live sandbox" % p)
    if _opt(baseline, "landlock") != _opt(new, "landlock"):
        raise invalid("landlock policy cannot be changed on a live sandbox (applied at startup)")
    if _opt(baseline, "process") != _opt(new, "process"):
        raise invalid("process policy cannot be changed on a live sandbox (applied at startup)")


def _opt(msg, field):
    return _ser(getattr(msg, field)) if msg.HasField(field) else None


def rule_always_blocked(rule):
    for ep in rule.endpoints:
        host = ep.host.strip()
        try:
            ip = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            ip = None
        if ip is not None and (ip.is_loopback or ip.is_link_local or ip.is_unspecified):
            raise invalid("proposed rule endpoint host '%s' is an always-blocked address "
                          "(loopback/link-local/unspecified); the proxy will deny traffic to this "
                          "destination regardless of policy" % ep.host)
        if host.lower() in ("localhost", "localhost."):
            raise invalid("proposed rule endpoint host 'localhost' is always blocked; the proxy "
                          "will deny traffic to loopback regardless of policy")
        for entry in ep.allowed_ips:
            try:
                net = ipaddress.ip_network(entry, strict=False)
            except ValueError:
                continue
            if net.is_loopback or net.is_link_local or net.is_unspecified:
                raise invalid("proposed rule contains always-blocked `allowed_ips` entry '%s'; "
                              "SSRF hardening prevents traffic to these destinations regardless "
                              "of policy" % entry)


def security_notes(host, port):
    notes = []
    if (host.startswith("10.") or host.startswith("172.") or host.startswith("192.168.")
            or host == "localhost" or host.startswith("127.") or host.startswith("169.254.")):
        notes.append("Destination '%s' appears to be an internal/private address." % host)
    if "*" in host:
        notes.append("Host '%s' contains a wildcard — this may match unintended destinations." % host)
    if port > 49152:
        notes.append("Port %d is in the ephemeral range — this may be a temporary service." % port)
    if port in (5432, 3306, 6379, 27017, 9200, 11211, 5672):
        notes.append("Port %d is a well-known database/service port." % port)
    return " ".join(notes)


# ---------------------------------------------------------------------------
# Merge operations
# ---------------------------------------------------------------------------

def parse_merge_operations(ops):
    """Validate PolicyMergeOperation messages; returns [(kind, msg)]."""
    parsed = []
    for i, op in enumerate(ops):
        kind = op.WhichOneof("operation")
        if kind is None:
            raise invalid("merge_operations[%d] is missing an operation" % i)
        m = getattr(op, kind)
        if kind == "add_rule":
            if not m.rule_name.strip():
                raise invalid("merge_operations[%d].add_rule.rule_name is required" % i)
            if not m.HasField("rule") or len(m.rule.endpoints) == 0:
                raise invalid("merge_operations[%d].add_rule.rule must contain at least one endpoint" % i)
            rule_always_blocked(m.rule)
        elif kind == "remove_endpoint":
            if not m.host.strip() or m.port == 0:
                raise invalid("merge_operations[%d].remove_endpoint requires host and non-zero port" % i)
        elif kind == "remove_rule":
            if not m.rule_name.strip():
                raise invalid("merge_operations[%d].remove_rule.rule_name is required" % i)
        elif kind == "add_deny_rules":
            if not m.host.strip() or m.port == 0 or len(m.deny_rules) == 0:
                raise invalid("merge_operations[%d].add_deny_rules requires host, non-zero port, "
                              "and at least one deny rule" % i)
        elif kind == "add_allow_rules":
            if not m.host.strip() or m.port == 0 or len(m.rules) == 0:
                raise invalid("merge_operations[%d].add_allow_rules requires host, non-zero port, "
                              "and at least one allow rule" % i)
            if any(not r.HasField("allow") for r in m.rules):
                raise invalid("merge_operations[%d].add_allow_rules rules must include allow payloads" % i)
        elif kind == "remove_binary":
            if not m.rule_name.strip() or not m.binary_path.strip():
                raise invalid("merge_operations[%d].remove_binary requires rule_name and binary_path" % i)
        parsed.append((kind, m))
    return parsed


def _ports(ep):
    if len(ep.ports):
        return list(ep.ports)
    if ep.port > 0:
        return [ep.port]
    return []


def _normalize_endpoint(ep):
    ports = sorted(set(_ports(ep)))
    ep.port = ports[0] if ports else 0
    del ep.ports[:]
    ep.ports.extend(ports)
    _dedup_strings(ep.allowed_ips)
    _dedup_msgs(ep.rules)
    _dedup_msgs(ep.deny_rules)


def _dedup_strings(field):
    seen = []
    for v in field:
        if v not in seen:
            seen.append(v)
    del field[:]
    field.extend(seen)


def _dedup_msgs(field):
    kept = []
    for v in field:
        if all(v != k for k in kept):
            kept.append(type(v)())
            kept[-1].CopyFrom(v)
    del field[:]
    field.extend(kept)


def _append_unique(field, incoming):
    for v in incoming:
        if all(v != e for e in field):
            field.add().CopyFrom(v)


def _overlap(a, b):
    if a.host.lower() != b.host.lower() or a.path != b.path:
        return False
    pb = _ports(b)
    return any(p in pb for p in _ports(a))


def _matches_host_port(ep, host, port):
    return ep.host.lower() == host.lower() and port in _ports(ep)


def _find_endpoint(policy, host, port):
    for key in sorted(policy.network_policies):
        for ep in policy.network_policies[key].endpoints:
            if _matches_host_port(ep, host, port):
                return ep
    return None


def _require_l7(ep, host, port):
    if not ep.protocol:
        raise precondition("endpoint %s:%d has no L7 inspection configured (protocol is empty)" % (host, port))
    if ep.protocol not in ("rest", "websocket"):
        raise precondition("endpoint %s:%d uses unsupported protocol '%s'; this operation currently "
                           "supports only protocol 'rest' or 'websocket'" % (host, port, ep.protocol))


_PRESETS = {
    "full": ["*"],
    "read-only": ["GET", "HEAD", "OPTIONS"],
    "read-write": ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"],
}


def _expand_access(sb, ep, host, port):
    if not ep.access:
        return
    if ep.access == "full":
        methods = _PRESETS["full"]
    elif ep.protocol == "websocket" and ep.access == "read-only":
        methods = ["GET"]
    elif ep.protocol == "websocket" and ep.access == "read-write":
        methods = ["GET", "WEBSOCKET_TEXT"]
    elif ep.access in _PRESETS:
        methods = _PRESETS[ep.access]
    else:
        raise invalid("endpoint %s:%d uses unsupported access preset '%s'" % (host, port, ep.access))
    ep.access = ""
    expanded = [sb.L7Rule(allow=sb.L7Allow(method=m, path="**")) for m in methods]
    _append_unique(ep.rules, expanded)


def _merge_endpoint(sb, existing, incoming):
    host = existing.host or incoming.host
    ports = _ports(existing) or _ports(incoming)
    port = ports[0] if ports else 0
    if not existing.host:
        existing.host = incoming.host
    if not existing.path:
        existing.path = incoming.path
    merged_ports = sorted(set(_ports(existing)) | set(_ports(incoming)))
    existing.port = merged_ports[0] if merged_ports else 0
    del existing.ports[:]
    existing.ports.extend(merged_ports)
    for f in ("protocol", "enforcement", "tls"):
        if getattr(incoming, f) and not getattr(existing, f):
            setattr(existing, f, getattr(incoming, f))
    if len(incoming.rules):
        _expand_access(sb, existing, host, port)
        _append_unique(existing.rules, incoming.rules)
    elif incoming.access:
        if not len(existing.rules) and not existing.access:
            existing.access = incoming.access
    _append_unique(existing.deny_rules, incoming.deny_rules)
    for ip in incoming.allowed_ips:
        if ip not in existing.allowed_ips:
            existing.allowed_ips.append(ip)
    existing.allow_encoded_slash |= incoming.allow_encoded_slash
    existing.websocket_credential_rewrite |= incoming.websocket_credential_rewrite
    existing.request_body_credential_rewrite |= incoming.request_body_credential_rewrite
    _normalize_endpoint(existing)


def _add_rule(sb, policy, rule_name, rule):
    incoming = sb.NetworkPolicyRule()
    incoming.CopyFrom(rule)
    for ep in incoming.endpoints:
        _normalize_endpoint(ep)
    seen = []
    bins = []
    for b in incoming.binaries:
        if b.path not in seen:
            seen.append(b.path)
            bins.append(b)
    kept = [sb.NetworkBinary(path=b.path, harness=b.harness) for b in bins]
    del incoming.binaries[:]
    incoming.binaries.extend(kept)
    if not incoming.name:
        incoming.name = rule_name
    target = None
    if rule_name in policy.network_policies:
        target = rule_name
    else:
        for key in sorted(policy.network_policies):
            existing = policy.network_policies[key]
            if any(_overlap(e, i) for i in incoming.endpoints for e in existing.endpoints):
                target = key
                break
    if target is None:
        policy.network_policies[rule_name].CopyFrom(incoming)
        return
    existing = policy.network_policies[target]
    for b in incoming.binaries:
        if all(b.path != e.path for e in existing.binaries):
            existing.binaries.add().CopyFrom(b)
    for iep in incoming.endpoints:
        match = None
        for eep in existing.endpoints:
            if _overlap(eep, iep):
                match = eep
                break
        if match is None:
            existing.endpoints.add().CopyFrom(iep)
        else:
            _merge_endpoint(sb, match, iep)


def _remove_endpoint(policy, rule_name, host, port):
    if rule_name:
        keys = [rule_name] if rule_name in policy.network_policies else []
    else:
        keys = sorted(policy.network_policies)
    empty = []
    for key in keys:
        rule = policy.network_policies[key]
        kept = []
        for ep in rule.endpoints:
            if not _matches_host_port(ep, host, port):
                kept.append(ep)
                continue
            remaining = sorted(set(p for p in _ports(ep) if p != port))
            if remaining:
                ep.port = remaining[0]
                del ep.ports[:]
                ep.ports.extend(remaining)
                kept.append(ep)
        copies = []
        for ep in kept:
            c = type(ep)()
            c.CopyFrom(ep)
            copies.append(c)
        del rule.endpoints[:]
        rule.endpoints.extend(copies)
        if len(rule.endpoints) == 0:
            empty.append(key)
    for key in empty:
        del policy.network_policies[key]


def apply_merge_operations(sb, policy, parsed_ops):
    """Apply parsed ops to a copy of policy. Returns (new_policy, changed)."""
    merged = sb.SandboxPolicy()
    merged.CopyFrom(policy)
    for kind, m in parsed_ops:
        if kind == "add_rule":
            _add_rule(sb, merged, m.rule_name.strip(), m.rule)
        elif kind == "remove_endpoint":
            _remove_endpoint(merged, m.rule_name.strip() or None, m.host.strip(), m.port)
        elif kind == "remove_rule":
            name = m.rule_name.strip()
            if name in merged.network_policies:
                del merged.network_policies[name]
        elif kind == "add_deny_rules":
            host = m.host.strip()
            ep = _find_endpoint(merged, host, m.port)
            if ep is None:
                raise precondition("endpoint %s:%d was not found in the current policy" % (host, m.port))
            _require_l7(ep, host, m.port)
            if not ep.access and not len(ep.rules):
                raise precondition("endpoint %s:%d has no base allow set; configure access or explicit "
                                   "allow rules before adding deny rules" % (host, m.port))
            _append_unique(ep.deny_rules, m.deny_rules)
        elif kind == "add_allow_rules":
            host = m.host.strip()
            ep = _find_endpoint(merged, host, m.port)
            if ep is None:
                raise precondition("endpoint %s:%d was not found in the current policy" % (host, m.port))
            _require_l7(ep, host, m.port)
            _expand_access(sb, ep, host, m.port)
            _append_unique(ep.rules, m.rules)
        elif kind == "remove_binary":
            name = m.rule_name.strip()
            path = m.binary_path.strip()
            if name in merged.network_policies:
                rule = merged.network_policies[name]
                before = len(rule.binaries)
                kept = [sb.NetworkBinary(path=b.path, harness=b.harness) for b in rule.binaries if b.path != path]
                del rule.binaries[:]
                rule.binaries.extend(kept)
                if before != len(rule.binaries) and len(rule.binaries) == 0:
                    del merged.network_policies[name]
    return merged, merged != policy
