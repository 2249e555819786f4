"""Fixtures of the security tests: the integration tests' daemons (tests/integration/
conftest.py, loaded here under the name cells_integration) and the attack program
(attack.c, built static once per session). Helpers are in attackers.py."""

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

# The integration fixtures for the tests here, and its names for a test of tests/integration
# that imports `conftest` and gets this one (a pytest session with both directories).
from cells_integration import *  # noqa: E402,F401,F403

pytest_configure = cells_integration.pytest_configure
make_daemon = cells_integration.make_daemon
daemon = cells_integration.daemon
host_sleep = cells_integration.host_sleep

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


