"""Fixtures of the security tests: the integration tests' daemons (tests/integration/
conftest.py, loaded here under the name cells_integration) and the attack program
(attack.c, built static once per session) put into VPs."""

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location(
    "cells_integration", HERE.parent / "integration" / "conftest.py")
cells_integration = importlib.util.module_from_spec(_spec)
sys.modules["cells_integration"] = cells_integration
_spec.loader.exec_module(cells_integration)

# The integration fixtures, for the tests here.
pytest_configure = cells_integration.pytest_configure
make_daemon = cells_integration.make_daemon
daemon = cells_integration.daemon
host_sleep = cells_integration.host_sleep

NO_LAUNCHER = b"#!/bin/sh\n# the test drives: no launcher\nexit 0\n"


@pytest.fixture(scope="session")
def attack_exe():
    """attack.c built static for x86-64 (bytes)."""
    tmp = Path(tempfile.mkdtemp(prefix="cells-attack-"))
    try:
        out = tmp / "attack"
        r = subprocess.run(["gcc", "-O2", "-Wall", "-static", "-o", str(out),
                            str(HERE / "attack.c")], capture_output=True, text=True)
        assert r.returncode == 0, f"cannot build attack.c:\n{r.stderr}"
        yield out.read_bytes()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def put_file(d, name, rel, data, mode=0o755):
    """Writes DATA at REL in the VP's upper layer, owned by its root (directories too)."""
    uid = d.vp_uid(d.vp(name)["id"])
    path = d.upper(name)
    for part in [""] + rel.split("/")[:-1]:
        path = path / part if part else path
        if not path.exists():
            path.mkdir(mode=0o755)
            os.chown(path, uid, uid)
    f = path / rel.split("/")[-1]
    f.write_bytes(data)
    os.chmod(f, mode)
    os.chown(f, uid, uid)


def add_attacker(d, name, attack, start=True):
    """Creates VP NAME with /usr/bin/attack and no launcher; starts it if START."""
    d.cell("create", name)
    put_file(d, name, "usr/bin/attack", attack)
    put_file(d, name, "etc/cells/rc.d/50-launcher", NO_LAUNCHER)
    if start:
        d.cell("start", name)


def results(text):
    """NAME=RESULT lines -> {NAME: RESULT}."""
    out = {}
    for line in text.splitlines():
        k, sep, v = line.partition("=")
        if sep:
            out[k.strip()] = v.strip()
    return out


def attack(d, name, *args, timeout=30):
    """Runs `attack ARGS` in VP NAME: (exit status, {NAME: RESULT})."""
    r = d.exec(name, "attack", *map(str, args), check=False, timeout=timeout)
    return r.returncode, results(r.stdout)


def carries_on(d, *names):
    """The daemon answers and every VP of NAMES runs a command."""
    vps = d.list()
    for n in names:
        assert vps[n]["state"] == "running", vps[n]
        assert d.exec(n, "echo", "alive").stdout.strip() == "alive"
