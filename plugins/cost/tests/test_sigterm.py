"""SIGTERM on a real `proxy-core serve` process with records pending loses none."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import yaml
from cost_helpers import POSTGRES_URL

from proxy_core.testing import GATEWAY_KEY, FakeUpstream, default_config

N = 12


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def count_rows(store: str, table: str) -> int:
    if store.startswith("sqlite:///"):
        path = store[len("sqlite:///") :]
        if not Path(path).exists():
            return 0
        with sqlite3.connect(path) as db:
            return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    async def pg() -> int:
        conn = await asyncpg.connect(POSTGRES_URL)
        try:
            return int(await conn.fetchval(f"SELECT COUNT(*) FROM {table}"))
        finally:
            await conn.close()

    return asyncio.run(pg())


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'spend.db'}", "spend"
    return POSTGRES_URL, request.getfixturevalue("pg_table")


def test_sigterm_flushes_pending_records(fake_openai: FakeUpstream, tmp_path: Path, store: tuple[str, str]) -> None:
    url, table = store
    port = free_port()
    cfg: dict[str, Any] = default_config(openai_url=fake_openai.url)
    cfg["server"] = {"host": "127.0.0.1", "port": port, "shutdown_grace_s": 5, "log_level": "info"}
    cfg["plugins"] = {"cost": {"store": url, "table": table, "flush_interval_s": 600, "batch_size": 10_000}}
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(cfg))
    exe = Path(sys.executable).parent / "proxy-core"
    proc = subprocess.Popen(
        [str(exe), "serve", "--config", str(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "the gateway did not start"
            time.sleep(0.05)
        with httpx.Client(base_url=base, headers={"authorization": f"Bearer {GATEWAY_KEY}"}, timeout=10) as client:
            for i in range(N):
                body = {"model": "openai-main/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
                r = client.post("/v1/chat/completions", json={**body, "stream": i % 2 == 0})
                assert r.status_code == 200
        assert count_rows(url, table) == 0, "records were meant to be pending when SIGTERM arrives"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    # uvicorn re-raises the signal once it has shut down cleanly
    assert proc.returncode in (0, -signal.SIGTERM), out.decode(errors="replace")[-2000:]
    assert b"spend.store_closed" in out and b"Traceback" not in out, out.decode(errors="replace")[-2000:]
    assert count_rows(url, table) == N
