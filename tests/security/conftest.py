"""The security tests use the integration tests' daemons and fixtures (one definition of
them: tests/integration/conftest.py, loaded once under its own name, which tests import
from as integration_conftest, cells_integration_conftest or cells_integration), plus
the fixtures that build attack programs. The helpers that put them into VPs are in
attackers.py."""

import importlib.util
import shutil
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
            built[src] = _integration.build_static(HERE / src, tmp, "-pthread", *extra)
        return built[src]

    yield build
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def attack_exe(build_static):
    """attack.c built static for x86-64 (bytes)."""
    return build_static("attack.c")
