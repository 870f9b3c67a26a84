"""Python stubs for Breakwater's OpenShell protos, generated on demand.

The repository holds only the .proto files (../../proto).  This module runs
protoc + grpc_python_plugin once per distinct proto content into a private
cache directory under the system temp dir (never into the checkout), puts
that directory on sys.path and imports the generated modules.

    from sim_protos import load
    P = load()
    P.os.HealthRequest()          # openshell.v1 messages      (openshell_pb2)
    P.sb.SandboxPolicy()          # openshell.sandbox.v1       (sandbox_pb2)
    P.dm.ObjectMeta()             # openshell.datamodel.v1     (datamodel_pb2)
    P.inf.GetInferenceBundleRequest()  # openshell.inference.v1 (inference_pb2)
    P.os_grpc.OpenShellStub(channel), P.inf_grpc.InferenceStub(channel)

Environment: GATEWAY_SIM_PROTO_DIR overrides the proto directory,
GATEWAY_SIM_CACHE the cache root, PROTOC / GRPC_PYTHON_PLUGIN the tools.
"""

import hashlib
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import types

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PROTO_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "proto"))
PROTO_FILES = ("datamodel.proto", "sandbox.proto", "openshell.proto", "inference.proto")
MODULES = ("datamodel_pb2", "sandbox_pb2", "openshell_pb2", "inference_pb2",
           "openshell_pb2_grpc", "inference_pb2_grpc")

_loaded = None


def proto_dir():
    return os.environ.get("GATEWAY_SIM_PROTO_DIR") or DEFAULT_PROTO_DIR


def _tool(env, default):
    return os.environ.get(env) or shutil.which(default) or ("/usr/bin/" + default)


def _include_dirs():
    dirs = []
    for cand in ("/usr/include", "/usr/local/include"):
        if os.path.exists(os.path.join(cand, "google", "protobuf", "struct.proto")):
            dirs.append(cand)
    return dirs


def _digest(pdir, protoc, plugin):
    h = hashlib.sha256()
    for name in PROTO_FILES:
        with open(os.path.join(pdir, name), "rb") as f:
            h.update(name.encode() + b"\0" + f.read() + b"\0")
    h.update(protoc.encode() + b"\0" + plugin.encode())
    return h.hexdigest()[:20]


def generate(out_root=None):
    """Generate the stubs if needed; return the directory that holds them."""
    pdir = proto_dir()
    protoc = _tool("PROTOC", "protoc")
    plugin = _tool("GRPC_PYTHON_PLUGIN", "grpc_python_plugin")
    root = out_root or os.environ.get("GATEWAY_SIM_CACHE") or os.path.join(
        tempfile.gettempdir(), "gateway-sim-stubs-%d" % os.getuid())
    os.makedirs(root, mode=0o700, exist_ok=True)
    target = os.path.join(root, _digest(pdir, protoc, plugin))
    if os.path.exists(os.path.join(target, "COMPLETE")):
        return target
    work = tempfile.mkdtemp(prefix="gen-", dir=root)
    cmd = [protoc, "--python_out=" + work, "--grpc_python_out=" + work,
           "--plugin=protoc-gen-grpc_python=" + plugin, "-I", pdir]
    for inc in _include_dirs():
        cmd += ["-I", inc]
    cmd += [os.path.join(pdir, name) for name in PROTO_FILES]
    try:
        subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise RuntimeError("protoc failed: %s\n%s" % (" ".join(cmd),
                                                      exc.stderr.decode(errors="replace")))
    with open(os.path.join(work, "COMPLETE"), "w") as f:
        f.write("ok\n")
    try:
        os.rename(work, target)
    except OSError:
        # Another process won the race; its copy is identical.
        shutil.rmtree(work, ignore_errors=True)
    return target


def load():
    """Generate (if needed) and import the stubs; returns a namespace."""
    global _loaded
    if _loaded is not None:
        return _loaded
    gen = generate()
    if gen not in sys.path:
        sys.path.insert(0, gen)
    mods = {m: importlib.import_module(m) for m in MODULES}
    ns = types.SimpleNamespace(
        dir=gen,
        dm=mods["datamodel_pb2"],
        sb=mods["sandbox_pb2"],
        os=mods["openshell_pb2"],
        inf=mods["inference_pb2"],
        os_grpc=mods["openshell_pb2_grpc"],
        inf_grpc=mods["inference_pb2_grpc"],
    )
    _loaded = ns
    return ns


if __name__ == "__main__":
    print(generate())
