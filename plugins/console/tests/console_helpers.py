"""Shared pieces of the console tests: the gateway config, keys, and an ASGI app served
on the test kit's background loop (for the console mounted under a prefix)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import uvicorn

from proxy_core.testing import BackgroundLoop

ADMIN_KEY = "sk-console-admin-0123456789"
USER_KEY = "sk-console-user-0123456789"
MANAGER_KEY = "sk-console-manager-0123456789"
OPENAI_MODEL = "openai-main/gpt-4o-mini"
LIMITED_MODEL = "openai-main/gpt-limited"  # a limits rule refuses every request (rpm 0)
UNPRICED_MODEL = "openai-main/mystery-model"  # no price anywhere: its spend rows are unpriced
CLAUDE_MODEL = "anthropic-main/claude-sonnet-4-5"


def console_config(openai_url: str, anthropic_url: str, state_dir: Path) -> dict[str, Any]:
    return {
        "auth": {
            "keys": [
                {"name": "ops", "key": ADMIN_KEY, "user": "ops", "admin": True},
                {"name": "dev", "key": USER_KEY, "user": "alice", "teams": ["ml"], "models": ["openai-main/*"]},
                {"name": "lead", "key": MANAGER_KEY, "user": "bob", "teams": ["ml"]},
            ],
            "store": f"sqlite:///{state_dir / 'auth.db'}",
        },
        "providers": {
            "openai-main": {
                "type": "openai",
                "api_key": "sk-upstream-openai-secret",
                "base_url": openai_url + "/v1",
                "models": {"gpt-4o-mini": {}, "gpt-limited": {}, "mystery-model": {}},
            },
            "anthropic-main": {
                "type": "anthropic",
                "api_key": "sk-ant-upstream-secret",
                "base_url": anthropic_url,
                "models": {"claude-sonnet-4-5": {}},
                "collaborators": [{"subject": "user:bob", "role": "manager"}],
            },
        },
        "plugins": {
            "cost": {"store": f"sqlite:///{state_dir / 'spend.db'}"},
            "limits": {"rules": [{"match": {"model": LIMITED_MODEL}, "rpm": 0}]},
            "fallback": {"retry": {"attempts": 1}, "health": {"failures": 1, "window_s": 60, "cooldown_s": 300}},
        },
    }


class ServedApp:
    """Any ASGI app (e.g. a host app mounting the gateway) served by uvicorn on 127.0.0.1."""

    def __init__(self, app: Any, loop: BackgroundLoop) -> None:
        self._loop = loop
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
        self._task: asyncio.Future[None] | None = None

    def start(self) -> ServedApp:
        async def boot() -> None:
            self._task = asyncio.ensure_future(self.server.serve(sockets=[self._sock]))
            while not self.server.started:
                if self._task.done():
                    self._task.result()
                await asyncio.sleep(0.005)

        self._loop.run(boot())
        return self

    def stop(self) -> None:
        async def down() -> None:
            self.server.should_exit = True
            if self._task is not None:
                await self._task

        self._loop.run(down())
        self._sock.close()
