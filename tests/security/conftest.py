"""The security tests drive real daemons like the integration tests: their fixtures and
helpers, loaded from tests/integration/conftest.py (one copy of them)."""

import importlib.util
import sys
from pathlib import Path

_path = Path(__file__).resolve().parents[1] / "integration" / "conftest.py"
_spec = importlib.util.spec_from_file_location("integration_conftest", _path)
integration = importlib.util.module_from_spec(_spec)
sys.modules["integration_conftest"] = integration
_spec.loader.exec_module(integration)
globals().update({k: v for k, v in vars(integration).items() if not k.startswith("__")})
