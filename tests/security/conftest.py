"""The security tests use the integration tests' daemons and fixtures (one definition of
them: tests/integration/conftest.py, loaded once under its own name, which tests import
from as integration_conftest, cells_integration_conftest or cells_integration), plus
helpers to build attack programs and put files into a VP. More helpers are in
attackers.py."""

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
_INTEGRATION = HERE.parent / "integration"
sys.path.insert(0, str(_INTEGRATION))
# Loaded once, under a name of its own (a plain `import conftest` here finds this file);
# tests import from it by either name.
_integration = sys.modules.get("integration_conftest")
if _integration is None:
    _spec = importlib.util.spec_from_file_location("integration_conftest",
                                                   _INTEGRATION / "conftest.py")
    _integration = importlib.util.module_from_spec(_spec)
    sys.modules["integration_conftest"] = _integration
    _spec.loader.exec_module(_integration)
sys.modules["cells_integration_conftest"] = _integration
sys.modules["cells_integration"] = _integration
globals().update({k: v for k, v in vars(_integration).items() if not k.startswith("__")})


@pytest.fixture(scope="session")
def build_static():
    """build_static("x.c") -> bytes of HERE/x.c built static for x86-64."""
    tmp = Path(tempfile.mkdtemp(prefix="cells-attack-"))
    built = {}

    def build(src, *extra):
        if src not in built:
            out = tmp / Path(src).stem
            r = subprocess.run(["gcc", "-O2", "-Wall", "-static", "-pthread", *extra,
                                "-o", str(out), str(HERE / src)],
                               capture_output=True, text=True)
            assert r.returncode == 0, f"cannot build {src}:\n{r.stderr}"
            built[src] = out.read_bytes()
        return built[src]

    yield build
    shutil.rmtree(tmp, ignore_errors=True)


def put_file(d, name, rel, data, mode=0o755):
    """Writes DATA at REL in the (stopped or running) VP's upper layer, owned by its
    root."""
    uid = d.vp_uid(d.vp(name)["id"])
    path = d.upper(name)
    for part in [""] + rel.split("/")[:-1]:  # the upper layer itself is made at start
        path = path / part if part else path
        if not path.exists():
            path.mkdir(mode=0o755)
            os.chown(path, uid, uid)
    f = path / rel.split("/")[-1]
    f.write_bytes(data)
    os.chmod(f, mode)
    os.chown(f, uid, uid)


NO_LAUNCHER = b"#!/bin/sh\n# a security test: no launcher\nexit 0\n"


def make_vp(d, name, files, create_args=(), start=True):
    """`cell create NAME`, FILES ({path in the VP: bytes}) in its upper layer, no
    launcher, started unless not START."""
    d.cell("create", name, *create_args)
    for rel, data in files.items():
        put_file(d, name, rel, data)
    put_file(d, name, "etc/cells/rc.d/50-launcher", NO_LAUNCHER)
    if start:
        d.cell("start", name)


def parse(text):
    """key=value lines -> dict."""
    out = {}
    for line in text.splitlines():
        k, sep, v = line.partition("=")
        if sep:
            out[k.strip()] = v.strip()
    return out


@pytest.fixture(scope="session")
def attack_exe(build_static):
    """attack.c built static for x86-64 (bytes)."""
    return build_static("attack.c")
