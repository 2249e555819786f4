"""The security tests reuse the integration tests' conftest (fixtures make_daemon, daemon,
the Daemon class, helpers) and modules (rfb), loaded once under the name
integration_conftest: a plain `import conftest` here would find this file."""

import importlib.util
import sys
from pathlib import Path

INTEGRATION = Path(__file__).resolve().parents[1] / "integration"
sys.path.insert(0, str(INTEGRATION))

if "integration_conftest" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("integration_conftest",
                                                   INTEGRATION / "conftest.py")
    _mod = importlib.util.module_from_spec(_spec)
    sys.modules["integration_conftest"] = _mod
    _spec.loader.exec_module(_mod)
globals().update({k: v for k, v in vars(sys.modules["integration_conftest"]).items()
                  if not k.startswith("__")})
