"""The security tests drive real daemons as the integration tests do: their fixtures and
helpers are those of tests/integration/conftest.py, loaded from there (not copied)."""

import importlib.util
import sys
from pathlib import Path

_PATH = Path(__file__).resolve().parents[1] / "integration" / "conftest.py"
_SPEC = importlib.util.spec_from_file_location("cells_integration_conftest", _PATH)
_MOD = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = _MOD
_SPEC.loader.exec_module(_MOD)
globals().update({k: v for k, v in vars(_MOD).items() if not k.startswith("__")})
