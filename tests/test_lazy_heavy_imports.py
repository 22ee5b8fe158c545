"""A worker pays only for the providers it serves: loading every plugin imports neither
botocore (~12 MiB) nor google-auth (~11 MiB); an account that signs imports them."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from importlib.metadata import entry_points
for ep in entry_points(group="proxy_core"):
    ep.load()
print(sorted(m for m in ("botocore", "google.auth") if m in sys.modules))
"""


def test_loading_every_plugin_imports_no_cloud_sdk() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
