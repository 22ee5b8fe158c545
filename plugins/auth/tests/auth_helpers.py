"""Helpers of the auth plugin's tests: keys for each collaborator role, a config with
guarded accounts, SQL for a PostgreSQL database of the tests' own."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from proxy_core.testing import default_config

POSTGRES = os.environ.get("PROXY_CORE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")

ADMIN_KEY = "sk-auth-admin"
ALICE_KEY = "sk-auth-alice"  # team ml: a user of anthropic-main
MANAGER_KEY = "sk-auth-manager"  # user mgr: manager of anthropic-main
OPS_KEY = "sk-auth-ops"  # user ops: manager of openai-main only
BOB_KEY = "sk-auth-bob"  # an outsider of both guarded accounts


def auth_config(openai_url: str, anthropic_url: str, store: str) -> dict[str, Any]:
    """anthropic-main and openai-main list collaborators; openai-open (the same fake) lists none."""
    config = default_config(openai_url=openai_url, anthropic_url=anthropic_url)
    config["providers"]["openai-open"] = {**config["providers"]["openai-main"], "models": {"gpt-4o-mini": {}}}
    config["providers"]["anthropic-main"]["collaborators"] = [
        {"subject": "team:ml", "role": "user"},
        {"subject": "user:mgr", "role": "manager"},
    ]
    config["providers"]["openai-main"]["collaborators"] = [{"subject": "user:ops", "role": "manager"}]
    config["auth"] = {
        "store": store,
        "keys": [
            *config["auth"]["keys"],
            {"name": "admin", "key": ADMIN_KEY, "admin": True},
            {"name": "alice", "key": ALICE_KEY, "user": "alice", "teams": ["ml"]},
            {"name": "manager", "key": MANAGER_KEY, "user": "mgr"},
            {"name": "ops", "key": OPS_KEY, "user": "ops"},
            {"name": "bob", "key": BOB_KEY, "user": "bob", "teams": ["web"]},
        ],
    }
    config["plugins"] = {"disabled": ["fallback", "cost", "limits"], "auth": {"sync_s": 0.25}}
    return config


async def admin_sql(url: str, sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def sqlite_store(directory: Path) -> str:
    return f"sqlite:///{directory / 'auth.db'}"
