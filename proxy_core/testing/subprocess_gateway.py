"""``proxy-core serve`` in a subprocess: its own process and GIL, as in production.

For tests that measure the gateway (memory, latency under load) or send it signals.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml


@contextmanager
def served(
    tmp_path: Path, config: dict[str, Any], *, grace_s: float = 30, start_timeout_s: float = 20
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Serve ``config`` on a free 127.0.0.1 port; yields (process, base URL) once ready.

    Output goes to ``tmp_path / "gateway.log"``, not a pipe: an unread pipe fills up and
    blocks the gateway's logging.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    config["server"] = {**config.get("server", {}), "host": "127.0.0.1", "port": port, "shutdown_grace_s": grace_s}
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(config))
    cli = Path(sys.executable).parent / "proxy-core"
    with (tmp_path / "gateway.log").open("wb") as log:
        proc = subprocess.Popen([str(cli), "serve", "--config", str(path)], stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + start_timeout_s
            while True:
                try:
                    if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("gateway did not start:\n" + (tmp_path / "gateway.log").read_text())
                time.sleep(0.05)
            yield proc, url
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
