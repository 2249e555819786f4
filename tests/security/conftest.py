"""Fixtures of the security tests: those of the integration tests, loaded from
tests/integration/conftest.py (not copied). Tests import its helpers from
`cells_integration_conftest`."""

import importlib.util
import sys
from pathlib import Path

_PATH = Path(__file__).resolve().parents[1] / "integration" / "conftest.py"
if "cells_integration_conftest" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("cells_integration_conftest", _PATH)
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["cells_integration_conftest"] = _module
    _spec.loader.exec_module(_module)

from cells_integration_conftest import *  # noqa: E402,F401,F403 (fixtures and hooks)
